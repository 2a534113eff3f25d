// Copyright 2026 The weft Authors.
//
// DataClient against a scripted holder: the shared-memory path, and the
// quiet fallback to streaming whenever a handle cannot be mapped.

#include "rpc/data_client.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "rpc/buffer.h"
#include "rpc/report_limits.h"
#include "rpc/shared_region.h"
#include "rpc/testing/peak_rss.h"
#include "rpc/weft.grpc.pb.h"

namespace weft::rpc {
namespace {

constexpr uint64_t kId = 42;
constexpr size_t kSize = 3 * kSharedMinBytes + 5;

// What the holder answers a requester that offers to map shared memory.
enum class Answer {
  kHandle,         // its region's handle
  kStaleHandle,    // the handle of a region released before the reply
  kForeignHandle,  // a handle that claims another host
  kStream,         // the bytes, as to a requester on another host
};

// Holds one object in a shared region and answers Fetch as scripted.
// Requests without a host always get the bytes streamed.
class ScriptedHolder final : public Worker::Service {
 public:
  explicit ScriptedHolder(Answer answer) : answer_(answer) {
    BufferBuilder room = BufferBuilder::Allocate(kSize, true);
    for (size_t i = 0; i < kSize; ++i) room.data()[i] = static_cast<char>(i);
    object_ = std::move(room).Finish();
  }

  grpc::Status Fetch(grpc::ServerContext*, const FetchRequest* request,
                     grpc::ServerWriter<Chunk>* writer) override {
    ++calls_;
    if (request->id() != kId) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such object");
    }
    if (!request->host().empty() && answer_ != Answer::kStream) {
      Chunk chunk;
      chunk.set_id(kId);
      chunk.set_total_size(kSize);
      if (answer_ == Answer::kStaleHandle) {
        BufferBuilder other = BufferBuilder::Allocate(kSize, true);
        Buffer released = std::move(other).Finish();
        *chunk.mutable_shared() = released.region()->handle();
      } else {
        *chunk.mutable_shared() = object_.region()->handle();
        if (answer_ == Answer::kForeignHandle) {
          chunk.mutable_shared()->set_host("some other machine");
        }
      }
      writer->Write(chunk);
      return grpc::Status::OK;
    }
    for (size_t offset = 0; offset < kSize; offset += kChunkBytes) {
      Chunk chunk;
      if (offset == 0) {
        chunk.set_id(kId);
        chunk.set_total_size(kSize);
      }
      chunk.set_data(object_.data() + offset,
                     std::min(kChunkBytes, kSize - offset));
      writer->Write(chunk);
    }
    return grpc::Status::OK;
  }

  int calls() const { return calls_; }
  const Buffer& object() const { return object_; }

