// Copyright 2026 The weft Authors.
//
// Fuzzes the worker's handler of the scheduler's messages (worker/worker.h)
// with what a broken or hostile scheduler could send. Each input is a
// sequence of events read with FuzzedDataProvider, played on a session of
// its own against a Worker of two task slots that joined a fake scheduler
// in this process (worker/testing/fake_scheduler.h):
//   - assignments (one to three per message) of registered functions and of
//     unknown ones, with arguments that are true encodings, the input's
//     bytes, or references to inputs; inputs given inline (true encodings
//     or the input's bytes, sizes that agree or not, up to 2^64 - 1; one in
//     four ids marked keep, as an input many tasks take) or held
//     at addresses (the worker's own data service, or a port nobody
//     listens on); ids and attempts from small pools, so that they repeat;
//     any num_cpus and priority; actor calls, to actors placed or not;
//   - cancels of any attempt, releases, copies to fetch (StartCopy);
//   - actors placed (a registered class or an unknown one, constructor
//     arguments of any bytes, max_concurrency and num_cpus of any value)
//     and stopped;
//   - the input's bytes parsed as a SchedulerToWorker;
//   - waits for the worker to settle, and the scheduler's end of the stream
//     closing (the worker rejoins; the fuzzer takes the new session).
// Addresses in messages are always one of the two above, so that the
// worker never dials anything else.
//
// The worker. Starting and stopping one (its data service, task threads
// and fiber stacks) took more than half of an input's CPU, so most inputs
// share one worker that lives on between them. At the end of each input
// the scheduler's end of its session closes, as in the event above: the
// worker drops what it held (runs, objects, actors) and rejoins at once
// (its first attempt to join does not wait; only retries back off), and
// the next input plays on that new session. Runs of an earlier session
// that are still going report to the session that assigned them, which
// has ended, so nothing of one input reaches the next one's session (the
// checks below hold the worker to that). The shared worker is told
// shutdown, and replaced by a new one at the next input, when an input's
// parsed message says shutdown and after kInputsPerWorker inputs (which
// bounds what a long-lived worker accumulates; see Harness::Stop). Inputs
// whose size is a multiple of kFreshWorkerEvery (16: one in 16, decided
// by no byte, so the corpus keeps its meaning) get a worker and a fake
// scheduler of their own instead, started for them and told shutdown at
// their end, however they left the slots: each input's full life cycle,
// every code path of a worker per input.
//
// Checks, besides ASan: every result names an (id, attempt) assigned in
// its session, at most once per assignment; a result's inline value is at
// most the inline limit and agrees with its size; a FuzzAdd of two true
// encodings, its id assigned once (under any attempt: a later attempt of
// an id whose earlier result the worker holds reports that result) and
// neither cancelled nor released, that succeeded has their sum, unless its
// id was named as an input or copy (objects are immutable: a worker that
// holds the object already keeps that value and reports it; worker_test's
// ATaskOfAnObjectHeldAlreadyReportsTheHeldValue); replicas are reported only
// for objects the session named as inputs or copies; the worker rejoins within
// 30 s of a session's end; Run() returns 0 within 30 s of the shutdown (no
// hang, however the input left its slots). LeakSanitizer checks at exit only
// (tools/fuzz.sh turns libFuzzer's check after each input off for this
// target): the shared worker's memory outlives inputs. At exit the shared
// worker is stopped (its threads joined) before that check, and its
// harness, never destroyed, is reachable; objects of gRPC's own thread
// pool that the check may catch as its threads start are recognized by
// what they hold and not counted (fuzz/exit_leaks.h).
//
// Reproducing a finding. libFuzzer saves the input that failed, not the
// ones before it; on the shared worker a finding may depend on what they
// left (runs still going, a gRPC channel's state). Run the saved input
// alone first (tools/fuzz.sh worker_fuzzer 0 FILE: it is the first input
// of a new shared worker, or gets a worker of its own). If it passes,
// repeat it on one worker (add -runs=1000 to run it 1000 times) and replay
// it after the corpus, the inputs a run starts with (tools/fuzz.sh
// worker_fuzzer 0 fuzz/corpus/worker_fuzzer/* FILE). With WEFT_FUZZ_TRACE=1
// in the environment, the run prints every message sent and read.

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "fuzz/exit_leaks.h"
#include "fuzz/fuzz_check.h"
#include "google/protobuf/message.h"
#include "rpc/weft.pb.h"
#include "weft/actor.h"
#include "weft/api.h"
#include "weft/internal/inline_limit.h"
#include "weft/registry.h"
#include "weft/serialize.h"
#include "worker/testing/fake_scheduler.h"
#include "worker/worker.h"

