// Copyright 2026 The weft Authors.
//
// SchedulerState's events: validation first, then transitions
// (scheduler_transitions.cc), then scheduling and, if enabled, the
// invariant check (scheduler_invariants.cc).

#include "scheduler/scheduler_state.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "weft/internal/status_macros.h"

namespace weft::scheduler {

namespace {

std::string Hex(uint64_t id) { return absl::StrCat(absl::Hex(id)); }

}  // namespace

SchedulerState::SchedulerState() : SchedulerState(Options()) {}

SchedulerState::SchedulerState(Options options)
    : options_(std::move(options)) {
  // Four records to a 512-byte deque block (W7's bytes per task).
  static_assert(sizeof(Task) <= 128, "a task record outgrew 128 bytes");
  options_.saturation = std::max(options_.saturation, 1);
  last_saturation_ = static_cast<uint32_t>(options_.saturation);
  options_.max_worker_deaths_per_task =
      std::clamp(options_.max_worker_deaths_per_task, 1, 255);
  options_.max_input_misses_per_task =
      std::max(options_.max_input_misses_per_task, 1);
}

SchedulerState::~SchedulerState() = default;

// --- Helpers ---------------------------------------------------------------

SchedulerState::Slot SchedulerState::FindSlot(ObjectId id) const {
  return index_.Find(id);
}

absl::StatusOr<internal::SlotSet*> SchedulerState::RefsOf(ClientId client) {
  auto it = clients_.find(client);
  if (it == clients_.end()) {
    return absl::NotFoundError(absl::StrCat("unknown client ", client));
  }
  return &it->second;
}

bool SchedulerState::AddClientRef(ClientId client, internal::SlotSet& refs,
                                  Slot s) {
  if (refs.empty()) holding_.insert(client);
  return refs.Insert(s);
}

void SchedulerState::SetState(Task& t, TaskState state) {
  std::array<uint32_t, kNumStates>& counts = CountsOf(t);
  --counts[static_cast<int>(t.state)];
  ++counts[static_cast<int>(state)];
  t.state = state;
}

std::array<uint32_t, SchedulerState::kNumStates>& SchedulerState::CountsOf(
    const Task& t) {
  return t.function == kNone ? put_states_ : states_by_function_[t.function];
}

uint32_t SchedulerState::Intern(const std::string& s) {
  auto [it, inserted] = string_ids_.try_emplace(s, 0);
  if (inserted) {
    uint32_t id;
    if (!free_strings_.empty()) {
      id = free_strings_.back();
      free_strings_.pop_back();
      strings_[id] = s;
      string_refs_[id] = 0;
      states_by_function_[id] = {};
    } else {
      id = static_cast<uint32_t>(strings_.size());
      strings_.push_back(s);
      string_refs_.push_back(0);
      states_by_function_.push_back({});
    }
    it->second = id;
  }
  string_refs_[it->second]++;
  return it->second;
}

void SchedulerState::Unintern(uint32_t id) {
  if (id == kNone) return;
  if (--string_refs_[id] == 0) {
    run_times_.erase(id);
    string_ids_.erase(strings_[id]);
    strings_[id].clear();
    strings_[id].shrink_to_fit();
    free_strings_.push_back(id);
  }
}

const std::string& SchedulerState::NameOf(const Task& t) const {
  static const std::string* const kPut = new std::string("put");
  return t.name == kNone ? *kPut : strings_[t.name];
}

std::string SchedulerState::KeyOf(const Task& t) const {
  return weft::internal::MakeKey(NameOf(t), t.id);
}

ErrorInfo SchedulerState::DetailFor(const Task& t, ErrorKind kind,
                                      std::string type,
                                      std::string message) const {
  ErrorInfo d;
  d.kind = kind;
  d.task_name = NameOf(t);
  d.task_key = KeyOf(t);
  d.exception_type = std::move(type);
  d.message = std::move(message);
  return d;
}

SchedulerState::Slot SchedulerState::NewSlot() {
  const Slot s = TakeSlot(tasks_, free_slots_);
  tasks_[s].live = true;
  // Counted as released, under puts until a function is set (see
  // SubmitTasks).
  ++put_states_[static_cast<int>(TaskState::kReleased)];
  return s;
}

void SchedulerState::AddDependent(Slot dep, Slot s) {
  internal::SlotList& ds = tasks_[dep].dependents;
  ds.push_back(s);
  if (ds.size() <= kScanSlots) return;
  auto [at, made] = dependent_at_.try_emplace(dep);
  if (made) {
    at->second.reserve(ds.size());
    for (uint32_t i = 0; i < ds.size(); ++i) at->second[ds[i]] = i;
  } else {
    at->second[s] = static_cast<uint32_t>(ds.size() - 1);
  }
}

void SchedulerState::RemoveDependent(Slot dep, Slot s) {
  internal::SlotList& ds = tasks_[dep].dependents;
  auto at = dependent_at_.find(dep);
  uint32_t i;
  if (at == dependent_at_.end()) {
    i = static_cast<uint32_t>(std::find(ds.begin(), ds.end(), s) - ds.begin());
  } else {
    auto it = at->second.find(s);
    i = it->second;
    at->second.erase(it);
  }
  // Swap-remove: the last dependent takes the place of `s`.
  ds[i] = ds.back();
  ds.pop_back();
  if (at == dependent_at_.end()) return;
  if (ds.size() <= kScanSlots / 2) {
    dependent_at_.erase(at);
  } else if (i < ds.size()) {
    at->second[ds[i]] = i;
  }
}

void SchedulerState::FreeSlot(Slot s) {
  Task& t = tasks_[s];
  --CountsOf(t)[static_cast<int>(t.state)];
  index_.Erase(t.id);
  errors_.erase(s);
  inline_values_.erase(s);
  borrowed_ids_.erase(s);  // (its pins were dropped when it left pending)
  input_misses_.erase(s);
  // An actor's anchor: nothing can reach the (dead) actor any more.
  if (!t.has_def && !actors_.empty()) actors_.Erase(t.id);
  Unintern(t.name);
  Unintern(t.function);
  t = Task{};
  free_slots_.push_back(s);
}

void SchedulerState::AfterEvent() {
  Schedule();
  if (!retiring_.empty()) AdvanceRetirements();
  // Slots are reused while any record lives, never freed: once a large
  // graph is gone entirely, give its memory back.
  constexpr size_t kKeepSlots = 4096;
  if (index_.size() == 0 && tasks_.size() > kKeepSlots) ReleaseCapacity();
  if (options_.check_invariants &&
      ++events_since_check_ > index_.size() / 256) {
    events_since_check_ = 0;
    CheckInvariants();
  }
}

void SchedulerState::ReleaseCapacity() {
  std::deque<Task>().swap(tasks_);
  std::vector<Slot>().swap(free_slots_);
  std::vector<ReadyEntry>().swap(ready_);  // only stale entries were left
  std::vector<std::pair<Slot, bool>>().swap(walk_);
  index_.Clear();
  errors_ = {};
  inline_values_ = {};
  for (auto& [client, refs] : clients_) refs.Clear();
  holding_.clear();
}

// --- Clients ---------------------------------------------------------------

absl::Status SchedulerState::AddClient(ClientId client) {
  if (!clients_.try_emplace(client).second) {
    return absl::AlreadyExistsError(absl::StrCat("client ", client, " exists"));
  }
  return absl::OkStatus();
}

void SchedulerState::RemoveClient(ClientId client) {
  auto it = clients_.find(client);
  if (it == clients_.end()) return;
  const std::vector<Slot> held = it->second.ToVector();  // in slot order
  clients_.erase(it);
  holding_.erase(client);
  for (Slot s : held) tasks_[s].num_refs--;
  for (Slot s : held) MaybeRelease(s);
  AfterEvent();
}

// --- Workers ---------------------------------------------------------------

absl::Status SchedulerState::AddWorker(WorkerId worker, WorkerRegistration info,
                                       absl::Time now) {
  WEFT_RETURN_IF_ERROR(pool_.Add(worker, std::move(info), now).status());
  AfterEvent();
  return absl::OkStatus();
}

absl::Status SchedulerState::RemoveWorker(WorkerId worker,
                                          const std::string& reason) {
  std::optional<WorkerSlot> ws = pool_.Find(worker);
  if (!ws) return absl::NotFoundError(absl::StrCat("unknown worker ", worker));
  const std::string who = absl::StrCat("worker ", worker, " (",
                                       pool_.at(*ws).info.address, ")");
  // 1. Its processing tasks, and strip it from the holder lists of what it
  //    held: from its own indexes, so the cost is its work, not all tasks.
  //    (In slot order: the order of the work below must not depend on
  //    hashing.)
  internal::WorkerRecord& rec = pool_.at(*ws);
  const std::vector<Slot> running = rec.processing.ToVector();
  const std::vector<Slot> held = rec.held.ToVector();
  std::vector<Slot> lost;
  for (Slot s : held) {
    Task& t = tasks_[s];
    RemoveHolder(s, *ws);
    if (t.holders.empty() && !t.kept) lost.push_back(s);
  }
  // 2. Its tasks go back to the queue, or err after too many deaths. All
  //    are unassigned first, so no cascade below sends it a CancelTasks.
  // A worker that retired (or said it was leaving) did not die: a planned
  // exit charges its tasks nothing.
  const bool planned = rec.retiring;
  retiring_.erase(worker);
  for (Slot s : running) {
    Task& t = tasks_[s];
    Unassign(s, /*send_cancel=*/false);
    if (!planned && t.deaths < 255) t.deaths++;
    SetState(t, TaskState::kReady);  // pending; queued (or failed) just below
  }
  // Its actors restart elsewhere or die (failing their calls).
  if (!actors_.empty()) ActorsLostWorker(*ws, absl::StrCat(who, " ", reason));
  for (Slot s : running) {
    Task& t = tasks_[s];
    // A cascade from an earlier iteration may have released it.
    if (!t.live || t.state != TaskState::kReady) continue;
    if (t.pinned) {
      if (RetryCall(s, absl::StrCat(who, " died: ", reason))) MakeReady(s);
      continue;
    }
    if (t.deaths >= options_.max_worker_deaths_per_task) {
      FailWith(
          s, ErrorKind::kWorkerDied, "KilledWorker",
          absl::StrCat("task ", KeyOf(t), " was running on ", t.deaths,
                       " workers that died (last: ", who, ": ", reason, ")"));
    } else {
      MakeReady(s);
    }
  }
  pool_.Remove(*ws);
  // 3. Values whose last copy it held: recompute or fail.
  const std::string why = absl::StrCat(who, " was removed: ", reason);
  for (Slot s : lost) {
    const Task& t = tasks_[s];
    if (t.live && t.state == TaskState::kMemory && t.holders.empty()) {
      HandleLost(s, why);
    }
  }
  AfterEvent();
  return absl::OkStatus();
}

absl::Status SchedulerState::RetireWorker(WorkerId worker) {
  std::optional<WorkerSlot> ws = pool_.Find(worker);
  if (!ws) return absl::NotFoundError(absl::StrCat("unknown worker ", worker));
  if (pool_.at(*ws).retiring) return absl::OkStatus();
  pool_.Retire(*ws);
  retiring_[worker];
  AfterEvent();
  return absl::OkStatus();
}

void SchedulerState::AdvanceRetirements() {
  for (auto it = retiring_.begin(); it != retiring_.end();) {
    const WorkerId worker = it->first;
    Retirement& r = it->second;
    std::optional<WorkerSlot> ws = pool_.Find(worker);
    const internal::WorkerRecord& rec = pool_.at(*ws);
    if (rec.num_processing > 0) {  // its tasks finish there first
      ++it;
      continue;
    }
    // What still needs a copy: needed objects it alone holds. Asked for
    // once its tasks are done, and again for copies whose target is gone.
    auto needs_copy = [&](Slot s) {
      const Task& t = tasks_[s];
      return t.live && t.state == TaskState::kMemory && IsNeeded(t) &&
             t.holders.size() == 1 && t.holders[0] == *ws;
    };
    auto ask = [&](Slot s) -> bool {
      std::optional<WorkerSlot> target = pool_.LeastLoaded();
      if (!target) return false;  // nobody to take it
      const Task& t = tasks_[s];
      ReplicateObject copy;
      copy.worker = pool_.at(*target).id;
      copy.object = t.id;
      copy.size_bytes = t.size_bytes;
      copy.holders = {worker};
      r.copies[t.id] = copy.worker;
      Emit(std::move(copy));
      return true;
    };
    bool stranded = false;  // some object has nowhere to go
    if (!r.handing_off) {
      r.handing_off = true;
      // In slot order: deterministic.
      for (Slot s : rec.held.ToVector()) {
        if (needs_copy(s) && !ask(s)) stranded = true;
      }
    } else {
      for (auto c = r.copies.begin(); c != r.copies.end();) {
        const Slot s = FindSlot(c->first);
        if (s == kNone || !needs_copy(s)) {
          if (s != kNone && tasks_[s].live && tasks_[s].holders.size() > 1) {
            ++r.handed_off;
          }
          r.copies.erase(c++);
          continue;
        }
        if (!pool_.Find(c->second) && !ask(s)) stranded = true;
        ++c;
      }
    }
    if (stranded || r.copies.empty()) {
      Emit(WorkerRetired{worker, r.handed_off});
      retiring_.erase(it++);
      continue;
    }
    ++it;
  }
}

absl::Status SchedulerState::Heartbeat(WorkerId worker, absl::Time now,
                                       WorkerLoad load) {
  std::optional<WorkerSlot> ws = pool_.Find(worker);
  if (!ws) return absl::NotFoundError(absl::StrCat("unknown worker ", worker));
  internal::WorkerRecord& w = pool_.at(*ws);
  w.last_seen = std::max(w.last_seen, now);
  w.reported = load;
  return absl::OkStatus();
}

absl::Status SchedulerState::Seen(WorkerId worker, absl::Time time) {
  std::optional<WorkerSlot> ws = pool_.Find(worker);
  if (!ws) return absl::NotFoundError(absl::StrCat("unknown worker ", worker));
  internal::WorkerRecord& w = pool_.at(*ws);
  w.last_seen = std::max(w.last_seen, time);
  return absl::OkStatus();
}

std::vector<WorkerId> SchedulerState::ExpiredWorkers(absl::Time now) const {
  std::vector<WorkerId> out;
  for (WorkerSlot s : pool_.SlotsById()) {
    const internal::WorkerRecord& w = pool_.at(s);
    if (now - w.last_seen > options_.heartbeat_timeout) out.push_back(w.id);
  }
  return out;
}

// --- Tasks and objects -----------------------------------------------------

absl::Status SchedulerState::SubmitTasks(ClientId client,
                                         std::vector<TaskDef> tasks) {
  WEFT_ASSIGN_OR_RETURN(internal::SlotSet * client_refs, RefsOf(client));
  if (tasks.size() >= kBatchBit) {
    return absl::InvalidArgumentError("batch too large");
  }
  // Pass 1: validate, reserving the ids in index_ as batch positions so
  // that a dependency can be checked against earlier tasks of the batch.
  size_t reserved = 0;
  batch_ = &tasks;
  auto rollback = [&](absl::Status status) {
    for (size_t j = 0; j < reserved; ++j) index_.Erase(tasks[j].id);
    batch_ = nullptr;
    return status;
  };
  index_.Reserve(index_.size() + tasks.size());
  for (size_t i = 0; i < tasks.size(); ++i) {
    const TaskDef& def = tasks[i];
    auto what = [&def] {
      return absl::StrCat("task ", weft::internal::MakeKey(def.name, def.id));
    };
    if (def.num_cpus < 1 || def.num_cpus > 65535) {
      return rollback(absl::InvalidArgumentError(
          absl::StrCat(what(), ": num_cpus must be in [1, 65535], got ",
                       def.num_cpus)));
    }
    if (def.retries < 0 || def.retries > 32767) {
      return rollback(absl::InvalidArgumentError(
          absl::StrCat(what(), ": retries must be in [0, 32767], got ",
                       def.retries)));
    }
    if (!index_.Insert(kBatchBit | static_cast<uint32_t>(i))) {
      return rollback(absl::AlreadyExistsError(
          absl::StrCat(what(), ": object ", Hex(def.id), " already exists")));
    }
    ++reserved;
    for (ObjectId dep : def.deps) {
      const uint32_t found = index_.Find(dep);
      if (found == kNone) {
        return rollback(absl::NotFoundError(absl::StrCat(
            what(), ": unknown dependency ", Hex(dep),
            " (dependencies must exist or come earlier in the batch)")));
      }
      if (found == (kBatchBit | static_cast<uint32_t>(i))) {
        return rollback(absl::InvalidArgumentError(
            absl::StrCat(what(), ": depends on itself")));
      }
    }
    if (def.actor != 0 && actors_.Find(def.actor) == nullptr) {
      return rollback(absl::NotFoundError(absl::StrCat(
          what(), ": calls unknown actor ", Hex(def.actor))));
    }
    for (ObjectId borrowed : def.borrowed) {
      const uint32_t found = index_.Find(borrowed);
      if (found == kNone) {
        return rollback(absl::NotFoundError(absl::StrCat(
            what(), ": its arguments refer to unknown object ",
            Hex(borrowed))));
      }
      if (found == (kBatchBit | static_cast<uint32_t>(i))) {
        return rollback(absl::InvalidArgumentError(
            absl::StrCat(what(), ": its arguments refer to itself")));
      }
    }
  }
  // Pass 2: create the records.
  internal::SlotSet& refs = *client_refs;
  std::vector<Slot> created;
  created.reserve(tasks.size());
  for (TaskDef& def : tasks) {
    const Slot s = NewSlot();
    Task& t = tasks_[s];
    t.id = def.id;
    // The batch entry becomes the record's slot.
    index_.Replace(def.id, s);
    t.seq = next_seq_++;
    t.has_def = true;
    t.args = internal::CompactBytes(def.args);
    t.priority = def.priority;
    t.name = Intern(def.name);
    --put_states_[static_cast<int>(t.state)];  // counted by its function now
    t.function = Intern(def.function);
    ++CountsOf(t)[static_cast<int>(t.state)];
    t.retries_left = static_cast<int16_t>(def.retries);
    t.num_cpus = static_cast<uint16_t>(def.num_cpus);
    SetState(t, TaskState::kReleased);
    // Duplicates are dropped in linear time: a scan while the list is
    // short, a set of the slots seen beyond that.
    dep_seen_.clear();
    for (ObjectId dep_id : def.deps) {
      const Slot dep = index_.Find(dep_id);
      const bool seen =
          def.deps.size() <= kScanSlots
              ? std::find(t.deps.begin(), t.deps.end(), dep) != t.deps.end()
              : !dep_seen_.insert(dep).second;
      if (seen) continue;
      t.deps.push_back(dep);
      AddDependent(dep, s);
    }
    if (!def.borrowed.empty()) {
      std::vector<ObjectId>& ids = borrowed_ids_[s];
      ids = std::move(def.borrowed);
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    }
    if (def.actor != 0) {
      // A method call: never retried after throwing, charged nothing.
      t.pinned = true;
      t.retries_left = 0;
      t.num_cpus = 1;
      if (actors_.Find(def.actor)->state != ActorState::kDead) {
        actors_.AddCall(def.actor, client, s);
      }
    }
    AddClientRef(client, refs, s);
    t.num_refs = 1;
    created.push_back(s);
  }
  batch_ = nullptr;
  for (size_t i = 0; i < created.size(); ++i) {
    const Slot s = created[i];
    Task& t = tasks_[s];
    if (t.pinned && actors_.FindCall(s) == nullptr) {
      // A call of a dead actor fails at once, as its later calls would.
      Fail(s, actors_.Find(tasks[i].actor)->death);
      continue;
    }
    if (t.state == TaskState::kReleased) Activate(s);
  }
  AfterEvent();
  return absl::OkStatus();
}

absl::Status SchedulerState::AddPut(ClientId client, ObjectId object,
                                    WorkerId holder, uint64_t size_bytes,
                                    std::string inline_value) {
  WEFT_ASSIGN_OR_RETURN(internal::SlotSet * client_refs, RefsOf(client));
  const bool whole_inline = inline_value.size() == size_bytes &&
                            size_bytes <= options_.inline_limit_bytes;
  std::optional<WorkerSlot> ws;
  if (holder != 0) {
    ws = pool_.Find(holder);
    if (!ws) {
      return absl::NotFoundError(absl::StrCat("unknown worker ", holder));
    }
  } else if (!whole_inline) {
    return absl::InvalidArgumentError(absl::StrCat(
        "put ", Hex(object), " of ", size_bytes,
        " bytes names no holder and does not come whole inline (",
        inline_value.size(), " bytes)"));
  }
  if (index_.Contains(object)) {
    return absl::AlreadyExistsError(
        absl::StrCat("object ", Hex(object), " already exists"));
  }
  const Slot s = NewSlot();
  Task& t = tasks_[s];
  t.id = object;
  index_.Insert(s);
  t.seq = next_seq_++;
  SetState(t, TaskState::kMemory);
  t.size_bytes = size_bytes;
  if (ws) AddHolder(s, *ws);
  t.kept = whole_inline;
  // (A kept put's value is kept even when empty.)
  if (inline_value.size() <= options_.inline_limit_bytes &&
      (whole_inline || !inline_value.empty())) {
    inline_values_[s] = internal::CompactBytes(inline_value);
  }
  AddClientRef(client, *client_refs, s);
  t.num_refs = 1;
  AfterEvent();
  return absl::OkStatus();
}

void SchedulerState::ObserveRunTime(absl::Duration run_time,
                                    uint32_t function) {
  if (!options_.adaptive_saturation || run_time <= absl::ZeroDuration()) {
    return;
  }
  const double seconds = absl::ToDoubleSeconds(run_time);
  auto [it, fresh] =
      run_times_.try_emplace(function, RunTimes{seconds, seconds});
  if (!fresh) {
    RunTimes& r = it->second;
    r.mean = 0.9 * r.mean + 0.1 * seconds;
    r.recent_max = std::max(seconds, 0.99 * r.recent_max);
  }
  last_saturation_ = SaturationFor(function);
}

uint32_t SchedulerState::SaturationFor(uint32_t function) const {
  const uint32_t least = static_cast<uint32_t>(options_.saturation);
  if (!options_.adaptive_saturation) return least;
  auto it = run_times_.find(function);
  if (it == run_times_.end() || it->second.mean <= 0) return least;
  return TasksWithin(options_.target_queue_time, it->second.mean, least);
}

uint32_t SchedulerState::RunLengthFor(uint32_t function) const {
  if (!options_.adaptive_saturation ||
      options_.pack_time <= absl::ZeroDuration()) {
    return 1;
  }
  auto it = run_times_.find(function);
  if (it == run_times_.end() || it->second.recent_max <= 0) return 1;
  return TasksWithin(options_.pack_time, it->second.recent_max, 1);
}

uint32_t SchedulerState::TasksWithin(absl::Duration budget, double seconds,
                                     uint32_t least) const {
  return static_cast<uint32_t>(std::clamp(
      absl::ToDoubleSeconds(budget) / seconds, static_cast<double>(least),
      static_cast<double>(WidestSaturation())));
}

uint32_t SchedulerState::WidestSaturation() const {
  return static_cast<uint32_t>(
      options_.adaptive_saturation
          ? std::max(options_.saturation, options_.max_saturation)
          : options_.saturation);
}

absl::Status SchedulerState::TaskFinished(WorkerId worker, ObjectId task,
                                          Attempt attempt, uint64_t size_bytes,
                                          std::string inline_value,
                                          absl::Duration run_time) {
  std::optional<WorkerSlot> ws = pool_.Find(worker);
  if (!ws) return absl::NotFoundError(absl::StrCat("unknown worker ", worker));
  const Slot s = FindSlot(task);
  if (s == kNone) {
    EmitRelease(worker, task);  // e.g. released while it ran
    return absl::NotFoundError(absl::StrCat("unknown task ", Hex(task)));
  }
  Task& t = tasks_[s];
  if (t.state != TaskState::kProcessing || t.processing_on != *ws ||
      t.attempt != attempt) {
    // A late result of an earlier run. The worker keeps the value if the
    // scheduler counts its copy, or if its current run of the task will
    // store one under the same id (a release would then drop that).
    const bool rerunning_here =
        t.state == TaskState::kProcessing && t.processing_on == *ws;
    if (!rerunning_here &&
        std::find(t.holders.begin(), t.holders.end(), *ws) == t.holders.end()) {
      EmitRelease(worker, task);
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "task ", KeyOf(t), " is ", TaskStateName(t.state),
        t.state == TaskState::kProcessing
            ? absl::StrCat(" on worker ", pool_.at(t.processing_on).id,
                           " as attempt ", t.attempt)
            : std::string(),
        ", not processing on worker ", worker, " as attempt ", attempt));
  }
  Unassign(s, /*send_cancel=*/false);
  ObserveRunTime(run_time, t.function);
  SetState(t, TaskState::kMemory);
  t.size_bytes = size_bytes;
  AddHolder(s, *ws);
  if (t.pinned) {
    actors_.RemoveCall(s);
    // Its value cannot be recomputed (a call is not re-run): when it came
    // whole, it is kept here, as a small put is, and never lost.
    t.kept = inline_value.size() == size_bytes &&
             size_bytes <= options_.inline_limit_bytes;
  }
  if ((!inline_value.empty() || t.kept) &&
      inline_value.size() <= options_.inline_limit_bytes) {
    inline_values_[s] = internal::CompactBytes(inline_value);
  }
  for (Slot d : t.dependents) {
    Task& dt = tasks_[d];
    if (!IsPending(dt.state)) continue;
    if (--dt.waiting_on == 0 && dt.state == TaskState::kWaiting) MakeReady(d);
  }
  NotifyReady(s);
  std::vector<Slot> unpinned;
  DropPins(borrow_pins_, s, unpinned);  // no longer pending
  for (Slot dep : t.deps) tasks_[dep].num_waiters--;
  // Releasing an input may release and forget this task too, when the
  // input's value held the last reference to it (AddContained); that
  // clears `t`, so walk a copy.
  const absl::InlinedVector<Slot, 8> deps(t.deps.begin(), t.deps.end());
  for (Slot dep : deps) MaybeRelease(dep);
  for (Slot u : unpinned) MaybeRelease(u);
  AfterEvent();
  return absl::OkStatus();
}

