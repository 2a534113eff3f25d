// Copyright 2026 The weft Authors.
//
// Fuzzes FrameStream's decoding (rpc/frame_stream.h): the bytes a peer
// sends, in pieces of fuzzed sizes, through a real socket (a socketpair)
// into FrameStream::Read of the message the scheduler reads from workers
// (WorkerMessage), under a fuzzed read limit. Checks the stream against a
// plain reference decoder of the format (4-byte little-endian length, then
// that many bytes of protobuf):
//   - Read returns exactly the messages the reference finds, in order;
//   - a non-blocking Read (deadline passed) fails only while no whole frame
//     is buffered (HasBufferedFrame), and leaves the stream usable;
//   - the stream ends as the reference says: a frame over the limit is
//     INVALID_ARGUMENT, one that does not parse is DATA_LOSS, and the end of
//     the bytes (mid-frame or not) is the peer closing (UNAVAILABLE,
//     closed_by_peer()).
//
// Input: a byte choosing the read limit, up to 4 piece sizes (taken from the
// end of the input), and the rest as the byte stream.

#include <fuzzer/FuzzedDataProvider.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "rpc/frame_stream.h"
#include "rpc/weft.pb.h"

namespace weft::rpc {
namespace {

#define FUZZ_CHECK(cond)                                                   \
  do {                                                                     \
    if (!(cond)) {                                                         \
      std::fprintf(stderr, "frame_fuzzer: check failed at line %d: %s\n",  \
                   __LINE__, #cond);                                       \
      std::abort();                                                        \
    }                                                                      \
  } while (0)

// What the reference decoder makes of a whole byte stream.
struct Expected {
  std::vector<std::string> messages;  // each re-serialized
  absl::StatusCode end = absl::StatusCode::kUnavailable;
};

Expected Decode(const std::string& bytes, size_t limit) {
  Expected out;
  size_t at = 0;
  while (bytes.size() - at >= 4) {
    size_t size = 0;
    for (size_t i = 0; i < 4; ++i) {
      size |= size_t{static_cast<uint8_t>(bytes[at + i])} << (8 * i);
    }
    if (size > limit) {
      out.end = absl::StatusCode::kInvalidArgument;
      return out;
    }
    if (bytes.size() - at - 4 < size) break;  // cut off: the peer closed
    WorkerMessage m;
    if (!m.ParseFromArray(bytes.data() + at + 4, static_cast<int>(size))) {
      out.end = absl::StatusCode::kDataLoss;
      return out;
    }
    out.messages.push_back(m.SerializeAsString());
    at += 4 + size;
  }
  return out;
}

void Run(FuzzedDataProvider& in) {
  static constexpr size_t kLimits[] = {0, 5, 64, 4096, kMaxFrameBytes};
  const size_t limit = kLimits[in.ConsumeIntegralInRange<size_t>(0, 4)];
  std::vector<size_t> pieces;
  const int npieces = in.ConsumeIntegralInRange(0, 4);
  for (int i = 0; i < npieces; ++i) {
    pieces.push_back(in.ConsumeIntegralInRange<size_t>(1, 2048));
  }
  const std::string bytes = in.ConsumeRemainingBytesAsString();
  const Expected expected = Decode(bytes, limit);

  int fds[2];
  FUZZ_CHECK(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  FrameStream stream(fds[0]);  // owns fds[0]
  stream.set_read_limit(limit);
  const int peer = fds[1];

  size_t got = 0;
  bool ended = false;
  auto check_message = [&](const WorkerMessage& m) {
    FUZZ_CHECK(got < expected.messages.size());
    FUZZ_CHECK(m.SerializeAsString() == expected.messages[got]);
    ++got;
  };
  // Reads what has arrived without waiting.
  auto drain = [&] {
    while (!ended) {
      const bool buffered = stream.HasBufferedFrame();
      WorkerMessage m;
      if (stream.Read(m, absl::InfinitePast())) {
        check_message(m);
        continue;
      }
      if (stream.status().ok()) {
        FUZZ_CHECK(!buffered);  // only waiting for more bytes gives up
        return;
      }
      ended = true;
    }
  };

  size_t sent = 0;
  for (size_t piece : pieces) {
    if (ended || sent == bytes.size()) break;
    const size_t n = std::min(piece, bytes.size() - sent);
    // The socket buffer takes an input of libFuzzer's sizes whole.
    FUZZ_CHECK(::send(peer, bytes.data() + sent, n, MSG_NOSIGNAL) ==
               static_cast<ssize_t>(n));
    sent += n;
    drain();
  }
  if (!ended && sent < bytes.size()) {
    const size_t n = bytes.size() - sent;
    FUZZ_CHECK(::send(peer, bytes.data() + sent, n, MSG_NOSIGNAL) ==
               static_cast<ssize_t>(n));
  }
  ::shutdown(peer, SHUT_WR);
  while (!ended) {
    WorkerMessage m;
    if (!stream.Read(m, absl::Now() + absl::Seconds(10))) break;
    check_message(m);
  }
  FUZZ_CHECK(got == expected.messages.size());
  const absl::Status status = stream.status();
  FUZZ_CHECK(status.code() == expected.end);
  FUZZ_CHECK(stream.closed_by_peer() ==
             (expected.end == absl::StatusCode::kUnavailable));
  ::close(peer);
}

}  // namespace
}  // namespace weft::rpc

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  weft::rpc::Run(in);
  return 0;
}
