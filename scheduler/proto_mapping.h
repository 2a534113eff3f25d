// Copyright 2026 The weft Authors.
//
// Between the wire (rpc/weft.proto) and the state machine's plain types
// (scheduler/types.h): the one place the scheduler converts either way.
// Errors convert with rpc/error_proto.h, as in every process.

#ifndef WEFT_SCHEDULER_PROTO_MAPPING_H_
#define WEFT_SCHEDULER_PROTO_MAPPING_H_

#include <string>

#include "absl/functional/function_ref.h"
#include "rpc/error_proto.h"
#include "rpc/weft.pb.h"
#include "scheduler/scheduler_state.h"
#include "scheduler/types.h"

namespace weft::scheduler {

// A submitted task. Only the arguments are kept as bytes (the bytes of a
// TaskDef holding nothing else, so short ones fit CompactBytes' inline
// bytes); ToProto(AssignTask) rebuilds the rest from the fields. num_cpus
// below 1 counts as 1.
TaskDef FromProto(const rpc::TaskDef& def);

// Where an object is: its size, its value if small, and the data
// addresses of the workers holding it (`address_of` gives a worker's, or
// "" for one that is gone, which is left out).
void FillLocation(ObjectId id, uint64_t size,
                  const std::vector<WorkerId>& holders,
                  const std::string& inline_value,
                  absl::FunctionRef<std::string(WorkerId)> address_of,
                  rpc::Location& out);

// An assignment as a worker receives it.
void ToProto(const AssignTask& assign,
             absl::FunctionRef<std::string(WorkerId)> address_of,
             rpc::Assignment& out);

// A worker's registration as the state machine takes it.
WorkerRegistration FromProto(const rpc::WorkerInfo& info);

// An actor a client creates; the constructor's arguments are kept as bytes
// (as a task's), rebuilt by ToProto(PlaceActor).
ActorDef FromProto(const rpc::ActorDef& def);

// An actor's placement as its worker receives it.
void ToProto(const PlaceActor& place,
             absl::FunctionRef<std::string(WorkerId)> address_of,
             rpc::ActorPlacement& out);

// An actor as clients see it (`worker` is its worker's data address).
void ToProto(const SchedulerState::ActorSummary& actor,
             const std::string& worker, rpc::ActorInfo& out);

}  // namespace weft::scheduler

#endif  // WEFT_SCHEDULER_PROTO_MAPPING_H_
