// Copyright 2026 The weft Authors.

#include "scheduler/dashboard/http_server.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scheduler/dashboard/http_client.h"

namespace weft::dashboard {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A cluster of one worker whose telemetry the test feeds.
class FakeSource : public ViewSource {
 public:
  ClusterView View(size_t graph_nodes) override {
    ++views;
    ClusterView v;
    v.now_us = absl::ToUnixMicros(absl::Now());
    v.address = "127.0.0.1:9999";
    v.clients = 1;
    scheduler::SchedulerState::StateCounts counts{};
    counts[static_cast<int>(scheduler::TaskState::kProcessing)] = 2;
    v.counts.emplace_back("inc", counts);
    WorkerRow w;
    w.id = 1;
    w.address = "127.0.0.1:4242";
    w.nthreads = 2;
    w.processing = 3;
    w.executing = 2;
    v.workers.push_back(w);
    if (graph_nodes > 0) v.graph.emplace();
    return v;
  }
  const scheduler::Telemetry& telemetry() override { return telemetry_; }

  void Finish(int n) {
    std::vector<scheduler::TaskReport> runs;
    const int64_t now = absl::ToUnixMicros(absl::Now());
    for (int i = 0; i < n; ++i) {
      scheduler::TaskReport r;
      r.task = next_id_++;
      r.name = "inc";
      r.function = "inc";
      r.start_us = now - 100;
      r.end_us = now;
      runs.push_back(r);
    }
    telemetry_.RecordTasks(1, runs, absl::Now());
  }

  std::atomic<int> views{0};

 private:
  scheduler::Telemetry telemetry_;
  uint64_t next_id_ = 1;
};

class DashboardServerTest : public ::testing::Test {
 protected:
  std::unique_ptr<DashboardServer> Start(DashboardServer::Options options) {
    absl::StatusOr<std::unique_ptr<DashboardServer>> server =
        DashboardServer::Start(loop_, source_, std::move(options));
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? *std::move(server) : nullptr;
  }
  static DashboardServer::Options Loopback() {
    DashboardServer::Options o;
    o.port = 0;
    o.update_interval = absl::Milliseconds(50);
    return o;
  }

  rpc::EventLoop loop_{2, "dashtest"};
  FakeSource source_;
};

TEST_F(DashboardServerTest, ServesASelfContainedPage) {
  auto server = Start(Loopback());
  ASSERT_NE(server, nullptr);
  EXPECT_FALSE(server->requires_token());
  EXPECT_EQ(server->url(), absl::StrCat("http://127.0.0.1:", server->port(), "/"));
  absl::StatusOr<HttpResponse> page = HttpGet("127.0.0.1", server->port(), "/");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->headers["content-type"], "text/html; charset=utf-8");
  EXPECT_THAT(page->body, HasSubstr("<title>weft dashboard</title>"));
  // Scripts and styles are inside the page; nothing comes from elsewhere.
  EXPECT_THAT(page->body, HasSubstr("var weftStream"));
  EXPECT_THAT(page->body, HasSubstr("new EventSource(\"events\")"));
  EXPECT_THAT(page->body, Not(HasSubstr("<!--include:")));
  EXPECT_THAT(page->body, Not(HasSubstr(" src=")));
  EXPECT_THAT(page->body, Not(HasSubstr("<link")));
  EXPECT_THAT(page->body, Not(HasSubstr("https://")));
  EXPECT_THAT(page->headers["content-security-policy"],
              HasSubstr("default-src 'self'"));

  absl::StatusOr<HttpResponse> missing =
      HttpGet("127.0.0.1", server->port(), "/nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  absl::StatusOr<HttpResponse> health =
      HttpGet("127.0.0.1", server->port(), "/health");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->body, "ok\n");
}

TEST_F(DashboardServerTest, StatusAndMetrics) {
  auto server = Start(Loopback());
  ASSERT_NE(server, nullptr);
  source_.Finish(5);
  absl::StatusOr<HttpResponse> status =
      HttpGet("127.0.0.1", server->port(), "/status.json");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->headers["content-type"], "application/json");
  EXPECT_THAT(status->body, HasSubstr(R"("done":5)"));
  EXPECT_THAT(status->body, HasSubstr(R"("address":"127.0.0.1:4242")"));
  EXPECT_THAT(status->body, HasSubstr(R"(["inc-0000000000000005","inc",1,)"));
  EXPECT_THAT(status->body, HasSubstr(R"("graph":{"nodes":[],"edges":[]})"));

  absl::StatusOr<HttpResponse> metrics =
      HttpGet("127.0.0.1", server->port(), "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_EQ(metrics->headers["content-type"], kMetricsContentType);
  EXPECT_THAT(metrics->body,
              HasSubstr("weft_tasks_finished_total{function=\"inc\"} 5\n"));
  EXPECT_THAT(metrics->body,
              HasSubstr("weft_tasks{function=\"inc\",state=\"processing\"} 2\n"));
  EXPECT_THAT(metrics->body,
              HasSubstr("weft_worker_tasks_queued{worker=\"1\",address="
                        "\"127.0.0.1:4242\"} 1\n"));
  EXPECT_THAT(metrics->body,
              HasSubstr("weft_task_duration_seconds_bucket{function=\"inc\","
                        "le=\"0.0001\"} 5\n"));
  EXPECT_THAT(metrics->body,
              HasSubstr("weft_dashboard_requests_total 2\n"));
}

