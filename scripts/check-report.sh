#!/usr/bin/env sh
# Renders a compress HTML report in headless Chromium (Debian package `chromium`) with the network
# off, and checks that the inline script drew its charts: the rendered DOM must carry
# data-rendered="N" on <body> with N > 0, and each drawn chart SVG must hold data points
# (circle.pt for latency runs and scatter points, rect.bar for per-layer errors).
#
#   scripts/check-report.sh out/report/report.html
#
# Prints the chart counts; exits 1 when a chart is missing or empty, 2 when chromium is absent.
set -eu
report=${1:?usage: check-report.sh REPORT.html}
chrome=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$chrome" ]; then
  echo "check-report: chromium not found (apt-get install -y chromium)" >&2
  exit 2
fi
dom=$(mktemp)
trap 'rm -f "$dom"' EXIT
"$chrome" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
  --proxy-server='127.0.0.1:9' --virtual-time-budget=5000 \
  --dump-dom "file://$(cd "$(dirname "$report")" && pwd)/$(basename "$report")" > "$dom" 2>/dev/null
rendered=$(grep -o 'data-rendered="[0-9]*"' "$dom" | head -n 1 | tr -dc 0-9)
points=$(grep -o 'class="pt"' "$dom" | wc -l)
bars=$(grep -o 'class="bar"' "$dom" | wc -l)
charts=$(grep -o 'data-chart="[a-z-]*"' "$dom" | sort | uniq -c | tr -s ' ' | tr '\n' ';')
echo "charts drawn: ${rendered:-0} ($charts) points: $points bars: $bars"
[ -n "$rendered" ] && [ "$rendered" -gt 0 ] && [ "$points" -gt 0 ] || exit 1
