// Copyright 2026 The weft Authors.

#include "weft/internal/object_state.h"

#include <atomic>
#include <random>
#include <utility>
#include <vector>

#include "boost/fiber/condition_variable.hpp"
#include "weft/internal/status_macros.h"

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

namespace {

// Locks shared by all ObjectStates, each on its own cache line. An object
// holds its lock only for a few instructions, so sharing is rarely felt.
constexpr size_t kNumLocks = 256;
struct alignas(64) PaddedMutex {
  Mutex mu;
};

PaddedMutex* Locks() {
  static PaddedMutex* locks = new PaddedMutex[kNumLocks];  // never destroyed
  return locks;
}

}  // namespace

struct ObjectState::Extras {
  boost::fibers::condition_variable_any cv;
  int waiters = 0;
  std::shared_ptr<const ErrorInfo> error;  // written once, before done_
  std::vector<std::shared_ptr<ReadyListener>> listeners;
  std::weak_ptr<Producer> producer;
};

struct ObjectState::Remote {
  std::shared_ptr<RemoteBytes> source;
  std::string inline_bytes;
  bool has_inline = false;
  // Decoding into value_ after completion, under the object's lock (which
  // is not held while fetching: one caller fetches, others wait).
  bool materializing = false;
  bool materialized = false;
  absl::Status materialize_status;
};

ObjectState::ObjectState(uint64_t id, std::string_view name)
    : id_(id), name_(name) {}

ObjectState::ObjectState(uint64_t id, InternedName name)
    : id_(id), name_(std::move(name)) {}

void ObjectOwner::Cancel(uint64_t, bool) {}

ObjectState::~ObjectState() {
  std::shared_ptr<ObjectOwner> owner;
  {
    MutexLock lock(&mu());
    owner = std::move(owner_);
  }
  if (owner != nullptr) owner->Release(id_);
}

Mutex& ObjectState::mu() const {
  // Objects are at least 16 bytes apart; mix the bits above that.
  const uintptr_t a = reinterpret_cast<uintptr_t>(this) >> 4;
  return Locks()[(a ^ (a >> 8) ^ (a >> 16)) % kNumLocks].mu;
}

ObjectState::Extras& ObjectState::extras() {
  if (extras_ == nullptr) extras_ = std::make_unique<Extras>();
  return *extras_;
}

std::string ObjectState::key() const { return MakeKey(name(), id_); }

bool ObjectState::SetValue(AnyValue value) {
  return Complete(std::move(value), nullptr, nullptr, nullptr);
}

bool ObjectState::SetError(std::shared_ptr<const ErrorInfo> error) {
  return Complete(AnyValue(), std::move(error), nullptr, nullptr);
}

bool ObjectState::Publish(std::shared_ptr<ObjectState> self, AnyValue value,
                          std::shared_ptr<const ErrorInfo> error) {
  ObjectState* raw = self.get();
  return raw->Complete(std::move(value), std::move(error), nullptr, &self);
}

void ObjectState::WakeWaiters(std::shared_ptr<ObjectState>* self) {
  MutexLock lock(&mu());
  if (extras_ == nullptr || extras_->waiters == 0) return;
  // Each waiter holds a reference and cannot leave its wait before we
  // unlock, so dropping ours here never destroys the object under us.
  if (self != nullptr) self->reset();
  extras_->cv.notify_all();
}

bool ObjectState::Complete(AnyValue value,
                           std::shared_ptr<const ErrorInfo> error,
                           std::unique_ptr<Remote> remote,
                           std::shared_ptr<ObjectState>* self) {
  std::vector<std::shared_ptr<ReadyListener>> listeners;
  std::weak_ptr<Producer> producer;
  {
    MutexLock lock(&mu());
    if (done_) return false;
    value_ = std::move(value);
    remote_ = std::move(remote);
    if (error != nullptr) extras().error = std::move(error);
    done_ = true;
    if (extras_ != nullptr) {
      listeners.swap(extras_->listeners);
      producer.swap(extras_->producer);
    }
  }
  for (auto& l : listeners) l->OnReady(*this);
  WakeWaiters(self);
  // From here on `this` may be gone: only locals are touched.
  if (self != nullptr) self->reset();
  for (auto& l : listeners) l->Wake();
  return true;
}

bool ObjectState::done() const {
  MutexLock lock(&mu());
  return done_;
}

std::shared_ptr<const ErrorInfo> ObjectState::error() const {
  MutexLock lock(&mu());
  return extras_ != nullptr ? extras_->error : nullptr;
}

const AnyValue& ObjectState::value() const {
  // value_ is immutable once done_ was set under mu(); the caller observed
  // done() under mu(), which orders this read after the write.
  return value_;
}

bool ObjectState::WaitUntil(std::chrono::steady_clock::time_point deadline) {
  UniqueLock lock(mu());
  if (done_) return true;
  Extras& e = extras();
  ++e.waiters;
  while (!done_) {
    if (e.cv.wait_until(lock, deadline) == boost::fibers::cv_status::timeout) {
      break;
    }
  }
  --e.waiters;
  return done_;
}

void ObjectState::Wait() {
  UniqueLock lock(mu());
  if (done_) return;
  Extras& e = extras();
  ++e.waiters;
  while (!done_) e.cv.wait(lock);
  --e.waiters;
}

bool ObjectState::AddListener(std::shared_ptr<ReadyListener> listener) {
  MutexLock lock(&mu());
  if (done_) return false;
  extras().listeners.push_back(std::move(listener));
  return true;
}

