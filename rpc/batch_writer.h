// Copyright 2026 The weft Authors.
//
// BatchWriter: coalesces many small updates into one message per write on a
// gRPC stream. Updates made while a write is in flight go out together in
// the next one, so a single task costs one message and a burst of thousands
// costs a few.

#ifndef WEFT_RPC_BATCH_WRITER_H_
#define WEFT_RPC_BATCH_WRITER_H_

#include <condition_variable>
#include <functional>
#include <thread>
#include <utility>

#include "weft/internal/mutex.h"

namespace weft::rpc {

// Thread-safe. `Message` is a protobuf message; `write` sends one and
// returns false when the stream is broken.
template <class Message>
class BatchWriter {
 public:
  explicit BatchWriter(std::function<bool(const Message&)> write)
      : write_(std::move(write)), thread_([this] { Loop(); }) {}

  // Flushes what is pending, then stops.
  ~BatchWriter() { Close(); }

  // Applies `fill` to the pending message. Returns false (and drops the
  // update) once closed or broken.
  template <class Fill>
  bool Add(Fill&& fill) {
    {
      internal::MutexLock lock(&mu_);
      if (closed_ || broken_) return false;
      fill(pending_);
      dirty_ = true;
    }
    cv_.notify_one();
    return true;
  }

  // Flushes and stops the writer thread. Idempotent.
  void Close() {
    {
      internal::MutexLock lock(&mu_);
      closed_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

  bool broken() const {
    internal::MutexLock lock(&mu_);
    return broken_;
  }

 private:
  void Loop() {
    while (true) {
      Message batch;
      {
        std::unique_lock<internal::Mutex> lock(mu_);
        while (!dirty_ && !closed_) cv_.wait(lock);
        if (!dirty_) return;  // closed and flushed
        batch.Swap(&pending_);
        dirty_ = false;
      }
      if (!write_(batch)) {
        internal::MutexLock lock(&mu_);
        broken_ = true;
        return;
      }
    }
  }

  const std::function<bool(const Message&)> write_;
  mutable internal::Mutex mu_;
  std::condition_variable_any cv_;
  Message pending_ ABSL_GUARDED_BY(mu_);
  bool dirty_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts after the members above exist
};

}  // namespace weft::rpc

#endif  // WEFT_RPC_BATCH_WRITER_H_
