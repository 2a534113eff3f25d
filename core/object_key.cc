// Copyright 2026 The weft Authors.

#include "weft/internal/object_key.h"

#include "absl/strings/str_format.h"

namespace weft::internal {

std::string MakeKey(const std::string& name, uint64_t id) {
  return absl::StrFormat("%s-%016x", name, id);
}

}  // namespace weft::internal
