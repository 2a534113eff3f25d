// Copyright 2026 The weft Authors.
//
// ObjectStore: a worker's objects, as serialized bytes, by id. Large
// objects are in shared memory (rpc/buffer.h), which same-host peers map.

#ifndef WEFT_WORKER_OBJECT_STORE_H_
#define WEFT_WORKER_OBJECT_STORE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "rpc/buffer.h"
#include "weft/internal/mutex.h"
#include "weft/internal/object_id_hash.h"

namespace weft::worker {

// Thread-safe. Values are immutable once stored and shared with readers, so
// a reader keeps the bytes it holds even if the object is erased meanwhile;
// the memory (or shared-memory mapping) goes when the last holder lets go.
class ObjectStore {
 public:
  // Stores `bytes` as `id`; replaces nothing if `id` is present (objects are
  // immutable). Returns false in that case.
  bool Put(uint64_t id, rpc::Buffer bytes);
  // The same for bytes in ordinary memory.
  bool Put(uint64_t id, std::string bytes);
  // The bytes of `id`, or nullopt.
  std::optional<rpc::Buffer> Get(uint64_t id) const;
  bool Contains(uint64_t id) const;
  // Removes `id`; returns whether it was present.
  bool Erase(uint64_t id);
  // Removes every object (a worker that rejoins a scheduler starts empty).
  // Returns how many there were.
  size_t Clear();

  size_t num_objects() const;
  // Bytes of all objects held, in ordinary or shared memory. A replica
  // mapped from a same-host peer counts in full here, as in the peer, even
  // though the two share the physical pages.
  uint64_t total_bytes() const;
  // The part of total_bytes() in shared memory.
  uint64_t shared_bytes() const;

 private:
  mutable internal::Mutex mu_;
  internal::ObjectIdMap<rpc::Buffer> objects_ ABSL_GUARDED_BY(mu_);
  uint64_t total_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t shared_bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace weft::worker

#endif  // WEFT_WORKER_OBJECT_STORE_H_
