// Copyright 2026 The weft Authors.

#include "deploy/slurm_env.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace weft::deploy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ExpandCountList, ExpandsRepeats) {
  EXPECT_THAT(ExpandCountList("2(x3),1").value(), ElementsAre(2, 2, 2, 1));
  EXPECT_THAT(ExpandCountList("4").value(), ElementsAre(4));
  EXPECT_THAT(ExpandCountList("1(x2)").value(), ElementsAre(1, 1));
  for (const char* bad : {"", "x", "2(3)", "2(x0)", "0", "2,", "2(x2"}) {
    EXPECT_FALSE(ExpandCountList(bad).ok()) << bad;
  }
}

TEST(SlurmTaskFrom, OutsideAJobIsNothing) {
  EXPECT_EQ(SlurmTaskFrom({}).value(), std::nullopt);
  EXPECT_EQ(SlurmTaskFrom({{"SLURM_NTASKS", "4"}}).value(), std::nullopt);
}

// The variables of the batch script of `sbatch --ntasks=3` (SLURM 22.05).
TEST(SlurmTaskFrom, BatchScriptHasTheNodesAllocation) {
  const EnvMap env = {{"SLURM_JOB_ID", "4486"},     {"SLURM_NTASKS", "3"},
                      {"SLURM_CPUS_ON_NODE", "2"},  {"SLURM_PROCID", "0"},
                      {"SLURM_NODEID", "0"},        {"SLURM_TASKS_PER_NODE", "2,1"},
                      {"SLURM_JOB_CPUS_PER_NODE", "2,1"}};
  const SlurmTask task = SlurmTaskFrom(env).value().value();
  EXPECT_EQ(task.job_id, "4486");
  EXPECT_EQ(task.step_id, std::nullopt);
  EXPECT_EQ(task.procid, 0);
  EXPECT_EQ(task.ntasks, 3);
  EXPECT_EQ(task.cpus, 2);
}

TEST(SlurmTaskFrom, CpusPerTaskWins) {
  const EnvMap env = {{"SLURM_JOB_ID", "7"},          {"SLURM_STEP_ID", "0"},
                      {"SLURM_PROCID", "2"},          {"SLURM_STEP_NUM_TASKS", "3"},
                      {"SLURM_NTASKS", "5"},          {"SLURM_NODEID", "1"},
                      {"SLURM_CPUS_PER_TASK", "2"},   {"SLURM_CPUS_ON_NODE", "4"},
                      {"SLURM_STEP_TASKS_PER_NODE", "2,1"}};
  const SlurmTask task = SlurmTaskFrom(env).value().value();
  EXPECT_EQ(task.step_id, "0");
  EXPECT_EQ(task.procid, 2);
  EXPECT_EQ(task.ntasks, 3);  // the step's, not the job's
  EXPECT_EQ(task.nodeid, 1);
  EXPECT_EQ(task.cpus, 2);
}

TEST(SlurmTaskFrom, StepTaskSharesItsNodesCpus) {
  EnvMap env = {{"SLURM_JOB_ID", "7"},       {"SLURM_STEP_ID", "1"},
                {"SLURM_PROCID", "1"},       {"SLURM_STEP_NUM_TASKS", "4"},
                {"SLURM_NODEID", "0"},       {"SLURM_CPUS_ON_NODE", "6"},
                {"SLURM_STEP_TASKS_PER_NODE", "3,1"}};
  EXPECT_EQ(SlurmTaskFrom(env).value()->cpus, 2);
  env["SLURM_NODEID"] = "1";
  EXPECT_EQ(SlurmTaskFrom(env).value()->cpus, 6);
  env["SLURM_CPUS_ON_NODE"] = "1";
  env["SLURM_NODEID"] = "0";
  EXPECT_EQ(SlurmTaskFrom(env).value()->cpus, 1);  // never 0
}

TEST(SlurmTaskFrom, FallsBackToTheJobsCpusPerNode) {
  const EnvMap env = {{"SLURM_JOB_ID", "7"},
                      {"SLURM_NODEID", "2"},
                      {"SLURM_JOB_CPUS_PER_NODE", "4(x2),8"}};
  EXPECT_EQ(SlurmTaskFrom(env).value()->cpus, 8);
  EXPECT_EQ(SlurmTaskFrom({{"SLURM_JOB_ID", "7"}}).value()->cpus, 1);
}

TEST(SlurmTaskFrom, MalformedVariablesAreNamed) {
  EXPECT_THAT(SlurmTaskFrom({{"SLURM_JOB_ID", "12a"}}).status().message(),
              HasSubstr("SLURM_JOB_ID is '12a'"));
  EXPECT_THAT(SlurmTaskFrom({{"SLURM_JOB_ID", "1"},
                             {"SLURM_CPUS_PER_TASK", "0"}})
                  .status()
                  .message(),
              HasSubstr("SLURM_CPUS_PER_TASK is '0'"));
  EXPECT_THAT(SlurmTaskFrom({{"SLURM_JOB_ID", "1"},
                             {"SLURM_STEP_ID", "0"},
                             {"SLURM_NODEID", "3"},
                             {"SLURM_CPUS_ON_NODE", "4"},
                             {"SLURM_STEP_TASKS_PER_NODE", "2,1"}})
                  .status()
                  .message(),
              HasSubstr("no entry for node 3"));
}

}  // namespace
}  // namespace weft::deploy
