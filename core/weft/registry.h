// Copyright 2026 The weft Authors.
//
// The function registry: functions that may run on a cluster are registered
// by a stable name, at namespace scope, with WEFT_REMOTE:
//
//   double Square(double x) { return x * x; }
//   double Total(std::vector<double> xs);
//   WEFT_REMOTE(Square, Total);
//
//   struct Stats { static double Mean(const std::vector<double>&); };
//   WEFT_REMOTE(Stats::Mean);                       // name "Stats::Mean"
//
//   double Scale(double x);  double Scale(double x, double by);
//   WEFT_REMOTE_NAMED("Scale(double)", static_cast<double (*)(double)>(Scale));
//
// The name is the text of the function expression, so the client and every
// worker (the same binary) agree on it. The embedded runtime runs any
// callable, registered or not; the cluster runtime needs registered
// functions and says so when it meets one that is not.

#ifndef WEFT_CORE_WEFT_REGISTRY_H_
#define WEFT_CORE_WEFT_REGISTRY_H_

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeindex>
#include <typeinfo>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "weft/internal/function_traits.h"
#include "weft/internal/mutex.h"
#include "weft/internal/status_macros.h"
#include "weft/internal/wire.h"
#include "weft/object_ref.h"
#include "weft/serialize.h"

namespace weft {

// Thread-safe. Registration normally happens during static initialization.
class Registry {
 public:
  // Decodes wire arguments, calls the function at `address`, and writes its
  // serialized result into `sink` (sized first, then encoded in place).
  // Errors: InvalidArgument for arguments that do not decode, Internal for a
  // result whose serialize() wrote a different size than it measured.
  // Exceptions from the function propagate.
  using Invoker = absl::Status (*)(const void* address,
                                   const std::vector<internal::WireArg>& args,
                                   internal::ArgSource& source,
                                   internal::ResultSink& sink);

  struct Entry {
    std::string name;          // e.g. "Square"
    const void* address;       // the function pointer
    std::string signature;     // e.g. "double (*)(double)"
    Invoker invoke;
  };

  // The process-wide registry.
  static Registry& Global();

  // Registers `address` under `name`. Registering the same function under the
  // same name again is a no-op; a name already taken by another function is
  // remembered as an error that Validate() reports.
  void Register(std::string name, const void* address, std::string signature,
                Invoker invoke);

  // Returns the entry or nullptr. The pointer stays valid for the process.
  const Entry* FindByName(std::string_view name) const;
  const Entry* FindByAddress(const void* address) const;

  // OK, or FailedPrecondition listing every name registered twice. Checked
  // by weft::Init() and when a client is created.
  absl::Status Validate() const;

  // All registered names, sorted.
  std::vector<std::string> Names() const;

  // --- Actor classes (WEFT_ACTOR, weft/actor.h) -----------------------------

  // Constructs an instance from wire arguments and returns it (owning).
  // Errors: as Invoker's; exceptions from the constructor propagate.
  using ActorCreator = absl::StatusOr<std::shared_ptr<void>> (*)(
      const std::vector<internal::WireArg>& args, internal::ArgSource& source);
  // Calls the method whose member pointer's bytes are `method` on `object`
  // (an instance of the class), its result into `sink`. Errors and
  // exceptions as Invoker's.
  using MethodInvoker = absl::Status (*)(
      void* object, const std::string& method,
      const std::vector<internal::WireArg>& args, internal::ArgSource& source,
      internal::ResultSink& sink);

  struct ActorMethod {
    std::string name;            // e.g. "Counter::Add"
    std::string pointer;         // the member pointer's bytes
    const std::type_info* type;  // the member pointer's type
    MethodInvoker invoke;
  };
  struct ActorClass {
    std::string name;       // e.g. "Counter"
    std::type_index type;   // the class
    std::string signature;  // e.g. "Counter(int)"
    ActorCreator create;
    std::vector<ActorMethod> methods;

    // The method named `name`, or nullptr.
    const ActorMethod* FindMethod(std::string_view name) const;
    // The method with this member pointer, or nullptr. (Constrained, so
    // that a name given as a std::string finds the overload above.)
    template <class M>
      requires std::is_member_function_pointer_v<M>
    const ActorMethod* FindMethod(M method) const {
      for (const ActorMethod& m : methods) {
        if (*m.type == typeid(M) && m.pointer.size() == sizeof(M) &&
            std::memcmp(m.pointer.data(), &method, sizeof(M)) == 0) {
          return &m;
        }
      }
      return nullptr;
    }
  };

