// Copyright 2026 The weft Authors.
//
// Batches too large for one message. A scheduler's batch to one worker
// can grow without bound: every assignment carries its inputs' small
// values inline (up to 64 KiB each), and a worker with many threads takes
// saturation x nthreads tasks at once (16,384 tasks sharing one 64 KiB
// input to a 64-thread worker at the widest adaptive saturation: 1 GiB,
// the frame limit, past which the link is dropped). SendBatch sends such a
// batch as several messages, each within kMaxBatchBytes, in the order the
// peer would have read the one message. MakeBatchWriter (peer_stream.h)
// writes every batch through it.

#ifndef WEFT_RPC_BATCH_SPLIT_H_
#define WEFT_RPC_BATCH_SPLIT_H_

#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

#include "rpc/frame_stream.h"
#include "rpc/weft.pb.h"

namespace weft::rpc {

// The largest batch sent as one message, where it can be split: well
// within the frame limit, so that neither side holds a huge message (and
// its serialized copy) at once.
inline constexpr size_t kMaxBatchBytes = size_t{64} << 20;
static_assert(kMaxBatchBytes <= kMaxFrameBytes);

// Returns `batch` as messages of at most `max_bytes` each, which a worker
// handles as it would `batch`: the first carries everything read before
// the actor placements and assignments (worker_id, release, cancel, the
// offer fields, ...), the placements and then the assignments follow in
// order, as many per message as fit, and the last carries what is read
// after them (stop_actor, fetch, shutdown). An assignment too large for a
// message of its own drops the inline values of inputs that name holders
// (the worker fetches those); one still too large (inputs only the
// scheduler keeps) goes alone, over `max_bytes`. A batch within
// `max_bytes` comes back as the one message. REQUIRES: max_bytes > 0.
std::vector<SchedulerToWorker> SplitBatch(const SchedulerToWorker& batch,
                                          size_t max_bytes);

// Sends `batch` through `send` (bool(const Message&), false when the link
// is broken): whole if it is within `max_bytes` or of a type that is not
// split, else as SplitBatch's messages, stopping at the first that fails.
// Returns whether every send succeeded.
template <class Message, class Send>
bool SendBatch(const Message& batch, Send&& send,
               size_t max_bytes = kMaxBatchBytes) {
  if constexpr (std::is_same_v<Message, SchedulerToWorker>) {
    if (batch.ByteSizeLong() > max_bytes) {
      for (const SchedulerToWorker& piece : SplitBatch(batch, max_bytes)) {
        if (!send(piece)) return false;
      }
      return true;
    }
  } else {
    (void)max_bytes;
  }
  return send(batch);
}

}  // namespace weft::rpc

#endif  // WEFT_RPC_BATCH_SPLIT_H_
