// Copyright 2026 The weft Authors.
//
// ObjectState: the shared state behind ObjectRef<T>. It is pending until the
// producing task finishes, then holds either a value or the root cause of a
// failure, forever. The last ObjectRef (or pending task argument) to let go of
// it frees the value.

#ifndef WEFT_CORE_WEFT_INTERNAL_OBJECT_STATE_H_
#define WEFT_CORE_WEFT_INTERNAL_OBJECT_STATE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "weft/internal/object_key.h"
#include "weft/errors.h"
#include "weft/internal/any_value.h"
#include "weft/internal/interned_name.h"
#include "weft/internal/mutex.h"
#include "weft/serialize.h"

namespace weft::internal {

class ObjectState;

// Told once when an object stops being pending. Implementations must be
// cheap and must not block: they run on the thread that completed the object,
// with no weft lock held.
class ReadyListener {
 public:
  virtual ~ReadyListener() = default;
  virtual void OnReady(ObjectState& object) = 0;
  // Called once after OnReady, when every listener of the object has run
  // and a publisher's own reference to it is gone (see
  // ObjectState::Publish): the place to wake another thread, which may then
  // hold the only reference and move the value out. The object may already
  // be destroyed here; do not touch it.
  virtual void Wake() {}
};

// Something that produced an object and can be asked to stop (a task).
class Producer {
 public:
  virtual ~Producer() = default;
  // Cancels the producer if it has not finished; see weft::cancel().
  virtual void Cancel() = 0;
};

// The runtime a cluster object belongs to. Shared by all its objects, so
// it costs an object one pointer. Implementations are thread-safe.
class ObjectOwner {
 public:
  virtual ~ObjectOwner() = default;
  // The last reference to object `id` in this process is gone: the runtime
  // may drop the value on its workers. Must not block.
  virtual void Release(uint64_t id) = 0;
  // Asks the runtime to cancel object `id` (see weft::cancel). With `wait`,
  // returns once the runtime's answer has arrived, so that the object's
  // state then shows the outcome (bounded: a runtime that cannot answer
  // leaves the object as it was); else returns at once. The default does
  // nothing.
  virtual void Cancel(uint64_t id, bool wait);
};

// Where the bytes of a cluster object can be fetched from.
// Serialized bytes fetched from elsewhere: `bytes` stays valid while
// `owner` lives (e.g. a mapping of another process's shared memory).
struct FetchedBytes {
  std::string_view bytes;
  std::shared_ptr<const void> owner;
};

class RemoteBytes {
 public:
  virtual ~RemoteBytes() = default;
  // Resolves the object references (ObjectRef) inside values fetched from
  // here into references this process holds; nullptr if values cannot hold
  // them. The resolver lives as long as this source.
  virtual RefResolver* refs() { return nullptr; }
  // Fetches the serialized value of object `id` (blocking, fiber-aware).
  virtual absl::StatusOr<std::string> Fetch(uint64_t id) = 0;
  // As Fetch(), without a copy where the bytes can be mapped or handed
  // over, giving up at `deadline` where the source would otherwise wait
  // longer (for a copy of an object being recomputed; nullopt: the
  // source's own limit). Errors: as Fetch(); DeadlineExceeded once
  // `deadline` has passed. The default wraps Fetch() and ignores
  // `deadline`.
  virtual absl::StatusOr<FetchedBytes> FetchView(
      uint64_t id,
      std::optional<std::chrono::steady_clock::time_point> deadline);
};

// Thread-safe. Waits are fiber-aware: a task blocked in Wait() yields its
// thread to other fibers.
//
// Memory: a client keeps one ObjectState per pending task, so the record is
// kept small (96 bytes with make_shared's control block): the name is
// interned, the lock is one of a fixed set shared by all objects, and what
// few objects need (waiters, listeners, a producer, an error; the fields of
// a cluster object's value) lives in blocks allocated on first use.
class ObjectState {
 public:
  // `id` is unique within a client; `name` is the readable task name.
  ObjectState(uint64_t id, std::string_view name);
  ObjectState(uint64_t id, InternedName name);
  ~ObjectState();
  ObjectState(const ObjectState&) = delete;
  ObjectState& operator=(const ObjectState&) = delete;

  uint64_t id() const { return id_; }
  const std::string& name() const { return name_.str(); }
  // "name-<16 hex digits>", the key users see (Dask's key).
  std::string key() const;

  // Publishes the value. Returns false (and drops `value`) if the object was
  // already completed, e.g. cancelled while its task ran.
  bool SetValue(AnyValue value);
  // Publishes a failure. Returns false if the object was already completed.
  bool SetError(std::shared_ptr<const ErrorInfo> error);

  // As SetValue/SetError, for a producer that holds `self` only to publish:
  // its reference is dropped before waiters and listeners wake (see
  // ReadyListener::Wake), so a waiter that now holds the only reference may
  // move the value out (see TakeOrCopy).
  static bool Publish(std::shared_ptr<ObjectState> self, AnyValue value,
                      std::shared_ptr<const ErrorInfo> error);

