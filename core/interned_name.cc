// Copyright 2026 The weft Authors.

#include "weft/internal/interned_name.h"

#include <array>
#include <utility>

#include "absl/container/node_hash_set.h"
#include "absl/strings/string_view.h"
#include "weft/internal/mutex.h"

namespace weft::internal {
namespace {

// Never destroyed: names may be used during static destruction.
struct Table {
  Mutex mu;
  // node_hash_set: the strings never move, so their addresses are handles.
  absl::node_hash_set<std::string> names ABSL_GUARDED_BY(mu);
};

Table& GlobalTable() {
  static Table* table = new Table;
  return *table;
}

const std::string* EmptyText() {
  static const std::string* empty = new std::string;
  return empty;
}

// The interned copy of `text`, or nullptr if it may not be interned.
const std::string* Intern(std::string_view text) {
  if (text.empty()) return EmptyText();
  if (text.size() > InternedName::kMaxInternedLength) return nullptr;
  // Most names repeat (one per function), so a thread usually finds its
  // name among the last few it interned, without taking the lock. The
  // pointers came from the table under its lock, which orders the text's
  // construction before these reads.
  thread_local std::array<const std::string*, 4> recent = {};
  thread_local size_t next = 0;
  for (const std::string* s : recent) {
    if (s != nullptr && *s == text) return s;
  }
  const std::string* found;
  {
    Table& table = GlobalTable();
    MutexLock lock(&table.mu);
    // Debian's Abseil has its own string_view type.
    auto it = table.names.find(absl::string_view(text.data(), text.size()));
    if (it != table.names.end()) {
      found = &*it;
    } else if (table.names.size() >= InternedName::kMaxInterned) {
      return nullptr;
    } else {
      found = &*table.names.emplace(text).first;
    }
  }
  recent[next] = found;
  next = (next + 1) % recent.size();
  return found;
}

}  // namespace

InternedName::InternedName() noexcept
    : bits_(reinterpret_cast<uintptr_t>(EmptyText())) {}

InternedName::InternedName(std::string_view text) {
  if (const std::string* shared = Intern(text)) {
    bits_ = reinterpret_cast<uintptr_t>(shared);
  } else {
    bits_ = reinterpret_cast<uintptr_t>(new std::string(text)) | kOwned;
  }
}

InternedName::InternedName(const InternedName& other) : bits_(other.bits_) {
  if (!other.interned()) {
    bits_ = reinterpret_cast<uintptr_t>(new std::string(other.str())) | kOwned;
  }
}

InternedName& InternedName::operator=(const InternedName& other) {
  if (this != &other) *this = InternedName(other);
  return *this;
}

InternedName::InternedName(InternedName&& other) noexcept
    : bits_(other.bits_) {
  other.bits_ = reinterpret_cast<uintptr_t>(EmptyText());
}

InternedName& InternedName::operator=(InternedName&& other) noexcept {
  if (this != &other) {
    Reset();
    bits_ = std::exchange(other.bits_,
                          reinterpret_cast<uintptr_t>(EmptyText()));
  }
  return *this;
}

InternedName::~InternedName() { Reset(); }

void InternedName::Reset() noexcept {
  if (!interned()) delete text();
  bits_ = reinterpret_cast<uintptr_t>(EmptyText());
}

size_t InternedName::NumInterned() {
  Table& table = GlobalTable();
  MutexLock lock(&table.mu);
  return table.names.size();
}

}  // namespace weft::internal
