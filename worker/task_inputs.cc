// Copyright 2026 The weft Authors.

#include "worker/task_inputs.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "weft/internal/task_events.h"

namespace weft::worker {

TaskInputs::TaskInputs(ObjectStore& store, FetchFn fetch)
    : store_(store), fetch_(std::move(fetch)) {}

absl::Status TaskInputs::Gather(
    const google::protobuf::RepeatedPtrField<rpc::Location>& deps,
    InputsOfRun& run) {
  for (const rpc::Location& dep : deps) {
    if (dep.inline_value().size() == dep.size() &&
        (dep.size() > 0 || dep.addresses_size() == 0)) {
      internal::MutexLock lock(&mu_);
      auto holds = holds_.find(dep.id());
      if (dep.keep()) {  // a counted copy from now on
        if (holds != holds_.end()) {
          holds_.erase(holds);  // the runs that hold it leave it be
        } else if (store_.Contains(dep.id())) {
          continue;  // a counted copy already
        } else {
          store_.Put(dep.id(), dep.inline_value());
        }
        run.fetched.push_back(dep.id());
        continue;
      }
      if (holds == holds_.end()) {
        if (store_.Contains(dep.id())) continue;  // a counted copy
        holds_[dep.id()] = 1;
        store_.Put(dep.id(), dep.inline_value());
      } else {
        ++holds->second;
      }
      run.inline_held.push_back(dep.id());
      continue;
    }
    if (store_.Contains(dep.id())) continue;
    rpc::FetchInfo how;
    const int64_t begun = internal::UnixMicrosNow();
    absl::StatusOr<rpc::Buffer> bytes = fetch_(dep, &how);
    if (!bytes.ok()) {
      rpc::Location& missing = run.missing.emplace_back();
      missing.set_id(dep.id());
      *missing.mutable_addresses() = dep.addresses();
      return absl::Status(bytes.status().code(),
                          absl::StrCat("could not fetch input ", dep.id(),
                                       ": ", bytes.status().message()));
    }
    rpc::TaskTransfer& t = run.transfers.emplace_back();
    t.set_id(dep.id());
    t.set_bytes(bytes->size());
    t.set_path(how.mapped ? 1 : 2);  // scheduler::TransferPath
    t.set_from(how.address);
    t.set_start_us(begun);
    t.set_end_us(internal::UnixMicrosNow());
    store_.Put(dep.id(), *std::move(bytes));
    run.fetched.push_back(dep.id());
  }
  return absl::OkStatus();
}

void TaskInputs::Release(std::vector<uint64_t>& held) {
  internal::MutexLock lock(&mu_);
  for (uint64_t id : held) {
    auto holds = holds_.find(id);
    if (holds == holds_.end()) continue;  // promoted meanwhile
    if (--holds->second == 0) {
      holds_.erase(holds);
      store_.Erase(id);
    }
  }
  held.clear();
}

void TaskInputs::Promote(uint64_t id) {
  internal::MutexLock lock(&mu_);
  holds_.erase(id);
}

void TaskInputs::Clear() {
  internal::MutexLock lock(&mu_);
  holds_.clear();
}

size_t TaskInputs::inline_objects() const {
  internal::MutexLock lock(&mu_);
  return holds_.size();
}

}  // namespace weft::worker
