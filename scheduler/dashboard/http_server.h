// Copyright 2026 The weft Authors.
//
// DashboardServer: the scheduler's web dashboard and /metrics, served by
// Boost.Beast on the scheduler's event loop (rpc/event_loop.h): no thread
// per connection; every handler is short (a copy of the views under the
// scheduler's lock, then text).
//
//   GET /              the dashboard page (scripts and styles inside it)
//   GET /events        live updates as server-sent events, one JSON object
//                      (updates.h) every update_interval
//   GET /status.json   one such update
//   GET /metrics       Prometheus text format (metrics.h)
//   GET /health        "ok"
//
// Listening on a loopback address, it answers anyone who can connect there.
// Listening beyond loopback, it answers only requests that present the
// cluster token: an "Authorization: Bearer TOKEN" header (Prometheus's
// `authorization` setting), the cookie it sets, or "?token=TOKEN" in the
// URL (a browser's first visit; the answer sets the cookie, so the page's
// own requests carry it). Others get 401 and a line saying how.

#ifndef WEFT_SCHEDULER_DASHBOARD_HTTP_SERVER_H_
#define WEFT_SCHEDULER_DASHBOARD_HTTP_SERVER_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rpc/event_loop.h"
#include "scheduler/dashboard/metrics.h"
#include "scheduler/dashboard/view.h"

namespace weft::dashboard {

// Dask's dashboard port.
inline constexpr int kDefaultDashboardPort = 8787;

class DashboardServer {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    int port = kDefaultDashboardPort;  // 0: any free port
    // If `port` is taken, listen on any free port instead (and say so on
    // stderr), as Dask does.
    bool fall_back_to_any_port = false;
    // The cluster token, required of requests when `host` is not a
    // loopback address. REQUIRES: not empty then.
    std::string token;
    absl::Duration update_interval = absl::Milliseconds(500);
    // Task runs (and transfers) sent per update at most: the newest.
    size_t max_events_per_update = 2000;
    // The graph is sent while the scheduler holds at most this many
    // records.
    size_t graph_nodes = 500;
    // Connections served at once; more are closed at once.
    size_t max_connections = 128;
  };

  // Listens on options.host:options.port and serves on `loop`, reading
  // `source`. Errors: InvalidArgument (no token beyond loopback),
  // Unavailable naming the address if it cannot listen (e.g. the port is
  // taken and there is no fallback).
  // REQUIRES: `source` and `loop` outlive the server.
  static absl::StatusOr<std::unique_ptr<DashboardServer>> Start(
      rpc::EventLoop& loop, ViewSource& source, Options options);

  // Stops listening and ends every connection; returns once no handler
  // uses `source` any more. REQUIRES: not called on a loop thread.
  ~DashboardServer();

  DashboardServer(const DashboardServer&) = delete;
  DashboardServer& operator=(const DashboardServer&) = delete;

  int port() const { return port_; }
  // "http://HOST:PORT/": the listening host, or this machine's name when
  // it listens on every address (0.0.0.0, ::).
  const std::string& url() const { return url_; }
  // Whether requests must present the token.
  bool requires_token() const { return requires_token_; }
  ServerCounts counts() const;

 private:
  struct Shared;
  class Session;
  class Listener;

  DashboardServer() = default;

  std::shared_ptr<Shared> shared_;
  std::shared_ptr<Listener> listener_;
  int port_ = 0;
  std::string url_;
  bool requires_token_ = false;
};

// Whether `host` names only this machine's loopback interface
// ("127.0.0.1", "127.x.y.z", "::1", "localhost").
bool IsLoopbackHost(const std::string& host);

}  // namespace weft::dashboard

#endif  // WEFT_SCHEDULER_DASHBOARD_HTTP_SERVER_H_
