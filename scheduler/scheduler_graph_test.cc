// Copyright 2026 The weft Authors.

#include <algorithm>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scheduler/scheduler_state.h"

namespace weft::scheduler {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

const absl::Time kT0 = absl::FromUnixSeconds(1000);

TaskDef Def(ObjectId id, std::string function, std::vector<ObjectId> deps) {
  TaskDef d;
  d.id = id;
  d.name = function;
  d.function = function;
  d.deps = std::move(deps);
  return d;
}

const GraphNode& Node(const std::vector<GraphNode>& nodes, ObjectId id) {
  auto it = std::find_if(nodes.begin(), nodes.end(),
                         [&](const GraphNode& n) { return n.id == id; });
  EXPECT_NE(it, nodes.end()) << id;
  return *it;
}

TEST(SchedulerGraphTest, ShowsRecordsWithTheirInputsAndStates) {
  SchedulerState::Options options;
  options.check_invariants = true;
  options.saturation = 1;
  options.adaptive_saturation = false;
  SchedulerState s(options);
  ASSERT_TRUE(s.AddClient(1).ok());
  ASSERT_TRUE(s.AddWorker(7, WorkerRegistration{"w:1", 1, "host"}, kT0).ok());
  ASSERT_TRUE(s.AddPut(1, 10, 0, 3, "abc").ok());
  ASSERT_TRUE(s.SubmitTasks(1, {Def(1, "load", {}), Def(2, "load", {}),
                                Def(3, "add", {1, 2, 10})})
                  .ok());
  (void)s.TakeActions();
  std::optional<std::vector<GraphNode>> graph = s.Graph(100);
  ASSERT_TRUE(graph.has_value());
  ASSERT_EQ(graph->size(), 4u);
  const GraphNode& put = Node(*graph, 10);
  EXPECT_EQ(put.name, "put");
  EXPECT_EQ(put.function, "");
  EXPECT_EQ(put.state, TaskState::kMemory);
  EXPECT_THAT(put.deps, IsEmpty());
  const GraphNode& add = Node(*graph, 3);
  EXPECT_EQ(add.function, "add");
  EXPECT_EQ(add.state, TaskState::kWaiting);
  EXPECT_THAT(add.deps, UnorderedElementsAre(1, 2, 10));
  // One load runs on the one-thread worker, the other waits.
  std::vector<TaskState> loads = {Node(*graph, 1).state,
                                  Node(*graph, 2).state};
  EXPECT_THAT(loads, UnorderedElementsAre(TaskState::kProcessing,
                                          TaskState::kReady));
}

TEST(SchedulerGraphTest, NothingForLargeGraphs) {
  SchedulerState s;
  ASSERT_TRUE(s.AddClient(1).ok());
  std::vector<TaskDef> tasks;
  for (ObjectId id = 1; id <= 11; ++id) tasks.push_back(Def(id, "f", {}));
  ASSERT_TRUE(s.SubmitTasks(1, std::move(tasks)).ok());
  EXPECT_FALSE(s.Graph(10).has_value());
  EXPECT_TRUE(s.Graph(11).has_value());
  // An empty scheduler has an empty graph.
  SchedulerState empty;
  ASSERT_TRUE(empty.Graph(10).has_value());
  EXPECT_THAT(*empty.Graph(10), ElementsAre());
}

}  // namespace
}  // namespace weft::scheduler
