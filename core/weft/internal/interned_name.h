// Copyright 2026 The weft Authors.
//
// InternedName: a task or object name in one pointer. A million objects
// named "Square" share one copy of the text instead of carrying a
// std::string each (32 bytes).

#ifndef WEFT_CORE_WEFT_INTERNAL_INTERNED_NAME_H_
#define WEFT_CORE_WEFT_INTERNAL_INTERNED_NAME_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace weft::internal {

// An immutable string, the size of a pointer. Names are interned in a
// process-wide table and live until the process exits: there are few of
// them (function names, "put", user-chosen task names). So that a program
// which makes a fresh name for every task cannot grow the table without
// bound, at most kMaxInterned names, each at most kMaxInternedLength bytes,
// are interned; any other name is copied into the InternedName that holds
// it (as a std::string would), and behaves the same.
//
// Thread-safe: construction looks the table up under a lock (with a small
// per-thread cache in front); copies of an interned name share the text
// without any atomic operation.
class InternedName {
 public:
  static constexpr size_t kMaxInterned = 4096;
  static constexpr size_t kMaxInternedLength = 256;

  // The empty name.
  InternedName() noexcept;
  explicit InternedName(std::string_view text);
  InternedName(const InternedName& other);
  InternedName& operator=(const InternedName& other);
  // Leaves `other` empty.
  InternedName(InternedName&& other) noexcept;
  InternedName& operator=(InternedName&& other) noexcept;
  ~InternedName();

  const std::string& str() const { return *text(); }
  // True if the text is shared through the table, false if owned.
  bool interned() const { return (bits_ & kOwned) == 0; }

  friend bool operator==(const InternedName& a, const InternedName& b) {
    return a.bits_ == b.bits_ || a.str() == b.str();
  }

  // Number of distinct names interned so far in this process.
  static size_t NumInterned();

 private:
  static constexpr uintptr_t kOwned = 1;

  const std::string* text() const {
    return reinterpret_cast<const std::string*>(bits_ & ~kOwned);
  }
  void Reset() noexcept;

  // A std::string*: one in the table, or (kOwned set) one this object owns.
  uintptr_t bits_;
};

}  // namespace weft::internal

#endif  // WEFT_CORE_WEFT_INTERNAL_INTERNED_NAME_H_
