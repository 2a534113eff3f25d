// Copyright 2026 The weft Authors.
//
// The machinery behind weft/actor.h: how a constructor and a method become
// task bodies (for the embedded runtime) and registry entries (for
// workers), and how WEFT_ACTOR makes a class's constructor signature known
// where handles are created.

#ifndef WEFT_CORE_WEFT_INTERNAL_ACTOR_CALL_H_
#define WEFT_CORE_WEFT_INTERNAL_ACTOR_CALL_H_

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeindex>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "weft/internal/function_traits.h"
#include "weft/internal/status_macros.h"
#include "weft/internal/wire.h"
#include "weft/registry.h"
#include "weft/serialize.h"

namespace weft {
template <class C>
class Actor;
}  // namespace weft

namespace weft::internal {

// --- The instance a call runs on ---------------------------------------

// The actor instance whose call runs on this thread (set by the runtime
// around the call), or nullptr.
void* CurrentActorInstance();

// Sets CurrentActorInstance() for its lifetime, restoring the previous.
class ActorInstanceScope {
 public:
  explicit ActorInstanceScope(void* instance);
  ~ActorInstanceScope();
  ActorInstanceScope(const ActorInstanceScope&) = delete;
  ActorInstanceScope& operator=(const ActorInstanceScope&) = delete;

