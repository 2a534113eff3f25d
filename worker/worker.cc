// Copyright 2026 The weft Authors.

#include "worker/worker.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "rpc/batch_writer.h"
#include "rpc/buffer.h"
#include "rpc/buffer_sink.h"
#include "rpc/bulk_transfer.h"
#include "rpc/cluster_runtime.h"
#include "rpc/convert.h"
#include "rpc/data_client.h"
#include "rpc/error_proto.h"
#include "rpc/event_loop.h"
#include "rpc/frame_stream.h"
#include "rpc/listen_check.h"
#include "rpc/liveness.h"
#include "rpc/peer_stream.h"
#include "rpc/process_stats.h"
#include "rpc/rate_limited_log.h"
#include "rpc/retry.h"
#include "rpc/shared_region.h"
#include "rpc/status.h"
#include "rpc/tls.h"
#include "rpc/token.h"
#include "rpc/weft.grpc.pb.h"
#include "weft/errors.h"
#include "weft/internal/actor_executor.h"
#include "weft/internal/client_impl.h"
#include "weft/internal/embedded_runtime.h"
#include "weft/internal/error_info.h"
#include "weft/internal/inline_limit.h"
#include "weft/internal/status_macros.h"
#include "weft/options.h"
#include "weft/registry.h"
#include "worker/actor_host.h"
#include "worker/data_service.h"
#include "worker/object_store.h"
#include "worker/task_inputs.h"

namespace weft::worker {
namespace {

using internal::ObjectState;

// A result may wait up to kResultLinger to travel with others while at
// least kLazyResultsQueue more tasks are assigned here (the scheduler keeps
// ~2 ms of work queued per thread, so this never starves the worker).
constexpr size_t kLazyResultsQueue = 4;
// At most this many copies of a retiring worker's objects are fetched at
// once (Worker::Impl::StartCopy).
constexpr size_t kCopyThreads = 4;
constexpr std::chrono::microseconds kResultLinger{500};

// Reads task arguments from the local store. References inside them
// (ObjectRefs the task receives) become references of the worker's nested
// client, which the scheduler has confirmed before the function runs: the
// task's own hold on them ends when its result arrives, on another stream.
class StoreArgSource final : public internal::ArgSource,
                             private internal::RefResolver {
 public:
  StoreArgSource(ObjectStore& store, rpc::ClusterRuntime* cluster)
      : store_(store), cluster_(cluster) {}

  absl::StatusOr<std::string_view> Bytes(uint64_t id) override {
    std::optional<rpc::Buffer> bytes = store_.Get(id);
    if (!bytes.has_value()) {
      return absl::NotFoundError(absl::StrCat("input object ", id,
                                              " is not on this worker"));
    }
    held_.push_back(*std::move(bytes));  // keeps the view valid for the call
    return held_.back().view();
  }

  internal::RefResolver* refs() override { return this; }

  absl::Status ArgumentsDecoded() override {
    return adopted_ ? cluster_->Sync() : absl::OkStatus();
  }

 private:
  absl::StatusOr<std::shared_ptr<ObjectState>> Resolve(
      uint64_t id, std::string_view name) override {
    if (cluster_ == nullptr) {
      return absl::FailedPreconditionError(
          "weft: this worker has no client for ObjectRef arguments (its "
          "nested client could not connect)");
    }
    adopted_ = true;
    return cluster_->refs()->Resolve(id, name);
  }

  ObjectStore& store_;
  rpc::ClusterRuntime* const cluster_;
  std::vector<rpc::Buffer> held_;
  bool adopted_ = false;
};

}  // namespace

// Worker's state and logic; Worker forwards to it.
class Worker::Impl {
 public:
  Impl(WorkerOptions options, std::unique_ptr<SchedulerConnector> connector)
      : options_(std::move(options)),
        connector_(std::move(connector)),
        data_client_("", std::chrono::minutes(10), shared_memory_),
        inputs_(store_,
                [this](const rpc::Location& input, rpc::FetchInfo* how) {
                  return data_client_.FetchAnyBuffer(
                      {input.addresses().begin(), input.addresses().end()},
                      input.id(), how, input.size());
                }) {}

  // Joins the scheduler and serves it; after losing it, rejoins (for up to
  // options_.rejoin_timeout) and serves again, until told to stop or asked
  // to leave. Returns the process's exit code.
  int Run() {
    if (!StartDataService()) return kExitCannotStart;
    executor_ = std::make_unique<internal::EmbeddedRuntime>(options_.nthreads);
    executor_->set_blocking_observer([this](uint64_t id, bool blocked) {
      uint32_t attempt;
      {
        internal::MutexLock lock(&tasks_mu_);
        auto it = running_.find(id);
        if (it == running_.end()) return;  // a stale run: nobody asks
        attempt = it->second.attempt;
      }
      if (std::shared_ptr<Session> session = CurrentSession()) {
        SendOn(*session, [&](rpc::WorkerMessage& m) {
          rpc::BlockChange* change = m.add_blocking();
          change->set_id(id);
          change->set_attempt(attempt);
          change->set_blocked(blocked);
        });
      }
    });
    const int code = ServeSchedulers();
    // Drain: running tasks finish (and report, if the session still
    // stands), queued ones are dropped.
    executor_.reset();
    JoinCopies();
    DropSession();
    JoinActors();
    server_->Shutdown(std::chrono::system_clock::now() +
                      std::chrono::seconds(1));
    return code;
  }

  // Stops the worker by choice (SIGTERM, SIGINT): tells the scheduler it is
  // leaving, so its end of stream counts as no death, and ends serving (or
  // waiting to rejoin). Run() then returns 0. Thread-safe; idempotent.
  void Leave() {
    if (leave_requested_.exchange(true)) return;
    std::shared_ptr<Session> session = CurrentSession();
    if (session != nullptr) {
      SendOn(*session, [](rpc::WorkerMessage& m) { m.set_leaving(true); });
      // Waits for a write in progress on another thread, which may be the
      // one carrying the message: it must be in the stream before the
      // stream closes.
      session->writer->Close();
      // The scheduler ends the stream on seeing it; in case it cannot, the
      // stream is cut after a moment (Close waits for what is queued).
      session->stream->Close(/*drain=*/absl::Seconds(1));
    }
    End(session.get(), Ending::kLeft, absl::OkStatus());
  }

