// Copyright 2026 The weft Authors.
//
// Fuzzes DataClient's fetches (rpc/data_client.h) against a holder whose
// Fetch answers with chunks taken from the input: announced sizes, ids,
// data in pieces, shared-memory handles (the holder's real region, a
// released one, one of another host, a corrupted one), bytes after a
// handle, and the call's final status. One in-process gRPC server (on a
// Unix socket) and two clients (shared memory on and off) serve every
// input. Each input scripts the answer to the first call and to the
// streaming retry that a handle which cannot be mapped leads to. Checks
// the outcome against a model of the protocol:
//   - a well-formed answer gives exactly the bytes sent (or, for a handle
//     that maps, the region's bytes), through Fetch and FetchBuffer alike;
//   - a malformed one (too many bytes, bytes after a handle, a size over
//     the limit, fewer bytes than announced, no chunk, a size other than
//     the one the caller says the scheduler recorded) is DATA_LOSS, and an
//     error status keeps its code;
//   - nothing crashes, leaks or reads out of bounds (ASan).
//
// Announced sizes go up to 2^64 - 1. Until 6 December 2026 they were kept
// under 2 MiB: DataClient allocated the announced size before any byte
// arrived, and a larger one was an allocation of that size (finding 4 in
// docs/fuzzing.md, fixed: memory is now taken as bytes arrive).

#include <fuzzer/FuzzedDataProvider.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "fuzz/exit_leaks.h"
#include "fuzz/fuzz_check.h"
#include "grpcpp/grpcpp.h"
#include "rpc/buffer.h"
#include "rpc/data_client.h"
#include "rpc/shared_region.h"
#include "rpc/status.h"
#include "rpc/weft.grpc.pb.h"

namespace weft::rpc {
namespace {

constexpr uint64_t kId = 7;

// One scripted answer to a Fetch call.
struct Answer {
  std::vector<Chunk> chunks;
  grpc::Status status;
};

// Answers Fetch from a script that the fuzzing thread sets before each
// fetch: the first call gets answers[0], later ones answers[1].
class ScriptedHolder final : public Worker::Service {
 public:
  void SetScript(std::vector<Answer> answers) {
    std::lock_guard<std::mutex> lock(mu_);
    answers_ = std::move(answers);
    calls_ = 0;
  }
  int calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

  grpc::Status Fetch(grpc::ServerContext*, const FetchRequest* request,
                     grpc::ServerWriter<Chunk>* writer) override {
    Answer answer;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const int call = calls_++;
      if (request->id() != kId || answers_.empty()) {
        return grpc::Status(grpc::StatusCode::INTERNAL, "unscripted call");
      }
      answer = answers_[std::min<size_t>(call, answers_.size() - 1)];
    }
    for (const Chunk& chunk : answer.chunks) {
      if (!writer->Write(chunk)) break;  // the client gave up
    }
    return answer.status;
  }

