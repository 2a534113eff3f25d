// Copyright 2026 The weft Authors.

#include "tests/testing/headless_chromium.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core/buffers_to_string.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/websocket.hpp"

namespace weft::testing {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using nlohmann::json;

// A WebSocket to Chromium's DevTools, with a deadline on every operation
// (each runs the connection's own io_context until it completes).
class HeadlessChromium::Connection {
 public:
  Connection() : socket_(context_) {}

  absl::Status Open(const std::string& host, const std::string& port,
                    const std::string& path, absl::Time deadline) {
    tcp::resolver resolver(context_);
    boost::system::error_code ec;
    auto endpoints = resolver.resolve(host, port, ec);
    if (ec) return absl::UnavailableError(ec.message());
    beast::get_lowest_layer(socket_).expires_after(absl::ToChronoMilliseconds(
        std::max(absl::ZeroDuration(), deadline - absl::Now())));
    std::optional<boost::system::error_code> done;
    beast::get_lowest_layer(socket_).async_connect(
        endpoints, [&](boost::system::error_code e, const tcp::endpoint&) {
          done = e;
        });
    if (absl::Status s = Run(done, "connect"); !s.ok()) return s;
    beast::get_lowest_layer(socket_).expires_never();
    socket_.set_option(websocket::stream_base::timeout::suggested(
        beast::role_type::client));
    socket_.read_message_max(256 << 20);  // screenshots are large
    done.reset();
    socket_.async_handshake(host + ":" + port, path,
                            [&](boost::system::error_code e) { done = e; });
    return Run(done, "handshake", deadline);
  }

  absl::Status Send(const std::string& text, absl::Time deadline) {
    std::optional<boost::system::error_code> done;
    socket_.text(true);
    socket_.async_write(net::buffer(text),
                        [&](boost::system::error_code e, size_t) { done = e; });
    return Run(done, "write", deadline);
  }

  absl::StatusOr<std::string> Receive(absl::Time deadline) {
    buffer_.consume(buffer_.size());
    std::optional<boost::system::error_code> done;
    socket_.async_read(buffer_,
                       [&](boost::system::error_code e, size_t) { done = e; });
    if (absl::Status s = Run(done, "read", deadline); !s.ok()) return s;
    return beast::buffers_to_string(buffer_.data());
  }

 private:
  // Runs the context until `done` is set or `deadline` (then cancels, and
  // the connection is unusable).
  absl::Status Run(std::optional<boost::system::error_code>& done,
                   const char* what,
                   absl::Time deadline = absl::InfiniteFuture()) {
    context_.restart();
    const auto until = deadline == absl::InfiniteFuture()
                           ? std::chrono::steady_clock::now() +
                                 std::chrono::hours(1)
                           : std::chrono::steady_clock::now() +
                                 absl::ToChronoMilliseconds(
                                     std::max(absl::ZeroDuration(),
                                              deadline - absl::Now()));
    while (!done.has_value() && context_.run_one_until(until) > 0) {
    }
    if (!done.has_value()) {
      beast::get_lowest_layer(socket_).cancel();
      context_.restart();
      context_.run_for(std::chrono::seconds(1));
      return absl::DeadlineExceededError(
          absl::StrCat("DevTools ", what, " timed out"));
    }
    if (*done) {
      return absl::UnavailableError(
          absl::StrCat("DevTools ", what, ": ", done->message()));
    }
    return absl::OkStatus();
  }

