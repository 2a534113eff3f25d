// Copyright 2026 The weft Authors.

#include "scheduler/scheduler_service.h"

#include <malloc.h>
#include <sys/random.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "rpc/batch_writer.h"
#include "rpc/listen_check.h"
#include "rpc/status.h"
#include "rpc/token.h"

// jemalloc's control call, when jemalloc is the allocator (opt builds).
extern "C" int mallctl(const char* name, void* oldp, size_t* oldlenp,
                       void* newp, size_t newlen) __attribute__((weak));

namespace weft::scheduler {

using ::weft::internal::MutexLock;

struct SchedulerService::ClientPeer
    : std::enable_shared_from_this<ClientPeer> {
  ClientId id = 0;
  std::string name;
  // A remote client's stream when on a socket (else gRPC or in-process).
  std::shared_ptr<rpc::FrameStream> frames;
  std::unique_ptr<rpc::BatchWriter<rpc::SchedulerToClient>> writer;
  // In-process clients only: the receiver.
  std::shared_ptr<rpc::LocalClientPeer> local;
  // In-process and frame-stream clients: whether the peer is in to_flush_
  // (guarded by the service's mu_).
  bool flush_queued = false;
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

struct SchedulerService::WorkerPeer
    : std::enable_shared_from_this<WorkerPeer> {
  WorkerId id = 0;
  std::string address;
  int64_t pid = 0;
  // It said it is stopping by choice: its end of stream is no death
  // (guarded by the service's mu_).
  bool leaving = false;
  grpc::ServerContext* context = nullptr;
  // The task stream's socket, or nullptr if it runs on the gRPC stream.
  std::shared_ptr<rpc::FrameStream> frames;
  std::unique_ptr<rpc::BatchWriter<rpc::SchedulerToWorker>> writer;
  bool flush_queued = false;  // in workers_to_flush_ (guarded by mu_)
};

namespace {

constexpr int kMaxSchedulerMessageBytes = 256 << 20;
// How long a worker that said it connected its frame stream may take to
// arrive there, and how long a new connection may take to say its key.
constexpr absl::Duration kFrameArrival = absl::Seconds(10);
constexpr absl::Duration kFrameHello = absl::Seconds(2);
// The largest first frame (FrameHello) a connection may send.
constexpr size_t kMaxHelloBytes = 4096;
// How long a worker's release of objects may wait for other updates.
constexpr std::chrono::microseconds kReleaseLinger{2000};
// Messages read from a frame stream and handled under one lock.
constexpr size_t kMaxFramesPerLock = 64;

// 16 random bytes: the key a worker presents on its frame stream.
std::string NewFrameKey() {
  std::string key(16, '\0');
  size_t got = 0;
  while (got < key.size()) {
    const ssize_t n = ::getrandom(key.data() + got, key.size() - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  return key;
}

TaskDef FromProto(const rpc::TaskDef& def) {
  TaskDef task;
  task.id = def.id();
  task.name = def.name();
  task.function = def.function();
  task.deps.assign(def.deps().begin(), def.deps().end());
  // Only the arguments, as the bytes of a TaskDef holding nothing else
  // (short ones fit CompactBytes' inline bytes); DispatchLocked rebuilds
  // the rest from the TaskDef fields.
  rpc::TaskDef args_only;
  *args_only.mutable_args() = def.args();
  task.args = args_only.SerializeAsString();
  task.retries = def.retries();
  task.num_cpus = def.num_cpus() <= 0 ? 1 : def.num_cpus();
  task.priority = def.priority();
  task.borrowed.assign(def.borrowed().begin(), def.borrowed().end());
  return task;
}

void ToProto(const ErrorDetail& error, rpc::Error& out) {
  out.set_kind(static_cast<int32_t>(error.kind));
  out.set_task_name(error.task_name);
  out.set_task_key(error.task_key);
  out.set_exception_type(error.exception_type);
  out.set_message(error.message);
}

// A submission of at least this many tasks is followed by ReturnFreedMemory.
constexpr int kTrimAfterTasks = 65536;

// Gives the pages of freed memory back to the system. After a large
// submission the allocator would otherwise keep the pages of its parsed
// message (~100 bytes a task) resident for reuse.
void ReturnFreedMemory() {
  if (mallctl != nullptr) {
    mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);  // all arenas
  } else {
    ::malloc_trim(0);
  }
}

// A peer's writer: on its frame stream if it has one (`frame_delivery`:
// the thread that flushes writes), else on its gRPC stream (a writer
// thread, since a gRPC write blocks).
template <class Out, class In>
std::unique_ptr<rpc::BatchWriter<Out>> MakeWriter(
    const std::shared_ptr<rpc::FrameStream>& frames,
    grpc::ServerReaderWriter<Out, In>* stream, rpc::Delivery frame_delivery) {
  if (frames != nullptr) {
    return std::make_unique<rpc::BatchWriter<Out>>(
        [frames](const Out& m) { return frames->Send(m); }, frame_delivery);
  }
  return std::make_unique<rpc::BatchWriter<Out>>(
      [stream](const Out& m) { return stream->Write(m); });
}

int SubmittedTasks(const rpc::ClientMessage& m) { return m.submit_size(); }
int SubmittedTasks(const rpc::WorkerMessage&) { return 0; }

// Readies a message for reuse. A client's submissions are dropped whole: a
// reused message would keep its largest batch's TaskDefs allocated for the
// stream's life (the state machine has its own copy).
void Recycle(rpc::WorkerMessage& m) { m.Clear(); }
void Recycle(rpc::ClientMessage& m) {
  if (m.submit_size() > 0) {
    rpc::ClientMessage().Swap(&m);
  } else {
    m.Clear();
  }
}

ErrorDetail FromProto(const rpc::Error& error) {
  ErrorDetail detail;
  const int kind = error.kind();
  detail.kind = kind >= 0 && kind <= static_cast<int>(ErrorKind::kShutdown)
                    ? static_cast<ErrorKind>(kind)
                    : ErrorKind::kTaskFailed;
  detail.task_name = error.task_name();
  detail.task_key = error.task_key();
  detail.exception_type = error.exception_type();
  detail.message = error.message();
  return detail;
}

}  // namespace

namespace {

bool VerboseFromEnvironment() {
  const char* verbose = std::getenv("WEFT_VERBOSE");
  return verbose != nullptr && std::string_view(verbose) == "1";
}

SchedulerService::Options WithEnvironment(SchedulerService::Options options) {
  const char* check = std::getenv("WEFT_CHECK_INVARIANTS");
  if (check != nullptr && std::string_view(check) == "1") {
    options.state.check_invariants = true;
  }
  return options;
}

}  // namespace

SchedulerService::SchedulerService(Options options)
    : options_(WithEnvironment(std::move(options))),
      verbose_(VerboseFromEnvironment()),
      state_(options_.state),
      local_(std::make_shared<Local>(this)),
      monitor_([this] { MonitorLoop(); }) {}

SchedulerService::~SchedulerService() {
  Shutdown();
  {
    MutexLock lock(&monitor_mu_);
    monitor_stop_ = true;
  }
  monitor_cv_.notify_all();
  monitor_.join();
  acceptor_stop_ = true;
  if (acceptor_.joinable()) acceptor_.join();
}

absl::Status SchedulerService::StartFrames(const std::string& host,
                                          int port) {
  absl::StatusOr<std::unique_ptr<rpc::FrameListener>> listener =
      rpc::FrameListener::Listen(host, port);
  if (!listener.ok()) return listener.status();
  frame_listener_ = *std::move(listener);
  acceptor_ = std::thread([this] { AcceptLoop(); });
  return absl::OkStatus();
}

int SchedulerService::frame_port() const {
  return frame_listener_ != nullptr ? frame_listener_->port() : 0;
}

void SchedulerService::AcceptLoop() {
  while (!acceptor_stop_.load()) {
    absl::StatusOr<std::unique_ptr<rpc::FrameStream>> stream =
        frame_listener_->Accept(absl::Milliseconds(200));
    if (!stream.ok()) {
      std::fprintf(stderr, "weft scheduler: %s\n",
                   std::string(stream.status().message()).c_str());
      absl::SleepFor(absl::Milliseconds(200));
      continue;
    }
    if (*stream == nullptr) continue;
    rpc::FrameHello hello;
    (*stream)->set_read_limit(kMaxHelloBytes);  // until it shows a key
    if (!(*stream)->Read(hello, absl::Now() + kFrameHello)) {
      const absl::Status status = (*stream)->status();
      std::fprintf(stderr,
                   "weft scheduler: a frame stream from %s sent no key: %s\n",
                   (*stream)->peer().c_str(),
                   status.ok() ? "timed out"
                               : std::string(status.message()).c_str());
      continue;
    }
    MutexLock lock(&frames_mu_);
    if (!expected_keys_.contains(hello.key()) ||
        arrived_.contains(hello.key())) {
      std::fprintf(stderr,
                   "weft scheduler: a frame stream from %s has a key no "
                   "registering worker was given; closed\n",
                   (*stream)->peer().c_str());
      continue;
    }
    (*stream)->set_read_limit(rpc::kMaxFrameBytes);
    arrived_[hello.key()] = *std::move(stream);
    frames_cv_.notify_all();
  }
}

template <class Out, class In>
absl::StatusOr<std::shared_ptr<rpc::FrameStream>> SchedulerService::OfferFrames(
    grpc::ServerReaderWriter<Out, In>& stream, const std::string& who) {
  const std::string key = NewFrameKey();
  {
    MutexLock lock(&frames_mu_);
    expected_keys_.insert(key);
  }
  auto forget = [&] {
    MutexLock lock(&frames_mu_);
    expected_keys_.erase(key);
    arrived_.erase(key);
  };
  Out offer;
  offer.set_frame_port(frame_listener_->port());
  offer.set_frame_key(key);
  In answer;
  if (!stream.Write(offer) || !stream.Read(&answer)) {
    forget();
    return absl::UnavailableError(
        absl::StrCat("weft: ", who, " left while connecting"));
  }
  if (!answer.frames_connected()) {
    forget();
    std::fprintf(stderr,
                 "weft scheduler: %s could not open a frame stream (%s); "
                 "it stays on gRPC\n",
                 who.c_str(), answer.frames_error().c_str());
    return nullptr;
  }
  ::weft::internal::UniqueLock lock(frames_mu_);
  const auto deadline = std::chrono::steady_clock::now() +
                        absl::ToChronoMilliseconds(kFrameArrival);
  while (!arrived_.contains(key)) {
    if (frames_cv_.wait_until(lock, deadline) == std::cv_status::timeout &&
        !arrived_.contains(key)) {
      expected_keys_.erase(key);
      return absl::DeadlineExceededError(absl::StrCat(
          "weft: ", who, " said it connected its frame stream, but none "
          "arrived with its key within ",
          absl::FormatDuration(kFrameArrival)));
    }
  }
  std::shared_ptr<rpc::FrameStream> frames = std::move(arrived_[key]);
  arrived_.erase(key);
  expected_keys_.erase(key);
  return frames;
}

void SchedulerService::Shutdown() {
  local_->Close();  // no in-process client call is running after this
  std::vector<std::shared_ptr<ClientPeer>> local_clients;
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
      if (client->local != nullptr || client->frames != nullptr) {
        local_clients.push_back(client);
      }
    }
  }
  for (auto& worker : workers) worker->writer->Flush();  // frame streams
  for (auto& client : local_clients) {
    client->writer->Close();  // what was already decided still arrives
    if (client->local != nullptr) {
      client->local->OnClosed("the in-process scheduler shut down");
    } else {
      client->frames->Shutdown(/*drain=*/absl::Milliseconds(500));
    }
  }
}

void SchedulerService::EndFrameStreams(absl::Duration timeout) {
  ::weft::internal::UniqueLock lock(mu_);
  const auto deadline =
      std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(timeout);
  while (!open_frames_.empty()) {
    if (frames_closed_cv_.wait_until(lock, deadline) ==
        std::cv_status::timeout) {
      break;
    }
  }
  for (const auto& frames : open_frames_) frames->Shutdown();
}

template <class F>
void SchedulerService::RunLocked(F&& f) {
  std::vector<std::shared_ptr<ClientPeer>> flush;
  std::vector<std::shared_ptr<WorkerPeer>> flush_workers;
  std::vector<std::string> log;
  {
    MutexLock lock(&mu_);
    f();
    DispatchLocked();
    flush.swap(to_flush_);
    for (auto& peer : flush) peer->flush_queued = false;
    flush_workers.swap(workers_to_flush_);
    for (auto& peer : flush_workers) peer->flush_queued = false;
    log.swap(log_);
  }
  // Workers first: their tasks start while the clients hear.
  for (auto& peer : flush_workers) peer->writer->Flush();
  for (auto& peer : flush) peer->writer->Flush();
  for (const std::string& line : log) {
    std::fprintf(stderr, "weft scheduler: %s\n", line.c_str());
  }
}

void SchedulerService::Log(std::string line) {
  log_.push_back(std::move(line));
}

template <class Fill>
void SchedulerService::ToWorkerLazily(WorkerPeer& peer, Fill&& fill) {
  peer.writer->AddLazy(std::forward<Fill>(fill), kReleaseLinger);
}

template <class Fill>
void SchedulerService::ToWorker(WorkerPeer& peer, Fill&& fill) {
  peer.writer->Add(std::forward<Fill>(fill));
  if (peer.frames != nullptr && !peer.flush_queued) {
    peer.flush_queued = true;
    workers_to_flush_.push_back(peer.shared_from_this());
  }
}

template <class Fill>
void SchedulerService::ToClient(ClientPeer& peer, Fill&& fill) {
  peer.writer->Add(std::forward<Fill>(fill));
  if ((peer.local != nullptr || peer.frames != nullptr) &&
      !peer.flush_queued) {
    peer.flush_queued = true;
    to_flush_.push_back(peer.shared_from_this());
  }
}

absl::StatusOr<ClientId> SchedulerService::ConnectLocal(
    const std::string& name, std::shared_ptr<rpc::LocalClientPeer> local) {
  auto peer = std::make_shared<ClientPeer>();
  peer->name = name;
  peer->local = local;
  peer->writer = std::make_unique<rpc::BatchWriter<rpc::SchedulerToClient>>(
      [local](const rpc::SchedulerToClient& m) {
        local->OnMessage(m);
        return true;
      },
      rpc::Delivery::kOnFlush);
  absl::Status status;
  RunLocked([&] {
    if (shutdown_) {
      status = absl::UnavailableError("weft: the scheduler is shutting down");
      return;
    }
    peer->id = next_peer_id_++;
    status = state_.AddClient(peer->id);
    if (status.ok()) clients_[peer->id] = peer;
  });
  if (!status.ok()) return status;
  return peer->id;
}

bool SchedulerService::DeliverLocal(ClientId id,
                                    const rpc::ClientMessage& message) {
  bool known = false;
  RunLocked([&] {
    auto it = clients_.find(id);
    if (it == clients_.end() || it->second->local == nullptr) return;
    known = true;
    HandleClientMessage(*it->second, message);
  });
  return known;
}

void SchedulerService::DisconnectLocal(ClientId id) {
  std::shared_ptr<ClientPeer> peer;
  RunLocked([&] {
    auto it = clients_.find(id);
    if (it == clients_.end() || it->second->local == nullptr) return;
    peer = it->second;
    state_.RemoveClient(id);
    clients_.erase(it);
  });
  if (peer != nullptr) peer->writer->Close();
}

std::shared_ptr<rpc::LocalLink> SchedulerService::local_link() {
  return local_;
}

size_t SchedulerService::num_workers() {
  MutexLock lock(&mu_);
  return workers_.size();
}

grpc::Status SchedulerService::ClientStream(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<rpc::SchedulerToClient, rpc::ClientMessage>*
        stream) {
  if (grpc::Status s = rpc::CheckToken(*context, options_.token); !s.ok()) {
    return s;
  }
  rpc::ClientMessage message;
  if (!stream->Read(&message)) return grpc::Status::OK;
  auto peer = std::make_shared<ClientPeer>();
  peer->name = message.hello().name();
  if (message.hello().frames() && frame_listener_ != nullptr) {
    absl::StatusOr<std::shared_ptr<rpc::FrameStream>> frames = OfferFrames(
        *stream, absl::StrCat("the client '", peer->name, "'"));
    if (!frames.ok()) return rpc::ToGrpc(frames.status());
    peer->frames = *std::move(frames);
  }
  peer->writer = MakeWriter(peer->frames, stream, rpc::Delivery::kOnFlush);
  grpc::Status status;
  RunLocked([&] {
    if (shutdown_) {
      status = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            "weft: the scheduler is shutting down");
      return;
    }
    peer->id = next_peer_id_++;
    if (absl::Status s = state_.AddClient(peer->id); !s.ok()) {
      status = rpc::ToGrpc(s);
      return;
    }
    clients_[peer->id] = peer;
    if (peer->frames != nullptr) open_frames_.insert(peer->frames);
    ToClient(*peer, [&](rpc::SchedulerToClient& m) {
      m.set_client_id(peer->id);
    });
    HandleClientMessage(*peer, message);
  });
  if (!status.ok()) {
    peer->writer->Close();
    return status;
  }
  if (peer->frames != nullptr) {
    ReadFrames<rpc::ClientMessage>(
        *peer->frames, [&](const rpc::ClientMessage& m) {
          HandleClientMessage(*peer, m);
        });
    const absl::Status ended = peer->frames->status();
    if (!absl::IsUnavailable(ended) && !absl::IsCancelled(ended)) {
      std::fprintf(stderr, "weft scheduler: client '%s' was dropped: %s\n",
                   peer->name.c_str(), std::string(ended.message()).c_str());
    }
  } else {
    while (stream->Read(&message)) {
      RunLocked([&] { HandleClientMessage(*peer, message); });
      const int submitted = SubmittedTasks(message);
      Recycle(message);
      if (submitted >= kTrimAfterTasks) ReturnFreedMemory();
    }
  }
  RunLocked([&] {
    state_.RemoveClient(peer->id);
    clients_.erase(peer->id);
    if (peer->frames != nullptr) {
      open_frames_.erase(peer->frames);
      frames_closed_cv_.notify_all();
    }
  });
  peer->writer->Close();
  if (peer->frames != nullptr) peer->frames->Shutdown();
  return grpc::Status::OK;
}

