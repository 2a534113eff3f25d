// Copyright 2026 The weft Authors.

#include "scheduler/dashboard/http_server.h"

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "boost/asio/dispatch.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/strand.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/http.hpp"
#include "scheduler/dashboard/pages.h"
#include "scheduler/dashboard/updates.h"

namespace weft::dashboard {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr char kCookie[] = "weft_token";
constexpr auto kRequestTimeout = std::chrono::seconds(30);
constexpr size_t kHeaderLimit = 8 * 1024;
constexpr size_t kBodyLimit = 64 * 1024;

// Compares without stopping at the first difference.
bool SameSecret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = HexValue(s[i + 1]);
      const int lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i] == '+' ? ' ' : s[i]);
  }
  return out;
}

// The value of query parameter `name` in `query` ("a=1&b=2"), if present.
std::optional<std::string> QueryParam(std::string_view query,
                                      std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return PercentDecode(eq == std::string_view::npos ? ""
                                                        : pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

// The value of cookie `name` in a Cookie header ("a=1; b=2").
std::optional<std::string_view> CookieValue(std::string_view header,
                                            std::string_view name) {
  while (!header.empty()) {
    while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
    const size_t semi = header.find(';');
    const std::string_view pair = header.substr(0, semi);
    const size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      return pair.substr(eq + 1);
    }
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  return std::nullopt;
}

std::string_view ToView(beast::string_view s) { return {s.data(), s.size()}; }

}  // namespace

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  boost::system::error_code ec;
  const net::ip::address address = net::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

// What the server and its sessions share; outlives the server while
// handlers still hold it.
struct DashboardServer::Shared {
  ViewSource* source = nullptr;
  Options options;
  bool requires_token = false;
  std::string url;

  std::mutex mu;
  std::condition_variable idle;
  bool stopped = false;  // guarded by mu
  int active = 0;        // handlers using `source` (guarded by mu)
  std::vector<std::weak_ptr<Session>> sessions;  // guarded by mu
  size_t open_sessions = 0;                      // guarded by mu

  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> refused{0};
  std::atomic<uint64_t> streams{0};

  // Whether `source` may be used now (then Exit() after); false once the
  // server is stopping.
  bool Enter() {
    std::lock_guard<std::mutex> lock(mu);
    if (stopped) return false;
    ++active;
    return true;
  }
  void Exit() {
    std::lock_guard<std::mutex> lock(mu);
    if (--active == 0) idle.notify_all();
  }
  ServerCounts Counts() const {
    return ServerCounts{streams.load(), requests.load(), refused.load()};
  }
};

class DashboardServer::Session
    : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<Shared> shared)
      : stream_(std::move(socket)),
        timer_(stream_.get_executor()),
        shared_(std::move(shared)) {}

  ~Session() {
    std::lock_guard<std::mutex> lock(shared_->mu);
    --shared_->open_sessions;
  }

  void Start() {
    net::dispatch(stream_.get_executor(),
                  [self = shared_from_this()] { self->ReadRequest(); });
  }

  // From any thread.
  void Close() {
    net::post(stream_.get_executor(),
              [self = shared_from_this()] { self->DoClose(); });
  }

 private:
  using Request = http::request<http::string_body>;
  using Response = http::response<http::string_body>;

  void ReadRequest() {
    if (closed_) return;
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(kBodyLimit);
    stream_.expires_after(kRequestTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec,
                                                 size_t) {
                       if (ec) {
                         self->DoClose();
                       } else {
                         self->Handle(self->parser_->release());
                       }
                     });
  }

  void Handle(Request request) {
    shared_->requests.fetch_add(1);
    const std::string_view target = ToView(request.target());
    const size_t question = target.find('?');
    const std::string_view path = target.substr(0, question);
    const std::string_view query = question == std::string_view::npos
                                       ? std::string_view()
                                       : target.substr(question + 1);
    bool set_cookie = false;
    if (!Authorized(request, query, &set_cookie)) {
      shared_->refused.fetch_add(1);
      Respond(request, http::status::unauthorized, "text/plain; charset=utf-8",
              absl::StrCat(
                  "weft dashboard: this scheduler's dashboard listens beyond "
                  "loopback and answers only requests with the cluster "
                  "token. Open ",
                  shared_->url,
                  "?token=TOKEN in a browser, or send the header "
                  "'Authorization: Bearer TOKEN'; the token is in the "
                  "scheduler's token file (~/.weft/token by default).\n"),
              false);
      return;
    }
    if (request.method() != http::verb::get) {
      Respond(request, http::status::method_not_allowed,
              "text/plain; charset=utf-8", "weft dashboard: GET only\n",
              set_cookie);
      return;
    }
    if (path == "/" || path == "/index.html") {
      Respond(request, http::status::ok, "text/html; charset=utf-8",
              DashboardPage(), set_cookie);
    } else if (path == "/events") {
      StartEvents(set_cookie);
    } else if (path == "/status.json") {
      std::optional<std::string> json = Update(status_cursor_);
      if (!json.has_value()) return DoClose();
      Respond(request, http::status::ok, "application/json", *std::move(json),
              set_cookie);
    } else if (path == "/metrics") {
      std::optional<std::string> text = Metrics();
      if (!text.has_value()) return DoClose();
      Respond(request, http::status::ok, kMetricsContentType,
              *std::move(text), set_cookie);
    } else if (path == "/health") {
      Respond(request, http::status::ok, "text/plain; charset=utf-8", "ok\n",
              set_cookie);
    } else {
      Respond(request, http::status::not_found, "text/plain; charset=utf-8",
              "weft dashboard: no such page\n", set_cookie);
    }
  }

  bool Authorized(const Request& request, std::string_view query,
                  bool* set_cookie) const {
    if (!shared_->requires_token) return true;
    const std::string& token = shared_->options.token;
    if (auto it = request.find(http::field::authorization);
        it != request.end()) {
      std::string_view value = ToView(it->value());
      constexpr std::string_view kBearer = "Bearer ";
      if (value.substr(0, kBearer.size()) == kBearer &&
          SameSecret(value.substr(kBearer.size()), token)) {
        return true;
      }
    }
    for (auto it = request.find(http::field::cookie);
         it != request.end() && it->name() == http::field::cookie; ++it) {
      std::optional<std::string_view> value =
          CookieValue(ToView(it->value()), kCookie);
      if (value.has_value() && SameSecret(*value, token)) return true;
    }
    if (std::optional<std::string> value = QueryParam(query, "token");
        value.has_value() && SameSecret(*value, token)) {
      *set_cookie = true;
      return true;
    }
    return false;
  }

  void SetCommonHeaders(Response& response, bool set_cookie) const {
    response.set(http::field::server, "weft");
    response.set(http::field::cache_control, "no-store");
    response.set("X-Content-Type-Options", "nosniff");
    // Nothing on the page may come from anywhere else.
    response.set("Content-Security-Policy",
                 "default-src 'self'; script-src 'unsafe-inline'; "
                 "style-src 'unsafe-inline'; img-src 'self' data:; "
                 "connect-src 'self'");
    if (set_cookie) {
      response.set(http::field::set_cookie,
                   absl::StrCat(kCookie, "=", shared_->options.token,
                                "; Path=/; HttpOnly; SameSite=Strict"));
    }
  }

  void Respond(const Request& request, http::status status,
               std::string_view content_type, std::string body,
               bool set_cookie) {
    auto response = std::make_shared<Response>(status, request.version());
    SetCommonHeaders(*response, set_cookie);
    response->set(http::field::content_type,
                  beast::string_view(content_type.data(), content_type.size()));
    response->keep_alive(request.keep_alive() &&
                         status != http::status::unauthorized);
    response->body() = std::move(body);
    response->prepare_payload();
    http::async_write(stream_, *response,
                      [self = shared_from_this(), response](
                          beast::error_code ec, size_t) {
                        if (ec || !response->keep_alive()) {
                          self->DoClose();
                        } else {
                          self->ReadRequest();
                        }
                      });
  }

  // One update, from this session's cursor; nullopt if the server stops.
  std::optional<std::string> Update(EventCursor& cursor) {
    if (!shared_->Enter()) return std::nullopt;
    std::string json;
    {
      ClusterView view = shared_->source->View(shared_->options.graph_nodes);
      json = UpdateJson(view, shared_->source->telemetry(), cursor,
                        shared_->options.max_events_per_update, absl::Now());
    }
    shared_->Exit();
    return json;
  }

  std::optional<std::string> Metrics() {
    if (!shared_->Enter()) return std::nullopt;
    std::string text;
    {
      ClusterView view = shared_->source->View(0);
      text = MetricsText(view, shared_->source->telemetry(), shared_->Counts(),
                         absl::Now());
    }
    shared_->Exit();
    return text;
  }

  // Server-sent events: the header, then an update every interval until
  // the page goes away.
  void StartEvents(bool set_cookie) {
    streaming_ = true;
    shared_->streams.fetch_add(1);
    stream_.expires_never();
    out_ = absl::StrCat(
        "HTTP/1.1 200 OK\r\n"
        "Server: weft\r\n"
        "Content-Type: text/event-stream\r\n"
        "Cache-Control: no-store\r\n"
        "Connection: close\r\n",
        set_cookie ? absl::StrCat("Set-Cookie: ", kCookie, "=",
                                  shared_->options.token,
                                  "; Path=/; HttpOnly; SameSite=Strict\r\n")
                   : "",
        "\r\n"
        "retry: 1000\n\n");
    net::async_write(stream_, net::buffer(out_),
                     [self = shared_from_this()](beast::error_code ec,
                                                 size_t) {
                       if (ec) return self->DoClose();
                       self->WatchForClose();
                       self->SendUpdate();
                     });
  }

  void SendUpdate() {
    if (closed_) return;
    std::optional<std::string> json = Update(stream_cursor_);
    if (!json.has_value()) return DoClose();
    out_ = absl::StrCat("data: ", *json, "\n\n");
    net::async_write(
        stream_, net::buffer(out_),
        [self = shared_from_this()](beast::error_code ec, size_t) {
          if (ec) return self->DoClose();
          self->timer_.expires_after(absl::ToChronoMilliseconds(
              self->shared_->options.update_interval));
          self->timer_.async_wait([self](beast::error_code ec) {
            if (!ec) self->SendUpdate();
          });
        });
  }

  // A page sends nothing on its event stream: a read ends when it closes.
  void WatchForClose() {
    stream_.async_read_some(
        net::buffer(discard_),
        [self = shared_from_this()](beast::error_code ec, size_t) {
          if (ec) return self->DoClose();
          self->WatchForClose();
        });
  }

  void DoClose() {
    if (closed_) return;
    closed_ = true;
    if (streaming_) shared_->streams.fetch_sub(1);
    timer_.cancel();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  net::steady_timer timer_;
  const std::shared_ptr<Shared> shared_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string out_;  // the event-stream text being written
  char discard_[512];
  EventCursor stream_cursor_;
  EventCursor status_cursor_;
  bool streaming_ = false;
  bool closed_ = false;
};

