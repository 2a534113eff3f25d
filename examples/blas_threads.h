// BlasThreads: sizing OpenBLAS's threads per task when tasks share a process.
//
// A weft task that asks for num_cpus = k should run its BLAS with k threads
// (docs/tutorial.md, section 2). OpenBLAS has one thread count per process:
// openblas_set_num_threads() sets a global that every BLAS or LAPACK call
// reads when it starts. Debian 12's OpenBLAS (0.3.21) has no per-thread or
// per-call count (openblas_set_num_threads_local() arrived in 0.3.27). Tasks
// do share processes: on the embedded runtime every task is a thread of the
// program, and a cluster worker with several slots runs several tasks at
// once. So "set the count, then call BLAS" races with the neighbours: a
// one-slot task may start its call while a neighbour's count of 4 is set
// (5 threads busy on 4 slots), or a four-slot task with a neighbour's 1.
//
// BlasThreads makes the count part of a section that the process admits
// only when the count fits everything inside:
//
//   - Sections with 1 thread run together, as many as there are tasks
//     (each BLAS call then runs on its caller's thread; OpenBLAS's pthreads
//     build is safe to call from many threads).
//   - A section with k > 1 threads runs alone in the process. Its count is
//     set on entry, when no other section is inside, and nothing changes it
//     until the section ends. (Two threaded sections would gain little from
//     running together: OpenBLAS keeps one pool of count - 1 helper threads
//     for the whole process, and a second threaded call spins until the
//     first one's helpers are free.)
//   - Sections enter in the order they arrive: a waiting threaded section
//     holds back later 1-thread ones, so neither kind starves.
//
// So the threads BLAS may use at any moment are at most the slots held by
// the tasks inside sections, which weft never lets exceed the process's
// slots. (After a threaded call, OpenBLAS's idle helpers spin for a moment,
// yielding the CPU to any runnable thread, before they sleep.) The price: a
// task waiting at the gate holds its slots idle. With one kind of task at a
// time (all 1-slot, or one k-slot task per process) nobody waits. Each
// process has its own count and its own gate; on a cluster the gate only
// orders tasks within one worker.
//
// Only BLAS calls made inside sections are covered: a process that uses the
// gate should make all its OpenBLAS calls inside sections. Requires
// OpenBLAS's pthreads build (Debian's libopenblas-pthread-dev, see
// third_party/BUILD); the OpenMP build sizes calls from OpenMP's own
// per-thread setting instead, and the serial build has no threads.
//
//   Report Task(...) {
//     auto section = weft::examples::BlasThreads::Process().Enter(
//         weft::this_task::num_cpus());
//     cblas_dsyrk(...);   // with section.threads() threads
//   }                     // leaving the section lets the next one in
//
// Thread-safety: all methods are thread-safe.

#ifndef WEFT_EXAMPLES_BLAS_THREADS_H_
#define WEFT_EXAMPLES_BLAS_THREADS_H_

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

#include "cblas.h"

namespace weft::examples {

class BlasThreads {
 public:
  // How long Enter() waits by default: longer than any section of the
  // example programs, short enough that a stuck section is reported.
  static constexpr std::chrono::seconds kDefaultTimeout{600};

  // A scoped permission to call OpenBLAS with threads() threads. Leaving
  // it (destruction) lets waiting sections in. Moving it moves the
  // permission; the moved-from section holds nothing. Must be destroyed
  // before its BlasThreads.
  class Section {
   public:
    Section(Section&& other) noexcept
        : gate_(std::exchange(other.gate_, nullptr)),
          threads_(other.threads_) {}
    Section& operator=(Section&&) = delete;
    ~Section() {
      if (gate_ != nullptr) gate_->Leave();
    }

    // The thread count OpenBLAS runs this section's calls with (it may use
    // fewer for small matrices: e.g. dsyrk and dpotrf run single-threaded
    // below n = 64).
    int threads() const { return threads_; }

   private:
    friend class BlasThreads;
    Section(BlasThreads* gate, int threads) : gate_(gate), threads_(threads) {}
    BlasThreads* gate_;  // null once moved from
    int threads_;
  };

  // A gate of its own (for tests). Programs use Process(). `timeout` > 0
  // bounds each Enter().
  explicit BlasThreads(
      std::chrono::steady_clock::duration timeout = kDefaultTimeout)
      : timeout_(timeout) {}

  BlasThreads(const BlasThreads&) = delete;
  BlasThreads& operator=(const BlasThreads&) = delete;

  // The gate for this process's OpenBLAS, which all tasks of the process
  // must use. Never destroyed.
  static BlasThreads& Process() {
    static BlasThreads* const gate = new BlasThreads();
    return *gate;
  }

  // Blocks until a section with `threads` threads is admitted (see the
  // file comment), sets OpenBLAS's thread count to `threads` if it is the
  // first section inside, and returns the section.
  // Throws std::invalid_argument if threads < 1, and std::runtime_error if
  // not admitted within the timeout (the caller then holds nothing).
  // REQUIRES: the calling thread holds no Section of this gate, and makes
  // no call inside the section that waits for other tasks (weft::get,
  // compute): a section must be able to end without anyone's help.
  Section Enter(int threads) {
    if (threads < 1) {
      throw std::invalid_argument(
          "BlasThreads::Enter: threads = " + std::to_string(threads) + " < 1");
    }
    std::unique_lock<std::mutex> lock(mu_);
    const uint64_t ticket = next_ticket_++;
    waiting_.push_back(ticket);
    const bool admitted = entered_.wait_for(lock, timeout_, [&] {
      return waiting_.front() == ticket &&
             (inside_ == 0 || (threads == 1 && threads_ == 1));
    });
    if (!admitted) {
      waiting_.erase(std::find(waiting_.begin(), waiting_.end(), ticket));
      entered_.notify_all();  // the next in line may be admissible now
      throw std::runtime_error(
          "BlasThreads::Enter: not admitted within " +
          std::to_string(
              std::chrono::duration_cast<std::chrono::milliseconds>(timeout_)
                  .count()) +
          " ms");
    }
    waiting_.pop_front();
    if (inside_ == 0) {
      threads_ = threads;
      openblas_set_num_threads(threads);
    }
    ++inside_;
    peak_threads_ = std::max(peak_threads_, inside_ * threads_);
    entered_.notify_all();  // a 1-thread section behind may join this one
    return Section(this, threads);
  }

  // The most threads that sections inside at the same time have been
  // allowed to use together (their counts, summed), since construction.
  int peak_threads() const {
    std::lock_guard<std::mutex> lock(mu_);
    return peak_threads_;
  }

  // Sections waiting to enter now (for tests).
  int waiting() const {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(waiting_.size());
  }

 private:
  void Leave() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--inside_ == 0) entered_.notify_all();
  }

  const std::chrono::steady_clock::duration timeout_;
  mutable std::mutex mu_;
  std::condition_variable entered_;  // signalled when admission may change
  uint64_t next_ticket_ = 0;         // guarded by mu_
  std::deque<uint64_t> waiting_;     // tickets in arrival order; mu_
  int inside_ = 0;                   // sections entered and not left; mu_
  int threads_ = 0;                  // their thread count (all equal); mu_
  int peak_threads_ = 0;             // mu_
};

}  // namespace weft::examples

#endif  // WEFT_EXAMPLES_BLAS_THREADS_H_
