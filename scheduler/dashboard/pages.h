// Copyright 2026 The weft Authors.
//
// Self-contained HTML pages from the embedded assets (assets.h): a page's
// `<!--include:NAME-->` markers are replaced by the asset NAME, so the
// scripts and styles the dashboard and the reports share are written once.

#ifndef WEFT_SCHEDULER_DASHBOARD_PAGES_H_
#define WEFT_SCHEDULER_DASHBOARD_PAGES_H_

#include <string>
#include <string_view>

namespace weft::dashboard {

// The asset `page` with its include markers expanded (one level). A marker
// naming no asset is left as it is.
std::string ExpandPage(std::string_view page);

// The dashboard page (assets/dashboard.html, expanded).
const std::string& DashboardPage();

}  // namespace weft::dashboard

#endif  // WEFT_SCHEDULER_DASHBOARD_PAGES_H_
