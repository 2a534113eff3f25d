// Copyright 2026 The weft Authors.

#include "scheduler/report_bounds.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "rpc/error_proto.h"
#include "rpc/report_limits.h"

namespace weft::scheduler {
namespace {

bool HeartbeatInBounds(const rpc::Heartbeat& beat) {
  return beat.memory_bytes() <= rpc::kMaxReportedMemoryBytes &&
         beat.rss_bytes() <= rpc::kMaxReportedMemoryBytes &&
         std::isfinite(beat.cpu_seconds()) && beat.cpu_seconds() >= 0 &&
         beat.processing() >= 0 && beat.executing() >= 0;
}

bool ResultInBounds(const rpc::TaskResult& result) {
  if (!result.failed() &&
      !ImpossibleObjectSize(result.size(), result.inline_value().size())
           .empty()) {
    return false;
  }
  for (const rpc::TaskTransfer& t : result.transfers()) {
    if (t.bytes() > rpc::kMaxObjectBytes) return false;
  }
  return true;
}

void BoundHeartbeat(rpc::Heartbeat& beat, const std::string& who,
                    std::vector<std::string>& notes) {
  auto clamp_bytes = [&](uint64_t value, const char* what) {
    if (value <= rpc::kMaxReportedMemoryBytes) return value;
    notes.push_back(absl::StrCat(who, " reported ", what, " of ", value,
                                 " bytes; taken as ",
                                 rpc::kMaxReportedMemoryBytes));
    return rpc::kMaxReportedMemoryBytes;
  };
  beat.set_memory_bytes(clamp_bytes(beat.memory_bytes(), "memory use"));
  beat.set_rss_bytes(clamp_bytes(beat.rss_bytes(), "resident memory"));
  if (!std::isfinite(beat.cpu_seconds()) || beat.cpu_seconds() < 0) {
    notes.push_back(absl::StrCat(who, " reported a CPU time of ",
                                 beat.cpu_seconds(), " s; taken as 0"));
    beat.set_cpu_seconds(0);
  }
  if (beat.processing() < 0 || beat.executing() < 0) {
    notes.push_back(absl::StrCat(who, " reported negative task counts (",
                                 beat.processing(), " processing, ",
                                 beat.executing(), " executing); taken as 0"));
    if (beat.processing() < 0) beat.set_processing(0);
    if (beat.executing() < 0) beat.set_executing(0);
  }
}

void BoundResult(rpc::TaskResult& result, const std::string& who,
                 std::vector<std::string>& notes) {
  if (!result.failed()) {
    const std::string why =
        ImpossibleObjectSize(result.size(), result.inline_value().size());
    if (!why.empty()) {
      const std::string message = absl::StrCat(
          who, " reported a result of task ", absl::Hex(result.id()),
          " that ", why, "; the result is refused");
      notes.push_back(message);
      result.set_failed(true);
      result.set_size(0);
      result.clear_inline_value();
      ErrorInfo error;
      error.kind = ErrorKind::kTaskFailed;
      error.message = message;
      rpc::ToProto(error, *result.mutable_error());
    }
  }
  for (rpc::TaskTransfer& t : *result.mutable_transfers()) {
    if (t.bytes() > rpc::kMaxObjectBytes) {
      notes.push_back(absl::StrCat(who, " reported fetching ", t.bytes(),
                                   " bytes for one input; taken as ",
                                   rpc::kMaxObjectBytes));
      t.set_bytes(rpc::kMaxObjectBytes);
    }
  }
}

}  // namespace

std::string ImpossibleObjectSize(uint64_t size, uint64_t inline_bytes) {
  if (size > rpc::kMaxObjectBytes) {
    return absl::StrCat("announces ", size, " bytes, above the limit of ",
                        rpc::kMaxObjectBytes);
  }
  if (inline_bytes > size) {
    return absl::StrCat("announces ", size, " bytes but comes with ",
                        inline_bytes, " inline");
  }
  return std::string();
}

void BoundRegistration(rpc::WorkerInfo& info, const std::string& who,
                       std::vector<std::string>& notes) {
  if (info.nthreads() > rpc::kMaxWorkerThreads) {
    notes.push_back(absl::StrCat(who, " registered with ", info.nthreads(),
                                 " threads; taken as ",
                                 rpc::kMaxWorkerThreads));
    info.set_nthreads(rpc::kMaxWorkerThreads);
  }
}

std::unique_ptr<rpc::WorkerMessage> BoundWorkerMessage(
    const rpc::WorkerMessage& message, const std::string& who,
    std::vector<std::string>& notes) {
  bool in_bounds =
      !message.has_heartbeat() || HeartbeatInBounds(message.heartbeat());
  for (const rpc::TaskResult& result : message.results()) {
    in_bounds = in_bounds && ResultInBounds(result);
  }
  if (in_bounds) return nullptr;
  auto bounded = std::make_unique<rpc::WorkerMessage>(message);
  if (bounded->has_heartbeat()) {
    BoundHeartbeat(*bounded->mutable_heartbeat(), who, notes);
  }
  for (rpc::TaskResult& result : *bounded->mutable_results()) {
    BoundResult(result, who, notes);
  }
  return bounded;
}

}  // namespace weft::scheduler
