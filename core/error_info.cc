// Copyright 2026 The weft Authors.

#include "weft/internal/error_info.h"

#include <cxxabi.h>

#include <cstdlib>
#include <exception>
#include <typeinfo>
#include <utility>

namespace weft::internal {

std::string Demangle(const char* mangled) {
  int status = 0;
  char* out = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  if (status != 0 || out == nullptr) return mangled;
  std::string result(out);
  std::free(out);
  return result;
}

std::shared_ptr<const ErrorInfo> ErrorFromCurrentException(
    const std::string& task_name, const std::string& task_key) {
  auto info = std::make_shared<ErrorInfo>();
  info->kind = ErrorKind::kTaskFailed;
  info->task_name = task_name;
  info->task_key = task_key;
  const std::type_info* type = abi::__cxa_current_exception_type();
  info->exception_type = type != nullptr ? Demangle(type->name()) : "unknown";
  try {
    throw;
  } catch (const TaskError& e) {
    // A nested get() failed inside this task: keep the root cause's story.
    info->message = e.what();
  } catch (const std::exception& e) {
    info->message = e.what();
  } catch (...) {
    info->message = "unknown exception (not derived from std::exception)";
  }
  return info;
}

std::shared_ptr<const ErrorInfo> MakeError(ErrorKind kind,
                                           const std::string& task_name,
                                           const std::string& task_key,
                                           std::string message) {
  auto info = std::make_shared<ErrorInfo>();
  info->kind = kind;
  info->task_name = task_name;
  info->task_key = task_key;
  info->message = std::move(message);
  return info;
}

}  // namespace weft::internal