void ObjectState::set_producer(std::weak_ptr<Producer> producer) {
  {
    MutexLock lock(&mu());
    if (!done_) extras().producer.swap(producer);
  }
  // `producer` (now the old one, if any) is released without the lock.
}

std::shared_ptr<Producer> ObjectState::producer() const {
  MutexLock lock(&mu());
  return extras_ != nullptr ? extras_->producer.lock() : nullptr;
}

void ObjectState::set_owner(std::shared_ptr<ObjectOwner> owner) {
  {
    MutexLock lock(&mu());
    owner_.swap(owner);
  }
  // `owner` (now the old one, if any) is destroyed without the lock.
}

bool ObjectState::Cancel(bool wait) {
  if (std::shared_ptr<Producer> p = producer()) {
    p->Cancel();
  } else if (std::shared_ptr<ObjectOwner> o = owner()) {
    o->Cancel(id_, wait);
  }
  if (!done()) return false;
  std::shared_ptr<const ErrorInfo> e = error();
  return e != nullptr && e->kind == ErrorKind::kCancelled;
}

std::shared_ptr<ObjectOwner> ObjectState::owner() const {
  MutexLock lock(&mu());
  return owner_;
}

std::unique_ptr<ObjectState::Remote> ObjectState::MakeRemote(
    std::shared_ptr<RemoteBytes> source, std::string inline_bytes,
    bool has_inline) {
  // One per completed cluster object: keep it in jemalloc's 64-byte class.
  static_assert(sizeof(Remote) <= 64);
  auto remote = std::make_unique<Remote>();
  remote->source = std::move(source);
  remote->has_inline = has_inline;
  remote->inline_bytes = std::move(inline_bytes);
  return remote;
}

bool ObjectState::SetRemote(std::shared_ptr<RemoteBytes> source,
                            std::string inline_bytes, bool has_inline) {
  return Complete(
      AnyValue(), nullptr,
      MakeRemote(std::move(source), std::move(inline_bytes), has_inline),
      nullptr);
}

bool ObjectState::PublishRemote(std::shared_ptr<ObjectState> self,
                                std::shared_ptr<RemoteBytes> source,
                                std::string inline_bytes, bool has_inline) {
  ObjectState* raw = self.get();
  return raw->Complete(
      AnyValue(), nullptr,
      MakeRemote(std::move(source), std::move(inline_bytes), has_inline),
      &self);
}

bool ObjectState::is_remote() const {
  MutexLock lock(&mu());
  return remote_ != nullptr;
}

absl::StatusOr<FetchedBytes> RemoteBytes::FetchView(
    uint64_t id, std::optional<std::chrono::steady_clock::time_point>) {
  WEFT_ASSIGN_OR_RETURN(std::string bytes, Fetch(id));
  auto owner = std::make_shared<const std::string>(std::move(bytes));
  return FetchedBytes{*owner, owner};
}

absl::StatusOr<std::string> ObjectState::Bytes() {
  {
    MutexLock lock(&mu());
    if (remote_ == nullptr) {
      return absl::FailedPreconditionError("object " + key() +
                                           " is not a cluster object");
    }
    if (remote_->has_inline) return remote_->inline_bytes;
  }
  return remote_->source->Fetch(id_);
}

absl::Status ObjectState::Materialize(
    absl::FunctionRef<absl::StatusOr<AnyValue>(std::string_view,
                                               RefResolver*)>
        decode,
    std::optional<std::chrono::steady_clock::time_point> deadline) {
  // remote_ is constant once the object completed as remote, which the
  // caller observed.
  Remote& r = *remote_;
  {
    UniqueLock lock(mu());
    if (r.materializing) {
      Extras& e = extras();
      ++e.waiters;
      while (r.materializing) {
        if (!deadline.has_value()) {
          e.cv.wait(lock);
          continue;
        }
        (void)e.cv.wait_until(lock, *deadline);
        if (r.materializing && std::chrono::steady_clock::now() >= *deadline) {
          --e.waiters;
          return absl::DeadlineExceededError(
              "weft: object " + key() +
              " is still being fetched for another caller");
        }
      }
      --e.waiters;
    }
    if (r.materialized) return r.materialize_status;
    r.materializing = true;
  }
  absl::Status fetch_status;
  absl::StatusOr<AnyValue> value = absl::UnknownError("not decoded");
  RefResolver* refs = r.source != nullptr ? r.source->refs() : nullptr;
  if (r.has_inline) {
    value = decode(r.inline_bytes, refs);
  } else {
    // The bytes may be a mapping of the holder's shared memory: decoded
    // straight from it, then unmapped.
    absl::StatusOr<FetchedBytes> fetched = r.source->FetchView(id_, deadline);
    fetch_status = fetched.status();
    if (fetched.ok()) value = decode(fetched->bytes, refs);
  }
  MutexLock lock(&mu());
  r.materializing = false;
  if (extras_ != nullptr && extras_->waiters > 0) extras_->cv.notify_all();
  // A failed fetch may succeed later (e.g. after recomputation): it is not
  // recorded.
  if (!fetch_status.ok()) return fetch_status;
  r.materialized = true;
  if (!value.ok()) {
    r.materialize_status = value.status();
  } else {
    value_ = *std::move(value);
  }
  return r.materialize_status;
}

}  // namespace weft::internal
