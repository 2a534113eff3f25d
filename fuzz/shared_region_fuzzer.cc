// Copyright 2026 The weft Authors.
//
// Fuzzes SharedRegion::Open (rpc/shared_region.h), the validation of a
// SharedHandle that another process sent to describe its memfd. The process
// holds a set of descriptors: two sealed regions (made by
// SharedRegion::Create, the second one's memfd renamed to the first's name
// so that only the inode tells them apart), an unsealed memfd, a pipe, a
// regular file, /dev/null, a directory and a socket. Each input builds a
// handle from pieces of theirs (host, pid, descriptor, device, inode, name,
// size), each kept, swapped for another's, nudged or replaced by fuzzed
// values. Checks:
//   - Open never crashes, blocks or leaks (ASan and LeakSanitizer);
//   - it succeeds only for a handle that describes one of the sealed
//     regions exactly (host, device, inode, name and size), and then maps
//     that region's bytes;
//   - the handle a region gives out (handle()) always opens;
//   - it fails with one of the documented codes.
// Choices read 0 for the faithful value (an input that runs out reads as
// zeros). The pid is this process's, 1, the parent's, or one no process has, never
// another live process's: Open only looks at /proc/<pid>/fd.

#include <fcntl.h>
#include <fuzzer/FuzzedDataProvider.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "fuzz/fuzz_check.h"
#include "rpc/shared_region.h"
#include "rpc/weft.pb.h"

namespace weft::rpc {
namespace {

// One descriptor of this process, as a handle would describe it.
struct Target {
  int fd = -1;
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t size = 0;
  std::string name;
  bool region = false;  // a sealed region: the only kind Open accepts
  char first = 0;       // its first and last byte, when a region
  char last = 0;
};

Target Describe(int fd, std::string name) {
  struct stat st {};
  FUZZ_CHECK(::fstat(fd, &st) == 0);
  Target t;
  t.fd = fd;
  t.device = static_cast<uint64_t>(st.st_dev);
  t.inode = static_cast<uint64_t>(st.st_ino);
  t.size = static_cast<uint64_t>(st.st_size);
  t.name = std::move(name);
  return t;
}

class Fixture {
 public:
  Fixture() {
    for (size_t size : {size_t{4096} * 3 + 17, size_t{8192}}) {
      absl::StatusOr<std::unique_ptr<SharedRegion>> r =
          SharedRegion::Create(size);
      FUZZ_CHECK(r.ok());
      for (size_t i = 0; i < size; ++i) {
        (*r)->mutable_data()[i] = static_cast<char>(i * 7 + size);
      }
      FUZZ_CHECK((*r)->Seal().ok());
      const SharedHandle h = (*r)->handle();
      Target t = Describe(h.fd(), h.name());
      t.region = true;
      t.first = (*r)->data()[0];
      t.last = (*r)->data()[size - 1];
      targets_.push_back(t);
      regions_.push_back(*std::move(r));
    }
    // A look-alike: a sealed memfd of the first region's name and size.
    const Target& first = targets_[0];
    const int twin = ::memfd_create(first.name.c_str(),
                                    MFD_CLOEXEC | MFD_ALLOW_SEALING);
    FUZZ_CHECK(twin >= 0);
    FUZZ_CHECK(::ftruncate(twin, static_cast<off_t>(first.size)) == 0);
    FUZZ_CHECK(::fcntl(twin, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
                                              F_SEAL_WRITE | F_SEAL_SEAL) == 0);
    Target t = Describe(twin, first.name);
    t.region = true;  // it is a sealed memfd of that name: as good
    targets_.push_back(t);
    // Not regions.
    const int unsealed =
        ::memfd_create("weft-unsealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    FUZZ_CHECK(unsealed >= 0 && ::ftruncate(unsealed, 4096) == 0);
    targets_.push_back(Describe(unsealed, "weft-unsealed"));
    int pipe_fds[2];
    FUZZ_CHECK(::pipe2(pipe_fds, O_CLOEXEC) == 0);
    targets_.push_back(Describe(pipe_fds[0], "pipe"));
    targets_.push_back(Describe(pipe_fds[1], "pipe"));
    char path[] = "/tmp/weft-shared-fuzz-XXXXXX";
    const int file = ::mkstemp(path);
    FUZZ_CHECK(file >= 0 && ::ftruncate(file, 4096) == 0);
    ::unlink(path);
    targets_.push_back(Describe(file, path));
    targets_.push_back(
        Describe(::open("/dev/null", O_RDONLY | O_CLOEXEC), "null"));
    targets_.push_back(
        Describe(::open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC), "tmp"));
    int sockets[2];
    FUZZ_CHECK(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
                            sockets) == 0);
    targets_.push_back(Describe(sockets[0], "socket"));
  }

  const std::vector<Target>& targets() const { return targets_; }
  const std::vector<std::unique_ptr<SharedRegion>>& regions() const {
    return regions_;
  }

