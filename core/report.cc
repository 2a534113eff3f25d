// Copyright 2026 The weft Authors.
//
// weft::performance_report and weft::trace: a recording of a runtime's
// task events (Runtime::OpenEvents), written as a file when it closes.

#include "weft/report.h"

#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "scheduler/dashboard/report.h"
#include "weft/errors.h"

namespace weft {
namespace internal {

// Reads a runtime's events while it lives (every kPollInterval, so that a
// scheduler's ring is read before it overwrites them) and writes the file.
class Recording {
 public:
  enum class Format { kHtmlReport, kChromeTrace };
  static constexpr auto kPollInterval = std::chrono::milliseconds(250);

  Recording(std::string path, const Client& client, Format format)
      : path_(std::move(path)), client_(client), format_(format) {
    absl::StatusOr<std::unique_ptr<EventReader>> reader =
        internal::ClientImpl::Of(client_)->runtime().OpenEvents();
    if (!reader.ok()) {
      throw UsageError(absl::StrCat("weft: cannot record task events for ",
                                    path_, ": ", reader.status().message()));
    }
    reader_ = *std::move(reader);
    start_us_ = UnixMicrosNow();
    poller_ = std::thread([this] { Poll(); });
  }

  ~Recording() { StopPolling(); }

  // Stops, reads what is left, writes the file. Throws UsageError.
  void Close() {
    if (closed_) return;
    closed_ = true;
    StopPolling();
    const int64_t end_us = UnixMicrosNow();
    absl::Status read;
    {
      std::lock_guard<std::mutex> lock(mu_);
      read = reader_->Read(events_);
      if (read.ok()) read = poll_error_;
    }
    reader_.reset();
    if (!read.ok()) {
      throw UsageError(absl::StrCat("weft: cannot read the task events for ",
                                    path_, ": ", read.message()));
    }
    dashboard::ReportInput input;
    input.start_us = start_us_;
    input.end_us = end_us;
    input.workers = client_.workers();
    input.dashboard = client_.dashboard_link();
    input.runtime = Describe(input.workers, input.dashboard);
    input.events = std::move(events_);
    const std::string text = format_ == Format::kHtmlReport
                                 ? dashboard::PerformanceReportHtml(input)
                                 : dashboard::ChromeTraceJson(input);
    Write(text);
  }

  bool closed() const { return closed_; }
  const std::string& path() const { return path_; }

 private:
  static std::string Describe(const std::vector<WorkerStatus>& workers,
                              const std::string& dashboard) {
    if (workers.size() == 1 && workers[0].address == "local") {
      return absl::StrCat("embedded runtime, ", workers[0].nthreads,
                          " threads");
    }
    int threads = 0;
    for (const auto& w : workers) threads += w.nthreads;
    return absl::StrCat("cluster of ", workers.size(), " workers, ", threads,
                        " threads",
                        dashboard.empty() ? "" : ", dashboard ", dashboard);
  }

  void Poll() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      if (stop_cv_.wait_for(lock, kPollInterval, [&] { return stop_; })) {
        break;
      }
      absl::Status s = reader_->Read(events_);
      if (!s.ok() && poll_error_.ok()) poll_error_ = s;
    }
  }

  void StopPolling() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    stop_cv_.notify_all();
    if (poller_.joinable()) poller_.join();
  }

  // Replaces the file whole: written beside it, then renamed.
  void Write(const std::string& text) {
    const std::string temp = absl::StrCat(path_, ".tmp.", ::getpid());
    {
      std::ofstream out(temp, std::ios::binary | std::ios::trunc);
      out << text;
      out.close();
      if (!out) {
        std::remove(temp.c_str());
        throw UsageError(absl::StrCat("weft: cannot write ", path_));
      }
    }
    if (std::rename(temp.c_str(), path_.c_str()) != 0) {
      std::remove(temp.c_str());
      throw UsageError(absl::StrCat("weft: cannot write ", path_));
    }
  }

  const std::string path_;
  const Client client_;
  const Format format_;
  std::unique_ptr<EventReader> reader_;
  int64_t start_us_ = 0;
  bool closed_ = false;

  std::mutex mu_;  // the reader and what it read
  std::condition_variable stop_cv_;
  bool stop_ = false;
  EventBatch events_;
  absl::Status poll_error_;
  std::thread poller_;
};

namespace {

void CloseQuietly(Recording* recording) {
  if (recording == nullptr || recording->closed()) return;
  try {
    recording->Close();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
  }
}

}  // namespace
}  // namespace internal

performance_report::performance_report(std::string path, const Client& client)
    : recording_(std::make_unique<internal::Recording>(
          std::move(path), client, internal::Recording::Format::kHtmlReport)) {}

performance_report::~performance_report() {
  internal::CloseQuietly(recording_.get());
}

void performance_report::close() { recording_->Close(); }

trace::trace(std::string path, const Client& client)
    : recording_(std::make_unique<internal::Recording>(
          std::move(path), client, internal::Recording::Format::kChromeTrace)) {}

trace::~trace() { internal::CloseQuietly(recording_.get()); }

void trace::close() { recording_->Close(); }

}  // namespace weft
