// Copyright 2026 The weft Authors.

#include "rpc/cluster_runtime.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <future>
#include <optional>
#include <thread>
#include <utility>
#include <variant>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "rpc/batch_writer.h"
#include "rpc/buffer.h"
#include "rpc/buffer_sink.h"
#include "rpc/convert.h"
#include "rpc/data_client.h"
#include "rpc/error_proto.h"
#include "rpc/frame_stream.h"
#include "rpc/grpc_peer_stream.h"
#include "rpc/join.h"
#include "rpc/liveness.h"
#include "rpc/local_link.h"
#include "rpc/peer_stream.h"
#include "rpc/report_limits.h"
#include "rpc/retry.h"
#include "rpc/shared_region.h"
#include "rpc/status.h"
#include "rpc/tls.h"
#include "rpc/tls_probe.h"
#include "rpc/token.h"
#include "rpc/weft.grpc.pb.h"
#include "weft/errors.h"
#include "weft/internal/error_info.h"
#include "weft/internal/inline_limit.h"
#include "weft/internal/mutex.h"
#include "weft/internal/object_id_hash.h"
#include "weft/internal/status_macros.h"

namespace weft::rpc {

using internal::MutexLock;
using internal::ObjectState;

namespace {

constexpr auto kRequestTimeout = std::chrono::seconds(30);
// How long a get() whose holders do not answer waits for the scheduler to
// say where the object is again (it may be recomputing it), and how often
// it asks meanwhile.
constexpr absl::Duration kRefetchTimeout = absl::Minutes(10);
constexpr absl::Duration kRefetchPoll = absl::Milliseconds(250);
// A release waits up to this long for company: dropping a million
// references sends a message every millisecond, not one per reference (each
// of which cost this process a system call and the scheduler a wake-up).
// Anything else this client sends takes the waiting releases along first.
constexpr std::chrono::microseconds kReleaseLinger{1000};

// Collects the ids of the object references written into a value.
struct IdCollector final : internal::RefCollector {
  void Add(uint64_t id) override { ids.push_back(id); }
  std::vector<uint64_t> ids;
};

}  // namespace

// The state shared by the runtime and the hooks its objects carry, which may
// outlive the runtime.
class ClusterConnection final
    : public std::enable_shared_from_this<ClusterConnection>,
      public internal::RemoteBytes,
      private internal::RefResolver {
 public:
  ClusterConnection(std::string address, std::string token, std::string name)
      : address_(std::move(address)),
        token_(token),
        name_(std::move(name)),
        data_(std::move(token), std::chrono::minutes(10)) {}

  ~ClusterConnection() override { Stop(); }

  // Over gRPC (and then a frame stream, if the scheduler offers one):
  // opens the stream and learns this client's id, or fails by `deadline`.
  // Errors: Unavailable (nothing answers), Unauthenticated (a wrong
  // token), others as the scheduler says.
  absl::Status Start(absl::Time deadline) {
    owner_ = std::make_shared<Owner>(weak_from_this());
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
        ProcessChannelCredentials();
    if (!credentials.ok()) return credentials.status();
    std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
        address_, *credentials, ChannelArgs());
    if (!channel->WaitForConnected(absl::ToChronoTime(deadline))) {
      const std::string tls = DiagnoseTls(address_, deadline);
      return absl::UnavailableError(absl::StrCat(
          "weft: cannot reach a scheduler at ", address_,
          tls.empty() ? " (is it running? is the address right?)" : tls));
    }
    std::unique_ptr<Scheduler::Stub> stub = Scheduler::NewStub(channel);
    auto context = std::make_unique<grpc::ClientContext>();
    AttachToken(*context, token_);
    auto call = stub->ClientStream(context.get());
    auto grpc = std::make_unique<
        GrpcClientPeerStream<ClientMessage, SchedulerToClient>>(
        std::move(channel), std::move(context), std::move(call), address_);
    ClientMessage hello;
    hello.mutable_hello()->set_name(name_);
    hello.mutable_hello()->set_frames(FrameStreamsWanted());
    absl::StatusOr<Joined<ClientMessage, SchedulerToClient>> joined =
        Join(std::move(grpc), hello, address_, EventLoop::Shared());
    if (!joined.ok()) return joined.status();
    client_id_ = joined->first.client_id();
    Serve(std::move(joined->stream), joined->first);
    return absl::OkStatus();
  }

  // In this process: batches are handed to the scheduler by function call
  // on the sending thread, and its replies arrive on whichever thread
  // produced them (see rpc/local_link.h).
  absl::Status StartLocal(std::shared_ptr<LocalLink> link) {
    owner_ = std::make_shared<Owner>(weak_from_this());
    absl::StatusOr<std::shared_ptr<LocalLinkStream>> stream =
        LocalLinkStream::Connect(std::move(link), name_);
    if (!stream.ok()) return stream.status();
    client_id_ = (*stream)->id();
    Serve(*std::move(stream), SchedulerToClient());
    return absl::OkStatus();
  }

  void Stop() {
    {
      MutexLock lock(&mu_);
      if (stopped_) return;
      stopped_ = true;
    }
    if (writer_ != nullptr) writer_->Close();  // flushes what is queued
    // Ends the stream once what is queued is out.
    if (stream_ != nullptr) stream_->Close(/*drain=*/absl::Seconds(1));
    FailPending("the client disconnected from the scheduler");
  }

  // Appends to the next batch for the scheduler. In process, the batch is
  // handed over now unless `hold` (the caller flushes later, see Flush()).
  template <class Fill>
  void Send(Fill&& fill, bool hold = false) {
    if (writer_->Add(std::forward<Fill>(fill)) && !hold) writer_->Flush();
  }

  // Hands held updates to an in-process scheduler or a frame stream; over
  // gRPC the writer thread has them already (Flush() is a no-op there).
  void Flush() { writer_->Flush(); }

