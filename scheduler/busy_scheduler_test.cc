// Copyright 2026 The weft Authors.
//
// A busy scheduler never drops a healthy worker. The scheduler here has a
// heartbeat timeout of one second (Options::state.heartbeat_timeout, the
// test seam), far less than it takes to handle what this test floods it
// with: one client message of more than 256 MiB (a million tasks) while 50
// workers leave at once. Twenty healthy workers (SimWorkers: the real
// handshake and frame streams) keep sending heartbeats every 100 ms all
// along; their messages wait while the scheduler is busy, and it must
// count them (stamped when they arrive, or still unread on the socket)
// instead of removing the workers. Removals are counted by why
// (SchedulerService::removals()).

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "rpc/event_loop.h"
#include "rpc/grpc_peer_stream.h"
#include "rpc/join.h"
#include "rpc/token.h"
#include "rpc/weft.grpc.pb.h"
#include "scheduler/scheduler_service.h"
#include "scheduler/testing/server_fixture.h"
#include "scheduler/testing/sim_workers.h"

namespace weft::scheduler {
namespace {

using rpc::ClientMessage;
using rpc::SchedulerToClient;
using testing::SimWorkers;

// The flood takes its time: every wait here allows a minute.
template <class F>
bool Eventually(F&& done) {
  return testing::Eventually(done, absl::Seconds(60));
}

constexpr char kToken[] = "busy-scheduler-test-token";
constexpr absl::Duration kHeartbeatTimeout = absl::Seconds(1);

// The flood: a million tasks of 256-byte arguments, one message. (Under a
// sanitizer, which slows everything tenfold and more, a quarter of it.)
#ifdef WEFT_SANITIZER
constexpr int kFloodTasks = 250'000;
#else
constexpr int kFloodTasks = 1'000'000;
#endif
constexpr size_t kArgBytes = 256;

using ClientStream = rpc::PeerStream<ClientMessage, SchedulerToClient>;

// A client joined by hand (rpc/join.h), on a frame stream.
std::shared_ptr<ClientStream> JoinClient(const std::string& address,
                                         rpc::EventLoop& loop) {
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  std::unique_ptr<rpc::Scheduler::Stub> stub = rpc::Scheduler::NewStub(channel);
  auto context = std::make_unique<grpc::ClientContext>();
  rpc::AttachToken(*context, kToken);
  auto call = stub->ClientStream(context.get());
  auto grpc = std::make_unique<
      rpc::GrpcClientPeerStream<ClientMessage, SchedulerToClient>>(
      channel, std::move(context), std::move(call), address);
  ClientMessage hello;
  hello.mutable_hello()->set_name("flood");
  hello.mutable_hello()->set_frames(true);
  auto joined = rpc::Join(std::move(grpc), hello, address, loop);
  EXPECT_TRUE(joined.ok()) << joined.status();
  if (!joined.ok()) return nullptr;
  EXPECT_STREQ(joined->stream->transport(), "frames");
  return std::move(joined->stream);
}

class BusySchedulerTest : public testing::SchedulerServerTest {
 protected:
  void SetUp() override {
    SchedulerService::Options options;
    options.token = kToken;
    options.state.heartbeat_timeout = kHeartbeatTimeout;
    options.monitor_interval = absl::Milliseconds(1);
    StartServer(options);
  }

  SimWorkers::Options SimOptions() const {
    SimWorkers::Options options = SchedulerServerTest::SimOptions();
    options.heartbeat_interval = absl::Milliseconds(100);
    // They never finish a task: what they are given stays assigned, the
    // rest of the flood stays queued at the scheduler.
    options.task_time = absl::Hours(1);
    return options;
  }
};

TEST_F(BusySchedulerTest, AFloodAndFiftyLeavingWorkersRemoveNoHealthyWorker) {
  SimWorkers healthy(SimOptions());
  SimWorkers leaving(SimOptions());
  ASSERT_TRUE(healthy.Add(20).ok());
  ASSERT_TRUE(leaving.Add(50).ok());
  ASSERT_EQ(server_->service().num_workers(), 70u);
  rpc::EventLoop loop(1, "flood-client");
  std::shared_ptr<ClientStream> client =
      JoinClient(server_->address(), loop);
  ASSERT_NE(client, nullptr);

  ClientMessage flood;
  rpc::Arg value;
  value.set_value(std::string(kArgBytes, 'a'));
  const std::string arg = value.SerializeAsString();
  for (int i = 0; i < kFloodTasks; ++i) {
    rpc::TaskDef* task = flood.add_submit();
    task->set_id(static_cast<uint64_t>(i) + 1);
    task->set_name("flood");
    task->set_function("inc");
    task->add_args(arg);
  }
#ifndef WEFT_SANITIZER
  ASSERT_GE(flood.ByteSizeLong(), size_t{256} << 20);
#endif
  // After the flood, on the same stream: answered once it is handled.
  ClientMessage ask;
  ask.set_request_id(7);
  ask.set_list_workers(true);

  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(client->Send(flood));
  ASSERT_TRUE(client->Send(ask));
  EXPECT_EQ(leaving.Leave(50), 50);
  SchedulerToClient reply;
  bool answered = false;
  while (!answered && client->Read(reply, absl::Now() + absl::Minutes(5))) {
    answered = reply.request_id() == 7;
  }
  ASSERT_TRUE(answered) << client->status();
  const double busy = std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - start)
                          .count();
  std::fprintf(stderr,
               "the scheduler took %.2f s to handle the flood (%zu MiB, %d "
               "tasks); heartbeat timeout %s\n",
               busy, flood.ByteSizeLong() >> 20, kFloodTasks,
               absl::FormatDuration(kHeartbeatTimeout).c_str());
  ASSERT_TRUE(Eventually([&] {
    return server_->service().removals().left == 50;
  })) << server_->service().removals().left;

  // Let the monitor look at the healthy workers again and again after the
  // flood: every healthy worker sends 30 more heartbeats (3 s) first.
  const uint64_t beats = healthy.counts().heartbeats;
  ASSERT_TRUE(Eventually([&] {
    return healthy.counts().heartbeats >= beats + 20 * 30;
  }));
  const SchedulerService::Removals removals = server_->service().removals();
  EXPECT_EQ(removals.left, 50u);
  EXPECT_EQ(removals.lost, 0u);
  EXPECT_EQ(removals.silent, 0u);
  EXPECT_EQ(server_->service().num_workers(), 20u);
  EXPECT_EQ(healthy.connected(), 20);
  // Each healthy worker holds as many tasks of the flood as saturation
  // allows (its one thread); the rest, and what the leavers held, wait at
  // the scheduler.
  EXPECT_EQ(healthy.counts().assigned,
            20u * static_cast<uint64_t>(SchedulerState::Options().saturation));
}

TEST_F(BusySchedulerTest, ASilentWorkerIsRemoved) {
  // The control: the same scheduler does remove a worker that goes silent.
  SimWorkers::Options options = SimOptions();
  options.heartbeat_interval = absl::Hours(1);
  SimWorkers silent(options);
  SimWorkers healthy(SimOptions());
  ASSERT_TRUE(silent.Add(1).ok());
  ASSERT_TRUE(healthy.Add(1).ok());
  ASSERT_TRUE(Eventually([&] {
    return server_->service().removals().silent == 1;
  }));
  EXPECT_EQ(server_->service().num_workers(), 1u);
  EXPECT_EQ(server_->service().removals().lost, 0u);
  EXPECT_TRUE(Eventually([&] { return silent.connected() == 0; }));
  EXPECT_EQ(healthy.connected(), 1);
}

}  // namespace
}  // namespace weft::scheduler
