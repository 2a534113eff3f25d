// Copyright 2026 The weft Authors.
//
// StreamPair: two connected in-process PeerStreams (rpc/peer_stream.h), for
// tests and fuzzers that play one side of a conversation by hand: a fake
// scheduler talking to a real worker (worker/worker_test.cc), say. What one
// end sends, the other receives, in order:
//
//   auto [worker_end, scheduler_end] =
//       MakeStreamPair<WorkerMessage, SchedulerToWorker>();
//   worker_end->Serve(...);          // the code under test serves one end
//   scheduler_end->Send(assign);     // delivered to that handler now
//   scheduler_end->Read(reply, absl::Now() + absl::Seconds(10));
//
// An end that serves gets messages on the sending thread (so the sender
// sees its effects before Send returns, unless another thread is
// delivering to that end); an end that does not serve queues them for
// Read(). Closing either end ends both: a serving end's closed handler gets
// Unavailable ("the other end closed the stream"), and closed_by_peer() is
// true on the end that did not close.

#ifndef WEFT_RPC_TESTING_STREAM_PAIR_H_
#define WEFT_RPC_TESTING_STREAM_PAIR_H_

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "rpc/peer_stream.h"
#include "weft/internal/mutex.h"

namespace weft::rpc::testing {

template <class Out, class In>
class PairedStream;

// Two connected ends: first sends A and receives B; second the reverse.
template <class A, class B>
std::pair<std::shared_ptr<PairedStream<A, B>>,
          std::shared_ptr<PairedStream<B, A>>>
MakeStreamPair(std::string first_name = "first",
               std::string second_name = "second");

// One end of a pair. Thread-safe: Send, Read and Close from any thread
// (Read from one thread at a time), Serve once.
template <class Out, class In>
class PairedStream final : public PeerStream<Out, In> {
 public:
  using typename PeerStream<Out, In>::MessagesHandler;
  using typename PeerStream<Out, In>::ClosedHandler;

  explicit PairedStream(std::string name) : name_(std::move(name)) {}

  bool Send(const Out& message) override {
    std::shared_ptr<PairedStream<In, Out>> other = other_.lock();
    return other != nullptr && other->Deliver(message);
  }

  bool Read(In& message, absl::Time deadline) override {
    internal::UniqueLock lock(mu_);
    while (inbox_.empty() && status_.ok()) {
      if (deadline == absl::InfiniteFuture()) {
        cv_.wait(lock);
      } else if (cv_.wait_until(lock, absl::ToChronoTime(deadline)) ==
                     std::cv_status::timeout &&
                 inbox_.empty()) {
        return false;
      }
    }
    if (inbox_.empty()) return false;
    message = std::move(inbox_.front());
    inbox_.pop_front();
    return true;
  }

  void Serve(MessagesHandler on_messages, ClosedHandler on_closed) override {
    // Held from before serving_ is set until the early messages are
    // delivered, so that none sent meanwhile overtakes them.
    std::lock_guard delivering(deliver_mu_);
    std::deque<In> early;
    absl::Status ended;
    {
      internal::MutexLock lock(&mu_);
      on_messages_ = std::move(on_messages);
      on_closed_ = std::move(on_closed);
      serving_ = true;
      early.swap(inbox_);
      ended = status_;
    }
    for (const In& m : early) this->DeliverOne(on_messages_, m);
    if (!ended.ok()) CallClosed(ended);
  }

  void Close(absl::Duration = absl::ZeroDuration()) override {
    End(absl::CancelledError("closed"), /*by_peer=*/false);
    if (std::shared_ptr<PairedStream<In, Out>> other = other_.lock()) {
      other->End(absl::UnavailableError(absl::StrCat(
                     name_, ": the other end closed the stream")),
                 /*by_peer=*/true);
    }
  }

  absl::Status status() const override {
    internal::MutexLock lock(&mu_);
    return status_;
  }
  bool closed_by_peer() const override {
    internal::MutexLock lock(&mu_);
    return by_peer_;
  }
  bool delivers_on_caller() const override { return true; }
  const char* transport() const override { return "in-process"; }
  std::string peer() const override { return name_ + "'s peer"; }

 private:
  template <class A, class B>
  friend std::pair<std::shared_ptr<PairedStream<A, B>>,
                   std::shared_ptr<PairedStream<B, A>>>
  MakeStreamPair(std::string, std::string);
  template <class, class>
  friend class PairedStream;

  // Takes a message from the other end: to the handler if serving, else
  // to the inbox. False once this end has ended.
  bool Deliver(const In& message) {
    {
      internal::MutexLock lock(&mu_);
      if (!status_.ok()) return false;
      if (!serving_) {
        inbox_.push_back(message);
        cv_.notify_all();
        return true;
      }
    }
    std::lock_guard delivering(deliver_mu_);
    this->DeliverOne(on_messages_, message);
    return true;
  }

  // Ends this end once with `why`; a serving end's closed handler follows.
  void End(absl::Status why, bool by_peer) {
    {
      internal::MutexLock lock(&mu_);
      if (!status_.ok()) return;
      status_ = why;
      by_peer_ = by_peer;
      cv_.notify_all();
      if (!serving_) return;
    }
    std::lock_guard delivering(deliver_mu_);
    CallClosed(why);
  }

  // REQUIRES: deliver_mu_ held.
  void CallClosed(const absl::Status& why) {
    if (closed_called_) return;
    closed_called_ = true;
    if (on_closed_) on_closed_(why);
  }

  const std::string name_;
  std::weak_ptr<PairedStream<In, Out>> other_;  // set by MakeStreamPair
  mutable internal::Mutex mu_;
  std::condition_variable_any cv_;
  std::deque<In> inbox_ ABSL_GUARDED_BY(mu_);
  bool serving_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  bool by_peer_ ABSL_GUARDED_BY(mu_) = false;
  // Held while a handler runs, so handlers never run concurrently;
  // recursive, as a handler may close its own stream. (A std mutex: the
  // analysis has no recursive one.) Guards closed_called_; the handlers
  // are written once by Serve() before serving_, and read after it.
  std::recursive_mutex deliver_mu_;
  MessagesHandler on_messages_;
  ClosedHandler on_closed_;
  bool closed_called_ = false;
};

template <class A, class B>
std::pair<std::shared_ptr<PairedStream<A, B>>,
          std::shared_ptr<PairedStream<B, A>>>
MakeStreamPair(std::string first_name, std::string second_name) {
  auto first = std::make_shared<PairedStream<A, B>>(std::move(first_name));
  auto second = std::make_shared<PairedStream<B, A>>(std::move(second_name));
  first->other_ = second;
  second->other_ = first;
  return {std::move(first), std::move(second)};
}

}  // namespace weft::rpc::testing

#endif  // WEFT_RPC_TESTING_STREAM_PAIR_H_
