// Copyright 2026 The weft Authors.
//
// ActorTable: the scheduler's records of actors and of their unfinished
// method calls. Internal to //scheduler: SchedulerState owns one and keeps
// it in step with its task records (scheduler_actors.cc); this class holds
// the bookkeeping and the ordering rule, and knows nothing of records,
// workers' capacity or actions. Not thread-safe.
//
// An actor is a user object on one worker, created from an ActorDef. Its
// id is the id of its *anchor*, an object record the clients' actor handles
// reference: while any handle (or a pending call) holds the anchor, the
// actor lives; when the anchor is released, the actor ends.
//
// Life cycle:
//
//   kPending ──placed──▶ kCreating ──constructed──▶ kAlive
//      ▲  (inputs in memory, a worker    │ │             │
//      │   with room)                    │ │             │ its worker died
//      └───────── worker died, restarts left ────────────┘
//                                        │ constructor threw, killed,
//                                        ▼ out of restarts, released
//                                      kDead (terminal)
//
// Calls: a method call is a task record (TaskDef::actor) that only the
// actor's worker runs. Each caller (a client) numbers its calls to an actor
// 1, 2, ... in the order the scheduler receives them. A ready call is handed
// to the actor's worker only once every lower-numbered unfinished call of
// the same caller has been handed over, so one caller's calls reach the
// worker in order (and a call waiting for its inputs holds back the calls
// made after it, as in Ray). Calls of different callers do not wait for
// each other.

#ifndef WEFT_SCHEDULER_ACTOR_TABLE_H_
#define WEFT_SCHEDULER_ACTOR_TABLE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "scheduler/placement.h"
#include "scheduler/types.h"

namespace weft::scheduler {

enum class ActorState : uint8_t {
  kPending,   // waiting for its inputs or a worker with room (again after
              // a restart)
  kCreating,  // placed: its worker runs the constructor
  kAlive,     // constructed: its calls go to its worker
  kDead,      // for good: killed, out of restarts, constructor failed, or
              // every handle released
};

// Returns a readable name for `state`, e.g. "alive".
const char* ActorStateName(ActorState state);

class ActorTable {
 public:
  using Slot = uint32_t;  // a SchedulerState record slot
  static constexpr internal::WorkerSlot kNoWorker = ~uint32_t{0};

  struct Actor {
    ActorDef def;
    ActorState state = ActorState::kPending;
    // kCreating, kAlive: where it is, and the threads it holds there.
    internal::WorkerSlot worker = kNoWorker;
    uint32_t reserved = 0;
    // Times it was restarted after its worker died.
    int restarts = 0;
    // kDead: why (the error its calls fail with).
    std::shared_ptr<const ErrorInfo> death;
    // Records it holds a reference to while not dead: its constructor's
    // inputs and the objects its arguments reference (distinct).
    std::vector<Slot> pins;
  };

  // An unfinished call: whose, its number, whether it is on the worker.
  struct Call {
    ActorId actor = 0;
    ClientId caller = 0;
    uint64_t seq = 0;
    bool assigned = false;
  };

  ActorTable() = default;
  ActorTable(const ActorTable&) = delete;
  ActorTable& operator=(const ActorTable&) = delete;

  bool empty() const { return actors_.empty(); }
  size_t size() const { return actors_.size(); }

  // Adds a pending actor. Errors: AlreadyExists (id, or a live actor has
  // that name).
  absl::Status Add(ActorDef def);
  // Returns the actor or nullptr. Pointers stay valid until Erase.
  Actor* Find(ActorId id);
  const Actor* Find(ActorId id) const;
  // The live (not dead) actor named `name`, or 0.
  ActorId Named(const std::string& name) const;
  // Forgets an actor. REQUIRES: it has no unfinished call.
  void Erase(ActorId id);
  // Every actor, by id.
  std::vector<ActorId> Ids() const;

  // State changes (the caller keeps workers and records in step).
  // kPending -> kCreating on `worker`, holding `reserved` threads.
  void SetCreating(Actor& actor, internal::WorkerSlot worker,
                   uint32_t reserved);
  // kCreating -> kAlive.
  void SetAlive(Actor& actor);
  // kCreating/kAlive -> kPending (its worker died), counting a restart.
  void SetRestarting(Actor& actor);
  // Any -> kDead with `why`; its name is free again.
  void SetDead(Actor& actor, std::shared_ptr<const ErrorInfo> why);
  // Actors in kPending, by id.
  const std::set<ActorId>& pending() const { return pending_; }

  // --- Calls ------------------------------------------------------------

  // Records a new unfinished call of `caller` to `actor` in record `slot`
  // and returns its number. REQUIRES: the actor exists and is not dead.
  uint64_t AddCall(ActorId actor, ClientId caller, Slot slot);
  // The unfinished call in `slot`, or nullptr.
  const Call* FindCall(Slot slot) const;
  // The call in `slot` is on the actor's worker (true) or back at the
  // scheduler (false).
  void SetAssigned(Slot slot, bool assigned);
  // The call in `slot` finished, failed or was released. No-op if unknown.
  void RemoveCall(Slot slot);
  // The lowest number of `caller`'s unfinished calls to `actor` (0: none).
  uint64_t FirstUnfinished(ActorId actor, ClientId caller) const;
  // The unfinished calls of `actor`, by caller and number.
  std::vector<Slot> CallsOf(ActorId actor) const;
  size_t num_calls() const { return calls_.size(); }
  // Every unfinished call, by slot.
  const absl::flat_hash_map<Slot, Call>& calls() const { return calls_; }

  // The calls of `actor` that may be handed to its worker now, in order:
  // for each caller, in number order, the calls not yet on the worker that
  // `is_ready`, up to the first one that is not.
  std::vector<Slot> Dispatchable(ActorId actor,
                                 absl::FunctionRef<bool(Slot)> is_ready) const;

  // Actors whose calls may have become dispatchable (a call became ready,
  // a call ahead of others left, the actor became alive); taken by the
  // scheduling loop.
  void MarkDirty(ActorId actor) { dirty_.insert(actor); }
  std::set<ActorId> TakeDirty();

 private:
  absl::node_hash_map<ActorId, Actor> actors_;
  absl::flat_hash_map<std::string, ActorId> names_;  // live actors only
  std::set<ActorId> pending_;
  std::set<ActorId> dirty_;
  // Unfinished calls, by record slot, and per actor, per caller (ordered,
  // so that dispatch does not depend on hashing), by number.
  absl::flat_hash_map<Slot, Call> calls_;
  absl::flat_hash_map<ActorId,
                      std::map<ClientId, std::map<uint64_t, Slot>>>
      queues_;
  // The last number given to each caller's calls to each actor.
  absl::flat_hash_map<ActorId, absl::flat_hash_map<ClientId, uint64_t>>
      last_seq_;
};

}  // namespace weft::scheduler

#endif  // WEFT_SCHEDULER_ACTOR_TABLE_H_
