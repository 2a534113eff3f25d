// Copyright 2026 The weft Authors.

#include "fuzz/exit_leaks.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

// The sanitizer runtime's interface, weak: absent without a sanitizer
// (the replay build under gcc without ASan), and then nothing is done.
extern "C" {
int __lsan_do_recoverable_leak_check(void) __attribute__((weak));
void __lsan_do_leak_check(void) __attribute__((weak));
void __lsan_ignore_object(const void* p) __attribute__((weak));
void __sanitizer_set_report_path(const char* path) __attribute__((weak));
void __sanitizer_set_report_fd(void* fd) __attribute__((weak));
int __sanitizer_get_ownership(const volatile void* p) __attribute__((weak));

// LeakSanitizer's reports list the objects' addresses, which
// ExcuseLibraryLeaks reads (a default that LSAN_OPTIONS overrides).
const char* __lsan_default_options() { return "report_objects=1"; }
}

namespace weft::fuzz {
namespace {

// The vtable of the control block of make_shared<ThreadPool::State> in
// Debian's libgrpc (1.51): the mark of gRPC's thread start arguments.
constexpr char kPoolStateBlockVtable[] =
    "_ZTVSt23_Sp_counted_ptr_inplaceIN17grpc_event_engine12experimental"
    "10ThreadPool5StateESaIvELN9__gnu_cxx12_Lock_policyE2EE";

int report_fd = -1;  // see KeepReportStream

// How many checks ExcuseLibraryLeaks runs at most, and the pause between
// two: while gRPC's pool still starts threads, each check may meet the
// argument of another one.
constexpr int kMaxChecks = 20;
constexpr useconds_t kPauseBetweenChecks = 10'000;

// The word at `address`, read without the sanitizer's check. The objects
// read here are those a check listed, read after the check let the
// process's threads run again, and gRPC's threads free them as they
// start: a checked read of one met a heap-use-after-free (6 December 2026,
// the exit of a worker_fuzzer run). Freed heap memory stays mapped, so
// the plain read is safe. An object is read only once
// __sanitizer_get_ownership says it is still allocated; freed in the
// moment after that, what is read is stale, and decides no more than
// whether an object that is no longer a leak is excused.
// REQUIRES: `address` is in a heap chunk or a loaded file, and aligned.
__attribute__((no_sanitize_address)) uintptr_t Word(uintptr_t address) {
  return *reinterpret_cast<const volatile uintptr_t*>(address);
}

bool IsHeapObject(uintptr_t address) {
  return __sanitizer_get_ownership != nullptr && address != 0 &&
         __sanitizer_get_ownership(reinterpret_cast<const void*>(address));
}

// The symbol at `address` and the offset from it ("" if none). Without a
// symbol, the offset from its file's base (look it up with nm -C FILE).
std::string SymbolAt(uintptr_t address) {
  Dl_info info;
  if (address < 4096 ||
      dladdr(reinterpret_cast<const void*>(address), &info) == 0) {
    return "";
  }
  const bool named = info.dli_sname != nullptr;
  char offset[32];
  std::snprintf(offset, sizeof offset, "+0x%" PRIxPTR,
                address - reinterpret_cast<uintptr_t>(named ? info.dli_saddr
                                                            : info.dli_fbase));
  return std::string(info.dli_fname) + " " +
         (named ? info.dli_sname : "(base)") + offset;
}

// ThreadPool::StartThread's argument: {shared_ptr<State>, reason}, the
// pointer to State 16 bytes into the block make_shared allocated.
bool IsGrpcThreadStartArg(uintptr_t address, size_t size) {
  if (size != 24) return false;
  const uintptr_t state = Word(address);
  const uintptr_t block = Word(address + 8);
  const uint32_t reason = static_cast<uint32_t>(Word(address + 16));
  if (state != block + 16 || reason > 15 || !IsHeapObject(block)) {
    return false;
  }
  Dl_info info;
  return dladdr(reinterpret_cast<const void*>(Word(block)), &info) != 0 &&
         info.dli_sname != nullptr &&
         std::strcmp(info.dli_sname, kPoolStateBlockVtable) == 0;
}

void Dump(FILE* out, uintptr_t address, size_t size) {
  std::fprintf(out, "object 0x%" PRIxPTR " (%zu bytes):\n", address, size);
  for (size_t i = 0; i < 8 && (i + 1) * 8 <= size; ++i) {
    const uintptr_t word = Word(address + 8 * i);
    std::string what = SymbolAt(word);
    if (what.empty() && IsHeapObject(word)) {
      const std::string first = SymbolAt(Word(word));
      if (!first.empty()) what = "heap object starting with " + first;
    }
    std::fprintf(out, "  [%zu] 0x%016" PRIxPTR "  %s\n", i, word, what.c_str());
  }
}

// One recoverable check, its report to a scratch file (read, then
// removed unless `keep_report` and it found a leak): whether it found
// one, and the (address, size) of every object its report lists.
struct Check {
  bool leaked = false;
  std::vector<std::pair<uintptr_t, size_t>> objects;
};

Check CheckNow(const std::string& prefix, bool keep_report, int round) {
  // Setting a report path closes the descriptor the sanitizer writes to,
  // which is libFuzzer's (-close_fd_mask=2 gives it one); libFuzzer then
  // wrote its last lines into the report file. Hand it a scratch
  // descriptor to close instead.
  const int scratch = fcntl(report_fd >= 0 ? report_fd : 2, F_DUPFD_CLOEXEC, 3);
  if (scratch >= 0) {
    __sanitizer_set_report_fd(
        reinterpret_cast<void*>(static_cast<intptr_t>(scratch)));
  }
  const std::string path = prefix + "-" + std::to_string(round);
  __sanitizer_set_report_path(path.c_str());
  Check check;
  check.leaked = __lsan_do_recoverable_leak_check() != 0;
  // Closes the report file (the runtime opens it on its first line).
  __sanitizer_set_report_path(path.c_str());
  // The runtime appends the process id to the path.
  const std::string report_file = path + "." + std::to_string(getpid());
  if (check.leaked) {
    std::ifstream in(report_file);
    std::stringstream text;
    text << in.rdbuf();
    // report_objects=1 lists "0x602000001234 (24 bytes)" per object.
    const std::string s = text.str();
    for (size_t at = s.find(" bytes)"); at != std::string::npos;
         at = s.find(" bytes)", at + 1)) {
      const size_t open = s.rfind(" (", at);
      const size_t start = s.rfind('\n', open) + 1;  // npos + 1 is 0
      if (open == std::string::npos || s.compare(start, 2, "0x") != 0) {
        continue;
      }
      char* end = nullptr;
      const uintptr_t address = std::strtoull(s.c_str() + start, &end, 16);
      if (end != s.c_str() + open) continue;
      const size_t size = std::strtoull(s.c_str() + open + 2, &end, 10);
      if (end != s.c_str() + at) continue;
      check.objects.emplace_back(address, size);
    }
  }
  if (!check.leaked || !keep_report) std::remove(report_file.c_str());
  return check;
}

}  // namespace

void KeepReportStream() {
  if (report_fd < 0) report_fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
}

void ExcuseLibraryLeaks() {
  if (__lsan_do_recoverable_leak_check == nullptr ||
      __lsan_do_leak_check == nullptr || __lsan_ignore_object == nullptr ||
      __sanitizer_set_report_path == nullptr ||
      __sanitizer_set_report_fd == nullptr) {
    return;
  }
  const char* dump_path = std::getenv("WEFT_FUZZ_LEAK_DUMP");
  const char* tmp = std::getenv("TMPDIR");
  const std::string prefix =
      dump_path != nullptr
          ? std::string(dump_path) + ".report"
          : std::string(tmp != nullptr ? tmp : "/tmp") + "/weft-fuzz-leaks";
  int excused = 0;
  for (int round = 0; round < kMaxChecks; ++round) {
    if (round > 0) usleep(kPauseBetweenChecks);
    const Check check = CheckNow(prefix, dump_path != nullptr, round);
    if (!check.leaked) break;
    FILE* dump = dump_path != nullptr ? std::fopen(dump_path, "a") : nullptr;
    if (dump != nullptr) std::fprintf(dump, "check %d:\n", round);
    bool all_excused = true;
    int listed = 0;
    for (const auto& [address, size] : check.objects) {
      // Freed since the check (gRPC's thread has started and is done with
      // its argument): gone, so not a leak.
      if (!IsHeapObject(address)) {
        if (dump != nullptr) {
          std::fprintf(dump, "object 0x%" PRIxPTR " (%zu bytes): freed since\n",
                       address, size);
        }
        continue;
      }
      if (dump != nullptr && listed++ < 64) Dump(dump, address, size);
      if (IsGrpcThreadStartArg(address, size)) {
        __lsan_ignore_object(reinterpret_cast<const void*>(address));
        ++excused;
      } else {
        all_excused = false;
      }
    }
    if (dump != nullptr) std::fclose(dump);
    // Another object is a leak to report: the final check below does.
    if (!all_excused || check.objects.empty()) break;
  }
  const int fd = report_fd >= 0 ? report_fd : 2;
  __sanitizer_set_report_fd(reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
  if (excused > 0) {
    dprintf(fd,
            "weft fuzz: at exit, %d object(s) of gRPC's event-engine thread "
            "pool (arguments of threads it was starting) are not counted as "
            "leaks (fuzz/exit_leaks.h)\n",
            excused);
  }
  // The check at exit, now, while the last check's view still holds: the
  // runtime's own (registered with atexit as the process started, so run
  // after every other exit handler and static destructor) then does
  // nothing. Run later, it met the argument of a thread gRPC started in
  // between, which no check had seen (docs/fuzzing.md).
  __lsan_do_leak_check();
}

}  // namespace weft::fuzz