  // Starts retiring (the first SIGTERM): tells the scheduler, which stops
  // sending tasks and, once this worker's tasks are done and the objects
  // only it holds are copied elsewhere, tells it to stop. Returns false if
  // there is nothing to retire from (no session): the caller leaves.
  // Thread-safe.
  bool Retire() {
    std::shared_ptr<Session> session = CurrentSession();
    if (session == nullptr || leave_requested_.load()) return false;
    SendOn(*session, [](rpc::WorkerMessage& m) { m.set_retiring(true); });
    return true;
  }

  const WorkerOptions& options() const { return options_; }

 private:
  // One membership in the scheduler's cluster, from joining to losing the
  // scheduler or stopping. The tasks assigned during it hold it (TaskRun):
  // their nested client and name stay valid for as long as they run.
  struct Session {
    uint64_t worker_id = 0;
    std::string name;  // "worker N (host:port)"
    std::shared_ptr<rpc::PeerStream<rpc::WorkerMessage, rpc::SchedulerToWorker>>
        stream;
    // Batches updates onto the stream: the thread with a message writes it
    // (on a frame stream); lingering results wait on the loop's timer.
    std::unique_ptr<rpc::BatchWriter<rpc::WorkerMessage>> writer;
    // The scheduler's first message (handled once the session is set up).
    rpc::SchedulerToWorker first;
    // How long the scheduler may stay silent before it counts as lost.
    absl::Duration scheduler_timeout = absl::Seconds(10);
    // Tasks that call remote()/get() themselves use this client; null if
    // it could not connect.
    std::shared_ptr<internal::ClientImpl> nested_client;
    rpc::ClusterRuntime* cluster = nullptr;  // nested_client's runtime
    // Heartbeats out, silence in (set by Serve()).
    std::unique_ptr<rpc::Liveness> liveness;

    ~Session() {
      liveness.reset();  // before what its callbacks use
      if (writer != nullptr) writer->Close();
      if (stream != nullptr) stream->Close();
    }
  };

  // How a session ended.
  enum class Ending { kServing, kLost, kShutdown, kLeft };

  std::shared_ptr<Session> CurrentSession() {
    internal::MutexLock lock(&session_mu_);
    return session_;
  }

  // Joins, serves, and rejoins after a loss. Returns the exit code.
  int ServeSchedulers() {
    absl::Duration budget = absl::FromChrono(options_.connect_timeout);
    bool first = true;
    while (true) {
      absl::StatusOr<std::shared_ptr<Session>> session =
          Join(absl::Now() + budget, first);
      if (!session.ok()) {
        if (leave_requested_.load()) return 0;
        std::fprintf(
            stderr, "weft worker (%s): %s the scheduler at %s: %s\n",
            address_.c_str(),
            first ? "cannot join"
                  : absl::StrCat("gave up rejoining after ",
                                 absl::FormatDuration(budget), ";")
                        .c_str(),
            options_.scheduler_address.c_str(),
            std::string(session.status().message()).c_str());
        return kExitNoScheduler;
      }
      first = false;
      absl::Status why;
      const Ending ending = Serve(*session, &why);
      if (ending != Ending::kLost) return 0;
      budget = absl::FromChrono(options_.rejoin_timeout);
      std::fprintf(stderr, "weft %s: lost the scheduler: %s%s\n",
                   (*session)->name.c_str(), std::string(why.message()).c_str(),
                   budget > absl::ZeroDuration()
                       ? absl::StrCat("; rejoining (for up to ",
                                      absl::FormatDuration(budget), ")")
                             .c_str()
                       : "");
      DropSession();
      if (budget <= absl::ZeroDuration()) return kExitNoScheduler;
    }
  }

  // Serves `session` until it ends; returns how (and in `*why`, for a lost
  // scheduler, what happened).
  Ending Serve(const std::shared_ptr<Session>& session, absl::Status* why) {
    {
      internal::MutexLock lock(&stop_mu_);
      ending_ = Ending::kServing;
      ending_why_ = absl::OkStatus();
    }
    {
      internal::MutexLock lock(&session_mu_);
      session_ = session;
    }
    if (leave_requested_.load()) {  // asked to leave while joining
      SendOn(*session, [](rpc::WorkerMessage& m) { m.set_leaving(true); });
      return Ending::kLeft;
    }
    if (session->nested_client != nullptr) {
      executor_->set_client(session->nested_client);
    }
    // Only now may tasks run: they read the session's client and name.
    HandleMessage(session, session->first);
    std::weak_ptr<Session> weak = session;
    Session* raw = session.get();  // valid while its liveness runs
    rpc::Liveness::Options watch;
    watch.interval = absl::FromChrono(options_.heartbeat_interval);
    watch.timeout = session->scheduler_timeout;
    session->liveness = std::make_unique<rpc::Liveness>(
        rpc::EventLoop::Shared(), watch, [this, raw] { SendHeartbeat(*raw); },
        [this, raw](absl::Duration silent) {
          End(raw, Ending::kLost,
              absl::UnavailableError(absl::StrCat(
                  "heard nothing from it for ",
                  absl::FormatDuration(
                      absl::Trunc(silent, absl::Milliseconds(100))),
                  " (is its host down, or the network between?)")));
          raw->stream->Close();
        });
    session->stream->Serve(
        [this, weak](absl::Span<const rpc::SchedulerToWorker* const> messages) {
          std::shared_ptr<Session> s = weak.lock();
          if (s == nullptr) return;
          s->liveness->Heard();
          for (const rpc::SchedulerToWorker* m : messages) {
            HandleMessage(s, *m);
            if (m->shutdown()) {
              End(s.get(), Ending::kShutdown, absl::OkStatus());
            }
          }
        },
        [this, weak](const absl::Status& closed) {
          if (std::shared_ptr<Session> s = weak.lock()) {
            End(s.get(), Ending::kLost, closed);
          }
        });
    internal::UniqueLock lock(stop_mu_);
    while (ending_ == Ending::kServing) stop_cv_.wait(lock);
    *why = ending_why_;
    return ending_;
  }

  // Ends the session `session` (if it is the current one, or null while
  // joining) the first way that happens. A loss after Leave() was called
  // is the leaving (Leave closes the stream, whose closed handler may come
  // first). Thread-safe.
  void End(Session* session, Ending how, absl::Status why) {
    if (how == Ending::kLost && leave_requested_.load()) {
      how = Ending::kLeft;
      why = absl::OkStatus();
    }
    {
      internal::MutexLock lock(&session_mu_);
      if (session != nullptr && session != session_.get()) return;
    }
    {
      internal::MutexLock lock(&stop_mu_);
      if (ending_ != Ending::kServing) return;
      ending_ = how;
      ending_why_ = std::move(why);
    }
    stop_cv_.notify_all();
  }

