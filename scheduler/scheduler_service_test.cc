// Copyright 2026 The weft Authors.
//
// SchedulerService in this process: the scheduler's side of a worker's task
// stream (and a remote client's stream), against a real SchedulerServer on
// loopback and a hand-driven "worker" or "client": the frame-stream offer
// taken, declined or never made, and peers that misbehave on the frame
// port. (Real workers on frame streams run in the multi-process tests of
// tests/; tests/cluster_grpc_test runs cluster_test with the task stream on
// gRPC.)

#include "scheduler/scheduler_service.h"
#include "scheduler/testing/server_fixture.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "rpc/batch_split.h"
#include "rpc/frame_stream.h"
#include "rpc/local_link.h"
#include "rpc/report_limits.h"
#include "rpc/status.h"
#include "rpc/token.h"
#include "rpc/weft.grpc.pb.h"

namespace weft {
namespace {

using rpc::FrameStream;
using rpc::SchedulerToWorker;
using rpc::WorkerMessage;
using scheduler::SchedulerServer;
using scheduler::SchedulerService;
using scheduler::testing::Eventually;

constexpr char kToken[] = "scheduler-service-test-token";

class SchedulerServiceTest : public scheduler::testing::SchedulerServerTest {
 protected:
  void SetUp() override {
    SchedulerService::Options options;
    options.token = kToken;
    Configure(options);
    StartServer(options);
    if (HasFatalFailure()) return;
    ASSERT_GT(server_->frame_port(), 0);
    channel_ = grpc::CreateChannel(server_->address(),
                                   grpc::InsecureChannelCredentials());
    stub_ = rpc::Scheduler::NewStub(channel_);
  }

  // Changes the scheduler's options before it starts.
  virtual void Configure(SchedulerService::Options&) {}

  // A worker's gRPC stream, registered with `frames` as its offer.
  struct Registration {
    std::unique_ptr<grpc::ClientContext> context;
    std::unique_ptr<grpc::ClientReaderWriter<WorkerMessage, SchedulerToWorker>>
        stream;
    SchedulerToWorker first;  // the scheduler's first answer
  };

  Registration Register(bool frames, const std::string& address,
                        const std::string& host = "", int64_t pid = 0,
                        bool expect_answer = true, int nthreads = 1) {
    Registration r;
    r.context = std::make_unique<grpc::ClientContext>();
    rpc::AttachToken(*r.context, kToken);
    r.stream = stub_->WorkerStream(r.context.get());
    WorkerMessage hello;
    hello.mutable_register_()->set_address(address);
    hello.mutable_register_()->set_host(host);
    hello.mutable_register_()->set_pid(pid);
    hello.mutable_register_()->set_nthreads(nthreads);
    hello.mutable_register_()->set_frames(frames);
    EXPECT_TRUE(r.stream->Write(hello));
    const bool answered = r.stream->Read(&r.first);
    if (expect_answer) {
      EXPECT_TRUE(answered);
    }
    return r;
  }

  // A client's gRPC stream, after its hello (as `name`, offering to take
  // a frame stream if `frames`).
  struct ClientCall {
    std::unique_ptr<grpc::ClientContext> context;
    std::unique_ptr<
        grpc::ClientReaderWriter<rpc::ClientMessage, rpc::SchedulerToClient>>
        stream;
    rpc::SchedulerToClient first;  // the scheduler's first answer
  };

  ClientCall ConnectClient(const std::string& name, bool frames = false) {
    ClientCall c;
    c.context = std::make_unique<grpc::ClientContext>();
    rpc::AttachToken(*c.context, kToken);
    c.stream = stub_->ClientStream(c.context.get());
    rpc::ClientMessage hello;
    hello.mutable_hello()->set_name(name);
    hello.mutable_hello()->set_frames(frames);
    EXPECT_TRUE(c.stream->Write(hello));
    EXPECT_TRUE(c.stream->Read(&c.first));
    return c;
  }