  net::io_context context_;
  websocket::stream<beast::tcp_stream> socket_;
  beast::flat_buffer buffer_;
};

absl::StatusOr<std::string> HeadlessChromium::FindBinary() {
  const char* env = std::getenv("WEFT_CHROMIUM");
  const std::string path = env != nullptr && *env ? env : "/usr/bin/chromium";
  if (::access(path.c_str(), X_OK) != 0) {
    return absl::NotFoundError(absl::StrCat(
        "no Chromium at ", path,
        " (install Debian's chromium: tools/setup.sh does; or set "
        "WEFT_CHROMIUM)"));
  }
  return path;
}

absl::StatusOr<std::unique_ptr<HeadlessChromium>> HeadlessChromium::Start(
    const std::string& dir, int width, int height, absl::Duration timeout) {
  absl::StatusOr<std::string> binary = FindBinary();
  if (!binary.ok()) return binary.status();
  ::mkdir(dir.c_str(), 0700);
  const absl::Time deadline = absl::Now() + timeout;
  std::unique_ptr<HeadlessChromium> browser(new HeadlessChromium);
  absl::StatusOr<std::unique_ptr<HostProcess>> process = SpawnLocal(
      {*binary, "--headless=new", "--no-sandbox", "--disable-gpu",
       "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
       "--disable-extensions", "--disable-background-networking",
       "--disable-sync", "--disable-component-update", "--mute-audio",
       "--hide-scrollbars", "--remote-debugging-address=127.0.0.1",
       "--remote-debugging-port=0", absl::StrCat("--user-data-dir=", dir,
                                                 "/profile"),
       absl::StrCat("--window-size=", width, ",", height), "about:blank"},
      dir + "/chromium.log",
      {{"HOME", dir}, {"XDG_CONFIG_HOME", dir}, {"XDG_CACHE_HOME", dir}});
  if (!process.ok()) return process.status();
  browser->process_ = *std::move(process);
  constexpr std::string_view kListening = "DevTools listening on ws://";
  if (absl::Status s = browser->process_->WaitForOutput(
          kListening, std::max(absl::ZeroDuration(), deadline - absl::Now()));
      !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("Chromium did not start: ",
                                               s.message(), "\n",
                                               browser->Log()));
  }
  // "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID"
  const std::string log = browser->Log();
  const size_t at = log.find(kListening) + kListening.size();
  const size_t colon = log.find(':', at);
  const size_t slash = log.find('/', colon);
  const size_t end = log.find_first_of(" \r\n", slash);
  if (colon == std::string::npos || slash == std::string::npos) {
    return absl::InternalError(absl::StrCat("cannot read ", log));
  }
  const std::string host = log.substr(at, colon - at);
  const std::string port = log.substr(colon + 1, slash - colon - 1);
  const std::string path = log.substr(slash, end - slash);
  browser->connection_ = std::make_unique<Connection>();
  if (absl::Status s = browser->connection_->Open(host, port, path, deadline);
      !s.ok()) {
    return s;
  }
  const absl::Duration left = deadline - absl::Now();
  absl::StatusOr<json> target = browser->Call(
      "Target.createTarget", {{"url", "about:blank"}}, left, /*browser=*/true);
  if (!target.ok()) return target.status();
  absl::StatusOr<json> attached = browser->Call(
      "Target.attachToTarget",
      {{"targetId", (*target)["targetId"]}, {"flatten", true}},
      deadline - absl::Now(), /*browser=*/true);
  if (!attached.ok()) return attached.status();
  browser->session_ = (*attached)["sessionId"].get<std::string>();
  for (const auto& [method, params] :
       std::vector<std::pair<std::string, json>>{
           {"Page.enable", json::object()},
           {"Runtime.enable", json::object()},
           {"Emulation.setDeviceMetricsOverride",
            {{"width", width},
             {"height", height},
             {"deviceScaleFactor", 1},
             {"mobile", false}}}}) {
    absl::StatusOr<json> r = browser->Call(method, params,
                                           deadline - absl::Now());
    if (!r.ok()) return r.status();
  }
  return browser;
}

HeadlessChromium::~HeadlessChromium() {
  if (connection_ != nullptr) {
    (void)Call("Browser.close", json::object(), absl::Seconds(5),
               /*browser=*/true);
  }
  if (process_ != nullptr) {
    if (!process_->Wait(absl::Seconds(5)).ok()) process_->Kill();
    process_->Kill();  // the rest of its group, if any
  }
}

