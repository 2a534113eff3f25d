// Copyright 2026 The weft Authors.
//
// The dashboard, /metrics and the performance report (docs/dashboard.md)
// checked by their real consumers, against a LocalCluster running tasks:
//  - Prometheus's `promtool check metrics` on /metrics;
//  - a Prometheus server (Debian's `prometheus`) that scrapes the cluster;
//  - Debian's Chromium, headless, loading the dashboard (it shows the
//    workers and a growing task count) and a report file; the screenshots
//    are kept among the test's outputs (bazel-testlogs/tests/
//    observability_test/test.outputs/).
// A test whose program is missing skips, saying what to install
// (tools/setup.sh installs them all).

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "scheduler/dashboard/http_client.h"
#include "tests/suite_tasks.h"
#include "tests/testing/headless_chromium.h"
#include "tests/testing/ports.h"
#include "tests/testing/test_hosts.h"
#include "weft/weft.h"

namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using weft::dashboard::HttpGet;
using weft::testing::HeadlessChromium;
using weft::testing::HostProcess;
using weft::testing::KeepTestOutput;
using weft::testing::SpawnLocal;


bool Executable(const std::string& path) {
  return ::access(path.c_str(), X_OK) == 0;
}

// One LocalCluster of 2 workers for every test, its dashboard on any free
// port.
class ObservabilityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    weft::LocalCluster::Options options;
    options.workers = 2;
    options.threads_per_worker = 2;
    options.dashboard_port = 0;
    cluster_ = new weft::LocalCluster(options);
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = std::string(tmp != nullptr ? tmp : "/tmp") + "/obs-XXXXXX";
    ASSERT_NE(::mkdtemp(dir_.data()), nullptr);
    absl::StatusOr<weft::dashboard::Url> url =
        weft::dashboard::ParseUrl(cluster_->dashboard_link());
    ASSERT_TRUE(url.ok()) << cluster_->dashboard_link();
    dashboard_ = *url;
  }

  // Runs `n` tasks of a few kinds (one fails) and waits for them.
  static void RunSome(int n) {
    weft::Client client = cluster_->client();
    std::vector<weft::ObjectRef<double>> squares;
    for (int i = 0; i < n; ++i) squares.push_back(client.remote(suite::Square)(i));
    std::vector<weft::ObjectRef<int>> sleeps;
    for (int i = 0; i < 4; ++i) {
      sleeps.push_back(client.remote(suite::SleepThen)(5, i));
    }
    weft::ObjectRef<int> rejected =
        client.remote(suite::Reject)(std::string("as planned"));
    client.get(squares, 60s);
    client.get(sleeps, 60s);
    EXPECT_THROW(client.get(rejected, 60s), weft::TaskError);
  }

  absl::StatusOr<weft::dashboard::HttpResponse> Get(const std::string& path) {
    return HttpGet(dashboard_.host, dashboard_.port, path);
  }

  static inline weft::LocalCluster* cluster_ = nullptr;
  std::string dir_;
  weft::dashboard::Url dashboard_;
};

// --- Prometheus ---------------------------------------------------------------

