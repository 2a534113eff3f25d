// Copyright 2026 The weft Authors.
//
// DataClient: moves object bytes to and from workers' data services, in
// chunks, over cached channels. Used by workers (to fetch dependencies from
// peers) and by clients (get() of large values, put(), broadcast()).
//
// Fetches from a process on the same host take the shared-memory path when
// the holder keeps the object in a SharedRegion: one small call returns a
// handle, and the region is mapped instead of streamed. Anything that stops
// that path (another host, the object released meanwhile, /proc refusing,
// no descriptors left) falls back to streaming, invisibly to the caller.

#ifndef WEFT_RPC_DATA_CLIENT_H_
#define WEFT_RPC_DATA_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "rpc/buffer.h"
#include "rpc/shared_region.h"
#include "rpc/weft.grpc.pb.h"
#include "weft/internal/mutex.h"

namespace weft::rpc {

// Bytes per chunk on the data plane.
inline constexpr size_t kChunkBytes = 1 << 20;

// gRPC channel arguments weft uses everywhere: no message size limit on
// receive (chunks bound it), keepalive so dead peers are noticed.
grpc::ChannelArguments ChannelArgs();

// How this process's fetches (or stores) went, over all DataClients (for
// tests and statistics).
struct FetchCounts {
  uint64_t mapped = 0;     // taken (handed over) through shared memory
  uint64_t streamed = 0;   // streamed in chunks
  uint64_t bulk = 0;       // read from a bulk port (rpc/bulk_transfer.h)
  uint64_t fallbacks = 0;  // a shared-memory handle could not be mapped, or
                           // a bulk port could not be reached
};

// How one fetch went (FetchBuffer's `info`).
struct FetchInfo {
  std::string address;  // the holder that answered
  bool mapped = false;  // its shared memory was mapped (else streamed or
                        // read from its bulk port: the network)
};

// Whether this process fetches large objects from other hosts through
// their bulk ports: unless WEFT_BULK_TRANSFER=0.
bool BulkTransferEnabled();

// Thread-safe.
class DataClient {
 public:
  // `token` is presented on every call; `timeout` bounds each call.
  // `shared_memory`: offer same-host holders to map their objects, and
  // stream large fetched objects into shared memory (FetchBuffer), so this
  // process can hand them on the same way.
  DataClient(std::string token, std::chrono::milliseconds timeout,
             bool shared_memory = SharedMemoryEnabled());

  // The bytes of object `id` held by the worker at `address`: a mapping of
  // the holder's shared memory when it is on this host, else read from its
  // bulk port (large objects; a port that cannot be reached falls back, and
  // later fetches from that address stream at once) or streamed (large
  // objects into shared memory of this process).
  // Memory is taken as the bytes come, never for what the holder merely
  // announces (BufferBuilder::Reserve).
  // Errors: UNAVAILABLE (no such worker), NOT_FOUND (it does not hold the
  // object), DEADLINE_EXCEEDED, UNAUTHENTICATED, DATA_LOSS (truncated, more
  // bytes than announced, or a size other than `expected_size`, the size
  // the scheduler recorded, when given), RESOURCE_EXHAUSTED (no memory for
  // the bytes). `info`, if not null, says how it went when it succeeds.
  absl::StatusOr<Buffer> FetchBuffer(
      const std::string& address, uint64_t id, FetchInfo* info = nullptr,
      std::optional<uint64_t> expected_size = std::nullopt);
  // Fetches from the first of `addresses` that answers with the object.
  absl::StatusOr<Buffer> FetchAnyBuffer(
      const std::vector<std::string>& addresses, uint64_t id,
      FetchInfo* info = nullptr,
      std::optional<uint64_t> expected_size = std::nullopt);

  // As FetchBuffer, as a string (a copy out of shared memory, if mapped).
  absl::StatusOr<std::string> Fetch(const std::string& address, uint64_t id);
  absl::StatusOr<std::string> FetchAny(const std::vector<std::string>& addresses,
                                       uint64_t id);

  // This process's fetches and stores so far.
  static FetchCounts ProcessFetchCounts();
  static FetchCounts ProcessStoreCounts();

  // Stores `bytes` as object `id` on the worker at `address`. Bytes in a
  // shared region (BufferBuilder) are offered as a handle the worker maps,
  // with no copy and no stream; a worker that cannot map it (another host,
  // /proc refusing, shared memory off there) gets them streamed, and later
  // regions for that address stream at once. Errors: UNAVAILABLE (no such
  // worker), RESOURCE_EXHAUSTED (too large for it), DEADLINE_EXCEEDED,
  // UNAUTHENTICATED, each naming the object and the address.
  absl::Status Store(const std::string& address, uint64_t id,
                     const Buffer& bytes);

  // Runs registered `function` on the worker at `address` now.
  absl::StatusOr<CallReply> Call(const std::string& address,
                                 const CallRequest& request);

  std::shared_ptr<grpc::Channel> ChannelTo(const std::string& address);

  // Presents `token` on later calls (a worker that joined a scheduler with
  // a new token).
  void set_token(std::string token);

 private:
  // One fetched object: a mapping of the holder's region, or the streamed
  // bytes.
  struct Fetched;

  // One Fetch call. With `offer_shared`, a same-host holder may answer with
  // a handle, which is mapped; if that fails, fetches again streaming.
  // Streamed bytes go to shared memory when `stream_to_shared`. A holder
  // may answer with a bulk offer (unless the address is in no_bulk_),
  // which is taken, into private memory (BulkFetch); if its port cannot be
  // reached, fetches again streaming. A holder that announces a size other than
  // `expected_size` (if given) is DATA_LOSS before anything is taken.
  absl::StatusOr<Fetched> FetchOnce(const std::string& address, uint64_t id,
                                    bool offer_shared, bool stream_to_shared,
                                    std::optional<uint64_t> expected_size);

  // One Store call: `region` (holding `bytes`) as a handle, or, when
  // null, `bytes` in chunks.
  absl::Status StoreOnce(const std::string& address, uint64_t id,
                         std::string_view bytes, const SharedRegion* region);

  Worker::Stub& StubFor(const std::string& address);
  std::unique_ptr<grpc::ClientContext> NewContext() const;

  const std::chrono::milliseconds timeout_;
  const bool shared_memory_;
  mutable internal::Mutex mu_;
  std::string token_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::unique_ptr<Worker::Stub>> stubs_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::shared_ptr<grpc::Channel>> channels_
      ABSL_GUARDED_BY(mu_);
  // Workers that could not map a stored region: they get streams.
  absl::flat_hash_set<std::string> no_shared_store_ ABSL_GUARDED_BY(mu_);
  // Workers whose bulk port could not be reached: they stream.
  absl::flat_hash_set<std::string> no_bulk_ ABSL_GUARDED_BY(mu_);
};

}  // namespace weft::rpc

#endif  // WEFT_RPC_DATA_CLIENT_H_
