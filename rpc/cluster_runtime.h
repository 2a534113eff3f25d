// Copyright 2026 The weft Authors.
//
// ClusterRuntime: the client side of a cluster. Tasks go to the scheduler
// in batches on one bidirectional stream; results come back as metadata
// (small values inline); large values are fetched from the worker that holds
// them only when get() needs them.

#ifndef WEFT_RPC_CLUSTER_RUNTIME_H_
#define WEFT_RPC_CLUSTER_RUNTIME_H_

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "rpc/local_link.h"
#include "rpc/token.h"
#include "weft/internal/runtime.h"

namespace weft::rpc {

class ClusterConnection;

class ClusterRuntime final : public internal::Runtime {
 public:
  // A batch held back (internal::SubmitBatch: a map, a compute() of a
  // graph) goes to the scheduler in messages of at most this many tasks,
  // each sent as soon as it is full: the scheduler takes one in while this
  // client makes the next, and no message of the whole batch is built.
  // The scheduler's lock slice (SchedulerService::Options::submit_slice)
  // is as large, so a piece is one hold of its lock.
  static constexpr int kSubmitPiece = 16384;

  // Connects to the scheduler at `address` presenting the token from
  // `token`. Waits up to `timeout` for a scheduler that is not up yet, a
  // token file that is not written yet and, when the token comes from a
  // file, a token the scheduler refuses (it may be rewriting the file).
  // `name` identifies the client in logs. Errors: Unavailable if nothing
  // answers in time, NotFound (no token), Unauthenticated (a wrong token),
  // each naming the address.
  static absl::StatusOr<std::unique_ptr<ClusterRuntime>> Connect(
      const std::string& address, const TokenSource& token,
      std::chrono::milliseconds timeout, const std::string& name);

  // Connects to a scheduler in this process through `link` (LocalCluster):
  // no socket between client and scheduler. `address` is the scheduler's
  // (for messages); `token` is presented to workers. Errors: UNAVAILABLE if
  // the scheduler is shutting down.
  static absl::StatusOr<std::unique_ptr<ClusterRuntime>> ConnectLocal(
      std::shared_ptr<LocalLink> link, const std::string& address,
      const std::string& token, const std::string& name);

  // Closes the stream; objects not yet complete fail with kShutdown.
  ~ClusterRuntime() override;

  // Errors: InvalidArgument for a function that is not registered with
  // WEFT_REMOTE or arguments that cannot be serialized.
  absl::StatusOr<std::shared_ptr<internal::ObjectState>> Submit(
      internal::TaskSpec spec) override;
  // A value up to the inline limit goes to the scheduler; a larger one to
  // the least loaded worker. Errors: as Runtime::Put.
  absl::StatusOr<std::shared_ptr<internal::ObjectState>> Put(
      internal::PutSpec spec) override;
  void FlushSubmissions() override;
  int num_slots() const override;
  absl::StatusOr<std::vector<WorkerStatus>> Workers() override;
  absl::Status WaitForWorkers(int n,
                              std::chrono::milliseconds timeout) override;
  absl::StatusOr<std::vector<std::shared_ptr<internal::ObjectState>>>
  RunOnAllWorkers(internal::TaskSpec spec) override;
  absl::StatusOr<std::shared_ptr<internal::ObjectState>> Broadcast(
      internal::PutSpec spec) override;
  // Reads the task runs and transfers the scheduler records from now on
  // (scheduler/telemetry.h), asking it at each Read. Its ring keeps the
  // most recent 100,000 runs: a reader that waits longer between reads
  // than the cluster takes to run that many counts the rest as dropped.
  absl::StatusOr<std::unique_ptr<internal::EventReader>> OpenEvents() override;
  // Asks the scheduler. Errors: Unavailable (it cannot be reached),
  // DeadlineExceeded (it did not answer).
  absl::StatusOr<std::string> DashboardLink() override;

  // Actors: created and found with a round trip to the scheduler; calls
  // go out as tasks (TaskDef.actor_call), in this client's order.
  absl::StatusOr<std::shared_ptr<internal::ObjectState>> CreateActor(
      internal::ActorSpec spec) override;
  // Errors: InvalidArgument for a method not registered with WEFT_ACTOR or
  // arguments that cannot be serialized.
  absl::StatusOr<std::shared_ptr<internal::ObjectState>> SubmitActorCall(
      uint64_t actor, const std::shared_ptr<internal::ObjectState>& anchor,
      internal::TaskSpec spec) override;
  absl::StatusOr<ActorStatus> GetActorStatus(uint64_t actor) override;
  absl::StatusOr<internal::FoundActor> LookupActor(
      const std::string& name) override;
  absl::StatusOr<bool> KillActor(uint64_t actor) override;

  // Resolves object references read from bytes (ObjectRefs inside task
  // arguments or values) into references this client holds; the scheduler
  // learns of them on this client's stream. Lives as long as the runtime.
  internal::RefResolver* refs();

  // Returns once the scheduler has handled everything this client sent
  // before the call (e.g. the references refs() took). Errors: Unavailable
  // (the scheduler is gone), DeadlineExceeded (no answer within 30 s).
  absl::Status Sync();

  // Tells the scheduler that the value of `container` (a task this process
  // ran) references `ids`, so that it keeps them alive with the value.
  // Ordered before any later release of `ids` by this client.
  // REQUIRES: this client holds each of `ids` during the call.
  void Contain(uint64_t container, const std::vector<uint64_t>& ids);

 private:
  explicit ClusterRuntime(std::shared_ptr<ClusterConnection> connection);
  // A task, or a call of `actor`'s method when nonzero. Errors: as Submit.
  absl::StatusOr<std::shared_ptr<internal::ObjectState>> SubmitTask(
      internal::TaskSpec spec, uint64_t actor);

  std::shared_ptr<ClusterConnection> connection_;
};

}  // namespace weft::rpc

#endif  // WEFT_RPC_CLUSTER_RUNTIME_H_
