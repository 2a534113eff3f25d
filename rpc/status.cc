// Copyright 2026 The weft Authors.

#include "rpc/status.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace weft::rpc {

absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

grpc::Status CheckToken(const grpc::ServerContext& context,
                        const std::string& token) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(kTokenMetadata);
  if (it == metadata.end()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "weft: no cluster token presented (set WEFT_TOKEN or "
                        "--token-file)");
  }
  const grpc::string_ref& given = it->second;
  unsigned char diff = given.size() == token.size() ? 0 : 1;
  for (size_t i = 0; i < token.size(); ++i) {
    diff |= static_cast<unsigned char>(
        (i < given.size() ? given.data()[i] : 0) ^ token[i]);
  }
  if (diff != 0) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "weft: wrong cluster token");
  }
  return grpc::Status::OK;
}

void AttachToken(grpc::ClientContext& context, const std::string& token) {
  context.AddMetadata(kTokenMetadata, token);
}

std::string NewToken() {
  std::random_device device;
  std::string token;
  for (int i = 0; i < 8; ++i) absl::StrAppendFormat(&token, "%08x", device());
  return token;
}

absl::Status WriteTokenFile(const std::string& path, const std::string& token) {
  const size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    ::mkdir(path.substr(0, slash).c_str(), 0700);
  }
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot write token file ", tmp, ": ",
                     std::strerror(errno)));
  }
  ::fchmod(fd, 0600);
  const std::string line = token + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) ==
                  static_cast<ssize_t>(line.size());
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot write token file ", path,
                                            ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read token file ", path));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string token(absl::StripAsciiWhitespace(buffer.str()));
  if (token.empty()) {
    return absl::NotFoundError(absl::StrCat("token file ", path, " is empty"));
  }
  return token;
}

std::string DefaultTokenPath() {
  if (const char* home = std::getenv("WEFT_HOME")) {
    return absl::StrCat(home, "/token");
  }
  const char* home = std::getenv("HOME");
  return absl::StrCat(home != nullptr ? home : "/tmp", "/.weft/token");
}

absl::StatusOr<std::string> ResolveToken(const std::string& token_file) {
  if (const char* env = std::getenv("WEFT_TOKEN"); env != nullptr && *env) {
    return std::string(env);
  }
  const std::string path = token_file.empty() ? DefaultTokenPath() : token_file;
  absl::StatusOr<std::string> token = ReadTokenFile(path);
  if (!token.ok()) {
    return absl::NotFoundError(absl::StrCat(
        "weft: no cluster token: ", token.status().message(),
        ". The scheduler writes one when it starts; pass --token-file or set "
        "WEFT_TOKEN."));
  }
  return token;
}

}  // namespace weft::rpc
