// Copyright 2026 The weft Authors.

#include "scheduler/scheduler_service.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "rpc/batch_writer.h"
#include "rpc/frame_peer_stream.h"
#include "rpc/heap.h"
#include "rpc/listen_check.h"
#include "rpc/process_stats.h"
#include "rpc/status.h"
#include "rpc/tls.h"
#include "rpc/token.h"
#include "scheduler/memory_trim.h"
#include "scheduler/proto_mapping.h"
#include "scheduler/report_bounds.h"
#include "scheduler/telemetry_mapping.h"
#include "weft/internal/status_macros.h"

namespace weft::scheduler {

using ::weft::internal::MutexLock;
using ClientStreamBase =
    rpc::PeerStream<rpc::SchedulerToClient, rpc::ClientMessage>;
using WorkerStreamBase =
    rpc::PeerStream<rpc::SchedulerToWorker, rpc::WorkerMessage>;

namespace {

constexpr int kMaxSchedulerMessageBytes = 256 << 20;

// Checks the token of a peer's gRPC call and reads its first message into
// `first`. Errors: the token check's (Unauthenticated), InvalidArgument if
// the call ended before a message.
template <class Out, class In>
grpc::Status FirstMessage(grpc::ServerContext& context,
                          grpc::ServerReaderWriter<Out, In>& stream,
                          const std::string& token, In& first) {
  if (grpc::Status s = rpc::CheckToken(context, token); !s.ok()) return s;
  if (!stream.Read(&first)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "weft: the call ended before its first message");
  }
  return grpc::Status::OK;
}

// How long a peer that said it connected its frame stream may take to
// arrive there.
constexpr absl::Duration kFrameArrival = absl::Seconds(10);
// How long a worker's release of objects may wait for other updates.
constexpr std::chrono::microseconds kReleaseLinger{2000};
// How long shutdown waits for a frame client's stream to drain.
constexpr absl::Duration kClientDrain = absl::Milliseconds(500);

bool VerboseFromEnvironment() {
  const char* verbose = std::getenv("WEFT_VERBOSE");
  return verbose != nullptr && std::string_view(verbose) == "1";
}

SchedulerService::Options WithEnvironment(SchedulerService::Options options) {
  const char* check = std::getenv("WEFT_CHECK_INVARIANTS");
  if (check != nullptr && std::string_view(check) == "1") {
    options.state.check_invariants = true;
  }
  if (options.io_threads <= 0) {
    options.io_threads = rpc::EventLoop::ThreadsFromEnvironment(2);
  }
  return options;
}

// Removes the assignment of `task` from a batch not yet sent; returns
// whether there was one.
bool WithdrawAssignment(const TaskAttempt& run, rpc::SchedulerToWorker& m) {
  auto& assigned = *m.mutable_assign();
  for (int i = 0; i < assigned.size(); ++i) {
    const rpc::TaskDef& task = assigned.Get(i).task();
    if (task.id() == run.task && task.attempt() == run.attempt) {
      assigned.DeleteSubrange(i, 1);
      return true;
    }
  }
  return false;
}

// The submissions [begin, end) of `message`, in the state machine's form.
std::vector<TaskDef> SubmittedTasks(const rpc::ClientMessage& message,
                                    int begin, int end) {
  std::vector<TaskDef> tasks;
  tasks.reserve(end - begin);
  for (int i = begin; i < end; ++i)
    tasks.push_back(FromProto(message.submit(i)));
  return tasks;
}

}  // namespace

struct SchedulerService::ClientPeer
    : std::enable_shared_from_this<ClientPeer> {
  ClientId id = 0;
  std::string name;
  ClientStreamPtr stream;
  std::unique_ptr<rpc::BatchWriter<rpc::SchedulerToClient>> writer;
  // In clients_to_flush_ (guarded by the service's mu_).
  bool flush_queued = false;
  // When its last message arrived, in Unix nanoseconds (as WorkerPeer's).
  std::atomic<int64_t> last_heard_ns{absl::ToUnixNanos(absl::Now())};

  void Heard() { last_heard_ns.store(absl::ToUnixNanos(absl::Now())); }
  absl::Time last_heard() const {
    return absl::FromUnixNanos(last_heard_ns.load());
  }
};

struct SchedulerService::WorkerPeer
    : std::enable_shared_from_this<WorkerPeer> {
  WorkerId id = 0;
  std::string address;
  std::string host;  // as it registered
  int64_t pid = 0;
  WorkerStreamPtr stream;
  std::unique_ptr<rpc::BatchWriter<rpc::SchedulerToWorker>> writer;
  // In workers_to_flush_ (guarded by the service's mu_).
  bool flush_queued = false;
  // It said it is stopping by choice: its end of stream is no death
  // (guarded by the service's mu_).
  bool leaving = false;
  // When its last message arrived (before the lock was taken to handle
  // it), in Unix nanoseconds.
  std::atomic<int64_t> last_heard_ns{absl::ToUnixNanos(absl::Now())};

  void Heard() { last_heard_ns.store(absl::ToUnixNanos(absl::Now())); }
  absl::Time last_heard() const {
    return absl::FromUnixNanos(last_heard_ns.load());
  }
};

// The stream of a client in this process: the service delivers to the
// client by calling its LocalClientPeer, and the client's messages arrive
// through the link's Deliver().
class SchedulerService::LocalStream final : public ClientStreamBase {
 public:
  explicit LocalStream(std::shared_ptr<rpc::LocalClientPeer> peer)
      : peer_(std::move(peer)) {}

  bool Send(const rpc::SchedulerToClient& message) override {
    peer_->OnMessage(message);
    return true;
  }
  bool Read(rpc::ClientMessage&, absl::Time) override { return false; }
  void Serve(MessagesHandler on_messages, ClosedHandler on_closed) override {
    MutexLock lock(&mu_);
    on_messages_ = std::move(on_messages);
    on_closed_ = std::move(on_closed);
  }
  // A message from the client (dropped once the stream has ended).
  // REQUIRES: Serve() was called.
  void Deliver(const rpc::ClientMessage& message) {
    {
      MutexLock lock(&mu_);
      if (!status_.ok()) return;
      ++delivering_;
    }
    DeliverOne(on_messages_, message);
    MessagesHandler done;
    {
      MutexLock lock(&mu_);
      if (--delivering_ == 0 && !status_.ok()) done = std::move(on_messages_);
    }
  }
  // The client disconnected.
  void Disconnect() { End(absl::UnavailableError("the client disconnected")); }
  // The service shuts down: the client hears it.
  void Close(absl::Duration) override {
    if (End(absl::CancelledError("the in-process scheduler shut down"))) {
      peer_->OnClosed("the in-process scheduler shut down");
    }
  }
  absl::Status status() const override {
    MutexLock lock(&mu_);
    return status_;
  }
  bool closed_by_peer() const override {
    MutexLock lock(&mu_);
    return absl::IsUnavailable(status_);
  }
  bool delivers_on_caller() const override { return true; }
  const char* transport() const override { return "in-process"; }
  std::string peer() const override { return "this process"; }

 private:
  // Ends the stream once; returns whether this call did. The handlers go
  // (the messages one once no delivery runs), and with them the peer they
  // hold: the peer holds this stream.
  bool End(absl::Status why) {
    ClosedHandler on_closed;
    MessagesHandler on_messages;
    {
      MutexLock lock(&mu_);
      if (!status_.ok()) return false;
      status_ = why;
      on_closed = std::move(on_closed_);
      if (delivering_ == 0) on_messages = std::move(on_messages_);
    }
    if (on_closed) on_closed(why);
    return true;
  }

