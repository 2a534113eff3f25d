// Copyright 2026 The weft Authors.

#include "rpc/token.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <random>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace weft::rpc {

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
  // A fresh file beside the target (never an existing one, never through a
  // symbolic link), renamed over it: rename() replaces a link at `path`
  // itself, not what it points to.
  const std::string tmp = absl::StrCat(path, ".", ::getpid(), ".tmp");
  ::unlink(tmp.c_str());
  const int fd =
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
             0600);
  if (fd < 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        "weft: cannot write token file ", tmp, ": ", std::strerror(errno)));
  }
  const std::string line = token + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) ==
                      static_cast<ssize_t>(line.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat("weft: cannot write token file ",
                                            path, ": ", std::strerror(error)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    if (error == EACCES || error == EPERM) {
      return absl::PermissionDeniedError(absl::StrCat(
          "cannot read token file ", path, ": ", std::strerror(error)));
    }
    return absl::NotFoundError(absl::StrCat("cannot read token file ", path,
                                            ": ", std::strerror(error)));
  }
  std::string contents;
  char buf[256];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || contents.size() > 4096) break;
    contents.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  std::string token(absl::StripAsciiWhitespace(contents));
  if (token.empty()) {
    return absl::NotFoundError(absl::StrCat("token file ", path, " is empty"));
  }
  return token;
}

absl::StatusOr<std::string> DefaultTokenPath() {
  if (const char* home = std::getenv("WEFT_HOME"); home != nullptr && *home) {
    return absl::StrCat(home, "/token");
  }
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') {
    return absl::FailedPreconditionError(
        "weft: neither WEFT_HOME nor HOME is set, so there is no default "
        "token file; pass --token-file (or set WEFT_TOKEN)");
  }
  return absl::StrCat(home, "/.weft/token");
}

TokenSource TokenSource::FromEnvironmentOr(const std::string& token_file) {
  TokenSource source;
  if (const char* env = std::getenv("WEFT_TOKEN"); env != nullptr && *env) {
    source.literal_ = true;
    source.from_env_ = true;
    source.value_ = env;
  } else {
    source.value_ = token_file;
  }
  return source;
}

TokenSource TokenSource::Literal(std::string token) {
  TokenSource source;
  source.literal_ = true;
  source.value_ = std::move(token);
  return source;
}

absl::StatusOr<std::string> TokenSource::Read() const {
  if (literal_) return value_;
  std::string path = value_;
  if (path.empty()) {
    absl::StatusOr<std::string> default_path = DefaultTokenPath();
    if (!default_path.ok()) return default_path.status();
    path = *std::move(default_path);
  }
  absl::StatusOr<std::string> token = ReadTokenFile(path);
  if (!token.ok() && absl::IsNotFound(token.status())) {
    return absl::NotFoundError(absl::StrCat(
        "weft: no cluster token: ", token.status().message(),
        ". The scheduler writes one when it starts; pass --token-file or set "
        "WEFT_TOKEN."));
  }
  return token;
}

std::string TokenSource::Describe() const {
  if (from_env_) return "$WEFT_TOKEN";
  if (literal_) return "the given token";
  if (!value_.empty()) return value_;
  absl::StatusOr<std::string> path = DefaultTokenPath();
  return path.ok() ? *path : "the default token file";
}

}  // namespace weft::rpc
