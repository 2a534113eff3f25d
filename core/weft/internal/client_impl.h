// Copyright 2026 The weft Authors.
//
// ClientImpl: what a weft::Client handle points to — a runtime plus the
// typed submission path shared by remote() and delayed().

#ifndef WEFT_CORE_WEFT_INTERNAL_CLIENT_IMPL_H_
#define WEFT_CORE_WEFT_INTERNAL_CLIENT_IMPL_H_

#include <cstddef>
#include <memory>
#include <ranges>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/internal/bind.h"
#include "weft/internal/runtime.h"
#include "weft/internal/task_context.h"
#include "weft/internal/throw_status.h"
#include "weft/object_ref.h"
#include "weft/options.h"
#include "weft/registry.h"
#include "weft/serialize.h"

namespace weft {
class Client;
}  // namespace weft

namespace weft::internal {

// The registered name of `f`, or empty.
template <class F>
std::string RegisteredName(const F& f) {
  if constexpr (std::is_pointer_v<F> &&
                std::is_function_v<std::remove_pointer_t<F>>) {
    if (const Registry::Entry* e = Registry::Global().FindByAddress(
            reinterpret_cast<const void*>(f))) {
      return e->name;
    }
  }
  return "";
}

// The readable name of a callable: its registered name, else "function"
// (a function pointer) or "lambda".
template <class F>
std::string FunctionName(const F& f) {
  std::string name = RegisteredName(f);
  if (!name.empty()) return name;
  return std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>
             ? "function"
             : "lambda";
}

// One call(a[i], b[i], ...) per element of the equal-length ranges
// `inputs`, submitted to `runtime` as one batch (SubmitBatch); the results
// in input order. Throws std::invalid_argument if the lengths differ.
template <class Ref, class Call, class... In>
std::vector<Ref> MapInputs(Runtime& runtime, const Call& call,
                           const In&... inputs) {
  static_assert(sizeof...(In) > 0, "weft: map needs at least one input");
  const size_t sizes[] = {static_cast<size_t>(std::ranges::size(inputs))...};
  for (size_t s : sizes) {
    if (s != sizes[0]) {
      throw std::invalid_argument("weft: map inputs differ in length");
    }
  }
  std::vector<Ref> out;
  out.reserve(sizes[0]);
  SubmitBatch batch(runtime);  // one message, not N
  auto its = std::make_tuple(std::ranges::begin(inputs)...);
  for (size_t i = 0; i < sizes[0]; ++i) {
    out.push_back(
        std::apply([&](auto&... it) { return call(*it++...); }, its));
  }
  return out;
}

// Thread-safe.
class ClientImpl : public std::enable_shared_from_this<ClientImpl> {
 public:
  // Takes ownership of `runtime`.
  explicit ClientImpl(std::unique_ptr<Runtime> runtime);
  ~ClientImpl();

  // An embedded client with `threads` threads (0: one per core).
  static std::shared_ptr<ClientImpl> MakeLocal(int threads);

  // The client for calls that name none: inside a task, the task's own
  // client; else the most recently created live client; else a process-wide
  // embedded client, created on first use.
  static std::shared_ptr<ClientImpl> Current();
  // Makes `client` what Current() returns outside tasks.
  static void SetDefault(const std::shared_ptr<ClientImpl>& client);

  Runtime& runtime() { return *runtime_; }

  // The user's handle to `impl` (Client's constructor is private).
  static Client Handle(std::shared_ptr<ClientImpl> impl);
  // The client behind `client`, a user's handle; never null.
  static const std::shared_ptr<ClientImpl>& Of(const Client& client);

  // Submits f(args...) now. `id` 0 picks a fresh id.
  template <class F, class... A>
  ObjectRef<Stored<ResultOf<F>>> Call(const F& f, const TaskOptions& options,
                                      uint64_t id, A&&... args) {
    TaskSpec spec = MakeTaskSpec(f, options, std::forward<A>(args)...);
    spec.function_name = RegisteredName(f);
    spec.name = !options.name.empty()          ? options.name
                : !spec.function_name.empty() ? spec.function_name
                                              : FunctionName(f);
    spec.id = id != 0 ? id : NewObjectId();
    std::shared_ptr<ObjectState> state =
        ValueOrThrow(runtime_->Submit(std::move(spec)));
    // A task's children are cancelled with it.
    if (TaskContext* parent = TaskContext::Current()) parent->AddChild(state);
    return RefAccess::Make<Stored<ResultOf<F>>>(std::move(state));
  }

  template <class T>
  ObjectRef<std::decay_t<T>> Put(T&& value) {
    return RefAccess::Make<std::decay_t<T>>(
        ValueOrThrow(runtime_->Put(MakePutSpec(std::forward<T>(value)))));
  }

  template <class T>
  static PutSpec MakePutSpec(T&& value) {
    using V = std::decay_t<T>;
    PutSpec spec;
    spec.value = AnyValue::Make(std::forward<T>(value));
    spec.encode = [v = spec.value](ResultSink& sink) -> absl::Status {
      if constexpr (kIsSerializable<V>) {
        return WriteResult(*v.template Get<V>(), sink);
      } else {
        return absl::UnimplementedError(
            "weft: put() of a " + TypeName<V>() +
            ", which cannot be serialized, needs the embedded runtime");
      }
    };
    return spec;
  }

 private:
  std::unique_ptr<Runtime> runtime_;
};

}  // namespace weft::internal

#endif  // WEFT_CORE_WEFT_INTERNAL_CLIENT_IMPL_H_
