#!/usr/bin/env bash
# Installs the dependencies, builds Squint and starts it.
# Usage: tools/run-app.sh [squint-cli arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
[ -d build ] || meson setup build
meson compile -C build
if [ "$#" -eq 0 ]; then
  set -- --help
fi
exec build/ui/term/squint-cli "$@"