TEST_F(ObservabilityTest, PromtoolAcceptsTheMetrics) {
  if (!Executable("/usr/bin/promtool")) {
    GTEST_SKIP() << "no /usr/bin/promtool: install Debian's prometheus "
                    "(tools/setup.sh does)";
  }
  RunSome(20);
  absl::StatusOr<weft::dashboard::HttpResponse> metrics = Get("/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  ASSERT_EQ(metrics->status, 200);
  EXPECT_THAT(metrics->headers["content-type"], HasSubstr("text/plain"));
  EXPECT_THAT(metrics->body, HasSubstr("weft_workers 2"));
  const std::string file = dir_ + "/metrics.txt";
  std::ofstream(file) << metrics->body;
  auto check = SpawnLocal(
      {"/bin/sh", "-c", "exec /usr/bin/promtool check metrics < " + file},
      dir_ + "/promtool.log");
  ASSERT_TRUE(check.ok()) << check.status();
  const absl::StatusOr<int> code = (*check)->Wait(absl::Seconds(60));
  ASSERT_TRUE(code.ok()) << code.status();
  // promtool says nothing and exits 0 when the text parses and passes its
  // lint (names, units, _total counters, help texts).
  EXPECT_EQ(*code, 0) << (*check)->Output() << "\n" << metrics->body;
  EXPECT_EQ((*check)->Output(), "");
}

// The value of the first series of an instant query's answer, or "".
std::string QueryValue(int port, const std::string& query) {
  std::string escaped;
  for (unsigned char c : query) {
    if (std::isalnum(c) || c == '_') {
      escaped += static_cast<char>(c);
    } else {
      escaped += absl::StrCat("%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  absl::StatusOr<weft::dashboard::HttpResponse> r =
      HttpGet("127.0.0.1", port, "/api/v1/query?query=" + escaped);
  if (!r.ok() || r->status != 200) return "";
  nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
  if (!j.is_object() || j["status"] != "success") return "";
  const auto& result = j["data"]["result"];
  if (!result.is_array() || result.empty()) return "";
  return result[0]["value"][1].get<std::string>();
}

TEST_F(ObservabilityTest, PrometheusScrapesTheCluster) {
  if (!Executable("/usr/bin/prometheus")) {
    GTEST_SKIP() << "no /usr/bin/prometheus: install Debian's prometheus "
                    "(tools/setup.sh does)";
  }
  RunSome(20);
  const std::string config = dir_ + "/prometheus.yml";
  std::ofstream(config) << "global:\n"
                        << "  scrape_interval: 1s\n"
                        << "scrape_configs:\n"
                        << "  - job_name: weft\n"
                        << "    static_configs:\n"
                        << "      - targets: ['" << dashboard_.host << ":"
                        << dashboard_.port << "']\n";
  const int port = weft::testing::UnusedPort();
  auto prometheus = SpawnLocal(
      {"/usr/bin/prometheus", "--config.file=" + config,
       "--storage.tsdb.path=" + dir_ + "/data",
       absl::StrCat("--web.listen-address=127.0.0.1:", port)},
      dir_ + "/prometheus.log", {{"HOME", dir_}});
  ASSERT_TRUE(prometheus.ok()) << prometheus.status();
  // Scraped once with success (up == 1) and the cluster's series stored.
  std::string up, workers, finished, failed;
  const absl::Time deadline = absl::Now() + absl::Seconds(45);
  while (absl::Now() < deadline) {
    up = QueryValue(port, "up{job=\"weft\"}");
    workers = QueryValue(port, "weft_workers");
    finished = QueryValue(port, "sum(weft_tasks_finished_total)");
    failed = QueryValue(port, "sum(weft_tasks_failed_total)");
    if (up == "1" && !workers.empty() && !finished.empty() && !failed.empty()) {
      break;
    }
    ASSERT_EQ((*prometheus)->Poll(), std::nullopt) << (*prometheus)->Output();
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_EQ(up, "1") << (*prometheus)->Output();
  EXPECT_EQ(workers, "2");
  ASSERT_FALSE(finished.empty());
  EXPECT_GE(std::stod(finished), 25);  // RunSome's 20 + 4 + 1 at least
  ASSERT_FALSE(failed.empty());
  EXPECT_GE(std::stod(failed), 1);
  // Its own view of the target: healthy, no scrape error.
  absl::StatusOr<weft::dashboard::HttpResponse> targets =
      HttpGet("127.0.0.1", port, "/api/v1/targets");
  ASSERT_TRUE(targets.ok()) << targets.status();
  nlohmann::json t = nlohmann::json::parse(targets->body, nullptr, false);
  ASSERT_TRUE(t.is_object()) << targets->body;
  ASSERT_EQ(t["data"]["activeTargets"].size(), 1u) << targets->body;
  EXPECT_EQ(t["data"]["activeTargets"][0]["health"], "up") << targets->body;
  EXPECT_EQ(t["data"]["activeTargets"][0]["lastError"], "") << targets->body;
  (*prometheus)->Kill();
}

// --- Chromium -----------------------------------------------------------------

// The dashboard's count of finished tasks (shown as "1,234").
constexpr char kShownNumber[] =
    "Number((document.getElementById('tasks-done').textContent || '')"
    ".replace(/,/g, ''))";

// The task stream's canvas has bars (taskstream.js keeps their boxes).
constexpr char kStreamBars[] =
    "(document.getElementById('task-stream')._weftBoxes || []).length > 0";

TEST_F(ObservabilityTest, BrowserShowsTheWorkersAndAGrowingTaskCount) {
  if (absl::StatusOr<std::string> b = HeadlessChromium::FindBinary(); !b.ok()) {
    GTEST_SKIP() << b.status().message();
  }
  // Tasks keep running while the page watches.
  std::atomic<bool> stop{false};
  std::thread load([&] {
    weft::Client client = cluster_->client();
    for (int round = 0; !stop.load() && round < 2000; ++round) {
      std::vector<weft::ObjectRef<int>> batch;
      for (int i = 0; i < 8; ++i) {
        batch.push_back(client.remote(suite::SleepThen)(10, round * 8 + i));
      }
      client.get(batch, 60s);
    }
  });
  struct Join {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~Join() {
      stop = true;
      thread.join();
    }
  } join{stop, load};

  auto browser = HeadlessChromium::Start(dir_ + "/chromium");
  ASSERT_TRUE(browser.ok()) << browser.status();
  ASSERT_TRUE((*browser)->Open(cluster_->dashboard_link()).ok())
      << (*browser)->Log();
  // Live updates arrive, and the workers table lists both workers.
  absl::Status shown = (*browser)->WaitFor(
      "Number(document.body.dataset.updates || 0) >= 1 && "
      "document.querySelectorAll('#workers tr.worker-row').length == 2",
      absl::Seconds(30));
  ASSERT_TRUE(shown.ok()) << shown << "\n" << (*browser)->Log();
  absl::StatusOr<nlohmann::json> count =
      (*browser)->Evaluate("document.getElementById('worker-count').textContent");
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, "2");
  absl::StatusOr<nlohmann::json> first = (*browser)->Evaluate(kShownNumber);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(first->is_number()) << first->dump();
  // The count grows as tasks finish (updates come about every second).
  const double before = first->get<double>();
  absl::Status grew = (*browser)->WaitFor(
      absl::StrCat(kShownNumber, " > ", before), absl::Seconds(30));
  EXPECT_TRUE(grew.ok()) << grew;
  // The task stream drew bars on its canvas.
  EXPECT_TRUE((*browser)->WaitFor(kStreamBars, absl::Seconds(30)).ok());
  absl::StatusOr<std::string> png = (*browser)->Screenshot();
  ASSERT_TRUE(png.ok()) << png.status();
  EXPECT_EQ(png->substr(1, 3), "PNG");
  absl::StatusOr<std::string> kept = KeepTestOutput("dashboard.png", *png);
  EXPECT_TRUE(kept.ok()) << kept.status();
}

TEST_F(ObservabilityTest, BrowserRendersAPerformanceReport) {
  if (absl::StatusOr<std::string> b = HeadlessChromium::FindBinary(); !b.ok()) {
    GTEST_SKIP() << b.status().message();
  }
  const std::string report = dir_ + "/report.html";
  {
    weft::performance_report scope(report, cluster_->client());
    RunSome(40);
  }
  auto browser = HeadlessChromium::Start(dir_ + "/chromium");
  ASSERT_TRUE(browser.ok()) << browser.status();
  ASSERT_TRUE((*browser)->Open("file://" + report).ok()) << (*browser)->Log();
  absl::Status rendered = (*browser)->WaitFor(
      "document.body.dataset.rendered === '1'", absl::Seconds(30));
  ASSERT_TRUE(rendered.ok()) << rendered << "\n" << (*browser)->Log();
  EXPECT_TRUE((*browser)->WaitFor(kStreamBars, absl::Seconds(5)).ok());
  // Time per function: a row for each function that ran, with its count.
  absl::StatusOr<nlohmann::json> functions = (*browser)->Evaluate(
      "Array.from(document.querySelectorAll('#functions tr[data-function]'))"
      ".map(function (tr) { return tr.dataset.function; })");
  ASSERT_TRUE(functions.ok()) << functions.status();
  std::string names = functions->dump();
  EXPECT_THAT(names, HasSubstr("Square"));
  EXPECT_THAT(names, HasSubstr("SleepThen"));
  EXPECT_THAT(names, HasSubstr("Reject"));
  absl::StatusOr<nlohmann::json> failures = (*browser)->Evaluate(
      "document.getElementById('failures').textContent");
  ASSERT_TRUE(failures.ok()) << failures.status();
  EXPECT_THAT(failures->get<std::string>(), HasSubstr("as planned"));
  absl::StatusOr<std::string> png = (*browser)->Screenshot();
  ASSERT_TRUE(png.ok()) << png.status();
  EXPECT_EQ(png->substr(1, 3), "PNG");
  absl::StatusOr<std::string> kept = KeepTestOutput("report.png", *png);
  EXPECT_TRUE(kept.ok()) << kept.status();
}

}  // namespace
