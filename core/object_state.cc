// Copyright 2026 The weft Authors.

#include "weft/internal/object_state.h"

#include <atomic>
#include <random>
#include <utility>

#include "absl/strings/str_format.h"

namespace weft::internal {

uint64_t NewObjectId() {
  // Ids must be unique across every process of a cluster (clients and
  // workers both mint them): 31 random bits per process above a 32-bit
  // counter. The top bit stays clear; pure graph nodes use it.
  static const uint64_t salt = [] {
    std::random_device device;
    return (uint64_t{device()} & 0x7fffffffu) << 32;
  }();
  static std::atomic<uint64_t> next{1};
  return salt | (next.fetch_add(1, std::memory_order_relaxed) & 0xffffffffu);
}

std::string MakeKey(const std::string& name, uint64_t id) {
  return absl::StrFormat("%s-%016x", name, id);
}

ObjectState::ObjectState(uint64_t id, std::string name)
    : id_(id), name_(std::move(name)) {}

ObjectState::~ObjectState() {
  std::shared_ptr<ReleaseHook> hook;
  {
    MutexLock lock(&mu_);
    hook = std::move(release_hook_);
  }
  if (hook != nullptr) hook->Release(id_);
}

std::string ObjectState::key() const { return MakeKey(name_, id_); }

bool ObjectState::SetValue(AnyValue value) {
  if (!Complete(std::move(value), nullptr)) return false;
  WakeWaiters(nullptr);
  return true;
}

bool ObjectState::SetError(std::shared_ptr<const ErrorInfo> error) {
  if (!Complete(AnyValue(), std::move(error))) return false;
  WakeWaiters(nullptr);
  return true;
}

bool ObjectState::Publish(std::shared_ptr<ObjectState> self, AnyValue value,
                          std::shared_ptr<const ErrorInfo> error) {
  ObjectState* raw = self.get();
  if (!raw->Complete(std::move(value), std::move(error))) return false;
  raw->WakeWaiters(&self);
  return true;
}

void ObjectState::WakeWaiters(std::shared_ptr<ObjectState>* self) {
  MutexLock lock(&mu_);
  if (waiters_ == 0) return;
  // Each waiter holds a reference and cannot leave its wait before we
  // unlock, so dropping ours here never destroys the object under us.
  if (self != nullptr) self->reset();
  cv_.notify_all();
}

bool ObjectState::Complete(AnyValue value,
                           std::shared_ptr<const ErrorInfo> error) {
  std::vector<std::shared_ptr<ReadyListener>> listeners;
  {
    MutexLock lock(&mu_);
    if (done_) return false;
    value_ = std::move(value);
    error_ = std::move(error);
    done_ = true;
    listeners.swap(listeners_);
    producer_.reset();
  }
  for (auto& l : listeners) l->OnReady(*this);
  return true;
}

bool ObjectState::done() const {
  MutexLock lock(&mu_);
  return done_;
}

std::shared_ptr<const ErrorInfo> ObjectState::error() const {
  MutexLock lock(&mu_);
  return error_;
}

const AnyValue& ObjectState::value() const {
  // value_ is immutable once done_ was set under mu_; the caller observed
  // done() under mu_, which orders this read after the write.
  return value_;
}

bool ObjectState::WaitUntil(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<Mutex> lock(mu_);
  if (done_) return true;
  ++waiters_;
  while (!done_) {
    if (cv_.wait_until(lock, deadline) == boost::fibers::cv_status::timeout) {
      break;
    }
  }
  --waiters_;
  return done_;
}

void ObjectState::Wait() {
  std::unique_lock<Mutex> lock(mu_);
  ++waiters_;
  while (!done_) cv_.wait(lock);
  --waiters_;
}

bool ObjectState::AddListener(std::shared_ptr<ReadyListener> listener) {
  MutexLock lock(&mu_);
  if (done_) return false;
  listeners_.push_back(std::move(listener));
  return true;
}

void ObjectState::set_producer(std::weak_ptr<Producer> producer) {
  MutexLock lock(&mu_);
  if (!done_) producer_ = std::move(producer);
}

std::shared_ptr<Producer> ObjectState::producer() const {
  MutexLock lock(&mu_);
  return producer_.lock();
}

void ObjectState::set_release_hook(std::shared_ptr<ReleaseHook> hook) {
  MutexLock lock(&mu_);
  release_hook_ = std::move(hook);
}

bool ObjectState::SetRemote(std::shared_ptr<RemoteBytes> source,
                            std::string inline_bytes, bool has_inline) {
  {
    MutexLock lock(&mu_);
    if (done_) return false;
    remote_ = true;
    source_ = std::move(source);
    has_inline_ = has_inline;
    inline_bytes_ = std::move(inline_bytes);
  }
  if (!Complete(AnyValue(), nullptr)) return false;
  WakeWaiters(nullptr);
  return true;
}

bool ObjectState::is_remote() const {
  MutexLock lock(&mu_);
  return remote_;
}

absl::StatusOr<std::string> ObjectState::Bytes() {
  {
    MutexLock lock(&mu_);
    if (!remote_) {
      return absl::FailedPreconditionError("object " + key() +
                                           " is not a cluster object");
    }
    if (has_inline_) return inline_bytes_;
  }
  return source_->Fetch(id_);
}

absl::Status ObjectState::Materialize(
    absl::FunctionRef<absl::StatusOr<AnyValue>(std::string_view)> decode) {
  MutexLock lock(&materialize_mu_);
  if (materialized_) return materialize_status_;
  absl::StatusOr<std::string> fetched;
  std::string_view bytes;
  if (has_inline_) {
    bytes = inline_bytes_;
  } else {
    fetched = source_->Fetch(id_);
    if (!fetched.ok()) {
      // A failed fetch may succeed later (e.g. after recomputation).
      return fetched.status();
    }
    bytes = *fetched;
  }
  absl::StatusOr<AnyValue> value = decode(bytes);
  materialized_ = true;
  if (!value.ok()) {
    materialize_status_ = value.status();
  } else {
    value_ = *std::move(value);
  }
  return materialize_status_;
}

}  // namespace weft::internal
