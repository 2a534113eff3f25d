// Copyright 2026 The weft Authors.

#include "tests/deploy_tasks.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "weft/weft.h"

namespace deploy_tasks {

std::string Where() {
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  return absl::StrCat(host, " ", ::getpid());
}

double Square(double x) { return x * x; }

double SlowSquare(double x, int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return x * x;
}

std::vector<double> MarkedArray(std::string file, int n) {
  std::ofstream(file, std::ios::app) << Where() << "\n";
  std::vector<double> out(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) out[static_cast<size_t>(i)] = i * 0.5;
  return out;
}

std::string CrashOnceOnTask(int procid) {
  const char* task = std::getenv("SLURM_PROCID");
  const char* marker = std::getenv("WEFT_TEST_CRASH_MARKER");
  if (task != nullptr && marker != nullptr &&
      std::string(task) == std::to_string(procid) &&
      !std::filesystem::exists(marker)) {
    std::ofstream(marker) << Where() << "\n";
    std::abort();
  }
  return Where();
}

WEFT_REMOTE(Where, Square, SlowSquare, MarkedArray, CrashOnceOnTask);

}  // namespace deploy_tasks
