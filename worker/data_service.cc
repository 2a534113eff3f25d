// Copyright 2026 The weft Authors.

#include "worker/data_service.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "rpc/buffer.h"
#include "rpc/data_client.h"
#include "rpc/shared_region.h"
#include "rpc/status.h"
#include "rpc/token.h"

namespace weft::worker {

namespace {
// Largest object a peer may store here in one call.
constexpr uint64_t kMaxStoreBytes = uint64_t{64} << 30;
}  // namespace

DataService::DataService(ObjectStore& store, std::string token,
                         CallHandler call, bool shared_memory,
                         rpc::BulkServer* bulk)
    : store_(store),
      call_(std::move(call)),
      shared_memory_(shared_memory),
      bulk_(bulk),
      token_(std::move(token)) {}

void DataService::set_token(std::string token) {
  internal::MutexLock lock(&mu_);
  token_ = std::move(token);
}

grpc::Status DataService::CheckToken(const grpc::ServerContext& context) {
  internal::MutexLock lock(&mu_);
  return rpc::CheckToken(context, token_);
}

grpc::Status DataService::Fetch(grpc::ServerContext* context,
                                const rpc::FetchRequest* request,
                                grpc::ServerWriter<rpc::Chunk>* writer) {
  if (grpc::Status s = CheckToken(*context); !s.ok()) return s;
  std::optional<rpc::Buffer> bytes = store_.Get(request->id());
  if (!bytes.has_value()) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        absl::StrCat("object ", request->id(),
                                     " is not on this worker"));
  }
  // A requester on this host maps the region instead (it checks the handle
  // again, and fetches once more without `host` if it cannot map it).
  if (bytes->region() != nullptr && !request->host().empty() &&
      request->host() == rpc::LocalHostId()) {
    rpc::Chunk chunk;
    chunk.set_id(request->id());
    chunk.set_total_size(bytes->size());
    *chunk.mutable_shared() = bytes->region()->handle();
    if (!writer->Write(chunk)) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "reader went away");
    }
    return grpc::Status::OK;
  }
  // A large object, to a requester that can take it: through the bulk
  // port (no chunking, no copies here).
  if (bulk_ != nullptr && request->bulk() &&
      bytes->size() >= rpc::kBulkMinBytes) {
    rpc::Chunk chunk;
    chunk.set_id(request->id());
    chunk.set_total_size(bytes->size());
    chunk.mutable_bulk()->set_port(static_cast<uint32_t>(bulk_->port()));
    chunk.mutable_bulk()->set_ticket(bulk_->Offer(*std::move(bytes)));
    if (!writer->Write(chunk)) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "reader went away");
    }
    return grpc::Status::OK;
  }
  size_t offset = 0;
  do {
    rpc::Chunk chunk;
    if (offset == 0) {
      chunk.set_id(request->id());
      chunk.set_total_size(bytes->size());
    }
    const size_t n = std::min(rpc::kChunkBytes, bytes->size() - offset);
    chunk.set_data(bytes->data() + offset, n);
    offset += n;
    if (!writer->Write(chunk)) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "reader went away");
    }
  } while (offset < bytes->size());
  return grpc::Status::OK;
}

grpc::Status DataService::Store(grpc::ServerContext* context,
                                grpc::ServerReader<rpc::Chunk>* reader,
                                rpc::StoreReply* reply) {
  if (grpc::Status s = CheckToken(*context); !s.ok()) return s;
  rpc::Chunk chunk;
  if (!reader->Read(&chunk)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "empty store");
  }
  const uint64_t id = chunk.id();
  const uint64_t total = chunk.total_size();
  if (total > kMaxStoreBytes) {
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        absl::StrCat("object of ", total, " bytes is larger "
                                     "than this worker accepts"));
  }
  if (chunk.has_shared()) return StoreShared(chunk, reader, reply);
  // Memory for the bytes as they come, not for what the peer announced.
  absl::StatusOr<rpc::BufferBuilder> room =
      rpc::BufferBuilder::Reserve(total, shared_memory_);
  if (!room.ok()) {
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        absl::StrCat("no room for object ", id, " of ", total,
                                     " bytes: ", room.status().message()));
  }
  do {
    if (absl::Status s = room->Append(chunk.data()); !s.ok()) {
      return grpc::Status(absl::IsOutOfRange(s)
                              ? grpc::StatusCode::INVALID_ARGUMENT
                              : grpc::StatusCode::RESOURCE_EXHAUSTED,
                          absl::StrCat("object ", id, ": ", s.message()));
    }
  } while (reader->Read(&chunk));
  if (room->filled() != total) {
    return grpc::Status(
        grpc::StatusCode::DATA_LOSS,
        absl::StrCat("got ", room->filled(), " of ", total, " bytes"));
  }
  store_.Put(id, std::move(*room).Finish());
  reply->set_id(id);
  reply->set_size(total);
  return grpc::Status::OK;
}

grpc::Status DataService::StoreShared(const rpc::Chunk& first,
                                      grpc::ServerReader<rpc::Chunk>* reader,
                                      rpc::StoreReply* reply) {
  const uint64_t id = first.id();
  const rpc::SharedHandle& handle = first.shared();
  if (handle.size() != first.total_size() || !first.data().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "a shared-memory store's handle must describe the "
                        "whole object, with no data beside it");
  }
  rpc::Chunk extra;
  if (reader->Read(&extra)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "data after a shared-memory handle");
  }
  // FAILED_PRECONDITION tells the client to stream the object instead.
  if (!shared_memory_) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "shared memory is off on this worker");
  }
  absl::StatusOr<std::unique_ptr<rpc::SharedRegion>> region =
      rpc::SharedRegion::Open(handle);
  if (!region.ok()) {
    return grpc::Status(
        grpc::StatusCode::FAILED_PRECONDITION,
        absl::StrCat("cannot map the offered region of object ", id, ": ",
                     region.status().message()));
  }
  store_.Put(id, rpc::Buffer(*std::move(region)));
  reply->set_id(id);
  reply->set_size(handle.size());
  return grpc::Status::OK;
}

grpc::Status DataService::Call(grpc::ServerContext* context,
                               const rpc::CallRequest* request,
                               rpc::CallReply* reply) {
  if (grpc::Status s = CheckToken(*context); !s.ok()) return s;
  *reply = call_(*request);
  return grpc::Status::OK;
}

}  // namespace weft::worker
