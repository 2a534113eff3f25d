// Copyright 2026 The weft Authors.

#include "rpc/page_block.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "weft/internal/mutex.h"

namespace weft::rpc {
namespace {

// Whether this kernel can back a kept block with huge pages on request:
// transparent huge pages not switched off ("always" or "madvise"), and
// MADV_POPULATE_WRITE (Linux 5.14) to fault them in off the fetch's path.
bool CanBackWithHugePages() {
  std::ifstream file("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string setting;
  std::getline(file, setting);
  if (setting.find("[always]") == std::string::npos &&
      setting.find("[madvise]") == std::string::npos) {
    return false;
  }
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  void* probe = ::mmap(nullptr, page, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (probe == MAP_FAILED) return false;
  const bool populates = ::madvise(probe, page, MADV_POPULATE_WRITE) == 0;
  ::munmap(probe, page);
  return populates;
}

// Re-backs [data, data + size) with huge pages where the kernel has them
// (4 KiB pages elsewhere), its contents discarded (they are zeros after).
// Each step is best effort: a failed one leaves ordinary pages.
void BackWithHugePages(char* data, size_t size) {
  // The old pages go (a kept block holds nothing anyone reads: Create
  // clears it, CreateForOverwrite's caller writes every byte) ...
  (void)::madvise(data, size, MADV_DONTNEED);
  // ... and the range faults in huge pages, here and now, on this thread:
  // where the kernel must compact memory to find them, it is this thread
  // that waits (see page_block.h).
  (void)::madvise(data, size, MADV_HUGEPAGE);
  (void)::madvise(data, size, MADV_POPULATE_WRITE);
  // Then the hint goes again, so that a page the kernel reclaims later
  // (MADV_FREE, below) comes back as an ordinary page in whoever writes it,
  // never by compacting memory on a fetch's path. Huge pages already in
  // place stay.
  (void)::madvise(data, size, MADV_NOHUGEPAGE);
  (void)::madvise(data, size, MADV_FREE);
}

// A mapping given back by a PageBlock, kept for a later Create.
struct KeptMapping {
  char* data = nullptr;
  size_t mapped = 0;
  bool huge = false;  // BackWithHugePages ran on it (or was not wanted)
};

// The blocks kept mapped, and the thread that backs them with huge pages
// (see page_block.h). Thread-safe.
class KeptBlocks {
 public:
  // A kept mapping of at least `size` bytes and at most twice that (the
  // smallest such, ready before waiting), taken out of the cache; nullopt
  // if there is none. A mapping still waiting for huge pages is taken as
  // it is; one being given them now is not.
  std::optional<KeptMapping> Take(size_t size) {
    internal::MutexLock lock(&mu_);
    AdoptAfterFork();
    size_t best = kept_.size();
    for (size_t i = 0; i < kept_.size(); ++i) {
      const Entry& e = kept_[i];
      if (e.converting || e.mapping.mapped < size ||
          e.mapping.mapped / 2 > size) {
        continue;
      }
      if (best == kept_.size() ||
          e.mapping.mapped < kept_[best].mapping.mapped ||
          (e.mapping.mapped == kept_[best].mapping.mapped && e.mapping.huge)) {
        best = i;
      }
    }
    if (best == kept_.size()) return std::nullopt;
    const KeptMapping found = kept_[best].mapping;
    kept_.erase(kept_.begin() + static_cast<ptrdiff_t>(best));
    bytes_ -= found.mapped;
    if (Settled()) settled_.notify_all();
    return found;
  }

  // Keeps `mapping` if it is large enough to be worth it and there is
  // room; false if the caller must unmap it. A mapping not yet backed by
  // huge pages waits for the converter thread (started here if needed).
  bool Keep(KeptMapping mapping) {
    internal::MutexLock lock(&mu_);
    AdoptAfterFork();
    if (kept_.size() >= kPageBlockKeepMaxBlocks ||
        bytes_ + mapping.mapped > kPageBlockKeepMaxBytes) {
      return false;
    }
    if (!huge_pages_) mapping.huge = true;  // nothing to wait for
    kept_.push_back(Entry{mapping});
    bytes_ += mapping.mapped;
    if (!mapping.huge) {
      if (converter_pid_ != ::getpid()) {
        converter_pid_ = ::getpid();
        std::thread([this] { ConvertLoop(); }).detach();
      }
      queued_.notify_all();
    }
    return true;
  }

  // Takes every kept mapping out of the cache; one being given huge pages
  // now is unmapped by the converter when it is done.
  std::vector<KeptMapping> TakeAll() {
    internal::MutexLock lock(&mu_);
    AdoptAfterFork();
    std::vector<KeptMapping> taken;
    for (auto it = kept_.begin(); it != kept_.end();) {
      if (it->converting) {
        it->drop = true;
        ++it;
        continue;
      }
      taken.push_back(it->mapping);
      bytes_ -= it->mapping.mapped;
      it = kept_.erase(it);
    }
    if (Settled()) settled_.notify_all();
    return taken;
  }

  size_t bytes() {
    internal::MutexLock lock(&mu_);
    return bytes_;
  }

  void AwaitSettled() {
    internal::UniqueLock lock(mu_);
    AdoptAfterFork();
    while (!Settled()) settled_.wait(lock);
  }

  bool huge_pages() const { return huge_pages_; }

 private:
  // A kept mapping is ready once `mapping.huge`; before, it waits for the
  // converter (takeable as it is) or is with it (`converting`: not
  // takeable).
  struct Entry {
    KeptMapping mapping;
    bool converting = false;
    bool drop = false;  // TakeAll came while converting: unmap when done
  };

  // No mapping waits for the converter or is with it.
  bool Settled() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return std::all_of(kept_.begin(), kept_.end(),
                       [](const Entry& e) { return e.mapping.huge; });
  }

  // In a child of fork(), the parent's converter is gone: what it was
  // working on waits again, for a converter of this process (Keep starts
  // one).
  void AdoptAfterFork() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (converter_pid_ == 0 || converter_pid_ == ::getpid()) return;
    converter_pid_ = 0;
    for (Entry& e : kept_) e.converting = false;
    if (!Settled()) {
      converter_pid_ = ::getpid();
      std::thread([this] { ConvertLoop(); }).detach();
    }
  }

  // The converter: gives queued mappings huge pages, one at a time, for
  // the life of the process (this object is never destroyed).
  void ConvertLoop() {
    internal::UniqueLock lock(mu_);
    while (true) {
      auto it = std::find_if(kept_.begin(), kept_.end(), [](const Entry& e) {
        return !e.mapping.huge && !e.converting;
      });
      if (it == kept_.end()) {
        queued_.wait(lock);
        continue;
      }
      it->converting = true;
      const KeptMapping mapping = it->mapping;
      lock.unlock();
      BackWithHugePages(mapping.data, mapping.mapped);
      lock.lock();
      // Only this thread changes or removes a converting entry.
      it = std::find_if(kept_.begin(), kept_.end(), [&](const Entry& e) {
        return e.mapping.data == mapping.data;
      });
      if (it->drop) {
        bytes_ -= it->mapping.mapped;
        kept_.erase(it);
        ::munmap(mapping.data, mapping.mapped);
      } else {
        it->mapping.huge = true;
        it->converting = false;
      }
      if (Settled()) settled_.notify_all();
    }
  }

  const bool huge_pages_ = CanBackWithHugePages();
  internal::Mutex mu_;
  std::vector<Entry> kept_ ABSL_GUARDED_BY(mu_);
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // The process whose converter thread runs (0: none started).
  pid_t converter_pid_ ABSL_GUARDED_BY(mu_) = 0;
  std::condition_variable_any queued_;   // a mapping waits for the converter
  std::condition_variable_any settled_;  // none waits any more
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
        new PageBlock(kept->data, size, kept->mapped, kept->huge));
  }
  void* data = ::mmap(
      nullptr, size, PROT_READ | PROT_WRITE,
      MAP_PRIVATE | MAP_ANONYMOUS | (no_reserve ? MAP_NORESERVE : 0), -1, 0);
  if (data == MAP_FAILED) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "weft: cannot map ", size, " bytes: ", std::strerror(errno)));
  }
  // Ordinary pages for now: see page_block.h.
  return std::unique_ptr<PageBlock>(
      new PageBlock(static_cast<char*>(data), size, size, /*huge=*/false));
}

PageBlock::~PageBlock() {
  // Kept pages stay mapped, but the kernel may take them back under memory
  // pressure (MADV_FREE, before the mapping is published: a taker's writes
  // then keep every page they touch). Create clears a kept block;
  // CreateForOverwrite's caller writes every byte.
  if (mapped_ >= kPageBlockKeepMinBytes) {
    (void)::madvise(data_, mapped_, MADV_FREE);
    if (Kept().Keep(KeptMapping{data_, mapped_, huge_})) return;
  }
  ::munmap(data_, mapped_);
}

size_t PageBlock::KeptBytes() { return Kept().bytes(); }

void PageBlock::AwaitKept() { Kept().AwaitSettled(); }

bool PageBlock::KeptBlocksGetHugePages() { return Kept().huge_pages(); }

void PageBlock::DropKept() {
  for (const KeptMapping& m : Kept().TakeAll()) ::munmap(m.data, m.mapped);
  Kept().AwaitSettled();  // the one being converted, unmapped when done
}

}  // namespace weft::rpc
