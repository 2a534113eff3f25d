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
    ASSERT_TRUE(client.Store(address_, 10, bytes).ok());
    ASSERT_TRUE(client.Store(address_, 11, "tiny").ok());
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

}  // namespace
}  // namespace weft::worker
