// Copyright 2026 The weft Authors.

#include "tests/suite_tasks.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace suite {
namespace {

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

void Touch(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) ::close(fd);
}

}  // namespace

double Square(double x) { return x * x; }
int Inc(int x) { return x + 1; }
double Total(std::vector<double> xs) {
  double sum = 0;
  for (double x : xs) sum += x;
  return sum;
}

int Mark(std::string dir, std::string name) {
  const std::string path = dir + "/" + name;
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd >= 0) {
    [[maybe_unused]] ssize_t n = ::write(fd, "run\n", 4);
    ::close(fd);
  }
  return 1;
}

int Unstarted(std::string dir, std::string name) { return Mark(dir, name); }

int MarkAfter(std::string dir, std::string name, int input) {
  Mark(dir, name);
  return input + 1;
}

double MarkedSquare(std::string dir, std::string name, double x) {
  Mark(dir, name);
  return x * x;
}

double GatedTotal(std::string dir, std::string name, std::vector<double> xs) {
  Gate(dir, name);
  return Total(std::move(xs));
}

int Gate(std::string dir, std::string name) {
  const std::string base = dir + "/" + name;
  Touch(base + ".started");
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    if (weft::this_task::cancelled()) {
      Touch(base + ".saw_cancel");
      return -1;
    }
    if (Exists(dir + "/open")) {
      Touch(base + ".done");
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  throw std::runtime_error("Gate " + name + ": never opened");
}

int Parent(std::string dir, int children) {
  std::vector<weft::ObjectRef<int>> refs;
  for (int k = 0; k < children; ++k) {
    refs.push_back(weft::remote(Gate)(dir, "child-" + std::to_string(k)));
  }
  int completed = 0;
  for (int k = 0; k < children; ++k) {
    try {
      completed += weft::get(refs[k], std::chrono::seconds(120)) == 1;
    } catch (const weft::CancelledError&) {
      Touch(dir + "/parent.child-" + std::to_string(k) + ".cancelled");
    } catch (const std::exception& e) {
      // For the test's failure message.
      std::ofstream(dir + "/parent.error") << "child " << k << ": " << e.what();
      throw;
    }
  }
  return completed;
}

double Deref(weft::ObjectRef<double> ref) {
  return weft::get(ref, std::chrono::seconds(60)) + 1;
}

double SumRefs(std::vector<weft::ObjectRef<double>> refs) {
  double sum = 0;
  for (double x : weft::get(refs, std::chrono::seconds(60))) sum += x;
  return sum;
}

std::vector<weft::ObjectRef<double>> Fan(int n, double base) {
  std::vector<weft::ObjectRef<double>> out;
  for (int i = 0; i < n; ++i) out.push_back(weft::remote(Square)(base + i));
  return out;
}

weft::ObjectRef<double> Forward(weft::ObjectRef<double> ref) { return ref; }

double Unwrap(Holder holder) {
  return weft::get(holder.ref, std::chrono::seconds(60));
}

Holder Wrap(double x, std::string label) {
  return Holder{weft::put(x), std::move(label)};
}

std::string Blob(int bytes, int seed) {
  std::string out(static_cast<size_t>(bytes), '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<char>((seed * 31 + static_cast<int>(i)) & 0x7f);
  }
  return out;
}

int64_t Combine(std::string a, std::string b) {
  return static_cast<int64_t>(a.size() + b.size()) +
         (a.empty() ? 0 : a[0]) + (b.empty() ? 0 : b[0]);
}

int64_t CombineAll(std::vector<std::string> xs) {
  int64_t sum = 0;
  for (const std::string& x : xs) sum += Combine(x, "");
  return sum;
}

std::string RandomBlob(int64_t bytes, int seed) {
  std::string out(static_cast<size_t>(bytes), '\0');
  uint64_t state = static_cast<uint64_t>(seed) * 0x9E3779B97F4A7C15ull;
  size_t i = 0;
  while (i < out.size()) {
    state += 0x9E3779B97F4A7C15ull;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    const size_t n = std::min<size_t>(8, out.size() - i);
    std::memcpy(out.data() + i, &z, n);
    i += n;
  }
  return out;
}

std::string MarkedBlob(std::string dir, std::string name, int64_t bytes,
                       int seed) {
  Mark(dir, name);
  return RandomBlob(bytes, seed);
}

uint64_t Digest(std::string bytes) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

uint64_t DigestAll(std::vector<std::string> xs) {
  uint64_t sum = 0;
  for (std::string& x : xs) sum += Digest(std::move(x));
  return sum;
}

std::string HostName(int) {
  char name[256] = {0};
  ::gethostname(name, sizeof(name) - 1);
  return name;
}

int SleepThen(int ms, int x) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return x + 1;
}

double SleepSquare(int ms, double x) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return x * x;
}

int Segfault(std::string dir, std::string name) {
  Mark(dir, name);
  std::raise(SIGSEGV);
  return 0;
}

int Reject(std::string message) { throw std::invalid_argument(message); }

Journal::Journal(std::string prefix) : prefix_(std::move(prefix)) {}

std::string Journal::Append(std::string entry) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.push_back(prefix_ + entry);
  return entries_.back();
}

std::vector<std::string> Journal::Entries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_;
}

int Journal::Size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(entries_.size());
}

int Journal::Fail(std::string why) { throw std::invalid_argument(why); }

int Journal::Inside(std::string dir, std::string name) {
  const int now = ++inside_;
  int most = most_inside_.load();
  while (now > most && !most_inside_.compare_exchange_weak(most, now)) {
  }
  Gate(dir, name);
  --inside_;
  return most_inside_.load();
}

int Journal::CrashOnce(std::string dir, std::string name) {
  const std::string path = dir + "/" + name;
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ::close(fd);
    std::raise(SIGKILL);
  }
  return Size();
}

std::string Journal::AppendTo(weft::Actor<Journal> other, std::string entry) {
  return weft::get(other.remote(&Journal::Append)(entry),
                   std::chrono::seconds(60));
}

Picky::Picky(int x) {
  if (x < 0) throw std::out_of_range("negative start");
}

int AppendAll(weft::Actor<Journal> journal, std::vector<std::string> entries) {
  for (const std::string& e : entries) journal.remote(&Journal::Append)(e);
  return weft::get(journal.remote(&Journal::Size)(), std::chrono::seconds(60));
}

WEFT_REMOTE(AppendAll);

WEFT_REMOTE(Square, Inc, Total, Mark, Unstarted, MarkAfter, MarkedSquare,
            GatedTotal, Gate, Parent, Deref, SumRefs, Fan, Forward, Unwrap, Wrap,
            Blob, Combine, CombineAll, RandomBlob, MarkedBlob, Digest, DigestAll,
            HostName, SleepThen, SleepSquare, Segfault, Reject);

}  // namespace suite
