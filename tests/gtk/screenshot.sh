#!/bin/sh
# screenshot.sh BUILD_DIR [OUT.png] — a PNG of Squint's main window with a
# finished, zoomed-in answer (the tiny test model, its first reply forced to
# a zoom request), made under Xvfb by the window test's screenshot case.
# Also writes OUT-savings.png, the savings counter's popover.
set -eu
build=${1:?usage: screenshot.sh BUILD_DIR [OUT.png]}
out=${2:-$build/tests/gtk/screenshot.png}
case $out in /*) ;; *) out=$(pwd)/$out ;; esac
src=$(cd "$(dirname "$0")/../.." && pwd)

ninja -C "$build" tests/gtk/test-gtk-window data/gschemas.compiled >/dev/null
SQ_TEST_DATA="$src/tests/data" \
GSETTINGS_SCHEMA_DIR="$build/data" \
GSETTINGS_BACKEND=memory \
GSK_RENDERER=cairo \
GTK_A11Y=test \
NO_AT_BRIDGE=1 \
LC_ALL=C.UTF-8 \
SQUINT_SCREENSHOT="$out" \
  xvfb-run -a -s '-screen 0 1400x1000x24' \
  "$build/tests/gtk/test-gtk-window" -p /squint/window/screenshot
echo "$out"
