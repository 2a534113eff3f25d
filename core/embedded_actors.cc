// Copyright 2026 The weft Authors.

#include "weft/internal/embedded_actors.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "weft/internal/actor_call.h"
#include "weft/internal/actor_executor.h"
#include "weft/internal/embedded_runtime.h"
#include "weft/internal/error_info.h"
#include "weft/internal/status_macros.h"
#include "weft/internal/task_context.h"

namespace weft::internal {

// One actor: its instance, its threads, its state.
class EmbeddedActors::Actor {
 public:
  Actor(uint64_t id, std::string class_name, ActorOptions options, int cpus)
      : id(id),
        class_name(std::move(class_name)),
        options(std::move(options)),
        cpus(cpus),
        executor(std::make_unique<ActorExecutor>(this->options.max_concurrency)) {}

  std::string key() const { return MakeKey(class_name, id); }

  // The instance, or nullptr if not constructed (or dead).
  std::shared_ptr<void> instance() {
    MutexLock lock(&mu);
    return instance_;
  }
  // The cause of death, or nullptr while not dead.
  std::shared_ptr<const ErrorInfo> death() {
    MutexLock lock(&mu);
    return death_;
  }
  ActorState state() {
    MutexLock lock(&mu);
    return death_ != nullptr   ? ActorState::kDead
           : constructed_      ? ActorState::kAlive
                               : ActorState::kPending;
  }
  // The constructor finished; false if the actor died meanwhile (then the
  // instance is dropped by the caller).
  bool SetInstance(std::shared_ptr<void> instance) {
    MutexLock lock(&mu);
    if (death_ != nullptr) return false;
    instance_ = std::move(instance);
    constructed_ = true;
    settled.store(true);
    return true;
  }
  // Marks it dead; false if it already was. The instance goes when the
  // calls running on it finish.
  bool SetDead(std::shared_ptr<const ErrorInfo> why) {
    std::shared_ptr<void> instance;
    MutexLock lock(&mu);
    if (death_ != nullptr) return false;
    death_ = std::move(why);
    instance.swap(instance_);
    settled.store(true);
    return true;
  }

  const uint64_t id;
  const std::string class_name;
  const ActorOptions options;
  const int cpus;  // slots it holds once granted
  const std::unique_ptr<ActorExecutor> executor;
  std::weak_ptr<ObjectState> anchor;  // set once at creation
  // Its slots were granted (set once; read by its constructor's job).
  std::atomic<bool> granted{false};
  // Constructed or dead: calls may start (set once).
  std::atomic<bool> settled{false};

 private:
  Mutex mu;
  std::shared_ptr<void> instance_ ABSL_GUARDED_BY(mu);
  bool constructed_ ABSL_GUARDED_BY(mu) = false;
  std::shared_ptr<const ErrorInfo> death_ ABSL_GUARDED_BY(mu);
};

namespace {

std::shared_ptr<const ErrorInfo> ActorDeath(const std::string& class_name,
                                            uint64_t id, std::string type,
                                            const std::string& why) {
  auto info = std::make_shared<ErrorInfo>();
  info->kind = ErrorKind::kActorDied;
  info->task_name = class_name;
  info->task_key = MakeKey(class_name, id);
  info->exception_type = std::move(type);
  info->message = absl::StrCat("actor ", info->task_key, " is dead: ", why);
  return info;
}

}  // namespace

// The owner of every anchor: the last state of an anchor gone means no
// handle is left.
class EmbeddedActors::AnchorOwner final : public ObjectOwner {
 public:
  explicit AnchorOwner(EmbeddedActors* actors) : actors_(actors) {}
  // Ends the actor. No lock is held meanwhile: ending it may release other
  // anchors (held by its dropped calls' arguments), on this thread.
  void Release(uint64_t id) override {
    EmbeddedActors* actors = Enter();
    if (actors == nullptr) return;
    std::shared_ptr<Actor> actor;
    {
      MutexLock lock(&actors->mu_);
      auto it = actors->actors_.find(id);
      if (it != actors->actors_.end()) {
        actor = it->second;
        actors->actors_.erase(it);
      }
    }
    if (actor != nullptr) {
      actors->Die(actor, ActorDeath(actor->class_name, id, "ActorDiedError",
                                    "every handle to it was released"));
    }
    Exit();
  }
  // After this returns, Release() does nothing (and none is running).
  void Detach() {
    UniqueLock lock(mu_);
    actors_ = nullptr;
    while (active_ > 0) idle_.wait(lock);
  }

 private:
  EmbeddedActors* Enter() {
    MutexLock lock(&mu_);
    if (actors_ != nullptr) ++active_;
    return actors_;
  }
  void Exit() {
    {
      MutexLock lock(&mu_);
      --active_;
    }
    idle_.notify_all();
  }

