// Copyright 2026 The weft Authors.
//
// RetryConnect: how workers and clients wait for a scheduler that is not
// up yet, is restarting, or has not written its token file yet. One loop
// for both, so they give up (and say why) alike.

#ifndef WEFT_RPC_RETRY_H_
#define WEFT_RPC_RETRY_H_

#include <atomic>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/time/time.h"

namespace weft::rpc {

// Whether a failed attempt to reach a scheduler is worth repeating: it is
// not there yet (Unavailable, DeadlineExceeded), there is no token yet
// (NotFound), or, when the token comes from a file that may change
// (`token_may_change`), it refused the token (Unauthenticated: a scheduler
// that started with a new token, which the file will soon hold).
bool RetryableConnectError(const absl::Status& status, bool token_may_change);

// Calls `attempt(attempt_deadline)` until it returns OK, fails with an
// error RetryableConnectError() rejects, or `deadline` passes; sleeps
// between attempts, 50 ms doubling to 1 s. `attempt_deadline` is at most
// 2 s away, so a slow attempt cannot eat the whole budget. `on_first_retry`
// is called once, with the first retryable error, before the first sleep
// (e.g. to say "waiting for the scheduler"). Returns the last attempt's
// status, or Cancelled soon after `*cancelled` becomes true (checked
// between attempts and while sleeping; may be null).
absl::Status RetryConnect(
    absl::Time deadline, bool token_may_change,
    absl::FunctionRef<absl::Status(absl::Time attempt_deadline)> attempt,
    absl::FunctionRef<void(const absl::Status&)> on_first_retry,
    const std::atomic<bool>* cancelled = nullptr);

}  // namespace weft::rpc

#endif  // WEFT_RPC_RETRY_H_