TEST_F(DashboardServerTest, EventsCarryNewTasksToThePage) {
  auto server = Start(Loopback());
  ASSERT_NE(server, nullptr);
  source_.Finish(3);
  std::vector<std::string> events;
  absl::Status s = ReadEvents(
      "127.0.0.1", server->port(), "/events", {}, absl::Seconds(30),
      [&](std::string_view data) {
        events.emplace_back(data);
        if (events.size() == 1) source_.Finish(4);
        return events.size() < 3;
      });
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(events.size(), 3u);
  EXPECT_THAT(events[0], HasSubstr(R"("done":3)"));
  EXPECT_THAT(events[0], HasSubstr("inc-0000000000000003"));
  // Later updates carry only what is new: the page's count grows.
  std::string later = events[1] + events[2];
  EXPECT_THAT(later, HasSubstr(R"("done":7)"));
  EXPECT_THAT(later, HasSubstr("inc-0000000000000007"));
  EXPECT_THAT(later, Not(HasSubstr("inc-0000000000000003")));
  EXPECT_EQ(server->counts().streams_open, 0u + server->counts().streams_open);
}

TEST_F(DashboardServerTest, BeyondLoopbackTheTokenIsRequired) {
  DashboardServer::Options o = Loopback();
  o.host = "0.0.0.0";
  o.token = "sesame";
  auto server = Start(o);
  ASSERT_NE(server, nullptr);
  EXPECT_TRUE(server->requires_token());
  const int port = server->port();
  for (const char* path : {"/", "/metrics", "/status.json", "/events"}) {
    absl::StatusOr<HttpResponse> refused = HttpGet("127.0.0.1", port, path);
    ASSERT_TRUE(refused.ok()) << refused.status();
    EXPECT_EQ(refused->status, 401) << path;
    EXPECT_THAT(refused->body, HasSubstr("?token=TOKEN")) << path;
    EXPECT_THAT(refused->body, Not(HasSubstr("sesame")));
  }
  absl::StatusOr<HttpResponse> wrong = HttpGet(
      "127.0.0.1", port, "/metrics", {{"Authorization", "Bearer sesamf"}});
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->status, 401);
  absl::StatusOr<HttpResponse> bearer = HttpGet(
      "127.0.0.1", port, "/metrics", {{"Authorization", "Bearer sesame"}});
  ASSERT_TRUE(bearer.ok());
  EXPECT_EQ(bearer->status, 200);
  EXPECT_EQ(bearer->headers.count("set-cookie"), 0u);
  // A browser's first visit: the token in the URL, answered with a cookie
  // its later requests (the event stream) carry.
  absl::StatusOr<HttpResponse> first =
      HttpGet("127.0.0.1", port, "/?token=sesame");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->status, 200);
  EXPECT_THAT(first->headers["set-cookie"], HasSubstr("weft_token=sesame"));
  EXPECT_THAT(first->headers["set-cookie"], HasSubstr("HttpOnly"));
  absl::StatusOr<HttpResponse> with_cookie = HttpGet(
      "127.0.0.1", port, "/status.json", {{"Cookie", "a=b; weft_token=sesame"}});
  ASSERT_TRUE(with_cookie.ok());
  EXPECT_EQ(with_cookie->status, 200);
  absl::Status events = ReadEvents(
      "127.0.0.1", port, "/events", {{"Cookie", "weft_token=sesame"}},
      absl::Seconds(30), [](std::string_view) { return false; });
  EXPECT_TRUE(events.ok()) << events;
  EXPECT_GE(server->counts().refused, 5u);
}

TEST_F(DashboardServerTest, NoTokenNoListeningBeyondLoopback) {
  DashboardServer::Options o = Loopback();
  o.host = "0.0.0.0";
  absl::StatusOr<std::unique_ptr<DashboardServer>> server =
      DashboardServer::Start(loop_, source_, o);
  EXPECT_TRUE(absl::IsInvalidArgument(server.status())) << server.status();
}

TEST_F(DashboardServerTest, ATakenPortIsAnErrorUnlessItMayFallBack) {
  auto first = Start(Loopback());
  ASSERT_NE(first, nullptr);
  DashboardServer::Options o = Loopback();
  o.port = first->port();
  absl::StatusOr<std::unique_ptr<DashboardServer>> second =
      DashboardServer::Start(loop_, source_, o);
  EXPECT_TRUE(absl::IsUnavailable(second.status())) << second.status();
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr(absl::StrCat("127.0.0.1:", first->port())));
  o.fall_back_to_any_port = true;
  auto third = Start(o);
  ASSERT_NE(third, nullptr);
  EXPECT_NE(third->port(), first->port());
}

TEST_F(DashboardServerTest, StoppingEndsOpenStreams) {
  auto server = Start(Loopback());
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  std::atomic<int> seen{0};
  absl::Status result;
  std::thread reader([&] {
    result = ReadEvents("127.0.0.1", port, "/events", {}, absl::Seconds(60),
                        [&](std::string_view) {
                          ++seen;
                          return true;
                        });
  });
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (seen.load() < 2 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_GE(seen.load(), 2);
  server.reset();  // returns once no handler reads the source
  const int views = source_.views.load();
  reader.join();
  EXPECT_TRUE(absl::IsUnavailable(result)) << result;
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(source_.views.load(), views);  // nothing read it afterwards
}

TEST(DashboardHostTest, Loopback) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("10.1.2.3"));
  EXPECT_FALSE(IsLoopbackHost("node7"));
}

TEST(HttpClientTest, ParsesUrls) {
  absl::StatusOr<Url> url = ParseUrl("http://node7:8787/metrics?x=1");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->host, "node7");
  EXPECT_EQ(url->port, 8787);
  EXPECT_EQ(url->target, "/metrics?x=1");
  url = ParseUrl("http://[::1]:99");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->target, "/");
  EXPECT_FALSE(ParseUrl("https://x/").ok());
  EXPECT_FALSE(ParseUrl("http://x:70000/").ok());
}

}  // namespace
}  // namespace weft::dashboard