// An actor class (WEFT_ACTOR wants a named namespace).
namespace weft_worker_fuzzer {

class FuzzCounter {
 public:
  explicit FuzzCounter(int64_t start) : n_(start) {}
  int64_t Add(int64_t d) { return n_ = static_cast<int64_t>(static_cast<uint64_t>(n_) +
                                      static_cast<uint64_t>(d)); }
  int64_t Get() const { return n_; }

 private:
  int64_t n_;
};
WEFT_ACTOR(FuzzCounter(int64_t), &FuzzCounter::Add, &FuzzCounter::Get);

}  // namespace weft_worker_fuzzer

namespace {

using weft::rpc::SchedulerToWorker;
using weft::rpc::WorkerMessage;
using weft::worker::testing::FakeScheduler;

int64_t FuzzAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) +
                              static_cast<uint64_t>(b));
}
int64_t FuzzThrow(int64_t) { throw std::runtime_error("FuzzThrow threw"); }
std::string FuzzEcho(std::string s) { return s; }
double FuzzSum(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return sum;
}
// A reference other than an empty one needs the nested client to decode,
// which the fake scheduler never gives. An empty one (id 0) decodes, and
// get() of it throws UsageError. (This function once called ref.id(),
// which requires a valid reference: the first input that reached it with
// an empty one, after some 3.6 million inputs in all, crashed the harness.)
int64_t FuzzDeref(weft::ObjectRef<int64_t> ref) { return weft::get(ref); }
WEFT_REMOTE(FuzzAdd, FuzzThrow, FuzzEcho, FuzzSum, FuzzDeref);



constexpr int kMaxEvents = 32;
// The longest a settle waits. A settle ends at the first heartbeat that
// says nothing runs, within a few milliseconds for most; the rest wait for
// a run that cannot start before the session ends, such as an actor call
// numbered after one never sent (it waits for that one, as a call from a
// real scheduler, which numbers without gaps, would). At 200 ms, a run of
// the fuzzer whose inputs went that way ran 39 inputs a second, waiting,
// against 140 for another.
constexpr absl::Duration kSettle = absl::Milliseconds(50);
constexpr absl::Duration kJoin = absl::Seconds(30);
// How often the worker heartbeats. A settle ends at the first heartbeat
// that says nothing runs: at 1 ms rather than 5, the 328 settles of the
// corpus took 0.6 s instead of 2.1 (the wait for that heartbeat was most
// of their time).
constexpr std::chrono::milliseconds kHeartbeat{1};
// Inputs of a size that is a multiple of this get a worker of their own.
constexpr size_t kFreshWorkerEvery = 16;
// The shared worker is replaced after this many inputs (see Harness::Stop).
constexpr int kInputsPerWorker = 1000;

const char* const kFunctions[] = {"FuzzAdd",  "FuzzThrow", "FuzzEcho",
                                  "FuzzSum",  "FuzzDeref", "NoSuchFunction",
                                  "Add",      "Get",       ""};
const char* const kClasses[] = {"FuzzCounter", "NoSuchClass", ""};

// A span of time (kJoin) that counts only while this process runs. A
// benchmark pauses the fuzzers with SIGSTOP; a wait of the harness that
// the pause spanned timed out as the process resumed, before the worker's
// threads had run again (a false finding on 6 December 2026, after a
// 70 s pause). Waits go in slices of at most kSlice, and each charges
// the wall time it took, but at most kMaxCharge: a longer one was a
// pause (or a machine too loaded to run the process at all).
class RunningTime {
 public:
  static constexpr absl::Duration kSlice = absl::Milliseconds(100);
  static constexpr absl::Duration kMaxCharge = absl::Seconds(1);

  explicit RunningTime(absl::Duration span) : left_(span), last_(absl::Now()) {}

  // Charges the time since the last call (or construction), at most
  // kMaxCharge, and says whether any of the span is left.
  bool Left() {
    const absl::Time now = absl::Now();
    left_ -= std::min(now - last_, kMaxCharge);
    last_ = now;
    return left_ > absl::ZeroDuration();
  }

  // The next wait: at most kSlice.
  absl::Duration Slice() const { return std::min(left_, kSlice); }

