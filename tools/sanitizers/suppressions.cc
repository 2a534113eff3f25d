// Default sanitizer suppressions, linked into every weft test binary.
//
// Only findings inside system libraries that are built without
// instrumentation belong here; a finding in weft's own code is a bug to fix.

extern "C" {

// ThreadSanitizer cannot see synchronization inside uninstrumented shared
// libraries (gRPC's completion queues, Protobuf's arena, Boost.Context's
// stack switches), so it reports races between their internals.
const char* __tsan_default_suppressions() {
  return "called_from_lib:libgrpc.so\n"
         "called_from_lib:libgrpc++.so\n"
         "called_from_lib:libgpr.so\n"
         "called_from_lib:libprotobuf.so\n"
         "called_from_lib:libboost_fiber.so\n"
         "called_from_lib:libboost_context.so\n"
         "called_from_lib:libabsl_synchronization.so.20220623\n"
         "race:libgrpc.so\n"
         "race:libgrpc++.so\n"
         "race:libgpr.so\n"
         "race:libboost_fiber.so\n"
         "race:libabsl_\n"
         "race:libprotobuf.so\n"
         // OpenBLAS's helper threads take work and signal completion
         // through spin-waits on plain memory inside libopenblas; TSan sees
         // only the memsets they call and flags them against the caller's
         // own writes to the same matrix.
         "race:libopenblas.so\n"
         // OpenSSL under gRPC's TLS: gRPC hands a connection's SSL objects
         // between its threads through its own (uninstrumented) locks, and
         // TSan sees only the memcpys libcrypto and libssl make (their
         // stacks end in the library: no frame pointers to reach gRPC).
         // weft's own TLS on frame streams holds FrameStream::tls_mu_, which
         // TSan and the thread-safety analysis do see.
         "called_from_lib:libcrypto.so\n"
         "called_from_lib:libssl.so\n"
         "race:libcrypto.so\n"
         "race:libssl.so\n"
         "deadlock:libgrpc.so\n"
         // Boost.Fiber's mutexes and condition variables are compiled into
         // libboost_fiber without instrumentation, so TSan misses the
         // happens-before edges they create and flags the (inlined, hence
         // instrumented) shared state they protect.
         "race:boost::fibers::\n"
         // gRPC's header code, inlined into weft binaries, reads a call's
         // final status once the completion queue hands it over; gRPC's own
         // thread wrote it, and the queue's synchronization is inside
         // libgrpc, invisible to TSan (seen with early server errors).
         "race:grpc::internal::CallOpClientRecvStatus::FinishOp\n";
}

// gRPC keeps a few process-lifetime singletons on purpose.
const char* __lsan_default_suppressions() {
  return "leak:libgrpc.so\n"
         "leak:libgrpc++.so\n"
         "leak:libgpr.so\n";
}

}  // extern "C"
