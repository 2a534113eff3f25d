// Copyright 2026 The weft Authors.

#include "rpc/bulk_transfer.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rpc/page_block.h"
#include "rpc/tcp_socket.h"
#include "rpc/testing/tls_files.h"
#include "rpc/tls.h"

namespace weft::rpc {
namespace {

std::string Pattern(size_t size) {
  std::string out(size, '\0');
  uint64_t x = 88172645463325252ull;
  for (char& c : out) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  return out;
}

absl::Time Soon() { return absl::Now() + absl::Seconds(30); }

// The server's count of transfers served once it reaches `n` (or after 30
// s): it counts a stripe after its last send() returned, which can be
// after the fetcher already has every byte.
uint64_t ServedOnceAtLeast(const BulkServer& server, uint64_t n) {
  const absl::Time deadline = Soon();
  while (server.transfers_served() < n && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  return server.transfers_served();
}

// A blocking connection to `server` on loopback that sends nothing (a
// stranger, or one holding a slot); -1 if it cannot connect.
int ConnectTo(const BulkServer& server) {
  absl::StatusOr<int> fd = ConnectTcp("127.0.0.1", server.port(), Soon());
  if (!fd.ok()) return -1;
  ::fcntl(*fd, F_SETFL, ::fcntl(*fd, F_GETFL) & ~O_NONBLOCK);
  return *fd;
}

// Fetches `ticket`, expecting `size` bytes, from `server` on loopback.
absl::StatusOr<Buffer> Fetch(const BulkServer& server,
                             const std::string& ticket, uint64_t size) {
  return BulkFetch("127.0.0.1", server.port(), ticket, size, Soon());
}

TEST(BulkTransferTest, OfferedBytesArriveExactly) {
  auto server = BulkServer::Start("127.0.0.1", 0);
  ASSERT_TRUE(server.ok()) << server.status();
  for (size_t size : {size_t{0}, size_t{1}, size_t{4096},
                      size_t{(8 << 20) + 3}}) {
    const std::string bytes = Pattern(size);
    const std::string ticket = (*server)->Offer(Buffer(bytes));
    absl::StatusOr<Buffer> got = Fetch(**server, ticket, size);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->view(), bytes);
  }
  EXPECT_EQ(ServedOnceAtLeast(**server, 4u), 4u);
  EXPECT_EQ((*server)->pending_offers(), 0u);
}

// Large objects land in a private PageBlock, never a shared region.
TEST(BulkTransferTest, IntoPrivateMemory) {
  auto server = BulkServer::Start("127.0.0.1", 0);
  ASSERT_TRUE(server.ok());
  const std::string bytes = Pattern(3 << 20);
  const std::string ticket = (*server)->Offer(Buffer(bytes));
  absl::StatusOr<Buffer> got = Fetch(**server, ticket, bytes.size());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->view(), bytes);
  EXPECT_EQ(got->region(), nullptr);
}

// The fetch receives into a kept block without clearing it first
// (PageBlock::CreateForOverwrite): what arrives is the new object's bytes
// alone, whatever the block held before.
TEST(BulkTransferTest, AReusedReceiveBlockHoldsOnlyTheNewBytes) {
  auto server = BulkServer::Start("127.0.0.1", 0);
  ASSERT_TRUE(server.ok());
  PageBlock::DropKept();
  const size_t size = (size_t{20} << 20) + 1;
  const std::string first = Pattern(size);
  absl::StatusOr<Buffer> got =
      Fetch(**server, (*server)->Offer(Buffer(first)), size);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->view() == first);
  const char* const block = got->data();
  got = Buffer();  // the block is kept
  ASSERT_GE(PageBlock::KeptBytes(), size);
  PageBlock::AwaitKept();  // given its huge pages, where they apply
  const std::string second(size, 'b');
  got = Fetch(**server, (*server)->Offer(Buffer(second)), size);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->data(), block);  // the same mapping, reused
  EXPECT_TRUE(got->view() == second);
}

// A ticket works once; a wrong or stale one gets nothing.
TEST(BulkTransferTest, TicketsAreOneTimeAndUnforgeable) {
  auto server = BulkServer::Start("127.0.0.1", 0);
  ASSERT_TRUE(server.ok());
  const std::string ticket = (*server)->Offer(Buffer(std::string("hello")));
  ASSERT_TRUE(Fetch(**server, ticket, 5).ok());
  EXPECT_TRUE(absl::IsNotFound(Fetch(**server, ticket, 5).status()));
  std::string forged = ticket;
  forged[0] ^= 1;
  (*server)->Offer(Buffer(std::string("other")));
  EXPECT_TRUE(absl::IsNotFound(Fetch(**server, forged, 5).status()));
}

