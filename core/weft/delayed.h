// Copyright 2026 The weft Authors.
//
// Delayed<T>: a lazy call. `weft::delayed(f)(args...)` records the call and
// returns at once; nothing runs until compute() or persist(). Arguments may
// be plain values, Delayed, ObjectRef, and std::vectors of Delayed or
// ObjectRef where the function takes a std::vector of values.

#ifndef WEFT_CORE_WEFT_DELAYED_H_
#define WEFT_CORE_WEFT_DELAYED_H_

#include <ostream>
#include <string>
#include <utility>

#include "weft/internal/delayed_node.h"  // IWYU pragma: export

namespace weft {

// A lazy call whose result is a T, made by weft::delayed(f)(args...)
// (weft/api.h). Run it, with everything it depends on, by compute() (its
// value) or persist() (an ObjectRef to it); pass it to other delayed calls
// to build a graph. Thread-safe to copy, destroy and compute from any
// thread; copies share the call.
template <class T>
class Delayed {
 public:
  using value_type = T;

  // The node's key, e.g. "Square-000000000000002a". Deterministic for pure
  // calls: the same function and arguments give the same key.
  std::string key() const { return node_->key(); }
  const std::string& name() const { return node_->name(); }

  friend std::ostream& operator<<(std::ostream& os, const Delayed& d) {
    return os << "Delayed('" << d.key() << "')";
  }

 private:
  template <class F>
  friend class internal::DelayedFunction;  // makes them
  friend struct internal::DelayedAccess;   // reads the node
  explicit Delayed(internal::NodeRef node) : node_(std::move(node)) {}

  internal::NodeRef node_;
};

}  // namespace weft

#endif  // WEFT_CORE_WEFT_DELAYED_H_
