// Copyright 2026 The weft Authors.
//
// Waiting for objects and reading their values, for the typed API.

#ifndef WEFT_CORE_WEFT_INTERNAL_RESOLVE_H_
#define WEFT_CORE_WEFT_INTERNAL_RESOLVE_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "weft/errors.h"
#include "weft/internal/error_info.h"
#include "weft/internal/object_state.h"
#include "weft/internal/spin_wait.h"
#include "weft/internal/status_macros.h"
#include "weft/internal/task_context.h"
#include "weft/serialize.h"

namespace weft::internal {

using Clock = std::chrono::steady_clock;

// Throws the TaskError (or CancelledError) for a failed object.
[[noreturn]] void ThrowTaskError(std::shared_ptr<const ErrorInfo> error,
                                 const std::string& requested_key);

// Blocks (fiber-aware; a task gives up its slot meanwhile) until `state` is
// done or `deadline` passes. Returns whether it is done.
inline bool AwaitState(ObjectState& state,
                       std::optional<Clock::time_point> deadline) {
  if (state.done()) return true;
  if (SpinUntil([&] { return state.done(); }, deadline)) return true;
  BlockingRegion region;
  if (!deadline.has_value()) {
    state.Wait();
    return true;
  }
  return state.WaitUntil(*deadline);
}

// Throws TimeoutError naming the object.
[[noreturn]] void ThrowTimeout(const ObjectState& state);

// Throws for a remote value that cannot be fetched or decoded.
[[noreturn]] void ThrowFetchError(const ObjectState& state,
                                  const absl::Status& status);

// The value of done object `state`, fetched and decoded first if it is
// remote, giving up at `deadline` (nullopt: none). Throws TaskError for a
// failed object, TimeoutError once `deadline` passed during the fetch,
// as ThrowFetchError for a value that cannot be fetched or decoded, and
// UsageError for a value of another type.
template <class T>
const T& ReadyValue(const std::shared_ptr<ObjectState>& state,
                    std::optional<Clock::time_point> deadline = std::nullopt) {
  if (std::shared_ptr<const ErrorInfo> error = state->error()) {
    ThrowTaskError(std::move(error), state->key());
  }
  if (state->is_remote()) {
    absl::Status status = state->Materialize(
        [](std::string_view bytes,
           RefResolver* refs) -> absl::StatusOr<AnyValue> {
          if constexpr (kIsSerializable<T>) {
            WEFT_ASSIGN_OR_RETURN(T value, DeserializeWithRefs<T>(bytes, refs));
            return AnyValue::Make(std::move(value));
          } else {
            return absl::UnimplementedError(
                "weft: a " + TypeName<T>() +
                " cannot be serialized, so it cannot come from a cluster");
          }
        },
        deadline);
    if (absl::IsDeadlineExceeded(status) && deadline.has_value() &&
        Clock::now() >= *deadline) {
      ThrowTimeout(*state);
    }
    if (!status.ok()) ThrowFetchError(*state, status);
  }
  const T* value = state->value().template Get<T>();
  if (value == nullptr) {
    throw UsageError("weft: object " + state->key() + " holds a " +
                     Demangle(state->value().type().name()) +
                     ", not the requested type");
  }
  return *value;
}

}  // namespace weft::internal

#endif  // WEFT_CORE_WEFT_INTERNAL_RESOLVE_H_
