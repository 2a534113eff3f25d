// Copyright 2026 The weft Authors.

#include "weft/internal/actor_executor.h"

#include <algorithm>
#include <utility>

namespace weft::internal {

ActorExecutor::ActorExecutor(int max_threads)
    : max_threads_(std::max(1, max_threads)) {}

ActorExecutor::~ActorExecutor() {
  Stop();
  Join();
}

void ActorExecutor::Post(std::shared_ptr<Job> job) {
  {
    MutexLock lock(&mu_);
    if (!stopped_) {
      queue_.push_back(std::move(job));
      // A thread for it, unless one is free to take it (or it waits for
      // the jobs ahead of it, which a busy thread will reach first).
      if (idle_ == 0 && static_cast<int>(threads_.size()) < max_threads_ &&
          queue_.size() == 1) {
        ++running_;
        threads_.emplace_back([this] { ThreadMain(); });
      } else if (idle_ > 0) {
        cv_.notify_one();
      }
      return;
    }
  }
  job->Drop();
}

void ActorExecutor::Poke() {
  MutexLock lock(&mu_);
  if (idle_ > 0) {
    cv_.notify_all();
  } else if (!stopped_ && !queue_.empty() &&
             static_cast<int>(threads_.size()) < max_threads_) {
    ++running_;
    threads_.emplace_back([this] { ThreadMain(); });
  }
}

void ActorExecutor::Stop() {
  std::deque<std::shared_ptr<Job>> dropped;
  {
    MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
    dropped.swap(queue_);
  }
  cv_.notify_all();
  for (auto& job : dropped) job->Drop();
}

bool ActorExecutor::Finished() const {
  MutexLock lock(&mu_);
  return stopped_ && running_ == 0;
}

void ActorExecutor::Join() {
  std::vector<std::thread> threads;
  {
    MutexLock lock(&mu_);
    threads.swap(threads_);
  }
  for (auto& t : threads) {
    // On one of its own threads (a job let go of the last owner): that
    // thread exits by itself once the job returns.
    if (t.get_id() == std::this_thread::get_id()) {
      t.detach();
    } else {
      t.join();
    }
  }
}

void ActorExecutor::ThreadMain() {
  UniqueLock lock(mu_);
  while (true) {
    if (stopped_) break;
    if (!queue_.empty() && queue_.front()->Ready()) {
      std::shared_ptr<Job> job = std::move(queue_.front());
      queue_.pop_front();
      // More work, and room for another thread to take it.
      if (!queue_.empty() && queue_.front()->Ready()) {
        if (idle_ > 0) {
          cv_.notify_one();
        } else if (static_cast<int>(threads_.size()) < max_threads_) {
          ++running_;
          threads_.emplace_back([this] { ThreadMain(); });
        }
      }
      lock.unlock();
      job->Run();
      job.reset();
      lock.lock();
      continue;
    }
    ++idle_;
    cv_.wait(lock);
    --idle_;
  }
  --running_;
}

ActorTaskContext::ActorTaskContext(
    std::string key, int cpus, std::shared_ptr<ClientImpl> client,
    std::function<bool()> cancelled,
    std::function<void(const std::shared_ptr<ObjectState>&)> add_child)
    : key_(std::move(key)),
      cpus_(std::max(1, cpus)),
      client_(std::move(client)),
      cancelled_(std::move(cancelled)),
      add_child_(std::move(add_child)) {}

}  // namespace weft::internal
