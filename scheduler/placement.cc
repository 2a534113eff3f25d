// Copyright 2026 The weft Authors.

#include "scheduler/placement.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace weft::scheduler::internal {

namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "WorkerPool invariant violated: %s\n", what);
  std::abort();
}

}  // namespace

bool WorkerPool::LoadLess::operator()(const LoadKey& a,
                                      const LoadKey& b) const {
  if ((a.nthreads == 0) != (b.nthreads == 0)) return b.nthreads == 0;
  const uint64_t lhs = uint64_t{a.used_cpus} * b.nthreads;
  const uint64_t rhs = uint64_t{b.used_cpus} * a.nthreads;
  if (lhs != rhs) return lhs < rhs;
  return a.id < b.id;
}

absl::StatusOr<WorkerSlot> WorkerPool::Add(WorkerId id, WorkerRegistration info,
                                           absl::Time now) {
  if (index_.contains(id)) {
    return absl::AlreadyExistsError(absl::StrCat("worker ", id, " exists"));
  }
  if (info.nthreads < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("worker ", id, ": nthreads must be >= 1, got ",
                     info.nthreads));
  }
  const WorkerSlot slot = TakeSlot(slots_, free_slots_);
  WorkerRecord& w = slots_[slot];
  w = WorkerRecord{};
  w.id = id;
  w.info = std::move(info);
  w.last_seen = now;
  w.live = true;
  index_.emplace(id, slot);
  if (load_pos_.size() < slots_.size()) load_pos_.resize(slots_.size());
  load_pos_[slot] = by_load_.insert(KeyOf(slot)).first;
  max_nthreads_ = std::max(max_nthreads_,
                           static_cast<uint32_t>(w.info.nthreads));
  return slot;
}

void WorkerPool::Remove(WorkerSlot slot) {
  WorkerRecord& w = slots_[slot];
  if (!w.retiring) by_load_.erase(load_pos_[slot]);
  index_.erase(w.id);
  w = WorkerRecord{};
  free_slots_.push_back(slot);
  UpdateMaxThreads();
}

void WorkerPool::UpdateMaxThreads() {
  max_nthreads_ = 0;
  for (const auto& [worker_id, s] : index_) {
    if (slots_[s].retiring) continue;
    max_nthreads_ = std::max(max_nthreads_,
                             static_cast<uint32_t>(slots_[s].info.nthreads));
  }
}

void WorkerPool::Retire(WorkerSlot slot) {
  WorkerRecord& w = slots_[slot];
  if (w.retiring) return;
  by_load_.erase(load_pos_[slot]);
  w.retiring = true;
  UpdateMaxThreads();
}

std::optional<WorkerSlot> WorkerPool::LeastLoaded() const {
  if (by_load_.empty()) return std::nullopt;
  return by_load_.begin()->slot;
}

