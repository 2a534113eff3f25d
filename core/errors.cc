// Copyright 2026 The weft Authors.

#include "weft/errors.h"

#include <iterator>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "weft/internal/enum_name.h"
#include "weft/internal/throw_status.h"

namespace weft {

const char* ErrorKindName(ErrorKind kind) {
  static constexpr const char* kNames[] = {"task failed",       "cancelled",
                                           "worker died",       "object lost",
                                           "runtime shut down", "actor died"};
  static_assert(std::size(kNames) ==
                static_cast<size_t>(ErrorKind::kActorDied) + 1);
  return internal::EnumName(kind, kNames);
}

namespace {

std::string Describe(const ErrorInfo& info, const std::string& requested) {
  std::string cause =
      info.exception_type.empty()
          ? info.message
          : absl::StrCat(info.exception_type, ": ", info.message);
  std::string what = absl::StrCat("task ", info.task_key, " ",
                                  ErrorKindName(info.kind), ": ", cause);
  if (!requested.empty() && requested != info.task_key) {
    what = absl::StrCat(requested, " could not be computed because ", what);
  }
  return what;
}

}  // namespace

TaskError::TaskError(std::shared_ptr<const ErrorInfo> info,
                     std::string requested_key)
    : std::runtime_error(Describe(*info, requested_key)),
      info_(std::move(info)),
      requested_key_(std::move(requested_key)) {}

namespace internal {

void ThrowIfError(const absl::Status& status, absl::string_view context) {
  if (status.ok()) return;
  std::string what = context.empty()
                         ? std::string(status.message())
                         : absl::StrCat(context, ": ", status.message());
  if (absl::IsDeadlineExceeded(status)) throw TimeoutError(what);
  throw UsageError(what);
}

}  // namespace internal
}  // namespace weft
