// Copyright 2026 The weft Authors.

#include "deploy/slurm_jobs.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "deploy/run_command.h"

namespace weft::deploy {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The last `lines` lines of `text`.
std::string Tail(const std::string& text, size_t lines) {
  std::vector<absl::string_view> all = absl::StrSplit(text, '\n');
  if (!all.empty() && all.back().empty()) all.pop_back();
  const size_t from = all.size() > lines ? all.size() - lines : 0;
  return absl::StrJoin(all.begin() + from, all.end(), "\n");
}

std::string Said(const CommandResult& r) {
  return std::string(absl::StripAsciiWhitespace(r.err + r.out));
}

}  // namespace

std::string WorkerJobScript(const WorkerJobSpec& spec) {
  std::string script = "#!/bin/sh\n";
  auto directive = [&](const std::string& option) {
    absl::StrAppend(&script, "#SBATCH ", option, "\n");
  };
  directive("--job-name=" + spec.job_name);
  directive("--ntasks=1");
  directive(absl::StrCat("--cpus-per-task=", spec.cores));
  if (!spec.memory.empty()) directive("--mem=" + spec.memory);
  if (!spec.walltime.empty()) directive("--time=" + spec.walltime);
  if (!spec.partition.empty()) directive("--partition=" + spec.partition);
  if (!spec.account.empty()) directive("--account=" + spec.account);
  directive("--output=" + ShellQuote(spec.directory + "/slurm-%j.out"));
  for (const std::string& d : spec.directives) directive(d);
  for (const std::string& line : spec.prologue) {
    absl::StrAppend(&script, line, "\n");
  }
  // The worker replaces this shell (exec), so it has the shell's pid.
  const std::string note =
      ShellQuote(spec.directory) + "/job-$SLURM_JOB_ID";
  absl::StrAppend(&script, "echo \"$(hostname) $$\" > ", note, ".tmp && mv ",
                  note, ".tmp ", note, "\n");
  absl::StrAppend(&script, "exec ", ShellCommand(spec.worker_command), "\n");
  return script;
}

WorkerJobPool::WorkerJobPool(Options options,
                             std::function<ClusterLoad()> load)
    : options_(std::move(options)), load_(std::move(load)) {
  thread_ = std::thread([this] { Loop(); });
}

WorkerJobPool::~WorkerJobPool() {
  if (absl::Status s = Close(); !s.ok()) {
    std::fprintf(stderr, "weft: %s\n", std::string(s.message()).c_str());
  }
}

absl::Status WorkerJobPool::Scale(int n) {
  if (n < 0) return absl::InvalidArgumentError("weft: scale(n) needs n >= 0");
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return absl::FailedPreconditionError("weft: the pool closed");
    fixed_ = n;
    adapt_.reset();
    failed_starts_ = 0;  // the user asks again
  }
  return Poll();
}

absl::Status WorkerJobPool::Adapt(int minimum, int maximum) {
  if (minimum < 0 || maximum < minimum) {
    return absl::InvalidArgumentError(absl::StrCat(
        "weft: adapt(minimum, maximum) needs 0 <= minimum <= maximum, got ",
        minimum, ", ", maximum));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return absl::FailedPreconditionError("weft: the pool closed");
    adapt_ = std::make_pair(minimum, maximum);
    fixed_.reset();
    want_fewer_ = 0;
    failed_starts_ = 0;
  }
  wake_.notify_all();
  return absl::OkStatus();
}

std::vector<int64_t> WorkerJobPool::jobs() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<int64_t> ids;
  for (const Job& job : jobs_) ids.push_back(job.id);
  return ids;
}

std::string WorkerJobPool::last_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

absl::Status WorkerJobPool::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return absl::OkStatus();
    closed_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> poll(poll_mu_);
  std::vector<int64_t> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Job& job : jobs_) ids.push_back(job.id);
    jobs_.clear();
  }
  return CancelJobs(ids);
}

