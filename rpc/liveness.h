// Copyright 2026 The weft Authors.
//
// Liveness: one side's watch over a peer it must hear from. A stream whose
// peer vanished (its host lost power, a partition, a SIGSTOP) may stay open
// for as long as TCP does not try to send: nothing ends it. Each side of a
// weft stream therefore pings at an interval, the other side answers any
// ping (or sends anything else), and a side that has heard nothing for its
// timeout gives the peer up: a worker rejoins, a client fails its waits, the
// scheduler drops the peer and releases what it held.
//
//   rpc::Liveness watch(loop, {absl::Seconds(1), absl::Seconds(10)},
//                       [&] { SendPing(); },
//                       [&](absl::Duration silent) { GiveUp(silent); });
//   ... on every message from the peer: watch.Heard();

#ifndef WEFT_RPC_LIVENESS_H_
#define WEFT_RPC_LIVENESS_H_

#include <atomic>
#include <cstdint>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "rpc/event_loop.h"

namespace weft::rpc {

class Liveness {
 public:
  struct Options {
    // How often `ping` is called.
    absl::Duration interval = absl::Seconds(1);
    // Silence after which `on_silent` is called. Should be several
    // intervals, so that one late answer is no loss.
    absl::Duration timeout = absl::Seconds(10);
  };

  // Starts watching now (as if the peer had just been heard). `ping` and
  // `on_silent` run on a `loop` thread, never concurrently; `on_silent` runs
  // at most once, after which pinging stops. Both must not block for long.
  // REQUIRES: options.interval > 0, options.timeout > 0; `loop` outlives
  // this object.
  Liveness(EventLoop& loop, Options options, absl::AnyInvocable<void()> ping,
           absl::AnyInvocable<void(absl::Duration silent_for)> on_silent);
  // Stops watching; waits for a callback already running (unless called
  // from it).
  ~Liveness() = default;

  // Stops watching for good, as the destructor does, while the object
  // stays: neither callback starts after it returns, and one already
  // running has returned (unless Stop() is called from it). Heard() and the
  // accessors stay callable, so a reader that may still hear the peer need
  // not be stopped first. Thread-safe; idempotent.
  void Stop() { timer_.Stop(); }

  Liveness(const Liveness&) = delete;
  Liveness& operator=(const Liveness&) = delete;

  // The peer said something. Thread-safe, lock-free (call it on every
  // message, before any lock is taken to handle it).
  void Heard() { last_heard_ns_.store(absl::ToUnixNanos(absl::Now())); }

  // When the peer was last heard. Thread-safe.
  absl::Time last_heard() const {
    return absl::FromUnixNanos(last_heard_ns_.load());
  }

  // True once `on_silent` was called. Thread-safe.
  bool gave_up() const { return gave_up_.load(); }

 private:
  void Check();

  const Options options_;
  absl::AnyInvocable<void()> ping_;
  absl::AnyInvocable<void(absl::Duration)> on_silent_;
  std::atomic<int64_t> last_heard_ns_;
  std::atomic<bool> gave_up_{false};
  Timer timer_;  // last: stopped first, while the rest is still there
};

// How long a client waits for a silent scheduler before its waits fail:
// $WEFT_SCHEDULER_TIMEOUT seconds if set to a positive number, else 30 s.
// A malformed value is reported on stderr once and ignored.
absl::Duration SchedulerTimeout();

}  // namespace weft::rpc

#endif  // WEFT_RPC_LIVENESS_H_