  // A new object of this client's. `deps` (a task's inputs) are held until
  // it is done, as the embedded runtime's task holds them until it ran: a
  // graph node submitted as an input stays reusable by a later compute()
  // while its consumer is pending (see DelayedNode::Submitted). With
  // `hold_self` (an actor call) the object holds itself until done too: a
  // call runs for its effect on the actor even if its result was dropped.
  std::shared_ptr<ObjectState> Track(
      uint64_t id, std::string name,
      std::vector<std::shared_ptr<ObjectState>> deps = {},
      bool hold_self = false) {
    auto state = std::make_shared<ObjectState>(id, std::move(name));
    state->set_owner(owner_);
    if (hold_self) deps.push_back(state);
    MutexLock lock(&mu_);
    if (broken_) {
      state->SetError(internal::MakeError(ErrorKind::kShutdown, state->name(),
                                          state->key(), broken_reason_));
    } else {
      objects_[id] = state;
      if (!deps.empty()) held_deps_[id] = std::move(deps);
    }
    return state;
  }

  // A reference to an existing object that arrived inside a value (or a
  // task's arguments): one state per object in this process (a second
  // would release the scheduler's reference while the first still lives).
  // A new one is sent to the scheduler as add_ref. Errors: Unavailable once
  // the scheduler is gone.
  absl::StatusOr<std::shared_ptr<ObjectState>> Adopt(uint64_t id,
                                                     std::string_view name) {
    std::shared_ptr<ObjectState> state;
    {
      MutexLock lock(&mu_);
      if (broken_) return absl::UnavailableError(broken_reason_);
      std::weak_ptr<ObjectState>& slot = objects_[id];
      state = slot.lock();
      if (state != nullptr) return state;
      state = std::make_shared<ObjectState>(id, name);
      state->set_owner(owner_);
      // If an earlier state of this object is being destroyed, its
      // Release() finds this one alive and sends nothing.
      slot = state;
      // Queued under mu_, so that it is ordered with OnRelease's releases.
      // A release of the same object still waiting in this batch would be
      // handled after the add_ref (the scheduler takes add_refs first): it
      // is withdrawn instead, and the reference simply stays.
      writer_->Add([id](ClientMessage& m) {
        WithdrawRelease(id, m);
        m.add_add_ref(id);
      });
    }
    Flush();
    return state;
  }

  // Returns once the scheduler has handled what this client sent before.
  absl::Status Sync() {
    SchedulerToClient reply;
    return Request([](ClientMessage&) {}, reply);
  }

  // Asks the scheduler to cancel `id`; with `wait`, until it answered
  // (ObjectDone messages before the answer have been applied by then).
  void CancelObject(uint64_t id, bool wait) {
    if (!wait) {
      Send([id](ClientMessage& m) { m.add_cancel(id); });
      return;
    }
    SchedulerToClient reply;
    (void)Request([id](ClientMessage& m) { m.add_cancel(id); }, reply);
  }

  // `container`'s value holds references to `ids` (see Containment).
  // REQUIRES: this client holds each of `ids` while this is called.
  void Contain(uint64_t container, const std::vector<uint64_t>& ids) {
    Send([&](ClientMessage& m) {
      Containment* c = m.add_contain();
      c->set_container(container);
      c->mutable_ids()->Add(ids.begin(), ids.end());
    });
  }

  internal::RefResolver* refs() override { return this; }

  absl::StatusOr<std::string> Fetch(uint64_t id) override {
    WEFT_ASSIGN_OR_RETURN(internal::FetchedBytes view,
                          FetchView(id, std::nullopt));
    return std::string(view.bytes);
  }

  // A same-host holder's shared memory is mapped, not copied (see
  // DataClient); get() decodes straight from the mapping. When no holder
  // answers (one died), the scheduler is asked where the object is now,
  // and while it has no copy (it is recomputing it, having dropped the
  // dead holder) or only ones that do not answer (it has not noticed the
  // death yet), this waits for news of it, up to kRefetchTimeout or
  // `until`, whichever is first. Errors: the object failed meanwhile
  // (FailedPrecondition, with its error), the scheduler is gone
  // (Unavailable), `until` passed (DeadlineExceeded), no copy came within
  // kRefetchTimeout (the fetch's).
  absl::StatusOr<internal::FetchedBytes> FetchView(
      uint64_t id,
      std::optional<std::chrono::steady_clock::time_point> until) override {
    Held held;
    {
      MutexLock lock(&mu_);
      auto it = locations_.find(id);
      if (it != locations_.end()) held = it->second;
    }
    absl::StatusOr<Buffer> buffer =
        data_.FetchAnyBuffer(held.addresses, id, nullptr, held.size);
    if (!buffer.ok()) {
      Refetching refetching(this, id);
      absl::Time deadline = absl::Now() + kRefetchTimeout;
      bool callers_deadline = false;
      if (until.has_value()) {
        const absl::Time theirs =
            absl::Now() + absl::FromChrono(*until -
                                           std::chrono::steady_clock::now());
        callers_deadline = theirs < deadline;
        deadline = std::min(deadline, theirs);
      }
      while (!buffer.ok()) {
        absl::StatusOr<Location> where = Locate(id);
        if (where.ok()) {
          if (where->inline_value().size() == where->size() &&
              where->size() > 0) {
            auto owner = std::make_shared<const std::string>(
                std::move(*where->mutable_inline_value()));
            return internal::FetchedBytes{*owner, owner};
          }
          buffer = data_.FetchAnyBuffer(
              {where->addresses().begin(), where->addresses().end()}, id,
              nullptr, where->size());
          if (buffer.ok()) break;
        } else if (!absl::IsNotFound(where.status())) {
          return buffer.status();  // the scheduler does not answer
        }
        if (absl::Now() >= deadline && callers_deadline) {
          return absl::DeadlineExceededError(absl::StrCat(
              "weft: object ", id, " could not be fetched in time: ",
              buffer.status().message()));
        }
        if (absl::Now() >= deadline) {
          return absl::Status(
              buffer.status().code(),
              absl::StrCat(buffer.status().message(),
                           " (and no copy of it "
                           "came within ",
                           absl::FormatDuration(kRefetchTimeout), ")"));
        }
        absl::Status news =
            WaitForNews(id, std::min(deadline, absl::Now() + kRefetchPoll));
        if (!news.ok()) return news;
        {
          MutexLock lock(&mu_);
          auto it = locations_.find(id);
          held = it != locations_.end() ? it->second : Held();
        }
        buffer = data_.FetchAnyBuffer(held.addresses, id, nullptr, held.size);
      }
    }
    auto owner = std::make_shared<const Buffer>(*std::move(buffer));
    return internal::FetchedBytes{owner->view(), owner};
  }

