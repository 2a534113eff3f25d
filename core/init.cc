// Copyright 2026 The weft Authors.

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "core/slurm_start.h"
#include "weft/weft.h"
#include "worker/supervisor.h"
#include "worker/worker_main.h"

namespace weft {

void Init(int& argc, char** argv) {
  absl::Status registry = Registry::Global().Validate();
  if (!registry.ok()) {
    std::cerr << registry.message() << std::endl;
    std::exit(2);
  }
  const std::vector<std::string> original(argv, argv + argc);
  std::optional<worker::WorkerOptions> worker =
      worker::WorkerOptionsFromFlags(argc, argv);
  if (worker.has_value()) {
    int code;
    if (worker->supervised && !worker::IsSupervisedChild()) {
      // This process watches; a child runs this program as the worker.
      worker::SupervisorOptions supervision;
      supervision.max_restarts = worker->max_restarts;
      code = worker::Supervise(original, supervision);
    } else {
      code = worker::RunWorker(*worker);
    }
    // gRPC keeps threads of its own; skip static destructors that could
    // race with them.
    std::fflush(nullptr);
    std::_Exit(code);
  }
  // `srun ./my_program --weft-slurm`: task 0 goes on with its cluster up,
  // the other tasks serve as workers and exit.
  internal::StartSlurmStepIfAsked(argc, argv);
}

}  // namespace weft
