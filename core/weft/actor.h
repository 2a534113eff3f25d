// Copyright 2026 The weft Authors.
//
// Actors: stateful objects that live on one worker and serve method calls,
// as in Ray. A class registered with WEFT_ACTOR is constructed once, on
// some worker (or in this process on the embedded runtime), and keeps its
// state between calls:
//
//   class Counter {
//    public:
//     explicit Counter(int start) : n_(start) {}
//     int Add(int k) { return n_ += k; }
//    private:
//     int n_;
//   };
//   WEFT_ACTOR(Counter(int), &Counter::Add);
//
//   weft::Actor<Counter> c = weft::actor<Counter>()(10);     // created now
//   weft::ObjectRef<int> r = c.remote(&Counter::Add)(5);     // returns at once
//   int fifteen = weft::get(r);
//   auto named = weft::actor<Counter>({.name = "c", .max_restarts = 2})(0);
//   auto same = weft::get_actor<Counter>("c");  // from any program
//   weft::kill(c);
//
// Calls from one caller (a program, or a worker's tasks) run in the order
// they were made; an actor runs one call at a time unless
// ActorOptions::max_concurrency says more. Arguments are bound as for
// remote() (values, ObjectRefs, vectors of them). A method that throws
// fails that call only. Handles are values: copy them, pass them to tasks
// and to other actors (as arguments or inside values). The actor lives
// while a handle to it (or a call not yet finished) exists anywhere, until
// killed. See docs/api.md, "Actors".

#ifndef WEFT_CORE_WEFT_ACTOR_H_
#define WEFT_CORE_WEFT_ACTOR_H_

#include <cstdint>
#include <memory>
#include <ostream>
#include <ranges>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <typeindex>
#include <utility>
#include <vector>

#include "weft/actor_status.h"
#include "weft/client.h"
#include "weft/errors.h"
#include "weft/internal/actor_call.h"
#include "weft/internal/client_impl.h"
#include "weft/internal/task_context.h"
#include "weft/internal/throw_status.h"
#include "weft/object_ref.h"
#include "weft/options.h"
#include "weft/registry.h"

namespace weft {

template <class C>
class Actor;

namespace internal {

// What the copies of an actor handle in one process share.
struct ActorCore {
  uint64_t id = 0;
  std::string class_name;  // registered name
  std::string name;        // ActorOptions::name; empty if unnamed
  // Holding it keeps the actor alive (see Runtime::CreateActor).
  std::shared_ptr<ObjectState> anchor;
  // The runtime the actor lives on.
  std::shared_ptr<ClientImpl> client;
};

// How weft's own code makes an actor handle around its core, and reads the
// core back (both are private: programs get handles from actor<C>() and
// get_actor<C>()).
struct ActorAccess {
  template <class C>
  static Actor<C> Make(std::shared_ptr<ActorCore> core) {
    return Actor<C>(std::move(core));
  }
  template <class C>
  static const std::shared_ptr<ActorCore>& Core(const Actor<C>& actor) {
    return actor.core_;
  }
  // The core behind `actor`, which `call` (the API function, for the
  // message) needs. Throws UsageError if `actor` is empty.
  template <class C>
  static const std::shared_ptr<ActorCore>& Required(const Actor<C>& actor,
                                                    const char* call) {
    if (actor.core_ == nullptr) [[unlikely]] {
      ThrowEmpty(call, "Actor handle");
    }
    return actor.core_;
  }
};

// The registered name of class C. Throws UsageError if C's WEFT_ACTOR
// registration has not run in this process.
template <class C>
const Registry::ActorClass& ActorClassOf() {
  const Registry::ActorClass* cls =
      Registry::Global().FindActorClass(std::type_index(typeid(C)));
  if (cls == nullptr) {
    throw UsageError("weft: actor class " + SignatureOf(typeid(C)) +
                     " is not registered in this process (WEFT_ACTOR)");
  }
  return *cls;
}

}  // namespace internal

// A call of one method of an actor, bound to the actor: call it to submit.
template <class C, class M>
class ActorMethod {
 public:
  using Call = typename internal::MethodTraits<M>::template Call<C>;
  using Result = internal::Stored<internal::ResultOf<Call>>;

  // Submits the call and returns at once. Arguments follow remote()'s
  // rules (weft/internal/bind.h).
  template <class... A>
  ObjectRef<Result> operator()(A&&... args) const {
    internal::TaskSpec spec = internal::MakeTaskSpec(
        Call{method_}, TaskOptions{}, std::forward<A>(args)...);
    spec.function_name = method_name_;
    spec.name = method_name_.empty() ? core_->class_name + ".method"
                                     : method_name_;
    spec.id = internal::NewObjectId();
    std::shared_ptr<internal::ObjectState> state =
        internal::ValueOrThrow(core_->client->runtime().SubmitActorCall(
            core_->id, core_->anchor, std::move(spec)));
    if (internal::TaskContext* parent = internal::TaskContext::Current()) {
      parent->AddChild(state);
    }
    return internal::RefAccess::Make<Result>(std::move(state));
  }

