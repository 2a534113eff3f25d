// Copyright 2026 The weft Authors.
//
// TaskInputs against a fake holder: inline holds counted per run, fetched
// copies reported, a failed fetch naming its input and holders, promotion.

#include "worker/task_inputs.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "rpc/buffer.h"
#include "rpc/weft.pb.h"

namespace weft::worker {
namespace {

// Holders on a pretend network: address -> objects.
class FakeHolders {
 public:
  void Hold(const std::string& address, uint64_t id, std::string bytes) {
    objects_[address][id] = std::move(bytes);
  }
  TaskInputs::FetchFn Fetch() {
    return [this](const rpc::Location& input,
                  rpc::FetchInfo* how) -> absl::StatusOr<rpc::Buffer> {
      ++fetches_;
      for (const std::string& address : input.addresses()) {
        auto at = objects_.find(address);
        if (at == objects_.end()) continue;
        auto it = at->second.find(input.id());
        if (it == at->second.end()) continue;
        how->address = address;
        how->mapped = false;
        return rpc::Buffer(it->second);
      }
      return absl::UnavailableError("no holder answered");
    };
  }
  int fetches() const { return fetches_; }

 private:
  std::map<std::string, std::map<uint64_t, std::string>> objects_;
  int fetches_ = 0;
};

rpc::Location Inline(uint64_t id, const std::string& bytes) {
  rpc::Location l;
  l.set_id(id);
  l.set_size(bytes.size());
  l.set_inline_value(bytes);
  return l;
}

rpc::Location Remote(uint64_t id, uint64_t size,
                     std::vector<std::string> holders) {
  rpc::Location l;
  l.set_id(id);
  l.set_size(size);
  for (const std::string& h : holders) l.add_addresses(h);
  return l;
}

std::string ValueOf(const ObjectStore& store, uint64_t id) {
  std::optional<rpc::Buffer> b = store.Get(id);
  return b.has_value() ? std::string(b->view()) : "<absent>";
}

using Deps = std::vector<rpc::Location>;

// A TaskInputs over store_, fetching from holders_.
class TaskInputsTest : public ::testing::Test {
 protected:
  // Gathers `deps` for `run` (TaskInputs::Gather).
  absl::Status Gather(const Deps& deps, InputsOfRun& run) {
    google::protobuf::RepeatedPtrField<rpc::Location> field(deps.begin(),
                                                            deps.end());
    return inputs_.Gather(field, run);
  }

