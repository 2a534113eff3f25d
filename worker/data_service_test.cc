// Copyright 2026 The weft Authors.
//
// DataService in one process: who gets a shared-memory handle and who gets
// the bytes, and where stored objects land.

#include "worker/data_service.h"

#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "rpc/buffer.h"
#include "rpc/data_client.h"
#include "rpc/shared_region.h"
#include "rpc/status.h"
#include "rpc/testing/peak_rss.h"
#include "rpc/token.h"
#include "rpc/weft.grpc.pb.h"
#include "worker/object_store.h"

namespace weft::worker {
namespace {

constexpr char kToken[] = "secret";
constexpr uint64_t kLarge = 1;  // in shared memory
constexpr uint64_t kSmall = 2;  // in ordinary memory
constexpr size_t kLargeSize = 2 * rpc::kSharedMinBytes + 3;

class DataServiceTest : public ::testing::Test {
 protected:
  void Start(bool shared_memory) {
    rpc::BufferBuilder room = rpc::BufferBuilder::Allocate(kLargeSize, true);
    ASSERT_TRUE(room.in_shared_memory());
    for (size_t i = 0; i < kLargeSize; ++i) {
      room.data()[i] = static_cast<char>(i * 7);
    }
    store_.Put(kLarge, std::move(room).Finish());
    store_.Put(kSmall, "small");
    service_ = std::make_unique<DataService>(
        store_, kToken, [](const rpc::CallRequest&) { return rpc::CallReply(); },
        shared_memory);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    address_ = absl::StrCat("127.0.0.1:", port);
    stub_ = rpc::Worker::NewStub(grpc::CreateChannel(
        address_, grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  // The raw reply chunks for a Fetch of `id` offering `host`.
  std::vector<rpc::Chunk> RawFetch(uint64_t id, const std::string& host) {
    grpc::ClientContext context;
    rpc::AttachToken(context, kToken);
    rpc::FetchRequest request;
    request.set_id(id);
    request.set_host(host);
    auto reader = stub_->Fetch(&context, request);
    std::vector<rpc::Chunk> chunks;
    rpc::Chunk chunk;
    while (reader->Read(&chunk)) chunks.push_back(chunk);
    EXPECT_TRUE(reader->Finish().ok());
    return chunks;
  }

  ObjectStore store_;
  std::unique_ptr<DataService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::unique_ptr<rpc::Worker::Stub> stub_;
};

TEST_F(DataServiceTest, OnlySameHostRequestersGetAHandle) {
  Start(true);
  std::vector<rpc::Chunk> same = RawFetch(kLarge, rpc::LocalHostId());
  ASSERT_EQ(same.size(), 1u);
  ASSERT_TRUE(same[0].has_shared());
  EXPECT_TRUE(same[0].data().empty());
  EXPECT_EQ(same[0].total_size(), kLargeSize);
  EXPECT_EQ(same[0].shared().size(), kLargeSize);
  EXPECT_EQ(same[0].shared().pid(), ::getpid());
  absl::StatusOr<std::unique_ptr<rpc::SharedRegion>> mapped =
      rpc::SharedRegion::Open(same[0].shared());
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  EXPECT_EQ(std::string_view((*mapped)->data(), kLargeSize),
            store_.Get(kLarge)->view());

  for (const std::string& host : {std::string(), std::string("elsewhere")}) {
    std::vector<rpc::Chunk> streamed = RawFetch(kLarge, host);
    ASSERT_EQ(streamed.size(), 3u) << host;  // 1 MiB chunks
    std::string bytes;
    for (const rpc::Chunk& c : streamed) {
      EXPECT_FALSE(c.has_shared());
      bytes += c.data();
    }
    EXPECT_EQ(bytes, store_.Get(kLarge)->view());
  }
  // Small objects are never in shared memory: always streamed.
  std::vector<rpc::Chunk> small = RawFetch(kSmall, rpc::LocalHostId());
  ASSERT_EQ(small.size(), 1u);
  EXPECT_FALSE(small[0].has_shared());
  EXPECT_EQ(small[0].data(), "small");
}

TEST_F(DataServiceTest, DataClientMapsFromASameHostWorker) {
  Start(true);
  rpc::DataClient client(kToken, std::chrono::seconds(10), true);
  const rpc::FetchCounts before = rpc::DataClient::ProcessFetchCounts();
  absl::StatusOr<rpc::Buffer> large = client.FetchBuffer(address_, kLarge);
  ASSERT_TRUE(large.ok()) << large.status();
  EXPECT_NE(large->region(), nullptr);
  EXPECT_EQ(large->view(), store_.Get(kLarge)->view());
  absl::StatusOr<rpc::Buffer> small = client.FetchBuffer(address_, kSmall);
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->view(), "small");
  const rpc::FetchCounts after = rpc::DataClient::ProcessFetchCounts();
  EXPECT_EQ(after.mapped, before.mapped + 1);
  EXPECT_EQ(after.streamed, before.streamed + 1);
  EXPECT_EQ(after.fallbacks, before.fallbacks);
  // A wrong token still gets nothing.
  rpc::DataClient intruder("wrong", std::chrono::seconds(10), true);
  EXPECT_EQ(intruder.FetchBuffer(address_, kLarge).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(DataServiceTest, StoredObjectsLandInSharedMemoryWhenEnabled) {
  for (bool shared : {true, false}) {
    SCOPED_TRACE(shared);
    store_.Erase(kLarge);
    store_.Erase(kSmall);
    if (server_ != nullptr) server_->Shutdown();
    Start(shared);
    rpc::DataClient client(kToken, std::chrono::seconds(10), shared);
    const std::string bytes(kLargeSize, 'p');
    ASSERT_TRUE(client.Store(address_, 10, rpc::Buffer(bytes)).ok());
    ASSERT_TRUE(client.Store(address_, 11, rpc::Buffer("tiny")).ok());
    std::optional<rpc::Buffer> stored = store_.Get(10);
    ASSERT_TRUE(stored.has_value());
    EXPECT_EQ(stored->view(), bytes);
    EXPECT_EQ(stored->region() != nullptr, shared);
    EXPECT_EQ(store_.Get(11)->region(), nullptr);
    EXPECT_EQ(store_.shared_bytes(), shared ? 2 * kLargeSize : kLargeSize);
    store_.Erase(10);
    store_.Erase(11);
  }
}

// A region-backed buffer (as put() makes) in shared memory, `size` bytes of
// a pattern.
rpc::Buffer RegionBuffer(size_t size) {
  rpc::BufferBuilder room = rpc::BufferBuilder::Allocate(size, true);
  EXPECT_TRUE(room.in_shared_memory());
  for (size_t i = 0; i < size; ++i) room.data()[i] = static_cast<char>(i % 251);
  return std::move(room).Finish();
}

TEST_F(DataServiceTest, ASameHostStoreHandsOverTheRegionWithoutACopy) {
  Start(true);
  rpc::DataClient client(kToken, std::chrono::seconds(10), true);
  const rpc::Buffer bytes = RegionBuffer(kLargeSize);
  const rpc::FetchCounts before = rpc::DataClient::ProcessStoreCounts();
  ASSERT_TRUE(client.Store(address_, 20, bytes).ok());
  const rpc::FetchCounts after = rpc::DataClient::ProcessStoreCounts();
  EXPECT_EQ(after.mapped, before.mapped + 1);
  EXPECT_EQ(after.streamed, before.streamed);
  std::optional<rpc::Buffer> stored = store_.Get(20);
  ASSERT_TRUE(stored.has_value());
  ASSERT_NE(stored->region(), nullptr);
  // The worker's own mapping of the same memory (the same file), not a copy.
  EXPECT_EQ(stored->region()->handle().inode(),
            bytes.region()->handle().inode());
  EXPECT_EQ(stored->view(), bytes.view());
}

TEST_F(DataServiceTest, AWorkerThatCannotMapARegionGetsItStreamed) {
  Start(/*shared_memory=*/false);
  rpc::DataClient client(kToken, std::chrono::seconds(10), true);
  const rpc::Buffer bytes = RegionBuffer(kLargeSize);
  const rpc::FetchCounts before = rpc::DataClient::ProcessStoreCounts();
  ASSERT_TRUE(client.Store(address_, 21, bytes).ok());
  rpc::FetchCounts after = rpc::DataClient::ProcessStoreCounts();
  EXPECT_EQ(after.fallbacks, before.fallbacks + 1);
  EXPECT_EQ(after.streamed, before.streamed + 1);
  ASSERT_TRUE(store_.Get(21).has_value());
  EXPECT_EQ(store_.Get(21)->view(), bytes.view());
  EXPECT_EQ(store_.Get(21)->region(), nullptr);
  // The next region for this worker streams at once, without a refusal.
  ASSERT_TRUE(client.Store(address_, 22, bytes).ok());
  after = rpc::DataClient::ProcessStoreCounts();
  EXPECT_EQ(after.fallbacks, before.fallbacks + 1);
  EXPECT_EQ(after.streamed, before.streamed + 2);
  EXPECT_EQ(store_.Get(22)->view(), bytes.view());
}

TEST_F(DataServiceTest, BadSharedStoresAreRefusedAndStoreNothing) {
  Start(true);
  const rpc::Buffer bytes = RegionBuffer(kLargeSize);
  auto raw_store = [&](const rpc::Chunk& first, bool extra_chunk) {
    grpc::ClientContext context;
    rpc::AttachToken(context, kToken);
    rpc::StoreReply reply;
    auto writer = stub_->Store(&context, &reply);
    writer->Write(first);
    if (extra_chunk) {
      rpc::Chunk more;
      more.set_data("xyz");
      writer->Write(more);
    }
    writer->WritesDone();
    return writer->Finish();
  };
  rpc::Chunk first;
  first.set_id(30);
  first.set_total_size(bytes.size());
  *first.mutable_shared() = bytes.region()->handle();
  // A handle that does not describe the whole object.
  rpc::Chunk wrong_size = first;
  wrong_size.set_total_size(bytes.size() + 1);
  EXPECT_EQ(raw_store(wrong_size, false).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // Data after the handle.
  EXPECT_EQ(raw_store(first, true).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // A handle naming a descriptor the holder does not have.
  rpc::Chunk bogus = first;
  bogus.mutable_shared()->set_fd(99999);
  const grpc::Status refused = raw_store(bogus, false);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(refused.error_message().find("object 30"), std::string::npos);
  // Another host's handle.
  rpc::Chunk elsewhere = first;
  elsewhere.mutable_shared()->set_host("another-host");
  EXPECT_EQ(raw_store(elsewhere, false).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_FALSE(store_.Get(30).has_value());
  // The well-formed one is taken.
  EXPECT_TRUE(raw_store(first, false).ok());
  EXPECT_EQ(store_.Get(30)->view(), bytes.view());
}

// A store's first chunk announcing `total` bytes, with `data`; then the
// stream ends. Returns the store's status.
grpc::Status AnnouncedStore(rpc::Worker::Stub& stub, uint64_t id,
                            uint64_t total, const std::string& data) {
  grpc::ClientContext context;
  rpc::AttachToken(context, kToken);
  rpc::StoreReply reply;
  auto writer = stub.Store(&context, &reply);
  rpc::Chunk first;
  first.set_id(id);
  first.set_total_size(total);
  first.set_data(data);
  writer->Write(first);
  writer->WritesDone();
  return writer->Finish();
}

// A store that announces gigabytes and sends a few bytes commits memory
// for the bytes, not the announcement. (Before: a shared region of the
// whole size, allocated and mapped in, 2 GiB of this process's resident
// memory, before the first byte was read.)
TEST_F(DataServiceTest, AStoreAnnouncingGigabytesCommitsOnlyWhatArrives) {
  Start(true);
  if (!rpc::testing::ResetPeakRss()) {
    GTEST_SKIP() << "this kernel does not let a process reset its peak "
                    "resident size (/proc/self/clear_refs)";
  }
  const uint64_t before = rpc::testing::PeakRssBytes();
  const grpc::Status s = AnnouncedStore(*stub_, 40, uint64_t{2} << 30, "abcd");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DATA_LOSS) << s.error_message();
  EXPECT_NE(s.error_message().find("got 4 of 2147483648 bytes"),
            std::string::npos)
      << s.error_message();
  EXPECT_LT(rpc::testing::PeakRssBytes() - before, uint64_t{64} << 20);
  EXPECT_FALSE(store_.Get(40).has_value());
}

// An announcement larger than the machine's memory (but under the
// worker's limit) is refused or runs out of bytes; it never ends the
// worker. (Before: std::bad_alloc thrown out of the handler, which ended
// the process.)
TEST_F(DataServiceTest, AStoreAnnouncingMoreThanTheMachineHasIsNotFatal) {
  for (bool shared : {false, true}) {
    SCOPED_TRACE(shared ? "shared memory on" : "shared memory off");
    Start(shared);
    const grpc::Status s =
        AnnouncedStore(*stub_, 41, uint64_t{60} << 30, "abcd");
    EXPECT_TRUE(s.error_code() == grpc::StatusCode::DATA_LOSS ||
                s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED)
        << s.error_message();
    EXPECT_FALSE(store_.Get(41).has_value());
    // The service still stores what is sent whole.
    EXPECT_TRUE(AnnouncedStore(*stub_, 42, 4, "wxyz").ok());
    EXPECT_EQ(store_.Get(42)->view(), "wxyz");
    store_.Erase(42);
    TearDown();
  }
}

}  // namespace
}  // namespace weft::worker