absl::StatusOr<std::pair<internal::WorkerSlot, SchedulerState::Slot>>
SchedulerState::FindProcessing(WorkerId worker, ObjectId task,
                               Attempt attempt) const {
  std::optional<WorkerSlot> ws = pool_.Find(worker);
  if (!ws) return absl::NotFoundError(absl::StrCat("unknown worker ", worker));
  const Slot s = FindSlot(task);
  if (s == kNone) {
    return absl::NotFoundError(absl::StrCat("unknown task ", Hex(task)));
  }
  const Task& t = tasks_[s];
  if (t.state != TaskState::kProcessing || t.processing_on != *ws ||
      t.attempt != attempt) {
    return absl::FailedPreconditionError(absl::StrCat(
        "task ", KeyOf(t), " is ", TaskStateName(t.state),
        t.state == TaskState::kProcessing
            ? absl::StrCat(" as attempt ", t.attempt)
            : std::string(),
        ", not processing on worker ", worker, " as attempt ", attempt));
  }
  return std::make_pair(*ws, s);
}

absl::Status SchedulerState::TaskFailed(WorkerId worker, ObjectId task,
                                        Attempt attempt, ErrorInfo error) {
  WEFT_ASSIGN_OR_RETURN(const auto found,
                        FindProcessing(worker, task, attempt));
  const auto [ws, s] = found;
  Task& t = tasks_[s];
  Unassign(s, /*send_cancel=*/false);
  if (t.retries_left > 0 && !t.pinned) {
    t.retries_left--;
    MakeReady(s);
  } else {
    if (error.task_name.empty()) error.task_name = NameOf(t);
    if (error.task_key.empty()) error.task_key = KeyOf(t);
    SetState(t, TaskState::kReady);  // pending, no longer assigned
    Fail(s, std::make_shared<const ErrorInfo>(std::move(error)));
  }
  AfterEvent();
  return absl::OkStatus();
}