  // Registers an actor class. Registering the same class under the same
  // name again is a no-op; a name taken by another class is remembered as
  // an error that Validate() reports.
  void RegisterActor(ActorClass entry);
  // The class registered under `name` / for `type`, or nullptr. The
  // pointer stays valid for the process.
  const ActorClass* FindActorClass(std::string_view name) const;
  const ActorClass* FindActorClass(std::type_index type) const;

 private:
  Registry() = default;

  mutable internal::Mutex mu_;
  std::vector<std::unique_ptr<Entry>> entries_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, const Entry*> by_name_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<const void*, const Entry*> by_address_
      ABSL_GUARDED_BY(mu_);
  std::vector<std::string> duplicates_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<ActorClass>> actor_classes_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, const ActorClass*> actors_by_name_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::type_index, const ActorClass*,
                      std::hash<std::type_index>>
      actors_by_type_ ABSL_GUARDED_BY(mu_);
};

namespace internal {

// Splits "Square, Stats::Mean, static_cast<double (*)(double, int)>(f)" at
// top-level commas and trims each part.
std::vector<std::string> SplitFunctionList(std::string_view text);

std::string SignatureOf(const std::type_info& type);

// Decodes one argument into `out` as parameter type V.
template <class V>
absl::Status DecodeArg(const WireArg& arg, ArgSource& source,
                       std::optional<V>& out) {
  auto from_bytes = [&](std::string_view bytes) -> absl::Status {
    WEFT_ASSIGN_OR_RETURN(V v, DeserializeWithRefs<V>(bytes, source.refs()));
    out.emplace(std::move(v));
    return absl::OkStatus();
  };
  switch (arg.kind) {
    case WireArg::Kind::kValue:
      if constexpr (kIsSerializable<V>) return from_bytes(arg.value);
      break;
    case WireArg::Kind::kRef:
      if constexpr (kIsSerializable<V>) {
        if (arg.ids.size() != 1) break;
        WEFT_ASSIGN_OR_RETURN(std::string_view bytes, source.Bytes(arg.ids[0]));
        return from_bytes(bytes);
      }
      break;
    case WireArg::Kind::kRefs:
      if constexpr (IsVector<V>::value) {
        V values;
        values.reserve(arg.ids.size());
        for (uint64_t id : arg.ids) {
          WEFT_ASSIGN_OR_RETURN(std::string_view bytes, source.Bytes(id));
          auto v =
              DeserializeWithRefs<typename V::value_type>(bytes, source.refs());
          if (!v.ok()) return v.status();
          values.push_back(*std::move(v));
        }
        out.emplace(std::move(values));
        return absl::OkStatus();
      }
      break;
  }
  return absl::InvalidArgumentError(
      "weft: an argument does not match parameter type " + TypeName<V>());
}

// Encodes `value` (a task's result, or a put() value) straight into room
// `sink` gives it. Errors: Internal if the encoding took a different size
// than measured.
// The sink is told of the object references inside (ResultSink::refs) and,
// once the value is written, Written().
template <class V>
absl::Status WriteResult(const V& value, ResultSink& sink) {
  const size_t size = weft::SerializedSize(value);
  if (!SerializeIntoWithRefs(value, sink.Allocate(size), size, sink.refs())) {
    return absl::InternalError(
        "weft: a value of type " + TypeName<V>() +
        " encoded to a different size than it measured; its serialize() "
        "must write the same fields every time it is called");
  }
  sink.Written();
  return absl::OkStatus();
}

// Decodes `args` into `values`, one per parameter type P..., then tells
// `source` they are decoded. Errors: InvalidArgument (a wrong count, an
// argument that does not decode), the source's.
template <class... P, size_t... I>
absl::Status DecodeArgs(const std::vector<WireArg>& args, ArgSource& source,
                        std::tuple<std::optional<std::decay_t<P>>...>& values,
                        std::index_sequence<I...>) {
  if (args.size() != sizeof...(P)) {
    return absl::InvalidArgumentError(
        "weft: expected " + std::to_string(sizeof...(P)) + " arguments, got " +
        std::to_string(args.size()));
  }
  absl::Status status;
  ((status.ok() ? (void)(status = DecodeArg(args[I], source,
                                            std::get<I>(values)))
                : (void)0),
   ...);
  if (status.ok()) status = source.ArgumentsDecoded();
  return status;
}

template <class R, class... P, size_t... I>
absl::Status InvokeWire(R (*fn)(P...), const std::vector<WireArg>& args,
                        ArgSource& source, ResultSink& sink,
                        std::index_sequence<I...> seq) {
  std::tuple<std::optional<std::decay_t<P>>...> values;
  WEFT_RETURN_IF_ERROR(DecodeArgs<P...>(args, source, values, seq));
  if constexpr (std::is_void_v<R>) {
    fn(static_cast<P>(*std::get<I>(values))...);
    return WriteResult(std::monostate{}, sink);
  } else {
    return WriteResult(std::decay_t<R>(
                           fn(static_cast<P>(*std::get<I>(values))...)),
                       sink);
  }
}

template <class R, class... P>
absl::Status InvokeRegistered(const void* address,
                              const std::vector<WireArg>& args,
                              ArgSource& source, ResultSink& sink) {
  return InvokeWire(reinterpret_cast<R (*)(P...)>(const_cast<void*>(address)),
                    args, source, sink, std::index_sequence_for<P...>{});
}

template <class R, class... P>
constexpr Registry::Invoker InvokerFor(R (*)(P...)) {
  static_assert((... && (kIsSerializable<std::decay_t<P>> ||
                         IsObjectRef<std::decay_t<P>>::value)),
                "weft: every parameter of a function registered with "
                "WEFT_REMOTE must be serializable (see docs/serialization.md) "
                "or an ObjectRef, so that it can cross to a worker process");
  static_assert(std::is_void_v<R> || kIsSerializable<std::decay_t<R>>,
                "weft: the result of a function registered with WEFT_REMOTE "
                "must be serializable (see docs/serialization.md)");
  return &InvokeRegistered<R, P...>;
}
template <class R, class... P>
constexpr Registry::Invoker InvokerFor(R (*f)(P...) noexcept) {
  return InvokerFor(reinterpret_cast<R (*)(P...)>(f));
}

template <class... F>
bool RegisterFunctions(std::string_view names, F... fns) {
  static_assert(
      (... && (std::is_pointer_v<F> &&
               std::is_function_v<std::remove_pointer_t<F>>)),
      "weft: WEFT_REMOTE takes free functions or static member functions; "
      "for an overloaded function use WEFT_REMOTE_NAMED with a static_cast");
  std::vector<std::string> parts = SplitFunctionList(names);
  size_t i = 0;
  (Registry::Global().Register(parts.at(i++),
                               reinterpret_cast<const void*>(fns),
                               SignatureOf(typeid(F)), InvokerFor(fns)),
   ...);
  return true;
}

}  // namespace internal
}  // namespace weft

#define WEFT_REGISTRY_CONCAT_INNER_(a, b) a##b
#define WEFT_REGISTRY_CONCAT_(a, b) WEFT_REGISTRY_CONCAT_INNER_(a, b)

// Registers functions by the text of their names. At namespace scope.
#define WEFT_REMOTE(...)                                                  \
  [[maybe_unused]] static const bool WEFT_REGISTRY_CONCAT_(              \
      weft_registered_, __COUNTER__) =                                    \
      ::weft::internal::RegisterFunctions(#__VA_ARGS__, __VA_ARGS__)

// Registers one function under an explicit name (overloads, templates).
#define WEFT_REMOTE_NAMED(name, fn)                                       \
  [[maybe_unused]] static const bool WEFT_REGISTRY_CONCAT_(              \
      weft_registered_, __COUNTER__) = [] {                               \
    auto* weft_fn_ = (fn);                                                \
    ::weft::Registry::Global().Register(                                  \
        name, reinterpret_cast<const void*>(weft_fn_),                    \
        ::weft::internal::SignatureOf(typeid(weft_fn_)),                  \
        ::weft::internal::InvokerFor(weft_fn_));                          \
    return true;                                                          \
  }()

#endif  // WEFT_CORE_WEFT_REGISTRY_H_
