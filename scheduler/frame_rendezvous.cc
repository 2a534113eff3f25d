// Copyright 2026 The weft Authors.

#include "scheduler/frame_rendezvous.h"

#include <sys/random.h>

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "rpc/weft.pb.h"

namespace weft::scheduler {
namespace {

using internal::MutexLock;

}  // namespace

// A connection waiting for its key.
struct FrameRendezvous::Pending {
  std::shared_ptr<rpc::FrameStream> stream;
  std::unique_ptr<rpc::Timer> deadline;
  std::list<std::shared_ptr<Pending>>::iterator at;  // in pending_
  bool done = false;  // guarded by the rendezvous' mu_
};

absl::StatusOr<std::shared_ptr<FrameRendezvous>> FrameRendezvous::Listen(
    const std::string& host, int port, rpc::EventLoop& loop,
    Options options) {
  absl::StatusOr<std::unique_ptr<rpc::FrameListener>> listener =
      rpc::FrameListener::Listen(host, port, loop);
  if (!listener.ok()) return listener.status();
  std::shared_ptr<FrameRendezvous> rendezvous(
      new FrameRendezvous(loop, options));
  rendezvous->listener_ = *std::move(listener);
  std::weak_ptr<FrameRendezvous> weak = rendezvous;
  rendezvous->listener_->StartAccepting(
      [weak](std::shared_ptr<rpc::FrameStream> stream) {
        if (std::shared_ptr<FrameRendezvous> self = weak.lock()) {
          self->OnAccept(std::move(stream));
        } else {
          stream->Shutdown();
        }
      },
      [weak](const absl::Status& error) {
        // (Accepting fails when a flood of connections uses up the
        // descriptors: a line each would flood the log too.)
        if (std::shared_ptr<FrameRendezvous> self = weak.lock()) {
          self->stranger_log_.Write(error.message());
        }
      });
  return rendezvous;
}

FrameRendezvous::~FrameRendezvous() {
  listener_.reset();  // no accept runs after this (off the loop)
  std::list<std::shared_ptr<Pending>> pending;
  absl::flat_hash_map<std::string, std::shared_ptr<rpc::FrameStream>> arrived;
  {
    MutexLock lock(&mu_);
    closing_ = true;
    pending.swap(pending_);
    arrived.swap(arrived_);
  }
  for (auto& p : pending) {
    p->deadline.reset();
    p->stream->Shutdown();
  }
  for (auto& [key, stream] : arrived) stream->Shutdown();
}

std::string FrameRendezvous::NewKey() {
  std::string key(16, '\0');
  size_t got = 0;
  while (got < key.size()) {
    const ssize_t n = ::getrandom(key.data() + got, key.size() - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  MutexLock lock(&mu_);
  expected_.insert(key);
  return key;
}

void FrameRendezvous::OnAccept(std::shared_ptr<rpc::FrameStream> stream) {
  auto pending = std::make_shared<Pending>();
  pending->stream = stream;
  std::shared_ptr<Pending> evicted;
  {
    MutexLock lock(&mu_);
    if (closing_) {
      stream->Shutdown();
      return;
    }
    ++counts_.accepted;
    if (pending_.size() >= options_.max_pending) {
      evicted = pending_.front();
    }
    pending_.push_back(pending);
    pending->at = std::prev(pending_.end());
  }
  if (evicted != nullptr) {
    Drop(evicted, &Counts::evicted,
         absl::StrCat("more than ", options_.max_pending,
                      " connections were waiting to show a key"));
  }
  // The deadline and the first frame race on the loop; the first one to
  // take `done` wins.
  // Each handler holds the rendezvous and the connection weakly: either
  // may be gone when it runs.
  std::weak_ptr<Pending> weak = pending;
  std::weak_ptr<FrameRendezvous> rendezvous = weak_from_this();
  pending->deadline = std::make_unique<rpc::Timer>(loop_, [rendezvous, weak] {
    std::shared_ptr<FrameRendezvous> self = rendezvous.lock();
    std::shared_ptr<Pending> p = weak.lock();
    if (self == nullptr || p == nullptr) return;
    self->Drop(p, &Counts::timed_out,
               absl::StrCat("sent no key within ",
                            absl::FormatDuration(self->options_.hello_timeout)));
  });
  pending->deadline->ArmAfter(options_.hello_timeout);
  stream->set_read_limit(options_.max_hello_bytes);
  stream->StartReading(
      [rendezvous, weak](absl::Span<const std::string_view> frames) -> size_t {
        std::shared_ptr<FrameRendezvous> self = rendezvous.lock();
        std::shared_ptr<Pending> p = weak.lock();
        if (self == nullptr || p == nullptr) return frames.size();
        p->stream->PauseAfterThisBatch();  // the registration reads on
        self->OnHello(p, frames[0]);
        return 1;
      },
      [rendezvous, weak](const absl::Status& why) {
        std::shared_ptr<FrameRendezvous> self = rendezvous.lock();
        std::shared_ptr<Pending> p = weak.lock();
        if (self == nullptr || p == nullptr) return;
        self->Drop(p, &Counts::refused,
                   absl::StrCat("ended before it showed a key (",
                                why.message(), ")"));
      });
}

void FrameRendezvous::OnHello(const std::shared_ptr<Pending>& pending,
                              std::string_view frame) {
  rpc::FrameHello hello;
  if (!hello.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) {
    Drop(pending, &Counts::refused, "sent a first frame that is no hello");
    return;
  }
  {
    MutexLock lock(&mu_);
    if (pending->done) return;  // timed out or evicted meanwhile
    if (!expected_.contains(hello.key()) || arrived_.contains(hello.key())) {
      // Refused below, outside the lock.
    } else {
      pending->done = true;
      pending_.erase(pending->at);
      ++counts_.joined;
      pending->stream->set_read_limit(rpc::kMaxFrameBytes);
      arrived_[hello.key()] = pending->stream;
      arrived_cv_.notify_all();
      pending->deadline->Cancel();
      return;
    }
  }
  Drop(pending, &Counts::refused, "has a key no registering peer was given");
}

void FrameRendezvous::Drop(const std::shared_ptr<Pending>& pending,
                           uint64_t Counts::*counter, const std::string& why) {
  {
    MutexLock lock(&mu_);
    if (pending->done) return;
    pending->done = true;
    pending_.erase(pending->at);
    ++(counts_.*counter);
  }
  pending->deadline->Cancel();
  pending->stream->Shutdown();
  stranger_log_.Write(absl::StrCat("a connection to the frame port from ",
                                   pending->stream->peer(), " ", why,
                                   "; closed"));
}

absl::StatusOr<std::shared_ptr<rpc::FrameStream>> FrameRendezvous::Take(
    const std::string& key, absl::Time deadline) {
  internal::UniqueLock lock(mu_);
  while (!arrived_.contains(key) && !closing_) {
    if (arrived_cv_.wait_until(lock, absl::ToChronoTime(deadline)) ==
            std::cv_status::timeout &&
        !arrived_.contains(key)) {
      break;
    }
  }
  expected_.erase(key);
  auto it = arrived_.find(key);
  if (it == arrived_.end()) {
    return absl::DeadlineExceededError(
        "no connection with its key arrived on the frame port");
  }
  std::shared_ptr<rpc::FrameStream> stream = std::move(it->second);
  arrived_.erase(it);
  return stream;
}

void FrameRendezvous::Forget(const std::string& key) {
  std::shared_ptr<rpc::FrameStream> stream;
  {
    MutexLock lock(&mu_);
    expected_.erase(key);
    auto it = arrived_.find(key);
    if (it != arrived_.end()) {
      stream = std::move(it->second);
      arrived_.erase(it);
    }
  }
  if (stream != nullptr) stream->Shutdown();
}

FrameRendezvous::Counts FrameRendezvous::counts() const {
  MutexLock lock(&mu_);
  return counts_;
}

}  // namespace weft::scheduler