TEST(BulkTransferTest, ExpiredOffersAreRefused) {
  BulkServer::Options options;
  options.ticket_ttl = absl::Milliseconds(1);
  auto server = BulkServer::Start("127.0.0.1", 0, options);
  ASSERT_TRUE(server.ok());
  const std::string ticket = (*server)->Offer(Buffer(std::string("late")));
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_TRUE(absl::IsNotFound(Fetch(**server, ticket, 4).status()));
  (*server)->Offer(Buffer(std::string("x")));  // drops the expired one
  EXPECT_EQ((*server)->pending_offers(), 1u);
}

// The size is checked against what the requester expects (what the
// scheduler recorded), so a holder cannot make it allocate more.
TEST(BulkTransferTest, SizeMismatchIsDataLoss) {
  auto server = BulkServer::Start("127.0.0.1", 0);
  ASSERT_TRUE(server.ok());
  for (uint64_t expected : {uint64_t{6}, uint64_t{64} << 20}) {
    const std::string ticket =
        (*server)->Offer(Buffer(std::string("12345")));
    absl::StatusOr<Buffer> got = Fetch(**server, ticket, expected);
    EXPECT_TRUE(absl::IsDataLoss(got.status())) << got.status();
  }
}

// A large object comes in stripes on parallel connections, each stripe
// once; the offer goes when all are read.
TEST(BulkTransferTest, LargeObjectsComeInStripes) {
  EXPECT_EQ(BulkStripesFor(1), 1);
  EXPECT_EQ(BulkStripesFor((uint64_t{16} << 20) - 1), 1);
  EXPECT_EQ(BulkStripesFor(uint64_t{48} << 20), 3);
  EXPECT_EQ(BulkStripesFor(uint64_t{1} << 40), 4);
  auto server = BulkServer::Start("127.0.0.1", 0);
  ASSERT_TRUE(server.ok());
  const std::string bytes = Pattern((size_t{48} << 20) + 5);
  const std::string ticket = (*server)->Offer(Buffer(bytes));
  absl::StatusOr<Buffer> got = Fetch(**server, ticket, bytes.size());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->view() == bytes);
  EXPECT_EQ(ServedOnceAtLeast(**server, 3u), 3u);  // three stripes
  EXPECT_EQ((*server)->pending_offers(), 0u);
  // Read again, even stripe by stripe: nothing.
  EXPECT_TRUE(absl::IsNotFound(Fetch(**server, ticket, bytes.size()).status()));
}

// `bytes` in a sealed shared region, as a worker holds a large result;
// nullopt where no region can be made.
std::optional<Buffer> InSharedRegion(const std::string& bytes) {
  BufferBuilder room = BufferBuilder::Allocate(bytes.size(), /*shared=*/true);
  if (!room.in_shared_memory()) return std::nullopt;
  std::memcpy(room.data(), bytes.data(), bytes.size());
  Buffer buffer = std::move(room).Finish();
  if (buffer.region() == nullptr) return std::nullopt;
  return buffer;
}

// An object in a sealed shared region goes from its file (sendfile), in
// stripes, exactly; the holder may drop its own reference meanwhile.
TEST(BulkTransferTest, ASharedRegionIsSentFromItsFile) {
  auto server = BulkServer::Start("127.0.0.1", 0);
  ASSERT_TRUE(server.ok());
  const std::string bytes = Pattern((size_t{48} << 20) + 5);
  std::optional<Buffer> held = InSharedRegion(bytes);
  if (!held.has_value()) GTEST_SKIP() << "no shared memory (memfd) here";
  const std::string ticket = (*server)->Offer(*held);
  held.reset();
  absl::StatusOr<Buffer> got = Fetch(**server, ticket, bytes.size());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->view() == bytes);
  EXPECT_EQ(ServedOnceAtLeast(**server, 3u), 3u);
  EXPECT_EQ((*server)->transfers_served_from_file(), 3u);
  // Ordinary memory is written as before.
  const std::string small = Pattern(2 << 20);
  absl::StatusOr<Buffer> again =
      Fetch(**server, (*server)->Offer(Buffer(small)), small.size());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->view(), small);
  EXPECT_EQ(ServedOnceAtLeast(**server, 4u), 4u);
  EXPECT_EQ((*server)->transfers_served_from_file(), 3u);
}

