// Copyright 2026 The weft Authors.
//
// SchedulerService: the central scheduler's face. Peers (clients and
// workers) register on its gRPC service, which checks their token; their
// streams then move to frame streams on its frame port when they can
// (scheduler/frame_rendezvous.h), and an in-process client (LocalCluster)
// talks to it by function call (rpc/local_link.h). Whatever carries a
// peer's stream (rpc/peer_stream.h), its messages are mapped onto
// SchedulerState (which knows nothing of sockets) under one lock, and the
// state machine's actions go back out, batched per peer.
//
// Threads: an event loop of a few threads (rpc/event_loop.h) reads every
// frame stream, accepts on the frame port and runs the timers (the
// heartbeat monitor, batch lingers), so the thread count does not grow
// with the number of peers. A peer on the gRPC fallback costs two threads
// (its handler, which reads, and a writer). Messages are written by the
// thread that has them, after the lock is released.

#ifndef WEFT_SCHEDULER_SCHEDULER_SERVICE_H_
#define WEFT_SCHEDULER_SCHEDULER_SERVICE_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "rpc/event_loop.h"
#include "rpc/grpc_peer_stream.h"
#include "rpc/local_link.h"
#include "rpc/peer_stream.h"
#include "rpc/rate_limited_log.h"
#include "rpc/weft.grpc.pb.h"
#include "scheduler/dashboard/http_server.h"
#include "scheduler/dashboard/view.h"
#include "scheduler/frame_rendezvous.h"
#include "scheduler/scheduler_state.h"
#include "scheduler/telemetry.h"
#include "weft/internal/mutex.h"

