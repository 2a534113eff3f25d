// Copyright 2026 The weft Authors.

#include "weft/internal/runtime.h"

#include "weft/internal/error_info.h"
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

namespace {
absl::Status NoActors() {
  return absl::UnimplementedError("weft: this runtime has no actors");
}
}  // namespace

absl::StatusOr<std::shared_ptr<ObjectState>> Runtime::CreateActor(ActorSpec) {
  return NoActors();
}

absl::StatusOr<std::shared_ptr<ObjectState>> Runtime::SubmitActorCall(
    uint64_t, const std::shared_ptr<ObjectState>&, TaskSpec spec) {
  auto state = std::make_shared<ObjectState>(
      spec.id != 0 ? spec.id : NewObjectId(), spec.name);
  state->SetError(MakeError(ErrorKind::kTaskFailed, spec.name, state->key(),
                            std::string(NoActors().message())));
  return state;
}

absl::StatusOr<ActorStatus> Runtime::GetActorStatus(uint64_t) {
  return NoActors();
}

absl::StatusOr<FoundActor> Runtime::LookupActor(const std::string&) {
  return NoActors();
}

absl::StatusOr<bool> Runtime::KillActor(uint64_t) { return NoActors(); }

}  // namespace weft::internal
