// Copyright 2026 The weft Authors.
//
// What receiving an object's bytes costs in memory work alone, without the
// network: 100 MB arriving in the data plane's 1 MiB chunks, copied into
// room made up front for the announced size (BufferBuilder::Allocate, as
// fetches and stores did before 6 December 2026) or into room reserved
// and committed as the bytes come (BufferBuilder::Reserve and Append, as
// they do now), in shared memory (a memfd region) and in private pages.
//
//   bazel run --config=opt //bench:buffer_fill_bench
//
// Each iteration makes the room, fills it and finishes it into a Buffer,
// which is then dropped (private blocks are kept for reuse by PageBlock,
// as in a worker that receives objects of one size over and over).

#include <cstddef>
#include <cstring>
#include <string>
#include <utility>

#include "benchmark/benchmark.h"
#include "rpc/buffer.h"
#include "rpc/data_client.h"

namespace weft::rpc {
namespace {

constexpr size_t kObjectBytes = size_t{100} << 20;

const std::string& Chunk() {
  static const std::string chunk(kChunkBytes, 'c');
  return chunk;
}

void BM_AllocateThenFill(benchmark::State& state) {
  const bool shared = state.range(0) != 0;
  for (auto _ : state) {
    BufferBuilder room = BufferBuilder::Allocate(kObjectBytes, shared);
    for (size_t at = 0; at < kObjectBytes; at += kChunkBytes) {
      std::memcpy(room.data() + at, Chunk().data(), kChunkBytes);
    }
    Buffer buffer = std::move(room).Finish();
    benchmark::DoNotOptimize(buffer.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(kObjectBytes));
}

void BM_ReserveAndAppend(benchmark::State& state) {
  const bool shared = state.range(0) != 0;
  for (auto _ : state) {
    absl::StatusOr<BufferBuilder> room =
        BufferBuilder::Reserve(kObjectBytes, shared);
    if (!room.ok()) {
      state.SkipWithError(std::string(room.status().message()).c_str());
      return;
    }
    for (size_t at = 0; at < kObjectBytes; at += kChunkBytes) {
      if (!room->Append(Chunk()).ok()) {
        state.SkipWithError("append failed");
        return;
      }
    }
    Buffer buffer = std::move(*room).Finish();
    benchmark::DoNotOptimize(buffer.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(kObjectBytes));
}

// Argument: 1 for shared memory, 0 for private pages.
BENCHMARK(BM_AllocateThenFill)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReserveAndAppend)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace weft::rpc