absl::Status SchedulerState::InputsUnavailable(
    WorkerId worker, ObjectId task, Attempt attempt,
    const std::vector<InputMiss>& misses, ErrorInfo error) {
  WEFT_ASSIGN_OR_RETURN(const auto found,
                        FindProcessing(worker, task, attempt));
  const Slot s = found.second;
  if (tasks_[s].pinned) return TaskFailed(worker, task, attempt, error);
  Unassign(s, /*send_cancel=*/false);
  SetState(tasks_[s], TaskState::kReady);  // pending; queued below
  const int times = ++input_misses_[s];
  if (times >= options_.max_input_misses_per_task) {
    FailWith(s, ErrorKind::kObjectLost, "ObjectLost",
             absl::StrCat("the inputs of task ", KeyOf(tasks_[s]),
                          " could not be fetched ", times,
                          " times; the last time: ", error.message));
    AfterEvent();
    return absl::OkStatus();
  }
  for (const InputMiss& miss : misses) {
    const Slot d = FindSlot(miss.object);
    if (d == kNone) continue;
    const Task& t = tasks_[s];
    if (std::find(t.deps.begin(), t.deps.end(), d) == t.deps.end()) continue;
    Task& dt = tasks_[d];
    if (dt.state != TaskState::kMemory) continue;  // e.g. lost meanwhile
    std::vector<std::string> dropped;
    for (WorkerId h : miss.tried) {
      std::optional<WorkerSlot> hs = pool_.Find(h);
      if (!hs || h == worker ||
          std::find(dt.holders.begin(), dt.holders.end(), *hs) ==
              dt.holders.end()) {
        continue;
      }
      RemoveHolder(d, *hs);
      EmitRelease(h, dt.id);
      dropped.push_back(absl::StrCat(h));
    }
    if (dt.holders.empty() && !dt.kept && !dropped.empty()) {
      HandleLost(
          d,
          absl::StrCat("worker ", worker, " could not fetch it from worker(s) ",
                       absl::StrJoin(dropped, ", "), ": ", error.message));
    }
    if (!tasks_[s].live) break;  // released along the way
  }
  if (tasks_[s].live && tasks_[s].state == TaskState::kReady) MakeReady(s);
  AfterEvent();
  return absl::OkStatus();
}

