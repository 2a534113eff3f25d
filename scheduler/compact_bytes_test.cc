// Copyright 2026 The weft Authors.

#include "scheduler/compact_bytes.h"

#include <string>
#include <utility>

#include "gtest/gtest.h"

namespace weft::scheduler::internal {
namespace {

TEST(CompactBytesTest, SixteenBytes) { EXPECT_EQ(sizeof(CompactBytes), 16u); }

TEST(CompactBytesTest, HoldsAnyBytes) {
  for (size_t n : {0, 1, 8, 14, 15, 16, 26, 100, 100000}) {
    std::string bytes(n, '\0');
    for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<char>(i * 7 + 255);
    CompactBytes b(bytes);
    EXPECT_EQ(b.size(), n);
    EXPECT_EQ(b.empty(), n == 0);
    EXPECT_EQ(b.view(), bytes);
    EXPECT_EQ(b.str(), bytes);
  }
  EXPECT_EQ(CompactBytes().view(), "");
}

TEST(CompactBytesTest, CopyAndMove) {
  for (const std::string& text :
       {std::string(), std::string("12345678"), std::string(40, 'x')}) {
    CompactBytes a(text);
    CompactBytes b = a;
    EXPECT_EQ(b.view(), text);
    CompactBytes c = std::move(b);
    EXPECT_EQ(c.view(), text);
    EXPECT_EQ(b.view(), "");  // NOLINT(bugprone-use-after-move): specified
    CompactBytes d(std::string(30, 'y'));
    d = c;
    EXPECT_EQ(d.view(), text);
    const CompactBytes& same = d;  // (`d = d` draws a compiler warning)
    d = same;                       // self-assignment
    EXPECT_EQ(d.view(), text);
    CompactBytes e("short");
    e = std::move(d);
    EXPECT_EQ(e.view(), text);
    e = CompactBytes(std::string(50, 'z'));
    EXPECT_EQ(e.view(), std::string(50, 'z'));
    EXPECT_EQ(a.view(), text);
  }
}

}  // namespace
}  // namespace weft::scheduler::internal
