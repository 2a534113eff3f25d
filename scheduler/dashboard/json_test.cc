// Copyright 2026 The weft Authors.

#include "scheduler/dashboard/json.h"

#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace weft::dashboard {
namespace {

TEST(JsonWriterTest, NestsWithCommas) {
  JsonWriter j;
  j.BeginObject();
  j.Key("a").Int(-3);
  j.Key("b").BeginArray().Uint(1).String("x").Bool(false).Null().EndArray();
  j.Key("c").BeginObject().EndObject();
  j.Key("d").BeginArray().BeginArray().EndArray().BeginObject().Key("e")
      .Double(0.5).EndObject().EndArray();
  j.Key("raw").Raw("[1,2]");
  j.EndObject();
  EXPECT_EQ(j.text(),
            R"({"a":-3,"b":[1,"x",false,null],"c":{},"d":[[],{"e":0.5}],)"
            R"("raw":[1,2]})");
}

TEST(JsonWriterTest, ObjectArrayWritesAnObjectPerItem) {
  const std::vector<std::pair<std::string, int>> items = {{"x", 1}, {"y", 2}};
  JsonWriter j;
  j.BeginObject();
  j.Key("items").ObjectArray(items, [&](const auto& item) {
    j.Key("name").String(item.first);
    j.Key("n").Int(item.second);
  });
  j.Key("none").ObjectArray(std::vector<int>(), [](int) {});
  j.EndObject();
  EXPECT_EQ(j.text(),
            R"({"items":[{"name":"x","n":1},{"name":"y","n":2}],"none":[]})");
}

TEST(JsonWriterTest, DoublesWithoutNanOrInfinity) {
  JsonWriter j;
  j.BeginArray().Double(1e-7).Double(123456789012.0)
      .Double(std::numeric_limits<double>::quiet_NaN())
      .Double(INFINITY).EndArray();
  EXPECT_EQ(j.text(), "[1e-07,123456789012,null,null]");
}

TEST(JsonWriterTest, ShortestDoubles) {
  EXPECT_EQ(ShortestDouble(0.0001), "0.0001");
  EXPECT_EQ(ShortestDouble(0.1), "0.1");
  EXPECT_EQ(ShortestDouble(600), "600");
  EXPECT_EQ(ShortestDouble(0), "0");
  EXPECT_EQ(ShortestDouble(-2.5), "-2.5");
  EXPECT_EQ(ShortestDouble(1e-9), "1e-09");
  EXPECT_EQ(ShortestDouble(3e20), "3e+20");
}

TEST(JsonWriterTest, EscapesStringsForScriptElements) {
  EXPECT_EQ(JsonQuote("a\"b\\c\nd\te\x01"), R"("a\"b\\c\nd\te\u0001")");
  EXPECT_EQ(JsonQuote("</script><b>/x"), R"("<\/script><b>/x")");
  EXPECT_EQ(JsonQuote("ünï"), "\"ünï\"");  // UTF-8 passes through
}

}  // namespace
}  // namespace weft::dashboard