  // Ends the current session: its runs go stale (cancelled; they report
  // nothing), the objects it stored go (the scheduler counted them lost),
  // its stream closes. Its tasks may still run on, holding it.
  void DropSession() {
    std::shared_ptr<Session> old;
    {
      internal::MutexLock lock(&session_mu_);
      old.swap(session_);
    }
    if (old == nullptr) return;
    std::vector<std::shared_ptr<ObjectState>> runs;
    {
      internal::MutexLock lock(&tasks_mu_);
      for (auto& [id, running] : running_) {
        if (auto state = running.state.lock()) runs.push_back(std::move(state));
      }
      running_.clear();
      inputs_.Clear();
    }
    for (auto& state : runs) state->Cancel(/*wait=*/false);
    // The session's actors die with it (the scheduler restarts them, on
    // this worker once it rejoined or on another, as their options allow).
    StopActors();
    store_.Clear();
    // Stopped, not destroyed: the stream's reader may be in Heard() on a
    // loop thread until the stream is closed (a data race and a use after
    // free, found by ThreadSanitizer). It goes with the session.
    if (old->liveness != nullptr) old->liveness->Stop();
    old->writer->Close();
    old->stream->Close();
  }

  bool StartDataService() {
    if (absl::Status s = rpc::CheckCanListen(options_.host, options_.port);
        !s.ok()) {
      std::fprintf(stderr, "weft worker: %s\n", std::string(s.message()).c_str());
      return false;
    }
    // Large objects go to other hosts through the bulk port (a peer that
    // cannot reach it streams them over gRPC instead).
    if (rpc::BulkTransferEnabled()) {
      absl::StatusOr<std::unique_ptr<rpc::BulkServer>> bulk =
          rpc::BulkServer::Start(options_.host, 0);
      if (bulk.ok()) {
        bulk_ = *std::move(bulk);
      } else {
        std::fprintf(stderr, "weft worker: no bulk port (%s); large objects "
                             "are streamed over gRPC\n",
                     std::string(bulk.status().message()).c_str());
      }
    }
    service_ = std::make_unique<DataService>(
        store_, /*token=*/"",  // set once the scheduler took one
        [this](const rpc::CallRequest& r) { return HandleCall(r); },
        shared_memory_, bulk_.get());
    // With TLS on (rpc/tls.h) the data port serves TLS only.
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
        rpc::ProcessServerCredentials();
    if (!credentials.ok()) {
      std::fprintf(stderr, "weft worker: %s\n",
                   std::string(credentials.status().message()).c_str());
      return false;
    }
    grpc::ServerBuilder builder;
    // A port another process listens on is an error, not a second listener
    // sharing it (gRPC sets SO_REUSEPORT unless told not to).
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    int port = 0;
    builder.AddListeningPort(absl::StrCat(options_.host, ":", options_.port),
                             *credentials, &port);
    // Data arrives in 1 MiB chunks; anything far larger is refused.
    builder.SetMaxReceiveMessageSize(64 << 20);
    builder.SetMaxSendMessageSize(-1);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    if (server_ == nullptr || port == 0) {
      std::fprintf(stderr, "weft worker: cannot listen on %s:%d\n",
                   options_.host.c_str(), options_.port);
      return false;
    }
    address_ = absl::StrCat(options_.host, ":", port);
    return true;
  }

  // Registers with the scheduler by `deadline`, waiting while it does not
  // answer yet (not started, restarting, unreachable), while there is no
  // token file yet, and while it refuses a token read from a file (it may
  // have just written a new one). Says once that it waits. Errors: the
  // last attempt's; Cancelled if asked to leave meanwhile.
  absl::StatusOr<std::shared_ptr<Session>> Join(absl::Time deadline,
                                                bool first) {
    auto session = std::make_shared<Session>();
    const absl::Status status = rpc::RetryConnect(
        deadline, options_.token.from_file(),
        [&](absl::Time attempt_deadline) {
          return Register(*session, attempt_deadline);
        },
        [&](const absl::Status& why) {
          std::fprintf(stderr,
                       "weft worker (%s): %s up to %s for the scheduler at "
                       "%s (%s)\n",
                       address_.c_str(), first ? "waiting" : "still trying",
                       absl::FormatDuration(
                           absl::Trunc(deadline - absl::Now(), absl::Seconds(1)))
                           .c_str(),
                       options_.scheduler_address.c_str(),
                       std::string(why.message()).c_str());
        },
        &leave_requested_);
    if (!status.ok()) return status;
    session->name =
        absl::StrCat("worker ", session->worker_id, " (", address_, ")");
    session->writer = rpc::MakeBatchWriter(session->stream, /*lingering=*/true,
                                           rpc::EventLoop::Shared());
    if (session->first.heartbeat_timeout_ms() > 0) {
      // Twice the scheduler's patience: it gives a silent worker up first.
      session->scheduler_timeout =
          absl::Milliseconds(session->first.heartbeat_timeout_ms()) * 2;
    }
    ConnectNestedClient(*session);
    if (!first) {
      std::fprintf(stderr, "weft %s: rejoined the scheduler at %s\n",
                   session->name.c_str(), options_.scheduler_address.c_str());
    }
    return session;
  }

  // One attempt of Join: reads the token, connects and registers by
  // `deadline`; fills `session`'s stream, id and first message. Errors:
  // NotFound (no token yet), Unavailable (nothing answers), Unauthenticated
  // (the token was refused), others as the scheduler says.
  absl::Status Register(Session& session, absl::Time deadline) {
    absl::StatusOr<std::string> token = options_.token.Read();
    if (!token.ok()) return token.status();
    token_ = *std::move(token);
    service_->set_token(token_);
    data_client_.set_token(token_);
    rpc::WorkerMessage hello;
    rpc::WorkerInfo* info = hello.mutable_register_();
    info->set_address(address_);
    char host[256] = {0};
    ::gethostname(host, sizeof(host) - 1);
    info->set_host(host);
    info->set_nthreads(options_.nthreads);
    info->set_pid(::getpid());
    info->set_frames(rpc::FrameStreamsWanted());
    absl::StatusOr<SchedulerConnector::Registered> registered =
        connector_->Register(hello, token_, deadline);
    if (!registered.ok()) return registered.status();
    if (!registered->warning.empty()) {
      std::fprintf(stderr, "weft worker: %s\n", registered->warning.c_str());
    }
    session.stream = std::move(registered->stream);
    session.worker_id = registered->first.worker_id();
    session.first = std::move(registered->first);
    return absl::OkStatus();
  }

