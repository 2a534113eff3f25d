// Copyright 2026 The weft Authors.
//
// Turning `f(args...)` into a TaskSpec: which arguments are dependencies,
// how each is stored until the task runs, and how it reaches f.
//
// For parameter type P and (decayed) argument type A:
//   - A == decay(P): stored as is and passed on. This is also how a task
//     takes an ObjectRef<U> parameter: it receives the reference itself.
//   - A is ObjectRef<U>, P is not: a dependency; f receives the value.
//   - A is std::vector<ObjectRef<U>>, P is a std::vector<V>: dependencies;
//     f receives a vector of their values.
//   - otherwise: converted to decay(P) at submission and passed on.

#ifndef WEFT_CORE_WEFT_INTERNAL_BIND_H_
#define WEFT_CORE_WEFT_INTERNAL_BIND_H_

#include <functional>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "weft/internal/function_traits.h"
#include "weft/internal/object_state.h"
#include "weft/internal/resolve.h"
#include "weft/internal/runtime.h"
#include "weft/internal/wire.h"
#include "weft/object_ref.h"
#include "weft/serialize.h"

namespace weft::internal {

// A monostate stands in for the value of a task returning void.
template <class T>
using Stored = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class P, class A, class = void>
struct ArgSlot {  // plain value (or pass-through reference)
  using Value = std::decay_t<P>;
  static_assert(std::is_constructible_v<Value, A>,
                "weft: an argument cannot be converted to the function's "
                "parameter type");
  Value value;
  template <class X>
  explicit ArgSlot(X&& x) : value(std::forward<X>(x)) {}
  void CollectDeps(std::vector<std::shared_ptr<ObjectState>>&) const {}
  absl::Status ToWire(WireArg& out, RefCollector* refs) const {
    if constexpr (kIsSerializable<Value>) {
      // ObjectRefs (a parameter, or inside a value) travel as references.
      out.kind = WireArg::Kind::kValue;
      SerializeWithRefs(value, out.value, refs);
      return absl::OkStatus();
    } else {
      return absl::InvalidArgumentError(
          "weft: an argument of type " + TypeName<Value>() +
          " cannot be serialized, so this task cannot run on a cluster");
    }
  }
  template <bool kLast>
  decltype(auto) Arg() {
    if constexpr (std::is_lvalue_reference_v<P> &&
                  !std::is_const_v<std::remove_reference_t<P>>) {
      return (value);
    } else if constexpr (kLast) {
      return std::move(value);
    } else {
      return static_cast<const Value&>(value);
    }
  }
};

template <class P, class U>
struct ArgSlot<P, ObjectRef<U>,
               std::enable_if_t<!std::is_same_v<std::decay_t<P>,
                                                ObjectRef<U>>>> {
  static_assert(!(std::is_lvalue_reference_v<P> &&
                  !std::is_const_v<std::remove_reference_t<P>>),
                "weft: a parameter bound to another task's result must be "
                "taken by value or const reference, not by mutable reference");
  ObjectRef<U> ref;
  explicit ArgSlot(ObjectRef<U> r) : ref(std::move(r)) {}
  void CollectDeps(std::vector<std::shared_ptr<ObjectState>>& deps) const {
    deps.push_back(RefAccess::Required(ref, "a task's argument"));
  }
  absl::Status ToWire(WireArg& out, RefCollector*) const {
    if constexpr (!std::is_same_v<std::decay_t<P>, U>) {
      return absl::InvalidArgumentError(
          "weft: on a cluster, a reference to a " + TypeName<U>() +
          " must be passed to a parameter of that exact type, not " +
          TypeName<std::decay_t<P>>());
    } else {
      out.kind = WireArg::Kind::kRef;
      out.ids = {ref.id()};
      return absl::OkStatus();
    }
  }
  template <bool kLast>
  const U& Arg() {
    return ReadyValue<U>(RefAccess::State(ref));
  }
};

template <class P, class U>
struct ArgSlot<P, std::vector<ObjectRef<U>>,
               std::enable_if_t<IsVector<std::decay_t<P>>::value &&
                                !std::is_same_v<std::decay_t<P>,
                                                std::vector<ObjectRef<U>>>>> {
  using Value = std::decay_t<P>;
  std::vector<ObjectRef<U>> refs;
  explicit ArgSlot(std::vector<ObjectRef<U>> r) : refs(std::move(r)) {}
  void CollectDeps(std::vector<std::shared_ptr<ObjectState>>& deps) const {
    for (const auto& r : refs) {
      deps.push_back(RefAccess::Required(r, "a task's argument"));
    }
  }
  absl::Status ToWire(WireArg& out, RefCollector*) const {
    if constexpr (!std::is_same_v<typename Value::value_type, U>) {
      return absl::InvalidArgumentError(
          "weft: on a cluster, references to " + TypeName<U>() +
          " must be passed to a std::vector<" + TypeName<U>() + ">");
    } else {
      out.kind = WireArg::Kind::kRefs;
      out.ids.reserve(refs.size());
      for (const auto& r : refs) out.ids.push_back(r.id());
      return absl::OkStatus();
    }
  }
  template <bool kLast>
  Value Arg() {
    Value out;
    out.reserve(refs.size());
    for (const auto& r : refs) {
      out.push_back(ReadyValue<U>(RefAccess::State(r)));
    }
    return out;
  }
};

template <class F, class Slots, size_t... I>
AnyValue InvokeWithSlots(F& f, Slots& slots, bool last,
                         std::index_sequence<I...>) {
  using R = ResultOf<F>;
  auto call = [&](auto last_tag) -> AnyValue {
    constexpr bool kLast = decltype(last_tag)::value;
    if constexpr (std::is_void_v<R>) {
      std::invoke(f, std::get<I>(slots).template Arg<kLast>()...);
      return AnyValue::Make(std::monostate{});
    } else {
      return AnyValue::Make(
          R(std::invoke(f, std::get<I>(slots).template Arg<kLast>()...)));
    }
  };
  return last ? call(std::true_type{}) : call(std::false_type{});
}

template <class F, class Slots, size_t... I>
class BoundCall final : public TaskBody {
 public:
  BoundCall(F f, Slots slots) : f_(std::move(f)), slots_(std::move(slots)) {}