  const std::shared_ptr<rpc::LocalClientPeer> peer_;
  mutable ::weft::internal::Mutex mu_;
  // Set by Serve(), before any Deliver; called without mu_ (deliveries may
  // nest), and let go of by the last delivery after the end, or the end.
  MessagesHandler on_messages_;
  ClosedHandler on_closed_ ABSL_GUARDED_BY(mu_);
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  int delivering_ ABSL_GUARDED_BY(mu_) = 0;  // Deliver() calls running
};

// The LocalLink handed to in-process clients. It may outlive the service:
// Close() (at shutdown) turns every later call into a clean failure and
// waits for calls in progress, which may nest (a delivery to the client can
// make it send again on the same thread).
class SchedulerService::Local final : public rpc::LocalLink {
 public:
  explicit Local(SchedulerService* service) : service_(service) {}

  absl::StatusOr<uint64_t> Connect(
      const std::string& name,
      std::shared_ptr<rpc::LocalClientPeer> peer) override {
    SchedulerService* s = Enter();
    if (s == nullptr) return Gone();
    absl::StatusOr<uint64_t> id = s->ConnectLocal(name, std::move(peer));
    Exit();
    return id;
  }

  bool Deliver(uint64_t id, const rpc::ClientMessage& message) override {
    SchedulerService* s = Enter();
    if (s == nullptr) return false;
    const bool ok = s->DeliverLocal(id, message);
    Exit();
    return ok;
  }

  void Disconnect(uint64_t id) override {
    SchedulerService* s = Enter();
    if (s == nullptr) return;
    s->DisconnectLocal(id);
    Exit();
  }

  // After this returns no call reaches the service. Idempotent.
  void Close() {
    ::weft::internal::UniqueLock lock(mu_);
    service_ = nullptr;
    while (active_ > 0) idle_.wait(lock);
  }

 private:
  SchedulerService* Enter() {
    MutexLock lock(&mu_);
    if (service_ != nullptr) ++active_;
    return service_;
  }
  void Exit() {
    {
      MutexLock lock(&mu_);
      --active_;
    }
    idle_.notify_all();
  }
  static absl::Status Gone() {
    return absl::UnavailableError("weft: the in-process scheduler has shut "
                                  "down");
  }

  ::weft::internal::Mutex mu_;
  std::condition_variable_any idle_;
  SchedulerService* service_ ABSL_GUARDED_BY(mu_);
  int active_ ABSL_GUARDED_BY(mu_) = 0;
};

SchedulerService::SchedulerService(Options options)
    : options_(WithEnvironment(std::move(options))),
      verbose_(VerboseFromEnvironment()),
      loop_(std::make_unique<rpc::EventLoop>(options_.io_threads, "weft-sched")),
      state_(options_.state),
      local_(std::make_shared<Local>(this)) {
  monitor_ = std::make_unique<rpc::Timer>(*loop_, [this] {
    RunLocked([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      RemoveExpiredWorkers();
      RemoveSilentClients();
    });
  });
  monitor_->ArmEvery(options_.monitor_interval);
}

SchedulerService::~SchedulerService() {
  Shutdown();
  monitor_.reset();
  rendezvous_.reset();
  std::vector<std::shared_ptr<ClientPeer>> clients;
  std::vector<std::shared_ptr<WorkerPeer>> workers;
  {
    MutexLock lock(&mu_);
    for (auto& [id, c] : clients_) clients.push_back(c);
    for (auto& [id, w] : workers_) workers.push_back(w);
    clients_.clear();
    workers_.clear();
  }
  for (auto& c : clients) {
    c->writer->Close();
    c->stream->Close();
  }
  for (auto& w : workers) {
    w->writer->Close();
    w->stream->Close();
  }
}

absl::Status SchedulerService::StartFrames(const std::string& host,
                                          int port) {
  WEFT_ASSIGN_OR_RETURN(
      rendezvous_,
      FrameRendezvous::Listen(host, port, *loop_, options_.rendezvous));
  return absl::OkStatus();
}

int SchedulerService::frame_port() const {
  return rendezvous_ != nullptr ? rendezvous_->port() : 0;
}

FrameRendezvous::Counts SchedulerService::frame_counts() const {
  return rendezvous_ != nullptr ? rendezvous_->counts()
                                : FrameRendezvous::Counts{};
}

template <class Out, class In>
absl::StatusOr<std::shared_ptr<rpc::PeerStream<Out, In>>>
SchedulerService::Rendezvous(grpc::ServerContext* context,
                             grpc::ServerReaderWriter<Out, In>* stream,
                             bool wants_frames, const std::string& who) {
  auto grpc = std::make_shared<rpc::GrpcServerPeerStream<Out, In>>(context,
                                                                   stream);
  if (!wants_frames || rendezvous_ == nullptr) return grpc;
  const std::string key = rendezvous_->NewKey();
  Out offer;
  offer.set_frame_port(rendezvous_->port());
  offer.set_frame_key(key);
  In answer;
  if (!grpc->Send(offer) || !grpc->Read(answer, absl::InfiniteFuture())) {
    rendezvous_->Forget(key);
    return absl::UnavailableError(
        absl::StrCat("weft: ", who, " left while connecting"));
  }
  if (!answer.frames_connected()) {
    rendezvous_->Forget(key);
    std::fprintf(stderr,
                 "weft scheduler: %s could not open a frame stream (%s); "
                 "it stays on gRPC\n",
                 who.c_str(), answer.frames_error().c_str());
    return grpc;
  }
  absl::StatusOr<std::shared_ptr<rpc::FrameStream>> frames =
      rendezvous_->Take(key, absl::Now() + kFrameArrival);
  if (!frames.ok()) {
    return absl::DeadlineExceededError(absl::StrCat(
        "weft: ", who, " said it connected its frame stream, but none "
        "arrived with its key within ",
        absl::FormatDuration(kFrameArrival)));
  }
  return std::make_shared<rpc::FramePeerStream<Out, In>>(*std::move(frames));
}

// --- RunLocked and the queues -----------------------------------------------

template <class F>
void SchedulerService::RunLocked(F&& f) {
  std::vector<std::shared_ptr<ClientPeer>> flush;
  std::vector<std::shared_ptr<WorkerPeer>> flush_workers;
  std::vector<std::shared_ptr<WorkerPeer>> close_workers;
  std::vector<std::shared_ptr<ClientPeer>> close_clients;
  std::vector<std::string> log;
  std::vector<std::string> limited_log;
  {
    MutexLock lock(&mu_);
    f();
    DispatchLocked();
    flush.swap(clients_to_flush_);
    for (auto& peer : flush) peer->flush_queued = false;
    flush_workers.swap(workers_to_flush_);
    for (auto& peer : flush_workers) peer->flush_queued = false;
    close_workers.swap(workers_to_close_);
    close_clients.swap(clients_to_close_);
    log.swap(log_);
    limited_log.swap(limited_log_);
  }
  // Workers first: their tasks start while the clients hear.
  for (auto& peer : flush_workers) peer->writer->Flush();
  for (auto& peer : flush) peer->writer->Flush();
  for (auto& peer : close_workers) peer->stream->Close();
  for (auto& peer : close_clients) peer->stream->Close();
  for (const std::string& line : log) {
    std::fprintf(stderr, "weft scheduler: %s\n", line.c_str());
  }
  for (const std::string& line : limited_log) peer_log_.Write(line);
}

