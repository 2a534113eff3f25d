// Section 3.1.2 of the parallelization tutorial: check that every worker
// answers.
//
//   c = ipp.Cluster(n=4).start_and_connect_sync()
//   c.ids                              # [0, 1, 2, 3]
//   dview = c[:]
//   dview.apply(lambda: "Hello, World")
//   # ['Hello, World', 'Hello, World', 'Hello, World', 'Hello, World']
//
// Run: bazel run //examples:hello_workers -- --workers=4
//
// On the embedded runtime the "workers" are the client's task slots
// (threads of this process), so the program submits one task per slot. The
// scheduler may run several of them on the same thread; the point is that
// tasks run and answer. On a cluster this becomes
// client.run_on_all_workers(Hello), which runs once on every worker
// process (ipyparallel's direct view); that call is not in the API yet.

#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

#include "examples/flags.h"
#include "weft/weft.h"

namespace {

// Runs as a task: the greeting, plus the task's key to show it ran as one.
std::vector<std::string> Hello() {
  return {"Hello, World", weft::this_task::key()};
}
WEFT_REMOTE(Hello);

}  // namespace

int main(int argc, char** argv) {
  weft::Init(argc, argv);
  weft::examples::Flags flags(argc, argv);
  const int workers = static_cast<int>(flags.Int("workers", 4));
  flags.Done();

  weft::Client client = weft::Client::Local(workers);
  std::printf("slots: [");
  for (int i = 0; i < client.num_slots(); ++i) {
    std::printf("%s%d", i == 0 ? "" : ", ", i);
  }
  std::printf("]\n");

  // dview.apply(lambda: "Hello, World"): one task per slot.
  std::vector<weft::ObjectRef<std::vector<std::string>>> futures;
  for (int i = 0; i < client.num_slots(); ++i) {
    futures.push_back(weft::remote(Hello)());
  }
  const std::vector<std::vector<std::string>> answers = weft::get(futures);

  std::printf("[");
  for (std::size_t i = 0; i < answers.size(); ++i) {
    std::printf("%s'%s'", i == 0 ? "" : ", ", answers[i][0].c_str());
  }
  std::printf("]\n");
  for (const auto& answer : answers) {
    std::printf("  answered by task %s\n", answer[1].c_str());
  }
  return 0;
}
