// Copyright 2026 The weft Authors.
//
// Fuzzes the scheduler's message handlers (scheduler/scheduler_service.h)
// with the messages clients and workers send it: each input is a sequence
// of events read with FuzzedDataProvider, run against a fresh
// SchedulerService with its state machine's invariant checks on.
//   - clients connect and disconnect through the in-process link
//     (rpc/local_link.h) and send ClientMessages: submissions (dependencies,
//     bad num_cpus and retries), puts naming workers' addresses with sizes
//     up to 2^64 - 1, references taken and released, cancels, containment,
//     actors created, killed and looked up, locate, list_workers and
//     telemetry requests, pings; or the input's bytes parsed as one;
//   - workers register through SchedulerService::AddWorkerStream() on a
//     stream made here (addresses, hosts and pids from small pools, so that
//     they collide; thread counts up to 2^31 - 1), and send WorkerMessages:
//     results of the tasks the scheduler assigned them (or of others),
//     failed or not, with sizes and inline values that may not agree;
//     replicas, losses, block changes, actor reports, heartbeats with
//     impossible figures (2^64 - 1 bytes, NaN CPU time, negative counts),
//     leaving and retiring; or the input's bytes parsed as one; and their
//     streams end.
// The scheduler is driven on this thread only (the in-process paths
// deliver on the caller), so an input replays the same way.
//
// Checks, besides the invariants (which abort) and ASan/LSan: no object
// reaches a client announcing more than rpc::kMaxObjectBytes; after every
// registration and at the end, a list_workers answer shows no two workers
// with one data address and every thread count within
// [1, rpc::kMaxWorkerThreads].

#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "fuzz/fuzz_check.h"
#include "rpc/local_link.h"
#include "rpc/peer_stream.h"
#include "rpc/report_limits.h"
#include "rpc/weft.pb.h"
#include "scheduler/scheduler_service.h"

namespace weft::scheduler {
namespace {

using WorkerStreamBase =
    rpc::PeerStream<rpc::SchedulerToWorker, rpc::WorkerMessage>;

constexpr int kMaxEvents = 48;
constexpr uint64_t kIdPool = 12;  // object ids 1..kIdPool, mostly
const char* const kAddresses[] = {"10.0.0.1:7000", "10.0.0.2:7000",
                                  "10.0.0.3:7000", ""};
const char* const kHosts[] = {"host-a", "host-b"};

// A worker's task stream made here: the scheduler's messages are kept
// (their assignments are what the input's results answer); the input's
// messages for the scheduler are delivered on the calling thread.
class FakeWorkerStream final : public WorkerStreamBase {
 public:
  bool Send(const rpc::SchedulerToWorker& message) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!status_.ok()) return false;
    for (const rpc::Assignment& a : message.assign()) {
      assigned_.push_back(a.task().id());
    }
    return true;
  }
  bool Read(rpc::WorkerMessage&, absl::Time) override { return false; }
  void Serve(MessagesHandler on_messages, ClosedHandler on_closed) override {
    std::lock_guard<std::mutex> lock(mu_);
    on_messages_ = std::move(on_messages);
    on_closed_ = std::move(on_closed);
  }
  // A message from the worker (dropped once the stream has ended; only
  // the fuzzer's thread delivers). REQUIRES: Serve() was called.
  void Deliver(const rpc::WorkerMessage& message) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!status_.ok()) return;
      delivering_ = true;
    }
    DeliverOne(on_messages_, message);
    MessagesHandler done;
    {
      std::lock_guard<std::mutex> lock(mu_);
      delivering_ = false;
      if (!status_.ok()) done = std::move(on_messages_);
    }
  }
  // The worker's end of the stream closes.
  void Disconnect() { End(absl::UnavailableError("the worker went")); }
  void Close(absl::Duration) override {
    End(absl::CancelledError("closed by the scheduler"));
  }
  absl::Status status() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }
  bool closed_by_peer() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return absl::IsUnavailable(status_);
  }
  bool delivers_on_caller() const override { return true; }
  const char* transport() const override { return "in-process"; }
  std::string peer() const override { return "the fuzzer"; }

  // A task id the scheduler assigned (the `pick`-th, modulo), or 0.
  uint64_t Assigned(size_t pick) const {
    std::lock_guard<std::mutex> lock(mu_);
    return assigned_.empty() ? 0 : assigned_[pick % assigned_.size()];
  }

 private:
  // Ends the stream once, letting go of the handlers (which hold the
  // scheduler's peer, which holds this stream), as real streams do.
  void End(absl::Status why) {
    ClosedHandler on_closed;
    MessagesHandler on_messages;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!status_.ok()) return;
      status_ = why;
      on_closed = std::move(on_closed_);
      if (!delivering_) on_messages = std::move(on_messages_);
    }
    if (on_closed) on_closed(why);
  }

  mutable std::mutex mu_;
  MessagesHandler on_messages_;  // set by Serve(), before Deliver
  ClosedHandler on_closed_;
  absl::Status status_;
  bool delivering_ = false;
  std::vector<uint64_t> assigned_;
};