absl::Status SchedulerState::ObjectLost(WorkerId worker, ObjectId object) {
  std::optional<WorkerSlot> ws = pool_.Find(worker);
  if (!ws) return absl::NotFoundError(absl::StrCat("unknown worker ", worker));
  const Slot s = FindSlot(object);
  if (s == kNone) {
    return absl::NotFoundError(absl::StrCat("unknown object ", Hex(object)));
  }
  Task& t = tasks_[s];
  if (std::find(t.holders.begin(), t.holders.end(), *ws) == t.holders.end()) {
    return absl::NotFoundError(absl::StrCat("worker ", worker,
                                            " does not hold object ",
                                            Hex(object)));
  }
  RemoveHolder(s, *ws);
  if (t.holders.empty() && !t.kept) {
    HandleLost(s, absl::StrCat("worker ", worker, " (",
                               pool_.at(*ws).info.address,
                               ") reported it lost"));
  }
  AfterEvent();
  return absl::OkStatus();
}

absl::Status SchedulerState::TaskBlocked(WorkerId worker, ObjectId task,
                                         Attempt attempt, bool blocked) {
  WEFT_ASSIGN_OR_RETURN(const auto found,
                        FindProcessing(worker, task, attempt));
  const auto [ws, s] = found;
  Task& t = tasks_[s];
  if (t.blocked == blocked) return absl::OkStatus();
  // An actor call holds none (its actor holds them, blocked or not).
  const int64_t cpus = t.pinned ? 0 : pool_.Charge(ws, t.num_cpus);
  t.blocked = blocked;
  pool_.ShiftLoad(ws, blocked ? -cpus : cpus);
  AfterEvent();
  return absl::OkStatus();
}

