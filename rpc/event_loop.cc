// Copyright 2026 The weft Authors.

#include "rpc/event_loop.h"

#include <pthread.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
#include "weft/internal/mutex.h"

namespace weft::rpc {
namespace {

// The loop whose thread this is, if any.
thread_local const void* current_loop = nullptr;

// absl::Time on the steady clock asio's timers use.
std::chrono::steady_clock::time_point SteadyAt(absl::Time when) {
  const absl::Duration left = when - absl::Now();
  if (left <= absl::ZeroDuration()) return std::chrono::steady_clock::now();
  if (left > absl::Hours(24 * 365)) {
    return std::chrono::steady_clock::now() + std::chrono::hours(24 * 365);
  }
  return std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(left);
}

}  // namespace

struct EventLoop::Impl {
  boost::asio::io_context context;
  std::optional<boost::asio::executor_work_guard<
      boost::asio::io_context::executor_type>>
      work{context.get_executor()};
  std::vector<std::thread> threads;
};

EventLoop::EventLoop(int threads, std::string name)
    : impl_(std::make_unique<Impl>()) {
  name.resize(std::min<size_t>(name.size(), 15));
  for (int i = 0; i < std::max(1, threads); ++i) {
    impl_->threads.emplace_back([this, name] {
      ::pthread_setname_np(::pthread_self(), name.c_str());
      current_loop = impl_.get();
      impl_->context.run();
    });
  }
}

EventLoop::~EventLoop() {
  impl_->work.reset();
  impl_->context.stop();
  for (std::thread& t : impl_->threads) t.join();
}

void EventLoop::Post(absl::AnyInvocable<void()> f) {
  boost::asio::post(impl_->context,
                    [f = std::make_shared<absl::AnyInvocable<void()>>(
                         std::move(f))] { (*f)(); });
}

bool EventLoop::OnLoopThread() const { return current_loop == impl_.get(); }

int EventLoop::num_threads() const {
  return static_cast<int>(impl_->threads.size());
}

boost::asio::io_context& EventLoop::context() { return impl_->context; }

EventLoop& EventLoop::Shared() {
  static EventLoop* loop = new EventLoop(ThreadsFromEnvironment(1), "weft-io");
  return *loop;
}

int EventLoop::ThreadsFromEnvironment(int fallback) {
  const char* env = std::getenv("WEFT_IO_THREADS");
  int threads = 0;
  if (env != nullptr && absl::SimpleAtoi(env, &threads) && threads >= 1 &&
      threads <= 64) {
    return threads;
  }
  return fallback;
}

// Timer ------------------------------------------------------------------------

struct Timer::State : std::enable_shared_from_this<State> {
  State(EventLoop& loop, absl::AnyInvocable<void()> fire)
      : timer(loop.context()), on_fire(std::move(fire)) {}

  // Arms the timer for `at`, a new generation (earlier waits fire for
  // nothing). REQUIRES: mu held.
  void ArmLocked(absl::Time at) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    deadline = at;
    armed = true;
    ++generation;
    timer.expires_at(SteadyAt(deadline));
    timer.async_wait([self = shared_from_this(),
                      generation = generation](const auto& error) {
      self->Fired(generation, !error);
    });
  }

  void Fired(uint64_t fired_generation, bool expired) {
    {
      internal::MutexLock lock(&mu);
      if (!expired || dead || fired_generation != generation) return;
      armed = false;
      ++running;
      runner = std::this_thread::get_id();
    }
    on_fire();
    {
      internal::MutexLock lock(&mu);
      --running;
      // Periodic, and neither re-armed nor cancelled meanwhile: again.
      if (!dead && period > absl::ZeroDuration() &&
          fired_generation == generation && !armed) {
        ArmLocked(absl::Now() + period);
      }
    }
    done.notify_all();
  }

  internal::Mutex mu;
  std::condition_variable_any done;  // a call of on_fire ended
  boost::asio::steady_timer timer ABSL_GUARDED_BY(mu);
  absl::AnyInvocable<void()> on_fire;  // constant after construction
  absl::Time deadline ABSL_GUARDED_BY(mu) = absl::InfiniteFuture();
  // ArmEvery()'s period; zero for a one-shot arming.
  absl::Duration period ABSL_GUARDED_BY(mu) = absl::ZeroDuration();
  uint64_t generation ABSL_GUARDED_BY(mu) = 0;  // of the latest arming
  bool armed ABSL_GUARDED_BY(mu) = false;
  bool dead ABSL_GUARDED_BY(mu) = false;
  int running ABSL_GUARDED_BY(mu) = 0;
  std::thread::id runner ABSL_GUARDED_BY(mu);
};

Timer::Timer(EventLoop& loop, absl::AnyInvocable<void()> on_fire)
    : state_(std::make_shared<State>(loop, std::move(on_fire))) {}

Timer::~Timer() { Stop(); }

void Timer::Stop() {
  internal::UniqueLock lock(state_->mu);
  state_->dead = true;
  state_->timer.cancel();
  while (state_->running > 0 &&
         state_->runner != std::this_thread::get_id()) {
    state_->done.wait(lock);
  }
}

void Timer::ArmAt(absl::Time when) {
  internal::MutexLock lock(&state_->mu);
  if (state_->dead) return;
  state_->period = absl::ZeroDuration();
  state_->ArmLocked(when);
}

void Timer::ArmBy(absl::Time when) {
  internal::MutexLock lock(&state_->mu);
  if (state_->dead || (state_->armed && state_->deadline <= when)) return;
  state_->period = absl::ZeroDuration();
  state_->ArmLocked(when);
}

void Timer::ArmEvery(absl::Duration period) {
  internal::MutexLock lock(&state_->mu);
  if (state_->dead) return;
  state_->period = period;
  state_->ArmLocked(absl::Now() + period);
}

void Timer::Cancel() {
  internal::MutexLock lock(&state_->mu);
  state_->period = absl::ZeroDuration();
  state_->armed = false;
  ++state_->generation;
  state_->timer.cancel();
}

}  // namespace weft::rpc
