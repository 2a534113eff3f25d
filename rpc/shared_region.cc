// Copyright 2026 The weft Authors.

#include "rpc/shared_region.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

// Linux 6.3: memfd not executable, and sealed that way. Older kernels
// reject the flag, and Create retries without it.
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

namespace weft::rpc {
namespace {

std::atomic<int64_t> live_regions{0};
std::atomic<uint64_t> regions_made{0};

// A status for a failed system call: Abseil's code for its errno, except
// that a call this kernel lacks is Unavailable (callers fall back to the
// network) and a file too large is ResourceExhausted, as the contracts in
// shared_region.h say.
absl::Status ErrnoStatus(int error, const std::string& what) {
  absl::Status status = absl::ErrnoToStatus(error, what);
  if (error == ENOSYS || error == EOPNOTSUPP) {
    return absl::UnavailableError(status.message());
  }
  if (error == EFBIG) return absl::ResourceExhaustedError(status.message());
  return status;
}

// Regions may take at most three quarters of the descriptor limit; the rest
// is left for sockets and files.
absl::Status CheckRegionBudget() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return absl::OkStatus();
  const uint64_t budget = static_cast<uint64_t>(limit.rlim_cur) / 4 * 3;
  if (static_cast<uint64_t>(live_regions.load()) >= budget) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "already ", live_regions.load(), " shared regions, the most this "
        "process's descriptor limit of ", limit.rlim_cur, " allows"));
  }
  return absl::OkStatus();
}

// A name no other region on this host has: pid, sequence, random bits.
std::string NewRegionName() {
  std::random_device random;
  const uint64_t bits = (uint64_t{random()} << 32) ^ random();
  return absl::StrCat("weft-", ::getpid(), "-", regions_made.fetch_add(1),
                      "-", absl::Hex(bits, absl::kZeroPad16));
}

int MemfdCreate(const std::string& name) {
  int fd = ::memfd_create(name.c_str(),
                          MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL);
  if (fd < 0 && errno == EINVAL) {
    fd = ::memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  }
  return fd;
}

// The target of /proc/self/fd/<fd>, or empty.
std::string LinkOf(int fd) {
  char target[512];
  const std::string path = absl::StrCat("/proc/self/fd/", fd);
  const ssize_t n = ::readlink(path.c_str(), target, sizeof(target));
  if (n <= 0 || static_cast<size_t>(n) >= sizeof(target)) return "";
  return std::string(target, static_cast<size_t>(n));
}

std::string ReadFirstLine(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return std::string(absl::StripAsciiWhitespace(line));
}

}  // namespace

bool SharedMemoryEnabled() {
  static const bool enabled = [] {
    const char* value = std::getenv("WEFT_SHARED_MEMORY");
    if (value == nullptr) return true;
    const std::string v = absl::AsciiStrToLower(value);
    return !(v == "0" || v == "false" || v == "off" || v == "no");
  }();
  return enabled;
}

const std::string& LocalHostId() {
  static const std::string* const id = [] {
    const std::string boot = ReadFirstLine("/proc/sys/kernel/random/boot_id");
    if (boot.empty()) return new std::string();
    char host[256] = {0};
    ::gethostname(host, sizeof(host) - 1);
    char ns[128] = {0};
    const ssize_t n = ::readlink("/proc/self/ns/pid", ns, sizeof(ns) - 1);
    return new std::string(
        absl::StrCat(boot, " ", host, " ", n > 0 ? ns : "pid:?"));
  }();
  return *id;
}

uint64_t RaiseDescriptorLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return static_cast<uint64_t>(limit.rlim_cur);
}

SharedRegion::SharedRegion(int fd, char* data, size_t size, std::string name,
                           uint64_t device, uint64_t inode, bool writable)
    : fd_(fd),
      data_(data),
      size_(size),
      name_(std::move(name)),
      device_(device),
      inode_(inode),
      writable_(writable),
      committed_(size) {
  live_regions.fetch_add(1);
}

SharedRegion::~SharedRegion() {
  ::munmap(data_, size_);
  ::close(fd_);
  live_regions.fetch_sub(1);
}

int64_t SharedRegion::LiveCount() { return live_regions.load(); }

absl::StatusOr<std::unique_ptr<SharedRegion>> SharedRegion::Create(
    size_t size) {
  return Make(size, /*commit_now=*/true);
}

absl::StatusOr<std::unique_ptr<SharedRegion>> SharedRegion::Reserve(
    size_t size) {
  return Make(size, /*commit_now=*/false);
}

absl::StatusOr<std::unique_ptr<SharedRegion>> SharedRegion::Make(
    size_t size, bool commit_now) {
  if (size == 0) return absl::InvalidArgumentError("empty shared region");
  if (absl::Status s = CheckRegionBudget(); !s.ok()) return s;
  std::string name = NewRegionName();
  const int fd = MemfdCreate(name);
  if (fd < 0) return ErrnoStatus(errno, "memfd_create");
  auto fail = [fd](const std::string& what) {
    const int error = errno;
    ::close(fd);
    return ErrnoStatus(error, what);
  };
  // fallocate, unlike ftruncate, allocates now: no memory is an error here
  // instead of a SIGBUS at first touch. (The kernel may still meet a lack
  // of memory with its OOM killer: what is committed must be what the
  // writer has, which is why Reserve commits nothing.)
  if (!commit_now || ::fallocate(fd, 0, 0, static_cast<off_t>(size)) != 0) {
    if (commit_now && errno != EOPNOTSUPP) {
      return fail("allocating a shared region");
    }
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
      return fail("sizing a shared region");
    }
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail("fstat of a shared region");
  void* data = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                      MAP_SHARED | (commit_now ? MAP_POPULATE : 0), fd, 0);
  if (data == MAP_FAILED) return fail("mapping a shared region");
  std::unique_ptr<SharedRegion> region(
      new SharedRegion(fd, static_cast<char*>(data), size, std::move(name),
                       st.st_dev, st.st_ino, /*writable=*/true));
  if (!commit_now) region->committed_ = 0;
  return region;
}

