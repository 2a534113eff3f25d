// Copyright 2026 The weft Authors.

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "core/slurm_start.h"
#include "weft/weft.h"
#include "worker/worker.h"

namespace weft {

void Init(int& argc, char** argv) {
  absl::Status registry = Registry::Global().Validate();
  if (!registry.ok()) {
    std::cerr << registry.message() << std::endl;
    std::exit(2);
  }
  std::optional<worker::WorkerOptions> worker =
      worker::WorkerOptionsFromFlags(argc, argv);
  if (worker.has_value()) {
    const int code = worker::RunWorker(*worker);
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
