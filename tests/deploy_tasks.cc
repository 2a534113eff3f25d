// Copyright 2026 The weft Authors.

#include "tests/deploy_tasks.h"

#include <unistd.h>

#include <chrono>
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

WEFT_REMOTE(Where, Square, SlowSquare);

}  // namespace deploy_tasks
