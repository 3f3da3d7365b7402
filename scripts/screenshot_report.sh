#!/usr/bin/env bash
# Renders a result folder's report.html to a PNG with headless Chromium (Debian
# package chromium): no network, a throw-away profile. For docs/:
#   scripts/screenshot_report.sh runs/analyze-fashion-match docs/report.png
# Arguments (defaults): DIR (runs/analyze-fashion-match), PNG (docs/report.png).
# WIDTH and HEIGHT set the window (1280 x 2000); CHROMIUM the browser binary.
set -euo pipefail

dir=${1:-runs/analyze-fashion-match}
png=${2:-docs/report.png}
width=${WIDTH:-1280}
height=${HEIGHT:-2000}
chromium=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}

if [ -z "$chromium" ]; then
  echo "error: chromium not found (apt-get install chromium, or set CHROMIUM)" >&2
  exit 1
fi
if [ ! -f "$dir/report.html" ]; then
  echo "error: $dir/report.html not found (write it with: muroan analyze --out $dir, or muroan report $dir)" >&2
  exit 1
fi

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
mkdir -p "$(dirname "$png")"
page="$(cd "$dir" && pwd)/report.html"
out="$(cd "$(dirname "$png")" && pwd)/$(basename "$png")"
rm -f "$out"

if ! timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" \
    --hide-scrollbars --window-size="$width,$height" --screenshot="$out" "file://$page" \
    >"$profile/log" 2>&1 || [ ! -s "$out" ]; then
  echo "error: chromium wrote no screenshot of $page:" >&2
  cat "$profile/log" >&2
  exit 1
fi
echo "screenshot: $png (${width}x${height})"