  // One call per input element, in order: method(a[i], b[i], ...).
  // Throws std::invalid_argument if the lengths differ.
  template <class... In>
  std::vector<ObjectRef<Result>> map(const In&... inputs) const {
    return internal::MapInputs<ObjectRef<Result>>(
        core_->client->runtime(),
        [this](auto&&... args) {
          return (*this)(std::forward<decltype(args)>(args)...);
        },
        inputs...);
  }

 private:
  friend class Actor<C>;  // Actor::remote makes them
  ActorMethod(std::shared_ptr<internal::ActorCore> core, M method,
              std::string method_name)
      : core_(std::move(core)),
        method_(method),
        method_name_(std::move(method_name)) {}

  std::shared_ptr<internal::ActorCore> core_;
  M method_;
  std::string method_name_;  // registered; empty if not
};

// A handle to an actor of class C. Cheap to copy; copies refer to the same
// actor. Thread-safe to copy and use from any thread.
template <class C>
class Actor {
 public:
  // An empty handle; valid() is false. It names no actor: remote(),
  // status(), alive() and kill() of it throw UsageError. Inside a value it
  // travels as it is and arrives empty.
  Actor() = default;

  bool valid() const { return core_ != nullptr; }
  // REQUIRES (id, name, key): valid().
  uint64_t id() const { return core_->id; }
  // ActorOptions::name; empty for an unnamed actor.
  const std::string& name() const { return core_->name; }
  // "Counter-<16 hex digits>", as in errors.
  std::string key() const {
    return internal::MakeKey(core_->class_name, core_->id);
  }

  // handle.remote(&C::Method)(args...) calls the method and returns an
  // ObjectRef at once. On a cluster the method must be registered with
  // WEFT_ACTOR (a call of one that is not fails with UsageError).
  template <class M>
  ActorMethod<C, M> remote(M method) const {
    static_assert(internal::MethodTraits<M>::kIsMethod,
                  "weft: Actor::remote takes a method, as &Class::Method");
    static_assert(
        std::is_base_of_v<typename internal::MethodTraits<M>::Class, C>,
        "weft: the method is not a member of the actor's class");
    const Registry::ActorMethod* entry =
        internal::ActorClassOf<C>().FindMethod(method);
    return ActorMethod<C, M>(internal::ActorAccess::Required(*this, "remote()"),
                             method,
                             entry != nullptr ? entry->name : std::string());
  }

  // The actor's state now (on a cluster, asks the scheduler). Throws
  // UsageError if the runtime cannot answer (it shut down).
  ActorStatus status() const {
    const std::shared_ptr<internal::ActorCore>& core =
        internal::ActorAccess::Required(*this, "status()");
    absl::StatusOr<ActorStatus> s =
        core->client->runtime().GetActorStatus(core->id);
    internal::ThrowIfError(s.status(), key());
    return *std::move(s);
  }
  // True unless the actor is dead: status().alive().
  bool alive() const { return status().alive(); }

  friend bool operator==(const Actor& a, const Actor& b) {
    if (!a.valid() || !b.valid()) return a.valid() == b.valid();
    return a.id() == b.id();
  }
  friend std::ostream& operator<<(std::ostream& os, const Actor& a) {
    return os << "Actor(" << (a.valid() ? a.key() : "empty") << ")";
  }

 private:
  friend struct internal::ActorAccess;
  explicit Actor(std::shared_ptr<internal::ActorCore> core)
      : core_(std::move(core)) {}

  std::shared_ptr<internal::ActorCore> core_;
};

// weft::actor<C>(options)(args...) creates an actor: bound to a client and
// options; call it with the constructor's arguments.
template <class C>
class ActorClass {
 public:
  // Creates the actor and returns its handle at once; the constructor runs
  // on a worker once its ObjectRef arguments are ready and a worker has
  // options.num_cpus slots no other actor holds. Throws UsageError for
  // arguments that cannot be serialized on a cluster, bad options, or a
  // name a live actor has. A constructor that throws kills the actor: its
  // calls fail with ActorDiedError carrying that exception.
  template <class... A>
  Actor<C> operator()(A&&... args) const {
    static_assert(internal::kIsRegisteredActor<C>,
                  "weft: register the actor class with WEFT_ACTOR(Class("
                  "constructor parameter types), &Class::Method, ...) in "
                  "the class's namespace, where this code can see it (e.g. "
                  "in the class's header)");
    using Ctor = internal::ConstructorOf<C>;
    const Registry::ActorClass& cls = internal::ActorClassOf<C>();
    internal::TaskSpec task = internal::MakeTaskSpec(
        typename Ctor::Factory{}, TaskOptions{}, std::forward<A>(args)...);
    internal::ActorSpec spec;
    spec.class_name = cls.name;
    spec.options = options_;
    spec.deps = std::move(task.deps);
    spec.body = std::move(task.body);
    spec.id = internal::NewObjectId();
    auto core = std::make_shared<internal::ActorCore>();
    core->id = spec.id;
    core->class_name = cls.name;
    core->name = options_.name;
    core->client = client_;
    absl::StatusOr<std::shared_ptr<internal::ObjectState>> anchor =
        client_->runtime().CreateActor(std::move(spec));
    internal::ThrowIfError(anchor.status(),
                           internal::MakeKey(cls.name, core->id));
    core->anchor = *std::move(anchor);
    return internal::ActorAccess::Make<C>(std::move(core));
  }