class DashboardServer::Listener
    : public std::enable_shared_from_this<Listener> {
 public:
  Listener(net::io_context& context, std::shared_ptr<Shared> shared)
      : context_(context),
        acceptor_(net::make_strand(context)),
        retry_(acceptor_.get_executor()),
        shared_(std::move(shared)) {}

  // Binds and listens (before any handler runs).
  boost::system::error_code Listen(const tcp::endpoint& endpoint) {
    boost::system::error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (ec) return ec;
    // Lets a restarted scheduler take its port while old connections
    // linger in TIME_WAIT; on Linux it never lets two listeners share it.
    acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
    }
    return ec;
  }

  int port() const { return acceptor_.local_endpoint().port(); }

  void Accept() {
    acceptor_.async_accept(
        net::make_strand(context_),
        [self = shared_from_this()](boost::system::error_code ec,
                                    tcp::socket socket) {
          self->OnAccept(ec, std::move(socket));
        });
  }

  void Close() {
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      boost::system::error_code ec;
      self->acceptor_.close(ec);
      self->retry_.cancel();
    });
  }

 private:
  void OnAccept(boost::system::error_code ec, tcp::socket socket) {
    if (!acceptor_.is_open()) return;
    if (ec) {
      // Out of descriptors, or the like: try again in a moment rather
      // than spin.
      retry_.expires_after(std::chrono::milliseconds(100));
      retry_.async_wait([self = shared_from_this()](
                            boost::system::error_code ec) {
        if (!ec && self->acceptor_.is_open()) self->Accept();
      });
      return;
    }
    std::shared_ptr<Session> session;
    {
      std::lock_guard<std::mutex> lock(shared_->mu);
      if (!shared_->stopped &&
          shared_->open_sessions < shared_->options.max_connections) {
        ++shared_->open_sessions;
        session = std::make_shared<Session>(std::move(socket), shared_);
        auto& list = shared_->sessions;
        if (list.size() >= 2 * shared_->open_sessions + 16) {
          std::erase_if(list, [](const std::weak_ptr<Session>& s) {
            return s.expired();
          });
        }
        list.push_back(session);
      }
    }
    if (session != nullptr) {
      session->Start();
    } else {
      boost::system::error_code ignored;
      socket.close(ignored);
    }
    Accept();
  }

  net::io_context& context_;
  tcp::acceptor acceptor_;
  net::steady_timer retry_;
  const std::shared_ptr<Shared> shared_;
};