 private:
  const Answer answer_;
  Buffer object_;
  std::atomic<int> calls_{0};
};

class DataClientTest : public ::testing::TestWithParam<Answer> {
 protected:
  void Start(Answer answer) {
    holder_ = std::make_unique<ScriptedHolder>(answer);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(holder_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    address_ = absl::StrCat("127.0.0.1:", port);
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  // Starts a holder answering `answer`, and fetches its object as a buffer
  // with a new `client_`, which offers shared memory when `shared`; the
  // process's fetch counts just before are in `before_`.
  absl::StatusOr<Buffer> StartAndFetch(Answer answer, bool shared) {
    Start(answer);
    client_ =
        std::make_unique<DataClient>("token", std::chrono::seconds(10), shared);
    before_ = DataClient::ProcessFetchCounts();
    return client_->FetchBuffer(address_, kId);
  }
  // Whether `client_` fetches the object as a string, whole.
  bool FetchesTheString() {
    absl::StatusOr<std::string> copy = client_->Fetch(address_, kId);
    return copy.ok() && SameBytes(*copy);
  }

  bool SameBytes(std::string_view got) const {
    return got == holder_->object().view();
  }

  std::unique_ptr<ScriptedHolder> holder_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::unique_ptr<DataClient> client_;
  FetchCounts before_;
};

TEST_F(DataClientTest, SameHostHolderIsMappedNotStreamed) {
  absl::StatusOr<Buffer> buffer =
      StartAndFetch(Answer::kHandle, /*shared=*/true);
  ASSERT_TRUE(buffer.ok()) << buffer.status();
  const FetchCounts after = DataClient::ProcessFetchCounts();
  EXPECT_EQ(after.mapped, before_.mapped + 1);
  EXPECT_EQ(after.streamed, before_.streamed);
  EXPECT_EQ(holder_->calls(), 1);
  ASSERT_NE(buffer->region(), nullptr);
  EXPECT_NE(buffer->data(), holder_->object().data());  // its own mapping
  EXPECT_TRUE(SameBytes(buffer->view()));
  // As a string: mapped, then copied out.
  EXPECT_TRUE(FetchesTheString());
  EXPECT_EQ(DataClient::ProcessFetchCounts().mapped, before_.mapped + 2);
}

// Every way a handle can fail to map ends in the stream, with the same bytes.
TEST_P(DataClientTest, UnmappableHandleFallsBackToTheStream) {
  absl::StatusOr<Buffer> buffer = StartAndFetch(GetParam(), /*shared=*/true);
  ASSERT_TRUE(buffer.ok()) << buffer.status();
  EXPECT_TRUE(SameBytes(buffer->view()));
  const FetchCounts after = DataClient::ProcessFetchCounts();
  EXPECT_EQ(after.mapped, before_.mapped);
  EXPECT_EQ(after.streamed, before_.streamed + 1);
  const bool handle_offered = GetParam() != Answer::kStream;
  EXPECT_EQ(after.fallbacks, before_.fallbacks + (handle_offered ? 1 : 0));
  EXPECT_EQ(holder_->calls(), handle_offered ? 2 : 1);
  // A large streamed object lands in shared memory, to be handed on.
  EXPECT_NE(buffer->region(), nullptr);
  EXPECT_TRUE(FetchesTheString());
}

INSTANTIATE_TEST_SUITE_P(Holders, DataClientTest,
                         ::testing::Values(Answer::kStaleHandle,
                                           Answer::kForeignHandle,
                                           Answer::kStream));

TEST_F(DataClientTest, WithoutSharedMemoryNothingIsOfferedOrMapped) {
  absl::StatusOr<Buffer> buffer =
      StartAndFetch(Answer::kHandle, /*shared=*/false);
  ASSERT_TRUE(buffer.ok()) << buffer.status();
  EXPECT_TRUE(SameBytes(buffer->view()));
  EXPECT_EQ(buffer->region(), nullptr);
  const FetchCounts after = DataClient::ProcessFetchCounts();
  EXPECT_EQ(after.mapped, before_.mapped);
  EXPECT_EQ(after.fallbacks, before_.fallbacks);
  EXPECT_EQ(after.streamed, before_.streamed + 1);
  EXPECT_EQ(holder_->calls(), 1);
}

TEST_F(DataClientTest, MissingObjectIsNotFound) {
  Start(Answer::kHandle);
  DataClient client("token", std::chrono::seconds(10), true);
  EXPECT_EQ(client.FetchBuffer(address_, kId + 1).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(client.FetchAnyBuffer({}, kId).status().code(),
            absl::StatusCode::kNotFound);
}

// A holder that announces more than the scheduler recorded is refused
// before anything is taken, and so is one that announces less.
TEST_F(DataClientTest, ASizeOtherThanTheRecordedOneIsDataLoss) {
  for (bool shared : {false, true}) {
    absl::StatusOr<Buffer> right = StartAndFetch(Answer::kStream, shared);
    ASSERT_TRUE(right.ok()) << right.status();
    for (uint64_t recorded : {uint64_t{kSize - 1}, uint64_t{kSize + 1}}) {
      absl::StatusOr<Buffer> wrong =
          client_->FetchBuffer(address_, kId, nullptr, recorded);
      EXPECT_EQ(wrong.status().code(), absl::StatusCode::kDataLoss);
      EXPECT_NE(wrong.status().message().find(
                    absl::StrCat("announced ", kSize,
                                 " bytes, where the scheduler "
                                 "recorded ",
                                 recorded)),
                std::string::npos)
          << wrong.status();
    }
    absl::StatusOr<Buffer> recorded =
        client_->FetchAnyBuffer({address_}, kId, nullptr, kSize);
    ASSERT_TRUE(recorded.ok()) << recorded.status();
    EXPECT_TRUE(SameBytes(recorded->view()));
    TearDown();
  }
}

// Announces `total` bytes for any object, sends three, and ends the reply.
class OverstatingHolder final : public Worker::Service {
 public:
  explicit OverstatingHolder(uint64_t total) : total_(total) {}
  grpc::Status Fetch(grpc::ServerContext*, const FetchRequest* request,
                     grpc::ServerWriter<Chunk>* writer) override {
    Chunk chunk;
    chunk.set_id(request->id());
    chunk.set_total_size(total_);
    chunk.set_data("abc");
    writer->Write(chunk);
    return grpc::Status::OK;
  }

 private:
  const uint64_t total_;
};

// A holder that announces gigabytes, up to the terabyte a fetch accepts,
// and sends three bytes costs the fetcher the memory of three bytes: no
// exception, no allocation of the announced size. (Before: a terabyte
// threw std::bad_alloc out of the fetch, which ended the process, and
// 2 GiB into shared memory allocated and mapped all of it first.)
TEST(DataClientAnnouncementTest, MemoryIsTakenForBytesThatComeNotAnnounced) {
  for (uint64_t total : {uint64_t{2} << 30, kMaxObjectBytes}) {
    for (bool shared : {false, true}) {
      SCOPED_TRACE(absl::StrCat(total, " bytes, shared memory ", shared));
      OverstatingHolder holder(total);
      grpc::ServerBuilder builder;
      int port = 0;
      builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                               &port);
      builder.RegisterService(&holder);
      std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
      ASSERT_NE(server, nullptr);
      DataClient client("token", std::chrono::seconds(10), shared);
      if (!testing::ResetPeakRss()) {
        GTEST_SKIP() << "this kernel does not let a process reset its peak "
                        "resident size (/proc/self/clear_refs)";
      }
      const uint64_t before = testing::PeakRssBytes();
      absl::StatusOr<Buffer> got =
          client.FetchBuffer(absl::StrCat("127.0.0.1:", port), 7);
      EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
      EXPECT_NE(got.status().message().find(
                    absl::StrCat("got 3 of ", total, " bytes")),
                std::string::npos)
          << got.status();
      EXPECT_LT(testing::PeakRssBytes() - before, uint64_t{64} << 20);
      server->Shutdown();
    }
  }
}

}  // namespace
}  // namespace weft::rpc
