// Copyright 2026 The weft Authors.
//
// The one place where an absl::Status from below the user API becomes the
// exception the API documents. Runtimes and everything under them report
// failures as absl::Status; Client, the free functions and the actor API
// call ThrowIfError / ValueOrThrow on what they get back.

#ifndef WEFT_CORE_WEFT_INTERNAL_THROW_STATUS_H_
#define WEFT_CORE_WEFT_INTERNAL_THROW_STATUS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace weft::internal {

// Returns if `status` is OK. Otherwise throws, with what() the status's
// message (prefixed by "<context>: " when `context` is not empty):
//   DeadlineExceeded  TimeoutError (a wait ran out: the caller's timeout, or
//                     the scheduler's limit for answering a request)
//   any other code    UsageError
// Thread-safe.
void ThrowIfError(const absl::Status& status, absl::string_view context = {});

// Returns the value of `result`; throws as ThrowIfError if it has none.
template <class T>
T ValueOrThrow(absl::StatusOr<T> result, absl::string_view context = {}) {
  ThrowIfError(result.status(), context);
  return *std::move(result);
}

}  // namespace weft::internal

#endif  // WEFT_CORE_WEFT_INTERNAL_THROW_STATUS_H_
