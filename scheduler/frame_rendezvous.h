// Copyright 2026 The weft Authors.
//
// FrameRendezvous: the scheduler's frame port. A peer registering over gRPC
// is given a key (NewKey()); it connects to the frame port and presents the
// key in its first frame (a FrameHello); its registration then takes that
// connection (Take()) and moves the peer's stream there. The scheduler's
// side of the handshake in rpc/join.h.
//
// Strangers cannot keep peers out. Connections are accepted on the event
// loop and read there, never one at a time: a connection that has not
// shown a valid key within `hello_timeout` is closed, its first frame may
// be at most `max_hello_bytes`, and at most `max_pending` connections wait
// for their key at once (beyond that the oldest is closed: a real peer
// presents its key right after connecting, so it is never the oldest for
// long). Lines about strangers in the log are rate-limited.
//
// Thread-safe.

#ifndef WEFT_SCHEDULER_FRAME_RENDEZVOUS_H_
#define WEFT_SCHEDULER_FRAME_RENDEZVOUS_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rpc/event_loop.h"
#include "rpc/frame_stream.h"
#include "rpc/rate_limited_log.h"
#include "weft/internal/mutex.h"

namespace weft::scheduler {

class FrameRendezvous : public std::enable_shared_from_this<FrameRendezvous> {
 public:
  struct Options {
    absl::Duration hello_timeout = absl::Seconds(2);
    size_t max_hello_bytes = 4096;
    size_t max_pending = 256;
  };

  // What strangers cost so far (for tests and the log).
  struct Counts {
    uint64_t accepted = 0;     // connections
    uint64_t joined = 0;       // that presented a key given out
    uint64_t timed_out = 0;    // closed: no key within hello_timeout
    uint64_t evicted = 0;      // closed: too many waiting for a key
    uint64_t refused = 0;      // closed: a bad frame or an unknown key
  };

  // Listens on host:port (port 0: any free port) and accepts on `loop`,
  // which must outlive this object. (Shared: the loop's handlers hold it
  // weakly.) Errors: Unavailable if it cannot.
  static absl::StatusOr<std::shared_ptr<FrameRendezvous>> Listen(
      const std::string& host, int port, rpc::EventLoop& loop,
      Options options);
  // Stops accepting and closes the connections still waiting for a key or
  // to be taken.
  ~FrameRendezvous();

  FrameRendezvous(const FrameRendezvous&) = delete;
  FrameRendezvous& operator=(const FrameRendezvous&) = delete;

  int port() const { return listener_->port(); }

  // A fresh key (16 random bytes) that a connection may present once.
  std::string NewKey();
  // Waits until the connection that presented `key` arrives, or `deadline`,
  // and returns it (not reading; its hello consumed). Forgets the key
  // either way. Errors: DeadlineExceeded.
  absl::StatusOr<std::shared_ptr<rpc::FrameStream>> Take(
      const std::string& key, absl::Time deadline);
  // Forgets `key` (a registration that gave up), closing its connection if
  // it already came.
  void Forget(const std::string& key);

  Counts counts() const;

 private:
  struct Pending;

  FrameRendezvous(rpc::EventLoop& loop, Options options)
      : loop_(loop), options_(options) {}

  // On the loop: a new connection waits for its key.
  void OnAccept(std::shared_ptr<rpc::FrameStream> stream);
  // On the loop: its first frame, or its time is up.
  void OnHello(const std::shared_ptr<Pending>& pending,
               std::string_view frame);
  void Drop(const std::shared_ptr<Pending>& pending, uint64_t Counts::*counter,
            const std::string& why);

  rpc::EventLoop& loop_;
  const Options options_;
  std::unique_ptr<rpc::FrameListener> listener_;
  // Lines about connections that did not show a key, and about failures
  // to accept (rpc/rate_limited_log.h).
  rpc::RateLimitedLog stranger_log_{"weft scheduler",
                                    "connections to the frame port"};

  mutable ::weft::internal::Mutex mu_;
  std::condition_variable_any arrived_cv_;
  absl::flat_hash_set<std::string> expected_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::shared_ptr<rpc::FrameStream>> arrived_
      ABSL_GUARDED_BY(mu_);
  // Connections waiting for their key, oldest first.
  std::list<std::shared_ptr<Pending>> pending_ ABSL_GUARDED_BY(mu_);
  Counts counts_ ABSL_GUARDED_BY(mu_);
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace weft::scheduler

#endif  // WEFT_SCHEDULER_FRAME_RENDEZVOUS_H_
