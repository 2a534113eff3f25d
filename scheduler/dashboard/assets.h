// Copyright 2026 The weft Authors.
//
// The dashboard's and reports' pages, scripts and styles
// (scheduler/dashboard/assets/), built into the binary: nothing is read
// from disk or fetched from the internet when they are served or written.

#ifndef WEFT_SCHEDULER_DASHBOARD_ASSETS_H_
#define WEFT_SCHEDULER_DASHBOARD_ASSETS_H_

#include <string_view>

namespace weft::dashboard {

// The content of the asset named `name` (a file name in assets/, e.g.
// "dashboard.js"); empty if there is none. Thread-safe; the view lives as
// long as the program.
std::string_view Asset(std::string_view name);

}  // namespace weft::dashboard

#endif  // WEFT_SCHEDULER_DASHBOARD_ASSETS_H_