 private:
  std::mutex mu_;
  std::vector<Answer> answers_;
  int calls_ = 0;
};

struct World {
  ScriptedHolder holder;
  std::unique_ptr<grpc::Server> server;
  std::string address;
  std::unique_ptr<DataClient> shared_client;
  std::unique_ptr<DataClient> plain_client;
  std::unique_ptr<SharedRegion> region;  // the holder's object
  SharedHandle region_handle;
  SharedHandle stale_handle;  // of a region released since
};

World& TheWorld() {
  static World* world = [] {
    auto* w = new World();
    // In /tmp, not TEST_TMPDIR: a socket's path has at most 107 bytes.
    w->address = absl::StrCat("unix:/tmp/weft-data-client-fuzzer-",
                              ::getpid(), ".sock");
    ::unlink(w->address.c_str() + 5);
    // At exit: the clients and the server go first, so that gRPC joins
    // its threads (ThreadSanitizer reports any left running), then the
    // socket.
    std::atexit([] {
      World& w = TheWorld();
      w.shared_client.reset();
      w.plain_client.reset();
      w.server->Shutdown();
      w.server->Wait();
      w.server.reset();
      ::unlink(w.address.c_str() + 5);
      weft::fuzz::ExcuseLibraryLeaks();  // gRPC's threads may still start
    });
    grpc::ServerBuilder builder;
    builder.AddListeningPort(w->address, grpc::InsecureServerCredentials());
    builder.RegisterService(&w->holder);
    w->server = builder.BuildAndStart();
    FUZZ_CHECK(w->server != nullptr);
    w->shared_client = std::make_unique<DataClient>(
        "token", std::chrono::seconds(20), /*shared_memory=*/true);
    w->plain_client = std::make_unique<DataClient>(
        "token", std::chrono::seconds(20), /*shared_memory=*/false);
    const size_t size = 3 * 4096 + 11;
    absl::StatusOr<std::unique_ptr<SharedRegion>> r =
        SharedRegion::Create(size);
    FUZZ_CHECK(r.ok());
    for (size_t i = 0; i < size; ++i) {
      (*r)->mutable_data()[i] = static_cast<char>(i * 13 + 1);
    }
    FUZZ_CHECK((*r)->Seal().ok());
    w->region = *std::move(r);
    w->region_handle = w->region->handle();
    absl::StatusOr<std::unique_ptr<SharedRegion>> gone =
        SharedRegion::Create(size);
    FUZZ_CHECK(gone.ok() && (*gone)->Seal().ok());
    w->stale_handle = (*gone)->handle();
    return w;
  }();
  return *world;
}

// An answer built from the input. Choices read 0 for the well-formed one
// (an input that runs out reads as zeros).
Answer MakeAnswer(FuzzedDataProvider& in, bool may_hand_over) {
  const World& world = TheWorld();
  Answer a;
  const bool handle = may_hand_over && in.ConsumeIntegralInRange(0, 3) == 3;
  const int npieces = in.ConsumeIntegralInRange(0, 6);
  std::vector<std::string> pieces;
  uint64_t total = 0;
  for (int i = 0; i < npieces; ++i) {
    pieces.push_back(in.ConsumeRandomLengthString(96));
    total += pieces.back().size();
  }
  switch (in.ConsumeIntegralInRange(0, 7)) {
    case 7:
      total += in.ConsumeIntegralInRange<uint64_t>(1, 64);  // fewer sent
      break;
    case 6:
      total -= std::min<uint64_t>(total, in.ConsumeIntegralInRange(1, 64));
      break;
    case 5:
      total = in.ConsumeIntegral<uint64_t>();
      break;
    default:
      break;
  }
  if (handle) {
    SharedHandle h;
    switch (in.ConsumeIntegralInRange(0, 3)) {
      case 0:
        h = world.region_handle;
        break;
      case 1:
        h = world.stale_handle;
        break;
      case 2:
        h = world.region_handle;
        h.set_host("another host");
        break;
      default:
        h = world.region_handle;
        h.set_inode(h.inode() + 1);
        break;
    }
    total = in.ConsumeBool() ? total : world.region_handle.size();
    Chunk first;
    first.set_id(kId);
    first.set_total_size(total);
    *first.mutable_shared() = h;
    a.chunks.push_back(first);
    if (in.ConsumeIntegralInRange(0, 7) == 7) {
      Chunk extra;
      extra.set_data(in.ConsumeRandomLengthString(16));  // after a handle
      a.chunks.push_back(extra);
    }
  } else {
    for (size_t i = 0; i < pieces.size(); ++i) {
      Chunk c;
      if (i == 0) {
        c.set_id(kId);
        c.set_total_size(total);
      }
      c.set_data(pieces[i]);
      a.chunks.push_back(c);
    }
    if (pieces.empty() && in.ConsumeIntegralInRange(0, 3) != 3) {
      Chunk c;  // an empty object: one chunk announcing 0 bytes (or more)
      c.set_id(kId);
      c.set_total_size(total);
      a.chunks.push_back(c);
    }
  }
  switch (in.ConsumeIntegralInRange(0, 7)) {
    case 7:
      a.status = grpc::Status(grpc::StatusCode::NOT_FOUND, "released");
      break;
    case 6:
      a.status = grpc::Status(
          static_cast<grpc::StatusCode>(in.ConsumeIntegralInRange(1, 16)),
          "fuzzed");
      break;
    default:
      a.status = grpc::Status::OK;
  }
  return a;
}

// What a fetch should give: the bytes, or an error code.
struct Outcome {
  absl::StatusCode code = absl::StatusCode::kOk;
  std::string bytes;
};

// The protocol, as docs/cluster.md and DataClient state it.
// `recorded`: the size the caller says the scheduler recorded, if any.
Outcome Model(const std::vector<Answer>& answers, size_t call,
              std::optional<uint64_t> recorded) {
  const Answer& a = answers[std::min(call, answers.size() - 1)];
  std::optional<SharedHandle> handle;
  uint64_t total = 0;
  std::string received;
  bool first = true;
  bool malformed = false;
  for (const Chunk& c : a.chunks) {
    if (first) {
      first = false;
      total = c.total_size();
      if (recorded.has_value() && total != *recorded) {
        malformed = true;
        break;
      }
      if (c.has_shared()) {
        handle = c.shared();  // (tried even when not offered)
      } else if (total > (uint64_t{1} << 40)) {
        malformed = true;
        break;
      }
    }
    if (handle.has_value() && !c.data().empty()) {
      malformed = true;
      break;
    }
    if (!handle.has_value() && c.data().size() > total - received.size()) {
      malformed = true;
      break;
    }
    received += c.data();
  }
  if (malformed) return {absl::StatusCode::kDataLoss, ""};
  if (!a.status.ok()) return {FromGrpc(a.status).code(), ""};
  if (handle.has_value()) {
    if (handle->size() == total) {
      absl::StatusOr<std::unique_ptr<SharedRegion>> r =
          SharedRegion::Open(*handle);
      if (r.ok()) return {absl::StatusCode::kOk, std::string((*r)->data(),
                                                             (*r)->size())};
    }
    return Model(answers, call + 1, recorded);  // streamed after all
  }
  if (first || received.size() != total) {
    return {absl::StatusCode::kDataLoss, ""};
  }
  return {absl::StatusCode::kOk, received};
}

void Run(FuzzedDataProvider& in) {
  World& world = TheWorld();
  const bool shared = in.ConsumeBool();
  const bool as_buffer = in.ConsumeBool();
  std::vector<Answer> answers;
  answers.push_back(MakeAnswer(in, /*may_hand_over=*/true));
  answers.push_back(MakeAnswer(in, /*may_hand_over=*/false));
  world.holder.SetScript(answers);
  DataClient& client = shared ? *world.shared_client : *world.plain_client;
  // The size the scheduler recorded, for a fetch as a buffer: none, the
  // size the holder announces first, or any.
  std::optional<uint64_t> recorded;
  if (as_buffer) {
    switch (in.ConsumeIntegralInRange(0, 2)) {
      case 1:
        if (!answers[0].chunks.empty()) {
          recorded = answers[0].chunks[0].total_size();
        }
        break;
      case 2:
        recorded = in.ConsumeIntegral<uint64_t>();
        break;
      default:
        break;
    }
  }
  const Outcome expected = Model(answers, 0, recorded);
  absl::StatusCode code;
  std::string bytes;
  if (as_buffer) {
    absl::StatusOr<Buffer> got =
        client.FetchBuffer(world.address, kId, nullptr, recorded);
    code = got.status().code();
    if (got.ok()) bytes = std::string(got->view());
  } else {
    absl::StatusOr<std::string> got = client.Fetch(world.address, kId);
    code = got.status().code();
    if (got.ok()) bytes = *std::move(got);
  }
  if (code != expected.code) {
    std::fprintf(stderr, "data_client_fuzzer: code %d, expected %d\n",
                 static_cast<int>(code), static_cast<int>(expected.code));
  }
  FUZZ_CHECK(code == expected.code);
  FUZZ_CHECK(bytes == expected.bytes);
  FUZZ_CHECK(world.holder.calls() <= 2);
}

}  // namespace
}  // namespace weft::rpc

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  weft::fuzz::KeepReportStream();  // before -close_fd_mask=2 takes stderr
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  weft::rpc::Run(in);
  return 0;
}
