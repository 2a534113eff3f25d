// Copyright 2026 The weft Authors.
//
// BatchWriter: coalesces many small updates into one message per write.
// Updates made while a write is in flight go out together in the next one,
// so a single task costs one message and a burst of thousands costs a few.
//
// Two ways to deliver:
//  - kWriterThread: a thread of the writer's own writes each batch (a gRPC
//    stream, whose Write blocks). Add() never blocks on the write.
//  - kOnFlush: no thread. Add() only queues; Flush() writes on the calling
//    thread. If another thread is already writing, Flush() returns at once
//    and that thread writes the new updates too, once its current write
//    returns (flat combining). Used for in-process links, where "writing" is
//    a function call into the peer and a thread hop would only add latency.
//  - kOnFlushLingering: as kOnFlush, plus a timer on an event loop
//    (rpc/event_loop.h) that flushes AddLazy() updates once their linger
//    has passed (if no Flush() took them sooner). Used for frame streams
//    (rpc/frame_stream.h), whose writes never block; costs no thread.

#ifndef WEFT_RPC_BATCH_WRITER_H_
#define WEFT_RPC_BATCH_WRITER_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <thread>
#include <utility>

#include "absl/time/clock.h"
#include "rpc/event_loop.h"
#include "weft/internal/mutex.h"

namespace weft::rpc {

enum class Delivery { kWriterThread, kOnFlush, kOnFlushLingering };

// Thread-safe. `Message` is a protobuf message; `write` delivers one and
// returns false when the link is broken (later updates are dropped).
// `write` is never called concurrently with itself, and batches are
// delivered in the order their first update was added.
template <class Message>
class BatchWriter {
 public:
  // `loop` runs the linger timer of kOnFlushLingering (and must outlive the
  // writer); the other deliveries ignore it.
  explicit BatchWriter(std::function<bool(const Message&)> write,
                       Delivery delivery = Delivery::kWriterThread,
                       EventLoop* loop = nullptr)
      : write_(std::move(write)), delivery_(delivery) {
    if (delivery_ == Delivery::kWriterThread) {
      thread_ = std::thread([this] { Loop(); });
    } else if (delivery_ == Delivery::kOnFlushLingering) {
      linger_ = std::make_unique<Timer>(
          loop != nullptr ? *loop : EventLoop::Shared(), [this] { Flush(); });
    }
  }

  // Flushes what is pending, then stops.
  ~BatchWriter() { Close(); }

  // Applies `fill` to the pending message. Returns false (and drops the
  // update) once closed or broken. kOnFlush: the update waits for Flush().
  template <class Fill>
  bool Add(Fill&& fill) {
    {
      internal::MutexLock lock(&mu_);
      if (closed_ || broken_) return false;
      fill(pending_);
      dirty_ = true;
      urgent_ = true;
    }
    if (delivery_ == Delivery::kWriterThread) cv_.notify_one();
    return true;
  }

  // As Add(), for an update that may wait up to `linger` for company: the
  // writer thread wakes once for a batch of them, not once per update (a
  // wake-up costs the busy CPUs more than the update). An Add() sends
  // everything pending at once. kOnFlush: as Add(). kOnFlushLingering: a
  // Flush() before the linger passes sends it too.
  template <class Fill>
  bool AddLazy(Fill&& fill, std::chrono::microseconds linger) {
    bool wake = false;
    {
      internal::MutexLock lock(&mu_);
      if (closed_ || broken_) return false;
      fill(pending_);
      if (!dirty_) {
        lazy_deadline_ = std::chrono::steady_clock::now() + linger;
        wake = true;  // the thread (or timer) is set for it
      }
      dirty_ = true;
    }
    if (wake) {
      if (delivery_ == Delivery::kWriterThread) {
        cv_.notify_all();
      } else if (delivery_ == Delivery::kOnFlushLingering) {
        linger_->ArmBy(absl::Now() + absl::FromChrono(linger));
      }
    }
    return true;
  }

  // kOnFlush*: writes what is pending on this thread, unless a write is in
  // progress (on any thread, including this one further up the stack), in
  // which case that writer delivers it. kWriterThread: no-op.
  // REQUIRES: the caller holds no lock that `write` may take.
  void Flush() {
    if (delivery_ == Delivery::kWriterThread) return;
    internal::UniqueLock lock(mu_);
    if (writing_) return;
    writing_ = true;
    writer_id_ = std::this_thread::get_id();
    while (dirty_ && !broken_) {
      Message batch;
      batch.Swap(&pending_);
      dirty_ = false;
      urgent_ = false;
      lock.unlock();
      const bool ok = write_(batch);
      lock.lock();
      if (!ok) broken_ = true;
    }
    writing_ = false;
    lock.unlock();
    cv_.notify_all();  // Close() may be waiting for this write
  }

  // Flushes and stops. Idempotent. kOnFlush: waits for a write in progress
  // on another thread; called from inside `write`, leaves the flush to the
  // writer up the stack.
  void Close() {
    {
      internal::MutexLock lock(&mu_);
      closed_ = true;
    }
    if (delivery_ == Delivery::kWriterThread) {
      cv_.notify_one();
      if (thread_.joinable()) thread_.join();
      return;
    }
    if (delivery_ == Delivery::kOnFlushLingering) {
      linger_->Cancel();  // the flush below takes what lingers
    }
    Flush();
    internal::UniqueLock lock(mu_);
    if (writing_ && writer_id_ == std::this_thread::get_id()) return;
    while (writing_) cv_.wait(lock);
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
        internal::UniqueLock lock(mu_);
        while (!closed_) {
          if (!dirty_) {
            cv_.wait(lock);
          } else if (urgent_ ||
                     std::chrono::steady_clock::now() >= lazy_deadline_) {
            break;
          } else {
            cv_.wait_until(lock, lazy_deadline_);  // only lazy updates
          }
        }
        if (!dirty_) return;  // closed and flushed
        batch.Swap(&pending_);
        dirty_ = false;
        urgent_ = false;
      }
      if (!write_(batch)) {
        internal::MutexLock lock(&mu_);
        broken_ = true;
        return;
      }
    }
  }


  // Constant after construction.
  const std::function<bool(const Message&)> write_;
  const Delivery delivery_;

  mutable internal::Mutex mu_;
  std::condition_variable_any cv_;
  Message pending_ ABSL_GUARDED_BY(mu_);
  bool dirty_ ABSL_GUARDED_BY(mu_) = false;
  // Something pending was added with Add(): send without waiting.
  bool urgent_ ABSL_GUARDED_BY(mu_) = false;
  // With only AddLazy() updates pending: when they go anyway.
  std::chrono::steady_clock::time_point lazy_deadline_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  // kOnFlush: a thread is inside write_ (and which).
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  std::thread::id writer_id_ ABSL_GUARDED_BY(mu_);

  std::thread thread_;             // kWriterThread
  std::unique_ptr<Timer> linger_;  // kOnFlushLingering
};

}  // namespace weft::rpc

#endif  // WEFT_RPC_BATCH_WRITER_H_
