// Copyright 2026 The weft Authors.
//
// LocalLink: the path between a client and a scheduler that live in the same
// process (LocalCluster; Dask's LocalCluster does the same). The two sides
// hand each other the very protobuf batches they would send over gRPC, by
// function call: no socket, no serialization, no thread hop. Workers are
// still reached over gRPC.

#ifndef WEFT_RPC_LOCAL_LINK_H_
#define WEFT_RPC_LOCAL_LINK_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "rpc/weft.pb.h"

namespace weft::rpc {

// The client's side of a link: implemented by the cluster runtime.
class LocalClientPeer {
 public:
  virtual ~LocalClientPeer() = default;
  // A batch from the scheduler. Called with no weft lock held, never
  // concurrently with itself; may send to the scheduler again.
  virtual void OnMessage(const SchedulerToClient& message) = 0;
  // The scheduler shut down; nothing more arrives. Called at most once.
  virtual void OnClosed(const std::string& reason) = 0;
};

// The scheduler's side: implemented by the scheduler service. Thread-safe;
// every method may be called after the scheduler has shut down, and then
// fails cleanly.
class LocalLink {
 public:
  virtual ~LocalLink() = default;
  // Registers a client named `name` (for logs); returns its client id.
  // `peer` is told of everything for that client until Disconnect().
  // Errors: UNAVAILABLE once the scheduler is shutting down.
  virtual absl::StatusOr<uint64_t> Connect(
      const std::string& name, std::shared_ptr<LocalClientPeer> peer) = 0;
  // Handles a batch from client `id`, replies included (they reach the
  // peer before this returns unless another thread is delivering to it).
  // Returns false if the scheduler has shut down or `id` is unknown.
  // REQUIRES: the caller holds no lock its peer's OnMessage takes.
  virtual bool Deliver(uint64_t id, const ClientMessage& message) = 0;
  // The client is gone: its references are dropped. Idempotent.
  virtual void Disconnect(uint64_t id) = 0;
};

}  // namespace weft::rpc

#endif  // WEFT_RPC_LOCAL_LINK_H_
