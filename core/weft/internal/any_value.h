// Copyright 2026 The weft Authors.
//
// AnyValue: a type-erased, immutable, shareable value. Objects in the
// embedded runtime are stored as AnyValues and are moved, never serialized.

#ifndef WEFT_CORE_WEFT_INTERNAL_ANY_VALUE_H_
#define WEFT_CORE_WEFT_INTERNAL_ANY_VALUE_H_

#include <memory>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace weft::internal {

class AnyValue {
 public:
  // An empty value.
  AnyValue() = default;

  // Wraps `value` (moved or copied in). Works for move-only types.
  template <class T>
  static AnyValue Make(T&& value) {
    using V = std::decay_t<T>;
    AnyValue v;
    v.ptr_ = std::make_shared<V>(std::forward<T>(value));
    v.type_ = &typeid(V);
    return v;
  }

  bool has_value() const { return ptr_ != nullptr; }
  const std::type_info& type() const { return *type_; }

  // Returns the value if it holds a T, else nullptr.
  template <class T>
  const T* Get() const {
    if (ptr_ == nullptr || *type_ != typeid(T)) return nullptr;
    return static_cast<const T*>(ptr_.get());
  }

  // Moves the value out if this AnyValue is its only holder, else copies it.
  // REQUIRES: holds a T.
  template <class T>
  T TakeOrCopy() {
    if constexpr (std::is_move_constructible_v<T>) {
      if (ptr_.use_count() == 1) {
        T out = std::move(*static_cast<T*>(ptr_.get()));
        ptr_.reset();
        return out;
      }
    }
    if constexpr (std::is_copy_constructible_v<T>) {
      return *static_cast<const T*>(ptr_.get());
    } else {
      static_assert(std::is_copy_constructible_v<T>,
                    "weft: a move-only result can only be taken by its sole "
                    "holder");
    }
  }

 private:
  std::shared_ptr<void> ptr_;
  const std::type_info* type_ = &typeid(void);
};

}  // namespace weft::internal

#endif  // WEFT_CORE_WEFT_INTERNAL_ANY_VALUE_H_
