// Copyright 2026 The weft Authors.
//
// ObjectIdHash: the hash for absl's hash tables keyed by object ids.
//
// A process mints its ids from a counter (NewObjectId, object_state.h: a
// random per-process salt above a 32-bit counter), and the scheduler and the
// client meet them again in roughly that order: submitted together, run and
// released together. absl::Hash scatters neighbours over the whole table, so
// with a table of millions of entries every lookup misses the cache twice
// (its control byte and its entry). This hash keeps each run of 16
// consecutive ids next to each other in the table (absl places an entry
// from the hash's bits above the lowest 7): the 16 share one line of control
// bytes and, for 4-byte entries, one line of entries. Runs land at
// independent pseudo-random places, so ids that are not consecutive (other
// processes' ids, graph nodes named by content hashes) spread as with
// absl::Hash, and no choice of ids puts more than 16 of them at one place
// beyond what absl::Hash would.

#ifndef WEFT_CORE_WEFT_INTERNAL_OBJECT_ID_HASH_H_
#define WEFT_CORE_WEFT_INTERNAL_OBJECT_ID_HASH_H_

#include <cstddef>
#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"

namespace weft::internal {

// Thread-safe (stateless). Use as the Hash parameter of absl::flat_hash_map
// and flat_hash_set with uint64_t object ids as keys.
struct ObjectIdHash {
  // Consecutive ids whose place in the table is consecutive.
  static constexpr int kRunBits = 4;

  size_t operator()(uint64_t id) const {
    constexpr uint64_t kRunMask = (uint64_t{1} << kRunBits) - 1;
    // absl's place for the entry: the run's place, plus the id's offset in
    // the run.
    const uint64_t place = absl::HashOf(id >> kRunBits) + (id & kRunMask);
    // absl's 7 bits compared within a group: mixed from the whole id, so
    // that the 16 of a run rarely match each other's.
    const uint64_t tag = (id * 0x9E3779B97F4A7C15u) >> 57;
    return static_cast<size_t>((place << 7) | tag);
  }
};

// A map keyed by object ids, hashed as above.
template <class Value>
using ObjectIdMap = absl::flat_hash_map<uint64_t, Value, ObjectIdHash>;

}  // namespace weft::internal

#endif  // WEFT_CORE_WEFT_INTERNAL_OBJECT_ID_HASH_H_
