// Copyright 2026 The weft Authors.

#include "rpc/testing/tls_files.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "weft/internal/mutex.h"

namespace weft::rpc::testing {

std::string TestTlsDirectory(const std::string& name) {
  static internal::Mutex mu;
  static auto* made = new absl::flat_hash_map<std::string, std::string>();
  internal::MutexLock lock(&mu);
  auto it = made->find(name);
  if (it != made->end()) return it->second;
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = absl::StrCat(tmp != nullptr ? tmp : "/tmp",
                                       "/weft-tls-", name, "-", ::getpid());
  if (::access(TlsFilesInDirectory(dir).cert.c_str(), F_OK) != 0) {
    if (absl::Status s = MakeTlsDirectory(dir); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      std::abort();
    }
  }
  made->emplace(name, dir);
  return dir;
}

TlsFiles TestTlsFiles(const std::string& name) {
  return TlsFilesInDirectory(TestTlsDirectory(name));
}

}  // namespace weft::rpc::testing
