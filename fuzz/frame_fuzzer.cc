// Copyright 2026 The weft Authors.
//
// Fuzzes frame decoding, the bytes a peer sends to the scheduler's frame
// port, at both layers:
//   - FrameDecoder (rpc/frame_codec.h) fed the bytes in pieces of fuzzed
//     sizes, walking frames with Peek() and consuming them in batches;
//   - FrameStream (rpc/frame_stream.h) reading through a real socket (a
//     socketpair) on an event loop, as the scheduler reads workers: the
//     frames handler gets WorkerMessage frames, the closed handler the end.
// Both run under a fuzzed read limit and are checked against a plain
// reference decoder of the format (4-byte little-endian length, then that
// many bytes of protobuf):
//   - they produce exactly the frames the reference finds, in order;
//   - a frame over the limit is refused before its bytes arrive (the
//     decoder says kTooLarge; the stream ends with INVALID_ARGUMENT, even
//     when the peer closed right after the header);
//   - the end of the bytes (mid-frame or not) is the peer closing
//     (UNAVAILABLE, closed_by_peer()).
// Frames that do not parse are the reader's business (the scheduler drops
// that peer); here each frame is compared byte for byte.
//
// Input: a byte choosing the read limit, up to 4 piece sizes (taken from the
// front of the input), and the rest as the byte stream.

#include <fuzzer/FuzzedDataProvider.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "fuzz/fuzz_check.h"
#include "rpc/event_loop.h"
#include "rpc/frame_codec.h"
#include "rpc/frame_stream.h"

namespace weft::rpc {
namespace {

// What the reference decoder makes of a whole byte stream.
struct Expected {
  std::vector<std::string> frames;
  bool too_large = false;  // else the stream just ends (the peer closed)
};

Expected Decode(const std::string& bytes, size_t limit) {
  Expected out;
  size_t at = 0;
  while (bytes.size() - at >= kFrameHeaderBytes) {
    size_t size = 0;
    for (size_t i = 0; i < kFrameHeaderBytes; ++i) {
      size |= size_t{static_cast<uint8_t>(bytes[at + i])} << (8 * i);
    }
    if (size > limit) {
      out.too_large = true;
      return out;
    }
    if (bytes.size() - at - kFrameHeaderBytes < size) break;  // cut off
    out.frames.push_back(bytes.substr(at + kFrameHeaderBytes, size));
    at += kFrameHeaderBytes + size;
  }
  return out;
}

// The decoder alone: pieces in, frames out in batches of up to `batch`.
void CheckDecoder(const std::string& bytes, const std::vector<size_t>& pieces,
                  size_t limit, size_t batch, const Expected& expected) {
  FrameDecoder decoder;
  size_t got = 0;
  size_t sent = 0;
  size_t piece = 0;
  bool too_large = false;
  while (!too_large) {
    // Walk up to `batch` frames, then consume them together.
    size_t offset = 0;
    size_t walked = 0;
    while (walked < batch) {
      std::string_view frame;
      size_t next = 0;
      const FrameDecoder::Result r =
          decoder.Peek(offset, limit, &frame, &next);
      if (r == FrameDecoder::Result::kTooLarge) {
        too_large = true;
        break;
      }
      if (r == FrameDecoder::Result::kNeedMore) break;
      FUZZ_CHECK(got < expected.frames.size());
      FUZZ_CHECK(frame == expected.frames[got]);
      ++got;
      ++walked;
      offset = next;
    }
    if (offset > 0) decoder.Consume(offset);
    if (too_large || sent == bytes.size()) {
      if (walked == batch && !too_large) continue;  // more may be buffered
      break;
    }
    // Feed the next piece (the rest at once when the pieces run out).
    const size_t want = piece < pieces.size() ? pieces[piece++]
                                              : bytes.size() - sent;
    const absl::Span<char> room = decoder.Room();
    FUZZ_CHECK(room.size() >= 1);
    const size_t n = std::min({want, room.size(), bytes.size() - sent});
    std::memcpy(room.data(), bytes.data() + sent, n);
    decoder.Commit(n);
    sent += n;
  }
  FUZZ_CHECK(got == expected.frames.size());
  FUZZ_CHECK(too_large == expected.too_large);
}

// The stream on an event loop, reading what a peer sends in pieces.
void CheckStream(const std::string& bytes, const std::vector<size_t>& pieces,
                 size_t limit, const Expected& expected) {
  int fds[2];
  FUZZ_CHECK(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  std::shared_ptr<FrameStream> stream =
      FrameStream::Make(fds[0], EventLoop::Shared());  // owns fds[0]
  stream->set_read_limit(limit);
  const int peer = fds[1];

  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> frames;
  bool closed = false;
  absl::Status why;
  stream->StartReading(
      [&](absl::Span<const std::string_view> batch) {
        std::lock_guard<std::mutex> lock(mu);
        for (std::string_view f : batch) frames.emplace_back(f);
        return batch.size();
      },
      [&](const absl::Status& status) {
        std::lock_guard<std::mutex> lock(mu);
        why = status;
        closed = true;
        cv.notify_all();
      });

  size_t sent = 0;
  for (size_t piece : pieces) {
    if (sent == bytes.size()) break;
    const size_t n = std::min(piece, bytes.size() - sent);
    // The socket buffer takes an input of libFuzzer's sizes whole; a
    // refused send means the stream already ended (a frame over the limit).
    if (::send(peer, bytes.data() + sent, n, MSG_NOSIGNAL) !=
        static_cast<ssize_t>(n)) {
      break;
    }
    sent += n;
  }
  if (sent < bytes.size()) {
    (void)::send(peer, bytes.data() + sent, bytes.size() - sent,
                 MSG_NOSIGNAL);
  }
  ::shutdown(peer, SHUT_WR);
  {
    std::unique_lock<std::mutex> lock(mu);
    FUZZ_CHECK(cv.wait_for(lock, std::chrono::seconds(30),
                           [&] { return closed; }));
    FUZZ_CHECK(frames == expected.frames);
    if (expected.too_large) {
      // (The peer may also have closed by then; the frame is the error.)
      FUZZ_CHECK(why.code() == absl::StatusCode::kInvalidArgument);
    } else {
      FUZZ_CHECK(why.code() == absl::StatusCode::kUnavailable);
      FUZZ_CHECK(stream->closed_by_peer());
    }
  }
  stream->Shutdown();
  stream.reset();
  ::close(peer);
}

void Run(FuzzedDataProvider& in) {
  static constexpr size_t kLimits[] = {0, 5, 64, 4096, kMaxFrameBytes};
  const size_t limit = kLimits[in.ConsumeIntegralInRange<size_t>(0, 4)];
  const size_t batch = in.ConsumeIntegralInRange<size_t>(1, 8);
  std::vector<size_t> pieces;
  const int npieces = in.ConsumeIntegralInRange(0, 4);
  for (int i = 0; i < npieces; ++i) {
    pieces.push_back(in.ConsumeIntegralInRange<size_t>(1, 2048));
  }
  const std::string bytes = in.ConsumeRemainingBytesAsString();
  const Expected expected = Decode(bytes, limit);
  CheckDecoder(bytes, pieces, limit, batch, expected);
  CheckStream(bytes, pieces, limit, expected);
}

}  // namespace
}  // namespace weft::rpc

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  weft::rpc::Run(in);
  return 0;
}