void SchedulerService::Log(std::string line) {
  log_.push_back(std::move(line));
}

void SchedulerService::LogLimited(std::string line) {
  limited_log_.push_back(std::move(line));
}

template <class Fill>
void SchedulerService::ToWorkerLazily(WorkerPeer& peer, Fill&& fill) {
  peer.writer->AddLazy(std::forward<Fill>(fill), kReleaseLinger);
}

template <class Fill>
void SchedulerService::ToWorker(WorkerPeer& peer, Fill&& fill) {
  peer.writer->Add(std::forward<Fill>(fill));
  if (peer.stream->delivers_on_caller() && !peer.flush_queued) {
    peer.flush_queued = true;
    workers_to_flush_.push_back(peer.shared_from_this());
  }
}

template <class Fill>
void SchedulerService::ToClient(ClientPeer& peer, Fill&& fill) {
  peer.writer->Add(std::forward<Fill>(fill));
  if (peer.stream->delivers_on_caller() && !peer.flush_queued) {
    peer.flush_queued = true;
    clients_to_flush_.push_back(peer.shared_from_this());
  }
}

// --- Shutdown --------------------------------------------------------------

void SchedulerService::Shutdown() {
  local_->Close();  // no in-process client call is running after this
  std::vector<std::shared_ptr<ClientPeer>> clients;
  std::vector<std::shared_ptr<WorkerPeer>> workers;
  {
    MutexLock lock(&mu_);
    if (shutdown_) return;
    shutdown_ = true;
    for (auto& [id, worker] : workers_) {
      worker->writer->Add([](rpc::SchedulerToWorker& m) {
        m.set_shutdown(true);
      });
      workers.push_back(worker);
    }
    for (auto& [id, client] : clients_) {
      if (client->stream->delivers_on_caller()) clients.push_back(client);
    }
  }
  for (auto& worker : workers) worker->writer->Flush();
  for (auto& client : clients) {
    client->writer->Close();  // what was already decided still arrives
    client->stream->Close(kClientDrain);
  }
}

void SchedulerService::FramePeerOpenedLocked(const char* transport) {
  if (std::string_view(transport) == "frames") ++open_frame_peers_;
}

void SchedulerService::FramePeerClosedLocked(const char* transport) {
  if (std::string_view(transport) != "frames") return;
  --open_frame_peers_;
  frame_peers_closed_.notify_all();
}

void SchedulerService::EndFrameStreams(absl::Duration timeout) {
  {
    ::weft::internal::UniqueLock lock(mu_);
    const auto deadline =
        std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(timeout);
    while (open_frame_peers_ > 0) {
      if (frame_peers_closed_.wait_until(lock, deadline) ==
          std::cv_status::timeout) {
        break;
      }
    }
  }
  std::vector<WorkerStreamPtr> workers;
  std::vector<ClientStreamPtr> clients;
  {
    MutexLock lock(&mu_);
    for (auto& [id, w] : workers_) workers.push_back(w->stream);
    for (auto& [id, c] : clients_) clients.push_back(c->stream);
  }
  for (auto& w : workers) w->Close();
  for (auto& c : clients) c->Close();
}

size_t SchedulerService::num_workers() {
  MutexLock lock(&mu_);
  return workers_.size();
}

SchedulerService::Removals SchedulerService::removals() {
  MutexLock lock(&mu_);
  return removals_;
}

SchedulerService::Load SchedulerService::CurrentLoad() {
  MutexLock lock(&mu_);
  Load load;
  load.ready_tasks = state_.num_ready();
  for (const WorkerSummary& w : state_.Workers()) {
    Load::Worker& worker = load.workers.emplace_back();
    worker.host = w.registration.host;
    worker.nthreads = w.registration.nthreads;
    worker.processing = w.processing;
    auto it = workers_.find(w.id);
    if (it != workers_.end()) worker.pid = it->second->pid;
  }
  return load;
}

std::shared_ptr<rpc::LocalLink> SchedulerService::local_link() {
  return local_;
}

// --- Clients ---------------------------------------------------------------

grpc::Status SchedulerService::ClientStream(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<rpc::SchedulerToClient, rpc::ClientMessage>*
        stream) {
  rpc::ClientMessage hello;
  if (grpc::Status s = FirstMessage(*context, *stream, options_.token, hello);
      !s.ok()) {
    return s;
  }
  auto peer = std::make_shared<ClientPeer>();
  peer->name = hello.hello().name();
  absl::StatusOr<ClientStreamPtr> chosen =
      Rendezvous(context, stream, hello.hello().frames(),
                 absl::StrCat("the client '", peer->name, "'"));
  if (!chosen.ok()) return rpc::ToGrpc(chosen.status());
  peer->stream = *std::move(chosen);
  if (absl::Status s = AddClient(peer, &hello); !s.ok()) return rpc::ToGrpc(s);
  ServeClient(peer);  // on gRPC: until the stream ends
  return grpc::Status::OK;
}

absl::Status SchedulerService::AddClient(std::shared_ptr<ClientPeer> peer,
                                         const rpc::ClientMessage* hello) {
  peer->writer = rpc::MakeBatchWriter(peer->stream, /*lingering=*/false,
                                      *loop_);
  absl::Status status;
  RunLocked([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (shutdown_) {
      status = absl::UnavailableError("weft: the scheduler is shutting down");
      return;
    }
    peer->id = next_peer_id_++;
    status = state_.AddClient(peer->id);
    if (!status.ok()) return;
    clients_[peer->id] = peer;
    telemetry_.ClientConnected();
    FramePeerOpenedLocked(peer->stream->transport());
    ToClient(*peer, [&](rpc::SchedulerToClient& m) {
      m.set_client_id(peer->id);
      m.set_client_timeout_ms(static_cast<uint32_t>(
          absl::ToInt64Milliseconds(options_.client_timeout)));
    });
    if (hello != nullptr) {
      HandleClientMessage(*peer, *hello,
                          SubmittedTasks(*hello, 0, hello->submit_size()));
    }
  });
  if (!status.ok()) {
    peer->writer->Close();
    peer->stream->Close();
  }
  return status;
}

void SchedulerService::ServeClient(const std::shared_ptr<ClientPeer>& peer) {
  peer->stream->Serve(
      [this, peer](absl::Span<const rpc::ClientMessage* const> messages) {
        peer->Heard();  // stamped on arrival, before waiting for the lock
        int submitted = 0;
        const int slice = options_.submit_slice;
        size_t next = 0;
        while (next < messages.size()) {
          if (messages[next]->submit_size() > slice) {
            submitted += messages[next]->submit_size();
            HandleLargeSubmission(*peer, *messages[next++]);
            continue;
          }
          // Messages whose submissions fit in a slice together, under one
          // hold of the lock: a client that sends many medium ones keeps
          // it no longer than one large one does.
          const size_t begin = next;
          int tasks = 0;
          while (next < messages.size() &&
                 (next == begin ||
                  tasks + messages[next]->submit_size() <= slice)) {
            tasks += messages[next++]->submit_size();
          }
          submitted += tasks;
          // Converted before the lock is taken.
          std::vector<std::vector<TaskDef>> converted(next - begin);
          for (size_t i = begin; i < next; ++i) {
            converted[i - begin] =
                SubmittedTasks(*messages[i], 0, messages[i]->submit_size());
          }
          RunLocked([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
            for (size_t i = begin; i < next; ++i) {
              HandleClientMessage(*peer, *messages[i],
                                  std::move(converted[i - begin]));
            }
          });
        }
        if (submitted >= kTrimAfterTasks) rpc::ReturnFreedMemory();
      },
      [this, peer](const absl::Status& why) {
        if (!absl::IsUnavailable(why) && !absl::IsCancelled(why)) {
          std::fprintf(stderr, "weft scheduler: client '%s' was dropped: %s\n",
                       peer->name.c_str(), std::string(why.message()).c_str());
        }
        OnClientClosed(peer);
      });
}

