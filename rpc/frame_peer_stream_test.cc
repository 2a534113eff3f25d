// Copyright 2026 The weft Authors.
//
// FramePeerStream: messages parsed into its arena arrive whole and in
// order, batch after batch (the arena is reset between them), large ones
// included; a frame that is not a valid message ends the stream with
// DataLoss after what came before it.

#include "rpc/frame_peer_stream.h"

#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "rpc/weft.pb.h"

namespace weft::rpc {
namespace {

EventLoop& Loop() {
  static EventLoop* loop = new EventLoop(2, "test-loop");
  return *loop;
}

using WorkerEnd = FramePeerStream<WorkerMessage, SchedulerToWorker>;

// A worker's end of a socket pair as a peer stream; the scheduler's end as
// a raw descriptor, for writing frames by hand.
std::unique_ptr<WorkerEnd> StreamAndRaw(int* raw) {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  *raw = fds[0];
  return std::make_unique<WorkerEnd>(FrameStream::Make(fds[1], Loop()));
}

void WriteFrame(int fd, const std::string& body) {
  unsigned char header[4];
  const auto size = static_cast<uint32_t>(body.size());
  for (int i = 0; i < 4; ++i) {
    header[i] = static_cast<unsigned char>(size >> (8 * i));
  }
  std::string frame(reinterpret_cast<const char*>(header), 4);
  frame += body;
  size_t done = 0;
  while (done < frame.size()) {
    const ssize_t n = ::write(fd, frame.data() + done, frame.size() - done);
    ASSERT_GT(n, 0);
    done += static_cast<size_t>(n);
  }
}

// An assignment of task `id` whose name, function and argument carry
// `payload` bytes: singular submessages and strings, what the arena holds.
SchedulerToWorker Assign(uint64_t id, size_t payload) {
  SchedulerToWorker m;
  Assignment* a = m.add_assign();
  TaskDef* t = a->mutable_task();
  t->set_id(id);
  t->set_name("task-" + std::to_string(id));
  t->set_function(std::string(payload, static_cast<char>('a' + id % 26)));
  t->add_args(std::string(payload / 2 + 1, static_cast<char>('A' + id % 26)));
  a->add_deps()->set_id(id + 1);
  return m;
}

// What the handler saw, copied out during its call.
struct Seen {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<SchedulerToWorker> messages;
  size_t calls = 0;
  std::optional<absl::Status> closed;

  bool WaitFor(size_t n) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(30),
                       [&] { return messages.size() >= n || closed; });
  }
  bool WaitClosed() {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(30),
                       [&] { return closed.has_value(); });
  }
};

void Serve(WorkerEnd& stream, Seen& seen) {
  stream.Serve(
      [&seen](absl::Span<const SchedulerToWorker* const> messages) {
        std::lock_guard<std::mutex> lock(seen.mu);
        ++seen.calls;
        for (const SchedulerToWorker* m : messages) {
          seen.messages.push_back(*m);
        }
        seen.cv.notify_all();
      },
      [&seen](const absl::Status& why) {
        std::lock_guard<std::mutex> lock(seen.mu);
        seen.closed = why;
        seen.cv.notify_all();
      });
}

TEST(FramePeerStreamTest, BatchesArriveWholeAcrossArenaResets) {
  int raw = -1;
  std::unique_ptr<WorkerEnd> stream = StreamAndRaw(&raw);
  // Small ones written before serving starts, so that the first call gets
  // many; then large ones (each bigger than the arena's biggest block) and
  // small ones between, from a thread, as the socket drains.
  std::vector<SchedulerToWorker> sent;
  for (uint64_t id = 1; id <= 100; ++id) {
    sent.push_back(Assign(id, id % 40));
    WriteFrame(raw, sent.back().SerializeAsString());
  }
  for (uint64_t id = 101; id <= 300; ++id) {
    sent.push_back(Assign(id, id % 50 == 0 ? (size_t{3} << 20) : id % 13));
  }
  Seen seen;
  Serve(*stream, seen);
  std::thread writer([&] {
    for (size_t i = 100; i < sent.size(); ++i) {
      WriteFrame(raw, sent[i].SerializeAsString());
    }
  });
  const bool all = seen.WaitFor(sent.size());
  writer.join();
  ASSERT_TRUE(all);
  std::lock_guard<std::mutex> lock(seen.mu);
  EXPECT_FALSE(seen.closed.has_value());
  ASSERT_EQ(seen.messages.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(seen.messages[i].SerializeAsString(), sent[i].SerializeAsString())
        << "message " << i;
  }
  EXPECT_GE(seen.calls, 2u);
  EXPECT_LT(seen.calls, sent.size());  // some came several to a call
  ::close(raw);
}

TEST(FramePeerStreamTest, BadFrameEndsTheStreamAfterWhatCameBefore) {
  int raw = -1;
  std::unique_ptr<WorkerEnd> stream = StreamAndRaw(&raw);
  WriteFrame(raw, Assign(1, 5).SerializeAsString());
  WriteFrame(raw, Assign(2, 5).SerializeAsString());
  WriteFrame(raw, std::string("\xff\xff\xff\xff", 4));  // not a message
  WriteFrame(raw, Assign(3, 5).SerializeAsString());    // never delivered
  Seen seen;
  Serve(*stream, seen);
  ASSERT_TRUE(seen.WaitClosed());
  std::lock_guard<std::mutex> lock(seen.mu);
  ASSERT_EQ(seen.messages.size(), 2u);
  EXPECT_EQ(seen.messages[0].assign(0).task().id(), 1u);
  EXPECT_EQ(seen.messages[1].assign(0).task().id(), 2u);
  EXPECT_TRUE(absl::IsDataLoss(*seen.closed)) << *seen.closed;
  EXPECT_NE(
      seen.closed->message().find("not a valid weft.rpc.SchedulerToWorker"),
      std::string::npos)
      << *seen.closed;
  EXPECT_TRUE(absl::IsDataLoss(stream->status()));
  ::close(raw);
}

}  // namespace
}  // namespace weft::rpc
