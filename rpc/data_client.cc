// Copyright 2026 The weft Authors.

#include "rpc/data_client.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rpc/bulk_transfer.h"
#include "rpc/report_limits.h"
#include "rpc/status.h"
#include "rpc/tls.h"
#include "rpc/token.h"

namespace weft::rpc {
namespace {

// How this process's fetches, and its stores, went.
struct Counters {
  std::atomic<uint64_t> mapped{0};
  std::atomic<uint64_t> streamed{0};
  std::atomic<uint64_t> bulk{0};
  std::atomic<uint64_t> fallbacks{0};

  FetchCounts Snapshot() const {
    FetchCounts counts;
    counts.mapped = mapped.load();
    counts.streamed = streamed.load();
    counts.bulk = bulk.load();
    counts.fallbacks = fallbacks.load();
    return counts;
  }
};
Counters fetches;
Counters stores;

// The host part of "host:port" (brackets of an IPv6 host kept).
std::string HostOf(const std::string& address) {
  const size_t colon = address.rfind(':');
  return colon == std::string::npos ? address : address.substr(0, colon);
}

}  // namespace

bool BulkTransferEnabled() {
  static const bool enabled = [] {
    const char* env = std::getenv("WEFT_BULK_TRANSFER");
    return env == nullptr || std::string_view(env) != "0";
  }();
  return enabled;
}

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
  AddTlsChannelArgs(args);
  return args;
}

DataClient::DataClient(std::string token, std::chrono::milliseconds timeout,
                       bool shared_memory)
    : timeout_(timeout), shared_memory_(shared_memory), token_(std::move(token)) {}

void DataClient::set_token(std::string token) {
  internal::MutexLock lock(&mu_);
  token_ = std::move(token);
}

std::shared_ptr<grpc::Channel> DataClient::ChannelTo(
    const std::string& address) {
  internal::MutexLock lock(&mu_);
  auto& channel = channels_[address];
  if (channel == nullptr) {
    // (Broken TLS files cannot reach here: this process's servers and its
    // connection to the scheduler checked them first; a peer would refuse
    // these insecure credentials anyway.)
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
        ProcessChannelCredentials();
    channel = grpc::CreateCustomChannel(
        address,
        credentials.ok() ? *credentials : grpc::InsecureChannelCredentials(),
        ChannelArgs());
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
  internal::MutexLock lock(&mu_);
  AttachToken(*context, token_);
  return context;
}

struct DataClient::Fetched {
  // A whole buffer: the holder's region mapped, or read from its bulk
  // port.
  std::optional<Buffer> whole;
  bool mapped = false;  // `whole` is a mapping of the holder's region
  std::optional<BufferBuilder> streamed;  // otherwise, complete
};

FetchCounts DataClient::ProcessStoreCounts() { return stores.Snapshot(); }

FetchCounts DataClient::ProcessFetchCounts() { return fetches.Snapshot(); }

absl::StatusOr<DataClient::Fetched> DataClient::FetchOnce(
    const std::string& address, uint64_t id, bool offer_shared,
    bool stream_to_shared, std::optional<uint64_t> expected_size) {
  auto context = NewContext();
  FetchRequest request;
  request.set_id(id);
  if (offer_shared) request.set_host(LocalHostId());
  bool offer_bulk = BulkTransferEnabled();
  if (offer_bulk) {
    internal::MutexLock lock(&mu_);
    offer_bulk = !no_bulk_.contains(address);
  }
  request.set_bulk(offer_bulk);
  auto reader = StubFor(address).Fetch(context.get(), request);
  std::optional<SharedHandle> handle;
  std::optional<BulkOffer> bulk;
  std::optional<BufferBuilder> room;
  uint64_t total = 0;
  bool first = true;
  std::string malformed;  // why the reply cannot be used, if it cannot
  absl::Status no_room;   // no memory for the bytes announced or sent
  Chunk chunk;
  while (malformed.empty() && no_room.ok() && reader->Read(&chunk)) {
    if (first) {
      first = false;
      total = chunk.total_size();
      if (expected_size.has_value() && total != *expected_size) {
        malformed = absl::StrCat("announced ", total,
                                 " bytes, where the scheduler recorded ",
                                 *expected_size);
        break;
      }
      if (chunk.has_shared()) {
        handle = chunk.shared();
      } else if (chunk.has_bulk() && offer_bulk) {
        bulk = chunk.bulk();
        if (total > kMaxObjectBytes) {
          malformed = absl::StrCat("announced ", total, " bytes");
          break;
        }
      } else if (total > kMaxObjectBytes) {
        malformed = absl::StrCat("announced ", total, " bytes");
        break;
      } else {
        // Memory for the bytes as they come, not for the announcement.
        absl::StatusOr<BufferBuilder> reserved =
            BufferBuilder::Reserve(total, stream_to_shared);
        if (!reserved.ok()) {
          no_room = reserved.status();
          break;
        }
        room.emplace(*std::move(reserved));
      }
    }
    const std::string& data = chunk.data();
    if ((handle.has_value() || bulk.has_value()) && !data.empty()) {
      malformed = handle.has_value() ? "bytes after a shared-memory handle"
                                     : "bytes after a bulk offer";
    } else if (room.has_value()) {
      if (absl::Status s = room->Append(data); !s.ok()) {
        if (absl::IsOutOfRange(s)) {
          malformed = std::string(s.message());
        } else {
          no_room = s;
        }
      }
    }
  }
  if (!malformed.empty() || !no_room.ok()) context->TryCancel();
  grpc::Status status = reader->Finish();
  if (!malformed.empty()) {
    return absl::DataLossError(absl::StrCat("object ", id, " from ", address,
                                            ": ", malformed));
  }
  if (!no_room.ok()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("object ", id, " from ", address, " (", total,
                     " bytes): ", no_room.message()));
  }
  if (!status.ok()) {
    absl::Status s = FromGrpc(status);
    return absl::Status(s.code(), absl::StrCat("fetching object ", id,
                                               " from ", address, ": ",
                                               s.message()));
  }
  if (bulk.has_value()) {
    absl::StatusOr<Buffer> bytes = BulkFetch(
        HostOf(address), static_cast<int>(bulk->port()), bulk->ticket(), total,
        absl::Now() + absl::FromChrono(timeout_));
    if (absl::IsUnavailable(bytes.status()) ||
        absl::IsNotFound(bytes.status())) {
      // A firewall in the way, or an offer gone: the stream still works,
      // and is used for this holder from now on.
      fetches.fallbacks.fetch_add(1);
      {
        internal::MutexLock lock(&mu_);
        no_bulk_.insert(address);
      }
      return FetchOnce(address, id, offer_shared, stream_to_shared,
                       expected_size);
    }
    if (!bytes.ok()) {
      return absl::Status(bytes.status().code(),
                          absl::StrCat("fetching object ", id, " from ",
                                       address, ": ",
                                       bytes.status().message()));
    }
    fetches.bulk.fetch_add(1);
    Fetched fetched;
    fetched.whole.emplace(*std::move(bytes));
    return fetched;
  }
  if (handle.has_value()) {
    absl::StatusOr<std::unique_ptr<SharedRegion>> region =
        handle->size() == total
            ? SharedRegion::Open(*handle)
            : absl::DataLossError("handle size differs from the object's");
    if (!region.ok()) {
      // Released meanwhile, another host after all, /proc refusing, no
      // descriptors: the stream still works.
      fetches.fallbacks.fetch_add(1);
      return FetchOnce(address, id, /*offer_shared=*/false, stream_to_shared,
                       expected_size);
    }
    fetches.mapped.fetch_add(1);
    Fetched fetched;
    fetched.whole.emplace(*std::move(region));
    fetched.mapped = true;
    return fetched;
  }
  const uint64_t received = room.has_value() ? room->filled() : 0;
  if (first || received != total) {
    return absl::DataLossError(absl::StrCat("object ", id, " from ", address,
                                            ": got ", received, " of ",
                                            total, " bytes"));
  }
  fetches.streamed.fetch_add(1);
  Fetched fetched;
  fetched.streamed = std::move(room);
  return fetched;
}

