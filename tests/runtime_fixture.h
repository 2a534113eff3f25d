// Copyright 2026 The weft Authors.
//
// The fixture of the tests that run on every runtime (runtimes_test.cc,
// actor_test.cc): the embedded runtime, a LocalCluster, and a cluster
// started with the `weft` command (`weft scheduler` + `weft worker
// --load=libsuite_tasks.so`). Each test runs once per runtime; the
// runtimes are made once per test binary and shared by its tests.

#ifndef WEFT_TESTS_RUNTIME_FIXTURE_H_
#define WEFT_TESTS_RUNTIME_FIXTURE_H_

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/suite_tasks.h"
#include "tests/testing/weft_cluster.h"
#include "weft/weft.h"

namespace runtime_fixture {

using namespace std::chrono_literals;
using weft::testing::RunfilePath;
using weft::testing::WeftCluster;

enum class Runtime { kEmbedded, kLocalCluster, kWeftCommand };

inline std::string Name(Runtime r) {
  switch (r) {
    case Runtime::kEmbedded:
      return "Embedded";
    case Runtime::kLocalCluster:
      return "LocalCluster";
    case Runtime::kWeftCommand:
      return "WeftCommand";
  }
  return "?";
}

// The three runtimes, made on first use and stopped after the last test.
class Runtimes : public ::testing::Environment {
 public:
  static weft::Client Get(Runtime r) {
    auto it = clients_.find(r);
    if (it != clients_.end()) return it->second;
    switch (r) {
      case Runtime::kEmbedded:
        clients_.emplace(r, weft::Client::Local(2));
        break;
      case Runtime::kLocalCluster:
        local_ = std::make_unique<weft::LocalCluster>(2);
        clients_.emplace(r, local_->client());
        break;
      case Runtime::kWeftCommand: {
        auto cluster = WeftCluster::Start(
            {.workers = 2, .loads = {RunfilePath("tests/libsuite_tasks.so")}});
        if (!cluster.ok()) {
          ADD_FAILURE() << cluster.status();
          std::abort();
        }
        command_ = *std::move(cluster);
        clients_.emplace(r, weft::Client::Connect(command_->address(),
                                                  command_->token_file()));
        break;
      }
    }
    return clients_.at(r);
  }

  // A second client of runtime `r` (another program's view of the same
  // cluster); the embedded runtime has only itself to offer. Makes the
  // new client the default.
  static weft::Client Another(Runtime r) {
    Get(r);
    switch (r) {
      case Runtime::kEmbedded:
        return clients_.at(r);
      case Runtime::kLocalCluster: {
        const char* tmp = std::getenv("TEST_TMPDIR");
        const std::string path =
            std::string(tmp != nullptr ? tmp : "/tmp") + "/local-token";
        std::ofstream(path) << local_->token();
        return weft::Client::Connect(local_->address(), path);
      }
      case Runtime::kWeftCommand:
        return weft::Client::Connect(command_->address(),
                                     command_->token_file());
    }
    return clients_.at(r);
  }

  void TearDown() override {
    clients_.clear();  // before the clusters they talk to
    local_.reset();
    command_.reset();
  }

 private:
  static inline std::map<Runtime, weft::Client> clients_;
  static inline std::unique_ptr<weft::LocalCluster> local_;
  static inline std::unique_ptr<WeftCluster> command_;
};

inline bool Exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

// The contents of a file ("" if there is none).
inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Lines in a file written by suite::Mark (0 if none).
inline int Runs(const std::string& path) {
  std::ifstream in(path);
  int n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

// Waits (bounded) until `done()`.
inline bool WaitFor(const std::function<bool()>& done,
             std::chrono::seconds timeout = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// Files in `dir` whose names end in `suffix`.
inline int CountFiles(const std::string& dir, const std::string& suffix) {
  int n = 0;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      n += name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) ==
               0;
    }
    ::closedir(d);
  }
  return n;
}

class RuntimeTest : public ::testing::TestWithParam<Runtime> {
 protected:
  void SetUp() override {
    client_ = Runtimes::Get(GetParam());
    client_.make_default();
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = std::string(tmp != nullptr ? tmp : "/tmp") + "/rt-XXXXXX";
    ASSERT_NE(::mkdtemp(dir_.data()), nullptr);
  }
  void TearDown() override {
    Open();  // no gate may outlive its test
  }

  void Open() {
    const int fd = ::open((dir_ + "/open").c_str(), O_WRONLY | O_CREAT, 0644);
    if (fd >= 0) ::close(fd);
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  bool IsCluster() const { return GetParam() != Runtime::kEmbedded; }

  // Starts `n` Gate tasks (named gate-K) and waits until `running` of them
  // run: every task slot is then busy.
  std::vector<weft::ObjectRef<int>> FillSlots(int n, int running) {
    std::vector<weft::ObjectRef<int>> gates;
    for (int k = 0; k < n; ++k) {
      gates.push_back(weft::remote(suite::Gate)(dir_, "gate-" + std::to_string(k)));
    }
    EXPECT_TRUE(WaitFor([&] { return CountFiles(dir_, ".started") >= running; }));
    return gates;
  }

  uint64_t WorkerObjects() {
    uint64_t n = 0;
    for (const auto& w : client_.workers()) n += w.objects;
    return n;
  }
  uint64_t WorkerBytes() {
    uint64_t n = 0;
    for (const auto& w : client_.workers()) n += w.memory_bytes;
    return n;
  }

  weft::Client client_ = weft::Client::Local(1);
  std::string dir_;
};


}  // namespace runtime_fixture

#endif  // WEFT_TESTS_RUNTIME_FIXTURE_H_