 private:
  absl::Duration left_;
  absl::Time last_;
};

// What one session was told, for the checks.
struct Told {
  // Assignments per (id, attempt), and which of them are cancelled.
  std::map<std::pair<uint64_t, uint32_t>, int> assigned;
  std::set<std::pair<uint64_t, uint32_t>> cancelled;
  // The expected sum of a FuzzAdd of two true encodings.
  std::map<std::pair<uint64_t, uint32_t>, int64_t> sums;
  std::map<std::pair<uint64_t, uint32_t>, int> results;
  std::set<uint64_t> inputs;  // objects named as inputs or copies
  // Objects released (a result released while its task runs may come back
  // without its value: the store no longer has it).
  std::set<uint64_t> released;
};

class Player {
 public:
  Player(FuzzedDataProvider& in, std::string own_address)
      : in_(in), own_address_(std::move(own_address)) {}

  uint64_t Id() {
    return in_.ConsumeBool() ? in_.ConsumeIntegralInRange<uint64_t>(1, 8)
                             : in_.ConsumeIntegral<uint64_t>();
  }
  uint32_t Attempt() { return in_.ConsumeIntegralInRange<uint32_t>(0, 3); }
  std::string Address() {
    return in_.ConsumeBool() ? own_address_ : "127.0.0.1:1";
  }

  // An input of a task or actor: inline or held somewhere.
  weft::rpc::Location Location(uint64_t id) {
    weft::rpc::Location l;
    l.set_id(id);
    switch (in_.ConsumeIntegralInRange(0, 3)) {
      case 0: {
        const std::string v =
            weft::Serialize<int64_t>(in_.ConsumeIntegral<int64_t>());
        l.set_inline_value(v);
        l.set_size(v.size());
        break;
      }
      case 1:
        l.set_inline_value(in_.ConsumeRandomLengthString(64));
        l.set_size(in_.ConsumeIntegral<uint64_t>());
        break;
      default:
        l.set_size(in_.ConsumeBool() ? in_.ConsumeIntegralInRange<uint64_t>(
                                           0, 1 << 20)
                                     : in_.ConsumeIntegral<uint64_t>());
        for (int n = in_.ConsumeIntegralInRange(0, 2); n > 0; --n) {
          l.add_addresses(Address());
        }
        break;
    }
    // An inline input marked keep (as one many tasks take) becomes a copy
    // the worker reports. Decided by the id, so that no byte is read and
    // the corpus keeps its meaning.
    l.set_keep(!l.inline_value().empty() && id % 4 == 0);
    told_.inputs.insert(id);
    return l;
  }

  // Arguments into `args` (and their inputs into `deps`); returns the
  // int64 values if every argument was a true int64 encoding.
  std::vector<int64_t> Arguments(
      google::protobuf::RepeatedPtrField<weft::rpc::Arg>* args,
      google::protobuf::RepeatedPtrField<weft::rpc::Location>* deps,
      google::protobuf::RepeatedField<uint64_t>* dep_ids, bool* all_ints) {
    std::vector<int64_t> ints;
    *all_ints = true;
    for (int n = in_.ConsumeIntegralInRange(0, 3); n > 0; --n) {
      weft::rpc::Arg* arg = args->Add();
      switch (in_.ConsumeIntegralInRange(0, 4)) {
        case 0: {
          const int64_t x = in_.ConsumeIntegral<int64_t>();
          arg->set_value(weft::Serialize<int64_t>(x));
          ints.push_back(x);
          continue;
        }
        case 1:
          arg->set_value(weft::Serialize(in_.ConsumeRandomLengthString(32)));
          break;
        case 2:
          arg->set_value(weft::Serialize(std::vector<double>(
              in_.ConsumeIntegralInRange<size_t>(0, 64), 0.5)));
          break;
        case 3:
          arg->set_value(in_.ConsumeRandomLengthString(32));
          break;
        default: {
          const uint64_t id = Id();
          arg->set_ref(id);
          dep_ids->Add(id);
          *deps->Add() = Location(id);
          break;
        }
      }
      *all_ints = false;
    }
    return ints;
  }

