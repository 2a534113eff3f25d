// Copyright 2026 The weft Authors.
//
// ActorHost: one actor on a worker (weft/actor.h): its instance, its
// threads (an ActorExecutor of max_concurrency), and the order its calls
// start in. The scheduler hands one caller's calls over in order, on one
// stream; the host also puts them in order itself, by their numbers, so
// that a call that arrives early waits for the ones before it.

#ifndef WEFT_WORKER_ACTOR_HOST_H_
#define WEFT_WORKER_ACTOR_HOST_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "weft/internal/actor_executor.h"
#include "weft/internal/mutex.h"

namespace weft::worker {

// Thread-safe.
class ActorHost {
 public:
  // Constructs the instance (on one of the actor's threads).
  using Construct = std::function<absl::StatusOr<std::shared_ptr<void>>()>;
  // Told once the constructor returned: OK, or why it failed (an
  // exception's type and message, or a status).
  using Constructed =
      std::function<void(const absl::Status& status,
                         const std::string& exception_type)>;
  // Runs a call on the instance, on one of the actor's threads.
  using Run = std::function<void(void* instance)>;
  // The call will never run (the host stopped first).
  using Drop = std::function<void()>;

  // `max_concurrency` >= 1.
  ActorHost(uint64_t id, int max_concurrency);
  // Stops and waits for its threads. REQUIRES: not on one of them.
  ~ActorHost();
  ActorHost(const ActorHost&) = delete;
  ActorHost& operator=(const ActorHost&) = delete;

  uint64_t id() const { return id_; }

  // Runs `construct` first; calls wait for it. `done` is called on the
  // actor's thread. Call once, before any Call().
  void Start(Construct construct, Constructed done);

  // Call number `seq` of `caller`, all of whose calls below
  // `first_unfinished` are finished (or will never come): starts after
  // the caller's calls numbered from first_unfinished to seq - 1 have
  // started (one at a time with max_concurrency 1), in number order.
  void Call(uint64_t caller, uint64_t seq, uint64_t first_unfinished,
            Run run, Drop drop);

  // Queued calls are dropped (and later ones), running ones finish; the
  // instance goes when they have. Does not wait.
  void Stop();
  // After Stop(): whether its threads have exited.
  bool Finished() const { return executor_.Finished(); }

 private:
  class Job;

  const uint64_t id_;
  internal::ActorExecutor executor_;

  internal::Mutex mu_;
  // The instance, once constructed (dropped by Stop()).
  std::shared_ptr<void> instance_ ABSL_GUARDED_BY(mu_);
  struct Caller {
    uint64_t next = 0;  // the number that starts next
    std::map<uint64_t, std::shared_ptr<Job>> early;  // arrived ahead
  };
  absl::flat_hash_map<uint64_t, Caller> callers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace weft::worker

#endif  // WEFT_WORKER_ACTOR_HOST_H_
