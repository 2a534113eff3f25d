// Copyright 2026 The weft Authors.

#include "rpc/shared_region.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace weft::rpc {
namespace {

constexpr size_t kSize = 3 * 4096 + 17;  // not a whole number of pages

std::unique_ptr<SharedRegion> MakeSealed(size_t size, char fill) {
  absl::StatusOr<std::unique_ptr<SharedRegion>> region =
      SharedRegion::Create(size);
  EXPECT_TRUE(region.ok()) << region.status();
  if (!region.ok()) return nullptr;
  std::memset((*region)->mutable_data(), fill, size);
  EXPECT_TRUE((*region)->Seal().ok());
  return *std::move(region);
}

TEST(SharedRegionTest, LocalHostIdNamesBootHostAndPidNamespace) {
  const std::string& id = LocalHostId();
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(&id, &LocalHostId());  // computed once
  EXPECT_NE(id.find("pid:["), std::string::npos) << id;
}

TEST(SharedRegionTest, CreateWriteSealOpen) {
  const int64_t live = SharedRegion::LiveCount();
  std::unique_ptr<SharedRegion> region = MakeSealed(kSize, 'x');
  ASSERT_NE(region, nullptr);
  EXPECT_FALSE(region->writable());
  EXPECT_EQ(SharedRegion::LiveCount(), live + 1);
  const SharedHandle handle = region->handle();
  EXPECT_EQ(handle.host(), LocalHostId());
  EXPECT_EQ(handle.pid(), ::getpid());
  EXPECT_EQ(handle.size(), kSize);
  EXPECT_EQ(handle.name().rfind("weft-", 0), 0u) << handle.name();

  absl::StatusOr<std::unique_ptr<SharedRegion>> peer =
      SharedRegion::Open(handle);
  ASSERT_TRUE(peer.ok()) << peer.status();
  EXPECT_EQ(SharedRegion::LiveCount(), live + 2);
  EXPECT_NE((*peer)->data(), region->data());  // its own mapping
  EXPECT_EQ((*peer)->size(), kSize);
  EXPECT_EQ(std::string((*peer)->data(), kSize), std::string(kSize, 'x'));
  // An opened region hands itself on in turn, with its own descriptor.
  const SharedHandle again = (*peer)->handle();
  EXPECT_NE(again.fd(), handle.fd());
  EXPECT_EQ(again.inode(), handle.inode());
  EXPECT_TRUE(SharedRegion::Open(again).ok());
  // The holder goes away; the peer's mapping keeps the bytes.
  region.reset();
  EXPECT_EQ((*peer)->data()[kSize - 1], 'x');
  peer->reset();
  EXPECT_EQ(SharedRegion::LiveCount(), live);
}

TEST(SharedRegionTest, SealedRegionCannotBeResizedOrWrittenThroughAnotherMapping) {
  std::unique_ptr<SharedRegion> region = MakeSealed(kSize, 'y');
  ASSERT_NE(region, nullptr);
  const std::string path = "/proc/self/fd/" + std::to_string(region->handle().fd());
  const int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  EXPECT_NE(::ftruncate(fd, 1), 0);
  EXPECT_NE(::ftruncate(fd, kSize * 2), 0);
  void* writable =
      ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  EXPECT_EQ(writable, MAP_FAILED);
  EXPECT_LT(::write(fd, "z", 1), 0);
  ::close(fd);
  EXPECT_EQ(region->data()[0], 'y');
}

// A reserved region has its size but no memory until parts are committed,
// in order; what is written reads back once sealed.
TEST(SharedRegionTest, ReserveCommitsNothingUntilAsked) {
  constexpr size_t kSize = (size_t{8} << 20) + 5;
  absl::StatusOr<std::unique_ptr<SharedRegion>> region =
      SharedRegion::Reserve(kSize);
  ASSERT_TRUE(region.ok()) << region.status();
  SharedRegion& r = **region;
  EXPECT_EQ(r.size(), kSize);
  EXPECT_EQ(r.committed(), 0u);
  ASSERT_TRUE(r.Commit(1000).ok());
  EXPECT_EQ(r.committed(), 1000u);
  ASSERT_TRUE(r.Commit(10).ok());  // behind what is committed: nothing
  EXPECT_EQ(r.committed(), 1000u);
  ASSERT_TRUE(r.Commit(kSize + 100).ok());  // capped at the size
  EXPECT_EQ(r.committed(), kSize);
  std::memset(r.mutable_data(), 'q', kSize);
  ASSERT_TRUE(r.Seal().ok());
  EXPECT_EQ(r.data()[kSize - 1], 'q');
  EXPECT_EQ((*SharedRegion::Create(3))->committed(), 3u);
  EXPECT_TRUE(absl::IsInvalidArgument(SharedRegion::Reserve(0).status()));
}

TEST(SharedRegionTest, CreateRejectsEmpty) {
  EXPECT_EQ(SharedRegion::Create(0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SharedRegionTest, OpenRefusesWhatIsNotTheRegionDescribed) {
  std::unique_ptr<SharedRegion> region = MakeSealed(kSize, 'a');
  ASSERT_NE(region, nullptr);
  const SharedHandle good = region->handle();
  auto code_of = [](const SharedHandle& h) {
    return SharedRegion::Open(h).status().code();
  };
  SharedHandle h = good;
  h.set_host("another boot id, host and namespace");
  EXPECT_EQ(code_of(h), absl::StatusCode::kFailedPrecondition);
  h = good;
  h.clear_host();
  EXPECT_EQ(code_of(h), absl::StatusCode::kFailedPrecondition);
  h = good;
  h.set_inode(good.inode() + 1);
  EXPECT_EQ(code_of(h), absl::StatusCode::kFailedPrecondition);
  h = good;
  h.set_device(good.device() + 1);
  EXPECT_EQ(code_of(h), absl::StatusCode::kFailedPrecondition);
  h = good;
  h.set_name(good.name() + "0");
  EXPECT_EQ(code_of(h), absl::StatusCode::kFailedPrecondition);
  h = good;
  h.set_name(good.name().substr(0, good.name().size() - 1));
  EXPECT_EQ(code_of(h), absl::StatusCode::kFailedPrecondition);
  // Found by fuzz/shared_region_fuzzer: /proc shows the memfd as
  // "/memfd:NAME (deleted)", and this name was taken for the region's.
  h = good;
  h.set_name(good.name() + " (deleted)");
  EXPECT_EQ(code_of(h), absl::StatusCode::kFailedPrecondition);
  h = good;
  h.set_size(good.size() + 1);
  EXPECT_EQ(code_of(h), absl::StatusCode::kFailedPrecondition);
  h = good;
  h.set_fd(0);  // a descriptor, but not a region (stdin)
  EXPECT_NE(code_of(h), absl::StatusCode::kOk);
  // A pipe with no writer: opening it for reading would block forever.
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  ::close(pipe_fds[1]);
  struct stat pipe_stat {};
  ASSERT_EQ(::fstat(pipe_fds[0], &pipe_stat), 0);
  h = good;
  h.set_fd(pipe_fds[0]);
  h.set_device(pipe_stat.st_dev);
  h.set_inode(pipe_stat.st_ino);
  EXPECT_EQ(code_of(h), absl::StatusCode::kFailedPrecondition);
  ::close(pipe_fds[0]);
  h = good;
  h.set_fd(1 << 20);  // no such descriptor
  EXPECT_EQ(code_of(h), absl::StatusCode::kNotFound);
  h = good;
  h.set_pid(0);
  EXPECT_EQ(code_of(h), absl::StatusCode::kInvalidArgument);
  h = good;
  h.set_size(0);
  EXPECT_EQ(code_of(h), absl::StatusCode::kInvalidArgument);
  // Released: the descriptor is closed (a recycled number would fail the
  // identity checks above instead).
  region.reset();
  EXPECT_NE(code_of(good), absl::StatusCode::kOk);
}

TEST(SharedRegionTest, OpenRefusesAnUnsealedFile) {
  // A memfd that looks like a region in every way but its seals.
  const int fd = ::memfd_create("weft-unsealed", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, kSize), 0);
  struct stat st {};
  ASSERT_EQ(::fstat(fd, &st), 0);
  SharedHandle h;
  h.set_host(LocalHostId());
  h.set_pid(::getpid());
  h.set_fd(fd);
  h.set_device(st.st_dev);
  h.set_inode(st.st_ino);
  h.set_name("weft-unsealed");
  h.set_size(kSize);
  absl::Status status = SharedRegion::Open(h).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_NE(status.message().find("not sealed"), std::string::npos) << status;
  ::close(fd);
}

TEST(SharedRegionTest, MappingOutlivesTheProcessThatMadeIt) {
  int to_parent[2], to_child[2];
  ASSERT_EQ(::pipe(to_parent), 0);
  ASSERT_EQ(::pipe(to_child), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The holder: makes a region, sends its handle, waits to be killed.
    absl::StatusOr<std::unique_ptr<SharedRegion>> region =
        SharedRegion::Create(kSize);
    if (!region.ok()) ::_exit(1);
    for (size_t i = 0; i < kSize; ++i) {
      (*region)->mutable_data()[i] = static_cast<char>(i % 251);
    }
    if (!(*region)->Seal().ok()) ::_exit(2);
    const std::string bytes = (*region)->handle().SerializeAsString();
    const uint32_t n = static_cast<uint32_t>(bytes.size());
    if (::write(to_parent[1], &n, sizeof(n)) != sizeof(n) ||
        ::write(to_parent[1], bytes.data(), n) != static_cast<ssize_t>(n)) {
      ::_exit(3);
    }
    char c;
    while (::read(to_child[0], &c, 1) < 0) {
    }
    ::_exit(0);
  }
  uint32_t n = 0;
  ASSERT_EQ(::read(to_parent[0], &n, sizeof(n)), static_cast<ssize_t>(sizeof(n)));
  std::string bytes(n, '\0');
  ASSERT_EQ(::read(to_parent[0], bytes.data(), n), static_cast<ssize_t>(n));
  SharedHandle handle;
  ASSERT_TRUE(handle.ParseFromString(bytes));
  EXPECT_EQ(handle.pid(), child);
  absl::StatusOr<std::unique_ptr<SharedRegion>> mapped =
      SharedRegion::Open(handle);
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  ::kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status));
  // The holder is dead; its region lives on in this mapping.
  bool intact = true;
  for (size_t i = 0; i < kSize; ++i) {
    intact &= (*mapped)->data()[i] == static_cast<char>(i % 251);
  }
  EXPECT_TRUE(intact);
  // And it cannot be opened through the dead holder any more.
  EXPECT_FALSE(SharedRegion::Open(handle).ok());
  for (int fd : {to_parent[0], to_parent[1], to_child[0], to_child[1]}) {
    ::close(fd);
  }
}

TEST(SharedRegionTest, RegionsStayWithinTheDescriptorBudget) {
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = 64;  // three quarters (48) for regions
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<std::unique_ptr<SharedRegion>> regions;
  absl::Status last;
  for (int i = 0; i < 64; ++i) {
    absl::StatusOr<std::unique_ptr<SharedRegion>> r = SharedRegion::Create(1);
    if (!r.ok()) {
      last = r.status();
      break;
    }
    regions.push_back(*std::move(r));
  }
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  EXPECT_EQ(SharedRegion::LiveCount(), 48);
  EXPECT_EQ(last.code(), absl::StatusCode::kResourceExhausted) << last;
  EXPECT_EQ(RaiseDescriptorLimit(), static_cast<uint64_t>(saved.rlim_max));
  ::setrlimit(RLIMIT_NOFILE, &saved);
}

}  // namespace
}  // namespace weft::rpc
