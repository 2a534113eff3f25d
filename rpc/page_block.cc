// Copyright 2026 The weft Authors.

#include "rpc/page_block.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "weft/internal/mutex.h"

namespace weft::rpc {
namespace {

// A mapping given back by a PageBlock, kept for a later Create.
struct KeptMapping {
  char* data = nullptr;
  size_t mapped = 0;
};

// The blocks kept mapped (see page_block.h). Thread-safe.
class KeptBlocks {
 public:
  // A kept mapping of at least `size` bytes and at most twice that (the
  // smallest such), taken out of the cache; nullopt if there is none.
  std::optional<KeptMapping> Take(size_t size) {
    internal::MutexLock lock(&mu_);
    size_t best = kept_.size();
    for (size_t i = 0; i < kept_.size(); ++i) {
      const size_t mapped = kept_[i].mapped;
      if (mapped >= size && mapped / 2 <= size &&
          (best == kept_.size() || mapped < kept_[best].mapped)) {
        best = i;
      }
    }
    if (best == kept_.size()) return std::nullopt;
    const KeptMapping found = kept_[best];
    kept_.erase(kept_.begin() + static_cast<ptrdiff_t>(best));
    bytes_ -= found.mapped;
    return found;
  }

  // Keeps `mapping` if it is large enough to be worth it and there is
  // room; false if the caller must unmap it.
  bool Keep(KeptMapping mapping) {
    internal::MutexLock lock(&mu_);
    if (kept_.size() >= kPageBlockKeepMaxBlocks ||
        bytes_ + mapping.mapped > kPageBlockKeepMaxBytes) {
      return false;
    }
    kept_.push_back(mapping);
    bytes_ += mapping.mapped;
    return true;
  }

  // Takes every kept mapping out of the cache.
  std::vector<KeptMapping> TakeAll() {
    internal::MutexLock lock(&mu_);
    bytes_ = 0;
    return std::exchange(kept_, {});
  }

  size_t bytes() {
    internal::MutexLock lock(&mu_);
    return bytes_;
  }

 private:
  internal::Mutex mu_;
  std::vector<KeptMapping> kept_ ABSL_GUARDED_BY(mu_);
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

KeptBlocks& Kept() {
  static KeptBlocks* const kept = new KeptBlocks();
  return *kept;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PageBlock>> PageBlock::Create(size_t size) {
  return Make(size, /*clear_kept=*/true, /*no_reserve=*/false);
}

absl::StatusOr<std::unique_ptr<PageBlock>> PageBlock::CreateForOverwrite(
    size_t size) {
  return Make(size, /*clear_kept=*/false, /*no_reserve=*/false);
}

absl::StatusOr<std::unique_ptr<PageBlock>> PageBlock::Reserve(size_t size) {
  return Make(size, /*clear_kept=*/false, /*no_reserve=*/true);
}

absl::StatusOr<std::unique_ptr<PageBlock>> PageBlock::Make(size_t size,
                                                           bool clear_kept,
                                                           bool no_reserve) {
  if (size == 0) return absl::InvalidArgumentError("empty page block");
  if (std::optional<KeptMapping> kept = Kept().Take(size)) {
    if (clear_kept) std::memset(kept->data, 0, size);
    return std::unique_ptr<PageBlock>(
        new PageBlock(kept->data, size, kept->mapped));
  }
  void* data = ::mmap(
      nullptr, size, PROT_READ | PROT_WRITE,
      MAP_PRIVATE | MAP_ANONYMOUS | (no_reserve ? MAP_NORESERVE : 0), -1, 0);
  if (data == MAP_FAILED) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "weft: cannot map ", size, " bytes: ", std::strerror(errno)));
  }
  // No MADV_HUGEPAGE: see page_block.h.
  return std::unique_ptr<PageBlock>(
      new PageBlock(static_cast<char*>(data), size, size));
}

PageBlock::~PageBlock() {
  // Kept pages stay mapped, but the kernel may take them back under memory
  // pressure (MADV_FREE, before the mapping is published: a taker's writes
  // then keep every page they touch). Create clears a kept block;
  // CreateForOverwrite's caller writes every byte.
  if (mapped_ >= kPageBlockKeepMinBytes) {
    (void)::madvise(data_, mapped_, MADV_FREE);
    if (Kept().Keep(KeptMapping{data_, mapped_})) return;
  }
  ::munmap(data_, mapped_);
}

size_t PageBlock::KeptBytes() { return Kept().bytes(); }

void PageBlock::DropKept() {
  for (const KeptMapping& m : Kept().TakeAll()) ::munmap(m.data, m.mapped);
}

}  // namespace weft::rpc
