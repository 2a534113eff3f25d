// Copyright 2026 The weft Authors.

#include "deploy/slurm_env.h"

#include <algorithm>
#include <cstdlib>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

extern char** environ;

namespace weft::deploy {
namespace {

bool AllDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

const std::string* Find(const EnvMap& env, const std::string& name) {
  auto it = env.find(name);
  return it == env.end() || it->second.empty() ? nullptr : &it->second;
}

// The variable as a number >= `minimum`; nullopt if absent. Errors:
// InvalidArgument naming it if malformed.
absl::StatusOr<std::optional<int>> Number(const EnvMap& env,
                                          const std::string& name,
                                          int minimum) {
  const std::string* value = Find(env, name);
  if (value == nullptr) return std::nullopt;
  int n = 0;
  if (!absl::SimpleAtoi(*value, &n) || n < minimum) {
    return absl::InvalidArgumentError(absl::StrCat(
        "weft: SLURM's ", name, " is '", *value, "', not a number >= ",
        minimum));
  }
  return n;
}

// Entry `index` of the count list in variable `name`; nullopt if absent.
absl::StatusOr<std::optional<int>> ListEntry(const EnvMap& env,
                                             const std::string& name,
                                             int index) {
  const std::string* value = Find(env, name);
  if (value == nullptr) return std::nullopt;
  absl::StatusOr<std::vector<int>> counts = ExpandCountList(*value);
  if (!counts.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("weft: SLURM's ", name, ": ", counts.status().message()));
  }
  if (index < 0 || index >= static_cast<int>(counts->size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("weft: SLURM's ", name, " is '", *value,
                     "', which has no entry for node ", index));
  }
  return (*counts)[index];
}

EnvMap ProcessEnvironment() {
  EnvMap env;
  for (char** e = environ; *e != nullptr; ++e) {
    absl::string_view entry = *e;
    if (!absl::StartsWith(entry, "SLURM_")) continue;
    const size_t eq = entry.find('=');
    if (eq == absl::string_view::npos) continue;
    env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return env;
}

}  // namespace

absl::StatusOr<std::vector<int>> ExpandCountList(const std::string& list) {
  std::vector<int> out;
  for (absl::string_view item : absl::StrSplit(list, ',')) {
    int repeat = 1;
    const size_t paren = item.find('(');
    absl::string_view count = item.substr(0, paren);
    if (paren != absl::string_view::npos) {
      absl::string_view times = item.substr(paren);
      if (!absl::ConsumePrefix(&times, "(x") ||
          !absl::ConsumeSuffix(&times, ")") ||
          !absl::SimpleAtoi(times, &repeat) || repeat < 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", list, "' is not a SLURM count list"));
      }
    }
    int n = 0;
    if (!absl::SimpleAtoi(count, &n) || n < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", list, "' is not a SLURM count list"));
    }
    out.insert(out.end(), repeat, n);
  }
  return out;
}

absl::StatusOr<std::optional<SlurmTask>> SlurmTaskFrom(const EnvMap& env) {
  const std::string* job = Find(env, "SLURM_JOB_ID");
  if (job == nullptr) return std::nullopt;
  if (!AllDigits(*job)) {
    return absl::InvalidArgumentError(
        absl::StrCat("weft: SLURM's SLURM_JOB_ID is '", *job,
                     "', not a job id"));
  }
  SlurmTask task;
  task.job_id = *job;
  if (const std::string* step = Find(env, "SLURM_STEP_ID")) {
    task.step_id = *step;
  }
  absl::StatusOr<std::optional<int>> procid = Number(env, "SLURM_PROCID", 0);
  if (!procid.ok()) return procid.status();
  task.procid = procid->value_or(0);
  absl::StatusOr<std::optional<int>> ntasks =
      Number(env, "SLURM_STEP_NUM_TASKS", 1);
  if (!ntasks.ok()) return ntasks.status();
  if (!ntasks->has_value()) ntasks = Number(env, "SLURM_NTASKS", 1);
  if (!ntasks.ok()) return ntasks.status();
  task.ntasks = ntasks->value_or(1);
  absl::StatusOr<std::optional<int>> nodeid = Number(env, "SLURM_NODEID", 0);
  if (!nodeid.ok()) return nodeid.status();
  task.nodeid = nodeid->value_or(0);

  absl::StatusOr<std::optional<int>> per_task =
      Number(env, "SLURM_CPUS_PER_TASK", 1);
  if (!per_task.ok()) return per_task.status();
  absl::StatusOr<std::optional<int>> on_node =
      Number(env, "SLURM_CPUS_ON_NODE", 1);
  if (!on_node.ok()) return on_node.status();
  if (per_task->has_value()) {
    task.cpus = **per_task;
  } else if (task.step_id.has_value()) {
    absl::StatusOr<std::optional<int>> here =
        ListEntry(env, "SLURM_STEP_TASKS_PER_NODE", task.nodeid);
    if (!here.ok()) return here.status();
    if (on_node->has_value()) {
      task.cpus = std::max(1, **on_node / here->value_or(1));
    }
  } else if (on_node->has_value()) {
    task.cpus = **on_node;
  } else {
    absl::StatusOr<std::optional<int>> job_cpus =
        ListEntry(env, "SLURM_JOB_CPUS_PER_NODE", task.nodeid);
    if (!job_cpus.ok()) return job_cpus.status();
    task.cpus = job_cpus->value_or(1);
  }
  return task;
}

absl::StatusOr<std::optional<SlurmTask>> CurrentSlurmTask() {
  return SlurmTaskFrom(ProcessEnvironment());
}

std::optional<std::string> CurrentSlurmJobId() {
  const char* job = std::getenv("SLURM_JOB_ID");
  if (job == nullptr || !AllDigits(job)) return std::nullopt;
  return std::string(job);
}

absl::StatusOr<int> DefaultWorkerThreads() {
  absl::StatusOr<std::optional<SlurmTask>> task = CurrentSlurmTask();
  if (!task.ok()) return task.status();
  return task->has_value() ? (*task)->cpus : 1;
}

}  // namespace weft::deploy
