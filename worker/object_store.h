// Copyright 2026 The weft Authors.
//
// ObjectStore: a worker's objects, as serialized bytes, by id.

#ifndef WEFT_WORKER_OBJECT_STORE_H_
#define WEFT_WORKER_OBJECT_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "weft/internal/mutex.h"

namespace weft::worker {

// Thread-safe. Values are immutable once stored and shared with readers, so
// a reader keeps the bytes it holds even if the object is erased meanwhile.
class ObjectStore {
 public:
  using Bytes = std::shared_ptr<const std::string>;

  // Stores `bytes` as `id`; replaces nothing if `id` is present (objects are
  // immutable). Returns false in that case.
  bool Put(uint64_t id, std::string bytes);
  // The bytes of `id`, or nullptr.
  Bytes Get(uint64_t id) const;
  bool Contains(uint64_t id) const;
  // Removes `id`; returns whether it was present.
  bool Erase(uint64_t id);

  size_t num_objects() const;
  uint64_t total_bytes() const;

 private:
  mutable internal::Mutex mu_;
  absl::flat_hash_map<uint64_t, Bytes> objects_ ABSL_GUARDED_BY(mu_);
  uint64_t total_bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace weft::worker

#endif  // WEFT_WORKER_OBJECT_STORE_H_