  // Sends an update on `session` now (on a frame stream, from this
  // thread). Dropped if the session has ended.
  template <class Fill>
  void SendOn(Session& session, Fill&& fill) {
    if (session.writer->Add(std::forward<Fill>(fill))) session.writer->Flush();
  }

  // Connects the session's client for tasks that call remote()/get()
  // themselves. The scheduler has just answered, so this is quick; if it
  // died meanwhile, the bound keeps the session's loss (and the rejoin)
  // from waiting behind this connection.
  void ConnectNestedClient(Session& session) {
    constexpr std::chrono::milliseconds kNestedConnectTimeout{10'000};
    absl::StatusOr<std::unique_ptr<rpc::ClusterRuntime>> runtime =
        connector_->ConnectClient(
            token_, session.name,
            absl::Now() + absl::FromChrono(std::min(options_.connect_timeout,
                                                    kNestedConnectTimeout)));
    if (!runtime.ok()) {
      std::fprintf(stderr, "weft %s: nested tasks disabled: %s\n",
                   session.name.c_str(),
                   std::string(runtime.status().message()).c_str());
      return;
    }
    session.cluster = runtime->get();
    session.nested_client =
        std::make_shared<internal::ClientImpl>(*std::move(runtime));
  }

  void HandleMessage(const std::shared_ptr<Session>& session,
                     const rpc::SchedulerToWorker& message) {
    for (uint64_t id : message.release()) store_.Erase(id);
    for (const rpc::TaskAttempt& run : message.cancel()) {
      CancelTask(run.id(), run.attempt());
    }
    for (const rpc::ActorPlacement& p : message.place_actor()) {
      PlaceActor(session, p);
    }
    for (const rpc::Assignment& a : message.assign()) {
      if (a.task().id() == 0) {  // no scheduler names a task 0
        malformed_.Write(absl::StrCat(
            session->name, ": ignored an assignment of '", a.task().function(),
            "' with task id 0 (a malformed message from the scheduler)"));
        continue;
      }
      if (a.task().actor_call().actor() != 0) {
        StartActorCall(session, a);
      } else {
        StartTask(session, a);
      }
    }
    for (uint64_t id : message.stop_actor()) StopActor(id);
    for (const rpc::Location& l : message.fetch()) StartCopy(session, l);
  }

  // --- Actors (weft/actor.h) ---------------------------------------------

  struct TaskRun;

  // What an actor's constructor and calls need of it (no reference to its
  // host: a job must not hold the host whose thread runs it).
  struct ActorClassInfo {
    const Registry::ActorClass* cls = nullptr;  // null: not registered here
    int num_cpus = 1;
  };

  // An actor placed here by the current session.
  struct HostedActor {
    std::shared_ptr<ActorHost> host;
    ActorClassInfo info;
  };

  // Constructs an actor on its own threads and tells the scheduler (on
  // `session`) when the constructor returned. Ignored if `session` is no
  // longer the current one (its actors were stopped).
  void PlaceActor(const std::shared_ptr<Session>& session,
                  const rpc::ActorPlacement& placement) {
    const uint64_t id = placement.def().id();
    ActorClassInfo info;
    info.cls = Registry::Global().FindActorClass(placement.def().class_name());
    info.num_cpus = placement.def().num_cpus();
    auto host = std::make_shared<ActorHost>(
        id, std::clamp(placement.def().max_concurrency(), 1,
                       ActorOptions::kMaxConcurrency));
    {
      internal::MutexLock lock(&actors_mu_);
      if (CurrentSession() != session) return;
      if (actors_.contains(id)) return;  // placed twice: cannot happen
      actors_[id] = HostedActor{host, info};
    }
    host->Start(
        [this, session, placement, info] {
          return Construct(session, placement, info);
        },
        [this, session, id](const absl::Status& status,
                            const std::string& type) {
          SendOn(*session, [&](rpc::WorkerMessage& m) {
            rpc::ActorReport* report = m.add_actors();
            report->set_actor(id);
            if (status.ok()) return;
            report->set_failed(true);
            rpc::Error* error = report->mutable_error();
            error->set_exception_type(type.empty() ? "weft::UsageError"
                                                   : type);
            error->set_message(std::string(status.message()));
          });
        });
  }

  // Runs on the actor's thread. Errors: NotFound (class not registered
  // here), InvalidArgument (arguments that do not decode); exceptions from
  // the constructor, or a failed fetch of an input, propagate.
  absl::StatusOr<std::shared_ptr<void>> Construct(
      const std::shared_ptr<Session>& session,
      const rpc::ActorPlacement& placement, const ActorClassInfo& info) {
    const rpc::ActorDef& def = placement.def();
    if (info.cls == nullptr) {
      return absl::NotFoundError(absl::StrCat(
          "weft: ", session->name, " has no actor class '", def.class_name(),
          "' registered. Register it with WEFT_ACTOR(", def.class_name(),
          "(...), ...) in the program the workers run (the same binary as "
          "the client, or a library given to `weft worker --load`)."));
    }
    TaskRun run;
    run.id = def.id();
    run.session = session;
    struct ReleaseInputs {
      Impl* worker;
      TaskRun* run;
      ~ReleaseInputs() { worker->inputs_.Release(run->inputs.inline_held); }
    } release_inputs{this, &run};
    rpc::Assignment inputs;
    *inputs.mutable_deps() = placement.deps();
    FetchInputs(inputs, run);
    std::vector<internal::WireArg> args(def.args_size());
    for (int i = 0; i < def.args_size(); ++i) {
      WEFT_RETURN_IF_ERROR(rpc::FromProto(def.args(i), args[i]));
    }
    internal::ActorTaskContext context(
        internal::MakeKey(def.class_name(), def.id()), info.num_cpus,
        session->nested_client, nullptr, nullptr);
    internal::TaskContextScope scope(&context);
    StoreArgSource source(store_, session->cluster);
    absl::StatusOr<std::shared_ptr<void>> instance =
        info.cls->create(args, source);
    if (absl::IsInvalidArgument(instance.status())) {
      return absl::InvalidArgumentError(
          absl::StrCat("weft: bad arguments for the constructor of ",
                       def.class_name(), ": ", instance.status().message()));
    }
    return instance;
  }

  // A method call: runs on the actor's threads, in its caller's order.
  void StartActorCall(const std::shared_ptr<Session>& session,
                      const rpc::Assignment& assignment) {
    std::shared_ptr<TaskRun> run = NewRun(session, assignment);
    const rpc::ActorCall& call = assignment.task().actor_call();
    std::shared_ptr<ActorHost> host;
    ActorClassInfo info;
    {
      internal::MutexLock lock(&actors_mu_);
      auto it = actors_.find(call.actor());
      if (it != actors_.end()) {
        host = it->second.host;
        info = it->second.info;
      }
    }
    if (host == nullptr) {
      // Stopped here already: the scheduler has failed the call, and
      // refuses this report; it only keeps anything from waiting.
      auto state = std::make_shared<ObjectState>(run->id,
                                                 assignment.task().name());
      state->SetError(internal::MakeError(
          ErrorKind::kActorDied, assignment.task().name(), state->key(),
          absl::StrCat("actor ", absl::Hex(call.actor()), " is not on ",
                       session->name)));
      Finished(*state, *run);
      return;
    }
    host->Call(
        call.caller(), call.seq(), call.first_unfinished(),
        [this, assignment, run, info](void* instance) {
          RunActorCall(assignment, run, info, instance);
        },
        [this, run] {
          // Never runs: the scheduler has moved on (the actor stopped).
          internal::MutexLock lock(&tasks_mu_);
          if (IsCurrent(*run)) running_.erase(run->id);
        });
  }

  void RunActorCall(const rpc::Assignment& assignment,
                    const std::shared_ptr<TaskRun>& run,
                    const ActorClassInfo& info, void* instance) {
    {
      internal::MutexLock lock(&tasks_mu_);
      if (!IsCurrent(*run)) return;  // cancelled before it started
    }
    const rpc::TaskDef& task = assignment.task();
    auto state = std::make_shared<ObjectState>(run->id, task.name());
    run->instance = instance;
    run->actor_class = info.cls;
    internal::ActorTaskContext context(
        state->key(), info.num_cpus, run->session->nested_client,
        [this, run] {
          internal::MutexLock lock(&tasks_mu_);
          return !IsCurrent(*run);
        },
        nullptr);
    internal::TaskContextScope scope(&context);
    try {
      if (instance == nullptr || info.cls == nullptr) {
        throw std::runtime_error("weft: the actor was stopped on " +
                                 run->session->name);
      }
      state->SetValue(internal::AnyValue::Make(Execute(assignment, *run)));
    } catch (...) {
      state->SetError(
          internal::ErrorFromCurrentException(task.name(), state->key()));
    }
    Finished(*state, *run);
  }

  // Calls `method` of actor instance `instance` (of `cls`) on `args`, its
  // result into `sink`. Errors: as Invoke().
  absl::Status InvokeMethod(const Registry::ActorClass& cls, void* instance,
                            const std::string& method,
                            const std::vector<internal::WireArg>& args,
                            internal::ResultSink& sink, Session& session) {
    const Registry::ActorMethod* entry = cls.FindMethod(method);
    if (entry == nullptr) {
      return absl::NotFoundError(absl::StrCat(
          "weft: ", session.name, " has no method '", method,
          "' of actor class ", cls.name, " registered. Add &", method,
          " to its WEFT_ACTOR(...) in the program the workers run."));
    }
    StoreArgSource source(store_, session.cluster);
    absl::Status status =
        entry->invoke(instance, entry->pointer, args, source, sink);
    if (absl::IsInvalidArgument(status)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "weft: bad arguments for ", method, ": ", status.message()));
    }
    return status;
  }

