// Copyright 2026 The weft Authors.

#include "rpc/batch_split.h"

#include "google/protobuf/io/coded_stream.h"

namespace weft::rpc {
namespace {

// What one element of a repeated message field adds to its message: the
// element, its length prefix and a tag (at most 2 bytes for our fields).
size_t EntryBytes(const google::protobuf::MessageLite& entry) {
  const size_t size = entry.ByteSizeLong();
  return size + google::protobuf::io::CodedOutputStream::VarintSize64(size) + 2;
}

}  // namespace

std::vector<SchedulerToWorker> SplitBatch(const SchedulerToWorker& batch,
                                          size_t max_bytes) {
  std::vector<SchedulerToWorker> out;
  if (batch.ByteSizeLong() <= max_bytes) {
    out.push_back(batch);
    return out;
  }
  // The first message: everything but the split fields and the tail.
  SchedulerToWorker& head = out.emplace_back(batch);
  head.clear_place_actor();
  head.clear_assign();
  head.clear_stop_actor();
  head.clear_fetch();
  head.clear_shutdown();
  size_t used = head.ByteSizeLong();  // of the last message
  // The message an entry of `bytes` goes in: the last, or a new one when
  // the last has something and no room for it.
  auto room_for = [&](size_t bytes) -> SchedulerToWorker& {
    if (used > 0 && used + bytes > max_bytes) {
      out.emplace_back();
      used = 0;
    }
    used += bytes;
    return out.back();
  };
  for (const ActorPlacement& place : batch.place_actor()) {
    *room_for(EntryBytes(place)).add_place_actor() = place;
  }
  for (const Assignment& assign : batch.assign()) {
    const size_t bytes = EntryBytes(assign);
    if (bytes <= max_bytes) {
      *room_for(bytes).add_assign() = assign;
      continue;
    }
    // Too large for any message: its inputs with holders are fetched.
    Assignment lean = assign;
    for (Location& dep : *lean.mutable_deps()) {
      if (dep.addresses_size() > 0) dep.clear_inline_value();
    }
    *room_for(EntryBytes(lean)).add_assign() = std::move(lean);
  }
  // What the worker reads after the assignments, last.
  SchedulerToWorker tail;
  *tail.mutable_stop_actor() = batch.stop_actor();
  *tail.mutable_fetch() = batch.fetch();
  tail.set_shutdown(batch.shutdown());
  if (used + tail.ByteSizeLong() > max_bytes) {
    out.push_back(std::move(tail));
  } else {
    out.back().MergeFrom(tail);
  }
  return out;
}

}  // namespace weft::rpc
