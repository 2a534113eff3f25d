// Copyright 2026 The weft Authors.

#include "rpc/page_block.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace weft::rpc {

absl::StatusOr<std::unique_ptr<PageBlock>> PageBlock::Create(size_t size) {
  if (size == 0) return absl::InvalidArgumentError("empty page block");
  void* data = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (data == MAP_FAILED) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "weft: cannot map ", size, " bytes: ", std::strerror(errno)));
  }
  // No MADV_HUGEPAGE: see page_block.h.
  return std::unique_ptr<PageBlock>(
      new PageBlock(static_cast<char*>(data), size));
}

PageBlock::~PageBlock() { ::munmap(data_, size_); }

}  // namespace weft::rpc
