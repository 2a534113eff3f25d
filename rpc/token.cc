// Copyright 2026 The weft Authors.

#include "rpc/token.h"

#include <cstdlib>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rpc/cluster_files.h"
#include "weft/internal/status_macros.h"

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
  return WriteFileAtomically(path, token + "\n", "token file");
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  return ReadTrimmedFile(path, "token file");
}

absl::StatusOr<std::string> DefaultTokenPath() {
  WEFT_ASSIGN_OR_RETURN(std::string dir, DefaultStateDir());
  return dir + "/token";
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
    WEFT_ASSIGN_OR_RETURN(std::string default_path, DefaultTokenPath());
    path = std::move(default_path);
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
