// A program in another Bazel workspace that depends on @weft//core:weft
// (tests/consumer_test.sh builds and runs it). It runs the same work on the
// embedded runtime and on a LocalCluster of two worker processes, prints
// what each computed, and exits 0 only if every result is right.

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <vector>

#include "weft/weft.h"

namespace {

double Square(double x) { return x * x; }
double Total(std::vector<double> xs) {
  return std::accumulate(xs.begin(), xs.end(), 0.0);
}
// The process a task ran in.
int64_t Pid() { return static_cast<int64_t>(getpid()); }
WEFT_REMOTE(Square, Total, Pid);

int failures = 0;

// Reports a mismatch on stderr and counts it.
void Expect(bool ok, const char* where, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "FAIL: %s: %s\n", where, what);
    ++failures;
  }
}

// Runs a graph and an eager call on the current client; returns the process
// ids the eager tasks ran in.
std::vector<int64_t> Run(const char* where) {
  std::vector<weft::Delayed<double>> parts;
  for (int i = 0; i < 10; ++i) parts.push_back(weft::delayed(Square)(i));
  double total = weft::compute(weft::delayed(Total)(parts));
  double nine = weft::get(weft::remote(Square)(3.0));
  std::vector<weft::ObjectRef<int64_t>> refs;
  for (int i = 0; i < 4; ++i) refs.push_back(weft::remote(Pid)());
  std::vector<int64_t> pids = weft::get(refs);
  std::printf("%s: sum of squares 0..9 = %g, Square(3) = %g\n", where, total,
              nine);
  Expect(total == 285, where, "sum of squares 0..9 is not 285");
  Expect(nine == 9, where, "Square(3) is not 9");
  return pids;
}

}  // namespace

int main(int argc, char** argv) {
  weft::Init(argc, argv);  // worker processes of the cluster stop here
  const int64_t self = static_cast<int64_t>(getpid());
  {
    weft::Client embedded = weft::Client::Local(2);
    for (int64_t pid : Run("embedded runtime")) {
      Expect(pid == self, "embedded runtime", "a task ran in another process");
    }
  }
  {
    weft::LocalCluster cluster(2);
    std::vector<pid_t> workers = cluster.worker_pids();
    Expect(workers.size() == 2, "LocalCluster", "not 2 worker processes");
    for (int64_t pid : Run("LocalCluster of 2 workers")) {
      bool in_worker =
          std::find(workers.begin(), workers.end(), pid) != workers.end();
      Expect(pid != self && in_worker, "LocalCluster",
             "a task ran outside the worker processes");
    }
  }
  if (failures > 0) return 1;
  std::printf("consumer: ok\n");
  return 0;
}
