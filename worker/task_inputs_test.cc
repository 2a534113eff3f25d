// Copyright 2026 The weft Authors.
//
// TaskInputs against a fake holder: inline holds counted per run, fetched
// copies reported, a failed fetch naming its input and holders, promotion.

#include "worker/task_inputs.h"

#include <map>
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
    return [this](const std::vector<std::string>& holders, uint64_t id,
                  rpc::FetchInfo* how) -> absl::StatusOr<rpc::Buffer> {
      ++fetches_;
      for (const std::string& address : holders) {
        auto at = objects_.find(address);
        if (at == objects_.end()) continue;
        auto it = at->second.find(id);
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

TEST(TaskInputsTest, InlineInputsLiveWhileARunHoldsThem) {
  ObjectStore store;
  FakeHolders holders;
  TaskInputs inputs(store, holders.Fetch());
  google::protobuf::RepeatedPtrField<rpc::Location> deps;
  *deps.Add() = Inline(7, "seven");
  InputsOfRun a, b;
  ASSERT_TRUE(inputs.Gather(deps, a).ok());
  ASSERT_TRUE(inputs.Gather(deps, b).ok());  // a second run, same input
  EXPECT_EQ(a.inline_held, std::vector<uint64_t>{7});
  EXPECT_EQ(b.inline_held, std::vector<uint64_t>{7});
  EXPECT_EQ(ValueOf(store, 7), "seven");
  EXPECT_EQ(inputs.inline_objects(), 1u);
  inputs.Release(a.inline_held);
  EXPECT_TRUE(a.inline_held.empty());
  EXPECT_EQ(ValueOf(store, 7), "seven");  // b still holds it
  inputs.Release(b.inline_held);
  EXPECT_FALSE(store.Contains(7));  // the last hold let it go
  EXPECT_EQ(inputs.inline_objects(), 0u);
  EXPECT_EQ(holders.fetches(), 0);
}

TEST(TaskInputsTest, ACountedCopyIsNeitherHeldNorErased) {
  ObjectStore store;
  store.Put(7, std::string("counted"));
  FakeHolders holders;
  TaskInputs inputs(store, holders.Fetch());
  google::protobuf::RepeatedPtrField<rpc::Location> deps;
  *deps.Add() = Inline(7, "inline");
  InputsOfRun run;
  ASSERT_TRUE(inputs.Gather(deps, run).ok());
  EXPECT_TRUE(run.inline_held.empty());
  inputs.Release(run.inline_held);
  EXPECT_EQ(ValueOf(store, 7), "counted");
}

TEST(TaskInputsTest, APromotedInputOutlivesItsHolds) {
  ObjectStore store;
  FakeHolders holders;
  TaskInputs inputs(store, holders.Fetch());
  google::protobuf::RepeatedPtrField<rpc::Location> deps;
  *deps.Add() = Inline(9, "nine");
  InputsOfRun run;
  ASSERT_TRUE(inputs.Gather(deps, run).ok());
  // A task here produced object 9 (the same value: objects are
  // immutable, so the store keeps the bytes it has): the scheduler now
  // counts it here, and the run's release leaves it.
  inputs.Promote(9);
  store.Put(9, std::string("nine"));
  inputs.Release(run.inline_held);
  EXPECT_EQ(ValueOf(store, 9), "nine");
  EXPECT_EQ(inputs.inline_objects(), 0u);
}

TEST(TaskInputsTest, MissingInputsAreFetchedAndReported) {
  ObjectStore store;
  store.Put(1, std::string("here already"));
  FakeHolders holders;
  holders.Hold("b:2", 2, "from b");
  TaskInputs inputs(store, holders.Fetch());
  google::protobuf::RepeatedPtrField<rpc::Location> deps;
  *deps.Add() = Remote(1, 12, {"a:1"});         // held here: no fetch
  *deps.Add() = Remote(2, 6, {"a:1", "b:2"});   // a has none, b answers
  InputsOfRun run;
  ASSERT_TRUE(inputs.Gather(deps, run).ok());
  EXPECT_EQ(holders.fetches(), 1);
  EXPECT_EQ(ValueOf(store, 2), "from b");
  EXPECT_EQ(run.fetched, std::vector<uint64_t>{2});
  ASSERT_EQ(run.transfers.size(), 1u);
  EXPECT_EQ(run.transfers[0].id(), 2u);
  EXPECT_EQ(run.transfers[0].bytes(), 6u);
  EXPECT_EQ(run.transfers[0].from(), "b:2");
  EXPECT_LE(run.transfers[0].start_us(), run.transfers[0].end_us());
  EXPECT_TRUE(run.missing.empty());
  // A fetched copy is counted: no Release removes it.
  inputs.Release(run.inline_held);
  EXPECT_TRUE(store.Contains(2));
}

TEST(TaskInputsTest, AnInputNoHolderGivesFailsTheRunNamingIt) {
  ObjectStore store;
  FakeHolders holders;
  holders.Hold("b:2", 2, "from b");
  TaskInputs inputs(store, holders.Fetch());
  google::protobuf::RepeatedPtrField<rpc::Location> deps;
  *deps.Add() = Inline(5, "five");
  *deps.Add() = Remote(2, 6, {"b:2"});
  *deps.Add() = Remote(3, 8, {"gone:1", "gone:2"});
  *deps.Add() = Remote(4, 8, {"b:2"});  // never reached
  InputsOfRun run;
  absl::Status s = inputs.Gather(deps, run);
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_NE(s.message().find("input 3"), absl::string_view::npos) << s;
  ASSERT_EQ(run.missing.size(), 1u);
  EXPECT_EQ(run.missing[0].id(), 3u);
  ASSERT_EQ(run.missing[0].addresses_size(), 2);
  EXPECT_EQ(run.missing[0].addresses(1), "gone:2");
  // What came before the failure stays, to be reported and released.
  EXPECT_EQ(run.fetched, std::vector<uint64_t>{2});
  EXPECT_EQ(run.inline_held, std::vector<uint64_t>{5});
  EXPECT_FALSE(store.Contains(4));
  inputs.Release(run.inline_held);
  EXPECT_FALSE(store.Contains(5));
}

TEST(TaskInputsTest, ClearForgetsEveryHold) {
  ObjectStore store;
  FakeHolders holders;
  TaskInputs inputs(store, holders.Fetch());
  google::protobuf::RepeatedPtrField<rpc::Location> deps;
  *deps.Add() = Inline(1, "a");
  *deps.Add() = Inline(2, "b");
  InputsOfRun run;
  ASSERT_TRUE(inputs.Gather(deps, run).ok());
  EXPECT_EQ(inputs.inline_objects(), 2u);
  inputs.Clear();
  store.Clear();
  EXPECT_EQ(inputs.inline_objects(), 0u);
  inputs.Release(run.inline_held);  // a late release is harmless
  EXPECT_EQ(store.num_objects(), 0u);
}

}  // namespace
}  // namespace weft::worker