void SchedulerService::OnClientClosed(const std::shared_ptr<ClientPeer>& peer) {
  RunLocked([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    DropClientLocked(peer);
  });
  peer->writer->Close();
  peer->stream->Close();
}

void SchedulerService::DropClientLocked(
    const std::shared_ptr<ClientPeer>& peer) {
  auto it = clients_.find(peer->id);
  if (it == clients_.end() || it->second != peer) return;
  clients_.erase(it);
  state_.RemoveClient(peer->id);
  FramePeerClosedLocked(peer->stream->transport());
}

absl::StatusOr<ClientId> SchedulerService::ConnectLocal(
    const std::string& name, std::shared_ptr<rpc::LocalClientPeer> local) {
  auto peer = std::make_shared<ClientPeer>();
  peer->name = name;
  peer->stream = std::make_shared<LocalStream>(std::move(local));
  WEFT_RETURN_IF_ERROR(AddClient(peer, nullptr));
  ServeClient(peer);  // returns at once: the client delivers
  return peer->id;
}

bool SchedulerService::DeliverLocal(ClientId id,
                                    const rpc::ClientMessage& message) {
  std::shared_ptr<ClientPeer> peer;
  {
    MutexLock lock(&mu_);
    auto it = clients_.find(id);
    if (it == clients_.end() ||
        std::string_view(it->second->stream->transport()) != "in-process") {
      return false;
    }
    peer = it->second;
  }
  static_cast<LocalStream&>(*peer->stream).Deliver(message);
  return true;
}

void SchedulerService::DisconnectLocal(ClientId id) {
  std::shared_ptr<ClientPeer> peer;
  {
    MutexLock lock(&mu_);
    auto it = clients_.find(id);
    if (it == clients_.end() ||
        std::string_view(it->second->stream->transport()) != "in-process") {
      return;
    }
    peer = it->second;
  }
  static_cast<LocalStream&>(*peer->stream).Disconnect();
}

// What the parts of a client's message leave for its last part.
struct SchedulerService::ClientReply {
  std::vector<std::string> errors;
  // Answers about actors, sent with the reply to a request.
  std::vector<rpc::ActorInfo> actor_answers;
  // Not OK once a slice of the submission was rejected: the rest is
  // rejected too, for the same reason.
  absl::Status rejected;
};

void SchedulerService::HandleClientMessage(ClientPeer& peer,
                                           const rpc::ClientMessage& message,
                                           std::vector<TaskDef> tasks) {
  ClientReply reply;
  HandleClientPreludeLocked(peer, message, reply);
  if (message.submit_size() > 0) {
    SubmitLocked(peer, message, 0, message.submit_size(), std::move(tasks),
                 reply);
  }
  HandleClientRestLocked(peer, message, reply);
}

void SchedulerService::HandleLargeSubmission(
    ClientPeer& peer, const rpc::ClientMessage& message) {
  ClientReply reply;
  const int size = message.submit_size();
  const int slice = std::max(1, options_.submit_slice);
  for (int begin = 0; begin < size; begin += slice) {
    const int end = std::min(size, begin + slice);
    // Converted before the lock is taken (nothing to convert once the
    // submission was rejected: reply.rejected is read by this thread only).
    std::vector<TaskDef> tasks;
    if (reply.rejected.ok()) tasks = SubmittedTasks(message, begin, end);
    RunLocked([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      if (begin == 0) HandleClientPreludeLocked(peer, message, reply);
      SubmitLocked(peer, message, begin, end, std::move(tasks), reply);
      if (end == size) HandleClientRestLocked(peer, message, reply);
    });
  }
}

void SchedulerService::SubmitLocked(ClientPeer& peer,
                                    const rpc::ClientMessage& message,
                                    int begin, int end,
                                    std::vector<TaskDef> tasks,
                                    ClientReply& reply) {
  if (reply.rejected.ok()) {
    reply.rejected = state_.SubmitTasks(peer.id, std::move(tasks));
    if (reply.rejected.ok()) return;
  }
  // Rejected whole: fail each task so no get() waits.
  for (int i = begin; i < end; ++i) {
    const rpc::TaskDef& def = message.submit(i);
    ToClient(peer, [&](rpc::SchedulerToClient& m) {
      rpc::ObjectDone* done = m.add_done();
      done->set_id(def.id());
      done->set_failed(true);
      done->mutable_error()->set_task_name(def.name());
      done->mutable_error()->set_task_key(
          weft::internal::MakeKey(def.name(), def.id()));
      done->mutable_error()->set_exception_type("weft::UsageError");
      done->mutable_error()->set_message(absl::StrCat(
          "the scheduler rejected the submission: ", reply.rejected.message()));
    });
  }
}

void SchedulerService::HandleClientPreludeLocked(
    ClientPeer& peer, const rpc::ClientMessage& message, ClientReply& reply) {
  std::vector<std::string>& errors = reply.errors;
  auto note = [&](const absl::Status& s) {
    if (!s.ok()) errors.emplace_back(s.message());
  };
  for (const rpc::PutDone& put : message.puts()) {
    if (const std::string why =
            ImpossibleObjectSize(put.size(), put.inline_value().size());
        !why.empty()) {
      errors.push_back(absl::StrCat("put ", absl::Hex(put.id()), " ", why));
      continue;
    }
    // The first live worker named holds the new put; the others hold
    // copies of it. A report naming an object that already exists (another
    // client's, a task's, or this client's own again) adds no holder.
    WorkerId holder = 0;
    bool added = false;
    for (const std::string& address : put.worker_addresses()) {
      auto it = worker_by_address_.find(address);
      if (it == worker_by_address_.end()) continue;
      if (holder == 0) {
        holder = it->second;
        absl::Status s = state_.AddPut(peer.id, put.id(), holder, put.size(),
                                       put.inline_value());
        added = s.ok();
        note(s);
      } else if (added) {
        note(state_.AddReplica(it->second, put.id()));
      }
    }
    if (holder == 0) {
      if (put.inline_value().size() == put.size()) {
        // Small and whole: kept here, held by no worker.
        note(state_.AddPut(peer.id, put.id(), 0, put.size(),
                           put.inline_value()));
      } else {
        errors.push_back(
            absl::StrCat("put ", put.id(), " names no live worker"));
      }
    }
  }
  // Actors before the calls the same message may make to them; their
  // answers go with the reply below.
  for (const rpc::ActorDef& def : message.create_actor()) {
    rpc::ActorInfo& answer = reply.actor_answers.emplace_back();
    answer.set_id(def.id());
    absl::Status s = state_.CreateActor(peer.id, FromProto(def));
    if (!s.ok()) answer.set_error(std::string(s.message()));
  }
}