  // Marks `id` as being fetched again while it lives: an ObjectDone for it
  // wakes WaitForNews, and a failure is kept for it.
  class Refetching {
   public:
    Refetching(ClusterConnection* c, uint64_t id) : c_(c), id_(id) {
      MutexLock lock(&c_->mu_);
      ++c_->refetching_[id_];
    }
    ~Refetching() {
      MutexLock lock(&c_->mu_);
      if (--c_->refetching_[id_] == 0) {
        c_->refetching_.erase(id_);
        c_->refetch_failures_.erase(id_);
      }
    }

   private:
    ClusterConnection* const c_;
    const uint64_t id_;
  };

  // Waits until an ObjectDone for `id` arrives or `until` passes. Errors:
  // FailedPrecondition (it failed), Unavailable (the scheduler is gone).
  absl::Status WaitForNews(uint64_t id, absl::Time until) {
    internal::UniqueLock lock(mu_);
    const uint64_t seen = done_count_;
    while (done_count_ == seen && !broken_) {
      if (news_cv_.wait_until(lock, absl::ToChronoTime(until)) ==
          std::cv_status::timeout) {
        break;
      }
    }
    if (broken_) return absl::UnavailableError(broken_reason_);
    auto failed = refetch_failures_.find(id);
    if (failed != refetch_failures_.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat("weft: object ", id,
                       " failed while it was recomputed: ", failed->second));
    }
    return absl::OkStatus();
  }

  // Asks the scheduler about an actor (`fill` adds one actor request)
  // and returns its answer. Errors: NotFound (the scheduler's reason),
  // Unavailable, DeadlineExceeded.
  template <class Fill>
  absl::StatusOr<ActorInfo> ActorRequest(Fill fill) {
    SchedulerToClient reply;
    WEFT_RETURN_IF_ERROR(Request(fill, reply));
    if (reply.actors_size() != 1) {
      return absl::InternalError("weft: the scheduler gave no answer about "
                                 "the actor");
    }
    if (!reply.actors(0).error().empty()) {
      return absl::NotFoundError(reply.actors(0).error());
    }
    return reply.actors(0);
  }

  absl::StatusOr<std::vector<WorkerStatus>> Workers() {
    SchedulerToClient reply;
    absl::Status status =
        Request([](ClientMessage& m) { m.set_list_workers(true); }, reply);
    if (!status.ok()) return status;
    std::vector<WorkerStatus> out;
    for (const WorkerInfo& w : reply.workers()) {
      WorkerStatus d;
      d.id = w.id();
      d.address = w.address();
      d.host = w.host();
      // The scheduler bounds what workers register with; a row outside
      // those bounds is corrupt and must not overflow the sum below.
      d.nthreads = std::clamp(w.nthreads(), 0, kMaxWorkerThreads);
      d.pid = w.pid();
      d.processing = w.processing();
      d.memory_bytes = w.memory_bytes();
      d.objects = w.objects();
      d.executing = w.executing();
      d.cpu = w.cpu();
      d.rss_bytes = w.rss_bytes();
      out.push_back(std::move(d));
    }
    int slots = 0;
    for (const auto& d : out) slots += d.nthreads;
    MutexLock lock(&mu_);
    slots_ = slots;
    return out;
  }

  int slots() {
    MutexLock lock(&mu_);
    return slots_;
  }

  // The scheduler's dashboard URL ("" if it has none).
  absl::StatusOr<std::string> DashboardLink() {
    SchedulerToClient reply;
    absl::Status status =
        Request([](ClientMessage& m) { m.set_list_workers(true); }, reply);
    if (!status.ok()) return status;
    return reply.dashboard();
  }

  // The scheduler's recorded task runs and transfers after `request`'s
  // cursors (or where "now" is, with from_now).
  absl::StatusOr<TelemetryReply> Telemetry(const TelemetryRequest& request) {
    SchedulerToClient reply;
    absl::Status status = Request(
        [&](ClientMessage& m) { *m.mutable_telemetry() = request; }, reply);
    if (!status.ok()) return status;
    return std::move(*reply.mutable_telemetry());
  }

  DataClient& data() { return data_; }
  const std::string& address() const { return address_; }

 private:
  // The owner of every object this connection tracks: releases and
  // cancels go to the scheduler.
  class Owner final : public internal::ObjectOwner {
   public:
    explicit Owner(std::weak_ptr<ClusterConnection> connection)
        : connection_(std::move(connection)) {}
    void Release(uint64_t id) override {
      if (auto c = connection_.lock()) c->OnRelease(id);
    }
    void Cancel(uint64_t id, bool wait) override {
      if (auto c = connection_.lock()) c->CancelObject(id, wait);
    }

   private:
    std::weak_ptr<ClusterConnection> connection_;
  };

  // RefResolver, for values decoded from this scheduler's objects: the
  // value that holds the reference keeps the object alive at the scheduler
  // until this client's add_ref, which travels ahead of any release of
  // that value on this stream.
  absl::StatusOr<std::shared_ptr<ObjectState>> Resolve(
      uint64_t id, std::string_view name) override {
    return Adopt(id, name);
  }

  void OnRelease(uint64_t id) {
    std::vector<std::shared_ptr<ObjectState>> deps;  // dropped unlocked
    {
      MutexLock lock(&mu_);
      auto it = objects_.find(id);
      // A new state for the same object (adopted again while this one was
      // being destroyed) keeps the reference.
      if (it != objects_.end() && !it->second.expired()) return;
      if (it != objects_.end()) objects_.erase(it);
      locations_.erase(id);
      if (auto held = held_deps_.find(id); held != held_deps_.end()) {
        deps.swap(held->second);
        held_deps_.erase(held);
      }
      if (stopped_ || broken_) return;
      // Queued under mu_: ordered with Adopt's add_refs.
      writer_->AddLazy([id](ClientMessage& m) { m.add_release(id); },
                       kReleaseLinger);
    }
  }

  // Removes a release of `id` from a batch not yet sent (there is at most
  // one: a release goes out only when the object's last state dies).
  static void WithdrawRelease(uint64_t id, ClientMessage& m) {
    auto* releases = m.mutable_release();
    for (int i = 0; i < releases->size(); ++i) {
      if (releases->Get(i) == id) {
        releases->SwapElements(i, releases->size() - 1);
        releases->RemoveLast();
        return;
      }
    }
  }

  absl::StatusOr<Location> Locate(uint64_t id) {
    SchedulerToClient reply;
    absl::Status status =
        Request([id](ClientMessage& m) { m.add_locate(id); }, reply);
    if (!status.ok()) return status;
    for (const Location& l : reply.located()) {
      if (l.id() == id) return l;
    }
    return absl::NotFoundError(absl::StrCat("object ", id,
                                            " is not held by "
                                            "any worker"));
  }

  // Sends a message carrying a fresh request id and waits for its reply.
  template <class Fill>
  absl::Status Request(Fill fill, SchedulerToClient& reply) {
    // A batch carries one request id, so requests go one at a time (they
    // are rare: worker lists and locations).
    MutexLock one_at_a_time(&request_mu_);
    uint64_t request_id;
    {
      MutexLock lock(&mu_);
      if (broken_) return absl::UnavailableError(broken_reason_);
      request_id = ++last_request_id_;
      awaited_request_ = request_id;
    }
    Send([&](ClientMessage& m) {
      fill(m);
      m.set_request_id(request_id);
    });
    internal::UniqueLock lock(mu_);
    const auto deadline = std::chrono::steady_clock::now() + kRequestTimeout;
    while (!replies_.contains(request_id) && !broken_) {
      if (reply_cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
        awaited_request_ = 0;
        return absl::DeadlineExceededError(
            absl::StrCat("weft: the scheduler at ", address_,
                         " did not answer within 30 s"));
      }
    }
    auto it = replies_.find(request_id);
    if (it == replies_.end()) return absl::UnavailableError(broken_reason_);
    reply = std::move(it->second);
    replies_.erase(it);
    awaited_request_ = 0;
    return absl::OkStatus();
  }

  // Uses `stream` from now on: a batch writer over it, and its messages go
  // to OnMessage() (the first one, `first`, already read).
  void Serve(std::shared_ptr<PeerStream<ClientMessage, SchedulerToClient>> stream,
             const SchedulerToClient& first) {
    stream_ = std::move(stream);
    writer_ = MakeBatchWriter(stream_, /*lingering=*/true, EventLoop::Shared());
    OnMessage(first);
    // The handlers may outlive this connection (a stream ends on its own
    // time): they hold it weakly.
    std::weak_ptr<ClusterConnection> weak = weak_from_this();
    if (std::string_view(stream_->transport()) != "in-process") {
      // A scheduler whose host vanished ends no stream: watch it.
      Liveness::Options watch;
      watch.timeout = SchedulerTimeout();
      watch.interval = std::min(
          watch.timeout / 3,
          first.client_timeout_ms() > 0
              ? absl::Milliseconds(first.client_timeout_ms()) / 6
              : absl::Seconds(10));
      liveness_ = std::make_unique<Liveness>(
          EventLoop::Shared(), watch,
          [weak] {
            if (std::shared_ptr<ClusterConnection> c = weak.lock()) {
              c->Send([](ClientMessage& m) { m.set_ping(true); });
            }
          },
          [weak](absl::Duration silent) {
            if (std::shared_ptr<ClusterConnection> c = weak.lock()) {
              c->GiveUpSilentScheduler(silent);
            }
          });
    }
    stream_->Serve(
        [weak](absl::Span<const SchedulerToClient* const> messages) {
          if (std::shared_ptr<ClusterConnection> c = weak.lock()) {
            if (c->liveness_ != nullptr) c->liveness_->Heard();
            for (const SchedulerToClient* m : messages) c->OnMessage(*m);
          }
        },
        [weak](const absl::Status& why) {
          if (std::shared_ptr<ClusterConnection> c = weak.lock()) {
            c->OnClosed(why);
          }
        });
  }

  // Nothing came from the scheduler for `silent`, pings included: its host
  // or the network is gone, and the stream would never end by itself.
  void GiveUpSilentScheduler(absl::Duration silent) {
    {
      MutexLock lock(&mu_);
      silent_reason_ = absl::StrCat(
          "heard nothing from the scheduler at ", address_, " for ",
          absl::FormatDuration(absl::Trunc(silent, absl::Milliseconds(100))),
          " (is its host down, or the network between? "
          "WEFT_SCHEDULER_TIMEOUT sets how long a client waits)");
    }
    stream_->Close();  // OnClosed() follows
  }

  // The stream ended: say why to everything still pending.
  void OnClosed(const absl::Status& why) {
    bool stopped;
    std::string silent;
    {
      MutexLock lock(&mu_);
      stopped = stopped_;
      silent = silent_reason_;
    }
    if (stopped) {
      OnBroken("the client disconnected from the scheduler");
    } else if (!silent.empty()) {
      OnBroken(silent);
    } else if (stream_->closed_by_peer()) {
      OnBroken(absl::StrCat("the scheduler at ", address_,
                            " closed the connection"));
    } else {
      OnBroken(absl::StrCat("lost the connection to the scheduler at ",
                            address_, ": ", why.message()));
    }
  }

  // A batch from the scheduler (on the reader thread, or in process on the
  // thread that produced it).
  void OnMessage(const SchedulerToClient& message) {
    OnDone(message.done());
    if (!message.error().empty()) {
      std::fprintf(stderr, "weft: scheduler rejected a message: %s\n",
                   message.error().c_str());
    }
    if (message.request_id() != 0) {
      {
        MutexLock lock(&mu_);
        // Only the request being waited for is kept: a late reply (its
        // request timed out) or one nobody asked for would stay forever.
        if (message.request_id() != awaited_request_) return;
        for (const Location& l : message.located()) {
          locations_[l.id()] = HeldAt(l);
        }
        replies_[message.request_id()] = message;
      }
      reply_cv_.notify_all();
    }
  }

  // The scheduler is gone: every pending object fails with `reason`.
  void OnBroken(const std::string& reason) {
    {
      MutexLock lock(&mu_);
      broken_ = true;
      broken_reason_ = "weft: " + reason;
    }
    reply_cv_.notify_all();
    news_cv_.notify_all();
    FailPending(reason);
  }

  // Applies a message's ObjectDones: its objects' records under one hold
  // of mu_, then each object's value or error outside it.
  void OnDone(const google::protobuf::RepeatedPtrField<ObjectDone>& all) {
    if (all.empty()) return;
    std::vector<std::pair<std::shared_ptr<ObjectState>, const ObjectDone*>>
        states;
    states.reserve(all.size());
    std::vector<std::vector<std::shared_ptr<ObjectState>>>
        deps;  // dropped unlocked
    {
      MutexLock lock(&mu_);
      for (const ObjectDone& done : all) {
        auto it = objects_.find(done.id());
        if (it == objects_.end()) continue;
        if (std::shared_ptr<ObjectState> state = it->second.lock()) {
          states.emplace_back(std::move(state), &done);
        }
        if (auto held = held_deps_.find(done.id()); held != held_deps_.end()) {
          deps.push_back(std::move(held->second));
          held_deps_.erase(held);
        }
        // Only values that did not come inline are ever fetched.
        const Location& l = done.location();
        if (!done.failed() && l.inline_value().size() != l.size()) {
          locations_[done.id()] = HeldAt(l);
        }
        if (!refetching_.empty()) {  // a FetchView waits for news
          ++done_count_;
          if (done.failed() && refetching_.contains(done.id())) {
            refetch_failures_[done.id()] = done.error().message();
          }
          news_cv_.notify_all();
        }
      }
    }
    for (auto& [state, done] : states) {
      if (done->failed()) {
        state->SetError(
            std::make_shared<const ErrorInfo>(FromProto(done->error())));
      } else {
        const Location& l = done->location();
        const bool has_inline = l.size() == l.inline_value().size();
        ObjectState::PublishRemote(std::move(state), shared_from_this(),
                                   l.inline_value(), has_inline);
      }
    }
  }

  void FailPending(const std::string& reason) {
    std::vector<std::shared_ptr<ObjectState>> pending;
    internal::ObjectIdMap<std::vector<std::shared_ptr<ObjectState>>>
        deps;  // dropped unlocked
    {
      MutexLock lock(&mu_);
      for (auto& [id, weak] : objects_) {
        if (auto s = weak.lock()) pending.push_back(std::move(s));
      }
      deps.swap(held_deps_);
    }
    for (auto& s : pending) {
      s->SetError(internal::MakeError(ErrorKind::kShutdown, s->name(), s->key(),
                                      reason));
    }
  }

  const std::string address_;
  const std::string token_;
  const std::string name_;
  DataClient data_;

  // The stream to the scheduler (a frame stream, gRPC or in-process) and
  // the writer batching onto it; set once by Serve().
  std::shared_ptr<PeerStream<ClientMessage, SchedulerToClient>> stream_;
  // Shared by every object this connection tracks (one per object would
  // cost 48 bytes each).
  std::shared_ptr<internal::ObjectOwner> owner_;
  uint64_t client_id_ = 0;
  std::unique_ptr<BatchWriter<ClientMessage>> writer_;
  // Watches a scheduler across a socket (set once by Serve()).
  std::unique_ptr<Liveness> liveness_;

  internal::Mutex request_mu_;  // held for a whole Request()
  internal::Mutex mu_;
  std::condition_variable_any reply_cv_;  // a request's reply arrived
  // An ObjectDone arrived while a FetchView waits for one (WaitForNews).
  std::condition_variable_any news_cv_;
  uint64_t done_count_ ABSL_GUARDED_BY(mu_) = 0;
  // Objects FetchView is fetching again (how many calls), and the errors
  // of those that failed meanwhile.
  absl::flat_hash_map<uint64_t, int> refetching_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, std::string> refetch_failures_
      ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  std::string broken_reason_ ABSL_GUARDED_BY(mu_);
  // Set when the scheduler went silent (GiveUpSilentScheduler).
  std::string silent_reason_ ABSL_GUARDED_BY(mu_);
  uint64_t last_request_id_ ABSL_GUARDED_BY(mu_) = 0;
  // The request Request() waits for (0: none); only its reply is kept.
  uint64_t awaited_request_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<uint64_t, SchedulerToClient> replies_
      ABSL_GUARDED_BY(mu_);
  internal::ObjectIdMap<std::weak_ptr<ObjectState>> objects_
      ABSL_GUARDED_BY(mu_);
  // Where an object not given inline is held, and its size as the
  // scheduler recorded it (a fetch checks it).
  struct Held {
    std::vector<std::string> addresses;
    std::optional<uint64_t> size;
  };
  static Held HeldAt(const Location& l) {
    return Held{{l.addresses().begin(), l.addresses().end()}, l.size()};
  }
  internal::ObjectIdMap<Held> locations_ ABSL_GUARDED_BY(mu_);
  // Inputs of this client's pending tasks (see Track).
  internal::ObjectIdMap<std::vector<std::shared_ptr<ObjectState>>> held_deps_
      ABSL_GUARDED_BY(mu_);
  int slots_ ABSL_GUARDED_BY(mu_) = 0;
};