absl::Status SchedulerState::AddReplica(WorkerId worker, ObjectId object) {
  std::optional<WorkerSlot> ws = pool_.Find(worker);
  if (!ws) return absl::NotFoundError(absl::StrCat("unknown worker ", worker));
  const Slot s = FindSlot(object);
  if (s == kNone) {
    EmitRelease(worker, object);
    return absl::NotFoundError(absl::StrCat("unknown object ", Hex(object)));
  }
  Task& t = tasks_[s];
  if (t.state != TaskState::kMemory) {
    EmitRelease(worker, object);
    return absl::FailedPreconditionError(
        absl::StrCat("object ", Hex(object), " is ", TaskStateName(t.state),
                     ", not in memory"));
  }
  if (std::find(t.holders.begin(), t.holders.end(), *ws) == t.holders.end()) {
    AddHolder(s, *ws);
  }
  AfterEvent();
  return absl::OkStatus();
}

// --- References ------------------------------------------------------------

absl::Status SchedulerState::AddRef(ClientId client, ObjectId object) {
  WEFT_ASSIGN_OR_RETURN(internal::SlotSet * client_refs, RefsOf(client));
  const Slot s = FindSlot(object);
  if (s == kNone) {
    // Nothing will ever complete it: say so, so that no get() waits.
    ErrorInfo lost;
    lost.kind = ErrorKind::kObjectLost;
    lost.task_key = Hex(object);
    lost.exception_type = "ObjectLost";
    lost.message = absl::StrCat(
        "object ", Hex(object), " no longer exists: every reference to it "
        "was released (or it was never created) before this one arrived");
    Emit(ObjectFailed{client, object, std::move(lost)});
    return absl::NotFoundError(absl::StrCat("unknown object ", Hex(object)));
  }
  if (!AddClientRef(client, *client_refs, s)) {
    // Held already: the client withdrew a release still waiting in its
    // batch when it adopted the object again, and forgot what it had been
    // told (rpc/cluster_runtime.cc). It is told again.
    NotifyClient(client, s);
    return absl::OkStatus();
  }
  Task& t = tasks_[s];
  t.num_refs++;
  if (t.state == TaskState::kReleased) {
    Activate(s);  // needed again: recompute from lineage (or fail a put)
  } else {
    NotifyClient(client, s);
  }
  AfterEvent();
  return absl::OkStatus();
}

