// Copyright 2026 The weft Authors.
//
// ObjectRef<T>: a typed future for a value that a task produces (or put()
// stored). Cheap to copy; copies share ownership. When the last copy anywhere
// (in the program, or as an argument of a pending task) is gone, the runtime
// frees the value.

#ifndef WEFT_CORE_WEFT_OBJECT_REF_H_
#define WEFT_CORE_WEFT_OBJECT_REF_H_

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <utility>

#include "weft/internal/object_state.h"

namespace weft {

// Thread-safe to copy and destroy from any thread.
template <class T>
class ObjectRef {
 public:
  using value_type = T;

  // An empty reference; valid() is false. Passing it anywhere is an error.
  ObjectRef() = default;

  // True unless default-constructed.
  bool valid() const { return state_ != nullptr; }
  // True once the value is available or the task failed; never blocks.
  // REQUIRES: valid().
  bool ready() const { return state_->done(); }
  // The object's key, e.g. "Square-000000000000002a" (Dask's key).
  // REQUIRES: valid().
  std::string key() const { return state_->key(); }
  uint64_t id() const { return state_->id(); }

  friend bool operator==(const ObjectRef& a, const ObjectRef& b) {
    return a.state_ == b.state_;
  }
  friend std::ostream& operator<<(std::ostream& os, const ObjectRef& r) {
    return os << "ObjectRef(" << (r.valid() ? r.key() : "empty") << ")";
  }

  // Internal: wraps a runtime object.
  explicit ObjectRef(std::shared_ptr<internal::ObjectState> state)
      : state_(std::move(state)) {}
  const std::shared_ptr<internal::ObjectState>& state() const {
    return state_;
  }

 private:
  std::shared_ptr<internal::ObjectState> state_;
};

}  // namespace weft

#endif  // WEFT_CORE_WEFT_OBJECT_REF_H_
