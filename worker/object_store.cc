// Copyright 2026 The weft Authors.

#include "worker/object_store.h"

#include <utility>

namespace weft::worker {

bool ObjectStore::Put(uint64_t id, rpc::Buffer bytes) {
  const uint64_t size = bytes.size();
  const bool shared = bytes.region() != nullptr;
  internal::MutexLock lock(&mu_);
  auto [it, inserted] = objects_.try_emplace(id, std::move(bytes));
  if (inserted) {
    total_bytes_ += size;
    if (shared) shared_bytes_ += size;
  }
  return inserted;
}

bool ObjectStore::Put(uint64_t id, std::string bytes) {
  return Put(id, rpc::Buffer(std::move(bytes)));
}

std::optional<rpc::Buffer> ObjectStore::Get(uint64_t id) const {
  internal::MutexLock lock(&mu_);
  auto it = objects_.find(id);
  if (it == objects_.end()) return std::nullopt;
  return it->second;
}

bool ObjectStore::Contains(uint64_t id) const {
  internal::MutexLock lock(&mu_);
  return objects_.contains(id);
}

bool ObjectStore::Erase(uint64_t id) {
  rpc::Buffer erased;  // released after the lock: unmapping takes time
  {
    internal::MutexLock lock(&mu_);
    auto it = objects_.find(id);
    if (it == objects_.end()) return false;
    erased = std::move(it->second);
    objects_.erase(it);
    total_bytes_ -= erased.size();
    if (erased.region() != nullptr) shared_bytes_ -= erased.size();
  }
  return true;
}

size_t ObjectStore::Clear() {
  internal::ObjectIdMap<rpc::Buffer> erased;  // released unlocked
  {
    internal::MutexLock lock(&mu_);
    erased.swap(objects_);
    total_bytes_ = 0;
    shared_bytes_ = 0;
  }
  return erased.size();
}

size_t ObjectStore::num_objects() const {
  internal::MutexLock lock(&mu_);
  return objects_.size();
}

uint64_t ObjectStore::total_bytes() const {
  internal::MutexLock lock(&mu_);
  return total_bytes_;
}

uint64_t ObjectStore::shared_bytes() const {
  internal::MutexLock lock(&mu_);
  return shared_bytes_;
}

}  // namespace weft::worker
