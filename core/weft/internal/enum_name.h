// Copyright 2026 The weft Authors.
//
// EnumName: the one way weft spells an enum's values as text.

#ifndef WEFT_INTERNAL_ENUM_NAME_H_
#define WEFT_INTERNAL_ENUM_NAME_H_

#include <cstddef>

namespace weft::internal {

// Returns `names[value]`, or "unknown" for a value outside the table: the
// name function of an enum whose N enumerators count up from 0, given their
// names in that order. Callers static_assert that the table has one name
// per enumerator. Thread-safe; the result lives as long as `names`.
template <class Enum, size_t N>
const char* EnumName(Enum value, const char* const (&names)[N]) {
  const auto i = static_cast<size_t>(value);
  return i < N ? names[i] : "unknown";
}

}  // namespace weft::internal

#endif  // WEFT_INTERNAL_ENUM_NAME_H_