namespace weft::scheduler {

// Also the source of the dashboard's views (dashboard::ViewSource): it
// records what workers report into a Telemetry (scheduler/telemetry.h).
class SchedulerService final : public rpc::Scheduler::Service,
                               public dashboard::ViewSource {
 public:
  struct Options {
    std::string token;  // required of every peer
    SchedulerState::Options state;
    // How often silent workers are looked for.
    absl::Duration monitor_interval = absl::Milliseconds(200);
    // SchedulerServer: the port of the scheduler's host on which peers
    // open their frame streams (0: any free port; -1: none, every stream
    // stays on gRPC).
    int frame_port = 0;
    FrameRendezvous::Options rendezvous;
    // Event-loop threads (0: WEFT_IO_THREADS, else 2).
    int io_threads = 0;
    // SchedulerServer: the web dashboard's port on the scheduler's host
    // (scheduler/dashboard/http_server.h; 0: any free port, -1: none),
    // and whether a taken port falls back to any free one.
    int dashboard_port = -1;
    bool dashboard_port_fallback = false;
    // A client (not in this process) heard from neither by a message nor
    // by a ping for this long is dropped and its references released: its
    // host vanished, or its connection is half-open. Clients ping at a
    // sixth of it.
    absl::Duration client_timeout = absl::Seconds(60);
    // A client's message that submits more tasks than this is taken in
    // slices of this many, each under its own hold of the scheduler's
    // lock: workers start on the first slices while the rest comes in,
    // and other peers are heard in between. Each slice is accepted or
    // rejected whole; once one is rejected, so is the rest of the
    // message's submission (what was accepted runs). REQUIRES: > 0.
    int submit_slice = 16384;
  };

  // With WEFT_CHECK_INVARIANTS=1 in the environment, the state machine
  // checks its invariants after events (options.state.check_invariants),
  // whatever `options` says: the test suite sets it for every cluster.
  explicit SchedulerService(Options options);
  // REQUIRES: Shutdown() was called and the gRPC server stopped.
  ~SchedulerService() override;

  grpc::Status ClientStream(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<rpc::SchedulerToClient, rpc::ClientMessage>*
          stream) override;
  grpc::Status WorkerStream(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<rpc::SchedulerToWorker, rpc::WorkerMessage>*
          stream) override;

  // Listens for peers' frame streams on host:port (port 0: any free port).
  // Peers that register afterwards and offer to move are moved to one; the
  // others keep their stream on gRPC. Errors: Unavailable if it cannot
  // listen. REQUIRES: called at most once, before the service serves.
  absl::Status StartFrames(const std::string& host, int port);

  // The port frame streams are taken on; 0 if StartFrames was not called.
  int frame_port() const;
  // What connections to the frame port did so far (zeros without one).
  FrameRendezvous::Counts frame_counts() const;

  // Tells every worker to stop, ends every client's stream (in-process
  // ones hear that the scheduler shut down). Idempotent.
  void Shutdown();

  // After Shutdown(): waits up to `timeout` for the peers' frame streams
  // to end, then cuts those still open.
  void EndFrameStreams(absl::Duration timeout);

  size_t num_workers();

  // Workers removed so far, by why.
  struct Removals {
    uint64_t left = 0;    // said they were leaving (WorkerMessage.leaving)
    uint64_t lost = 0;    // their stream ended or broke unannounced
    uint64_t silent = 0;  // no message for the heartbeat timeout
  };
  Removals removals();
  // What an autoscaler weighs (SlurmCluster::adapt, `weft slurm --adapt`):
  // the tasks ready to run that wait for a worker, and each worker.
  struct Load {
    struct Worker {
      std::string host;  // as the worker registered it
      int64_t pid = 0;
      int nthreads = 0;
      uint32_t processing = 0;  // tasks assigned and not finished
    };
    size_t ready_tasks = 0;
    std::vector<Worker> workers;
  };
  Load CurrentLoad();

  // Registers a worker whose task stream `stream` was made in this process
  // (not over gRPC or the frame port; fuzz/service_fuzzer.cc drives the
  // message handlers through one), `hello` being its registration, exactly
  // as WorkerStream() registers one after the frame-stream offer; then
  // serves it (`stream` must deliver on the caller: its Serve() returns at
  // once). Returns the worker's id. Errors: InvalidArgument (`hello` is
  // not a registration, or one the state machine refuses), Unavailable
  // (shutting down, or its data address is taken: ClaimAddressLocked()).
  absl::StatusOr<WorkerId> AddWorkerStream(
      std::shared_ptr<rpc::PeerStream<rpc::SchedulerToWorker,
                                      rpc::WorkerMessage>>
          stream,
      rpc::WorkerMessage hello) ABSL_LOCKS_EXCLUDED(mu_);

  // The in-process path for a client in this process (LocalCluster). It
  // stays valid after the service is gone (its calls then fail).
  std::shared_ptr<rpc::LocalLink> local_link();

  // The event loop the service's streams and timers run on.
  rpc::EventLoop& loop() { return *loop_; }

  // dashboard::ViewSource.
  dashboard::ClusterView View(size_t graph_nodes) override
      ABSL_LOCKS_EXCLUDED(mu_);
  const Telemetry& telemetry() override { return telemetry_; }

  // Where the scheduler listens and its dashboard's URL ("" for none),
  // for the views and for clients that list workers (`weft status`).
  void SetAddresses(std::string scheduler, std::string dashboard)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct ClientPeer;
  struct WorkerPeer;
  class Local;
  class LocalStream;
  using ClientStreamPtr =
      std::shared_ptr<rpc::PeerStream<rpc::SchedulerToClient,
                                      rpc::ClientMessage>>;
  using WorkerStreamPtr =
      std::shared_ptr<rpc::PeerStream<rpc::SchedulerToWorker,
                                      rpc::WorkerMessage>>;

  // After a peer's hello on its gRPC call (`context`, `stream`, neither
  // owned), offers it a frame stream if it wants one and the service has a
  // frame port, and returns the stream the peer uses from now on (the frame
  // stream, or one on the call). `who` names the peer in messages. Errors:
  // Unavailable if the peer left, DeadlineExceeded if it said it connected
  // but no connection arrived with its key.
  template <class Out, class In>
  absl::StatusOr<std::shared_ptr<rpc::PeerStream<Out, In>>> Rendezvous(
      grpc::ServerContext* context, grpc::ServerReaderWriter<Out, In>* stream,
      bool wants_frames, const std::string& who);

  // Registers a client whose stream is `stream` and whose first message
  // was `hello`, then serves it (for gRPC, until it ends). Errors:
  // Unavailable while shutting down.
  absl::Status AddClient(std::shared_ptr<ClientPeer> peer,
                         const rpc::ClientMessage* hello);
  void ServeClient(const std::shared_ptr<ClientPeer>& peer);
  void OnClientClosed(const std::shared_ptr<ClientPeer>& peer);
  // Count a peer whose stream's transport() is `transport` into (and out
  // of) open_frame_peers_, if it is a frame stream.
  void FramePeerOpenedLocked(const char* transport)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FramePeerClosedLocked(const char* transport)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Removes `peer` and releases its references. No-op if it is gone.
  void DropClientLocked(const std::shared_ptr<ClientPeer>& peer)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A worker peer for registration `hello`, whose figures are bounded
  // first (scheduler/report_bounds.h, logging what changed).
  std::shared_ptr<WorkerPeer> NewWorkerPeer(rpc::WorkerMessage& hello);
  // Registers `peer` (its stream set) as a worker: its address claimed,
  // the state machine told, its id sent. On an error the peer's stream is
  // closed. Errors: as AddWorkerStream()'s.
  absl::Status RegisterWorker(const std::shared_ptr<WorkerPeer>& peer,
                              const rpc::WorkerMessage& hello)
      ABSL_LOCKS_EXCLUDED(mu_);
  void ServeWorker(const std::shared_ptr<WorkerPeer>& peer);
  void OnWorkerClosed(const std::shared_ptr<WorkerPeer>& peer,
                      const absl::Status& why);

  // Runs `f` under mu_, carries out the resulting actions, and after
  // unlocking delivers what they queued, closes the streams of peers that
  // were dropped, and writes the log lines.
  template <class F>
  void RunLocked(F&& f) ABSL_LOCKS_EXCLUDED(mu_);
  // Queues an update for a client (one whose stream delivers on the
  // caller gets it when RunLocked unlocks).
  template <class Fill>
  void ToClient(ClientPeer& peer, Fill&& fill)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues an update for a worker (likewise).
  template <class Fill>
  void ToWorker(WorkerPeer& peer, Fill&& fill)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues an update that may wait (kReleaseLinger at most) for the next
  // one: dropping copies is never urgent, and a message per release would
  // wake the worker once per object.
  template <class Fill>
  void ToWorkerLazily(WorkerPeer& peer, Fill&& fill)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues a line for the scheduler's log (stderr), written by RunLocked
  // once it has released mu_.
  void Log(std::string line) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Likewise, for a line a peer can cause over and over (a refused
  // registration, an impossible report): written through peer_log_, at
  // most so many a window.
  void LogLimited(std::string line) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Whether a worker may register with data address `address` from
  // process `pid` on `host`: an address no live worker has is free; one a
  // live worker has from the same host and pid is that worker again (its
  // old stream half-open or its end not handled yet), and with
  // `drop_predecessor` that registration is dropped (as lost) to make
  // room; any other is refused, so that no worker's objects are looked
  // for at another's address. Errors: Unavailable (retryable: the address
  // frees itself when its holder goes), naming the holder.
  absl::Status ClaimAddressLocked(const std::string& address,
                                  const std::string& host, int64_t pid,
                                  bool drop_predecessor)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // The LocalLink operations, once the link has checked the service lives.
  absl::StatusOr<ClientId> ConnectLocal(
      const std::string& name, std::shared_ptr<rpc::LocalClientPeer> peer);
  bool DeliverLocal(ClientId id, const rpc::ClientMessage& message);
  void DisconnectLocal(ClientId id);

  // Carries out the state machine's pending actions.
  void DispatchLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A client's message is handled in three parts, in this order: puts and
  // actor creations (the prelude); submissions; the rest (references,
  // cancels, releases, requests and the reply to them). A submission is
  // accepted or rejected whole (SchedulerState::SubmitTasks), except one
  // of more than options_.submit_slice tasks, which HandleLargeSubmission
  // takes in slices. Each rejected task is answered with a failure.
  // `tasks` is `message`'s submission in the state machine's form,
  // converted before the lock was taken (SubmittedTasks).
  struct ClientReply;
  void HandleClientMessage(ClientPeer& peer, const rpc::ClientMessage& message,
                           std::vector<TaskDef> tasks)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // `message` with its submission in slices, each converted before and
  // submitted under its own hold of the lock: workers start on the first
  // slices while the rest is taken in, and the results and messages of
  // other peers are heard in between.
  void HandleLargeSubmission(ClientPeer& peer,
                             const rpc::ClientMessage& message)
      ABSL_LOCKS_EXCLUDED(mu_);
  void HandleClientPreludeLocked(ClientPeer& peer,
                                 const rpc::ClientMessage& message,
                                 ClientReply& reply)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Submits `tasks`, the conversion of message.submit()'s entries [begin,
  // end), unless reply.rejected says an earlier slice was rejected (then
  // `tasks` may be empty); a rejection sets it and fails those entries.
  void SubmitLocked(ClientPeer& peer, const rpc::ClientMessage& message,
                    int begin, int end, std::vector<TaskDef> tasks,
                    ClientReply& reply) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HandleClientRestLocked(ClientPeer& peer,
                              const rpc::ClientMessage& message,
                              ClientReply& reply)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HandleWorkerMessage(WorkerPeer& peer,
                           const rpc::WorkerMessage& received)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A worker's data address ("" if it is gone).
  std::string AddressOf(WorkerId worker) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops workers that went silent: no message for the heartbeat timeout,
  // stamped when it arrived, and nothing waiting to be read from them (a
  // busy scheduler that has not read a worker's heartbeat yet must not
  // drop it).
  void RemoveExpiredWorkers() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops clients silent for options_.client_timeout (likewise stamped on
  // arrival; in-process clients are never silent).
  void RemoveSilentClients() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Removes `peer` from the state machine (logging why, counting it in
  // `counter`); its stream is closed when RunLocked unlocks. No-op if it is
  // already gone.
  void DropWorkerLocked(const std::shared_ptr<WorkerPeer>& peer,
                        const std::string& why, uint64_t Removals::*counter)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  // WEFT_VERBOSE=1: also log the normal races (late reports).
  const bool verbose_;
  // Declared first: destroyed last, after everything that runs on it.
  std::unique_ptr<rpc::EventLoop> loop_;

  ::weft::internal::Mutex mu_;
  SchedulerState state_ ABSL_GUARDED_BY(mu_);
  // DispatchLocked's buffer for the state's actions, kept between drains.
  std::vector<Action> actions_ ABSL_GUARDED_BY(mu_);
  uint64_t next_peer_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<ClientId, std::shared_ptr<ClientPeer>> clients_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<WorkerId, std::shared_ptr<WorkerPeer>> workers_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, WorkerId> worker_by_address_
      ABSL_GUARDED_BY(mu_);
  Removals removals_ ABSL_GUARDED_BY(mu_);
  // Log lines queued under the lock (see Log() and LogLimited()).
  std::vector<std::string> log_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> limited_log_ ABSL_GUARDED_BY(mu_);
  rpc::RateLimitedLog peer_log_{"weft scheduler",
                                "workers' registrations and reports"};
  // Peers with updates queued since the last RunLocked whose streams
  // deliver on the caller, and workers dropped whose streams need closing.
  std::vector<std::shared_ptr<ClientPeer>> clients_to_flush_
      ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<WorkerPeer>> workers_to_flush_
      ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<WorkerPeer>> workers_to_close_
      ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<ClientPeer>> clients_to_close_
      ABSL_GUARDED_BY(mu_);
  // Peers on frame streams not closed yet; EndFrameStreams waits for none.
  int open_frame_peers_ ABSL_GUARDED_BY(mu_) = 0;
  std::condition_variable_any frame_peers_closed_;
  std::shared_ptr<Local> local_;  // constant after construction

  std::shared_ptr<FrameRendezvous> rendezvous_;  // set once by StartFrames
  std::unique_ptr<rpc::Timer> monitor_;
  // What the views show; has its own lock (taken after mu_, if both).
  Telemetry telemetry_;
  std::string address_ ABSL_GUARDED_BY(mu_);
  std::string dashboard_url_ ABSL_GUARDED_BY(mu_);
};

// A running scheduler: the service on a gRPC server.
class SchedulerServer {
 public:
  // Listens on host:port (port 0: any free port), and serves the dashboard
  // on options.dashboard_port of the same host unless it is -1. Errors: the
  // reason it cannot listen, naming the address (rpc/listen_check.h), for
  // the dashboard too.
  static absl::StatusOr<std::unique_ptr<SchedulerServer>> Start(
      const std::string& host, int port, SchedulerService::Options options);
  // Shuts down (telling workers to stop) if not done yet.
  ~SchedulerServer();

  // host:port clients and workers connect to.
  const std::string& address() const { return address_; }
  // The port peers' frame streams use (0: none).
  int frame_port() const { return service_->frame_port(); }
  // The dashboard's URL, http://host:port/ ("" without one).
  std::string dashboard_url() const {
    return dashboard_ != nullptr ? dashboard_->url() : std::string();
  }
  SchedulerService& service() { return *service_; }
  // Stops workers and the server; returns when every stream has ended.
  void Shutdown();
  // Blocks until Shutdown() (from another thread or a signal handler).
  void Wait();

 private:
  SchedulerServer() = default;

  std::unique_ptr<SchedulerService> service_;
  std::unique_ptr<grpc::Server> server_;
  // Declared after service_: stopped before it (it reads the service).
  std::unique_ptr<dashboard::DashboardServer> dashboard_;
  std::string address_;
  bool shut_down_ = false;
};

}  // namespace weft::scheduler

#endif  // WEFT_SCHEDULER_SCHEDULER_SERVICE_H_
