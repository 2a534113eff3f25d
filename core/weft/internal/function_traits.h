// Copyright 2026 The weft Authors.
//
// FunctionTraits<F>: the result and parameter types of a callable whose
// signature can be deduced (function pointers, std::function, lambdas and
// functors with one non-template operator()).

#ifndef WEFT_CORE_WEFT_INTERNAL_FUNCTION_TRAITS_H_
#define WEFT_CORE_WEFT_INTERNAL_FUNCTION_TRAITS_H_

#include <functional>
#include <tuple>
#include <type_traits>
#include <vector>

namespace weft::internal {

// Whether T is a std::vector.
template <class T>
struct IsVector : std::false_type {};
template <class T, class A>
struct IsVector<std::vector<T, A>> : std::true_type {};

template <class F, class = void>
struct FunctionTraits {
  static constexpr bool kDeducible = false;
};

template <class R, class... P>
struct FunctionTraits<R (*)(P...), void> {
  static constexpr bool kDeducible = true;
  using Result = R;
  using Params = std::tuple<P...>;
};
template <class R, class... P>
struct FunctionTraits<R (*)(P...) noexcept, void>
    : FunctionTraits<R (*)(P...)> {};
template <class R, class... P>
struct FunctionTraits<R(P...), void> : FunctionTraits<R (*)(P...)> {};
template <class R, class... P>
struct FunctionTraits<R(P...) noexcept, void> : FunctionTraits<R (*)(P...)> {
};

#define WEFT_MEMBER_CALL_TRAITS_(QUALS)                                 \
  template <class C, class R, class... P>                               \
  struct FunctionTraits<R (C::*)(P...) QUALS, void>                     \
      : FunctionTraits<R (*)(P...)> {};                                 \
  template <class C, class R, class... P>                               \
  struct FunctionTraits<R (C::*)(P...) QUALS noexcept, void>            \
      : FunctionTraits<R (*)(P...)> {};
WEFT_MEMBER_CALL_TRAITS_()
WEFT_MEMBER_CALL_TRAITS_(const)
WEFT_MEMBER_CALL_TRAITS_(&)
WEFT_MEMBER_CALL_TRAITS_(const&)
#undef WEFT_MEMBER_CALL_TRAITS_

// Lambdas and functors: the signature of their operator().
template <class F>
struct FunctionTraits<F, std::void_t<decltype(&F::operator())>>
    : FunctionTraits<decltype(&F::operator())> {};

template <class F>
using DecayedFunction =
    std::conditional_t<std::is_function_v<std::remove_reference_t<F>>,
                       std::add_pointer_t<std::remove_reference_t<F>>,
                       std::decay_t<F>>;

template <class F>
constexpr void CheckDeducible() {
  static_assert(FunctionTraits<DecayedFunction<F>>::kDeducible,
                "weft: cannot deduce this callable's signature. Pass a "
                "function, or a lambda/functor with one non-template "
                "operator() (no `auto` parameters); for an overloaded "
                "function, pick one with static_cast<R(*)(Args...)>(f).");
}

template <class F>
using ResultOf = std::decay_t<typename FunctionTraits<DecayedFunction<F>>::Result>;
template <class F>
using ParamsOf = typename FunctionTraits<DecayedFunction<F>>::Params;

}  // namespace weft::internal

#endif  // WEFT_CORE_WEFT_INTERNAL_FUNCTION_TRAITS_H_
