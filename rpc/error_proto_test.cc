// Copyright 2026 The weft Authors.

#include "rpc/error_proto.h"

#include <string>

#include "gtest/gtest.h"

namespace weft::rpc {
namespace {

TEST(ErrorProtoTest, EveryKindSurvivesTheWire) {
  for (int k = 0; k <= static_cast<int>(kLastErrorKind); ++k) {
    ErrorInfo info;
    info.kind = static_cast<ErrorKind>(k);
    info.task_name = "Square";
    info.task_key = "Square-000000000000001f";
    info.exception_type = "std::invalid_argument";
    info.message = "negative";
    Error wire;
    ToProto(info, wire);
    Error parsed;
    ASSERT_TRUE(parsed.ParseFromString(wire.SerializeAsString()));
    EXPECT_EQ(FromProto(parsed), info) << ErrorKindName(info.kind);
  }
}

TEST(ErrorProtoTest, ProtoNamesMatchTheKinds) {
  EXPECT_EQ(Error::Kind_Name(static_cast<Error::Kind>(ErrorKind::kActorDied)),
            "ACTOR_DIED");
  EXPECT_EQ(Error::Kind_Name(static_cast<Error::Kind>(ErrorKind::kCancelled)),
            "CANCELLED");
}

// A newer build's kind (here 99, and a negative number) reads as a failed
// task, with the rest of the error intact.
TEST(ErrorProtoTest, UnknownKindReadsAsTaskFailed) {
  for (int unknown : {static_cast<int>(kLastErrorKind) + 1, 99, -1}) {
    Error sent;
    sent.set_kind(static_cast<Error::Kind>(unknown));
    sent.set_message("from the future");
    Error received;
    ASSERT_TRUE(received.ParseFromString(sent.SerializeAsString()));
    EXPECT_EQ(static_cast<int>(received.kind()), unknown);
    ErrorInfo info = FromProto(received);
    EXPECT_EQ(info.kind, ErrorKind::kTaskFailed) << unknown;
    EXPECT_EQ(info.message, "from the future");
  }
}

}  // namespace
}  // namespace weft::rpc