absl::Status SharedRegion::Commit(size_t end) {
  end = std::min(end, size_);
  if (end <= committed_) return absl::OkStatus();
  if (::fallocate(fd_, 0, static_cast<off_t>(committed_),
                  static_cast<off_t>(end - committed_)) != 0 &&
      errno != EOPNOTSUPP) {
    return ErrnoStatus(errno, "allocating part of a shared region");
  }
  // Fill in the page tables of the part, as Create's MAP_POPULATE does: one
  // call instead of a fault per page. An older kernel (before 5.14) refuses
  // the advice, and the pages fault in as they are written.
  static const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t from = committed_ / page * page;
  (void)::madvise(data_ + from, end - from, MADV_POPULATE_WRITE);
  committed_ = end;
  return absl::OkStatus();
}

absl::Status SharedRegion::Seal() {
  int seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL;
  int rc = ::fcntl(fd_, F_ADD_SEALS, seals);
  if (rc != 0 && errno == EINVAL) {
    // Before Linux 5.1 there is no F_SEAL_FUTURE_WRITE; the size seals are
    // what keeps readers safe (no SIGBUS), and writers are ours.
    seals &= ~F_SEAL_FUTURE_WRITE;
    rc = ::fcntl(fd_, F_ADD_SEALS, seals);
  }
  if (rc != 0) return ErrnoStatus(errno, "sealing a shared region");
  if (::mprotect(data_, size_, PROT_READ) != 0) {
    return ErrnoStatus(errno, "protecting a shared region");
  }
  writable_ = false;
  return absl::OkStatus();
}

SharedHandle SharedRegion::handle() const {
  SharedHandle h;
  h.set_host(LocalHostId());
  h.set_pid(::getpid());
  h.set_fd(fd_);
  h.set_device(device_);
  h.set_inode(inode_);
  h.set_name(name_);
  h.set_size(size_);
  return h;
}

absl::StatusOr<std::unique_ptr<SharedRegion>> SharedRegion::Open(
    const SharedHandle& handle) {
  if (handle.host().empty() || handle.host() != LocalHostId()) {
    return absl::FailedPreconditionError(
        absl::StrCat("shared region of host '", handle.host(),
                     "' is not on this host '", LocalHostId(), "'"));
  }
  if (handle.pid() <= 0 || handle.fd() < 0 || handle.size() == 0 ||
      handle.name().empty()) {
    return absl::InvalidArgumentError("malformed shared region handle");
  }
  if (absl::Status s = CheckRegionBudget(); !s.ok()) return s;
  const std::string path =
      absl::StrCat("/proc/", handle.pid(), "/fd/", handle.fd());
  // Look before opening: a stale descriptor number may now name a pipe or
  // a device, whose open could block or have effects.
  struct stat target {};
  if (::stat(path.c_str(), &target) != 0) {
    return ErrnoStatus(errno, absl::StrCat("looking up ", path));
  }
  if (!S_ISREG(target.st_mode) ||
      static_cast<uint64_t>(target.st_dev) != handle.device() ||
      static_cast<uint64_t>(target.st_ino) != handle.inode()) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " is not shared region ", handle.name(), ": another file"));
  }
  const int fd =
      ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("opening ", path));
  auto refuse = [&](const std::string& why) {
    ::close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is not shared region ", handle.name(), ": ",
                     why));
  };
  struct stat st {};
  if (::fstat(fd, &st) != 0) return refuse(std::strerror(errno));
  if (!S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_dev) !=
                                  handle.device() ||
      static_cast<uint64_t>(st.st_ino) != handle.inode()) {
    return refuse("another file");
  }
  if (static_cast<uint64_t>(st.st_size) != handle.size()) {
    return refuse(absl::StrCat("size ", st.st_size, ", expected ",
                               handle.size()));
  }
  // The memfd's name, as /proc shows it: "/memfd:NAME (deleted)" (a memfd
  // has no directory entry). A name that itself ends in " (deleted)" must
  // not pass for the shorter one whose link that is.
  const std::string link = LinkOf(fd);
  const std::string expected = absl::StrCat("/memfd:", handle.name());
  if (link != expected + " (deleted)" &&
      (link != expected || absl::EndsWith(handle.name(), " (deleted)"))) {
    return refuse(absl::StrCat("it is '", link, "'"));
  }
  // Without these seals the holder could shrink the file under our mapping
  // and reads past its end would raise SIGBUS.
  const int seals = ::fcntl(fd, F_GET_SEALS);
  const int needed = F_SEAL_SHRINK | F_SEAL_GROW;
  if (seals < 0 || (seals & needed) != needed) return refuse("not sealed");
  const size_t size = static_cast<size_t>(handle.size());
  void* data =
      ::mmap(nullptr, size, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (data == MAP_FAILED) {
    const int error = errno;
    ::close(fd);
    return ErrnoStatus(error, absl::StrCat("mapping ", path));
  }
  return std::unique_ptr<SharedRegion>(
      new SharedRegion(fd, static_cast<char*>(data), size, handle.name(),
                       st.st_dev, st.st_ino, /*writable=*/false));
}

}  // namespace weft::rpc
