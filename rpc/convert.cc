// Copyright 2026 The weft Authors.

#include "rpc/convert.h"

#include <algorithm>

namespace weft::rpc {

void ToProto(const internal::WireArg& arg, Arg& out) {
  using Kind = internal::WireArg::Kind;
  switch (arg.kind) {
    case Kind::kValue:
      out.set_value(arg.value);
      break;
    case Kind::kRef:
      out.set_ref(arg.ids.empty() ? 0 : arg.ids[0]);
      break;
    case Kind::kRefs:
      out.mutable_refs()->mutable_ids()->Add(arg.ids.begin(), arg.ids.end());
      break;
  }
}

absl::Status FromProto(const Arg& arg, internal::WireArg& out) {
  using Kind = internal::WireArg::Kind;
  switch (arg.kind_case()) {
    case Arg::kValue:
      out.kind = Kind::kValue;
      out.value = arg.value();
      return absl::OkStatus();
    case Arg::kRef:
      out.kind = Kind::kRef;
      out.ids = {arg.ref()};
      return absl::OkStatus();
    case Arg::kRefs:
      out.kind = Kind::kRefs;
      out.ids.assign(arg.refs().ids().begin(), arg.refs().ids().end());
      return absl::OkStatus();
    case Arg::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("weft: a task argument has no value");
}

void ToProto(const ErrorInfo& info, Error& out) {
  out.set_kind(static_cast<int32_t>(info.kind));
  out.set_task_name(info.task_name);
  out.set_task_key(info.task_key);
  out.set_exception_type(info.exception_type);
  out.set_message(info.message);
}

std::shared_ptr<const ErrorInfo> FromProto(const Error& error) {
  auto info = std::make_shared<ErrorInfo>();
  const int kind = std::clamp(error.kind(), 0,
                              static_cast<int>(kLastErrorKind));
  info->kind = static_cast<ErrorKind>(kind);
  info->task_name = error.task_name();
  info->task_key = error.task_key();
  info->exception_type = error.exception_type();
  info->message = error.message();
  return info;
}

}  // namespace weft::rpc
