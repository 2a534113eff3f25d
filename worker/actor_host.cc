// Copyright 2026 The weft Authors.

#include "worker/actor_host.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "weft/internal/error_info.h"

namespace weft::worker {

class ActorHost::Job final : public internal::ActorExecutor::Job {
 public:
  Job(std::function<void()> run, std::function<void()> drop)
      : run_(std::move(run)), drop_(std::move(drop)) {}
  void Run() override { run_(); }
  void Drop() override {
    if (drop_) drop_();
  }

 private:
  const std::function<void()> run_;
  const std::function<void()> drop_;
};

ActorHost::ActorHost(uint64_t id, int max_concurrency)
    : id_(id), executor_(max_concurrency) {}

ActorHost::~ActorHost() {
  Stop();
  executor_.Join();
}

void ActorHost::Start(Construct construct, Constructed done) {
  // The constructor is the only job until it returns: calls are posted
  // (by the scheduler) only once this host reported it constructed.
  executor_.Post(std::make_shared<Job>(
      [this, construct = std::move(construct), done = std::move(done)] {
        absl::Status status;
        std::string type;
        try {
          absl::StatusOr<std::shared_ptr<void>> instance = construct();
          if (instance.ok()) {
            internal::MutexLock lock(&mu_);
            instance_ = *std::move(instance);
          } else {
            status = instance.status();
          }
        } catch (...) {
          std::shared_ptr<const ErrorInfo> error =
              internal::ErrorFromCurrentException("", "");
          status = absl::InternalError(error->message);
          type = error->exception_type;
        }
        done(status, type);
      },
      nullptr));
}

void ActorHost::Call(uint64_t caller, uint64_t seq, uint64_t first_unfinished,
                     Run run, Drop drop) {
  auto job = std::make_shared<Job>(
      [this, run = std::move(run)] {
        std::shared_ptr<void> instance;
        {
          internal::MutexLock lock(&mu_);
          instance = instance_;
        }
        run(instance.get());
      },
      std::move(drop));
  std::vector<std::shared_ptr<Job>> ready;
  {
    internal::MutexLock lock(&mu_);
    Caller& c = callers_[caller];
    if (first_unfinished > c.next) c.next = first_unfinished;
    c.early[seq] = std::move(job);
    // Everything from the lowest number up, without a gap.
    while (!c.early.empty() && c.early.begin()->first <= c.next) {
      ready.push_back(std::move(c.early.begin()->second));
      c.next = std::max(c.next, c.early.begin()->first + 1);
      c.early.erase(c.early.begin());
    }
  }
  // Posted in order: the executor starts its jobs in the order posted.
  // (Two threads posting for one caller at once cannot happen: the
  // worker's stream delivers on one thread at a time.)
  for (auto& j : ready) executor_.Post(std::move(j));
}

void ActorHost::Stop() {
  executor_.Stop();
  std::shared_ptr<void> instance;  // goes here, or with the last call
  std::vector<std::shared_ptr<Job>> early;
  {
    internal::MutexLock lock(&mu_);
    instance.swap(instance_);
    for (auto& [caller, c] : callers_) {
      for (auto& [seq, job] : c.early) early.push_back(std::move(job));
    }
    callers_.clear();
  }
  for (auto& job : early) job->Drop();
}

}  // namespace weft::worker
