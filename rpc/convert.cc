// Copyright 2026 The weft Authors.

#include "rpc/convert.h"

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

}  // namespace weft::rpc
