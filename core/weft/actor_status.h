// Copyright 2026 The weft Authors.
//
// What a program can learn about an actor (weft/actor.h): Actor::status().

#ifndef WEFT_CORE_WEFT_ACTOR_STATUS_H_
#define WEFT_CORE_WEFT_ACTOR_STATUS_H_

#include <memory>
#include <string>

#include "weft/errors.h"

namespace weft {

enum class ActorState {
  kPending,     // waiting for its constructor's inputs or a worker with room,
                // or being constructed
  kAlive,       // constructed: serving calls
  kRestarting,  // its worker died; being constructed again elsewhere
  kDead,        // for good: killed, out of restarts, its constructor threw,
                // or every handle to it was dropped
};

// Returns a readable name for `state`, e.g. "restarting".
const char* ActorStateName(ActorState state);

struct ActorStatus {
  ActorState state = ActorState::kPending;
  // Times the actor was constructed again after its worker died.
  int restarts = 0;
  // The data address of the worker it is on ("local" on the embedded
  // runtime); empty while it has none.
  std::string worker;
  // kDead: why, as its calls report it (kind kActorDied).
  std::shared_ptr<const ErrorInfo> death;

  // True unless dead: the actor serves calls now or will once constructed.
  bool alive() const { return state != ActorState::kDead; }
};

}  // namespace weft

#endif  // WEFT_CORE_WEFT_ACTOR_STATUS_H_