void WorkerJobPool::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!closed_) {
    wake_.wait_for(lock, absl::ToChronoMilliseconds(options_.poll_interval));
    if (closed_) break;
    lock.unlock();
    (void)Poll();  // its errors are in last_error()
    lock.lock();
  }
}

absl::StatusOr<int64_t> WorkerJobPool::SubmitOne() {
  absl::StatusOr<CommandResult> run =
      RunCommand({options_.commands.sbatch, "--parsable"},
                 WorkerJobScript(options_.spec), options_.command_timeout);
  if (!run.ok()) return run.status();
  // "ID" or "ID;CLUSTER".
  const std::string id_text(absl::StripAsciiWhitespace(
      run->out.substr(0, run->out.find(';'))));
  int64_t id = 0;
  if (run->exit_code != 0 || !absl::SimpleAtoi(id_text, &id)) {
    return absl::InternalError(
        absl::StrCat("weft: sbatch could not submit a worker job: ", Said(*run)));
  }
  return id;
}

absl::Status WorkerJobPool::CancelJobs(const std::vector<int64_t>& ids) {
  if (ids.empty()) return absl::OkStatus();
  std::vector<std::string> argv = {options_.commands.scancel};
  for (int64_t id : ids) argv.push_back(absl::StrCat(id));
  absl::StatusOr<CommandResult> run =
      RunCommand(argv, "", options_.command_timeout);
  if (!run.ok()) return run.status();
  if (run->exit_code != 0) {
    return absl::InternalError(absl::StrCat("weft: scancel ",
                                            absl::StrJoin(ids, " "),
                                            " failed: ", Said(*run)));
  }
  return absl::OkStatus();
}

std::vector<int64_t> WorkerJobPool::Surplus(const std::vector<Job>& jobs,
                                            const ClusterLoad& load,
                                            size_t target,
                                            bool busy_too) const {
  std::vector<int64_t> out;
  if (jobs.size() <= target) return out;
  size_t excess = jobs.size() - target;
  auto busy = [&](const Job& job) {
    if (!job.worker.has_value()) return false;
    for (const WorkerLoad& w : load.workers) {
      if (w.host == job.worker->first && w.pid == job.worker->second) {
        return w.processing > 0;
      }
    }
    return false;  // gone, or not joined yet
  };
  // Newest first within each kind.
  for (int pass = 0; pass < 3 && excess > 0; ++pass) {
    if (pass == 2 && !busy_too) break;
    for (auto it = jobs.rbegin(); it != jobs.rend() && excess > 0; ++it) {
      const bool chosen = pass == 0   ? !it->running
                          : pass == 1 ? it->running && !busy(*it)
                                      : it->running && busy(*it);
      if (chosen) {
        out.push_back(it->id);
        --excess;
      }
    }
  }
  return out;
}

