// Copyright 2026 The weft Authors.
//
// Where the bytes of one pending task go (benchmark W7): live heap bytes per
// task of each structure a LocalCluster keeps for N independent tiny tasks,
// measured one structure at a time with jemalloc's own counters, then the
// whole path end to end. Each structure is built the way the runtime builds
// it (the cluster client's per-object records, the protobuf batch, the
// scheduler's TaskDefs and state), so the rows add up to what W7 measures.
//
//   bazel run --config=opt //bench:task_memory_bench [-- N]
//
// Heap figures are jemalloc's stats.allocated (bytes handed out, rounded up
// to jemalloc's size classes, so allocator rounding is included); RSS
// figures also include pages jemalloc keeps after frees and pages of
// messages already gone. Needs jemalloc (the default malloc of opt builds).

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/clock.h"
#include "rpc/convert.h"
#include "rpc/heap.h"
#include "rpc/process_stats.h"
#include "rpc/weft.pb.h"
#include "scheduler/compact_bytes.h"
#include "scheduler/scheduler_state.h"
#include "scheduler/slot_index.h"
#include "scheduler/slot_set.h"
#include "weft/weft.h"

extern "C" size_t nallocx(size_t size, int flags) __attribute__((weak));

namespace {

int64_t Inc(int64_t x) { return x + 1; }
WEFT_REMOTE(Inc);

using Clock = std::chrono::steady_clock;
using weft::internal::ObjectState;
using weft::rpc::LiveHeapBytes;
using weft::rpc::ProcessRssBytes;
using weft::rpc::ReturnFreedMemory;

// jemalloc's size class for a request of `n` bytes.
size_t SizeClass(size_t n) { return nallocx(n, 0); }

// Heap bytes per task of what `build` keeps alive, until `done` is called.
class Meter {
 public:
  explicit Meter(size_t n)
      : n_(n), before_(static_cast<double>(LiveHeapBytes())) {}
  double PerTask() const {
    return (static_cast<double>(LiveHeapBytes()) - before_) / n_;
  }

 private:
  size_t n_;
  double before_;
};

void Row(const std::string& what, double bytes, const std::string& how) {
  std::printf("  %-52s %7.1f  %s\n", what.c_str(), bytes, how.c_str());
}

// What ClusterConnection::Track attaches to each object: a hook holding a
// weak pointer back to the connection (rpc/cluster_runtime.cc, Releaser).
class Releaser final : public weft::internal::ObjectOwner {
 public:
  explicit Releaser(std::weak_ptr<int> connection)
      : connection_(std::move(connection)) {}
  void Release(uint64_t) override {}

