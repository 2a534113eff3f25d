// Copyright 2026 The weft Authors.
//
// WEFT_RETURN_IF_ERROR and WEFT_ASSIGN_OR_RETURN for absl::Status /
// absl::StatusOr. Debian's Abseil (20220623) does not ship status macros yet;
// the prefix keeps them from colliding with a program's own.

#ifndef WEFT_CORE_WEFT_INTERNAL_STATUS_MACROS_H_
#define WEFT_CORE_WEFT_INTERNAL_STATUS_MACROS_H_

#include <utility>  // std::move, in WEFT_ASSIGN_OR_RETURN

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Evaluates `expr` (an absl::Status); returns it from the enclosing function
// if it is not OK.
#define WEFT_RETURN_IF_ERROR(expr)                \
  do {                                            \
    ::absl::Status weft_status_ = (expr);         \
    if (!weft_status_.ok()) return weft_status_;  \
  } while (false)

#define WEFT_STATUS_CONCAT_INNER_(a, b) a##b
#define WEFT_STATUS_CONCAT_(a, b) WEFT_STATUS_CONCAT_INNER_(a, b)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status from
// the enclosing function, otherwise moves the value into `lhs`, which may be a
// declaration (`auto x`) or an existing variable.
#define WEFT_ASSIGN_OR_RETURN(lhs, rexpr)                                   \
  WEFT_ASSIGN_OR_RETURN_IMPL_(                                              \
      WEFT_STATUS_CONCAT_(weft_statusor_, __LINE__), lhs, rexpr)

#define WEFT_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = *std::move(statusor)

#endif  // WEFT_CORE_WEFT_INTERNAL_STATUS_MACROS_H_