// A client's side of the in-process link: checks what arrives.
class FakeClient final : public rpc::LocalClientPeer {
 public:
  void OnMessage(const rpc::SchedulerToClient& message) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const rpc::ObjectDone& done : message.done()) {
      if (!done.failed()) {
        FUZZ_CHECK(done.location().size() <= rpc::kMaxObjectBytes);
        FUZZ_CHECK(done.location().inline_value().size() <=
                   done.location().size());
      }
    }
    if (message.request_id() != 0) {
      last_reply_ = message;
      ++replies_;
    }
  }
  void OnClosed(const std::string&) override {}

  rpc::SchedulerToClient last_reply() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_reply_;
  }
  int replies() const {
    std::lock_guard<std::mutex> lock(mu_);
    return replies_;
  }

 private:
  mutable std::mutex mu_;
  rpc::SchedulerToClient last_reply_;
  int replies_ = 0;
};

struct Client {
  std::shared_ptr<FakeClient> peer;
  uint64_t id = 0;
};

struct Worker {
  std::shared_ptr<FakeWorkerStream> stream;
  WorkerId id = 0;
};

uint64_t PickId(FuzzedDataProvider& in) {
  return in.ConsumeBool() ? in.ConsumeIntegral<uint64_t>()
                          : in.ConsumeIntegralInRange<uint64_t>(1, kIdPool);
}

uint64_t PickSize(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 5)) {
    case 0:
      return in.ConsumeIntegralInRange<uint64_t>(0, 64);
    case 1:
      return rpc::kMaxObjectBytes;
    case 2:
      return rpc::kMaxObjectBytes + 1;
    case 3:
      return std::numeric_limits<uint64_t>::max();
    case 4:
      return uint64_t{1} << 40;
    default:
      return in.ConsumeIntegral<uint64_t>();
  }
}

std::string PickAddress(FuzzedDataProvider& in) {
  return kAddresses[in.ConsumeIntegralInRange<size_t>(
      0, std::size(kAddresses) - 1)];
}

rpc::ClientMessage MakeClientMessage(FuzzedDataProvider& in) {
  rpc::ClientMessage m;
  if (in.ConsumeBool()) {  // the input's bytes as a message
    m.ParseFromString(in.ConsumeRandomLengthString(256));
    return m;
  }
  const int parts = in.ConsumeIntegralInRange(1, 4);
  for (int p = 0; p < parts; ++p) {
    switch (in.ConsumeIntegralInRange(0, 11)) {
      case 0: {
        const int n = in.ConsumeIntegralInRange(1, 3);
        for (int i = 0; i < n; ++i) {
          rpc::TaskDef* t = m.add_submit();
          t->set_id(PickId(in));
          t->set_name("t");
          t->set_function(in.ConsumeBool() ? "f" : "g");
          const int deps = in.ConsumeIntegralInRange(0, 2);
          for (int d = 0; d < deps; ++d) t->add_deps(PickId(in));
          t->set_num_cpus(in.ConsumeIntegralInRange(-1, 3));
          t->set_retries(in.ConsumeIntegralInRange(-1, 2));
          if (in.ConsumeBool()) t->add_borrowed(PickId(in));
        }
        break;
      }
      case 1: {
        rpc::PutDone* put = m.add_puts();
        put->set_id(PickId(in));
        const int n = in.ConsumeIntegralInRange(0, 2);
        for (int i = 0; i < n; ++i) put->add_worker_addresses(PickAddress(in));
        put->set_size(PickSize(in));
        put->set_inline_value(in.ConsumeRandomLengthString(16));
        break;
      }
      case 2:
        m.add_add_ref(PickId(in));
        break;
      case 3:
        m.add_release(PickId(in));
        break;
      case 4:
        m.add_cancel(PickId(in));
        break;
      case 5: {
        rpc::Containment* c = m.add_contain();
        c->set_container(PickId(in));
        c->add_ids(PickId(in));
        break;
      }
      case 6:
        m.set_request_id(in.ConsumeIntegralInRange<uint64_t>(1, 1000));
        m.add_locate(PickId(in));
        break;
      case 7:
        m.set_request_id(in.ConsumeIntegralInRange<uint64_t>(1, 1000));
        m.set_list_workers(true);
        break;
      case 8: {
        rpc::ActorDef* a = m.add_create_actor();
        a->set_id(PickId(in));
        a->set_class_name("A");
        if (in.ConsumeBool()) a->set_name("named");
        m.set_request_id(in.ConsumeIntegralInRange<uint64_t>(1, 1000));
        break;
      }
      case 9:
        m.set_request_id(in.ConsumeIntegralInRange<uint64_t>(1, 1000));
        if (in.ConsumeBool()) {
          m.add_kill_actor(PickId(in));
        } else if (in.ConsumeBool()) {
          m.set_lookup_actor("named");
        } else {
          m.add_actor_status(PickId(in));
        }
        break;
      case 10:
        m.set_request_id(in.ConsumeIntegralInRange<uint64_t>(1, 1000));
        m.mutable_telemetry()->set_max_events(
            in.ConsumeIntegralInRange<uint32_t>(0, 4));
        break;
      default:
        m.set_ping(true);
        break;
    }
  }
  return m;
}