absl::StatusOr<std::unique_ptr<ClusterRuntime>> ClusterRuntime::Connect(
    const std::string& address, const TokenSource& token,
    std::chrono::milliseconds timeout, const std::string& name) {
  std::shared_ptr<ClusterConnection> connection;
  bool waited = false;
  absl::Status status = RetryConnect(
      absl::Now() + absl::FromChrono(timeout), token.from_file(),
      [&](absl::Time attempt_deadline) {
        WEFT_ASSIGN_OR_RETURN(std::string value, token.Read());
        auto attempt =
            std::make_shared<ClusterConnection>(address, value, name);
        absl::Status started = attempt->Start(attempt_deadline);
        if (started.ok()) connection = std::move(attempt);
        return started;
      },
      [&](const absl::Status&) { waited = true; });
  if (!status.ok()) {
    return absl::Status(
        status.code(),
        absl::StrCat(status.message(),
                     waited ? absl::StrCat(" (kept trying for ",
                                           timeout.count(), " ms)")
                            : std::string()));
  }
  std::unique_ptr<ClusterRuntime> runtime(new ClusterRuntime(connection));
  (void)connection->Workers();  // learn the slot count
  return runtime;
}

ClusterRuntime::ClusterRuntime(std::shared_ptr<ClusterConnection> connection)
    : connection_(std::move(connection)) {}