  // The scheduler ended the actor: its queued calls never run, running
  // ones finish (their results are stale), the instance goes after them.
  void StopActor(uint64_t id) {
    std::shared_ptr<ActorHost> host;
    {
      internal::MutexLock lock(&actors_mu_);
      auto it = actors_.find(id);
      if (it == actors_.end()) return;
      host = std::move(it->second.host);
      actors_.erase(it);
      // Hosts whose threads are gone are freed; the others wait.
      std::erase_if(stopped_actors_,
                    [](const std::shared_ptr<ActorHost>& h) {
                      return h->Finished();
                    });
      stopped_actors_.push_back(host);
    }
    host->Stop();
  }

  // Every actor of the current session stops (the session ended): queued
  // calls never run; running ones finish. Does not wait for them.
  void StopActors() {
    std::vector<std::shared_ptr<ActorHost>> hosts;
    {
      internal::MutexLock lock(&actors_mu_);
      for (auto& [id, actor] : actors_) hosts.push_back(actor.host);
      actors_.clear();
      std::erase_if(stopped_actors_,
                    [](const std::shared_ptr<ActorHost>& h) {
                      return h->Finished();
                    });
      stopped_actors_.insert(stopped_actors_.end(), hosts.begin(),
                             hosts.end());
    }
    for (auto& host : hosts) host->Stop();
  }

  // At exit, after StopActors(): waits for every actor's threads.
  void JoinActors() {
    std::vector<std::shared_ptr<ActorHost>> hosts;
    {
      internal::MutexLock lock(&actors_mu_);
      hosts.swap(stopped_actors_);
    }
    hosts.clear();  // joins their threads
  }

  // Fetches a copy of an object a retiring worker hands off, and reports
  // it: queued for at most kCopyThreads threads of copies (the caller is
  // the stream's reader, which must not wait on a fetch). A thread ends
  // when the queue is empty and is joined by the next StartCopy or by
  // JoinCopies, so a worker that copies for hours keeps no more than
  // kCopyThreads threads, running or ended. (Before: a thread per copy,
  // joined only at exit; each ended one kept its stack mapped.)
  void StartCopy(const std::shared_ptr<Session>& session,
                 const rpc::Location& location) {
    std::vector<std::thread> ended;
    {
      internal::MutexLock lock(&copies_mu_);
      copy_queue_.push_back({session, location});
      ended = TakeEndedCopiersLocked();
      if (copiers_.size() < kCopyThreads) {
        copiers_.emplace_back([this] { RunCopier(); });
      }
    }
    for (std::thread& t : ended) t.join();
  }

  // Takes the queue's copies until it is empty, then marks this thread
  // ended.
  void RunCopier() {
    for (;;) {
      std::shared_ptr<Session> session;
      rpc::Location location;
      {
        internal::MutexLock lock(&copies_mu_);
        if (copy_queue_.empty()) {
          ended_copiers_.push_back(std::this_thread::get_id());
          return;
        }
        session = std::move(copy_queue_.front().session);
        location = std::move(copy_queue_.front().location);
        copy_queue_.pop_front();
      }
      Copy(*session, location);
    }
  }

