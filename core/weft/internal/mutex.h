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

}  // namespace weft::internal

#endif  // WEFT_CORE_WEFT_INTERNAL_MUTEX_H_
