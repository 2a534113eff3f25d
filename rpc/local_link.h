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
#include <vector>

#include "absl/status/statusor.h"
#include "rpc/peer_stream.h"
#include "rpc/weft.pb.h"
#include "weft/internal/mutex.h"

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

// A client's stream over a LocalLink (rpc/peer_stream.h): Send() hands a
// batch to the scheduler on the calling thread; the scheduler's batches
// arrive on the threads that produced them (messages that arrive before
// Serve(), such as the first one, are kept for it).
class LocalLinkStream final
    : public PeerStream<ClientMessage, SchedulerToClient>,
      public LocalClientPeer,
      public std::enable_shared_from_this<LocalLinkStream> {
 public:
  // Registers a client named `name` on `link`. Errors: as Connect().
  static absl::StatusOr<std::shared_ptr<LocalLinkStream>> Connect(
      std::shared_ptr<LocalLink> link, const std::string& name);

  // The client id the scheduler gave.
  uint64_t id() const { return id_; }

  bool Send(const ClientMessage& message) override;
  bool Read(SchedulerToClient&, absl::Time) override { return false; }
  void Serve(MessagesHandler on_messages, ClosedHandler on_closed) override;
  // Disconnects from the scheduler (the client is gone for it).
  void Close(absl::Duration drain) override;
  absl::Status status() const override;
  bool closed_by_peer() const override;
  bool delivers_on_caller() const override { return true; }
  const char* transport() const override { return "in-process"; }
  std::string peer() const override { return "the in-process scheduler"; }

  // LocalClientPeer.
  void OnMessage(const SchedulerToClient& message) override;
  void OnClosed(const std::string& reason) override;

 private:
  explicit LocalLinkStream(std::shared_ptr<LocalLink> link)
      : link_(std::move(link)) {}
  // Ends the stream once with `why`; calls the closed handler if serving.
  void End(absl::Status why);

  const std::shared_ptr<LocalLink> link_;
  uint64_t id_ = 0;  // set by Connect()
  mutable internal::Mutex mu_;
  // Written once by Serve() under mu_, before serving_; read unlocked
  // after that.
  MessagesHandler on_messages_;
  ClosedHandler on_closed_ ABSL_GUARDED_BY(mu_);
  bool serving_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<SchedulerToClient> early_ ABSL_GUARDED_BY(mu_);
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace weft::rpc

#endif  // WEFT_RPC_LOCAL_LINK_H_