  void Assign(SchedulerToWorker& m) {
    for (int n = in_.ConsumeIntegralInRange(1, 3); n > 0; --n) {
      weft::rpc::Assignment* a = m.add_assign();
      weft::rpc::TaskDef* t = a->mutable_task();
      t->set_id(Id());
      t->set_attempt(Attempt());
      const std::string function =
          in_.ConsumeBool() ? in_.PickValueInArray(kFunctions)
                            : in_.ConsumeRandomLengthString(16);
      t->set_function(function);
      t->set_name(function);
      t->set_num_cpus(in_.ConsumeBool() ? in_.ConsumeIntegralInRange(0, 3)
                                        : in_.ConsumeIntegral<int32_t>());
      t->set_priority(in_.ConsumeIntegral<int32_t>());
      if (in_.ConsumeIntegralInRange(0, 4) == 0) {
        weft::rpc::ActorCall* call = t->mutable_actor_call();
        call->set_actor(Id());
        call->set_caller(in_.ConsumeIntegralInRange<uint64_t>(0, 2));
        call->set_seq(in_.ConsumeIntegralInRange<uint64_t>(0, 4));
        call->set_first_unfinished(in_.ConsumeIntegralInRange<uint64_t>(0, 4));
      }
      bool all_ints = false;
      google::protobuf::RepeatedPtrField<weft::rpc::Arg> args;
      const std::vector<int64_t> ints =
          Arguments(&args, a->mutable_deps(), t->mutable_deps(), &all_ints);
      // Now and then an argument that is not an Arg at all: the task fails
      // with an error saying so.
      if (in_.ConsumeIntegralInRange(0, 15) == 0) {
        args.Clear();
        t->add_args(in_.ConsumeRandomLengthString(16));
        all_ints = false;
      }
      for (const weft::rpc::Arg& arg : args) {
        t->add_args(arg.SerializeAsString());
      }
      const auto key = std::make_pair(t->id(), t->attempt());
      if (++told_.assigned[key] == 1 && function == "FuzzAdd" && all_ints &&
          ints.size() == 2 && !t->has_actor_call()) {
        told_.sums[key] = FuzzAdd(ints[0], ints[1]);
      } else {
        told_.sums.erase(key);
      }
    }
  }

  void PlaceActor(SchedulerToWorker& m) {
    weft::rpc::ActorPlacement* p = m.add_place_actor();
    weft::rpc::ActorDef* def = p->mutable_def();
    def->set_id(Id());
    def->set_class_name(in_.ConsumeBool() ? in_.PickValueInArray(kClasses)
                                          : in_.ConsumeRandomLengthString(16));
    def->set_num_cpus(in_.ConsumeIntegral<int32_t>());
    def->set_max_concurrency(in_.ConsumeBool()
                                 ? in_.ConsumeIntegralInRange(0, 4)
                                 : in_.ConsumeIntegral<int32_t>());
    bool all_ints = false;
    Arguments(def->mutable_args(), p->mutable_deps(), def->mutable_deps(),
              &all_ints);
  }

  // The input's bytes as a message; its addresses replaced by ours.
  void Raw(SchedulerToWorker& m) {
    if (!m.ParseFromString(in_.ConsumeRandomLengthString(256))) {
      m.Clear();  // a failed parse may leave part of a message
      return;
    }
    auto fix = [&](weft::rpc::Location& l) {
      for (std::string& a : *l.mutable_addresses()) a = Address();
      told_.inputs.insert(l.id());
    };
    for (weft::rpc::Assignment& a : *m.mutable_assign()) {
      for (weft::rpc::Location& l : *a.mutable_deps()) fix(l);
      const auto key = std::make_pair(a.task().id(), a.task().attempt());
      ++told_.assigned[key];
      told_.sums.erase(key);
    }
    for (weft::rpc::Location& l : *m.mutable_fetch()) fix(l);
    for (weft::rpc::ActorPlacement& p : *m.mutable_place_actor()) {
      for (weft::rpc::Location& l : *p.mutable_deps()) fix(l);
    }
    for (const weft::rpc::TaskAttempt& c : m.cancel()) {
      told_.cancelled.insert({c.id(), c.attempt()});
    }
    told_.released.insert(m.release().begin(), m.release().end());
  }

  SchedulerToWorker Next() {
    SchedulerToWorker m;
    switch (in_.ConsumeIntegralInRange(0, 9)) {
      case 0:
      case 1:
      case 2:
        Assign(m);
        break;
      case 3: {
        weft::rpc::TaskAttempt* c = m.add_cancel();
        c->set_id(Id());
        c->set_attempt(Attempt());
        told_.cancelled.insert({c->id(), c->attempt()});
        break;
      }
      case 4:
        m.add_release(Id());
        told_.released.insert(m.release(0));
        break;
      case 5:
        *m.add_fetch() = Location(Id());
        break;
      case 6:
        PlaceActor(m);
        break;
      case 7:
        m.add_stop_actor(Id());
        break;
      default:
        Raw(m);
        break;
    }
    return m;
  }

