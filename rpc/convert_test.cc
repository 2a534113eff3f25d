// Copyright 2026 The weft Authors.

#include "rpc/convert.h"

#include <string>

#include "gtest/gtest.h"

namespace weft::rpc {
namespace {

using Kind = internal::WireArg::Kind;

internal::WireArg RoundTrip(const internal::WireArg& in) {
  internal::WireArg out;
  const absl::Status status = FromArgBytes(ArgBytes(in), out);
  EXPECT_TRUE(status.ok()) << status;
  return out;
}

TEST(ConvertTest, EveryKindOfArgumentSurvivesItsBytes) {
  const internal::WireArg value{Kind::kValue, std::string("a\0b", 3), {}};
  internal::WireArg out = RoundTrip(value);
  EXPECT_EQ(out.kind, Kind::kValue);
  EXPECT_EQ(out.value, value.value);
  out = RoundTrip({Kind::kRef, "", {7}});
  EXPECT_EQ(out.kind, Kind::kRef);
  EXPECT_EQ(out.ids, std::vector<uint64_t>{7});
  out = RoundTrip({Kind::kRefs, "", {1, 2, 3}});
  EXPECT_EQ(out.kind, Kind::kRefs);
  EXPECT_EQ(out.ids, (std::vector<uint64_t>{1, 2, 3}));
  out = RoundTrip({Kind::kValue, "", {}});  // an empty value is a value
  EXPECT_EQ(out.kind, Kind::kValue);
  EXPECT_EQ(out.value, "");
}

// TaskDef.args holds bytes; on the wire they are what `repeated Arg` was.
TEST(ConvertTest, ArgumentBytesAreTheArgMessagesOnTheWire) {
  TaskDef def;
  def.add_args(ArgBytes({Kind::kValue, "xyz", {}}));
  def.add_args(ArgBytes({Kind::kRef, "", {9}}));
  Arg first;
  first.set_value("xyz");
  Arg second;
  second.set_ref(9);
  std::string expected;
  for (const Arg* arg : {&first, &second}) {
    const std::string bytes = arg->SerializeAsString();
    expected += '\x22';  // field 4, length-delimited
    expected += static_cast<char>(bytes.size());
    expected += bytes;
  }
  EXPECT_EQ(def.SerializeAsString(), expected);
}

TEST(ConvertTest, BytesThatAreNoArgAreAnError) {
  internal::WireArg out;
  absl::Status status = FromArgBytes(std::string("\xff\xff\xff", 3), out);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("not a valid Arg message"),
            std::string::npos);
  status = FromArgBytes("", out);  // parses, but has no kind
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace weft::rpc
