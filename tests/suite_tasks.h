// Copyright 2026 The weft Authors.
//
// Task functions shared by tests that run on every runtime: linked into the
// test binaries (which also serve as LocalCluster workers) and built as
// libsuite_tasks.so for `weft worker --load`. Files under a directory the
// test names (`dir`) let tasks in other processes report what they did.

#ifndef WEFT_TESTS_SUITE_TASKS_H_
#define WEFT_TESTS_SUITE_TASKS_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "weft/weft.h"

namespace suite {

double Square(double x);
int Inc(int x);
double Total(std::vector<double> xs);

// Appends a line to dir/name (a count of runs) and returns 1.
int Mark(std::string dir, std::string name);

// As Mark, for a task that only one test submits (so no run time of it
// was reported, and the scheduler keeps it queued while workers are busy).
int Unstarted(std::string dir, std::string name);
// Mark(dir, name), then returns input + 1.
int MarkAfter(std::string dir, std::string name, int input);
// Mark(dir, name), then returns x * x.
double MarkedSquare(std::string dir, std::string name, double x);
// Gate(dir, name), then Total(xs).
double GatedTotal(std::string dir, std::string name, std::vector<double> xs);

// Creates dir/name.started, then waits until dir/open exists (returns 1,
// after creating dir/name.done), or the task is cancelled (creates
// dir/name.saw_cancel and returns -1). Throws after 120 s.
int Gate(std::string dir, std::string name);

// Submits `children` Gate(dir, "child-K") tasks and waits for each; for a
// child whose get() throws CancelledError creates dir/parent.child-K.cancelled.
// Returns how many children completed normally.
int Parent(std::string dir, int children);

// ObjectRefs as parameters and results.
double Deref(weft::ObjectRef<double> ref);
double SumRefs(std::vector<weft::ObjectRef<double>> refs);
// Submits Square(base + i) for i < n and returns the references.
std::vector<weft::ObjectRef<double>> Fan(int n, double base);
// Returns the reference it got (the task borrows it, the result keeps it).
weft::ObjectRef<double> Forward(weft::ObjectRef<double> ref);

// A value holding a reference.
struct Holder {
  weft::ObjectRef<double> ref;
  std::string label;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(ref, label);
  }
};
double Unwrap(Holder holder);
Holder Wrap(double x, std::string label);

// `bytes` bytes derived from `seed`.
std::string Blob(int bytes, int seed);
// The sum of the sizes and first bytes of its inputs.
int64_t Combine(std::string a, std::string b);
int64_t CombineAll(std::vector<std::string> xs);

// Multi-host tests.
// `bytes` pseudo-random bytes (splitmix64 of `seed`): no pattern a
// transport could shortcut.
std::string RandomBlob(int64_t bytes, int seed);
// FNV-1a of the bytes: compares large values without moving them.
uint64_t Digest(std::string bytes);
// The sum of the digests of its inputs (a reduction over many objects).
uint64_t DigestAll(std::vector<std::string> xs);
// The host name of the process that runs it (and `x`, to make tasks
// distinct).
std::string HostName(int x);
// Mark(dir, name), then RandomBlob(bytes, seed).
std::string MarkedBlob(std::string dir, std::string name, int64_t bytes,
                       int seed);
// Sleeps `ms` milliseconds, then returns x + 1.
int SleepThen(int ms, int x);
// Sleeps `ms` milliseconds, then returns x * x.
double SleepSquare(int ms, double x);
// Mark(dir, name), then crashes its process (SIGSEGV).
int Segfault(std::string dir, std::string name);
// Throws std::invalid_argument(message).
int Reject(std::string message);

// --- Actors -----------------------------------------------------------------

// A log of entries (state kept between calls), with calls that fail, wait
// at a gate, or end their worker's process.
class Journal {
 public:
  explicit Journal(std::string prefix);
  // Appends prefix + entry; returns it.
  std::string Append(std::string entry);
  std::vector<std::string> Entries() const;
  int Size() const;
  // Throws std::invalid_argument(why).
  int Fail(std::string why);
  // Gate(dir, name) while counting the calls inside at once; returns the
  // most that were (over this instance's life).
  int Inside(std::string dir, std::string name);
  // The first call for dir/name (across processes) creates that file and
  // kills its process (SIGKILL): the worker dies with the call in flight. Later calls return Size().
  int CrashOnce(std::string dir, std::string name);
  // Calls other.Append(entry) and returns its result: a handle passed to
  // an actor.
  std::string AppendTo(weft::Actor<Journal> other, std::string entry);

 private:
  const std::string prefix_;
  mutable std::mutex mu_;
  std::vector<std::string> entries_;
  std::atomic<int> inside_{0};
  std::atomic<int> most_inside_{0};
};
WEFT_ACTOR(Journal(std::string), &Journal::Append, &Journal::Entries,
           &Journal::Size, &Journal::Fail, &Journal::Inside,
           &Journal::CrashOnce, &Journal::AppendTo);

// Its constructor throws std::out_of_range for a negative x.
class Picky {
 public:
  explicit Picky(int x);
  int One() const { return 1; }
};
WEFT_ACTOR(Picky(int), &Picky::One);

// A task given an actor handle: appends each entry in order (waiting for
// none) and returns the journal's size after the last.
int AppendAll(weft::Actor<Journal> journal, std::vector<std::string> entries);

}  // namespace suite

#endif  // WEFT_TESTS_SUITE_TASKS_H_
