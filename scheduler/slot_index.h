// Copyright 2026 The weft Authors.
//
// SlotIndex: finds a record's slot from its 64-bit id while storing only
// the 4-byte slots. The ids live in the records themselves; the index asks
// for them through a function. A flat_hash_map<uint64_t, uint32_t> spends
// 16 bytes per entry (with padding) where this spends 4: for the
// scheduler's million-task graphs, about 42 bytes per task become 13 at
// the table's typical load.

#ifndef WEFT_SCHEDULER_SLOT_INDEX_H_
#define WEFT_SCHEDULER_SLOT_INDEX_H_

#include <cstddef>
#include <cstdint>

#include "absl/container/flat_hash_set.h"
#include "weft/internal/object_id_hash.h"

namespace weft::scheduler::internal {

// `IdOf` is a copyable functor, uint64_t(uint32_t slot): the id of the
// record in `slot`. It must give the same id for a slot for as long as the
// slot is in the index (erase an entry before changing its record's id),
// since the table rehashes by calling it. Slot values are opaque here: the
// caller may encode anything in them that IdOf understands.
//
// Not thread-safe.
template <class IdOf>
class SlotIndex {
 public:
  static constexpr uint32_t kNone = ~uint32_t{0};

  explicit SlotIndex(IdOf id_of)
      : set_(0, Hash{id_of}, Eq{id_of}) {}

  // The slot holding `id`, or kNone.
  uint32_t Find(uint64_t id) const {
    auto it = set_.find(Key{id});
    return it == set_.end() ? kNone : *it;
  }
  bool Contains(uint64_t id) const { return set_.contains(Key{id}); }
  // Adds `slot` under IdOf(slot). Returns false (and changes nothing) if
  // that id is already indexed.
  bool Insert(uint32_t slot) { return set_.insert(slot).second; }
  // Removes `id`'s entry. Returns whether there was one.
  bool Erase(uint64_t id) { return set_.erase(Key{id}) > 0; }
  // Makes `id`'s entry hold `slot` instead, in place (one lookup where
  // Erase and Insert take two). Returns false (and changes nothing) if `id`
  // is not indexed. REQUIRES: IdOf(slot) == id.
  bool Replace(uint64_t id, uint32_t slot) {
    auto it = set_.find(Key{id});
    if (it == set_.end()) return false;
    // The entry's hash and equality are those of `id` before and after,
    // so changing it in place keeps the table valid.
    const_cast<uint32_t&>(*it) = slot;
    return true;
  }
  void Reserve(size_t n) { set_.reserve(n); }
  // Removes every entry and frees the table.
  void Clear() {
    absl::flat_hash_set<uint32_t, Hash, Eq> empty(0, set_.hash_function(),
                                                   set_.key_eq());
    set_.swap(empty);
  }
  size_t size() const { return set_.size(); }

 private:
  struct Key {
    uint64_t id;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(uint32_t slot) const { return Of(id_of(slot)); }
    size_t operator()(Key key) const { return Of(key.id); }
    static size_t Of(uint64_t id) { return weft::internal::ObjectIdHash{}(id); }
    IdOf id_of;
  };
  struct Eq {
    using is_transparent = void;
    // By id, so that Insert refuses a second slot with an indexed id.
    bool operator()(uint32_t a, uint32_t b) const {
      return a == b || id_of(a) == id_of(b);
    }
    bool operator()(Key key, uint32_t slot) const {
      return id_of(slot) == key.id;
    }
    bool operator()(uint32_t slot, Key key) const {
      return id_of(slot) == key.id;
    }
    IdOf id_of;
  };

  absl::flat_hash_set<uint32_t, Hash, Eq> set_;
};

}  // namespace weft::scheduler::internal

#endif  // WEFT_SCHEDULER_SLOT_INDEX_H_
