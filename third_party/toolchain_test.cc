// Smoke tests for the system libraries wired up in third_party/BUILD: each
// one compiles against Debian's headers, links, and does real work.

#include <atomic>
#include <chrono>
#include <cmath>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/fiber/all.hpp"
#include "cblas.h"
#include "gtest/gtest.h"
#include "lapacke.h"

namespace {

TEST(ToolchainTest, AbseilStatusAndStrings) {
  absl::StatusOr<int> ok = 42;
  absl::StatusOr<int> bad = absl::NotFoundError("missing");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 42);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(absl::StrCat("a", 1, "b"), "a1b");
}

TEST(ToolchainTest, FibersInterleaveOnOneThread) {
  // Two fibers ping-pong through a buffered channel on one thread: each
  // blocking pop yields to the other fiber instead of blocking the thread.
  boost::fibers::buffered_channel<int> to_b(2), to_a(2);
  std::vector<int> trace;
  boost::fibers::fiber a([&] {
    for (int i = 0; i < 3; ++i) {
      to_b.push(i);
      int v;
      ASSERT_EQ(to_a.pop(v), boost::fibers::channel_op_status::success);
      trace.push_back(v);
    }
    to_b.close();
  });
  boost::fibers::fiber b([&] {
    int v;
    while (to_b.pop(v) == boost::fibers::channel_op_status::success) {
      to_a.push(v * 10);
    }
  });
  a.join();
  b.join();
  EXPECT_EQ(trace, (std::vector<int>{0, 10, 20}));
}

TEST(ToolchainTest, FiberAsyncFutures) {
  // Futures from fibers::async resolve while the caller's fiber waits, all on
  // one thread: get() suspends the fiber instead of blocking the thread.
  std::vector<boost::fibers::future<int>> futures;
  for (int i = 0; i < 10; ++i) {
    futures.push_back(boost::fibers::async([i] {
      boost::this_fiber::yield();
      return i * i;
    }));
  }
  int sum = 0;
  for (auto& f : futures) sum += f.get();
  EXPECT_EQ(sum, 285);
}

TEST(ToolchainTest, AsioTimerAndPost) {
  boost::asio::io_context io;
  std::atomic<int> steps{0};
  boost::asio::steady_timer timer(io, std::chrono::milliseconds(1));
  timer.async_wait([&](const boost::system::error_code& ec) {
    EXPECT_FALSE(ec);
    steps += 1;
  });
  boost::asio::post(io, [&] { steps += 10; });
  io.run();
  EXPECT_EQ(steps.load(), 11);
}

TEST(ToolchainTest, OpenBlasAndLapacke) {
  // The pthreads build (1; 0 is serial, 2 OpenMP), whose thread count is
  // openblas_set_num_threads()'s to set.
  EXPECT_EQ(openblas_get_parallel(), 1) << openblas_get_config();
  const int before = openblas_get_num_threads();
  openblas_set_num_threads(2);
  EXPECT_EQ(openblas_get_num_threads(), 2);
  openblas_set_num_threads(1);
  EXPECT_EQ(openblas_get_num_threads(), 1);
  openblas_set_num_threads(before);

  // c = a^T a for a 3 x 2 `a` (lower triangle), then c = L L^T.
  const double a[] = {2, 1,  //
                      0, 1,  //
                      1, 0};
  double c[] = {0, -1, 0, 0};  // c[1], above the diagonal, stays untouched
  cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, /*n=*/2, /*k=*/3, 1.0, a,
              2, 0.0, c, 2);
  EXPECT_EQ(c[0], 5.0);
  EXPECT_EQ(c[1], -1.0);
  EXPECT_EQ(c[2], 2.0);
  EXPECT_EQ(c[3], 2.0);
  ASSERT_EQ(LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', 2, c, 2), 0);
  EXPECT_DOUBLE_EQ(c[0], std::sqrt(5.0));
  EXPECT_DOUBLE_EQ(c[2], 2.0 / std::sqrt(5.0));
  EXPECT_DOUBLE_EQ(c[3], std::sqrt(2.0 - 4.0 / 5.0));
  // Not positive definite: dpotrf reports the failing column (1-based).
  double singular[] = {1, 0, 2, 1};  // lower triangle of [[1, 2], [2, 1]]
  EXPECT_EQ(LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', 2, singular, 2), 2);
}

}  // namespace