rpc::WorkerMessage MakeRegistration(FuzzedDataProvider& in) {
  rpc::WorkerMessage m;
  rpc::WorkerInfo* info = m.mutable_register_();
  info->set_address(PickAddress(in));
  info->set_host(kHosts[in.ConsumeIntegralInRange(0, 1)]);
  info->set_pid(in.ConsumeIntegralInRange(0, 2));
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0:
      info->set_nthreads(std::numeric_limits<int32_t>::max());
      break;
    case 1:
      info->set_nthreads(in.ConsumeIntegralInRange(-1, 0));
      break;
    default:
      info->set_nthreads(in.ConsumeIntegralInRange(1, 4));
      break;
  }
  return m;
}

double PickCpu(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0:
      return std::nan("");
    case 1:
      return std::numeric_limits<double>::infinity();
    case 2:
      return -1;
    default:
      return in.ConsumeFloatingPointInRange(0.0, 100.0);
  }
}

rpc::WorkerMessage MakeWorkerMessage(FuzzedDataProvider& in,
                                     const FakeWorkerStream& stream) {
  rpc::WorkerMessage m;
  if (in.ConsumeBool() && in.ConsumeBool()) {  // the input's bytes
    m.ParseFromString(in.ConsumeRandomLengthString(256));
    return m;
  }
  auto task = [&] {
    const uint64_t assigned = stream.Assigned(in.ConsumeIntegral<uint8_t>());
    return assigned != 0 && in.ConsumeBool() ? assigned : PickId(in);
  };
  const int parts = in.ConsumeIntegralInRange(1, 3);
  for (int p = 0; p < parts; ++p) {
    switch (in.ConsumeIntegralInRange(0, 7)) {
      case 0:
      case 1: {
        rpc::TaskResult* r = m.add_results();
        r->set_id(task());
        // Attempts are numbered from 1 across the scheduler: small ones
        // are current as often as stale.
        r->set_attempt(in.ConsumeIntegralInRange<uint32_t>(0, 8));
        r->set_failed(in.ConsumeIntegralInRange(0, 3) == 0);
        if (r->failed()) {
          // Unknown kinds too (a newer build's): proto3 enums are open.
          r->mutable_error()->set_kind(
              static_cast<rpc::Error_Kind>(in.ConsumeIntegralInRange(-1, 6)));
          r->mutable_error()->set_message("boom");
        }
        const bool consistent = in.ConsumeBool();
        r->set_inline_value(in.ConsumeRandomLengthString(16));
        r->set_size(consistent ? r->inline_value().size() : PickSize(in));
        r->set_run_micros(in.ConsumeIntegral<uint32_t>());
        if (in.ConsumeBool()) {
          rpc::TaskTransfer* t = r->add_transfers();
          t->set_id(PickId(in));
          t->set_bytes(PickSize(in));
          t->set_path(in.ConsumeIntegralInRange(-1, 3));
          t->set_from(PickAddress(in));
        }
        break;
      }
      case 2:
        m.add_replicas(PickId(in));
        break;
      case 3:
        m.add_lost(task());
        break;
      case 4: {
        rpc::BlockChange* b = m.add_blocking();
        b->set_id(task());
        b->set_blocked(in.ConsumeBool());
        break;
      }
      case 5: {
        rpc::ActorReport* a = m.add_actors();
        a->set_actor(PickId(in));
        a->set_failed(in.ConsumeBool());
        break;
      }
      case 6: {
        rpc::Heartbeat* beat = m.mutable_heartbeat();
        beat->set_memory_bytes(PickSize(in));
        beat->set_rss_bytes(PickSize(in));
        beat->set_cpu_seconds(PickCpu(in));
        beat->set_executing(in.ConsumeIntegral<int32_t>());
        beat->set_processing(in.ConsumeIntegral<int32_t>());
        beat->set_objects(in.ConsumeIntegral<uint64_t>());
        break;
      }
      default:
        if (in.ConsumeBool()) {
          m.set_retiring(true);
        } else {
          m.set_leaving(true);
        }
        break;
    }
  }
  return m;
}

