// Copyright 2026 The weft Authors.

#include "scheduler/dashboard/pages.h"

#include "scheduler/dashboard/assets.h"

namespace weft::dashboard {

std::string ExpandPage(std::string_view page) {
  constexpr std::string_view kOpen = "<!--include:";
  constexpr std::string_view kClose = "-->";
  const std::string_view text = Asset(page);
  std::string out;
  out.reserve(text.size() * 2);
  size_t at = 0;
  while (true) {
    const size_t open = text.find(kOpen, at);
    if (open == std::string_view::npos) break;
    const size_t close = text.find(kClose, open + kOpen.size());
    if (close == std::string_view::npos) break;
    const std::string_view name =
        text.substr(open + kOpen.size(), close - open - kOpen.size());
    const std::string_view asset = Asset(name);
    out.append(text.substr(at, open - at));
    if (asset.empty()) {
      out.append(text.substr(open, close + kClose.size() - open));
    } else {
      out.append(asset);
    }
    at = close + kClose.size();
  }
  out.append(text.substr(at));
  return out;
}

const std::string& DashboardPage() {
  static const std::string* page =
      new std::string(ExpandPage("dashboard.html"));
  return *page;
}

}  // namespace weft::dashboard
