// Copyright 2026 The weft Authors.

#include "scheduler/dashboard/http_client.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/read.hpp"
#include "boost/asio/streambuf.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/http.hpp"

namespace weft::dashboard {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Connects `stream` to host:port within `timeout` from now, running
// `context`. Returns that deadline, which stays the stream's expiry.
absl::StatusOr<std::chrono::steady_clock::time_point> Connect(
    net::io_context& context, beast::tcp_stream& stream,
    const std::string& host, int port, absl::Duration timeout) {
  const auto deadline =
      std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(timeout);
  tcp::resolver resolver(context);
  boost::system::error_code ec;
  auto endpoints = resolver.resolve(host, std::to_string(port), ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot resolve ", host, ": ", ec.message()));
  }
  stream.expires_at(deadline);
  std::optional<boost::system::error_code> result;
  stream.async_connect(endpoints,
                       [&](boost::system::error_code e, const tcp::endpoint&) {
                         result = e;
                       });
  context.run();
  context.restart();
  if (!result.has_value() || *result) {
    const bool timed_out = result.has_value() && *result == beast::error::timeout;
    const std::string why =
        result.has_value() ? result->message() : std::string("no answer");
    return timed_out ? absl::DeadlineExceededError(absl::StrCat(
                           "connecting to ", host, ":", port, " timed out"))
                     : absl::UnavailableError(absl::StrCat(
                           "cannot connect to ", host, ":", port, ": ", why));
  }
  return deadline;
}

http::request<http::empty_body> MakeRequest(const std::string& host, int port,
                                            const std::string& target,
                                            const HttpHeaders& headers) {
  http::request<http::empty_body> request(http::verb::get, target, 11);
  request.set(http::field::host, absl::StrCat(host, ":", port));
  request.set(http::field::user_agent, "weft");
  for (const auto& [name, value] : headers) request.set(name, value);
  return request;
}

absl::Status FromError(const boost::system::error_code& ec,
                       const std::string& what) {
  if (ec == beast::error::timeout) {
    return absl::DeadlineExceededError(absl::StrCat(what, ": timed out"));
  }
  if (ec == http::error::end_of_stream || ec == net::error::eof ||
      ec == net::error::connection_reset) {
    return absl::UnavailableError(absl::StrCat(what, ": ", ec.message()));
  }
  return absl::DataLossError(absl::StrCat(what, ": ", ec.message()));
}

}  // namespace

absl::StatusOr<HttpResponse> HttpGet(const std::string& host, int port,
                                     const std::string& target,
                                     const HttpHeaders& headers,
                                     absl::Duration timeout) {
  net::io_context context;
  beast::tcp_stream stream(context);
  if (absl::Status s = Connect(context, stream, host, port, timeout).status();
      !s.ok()) {
    return s;
  }
  auto request = MakeRequest(host, port, target, headers);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(256 << 20);
  boost::system::error_code failure;
  http::async_write(stream, request,
                    [&](boost::system::error_code ec, size_t) {
                      if (ec) {
                        failure = ec;
                        return;
                      }
                      http::async_read(stream, buffer, parser,
                                       [&](boost::system::error_code ec,
                                           size_t) { failure = ec; });
                    });
  context.run();
  if (failure) return FromError(failure, absl::StrCat("GET ", target));
  HttpResponse response;
  response.status = parser.get().result_int();
  for (const auto& field : parser.get()) {
    response.headers[Lower(std::string(field.name_string()))] =
        std::string(field.value());
  }
  response.body = std::move(parser.get().body());
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return response;
}

absl::StatusOr<Url> ParseUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an http:// URL: ", std::string(url)));
  }
  url.remove_prefix(kScheme.size());
  const size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  Url out;
  out.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  size_t colon = authority.rfind(':');
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError("unbalanced [ in URL");
    }
    out.host = std::string(authority.substr(1, close - 1));
    colon = authority.find(':', close);
  } else {
    out.host = std::string(authority.substr(0, colon));
  }
  if (colon != std::string_view::npos) {
    const std::string port(authority.substr(colon + 1));
    if (!absl::SimpleAtoi(port, &out.port) || out.port <= 0 ||
        out.port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("bad port in URL: ", port));
    }
  }
  if (out.host.empty()) return absl::InvalidArgumentError("no host in URL");
  return out;
}

absl::Status ReadEvents(const std::string& host, int port,
                        const std::string& target, const HttpHeaders& headers,
                        absl::Duration timeout,
                        const std::function<bool(std::string_view)>& on_event) {
  net::io_context context;
  beast::tcp_stream stream(context);
  const auto deadline = Connect(context, stream, host, port, timeout);
  if (!deadline.ok()) return deadline.status();
  stream.expires_at(*deadline);
  auto request = MakeRequest(host, port, target, headers);
  request.set(http::field::accept, "text/event-stream");
  beast::flat_buffer buffer;
  http::response_parser<http::empty_body> header;
  header.skip(true);  // the body is the stream; read it below
  boost::system::error_code failure;
  bool got_header = false;
  http::async_write(stream, request,
                    [&](boost::system::error_code ec, size_t) {
                      if (ec) {
                        failure = ec;
                        return;
                      }
                      http::async_read_header(
                          stream, buffer, header,
                          [&](boost::system::error_code ec, size_t) {
                            failure = ec;
                            got_header = !ec;
                          });
                    });
  context.run();
  context.restart();
  if (failure || !got_header) {
    return FromError(failure, absl::StrCat("GET ", target));
  }
  if (header.get().result_int() != 200) {
    return absl::FailedPreconditionError(absl::StrCat(
        "GET ", target, " answered ", header.get().result_int()));
  }
  // What followed the header, then the stream, split at blank lines.
  std::string pending(static_cast<const char*>(buffer.data().data()),
                      buffer.data().size());
  buffer.consume(buffer.size());
  char chunk[16384];
  while (true) {
    size_t end;
    while ((end = pending.find("\n\n")) != std::string::npos) {
      std::string data;
      std::string_view event(pending.data(), end);
      while (!event.empty()) {
        const size_t nl = event.find('\n');
        std::string_view line = event.substr(0, nl);
        if (line.substr(0, 5) == "data:") {
          line.remove_prefix(5);
          if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
          if (!data.empty()) data.push_back('\n');
          data.append(line);
        }
        if (nl == std::string_view::npos) break;
        event.remove_prefix(nl + 1);
      }
      pending.erase(0, end + 2);
      if (!data.empty() && !on_event(data)) return absl::OkStatus();
    }
    size_t got = 0;
    stream.async_read_some(net::buffer(chunk),
                           [&](boost::system::error_code ec, size_t n) {
                             failure = ec;
                             got = n;
                           });
    context.run();
    context.restart();
    if (failure) return FromError(failure, absl::StrCat("GET ", target));
    pending.append(chunk, got);
  }
}

}  // namespace weft::dashboard
