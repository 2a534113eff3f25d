// Copyright 2026 The weft Authors.

#include "rpc/rate_limited_log.h"

#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace weft::rpc {

RateLimitedLog::RateLimitedLog(std::string prefix, std::string what,
                               Options options, Clock clock, Sink sink)
    : prefix_(std::move(prefix)),
      what_(std::move(what)),
      options_(options),
      clock_(clock != nullptr ? std::move(clock) : Clock(&absl::Now)),
      sink_(sink != nullptr ? std::move(sink) : Sink([](const std::string& l) {
        std::fprintf(stderr, "%s\n", l.c_str());
      })) {}

bool RateLimitedLog::Write(absl::string_view line) {
  uint64_t unreported = 0;
  {
    ::weft::internal::MutexLock lock(&mu_);
    const absl::Time now = clock_();
    if (now - window_start_ >= options_.window) {
      window_start_ = now;
      lines_ = 0;
    }
    if (lines_ >= options_.lines_per_window) {
      ++unreported_;
      ++suppressed_;
      return false;
    }
    ++lines_;
    unreported = std::exchange(unreported_, 0);
  }
  if (unreported > 0) {
    sink_(absl::StrCat(prefix_, ": (", unreported, " more ",
                       unreported == 1 ? "line" : "lines", " about ", what_,
                       unreported == 1 ? " was" : " were", " not written)"));
  }
  sink_(absl::StrCat(prefix_, ": ", line));
  return true;
}

uint64_t RateLimitedLog::suppressed() const {
  ::weft::internal::MutexLock lock(&mu_);
  return suppressed_;
}

}  // namespace weft::rpc