ClusterRuntime::~ClusterRuntime() { connection_->Stop(); }

absl::StatusOr<std::shared_ptr<ObjectState>> ClusterRuntime::Submit(
    internal::TaskSpec spec) {
  return SubmitTask(std::move(spec), /*actor=*/0);
}

absl::StatusOr<std::shared_ptr<ObjectState>> ClusterRuntime::SubmitActorCall(
    uint64_t actor, const std::shared_ptr<ObjectState>&,
    internal::TaskSpec spec) {
  return SubmitTask(std::move(spec), actor);
}

absl::StatusOr<std::shared_ptr<ObjectState>> ClusterRuntime::SubmitTask(
    internal::TaskSpec spec, uint64_t actor) {
  if (spec.function_name.empty()) {
    if (actor != 0) {
      return absl::InvalidArgumentError(
          "weft: a method of actor class " +
          spec.name.substr(0, spec.name.find('.')) +
          " is not registered, and a cluster calls only methods registered "
          "by name: add &Class::Method to the class's WEFT_ACTOR(...)");
    }
    return absl::InvalidArgumentError(
        "weft: '" + spec.name +
        "' is not a registered function, and a cluster runs only functions "
        "registered by name. Make it a free function (or static member) and "
        "add WEFT_REMOTE(" +
        (spec.name == "lambda" ? "MyFunction" : spec.name) +
        ") at namespace scope; lambdas run on the embedded runtime only.");
  }
  std::vector<internal::WireArg> args;
  IdCollector borrowed;
  absl::Status status = spec.body->ToWire(args, &borrowed);
  if (!status.ok()) {
    return absl::Status(status.code(), absl::StrCat(status.message(), " (task ",
                                                    spec.name, ")"));
  }
  // A call holds its actor while it is pending.
  if (actor != 0) borrowed.ids.push_back(actor);
  // A pure graph node's id is a hash that another submission may share;
  // the scheduler needs one id per submitted task.
  const bool pure_id = (spec.id >> 63) != 0;
  const uint64_t id =
      spec.id != 0 && !pure_id ? spec.id : internal::NewObjectId();
  std::shared_ptr<ObjectState> state =
      connection_->Track(id, spec.name, spec.deps, /*hold_self=*/actor != 0);
  const bool hold = internal::SubmitBatch::Holding(*this);
  bool piece_full = false;
  connection_->Send(
      [&](ClientMessage& m) {
        TaskDef* def = m.add_submit();
        def->set_id(id);
        def->set_name(spec.name);
        def->set_function(spec.function_name);
        for (const auto& a : args) def->add_args(ArgBytes(a));
        for (const auto& d : spec.deps) def->add_deps(d->id());
        def->set_retries(spec.options.retries);
        def->set_num_cpus(spec.options.num_cpus);
        def->set_priority(spec.options.priority);
        def->mutable_borrowed()->Add(borrowed.ids.begin(), borrowed.ids.end());
        if (actor != 0) def->mutable_actor_call()->set_actor(actor);
        piece_full = m.submit_size() >= kSubmitPiece;
      },
      hold);
  if (hold && piece_full) connection_->Flush();
  return state;
}