 private:
  std::vector<std::unique_ptr<SharedRegion>> regions_;
  std::vector<Target> targets_;
};

Fixture& TheFixture() {
  static Fixture* fixture = new Fixture();
  return *fixture;
}

// A fuzzed variation of `v`: kept (most often), nudged, or replaced.
uint64_t Vary(FuzzedDataProvider& in, uint64_t v) {
  switch (in.ConsumeIntegralInRange(0, 7)) {
    case 7:
      return v + 1;
    case 6:
      return v - 1;
    case 5:
      return in.ConsumeIntegral<uint64_t>();
    default:
      return v;
  }
}

void Run(FuzzedDataProvider& in) {
  const Fixture& fixture = TheFixture();
  const std::vector<Target>& targets = fixture.targets();
  auto pick = [&] {
    return targets[in.ConsumeIntegralInRange<size_t>(0, targets.size() - 1)];
  };
  // The descriptor the handle names, and the file it claims to be.
  const Target at = pick();
  const Target claimed = in.ConsumeIntegralInRange(0, 3) == 3 ? pick() : at;

  SharedHandle h;
  switch (in.ConsumeIntegralInRange(0, 15)) {
    case 15:
      h.set_host("");
      break;
    case 14:
      h.set_host(in.ConsumeRandomLengthString(64));
      break;
    case 13:
      h.set_host(LocalHostId() + "x");
      break;
    default:
      h.set_host(LocalHostId());
  }
  switch (in.ConsumeIntegralInRange(0, 15)) {
    case 15:
      h.set_pid(1);
      break;
    case 14:
      h.set_pid(::getppid());
      break;
    case 13:
      h.set_pid(in.ConsumeBool()
                    ? 0
                    : -static_cast<int64_t>(in.ConsumeIntegral<uint32_t>()));
      break;
    case 12:  // beyond any pid_max
      h.set_pid((int64_t{1} << 23) + in.ConsumeIntegral<uint32_t>());
      break;
    default:
      h.set_pid(::getpid());
  }
  switch (in.ConsumeIntegralInRange(0, 15)) {
    case 15:
      h.set_fd(in.ConsumeIntegral<int32_t>());
      break;
    case 14:
      h.set_fd(at.fd + in.ConsumeIntegralInRange(-2, 2));
      break;
    default:
      h.set_fd(at.fd);
  }
  h.set_device(Vary(in, claimed.device));
  h.set_inode(Vary(in, claimed.inode));
  switch (in.ConsumeIntegralInRange(0, 15)) {
    case 15:
      h.set_name("");
      break;
    case 14:
      h.set_name(in.ConsumeRandomLengthString(300));
      break;
    case 13:
      h.set_name(claimed.name + " (deleted)");
      break;
    case 12:
      h.set_name(claimed.name.substr(
          0, in.ConsumeIntegralInRange<size_t>(0, claimed.name.size())));
      break;
    case 11:
      h.set_name("/memfd:" + claimed.name);
      break;
    default:
      h.set_name(claimed.name);
  }
  h.set_size(in.ConsumeIntegralInRange(0, 3) == 3
                 ? Vary(in, claimed.size)
                 : claimed.size);

  const bool exact = h.host() == LocalHostId() && h.pid() == ::getpid() &&
                     h.fd() == at.fd && at.region &&
                     h.device() == at.device && h.inode() == at.inode &&
                     h.name() == at.name && h.size() == at.size;
  absl::StatusOr<std::unique_ptr<SharedRegion>> opened = SharedRegion::Open(h);
  if (exact) FUZZ_CHECK(opened.ok());
  if (!opened.ok()) {
    const absl::StatusCode code = opened.status().code();
    FUZZ_CHECK(code == absl::StatusCode::kFailedPrecondition ||
               code == absl::StatusCode::kNotFound ||
               code == absl::StatusCode::kPermissionDenied ||
               code == absl::StatusCode::kResourceExhausted ||
               code == absl::StatusCode::kInvalidArgument);
    return;
  }
  // Accepted: it must be one of the regions, described exactly.
  const Target* match = nullptr;
  for (const Target& t : targets) {
    if (t.region && t.device == h.device() && t.inode == h.inode()) match = &t;
  }
  FUZZ_CHECK(match != nullptr);
  FUZZ_CHECK(h.host() == LocalHostId());
  FUZZ_CHECK(h.name() == match->name);
  FUZZ_CHECK(h.size() == match->size);
  const SharedRegion& r = **opened;
  FUZZ_CHECK(r.size() == match->size && !r.writable());
  if (match->fd == fixture.targets()[0].fd ||
      match->fd == fixture.targets()[1].fd) {
    FUZZ_CHECK(r.data()[0] == match->first);
    FUZZ_CHECK(r.data()[r.size() - 1] == match->last);
  }
  // What it gives out opens too.
  FUZZ_CHECK(SharedRegion::Open(r.handle()).ok());
}

}  // namespace
}  // namespace weft::rpc

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  weft::rpc::Run(in);
  return 0;
}