  void Copy(Session& session, const rpc::Location& location) {
    if (store_.Contains(location.id())) return;
    absl::StatusOr<rpc::Buffer> bytes = data_client_.FetchAnyBuffer(
        {location.addresses().begin(), location.addresses().end()},
        location.id(), /*info=*/nullptr, location.size());
    if (!bytes.ok()) {
      std::fprintf(stderr,
                   "weft %s: could not copy object %llu from a retiring "
                   "worker: %s\n",
                   session.name.c_str(),
                   static_cast<unsigned long long>(location.id()),
                   std::string(bytes.status().message()).c_str());
      return;
    }
    store_.Put(location.id(), *std::move(bytes));
    SendOn(session,
           [id = location.id()](rpc::WorkerMessage& m) { m.add_replicas(id); });
  }

  // Removes the threads of copies that marked themselves ended from
  // copiers_, for the caller to join once it has unlocked (they take the
  // lock no more).
  std::vector<std::thread> TakeEndedCopiersLocked()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(copies_mu_) {
    std::vector<std::thread> ended;
    for (std::thread::id id : ended_copiers_) {
      auto it =
          std::find_if(copiers_.begin(), copiers_.end(),
                       [id](const std::thread& t) { return t.get_id() == id; });
      ended.push_back(std::move(*it));
      copiers_.erase(it);
    }
    ended_copiers_.clear();
    return ended;
  }

  // At exit: drops the copies not begun and waits for those running.
  void JoinCopies() {
    std::vector<std::thread> copiers;
    {
      internal::MutexLock lock(&copies_mu_);
      copy_queue_.clear();
      copiers.swap(copiers_);
      ended_copiers_.clear();
    }
    for (std::thread& t : copiers) t.join();
  }

  // The scheduler took run `attempt` of `id` back (cancelled, or its input
  // was lost): a queued run never starts, a running one goes on but its
  // result is dropped, and the tasks it submitted are cancelled. A run of
  // another attempt (assigned here again) is left alone.
  void CancelTask(uint64_t id, uint32_t attempt) {
    std::shared_ptr<ObjectState> state;
    {
      internal::MutexLock lock(&tasks_mu_);
      auto it = running_.find(id);
      if (it == running_.end() || it->second.attempt != attempt) return;
      state = it->second.state.lock();
      running_.erase(it);  // its run is stale from now on
    }
    if (state != nullptr) state->Cancel(/*wait=*/false);
  }

  // One run of an assigned task on this worker. A task can be assigned
  // here again (retried, or recomputed) while an earlier run still goes
  // on; only the run in running_ may store or report a result.
  struct TaskRun {
    uint64_t id = 0;
    uint64_t number = 0;  // unique on this worker
    uint32_t attempt = 0;  // the scheduler's number for it (TaskDef.attempt)
    // The session that assigned it: where it reports, whose client it uses.
    std::shared_ptr<Session> session;
    std::chrono::steady_clock::time_point start;
    // Its inputs: those held inline while it needs them, the transfers
    // for the scheduler's views, and an input it could not fetch (with the
    // addresses tried: the run failed before it started, which is no fault
    // of the task).
    InputsOfRun inputs;
    // An actor method call: the instance it runs on, and its class.
    void* instance = nullptr;
    const Registry::ActorClass* actor_class = nullptr;
    // For the scheduler's views (TaskResult): the task slot, when the
    // function started (inputs fetched) and ended, the inputs fetched.
    int thread = 0;
    int64_t fetch_us = 0;
    int64_t start_us = 0;
    int64_t end_us = 0;
  };

  // Sends a run's outcome when its executor object completes.
  class Completion final : public internal::ReadyListener {
   public:
    Completion(Impl* worker, std::shared_ptr<TaskRun> run)
        : worker_(worker), run_(std::move(run)) {}
    void OnReady(ObjectState& state) override {
      worker_->Finished(state, *run_);
    }

   private:
    Impl* const worker_;
    const std::shared_ptr<TaskRun> run_;
  };

  class TaskBody final : public internal::TaskBody {
   public:
    TaskBody(Impl* worker, rpc::Assignment assignment,
             std::shared_ptr<TaskRun> run)
        : worker_(worker), assignment_(std::move(assignment)),
          run_(std::move(run)) {}

    internal::AnyValue Run(bool) override {
      return internal::AnyValue::Make(worker_->Execute(assignment_, *run_));
    }
    absl::Status ToWire(std::vector<internal::WireArg>&,
                        internal::RefCollector*) const override {
      return absl::UnimplementedError("already on a worker");
    }

   private:
    Impl* const worker_;
    const rpc::Assignment assignment_;
    const std::shared_ptr<TaskRun> run_;
  };

  // A run of `assignment` for `session`, numbered and current in
  // running_ (before it can start: it may finish at once).
  std::shared_ptr<TaskRun> NewRun(const std::shared_ptr<Session>& session,
                                  const rpc::Assignment& assignment) {
    auto run = std::make_shared<TaskRun>();
    run->id = assignment.task().id();
    run->attempt = assignment.task().attempt();
    run->session = session;
    internal::MutexLock lock(&tasks_mu_);
    run->number = ++last_run_;
    running_[run->id] = Running{{}, run->number, run->attempt};
    return run;
  }

  void StartTask(const std::shared_ptr<Session>& session,
                 const rpc::Assignment& assignment) {
    std::shared_ptr<TaskRun> run = NewRun(session, assignment);
    internal::TaskSpec spec;
    spec.id = run->id;
    spec.name = assignment.task().name();
    spec.function_name = assignment.task().function();
    spec.options.num_cpus = std::max(1, assignment.task().num_cpus());
    spec.options.priority = assignment.task().priority();
    spec.body = std::make_unique<TaskBody>(this, assignment, run);
    std::shared_ptr<ObjectState> state = executor_->Schedule(std::move(spec));
    {
      internal::MutexLock lock(&tasks_mu_);
      auto it = running_.find(run->id);
      if (it != running_.end() && it->second.number == run->number) {
        it->second.state = state;
      }
    }
    if (!state->AddListener(std::make_shared<Completion>(this, run))) {
      Finished(*state, *run);
    }
  }

