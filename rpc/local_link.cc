// Copyright 2026 The weft Authors.

#include "rpc/local_link.h"

#include <utility>

#include "weft/internal/status_macros.h"

namespace weft::rpc {

using internal::MutexLock;

absl::StatusOr<std::shared_ptr<LocalLinkStream>> LocalLinkStream::Connect(
    std::shared_ptr<LocalLink> link, const std::string& name) {
  std::shared_ptr<LocalLinkStream> stream(new LocalLinkStream(link));
  WEFT_ASSIGN_OR_RETURN(uint64_t id, link->Connect(name, stream));
  stream->id_ = id;
  return stream;
}

bool LocalLinkStream::Send(const ClientMessage& message) {
  return link_->Deliver(id_, message);
}

void LocalLinkStream::Serve(MessagesHandler on_messages,
                            ClosedHandler on_closed) {
  std::vector<SchedulerToClient> early;
  absl::Status ended;
  {
    MutexLock lock(&mu_);
    on_messages_ = std::move(on_messages);
    on_closed_ = std::move(on_closed);
    early.swap(early_);
    serving_ = true;
    if (ended_) ended = status_;
  }
  // Delivered outside the lock, as OnMessage() does: on_messages_ is not
  // written again, and the scheduler sends a client nothing more before it
  // has acted on its first answer.
  if (!early.empty()) {
    std::vector<const SchedulerToClient*> messages;
    messages.reserve(early.size());
    for (const SchedulerToClient& m : early) messages.push_back(&m);
    on_messages_(absl::MakeConstSpan(messages));
  }
  if (!ended.ok()) End(ended);
}

void LocalLinkStream::OnMessage(const SchedulerToClient& message) {
  {
    MutexLock lock(&mu_);
    if (!serving_) {
      early_.push_back(message);
      return;
    }
  }
  // Never concurrently with itself (the link's contract).
  DeliverOne(on_messages_, message);
}

void LocalLinkStream::OnClosed(const std::string& reason) {
  End(absl::UnavailableError(reason));
}

void LocalLinkStream::Close(absl::Duration) {
  link_->Disconnect(id_);
  End(absl::CancelledError("weft: the client disconnected from the scheduler"));
}

void LocalLinkStream::End(absl::Status why) {
  ClosedHandler on_closed;
  {
    MutexLock lock(&mu_);
    if (!ended_) {
      ended_ = true;
      status_ = why;
    }
    if (!serving_) return;  // Serve() calls it
    on_closed = std::move(on_closed_);
    on_closed_ = nullptr;
  }
  if (on_closed) on_closed(why);
}

absl::Status LocalLinkStream::status() const {
  MutexLock lock(&mu_);
  return status_;
}

bool LocalLinkStream::closed_by_peer() const {
  MutexLock lock(&mu_);
  return ended_ && absl::IsUnavailable(status_);
}

}  // namespace weft::rpc