// A connection that never sends its ticket is dropped after the read
// timeout; one that sends garbage too. Neither holds up real transfers.
TEST(BulkTransferTest, StrangersGetNothingAndBlockNothing) {
  BulkServer::Options options;
  options.ticket_read_timeout = absl::Milliseconds(200);
  auto server = BulkServer::Start("127.0.0.1", 0, options);
  ASSERT_TRUE(server.ok());
  std::vector<int> strangers;
  for (int i = 0; i < 8; ++i) {
    const int fd = ConnectTo(**server);
    ASSERT_GE(fd, 0);
    if (i % 2 == 1) {
      const std::string garbage(kBulkTicketBytes, 'x');
      ASSERT_EQ(::send(fd, garbage.data(), garbage.size(), 0),
                static_cast<ssize_t>(garbage.size()));
    }
    strangers.push_back(fd);
  }
  const std::string bytes = Pattern(2 << 20);
  const std::string ticket = (*server)->Offer(Buffer(bytes));
  absl::StatusOr<Buffer> got = Fetch(**server, ticket, bytes.size());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->view(), bytes);
  for (int fd : strangers) {
    char c;
    // Each is closed without a byte (EOF), within the read timeout.
    EXPECT_EQ(::recv(fd, &c, 1, 0), 0);
    ::close(fd);
  }
}

TEST(BulkTransferTest, NothingListeningIsUnavailable) {
  int port = 0;
  {
    auto server = BulkServer::Start("127.0.0.1", 0);
    ASSERT_TRUE(server.ok());
    port = (*server)->port();
  }
  EXPECT_TRUE(absl::IsUnavailable(
      BulkFetch("127.0.0.1", port, std::string(16, 'a'), 1, Soon())
          .status()));
}

TEST(BulkTransferTest, PortInUseIsAnError) {
  auto first = BulkServer::Start("127.0.0.1", 0);
  ASSERT_TRUE(first.ok());
  auto second = BulkServer::Start("127.0.0.1", (*first)->port());
  EXPECT_TRUE(absl::IsUnavailable(second.status())) << second.status();
}

// Many transfers at once, from many threads.
TEST(BulkTransferTest, ConcurrentTransfers) {
  auto server = BulkServer::Start("127.0.0.1", 0);
  ASSERT_TRUE(server.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      const std::string bytes = Pattern((1 << 20) + t);
      for (int i = 0; i < 5; ++i) {
        const std::string ticket = (*server)->Offer(Buffer(bytes));
        absl::StatusOr<Buffer> got = Fetch(**server, ticket, bytes.size());
        ASSERT_TRUE(got.ok()) << got.status();
        EXPECT_EQ(got->view(), bytes);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ServedOnceAtLeast(**server, 40u), 40u);
}

// With TLS on, the stripes of a large object arrive exactly over TLS.
class BulkTransferTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ConfigureProcessTls(testing::TestTlsFiles()).ok());
  }
  void TearDown() override { ASSERT_TRUE(ConfigureProcessTls({}).ok()); }
};

TEST_F(BulkTransferTlsTest, StripesArriveExactly) {
  auto server = BulkServer::Start("127.0.0.1", 0);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string bytes = Pattern((40 << 20) + 5);
  ASSERT_EQ(BulkStripesFor(bytes.size()), 2);
  const std::string ticket = (*server)->Offer(Buffer(bytes));
  absl::StatusOr<Buffer> got = Fetch(**server, ticket, bytes.size());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->view() == bytes);
  EXPECT_EQ(ServedOnceAtLeast(**server, 2u), 2u);
}

// With TLS, a shared region's bytes go through the session (encrypted),
// never sendfile.
TEST_F(BulkTransferTlsTest, ASharedRegionGoesThroughTheSession) {
  auto server = BulkServer::Start("127.0.0.1", 0);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string bytes = Pattern((20 << 20) + 7);
  std::optional<Buffer> held = InSharedRegion(bytes);
  if (!held.has_value()) GTEST_SKIP() << "no shared memory (memfd) here";
  absl::StatusOr<Buffer> got =
      Fetch(**server, (*server)->Offer(*held), bytes.size());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->view() == bytes);
  EXPECT_EQ(ServedOnceAtLeast(**server, 1u), 1u);
  EXPECT_EQ((*server)->transfers_served_from_file(), 0u);
}

