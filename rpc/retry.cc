// Copyright 2026 The weft Authors.

#include "rpc/retry.h"

#include <algorithm>

#include "absl/time/clock.h"

namespace weft::rpc {

bool RetryableConnectError(const absl::Status& status, bool token_may_change) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
         absl::IsNotFound(status) ||
         (token_may_change && absl::IsUnauthenticated(status));
}

absl::Status RetryConnect(
    absl::Time deadline, bool token_may_change,
    absl::FunctionRef<absl::Status(absl::Time attempt_deadline)> attempt,
    absl::FunctionRef<void(const absl::Status&)> on_first_retry,
    const std::atomic<bool>* cancelled) {
  constexpr absl::Duration kLongestAttempt = absl::Seconds(2);
  constexpr absl::Duration kCancelCheck = absl::Milliseconds(100);
  absl::Duration backoff = absl::Milliseconds(50);
  bool retried = false;
  auto is_cancelled = [&] {
    return cancelled != nullptr && cancelled->load();
  };
  while (true) {
    if (is_cancelled()) return absl::CancelledError("weft: stopped waiting");
    const absl::Time now = absl::Now();
    absl::Status status = attempt(std::min(deadline, now + kLongestAttempt));
    if (status.ok() || !RetryableConnectError(status, token_may_change)) {
      return status;
    }
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return status;
    if (!retried) {
      retried = true;
      on_first_retry(status);
    }
    const absl::Time wake = absl::Now() + std::min(backoff, left);
    for (absl::Time t = absl::Now(); t < wake; t = absl::Now()) {
      if (is_cancelled()) return absl::CancelledError("weft: stopped waiting");
      absl::SleepFor(std::min(wake - t, kCancelCheck));
    }
    backoff = std::min(backoff * 2, absl::Seconds(1));
  }
}

}  // namespace weft::rpc
