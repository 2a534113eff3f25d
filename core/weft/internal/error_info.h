// Copyright 2026 The weft Authors.
//
// Building ErrorInfo records inside runtimes.

#ifndef WEFT_CORE_WEFT_INTERNAL_ERROR_INFO_H_
#define WEFT_CORE_WEFT_INTERNAL_ERROR_INFO_H_

#include <memory>
#include <string>

#include "weft/errors.h"

namespace weft::internal {

// REQUIRES: called inside a catch block. Records the in-flight exception's
// demangled type and what() (or "unknown exception" for non-std types).
std::shared_ptr<const ErrorInfo> ErrorFromCurrentException(
    const std::string& task_name, const std::string& task_key);

std::shared_ptr<const ErrorInfo> MakeError(ErrorKind kind,
                                           const std::string& task_name,
                                           const std::string& task_key,
                                           std::string message);

// Demangles a C++ type name as the ABI gives it ("St16invalid_argument"
// becomes "std::invalid_argument"); returns it unchanged if it cannot.
std::string Demangle(const char* mangled);

}  // namespace weft::internal

#endif  // WEFT_CORE_WEFT_INTERNAL_ERROR_INFO_H_
