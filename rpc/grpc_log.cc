// Copyright 2026 The weft Authors.

#include "rpc/grpc_log.h"

#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpc/support/log.h"
#include "rpc/rate_limited_log.h"

namespace weft::rpc {
namespace {

char SeverityLetter(gpr_log_severity severity) {
  switch (severity) {
    case GPR_LOG_SEVERITY_DEBUG:
      return 'D';
    case GPR_LOG_SEVERITY_INFO:
      return 'I';
    default:
      return 'E';
  }
}

// The file's name without its directories.
const char* BaseName(const char* file) {
  if (file == nullptr) return "?";
  const char* slash = std::strrchr(file, '/');
  return slash != nullptr ? slash + 1 : file;
}

void Log(gpr_log_func_args* args) {
  const char* message = args->message != nullptr ? args->message : "";
  const std::string where =
      absl::StrCat(BaseName(args->file), ":", args->line);
  if (absl::StrContains(message, "Handshake failed")) {
    // Never destroyed: gRPC may log from its threads during exit.
    static auto* handshakes =
        new RateLimitedLog("weft", "gRPC's lines on failed TLS handshakes");
    handshakes->Write(absl::StrCat("gRPC: a TLS handshake failed (", where,
                                   "): ", message));
    return;
  }
  std::fprintf(stderr, "gRPC %c %s] %s\n", SeverityLetter(args->severity),
               where.c_str(), message);
}

}  // namespace

void RouteGrpcLogs() {
  static std::once_flag once;
  std::call_once(once, [] { gpr_set_log_function(&Log); });
}

}  // namespace weft::rpc
