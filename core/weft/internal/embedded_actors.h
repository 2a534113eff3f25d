// Copyright 2026 The weft Authors.
//
// EmbeddedActors: the embedded runtime's actors (weft/actor.h). Each actor
// is an instance in this process with threads of its own (an
// ActorExecutor, max_concurrency of them) that run its calls in the order
// they were submitted; it holds num_cpus of the runtime's task slots while
// it lives. This process is the only worker, so an actor dies only when
// killed, when its constructor throws, or when every handle to it is gone.

#ifndef WEFT_CORE_WEFT_INTERNAL_EMBEDDED_ACTORS_H_
#define WEFT_CORE_WEFT_INTERNAL_EMBEDDED_ACTORS_H_

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "weft/internal/mutex.h"
#include "weft/internal/runtime.h"

namespace weft::internal {

class EmbeddedRuntime;

// Thread-safe.
class EmbeddedActors {
 public:
  // `runtime` owns this object and outlives it; `slots` is its number of
  // task slots.
  EmbeddedActors(EmbeddedRuntime* runtime, int slots);
  // Shutdown().
  ~EmbeddedActors();
  EmbeddedActors(const EmbeddedActors&) = delete;
  EmbeddedActors& operator=(const EmbeddedActors&) = delete;

  // Stops every actor: calls not started fail with kShutdown, running
  // ones finish; waits for their threads. Later creations fail. Idempotent.
  void Shutdown();

  // As Runtime's actor methods.
  absl::StatusOr<std::shared_ptr<ObjectState>> Create(ActorSpec spec);
  std::shared_ptr<ObjectState> Call(uint64_t actor,
                                    const std::shared_ptr<ObjectState>& anchor,
                                    TaskSpec spec);
  absl::StatusOr<ActorStatus> Status(uint64_t actor);
  absl::StatusOr<FoundActor> Lookup(const std::string& name);
  absl::StatusOr<bool> Kill(uint64_t actor);

 private:
  class Actor;
  class CreateJob;
  class CallJob;
  class AnchorOwner;

  // Ends `actor` with `why`: queued calls fail, its slots go to actors
  // waiting for them. Returns false (doing nothing) if it was dead.
  bool Die(const std::shared_ptr<Actor>& actor,
           std::shared_ptr<const ErrorInfo> why);
  // The actor `id`, or NotFound ("actor ID is unknown").
  absl::StatusOr<std::shared_ptr<Actor>> Find(uint64_t id);
  // Gives slots to actors waiting for them, in creation order.
  void GrantSlots() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Joins the threads of dead actors that have no thread running.
  void Reap() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  EmbeddedRuntime* const runtime_;
  const int slots_;
  std::shared_ptr<AnchorOwner> owner_;  // constant after construction

  Mutex mu_;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<uint64_t, std::shared_ptr<Actor>> actors_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, uint64_t> names_ ABSL_GUARDED_BY(mu_);
  // Slots held by live actors, and actors waiting for theirs.
  int reserved_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<std::shared_ptr<Actor>> waiting_ ABSL_GUARDED_BY(mu_);
  // Dead actors whose threads may still run.
  std::vector<std::shared_ptr<Actor>> retired_ ABSL_GUARDED_BY(mu_);
};

}  // namespace weft::internal

#endif  // WEFT_CORE_WEFT_INTERNAL_EMBEDDED_ACTORS_H_