  Mutex mu_;
  std::condition_variable_any idle_;
  EmbeddedActors* actors_ ABSL_GUARDED_BY(mu_);
  int active_ ABSL_GUARDED_BY(mu_) = 0;
};

// Runs the constructor once its inputs are ready and its slots granted.
class EmbeddedActors::CreateJob final
    : public ActorExecutor::Job,
      public ReadyListener,
      public std::enable_shared_from_this<CreateJob> {
 public:
  CreateJob(EmbeddedActors* actors, std::shared_ptr<Actor> actor,
            ActorSpec spec)
      : actors_(actors), actor_(std::move(actor)), spec_(std::move(spec)) {
    unresolved_.store(static_cast<int>(spec_.deps.size()) + 1);
  }

  void Start() {
    for (const auto& dep : spec_.deps) {
      if (!dep->AddListener(shared_from_this())) OnReady(*dep);
    }
    Resolved();  // the "+1": every listener is registered
  }

  void OnReady(ObjectState&) override { Resolved(); }

  bool Ready() const override {
    return unresolved_.load() == 0 && actor_->granted.load();
  }

  void Run() override {
    for (const auto& dep : spec_.deps) {
      if (std::shared_ptr<const ErrorInfo> error = dep->error()) {
        actors_->Die(actor_,
                     ActorDeath(actor_->class_name, actor_->id,
                                error->exception_type,
                                absl::StrCat("its constructor's input ",
                                             error->task_key,
                                             " failed: ", error->message)));
        return;
      }
    }
    ActorTaskContext context(actor_->key(), actor_->cpus,
                             actors_->runtime_->client(), nullptr, nullptr);
    TaskContextScope scope(&context);
    try {
      AnyValue value = spec_.body->Run(/*last_attempt=*/true);
      std::shared_ptr<void> instance =
          *value.Get<std::shared_ptr<void>>();
      if (!actor_->SetInstance(instance)) return;  // killed meanwhile
    } catch (...) {
      std::shared_ptr<const ErrorInfo> error =
          ErrorFromCurrentException(actor_->class_name, actor_->key());
      actors_->Die(actor_,
                   ActorDeath(actor_->class_name, actor_->id,
                              error->exception_type,
                              absl::StrCat("its constructor threw: ",
                                           error->message)));
    }
    spec_.body.reset();  // its arguments are not needed any more
    spec_.deps.clear();
    actor_->executor->Poke();  // the calls behind it may start now
  }

 private:
  void Resolved() {
    if (unresolved_.fetch_sub(1) == 1) actor_->executor->Poke();
  }

  EmbeddedActors* const actors_;
  const std::shared_ptr<Actor> actor_;
  ActorSpec spec_;
  std::atomic<int> unresolved_{0};
};

// One method call: waits for its inputs, then runs on the actor's thread
// in its turn.
class EmbeddedActors::CallJob final
    : public ActorExecutor::Job,
      public ReadyListener,
      public Producer,
      public std::enable_shared_from_this<CallJob> {
 public:
  CallJob(EmbeddedActors* actors, std::shared_ptr<Actor> actor, TaskSpec spec,
          std::shared_ptr<ObjectState> result)
      : actors_(actors),
        actor_(std::move(actor)),
        spec_(std::move(spec)),
        result_(std::move(result)),
        id_(result_->id()) {
    unresolved_.store(static_cast<int>(spec_.deps.size()) + 1);
  }

  void Start() {
    for (const auto& dep : spec_.deps) {
      if (!dep->AddListener(shared_from_this())) OnReady(*dep);
    }
    Resolved();
  }

  void OnReady(ObjectState& dep) override {
    if (std::shared_ptr<const ErrorInfo> error = dep.error()) {
      Finish(AnyValue(), std::move(error));  // fails with the root cause
    }
    Resolved();
  }

  // Its inputs are ready, and the constructor has finished: with
  // max_concurrency > 1 a call may be taken while it still runs.
  bool Ready() const override {
    return unresolved_.load() == 0 && actor_->settled.load();
  }

  void Run() override {
    if (std::shared_ptr<const ErrorInfo> death = actor_->death()) {
      Finish(AnyValue(), std::move(death));
    } else if (HasResult()) {
      std::shared_ptr<void> instance = actor_->instance();
      ActorTaskContext context(
          MakeKey(spec_.name, id_), actor_->cpus, actors_->runtime_->client(),
          [this] { return cancelled_.load(); },
          [this](const std::shared_ptr<ObjectState>& c) { AddChild(c); });
      TaskContextScope scope(&context);
      ActorInstanceScope instance_scope(instance.get());
      try {
        AnyValue value = spec_.body->Run(/*last_attempt=*/true);
        Finish(std::move(value), nullptr);
      } catch (...) {
        Finish(AnyValue(),
               ErrorFromCurrentException(spec_.name, MakeKey(spec_.name, id_)));
      }
    }
    spec_.body.reset();
    spec_.deps.clear();
  }

  void Drop() override {
    std::shared_ptr<const ErrorInfo> death = actor_->death();
    Finish(AnyValue(),
           death != nullptr
               ? death
               : MakeError(ErrorKind::kShutdown, spec_.name,
                           MakeKey(spec_.name, id_),
                           "the runtime shut down before the call ran"));
  }

  // weft::cancel: a call not started never runs; a running one goes on
  // but its result is discarded; the tasks it submitted are cancelled.
  void Cancel() override {
    if (!Finish(AnyValue(),
                MakeError(ErrorKind::kCancelled, spec_.name,
                          MakeKey(spec_.name, id_), "cancelled by the user"))) {
      return;
    }
    cancelled_.store(true);
    std::vector<std::weak_ptr<ObjectState>> children;
    {
      MutexLock lock(&mu_);
      children.swap(children_);
    }
    for (const auto& weak : children) {
      if (auto child = weak.lock()) child->Cancel(/*wait=*/false);
    }
  }

 private:
  void Resolved() {
    if (unresolved_.fetch_sub(1) == 1) actor_->executor->Poke();
  }

  bool HasResult() {
    MutexLock lock(&mu_);
    return result_ != nullptr;
  }

  // Completes the call unless it already was; returns whether it did.
  bool Finish(AnyValue value, std::shared_ptr<const ErrorInfo> error) {
    std::shared_ptr<ObjectState> result;
    {
      MutexLock lock(&mu_);
      result.swap(result_);
    }
    if (result == nullptr) return false;
    ObjectState::Publish(std::move(result), std::move(value), std::move(error));
    return true;
  }

  void AddChild(const std::shared_ptr<ObjectState>& child) {
    {
      MutexLock lock(&mu_);
      if (!cancelled_.load()) {
        std::erase_if(children_, [](const std::weak_ptr<ObjectState>& c) {
          return c.expired();
        });
        children_.push_back(child);
        return;
      }
    }
    child->Cancel(/*wait=*/false);
  }

  EmbeddedActors* const actors_;
  const std::shared_ptr<Actor> actor_;
  TaskSpec spec_;
  Mutex mu_;
  std::shared_ptr<ObjectState> result_ ABSL_GUARDED_BY(mu_);
  std::vector<std::weak_ptr<ObjectState>> children_ ABSL_GUARDED_BY(mu_);
  const uint64_t id_;
  std::atomic<int> unresolved_{0};
  std::atomic<bool> cancelled_{false};
};

EmbeddedActors::EmbeddedActors(EmbeddedRuntime* runtime, int slots)
    : runtime_(runtime),
      slots_(slots),
      owner_(std::make_shared<AnchorOwner>(this)) {}

EmbeddedActors::~EmbeddedActors() {
  Shutdown();
  owner_->Detach();
}

void EmbeddedActors::Shutdown() {
  std::vector<std::shared_ptr<Actor>> all;
  {
    MutexLock lock(&mu_);
    shutdown_ = true;
    for (auto& [id, actor] : actors_) all.push_back(actor);
    all.insert(all.end(), retired_.begin(), retired_.end());
  }
  for (auto& actor : all) {
    Die(actor, MakeError(ErrorKind::kShutdown, actor->class_name,
                         actor->key(), "the runtime shut down"));
  }
  for (auto& actor : all) actor->executor->Join();
  MutexLock lock(&mu_);
  retired_.clear();
}

absl::StatusOr<std::shared_ptr<ObjectState>> EmbeddedActors::Create(
    ActorSpec spec) {
  const ActorOptions& o = spec.options;
  if (o.max_concurrency < 1 || o.max_concurrency > ActorOptions::kMaxConcurrency ||
      o.num_cpus < 0 || o.max_restarts < -1 || o.max_task_retries < -1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "weft: bad actor options: max_concurrency must be in [1, ",
        ActorOptions::kMaxConcurrency, "] (got ", o.max_concurrency,
        "), num_cpus >= 0 (got ", o.num_cpus,
        "), max_restarts and max_task_retries >= -1"));
  }
  auto actor = std::make_shared<Actor>(spec.id, spec.class_name, spec.options,
                                       std::clamp(o.num_cpus, 0, slots_));
  auto anchor = std::make_shared<ObjectState>(spec.id, spec.class_name);
  anchor->SetValue(AnyValue::Make(std::monostate{}));
  actor->anchor = anchor;
  auto job = std::make_shared<CreateJob>(this, actor, std::move(spec));
  {
    MutexLock lock(&mu_);
    if (shutdown_) {
      return absl::UnavailableError("weft: the runtime shut down");
    }
    if (!actor->options.name.empty()) {
      if (names_.contains(actor->options.name)) {
        return absl::AlreadyExistsError(absl::StrCat(
            "a live actor is already named '", actor->options.name, "'"));
      }
      names_[actor->options.name] = actor->id;
    }
    actors_[actor->id] = actor;
    // The constructor is the first job: every call queues behind it.
    actor->executor->Post(job);
    waiting_.push_back(actor);
    GrantSlots();
    Reap();
  }
  job->Start();
  // Set last: the anchor's release must find the actor registered.
  anchor->set_owner(owner_);
  return anchor;
}

