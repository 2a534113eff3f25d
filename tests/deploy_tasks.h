// Copyright 2026 The weft Authors.
//
// Task functions of the deployment tests (SLURM, ssh): linked into
// deploy_program and the tests, and built as libdeploy_tasks.so for `weft
// worker --load`, as docs/deploy.md's recipes build theirs.

#ifndef WEFT_TESTS_DEPLOY_TASKS_H_
#define WEFT_TESTS_DEPLOY_TASKS_H_

#include <string>
#include <vector>

namespace deploy_tasks {

// "HOST PID" of the worker running it: its host name and process id.
std::string Where();

double Square(double x);

// Sleeps `ms` milliseconds, then returns x * x.
double SlowSquare(double x, int ms);

// Appends Where() as a line to `file` (which worker ran it, and how many
// times it ran), then returns `n` doubles
// (i * 0.5 for i < n): a result big enough to stay on its worker.
std::vector<double> MarkedArray(std::string file, int n);

// On the worker of SLURM task `procid` ($SLURM_PROCID), the first time
// (no file at $WEFT_TEST_CRASH_MARKER yet): makes that file and aborts the
// worker process. Elsewhere, and afterwards, returns Where().
std::string CrashOnceOnTask(int procid);

}  // namespace deploy_tasks

#endif  // WEFT_TESTS_DEPLOY_TASKS_H_
