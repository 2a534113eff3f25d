// Copyright 2026 The weft Authors.

#include "weft/internal/runtime.h"

#include "absl/time/clock.h"

namespace weft::internal {
namespace {

// The batch open on this thread: for which runtime, how deeply nested.
struct OpenBatch {
  Runtime* runtime = nullptr;
  int depth = 0;
};
thread_local OpenBatch open_batch;

}  // namespace

SubmitBatch::SubmitBatch(Runtime& runtime)
    : runtime_(&runtime),
      counted_(open_batch.depth == 0 || open_batch.runtime == &runtime) {
  if (!counted_) return;
  open_batch.runtime = &runtime;
  ++open_batch.depth;
}

SubmitBatch::~SubmitBatch() {
  if (!counted_ || --open_batch.depth > 0) return;
  open_batch.runtime = nullptr;
  runtime_->FlushSubmissions();
}

int64_t UnixMicrosNow() { return absl::GetCurrentTimeNanos() / 1000; }

bool SubmitBatch::Holding(const Runtime& runtime) {
  return open_batch.depth > 0 && open_batch.runtime == &runtime;
}

}  // namespace weft::internal