absl::Status SchedulerState::ReleaseRef(ClientId client, ObjectId object) {
  WEFT_ASSIGN_OR_RETURN(internal::SlotSet * client_refs, RefsOf(client));
  const Slot s = FindSlot(object);
  if (s == kNone || !client_refs->Erase(s)) {
    return absl::NotFoundError(absl::StrCat(
        "client ", client, " holds no reference to object ", Hex(object)));
  }
  if (client_refs->empty()) holding_.erase(client);
  tasks_[s].num_refs--;
  MaybeRelease(s);
  AfterEvent();
  return absl::OkStatus();
}

absl::Status SchedulerState::Cancel(ClientId client, ObjectId object) {
  WEFT_RETURN_IF_ERROR(RefsOf(client).status());
  const Slot s = FindSlot(object);
  if (s == kNone) {
    return absl::NotFoundError(absl::StrCat("unknown object ", Hex(object)));
  }
  const Task& t = tasks_[s];
  if (!IsPending(t.state)) return absl::OkStatus();
  FailWith(
      s, ErrorKind::kCancelled, "CancelledError",
      absl::StrCat("task ", KeyOf(t), " was cancelled by client ", client));
  AfterEvent();
  return absl::OkStatus();
}

absl::Status SchedulerState::AddContained(
    ClientId client, ObjectId container, const std::vector<ObjectId>& objects) {
  WEFT_ASSIGN_OR_RETURN(internal::SlotSet * client_refs, RefsOf(client));
  const Slot c = FindSlot(container);
  if (c == kNone) {
    return absl::NotFoundError(
        absl::StrCat("unknown object ", Hex(container)));
  }
  const Task& ct = tasks_[c];
  if (!IsPending(ct.state) && ct.state != TaskState::kMemory) {
    return absl::FailedPreconditionError(absl::StrCat(
        "object ", Hex(container), " is ", TaskStateName(ct.state),
        ": the references its value held are not needed"));
  }
  std::vector<Slot> pins;
  pins.reserve(objects.size());
  for (ObjectId id : objects) {
    const Slot o = FindSlot(id);
    if (o == kNone || !client_refs->Contains(o)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "client ", client, " holds no reference to object ", Hex(id),
          ", which the value of ", Hex(container), " refers to"));
    }
    if (o != c) pins.push_back(o);
  }
  std::sort(pins.begin(), pins.end());
  pins.erase(std::unique(pins.begin(), pins.end()), pins.end());
  for (Slot o : pins) tasks_[o].num_refs++;
  std::vector<Slot> unpinned;
  DropPins(contain_pins_, c, unpinned);  // the set is replaced
  if (!pins.empty()) contain_pins_[c] = std::move(pins);
  for (Slot u : unpinned) MaybeRelease(u);
  AfterEvent();
  return absl::OkStatus();
}

