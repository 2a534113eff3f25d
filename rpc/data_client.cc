// Copyright 2026 The weft Authors.

#include "rpc/data_client.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rpc/status.h"

namespace weft::rpc {

grpc::ChannelArguments ChannelArgs() {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // Each channel its own TCP connection: data and control traffic must not
  // queue behind each other.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return args;
}

DataClient::DataClient(std::string token, std::chrono::milliseconds timeout)
    : token_(std::move(token)), timeout_(timeout) {}

std::shared_ptr<grpc::Channel> DataClient::ChannelTo(
    const std::string& address) {
  internal::MutexLock lock(&mu_);
  auto& channel = channels_[address];
  if (channel == nullptr) {
    channel = grpc::CreateCustomChannel(
        address, grpc::InsecureChannelCredentials(), ChannelArgs());
  }
  return channel;
}

Worker::Stub& DataClient::StubFor(const std::string& address) {
  std::shared_ptr<grpc::Channel> channel = ChannelTo(address);
  internal::MutexLock lock(&mu_);
  auto& stub = stubs_[address];
  if (stub == nullptr) stub = Worker::NewStub(channel);
  return *stub;
}

std::unique_ptr<grpc::ClientContext> DataClient::NewContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + timeout_);
  AttachToken(*context, token_);
  return context;
}

absl::StatusOr<std::string> DataClient::Fetch(const std::string& address,
                                              uint64_t id) {
  auto context = NewContext();
  FetchRequest request;
  request.set_id(id);
  auto reader = StubFor(address).Fetch(context.get(), request);
  std::string bytes;
  uint64_t total = 0;
  bool first = true;
  Chunk chunk;
  while (reader->Read(&chunk)) {
    if (first) {
      total = chunk.total_size();
      bytes.reserve(total);
      first = false;
    }
    bytes.append(chunk.data());
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) {
    absl::Status s = FromGrpc(status);
    return absl::Status(s.code(), absl::StrCat("fetching object ", id,
                                               " from ", address, ": ",
                                               s.message()));
  }
  if (first || bytes.size() != total) {
    return absl::DataLossError(absl::StrCat("object ", id, " from ", address,
                                            ": got ", bytes.size(), " of ",
                                            total, " bytes"));
  }
  return bytes;
}

absl::StatusOr<std::string> DataClient::FetchAny(
    const std::vector<std::string>& addresses, uint64_t id) {
  absl::Status last = absl::NotFoundError(
      absl::StrCat("object ", id, " has no known holder"));
  for (const std::string& address : addresses) {
    absl::StatusOr<std::string> bytes = Fetch(address, id);
    if (bytes.ok()) return bytes;
    last = bytes.status();
  }
  return last;
}

absl::Status DataClient::Store(const std::string& address, uint64_t id,
                               const std::string& bytes) {
  auto context = NewContext();
  StoreReply reply;
  auto writer = StubFor(address).Store(context.get(), &reply);
  size_t offset = 0;
  do {
    Chunk chunk;
    if (offset == 0) {
      chunk.set_id(id);
      chunk.set_total_size(bytes.size());
    }
    const size_t n = std::min(kChunkBytes, bytes.size() - offset);
    chunk.set_data(bytes.data() + offset, n);
    offset += n;
    if (!writer->Write(chunk)) break;
  } while (offset < bytes.size());
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!status.ok()) {
    absl::Status s = FromGrpc(status);
    return absl::Status(s.code(), absl::StrCat("storing object ", id, " on ",
                                               address, ": ", s.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<CallReply> DataClient::Call(const std::string& address,
                                           const CallRequest& request) {
  auto context = NewContext();
  CallReply reply;
  grpc::Status status = StubFor(address).Call(context.get(), request, &reply);
  if (!status.ok()) {
    absl::Status s = FromGrpc(status);
    return absl::Status(s.code(), absl::StrCat("calling ", request.function(),
                                               " on ", address, ": ",
                                               s.message()));
  }
  return reply;
}

}  // namespace weft::rpc
