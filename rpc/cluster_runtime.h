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
#include <vector>

#include "absl/status/statusor.h"
#include "rpc/local_link.h"
#include "weft/internal/runtime.h"

namespace weft::rpc {

class ClusterConnection;

class ClusterRuntime final : public internal::Runtime {
 public:
  // Connects to the scheduler at `address` presenting `token`. `name`
  // identifies the client in logs. Errors: UNAVAILABLE if nothing answers
  // within `timeout`, UNAUTHENTICATED for a wrong token.
  static absl::StatusOr<std::unique_ptr<ClusterRuntime>> Connect(
      const std::string& address, const std::string& token,
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

  // Throws UsageError for a function that is not registered with
  // WEFT_REMOTE or arguments that cannot be serialized.
  std::shared_ptr<internal::ObjectState> Submit(
      internal::TaskSpec spec) override;
  std::shared_ptr<internal::ObjectState> Put(internal::PutSpec spec) override;
  void FlushSubmissions() override;
  int num_slots() const override;
  std::vector<internal::WorkerDescription> Workers() override;
  absl::Status WaitForWorkers(int n,
                              std::chrono::milliseconds timeout) override;
  std::vector<std::shared_ptr<internal::ObjectState>> RunOnAllWorkers(
      internal::TaskSpec spec) override;
  std::shared_ptr<internal::ObjectState> Broadcast(
      internal::PutSpec spec) override;

  // A reference to an existing cluster object (an ObjectRef that arrived as
  // a task argument); the scheduler learns that this client holds it.
  std::shared_ptr<internal::ObjectState> Adopt(uint64_t id);

 private:
  explicit ClusterRuntime(std::shared_ptr<ClusterConnection> connection);

  std::shared_ptr<ClusterConnection> connection_;
};

}  // namespace weft::rpc

#endif  // WEFT_RPC_CLUSTER_RUNTIME_H_
