// Copyright 2026 The weft Authors.

#include "weft/internal/waiting.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/str_format.h"
#include "weft/internal/spin_wait.h"
#include "weft/internal/task_context.h"

namespace weft::internal {
namespace {

using std::chrono::milliseconds;

// Counts completions and wakes the waiter once the count it waits for is
// reached (not at every completion: a get() of 10,000 results is one
// wake-up, not 10,000 taken from the threads running the tasks).
class Counter final : public ReadyListener {
 public:
  void OnReady(ObjectState&) override {
    UniqueLock lock(mu_);
    ++count_;
    if (count_ == target_) wake_ = true;
  }
  // After the completing thread let go of the object (ReadyListener::Wake),
  // so a compute() that holds the last reference moves the value out.
  void Wake() override {
    UniqueLock lock(mu_);
    if (!wake_) return;
    wake_ = false;
    cv_.notify_all();
  }
  // Waits until the count reaches `target` or the deadline.
  size_t WaitFor(size_t target, std::optional<SteadyTime> deadline) {
    UniqueLock lock(mu_);
    target_ = target;
    while (count_ < target) {
      if (!deadline.has_value()) {
        cv_.wait(lock);
      } else if (cv_.wait_until(lock, *deadline) ==
                 boost::fibers::cv_status::timeout) {
        break;
      }
    }
    return count_;
  }
  // Whether the count reached `target`; polled while spinning.
  bool Reached(size_t target) {
    UniqueLock lock(mu_);
    return count_ >= target;
  }
  void Add(size_t n) {
    UniqueLock lock(mu_);
    count_ += n;
  }

 private:
  Mutex mu_;
  boost::fibers::condition_variable_any cv_;
  size_t count_ = 0;
  size_t target_ = 0;  // the waiter's; 0 while none waits
  bool wake_ = false;  // target reached; the waiter is to be woken
};

// A Dask-style bar: [#########           ] | 45% Completed |  1.2s
class ProgressBar {
 public:
  explicit ProgressBar(size_t total)
      : total_(total), start_(std::chrono::steady_clock::now()) {
    const char* env = std::getenv("WEFT_PROGRESS");
    enabled_ = isatty(STDERR_FILENO) == 1 &&
               !(env != nullptr && std::strcmp(env, "0") == 0);
  }
  bool enabled() const { return enabled_; }
  void Update(size_t done, bool final) {
    if (!enabled_) return;
    auto elapsed = std::chrono::steady_clock::now() - start_;
    if (!drawn_ && elapsed < milliseconds(500)) return;  // short waits: quiet
    const double seconds = std::chrono::duration<double>(elapsed).count();
    const int width = 40;
    const int filled =
        total_ == 0 ? width : static_cast<int>(width * done / total_);
    std::string bar(filled, '#');
    bar.resize(width, ' ');
    std::fprintf(stderr, "\r[%s] | %3d%% Completed | %5.1fs%s", bar.c_str(),
                 total_ == 0 ? 100 : static_cast<int>(100 * done / total_),
                 seconds, final ? "\n" : "");
    std::fflush(stderr);
    drawn_ = true;
  }

 private:
  const size_t total_;
  const std::chrono::steady_clock::time_point start_;
  bool enabled_ = false;
  bool drawn_ = false;
};

}  // namespace

size_t WaitForCount(const std::vector<std::shared_ptr<ObjectState>>& states,
                    size_t num_ready, std::optional<SteadyTime> deadline) {
  num_ready = std::min(num_ready, states.size());
  size_t already = 0;
  for (const auto& s : states) already += s->done() ? 1 : 0;
  if (already >= num_ready) return already;
  auto counter = std::make_shared<Counter>();
  size_t done_at_registration = 0;
  for (const auto& s : states) {
    if (!s->AddListener(counter)) ++done_at_registration;
  }
  counter->Add(done_at_registration);
  SpinUntil([&] { return counter->Reached(num_ready); }, deadline);
  BlockingRegion region;
  return counter->WaitFor(num_ready, deadline);
}

bool WaitForAll(const std::vector<std::shared_ptr<ObjectState>>& states,
                std::optional<SteadyTime> deadline) {
  const size_t total = states.size();
  size_t first_pending = 0;
  while (first_pending < total && states[first_pending]->done()) {
    ++first_pending;
  }
  if (first_pending == total) return true;
  // One listener counts every completion; the waiter wakes when all are
  // done (or to redraw the progress bar, or at the deadline).
  auto counter = std::make_shared<Counter>();
  size_t done_at_registration = first_pending;
  for (size_t i = first_pending; i < total; ++i) {
    if (!states[i]->AddListener(counter)) ++done_at_registration;
  }
  counter->Add(done_at_registration);
  if (SpinUntil([&] { return counter->Reached(total); }, deadline)) {
    return true;
  }
  ProgressBar bar(total);
  BlockingRegion region;
  while (true) {
    std::optional<SteadyTime> until = deadline;
    if (bar.enabled()) {
      SteadyTime slice = std::chrono::steady_clock::now() + milliseconds(100);
      if (!until.has_value() || slice < *until) until = slice;
    }
    const size_t done = counter->WaitFor(total, until);
    if (done >= total) {
      bar.Update(total, true);
      return true;
    }
    if (deadline.has_value() && std::chrono::steady_clock::now() >= *deadline) {
      return false;
    }
    bar.Update(done, false);
  }
}

class CompletionQueue::Listener final : public ReadyListener {
 public:
  explicit Listener(std::weak_ptr<CompletionQueue> queue)
      : queue_(std::move(queue)) {}
  void OnReady(ObjectState& state) override {
    if (auto q = queue_.lock()) q->Push(state);
  }

 private:
  std::weak_ptr<CompletionQueue> queue_;
};

void CompletionQueue::Watch(
    const std::vector<std::shared_ptr<ObjectState>>& states) {
  {
    MutexLock lock(&mu_);
    for (const auto& s : states) {
      auto& entry = watched_[s.get()];
      entry.first = s;
      ++entry.second;
    }
    remaining_ = states.size();
  }
  auto listener = std::make_shared<Listener>(weak_from_this());
  for (const auto& s : states) {
    if (!s->AddListener(listener)) Push(*s);
  }
}

void CompletionQueue::Push(ObjectState& state) {
  UniqueLock lock(mu_);
  auto it = watched_.find(&state);
  if (it == watched_.end()) return;
  done_.push_back(it->second.first);
  if (--it->second.second == 0) watched_.erase(it);
  cv_.notify_all();
}

std::shared_ptr<ObjectState> CompletionQueue::Next(
    std::optional<SteadyTime> deadline) {
  BlockingRegion region;
  UniqueLock lock(mu_);
  if (remaining_ == 0) return nullptr;
  while (done_.empty()) {
    if (!deadline.has_value()) {
      cv_.wait(lock);
    } else if (cv_.wait_until(lock, *deadline) ==
               boost::fibers::cv_status::timeout) {
      if (done_.empty()) return nullptr;
    }
  }
  auto next = std::move(done_.front());
  done_.pop_front();
  --remaining_;
  return next;
}

bool CompletionQueue::exhausted() const {
  MutexLock lock(&mu_);
  return remaining_ == 0;
}

}  // namespace weft::internal