absl::StatusOr<std::shared_ptr<ObjectState>> ClusterRuntime::CreateActor(
    internal::ActorSpec spec) {
  std::vector<internal::WireArg> args;
  IdCollector borrowed;
  absl::Status status = spec.body->ToWire(args, &borrowed);
  if (!status.ok()) return status;
  ActorDef def;
  def.set_id(spec.id);
  def.set_class_name(spec.class_name);
  def.set_name(spec.options.name);
  for (const auto& a : args) ToProto(a, *def.add_args());
  for (const auto& d : spec.deps) def.add_deps(d->id());
  def.mutable_borrowed()->Add(borrowed.ids.begin(), borrowed.ids.end());
  def.set_num_cpus(spec.options.num_cpus);
  def.set_max_restarts(spec.options.max_restarts);
  def.set_max_task_retries(spec.options.max_task_retries);
  def.set_max_concurrency(spec.options.max_concurrency);
  // The anchor: this client's reference to the actor (released with the
  // last handle). The scheduler answers only after it has the actor, so
  // calls made next find it.
  std::shared_ptr<ObjectState> anchor =
      connection_->Track(spec.id, spec.class_name);
  absl::StatusOr<ActorInfo> info = connection_->ActorRequest(
      [&](ClientMessage& m) { *m.add_create_actor() = def; });
  if (!info.ok()) {
    // Rejected (bad options, a name taken): no actor, nothing to release.
    return absl::Status(absl::IsNotFound(info.status())
                            ? absl::StatusCode::kInvalidArgument
                            : info.status().code(),
                        info.status().message());
  }
  anchor->SetValue(internal::AnyValue::Make(std::monostate{}));
  return anchor;
}

namespace {

ActorStatus StatusFromProto(const ActorInfo& info) {
  ActorStatus status;
  status.state = static_cast<weft::ActorState>(
      std::clamp(info.state(), 0, static_cast<int>(weft::ActorState::kDead)));
  status.restarts = info.restarts();
  status.worker = info.worker();
  if (info.has_death()) {
    status.death = std::make_shared<const ErrorInfo>(FromProto(info.death()));
  }
  return status;
}

}  // namespace

