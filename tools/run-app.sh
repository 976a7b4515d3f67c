#!/usr/bin/env bash
# Installs the dependencies, builds Squint and starts the desktop app
# (or, with arguments, squint-cli with those arguments).
# Usage: tools/run-app.sh                 the desktop app
#        tools/run-app.sh chat -m …       the terminal assistant
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
[ -d build ] || meson setup build
meson compile -C build
if [ "$#" -gt 0 ]; then
  exec build/ui/term/squint-cli "$@"
fi
if [ -x build/ui/gtk/squint ]; then
  # Run from the build tree: its compiled GSettings schema and translations.
  export GSETTINGS_SCHEMA_DIR="$PWD/build/data"
  exec build/ui/gtk/squint
fi
exec build/ui/term/squint-cli --help
