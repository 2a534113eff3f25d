// Copyright 2026 The weft Authors.

#include "deploy/run_command.h"

#include <fstream>
#include <string>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace weft::deploy {
namespace {

using ::testing::HasSubstr;

TEST(RunCommand, PassesInputAndCollectsBothOutputs) {
  absl::StatusOr<CommandResult> r =
      RunCommand({"sh", "-c", "cat; echo oops >&2; exit 3"}, "hello\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "hello\n");
  EXPECT_EQ(r->err, "oops\n");
}

TEST(RunCommand, LargeInputAndOutputDoNotDeadlock) {
  const std::string big(1 << 20, 'x');
  absl::StatusOr<CommandResult> r = RunCommand({"cat"}, big);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->out.size(), big.size());
}

TEST(RunCommand, SignalsAreExitCodes) {
  absl::StatusOr<CommandResult> r = RunCommand({"sh", "-c", "kill -9 $$"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 128 + 9);
}

TEST(RunCommand, MissingProgramIsNotFound) {
  absl::StatusOr<CommandResult> r = RunCommand({"no-such-program-xyz"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("no-such-program-xyz"));
  EXPECT_EQ(RunCommand({}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Whether `pid` runs (a zombie does not).
bool Runs(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() &&
         line[paren + 2] != 'Z';
}

TEST(RunCommand, DeadlineKillsTheWholeGroup) {
  absl::StatusOr<CommandResult> r = RunCommand(
      {"sh", "-c", "sleep 30 & echo sleeper=$!; sleep 30"}, "",
      absl::Milliseconds(300));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(r.status().message(), HasSubstr("sleeper="));
  // The background sleep, which held the output pipe too, went with the
  // group.
  const std::string message(r.status().message());
  const size_t at = message.rfind("sleeper=") + 8;
  const pid_t sleeper = std::stoi(message.substr(at));
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (Runs(sleeper) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_FALSE(Runs(sleeper));
}

TEST(ShellQuote, QuotesWhatTheShellWouldSplit) {
  EXPECT_EQ(ShellQuote("/a/b-c_d.e:f=g@h%i+j,k"), "/a/b-c_d.e:f=g@h%i+j,k");
  EXPECT_EQ(ShellQuote(""), "''");
  EXPECT_EQ(ShellQuote("a b"), "'a b'");
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
  EXPECT_EQ(ShellQuote("$HOME"), "'$HOME'");
  EXPECT_EQ(ShellCommand({"echo", "a b", "c"}), "echo 'a b' c");
  absl::StatusOr<CommandResult> r =
      RunCommand({"sh", "-c", ShellCommand({"printf", "%s|", "a b", "it's", "$x"})});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out, "a b|it's|$x|");
}

}  // namespace
}  // namespace weft::deploy
