// Copyright 2026 The weft Authors.
//
// The client's traffic to the scheduler (rpc/cluster_runtime.h), against a
// scheduler faked in the process through the in-process link
// (rpc/local_link.h): what goes out, in how many messages.

#include "rpc/cluster_runtime.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "rpc/local_link.h"
#include "rpc/weft.pb.h"
#include "weft/internal/client_impl.h"
#include "weft/weft.h"

namespace {

int64_t Twice(int64_t x) { return 2 * x; }
WEFT_REMOTE(Twice);

using weft::rpc::ClientMessage;
using weft::rpc::LocalClientPeer;

// Records every message the client sends; answers requests with an empty
// reply.
class RecordingScheduler final : public weft::rpc::LocalLink {
 public:
  absl::StatusOr<uint64_t> Connect(
      const std::string&, std::shared_ptr<LocalClientPeer> peer) override {
    std::lock_guard<std::mutex> lock(mu_);
    peer_ = std::move(peer);
    return 1;
  }
  bool Deliver(uint64_t, const ClientMessage& message) override {
    std::shared_ptr<LocalClientPeer> peer;
    {
      std::lock_guard<std::mutex> lock(mu_);
      messages_.push_back(message);
      if (message.request_id() == 0) return true;
      peer = peer_;
    }
    weft::rpc::SchedulerToClient reply;
    reply.set_request_id(message.request_id());
    peer->OnMessage(reply);
    return true;
  }
  void Disconnect(uint64_t) override {
    std::lock_guard<std::mutex> lock(mu_);
    peer_.reset();
  }

  // How many messages carried releases, and how many releases in all.
  void CountReleases(int* messages, int* releases) {
    std::lock_guard<std::mutex> lock(mu_);
    *messages = 0;
    *releases = 0;
    for (const ClientMessage& m : messages_) {
      if (m.release_size() > 0) ++*messages;
      *releases += m.release_size();
    }
  }
  // How many tasks each message submitted (those that submitted any), and
  // the ids submitted, in the order they went.
  std::vector<int> SubmitSizes(std::vector<uint64_t>* ids) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<int> sizes;
    for (const ClientMessage& m : messages_) {
      if (m.submit_size() == 0) continue;
      sizes.push_back(m.submit_size());
      for (const weft::rpc::TaskDef& t : m.submit()) ids->push_back(t.id());
    }
    return sizes;
  }
  // The ids released, in the order they went.
  std::vector<uint64_t> Released() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<uint64_t> ids;
    for (const ClientMessage& m : messages_) {
      ids.insert(ids.end(), m.release().begin(), m.release().end());
    }
    return ids;
  }

 private:
  std::mutex mu_;
  std::shared_ptr<LocalClientPeer> peer_;
  std::vector<ClientMessage> messages_;
};

class ClusterRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    scheduler_ = std::make_shared<RecordingScheduler>();
    absl::StatusOr<std::unique_ptr<weft::rpc::ClusterRuntime>> runtime =
        weft::rpc::ClusterRuntime::ConnectLocal(scheduler_, "fake:1", "token",
                                                "cluster_runtime_test");
    ASSERT_TRUE(runtime.ok()) << runtime.status();
    client_ = weft::internal::ClientImpl::Handle(
        std::make_shared<weft::internal::ClientImpl>(*std::move(runtime)));
  }

  // Waits up to `timeout` for `releases` releases to have gone out.
  bool WaitForReleases(int releases, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      int messages = 0;
      int sent = 0;
      scheduler_->CountReleases(&messages, &sent);
      if (sent >= releases) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  std::shared_ptr<RecordingScheduler> scheduler_;
  std::optional<weft::Client> client_;
};

// Dropping a map's references sends their releases in a few messages, not
// one each (each message cost the client a system call and the scheduler a
// wake-up: 214,057 sends for a 500,000-task map in the scale benchmark).
TEST_F(ClusterRuntimeTest, DroppingManyReferencesSendsFewMessages) {
  constexpr int kRefs = 20000;
  std::vector<int64_t> xs(kRefs, 1);
  {
    std::vector<weft::ObjectRef<int64_t>> refs = client_->map(Twice, xs);
    ASSERT_EQ(refs.size(), static_cast<size_t>(kRefs));
  }
  ASSERT_TRUE(WaitForReleases(kRefs, std::chrono::seconds(10)));
  int messages = 0;
  int releases = 0;
  scheduler_->CountReleases(&messages, &releases);
  EXPECT_EQ(releases, kRefs);
  // A message a millisecond while they die (a few milliseconds here, more
  // on a loaded machine); one each would be 20,000.
  EXPECT_LE(messages, kRefs / 100);
}

// A map larger than a piece goes in full pieces as it is made, then the
// rest, in the map's order, each task once.
TEST_F(ClusterRuntimeTest, ALargeMapGoesInPieces) {
  constexpr int kPiece = weft::rpc::ClusterRuntime::kSubmitPiece;
  std::vector<int64_t> xs(2 * kPiece + 5, 1);
  std::vector<weft::ObjectRef<int64_t>> refs = client_->map(Twice, xs);
  std::vector<uint64_t> ids;
  EXPECT_EQ(scheduler_->SubmitSizes(&ids),
            (std::vector<int>{kPiece, kPiece, 5}));
  ASSERT_EQ(ids.size(), refs.size());
  for (size_t i = 0; i < refs.size(); ++i) {
    ASSERT_EQ(ids[i], refs[i].id()) << "task " << i;
  }
}

// A release with nothing else to send goes on its own, within the linger.
TEST_F(ClusterRuntimeTest, ALoneReleaseGoesOut) {
  uint64_t id = 0;
  {
    weft::ObjectRef<int64_t> ref = client_->remote(Twice)(int64_t{3});
    id = ref.id();
  }
  ASSERT_TRUE(WaitForReleases(1, std::chrono::seconds(10)));
  EXPECT_EQ(scheduler_->Released(), std::vector<uint64_t>{id});
}

// A release waiting for company goes with the next thing the client
// sends, ahead of it.
TEST_F(ClusterRuntimeTest, AWaitingReleaseTravelsWithTheNextMessage) {
  uint64_t first = 0;
  {
    weft::ObjectRef<int64_t> ref = client_->remote(Twice)(int64_t{3});
    first = ref.id();
  }
  // A request goes at once and takes the release along (or the linger sent
  // it first): either way it has gone by the time the request returns.
  (void)client_->workers();
  EXPECT_EQ(scheduler_->Released(), std::vector<uint64_t>{first});
}

}  // namespace