 private:
  std::weak_ptr<int> connection_;
};

// The protobuf TaskDef of Inc(i), filled as ClusterRuntime::Submit does.
void FillTaskDef(int64_t i, uint64_t id, weft::rpc::TaskDef& def) {
  weft::internal::TaskSpec spec =
      weft::internal::MakeTaskSpec(&Inc, weft::TaskOptions{}, i);
  std::vector<weft::internal::WireArg> args;
  if (!spec.body->ToWire(args, nullptr).ok()) std::abort();
  def.set_id(id);
  def.set_name("Inc");
  def.set_function("Inc");
  for (const auto& a : args) def.add_args(weft::rpc::ArgBytes(a));
  def.set_retries(0);
  def.set_num_cpus(1);
  def.set_priority(0);
}

// The scheduler's TaskDef as scheduler_service.cc's FromProto builds it
// (args: the whole definition re-serialized).
weft::scheduler::TaskDef FromProto(const weft::rpc::TaskDef& def) {
  weft::scheduler::TaskDef task;
  task.id = def.id();
  task.name = def.name();
  task.function = def.function();
  task.deps.assign(def.deps().begin(), def.deps().end());
  task.args = def.SerializeAsString();
  task.retries = def.retries();
  task.num_cpus = def.num_cpus() <= 0 ? 1 : def.num_cpus();
  task.priority = def.priority();
  return task;
}

void Client(size_t n) {
  std::printf("client, per pending task                          bytes\n");
  {
    Meter m(n);
    std::vector<weft::Delayed<int64_t>> ds;
    ds.reserve(n);
    const double vec = m.PerTask();
    for (size_t i = 0; i < n; ++i) ds.push_back(weft::delayed(Inc)(i));
    Row("Delayed graph node (delayed(Inc)(i))", m.PerTask() - vec,
        "delayed variant only");
    Row("  the caller's vector<Delayed>", vec, "delayed variant only");
  }
  std::shared_ptr<int> connection = std::make_shared<int>(0);
  std::vector<std::shared_ptr<ObjectState>> states;
  {
    Meter m(n);
    states.reserve(n);
    Row("the caller's vector<ObjectRef>", m.PerTask(), "one shared_ptr");
  }
  {
    Meter m(n);
    for (size_t i = 0; i < n; ++i) {
      states.push_back(std::make_shared<ObjectState>(i + 1, "Inc"));
    }
    Row("ObjectState (make_shared)", m.PerTask(),
        "object + control block, in its size class");
  }
  {
    Meter m(n);
    for (auto& s : states) {
      s->set_owner(std::make_shared<Releaser>(connection));
    }
    Row("release hook (a Releaser per object)", m.PerTask(),
        "rpc/cluster_runtime.cc, Track");
  }
  {
    Meter m(n);
    absl::flat_hash_map<uint64_t, std::weak_ptr<ObjectState>> objects;
    for (auto& s : states) objects[s->id()] = s;
    Row("objects_ entry (flat_hash_map<id, weak_ptr>)", m.PerTask(),
        "rpc/cluster_runtime.cc");
  }
  std::printf("client, per finished task (in addition)\n");
  {
    Meter m(n);
    for (auto& s : states) s->SetRemote(nullptr, std::string(8, 'x'), true);
    Row("ObjectState's Remote block (SetRemote)", m.PerTask(),
        "8-byte value inline");
  }
  {
    Meter m(n);
    auto decode = [](std::string_view bytes,
                     weft::internal::RefResolver*) -> absl::StatusOr<
                      weft::internal::AnyValue> {
      return weft::internal::AnyValue::Make(static_cast<int64_t>(bytes[0]));
    };
    for (auto& s : states) (void)s->Materialize(decode);
    Row("decoded value (Materialize, on get)", m.PerTask(), "an int64_t");
  }
  {
    Meter m(n);
    absl::flat_hash_map<uint64_t, std::vector<std::string>> locations;
    for (auto& s : states) {
      locations[s->id()].assign({std::string("127.0.0.1:41234")});
    }
    Row("locations_ entry (flat_hash_map<id, vector<string>>)",
        m.PerTask(), "rpc/cluster_runtime.cc, OnDone");
  }
  std::printf("  sizeof(ObjectState) = %zu, in a %zu-byte block\n",
              sizeof(ObjectState), SizeClass(sizeof(ObjectState) + 16));
}

void Wire(size_t n) {
  std::printf("client -> scheduler batch, per task (transient)\n");
  weft::rpc::ClientMessage message;
  {
    Meter m(n);
    for (size_t i = 0; i < n; ++i) {
      FillTaskDef(static_cast<int64_t>(i), i + 1, *message.add_submit());
    }
    Row("rpc::TaskDef queued in the client's batch", m.PerTask(),
        "rpc/cluster_runtime.cc, Submit");
  }
  std::string bytes = message.SerializeAsString();
  Row("  serialized", static_cast<double>(bytes.size()) / n,
      "bytes on the wire");
  message.Clear();
  weft::rpc::ClientMessage parsed;
  {
    Meter m(n);
    parsed.ParseFromString(bytes);
    Row("rpc::TaskDef parsed at the scheduler", m.PerTask(),
        "until the batch is handled");
  }
}

void Scheduler(size_t n) {
  using weft::scheduler::SchedulerState;
  std::printf("scheduler, per pending task\n");
  SchedulerState::Options options;
  options.check_invariants = false;
  std::vector<weft::scheduler::TaskDef> defs;
  defs.reserve(n);
  {
    weft::rpc::TaskDef def;
    Meter m(n);
    for (size_t i = 0; i < n; ++i) {
      def.Clear();
      FillTaskDef(static_cast<int64_t>(i), i + 1, def);
      defs.push_back(FromProto(def));
    }
    Row("scheduler::TaskDef (FromProto; transient)",
        m.PerTask() + sizeof(weft::scheduler::TaskDef),
        "args = the whole definition re-serialized");
  }
  double total = 0;
  {
    SchedulerState state(options);
    if (!state.AddClient(1).ok()) std::abort();
    Meter m(n);
    std::vector<weft::scheduler::TaskDef> copy = defs;
    if (!state.SubmitTasks(1, std::move(copy)).ok()) std::abort();
    total = m.PerTask();
    Row("SchedulerState after SubmitTasks", total,
        "the TaskDefs were consumed");
  }
  double args = 0;
  {
    Meter m(n);
    std::vector<weft::scheduler::internal::CompactBytes> kept;
    kept.reserve(n);
    const double vec = m.PerTask();
    for (const auto& d : defs) kept.emplace_back(d.args);
    args = m.PerTask() - vec;
    Row("  of which: serialized arguments", args,
        "W7: " + std::to_string(defs[0].args.size()) + " bytes each");
  }
  double index = 0;
  {
    struct IdOf {
      const std::vector<weft::scheduler::TaskDef>* defs;
      uint64_t operator()(uint32_t s) const { return (*defs)[s].id; }
    };
    Meter m(n);
    weft::scheduler::internal::SlotIndex<IdOf> slots(IdOf{&defs});
    for (size_t i = 0; i < n; ++i) slots.Insert(static_cast<uint32_t>(i));
    index = m.PerTask();
    Row("  of which: id index (SlotIndex)", index, "");
  }
  double refs_bytes = 0;
  {
    Meter m(n);
    weft::scheduler::internal::SlotSet refs;
    for (size_t i = 0; i < n; ++i) refs.Insert(static_cast<uint32_t>(i));
    refs_bytes = m.PerTask();
    Row("  of which: the client's reference set", refs_bytes,
        "a SlotSet: one bit each");
  }
  double ready = 0;
  {
    struct ReadyEntry {
      int32_t priority;
      uint32_t slot;
      uint64_t seq;
    };
    Meter m(n);
    std::vector<ReadyEntry> heap;
    for (size_t i = 0; i < n; ++i) heap.push_back({0, uint32_t(i), i});
    ready = m.PerTask();
    Row("  of which: ready-heap entry", ready, "a doubling vector");
  }
  Row("  of which: task record and the rest", total - args - index -
      refs_bytes - ready, "records in a std::deque");
  std::printf("scheduler, per finished task (in addition)\n");
  {
    Meter m(n);
    absl::flat_hash_map<uint32_t, weft::scheduler::internal::CompactBytes>
        values;
    for (size_t i = 0; i < n; ++i) {
      values[static_cast<uint32_t>(i)] =
          weft::scheduler::internal::CompactBytes("12345678");
    }
    Row("inline value entry", m.PerTask(), "8-byte value");
  }
}

void EndToEnd(size_t n, bool use_map) {
  std::printf("end to end: LocalCluster(2), %s of %zu tasks (heap: live "
              "bytes; RSS: resident)\n",
              use_map ? "map(Inc, xs)" : "persist(delayed(Inc)(i))", n);
  weft::LocalCluster cluster(2);
  std::vector<int64_t> xs(n);
  for (size_t i = 0; i < n; ++i) xs[i] = static_cast<int64_t>(i);
  ReturnFreedMemory();
  const int64_t heap0 = LiveHeapBytes();
  const uint64_t rss0 = ProcessRssBytes();
  const auto start = Clock::now();
  auto report = [&](const char* when) {
    std::printf("  %-28s %5.2f s: heap %+5.0f B/task, RSS %+5.0f B/task\n",
                when,
                std::chrono::duration<double>(Clock::now() - start).count(),
                (double(LiveHeapBytes()) - double(heap0)) / n,
                (double(ProcessRssBytes()) - double(rss0)) / n);
  };
  std::vector<weft::ObjectRef<int64_t>> refs;
  if (use_map) {
    refs = weft::map(Inc, xs);
  } else {
    std::vector<weft::Delayed<int64_t>> ds;
    ds.reserve(n);
    for (size_t i = 0; i < n; ++i) ds.push_back(weft::delayed(Inc)(xs[i]));
    refs = weft::persist(ds);
  }
  report("submitted");
  (void)weft::Client::Current().workers();  // answered after the submits
  report("accepted by the scheduler");
  weft::get(refs);
  report("all done and fetched");
}

}  // namespace

int main(int argc, char** argv) {
  weft::Init(argc, argv);
  if (LiveHeapBytes() < 0 || nallocx == nullptr) {
    std::printf("task_memory_bench needs jemalloc (--config=opt)\n");
    return 0;
  }
  size_t n = 1000000;
  bool e2e = true;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--no-end-to-end") {
      e2e = false;
    } else {
      n = std::strtoull(argv[i], nullptr, 10);
    }
  }
  Client(n);
  Wire(n);
  Scheduler(n);
  if (e2e) {
    EndToEnd(n, true);
    EndToEnd(n, false);
  }
  return 0;
}