void SchedulerService::HandleClientMessage(ClientPeer& peer,
                                           const rpc::ClientMessage& message) {
  std::vector<std::string> errors;
  auto note = [&](const absl::Status& s) {
    if (!s.ok()) errors.emplace_back(s.message());
  };
  for (const rpc::PutDone& put : message.puts()) {
    WorkerId holder = 0;
    for (const std::string& address : put.worker_addresses()) {
      auto it = worker_by_address_.find(address);
      if (it == worker_by_address_.end()) continue;
      if (holder == 0) {
        holder = it->second;
        note(state_.AddPut(peer.id, put.id(), holder, put.size(),
                           put.inline_value()));
      } else {
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
  if (message.submit_size() > 0) {
    std::vector<TaskDef> tasks;
    tasks.reserve(message.submit_size());
    for (const rpc::TaskDef& def : message.submit()) {
      tasks.push_back(FromProto(def));
    }
    absl::Status s = state_.SubmitTasks(peer.id, std::move(tasks));
    if (!s.ok()) {
      // The batch was rejected whole: fail each task so no get() waits.
      for (const rpc::TaskDef& def : message.submit()) {
        ToClient(peer, [&](rpc::SchedulerToClient& m) {
          rpc::ObjectDone* done = m.add_done();
          done->set_id(def.id());
          done->set_failed(true);
          done->mutable_error()->set_task_name(def.name());
          done->mutable_error()->set_task_key(TaskKey(def.name(), def.id()));
          done->mutable_error()->set_exception_type("weft::UsageError");
          done->mutable_error()->set_message(
              absl::StrCat("the scheduler rejected the submission: ",
                           s.message()));
        });
      }
    }
  }
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
  // A release of what the client does not hold (e.g. an object that was
  // already gone when it adopted it) changes nothing: not an error.
  for (uint64_t id : message.release()) (void)state_.ReleaseRef(peer.id, id);
  if (message.request_id() != 0) {
    // What the events above decided reaches the client before the reply
    // (e.g. a cancel's ObjectFailed before the cancel's answer).
    DispatchLocked();
    const uint64_t request_id = message.request_id();
    rpc::SchedulerToClient reply;
    reply.set_request_id(request_id);
    for (uint64_t id : message.locate()) {
      if (state_.StateOf(id) != TaskState::kMemory) continue;
      FillLocation(id, 0, state_.HoldersOf(id), "", *reply.add_located());
    }
    if (message.list_workers()) {
      for (const WorkerSummary& w : state_.Workers()) {
        rpc::WorkerInfo* info = reply.add_workers();
        info->set_id(w.id);
        info->set_address(w.address);
        info->set_host(w.host);
        info->set_nthreads(w.nthreads);
        info->set_processing(w.processing);
        info->set_memory_bytes(std::max(w.held_bytes, w.reported_memory_bytes));
        info->set_objects(w.num_objects);
        auto it = workers_.find(w.id);
        if (it != workers_.end()) info->set_pid(it->second->pid);
      }
    }
    ToClient(peer, [&](rpc::SchedulerToClient& m) { m.MergeFrom(reply); });
  }
  if (!errors.empty()) {
    std::string all;
    for (const auto& e : errors) absl::StrAppend(&all, all.empty() ? "" : "; ", e);
    ToClient(peer, [&](rpc::SchedulerToClient& m) { m.set_error(all); });
  }
}

grpc::Status SchedulerService::WorkerStream(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<rpc::SchedulerToWorker, rpc::WorkerMessage>*
        stream) {
  if (grpc::Status s = rpc::CheckToken(*context, options_.token); !s.ok()) {
    return s;
  }
  rpc::WorkerMessage message;
  if (!stream->Read(&message) || !message.has_register_()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "weft: a worker must register first");
  }
  auto peer = std::make_shared<WorkerPeer>();
  peer->address = message.register_().address();
  peer->pid = message.register_().pid();
  peer->context = context;
  if (message.register_().frames() && frame_listener_ != nullptr) {
    absl::StatusOr<std::shared_ptr<rpc::FrameStream>> frames =
        OfferFrames(*stream, absl::StrCat("the worker at ", peer->address));
    if (!frames.ok()) return rpc::ToGrpc(frames.status());
    peer->frames = *std::move(frames);
  }
  // Lingering: releases wait for company (ToWorkerLazily).
  peer->writer =
      MakeWriter(peer->frames, stream, rpc::Delivery::kOnFlushLingering);
  grpc::Status status;
  RunLocked([&] {
    if (shutdown_) {
      status = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            "weft: the scheduler is shutting down");
      return;
    }
    peer->id = next_peer_id_++;
    WorkerInfo info;
    info.address = peer->address;
    info.host = message.register_().host();
    info.nthreads = message.register_().nthreads();
    ToWorker(*peer, [&](rpc::SchedulerToWorker& m) {
      m.set_worker_id(peer->id);
    });
    if (absl::Status s = state_.AddWorker(peer->id, info, absl::Now());
        !s.ok()) {
      status = rpc::ToGrpc(s);
      return;
    }
    workers_[peer->id] = peer;
    worker_by_address_[peer->address] = peer->id;
    if (peer->frames != nullptr) open_frames_.insert(peer->frames);
    Log(absl::StrCat("worker ", peer->id, " joined: ", peer->address,
                     " (host ", info.host, ", ", info.nthreads,
                     info.nthreads == 1 ? " thread" : " threads", ", pid ",
                     peer->pid, peer->frames != nullptr ? ")" : ", tasks on gRPC)"));
  });
  if (!status.ok()) {
    peer->writer->Close();
    return status;
  }
  // Why the stream ended, unless the worker said it was leaving.
  std::string why = "lost its connection (did its process die?)";
  if (peer->frames != nullptr) {
    ReadFrames<rpc::WorkerMessage>(
        *peer->frames, [&](const rpc::WorkerMessage& m) {
          // As on gRPC: a worker removed for silence no longer counts.
          if (workers_.contains(peer->id)) HandleWorkerMessage(*peer, m);
        });
    const absl::Status ended = peer->frames->status();
    if (!absl::IsUnavailable(ended) && !absl::IsCancelled(ended)) {
      // Not a plain end of stream: say what the worker did wrong.
      why = absl::StrCat("was dropped: ", ended.message());
    }
  } else {
    while (stream->Read(&message)) {
      RunLocked([&] {
        // A worker removed for silence may still have messages in flight;
        // its stream is being cancelled and what it says no longer counts.
        if (!workers_.contains(peer->id)) return;
        HandleWorkerMessage(*peer, message);
      });
    }
  }
  RunLocked([&] {
    if (workers_.erase(peer->id) > 0) {
      worker_by_address_.erase(peer->address);
      if (peer->leaving) why = "left";
      Log(absl::StrCat("worker ", peer->id, " (", peer->address, ") ", why));
      // Already gone if the monitor removed it for silence.
      (void)state_.RemoveWorker(
          peer->id, absl::StrCat("worker ", peer->id, " at ", peer->address,
                                 " ", why));
    }
    if (peer->frames != nullptr) {
      open_frames_.erase(peer->frames);
      frames_closed_cv_.notify_all();
    }
  });
  peer->writer->Close();
  if (peer->frames != nullptr) peer->frames->Shutdown();
  return grpc::Status::OK;
}

template <class Message, class Handle>
void SchedulerService::ReadFrames(rpc::FrameStream& frames, Handle&& handle) {
  std::vector<Message> batch(1);
  while (frames.Read(batch[0])) {
    // What else has already arrived is handled under the same lock.
    size_t n = 1;
    while (n < kMaxFramesPerLock && frames.HasBufferedFrame()) {
      if (batch.size() == n) batch.emplace_back();
      if (!frames.Read(batch[n])) break;
      ++n;
    }
    RunLocked([&] {
      for (size_t i = 0; i < n; ++i) handle(batch[i]);
    });
    int submitted = 0;
    for (size_t i = 0; i < n; ++i) {
      submitted += SubmittedTasks(batch[i]);
      Recycle(batch[i]);
    }
    if (submitted >= kTrimAfterTasks) ReturnFreedMemory();
  }
}

void SchedulerService::HandleWorkerMessage(WorkerPeer& peer,
                                           const rpc::WorkerMessage& message) {
  // A report the state machine refuses is a normal race (a result or a
  // replica of what was cancelled or released meanwhile, which it tells
  // the worker to drop): said only with WEFT_VERBOSE=1.
  auto log = [&](const absl::Status& s) {
    if (!s.ok() && verbose_) {
      Log(absl::StrCat("from worker ", peer.id, ": ", s.message()));
    }
  };
  if (message.leaving()) peer.leaving = true;
  for (uint64_t id : message.replicas()) log(state_.AddReplica(peer.id, id));
  // Before results: a task's block/resume reports precede its result.
  for (const rpc::BlockChange& change : message.blocking()) {
    log(state_.TaskBlocked(peer.id, change.id(), change.blocked()));
  }
  for (const rpc::TaskResult& result : message.results()) {
    if (result.failed()) {
      log(state_.TaskFailed(peer.id, result.id(), FromProto(result.error())));
    } else {
      log(state_.TaskFinished(peer.id, result.id(), result.size(),
                              result.inline_value(),
                              absl::Microseconds(result.run_micros())));
    }
  }
  for (uint64_t id : message.lost()) log(state_.ObjectLost(peer.id, id));
  if (message.has_heartbeat()) {
    WorkerLoad load;
    load.memory_bytes = message.heartbeat().memory_bytes();
    log(state_.Heartbeat(peer.id, absl::Now(), load));
  }
}

void SchedulerService::FillLocation(ObjectId id, uint64_t size,
                                    const std::vector<WorkerId>& holders,
                                    const std::string& inline_value,
                                    rpc::Location& out) {
  out.set_id(id);
  out.set_size(size);
  out.set_inline_value(inline_value);
  for (WorkerId w : holders) {
    auto it = workers_.find(w);
    if (it != workers_.end()) out.add_addresses(it->second->address);
  }
}

void SchedulerService::DispatchLocked() {
  for (Action& action : state_.TakeActions()) {
    std::visit(
        [&](auto& a) {
          using A = std::decay_t<decltype(a)>;
          if constexpr (std::is_same_v<A, AssignTask>) {
            auto it = workers_.find(a.worker);
            if (it == workers_.end()) return;
            ToWorker(*it->second, [&](rpc::SchedulerToWorker& m) {
              rpc::Assignment* assignment = m.add_assign();
              rpc::TaskDef* task = assignment->mutable_task();
              task->ParseFromString(a.task.args);  // the arguments
              task->set_id(a.task.id);
              task->set_name(a.task.name);
              task->set_function(a.task.function);
              task->mutable_deps()->Add(a.task.deps.begin(),
                                        a.task.deps.end());
              task->set_retries(a.task.retries);
              task->set_num_cpus(a.task.num_cpus);
              task->set_priority(a.task.priority);
              for (const DepLocation& dep : a.deps) {
                FillLocation(dep.object, dep.size_bytes, dep.holders,
                             dep.inline_value, *assignment->add_deps());
              }
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
              m.mutable_cancel()->Add(a.tasks.begin(), a.tasks.end());
            });
          } else if constexpr (std::is_same_v<A, ObjectReady>) {
            auto it = clients_.find(a.client);
            if (it == clients_.end()) return;
            ToClient(*it->second, [&](rpc::SchedulerToClient& m) {
              rpc::ObjectDone* done = m.add_done();
              done->set_id(a.object);
              FillLocation(a.object, a.size_bytes, a.holders, a.inline_value,
                           *done->mutable_location());
            });
          } else if constexpr (std::is_same_v<A, ObjectFailed>) {
            auto it = clients_.find(a.client);
            if (it == clients_.end()) return;
            ToClient(*it->second, [&](rpc::SchedulerToClient& m) {
              rpc::ObjectDone* done = m.add_done();
              done->set_id(a.object);
              done->set_failed(true);
              ToProto(a.error, *done->mutable_error());
            });
          }
        },
        action);
  }
}

void SchedulerService::MonitorLoop() {
  while (true) {
    {
      ::weft::internal::UniqueLock lock(monitor_mu_);
      monitor_cv_.wait_for(lock, absl::ToChronoMilliseconds(
                                     options_.monitor_interval));
      if (monitor_stop_) return;
    }
    RunLocked([&] { RemoveExpiredWorkers(); });
  }
}

void SchedulerService::RemoveExpiredWorkers() {
  for (WorkerId id : state_.ExpiredWorkers(absl::Now())) {
    auto it = workers_.find(id);
    std::string address = it != workers_.end() ? it->second->address : "?";
    const std::string why =
        absl::StrCat("sent no heartbeat for ",
                     absl::FormatDuration(options_.state.heartbeat_timeout));
    Log(absl::StrCat("worker ", id, " (", address, ") was dropped: ", why));
    (void)state_.RemoveWorker(
        id, absl::StrCat("worker ", id, " at ", address, " ", why));
    if (it != workers_.end()) {
      it->second->context->TryCancel();  // ends its stream handler
      if (it->second->frames != nullptr) it->second->frames->Shutdown();
      worker_by_address_.erase(address);
      workers_.erase(it);
    }
  }
}

absl::StatusOr<std::unique_ptr<SchedulerServer>> SchedulerServer::Start(
    const std::string& host, int port, SchedulerService::Options options) {
  if (absl::Status s = rpc::CheckCanListen(host, port); !s.ok()) return s;
  std::unique_ptr<SchedulerServer> server(new SchedulerServer);
  const int frame_port = options.frame_port;
  server->service_ = std::make_unique<SchedulerService>(std::move(options));
  // Before serving: a worker registering now may be offered a frame stream.
  if (frame_port >= 0) {
    if (absl::Status s = server->service_->StartFrames(host, frame_port);
        !s.ok()) {
      std::fprintf(stderr,
                   "weft scheduler: no frame streams (%s); worker tasks go "
                   "over gRPC\n",
                   std::string(s.message()).c_str());
    }
  }
  grpc::ServerBuilder builder;
  // A port another process listens on is an error, not a second listener
  // sharing it (gRPC sets SO_REUSEPORT unless told not to).
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  int bound = 0;
  builder.AddListeningPort(absl::StrCat(host, ":", port),
                           grpc::InsecureServerCredentials(), &bound);
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
  return server;
}

SchedulerServer::~SchedulerServer() { Shutdown(); }

void SchedulerServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  service_->Shutdown();
  service_->EndFrameStreams(absl::Seconds(2));
  if (server_ != nullptr) {  // null if it never started
    server_->Shutdown(std::chrono::system_clock::now() +
                      std::chrono::seconds(2));
  }
}

void SchedulerServer::Wait() { server_->Wait(); }

}  // namespace weft::scheduler
