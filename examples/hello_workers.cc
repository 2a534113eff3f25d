// Section 3.1.2 of the parallelization tutorial: check that every worker
// answers.
//
//   c = ipp.Cluster(n=4).start_and_connect_sync()
//   c.ids                              # [0, 1, 2, 3]
//   dview = c[:]
//   dview.apply(lambda: "Hello, World")
//   # ['Hello, World', 'Hello, World', 'Hello, World', 'Hello, World']
//
// Run: bazel run //examples:hello_workers -- --cluster=4
//
// client.run_on_all_workers(Hello) is the direct view: Hello runs once on
// every worker and the results come back one per worker. On a LocalCluster
// (--cluster=N) the workers are N processes; on the embedded runtime (no
// flag; --workers sets its thread count) the one worker is this process.
// Each answer carries the process id it was computed in, to show where it
// ran.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "examples/flags.h"
#include "examples/runtime.h"
#include "weft/weft.h"

namespace {

// What a worker answers.
struct Greeting {
  std::string text;
  int64_t pid = 0;  // the process that ran Hello

  template <class Archive>
  void serialize(Archive& ar) {
    ar(text, pid);
  }
};

Greeting Hello() { return {"Hello, World", static_cast<int64_t>(getpid())}; }
WEFT_REMOTE(Hello);

}  // namespace

int main(int argc, char** argv) {
  weft::Init(argc, argv);
  weft::examples::Flags flags(argc, argv);
  weft::examples::Runtime runtime(
      flags, /*threads=*/static_cast<int>(flags.Int("workers", 4)));
  flags.Done();

  // c = ipp.Cluster(n=4).start_and_connect_sync()
  weft::Client client = runtime.client();
  std::printf("%s\n", runtime.description().c_str());

  // c.ids
  const auto workers = client.workers();
  std::printf("ids: [");
  for (std::size_t i = 0; i < workers.size(); ++i) {
    std::printf("%s%zu", i == 0 ? "" : ", ", i);
  }
  std::printf("]\n");

  // dview.apply(lambda: "Hello, World")
  const std::vector<Greeting> answers = client.run_on_all_workers(Hello);
  std::printf("[");
  for (std::size_t i = 0; i < answers.size(); ++i) {
    std::printf("%s'%s'", i == 0 ? "" : ", ", answers[i].text.c_str());
  }
  std::printf("]\n");
  for (const Greeting& answer : answers) {
    std::printf("  answered by process %lld%s\n",
                static_cast<long long>(answer.pid),
                answer.pid == getpid() ? " (this program)" : "");
  }
  return answers.size() == workers.size() ? 0 : 1;
}
