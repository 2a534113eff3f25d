// Copyright 2026 The weft Authors.
//
// RateLimitedLog: lines about peers the process does not control (a
// stranger on the frame port, a worker that reports impossible sizes, a
// second worker claiming an address) go to stderr at most so many per
// window, so that a flood of bad connections or messages cannot flood the
// log (or the disk it is on). One helper for every such line.

#ifndef WEFT_RPC_RATE_LIMITED_LOG_H_
#define WEFT_RPC_RATE_LIMITED_LOG_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "weft/internal/mutex.h"

namespace weft::rpc {

// At most `lines_per_window` lines are written in each window of
// `window` (windows start at the first line after the previous one
// ended); the rest are counted, and the first line written in a later
// window is preceded by "(N more lines about WHAT were not
// written)".
struct RateLimitedLogOptions {
  int lines_per_window = 10;
  absl::Duration window = absl::Seconds(10);
};

class RateLimitedLog {
 public:
  using Options = RateLimitedLogOptions;
  // Where lines go (without their newline); the default writes
  // "PREFIX: LINE\n" to stderr in one call.
  using Sink = std::function<void(const std::string& line)>;
  using Clock = std::function<absl::Time()>;

  // `prefix` starts every line ("weft scheduler"); `what` names the lines
  // in the count of suppressed ones ("connections to the frame port").
  // `clock` and `sink` default to absl::Now and stderr (tests inject
  // theirs).
  RateLimitedLog(std::string prefix, std::string what, Options options = {},
                 Clock clock = nullptr, Sink sink = nullptr);

  // Writes `line` unless this window's lines are used up; returns whether
  // it was written. Thread-safe; the sink is called outside the log's lock
  // (but callers must not hold a lock of theirs that the sink could need,
  // nor any lock they care to keep short: the write may block on stderr).
  bool Write(absl::string_view line) ABSL_LOCKS_EXCLUDED(mu_);

  // Lines not written so far (reported or not).
  uint64_t suppressed() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const std::string prefix_;
  const std::string what_;
  const Options options_;
  const Clock clock_;
  const Sink sink_;

  mutable ::weft::internal::Mutex mu_;
  absl::Time window_start_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int lines_ ABSL_GUARDED_BY(mu_) = 0;
  // Suppressed in the windows since the last line written.
  uint64_t unreported_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t suppressed_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace weft::rpc

#endif  // WEFT_RPC_RATE_LIMITED_LOG_H_
