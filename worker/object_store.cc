// Copyright 2026 The weft Authors.

#include "worker/object_store.h"

#include <utility>

namespace weft::worker {

bool ObjectStore::Put(uint64_t id, std::string bytes) {
  auto value = std::make_shared<const std::string>(std::move(bytes));
  internal::MutexLock lock(&mu_);
  auto [it, inserted] = objects_.try_emplace(id, value);
  if (inserted) total_bytes_ += value->size();
  return inserted;
}

ObjectStore::Bytes ObjectStore::Get(uint64_t id) const {
  internal::MutexLock lock(&mu_);
  auto it = objects_.find(id);
  return it == objects_.end() ? nullptr : it->second;
}

bool ObjectStore::Contains(uint64_t id) const {
  internal::MutexLock lock(&mu_);
  return objects_.contains(id);
}

bool ObjectStore::Erase(uint64_t id) {
  internal::MutexLock lock(&mu_);
  auto it = objects_.find(id);
  if (it == objects_.end()) return false;
  total_bytes_ -= it->second->size();
  objects_.erase(it);
  return true;
}

size_t ObjectStore::num_objects() const {
  internal::MutexLock lock(&mu_);
  return objects_.size();
}

uint64_t ObjectStore::total_bytes() const {
  internal::MutexLock lock(&mu_);
  return total_bytes_;
}

}  // namespace weft::worker
