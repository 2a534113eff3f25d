// Copyright 2026 The weft Authors.
//
// For the scheduler service's tests: a fixture that runs a SchedulerServer
// on a free local port, and Eventually, a bounded wait for a condition.

#ifndef WEFT_SCHEDULER_TESTING_SERVER_FIXTURE_H_
#define WEFT_SCHEDULER_TESTING_SERVER_FIXTURE_H_

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "scheduler/scheduler_service.h"
#include "scheduler/testing/sim_workers.h"

namespace weft::scheduler::testing {

// Polls `done` (a callable returning bool) every 10 ms until it is true or
// `timeout` has passed. Returns its last answer.
template <class F>
bool Eventually(F&& done, absl::Duration timeout = absl::Seconds(20)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

// A test whose scheduler is server_, started by StartServer and shut down
// after the test.
class SchedulerServerTest : public ::testing::Test {
 protected:
  // Starts server_ on 127.0.0.1, a free port, with `options`; the test
  // fails (fatally) if it cannot.
  void StartServer(SchedulerService::Options options) {
    token_ = options.token;
    auto server = SchedulerServer::Start("127.0.0.1", 0, options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  // Writes `token` to a file of this test's own (in $TEST_TMPDIR) and
  // returns its path, for a Client::Connect to server_.
  static std::string WriteTokenFile(const std::string& token) {
    const char* tmp = std::getenv("TEST_TMPDIR");
    const ::testing::TestInfo* test =
        ::testing::UnitTest::GetInstance()->current_test_info();
    const std::string path = std::string(tmp != nullptr ? tmp : "/tmp") + "/" +
                             test->test_suite_name() + "." + test->name() +
                             ".token";
    std::ofstream(path) << token;
    return path;
  }

  // Options for simulated workers that join server_ with its token.
  // REQUIRES: StartServer succeeded.
  SimWorkers::Options SimOptions() const {
    SimWorkers::Options options;
    options.scheduler_address = server_->address();
    options.token = token_;
    return options;
  }

  std::unique_ptr<SchedulerServer> server_;

 private:
  std::string token_;
};

}  // namespace weft::scheduler::testing

#endif  // WEFT_SCHEDULER_TESTING_SERVER_FIXTURE_H_
