// Copyright 2026 The weft Authors.
//
// FakeScheduler: plays the scheduler for real Workers in this process
// (worker/worker.h), through their SchedulerConnector seam. Every
// registration is accepted, whatever its token, on an in-process stream
// (rpc/testing/stream_pair.h); the test or fuzzer takes each new session
// with NextSession(), then sends SchedulerToWorker messages on its stream
// and reads the worker's WorkerMessages. Used by worker/worker_test.cc and
// fuzz/worker_fuzzer.cc.
//
//   FakeScheduler scheduler;
//   Worker worker(options, scheduler.Connector());
//   std::thread run([&] { worker.Run(); });
//   absl::StatusOr<FakeScheduler::Joined> s = scheduler.NextSession(timeout);
//   s->stream->Send(assign);  ...  s->stream->Read(reply, deadline);

#ifndef WEFT_WORKER_TESTING_FAKE_SCHEDULER_H_
#define WEFT_WORKER_TESTING_FAKE_SCHEDULER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "rpc/testing/stream_pair.h"
#include "rpc/weft.pb.h"
#include "weft/internal/mutex.h"
#include "worker/scheduler_connector.h"

namespace weft::worker::testing {

// Thread-safe.
class FakeScheduler {
 public:
  // The scheduler's end of a worker's stream.
  using Stream =
      rpc::testing::PairedStream<rpc::SchedulerToWorker, rpc::WorkerMessage>;

  // One accepted registration.
  struct Joined {
    std::shared_ptr<Stream> stream;
    rpc::WorkerInfo info;  // what the worker said of itself
    std::string token;     // the token it presented
    uint64_t worker_id = 0;  // given in the first message, from 1
  };

  // The first message of every session: a heartbeat timeout long enough
  // that this scheduler, which never answers heartbeats, is not given up.
  explicit FakeScheduler(absl::Duration heartbeat_timeout = absl::Minutes(10))
      : heartbeat_timeout_(heartbeat_timeout) {}

  // A connector for one Worker; this scheduler must outlive it. Its
  // nested client never connects (tasks that submit tasks fail, saying
  // so).
  std::unique_ptr<SchedulerConnector> Connector() {
    return std::make_unique<Connection>(this);
  }

  // The next session to register, waiting up to `timeout`. Errors:
  // DeadlineExceeded if none registered in time.
  absl::StatusOr<Joined> NextSession(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    internal::UniqueLock lock(mu_);
    while (joined_.empty() && absl::Now() < deadline) {
      cv_.wait_until(lock, absl::ToChronoTime(deadline));
    }
    if (joined_.empty()) {
      return absl::DeadlineExceededError(absl::StrCat(
          "no worker registered within ", absl::FormatDuration(timeout)));
    }
    Joined s = std::move(joined_.front());
    joined_.pop_front();
    return s;
  }

 private:
  class Connection final : public SchedulerConnector {
   public:
    explicit Connection(FakeScheduler* scheduler) : scheduler_(scheduler) {}
    absl::StatusOr<Registered> Register(const rpc::WorkerMessage& hello,
                                        const std::string& token,
                                        absl::Time) override {
      return scheduler_->Register(hello, token);
    }
    absl::StatusOr<std::unique_ptr<rpc::ClusterRuntime>> ConnectClient(
        const std::string&, const std::string&, absl::Time) override {
      return absl::UnavailableError("the fake scheduler has no client side");
    }

   private:
    FakeScheduler* const scheduler_;
  };

  SchedulerConnector::Registered Register(const rpc::WorkerMessage& hello,
                                          const std::string& token) {
    auto [worker_end, scheduler_end] =
        rpc::testing::MakeStreamPair<rpc::WorkerMessage,
                                     rpc::SchedulerToWorker>(
            "worker", "fake scheduler");
    SchedulerConnector::Registered r;
    r.stream = std::move(worker_end);
    r.first.set_heartbeat_timeout_ms(static_cast<uint32_t>(
        absl::ToInt64Milliseconds(heartbeat_timeout_)));
    {
      internal::MutexLock lock(&mu_);
      r.first.set_worker_id(++last_id_);
      joined_.push_back(Joined{std::move(scheduler_end), hello.register_(),
                               token, last_id_});
    }
    cv_.notify_all();
    return r;
  }

  const absl::Duration heartbeat_timeout_;
  internal::Mutex mu_;
  std::condition_variable_any cv_;
  std::deque<Joined> joined_ ABSL_GUARDED_BY(mu_);
  uint64_t last_id_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace weft::worker::testing

#endif  // WEFT_WORKER_TESTING_FAKE_SCHEDULER_H_