  bool done() const;
  // REQUIRES: done(). nullptr when the object holds a value.
  std::shared_ptr<const ErrorInfo> error() const;
  // REQUIRES: done() and error() == nullptr.
  const AnyValue& value() const;
  // Moves the value out when the caller's reference is the only one left,
  // else copies it. REQUIRES: done(), no error, holds a T.
  template <class T>
  T TakeOrCopy(const std::shared_ptr<ObjectState>& self);

  // Blocks the calling fiber until done() or `deadline`. Returns done().
  bool WaitUntil(std::chrono::steady_clock::time_point deadline);
  void Wait();

  // Registers `listener` to be told when the object completes. Returns false
  // if it is already done (the listener is not called; the caller proceeds).
  bool AddListener(std::shared_ptr<ReadyListener> listener);

  // The task producing this object, if any, for cancellation.
  void set_producer(std::weak_ptr<Producer> producer);
  std::shared_ptr<Producer> producer() const;

  // Cancels the object's task (see weft::cancel): through its producer, or
  // for a cluster object through its owner (with `wait`, until the
  // scheduler has answered, bounded). Returns true if the object has ended
  // cancelled, false if it is done otherwise or (without `wait`, or past
  // the bound) not done yet.
  bool Cancel(bool wait);

  // Cluster objects: the runtime the object belongs to; its Release() is
  // called with id() when the state is destroyed.
  void set_owner(std::shared_ptr<ObjectOwner> owner);
  std::shared_ptr<ObjectOwner> owner() const;

  // Cluster objects: completes the object as held elsewhere. `inline_bytes`
  // is its serialized value when small (then no fetch is needed), else
  // empty and `source` fetches it on first use. Returns false if the object
  // was already completed.
  bool SetRemote(std::shared_ptr<RemoteBytes> source, std::string inline_bytes,
                 bool has_inline);
  // As SetRemote, dropping the caller's `self` before waking anyone (as
  // Publish does).
  static bool PublishRemote(std::shared_ptr<ObjectState> self,
                            std::shared_ptr<RemoteBytes> source,
                            std::string inline_bytes, bool has_inline);
  bool is_remote() const;
  // For a remote object: fetches and decodes the value once; later calls
  // return at once. `decode` gets the bytes and the source's resolver for
  // references inside them (RemoteBytes::refs(), may be null). Gives up at
  // `deadline` (nullopt: none) while waiting for another caller's fetch or
  // for a copy (RemoteBytes::FetchView); a later call tries again. Errors:
  // the fetch's or the decoder's; DeadlineExceeded once `deadline` passed.
  absl::Status Materialize(
      absl::FunctionRef<absl::StatusOr<AnyValue>(std::string_view,
                                                 RefResolver*)>
          decode,
      std::optional<std::chrono::steady_clock::time_point> deadline =
          std::nullopt);
  // For a remote object: its serialized bytes (fetched if not inline).
  absl::StatusOr<std::string> Bytes();

 private:
  // What only some objects need, allocated on first use under mu().
  struct Extras;
  // A cluster object's value: where its bytes are, and its decoding.
  struct Remote;

  // The lock guarding this object's mutable fields: one of a fixed set of
  // mutexes, picked by address. No ObjectState method calls out (listeners,
  // hooks, producers, destructors of other objects) while holding it, so
  // two objects sharing a lock cannot deadlock.
  Mutex& mu() const;
  // Allocates extras_ if needed. REQUIRES: mu() held.
  Extras& extras() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu());

  // Sets the outcome, tells listeners, then wakes waiters and listeners.
  // With `self` (the caller's reference to this object), drops it before
  // the wake-ups; this object may be destroyed by the time it returns.
  // Returns false if the object was already complete.
  bool Complete(AnyValue value, std::shared_ptr<const ErrorInfo> error,
                std::unique_ptr<Remote> remote,
                std::shared_ptr<ObjectState>* self);
  void WakeWaiters(std::shared_ptr<ObjectState>* self);
  static std::unique_ptr<Remote> MakeRemote(std::shared_ptr<RemoteBytes> source,
                                            std::string inline_bytes,
                                            bool has_inline);

  // Constant after construction.
  const uint64_t id_;
  const InternedName name_;

  bool done_ ABSL_GUARDED_BY(mu()) = false;
  // Written once under mu() before done_ is set, read-only afterwards
  // (Materialize fills value_ of a remote object once, under mu(), before
  // any caller reads it).
  AnyValue value_;
  std::unique_ptr<Remote> remote_;
  std::unique_ptr<Extras> extras_ ABSL_GUARDED_BY(mu());
  std::shared_ptr<ObjectOwner> owner_ ABSL_GUARDED_BY(mu());
};

template <class T>
T ObjectState::TakeOrCopy(const std::shared_ptr<ObjectState>& self) {
  if constexpr (std::is_move_constructible_v<T>) {
    if (self.use_count() == 1) {
      // Nobody else can reach this state, so the value may be moved out.
      return const_cast<AnyValue&>(value_).TakeOrCopy<T>();
    }
  }
  return *value_.Get<T>();
}

// A fresh object id, unique in this process. Ids of pure (deduplicated)
// graph nodes are hashes with the top bit set; these never have it.
uint64_t NewObjectId();

}  // namespace weft::internal

#endif  // WEFT_CORE_WEFT_INTERNAL_OBJECT_STATE_H_