void EmbeddedActors::GrantSlots() {
  while (!waiting_.empty() &&
         reserved_ + waiting_.front()->cpus <= slots_) {
    std::shared_ptr<Actor> actor = std::move(waiting_.front());
    waiting_.pop_front();
    reserved_ += actor->cpus;
    runtime_->HoldSlots(actor->cpus);
    actor->granted.store(true);
    actor->executor->Poke();
  }
}

void EmbeddedActors::Reap() {
  std::erase_if(retired_, [](const std::shared_ptr<Actor>& actor) {
    if (!actor->executor->Finished()) return false;
    actor->executor->Join();
    return true;
  });
}

bool EmbeddedActors::Die(const std::shared_ptr<Actor>& actor,
                         std::shared_ptr<const ErrorInfo> why) {
  if (!actor->SetDead(std::move(why))) return false;
  {
    MutexLock lock(&mu_);
    auto named = names_.find(actor->options.name);
    if (named != names_.end() && named->second == actor->id) {
      names_.erase(named);
    }
    if (actor->granted.load()) {
      reserved_ -= actor->cpus;
      runtime_->ReleaseSlots(actor->cpus);
    } else {
      std::erase(waiting_, actor);
    }
    GrantSlots();
    retired_.push_back(actor);
  }
  actor->executor->Stop();  // queued calls fail with the death
  return true;
}