void SchedulerService::HandleClientRestLocked(ClientPeer& peer,
                                              const rpc::ClientMessage& message,
                                              ClientReply& reply) {
  std::vector<std::string>& errors = reply.errors;
  std::vector<rpc::ActorInfo>& actor_answers = reply.actor_answers;
  auto note = [&](const absl::Status& s) {
    if (!s.ok()) errors.emplace_back(s.message());
  };
  // add_refs before releases: a client withdraws a release still in its
  // batch when it adopts the object again (rpc/cluster_runtime.cc).
  for (uint64_t id : message.add_ref()) {
    // An unknown object is answered with ObjectFailed; the race that
    // causes it (the object freed before the reference arrived) is no
    // fault of the client's.
    absl::Status s = state_.AddRef(peer.id, id);
    if (!s.ok() && !absl::IsNotFound(s)) note(s);
  }
  for (const rpc::Containment& c : message.contain()) {
    std::vector<ObjectId> ids(c.ids().begin(), c.ids().end());
    absl::Status s = state_.AddContained(peer.id, c.container(), ids);
    // A container cancelled or released meanwhile needs nothing kept.
    if (!s.ok() && !absl::IsFailedPrecondition(s)) note(s);
  }
  for (uint64_t id : message.cancel()) note(state_.Cancel(peer.id, id));
  for (uint64_t id : message.kill_actor()) {
    rpc::ActorInfo& answer = actor_answers.emplace_back();
    answer.set_id(id);
    std::optional<SchedulerState::ActorSummary> before = state_.ActorInfo(id);
    absl::Status s = state_.KillActor(peer.id, id);
    if (!s.ok()) {
      answer.set_error(std::string(s.message()));
    } else {
      answer.set_was_alive(before->state != ActorState::kDead);
    }
  }
  if (!message.lookup_actor().empty()) {
    rpc::ActorInfo& answer = actor_answers.emplace_back();
    const ActorId id = state_.FindActor(message.lookup_actor());
    // The reference comes with the answer, so the actor cannot end in
    // between.
    if (id == 0 || !state_.AddRef(peer.id, id).ok()) {
      answer.set_error(absl::StrCat("no live actor is named '",
                                    message.lookup_actor(), "'"));
    } else {
      answer.set_id(id);
    }
  }
  for (uint64_t id : message.actor_status()) {
    rpc::ActorInfo& answer = actor_answers.emplace_back();
    answer.set_id(id);
  }
  // A release of what the client does not hold (e.g. an object that was
  // already gone when it adopted it) changes nothing: not an error.
  for (uint64_t id : message.release()) (void)state_.ReleaseRef(peer.id, id);
  if (message.ping()) {
    ToClient(peer, [](rpc::SchedulerToClient& m) { m.set_alive(true); });
  }
  if (message.request_id() != 0) {
    // What the events above decided reaches the client before the reply
    // (e.g. a cancel's ObjectFailed before the cancel's answer).
    DispatchLocked();
    rpc::SchedulerToClient reply;
    reply.set_request_id(message.request_id());
    auto address_of = [this](WorkerId w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return AddressOf(w);
    };
    for (uint64_t id : message.locate()) {
      const TaskState state = state_.StateOf(id);
      if (state == TaskState::kErred || state == TaskState::kCancelled) {
        // A get() that could not fetch it (it failed after it was in
        // memory: lost and not recomputable) learns why.
        if (const ErrorInfo* error = state_.ErrorOf(id)) {
          rpc::ObjectDone* done = reply.add_done();
          done->set_id(id);
          done->set_failed(true);
          ToProto(*error, *done->mutable_error());
        }
        continue;
      }
      if (state != TaskState::kMemory) continue;
      FillLocation(id, state_.SizeOf(id), state_.HoldersOf(id), "", address_of,
                   *reply.add_located());
    }
    for (rpc::ActorInfo& answer : actor_answers) {
      // As things stand after everything above.
      std::optional<SchedulerState::ActorSummary> actor =
          state_.ActorInfo(answer.id());
      if (answer.error().empty() && actor.has_value()) {
        const bool was_alive = answer.was_alive();
        ToProto(*actor, AddressOf(actor->worker), answer);
        answer.set_was_alive(was_alive);
      } else if (answer.error().empty()) {
        answer.set_error(
            absl::StrCat("actor ", absl::Hex(answer.id()), " is unknown"));
      }
      *reply.add_actors() = std::move(answer);
    }
    if (message.has_telemetry()) {
      FillTelemetryReply(telemetry_, message.telemetry(),
                         *reply.mutable_telemetry());
    }
    if (message.list_workers()) {
      reply.set_dashboard(dashboard_url_);
      absl::flat_hash_map<WorkerId, WorkerView> beats;
      for (WorkerView& v : telemetry_.Workers()) beats[v.id] = std::move(v);
      for (const WorkerSummary& w : state_.Workers()) {
        rpc::WorkerInfo* info = reply.add_workers();
        info->set_id(w.id);
        info->set_address(w.registration.address);
        info->set_host(w.registration.host);
        info->set_nthreads(w.registration.nthreads);
        info->set_processing(w.processing);
        info->set_memory_bytes(std::max(w.held_bytes, w.reported_memory_bytes));
        info->set_objects(w.num_objects);
        auto it = workers_.find(w.id);
        if (it != workers_.end()) info->set_pid(it->second->pid);
        if (auto beat = beats.find(w.id); beat != beats.end()) {
          info->set_executing(beat->second.executing);
          info->set_cpu(beat->second.cpu);
          info->set_rss_bytes(beat->second.rss_bytes);
        }
      }
    }
    ToClient(peer, [&](rpc::SchedulerToClient& m) { m.MergeFrom(reply); });
  }
  if (!errors.empty()) {
    std::string all;
    for (const auto& e : errors) {
      absl::StrAppend(&all, all.empty() ? "" : "; ", e);
    }
    ToClient(peer, [&](rpc::SchedulerToClient& m) { m.set_error(all); });
  }
}

// --- Workers ---------------------------------------------------------------

grpc::Status SchedulerService::WorkerStream(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<rpc::SchedulerToWorker, rpc::WorkerMessage>*
        stream) {
  rpc::WorkerMessage hello;
  if (grpc::Status s = FirstMessage(*context, *stream, options_.token, hello);
      !s.ok()) {
    return s;
  }
  if (!hello.has_register_()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "weft: a worker must register first");
  }
  std::shared_ptr<WorkerPeer> peer = NewWorkerPeer(hello);
  // Refused before the frame-stream offer, so that the worker hears why
  // on its gRPC call (checked again by RegisterWorker, under the same lock
  // as the registration, for two workers racing for one address).
  {
    absl::Status claim;
    {
      MutexLock lock(&mu_);
      claim = ClaimAddressLocked(peer->address, peer->host, peer->pid,
                                 /*drop_predecessor=*/false);
    }
    if (!claim.ok()) {
      peer_log_.Write(claim.message());
      return rpc::ToGrpc(claim);
    }
  }
  absl::StatusOr<WorkerStreamPtr> chosen =
      Rendezvous(context, stream, hello.register_().frames(),
                 absl::StrCat("the worker at ", peer->address));
  if (!chosen.ok()) return rpc::ToGrpc(chosen.status());
  peer->stream = *std::move(chosen);
  if (absl::Status s = RegisterWorker(peer, hello); !s.ok()) {
    return rpc::ToGrpc(s);
  }
  ServeWorker(peer);  // on gRPC: until the stream ends
  return grpc::Status::OK;
}

