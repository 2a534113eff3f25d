// Copyright 2026 The weft Authors.
//
// A small HTTP/1.1 client (Boost.Beast) for what reads the dashboard from
// code: the tests, the benchmark's stand-in for a browser, `weft status`.
// Plain HTTP only; every call has a deadline.

#ifndef WEFT_SCHEDULER_DASHBOARD_HTTP_CLIENT_H_
#define WEFT_SCHEDULER_DASHBOARD_HTTP_CLIENT_H_

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace weft::dashboard {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// GET http://host:port/target (target starts with '/'). Errors: Unavailable
// (cannot connect), DeadlineExceeded (no complete answer within
// `timeout`), DataLoss (not HTTP). Any status is an answer, not an error.
absl::StatusOr<HttpResponse> HttpGet(const std::string& host, int port,
                                     const std::string& target,
                                     const HttpHeaders& headers = {},
                                     absl::Duration timeout = absl::Seconds(10));

// Splits "http://host:port/path" into its parts. Errors: InvalidArgument.
struct Url {
  std::string host;
  int port = 80;
  std::string target = "/";
};
absl::StatusOr<Url> ParseUrl(std::string_view url);

// Opens the server-sent event stream at `target` and calls `on_event` with
// each event's data (its "data:" lines joined), until it returns false
// (then OkStatus), the stream ends or fails (Unavailable / DataLoss), or
// `timeout` passes (DeadlineExceeded). A status other than 200 is
// FailedPrecondition naming it.
absl::Status ReadEvents(const std::string& host, int port,
                        const std::string& target, const HttpHeaders& headers,
                        absl::Duration timeout,
                        const std::function<bool(std::string_view)>& on_event);

}  // namespace weft::dashboard

#endif  // WEFT_SCHEDULER_DASHBOARD_HTTP_CLIENT_H_