std::shared_ptr<ObjectState> EmbeddedActors::Call(
    uint64_t id, const std::shared_ptr<ObjectState>& anchor, TaskSpec spec) {
  auto result = std::make_shared<ObjectState>(
      spec.id != 0 ? spec.id : NewObjectId(), spec.name);
  absl::StatusOr<std::shared_ptr<Actor>> found = Find(id);
  if (!found.ok()) {
    result->SetError(MakeError(ErrorKind::kActorDied, spec.name, result->key(),
                               absl::StrCat("actor ", absl::Hex(id),
                                            " is unknown to this runtime")));
    return result;
  }
  std::shared_ptr<Actor> actor = *std::move(found);
  // The call holds its actor (through the anchor) until it has run.
  spec.deps.push_back(anchor);
  auto job = std::make_shared<CallJob>(this, actor, std::move(spec), result);
  result->set_producer(job);
  actor->executor->Post(job);  // in submission order
  job->Start();
  return result;
}

absl::StatusOr<std::shared_ptr<EmbeddedActors::Actor>> EmbeddedActors::Find(
    uint64_t id) {
  MutexLock lock(&mu_);
  auto it = actors_.find(id);
  if (it == actors_.end()) {
    return absl::NotFoundError(
        absl::StrCat("actor ", absl::Hex(id), " is unknown"));
  }
  return it->second;
}

absl::StatusOr<ActorStatus> EmbeddedActors::Status(uint64_t id) {
  WEFT_ASSIGN_OR_RETURN(std::shared_ptr<Actor> actor, Find(id));
  ActorStatus status;
  status.state = actor->state();
  status.death = actor->death();
  if (status.state != ActorState::kDead) status.worker = "local";
  return status;
}

absl::StatusOr<FoundActor> EmbeddedActors::Lookup(const std::string& name) {
  MutexLock lock(&mu_);
  auto named = names_.find(name);
  if (named != names_.end()) {
    auto it = actors_.find(named->second);
    if (it != actors_.end()) {
      if (std::shared_ptr<ObjectState> anchor = it->second->anchor.lock()) {
        return FoundActor{it->second->id, it->second->class_name,
                          std::move(anchor)};
      }
    }
  }
  return absl::NotFoundError(
      absl::StrCat("no live actor is named '", name, "'"));
}

absl::StatusOr<bool> EmbeddedActors::Kill(uint64_t id) {
  WEFT_ASSIGN_OR_RETURN(std::shared_ptr<Actor> actor, Find(id));
  return Die(actor, ActorDeath(actor->class_name, id, "ActorDiedError",
                               "it was killed"));
}

}  // namespace weft::internal
