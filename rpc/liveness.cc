// Copyright 2026 The weft Authors.

#include "rpc/liveness.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"

namespace weft::rpc {

Liveness::Liveness(EventLoop& loop, Options options,
                   absl::AnyInvocable<void()> ping,
                   absl::AnyInvocable<void(absl::Duration)> on_silent)
    : options_(options),
      ping_(std::move(ping)),
      on_silent_(std::move(on_silent)),
      last_heard_ns_(absl::ToUnixNanos(absl::Now())),
      timer_(loop, [this] { Check(); }) {
  timer_.ArmEvery(options_.interval);
}

void Liveness::Check() {
  if (gave_up_.load()) return;
  const absl::Duration silent = absl::Now() - last_heard();
  if (silent > options_.timeout) {
    gave_up_.store(true);
    timer_.Cancel();
    on_silent_(silent);
    return;
  }
  ping_();
}

absl::Duration SchedulerTimeout() {
  static const absl::Duration timeout = [] {
    const absl::Duration fallback = absl::Seconds(30);
    const char* env = std::getenv("WEFT_SCHEDULER_TIMEOUT");
    if (env == nullptr || *env == '\0') return fallback;
    double seconds = 0;
    if (!absl::SimpleAtod(env, &seconds) || !(seconds > 0) || seconds > 1e7) {
      std::fprintf(stderr,
                   "weft: WEFT_SCHEDULER_TIMEOUT wants a positive number of "
                   "seconds, got '%s'; using 30\n",
                   env);
      return fallback;
    }
    return absl::Seconds(seconds);
  }();
  return timeout;
}

}  // namespace weft::rpc
