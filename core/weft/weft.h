// Copyright 2026 The weft Authors.
//
// weft: lazy task graphs with futures. The one header users include.
//
//   #include "weft/weft.h"
//   double Square(double x) { return x * x; }
//   double Total(std::vector<double> xs);
//   WEFT_REMOTE(Square, Total);
//
//   int main(int argc, char** argv) {
//     weft::Init(argc, argv);        // a worker process never returns here
//     std::vector<weft::Delayed<double>> parts;
//     for (int i = 0; i < 10; ++i) parts.push_back(weft::delayed(Square)(i));
//     double total = weft::compute(weft::delayed(Total)(parts));
//     weft::ObjectRef<double> r = weft::remote(Square)(3.0);
//     double nine = weft::get(r);
//   }
//
// The same program runs on the embedded runtime (the default), on a
// weft::LocalCluster of worker processes, or on a cluster reached with
// weft::Client::Connect. Free functions use the current client
// (Client::Current()); each is also a method of weft::Client. See
// docs/api.md.

#ifndef WEFT_CORE_WEFT_WEFT_H_
#define WEFT_CORE_WEFT_WEFT_H_

#include "weft/actor.h"    // IWYU pragma: export
#include "weft/api.h"      // IWYU pragma: export
#include "weft/cluster.h"  // IWYU pragma: export
#include "weft/report.h"   // IWYU pragma: export
#include "weft/slurm_cluster.h"  // IWYU pragma: export

namespace weft {

// Prepares the process; call it first in main().
//  - Checks the function registry: a name registered twice is reported on
//    stderr and the process exits with status 2.
//  - If the process was started as a cluster worker (by LocalCluster, by
//    `weft worker`-style launchers passing --weft-worker, or with
//    WEFT_WORKER=1), runs the worker until the scheduler stops it and exits;
//    it never returns.
//  - Removes weft's own --weft-* flags from argc/argv.
void Init(int& argc, char** argv);

}  // namespace weft

#endif  // WEFT_CORE_WEFT_WEFT_H_