std::shared_ptr<SchedulerService::WorkerPeer> SchedulerService::NewWorkerPeer(
    rpc::WorkerMessage& hello) {
  auto peer = std::make_shared<WorkerPeer>();
  peer->address = hello.register_().address();
  peer->host = hello.register_().host();
  peer->pid = hello.register_().pid();
  std::vector<std::string> notes;
  BoundRegistration(*hello.mutable_register_(),
                    absl::StrCat("the worker at ", peer->address, " (host ",
                                 peer->host, ", pid ", peer->pid, ")"),
                    notes);
  for (const std::string& note : notes) peer_log_.Write(note);
  return peer;
}

absl::Status SchedulerService::RegisterWorker(
    const std::shared_ptr<WorkerPeer>& peer, const rpc::WorkerMessage& hello) {
  // Lingering: releases wait for company (ToWorkerLazily).
  peer->writer = rpc::MakeBatchWriter(peer->stream, /*lingering=*/true,
                                      *loop_);
  absl::Status status;
  RunLocked([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (shutdown_) {
      status = absl::UnavailableError("weft: the scheduler is shutting down");
      return;
    }
    status = ClaimAddressLocked(peer->address, peer->host, peer->pid,
                                /*drop_predecessor=*/true);
    if (!status.ok()) {
      LogLimited(std::string(status.message()));
      return;
    }
    peer->id = next_peer_id_++;
    const WorkerRegistration info = FromProto(hello.register_());
    status = state_.AddWorker(peer->id, info, absl::Now());
    if (!status.ok()) return;
    ToWorker(*peer, [&](rpc::SchedulerToWorker& m) {
      m.set_worker_id(peer->id);
      m.set_heartbeat_timeout_ms(static_cast<uint32_t>(
          absl::ToInt64Milliseconds(options_.state.heartbeat_timeout)));
    });
    workers_[peer->id] = peer;
    worker_by_address_[peer->address] = peer->id;
    WorkerView view;
    view.id = peer->id;
    view.address = peer->address;
    view.host = info.host;
    view.nthreads = info.nthreads;
    view.pid = peer->pid;
    view.joined_us = absl::ToUnixMicros(absl::Now());
    telemetry_.WorkerJoined(view);
    FramePeerOpenedLocked(peer->stream->transport());
    Log(absl::StrCat("worker ", peer->id, " joined: ", peer->address,
                     " (host ", info.host, ", ", info.nthreads,
                     info.nthreads == 1 ? " thread" : " threads", ", pid ",
                     peer->pid,
                     std::string_view(peer->stream->transport()) == "grpc"
                         ? ", tasks on gRPC)"
                         : ")"));
  });
  if (!status.ok()) {
    peer->writer->Close();
    peer->stream->Close();
  }
  return status;
}

absl::StatusOr<WorkerId> SchedulerService::AddWorkerStream(
    std::shared_ptr<rpc::PeerStream<rpc::SchedulerToWorker,
                                    rpc::WorkerMessage>>
        stream,
    rpc::WorkerMessage hello) {
  if (!hello.has_register_()) {
    return absl::InvalidArgumentError("weft: a worker must register first");
  }
  std::shared_ptr<WorkerPeer> peer = NewWorkerPeer(hello);
  peer->stream = std::move(stream);
  WEFT_RETURN_IF_ERROR(RegisterWorker(peer, hello));
  ServeWorker(peer);
  return peer->id;
}

absl::Status SchedulerService::ClaimAddressLocked(const std::string& address,
                                                 const std::string& host,
                                                 int64_t pid,
                                                 bool drop_predecessor) {
  auto it = worker_by_address_.find(address);
  if (address.empty() || it == worker_by_address_.end()) {
    return absl::OkStatus();
  }
  auto holder_it = workers_.find(it->second);
  if (holder_it == workers_.end()) return absl::OkStatus();
  const std::shared_ptr<WorkerPeer> holder = holder_it->second;
  if (pid != 0 && holder->pid == pid && holder->host == host) {
    if (drop_predecessor) {
      DropWorkerLocked(holder,
                       "registered again from the same process; its "
                       "earlier registration is dropped",
                       &Removals::lost);
    }
    return absl::OkStatus();
  }
  return absl::UnavailableError(absl::StrCat(
      "weft: refused a worker (host ", host, ", pid ", pid,
      ") that registered with data address ", address, ", which worker ",
      holder->id, " (host ", holder->host, ", pid ", holder->pid,
      ") has; each worker needs an address of its own (is the advertised "
      "host or port the same on two machines?)"));
}

void SchedulerService::ServeWorker(const std::shared_ptr<WorkerPeer>& peer) {
  peer->stream->Serve(
      [this, peer](absl::Span<const rpc::WorkerMessage* const> messages) {
        peer->Heard();  // stamped on arrival, before waiting for the lock
        RunLocked([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          // A worker removed for silence may still have messages in
          // flight; what it says no longer counts.
          if (!workers_.contains(peer->id)) return;
          for (const rpc::WorkerMessage* m : messages) {
            HandleWorkerMessage(*peer, *m);
          }
        });
      },
      [this, peer](const absl::Status& why) { OnWorkerClosed(peer, why); });
}

void SchedulerService::OnWorkerClosed(const std::shared_ptr<WorkerPeer>& peer,
                                      const absl::Status& why) {
  RunLocked([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    FramePeerClosedLocked(peer->stream->transport());
    // After Shutdown() a worker's stream ends because it was told to stop.
    const std::string reason =
        peer->leaving ? "left"
        : shutdown_   ? "stopped with the scheduler"
        : absl::IsUnavailable(why) || absl::IsCancelled(why)
            ? "lost its connection (did its process die?)"
            : absl::StrCat("was dropped: ", why.message());
    DropWorkerLocked(peer, reason,
                     peer->leaving ? &Removals::left : &Removals::lost);
  });
  peer->writer->Close();
}

void SchedulerService::DropWorkerLocked(const std::shared_ptr<WorkerPeer>& peer,
                                        const std::string& why,
                                        uint64_t Removals::*counter) {
  auto it = workers_.find(peer->id);
  if (it == workers_.end() || it->second != peer) return;
  workers_.erase(it);
  ++(removals_.*counter);
  if (auto at = worker_by_address_.find(peer->address);
      at != worker_by_address_.end() && at->second == peer->id) {
    worker_by_address_.erase(at);
  }
  telemetry_.WorkerRemoved(peer->id, peer->leaving);
  Log(absl::StrCat("worker ", peer->id, " (", peer->address, ") ", why));
  (void)state_.RemoveWorker(
      peer->id,
      absl::StrCat("worker ", peer->id, " at ", peer->address, " ", why));
  workers_to_close_.push_back(peer);
}