  Told& told() { return told_; }
  void NewSession() { told_ = Told(); }

 private:
  FuzzedDataProvider& in_;
  const std::string own_address_;
  Told told_;
};

// With WEFT_FUZZ_TRACE set, prints each message sent (>>>) and read (<<<),
// for reading what a saved input does.
void Trace(const char* way, const google::protobuf::Message& m) {
  static const bool on = std::getenv("WEFT_FUZZ_TRACE") != nullptr;
  if (on) std::fprintf(stderr, "%s %s\n", way, m.ShortDebugString().c_str());
}

// How many times the session assigned `id`, under any attempt. A worker
// that holds an object already (an earlier attempt's result) reports the
// value it holds for a later attempt, whatever that attempt's arguments say.
int AssignmentsOf(const Told& told, uint64_t id) {
  int n = 0;
  for (auto it = told.assigned.lower_bound({id, 0});
       it != told.assigned.end() && it->first.first == id; ++it) {
    n += it->second;
  }
  return n;
}

// Checks what the worker said against what its session was told.
void Check(const WorkerMessage& m, Told& told) {
  for (const weft::rpc::TaskResult& r : m.results()) {
    const auto key = std::make_pair(r.id(), r.attempt());
    auto assigned = told.assigned.find(key);
    FUZZ_CHECK(assigned != told.assigned.end());
    FUZZ_CHECK(++told.results[key] <= assigned->second);
    FUZZ_CHECK(r.inline_value().size() <= weft::internal::kInlineValueBytes);
    if (!r.failed() && !r.inline_value().empty()) {
      FUZZ_CHECK(r.size() == r.inline_value().size());
    }
    auto sum = told.sums.find(key);
    if (!r.failed() && sum != told.sums.end() &&
        AssignmentsOf(told, r.id()) == 1 && !told.cancelled.contains(key) &&
        !told.released.contains(r.id()) && !told.inputs.contains(r.id())) {
      absl::StatusOr<int64_t> v = weft::Deserialize<int64_t>(r.inline_value());
      FUZZ_CHECK(v.ok() && *v == sum->second);
    }
  }
  for (uint64_t id : m.replicas()) FUZZ_CHECK(told.inputs.contains(id));
}

// Reads what the worker sent until `deadline`, checking each message.
// Returns true early once a heartbeat says nothing runs (settled).
bool Drain(FakeScheduler::Stream& stream, Told& told, absl::Time deadline) {
  WorkerMessage m;
  while (stream.Read(m, deadline)) {
    Trace("<<<", m);
    Check(m, told);
    if (m.has_heartbeat() && m.heartbeat().processing() == 0) return true;
  }
  return false;
}

weft::worker::WorkerOptions Options() {
  weft::worker::WorkerOptions o;
  o.scheduler_address = "fuzzed-scheduler:1";
  o.token = weft::rpc::TokenSource::Literal("fuzz");
  o.nthreads = 2;
  o.host = "127.0.0.1";
  o.heartbeat_interval = kHeartbeat;
  o.connect_timeout = std::chrono::seconds(30);
  o.rejoin_timeout = std::chrono::seconds(30);
  o.retire_timeout = std::chrono::milliseconds(0);
  o.supervised = false;
  return o;
}

// A worker, the fake scheduler it joined, and its current session. The
// fuzzer's thread only.
class Harness {
 public:
  Harness() = default;
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;
  // REQUIRES: no worker runs (never started, or Stop() returned).
  ~Harness() = default;

  // Starts a worker and takes its first session.
  // REQUIRES: no worker runs.
  void Start() {
    worker_ = std::make_unique<weft::worker::Worker>(Options(),
                                                     scheduler_.Connector());
    code_ = -1;
    run_ = std::thread([this] { code_ = worker_->Run(); });
    TakeSession();
  }

  bool running() const { return worker_ != nullptr; }
  FakeScheduler::Stream& stream() { return *session_.stream; }
  // The worker's data service.
  const std::string& address() const { return session_.info.address(); }

