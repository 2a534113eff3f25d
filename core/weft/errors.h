// Copyright 2026 The weft Authors.
//
// The exceptions weft's user-facing calls throw. Everything that crosses a
// module boundary inside weft uses absl::Status; these types exist so that a
// failed task surfaces in user code with its name, key and cause.

#ifndef WEFT_CORE_WEFT_ERRORS_H_
#define WEFT_CORE_WEFT_ERRORS_H_

#include <memory>
#include <stdexcept>
#include <string>

namespace weft {

// Why a task's result is not available.
enum class ErrorKind {
  kTaskFailed,    // the task threw (or its function could not be found/run)
  kCancelled,     // cancel() was called on it or on a task it depends on
  kWorkerDied,    // the worker running it died too often (KilledWorker)
  kObjectLost,    // a value held only by a dead worker (e.g. from put())
  kShutdown,      // the runtime shut down before the task ran
  kActorDied,     // an actor method call whose actor is dead (killed,
                  // out of restarts, its constructor threw, or every
                  // handle to it was dropped)
};

// The largest ErrorKind: kinds travel between processes as numbers, and a
// number above this one is from a newer build.
inline constexpr ErrorKind kLastErrorKind = ErrorKind::kActorDied;

// Returns a readable name for `kind`, e.g. "cancelled".
const char* ErrorKindName(ErrorKind kind);

// The root cause of a failure, shared by the failed task and every task that
// depended on it. Immutable once created.
struct ErrorInfo {
  ErrorKind kind = ErrorKind::kTaskFailed;
  std::string task_name;       // readable name, e.g. "Square"
  std::string task_key;        // unique key, e.g. "Square-5d41402abc4b2a76"
  std::string exception_type;  // e.g. "std::invalid_argument"; may be empty
  std::string message;         // the exception's what(), or weft's reason

  friend bool operator==(const ErrorInfo&, const ErrorInfo&) = default;
};

// Thrown by get(), compute() and friends when the value they wait for cannot
// be produced. Carries the root cause: for a task that depended on a failed
// task, task_key() names the task that failed, and what() says both.
class TaskError : public std::runtime_error {
 public:
  // `requested_key` is the key of the object the caller asked for.
  TaskError(std::shared_ptr<const ErrorInfo> info, std::string requested_key);

  ErrorKind kind() const { return info_->kind; }
  // Name and key of the task that failed (the root cause).
  const std::string& task_name() const { return info_->task_name; }
  const std::string& task_key() const { return info_->task_key; }
  // Type and message of the exception the task threw.
  const std::string& exception_type() const { return info_->exception_type; }
  const std::string& message() const { return info_->message; }
  // Key of the object whose value was requested.
  const std::string& requested_key() const { return requested_key_; }
  const ErrorInfo& info() const { return *info_; }
  std::shared_ptr<const ErrorInfo> shared_info() const { return info_; }

 private:
  std::shared_ptr<const ErrorInfo> info_;
  std::string requested_key_;
};

// Thrown by get() (TaskError with kind() == kCancelled) when the task was
// cancelled. A subclass so that callers can catch cancellation alone.
class CancelledError : public TaskError {
 public:
  using TaskError::TaskError;
};

// Thrown by get() (TaskError with kind() == kActorDied) for an actor method
// call that cannot run because the actor is dead: killed, its worker died
// more often than its max_restarts allow, its constructor threw, or every
// handle to it was dropped. message() says which.
class ActorDiedError : public TaskError {
 public:
  using TaskError::TaskError;
};

// Thrown by get()/wait-style calls whose timeout expired before the value was
// ready. The task itself goes on.
class TimeoutError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown for misuse of the API or of the runtime: an unregistered function on
// a cluster, a duplicate registration, connecting to a bad address.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace weft

#endif  // WEFT_CORE_WEFT_ERRORS_H_
