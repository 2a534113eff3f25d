// Copyright 2026 The weft Authors.
//
// HeadlessChromium: Debian's Chromium without a screen, driven over the
// Chrome DevTools Protocol (a WebSocket), for tests of web pages in a real
// browser: open a URL, evaluate JavaScript in the page, wait for a
// condition, take a screenshot.
//
//   auto browser = HeadlessChromium::Start(dir);   // NotFound: no chromium
//   ASSERT_TRUE((*browser)->Open("http://127.0.0.1:8787/").ok());
//   ASSERT_TRUE((*browser)->WaitFor("document.body.dataset.updates > 2",
//                                   absl::Seconds(30)).ok());
//   absl::StatusOr<nlohmann::json> done =
//       (*browser)->Evaluate("document.getElementById('tasks-done').textContent");
//   absl::StatusOr<std::string> png = (*browser)->Screenshot();
//
// The browser runs as a process group of its own with a private profile in
// the directory given; destroying the handle closes it, kills the group and
// reaps it. As root (CI), Chromium's sandbox cannot run: --no-sandbox.
//
// Thread-safety: use a HeadlessChromium from one thread at a time.

#ifndef WEFT_TESTS_TESTING_HEADLESS_CHROMIUM_H_
#define WEFT_TESTS_TESTING_HEADLESS_CHROMIUM_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "tests/testing/test_hosts.h"

namespace weft::testing {

class HeadlessChromium {
 public:
  // The Chromium binary: $WEFT_CHROMIUM, else /usr/bin/chromium. Errors:
  // NotFound, saying what to install.
  static absl::StatusOr<std::string> FindBinary();

  // Starts Chromium with its profile and log in `dir` (created if needed)
  // and a window of width x height CSS pixels, and connects to it. Errors:
  // NotFound (no Chromium), DeadlineExceeded (it did not say where its
  // DevTools listen within `timeout`; the message holds its log),
  // Unavailable (cannot connect).
  static absl::StatusOr<std::unique_ptr<HeadlessChromium>> Start(
      const std::string& dir, int width = 1400, int height = 1000,
      absl::Duration timeout = absl::Seconds(60));

  ~HeadlessChromium();
  HeadlessChromium(const HeadlessChromium&) = delete;
  HeadlessChromium& operator=(const HeadlessChromium&) = delete;

  // Navigates the page to `url` and waits until the document has loaded.
  // Errors: those of the protocol; DeadlineExceeded; Unavailable (the
  // navigation failed, e.g. nothing listens there).
  absl::Status Open(const std::string& url,
                    absl::Duration timeout = absl::Seconds(30));

  // Evaluates `expression` in the page (awaiting a promise) and returns its
  // value. Errors: InvalidArgument with the exception if it throws;
  // DeadlineExceeded; Unavailable if the browser is gone.
  absl::StatusOr<nlohmann::json> Evaluate(
      const std::string& expression,
      absl::Duration timeout = absl::Seconds(30));

  // Evaluates `expression` every 100 ms until it is true. Errors:
  // DeadlineExceeded (with the last value), and those of Evaluate.
  absl::Status WaitFor(const std::string& expression, absl::Duration timeout);

  // A PNG of the whole page. Errors: those of the protocol.
  absl::StatusOr<std::string> Screenshot(
      absl::Duration timeout = absl::Seconds(30));

  // What Chromium wrote on its standard output and error.
  std::string Log() const;

 private:
  class Connection;
  HeadlessChromium() = default;

  // Sends `method` with `params` (to the page's session unless
  // `browser`), returns the result. Errors as Evaluate's.
  absl::StatusOr<nlohmann::json> Call(const std::string& method,
                                      const nlohmann::json& params,
                                      absl::Duration timeout,
                                      bool browser = false);

  std::unique_ptr<HostProcess> process_;
  std::unique_ptr<Connection> connection_;
  std::string session_;  // the page's DevTools session
  int next_id_ = 1;
};

// Saves `bytes` as `name` among the test's undeclared outputs
// ($TEST_UNDECLARED_OUTPUTS_DIR, which Bazel keeps in
// bazel-testlogs/.../test.outputs/), or under $TEST_TMPDIR outside Bazel.
// Returns the path written. Errors: Internal if it cannot be written.
absl::StatusOr<std::string> KeepTestOutput(const std::string& name,
                                           const std::string& bytes);

}  // namespace weft::testing

#endif  // WEFT_TESTS_TESTING_HEADLESS_CHROMIUM_H_
