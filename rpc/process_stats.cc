// Copyright 2026 The weft Authors.

#include "rpc/process_stats.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"

namespace weft::rpc {

double ProcessCpuSeconds() {
  struct rusage usage = {};
  if (::getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

namespace {

uint64_t RssFrom(const char* statm) {
  std::FILE* f = std::fopen(statm, "r");
  if (f == nullptr) return 0;
  unsigned long long size = 0, resident = 0;
  const int n = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  if (n != 2) return 0;
  return static_cast<uint64_t>(resident) *
         static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace

uint64_t ProcessRssBytes() { return RssFrom("/proc/self/statm"); }

uint64_t ProcessRssBytes(pid_t pid) {
  const std::string statm = absl::StrCat("/proc/", pid, "/statm");
  return RssFrom(statm.c_str());
}

}  // namespace weft::rpc
