// Copyright 2026 The weft Authors.
//
// Mutex and MutexLock: a std::mutex with Abseil's thread-safety annotations,
// in the manner of LevelDB's port::Mutex.
//
// weft uses these instead of absl::Mutex because Debian's Abseil is built
// without sanitizer instrumentation: ThreadSanitizer cannot see absl::Mutex
// synchronize, but it intercepts the pthread calls behind std::mutex.

#ifndef WEFT_CORE_WEFT_INTERNAL_MUTEX_H_
#define WEFT_CORE_WEFT_INTERNAL_MUTEX_H_

#include <mutex>

#include "absl/base/thread_annotations.h"

namespace weft::internal {

// A non-recursive mutex. Thread-safe. Satisfies BasicLockable, so it works
// with std::unique_lock and Boost.Fiber's condition_variable_any.
class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }
  bool try_lock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    return mu_.try_lock();
  }

 private:
  std::mutex mu_;
};

// Holds `mu` for its lifetime.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->lock();
  }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// A std::unique_lock for Mutex that clang's thread-safety analysis can
// see: holds `mu` from construction to destruction, except between an
// unlock() and the next lock(). Condition variables that take any lockable
// (std::condition_variable_any, Boost.Fiber's condition_variable_any) wait
// on it. Not thread-safe: one thread uses a lock.
class ABSL_SCOPED_LOCKABLE UniqueLock {
 public:
  explicit UniqueLock(Mutex& mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(&mu) {
    mu_->lock();
  }
  ~UniqueLock() ABSL_UNLOCK_FUNCTION() {
    if (owns_) mu_->unlock();
  }
  UniqueLock(const UniqueLock&) = delete;
  UniqueLock& operator=(const UniqueLock&) = delete;

  // REQUIRES: not held by this lock.
  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    mu_->lock();
    owns_ = true;
  }
  // REQUIRES: held by this lock.
  void unlock() ABSL_UNLOCK_FUNCTION() {
    owns_ = false;
    mu_->unlock();
  }

 private:
  Mutex* const mu_;
  bool owns_ = true;
};

}  // namespace weft::internal

#endif  // WEFT_CORE_WEFT_INTERNAL_MUTEX_H_
