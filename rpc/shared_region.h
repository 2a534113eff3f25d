// Copyright 2026 The weft Authors.
//
// SharedRegion: bytes in shared memory that other processes on the same
// host map without a copy. Workers keep large objects in them, and a
// same-host peer or client maps a holder's region instead of streaming the
// bytes over gRPC (docs/cluster.md, "Same-host transfers").
//
// A region is a memfd: an anonymous file in the kernel's internal tmpfs,
// nothing under /dev/shm. Its memory is freed when the last descriptor and
// mapping of it close, so a process that dies, even by SIGKILL, leaks
// nothing, and a peer that mapped it keeps the bytes after the holder dies.
// The writer fills the region, then seals it (no shrinking, growing or
// further writing) and keeps it mapped read-only. A peer opens it as
// /proc/<pid>/fd/<fd> of the holder, which Linux allows between processes
// of the same user (unless one is non-dumpable), and checks that the file
// it got is the one described (device, inode, memfd name, size, seals)
// before mapping it.

#ifndef WEFT_RPC_SHARED_REGION_H_
#define WEFT_RPC_SHARED_REGION_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rpc/weft.pb.h"

namespace weft::rpc {

// Objects at least this large live in shared memory on workers; smaller
// ones are not worth a descriptor and a mapping.
inline constexpr size_t kSharedMinBytes = size_t{1} << 20;

// Whether this process puts objects in shared memory and maps its peers':
// true unless the environment variable WEFT_SHARED_MEMORY is "0", "false",
// "off" or "no" when first asked. Workers inherit it from a LocalCluster's
// program. Thread-safe.
bool SharedMemoryEnabled();

// This host as the kernel instance and process namespace that /proc paths
// refer to: the boot id, the host name and the pid namespace. Two processes
// with the same id can open each other's regions (permissions allowing);
// different ids mean different hosts (or containers). Empty if the boot id
// cannot be read, which never matches. Computed once; thread-safe.
const std::string& LocalHostId();

// Raises this process's soft limit on open descriptors to its hard limit,
// since each region holds one. Returns the soft limit in force afterwards.
uint64_t RaiseDescriptorLimit();

// One region, mapped into this process. Not copyable; thread-safe for
// concurrent readers once sealed (or opened).
class SharedRegion {
 public:
  // A writable region of `size` bytes (size > 0), zero-filled, its pages
  // allocated up front so that running out of memory is an error here, not
  // a fault later. Errors: InvalidArgument (size 0), ResourceExhausted (no
  // memory, or too many regions for this process's descriptor limit),
  // Unavailable (no memfd support).
  static absl::StatusOr<std::unique_ptr<SharedRegion>> Create(size_t size);
  // A writable region of `size` bytes (size > 0), zero-filled, with no
  // memory allocated yet: the writer commits each part before writing it
  // (Commit), for bytes that arrive over time from a peer that may never
  // send them all. Errors as Create's, but no memory is used here.
  static absl::StatusOr<std::unique_ptr<SharedRegion>> Reserve(size_t size);

  // Maps read-only the sealed region a process on this host described in
  // `handle` (see handle()), with its page tables filled in up front.
  // Never crashes on a bad handle: FailedPrecondition when the handle is
  // from another host or names a file that is not that region (a recycled
  // pid or descriptor), NotFound when the holder or its descriptor is gone,
  // PermissionDenied when /proc refuses, ResourceExhausted when out of
  // descriptors or address space, InvalidArgument for a malformed handle.
  static absl::StatusOr<std::unique_ptr<SharedRegion>> Open(
      const SharedHandle& handle);

  SharedRegion(const SharedRegion&) = delete;
  SharedRegion& operator=(const SharedRegion&) = delete;
  // Unmaps the region and closes its descriptor.
  ~SharedRegion();

  // Makes the region immutable: seals it against shrinking, growing and
  // new writable mappings, and maps this process's view read-only. Errors:
  // Internal if the kernel refuses (the region is then unusable for peers).
  // REQUIRES: writable() (made by Create and not sealed yet).
  absl::Status Seal();

  // Allocates the memory of bytes [committed(), end) (end capped at size())
  // and maps it in, so that writing them cannot fault for want of memory.
  // Does nothing if end <= committed(). Errors: ResourceExhausted (no
  // memory). REQUIRES: writable(). Not thread-safe (the writer's).
  absl::Status Commit(size_t end);
  // The bytes [0, committed()) have memory: all of them for a region made
  // by Create or opened, a prefix for one made by Reserve.
  size_t committed() const { return committed_; }

  // The bytes. mutable_data() REQUIRES writable().
  const char* data() const { return data_; }
  char* mutable_data() { return data_; }
  size_t size() const { return size_; }
  bool writable() const { return writable_; }
  // The memfd holding the bytes, owned by this object (closed by its
  // destructor); for reading the bytes without mapping them, e.g. sendfile
  // from a sealed region, whose bytes cannot change.
  int fd() const { return fd_; }

  // How a process on this host opens the region: this process's pid and
  // descriptor, the file's identity and size. Valid while this object
  // lives. REQUIRES: !writable().
  SharedHandle handle() const;

  // Regions mapped by this process right now.
  static int64_t LiveCount();

 private:
  SharedRegion(int fd, char* data, size_t size, std::string name,
               uint64_t device, uint64_t inode, bool writable);
  // Create (commit_now) and Reserve.
  static absl::StatusOr<std::unique_ptr<SharedRegion>> Make(size_t size,
                                                            bool commit_now);

  const int fd_;
  char* const data_;
  const size_t size_;
  const std::string name_;  // the memfd's name
  const uint64_t device_;   // st_dev of the file
  const uint64_t inode_;    // st_ino of the file
  bool writable_;
  size_t committed_;  // see committed()
};

}  // namespace weft::rpc

#endif  // WEFT_RPC_SHARED_REGION_H_
