// Copyright 2026 The weft Authors.
//
// Untyped waiting on many objects, behind wait(), as_completed() and get()
// of a vector.

#ifndef WEFT_CORE_WEFT_INTERNAL_WAITING_H_
#define WEFT_CORE_WEFT_INTERNAL_WAITING_H_

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "boost/fiber/condition_variable.hpp"
#include "weft/internal/mutex.h"
#include "weft/internal/object_state.h"

namespace weft::internal {

using SteadyTime = std::chrono::steady_clock::time_point;

// Blocks until at least `num_ready` of `states` are done or `deadline`
// passes (fiber-aware). Returns how many are done.
size_t WaitForCount(const std::vector<std::shared_ptr<ObjectState>>& states,
                    size_t num_ready, std::optional<SteadyTime> deadline);

// Blocks until all `states` are done or `deadline` passes, drawing a
// progress bar on stderr when it is a terminal and the wait is long.
// Returns whether all are done.
bool WaitForAll(const std::vector<std::shared_ptr<ObjectState>>& states,
                std::optional<SteadyTime> deadline);

// Hands out objects in the order they complete. Thread-safe.
class CompletionQueue : public std::enable_shared_from_this<CompletionQueue> {
 public:
  // Starts watching `states`. REQUIRES: called once, right after creation.
  void Watch(const std::vector<std::shared_ptr<ObjectState>>& states);
  // The next completed object, or nullptr when all were handed out or the
  // deadline passed (check exhausted() to tell which).
  std::shared_ptr<ObjectState> Next(std::optional<SteadyTime> deadline);
  bool exhausted() const;

 private:
  class Listener;
  void Push(ObjectState& state);

  mutable Mutex mu_;
  boost::fibers::condition_variable_any cv_;
  // Watched objects by address, so a completion can find its shared_ptr;
  // the count is how often the object appears in the watched list.
  absl::flat_hash_map<ObjectState*,
                      std::pair<std::shared_ptr<ObjectState>, int>>
      watched_ ABSL_GUARDED_BY(mu_);
  std::deque<std::shared_ptr<ObjectState>> done_ ABSL_GUARDED_BY(mu_);
  size_t remaining_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace weft::internal

#endif  // WEFT_CORE_WEFT_INTERNAL_WAITING_H_
