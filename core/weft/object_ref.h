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
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/internal/object_state.h"
#include "weft/serialize.h"

namespace weft {

namespace internal {
struct RefAccess;
}  // namespace internal

// Thread-safe to copy and destroy from any thread.
template <class T>
class ObjectRef {
 public:
  using value_type = T;

  // An empty reference; valid() is false. It names no object: get(),
  // wait(), as_completed() and cancel() of it throw UsageError, and so does
  // passing it as a task's input (to a parameter of its value's type, in
  // remote(), map(), an actor's method, or a delayed() graph when computed).
  // As a parameter of type ObjectRef, or inside a value (a struct, a
  // vector), it travels as it is and arrives empty.
  ObjectRef() = default;

  // True unless default-constructed.
  bool valid() const { return state_ != nullptr; }
  // True once the value is available or the task failed; never blocks.
  // REQUIRES: valid().
  bool ready() const { return state_->done(); }
  // The object's key, e.g. "Square-000000000000002a" (Dask's key).
  // REQUIRES: valid().
  std::string key() const { return state_->key(); }
  // The object's id, unique in its cluster. REQUIRES: valid().
  uint64_t id() const { return state_->id(); }

  friend bool operator==(const ObjectRef& a, const ObjectRef& b) {
    return a.state_ == b.state_;
  }
  friend std::ostream& operator<<(std::ostream& os, const ObjectRef& r) {
    return os << "ObjectRef(" << (r.valid() ? r.key() : "empty") << ")";
  }

 private:
  friend struct internal::RefAccess;
  explicit ObjectRef(std::shared_ptr<internal::ObjectState> state)
      : state_(std::move(state)) {}

  std::shared_ptr<internal::ObjectState> state_;
};

namespace internal {

// Whether T is an ObjectRef, or a std::vector of them.
template <class T>
struct IsObjectRef : std::false_type {};
template <class T>
struct IsObjectRef<ObjectRef<T>> : std::true_type {};
template <class T>
struct IsRefVector : std::false_type {};
template <class T>
struct IsRefVector<std::vector<ObjectRef<T>>> : std::true_type {};

// Throws UsageError: `call` (an API function) was given an empty `what`
// ("ObjectRef", "Actor handle"), a default-constructed one, which names
// nothing.
[[noreturn]] void ThrowEmpty(const char* call, const char* what);

// How weft's own code makes an ObjectRef around a runtime object, and
// reads the object back (the constructor and the object are private:
// programs get references from remote(), put(), persist() and the like).
struct RefAccess {
  template <class T>
  static ObjectRef<T> Make(std::shared_ptr<ObjectState> state) {
    return ObjectRef<T>(std::move(state));
  }
  // The runtime object behind `ref`; null if it is empty.
  template <class T>
  static const std::shared_ptr<ObjectState>& State(const ObjectRef<T>& ref) {
    return ref.state_;
  }
  // The runtime object behind `ref`, which `call` (the API function, for
  // the message) needs. Throws UsageError if `ref` is empty.
  template <class T>
  static const std::shared_ptr<ObjectState>& Required(const ObjectRef<T>& ref,
                                                      const char* call) {
    if (ref.state_ == nullptr) [[unlikely]] {
      ThrowEmpty(call, "ObjectRef");
    }
    return ref.state_;
  }
};

// An ObjectRef travels as the object's id and name: a task may take one as
// an argument or return one (or any value holding some), on every runtime.
// Writing tells the archive's RefCollector, so that the runtime keeps the
// object alive with the bytes; reading asks the archive's RefResolver for a
// reference this process holds (no resolver: FailedPrecondition). An empty
// reference round-trips as empty.
template <class T>
struct Codec<ObjectRef<T>> {
  static constexpr Reason kSelfReason = Reason::kOk;
  using Children = TypeList<>;
  static constexpr size_t kMinWireSize = 16;  // id and the name's length
  static std::string Name() { return "weft::ObjectRef<" + TypeName<T>() + ">"; }

  template <class Ar>
  static void Save(Ar& ar, const ObjectRef<T>& ref) {
    const uint64_t id = ref.valid() ? ref.id() : 0;
    ArchiveHelpers::WriteScalar(ar, id);
    ar(ref.valid() ? RefAccess::State(ref)->name() : std::string());
    if (id != 0) {
      if (RefCollector* refs = ArchiveHelpers::Refs(ar)) refs->Add(id);
    }
  }
  template <class Ar>
  static void Load(Ar& ar, ObjectRef<T>& ref) {
    uint64_t id = 0;
    std::string name;
    if (!ArchiveHelpers::ReadScalar(ar, id)) return;
    ar(name);
    if (!ar.ok()) return;
    if (id == 0) {
      ref = ObjectRef<T>();
      return;
    }
    RefResolver* refs = ArchiveHelpers::Refs(ar);
    if (refs == nullptr) {
      ar.Fail(absl::FailedPreconditionError(absl::StrCat(
          "an ObjectRef (object ", id, ") can only be decoded by a weft "
          "runtime, which holds the reference")));
      return;
    }
    absl::StatusOr<std::shared_ptr<ObjectState>> state =
        refs->Resolve(id, name);
    if (!state.ok()) {
      ar.Fail(state.status());
      return;
    }
    ref = RefAccess::Make<T>(*std::move(state));
  }
};

}  // namespace internal
}  // namespace weft

#endif  // WEFT_CORE_WEFT_OBJECT_REF_H_