  ObjectStore store_;
  FakeHolders holders_;
  TaskInputs inputs_{store_, holders_.Fetch()};
};

TEST_F(TaskInputsTest, InlineInputsLiveWhileARunHoldsThem) {
  const Deps deps = {Inline(7, "seven")};
  InputsOfRun a, b;
  ASSERT_TRUE(Gather(deps, a).ok());
  ASSERT_TRUE(Gather(deps, b).ok());  // a second run, same input
  EXPECT_EQ(a.inline_held, std::vector<uint64_t>{7});
  EXPECT_EQ(b.inline_held, std::vector<uint64_t>{7});
  EXPECT_EQ(ValueOf(store_, 7), "seven");
  EXPECT_EQ(inputs_.inline_objects(), 1u);
  inputs_.Release(a.inline_held);
  EXPECT_TRUE(a.inline_held.empty());
  EXPECT_EQ(ValueOf(store_, 7), "seven");  // b still holds it
  inputs_.Release(b.inline_held);
  EXPECT_FALSE(store_.Contains(7));  // the last hold let it go
  EXPECT_EQ(inputs_.inline_objects(), 0u);
  EXPECT_EQ(holders_.fetches(), 0);
}

TEST_F(TaskInputsTest, ACountedCopyIsNeitherHeldNorErased) {
  store_.Put(7, std::string("counted"));
  const Deps deps = {Inline(7, "inline")};
  InputsOfRun run;
  ASSERT_TRUE(Gather(deps, run).ok());
  EXPECT_TRUE(run.inline_held.empty());
  inputs_.Release(run.inline_held);
  EXPECT_EQ(ValueOf(store_, 7), "counted");
}

// An input many tasks take comes marked keep: the first run that gets it
// makes it a counted copy and reports it (run.fetched); runs that held it
// inline before leave it be; later assignments name it without its value.
TEST_F(TaskInputsTest, AnInputMarkedKeepBecomesACountedCopy) {
  InputsOfRun before, kept, again, later;
  ASSERT_TRUE(Gather({Inline(5, "data")}, before).ok());  // held inline
  rpc::Location keep = Inline(5, "data");
  keep.set_keep(true);
  ASSERT_TRUE(Gather({keep}, kept).ok());
  EXPECT_EQ(kept.fetched, std::vector<uint64_t>{5});  // a replica to report
  EXPECT_TRUE(kept.inline_held.empty());
  ASSERT_TRUE(Gather({keep}, again).ok());  // still inline and marked
  EXPECT_TRUE(again.fetched.empty());       // reported once
  inputs_.Release(before.inline_held);
  EXPECT_EQ(ValueOf(store_, 5), "data");  // no longer the runs' to erase
  EXPECT_EQ(inputs_.inline_objects(), 0u);
  // Once the scheduler counts the copy here: no value, no fetch.
  ASSERT_TRUE(Gather({Remote(5, 4, {"w:1"})}, later).ok());
  EXPECT_TRUE(later.fetched.empty());
  EXPECT_EQ(holders_.fetches(), 0);
  EXPECT_EQ(ValueOf(store_, 5), "data");
}

TEST_F(TaskInputsTest, APromotedInputOutlivesItsHolds) {
  const Deps deps = {Inline(9, "nine")};
  InputsOfRun run;
  ASSERT_TRUE(Gather(deps, run).ok());
  // A task here produced object 9 (the same value: objects are
  // immutable, so the store keeps the bytes it has): the scheduler now
  // counts it here, and the run's release leaves it.
  inputs_.Promote(9);
  store_.Put(9, std::string("nine"));
  inputs_.Release(run.inline_held);
  EXPECT_EQ(ValueOf(store_, 9), "nine");
  EXPECT_EQ(inputs_.inline_objects(), 0u);
}

TEST_F(TaskInputsTest, MissingInputsAreFetchedAndReported) {
  store_.Put(1, std::string("here already"));
  holders_.Hold("b:2", 2, "from b");
  const Deps deps = {
      Remote(1, 12, {"a:1"}),         // held here: no fetch
      Remote(2, 6, {"a:1", "b:2"}),   // a has none, b answers
  };
  InputsOfRun run;
  ASSERT_TRUE(Gather(deps, run).ok());
  EXPECT_EQ(holders_.fetches(), 1);
  EXPECT_EQ(ValueOf(store_, 2), "from b");
  EXPECT_EQ(run.fetched, std::vector<uint64_t>{2});
  ASSERT_EQ(run.transfers.size(), 1u);
  EXPECT_EQ(run.transfers[0].id(), 2u);
  EXPECT_EQ(run.transfers[0].bytes(), 6u);
  EXPECT_EQ(run.transfers[0].from(), "b:2");
  EXPECT_LE(run.transfers[0].start_us(), run.transfers[0].end_us());
  EXPECT_TRUE(run.missing.empty());
  // A fetched copy is counted: no Release removes it.
  inputs_.Release(run.inline_held);
  EXPECT_TRUE(store_.Contains(2));
}

TEST_F(TaskInputsTest, AnInputNoHolderGivesFailsTheRunNamingIt) {
  holders_.Hold("b:2", 2, "from b");
  const Deps deps = {
      Inline(5, "five"),
      Remote(2, 6, {"b:2"}),
      Remote(3, 8, {"gone:1", "gone:2"}),
      Remote(4, 8, {"b:2"}),  // never reached
  };
  InputsOfRun run;
  absl::Status s = Gather(deps, run);
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_NE(s.message().find("input 3"), absl::string_view::npos) << s;
  ASSERT_EQ(run.missing.size(), 1u);
  EXPECT_EQ(run.missing[0].id(), 3u);
  ASSERT_EQ(run.missing[0].addresses_size(), 2);
  EXPECT_EQ(run.missing[0].addresses(1), "gone:2");
  // What came before the failure stays, to be reported and released.
  EXPECT_EQ(run.fetched, std::vector<uint64_t>{2});
  EXPECT_EQ(run.inline_held, std::vector<uint64_t>{5});
  EXPECT_FALSE(store_.Contains(4));
  inputs_.Release(run.inline_held);
  EXPECT_FALSE(store_.Contains(5));
}

TEST_F(TaskInputsTest, ClearForgetsEveryHold) {
  const Deps deps = {
      Inline(1, "a"),
      Inline(2, "b"),
  };
  InputsOfRun run;
  ASSERT_TRUE(Gather(deps, run).ok());
  EXPECT_EQ(inputs_.inline_objects(), 2u);
  inputs_.Clear();
  store_.Clear();
  EXPECT_EQ(inputs_.inline_objects(), 0u);
  inputs_.Release(run.inline_held);  // a late release is harmless
  EXPECT_EQ(store_.num_objects(), 0u);
}

}  // namespace
}  // namespace weft::worker
