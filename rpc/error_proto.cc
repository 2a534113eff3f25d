// Copyright 2026 The weft Authors.

#include "rpc/error_proto.h"

namespace weft::rpc {
namespace {

// Error::Kind is ErrorKind on the wire, value for value.
constexpr bool SameKind(Error::Kind wire, ErrorKind kind) {
  return static_cast<int>(wire) == static_cast<int>(kind);
}
static_assert(SameKind(Error::TASK_FAILED, ErrorKind::kTaskFailed));
static_assert(SameKind(Error::CANCELLED, ErrorKind::kCancelled));
static_assert(SameKind(Error::WORKER_DIED, ErrorKind::kWorkerDied));
static_assert(SameKind(Error::OBJECT_LOST, ErrorKind::kObjectLost));
static_assert(SameKind(Error::SHUTDOWN, ErrorKind::kShutdown));
static_assert(SameKind(Error::ACTOR_DIED, ErrorKind::kActorDied));
// A kind added to one enum must be added to the other.
static_assert(SameKind(Error::Kind_MAX, kLastErrorKind));
static_assert(Error::Kind_MIN == 0);

}  // namespace

void ToProto(const ErrorInfo& info, Error& out) {
  out.set_kind(static_cast<Error::Kind>(info.kind));
  out.set_task_name(info.task_name);
  out.set_task_key(info.task_key);
  out.set_exception_type(info.exception_type);
  out.set_message(info.message);
}

ErrorInfo FromProto(const Error& error) {
  ErrorInfo info;
  // Proto3 enums are open: a newer build's kind arrives as its number.
  const int kind = static_cast<int>(error.kind());
  info.kind = Error::Kind_IsValid(kind) ? static_cast<ErrorKind>(kind)
                                        : ErrorKind::kTaskFailed;
  info.task_name = error.task_name();
  info.task_key = error.task_key();
  info.exception_type = error.exception_type();
  info.message = error.message();
  return info;
}

}  // namespace weft::rpc
