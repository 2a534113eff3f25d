// Copyright 2026 The weft Authors.
//
// Fault tests on real processes: workers killed or frozen mid-graph, tasks
// that crash their worker, lost values, wrong tokens, bad messages, unknown
// functions, several clients, and clean shutdown.

#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/testing/task_error.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "rpc/status.h"
#include "rpc/token.h"
#include "rpc/weft.grpc.pb.h"
#include "weft/weft.h"

namespace {

using ::testing::HasSubstr;
using ::weft::testing::TaskErrorOf;
using namespace std::chrono_literals;

int SlowInc(int x) {
  std::this_thread::sleep_for(20ms);
  return x + 1;
}
int Inc(int x) { return x + 1; }
int Sum(std::vector<int> xs) { return std::accumulate(xs.begin(), xs.end(), 0); }
int Crash(int) {
  std::abort();  // takes its worker process down
}
double Total(std::vector<double> xs) {
  return std::accumulate(xs.begin(), xs.end(), 0.0);
}
double Square(double x) { return x * x; }
double Nth(std::vector<double> xs, int i) { return xs[i % xs.size()] + i; }
std::vector<double> SlowBig(int n) {
  std::this_thread::sleep_for(1s);
  return std::vector<double>(n, 3.0);
}
WEFT_REMOTE(SlowInc, Inc, Sum, Crash, Total, Square, Nth, SlowBig);

bool ProcessGone(pid_t pid) { return ::kill(pid, 0) == -1 && errno == ESRCH; }

// Runs `fn` with WEFT_TOKEN set to `token`, restoring it afterwards.
template <class Fn>
void WithToken(const std::string& token, Fn fn) {
  const char* old = std::getenv("WEFT_TOKEN");
  std::string saved = old ? old : "";
  ::setenv("WEFT_TOKEN", token.c_str(), 1);
  fn();
  if (old) {
    ::setenv("WEFT_TOKEN", saved.c_str(), 1);
  } else {
    ::unsetenv("WEFT_TOKEN");
  }
}

// Tolerant of a loaded machine: only the frozen-worker test relies on the
// heartbeat timeout, and sets a short one itself.
weft::LocalCluster::Options Fast(int workers) {
  weft::LocalCluster::Options o;
  o.workers = workers;
  o.heartbeat_timeout = 10000ms;
  return o;
}

TEST(FaultTest, WorkerKilledMidGraphResultStillRight) {
  weft::LocalCluster cluster(Fast(2));
  std::vector<weft::Delayed<int>> parts;
  for (int i = 0; i < 60; ++i) parts.push_back(weft::delayed(SlowInc)(i));
  auto total = weft::persist(weft::delayed(Sum)(parts));
  std::this_thread::sleep_for(200ms);  // some results exist on each worker
  ASSERT_EQ(::kill(cluster.worker_pids()[0], SIGKILL), 0);
  EXPECT_EQ(weft::get(total, 60s), 60 * 61 / 2);
}

TEST(FaultTest, FrozenWorkerIsDroppedAfterHeartbeatTimeout) {
  weft::LocalCluster::Options options = Fast(2);
  options.heartbeat_timeout = 1500ms;
  weft::LocalCluster cluster(options);
  const pid_t frozen = cluster.worker_pids()[1];
  std::vector<int> xs(40);
  std::iota(xs.begin(), xs.end(), 0);
  auto refs = weft::map(SlowInc, xs);
  std::this_thread::sleep_for(100ms);
  ASSERT_EQ(::kill(frozen, SIGSTOP), 0);  // alive, but silent
  std::vector<int> out = weft::get(refs, 60s);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(out[i], i + 1);
  ::kill(frozen, SIGKILL);
  ::kill(frozen, SIGCONT);
}

TEST(FaultTest, TaskThatCrashesWorkersIsKilledWorker) {
  weft::LocalCluster cluster(Fast(2));
  auto crash = weft::remote(Crash)(1);
  auto fine = weft::remote(SlowInc)(1);
  const auto e = TaskErrorOf([&] { weft::get(crash, 120s); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind(), weft::ErrorKind::kWorkerDied);
  EXPECT_THAT(e->message(), HasSubstr("3 workers that died"));
  EXPECT_EQ(weft::get(fine, 60s), 2);  // the cluster goes on
  // The nanny restarts each dead worker (it notices within 50 ms).
  for (int i = 0; i < 200 && cluster.restarts() < 3; ++i) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_GE(cluster.restarts(), 3);
  EXPECT_EQ(weft::get(weft::remote(SlowInc)(5), 60s), 6);
}

TEST(FaultTest, LostPutGivesClearError) {
  weft::LocalCluster cluster(Fast(2));
  weft::Client client = cluster.client();
  auto data = weft::put(std::vector<double>(100000, 1.0));  // not inline
  pid_t holder = 0;
  for (const auto& w : client.workers()) {
    if (w.memory_bytes > 0) holder = static_cast<pid_t>(w.pid);
  }
  ASSERT_NE(holder, 0);
  ASSERT_EQ(::kill(holder, SIGKILL), 0);
  std::this_thread::sleep_for(300ms);
  const auto e =
      TaskErrorOf([&] { weft::get(weft::remote(Total)(data), 60s); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind(), weft::ErrorKind::kObjectLost);
  EXPECT_EQ(weft::get(data).size(), 100000u);  // the client's copy is fine
}

TEST(FaultTest, GetWhileTheValueIsRecomputedWaitsForIt) {
  weft::LocalCluster cluster(Fast(2));
  weft::Client client = cluster.client();
  auto big = weft::remote(SlowBig)(200000);  // 1.6 MB: fetched at get()
  ASSERT_EQ(weft::wait(std::vector{big}, 1, 60s).ready.size(), 1u);
  pid_t holder = 0;
  for (const auto& w : client.workers()) {
    if (w.objects > 0) holder = static_cast<pid_t>(w.pid);
  }
  ASSERT_NE(holder, 0);
  ASSERT_EQ(::kill(holder, SIGKILL), 0);
  // Its only copy is gone before the client fetched it: the scheduler
  // recomputes it (a second), and get() waits for that instead of failing.
  std::vector<double> value = weft::get(big, 60s);
  ASSERT_EQ(value.size(), 200000u);
  EXPECT_EQ(value[0], 3.0);
}

TEST(FaultTest, ASmallPutOutlivesEveryWorker) {
  weft::LocalCluster cluster(Fast(2));
  weft::Client client = cluster.client();
  // 8 KB: it goes whole to the scheduler, which keeps it; no worker holds
  // it, so killing them all loses nothing.
  auto data = weft::put(std::vector<double>(1000, 2.0));
  for (const auto& w : client.workers()) {
    ASSERT_EQ(::kill(static_cast<pid_t>(w.pid), SIGKILL), 0);
  }
  // The nanny restarts both; a task on a new worker gets the value inline.
  for (int i = 0; i < 200 && cluster.restarts() < 2; ++i) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_GE(cluster.restarts(), 2);
  EXPECT_EQ(weft::get(weft::remote(Total)(data), 60s), 2000.0);
}

TEST(FaultTest, WrongTokenIsRefused) {
  weft::LocalCluster cluster(Fast(1));
  WithToken("not-the-token", [&] {
    try {
      weft::Client::Connect(cluster.address());
      FAIL() << "expected UsageError";
    } catch (const weft::UsageError& e) {
      EXPECT_THAT(std::string(e.what()), HasSubstr("token"));
    }
  });
  // The data plane refuses too.
  auto workers = cluster.client().workers();
  auto channel = grpc::CreateChannel(workers[0].address,
                                     grpc::InsecureChannelCredentials());
  auto stub = weft::rpc::Worker::NewStub(channel);
  grpc::ClientContext context;
  weft::rpc::AttachToken(context, "wrong");
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  weft::rpc::CallRequest request;
  request.set_function("Square");
  weft::rpc::CallReply reply;
  grpc::Status status = stub->Call(&context, request, &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

// A raw client stream to the scheduler, past the hello, for tests that
// speak the protocol directly (as a buggy or hostile client would).
struct RawClient {
  std::unique_ptr<weft::rpc::Scheduler::Stub> stub;
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReaderWriter<weft::rpc::ClientMessage,
                                           weft::rpc::SchedulerToClient>>
      stream;
};

std::unique_ptr<RawClient> OpenRawClient(const weft::LocalCluster& cluster) {
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(-1);  // let the test send what it likes
  auto raw = std::make_unique<RawClient>();
  raw->stub = weft::rpc::Scheduler::NewStub(grpc::CreateCustomChannel(
      cluster.address(), grpc::InsecureChannelCredentials(), args));
  weft::rpc::AttachToken(raw->context, cluster.token());
  raw->context.set_deadline(std::chrono::system_clock::now() + 30s);
  raw->stream = raw->stub->ClientStream(&raw->context);
  weft::rpc::ClientMessage hello;
  hello.mutable_hello()->set_name("raw test client");
  weft::rpc::SchedulerToClient reply;
  EXPECT_TRUE(raw->stream->Write(hello));
  EXPECT_TRUE(raw->stream->Read(&reply));
  return raw;
}

TEST(FaultTest, MalformedSubmissionGetsAnErrorNotACrash) {
  weft::LocalCluster cluster(Fast(1));
  std::unique_ptr<RawClient> raw = OpenRawClient(cluster);
  auto& stream = raw->stream;
  weft::rpc::SchedulerToClient reply;
  weft::rpc::ClientMessage bad;
  weft::rpc::TaskDef* def = bad.add_submit();
  def->set_id(7);
  def->set_name("Square");
  def->set_function("Square");
  def->add_deps(123456789);  // an object nobody has
  def->set_num_cpus(-5);
  bad.add_release(42);        // a reference it never held
  ASSERT_TRUE(stream->Write(bad));
  bool saw_failure = false;
  for (int i = 0; i < 3 && !saw_failure && stream->Read(&reply); ++i) {
    for (const auto& done : reply.done()) {
      if (done.id() == 7 && done.failed()) saw_failure = true;
    }
  }
  EXPECT_TRUE(saw_failure);
  stream->WritesDone();
  raw->context.TryCancel();
  // The scheduler still serves everyone else.
  EXPECT_EQ(weft::get(weft::remote(Square)(3.0), 30s), 9.0);
}

TEST(FaultTest, AReportOfCopiesOfAnExistingObjectAddsNoHolder) {
  weft::LocalCluster cluster(Fast(2));
  weft::Client client = cluster.client();
  auto data = weft::put(std::vector<double>(100000, 1.0));  // not inline
  std::string holder, other;
  for (const auto& w : client.workers()) {
    (w.objects > 0 ? holder : other) = w.address;
  }
  ASSERT_FALSE(holder.empty());
  ASSERT_FALSE(other.empty());
  // Another client claims the object is a put of its own, held by both
  // workers: the scheduler refuses it, and records no copy on `other`.
  std::unique_ptr<RawClient> raw = OpenRawClient(cluster);
  weft::rpc::ClientMessage claim;
  weft::rpc::PutDone* put = claim.add_puts();
  put->set_id(data.id());
  put->set_size(800000);
  put->add_worker_addresses(holder);
  put->add_worker_addresses(other);
  claim.set_request_id(1);
  claim.set_list_workers(true);
  ASSERT_TRUE(raw->stream->Write(claim));
  weft::rpc::SchedulerToClient reply;
  bool answered = false;
  while (!answered && raw->stream->Read(&reply)) {
    if (reply.request_id() != 1) continue;
    answered = true;
    for (const auto& w : reply.workers()) {
      EXPECT_EQ(w.objects(), w.address() == holder ? 1u : 0u) << w.address();
    }
  }
  EXPECT_TRUE(answered);
  raw->stream->WritesDone();
  raw->context.TryCancel();
  EXPECT_EQ(weft::get(weft::remote(Total)(data), 30s), 100000.0);
}

TEST(FaultTest, AWorkerWithManyThreadsTakesABatchTooLargeForOneMessage) {
  // 1200 tasks go to the worker at once (saturation 2 x 600 threads), each
  // with the 64 KB put inline: ~77 MB, sent as two messages
  // (rpc/batch_split.h), not one.
  weft::LocalCluster::Options options = Fast(1);
  options.threads_per_worker = 600;
  options.adaptive_saturation = false;
  weft::LocalCluster cluster(options);
  auto data = weft::put(std::vector<double>(8000, 1.0));  // kept inline
  std::vector<weft::ObjectRef<double>> refs;
  for (int i = 0; i < 1200; ++i) refs.push_back(weft::remote(Nth)(data, i));
  std::vector<double> out = weft::get(refs, 120s);
  for (int i = 0; i < 1200; ++i) ASSERT_EQ(out[i], 1.0 + i);
  EXPECT_EQ(cluster.restarts(), 0);
  EXPECT_EQ(cluster.client().workers().size(), 1u);
}

TEST(FaultTest, OversizedMessageIsRefusedNotRead) {
  weft::LocalCluster cluster(Fast(1));
  std::unique_ptr<RawClient> raw = OpenRawClient(cluster);
  auto& stream = raw->stream;
  weft::rpc::SchedulerToClient reply;
  weft::rpc::ClientMessage huge;
  huge.mutable_hello()->set_name(std::string(300 << 20, 'x'));  // 300 MB
  stream->Write(huge);
  while (stream->Read(&reply)) {
  }
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << status.error_message();
  // Everyone else is served as before.
  EXPECT_EQ(weft::get(weft::remote(Square)(4.0), 30s), 16.0);
}

TEST(FaultTest, UnknownFunctionOnAGenericWorker) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  ASSERT_NE(srcdir, nullptr);
  weft::LocalCluster::Options options = Fast(1);
  options.worker_binary = std::string(srcdir) + "/weft/tools/weft";
  weft::LocalCluster cluster(options);
  const auto e =
      TaskErrorOf([&] { weft::get(weft::remote(Square)(2.0), 30s); });
  ASSERT_TRUE(e.has_value());
  EXPECT_THAT(e->message(), HasSubstr("no function 'Square'"));
  EXPECT_THAT(e->message(), HasSubstr("worker"));
}

TEST(FaultTest, TwoClientsAtOnce) {
  weft::LocalCluster cluster(Fast(2));
  std::vector<int> xs(2000);
  std::iota(xs.begin(), xs.end(), 0);
  std::atomic<int> ok{0};
  auto run = [&](weft::Client client) {
    try {
      std::vector<int> out = client.get(client.map(Inc, xs), 60s);
      bool right = true;
      for (int i = 0; i < 2000; ++i) right &= out[i] == i + 1;
      ok += right;
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
    }
  };
  WithToken(cluster.token(), [&] {
    weft::Client second = weft::Client::Connect(cluster.address());
    std::thread a(run, cluster.client());
    std::thread b(run, second);
    a.join();
    b.join();
  });
  EXPECT_EQ(ok.load(), 2);
}

TEST(FaultTest, ClientThatOutlivesItsClusterFailsCleanly) {
  // A Client handle kept past the LocalCluster: the in-process scheduler is
  // gone, so a pending result fails with a clear error and new work is
  // refused, neither hanging.
  std::optional<weft::Client> client;
  std::optional<weft::ObjectRef<int>> pending;
  {
    weft::LocalCluster cluster(Fast(1));
    client = cluster.client();
    pending = client->remote(SlowInc)(1);
    EXPECT_EQ(client->get(client->remote(Inc)(1), 30s), 2);
  }
  try {
    (void)client->get(*pending, 30s);  // may have finished before shutdown
  } catch (const weft::TaskError& e) {
    EXPECT_THAT(e.what(), HasSubstr("scheduler"));
  }
  try {
    (void)client->get(client->remote(Inc)(2), 30s);
    ADD_FAILURE() << "a task ran after its cluster was destroyed";
  } catch (const weft::TaskError& e) {
    EXPECT_THAT(e.what(), HasSubstr("scheduler"));
  }
}

TEST(FaultTest, LoopbackClientLinkWorksLikeTheInProcessOne) {
  weft::LocalCluster::Options options = Fast(2);
  options.in_process_client = false;
  weft::LocalCluster cluster(options);
  std::vector<int> xs(500);
  std::iota(xs.begin(), xs.end(), 0);
  std::vector<int> out = weft::get(weft::map(Inc, xs), 60s);
  for (int i = 0; i < 500; ++i) ASSERT_EQ(out[i], i + 1);
  std::vector<weft::Delayed<double>> parts;
  for (int i = 0; i < 10; ++i) parts.push_back(weft::delayed(Square)(i));
  EXPECT_EQ(weft::compute(weft::delayed(Total)(parts)), 285.0);
}

TEST(FaultTest, ShutdownLeavesNoProcessBehind) {
  std::vector<pid_t> pids;
  {
    weft::LocalCluster cluster(Fast(3));
    pids = cluster.worker_pids();
    ASSERT_EQ(pids.size(), 3u);
    EXPECT_EQ(weft::get(weft::remote(SlowInc)(1), 30s), 2);
  }
  for (pid_t pid : pids) EXPECT_TRUE(ProcessGone(pid)) << pid;
}

}  // namespace