 private:
  void* const previous_;
};

// --- Methods -----------------------------------------------------------

template <class T>
struct IsActorHandle : std::false_type {};
template <class T>
struct IsActorHandle<Actor<T>> : std::true_type {};

// A call of method `method` (of class Self or a base of it) as a callable
// with the method's parameters, on CurrentActorInstance().
template <class Self, class M, class R, class... P>
struct MethodCall {
  M method;
  R operator()(P... p) const {
    Self* self = static_cast<Self*>(CurrentActorInstance());
    return (self->*method)(std::forward<P>(p)...);
  }
};

// The class, result and a call functor of a member function pointer.
template <class M>
struct MethodTraits {
  static constexpr bool kIsMethod = false;
};
#define WEFT_METHOD_TRAITS_(QUALS)                                         \
  template <class C, class R, class... P>                                  \
  struct MethodTraits<R (C::*)(P...) QUALS> {                              \
    static constexpr bool kIsMethod = true;                                \
    using Class = C;                                                       \
    using Result = R;                                                      \
    using Params = std::tuple<P...>;                                       \
    template <class Self>                                                  \
    using Call = MethodCall<Self, R (C::*)(P...) QUALS, R, P...>;          \
  };                                                                       \
  template <class C, class R, class... P>                                  \
  struct MethodTraits<R (C::*)(P...) QUALS noexcept>                       \
      : MethodTraits<R (C::*)(P...) QUALS> {                               \
    template <class Self>                                                  \
    using Call = MethodCall<Self, R (C::*)(P...) QUALS noexcept, R, P...>; \
  };
WEFT_METHOD_TRAITS_()
WEFT_METHOD_TRAITS_(const)
WEFT_METHOD_TRAITS_(&)
WEFT_METHOD_TRAITS_(const&)
#undef WEFT_METHOD_TRAITS_

// True if a value of T can be a parameter or result of a method that runs
// on a worker: serializable, or an ObjectRef parameter.
template <class T>
inline constexpr bool kCrossesProcesses =
    kIsSerializable<std::decay_t<T>> ||
    IsObjectRef<std::decay_t<T>>::value;

// True if a method's result can travel back from a worker.
template <class R>
constexpr bool ResultCrosses() {
  if constexpr (std::is_void_v<R>) {
    return true;
  } else {
    return kIsSerializable<std::decay_t<R>>;
  }
}

// Runs method `pointer` (the bytes of an M) of `object` (a Self) on wire
// arguments; Registry::MethodInvoker.
template <class Self, class M, class R, class... P, size_t... I>
absl::Status InvokeMethodImpl(Self* self, M method,
                              const std::vector<WireArg>& args,
                              ArgSource& source, ResultSink& sink,
                              std::index_sequence<I...> seq) {
  std::tuple<std::optional<std::decay_t<P>>...> values;
  WEFT_RETURN_IF_ERROR(DecodeArgs<P...>(args, source, values, seq));
  if constexpr (std::is_void_v<R>) {
    (self->*method)(static_cast<P>(*std::get<I>(values))...);
    return WriteResult(std::monostate{}, sink);
  } else {
    return WriteResult(
        std::decay_t<R>((self->*method)(static_cast<P>(*std::get<I>(values))...)),
        sink);
  }
}

template <class Self, class M, class R, class... P>
absl::Status InvokeMethod(void* object, const std::string& pointer,
                          const std::vector<WireArg>& args, ArgSource& source,
                          ResultSink& sink) {
  M method;
  std::memcpy(&method, pointer.data(), sizeof(M));
  return InvokeMethodImpl<Self, M, R, P...>(static_cast<Self*>(object),
                                            method, args, source, sink,
                                            std::index_sequence_for<P...>{});
}

template <class Self, class M>
struct MethodEntryFor;
#define WEFT_METHOD_ENTRY_(QUALS)                                           \
  template <class Self, class C, class R, class... P>                       \
  struct MethodEntryFor<Self, R (C::*)(P...) QUALS> {                       \
    using M = R (C::*)(P...) QUALS;                                         \
    static_assert((... && kCrossesProcesses<P>),                            \
                  "weft: every parameter of a method registered with "      \
                  "WEFT_ACTOR must be serializable (docs/serialization.md) " \
                  "or an ObjectRef, so that calls can cross to a worker");  \
    static_assert(ResultCrosses<R>(),                                      \
                  "weft: the result of a method registered with "           \
                  "WEFT_ACTOR must be serializable (docs/serialization.md)"); \
    static constexpr Registry::MethodInvoker kInvoke =                      \
        &InvokeMethod<Self, M, R, P...>;                                    \
  };
WEFT_METHOD_ENTRY_()
WEFT_METHOD_ENTRY_(const)
WEFT_METHOD_ENTRY_(&)
WEFT_METHOD_ENTRY_(const&)
WEFT_METHOD_ENTRY_(noexcept)
WEFT_METHOD_ENTRY_(const noexcept)
WEFT_METHOD_ENTRY_(& noexcept)
WEFT_METHOD_ENTRY_(const& noexcept)
#undef WEFT_METHOD_ENTRY_

// --- Constructors ------------------------------------------------------

// The constructor call of a class as a callable: returns the new instance.
template <class C, class... P>
struct ActorFactory {
  std::shared_ptr<void> operator()(P... p) const {
    return std::make_shared<C>(std::forward<P>(p)...);
  }
};

template <class C, class... P, size_t... I>
absl::StatusOr<std::shared_ptr<void>> CreateInstanceImpl(
    const std::vector<WireArg>& args, ArgSource& source,
    std::index_sequence<I...> seq) {
  std::tuple<std::optional<std::decay_t<P>>...> values;
  WEFT_RETURN_IF_ERROR(DecodeArgs<P...>(args, source, values, seq));
  return std::shared_ptr<void>(
      std::make_shared<C>(static_cast<P>(*std::get<I>(values))...));
}

template <class C, class... P>
absl::StatusOr<std::shared_ptr<void>> CreateInstance(
    const std::vector<WireArg>& args, ArgSource& source) {
  return CreateInstanceImpl<C, P...>(args, source,
                                     std::index_sequence_for<P...>{});
}

// A class's registered constructor, from WEFT_ACTOR's first argument, a
// function type "C(P...)".
template <class Signature>
struct ActorConstructor {
  static_assert(sizeof(Signature) == 0,
                "weft: WEFT_ACTOR's first argument is the class with its "
                "constructor's parameter types, e.g. Counter(int)");
};
template <class C, class... P>
struct ActorConstructor<C(P...)> {
  using Class = C;
  using Params = std::tuple<P...>;
  using Factory = ActorFactory<C, P...>;
  static_assert(std::is_class_v<C>, "weft: an actor is a class");
  static_assert(std::is_constructible_v<C, P...>,
                "weft: the class has no constructor taking these "
                "parameters");
  static_assert((... && kCrossesProcesses<P>),
                "weft: every parameter of an actor's constructor must be "
                "serializable (docs/serialization.md) or an ObjectRef, so "
                "that the actor can be created on a worker");
  static constexpr Registry::ActorCreator kCreate = &CreateInstance<C, P...>;
};

// WEFT_ACTOR declares `ActorConstructor<C(P...)> WeftActorConstructor(
// ActorTag<C>)` in the class's namespace, where argument-dependent lookup
// finds it; this fallback (found otherwise) says the class is not
// registered.
template <class C>
struct ActorTag {};
void WeftActorConstructor(...);

template <class C>
using ConstructorOf = decltype(WeftActorConstructor(ActorTag<C>{}));
template <class C>
inline constexpr bool kIsRegisteredActor = !std::is_void_v<ConstructorOf<C>>;

// "Counter(int)" -> "Counter"; "&Counter::Add" -> "Counter::Add".
std::string ActorClassName(std::string_view constructor_text);
std::string MethodName(std::string_view method_text);

template <class Signature, class... M>
bool RegisterActorClass(std::string_view constructor_text,
                        std::string_view methods_text, M... methods) {
  using Ctor = ActorConstructor<Signature>;
  using C = typename Ctor::Class;
  static_assert((... && MethodTraits<M>::kIsMethod),
                "weft: WEFT_ACTOR takes the class's constructor signature "
                "and then its methods, as &Class::Method");
  static_assert(
      (... && std::is_base_of_v<typename MethodTraits<M>::Class, C>),
      "weft: a method given to WEFT_ACTOR is not a member of the class");
  Registry::ActorClass entry{ActorClassName(constructor_text),
                             std::type_index(typeid(C)),
                             SignatureOf(typeid(Signature)),
                             Ctor::kCreate,
                             {}};
  const std::vector<std::string> names = SplitFunctionList(methods_text);
  size_t i = 0;
  (entry.methods.push_back(Registry::ActorMethod{
       MethodName(names.at(i++)),
       std::string(reinterpret_cast<const char*>(&methods), sizeof(M)),
       &typeid(M), MethodEntryFor<C, M>::kInvoke}),
   ...);
  Registry::Global().RegisterActor(std::move(entry));
  return true;
}

}  // namespace weft::internal

// Registers an actor class, its constructor's parameter types and the
// methods that may be called on a cluster, at namespace scope in the
// class's namespace (so that code creating actors of the class finds it;
// put it in the class's header when the class has one):
//
//   class Counter {
//    public:
//     explicit Counter(int start);
//     int Add(int k);
//     int Get() const;
//   };
//   WEFT_ACTOR(Counter(int), &Counter::Add, &Counter::Get);
//
// The class's name is the text before "(" and a method's the text after
// "&": the same in every process running the same code.
#define WEFT_ACTOR(Signature, ...)                                          \
  [[maybe_unused]] ::weft::internal::ActorConstructor<Signature>           \
      WeftActorConstructor(                                                 \
      ::weft::internal::ActorTag<                                           \
          ::weft::internal::ActorConstructor<Signature>::Class>);           \
  [[maybe_unused]] static const bool WEFT_REGISTRY_CONCAT_(                 \
      weft_registered_, __COUNTER__) =                                      \
      ::weft::internal::RegisterActorClass<Signature>(                      \
          #Signature, #__VA_ARGS__ __VA_OPT__(, ) __VA_ARGS__)

#endif  // WEFT_CORE_WEFT_INTERNAL_ACTOR_CALL_H_