absl::Status WorkerJobPool::Poll() {
  std::lock_guard<std::mutex> poll(poll_mu_);
  std::vector<int64_t> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return absl::OkStatus();
    for (const Job& job : jobs_) ids.push_back(job.id);
  }
  // 1. Which of our jobs are still queued or running.
  std::map<int64_t, std::string> states;
  if (!ids.empty()) {
    absl::StatusOr<CommandResult> run = RunCommand(
        {options_.commands.squeue, "--noheader", "--format=%i %T",
         "--jobs=" + absl::StrJoin(ids, ",")},
        "", options_.command_timeout);
    if (!run.ok() || (run->exit_code != 0 &&
                      !absl::StrContains(run->err, "Invalid job id"))) {
      const std::string error = absl::StrCat(
          "weft: squeue failed: ",
          run.ok() ? Said(*run) : std::string(run.status().message()));
      std::lock_guard<std::mutex> lock(mu_);
      last_error_ = error;
      return absl::InternalError(error);
    }
    if (run->exit_code == 0) {
      for (absl::string_view line :
           absl::StrSplit(run->out, '\n', absl::SkipWhitespace())) {
        std::vector<std::string> words =
            absl::StrSplit(line, ' ', absl::SkipWhitespace());
        int64_t id = 0;
        if (words.size() == 2 && absl::SimpleAtoi(words[0], &id)) {
          states[id] = words[1];
        }
      }
    }
  }
  // 2. What the scheduler sees.
  const ClusterLoad load = load_();

  // 3. Bring the jobs up to date, then decide.
  std::vector<Job> jobs;
  size_t target = 0;
  bool act = false;
  bool busy_too = false;
  bool may_submit = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Job> kept;
    for (Job& job : jobs_) {
      auto it = states.find(job.id);
      const bool listed = it != states.end() && it->second != "COMPLETING";
      if (!listed) {
        if (!job.joined && !job.cancelled) {
          ++failed_starts_;
          const std::string output = ReadFile(absl::StrCat(
              options_.spec.directory, "/slurm-", job.id, ".out"));
          last_error_ = absl::StrCat(
              "weft: worker job ", job.id,
              " ended before its worker joined the scheduler; its output:\n",
              Tail(output, 10));
          std::fprintf(stderr, "%s\n", last_error_.c_str());
        }
        continue;
      }
      job.running = it->second != "PENDING" && it->second != "CONFIGURING";
      if (!job.worker.has_value()) {
        std::vector<std::string> note = absl::StrSplit(
            ReadFile(absl::StrCat(options_.spec.directory, "/job-", job.id)),
            absl::ByAnyChar(" \n"), absl::SkipWhitespace());
        int64_t pid = 0;
        if (note.size() == 2 && absl::SimpleAtoi(note[1], &pid)) {
          job.worker = std::make_pair(note[0], pid);
        }
      }
      if (job.worker.has_value() && !job.joined) {
        for (const WorkerLoad& w : load.workers) {
          if (w.host == job.worker->first && w.pid == job.worker->second) {
            job.joined = true;
            failed_starts_ = 0;
          }
        }
      }
      kept.push_back(job);
    }
    jobs_ = std::move(kept);
    // Cancelled jobs stay listed until they end, but count no more.
    for (const Job& job : jobs_) {
      if (!job.cancelled) jobs.push_back(job);
    }
    may_submit = failed_starts_ < options_.max_failed_starts;
    if (fixed_.has_value()) {
      target = static_cast<size_t>(*fixed_);
      act = true;
      busy_too = true;
    } else if (adapt_.has_value()) {
      const int cores = std::max(1, options_.spec.cores);
      size_t cpus = load.ready_tasks;
      for (const WorkerLoad& w : load.workers) {
        cpus += static_cast<size_t>(std::min(w.processing, w.nthreads));
      }
      size_t want = (cpus + cores - 1) / cores;
      want = std::clamp(want, static_cast<size_t>(adapt_->first),
                        static_cast<size_t>(adapt_->second));
      if (want >= jobs.size()) {
        want_fewer_ = 0;
        target = want;
        act = true;
      } else if (++want_fewer_ >= options_.scale_down_after) {
        target = want;
        act = true;
      }
    }
  }
  if (!act) return absl::OkStatus();

  // 4. Submit or cancel.
  absl::Status status;
  if (jobs.size() < target && may_submit) {
    for (size_t i = jobs.size(); i < target; ++i) {
      absl::StatusOr<int64_t> id = SubmitOne();
      if (!id.ok()) {
        status = id.status();
        break;
      }
      std::lock_guard<std::mutex> lock(mu_);
      Job& job = jobs_.emplace_back();
      job.id = *id;
    }
  } else if (jobs.size() > target) {
    const std::vector<int64_t> surplus = Surplus(jobs, load, target, busy_too);
    if (!surplus.empty()) {
      status = CancelJobs(surplus);
      if (status.ok()) {
        std::lock_guard<std::mutex> lock(mu_);
        for (Job& job : jobs_) {
          if (std::find(surplus.begin(), surplus.end(), job.id) !=
              surplus.end()) {
            job.cancelled = true;
          }
        }
        want_fewer_ = 0;
      }
    }
  }
  if (!status.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    last_error_ = std::string(status.message());
  }
  return status;
}

}  // namespace weft::deploy
