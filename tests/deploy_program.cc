// Copyright 2026 The weft Authors.
//
// The program of the deployment tests ("my_program" in docs/deploy.md's
// recipes): connects to the cluster it was started with, waits for its
// workers, runs tasks on them and prints what it saw, one fact a line:
//
//   workers N
//   worker HOST THREADS        (each worker, sorted)
//   where HOST PID             (run_on_all_workers: each worker's process)
//   sum S                      (sum of i * i for i < --tasks, by map)
//
//   deploy_program [--workers=N] [--tasks=K] [--slow-ms=MS]
//
// --workers: how many workers to wait for (default $SLURM_NTASKS, else 1).
// --slow-ms: each task sleeps that long (SlowSquare), so tasks queue.
// With $WEFT_TEST_RENDEZVOUS=DIR it creates DIR/<$SLURM_JOB_ID> once its
// workers are there and waits (up to 60 s) until DIR holds 2 entries, so a
// test can tell that two jobs ran at the same time. Exits 0 if every
// check passed; a message and 1 otherwise.

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/deploy_tasks.h"
#include "weft/weft.h"

namespace {

int Flag(int argc, char** argv, const std::string& name, int fallback) {
  const std::string prefix = "--" + name + "=";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    int value = 0;
    if (arg.rfind(prefix, 0) == 0 &&
        absl::SimpleAtoi(arg.substr(prefix.size()), &value)) {
      return value;
    }
  }
  return fallback;
}

int Entries(const std::string& dir) {
  int n = 0;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    ::closedir(d);
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  weft::Init(argc, argv);
  int ntasks = 1;
  if (const char* env = std::getenv("SLURM_NTASKS")) {
    (void)absl::SimpleAtoi(env, &ntasks);
  }
  const int workers = Flag(argc, argv, "workers", ntasks);
  const int tasks = Flag(argc, argv, "tasks", 10);
  const int slow_ms = Flag(argc, argv, "slow-ms", 0);
  // --crash-task=K: crash the worker of SLURM task K once (a task that
  // aborts it), then wait until that worker is back (a new process).
  const int crash_task = Flag(argc, argv, "crash-task", -1);
  try {
    weft::Client client =
        weft::Client::Connect("", "", std::chrono::seconds(60));
    client.wait_for_workers(workers, std::chrono::seconds(60));
    std::vector<std::string> lines;
    for (const auto& w : client.workers()) {
      lines.push_back(absl::StrCat("worker ", w.host, " ", w.nthreads));
    }
    std::sort(lines.begin(), lines.end());
    std::cout << "workers " << lines.size() << "\n";
    for (const std::string& line : lines) std::cout << line << "\n";
    for (const std::string& where :
         client.run_on_all_workers(deploy_tasks::Where)) {
      std::cout << "where " << where << "\n";
    }
    if (crash_task >= 0) {
      const std::vector<std::string> before =
          client.run_on_all_workers(deploy_tasks::Where);
      try {
        client.run_on_all_workers(deploy_tasks::CrashOnceOnTask, crash_task);
      } catch (const std::exception& e) {
        std::cout << "the crash: " << e.what() << "\n";
      }
      // Back when every worker answers and one of them is a new process.
      const auto deadline =
          std::chrono::steady_clock::now() + std::chrono::seconds(60);
      for (;;) {
        if (std::chrono::steady_clock::now() > deadline) {
          std::cerr << "deploy_program: the crashed worker never came back\n";
          return 1;
        }
        std::vector<std::string> now;
        try {
          if (static_cast<int>(client.workers().size()) == workers) {
            now = client.run_on_all_workers(deploy_tasks::Where);
          }
        } catch (const std::exception&) {
          now.clear();  // a worker that went meanwhile
        }
        const int fresh = static_cast<int>(std::count_if(
            now.begin(), now.end(), [&](const std::string& w) {
              return std::find(before.begin(), before.end(), w) ==
                     before.end();
            }));
        if (static_cast<int>(now.size()) == workers && fresh == 1) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      std::cout << "a crashed worker came back" << std::endl;
    }
    std::vector<double> xs;
    for (int i = 0; i < tasks; ++i) xs.push_back(i);
    std::vector<weft::ObjectRef<double>> refs;
    if (slow_ms > 0) {
      std::vector<int> ms(xs.size(), slow_ms);
      refs = client.map(deploy_tasks::SlowSquare, xs, ms);
    } else {
      refs = client.map(deploy_tasks::Square, xs);
    }
    double sum = 0;
    for (double v : client.get(refs)) sum += v;
    std::cout << "sum " << sum << std::endl;
    if (const char* dir = std::getenv("WEFT_TEST_RENDEZVOUS")) {
      const char* job = std::getenv("SLURM_JOB_ID");
      std::ofstream(absl::StrCat(dir, "/", job != nullptr ? job : "job"));
      const auto deadline =
          std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (Entries(dir) < 2) {
        if (std::chrono::steady_clock::now() > deadline) {
          std::cerr << "deploy_program: the other job never came\n";
          return 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      std::cout << "met the other job" << std::endl;
    }
  } catch (const std::exception& e) {
    std::cerr << "deploy_program: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
