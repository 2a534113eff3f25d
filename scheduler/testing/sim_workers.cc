// Copyright 2026 The weft Authors.

#include "scheduler/testing/sim_workers.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "rpc/convert.h"
#include "rpc/data_client.h"
#include "rpc/grpc_peer_stream.h"
#include "rpc/join.h"
#include "rpc/peer_stream.h"
#include "rpc/token.h"
#include "rpc/weft.grpc.pb.h"
#include "weft/serialize.h"

namespace weft::scheduler::testing {
namespace {

using ::weft::internal::MutexLock;
using Stream = rpc::PeerStream<rpc::WorkerMessage, rpc::SchedulerToWorker>;

// The result of `task`: its first argument plus one if that is an int64.
void Answer(const rpc::TaskDef& task, absl::Duration ran,
            rpc::TaskResult& result) {
  result.set_id(task.id());
  result.set_attempt(task.attempt());
  std::string value;
  internal::WireArg arg;
  if (task.args_size() > 0 && rpc::FromArgBytes(task.args(0), arg).ok() &&
      arg.kind == internal::WireArg::Kind::kValue) {
    absl::StatusOr<int64_t> x = Deserialize<int64_t>(arg.value);
    if (x.ok()) value = Serialize<int64_t>(*x + 1);
  }
  result.set_size(value.size());
  result.set_inline_value(std::move(value));
  result.set_run_micros(static_cast<uint64_t>(absl::ToInt64Microseconds(ran)) +
                        1);
}

}  // namespace

struct SimWorkers::Worker {
  int index = 0;
  uint64_t id = 0;
  std::shared_ptr<Stream> stream;
  // With task_time: answers the head of `queue` when it fires.
  std::unique_ptr<rpc::Timer> timer;

  ::weft::internal::Mutex mu;
  std::deque<rpc::TaskDef> queue ABSL_GUARDED_BY(mu);  // with task_time
  bool ended ABSL_GUARDED_BY(mu) = false;
  bool leaving ABSL_GUARDED_BY(mu) = false;
};

uint64_t SimWorkers::RaiseOpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    const rlim_t soft = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) limit.rlim_cur = soft;
  }
  return static_cast<uint64_t>(limit.rlim_cur);
}

SimWorkers::SimWorkers(Options options)
    : options_(std::move(options)),
      loop_(std::make_unique<rpc::EventLoop>(std::max(1, options_.io_threads),
                                             "weft-sim")) {
  channel_ = grpc::CreateCustomChannel(options_.scheduler_address,
                                       grpc::InsecureChannelCredentials(),
                                       rpc::ChannelArgs());
  heartbeat_ =
      std::make_unique<rpc::Timer>(*loop_, [this] { SendHeartbeats(); });
  heartbeat_->ArmEvery(options_.heartbeat_interval);
}

SimWorkers::~SimWorkers() {
  heartbeat_.reset();
  std::vector<std::shared_ptr<Worker>> workers;
  {
    MutexLock lock(&mu_);
    workers.swap(workers_);
  }
  for (auto& w : workers) {
    w->timer.reset();
    w->stream->Close();
  }
  // The streams must go before the loop they were made on (FrameStream's
  // contract): a stream's descriptor leaves the loop as it is destroyed.
  // Handlers still queued on the loop may hold the last reference to some;
  // the loop's destruction drops those first.
  workers.clear();
  loop_.reset();  // joins the loop's threads; nothing of ours runs after
}