std::optional<WorkerSlot> WorkerPool::Find(WorkerId id) const {
  auto it = index_.find(id);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

bool WorkerPool::Fits(WorkerSlot slot, uint32_t num_cpus,
                      uint32_t saturation) const {
  const WorkerRecord& w = slots_[slot];
  if (w.retiring) return false;
  const uint32_t free =
      static_cast<uint32_t>(w.info.nthreads) - w.reserved_cpus;
  const uint32_t need = std::min(num_cpus, max_nthreads_);
  return need <= free &&
         uint64_t{w.used_cpus} + need <= uint64_t{saturation} * free;
}

bool WorkerPool::AnyCapacity(uint32_t saturation) const {
  // The least loaded worker has room for one cpu iff any worker has:
  // used < saturation * nthreads  <=>  used / nthreads < saturation.
  return !by_load_.empty() && Fits(by_load_.begin()->slot, 1, saturation);
}

WorkerPool::LoadKey WorkerPool::KeyOf(WorkerSlot slot) const {
  const WorkerRecord& w = slots_[slot];
  return LoadKey{w.used_cpus,
                 static_cast<uint32_t>(w.info.nthreads) - w.reserved_cpus,
                 w.id, slot};
}

template <typename Change>
void WorkerPool::ChangeLoad(WorkerSlot slot, Change change) {
  if (slots_[slot].retiring) {
    change(slots_[slot]);
    return;
  }
  LoadIndex::node_type node = by_load_.extract(load_pos_[slot]);
  change(slots_[slot]);
  node.value() = KeyOf(slot);
  load_pos_[slot] = by_load_.insert(std::move(node)).position;
}

void WorkerPool::AddLoad(WorkerSlot slot, uint32_t num_cpus) {
  ChangeLoad(slot, [&](WorkerRecord& w) {
    w.used_cpus += num_cpus;
    w.num_processing++;
  });
}

void WorkerPool::ShiftLoad(WorkerSlot slot, int64_t delta_cpus) {
  ChangeLoad(slot, [&](WorkerRecord& w) {
    w.used_cpus = static_cast<uint32_t>(int64_t{w.used_cpus} + delta_cpus);
  });
}

uint32_t WorkerPool::Charge(WorkerSlot slot, uint32_t num_cpus) const {
  return std::min(num_cpus, static_cast<uint32_t>(slots_[slot].info.nthreads));
}

void WorkerPool::RemoveLoad(WorkerSlot slot, uint32_t num_cpus) {
  ChangeLoad(slot, [&](WorkerRecord& w) {
    w.used_cpus -= num_cpus;
    w.num_processing--;
  });
}

uint32_t WorkerPool::Reservation(uint32_t num_cpus) const {
  return std::min(num_cpus, max_nthreads_);
}

bool WorkerPool::CanReserve(WorkerSlot slot, uint32_t cpus) const {
  const WorkerRecord& w = slots_[slot];
  if (w.retiring) return false;
  return uint64_t{w.reserved_cpus} + cpus <=
         static_cast<uint64_t>(w.info.nthreads);
}

void WorkerPool::Reserve(WorkerSlot slot, uint32_t cpus) {
  ChangeLoad(slot, [&](WorkerRecord& w) {
    w.reserved_cpus += cpus;
    w.num_actors++;
  });
}

void WorkerPool::Unreserve(WorkerSlot slot, uint32_t cpus) {
  ChangeLoad(slot, [&](WorkerRecord& w) {
    w.reserved_cpus -= cpus;
    w.num_actors--;
  });
}

bool WorkerPool::LessLoaded(WorkerSlot a, WorkerSlot b) const {
  return LoadLess()(KeyOf(a), KeyOf(b));
}

std::optional<WorkerSlot> WorkerPool::Choose(
    absl::Span<const std::pair<WorkerSlot, uint64_t>> input_bytes,
    uint32_t num_cpus, uint32_t saturation) const {
  std::optional<WorkerSlot> best;
  uint64_t best_bytes = 0;
  for (const auto& [slot, bytes] : input_bytes) {
    if (bytes == 0 || !Fits(slot, num_cpus, saturation)) continue;
    if (!best || bytes > best_bytes ||
        (bytes == best_bytes && LessLoaded(slot, *best))) {
      best = slot;
      best_bytes = bytes;
    }
  }
  if (best) return best;
  for (const LoadKey& key : by_load_) {
    if (Fits(key.slot, num_cpus, saturation)) return key.slot;
    // One-cpu tasks: if the least loaded worker is full, all are.
    if (num_cpus == 1) break;
  }
  return std::nullopt;
}

std::vector<WorkerSlot> WorkerPool::SlotsById() const {
  std::vector<std::pair<WorkerId, WorkerSlot>> pairs(index_.begin(),
                                                     index_.end());
  std::sort(pairs.begin(), pairs.end());
  std::vector<WorkerSlot> out;
  out.reserve(pairs.size());
  for (const auto& p : pairs) out.push_back(p.second);
  return out;
}

void WorkerPool::CheckInvariants() const {
  size_t live = 0;
  size_t placed = 0;
  uint32_t max_nthreads = 0;
  for (WorkerSlot s = 0; s < slots_.size(); ++s) {
    if (!slots_[s].live) continue;
    ++live;
    auto it = index_.find(slots_[s].id);
    if (it == index_.end() || it->second != s) Die("id index mismatch");
    if (slots_[s].retiring) {
      if (by_load_.contains(KeyOf(s))) Die("retiring worker in load index");
      continue;
    }
    ++placed;
    max_nthreads =
        std::max(max_nthreads, static_cast<uint32_t>(slots_[s].info.nthreads));
    if (!by_load_.contains(KeyOf(s))) Die("worker missing from load index");
    if (load_pos_[s]->slot != s) Die("worker's load index position is stale");
    if (slots_[s].reserved_cpus >
        static_cast<uint32_t>(slots_[s].info.nthreads)) {
      Die("more threads reserved than the worker has");
    }
  }
  if (by_load_.size() != placed) Die("load index size != placeable workers");
  if (max_nthreads != max_nthreads_) Die("max_nthreads_ is stale");
  if (live != index_.size()) Die("live slot count != index size");
  if (live + free_slots_.size() != slots_.size()) Die("slot accounting");
}

}  // namespace weft::scheduler::internal