  // The workers as a client's list_workers request sees them.
  std::vector<rpc::WorkerInfo> ListWorkers() {
    ClientCall c = ConnectClient("lister");
    rpc::ClientMessage ask;
    ask.set_request_id(7);
    ask.set_list_workers(true);
    EXPECT_TRUE(c.stream->Write(ask));
    rpc::SchedulerToClient reply;
    while (c.stream->Read(&reply) && reply.request_id() != 7) {
    }
    c.context->TryCancel();
    return {reply.workers().begin(), reply.workers().end()};
  }

  // Takes the offer in `r.first`: connects, presents the key, says so on
  // gRPC, and returns the stream with the worker id read from it.
  std::shared_ptr<FrameStream> TakeOffer(Registration& r, uint64_t* id) {
    EXPECT_NE(r.first.frame_port(), 0u);
    EXPECT_EQ(r.first.frame_key().size(), 16u);
    auto frames = rpc::ConnectFrameStream(
        "127.0.0.1", static_cast<int>(r.first.frame_port()), absl::Seconds(5));
    EXPECT_TRUE(frames.ok()) << frames.status();
    if (!frames.ok()) return nullptr;
    rpc::FrameHello hello;
    hello.set_key(r.first.frame_key());
    EXPECT_TRUE((*frames)->Send(hello));
    WorkerMessage answer;
    answer.set_frames_connected(true);
    EXPECT_TRUE(r.stream->Write(answer));
    SchedulerToWorker first;
    EXPECT_TRUE((*frames)->Read(first, absl::Now() + absl::Seconds(10)))
        << (*frames)->status();
    *id = first.worker_id();
    return *std::move(frames);
  }

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<rpc::Scheduler::Stub> stub_;
};

TEST_F(SchedulerServiceTest, AWorkerThatTakesTheOfferIsServedOnItsFrameStream) {
  Registration r = Register(/*frames=*/true, "127.0.0.1:1");
  uint64_t id = 0;
  std::shared_ptr<FrameStream> frames = TakeOffer(r, &id);
  ASSERT_NE(frames, nullptr);
  EXPECT_NE(id, 0u);
  EXPECT_EQ(server_->service().num_workers(), 1u);
  // Its messages count there: a heartbeat is taken, and closing the
  // stream is leaving.
  WorkerMessage beat;
  beat.mutable_heartbeat()->set_memory_bytes(1);
  ASSERT_TRUE(frames->Send(beat));
  frames.reset();
  EXPECT_TRUE(
      Eventually([&] { return server_->service().num_workers() == 0; }));
}

TEST_F(SchedulerServiceTest, AWorkerThatCannotConnectStaysOnGrpc) {
  Registration r = Register(/*frames=*/true, "127.0.0.1:2");
  ASSERT_NE(r.first.frame_port(), 0u);
  WorkerMessage answer;
  answer.set_frames_error("a firewall, say");
  ASSERT_TRUE(r.stream->Write(answer));
  SchedulerToWorker first;
  ASSERT_TRUE(r.stream->Read(&first));
  EXPECT_NE(first.worker_id(), 0u);
  EXPECT_EQ(server_->service().num_workers(), 1u);
  r.stream->WritesDone();
  EXPECT_TRUE(
      Eventually([&] { return server_->service().num_workers() == 0; }));
}

TEST_F(SchedulerServiceTest, AWorkerThatDoesNotAskIsServedOnGrpc) {
  Registration r = Register(/*frames=*/false, "127.0.0.1:3");
  EXPECT_EQ(r.first.frame_port(), 0u);
  EXPECT_NE(r.first.worker_id(), 0u);
  EXPECT_EQ(server_->service().num_workers(), 1u);
}

TEST_F(SchedulerServiceTest, AStrangerOnTheFramePortIsTurnedAway) {
  // A key nobody was given: the connection is closed, nothing registers.
  auto frames = rpc::ConnectFrameStream("127.0.0.1", server_->frame_port(),
                                        absl::Seconds(5));
  ASSERT_TRUE(frames.ok()) << frames.status();
  rpc::FrameHello hello;
  hello.set_key("not a key given to anyone");
  ASSERT_TRUE((*frames)->Send(hello));
  SchedulerToWorker m;
  EXPECT_FALSE((*frames)->Read(m, absl::Now() + absl::Seconds(10)));
  EXPECT_EQ((*frames)->status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(server_->service().num_workers(), 0u);
  // The port still serves real workers.
  Registration r = Register(/*frames=*/true, "127.0.0.1:4");
  uint64_t id = 0;
  EXPECT_NE(TakeOffer(r, &id), nullptr);
  EXPECT_NE(id, 0u);
}

TEST_F(SchedulerServiceTest, AKeyIsGoodForOneStreamOnly) {
  Registration r = Register(/*frames=*/true, "127.0.0.1:5");
  uint64_t id = 0;
  std::shared_ptr<FrameStream> frames = TakeOffer(r, &id);
  ASSERT_NE(frames, nullptr);
  auto again = rpc::ConnectFrameStream("127.0.0.1", server_->frame_port(),
                                       absl::Seconds(5));
  ASSERT_TRUE(again.ok());
  rpc::FrameHello hello;
  hello.set_key(r.first.frame_key());
  ASSERT_TRUE((*again)->Send(hello));
  SchedulerToWorker m;
  EXPECT_FALSE((*again)->Read(m, absl::Now() + absl::Seconds(10)));
  EXPECT_EQ(server_->service().num_workers(), 1u);
}

TEST_F(SchedulerServiceTest, AFrameThatDoesNotParseDropsOnlyThatWorker) {
  Registration bad = Register(/*frames=*/true, "127.0.0.1:6");
  Registration good = Register(/*frames=*/true, "127.0.0.1:7");
  uint64_t bad_id = 0;
  uint64_t good_id = 0;
  std::shared_ptr<FrameStream> bad_frames = TakeOffer(bad, &bad_id);
  std::shared_ptr<FrameStream> good_frames = TakeOffer(good, &good_id);
  ASSERT_NE(bad_frames, nullptr);
  ASSERT_NE(good_frames, nullptr);
  ASSERT_EQ(server_->service().num_workers(), 2u);
  // Field 1 of a WorkerMessage is a WorkerInfo; these bytes are not one.
  rpc::FrameHello garbage;
  garbage.set_key(std::string("\xff\xff\xff\xff\xff", 5));
  ASSERT_TRUE(bad_frames->Send(garbage));
  SchedulerToWorker m;
  EXPECT_FALSE(bad_frames->Read(m, absl::Now() + absl::Seconds(10)));
  EXPECT_TRUE(
      Eventually([&] { return server_->service().num_workers() == 1; }));
  // The other worker is still served.
  WorkerMessage beat;
  beat.mutable_heartbeat()->set_memory_bytes(1);
  EXPECT_TRUE(good_frames->Send(beat));
  EXPECT_EQ(server_->service().num_workers(), 1u);
}

TEST_F(SchedulerServiceTest, ShutdownTellsFrameWorkersAndDoesNotWaitOnThem) {
  Registration r = Register(/*frames=*/true, "127.0.0.1:8");
  uint64_t id = 0;
  std::shared_ptr<FrameStream> frames = TakeOffer(r, &id);
  ASSERT_NE(frames, nullptr);
  // This "worker" never closes its stream: Shutdown() must still return.
  std::thread stop([&] { server_->Shutdown(); });
  SchedulerToWorker m;
  bool told = false;
  while (frames->Read(m, absl::Now() + absl::Seconds(10))) {
    if (m.shutdown()) told = true;
  }
  EXPECT_TRUE(told);
  stop.join();
}

TEST_F(SchedulerServiceTest,
       AClientThatTakesTheOfferIsAnsweredOnItsFrameStream) {
  ClientCall c = ConnectClient("hand-driven", /*frames=*/true);
  auto& stream = c.stream;
  const rpc::SchedulerToClient& offer = c.first;
  ASSERT_NE(offer.frame_port(), 0u);
  auto frames = rpc::ConnectWithKey(server_->address(),
                                    static_cast<int>(offer.frame_port()),
                                    offer.frame_key(), absl::Seconds(5));
  ASSERT_TRUE(frames.ok()) << frames.status();
  rpc::ClientMessage answer;
  answer.set_frames_connected(true);
  ASSERT_TRUE(stream->Write(answer));
  rpc::SchedulerToClient first;
  ASSERT_TRUE((*frames)->Read(first, absl::Now() + absl::Seconds(10)));
  EXPECT_NE(first.client_id(), 0u);
  // A request goes and its reply comes on the frame stream.
  rpc::ClientMessage ask;
  ask.set_request_id(42);
  ask.set_list_workers(true);
  ASSERT_TRUE((*frames)->Send(ask));
  rpc::SchedulerToClient reply;
  ASSERT_TRUE((*frames)->Read(reply, absl::Now() + absl::Seconds(10)));
  EXPECT_EQ(reply.request_id(), 42u);
  // A message the scheduler cannot parse ends this client only.
  rpc::FrameHello garbage;
  garbage.set_key(std::string("\xff\xff\xff\xff\xff", 5));
  ASSERT_TRUE((*frames)->Send(garbage));
  EXPECT_FALSE((*frames)->Read(reply, absl::Now() + absl::Seconds(10)));
  Registration r = Register(/*frames=*/true, "127.0.0.1:9");
  uint64_t id = 0;
  EXPECT_NE(TakeOffer(r, &id), nullptr);
}

// Two workers that register with one data address: the second would have
// the first one's objects looked for at its address (and its own at the
// first one's), so it is refused, retryably, naming the holder; once the
// holder is gone the address is free again. (Before: both were accepted.)
TEST_F(SchedulerServiceTest, ASecondWorkerWithATakenDataAddressIsRefused) {
  Registration first = Register(/*frames=*/false, "10.1.2.3:7001", "host-a",
                                100);
  ASSERT_NE(first.first.worker_id(), 0u);
  Registration second =
      Register(/*frames=*/false, "10.1.2.3:7001", "host-b", 200,
               /*expect_answer=*/false);
  EXPECT_EQ(second.first.worker_id(), 0u);
  const grpc::Status refused = second.stream->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(refused.error_message().find(
                absl::StrCat("worker ", first.first.worker_id())),
            std::string::npos)
      << refused.error_message();
  EXPECT_EQ(server_->service().num_workers(), 1u);
  std::vector<rpc::WorkerInfo> workers = ListWorkers();
  ASSERT_EQ(workers.size(), 1u);
  EXPECT_EQ(workers[0].id(), first.first.worker_id());
  EXPECT_EQ(workers[0].host(), "host-a");
  // The holder leaves; the address is free.
  first.context->TryCancel();
  ASSERT_TRUE(
      Eventually([&] { return server_->service().num_workers() == 0; }));
  Registration again =
      Register(/*frames=*/false, "10.1.2.3:7001", "host-b", 200);
  EXPECT_NE(again.first.worker_id(), 0u);
  EXPECT_EQ(server_->service().num_workers(), 1u);
}

// The same worker process registering again while its earlier stream still
// counts (half-open, or its end not handled yet) replaces that
// registration instead of being refused or counted twice. (Before: two
// registrations of one process, one of them dead.)
TEST_F(SchedulerServiceTest, TheSameProcessRegisteringAgainReplacesItself) {
  Registration old = Register(/*frames=*/false, "10.1.2.3:7002", "host-a", 300);
  ASSERT_NE(old.first.worker_id(), 0u);
  Registration now = Register(/*frames=*/false, "10.1.2.3:7002", "host-a", 300);
  ASSERT_NE(now.first.worker_id(), 0u);
  EXPECT_NE(now.first.worker_id(), old.first.worker_id());
  EXPECT_EQ(server_->service().num_workers(), 1u);
  EXPECT_EQ(server_->service().removals().lost, 1u);
  // The earlier stream is ended by the scheduler.
  SchedulerToWorker m;
  while (old.stream->Read(&m)) {
  }
  std::vector<rpc::WorkerInfo> workers = ListWorkers();
  ASSERT_EQ(workers.size(), 1u);
  EXPECT_EQ(workers[0].id(), now.first.worker_id());
}

// A worker that comes back with another data address (a restarted process
// on a new port) is known by the new one.
TEST_F(SchedulerServiceTest, AWorkerThatRejoinsAtANewAddressIsKnownThere) {
  Registration old = Register(/*frames=*/false, "10.1.2.3:7003", "host-a", 400);
  ASSERT_NE(old.first.worker_id(), 0u);
  old.context->TryCancel();
  ASSERT_TRUE(
      Eventually([&] { return server_->service().num_workers() == 0; }));
  Registration now = Register(/*frames=*/false, "10.1.2.3:7004", "host-a", 401);
  ASSERT_NE(now.first.worker_id(), 0u);
  std::vector<rpc::WorkerInfo> workers = ListWorkers();
  ASSERT_EQ(workers.size(), 1u);
  EXPECT_EQ(workers[0].address(), "10.1.2.3:7004");
  // And the old address is free for another worker.
  Registration other =
      Register(/*frames=*/false, "10.1.2.3:7003", "host-b", 402);
  EXPECT_NE(other.first.worker_id(), 0u);
}

// What a worker reports that cannot be true goes no further than the
// scheduler: a thread count of two billion is taken as the limit, and a
// result announcing 2^60 bytes fails its task with an error naming the
// worker instead of reaching the client as an object to fetch. (Before:
// both were taken as reported.)
TEST_F(SchedulerServiceTest, ImpossibleReportsOfAWorkerAreBounded) {
  Registration worker =
      Register(/*frames=*/false, "10.1.2.3:7005", "host-a", 500,
               /*expect_answer=*/true, /*nthreads=*/2'000'000'000);
  ASSERT_NE(worker.first.worker_id(), 0u);
  std::vector<rpc::WorkerInfo> workers = ListWorkers();
  ASSERT_EQ(workers.size(), 1u);
  EXPECT_EQ(workers[0].nthreads(), rpc::kMaxWorkerThreads);

  ClientCall call = ConnectClient("submitter");
  auto& client = call.stream;
  rpc::ClientMessage submit;
  rpc::TaskDef* task = submit.add_submit();
  task->set_id(0x51);
  task->set_name("huge");
  task->set_function("huge");
  task->set_num_cpus(1);
  ASSERT_TRUE(client->Write(submit));
  SchedulerToWorker assigned;
  while (worker.stream->Read(&assigned) && assigned.assign_size() == 0) {
  }
  ASSERT_EQ(assigned.assign_size(), 1);
  EXPECT_EQ(assigned.assign(0).task().id(), 0x51u);
  WorkerMessage result;
  result.add_results()->set_id(0x51);
  result.mutable_results(0)->set_attempt(assigned.assign(0).task().attempt());
  result.mutable_results(0)->set_size(uint64_t{1} << 60);
  ASSERT_TRUE(worker.stream->Write(result));
  rpc::SchedulerToClient done;
  while (client->Read(&done) && done.done_size() == 0) {
  }
  ASSERT_EQ(done.done_size(), 1);
  EXPECT_TRUE(done.done(0).failed());
  EXPECT_NE(done.done(0).error().message().find(
                absl::StrCat("worker ", worker.first.worker_id())),
            std::string::npos)
      << done.done(0).error().message();
  EXPECT_EQ(done.done(0).location().size(), 0u);
  call.context->TryCancel();
}

// The worker of this test is driven by hand and sends no heartbeat, while
// it reads 1,200 assignments of 64 KiB each (about 2 s on the 2-core
// machine alone, checked invariants and all): the default heartbeat
// timeout of 5 s dropped it when CI ran four tests at once.
class LargeBatchTest : public SchedulerServiceTest {
 protected:
  void Configure(SchedulerService::Options& options) override {
    options.state.heartbeat_timeout = absl::Minutes(2);
  }
};

TEST_F(LargeBatchTest, ABatchTooLargeForOneMessageIsSplitNotFatal) {
  // A worker with many threads: it takes 2 x 600 tasks at once.
  constexpr int kThreads = 600;
  constexpr int kTasks = 2 * kThreads;
  Registration r = Register(/*frames=*/true, "127.0.0.1:1", /*host=*/"",
                            /*pid=*/0, /*expect_answer=*/true, kThreads);
  uint64_t worker = 0;
  std::shared_ptr<FrameStream> frames = TakeOffer(r, &worker);
  ASSERT_NE(frames, nullptr);
  // A client's tasks all read one 64 KiB put that the scheduler keeps and
  // hands out inline: together more than one message may carry.
  ClientCall call = ConnectClient("hand-driven");
  auto& client = call.stream;
  rpc::ClientMessage submit;
  rpc::PutDone* put = submit.add_puts();
  put->set_id(1);
  put->set_size(64 << 10);
  put->set_inline_value(std::string(64 << 10, 'v'));
  for (int i = 0; i < kTasks; ++i) {
    rpc::TaskDef* def = submit.add_submit();
    def->set_id(100 + i);
    def->set_name("f");
    def->set_function("fn");
    def->add_deps(1);
    rpc::Arg arg;
    arg.set_ref(1);
    def->add_args(arg.SerializeAsString());
  }
  ASSERT_TRUE(client->Write(submit));
  std::set<uint64_t> assigned;
  size_t largest = 0;
  int messages = 0;
  while (assigned.size() < kTasks) {
    SchedulerToWorker m;
    ASSERT_TRUE(frames->Read(m, absl::Now() + absl::Seconds(30)))
        << frames->status() << " after " << assigned.size() << " tasks";
    ++messages;
    largest = std::max(largest, m.ByteSizeLong());
    for (const rpc::Assignment& a : m.assign()) {
      ASSERT_EQ(a.deps_size(), 1);
      EXPECT_EQ(a.deps(0).inline_value().size(), size_t{64} << 10);
      EXPECT_TRUE(assigned.insert(a.task().id()).second);
    }
  }
  EXPECT_GE(messages, 2);
  EXPECT_LE(largest, rpc::kMaxBatchBytes);
  EXPECT_EQ(*assigned.begin(), 100u);
  EXPECT_EQ(*assigned.rbegin(), uint64_t{100 + kTasks - 1});
  EXPECT_EQ(server_->service().num_workers(), 1u);  // still served
  call.context->TryCancel();
}

// A scheduler that takes large submissions in slices of four tasks.
class SlicedSubmissionTest : public SchedulerServiceTest {
 protected:
  void Configure(SchedulerService::Options& options) override {
    options.submit_slice = 4;
  }
};

// A message of ten tasks is taken in slices of four, each whole: a task
// may depend on one of an earlier slice; the slice with a bad task is
// rejected, and so is the rest; what was accepted runs; the parts of the
// message before and after its submission are handled once, in order.
TEST_F(SlicedSubmissionTest, EachSliceIsWholeAndARejectionEndsTheRest) {
  Registration r = Register(/*frames=*/true, "127.0.0.1:1", /*host=*/"",
                            /*pid=*/0, /*expect_answer=*/true,
                            /*nthreads=*/16);
  uint64_t worker = 0;
  std::shared_ptr<FrameStream> frames = TakeOffer(r, &worker);
  ASSERT_NE(frames, nullptr);
  ClientCall call = ConnectClient("sliced");
  rpc::ClientMessage m;
  rpc::PutDone* put = m.add_puts();  // before the submission: task 100 reads it
  put->set_id(1);
  put->set_size(1);
  put->set_inline_value("p");
  for (uint64_t id = 100; id < 110; ++id) {
    rpc::TaskDef* def = m.add_submit();
    def->set_id(id);
    def->set_name("f");
    def->set_function("fn");
  }
  m.mutable_submit(0)->add_deps(1);
  m.mutable_submit(5)->add_deps(101);        // across slices: 105 needs 101
  m.mutable_submit(6)->set_num_cpus(70000);  // 106: the second slice fails
  m.set_request_id(9);  // after the submission: answered once, last
  m.add_locate(1);
  ASSERT_TRUE(call.stream->Write(m));

  std::set<uint64_t> failed;
  rpc::SchedulerToClient reply;
  int replies = 0;
  while (call.stream->Read(&reply)) {
    for (const rpc::ObjectDone& done : reply.done()) {
      if (!done.failed()) continue;
      EXPECT_TRUE(failed.insert(done.id()).second) << done.id();
      EXPECT_NE(done.error().message().find("num_cpus must be in"),
                std::string::npos)
          << done.error().message();
    }
    if (reply.request_id() == 9) {
      ++replies;
      EXPECT_EQ(reply.located_size(), 1);
      // With the size recorded, which a fetch of it checks (before: 0).
      if (reply.located_size() == 1) {
        EXPECT_EQ(reply.located(0).size(), 1u);
      }
      break;
    }
  }
  EXPECT_EQ(replies, 1);
  EXPECT_EQ(failed, (std::set<uint64_t>{104, 105, 106, 107, 108, 109}));
  // The first slice was assigned before the reply was written.
  std::set<uint64_t> assigned;
  SchedulerToWorker w;
  while (assigned.size() < 4 &&
         frames->Read(w, absl::Now() + absl::Seconds(30))) {
    for (const rpc::Assignment& a : w.assign()) {
      EXPECT_TRUE(assigned.insert(a.task().id()).second);
    }
  }
  EXPECT_EQ(assigned, (std::set<uint64_t>{100, 101, 102, 103}));
  EXPECT_FALSE(frames->Read(w, absl::Now() + absl::Milliseconds(200)) &&
               w.assign_size() > 0)
      << w.DebugString();
  call.context->TryCancel();
}

// A large submission whose slices all pass is all accepted: a chain that
// crosses every slice runs to the end as results come in.
TEST_F(SlicedSubmissionTest, AChainAcrossSlicesRuns) {
  Registration r = Register(/*frames=*/true, "127.0.0.1:1");
  uint64_t worker = 0;
  std::shared_ptr<FrameStream> frames = TakeOffer(r, &worker);
  ASSERT_NE(frames, nullptr);
  ClientCall call = ConnectClient("chain");
  constexpr uint64_t kTasks = 11;
  rpc::ClientMessage m;
  for (uint64_t id = 100; id < 100 + kTasks; ++id) {
    rpc::TaskDef* def = m.add_submit();
    def->set_id(id);
    def->set_name("f");
    def->set_function("fn");
    if (id > 100) def->add_deps(id - 1);
  }
  ASSERT_TRUE(call.stream->Write(m));
  // The worker runs each task as it comes: one at a time, in order.
  for (uint64_t id = 100; id < 100 + kTasks; ++id) {
    SchedulerToWorker w;
    ASSERT_TRUE(frames->Read(w, absl::Now() + absl::Seconds(30)))
        << "task " << id << ": " << frames->status();
    ASSERT_EQ(w.assign_size(), 1) << w.DebugString();
    const rpc::TaskDef& task = w.assign(0).task();
    EXPECT_EQ(task.id(), id);
    WorkerMessage done;
    rpc::TaskResult* result = done.add_results();
    result->set_id(task.id());
    result->set_attempt(task.attempt());
    result->set_size(1);
    result->set_inline_value("x");
    ASSERT_TRUE(frames->Send(done));
  }
  // The client hears that the last is done, and nothing failed.
  rpc::SchedulerToClient reply;
  bool last_done = false;
  while (!last_done && call.stream->Read(&reply)) {
    for (const rpc::ObjectDone& done : reply.done()) {
      EXPECT_FALSE(done.failed()) << done.DebugString();
      last_done = last_done || done.id() == 100 + kTasks - 1;
    }
  }
  EXPECT_TRUE(last_done);
  call.context->TryCancel();
}

// An in-process client that disconnects leaves nothing of itself in the
// scheduler: its stream lets go of the handler that held its peer (which
// holds the stream). (Before: the two held each other, and every in-process
// client leaked them; found by fuzz/service_fuzzer under LeakSanitizer.)
TEST_F(SchedulerServiceTest, AnInProcessClientThatLeavesIsLetGo) {
  class Peer final : public rpc::LocalClientPeer {
   public:
    void OnMessage(const rpc::SchedulerToClient&) override {}
    void OnClosed(const std::string&) override {}
  };
  auto peer = std::make_shared<Peer>();
  std::shared_ptr<rpc::LocalLink> link = server_->service().local_link();
  absl::StatusOr<uint64_t> id = link->Connect("leaving", peer);
  ASSERT_TRUE(id.ok()) << id.status();
  rpc::ClientMessage ping;
  ping.set_ping(true);
  EXPECT_TRUE(link->Deliver(*id, ping));
  EXPECT_GT(peer.use_count(), 1);
  link->Disconnect(*id);
  EXPECT_TRUE(Eventually([&] { return peer.use_count() == 1; }))
      << peer.use_count();
}

}  // namespace
}  // namespace weft
