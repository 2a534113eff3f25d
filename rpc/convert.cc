// Copyright 2026 The weft Authors.

#include "rpc/convert.h"

#include <utility>

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

std::string ArgBytes(const internal::WireArg& arg) {
  Arg out;
  ToProto(arg, out);
  return out.SerializeAsString();
}

absl::Status FromArgBytes(std::string_view bytes, internal::WireArg& out) {
  Arg arg;
  if (!arg.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError(
        "weft: a task argument is not a valid Arg message");
  }
  if (arg.kind_case() == Arg::kValue) {
    out.kind = internal::WireArg::Kind::kValue;
    out.value = std::move(*arg.mutable_value());
    return absl::OkStatus();
  }
  return FromProto(arg, out);
}

}  // namespace weft::rpc