void SchedulerService::HandleWorkerMessage(WorkerPeer& peer,
                                           const rpc::WorkerMessage& received) {
  // Sizes and counts that cannot be true are bounded first
  // (scheduler/report_bounds.h); the rest reads `message`.
  std::vector<std::string> notes;
  const std::unique_ptr<rpc::WorkerMessage> bounded = BoundWorkerMessage(
      received, absl::StrCat("worker ", peer.id, " (", peer.address, ")"),
      notes);
  for (std::string& note : notes) LogLimited(std::move(note));
  const rpc::WorkerMessage& message = bounded != nullptr ? *bounded : received;
  // A report the state machine refuses is a normal race (a result or a
  // replica of what was cancelled or released meanwhile, which it tells
  // the worker to drop): said only with WEFT_VERBOSE=1.
  auto log = [&](const absl::Status& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!s.ok() && verbose_) {
      Log(absl::StrCat("from worker ", peer.id, ": ", s.message()));
    }
  };
  if (message.leaving() || message.retiring()) {
    // A planned exit: its tasks are not charged a death, and it gets no
    // new ones (a retiring one also hands off its objects first).
    if (!peer.leaving) {
      peer.leaving = true;
      if (message.retiring()) {
        Log(absl::StrCat("worker ", peer.id, " (", peer.address,
                         ") is retiring: finishing its tasks and handing "
                         "off its objects"));
      }
      log(state_.RetireWorker(peer.id));
    }
  }
  // Before the results change the state: it names their tasks.
  RecordWorkerMessage(state_, peer.id, message, peer.last_heard(), telemetry_);
  for (uint64_t id : message.replicas()) log(state_.AddReplica(peer.id, id));
  // Before results: an actor's calls are assigned once it is constructed.
  for (const rpc::ActorReport& report : message.actors()) {
    log(report.failed()
            ? state_.ActorCreationFailed(peer.id, report.actor(),
                                         rpc::FromProto(report.error()))
            : state_.ActorCreated(peer.id, report.actor()));
  }
  // Before results: a task's block/resume reports precede its result.
  for (const rpc::BlockChange& change : message.blocking()) {
    log(state_.TaskBlocked(peer.id, change.id(), change.attempt(),
                           change.blocked()));
  }
  for (const rpc::TaskResult& result : message.results()) {
    if (result.failed() && result.missing_size() > 0) {
      // Its inputs could not be fetched: the holders' fault, not its own.
      std::vector<InputMiss> misses;
      for (const rpc::Location& missing : result.missing()) {
        InputMiss& miss = misses.emplace_back();
        miss.object = missing.id();
        for (const std::string& address : missing.addresses()) {
          auto it = worker_by_address_.find(address);
          if (it != worker_by_address_.end()) miss.tried.push_back(it->second);
        }
      }
      log(state_.InputsUnavailable(peer.id, result.id(), result.attempt(),
                                   misses, rpc::FromProto(result.error())));
    } else if (result.failed()) {
      log(state_.TaskFailed(peer.id, result.id(), result.attempt(),
                            rpc::FromProto(result.error())));
    } else {
      log(state_.TaskFinished(peer.id, result.id(), result.attempt(),
                              result.size(), result.inline_value(),
                              absl::Microseconds(result.run_micros())));
    }
  }
  for (uint64_t id : message.lost()) log(state_.ObjectLost(peer.id, id));
  if (message.has_heartbeat()) {
    WorkerLoad load;
    load.memory_bytes = message.heartbeat().memory_bytes();
    log(state_.Heartbeat(peer.id, peer.last_heard(), load));
    // The worker watches the scheduler too (rpc/liveness.h).
    ToWorkerLazily(peer, [](rpc::SchedulerToWorker& m) { m.set_alive(true); });
  }
}

std::string SchedulerService::AddressOf(WorkerId worker) const {
  auto it = workers_.find(worker);
  return it != workers_.end() ? it->second->address : std::string();
}

void SchedulerService::DispatchLocked() {
  auto address_of = [this](WorkerId w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return AddressOf(w);
  };
  uint64_t inline_bytes = 0;
  uint64_t inline_inputs = 0;
  state_.TakeActions(actions_);
  for (Action& action : actions_) {
    std::visit(
        [&](auto& a) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          using A = std::decay_t<decltype(a)>;
          if constexpr (std::is_same_v<A, AssignTask>) {
            auto it = workers_.find(a.worker);
            if (it == workers_.end()) return;
            for (const DepLocation& dep : a.deps) {
              if (dep.inline_value.empty()) continue;
              inline_bytes += dep.inline_value.size();
              ++inline_inputs;
            }
            ToWorker(*it->second, [&](rpc::SchedulerToWorker& m) {
              ToProto(a, address_of, *m.add_assign());
            });
          } else if constexpr (std::is_same_v<A, ReleaseObjects>) {
            auto it = workers_.find(a.worker);
            if (it == workers_.end()) return;
            ToWorkerLazily(*it->second, [&](rpc::SchedulerToWorker& m) {
              m.mutable_release()->Add(a.objects.begin(), a.objects.end());
            });
          } else if constexpr (std::is_same_v<A, CancelTasks>) {
            auto it = workers_.find(a.worker);
            if (it == workers_.end()) return;
            ToWorker(*it->second, [&](rpc::SchedulerToWorker& m) {
              for (const TaskAttempt& run : a.tasks) {
                // The worker reads a message's cancels before its
                // assignments: a task assigned and taken back within one
                // batch is withdrawn from it instead.
                if (!WithdrawAssignment(run, m)) {
                  rpc::TaskAttempt* cancel = m.add_cancel();
                  cancel->set_id(run.task);
                  cancel->set_attempt(run.attempt);
                }
              }
            });
          } else if constexpr (std::is_same_v<A, ObjectReady>) {
            auto it = clients_.find(a.client);
            if (it == clients_.end()) return;
            ToClient(*it->second, [&](rpc::SchedulerToClient& m) {
              rpc::ObjectDone* done = m.add_done();
              done->set_id(a.object);
              FillLocation(a.object, a.size_bytes, a.holders, a.inline_value,
                           address_of, *done->mutable_location());
            });
          } else if constexpr (std::is_same_v<A, PlaceActor>) {
            auto it = workers_.find(a.worker);
            if (it == workers_.end()) return;
            ToWorker(*it->second, [&](rpc::SchedulerToWorker& m) {
              ToProto(a, address_of, *m.add_place_actor());
            });
          } else if constexpr (std::is_same_v<A, StopActor>) {
            auto it = workers_.find(a.worker);
            if (it == workers_.end()) return;
            ToWorker(*it->second, [&](rpc::SchedulerToWorker& m) {
              m.add_stop_actor(a.actor);
            });
          } else if constexpr (std::is_same_v<A, ReplicateObject>) {
            auto it = workers_.find(a.worker);
            if (it == workers_.end()) return;
            ToWorker(*it->second, [&](rpc::SchedulerToWorker& m) {
              FillLocation(a.object, a.size_bytes, a.holders, "", address_of,
                           *m.add_fetch());
            });
          } else if constexpr (std::is_same_v<A, WorkerRetired>) {
            auto it = workers_.find(a.worker);
            if (it == workers_.end()) return;
            Log(absl::StrCat("worker ", a.worker, " (", it->second->address,
                             ") retired (", a.handed_off,
                             a.handed_off == 1 ? " object" : " objects",
                             " handed off)"));
            ToWorker(*it->second,
                     [](rpc::SchedulerToWorker& m) { m.set_shutdown(true); });
          } else if constexpr (std::is_same_v<A, ObjectFailed>) {
            auto it = clients_.find(a.client);
            if (it == clients_.end()) return;
            ToClient(*it->second, [&](rpc::SchedulerToClient& m) {
              rpc::ObjectDone* done = m.add_done();
              done->set_id(a.object);
              done->set_failed(true);
              rpc::ToProto(a.error, *done->mutable_error());
            });
          }
        },
        action);
  }
  // Kept for the next drain, emptied now (an assignment holds its task's
  // arguments).
  actions_.clear();
  if (actions_.capacity() > SchedulerState::kKeptActions) actions_ = {};
  if (inline_inputs > 0) telemetry_.AddInlineBytes(inline_bytes, inline_inputs);
}

