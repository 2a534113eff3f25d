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

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "weft/internal/function_traits.h"
#include "weft/internal/mutex.h"

namespace weft {

// Thread-safe. Registration normally happens during static initialization.
class Registry {
 public:
  struct Entry {
    std::string name;          // e.g. "Square"
    const void* address;       // the function pointer
    std::string signature;     // e.g. "double (*)(double)"
  };

  // The process-wide registry.
  static Registry& Global();

  // Registers `address` under `name`. Registering the same function under the
  // same name again is a no-op; a name already taken by another function is
  // remembered as an error that Validate() reports.
  void Register(std::string name, const void* address, std::string signature);

  // Returns the entry or nullptr. The pointer stays valid for the process.
  const Entry* FindByName(std::string_view name) const;
  const Entry* FindByAddress(const void* address) const;

  // OK, or FailedPrecondition listing every name registered twice. Checked
  // by weft::Init() and when a client is created.
  absl::Status Validate() const;

  // All registered names, sorted.
  std::vector<std::string> Names() const;

 private:
  Registry() = default;

  mutable internal::Mutex mu_;
  std::vector<std::unique_ptr<Entry>> entries_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, const Entry*> by_name_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<const void*, const Entry*> by_address_
      ABSL_GUARDED_BY(mu_);
  std::vector<std::string> duplicates_ ABSL_GUARDED_BY(mu_);
};

namespace internal {

// Splits "Square, Stats::Mean, static_cast<double (*)(double, int)>(f)" at
// top-level commas and trims each part.
std::vector<std::string> SplitFunctionList(std::string_view text);

std::string SignatureOf(const std::type_info& type);

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
                               SignatureOf(typeid(F))),
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
        ::weft::internal::SignatureOf(typeid(weft_fn_)));                 \
    return true;                                                          \
  }()

#endif  // WEFT_CORE_WEFT_REGISTRY_H_