absl::Status SimWorkers::Add(int n, int parallel, absl::Duration timeout) {
  std::atomic<int> next{0};
  ::weft::internal::Mutex error_mu;
  absl::Status first_error;
  auto run = [&] {
    for (int i = next++; i < n; i = next++) {
      absl::Status s = JoinOne(timeout);
      if (!s.ok()) {
        MutexLock lock(&error_mu);
        if (first_error.ok()) first_error = s;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 1; t < std::max(1, std::min(parallel, n)); ++t) {
    threads.emplace_back(run);
  }
  run();
  for (std::thread& t : threads) t.join();
  MutexLock lock(&error_mu);
  return first_error;
}

absl::Status SimWorkers::JoinOne(absl::Duration timeout) {
  int index;
  {
    MutexLock lock(&mu_);
    index = next_index_++;
  }
  auto channel = std::static_pointer_cast<grpc::Channel>(channel_);
  if (!channel->WaitForConnected(absl::ToChronoTime(absl::Now() + timeout))) {
    return absl::UnavailableError(absl::StrCat("sim worker: the scheduler at ",
                                               options_.scheduler_address,
                                               " does not answer"));
  }
  std::unique_ptr<rpc::Scheduler::Stub> stub = rpc::Scheduler::NewStub(channel);
  auto context = std::make_unique<grpc::ClientContext>();
  rpc::AttachToken(*context, options_.token);
  // Bounds the handshake; the call ends once the stream moves to frames.
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  auto call = stub->WorkerStream(context.get());
  auto grpc = std::make_unique<
      rpc::GrpcClientPeerStream<rpc::WorkerMessage, rpc::SchedulerToWorker>>(
      channel, std::move(context), std::move(call), options_.scheduler_address);
  rpc::WorkerMessage hello;
  rpc::WorkerInfo* info = hello.mutable_register_();
  // Unique in the process, across SimWorkers too: the scheduler refuses a
  // second worker at a live worker's address (and takes one from the same
  // host and pid at that address for that worker again).
  static std::atomic<uint64_t> joined_in_process{0};
  info->set_address(absl::StrCat("sim-", ::getpid(), "-",
                                 joined_in_process.fetch_add(1), ":1"));
  info->set_host("sim");
  info->set_nthreads(options_.nthreads);
  info->set_pid(::getpid());
  info->set_frames(true);
  absl::StatusOr<rpc::Joined<rpc::WorkerMessage, rpc::SchedulerToWorker>>
      joined =
          rpc::Join(std::move(grpc), hello, options_.scheduler_address, *loop_);
  if (!joined.ok()) return joined.status();
  if (std::string_view(joined->stream->transport()) != "frames") {
    joined->stream->Close();
    return absl::FailedPreconditionError(absl::StrCat(
        "sim worker: no frame stream (", joined->frames_error, ")"));
  }
  auto worker = std::make_shared<Worker>();
  worker->index = index;
  worker->id = joined->first.worker_id();
  worker->stream = std::move(joined->stream);
  if (options_.task_time > absl::ZeroDuration()) {
    std::weak_ptr<Worker> weak = worker;
    worker->timer = std::make_unique<rpc::Timer>(*loop_, [this, weak] {
      if (std::shared_ptr<Worker> w = weak.lock()) OnTaskTimer(w);
    });
  }
  {
    MutexLock lock(&mu_);
    workers_.push_back(worker);
  }
  ++joined_;
  // The first message may carry assignments already.
  OnMessages(worker, joined->first);
  std::weak_ptr<Worker> weak = worker;
  worker->stream->Serve(
      [this, weak](absl::Span<const rpc::SchedulerToWorker* const> messages) {
        std::shared_ptr<Worker> w = weak.lock();
        if (w == nullptr) return;
        for (const rpc::SchedulerToWorker* m : messages) OnMessages(w, *m);
      },
      [this, weak](const absl::Status&) {
        if (std::shared_ptr<Worker> w = weak.lock()) {
          MutexLock lock(&w->mu);
          w->ended = true;
        }
        ++ended_;
      });
  return absl::OkStatus();
}

void SimWorkers::OnMessages(const std::shared_ptr<Worker>& worker,
                            const rpc::SchedulerToWorker& message) {
  if (message.shutdown()) {
    ++shutdown_;
    worker->stream->Close();
    return;
  }
  if (message.assign_size() == 0 && message.cancel_size() == 0) return;
  assigned_ += message.assign_size();
  if (message.assign_size() > 0) ++assign_messages_;
  if (options_.on_assignment) {
    for (const rpc::Assignment& a : message.assign()) options_.on_assignment(a);
  }
  if (options_.task_time <= absl::ZeroDuration()) {
    rpc::WorkerMessage out;
    for (const rpc::Assignment& a : message.assign()) {
      Answer(a.task(), absl::ZeroDuration(), *out.add_results());
    }
    if (out.results_size() > 0 && worker->stream->Send(out)) {
      answered_ += out.results_size();
    }
    return;
  }
  bool start = false;
  {
    MutexLock lock(&worker->mu);
    for (const rpc::TaskAttempt& run : message.cancel()) {
      auto it = std::find_if(worker->queue.begin(), worker->queue.end(),
                             [&run](const rpc::TaskDef& t) {
                               return t.id() == run.id() &&
                                      t.attempt() == run.attempt();
                             });
      // The head "runs": its result is sent anyway, as a real worker's
      // would be (the scheduler drops it).
      if (it != worker->queue.end() && it != worker->queue.begin()) {
        worker->queue.erase(it);
      }
    }
    start = worker->queue.empty() && message.assign_size() > 0;
    for (const rpc::Assignment& a : message.assign()) {
      worker->queue.push_back(a.task());
    }
  }
  if (start) worker->timer->ArmAfter(options_.task_time);
}

void SimWorkers::OnTaskTimer(const std::shared_ptr<Worker>& worker) {
  rpc::WorkerMessage out;
  bool more = false;
  {
    MutexLock lock(&worker->mu);
    if (worker->queue.empty() || worker->ended) return;
    Answer(worker->queue.front(), options_.task_time, *out.add_results());
    worker->queue.pop_front();
    more = !worker->queue.empty();
  }
  if (more) worker->timer->ArmAfter(options_.task_time);
  if (worker->stream->Send(out)) ++answered_;
}

void SimWorkers::SendHeartbeats() {
  std::vector<std::shared_ptr<Worker>> workers;
  {
    MutexLock lock(&mu_);
    workers = workers_;
  }
  for (const std::shared_ptr<Worker>& w : workers) {
    rpc::WorkerMessage beat;
    {
      MutexLock lock(&w->mu);
      if (w->ended || w->leaving) continue;
      beat.mutable_heartbeat()->set_processing(
          static_cast<int>(w->queue.size()));
    }
    if (w->stream->Send(beat)) ++heartbeats_;
  }
}

int SimWorkers::Leave(int n) {
  std::vector<std::shared_ptr<Worker>> leaving;
  {
    MutexLock lock(&mu_);
    for (const std::shared_ptr<Worker>& w : workers_) {
      if (static_cast<int>(leaving.size()) == n) break;
      MutexLock worker_lock(&w->mu);
      if (w->ended || w->leaving) continue;
      w->leaving = true;
      leaving.push_back(w);
    }
  }
  rpc::WorkerMessage bye;
  bye.set_leaving(true);
  for (const std::shared_ptr<Worker>& w : leaving) (void)w->stream->Send(bye);
  for (const std::shared_ptr<Worker>& w : leaving) {
    if (w->timer != nullptr) w->timer->Cancel();
    w->stream->Close(/*drain=*/absl::Seconds(1));
  }
  return static_cast<int>(leaving.size());
}

int SimWorkers::connected() const {
  MutexLock lock(&mu_);
  int n = 0;
  for (const std::shared_ptr<Worker>& w : workers_) {
    MutexLock worker_lock(&w->mu);
    if (!w->ended) ++n;
  }
  return n;
}

std::vector<uint64_t> SimWorkers::ids() const {
  MutexLock lock(&mu_);
  std::vector<uint64_t> ids;
  for (const std::shared_ptr<Worker>& w : workers_) {
    MutexLock worker_lock(&w->mu);
    if (!w->ended) ids.push_back(w->id);
  }
  return ids;
}

SimWorkers::Counts SimWorkers::counts() const {
  Counts c;
  c.joined = joined_.load();
  c.assigned = assigned_.load();
  c.assign_messages = assign_messages_.load();
  c.answered = answered_.load();
  c.heartbeats = heartbeats_.load();
  c.ended = ended_.load();
  c.shutdown = shutdown_.load();
  return c;
}

}  // namespace weft::scheduler::testing