  // True if `run` is the current run of its task.
  bool IsCurrent(const TaskRun& run) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_) {
    auto it = running_.find(run.id);
    return it != running_.end() && it->second.number == run.number;
  }

  // Runs on a task slot. Returns the result's size; the bytes go to the
  // store (unless the run went stale meanwhile). Throws what the function
  // throws, or a message naming what is missing.
  uint64_t Execute(const rpc::Assignment& assignment, TaskRun& run) {
    const rpc::TaskDef& task = assignment.task();
    run.start = std::chrono::steady_clock::now();
    ExecutingScope executing(executing_);
    run.thread = std::max(0, internal::EmbeddedRuntime::CurrentThread());
    run.fetch_us = internal::UnixMicrosNow();
    Session& session = *run.session;
    FetchInputs(assignment, run);
    run.start_us = internal::UnixMicrosNow();
    std::vector<internal::WireArg> args(task.args_size());
    for (int i = 0; i < task.args_size(); ++i) {
      absl::Status status = rpc::FromArgBytes(task.args(i), args[i]);
      if (!status.ok()) throw std::invalid_argument(std::string(status.message()));
    }
    // A result holding references (ObjectRefs) makes the nested client,
    // which holds them, tell the scheduler before the value lets go; and
    // the result waits until the scheduler has everything that client sent
    // (the objects may be ones this task just submitted on that stream),
    // so that no client reading the result meets an unknown object.
    rpc::BufferSink sink(
        shared_memory_,
        [&session, id = task.id()](const std::vector<uint64_t>& ids) {
          if (session.cluster == nullptr) return;
          session.cluster->Contain(id, ids);
          if (absl::Status s = session.cluster->Sync(); !s.ok()) {
            throw std::runtime_error(absl::StrCat(
                "weft: the scheduler did not confirm the references in the "
                "result: ",
                s.message()));
          }
        });
    absl::Status status =
        run.actor_class != nullptr
            ? InvokeMethod(*run.actor_class, run.instance, task.function(),
                           args, sink, session)
            : Invoke(task.function(), args, sink, &session);
    if (!status.ok()) {
      if (absl::IsInvalidArgument(status)) {
        throw std::invalid_argument(std::string(status.message()));
      }
      if (absl::IsNotFound(status)) throw UsageError(std::string(status.message()));
      throw std::runtime_error(std::string(status.message()));
    }
    rpc::Buffer result = sink.Finish();
    run.end_us = internal::UnixMicrosNow();
    const uint64_t size = result.size();
    internal::MutexLock lock(&tasks_mu_);
    if (IsCurrent(run)) {
      // Now a value the scheduler will count here, not an inline copy: no
      // run's Release may erase it once it is in the store.
      inputs_.Promote(task.id());
      store_.Put(task.id(), std::move(result));
    }
    return size;
  }

  // Runs registered function `function` on `args`, its result into `sink`;
  // ObjectRefs among the arguments become references of `session`'s
  // client (null: outside a session, they cannot be used). Errors: NotFound
  // (not registered here), InvalidArgument (arguments that do not decode),
  // others from decoding; exceptions from the function propagate.
  absl::Status Invoke(const std::string& function,
                      const std::vector<internal::WireArg>& args,
                      internal::ResultSink& sink, Session* session) {
    const std::string& name = session != nullptr ? session->name : address_;
    const Registry::Entry* entry = Registry::Global().FindByName(function);
    if (entry == nullptr) {
      return absl::NotFoundError(absl::StrCat(
          "weft: ", name, " has no function '", function,
          "' registered. Register it with WEFT_REMOTE(", function,
          ") in the program the workers run (the same binary as the client, "
          "or a library given to `weft worker --load`)."));
    }
    StoreArgSource source(store_,
                          session != nullptr ? session->cluster : nullptr);
    absl::Status status = entry->invoke(entry->address, args, source, sink);
    if (absl::IsInvalidArgument(status)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "weft: bad arguments for ", function, ": ", status.message()));
    }
    return status;
  }

  // Makes the run's inputs present (worker/task_inputs.h) and tells the
  // scheduler of the copies fetched. Throws a message naming the input
  // that could not be fetched.
  void FetchInputs(const rpc::Assignment& assignment, TaskRun& run) {
    absl::Status status = inputs_.Gather(assignment.deps(), run.inputs);
    if (!run.inputs.fetched.empty()) {
      SendOn(*run.session, [&run](rpc::WorkerMessage& m) {
        for (uint64_t id : run.inputs.fetched) m.add_replicas(id);
      });
      run.inputs.fetched.clear();
    }
    if (!status.ok()) {
      throw std::runtime_error(absl::StrCat("weft: ", run.session->name, " ",
                                            status.message()));
    }
  }

  // Fills the timing fields of `result` from `run` (a run that threw has
  // no end yet: it ends now).
  static void FillTiming(TaskRun& run, rpc::TaskResult& result) {
    const int64_t now = internal::UnixMicrosNow();
    result.set_start_us(run.start_us != 0   ? run.start_us
                        : run.fetch_us != 0 ? run.fetch_us
                                            : now);
    result.set_end_us(run.end_us != 0 ? run.end_us : now);
    result.set_thread(run.thread);
    for (rpc::TaskTransfer& t : run.inputs.transfers) {
      *result.add_transfers() = std::move(t);
    }
    run.inputs.transfers.clear();
  }

  // Counts a run as executing while it lives.
  class ExecutingScope {
   public:
    explicit ExecutingScope(std::atomic<int>& count) : count_(count) {
      count_.fetch_add(1, std::memory_order_relaxed);
    }
    ~ExecutingScope() { count_.fetch_sub(1, std::memory_order_relaxed); }

   private:
    std::atomic<int>& count_;
  };

  void Finished(ObjectState& state, TaskRun& run) {
    rpc::TaskResult result;
    size_t still_assigned;
    inputs_.Release(run.inputs.inline_held);
    {
      internal::MutexLock lock(&tasks_mu_);
      // A stale run (cancelled, or superseded by a new assignment) says
      // nothing: the scheduler has moved on.
      if (!IsCurrent(run)) return;
      running_.erase(run.id);
      still_assigned = running_.size();
    }
    result.set_id(state.id());
    result.set_attempt(run.attempt);
    if (std::shared_ptr<const ErrorInfo> error = state.error()) {
      result.set_failed(true);
      rpc::ToProto(*error, *result.mutable_error());
      for (rpc::Location& missing : run.inputs.missing) {
        *result.add_missing() = std::move(missing);
      }
    } else {
      std::optional<rpc::Buffer> bytes = store_.Get(state.id());
      result.set_size(bytes.has_value() ? bytes->size() : 0);
      if (bytes.has_value() && bytes->size() <= internal::kInlineValueBytes) {
        result.set_inline_value(bytes->data(), bytes->size());
      }
      result.set_run_micros(static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(
              std::chrono::steady_clock::now() - run.start)
              .count() +
          1));
    }
    FillTiming(run, result);
    auto fill = [&](rpc::WorkerMessage& m) {
      *m.add_results() = std::move(result);
    };
    if (still_assigned >= kLazyResultsQueue) {
      // Plenty of queued work here: the scheduler need not hear at once,
      // and a batch of results costs the busy CPUs one wake-up (writer and
      // scheduler) instead of one per task.
      run.session->writer->AddLazy(fill, kResultLinger);
    } else {
      SendOn(*run.session, fill);
    }
  }

  rpc::CallReply HandleCall(const rpc::CallRequest& request) {
    std::shared_ptr<Session> session = CurrentSession();
    rpc::CallReply reply;
    reply.set_worker(session != nullptr ? session->name : address_);
    auto fail = [&](const std::string& type, const std::string& message) {
      reply.set_failed(true);
      rpc::Error* e = reply.mutable_error();
      e->set_task_name(request.function());
      e->set_task_key(absl::StrCat(request.function(), "@", address_));
      e->set_exception_type(type);
      e->set_message(message);
    };
    std::vector<internal::WireArg> args(request.args_size());
    for (int i = 0; i < request.args_size(); ++i) {
      if (absl::Status s = rpc::FromProto(request.args(i), args[i]); !s.ok()) {
        fail("std::invalid_argument", std::string(s.message()));
        return reply;
      }
    }
    try {
      internal::StringSink sink;
      absl::Status status =
          Invoke(request.function(), args, sink, session.get());
      if (!status.ok()) {
        fail(absl::IsNotFound(status)          ? "weft::UsageError"
             : absl::IsInvalidArgument(status) ? "std::invalid_argument"
                                               : "std::runtime_error",
             std::string(status.message()));
      } else {
        reply.set_value(std::move(sink.bytes()));
      }
    } catch (...) {
      auto info = internal::ErrorFromCurrentException(request.function(), "");
      fail(info->exception_type, info->message);
    }
    return reply;
  }

  // Tells the scheduler this worker lives, and what it holds (on the event
  // loop, every heartbeat_interval; the scheduler answers).
  void SendHeartbeat(Session& session) {
    int processing;
    {
      internal::MutexLock tasks_lock(&tasks_mu_);
      processing = static_cast<int>(running_.size());
    }
    const uint64_t memory = store_.total_bytes();
    const uint64_t objects = store_.num_objects();
    const double cpu = rpc::ProcessCpuSeconds();
    const uint64_t rss = rpc::ProcessRssBytes();
    const int executing = executing_.load(std::memory_order_relaxed);
    SendOn(session, [&](rpc::WorkerMessage& m) {
      m.mutable_heartbeat()->set_processing(processing);
      m.mutable_heartbeat()->set_memory_bytes(memory);
      m.mutable_heartbeat()->set_objects(objects);
      m.mutable_heartbeat()->set_cpu_seconds(cpu);
      m.mutable_heartbeat()->set_rss_bytes(rss);
      m.mutable_heartbeat()->set_executing(executing);
    });
  }

  const WorkerOptions options_;
  const std::unique_ptr<SchedulerConnector> connector_;
  // What was wrong with the scheduler's messages, rate-limited.
  rpc::RateLimitedLog malformed_{"weft", "malformed messages"};
  // Results, replicas and stored objects of at least rpc::kSharedMinBytes
  // live in shared memory, which same-host peers map (WEFT_SHARED_MEMORY=0
  // turns that off).
  const bool shared_memory_ = rpc::SharedMemoryEnabled();
  rpc::DataClient data_client_;
  ObjectStore store_;
  // The inputs of runs: inline holds, fetches (after store_, data_client_).
  TaskInputs inputs_;
  std::unique_ptr<rpc::BulkServer> bulk_;  // before the service using it
  std::unique_ptr<DataService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::string token_;  // the token the scheduler took (serving thread only)
  std::unique_ptr<internal::EmbeddedRuntime> executor_;

  // The current session; null while joining or rejoining.
  internal::Mutex session_mu_;
  std::shared_ptr<Session> session_ ABSL_GUARDED_BY(session_mu_);

  // The current run of each task assigned here.
  struct Running {
    std::weak_ptr<ObjectState> state;
    uint64_t number = 0;   // TaskRun::number
    uint32_t attempt = 0;  // TaskRun::attempt
  };
  internal::Mutex tasks_mu_;
  absl::flat_hash_map<uint64_t, Running> running_ ABSL_GUARDED_BY(tasks_mu_);
  uint64_t last_run_ ABSL_GUARDED_BY(tasks_mu_) = 0;
  // Runs inside Execute now (heartbeats).
  std::atomic<int> executing_{0};

  // How the current session ended (kServing while it has not).
  internal::Mutex stop_mu_;
  std::condition_variable_any stop_cv_;
  Ending ending_ ABSL_GUARDED_BY(stop_mu_) = Ending::kServing;
  absl::Status ending_why_ ABSL_GUARDED_BY(stop_mu_);
  // Leave() was called: stop serving, or waiting to rejoin.
  std::atomic<bool> leave_requested_{false};
  // Actors placed by the current session, and stopped ones whose threads
  // may still run (their hosts are joined by JoinActors at exit).
  internal::Mutex actors_mu_;
  absl::flat_hash_map<uint64_t, HostedActor> actors_ ABSL_GUARDED_BY(actors_mu_);
  std::vector<std::shared_ptr<ActorHost>> stopped_actors_
      ABSL_GUARDED_BY(actors_mu_);
  // Copies of a retiring worker's objects to fetch (StartCopy), and the
  // threads that fetch them: running, or ended (their ids in
  // ended_copiers_) and not joined yet.
  struct CopyJob {
    std::shared_ptr<Session> session;
    rpc::Location location;
  };
  internal::Mutex copies_mu_;
  std::deque<CopyJob> copy_queue_ ABSL_GUARDED_BY(copies_mu_);
  std::vector<std::thread> copiers_ ABSL_GUARDED_BY(copies_mu_);
  std::vector<std::thread::id> ended_copiers_ ABSL_GUARDED_BY(copies_mu_);
};

Worker::Worker(WorkerOptions options,
               std::unique_ptr<SchedulerConnector> connector)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(connector))) {}

Worker::~Worker() = default;

int Worker::Run() { return impl_->Run(); }

void Worker::Leave() { impl_->Leave(); }

bool Worker::Retire() { return impl_->Retire(); }

const WorkerOptions& Worker::options() const { return impl_->options(); }

}  // namespace weft::worker