absl::StatusOr<json> HeadlessChromium::Call(const std::string& method,
                                            const json& params,
                                            absl::Duration timeout,
                                            bool browser) {
  const absl::Time deadline = absl::Now() + timeout;
  const int id = next_id_++;
  json message = {{"id", id}, {"method", method}, {"params", params}};
  if (!browser && !session_.empty()) message["sessionId"] = session_;
  if (absl::Status s = connection_->Send(message.dump(), deadline); !s.ok()) {
    return s;
  }
  while (true) {
    absl::StatusOr<std::string> text = connection_->Receive(deadline);
    if (!text.ok()) {
      return absl::Status(text.status().code(),
                          absl::StrCat(method, ": ", text.status().message()));
    }
    json reply = json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (reply.is_discarded() || !reply.contains("id") || reply["id"] != id) {
      continue;  // an event, or another call's late answer
    }
    if (reply.contains("error")) {
      return absl::InternalError(
          absl::StrCat(method, " failed: ", reply["error"].dump()));
    }
    return reply["result"];
  }
}

absl::Status HeadlessChromium::Open(const std::string& url,
                                    absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<json> navigated =
      Call("Page.navigate", {{"url", url}}, timeout);
  if (!navigated.ok()) return navigated.status();
  if (navigated->contains("errorText") &&
      !(*navigated)["errorText"].get<std::string>().empty()) {
    return absl::UnavailableError(
        absl::StrCat("opening ", url, ": ",
                     (*navigated)["errorText"].get<std::string>()));
  }
  return WaitFor("document.readyState === 'complete'",
                 deadline - absl::Now());
}

absl::StatusOr<json> HeadlessChromium::Evaluate(const std::string& expression,
                                                absl::Duration timeout) {
  absl::StatusOr<json> result = Call(
      "Runtime.evaluate",
      {{"expression", expression}, {"returnByValue", true},
       {"awaitPromise", true}},
      timeout);
  if (!result.ok()) return result.status();
  if (result->contains("exceptionDetails")) {
    return absl::InvalidArgumentError(absl::StrCat(
        expression, " threw: ", (*result)["exceptionDetails"].dump()));
  }
  const json& value = (*result)["result"];
  return value.contains("value") ? value["value"] : json();
}

absl::Status HeadlessChromium::WaitFor(const std::string& expression,
                                       absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  json last;
  while (true) {
    absl::StatusOr<json> value = Evaluate(
        expression, std::max(absl::Seconds(1), deadline - absl::Now()));
    if (!value.ok()) return value.status();
    if (value->is_boolean() && value->get<bool>()) return absl::OkStatus();
    last = *value;
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "still not true after ", absl::FormatDuration(timeout), ": ",
          expression, " (last: ", last.dump(), ")"));
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
}

absl::StatusOr<std::string> HeadlessChromium::Screenshot(
    absl::Duration timeout) {
  absl::StatusOr<json> shot = Call(
      "Page.captureScreenshot",
      {{"format", "png"}, {"captureBeyondViewport", true}}, timeout);
  if (!shot.ok()) return shot.status();
  std::string png;
  if (!absl::Base64Unescape((*shot)["data"].get<std::string>(), &png)) {
    return absl::DataLossError("the screenshot is not base64");
  }
  return png;
}

std::string HeadlessChromium::Log() const {
  return process_ != nullptr ? process_->Output() : "";
}

absl::StatusOr<std::string> KeepTestOutput(const std::string& name,
                                           const std::string& bytes) {
  const char* dir = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  if (dir == nullptr || *dir == '\0') dir = std::getenv("TEST_TMPDIR");
  if (dir == nullptr || *dir == '\0') dir = "/tmp";
  const std::string path = absl::StrCat(dir, "/", name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return path;
}

}  // namespace weft::testing