  // The scheduler's end of the session closes; what the worker sent on it
  // is checked against `told`. The worker rejoins: its new session is the
  // current one (the caller starts a new record for it).
  void Rejoin(Told& told) {
    session_.stream->Close();
    Drain(*session_.stream, told, absl::Now());
    TakeSession();
  }

  // The scheduler says shutdown: Run() returns 0 within kJoin (of running
  // time, above), once the running tasks finish, however the input left
  // the slots. Then the worker is gone, with whatever it accumulated. (The
  // first shared worker found one such thing: the thread of each copy was
  // joined only as Run() returned, and kept its stack mapped until then,
  // about a mapping per input; fixed in the worker.)
  void Stop(Told& told) {
    SchedulerToWorker bye;
    bye.set_shutdown(true);
    session_.stream->Send(bye);
    RunningTime span(kJoin);
    while (code_.load() < 0 && span.Left()) {
      if (!Drain(*session_.stream, told, absl::Now() + absl::Milliseconds(5))) {
        absl::SleepFor(absl::Milliseconds(1));  // the stream may have ended
      }
    }
    FUZZ_CHECK(code_.load() == 0);
    run_.join();
    worker_.reset();
  }

 private:
  void TakeSession() {
    absl::StatusOr<FakeScheduler::Joined> session =
        absl::DeadlineExceededError("");
    for (RunningTime span(kJoin); !session.ok() && span.Left();) {
      session = scheduler_.NextSession(span.Slice());
    }
    FUZZ_CHECK(session.ok());
    session_ = *std::move(session);
  }

  FakeScheduler scheduler_;  // outlives the worker
  std::unique_ptr<weft::worker::Worker> worker_;
  std::atomic<int> code_{-1};  // what Run() returned; -1 while it runs
  std::thread run_;
  FakeScheduler::Joined session_;
};

// Plays the input's events on `harness`'s current session (and those it
// rejoins). Returns true if the input ended with a message that says
// shutdown (not sent: the caller stops the worker).
bool Play(FuzzedDataProvider& in, Harness& harness, Player& player) {
  for (int event = 0; event < kMaxEvents && in.remaining_bytes() > 0;
       ++event) {
    const int what = in.ConsumeIntegralInRange(0, 15);
    if (what == 14) {  // let the worker settle
      Drain(harness.stream(), player.told(), absl::Now() + kSettle);
      continue;
    }
    if (what == 15) {  // the scheduler goes away; the worker rejoins
      harness.Rejoin(player.told());
      player.NewSession();
      continue;
    }
    const SchedulerToWorker m = player.Next();
    if (m.shutdown()) return true;
    Trace(">>>", m);
    harness.stream().Send(m);
    Drain(harness.stream(), player.told(), absl::Now());
  }
  return false;
}

// The shared worker's harness. Never destroyed (a worker may still run
// when the process exits), but its worker is stopped at exit, before
// LeakSanitizer's check there, which ExcuseLibraryLeaks runs. Otherwise
// the check ran while the worker's threads still ran, and reported what
// they held (the registrations of their thread_local destructors among
// it) as leaks. libFuzzer's normal exits (-runs, -max_total_time) call
// exit(); SIGINT and findings call _Exit, which runs neither.
Harness* shared_harness = nullptr;

void StopSharedWorker() {
  if (shared_harness->running()) {
    Told told;  // the session it was on is new: nothing was told on it
    shared_harness->Stop(told);
  }
  weft::fuzz::ExcuseLibraryLeaks();
}

Harness* NewSharedHarness() {
  shared_harness = new Harness;
  std::atexit(StopSharedWorker);
  return shared_harness;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  weft::fuzz::KeepReportStream();  // before -close_fd_mask=2 takes stderr
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  if (size % kFreshWorkerEvery == 0) {  // a worker of its own
    Harness fresh;
    fresh.Start();
    Player player(in, fresh.address());
    Play(in, fresh, player);
    fresh.Stop(player.told());
    return 0;
  }
  static Harness* const shared = NewSharedHarness();
  static int inputs = 0;  // played on the shared worker since it started
  if (!shared->running()) {
    shared->Start();
    inputs = 0;
  }
  Player player(in, shared->address());
  const bool shutdown = Play(in, *shared, player);
  if (shutdown || ++inputs == kInputsPerWorker) {
    shared->Stop(player.told());
  } else {
    shared->Rejoin(player.told());  // the next input's session
  }
  return 0;
}
