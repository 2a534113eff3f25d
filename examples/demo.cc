// The README's demo (`./weft demo`): what this build links against, then a
// short tour of weft on the embedded runtime (or, with --cluster=N, on a
// LocalCluster of N worker processes; see runtime.h). Every number printed
// is computed here and now.
//
// Run: bazel run //examples:demo [-- --cluster=2]

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <numeric>
#include <stdexcept>
#include <thread>
#include <vector>

#include "boost/fiber/all.hpp"
#include "boost/version.hpp"
#include "google/protobuf/stubs/common.h"
#include "examples/flags.h"
#include "examples/runtime.h"
#include "grpcpp/grpcpp.h"
#include "weft/random.h"
#include "weft/weft.h"

namespace {

double Square(double x) { return x * x; }
double Total(std::vector<double> xs) {
  return std::accumulate(xs.begin(), xs.end(), 0.0);
}

// Monte Carlo estimate of pi from `draws` points of task `task`'s own
// random stream, so the answer does not depend on scheduling.
double PiEstimate(int64_t task, int64_t draws) {
  weft::random::Generator<> rng =
      weft::random::Stream(2026, static_cast<uint64_t>(task));
  int64_t inside = 0;
  for (int64_t i = 0; i < draws; ++i) {
    const double x = rng.random(), y = rng.random();
    inside += x * x + y * y <= 1.0;
  }
  return 4.0 * static_cast<double>(inside) / static_cast<double>(draws);
}

double Ratio(double a, double b) {
  if (b == 0.0) throw std::domain_error("division by zero");
  return a / b;
}

// Fibonacci with one task per call: tasks that submit tasks and wait on
// them. A waiting task gives its slot to others, so this runs on any number
// of slots.
int64_t Fib(int64_t n) {
  if (n < 2) return n;
  weft::ObjectRef<int64_t> a = weft::remote(Fib)(n - 1);
  weft::ObjectRef<int64_t> b = weft::remote(Fib)(n - 2);
  return weft::get(a) + weft::get(b);
}

WEFT_REMOTE(Square, Total, PiEstimate, Ratio, Fib);

double MillisecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - start)
      .count();
}

// Prints what this build links against; returns false if fibers are broken.
bool PrintBuildInfo() {
  std::cout << "weft build\n"
            << "  compiler   g++ " << __VERSION__ << ", C++ " << __cplusplus
            << "\n"
            << "  gRPC       " << grpc::Version() << "\n"
            << "  Protobuf   "
            << google::protobuf::internal::VersionString(
                   GOOGLE_PROTOBUF_VERSION)
            << "\n"
            << "  Boost      " << BOOST_VERSION / 100000 << "."
            << BOOST_VERSION / 100 % 1000 << "\n"
            << "  cores      " << std::thread::hardware_concurrency() << "\n";

  // Two fibers on one thread, to show Boost.Fiber works here.
  int sum = 0;
  boost::fibers::fiber a([&] { sum += 1; });
  boost::fibers::fiber b([&] { sum += 2; });
  a.join();
  b.join();
  std::cout << "  fibers     " << (sum == 3 ? "ok" : "BROKEN") << "\n";
  return sum == 3;
}

}  // namespace

int main(int argc, char** argv) {
  weft::Init(argc, argv);
  weft::examples::Flags flags(argc, argv);
  weft::examples::Runtime runtime(flags, /*threads=*/0);
  flags.Done();
  if (!PrintBuildInfo()) return 1;
  const auto demo_start = std::chrono::steady_clock::now();

  const weft::Client client = runtime.client();  // also the default
  std::printf("\nweft tour on %s\n", runtime.description().c_str());

  // 1. A lazy graph: nothing runs until compute().
  auto start = std::chrono::steady_clock::now();
  std::vector<weft::Delayed<double>> squares;
  for (int i = 1; i <= 100; ++i) squares.push_back(weft::delayed(Square)(i));
  const weft::Delayed<double> total = weft::delayed(Total)(squares);
  std::printf("\n1. delayed: %s built from 100 %s calls\n",
              total.key().c_str(), squares[0].name().c_str());
  const double sum = weft::compute(total);
  std::printf("   compute -> %.0f (1^2 + ... + 100^2), %.1f ms\n", sum,
              MillisecondsSince(start));

  // 2. An eager task: remote() starts it, get() waits for it.
  const weft::ObjectRef<double> nine = weft::remote(Square)(3.0);
  std::cout << "\n2. remote: " << nine << "\n";
  std::printf("   get -> %.0f\n", weft::get(nine));

  // 3. A parallel map: one task per element, load-balanced over the slots.
  const int64_t tasks = 8, draws = 500000;
  start = std::chrono::steady_clock::now();
  double serial_sum = 0.0;
  for (int64_t t = 0; t < tasks; ++t) serial_sum += PiEstimate(t, draws);
  const double serial_ms = MillisecondsSince(start);
  start = std::chrono::steady_clock::now();
  std::vector<int64_t> ids(tasks);
  std::iota(ids.begin(), ids.end(), int64_t{0});
  const std::vector<double> estimates =
      weft::get(weft::map(PiEstimate, ids, std::vector<int64_t>(tasks, draws)));
  const double parallel_ms = MillisecondsSince(start);
  const double pi = std::accumulate(estimates.begin(), estimates.end(), 0.0) /
                    static_cast<double>(tasks);
  std::printf("\n3. map: %lld tasks x %lld random points -> pi ~ %.5f\n",
              static_cast<long long>(tasks), static_cast<long long>(draws),
              pi);
  std::printf("   serial %.0f ms, parallel %.0f ms (%.1fx); same answer: %s\n",
              serial_ms, parallel_ms, serial_ms / parallel_ms,
              serial_sum / static_cast<double>(tasks) == pi ? "yes" : "no");

  // 4. Errors: a task that throws fails every task depending on it, and
  //    get() rethrows the root cause as a weft::TaskError.
  const weft::ObjectRef<double> bad = weft::remote(Ratio)(1.0, 0.0);
  const weft::ObjectRef<double> downstream = weft::remote(Square)(bad);
  try {
    weft::get(downstream);
  } catch (const weft::TaskError& e) {
    std::printf("\n4. errors: get(%s) threw weft::TaskError\n",
                e.requested_key().c_str());
    std::printf("   failed task %s (%s): %s: %s\n", e.task_key().c_str(),
                e.task_name().c_str(), e.exception_type().c_str(),
                e.message().c_str());
  }

  // 5. Nested tasks: each Fib task submits two more and waits for them. A
  //    task waiting in get() gives its slot to other tasks, on a cluster too.
  start = std::chrono::steady_clock::now();
  const int64_t fib = weft::get(weft::remote(Fib)(int64_t{15}));
  std::printf("\n5. nested: Fib(15) = %lld from 1973 tasks, %.0f ms\n",
              static_cast<long long>(fib), MillisecondsSince(start));

  std::printf("\ndone in %.2f s\n", MillisecondsSince(demo_start) / 1000.0);
  return fib == 610 ? 0 : 1;
}