absl::StatusOr<ActorStatus> ClusterRuntime::GetActorStatus(uint64_t actor) {
  absl::StatusOr<ActorInfo> info = connection_->ActorRequest(
      [&](ClientMessage& m) { m.add_actor_status(actor); });
  if (!info.ok()) return info.status();
  return StatusFromProto(*info);
}

absl::StatusOr<internal::FoundActor> ClusterRuntime::LookupActor(
    const std::string& name) {
  absl::StatusOr<ActorInfo> info = connection_->ActorRequest(
      [&](ClientMessage& m) { m.set_lookup_actor(name); });
  if (!info.ok()) return info.status();
  // The scheduler gave this client a reference with its answer.
  absl::StatusOr<std::shared_ptr<ObjectState>> anchor =
      connection_->refs()->Resolve(info->id(), info->class_name());
  if (!anchor.ok()) return anchor.status();
  return internal::FoundActor{info->id(), info->class_name(),
                              *std::move(anchor)};
}

absl::StatusOr<bool> ClusterRuntime::KillActor(uint64_t actor) {
  absl::StatusOr<ActorInfo> info = connection_->ActorRequest(
      [&](ClientMessage& m) { m.add_kill_actor(actor); });
  if (!info.ok()) return info.status();
  return info->was_alive();
}

void ClusterRuntime::FlushSubmissions() { connection_->Flush(); }

absl::StatusOr<std::unique_ptr<ClusterRuntime>> ClusterRuntime::ConnectLocal(
    std::shared_ptr<LocalLink> link, const std::string& address,
    const std::string& token, const std::string& name) {
  auto connection = std::make_shared<ClusterConnection>(address, token, name);
  WEFT_RETURN_IF_ERROR(connection->StartLocal(std::move(link)));
  std::unique_ptr<ClusterRuntime> runtime(new ClusterRuntime(connection));
  (void)connection->Workers();  // learn the slot count
  return runtime;
}

namespace {

// A put() value's encoding and the objects it references.
struct EncodedPut {
  Buffer bytes;
  std::vector<uint64_t> contained;
};

// The encoding of a put() value: straight into shared memory when large and
// this process uses it (a same-host worker then maps it: no copy, no
// stream). Errors: the value's encoder's (it cannot be serialized).
absl::StatusOr<EncodedPut> EncodePut(const internal::PutSpec& spec) {
  BufferSink sink(SharedMemoryEnabled());
  WEFT_RETURN_IF_ERROR(spec.encode(sink));
  std::vector<uint64_t> contained = sink.contained();
  return EncodedPut{sink.Finish(), std::move(contained)};
}

// Tells the scheduler which objects a put's value references, in the
// message that records the put (puts are handled before containments).
void AddContainment(uint64_t id, const std::vector<uint64_t>& contained,
                    ClientMessage& m) {
  if (contained.empty()) return;
  Containment* c = m.add_contain();
  c->set_container(id);
  c->mutable_ids()->Add(contained.begin(), contained.end());
}

// A put of spec's value as object `what` ("put", "broadcast"): encoded,
// given a new id, placed by `place` (which stores the bytes and fills in the
// PutDone's holders or its inline value), then recorded with the scheduler
// with the references it holds, and set as the local value. Errors: the
// encoder's, and `place`'s (nothing is recorded then).
absl::StatusOr<std::shared_ptr<ObjectState>> RecordPut(
    ClusterConnection& connection, internal::PutSpec spec, const char* what,
    absl::FunctionRef<absl::Status(const Buffer& bytes, uint64_t id,
                                   PutDone& done)>
        place) {
  WEFT_ASSIGN_OR_RETURN(const EncodedPut encoded, EncodePut(spec));
  const uint64_t id = internal::NewObjectId();
  std::shared_ptr<ObjectState> state = connection.Track(id, what);
  PutDone done;
  done.set_id(id);
  done.set_size(encoded.bytes.size());
  WEFT_RETURN_IF_ERROR(place(encoded.bytes, id, done));
  // The value's references stay held by `spec.value` until the scheduler
  // has the containment: the local copy below keeps them.
  connection.Send([&](ClientMessage& m) {
    *m.add_puts() = std::move(done);
    AddContainment(id, encoded.contained, m);
  });
  state->SetValue(std::move(spec.value));
  return state;
}

}  // namespace

absl::StatusOr<std::shared_ptr<ObjectState>> ClusterRuntime::Put(
    internal::PutSpec spec) {
  return RecordPut(
      *connection_, std::move(spec), "put",
      [&](const Buffer& bytes, uint64_t id, PutDone& done) -> absl::Status {
        if (bytes.size() <= internal::kInlineValueBytes) {
          // Small: the scheduler keeps the value (a "kept" put, never lost)
          // and hands it to tasks inline; no worker is involved, so this is
          // one message, not a round trip.
          done.set_inline_value(bytes.data(), bytes.size());
          return absl::OkStatus();
        }
        // The value lives on the least loaded worker.
        absl::StatusOr<std::vector<WorkerStatus>> workers =
            connection_->Workers();
        if (!workers.ok() || workers->empty()) {
          return absl::FailedPreconditionError(
              "weft: put() of a large value needs a worker to hold it, and "
              "the cluster has none yet (see wait_for_workers)");
        }
        const WorkerStatus* target = &(*workers)[0];
        for (const auto& w : *workers) {
          if (w.memory_bytes < target->memory_bytes) target = &w;
        }
        WEFT_RETURN_IF_ERROR(
            connection_->data().Store(target->address, id, bytes));
        done.add_worker_addresses(target->address);
        return absl::OkStatus();
      });
}

int ClusterRuntime::num_slots() const { return connection_->slots(); }

absl::StatusOr<std::vector<WorkerStatus>> ClusterRuntime::Workers() {
  return connection_->Workers();
}

absl::Status ClusterRuntime::WaitForWorkers(int n,
                                            std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t have = 0;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(std::vector<WorkerStatus> workers,
                          connection_->Workers());
    have = workers.size();
    if (have >= static_cast<size_t>(n)) return absl::OkStatus();
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "weft: waited ", timeout.count(), " ms for ", n, " workers; ", have,
      " connected to ", connection_->address()));
}