// --- Output ----------------------------------------------------------------

std::vector<Action> SchedulerState::TakeActions() {
  std::vector<Action> out;
  TakeActions(out);
  return out;
}

void SchedulerState::TakeActions(std::vector<Action>& out) {
  out.clear();
  std::vector<Action> in;
  in.swap(actions_);
  last_action_of_.clear();
  // Sort indices by destination: cheap to move. Ties keep their index
  // order, so the order within one destination is the emission order (an
  // unstable sort on the index too, without stable_sort's buffer).
  std::vector<KeyedAction>& keys = keyed_actions_;
  keys.clear();
  keys.reserve(in.size());
  for (uint32_t i = 0; i < in.size(); ++i) {
    const Destination d = DestinationOf(in[i]);
    keys.push_back(KeyedAction{!d.is_worker, d.id, i});
  }
  std::sort(keys.begin(), keys.end(),
            [](const KeyedAction& a, const KeyedAction& b) {
              return std::tie(a.is_client, a.id, a.index) <
                     std::tie(b.is_client, b.id, b.index);
            });
  out.reserve(in.size());
  for (const KeyedAction& k : keys) {
    Action& a = in[k.index];
    // Cancels in a row to one worker become one. (Releases in a row were
    // merged as they were emitted: EmitRelease.)
    if (auto* c = std::get_if<CancelTasks>(&a); c != nullptr && !out.empty()) {
      auto* prev = std::get_if<CancelTasks>(&out.back());
      if (prev != nullptr && prev->worker == c->worker) {
        prev->tasks.insert(prev->tasks.end(), c->tasks.begin(), c->tasks.end());
        continue;
      }
    }
    out.push_back(std::move(a));
  }
  // The next events emit into this buffer again: grown from nothing each
  // time, it was reallocated (and every action moved) about log2(n) times
  // per drain, 4% of the scheduler's time at scale_bench's N = 1,000.
  if (in.capacity() <= kKeptActions) {
    in.clear();
    actions_.swap(in);
  }
  if (keys.capacity() > kKeptActions) keys = {};
}