  AnyValue Run(bool last_attempt) override {
    return InvokeWithSlots(f_, slots_, last_attempt,
                           std::index_sequence<I...>{});
  }

  absl::Status ToWire(std::vector<WireArg>& out,
                      [[maybe_unused]] RefCollector* refs) const override {
    out.resize(sizeof...(I));
    absl::Status status;
    ((status.ok() ? (void)(status = std::get<I>(slots_).ToWire(out[I], refs))
                  : (void)0),
     ...);
    return status;
  }

  const Slots& slots() const { return slots_; }

 private:
  F f_;
  Slots slots_;
};

template <class F, class... A, size_t... I>
TaskSpec MakeTaskSpecImpl(F f, TaskOptions options,
                          std::index_sequence<I...>, A&&... args) {
  using Params = ParamsOf<F>;
  using Slots = std::tuple<
      ArgSlot<std::tuple_element_t<I, Params>, std::decay_t<A>>...>;
  TaskSpec spec;
  spec.options = std::move(options);
  auto body = std::make_unique<BoundCall<F, Slots, I...>>(
      std::move(f), Slots(std::forward<A>(args)...));
  spec.deps.reserve(sizeof...(A));
  std::apply([&](const auto&... s) { (s.CollectDeps(spec.deps), ...); },
             body->slots());
  spec.body = std::move(body);
  return spec;
}

// Builds the spec for calling `f` with `args`; name fields are filled in by
// the caller. Compile errors name the problem (undeducible signature, wrong
// number of arguments, unconvertible argument).
template <class F, class... A>
TaskSpec MakeTaskSpec(F f, TaskOptions options, A&&... args) {
  CheckDeducible<F>();
  static_assert(sizeof...(A) == std::tuple_size_v<ParamsOf<F>>,
                "weft: wrong number of arguments for this function");
  return MakeTaskSpecImpl(std::move(f), std::move(options),
                          std::index_sequence_for<A...>{},
                          std::forward<A>(args)...);
}

}  // namespace weft::internal

#endif  // WEFT_CORE_WEFT_INTERNAL_BIND_H_
