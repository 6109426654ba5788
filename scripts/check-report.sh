#!/usr/bin/env bash
# Opens a run's index.html in headless Chromium (Debian's chromium package) and checks that every
# picture loaded and that the page logged no console error. Usage: scripts/check-report.sh RUN_DIR
set -euo pipefail
run="${1:?usage: scripts/check-report.sh RUN_DIR}"
page="$(cd "$run" && pwd)/index.html"
[ -f "$page" ] || { echo "check-report: $page does not exist" >&2; exit 1; }
browser="$(command -v chromium || command -v chromium-browser || true)"
[ -n "$browser" ] || { echo "check-report: chromium is not installed (apt-get install chromium)" >&2; exit 1; }
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
log="$profile/console.log"
dom="$("$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --enable-logging=stderr --v=0 --virtual-time-budget=5000 \
  --dump-dom "file://$page" 2>"$log")"
images="$(grep -o 'data-images="[0-9]*"' <<<"$dom" | grep -o '[0-9]*' || true)"
broken="$(grep -o 'data-broken="[0-9]*"' <<<"$dom" | grep -o '[0-9]*' || true)"
errors="$(grep -E 'CONSOLE|Uncaught|ERR_FILE_NOT_FOUND' "$log" || true)"
if [ -z "$images" ]; then
  echo "check-report: the page's load check did not run (no data-images attribute)" >&2; exit 1
fi
if [ "$broken" != "0" ] || [ -n "$errors" ]; then
  echo "check-report: $broken of $images pictures broken; console: ${errors:-none}" >&2; exit 1
fi
echo "check-report: $page: $images pictures loaded, no console errors"