absl::StatusOr<Buffer> DataClient::FetchBuffer(
    const std::string& address, uint64_t id, FetchInfo* info,
    std::optional<uint64_t> expected_size) {
  absl::StatusOr<Fetched> fetched =
      FetchOnce(address, id, shared_memory_, shared_memory_, expected_size);
  if (!fetched.ok()) return fetched.status();
  if (info != nullptr) {
    info->address = address;
    info->mapped = fetched->mapped;
  }
  if (fetched->whole.has_value()) return *std::move(fetched->whole);
  return std::move(*fetched->streamed).Finish();
}

absl::StatusOr<std::string> DataClient::Fetch(const std::string& address,
                                              uint64_t id) {
  absl::StatusOr<Fetched> fetched = FetchOnce(
      address, id, shared_memory_, /*stream_to_shared=*/false, std::nullopt);
  if (!fetched.ok()) return fetched.status();
  if (fetched->whole.has_value()) return std::string(fetched->whole->view());
  return std::move(*fetched->streamed).TakeString();
}

absl::StatusOr<Buffer> DataClient::FetchAnyBuffer(
    const std::vector<std::string>& addresses, uint64_t id, FetchInfo* info,
    std::optional<uint64_t> expected_size) {
  absl::Status last = absl::NotFoundError(
      absl::StrCat("object ", id, " has no known holder"));
  for (const std::string& address : addresses) {
    absl::StatusOr<Buffer> bytes =
        FetchBuffer(address, id, info, expected_size);
    if (bytes.ok()) return bytes;
    last = bytes.status();
  }
  return last;
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
                               const Buffer& bytes) {
  bool offer_shared = bytes.region() != nullptr;
  if (offer_shared) {
    internal::MutexLock lock(&mu_);
    offer_shared = !no_shared_store_.contains(address);
  }
  if (offer_shared) {
    // The worker maps the region before it answers.
    absl::Status s = StoreOnce(address, id, bytes.view(), bytes.region());
    if (s.code() != absl::StatusCode::kFailedPrecondition) {
      if (s.ok()) stores.mapped.fetch_add(1);
      return s;
    }
    stores.fallbacks.fetch_add(1);
    internal::MutexLock lock(&mu_);
    no_shared_store_.insert(address);
  }
  absl::Status s = StoreOnce(address, id, bytes.view(), nullptr);
  if (s.ok()) stores.streamed.fetch_add(1);
  return s;
}

absl::Status DataClient::StoreOnce(const std::string& address, uint64_t id,
                                   std::string_view bytes,
                                   const SharedRegion* region) {
  auto context = NewContext();
  StoreReply reply;
  auto writer = StubFor(address).Store(context.get(), &reply);
  if (region != nullptr) {
    Chunk chunk;
    chunk.set_id(id);
    chunk.set_total_size(bytes.size());
    *chunk.mutable_shared() = region->handle();
    writer->Write(chunk);
  } else {
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
  }
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
