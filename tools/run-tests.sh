#!/usr/bin/env bash
# Installs the dependencies, builds Squint and runs the whole test suite:
#   1. the normal build's tests (engine, CLI, OpenCL on PoCL, GTK app and SDL
#      viewer under Xvfb),
#   2. the engine and CLI tests under AddressSanitizer + UndefinedBehaviorSanitizer,
#   3. the GGUF fuzzer for a bounded time (SQ_FUZZ_SECONDS, default 60).
# Ends with the line "N passed, N failed" and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."

tools/install-deps.sh || { echo "dependency installation failed"; echo "0 passed, 1 failed"; exit 1; }

# The official openai npm client, for the server's tests (test-openai.sh).
export SQUINT_NPM_DIR="$PWD/build-npm" SQUINT_REQUIRE_NPM=1
if [ ! -d "$SQUINT_NPM_DIR/node_modules/openai" ]; then
  mkdir -p "$SQUINT_NPM_DIR"
  npm install --silent --no-audit --no-fund --prefix "$SQUINT_NPM_DIR" openai@4 ||
    echo "npm install openai failed: the api-openai test will say so"
fi

passed=0
failed=0

# Adds the results of one meson test run (from its JSON log) to the totals.
count_results() {
  local log="$1/meson-logs/testlog.json"
  if [ ! -f "$log" ]; then
    failed=$((failed + 1))
    return
  fi
  local p f
  read -r p f < <(python3 - "$log" <<'PY'
import json, sys
p = f = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL", "SKIP"):
        p += 1
    else:
        f += 1
print(p, f)
PY
)
  passed=$((passed + p))
  failed=$((failed + f))
}

# build_and_test DIR [meson setup options...]
build_and_test() {
  local dir="$1"; shift
  echo "== $dir: configure, build, test"
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" || { failed=$((failed + 1)); return; }
  fi
  meson compile -C "$dir" || { failed=$((failed + 1)); return; }
  meson test -C "$dir" --print-errorlogs --num-processes 2
  count_results "$dir"
}

build_and_test build
# The engine, the CLI and their tests under the sanitizers (the GTK app, the
# SDL viewer and OpenCL-on-PoCL run only in the first pass: under ASan their
# system libraries triple the suite's time for no coverage of our own code).
build_and_test build-asan -Db_sanitize=address,undefined -Db_lundef=false \
  -Dgtk=disabled -Dsdl=disabled -Dopencl=disabled

fuzz_seconds="${SQ_FUZZ_SECONDS:-60}"
if [ "$fuzz_seconds" -gt 0 ] && command -v clang >/dev/null; then
  echo "== fuzzing the GGUF reader for ${fuzz_seconds}s"
  if { [ -d build-fuzz ] || CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
       -Dgtk=disabled -Dsdl=disabled -Dopencl=disabled; } &&
     meson compile -C build-fuzz fuzz-gguf; then
    corpus=$(mktemp -d)
    cp tests/fuzz/corpus/* "$corpus"/
    if build-fuzz/tests/fuzz/fuzz-gguf -max_total_time="$fuzz_seconds" -max_len=8192 \
         -print_final_stats=1 "$corpus" > build-fuzz/fuzz.log 2>&1; then
      grep -E "^stat::number_of_executed_units" build-fuzz/fuzz.log || true
      passed=$((passed + 1))
    else
      tail -40 build-fuzz/fuzz.log
      failed=$((failed + 1))
    fi
    rm -rf "$corpus"
  else
    failed=$((failed + 1))
  fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