absl::StatusOr<std::vector<std::shared_ptr<ObjectState>>>
ClusterRuntime::RunOnAllWorkers(internal::TaskSpec spec) {
  if (spec.function_name.empty()) {
    return absl::InvalidArgumentError(
        "weft: run_on_all_workers needs a function registered "
        "with WEFT_REMOTE; '" +
        spec.name + "' is not");
  }
  std::vector<internal::WireArg> args;
  // The call runs now, while the caller holds `spec` and so any reference
  // in the arguments: nothing to pin.
  WEFT_RETURN_IF_ERROR(spec.body->ToWire(args, nullptr));
  CallRequest request;
  request.set_function(spec.function_name);
  for (const auto& a : args) ToProto(a, *request.add_args());
  WEFT_ASSIGN_OR_RETURN(const std::vector<WorkerStatus> workers, Workers());
  std::vector<std::future<absl::StatusOr<CallReply>>> calls;
  for (const auto& w : workers) {
    calls.push_back(std::async(std::launch::async, [&, address = w.address] {
      return connection_->data().Call(address, request);
    }));
  }
  std::vector<std::shared_ptr<ObjectState>> out;
  for (size_t i = 0; i < calls.size(); ++i) {
    auto state =
        std::make_shared<ObjectState>(internal::NewObjectId(), spec.name);
    absl::StatusOr<CallReply> reply = calls[i].get();
    if (!reply.ok()) {
      state->SetError(
          internal::MakeError(ErrorKind::kWorkerDied, spec.name, state->key(),
                              std::string(reply.status().message())));
    } else if (reply->failed()) {
      state->SetError(std::make_shared<const ErrorInfo>(FromProto(reply->error())));
    } else {
      state->SetRemote(nullptr, reply->value(), /*has_inline=*/true);
    }
    out.push_back(std::move(state));
  }
  return out;
}

absl::StatusOr<std::shared_ptr<ObjectState>> ClusterRuntime::Broadcast(
    internal::PutSpec spec) {
  WEFT_ASSIGN_OR_RETURN(const std::vector<WorkerStatus> workers, Workers());
  return RecordPut(
      *connection_, std::move(spec), "broadcast",
      [&](const Buffer& bytes, uint64_t id, PutDone& done) -> absl::Status {
        // One region serves every same-host worker: each maps it.
        std::vector<std::future<absl::Status>> stores;
        for (const auto& w : workers) {
          stores.push_back(
              std::async(std::launch::async, [&, address = w.address] {
                return connection_->data().Store(address, id, bytes);
              }));
        }
        for (size_t i = 0; i < stores.size(); ++i) {
          WEFT_RETURN_IF_ERROR(stores[i].get());
          done.add_worker_addresses(workers[i].address);
        }
        if (workers.empty()) done.set_inline_value(bytes.data(), bytes.size());
        return absl::OkStatus();
      });
}

internal::RefResolver* ClusterRuntime::refs() { return connection_->refs(); }

absl::Status ClusterRuntime::Sync() { return connection_->Sync(); }

namespace {

// Reads the scheduler's task runs and transfers from the cursors it gave
// at opening on.
class ClusterEventReader final : public internal::EventReader {
 public:
  ClusterEventReader(std::shared_ptr<ClusterConnection> connection,
                     uint64_t task_cursor, uint64_t transfer_cursor)
      : connection_(std::move(connection)),
        task_cursor_(task_cursor),
        transfer_cursor_(transfer_cursor) {}

  absl::Status Read(internal::EventBatch& into) override {
    // A reply carries at most kPage events of each kind: ask again while
    // one comes back full.
    constexpr uint32_t kPage = 20000;
    while (true) {
      TelemetryRequest request;
      request.set_task_cursor(task_cursor_);
      request.set_transfer_cursor(transfer_cursor_);
      request.set_max_events(kPage);
      WEFT_ASSIGN_OR_RETURN(TelemetryReply reply,
                            connection_->Telemetry(request));
      for (const TaskEvent& t : reply.tasks()) {
        internal::TaskRunEvent& e = into.tasks.emplace_back();
        e.id = t.id();
        e.name = t.name();
        e.function = t.function();
        e.worker = t.worker();
        e.thread = t.thread();
        e.start_us = t.start_us();
        e.end_us = t.end_us();
        e.failed = t.failed();
        e.exception_type = t.exception_type();
        e.message = t.message();
      }
      for (const TransferEvent& t : reply.transfers()) {
        internal::TransferEvent& e = into.transfers.emplace_back();
        e.object = t.id();
        e.worker = t.worker();
        e.thread = t.thread();
        e.from = t.from();
        e.bytes = t.bytes();
        e.path = t.path() == 1 ? "shared_memory" : "network";
        e.start_us = t.start_us();
        e.end_us = t.end_us();
      }
      into.dropped += reply.dropped();
      task_cursor_ = reply.next_task_cursor();
      transfer_cursor_ = reply.next_transfer_cursor();
      if (reply.tasks_size() < static_cast<int>(kPage) &&
          reply.transfers_size() < static_cast<int>(kPage)) {
        return absl::OkStatus();
      }
    }
  }

 private:
  const std::shared_ptr<ClusterConnection> connection_;
  uint64_t task_cursor_;
  uint64_t transfer_cursor_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<internal::EventReader>>
ClusterRuntime::OpenEvents() {
  TelemetryRequest request;
  request.set_from_now(true);
  WEFT_ASSIGN_OR_RETURN(TelemetryReply now, connection_->Telemetry(request));
  return std::make_unique<ClusterEventReader>(
      connection_, now.next_task_cursor(), now.next_transfer_cursor());
}

absl::StatusOr<std::string> ClusterRuntime::DashboardLink() {
  return connection_->DashboardLink();
}

void ClusterRuntime::Contain(uint64_t container,
                             const std::vector<uint64_t>& ids) {
  connection_->Contain(container, ids);
}

}  // namespace weft::rpc