// What a list_workers request shows must hold whatever the workers said.
void CheckWorkers(rpc::LocalLink& link) {
  auto peer = std::make_shared<FakeClient>();
  absl::StatusOr<uint64_t> id = link.Connect("checker", peer);
  FUZZ_CHECK(id.ok());
  rpc::ClientMessage ask;
  ask.set_request_id(1);
  ask.set_list_workers(true);
  FUZZ_CHECK(link.Deliver(*id, ask));
  FUZZ_CHECK(peer->replies() == 1);
  const rpc::SchedulerToClient reply = peer->last_reply();
  std::set<std::string> addresses;
  for (const rpc::WorkerInfo& w : reply.workers()) {
    FUZZ_CHECK(w.nthreads() >= 1 && w.nthreads() <= rpc::kMaxWorkerThreads);
    if (!w.address().empty()) {
      FUZZ_CHECK(addresses.insert(w.address()).second);
    }
  }
  link.Disconnect(*id);
}

void Run(FuzzedDataProvider& in) {
  SchedulerService::Options options;
  options.token = "fuzz";
  options.io_threads = 1;
  options.state.check_invariants = true;
  // Nobody is dropped for silence while an input runs: time plays no part.
  options.state.heartbeat_timeout = absl::Hours(1);
  options.client_timeout = absl::Hours(1);
  options.monitor_interval = absl::Hours(1);
  auto service = std::make_unique<SchedulerService>(options);
  std::shared_ptr<rpc::LocalLink> link = service->local_link();
  std::vector<Client> clients;
  std::vector<Worker> workers;
  // After each registration and at the end (a check is a client's round
  // trip, which would otherwise dominate the time of an input).
  bool checks_due = false;
  for (int event = 0; event < kMaxEvents && in.remaining_bytes() > 0;
       ++event) {
    switch (in.ConsumeIntegralInRange(0, 6)) {
      case 0: {
        Client c;
        c.peer = std::make_shared<FakeClient>();
        absl::StatusOr<uint64_t> id = link->Connect("fuzzed", c.peer);
        FUZZ_CHECK(id.ok());
        c.id = *id;
        clients.push_back(std::move(c));
        break;
      }
      case 1:
      case 2: {
        if (clients.empty()) break;
        const Client& c = clients[in.ConsumeIntegralInRange<size_t>(
            0, clients.size() - 1)];
        (void)link->Deliver(c.id, MakeClientMessage(in));
        break;
      }
      case 3: {
        Worker w;
        w.stream = std::make_shared<FakeWorkerStream>();
        absl::StatusOr<WorkerId> id =
            service->AddWorkerStream(w.stream, MakeRegistration(in));
        if (!id.ok()) {
          FUZZ_CHECK(absl::IsInvalidArgument(id.status()) ||
                     absl::IsUnavailable(id.status()));
          break;
        }
        w.id = *id;
        workers.push_back(std::move(w));
        checks_due = true;
        break;
      }
      case 4:
      case 5: {
        if (workers.empty()) break;
        Worker& w = workers[in.ConsumeIntegralInRange<size_t>(
            0, workers.size() - 1)];
        w.stream->Deliver(MakeWorkerMessage(in, *w.stream));
        break;
      }
      default: {
        if (in.ConsumeBool() && !workers.empty()) {
          const size_t i =
              in.ConsumeIntegralInRange<size_t>(0, workers.size() - 1);
          workers[i].stream->Disconnect();
        } else if (!clients.empty()) {
          const size_t i =
              in.ConsumeIntegralInRange<size_t>(0, clients.size() - 1);
          link->Disconnect(clients[i].id);
          clients.erase(clients.begin() + static_cast<ptrdiff_t>(i));
        }
        break;
      }
    }
    if (checks_due) CheckWorkers(*link);
    checks_due = false;
  }
  CheckWorkers(*link);
  service->Shutdown();
  service.reset();
}

}  // namespace
}  // namespace weft::scheduler

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  weft::scheduler::Run(in);
  return 0;
}
