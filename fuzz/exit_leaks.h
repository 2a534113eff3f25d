// Copyright 2026 The weft Authors.
//
// What LeakSanitizer's check at exit may report that is not weft's, told
// apart by what the objects are rather than where they were allocated.
//
// A fuzz target whose process runs gRPC (a worker and its data service)
// exits while gRPC's own threads still run. LeakSanitizer's check at exit
// then sometimes reports objects of gRPC's event-engine thread pool: the
// argument `ThreadPool::StartThread` gives each thread it starts (24
// bytes: a std::shared_ptr to the pool's State and the reason the thread
// was started), held by a thread that is starting or running as the check
// stops the world (google/sanitizers issue 1836 describes the same race
// with threads that start as a process exits). Debian's gRPC is built
// without frame pointers, so the report's stack stops at operator new,
// and LeakSanitizer's suppressions, which match stacks, cannot name it.
// These objects are recognized instead by their contents: the first word
// of the pool State's control block is the vtable of
// std::_Sp_counted_ptr_inplace<grpc_event_engine::experimental::
// ThreadPool::State, ...>, which libgrpc exports (docs/fuzzing.md).

#ifndef WEFT_FUZZ_EXIT_LEAKS_H_
#define WEFT_FUZZ_EXIT_LEAKS_H_

namespace weft::fuzz {

// Keeps a descriptor of the process's standard error as it is now, for
// LeakSanitizer's reports after ExcuseLibraryLeaks(). Call it from
// LLVMFuzzerInitialize, which libFuzzer calls before -close_fd_mask=2
// sends standard error to /dev/null (libFuzzer then gives the sanitizer
// a descriptor of its own, which the process cannot read back).
void KeepReportStream();

// LeakSanitizer's check at exit, run now, after excusing gRPC's objects.
// Runs recoverable leak checks (their reports to scratch files, not
// shown), and marks each unreachable object recognized as gRPC's (above)
// as not a leak (__lsan_ignore_object); while a check finds only such
// objects (gRPC's pool may still be starting threads), checks again 10 ms
// later, up to 20 checks. Then prints one line that says how many were
// excused, and runs the final check (__lsan_do_leak_check): a leak left
// is reported as usual, and the process exits with LeakSanitizer's exit
// code. The runtime's own check at exit then does nothing; run after
// every other exit handler, it could meet the argument of a thread gRPC
// started after the last check here.
// With WEFT_FUZZ_LEAK_DUMP=FILE in the environment, also appends to FILE,
// for every unreachable object of each check (at most 64 a check), its
// address, size and first 8 words, with the symbol dladdr() finds for
// each word that points into a loaded file or at a heap object whose
// first word does (a C++ object's first word is its vtable), and keeps
// each check's report as FILE.report-N.PID. Does nothing without
// LeakSanitizer.
// REQUIRES: the process's own threads are stopped, and it is exiting
// (call it from an exit handler): no leak check runs after it.
void ExcuseLibraryLeaks();

}  // namespace weft::fuzz

#endif  // WEFT_FUZZ_EXIT_LEAKS_H_
