// Copyright 2026 The weft Authors.

#include "worker/data_service.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rpc/data_client.h"
#include "rpc/status.h"

namespace weft::worker {

namespace {
// Largest object a peer may store here in one call.
constexpr uint64_t kMaxStoreBytes = uint64_t{64} << 30;
}  // namespace

DataService::DataService(ObjectStore& store, std::string token,
                         CallHandler call)
    : store_(store), token_(std::move(token)), call_(std::move(call)) {}

grpc::Status DataService::Fetch(grpc::ServerContext* context,
                                const rpc::FetchRequest* request,
                                grpc::ServerWriter<rpc::Chunk>* writer) {
  if (grpc::Status s = rpc::CheckToken(*context, token_); !s.ok()) return s;
  ObjectStore::Bytes bytes = store_.Get(request->id());
  if (bytes == nullptr) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        absl::StrCat("object ", request->id(),
                                     " is not on this worker"));
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
  if (grpc::Status s = rpc::CheckToken(*context, token_); !s.ok()) return s;
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
  std::string bytes;
  bytes.reserve(total);
  bytes.append(chunk.data());
  while (reader->Read(&chunk)) {
    if (bytes.size() + chunk.data().size() > total) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "more bytes than announced");
    }
    bytes.append(chunk.data());
  }
  if (bytes.size() != total) {
    return grpc::Status(grpc::StatusCode::DATA_LOSS,
                        absl::StrCat("got ", bytes.size(), " of ", total,
                                     " bytes"));
  }
  store_.Put(id, std::move(bytes));
  reply->set_id(id);
  reply->set_size(total);
  return grpc::Status::OK;
}

grpc::Status DataService::Call(grpc::ServerContext* context,
                               const rpc::CallRequest* request,
                               rpc::CallReply* reply) {
  if (grpc::Status s = rpc::CheckToken(*context, token_); !s.ok()) return s;
  *reply = call_(*request);
  return grpc::Status::OK;
}

}  // namespace weft::worker