dashboard::ClusterView SchedulerService::View(size_t graph_nodes) {
  dashboard::ClusterView view;
  view.now_us = absl::ToUnixMicros(absl::Now());
  view.scheduler_cpu_seconds = rpc::ProcessCpuSeconds();
  view.scheduler_rss_bytes = rpc::ProcessRssBytes();
  std::vector<WorkerView> beats = telemetry_.Workers();
  std::vector<WorkerSummary> workers;
  absl::flat_hash_map<WorkerId, int64_t> pids;
  {
    MutexLock lock(&mu_);
    view.address = address_;
    view.clients = clients_.size();
    view.counts = state_.CountsByFunction();
    workers = state_.Workers();
    for (const auto& [id, peer] : workers_) pids[id] = peer->pid;
    if (graph_nodes > 0) view.graph = state_.Graph(graph_nodes);
  }
  absl::flat_hash_map<WorkerId, const WorkerView*> beat_of;
  for (const WorkerView& b : beats) beat_of[b.id] = &b;
  view.workers.reserve(workers.size());
  for (const WorkerSummary& w : workers) {
    dashboard::WorkerRow& row = view.workers.emplace_back();
    if (auto it = beat_of.find(w.id); it != beat_of.end()) {
      static_cast<WorkerView&>(row) = *it->second;
    }
    // Identity as the state machine has it (a heartbeat may lag a rejoin).
    row.id = w.id;
    row.address = w.registration.address;
    row.host = w.registration.host;
    row.nthreads = w.registration.nthreads;
    row.pid = pids.contains(w.id) ? pids[w.id] : 0;
    row.processing = w.processing;
    row.objects = w.num_objects;
    row.held_bytes = w.held_bytes;
  }
  return view;
}

void SchedulerService::SetAddresses(std::string scheduler,
                                    std::string dashboard) {
  MutexLock lock(&mu_);
  address_ = std::move(scheduler);
  dashboard_url_ = std::move(dashboard);
}

void SchedulerService::RemoveExpiredWorkers() {
  const absl::Time now = absl::Now();
  const absl::Duration timeout = options_.state.heartbeat_timeout;
  for (WorkerId id : state_.ExpiredWorkers(now)) {
    auto it = workers_.find(id);
    if (it == workers_.end()) {
      (void)state_.RemoveWorker(id, absl::StrCat("worker ", id, " is gone"));
      continue;
    }
    std::shared_ptr<WorkerPeer> peer = it->second;
    const absl::Time heard = peer->last_heard();
    if (now - heard <= timeout) {
      // Its message arrived; this scheduler has not handled it yet.
      (void)state_.Seen(id, heard);
    } else if (peer->stream->UnreadBytes() > 0) {
      // Bytes from it wait to be read: alive, however busy we are.
      (void)state_.Seen(id, now);
    } else {
      DropWorkerLocked(peer,
                       absl::StrCat("was dropped: it sent no heartbeat for ",
                                    absl::FormatDuration(timeout)),
                       &Removals::silent);
    }
  }
}

void SchedulerService::RemoveSilentClients() {
  const absl::Time now = absl::Now();
  std::vector<std::shared_ptr<ClientPeer>> silent;
  for (auto& [id, peer] : clients_) {
    if (std::string_view(peer->stream->transport()) == "in-process") continue;
    if (now - peer->last_heard() <= options_.client_timeout) continue;
    // Bytes from it wait to be read: alive, however busy we are.
    if (peer->stream->UnreadBytes() > 0) continue;
    silent.push_back(peer);
  }
  for (auto& peer : silent) {
    Log(absl::StrCat("client ", peer->id, " ('", peer->name,
                     "') was dropped: heard nothing from it for ",
                     absl::FormatDuration(options_.client_timeout),
                     " (its host or its connection is gone); its references "
                     "are released"));
    DropClientLocked(peer);
    clients_to_close_.push_back(peer);
  }
}

// --- SchedulerServer -------------------------------------------------------

absl::StatusOr<std::unique_ptr<SchedulerServer>> SchedulerServer::Start(
    const std::string& host, int port, SchedulerService::Options options) {
  WEFT_RETURN_IF_ERROR(rpc::CheckCanListen(host, port));
  std::unique_ptr<SchedulerServer> server(new SchedulerServer);
  const int frame_port = options.frame_port;
  const int dashboard_port = options.dashboard_port;
  const bool dashboard_fallback = options.dashboard_port_fallback;
  const std::string token = options.token;
  // With TLS on (rpc/tls.h), every port serves TLS only; broken TLS files
  // stop the scheduler here rather than fall back to plaintext.
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      rpc::ProcessServerCredentials();
  if (!credentials.ok()) return credentials.status();
  server->service_ = std::make_unique<SchedulerService>(std::move(options));
  // Before serving: a peer registering now may be offered a frame stream.
  if (frame_port >= 0) {
    if (absl::Status s = server->service_->StartFrames(host, frame_port);
        !s.ok()) {
      std::fprintf(stderr,
                   "weft scheduler: no frame streams (%s); every stream "
                   "stays on gRPC\n",
                   std::string(s.message()).c_str());
    }
  }
  grpc::ServerBuilder builder;
  // A port another process listens on is an error, not a second listener
  // sharing it (gRPC sets SO_REUSEPORT unless told not to).
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  int bound = 0;
  builder.AddListeningPort(absl::StrCat(host, ":", port), *credentials,
                           &bound);
  // Control messages carry metadata and small values; a larger one is
  // refused with RESOURCE_EXHAUSTED before it is read into memory.
  builder.SetMaxReceiveMessageSize(kMaxSchedulerMessageBytes);
  builder.SetMaxSendMessageSize(-1);
  builder.RegisterService(server->service_.get());
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || bound == 0) {
    return absl::UnavailableError(
        absl::StrCat("weft: the scheduler cannot listen on ", host, ":", port));
  }
  server->address_ = absl::StrCat(host, ":", bound);
  if (dashboard_port >= 0) {
    dashboard::DashboardServer::Options dashboard;
    dashboard.host = host;
    dashboard.port = dashboard_port;
    dashboard.fall_back_to_any_port = dashboard_fallback;
    dashboard.token = token;
    absl::StatusOr<std::unique_ptr<dashboard::DashboardServer>> started =
        dashboard::DashboardServer::Start(server->service_->loop(),
                                          *server->service_,
                                          std::move(dashboard));
    if (!started.ok()) {
      server->Shutdown();
      return started.status();
    }
    server->dashboard_ = *std::move(started);
  }
  server->service_->SetAddresses(server->address_, server->dashboard_url());
  return server;
}

SchedulerServer::~SchedulerServer() { Shutdown(); }

void SchedulerServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  dashboard_.reset();  // before the service it reads
  service_->Shutdown();
  service_->EndFrameStreams(absl::Seconds(2));
  if (server_ != nullptr) {  // null if it never started
    server_->Shutdown(std::chrono::system_clock::now() +
                      std::chrono::seconds(2));
  }
}

void SchedulerServer::Wait() { server_->Wait(); }

}  // namespace weft::scheduler