absl::StatusOr<std::unique_ptr<DashboardServer>> DashboardServer::Start(
    rpc::EventLoop& loop, ViewSource& source, Options options) {
  const bool requires_token = !IsLoopbackHost(options.host);
  if (requires_token && options.token.empty()) {
    return absl::InvalidArgumentError(
        "weft: a dashboard listening beyond loopback needs the cluster token");
  }
  net::io_context& context = loop.context();
  tcp::resolver resolver(context);
  boost::system::error_code ec;
  auto endpoints = resolver.resolve(options.host, "0", ec);
  if (ec || endpoints.empty()) {
    return absl::UnavailableError(
        absl::StrCat("weft: the dashboard cannot listen on ", options.host,
                     ": ", ec ? ec.message() : "no address"));
  }
  tcp::endpoint endpoint = endpoints.begin()->endpoint();
  auto shared = std::make_shared<Shared>();
  shared->source = &source;
  shared->requires_token = requires_token;
  auto listener = std::make_shared<Listener>(context, shared);
  endpoint.port(static_cast<uint16_t>(options.port));
  ec = listener->Listen(endpoint);
  if (ec == net::error::address_in_use && options.fall_back_to_any_port &&
      options.port != 0) {
    endpoint.port(0);
    ec = listener->Listen(endpoint);
    if (!ec) {
      std::fprintf(stderr,
                   "weft: port %d is in use (another cluster's dashboard?); "
                   "serving the dashboard on port %d instead\n",
                   options.port, listener->port());
    }
  }
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("weft: the dashboard cannot listen on ", options.host,
                     ":", options.port, ": ", ec.message()));
  }
  std::unique_ptr<DashboardServer> server(new DashboardServer);
  server->port_ = listener->port();
  std::string host = options.host;
  if (endpoint.address().is_unspecified()) {
    char name[256] = {0};
    host = ::gethostname(name, sizeof(name) - 1) == 0 ? name : "localhost";
  } else if (endpoint.address().is_v6() && host.find(':') != std::string::npos &&
             host.front() != '[') {
    host = absl::StrCat("[", host, "]");
  }
  server->url_ = absl::StrCat("http://", host, ":", server->port_, "/");
  server->requires_token_ = requires_token;
  shared->options = std::move(options);
  shared->url = server->url_;
  server->shared_ = shared;
  server->listener_ = listener;
  listener->Accept();
  return server;
}

DashboardServer::~DashboardServer() {
  std::vector<std::shared_ptr<Session>> sessions;
  {
    std::unique_lock<std::mutex> lock(shared_->mu);
    shared_->stopped = true;
    shared_->idle.wait(lock, [&] { return shared_->active == 0; });
    for (auto& weak : shared_->sessions) {
      if (auto s = weak.lock()) sessions.push_back(std::move(s));
    }
    shared_->sessions.clear();
  }
  listener_->Close();
  for (auto& s : sessions) s->Close();
}

ServerCounts DashboardServer::counts() const { return shared_->Counts(); }

}  // namespace weft::dashboard
