// Copyright 2026 The weft Authors.
//
// EventLoop: a Boost.Asio io_context and the few threads that run it. A
// process's sockets (frame streams, the frame acceptor) and timers (batch
// lingers, heartbeats, the scheduler's monitor) run on one loop, so the
// number of threads does not grow with the number of peers: a scheduler
// with a thousand workers runs them on the same handful of threads as one
// with two.
//
// Handlers run on loop threads and must not block for long (the scheduler's
// message handlers take its lock, which is short-held). Code that must block
// (a gRPC stream's Read, a task) runs on threads of its own.
//
//   rpc::EventLoop loop(2, "sched");
//   rpc::Timer tick(loop, [] { CheckHeartbeats(); });
//   tick.ArmAfter(absl::Milliseconds(200));

#ifndef WEFT_RPC_EVENT_LOOP_H_
#define WEFT_RPC_EVENT_LOOP_H_

#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace weft::rpc {

// Thread-safe.
class EventLoop {
 public:
  // Starts `threads` (>= 1) threads running the loop, named `name` (for
  // debuggers and `top -H`; at most 15 characters are kept).
  EventLoop(int threads, std::string name);
  // Stops the loop and joins its threads; handlers not yet run are
  // dropped. REQUIRES: not called on a loop thread.
  ~EventLoop();

  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs `f` on a loop thread soon (never on the caller's stack).
  void Post(absl::AnyInvocable<void()> f);

  // True if the calling thread is one of this loop's.
  bool OnLoopThread() const;

  int num_threads() const;

  // For rpc's own sockets and timers.
  boost::asio::io_context& context();

  // The process's loop for clients and workers (one thread), started on
  // first use and kept until the process exits.
  static EventLoop& Shared();

  // How many loop threads a process's own loop gets: WEFT_IO_THREADS if
  // set (1-64), else `fallback`.
  static int ThreadsFromEnvironment(int fallback);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A timer that calls `on_fire` on a loop thread when it expires. Arming it
// again moves its deadline; an armed timer fires once. Destroying it (or
// Cancel()) stops it: `on_fire` never starts afterwards, and the
// destructor waits for a call already running, unless that call is the
// one destroying it. Thread-safe; `on_fire` may re-arm or cancel the timer.
class Timer {
 public:
  Timer(EventLoop& loop, absl::AnyInvocable<void()> on_fire);
  ~Timer();

  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Fires at `when` (at once if it has passed), replacing any earlier
  // deadline.
  void ArmAt(absl::Time when);
  void ArmAfter(absl::Duration delay) { ArmAt(absl::Now() + delay); }
  // Fires at `when` unless already armed to fire sooner.
  void ArmBy(absl::Time when);
  // Fires every `period` (the first time one period from now) until
  // cancelled or re-armed.
  void ArmEvery(absl::Duration period);
  // Disarms it (a call already running goes on).
  void Cancel();
  // Disarms it for good, as the destructor does: `on_fire` never starts
  // afterwards (arming it again does nothing), and a call already running
  // has returned when Stop() returns, unless Stop() is called from that
  // call. Idempotent.
  void Stop();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace weft::rpc

#endif  // WEFT_RPC_EVENT_LOOP_H_
