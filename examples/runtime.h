// Picks the runtime an example program runs on, from its command line, so
// the same task code runs on every runtime:
//
//   (no flag)             the embedded runtime: threads of this process
//   --cluster=N           a weft::LocalCluster: N worker processes (this
//                         binary re-executed) with --threads_per_worker=K
//                         task slots each (default 1)
//   --scheduler=HOST:PORT a running cluster (weft::Client::Connect; the
//                         token comes from $WEFT_TOKEN or ~/.weft/token)
//
//   int main(int argc, char** argv) {
//     weft::Init(argc, argv);                   // first: workers stop here
//     weft::examples::Flags flags(argc, argv);
//     weft::examples::Runtime runtime(flags, /*threads=*/4);
//     const int n = flags.Int("n", 100);
//     flags.Done();
//     weft::Client client = runtime.client();   // starts the runtime
//     std::printf("%s\n", runtime.description().c_str());
//     ... weft calls, the same on every runtime ...
//   }                                           // a LocalCluster stops here
//
// The constructor only reads the flags; the runtime starts on the first
// client() or description() call, so call flags.Done() before that and a
// mistyped flag never starts worker processes. The client is also made the
// default for weft's free functions.

#ifndef WEFT_EXAMPLES_RUNTIME_H_
#define WEFT_EXAMPLES_RUNTIME_H_

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include "examples/flags.h"
#include "weft/weft.h"

namespace weft::examples {

class Runtime {
 public:
  // Reads --cluster, --threads_per_worker and --scheduler. `threads` is the
  // embedded runtime's slot count, the example's usual one (0: one per
  // core). Exits with status 2 on contradictory or out-of-range flags.
  Runtime(Flags& flags, int threads)
      : threads_(threads),
        cluster_workers_(static_cast<int>(flags.Int("cluster", 0))),
        threads_per_worker_(
            static_cast<int>(flags.Int("threads_per_worker", 1))),
        scheduler_(flags.String("scheduler", "")) {
    if (cluster_workers_ < 0 || threads_per_worker_ < 1) {
      Fail("need --cluster >= 1 and --threads_per_worker >= 1");
    }
    if (cluster_workers_ > 0 && !scheduler_.empty()) {
      Fail("give --cluster or --scheduler, not both");
    }
  }

  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // The client of the chosen runtime, started on first use. Exits with
  // status 1 and the reason on stderr if a cluster cannot be started or
  // reached.
  weft::Client client() {
    Start();
    return *client_;
  }

  // True when tasks run on the embedded runtime (no --cluster or
  // --scheduler).
  bool embedded() const {
    return cluster_workers_ == 0 && scheduler_.empty();
  }

  // One line saying where tasks run, e.g. "LocalCluster: 2 worker processes
  // x 1 thread" or "embedded runtime: 4 threads".
  std::string description() {
    Start();
    return description_;
  }

 private:
  void Start() {
    if (client_.has_value()) return;
    try {
      if (cluster_workers_ > 0) {
        weft::LocalCluster::Options options;
        options.workers = cluster_workers_;
        options.threads_per_worker = threads_per_worker_;
        cluster_ = std::make_unique<weft::LocalCluster>(options);
        client_ = cluster_->client();
        description_ = "LocalCluster: " + Count(cluster_workers_, "worker process", "worker processes") +
                       " x " + Count(threads_per_worker_, "thread", "threads");
      } else if (!scheduler_.empty()) {
        client_ = weft::Client::Connect(scheduler_);
        description_ = "cluster at " + scheduler_ + ": " +
                       Count(static_cast<int>(client_->workers().size()),
                             "worker", "workers") +
                       ", " + Count(client_->num_slots(), "task slot",
                                    "task slots");
      } else {
        client_ = weft::Client::Local(threads_);
        description_ = "embedded runtime: " +
                       Count(client_->num_slots(), "thread", "threads");
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "cannot start the runtime: %s\n", e.what());
      std::exit(1);
    }
    client_->make_default();
  }

  static std::string Count(int n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  }

  [[noreturn]] static void Fail(const std::string& message) {
    std::fprintf(stderr, "%s\n", message.c_str());
    std::exit(2);
  }

  const int threads_;
  const int cluster_workers_;
  const int threads_per_worker_;
  const std::string scheduler_;
  // Declared before client_ so the client is released first.
  std::unique_ptr<weft::LocalCluster> cluster_;
  std::optional<weft::Client> client_;
  std::string description_;
};

}  // namespace weft::examples

#endif  // WEFT_EXAMPLES_RUNTIME_H_