// --- Introspection ---------------------------------------------------------

TaskState SchedulerState::StateOf(ObjectId object) const {
  const Slot s = FindSlot(object);
  return s == kNone ? TaskState::kReleased : tasks_[s].state;
}

const ErrorInfo* SchedulerState::ErrorOf(ObjectId object) const {
  const Slot s = FindSlot(object);
  if (s == kNone) return nullptr;
  auto it = errors_.find(s);
  return it == errors_.end() ? nullptr : it->second.get();
}

std::vector<WorkerId> SchedulerState::HoldersOf(ObjectId object) const {
  std::vector<WorkerId> out;
  const Slot s = FindSlot(object);
  if (s == kNone) return out;
  for (WorkerSlot w : tasks_[s].holders) out.push_back(pool_.at(w).id);
  std::sort(out.begin(), out.end());
  return out;
}

uint64_t SchedulerState::SizeOf(ObjectId object) const {
  const Slot s = FindSlot(object);
  if (s == kNone || tasks_[s].state != TaskState::kMemory) return 0;
  return tasks_[s].size_bytes;
}

WorkerId SchedulerState::ProcessingOn(ObjectId object) const {
  const Slot s = FindSlot(object);
  if (s == kNone || tasks_[s].state != TaskState::kProcessing) return 0;
  return pool_.at(tasks_[s].processing_on).id;
}

Attempt SchedulerState::AttemptOf(ObjectId object) const {
  const Slot s = FindSlot(object);
  return s == kNone ? 0 : tasks_[s].attempt;  // 0 unless processing
}

std::vector<std::pair<std::string, SchedulerState::StateCounts>>
SchedulerState::CountsByFunction() const {
  std::vector<std::pair<std::string, StateCounts>> out;
  auto add = [&](const std::string& name,
                 const std::array<uint32_t, kNumStates>& counts) {
    StateCounts c{};
    bool any = false;
    for (int i = 0; i < kNumStates; ++i) {
      c[i] = counts[i];
      any |= counts[i] != 0;
    }
    if (any) out.emplace_back(name, c);
  };
  for (size_t id = 0; id < strings_.size(); ++id) {
    if (string_refs_[id] > 0) add(strings_[id], states_by_function_[id]);
  }
  add("put", put_states_);
  return out;
}

bool SchedulerState::NamesOf(ObjectId object, std::string_view* name,
                             std::string_view* function) const {
  const Slot s = FindSlot(object);
  if (s == kNone || !tasks_[s].has_def) return false;
  *name = strings_[tasks_[s].name];
  *function = strings_[tasks_[s].function];
  return true;
}

size_t SchedulerState::num_ready() const {
  size_t n = 0;
  for (const Task& t : tasks_) n += t.live && t.state == TaskState::kReady;
  return n;
}

std::vector<WorkerSummary> SchedulerState::Workers() const {
  std::vector<WorkerSummary> out;
  for (WorkerSlot s : pool_.SlotsById()) {
    const internal::WorkerRecord& w = pool_.at(s);
    WorkerSummary sum;
    sum.id = w.id;
    sum.registration = w.info;
    sum.processing = w.num_processing;
    sum.used_cpus = w.used_cpus;
    sum.num_objects = w.held.size();
    sum.held_bytes = w.held_bytes;
    sum.reported_memory_bytes = w.reported.memory_bytes;
    sum.last_seen = w.last_seen;
    out.push_back(std::move(sum));
  }
  return out;
}

}  // namespace weft::scheduler
