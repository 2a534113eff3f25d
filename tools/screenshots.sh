#!/usr/bin/env bash
# Makes the pictures of docs/dashboard.md: docs/images/dashboard.png
# (the live dashboard of a busy LocalCluster) and docs/images/report.png
# (the performance report of the same run), in headless Chromium.
#
#   tools/screenshots.sh [SECONDS]    (default 25: how long the demo runs)
#
# Runs examples/dashboard_demo (a LocalCluster of 2 workers with a mixed
# workload, failures included), photographs its dashboard once the page has
# had 8 live updates, waits for the demo to end and write its report, and
# photographs the report. Needs Debian's chromium (tools/setup.sh installs
# it). Takes about SECONDS + 20 s after the build.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-25}"

bazel build //examples:dashboard_demo //tools:page_screenshot
bin="$(bazel info bazel-bin 2>/dev/null)"
work="$(mktemp -d)"
demo=""
cleanup() {
  if [[ -n "$demo" ]] && kill -0 "$demo" 2>/dev/null; then
    kill "$demo" 2>/dev/null || true
    wait "$demo" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

"$bin/examples/dashboard_demo" --seconds="$seconds" --dashboard-port=0 \
  --report="$work/report.html" --trace="$work/trace.json" \
  >"$work/demo.log" 2>&1 &
demo=$!

url=""
for _ in $(seq 1 600); do
  url="$(sed -n 's/^dashboard: \(http[^ ]*\)$/\1/p' "$work/demo.log" | head -n 1)"
  [[ -n "$url" ]] && break
  kill -0 "$demo" 2>/dev/null || break
  sleep 0.1
done
if [[ -z "$url" ]]; then
  echo "screenshots: the demo did not print its dashboard address:" >&2
  cat "$work/demo.log" >&2
  exit 1
fi

mkdir -p docs/images
"$bin/tools/page_screenshot" --url="$url" --out=docs/images/dashboard.png \
  --wait="Number(document.body.dataset.updates || 0) >= 8" \
  --width=1400 --height=1150
if ! wait "$demo"; then
  demo=""
  echo "screenshots: the demo failed:" >&2
  cat "$work/demo.log" >&2
  exit 1
fi
demo=""
"$bin/tools/page_screenshot" --url="file://$work/report.html" \
  --out=docs/images/report.png \
  --wait="document.body.dataset.rendered === '1'" --width=1400 --height=1150
echo "screenshots: docs/images/dashboard.png and docs/images/report.png"
