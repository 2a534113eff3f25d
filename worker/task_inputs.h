// Copyright 2026 The weft Authors.
//
// TaskInputs: how a worker makes a task's inputs present before the task
// runs. An assignment names each input (rpc::Location): small ones come
// inline with it, the others are fetched from the workers that hold them.
//
// Inline inputs are copies the scheduler does not count as held here: they
// live in the store only while some run needs them, counted per object, and
// go when the last such run releases them, unless the object has become a
// counted value meanwhile (a task here produced it: Promote). Fetched
// inputs are counted copies: the caller tells the scheduler (replicas) and
// they stay until the scheduler releases them.
//
//   TaskInputs inputs(store, [&](const rpc::Location& input, auto* how) {
//     return data_client.FetchAnyBuffer(
//         {input.addresses().begin(), input.addresses().end()}, input.id(),
//         how, input.size());
//   });
//   InputsOfRun got;
//   absl::Status s = inputs.Gather(assignment.deps(), got);
//   ... report got.fetched as replicas, even when s is not OK ...
//   inputs.Release(got.inline_held);   // when the run ends, whatever happened
//
// The fetch is a seam: tests give a fake holder (worker/task_inputs_test.cc).

#ifndef WEFT_WORKER_TASK_INPUTS_H_
#define WEFT_WORKER_TASK_INPUTS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "rpc/buffer.h"
#include "rpc/data_client.h"
#include "rpc/weft.pb.h"
#include "weft/internal/mutex.h"
#include "worker/object_store.h"

namespace weft::worker {

// What gathering one run's inputs did: for the run's result and its end.
struct InputsOfRun {
  // Inline inputs this run holds: give them back with Release.
  std::vector<uint64_t> inline_held;
  // Inputs fetched into the store, or kept from their inline value
  // (rpc::Location.keep): counted copies the scheduler must hear of
  // (WorkerMessage.replicas).
  std::vector<uint64_t> fetched;
  // One per fetched input, for the scheduler's views (TaskResult).
  std::vector<rpc::TaskTransfer> transfers;
  // The input that could not be fetched, with the holders tried
  // (TaskResult.missing): the run fails before it starts, which is no fault
  // of the task.
  std::vector<rpc::Location> missing;
};

// Thread-safe. The store must outlive this object.
class TaskInputs {
 public:
  // Fetches object input.id() from the first of input.addresses() that
  // answers with input.size() bytes (the size the scheduler recorded),
  // saying in `how` which one and whether its memory was mapped. As
  // rpc::DataClient::FetchAnyBuffer.
  using FetchFn = std::function<absl::StatusOr<rpc::Buffer>(
      const rpc::Location& input, rpc::FetchInfo* how)>;

  TaskInputs(ObjectStore& store, FetchFn fetch);
  TaskInputs(const TaskInputs&) = delete;
  TaskInputs& operator=(const TaskInputs&) = delete;

  // Makes every input in `deps` present in the store, in order: an inline
  // one is put there (or, if other runs hold it already, counted once
  // more) unless the store holds a counted copy; an inline one marked keep
  // becomes a counted copy (listed in run.fetched, unless it was one
  // already); a missing one is fetched.
  // Fills `run` as it goes, also on failure (what was held or fetched
  // before the failure stays so, and must be released and reported as
  // usual). Errors: the fetch's error for the first input that no holder
  // gave, its message naming the input; `run.missing` then names it.
  absl::Status Gather(
      const google::protobuf::RepeatedPtrField<rpc::Location>& deps,
      InputsOfRun& run);

  // Gives back the inline inputs in `held` (and clears it): an input no
  // other run holds leaves the store, unless it has been promoted.
  void Release(std::vector<uint64_t>& held);

  // Object `id` is now a value the scheduler counts here (a task here
  // produced it): no Release removes it any more.
  void Promote(uint64_t id);

  // Forgets every inline hold (the session that assigned the runs ended,
  // and the store is cleared with it).
  void Clear();

  // How many objects are held inline now. For tests and views.
  size_t inline_objects() const;

 private:
  ObjectStore& store_;
  const FetchFn fetch_;
  mutable internal::Mutex mu_;
  // Runs holding each inline input.
  absl::flat_hash_map<uint64_t, int> holds_ ABSL_GUARDED_BY(mu_);
};

}  // namespace weft::worker

#endif  // WEFT_WORKER_TASK_INPUTS_H_
