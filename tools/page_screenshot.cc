// Copyright 2026 The weft Authors.
//
// Takes a screenshot of a web page in headless Chromium
// (tests/testing/headless_chromium.h): for the pictures in docs/, made by
// tools/screenshots.sh.
//
//   page_screenshot --url=URL --out=FILE.png [--wait=JS] [--settle=SECONDS]
//                   [--width=1400] [--height=1000] [--timeout=60]
//
// Opens URL, waits until the JavaScript expression --wait is true (if
// given), waits --settle more seconds (live pages keep drawing), and
// writes a PNG of the page. Exits 0 when written; 1 with the reason on
// stderr otherwise (no Chromium, the page did not load or the condition
// did not hold within --timeout).

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/testing/headless_chromium.h"

namespace {

int Fail(const std::string& why) {
  std::fprintf(stderr, "page_screenshot: %s\n", why.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const size_t eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) {
      return Fail("expected --name=value, got " + arg);
    }
    flags[arg.substr(2, eq - 2)] = arg.substr(eq + 1);
  }
  auto number = [&](const std::string& name, int fallback) {
    int n = fallback;
    if (flags.contains(name) && !absl::SimpleAtoi(flags[name], &n)) {
      std::exit(Fail("--" + name + " is not a number"));
    }
    return n;
  };
  if (!flags.contains("url") || !flags.contains("out")) {
    return Fail("usage: page_screenshot --url=URL --out=FILE.png [--wait=JS] "
                "[--settle=S] [--width=W] [--height=H] [--timeout=S]");
  }
  const absl::Duration timeout = absl::Seconds(number("timeout", 60));
  const std::string dir =
      std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") +
      "/weft-screenshot-XXXXXX";
  std::string made = dir;
  if (::mkdtemp(made.data()) == nullptr) return Fail("cannot make " + dir);
  auto browser = weft::testing::HeadlessChromium::Start(
      made, number("width", 1400), number("height", 1000), timeout);
  if (!browser.ok()) return Fail(std::string(browser.status().message()));
  if (absl::Status s = (*browser)->Open(flags["url"], timeout); !s.ok()) {
    return Fail(std::string(s.message()));
  }
  if (flags.contains("wait")) {
    if (absl::Status s = (*browser)->WaitFor(flags["wait"], timeout); !s.ok()) {
      return Fail(std::string(s.message()));
    }
  }
  absl::SleepFor(absl::Seconds(number("settle", 0)));
  absl::StatusOr<std::string> png = (*browser)->Screenshot(timeout);
  if (!png.ok()) return Fail(std::string(png.status().message()));
  std::ofstream out(flags["out"], std::ios::binary | std::ios::trunc);
  out << *png;
  out.close();
  if (!out) return Fail("cannot write " + flags["out"]);
  std::printf("%s\n", flags["out"].c_str());
  return 0;
}
