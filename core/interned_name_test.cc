// Copyright 2026 The weft Authors.

#include "weft/internal/interned_name.h"

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace weft::internal {
namespace {

// The table is process-wide and TableIsBounded fills it, so the names the
// other tests expect to be shared are interned before any test runs.
const InternedName kInternedFirst[] = {
    InternedName("Square"), InternedName("Total"), InternedName("Inc"),
    InternedName("Add"),    InternedName("short"), InternedName("Shared"),
};

TEST(InternedNameTest, IsOnePointer) {
  EXPECT_EQ(sizeof(InternedName), sizeof(void*));
}

TEST(InternedNameTest, EqualTextSharesOneCopy) {
  InternedName a("Square");
  InternedName b(std::string("Square"));
  EXPECT_EQ(a.str(), "Square");
  EXPECT_TRUE(a.interned());
  EXPECT_EQ(&a.str(), &b.str());
  EXPECT_EQ(a, b);
  EXPECT_FALSE(a == InternedName("Total"));
}

TEST(InternedNameTest, DefaultIsEmpty) {
  InternedName empty;
  EXPECT_EQ(empty.str(), "");
  EXPECT_TRUE(empty.interned());
  EXPECT_EQ(empty, InternedName(""));
}

TEST(InternedNameTest, CopyAndMove) {
  InternedName a("Inc");
  InternedName copy = a;
  EXPECT_EQ(&copy.str(), &a.str());
  InternedName moved = std::move(copy);
  EXPECT_EQ(moved.str(), "Inc");
  EXPECT_EQ(copy.str(), "");  // NOLINT(bugprone-use-after-move): specified
  copy = moved;
  EXPECT_EQ(copy.str(), "Inc");
  copy = InternedName("Add");
  EXPECT_EQ(copy.str(), "Add");
  const InternedName& same = copy;  // (`copy = copy` draws a warning)
  copy = same;                       // self-assignment
  EXPECT_EQ(copy.str(), "Add");
}

TEST(InternedNameTest, LongNamesAreOwnedAndBehaveTheSame) {
  const std::string text(InternedName::kMaxInternedLength + 1, 'x');
  InternedName a(text);
  EXPECT_FALSE(a.interned());
  EXPECT_EQ(a.str(), text);
  InternedName b = a;  // a deep copy
  EXPECT_FALSE(b.interned());
  EXPECT_NE(&a.str(), &b.str());
  EXPECT_EQ(a, b);
  InternedName c = std::move(a);
  EXPECT_EQ(c.str(), text);
  EXPECT_EQ(a.str(), "");  // NOLINT(bugprone-use-after-move): specified
  c = InternedName("short");
  EXPECT_TRUE(c.interned());
  b = c;
  EXPECT_EQ(b.str(), "short");
}

TEST(InternedNameTest, TableIsBounded) {
  // A program naming every task differently: past the bound, names are
  // owned copies and the table stops growing.
  const InternedName early("Square");
  std::vector<InternedName> names;
  const size_t n = InternedName::kMaxInterned + 100;
  for (size_t i = 0; i < n; ++i) {
    names.emplace_back("chunk-" + std::to_string(i));
  }
  EXPECT_LE(InternedName::NumInterned(), InternedName::kMaxInterned);
  EXPECT_FALSE(names.back().interned());
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(names[i].str(), "chunk-" + std::to_string(i));
  }
  // Names interned before the table filled are still shared.
  EXPECT_TRUE(early.interned());
  EXPECT_EQ(&InternedName("Square").str(), &early.str());
}

TEST(InternedNameTest, ThreadsAgreeOnTheCopy) {
  constexpr int kThreads = 4;
  std::vector<const std::string*> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &seen] {
      for (int i = 0; i < 1000; ++i) {
        InternedName other("other-" + std::to_string(i % 7));
        InternedName name("Shared");
        seen[t] = &name.str();
        ASSERT_EQ(name.str(), "Shared");
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 1; t < kThreads; ++t) EXPECT_EQ(seen[t], seen[0]);
}

}  // namespace
}  // namespace weft::internal
