// Copyright 2026 The weft Authors.
//
// DataService: a worker's gRPC face to peers and clients. Serves object bytes
// in chunks, or as a shared-memory handle to a requester on the same host;
// accepts stored objects; and runs registered functions on demand
// (run_on_all_workers). Every call must present the cluster token.

#ifndef WEFT_WORKER_DATA_SERVICE_H_
#define WEFT_WORKER_DATA_SERVICE_H_

#include <functional>
#include <string>

#include "rpc/bulk_transfer.h"
#include "rpc/shared_region.h"
#include "rpc/weft.grpc.pb.h"
#include "weft/internal/mutex.h"
#include "worker/object_store.h"

namespace weft::worker {

// Runs a registered function with wire arguments; used by Call.
using CallHandler = std::function<rpc::CallReply(const rpc::CallRequest&)>;

// Thread-safe. `store` must outlive the service.
class DataService final : public rpc::Worker::Service {
 public:
  // `shared_memory`: objects stored by peers go to shared memory when large,
  // and a same-host peer may store one by handing over a sealed region
  // (mapped here, no copy); without it such a store fails with
  // FAILED_PRECONDITION and the peer streams. Objects already in shared
  // memory are offered to same-host requesters either way.
  //
  // `bulk` (not owned; may be null): large objects go to requesters that
  // accept it through its port instead of the stream. It outlives this
  // service.
  DataService(ObjectStore& store, std::string token, CallHandler call,
              bool shared_memory = rpc::SharedMemoryEnabled(),
              rpc::BulkServer* bulk = nullptr);

  grpc::Status Fetch(grpc::ServerContext* context,
                     const rpc::FetchRequest* request,
                     grpc::ServerWriter<rpc::Chunk>* writer) override;
  grpc::Status Store(grpc::ServerContext* context,
                     grpc::ServerReader<rpc::Chunk>* reader,
                     rpc::StoreReply* reply) override;
  grpc::Status Call(grpc::ServerContext* context,
                    const rpc::CallRequest* request,
                    rpc::CallReply* reply) override;

  // Requires `token` of later calls (a worker that joined a scheduler with
  // a new token).
  void set_token(std::string token);

 private:
  // Store() whose first chunk carries a region handle.
  grpc::Status StoreShared(const rpc::Chunk& first,
                           grpc::ServerReader<rpc::Chunk>* reader,
                           rpc::StoreReply* reply);

  // UNAUTHENTICATED unless the call presents the current token.
  grpc::Status CheckToken(const grpc::ServerContext& context);

  ObjectStore& store_;
  const CallHandler call_;
  const bool shared_memory_;
  rpc::BulkServer* const bulk_;
  internal::Mutex mu_;
  std::string token_ ABSL_GUARDED_BY(mu_);
};

}  // namespace weft::worker

#endif  // WEFT_WORKER_DATA_SERVICE_H_
