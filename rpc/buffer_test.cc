// Copyright 2026 The weft Authors.

#include "rpc/buffer.h"

#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace weft::rpc {
namespace {

TEST(BufferTest, EmptyByDefault) {
  Buffer buffer;
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(buffer.size(), 0u);
  EXPECT_EQ(buffer.region(), nullptr);
}

TEST(BufferTest, StringBytesAreSharedByCopies) {
  Buffer a(std::string("abc"));
  Buffer b = a;
  EXPECT_EQ(a.view(), "abc");
  EXPECT_EQ(b.data(), a.data());  // no copy of the bytes
  EXPECT_EQ(a.region(), nullptr);
  a = Buffer();
  EXPECT_EQ(b.view(), "abc");  // still owned by the copy
  Buffer c = std::move(b);
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_EQ(c.view(), "abc");
}

TEST(BufferTest, SmallObjectsStayInOrdinaryMemory) {
  BufferBuilder room = BufferBuilder::Allocate(kSharedMinBytes - 1, true);
  EXPECT_FALSE(room.in_shared_memory());
  EXPECT_EQ(room.size(), kSharedMinBytes - 1);
  EXPECT_EQ(room.data()[0], '\0');
  Buffer buffer = std::move(room).Finish();
  EXPECT_EQ(buffer.region(), nullptr);
  EXPECT_EQ(buffer.size(), kSharedMinBytes - 1);
}

TEST(BufferTest, LargeObjectsGoToSharedMemoryWhenAsked) {
  EXPECT_FALSE(BufferBuilder::Allocate(kSharedMinBytes, false)
                   .in_shared_memory());
  const int64_t live = SharedRegion::LiveCount();
  BufferBuilder room = BufferBuilder::Allocate(kSharedMinBytes, true);
  ASSERT_TRUE(room.in_shared_memory());
  std::memset(room.data(), 'q', room.size());
  Buffer buffer = std::move(room).Finish();
  ASSERT_NE(buffer.region(), nullptr);
  EXPECT_FALSE(buffer.region()->writable());  // sealed
  EXPECT_EQ(buffer.data(), buffer.region()->data());
  EXPECT_EQ(buffer.view(), std::string(kSharedMinBytes, 'q'));
  // A copy keeps the region mapped; the last one unmaps it.
  Buffer copy = buffer;
  buffer = Buffer();
  EXPECT_EQ(SharedRegion::LiveCount(), live + 1);
  EXPECT_EQ(copy.data()[kSharedMinBytes - 1], 'q');
  copy = Buffer();
  EXPECT_EQ(SharedRegion::LiveCount(), live);
}

TEST(BufferTest, TakeStringCopiesOutOfSharedMemory) {
  const int64_t live = SharedRegion::LiveCount();
  BufferBuilder room = BufferBuilder::Allocate(2 * kSharedMinBytes, true);
  ASSERT_TRUE(room.in_shared_memory());
  room.data()[5] = 'x';
  const std::string bytes = std::move(room).TakeString();
  EXPECT_EQ(bytes.size(), 2 * kSharedMinBytes);
  EXPECT_EQ(bytes[5], 'x');
  EXPECT_EQ(SharedRegion::LiveCount(), live);

  BufferBuilder small = BufferBuilder::Allocate(3, true);
  std::memcpy(small.data(), "xyz", 3);
  EXPECT_EQ(std::move(small).TakeString(), "xyz");
}

TEST(BufferTest, LargePrivateObjectsGetAPageBlock) {
  const size_t size = 3 * kPageBlockMinBytes + 7;
  BufferBuilder room = BufferBuilder::Allocate(size, /*shared=*/false);
  EXPECT_FALSE(room.in_shared_memory());
  ASSERT_EQ(room.size(), size);
  // Zero-filled, like every other room.
  EXPECT_EQ(std::string_view(room.data(), size), std::string(size, '\0'));
  std::memset(room.data(), 'p', size);
  const char* where = room.data();
  Buffer buffer = std::move(room).Finish();
  EXPECT_EQ(buffer.data(), where);  // the block itself, not a copy
  EXPECT_EQ(buffer.region(), nullptr);
  EXPECT_EQ(buffer.view(), std::string(size, 'p'));
  Buffer copy = buffer;
  buffer = Buffer();
  EXPECT_EQ(copy.data()[size - 1], 'p');  // kept by the copy

  BufferBuilder again = BufferBuilder::Allocate(size, /*shared=*/false);
  again.data()[size - 1] = 'z';
  const std::string bytes = std::move(again).TakeString();
  ASSERT_EQ(bytes.size(), size);
  EXPECT_EQ(bytes[size - 1], 'z');
}

TEST(BufferTest, RoomForOverwriteIsPrivateAndHoldsWhatIsWritten) {
  for (const size_t size : {size_t{5}, 2 * kPageBlockMinBytes + 3}) {
    BufferBuilder room = BufferBuilder::AllocateForOverwrite(size);
    EXPECT_FALSE(room.in_shared_memory());
    ASSERT_EQ(room.size(), size);
    std::memset(room.data(), 'w', size);
    Buffer buffer = std::move(room).Finish();
    EXPECT_EQ(buffer.region(), nullptr);
    EXPECT_EQ(buffer.view(), std::string(size, 'w'));
  }
}

// Room reserved for bytes from a peer takes them piece by piece, refuses
// more than its size without writing any, and holds what was appended, in
// each kind of memory.
TEST(BufferTest, ReservedRoomTakesAppendedBytesUpToItsSize) {
  for (const size_t size :
       {size_t{5}, 2 * kPageBlockMinBytes + 3, 3 * kSharedMinBytes + 1}) {
    for (const bool shared : {false, true}) {
      SCOPED_TRACE(absl::StrCat(size, shared ? " shared" : " private"));
      absl::StatusOr<BufferBuilder> room = BufferBuilder::Reserve(size, shared);
      ASSERT_TRUE(room.ok()) << room.status();
      EXPECT_EQ(room->in_shared_memory(), shared && size >= kSharedMinBytes);
      ASSERT_EQ(room->size(), size);
      const std::string piece(size / 3 + 1, 'p');
      ASSERT_TRUE(room->Append(piece).ok());
      ASSERT_TRUE(room->Append(piece).ok());
      EXPECT_EQ(room->filled(), 2 * piece.size());
      // One more piece would overflow: refused, nothing written.
      EXPECT_TRUE(absl::IsOutOfRange(room->Append(piece + piece)));
      EXPECT_EQ(room->filled(), 2 * piece.size());
      const std::string rest(size - room->filled(), 'r');
      ASSERT_TRUE(room->Append(rest).ok());
      EXPECT_TRUE(absl::IsOutOfRange(room->Append("x")));
      Buffer buffer = std::move(*room).Finish();
      EXPECT_EQ(buffer.view(), piece + piece + rest);
      EXPECT_EQ(buffer.region() != nullptr, shared && size >= kSharedMinBytes);
    }
  }
}

// A reservation larger than the machine's memory is address space only.
TEST(BufferTest, ReservingATerabyteTakesNoMemory) {
  absl::StatusOr<BufferBuilder> room =
      BufferBuilder::Reserve(size_t{1} << 40, /*shared=*/false);
  ASSERT_TRUE(room.ok()) << room.status();
  ASSERT_TRUE(room->Append("abc").ok());
  EXPECT_EQ(std::string_view(room->data(), 3), "abc");
  // More than any machine's address space: an error, not an exception.
  EXPECT_TRUE(absl::IsResourceExhausted(
      BufferBuilder::Reserve(size_t{1} << 62, false).status()));
}

TEST(PageBlockTest, RefusesEmptyAndImpossibleSizes) {
  EXPECT_TRUE(absl::IsInvalidArgument(PageBlock::Create(0).status()));
  // More address space than any machine has: an error, not a crash.
  EXPECT_TRUE(absl::IsResourceExhausted(
      PageBlock::Create(size_t{1} << 62).status()));
}

}  // namespace
}  // namespace weft::rpc
