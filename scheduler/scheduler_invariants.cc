// Copyright 2026 The weft Authors.
//
// SchedulerState::CheckInvariants: recomputes every derived count from
// scratch and compares. The invariants are listed in docs/scheduler.md.

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "scheduler/scheduler_state.h"

namespace weft::scheduler {

void SchedulerState::Violation(const std::string& what) {
  std::fprintf(stderr, "SchedulerState invariant violated: %s\n",
               what.c_str());
  std::fflush(stderr);
  std::abort();
}

bool SchedulerState::Distinct(absl::Span<const Slot> slots) {
  if (slots.size() <= kScanSlots) {  // no set for the common few
    for (size_t i = 0; i < slots.size(); ++i) {
      for (size_t j = i + 1; j < slots.size(); ++j) {
        if (slots[i] == slots[j]) return false;
      }
    }
    return true;
  }
  absl::flat_hash_set<Slot> seen;
  seen.reserve(slots.size());
  for (Slot s : slots) {
    if (!seen.insert(s).second) return false;
  }
  return true;
}

void SchedulerState::CheckInvariants() const {
  pool_.CheckInvariants();
  for (const auto& [worker, r] : retiring_) {
    std::optional<WorkerSlot> ws = pool_.Find(worker);
    if (!ws || !pool_.at(*ws).retiring) {
      Violation(absl::StrCat("worker ", worker,
                             " is being retired but is not a retiring worker"));
    }
    if (!r.handing_off && !r.copies.empty()) {
      Violation(
          absl::StrCat("worker ", worker, " has copies before handing off"));
    }
  }
  auto where = [&](Slot s) {
    const Task& t = tasks_[s];
    return absl::StrCat("object ", absl::Hex(t.id), " (slot ", s, ", ",
                        TaskStateName(t.state), "): ");
  };
  auto worker_live = [&](WorkerSlot w) {
    return w < pool_.slot_limit() && pool_.at(w).live;
  };

  // Per-client reference counts.
  std::vector<uint32_t> refs(tasks_.size(), 0);
  // The attempts of processing tasks: each assignment's own.
  absl::flat_hash_set<Attempt> attempts;
  for (const auto& [client, held] : clients_) {
    if (held.empty() == holding_.contains(client)) {
      Violation(absl::StrCat("client ", client, " holds ", held.size(),
                             " references but is ", held.empty() ? "" : "not ",
                             "among the holding"));
    }
    for (Slot s : held.ToVector()) {
      if (s >= tasks_.size() || !tasks_[s].live) {
        Violation(absl::StrCat("client ", client, " holds a dead slot ", s));
        continue;
      }
      refs[s]++;
    }
  }
  // References held by records: a pending task's borrowed objects, a
  // pending or in-memory object's contained ones; distinct per holder.
  auto count_pins = [&](const absl::flat_hash_map<Slot, std::vector<Slot>>&
                            pins,
                        bool memory_too, const char* what) {
    for (const auto& [holder, targets] : pins) {
      if (holder >= tasks_.size() || !tasks_[holder].live) {
        Violation(absl::StrCat("dead slot ", holder, " holds ", what));
        continue;
      }
      const TaskState st = tasks_[holder].state;
      if (!IsPending(st) && !(memory_too && st == TaskState::kMemory)) {
        Violation(absl::StrCat(where(holder), "holds ", what));
      }
      if (targets.empty()) Violation(where(holder) + "empty pin list");
      if (!Distinct(targets)) Violation(where(holder) + "pins an object twice");
      for (Slot t : targets) {
        if (t >= tasks_.size() || !tasks_[t].live || t == holder) {
          Violation(absl::StrCat(where(holder), "pins a bad slot ", t));
          continue;
        }
        refs[t]++;
      }
    }
  };
  count_pins(borrow_pins_, /*memory_too=*/false, "borrowed references");
  count_pins(contain_pins_, /*memory_too=*/true, "contained references");
  // Actors: the objects they hold, their places and their calls.
  CheckActorInvariants(refs);
  for (const auto& [s, ids] : borrowed_ids_) {
    if (s >= tasks_.size() || !tasks_[s].live || !tasks_[s].has_def) {
      Violation(absl::StrCat("stale borrowed list for slot ", s));
    }
  }
  // Ready entries present in the heap.
  std::vector<bool> queued(tasks_.size(), false);
  for (const ReadyEntry& e : ready_) {
    if (e.slot < tasks_.size() && tasks_[e.slot].live &&
        tasks_[e.slot].seq == e.seq) {
      queued[e.slot] = true;
    }
  }

  std::vector<uint32_t> used_cpus(pool_.slot_limit(), 0);
  std::vector<uint32_t> processing(pool_.slot_limit(), 0);
  std::vector<uint64_t> held_bytes(pool_.slot_limit(), 0);
  std::vector<uint64_t> num_held(pool_.slot_limit(), 0);
  size_t live = 0;
  bool ready_one_cpu = false;
  // The smallest in-flight limit among ready one-cpu tasks (per function).
  uint32_t ready_saturation = WidestSaturation();

  // Edges. Each task's deps and dependents are distinct (checked below),
  // so they mirror each other if every dependent lists the task among its
  // deps and the deps and dependents lists hold as many entries in all.
  // Whether a dependent lists the task: a scan of a short deps list, a set
  // of a long one (made once a check), so that the checks stay linear in
  // the edges. Counting each input in the other side's list, as they did,
  // cost 40,000^2 steps a check for a task of 40,000 inputs.
  absl::flat_hash_map<Slot, absl::flat_hash_set<Slot>> long_deps;
  auto lists_dependency = [&](Slot task, Slot dependency) {
    const internal::SlotList& deps = tasks_[task].deps;
    if (deps.size() <= kScanSlots) {
      return std::find(deps.begin(), deps.end(), dependency) != deps.end();
    }
    auto [it, made] = long_deps.try_emplace(task);
    if (made) it->second.insert(deps.begin(), deps.end());
    return it->second.contains(dependency);
  };
  size_t num_deps = 0;
  size_t num_dependents = 0;

  for (Slot s = 0; s < tasks_.size(); ++s) {
    const Task& t = tasks_[s];
    if (!t.live) continue;
    ++live;
    if (index_.Find(t.id) != s) Violation(where(s) + "index");
    if (t.activating) Violation(where(s) + "activation left unfinished");
    if (t.num_refs != refs[s]) {
      Violation(absl::StrCat(where(s), "num_refs ", t.num_refs, " but ",
                             refs[s], " clients and records hold it"));
    }
    // Edges: deps and dependents are distinct and mirror each other.
    if (!Distinct({t.deps.begin(), t.deps.size()})) {
      Violation(where(s) + "duplicate dependency");
    }
    if (!Distinct({t.dependents.begin(), t.dependents.size()})) {
      Violation(where(s) + "a dependent listed twice");
    }
    num_deps += t.deps.size();
    num_dependents += t.dependents.size();
    if (t.dependents.size() > kScanSlots && !dependent_at_.contains(s)) {
      Violation(where(s) + "a long dependents list without its index");
    }
    for (Slot d : t.deps) {
      if (d >= tasks_.size() || !tasks_[d].live) {
        Violation(where(s) + "dependency forgotten (lineage broken)");
      }
    }
    uint32_t waiters = 0;
    for (Slot d : t.dependents) {
      if (d >= tasks_.size() || !tasks_[d].live) {
        Violation(where(s) + "dead dependent");
      }
      if (!lists_dependency(d, s)) {
        Violation(where(s) + "dependent does not list it as a dependency");
      }
      if (IsPending(tasks_[d].state)) ++waiters;
    }
    if (t.num_waiters != waiters) {
      Violation(absl::StrCat(where(s), "num_waiters ", t.num_waiters,
                             " but ", waiters, " pending dependents"));
    }
    if (!t.has_def && (t.name != kNone || !t.deps.empty())) {
      Violation(where(s) + "put with a definition");
    }
    CheckCallInvariants(s);
    // Holders: in memory (a kept put may have none); distinct live
    // workers.
    if (t.state != TaskState::kMemory && !t.holders.empty()) {
      Violation(where(s) + "holders of an object not in memory");
    }
    if (t.state == TaskState::kMemory && t.holders.empty() && !t.kept) {
      Violation(where(s) + "in memory with no holder and not kept");
    }
    if (t.kept) {
      auto kept = inline_values_.find(s);
      if (t.has_def && !t.pinned) {
        Violation(where(s) + "a kept task (only puts and actor calls are)");
      }
      if (t.state == TaskState::kMemory &&
          (kept == inline_values_.end() ||
           kept->second.size() != t.size_bytes)) {
        Violation(where(s) + "kept without its whole value inline");
      }
    }
    for (WorkerSlot w : t.holders) {
      if (!worker_live(w)) Violation(where(s) + "held by a dead worker");
      if (std::count(t.holders.begin(), t.holders.end(), w) != 1) {
        Violation(where(s) + "duplicate holder");
      }
      held_bytes[w] += t.size_bytes;
      num_held[w]++;
      if (worker_live(w) && !pool_.at(w).held.Contains(s)) {
        Violation(where(s) + "missing from its holder's index");
      }
    }
    if (t.state != TaskState::kMemory && inline_values_.contains(s)) {
      Violation(where(s) + "inline value outside memory");
    }
    // Processing: exactly one live worker, load accounted.
    if (t.blocked && t.state != TaskState::kProcessing) {
      Violation(where(s) + "blocked outside processing");
    }
    if ((t.state == TaskState::kProcessing) != (t.processing_on != kNone)) {
      Violation(where(s) + "processing_on set outside processing");
    }
    if ((t.state == TaskState::kProcessing) != (t.attempt != 0)) {
      Violation(where(s) + "an attempt exactly while processing");
    }
    if (t.state == TaskState::kProcessing &&
        !attempts.insert(t.attempt).second) {
      Violation(where(s) + "shares its attempt with another processing task");
    }
    if (t.state == TaskState::kProcessing) {
      if (!worker_live(t.processing_on)) {
        Violation(where(s) + "processing on a dead worker");
      }
      used_cpus[t.processing_on] += ChargedCpus(t);
      processing[t.processing_on]++;
      if (!pool_.at(t.processing_on).processing.Contains(s)) {
        Violation(where(s) + "missing from its worker's processing index");
      }
    }
    const bool failed =
        t.state == TaskState::kErred || t.state == TaskState::kCancelled;
    auto err = errors_.find(s);
    if (failed != (err != errors_.end())) {
      Violation(where(s) + "error recorded exactly when erred or cancelled");
    }
    if (failed && (err->second->kind == ErrorKind::kCancelled) !=
                      (t.state == TaskState::kCancelled)) {
      Violation(where(s) + "cancelled state and error kind disagree");
    }
    const bool needed = IsNeeded(t);
    switch (t.state) {
      case TaskState::kWaiting:
      case TaskState::kReady:
      case TaskState::kProcessing: {
        if (!t.has_def) Violation(where(s) + "pending without definition");
        if (!needed) Violation(where(s) + "pending but not needed");
        uint32_t missing = 0;
        for (Slot d : t.deps) {
          const TaskState ds = tasks_[d].state;
          if (ds == TaskState::kMemory) continue;
          if (!IsPending(ds)) {
            Violation(absl::StrCat(where(s), "pending on a ",
                                   TaskStateName(ds), " dependency"));
          }
          ++missing;
        }
        if (t.waiting_on != missing) {
          Violation(absl::StrCat(where(s), "waiting_on ", t.waiting_on,
                                 " but ", missing, " inputs missing"));
        }
        if ((t.state == TaskState::kWaiting) != (missing > 0)) {
          Violation(where(s) + "waiting exactly while inputs are missing");
        }
        if (t.state == TaskState::kReady && t.pinned) {
          // Queued at its actor (CheckActorInvariants), not for any worker.
        } else if (t.state == TaskState::kReady) {
          if (!queued[s]) Violation(where(s) + "ready but not queued");
          if (t.num_cpus == 1) {
            ready_one_cpu = true;
            ready_saturation =
                std::min(ready_saturation, SaturationFor(t.function));
          }
        }
        break;
      }
      case TaskState::kMemory:
        if (!needed) Violation(where(s) + "in memory but not needed");
        break;
      case TaskState::kReleased:
        if (needed) Violation(where(s) + "released but needed");
        break;
      case TaskState::kErred:
      case TaskState::kCancelled:
        break;
    }
    if (!IsPending(t.state) && t.waiting_on != 0) {
      Violation(where(s) + "waiting_on outside pending");
    }
    if (!IsPending(t.state) && t.state != TaskState::kMemory &&
        t.num_refs == 0 && t.dependents.empty()) {
      Violation(where(s) + "should have been forgotten");
    }
  }
  for (const auto& [dep, at] : dependent_at_) {
    if (dep >= tasks_.size() || !tasks_[dep].live) {
      Violation(absl::StrCat("dead slot ", dep, " has a dependents index"));
    }
    const internal::SlotList& ds = tasks_[dep].dependents;
    if (at.size() != ds.size() || ds.size() <= kScanSlots / 2) {
      Violation(absl::StrCat(where(dep), "dependents index of ", at.size(),
                             " for ", ds.size(), " dependents"));
    }
    for (const auto& [d, i] : at) {
      if (i >= ds.size() || ds[i] != d) {
        Violation(
            absl::StrCat(where(dep), "dependents index puts ", d, " at ", i));
      }
    }
  }
  if (num_deps != num_dependents) {
    // Some dependency does not list its dependent (every dependent lists
    // its task, above): find it, which may take long, to name it.
    for (Slot s = 0; s < tasks_.size(); ++s) {
      if (!tasks_[s].live) continue;
      for (Slot d : tasks_[s].deps) {
        const internal::SlotList& back = tasks_[d].dependents;
        if (std::find(back.begin(), back.end(), s) == back.end()) {
          Violation(where(s) + "missing from a dependency's dependents");
        }
      }
    }
    Violation(absl::StrCat(num_deps, " dependencies but ", num_dependents,
                           " dependents"));
  }
  // Records by state, per function.
  {
    std::vector<std::array<uint32_t, kNumStates>> by_function(strings_.size());
    std::array<uint32_t, kNumStates> puts = {};
    for (const Task& t : tasks_) {
      if (!t.live) continue;
      (t.function == kNone ? puts
                           : by_function[t.function])[static_cast<int>(t.state)]++;
    }
    if (puts != put_states_) Violation("per-state counts of puts");
    for (size_t id = 0; id < strings_.size(); ++id) {
      if (string_refs_[id] > 0 && by_function[id] != states_by_function_[id]) {
        Violation(absl::StrCat("per-state counts of function ", strings_[id]));
      }
    }
  }
  if (live != index_.size()) Violation("index size != live records");
  if (live + free_slots_.size() != tasks_.size()) Violation("slot accounting");
  for (const auto& [s, e] : errors_) {
    if (s >= tasks_.size() || !tasks_[s].live) Violation("stale error entry");
  }
  for (const auto& [s, v] : inline_values_) {
    if (s >= tasks_.size() || !tasks_[s].live) Violation("stale inline value");
  }
  for (WorkerSlot w = 0; w < pool_.slot_limit(); ++w) {
    const internal::WorkerRecord& rec = pool_.at(w);
    if (!rec.live) continue;
    if (rec.used_cpus != used_cpus[w] || rec.num_processing != processing[w]) {
      Violation(absl::StrCat("worker ", rec.id, ": load accounting"));
    }
    if (rec.processing.size() != processing[w]) {
      Violation(absl::StrCat("worker ", rec.id, ": processing index"));
    }
    if (rec.held.size() != num_held[w]) {
      Violation(absl::StrCat("worker ", rec.id, ": holder index"));
    }
    if (rec.held_bytes != held_bytes[w]) {
      Violation(absl::StrCat("worker ", rec.id, ": holder accounting"));
    }
  }
  // Quiescence: a queued one-cpu task and an idle thread never coexist.
  if (ready_one_cpu && pool_.AnyCapacity(ready_saturation)) {
    Violation("a one-cpu task is ready while a worker has capacity");
  }
  // Interned strings.
  std::vector<uint32_t> string_uses(strings_.size(), 0);
  for (const Task& t : tasks_) {
    if (!t.live) continue;
    if (t.name != kNone) string_uses[t.name]++;
    if (t.function != kNone) string_uses[t.function]++;
  }
  for (size_t i = 0; i < strings_.size(); ++i) {
    if (string_uses[i] != string_refs_[i]) Violation("string refcount");
  }
}

}  // namespace weft::scheduler
