// Copyright 2026 The weft Authors.
//
// DataClient: moves object bytes to and from workers' data services, in
// chunks, over cached channels. Used by workers (to fetch dependencies from
// peers) and by clients (get() of large values, put(), broadcast()).

#ifndef WEFT_RPC_DATA_CLIENT_H_
#define WEFT_RPC_DATA_CLIENT_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "rpc/weft.grpc.pb.h"
#include "weft/internal/mutex.h"

namespace weft::rpc {

// Bytes per chunk on the data plane.
inline constexpr size_t kChunkBytes = 1 << 20;

// gRPC channel arguments weft uses everywhere: no message size limit on
// receive (chunks bound it), keepalive so dead peers are noticed.
grpc::ChannelArguments ChannelArgs();

// Thread-safe.
class DataClient {
 public:
  // `token` is presented on every call; `timeout` bounds each call.
  DataClient(std::string token, std::chrono::milliseconds timeout);

  // The bytes of object `id` held by the worker at `address`.
  // Errors: UNAVAILABLE (no such worker), NOT_FOUND (it does not hold the
  // object), DEADLINE_EXCEEDED, UNAUTHENTICATED, DATA_LOSS (truncated).
  absl::StatusOr<std::string> Fetch(const std::string& address, uint64_t id);
  // Fetches from the first of `addresses` that answers.
  absl::StatusOr<std::string> FetchAny(const std::vector<std::string>& addresses,
                                       uint64_t id);

  // Stores `bytes` as object `id` on the worker at `address`.
  absl::Status Store(const std::string& address, uint64_t id,
                     const std::string& bytes);

  // Runs registered `function` on the worker at `address` now.
  absl::StatusOr<CallReply> Call(const std::string& address,
                                 const CallRequest& request);

  std::shared_ptr<grpc::Channel> ChannelTo(const std::string& address);

 private:
  Worker::Stub& StubFor(const std::string& address);
  std::unique_ptr<grpc::ClientContext> NewContext() const;

  const std::string token_;
  const std::chrono::milliseconds timeout_;
  internal::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Worker::Stub>> stubs_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::shared_ptr<grpc::Channel>> channels_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace weft::rpc

#endif  // WEFT_RPC_DATA_CLIENT_H_