 private:
  friend class Client;  // Client::actor makes them
  ActorClass(std::shared_ptr<internal::ClientImpl> client,
             ActorOptions options)
      : client_(std::move(client)), options_(std::move(options)) {}

  std::shared_ptr<internal::ClientImpl> client_;
  ActorOptions options_;
};

// weft::actor<C>(options)(args...): creates an actor of class C on the
// current client's runtime; see ActorClass.
template <class C>
ActorClass<C> actor(ActorOptions options = {}) {
  return Client::Current().actor<C>(std::move(options));
}

// The live actor named `name` (created by any program connected to the
// same cluster). Throws UsageError if there is none, or it is not a C.
template <class C>
Actor<C> get_actor(const std::string& name) {
  return Client::Current().get_actor<C>(name);
}

// Ends the actor: calls not finished fail with ActorDiedError, and so do
// later ones; a running call's result is dropped (the worker finishes it).
// It is not restarted. Returns true if it was alive, false if already
// dead. On a cluster, waits for the scheduler's answer (at most 30 s).
// Throws UsageError if the runtime cannot answer, TimeoutError if the
// scheduler does not answer in time.
template <class C>
bool kill(const Actor<C>& actor) {
  absl::StatusOr<bool> killed = internal::ActorAccess::Required(actor, "kill()")
                                    ->client->runtime()
                                    .KillActor(actor.id());
  internal::ThrowIfError(killed.status(), actor.key());
  return *killed;
}

// --- Client methods -------------------------------------------------------

template <class C>
ActorClass<C> Client::actor(ActorOptions options) const {
  return ActorClass<C>(impl_, std::move(options));
}

template <class C>
Actor<C> Client::get_actor(const std::string& name) const {
  absl::StatusOr<internal::FoundActor> found =
      impl_->runtime().LookupActor(name);
  internal::ThrowIfError(found.status(), "actor '" + name + "'");
  const Registry::ActorClass& cls = internal::ActorClassOf<C>();
  if (found->class_name != cls.name) {
    throw UsageError("weft: the actor named '" + name + "' is a " +
                     found->class_name + ", not a " + cls.name);
  }
  auto core = std::make_shared<internal::ActorCore>();
  core->id = found->id;
  core->class_name = found->class_name;
  core->name = name;
  core->anchor = std::move(found->anchor);
  core->client = impl_;
  return internal::ActorAccess::Make<C>(std::move(core));
}

template <class C>
bool Client::kill(const Actor<C>& actor) const {
  return weft::kill(actor);
}

// --- Serialization --------------------------------------------------------

namespace internal {

// A handle travels as the actor's id, class and name; the id is an object
// reference (the anchor), so a value holding a handle keeps the actor
// alive, as a task's arguments do. Decoded, it belongs to the current
// client (inside a task: the task's). An empty handle round-trips as
// empty.
template <class C>
struct Codec<Actor<C>> {
  static constexpr Reason kSelfReason = Reason::kOk;
  using Children = TypeList<>;
  static constexpr size_t kMinWireSize = 24;  // id and two lengths
  static std::string Name() {
    return "weft::Actor<" + SignatureOf(typeid(C)) + ">";
  }

  template <class Ar>
  static void Save(Ar& ar, const Actor<C>& actor) {
    const uint64_t id = actor.valid() ? actor.id() : 0;
    ArchiveHelpers::WriteScalar(ar, id);
    ar(actor.valid() ? ActorAccess::Core(actor)->class_name : std::string());
    ar(actor.valid() ? actor.name() : std::string());
    if (id != 0) {
      if (RefCollector* refs = ArchiveHelpers::Refs(ar)) refs->Add(id);
    }
  }
  template <class Ar>
  static void Load(Ar& ar, Actor<C>& actor) {
    uint64_t id = 0;
    std::string class_name;
    std::string name;
    if (!ArchiveHelpers::ReadScalar(ar, id)) return;
    ar(class_name);
    ar(name);
    if (!ar.ok()) return;
    if (id == 0) {
      actor = Actor<C>();
      return;
    }
    RefResolver* refs = ArchiveHelpers::Refs(ar);
    if (refs == nullptr) {
      ar.Fail(absl::FailedPreconditionError(
          "an actor handle can only be decoded by a weft runtime"));
      return;
    }
    absl::StatusOr<std::shared_ptr<ObjectState>> anchor =
        refs->Resolve(id, class_name);
    if (!anchor.ok()) {
      ar.Fail(anchor.status());
      return;
    }
    auto core = std::make_shared<ActorCore>();
    core->id = id;
    core->class_name = std::move(class_name);
    core->name = std::move(name);
    core->anchor = *std::move(anchor);
    core->client = ClientImpl::Current();
    actor = ActorAccess::Make<C>(std::move(core));
  }
};

}  // namespace internal
}  // namespace weft

#endif  // WEFT_CORE_WEFT_ACTOR_H_
