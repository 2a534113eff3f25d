// Copyright 2026 The weft Authors.

#include "weft/internal/resolve.h"

#include <utility>

namespace weft::internal {

void ThrowTaskError(std::shared_ptr<const ErrorInfo> error,
                    const std::string& requested_key) {
  if (error->kind == ErrorKind::kCancelled) {
    throw CancelledError(std::move(error), requested_key);
  }
  if (error->kind == ErrorKind::kActorDied) {
    throw ActorDiedError(std::move(error), requested_key);
  }
  throw TaskError(std::move(error), requested_key);
}

void ThrowTimeout(const ObjectState& state) {
  throw TimeoutError("weft: timed out waiting for " + state.key());
}

void ThrowFetchError(const ObjectState& state, const absl::Status& status) {
  auto info = std::make_shared<ErrorInfo>();
  info->kind = ErrorKind::kObjectLost;
  info->task_name = state.name();
  info->task_key = state.key();
  info->message = std::string(status.message());
  throw TaskError(std::move(info), state.key());
}

}  // namespace weft::internal