// A requester without TLS (or with another CA) never gets its ticket read:
// the offer stays, and no byte is served.
TEST_F(BulkTransferTlsTest, RequesterWithoutTheClustersCertificateGetsNothing) {
  auto server = BulkServer::Start("127.0.0.1", 0);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string bytes = Pattern(2 << 20);
  const std::string ticket = (*server)->Offer(Buffer(bytes));
  for (const TlsFiles& files : {TlsFiles{}, testing::TestTlsFiles("other")}) {
    ASSERT_TRUE(ConfigureProcessTls(files).ok());
    absl::StatusOr<Buffer> got = Fetch(**server, ticket, bytes.size());
    EXPECT_FALSE(got.ok());
  }
  EXPECT_EQ((*server)->transfers_served(), 0u);
  EXPECT_EQ((*server)->pending_offers(), 1u);
  // The cluster's own certificate still gets it.
  ASSERT_TRUE(ConfigureProcessTls(testing::TestTlsFiles()).ok());
  absl::StatusOr<Buffer> got = Fetch(**server, ticket, bytes.size());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->view() == bytes);
}

// More stripes at once than the holder serves: the rest wait for a slot
// and are served, so every fetch takes the bulk path.
TEST(BulkTransferTest, ManyLargeFetchesAtOnceWaitForASlot) {
  BulkServer::Options options;
  options.max_transfers = 4;
  auto server = BulkServer::Start("127.0.0.1", 0, options);
  ASSERT_TRUE(server.ok());
  const std::string bytes = Pattern(size_t{64} << 20);  // 4 stripes
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  for (int t = 0; t < 6; ++t) {  // 24 connections for 4 slots
    threads.emplace_back([&] {
      absl::StatusOr<Buffer> got =
          Fetch(**server, (*server)->Offer(Buffer(bytes)), bytes.size());
      if (!got.ok() || got->view() != bytes) {
        ++failed;
        ADD_FAILURE() << got.status();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(ServedOnceAtLeast(**server, 24u), 24u);
}

// A connection waits at most slot_wait, and at most max_waiting wait; the
// others are closed unserved (their requesters fall back to the gRPC
// stream), never left hanging.
TEST(BulkTransferTest, WaitingForASlotIsBounded) {
  BulkServer::Options options;
  options.max_transfers = 1;
  options.max_waiting = 1;
  options.slot_wait = absl::Milliseconds(50);
  options.ticket_read_timeout = absl::Milliseconds(500);
  auto server = BulkServer::Start("127.0.0.1", 0, options);
  ASSERT_TRUE(server.ok());
  // A stranger holds the one slot until its ticket read times out.
  const int holder = ConnectTo(**server);
  ASSERT_GE(holder, 0);
  absl::SleepFor(absl::Milliseconds(50));
  // The next one waits; the one after is closed at once.
  const std::string bytes = Pattern(2 << 20);
  const std::string ticket = (*server)->Offer(Buffer(bytes));
  absl::StatusOr<Buffer> waited;
  std::thread waiter([&] { waited = Fetch(**server, ticket, bytes.size()); });
  absl::SleepFor(absl::Milliseconds(50));
  const int third = ConnectTo(**server);
  ASSERT_GE(third, 0);
  char c;
  const absl::Time asked = absl::Now();
  EXPECT_EQ(::recv(third, &c, 1, 0), 0);  // EOF, well before the holder
  EXPECT_LT(absl::Now() - asked, absl::Milliseconds(400));
  // The waiter waited longer than slot_wait: closed when the slot freed.
  waiter.join();
  EXPECT_FALSE(waited.ok());
  EXPECT_EQ(::recv(holder, &c, 1, 0), 0);
  ::close(holder);
  ::close(third);
  // The slot is free again: a fetch now is served.
  absl::StatusOr<Buffer> now =
      Fetch(**server, (*server)->Offer(Buffer(bytes)), bytes.size());
  ASSERT_TRUE(now.ok()) << now.status();
  EXPECT_EQ(now->view(), bytes);
}

}  // namespace
}  // namespace weft::rpc
