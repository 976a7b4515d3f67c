#!/usr/bin/env bash
# squint-server against clients nobody here wrote: the openai npm package
# (installed by tools/run-tests.sh into $SQUINT_NPM_DIR) and curl.
#   test-openai.sh SQUINT_SERVER SQUINT_CLI NPM_DIR
# On the tiny reference model (policy full) and, when it is there, on the
# built-in demo model with one direct and one zoomed question.
set -u
server=$1 cli=$2 npm_dir=${SQUINT_NPM_DIR:-$3}
here=$(cd "$(dirname "$0")" && pwd)
data=${SQ_TEST_DATA:?}
if ! command -v node >/dev/null || [ ! -d "$npm_dir/node_modules/openai" ]; then
  if [ "${SQUINT_REQUIRE_NPM:-0}" = 1 ]; then
    echo "Bail out! node or the openai package ($npm_dir/node_modules/openai) is missing"
    exit 1
  fi
  echo "1..0 # SKIP node or the openai npm package is not installed (tools/run-tests.sh installs it)"
  exit 0
fi
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

n=0 failed=0
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else failed=$((failed+1)); echo "not ok $n - $2"; fi; }

# start_server ARGS…: runs squint-server on a free port, sets $url
start_server() {
  "$server" --port 0 -t 1 "$@" > "$tmp/server.out" 2> "$tmp/server.err" &
  pid=$!
  url=
  for _ in $(seq 300); do
    url=$(sed -n 's|.* on \(http://[^ ]*\)/ .*|\1|p' "$tmp/server.out")
    [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || { echo "Bail out! squint-server did not start: $(cat "$tmp/server.err")"; exit 1; }
}
stop_server() { kill "$pid"; wait "$pid"; server_rc=$?; pid=; }

# one_model NAME TEXT MMPROJ IMAGE QUESTION [ZOOM]
one_model() {
  local name=$1 text=$2 mmproj=$3 image=$4 question=$5 zoom=${6:-}
  local expected
  expected=$("$cli" run -m "$text" --mmproj "$mmproj" --image "$image" -p "$question" -n 64 -t 1 -q --json 2> "$tmp/cli.err" |
    tail -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["answer"].strip())')
  start_server -m "$text" --mmproj "$mmproj" --model-name "$name"
  SQUINT_NPM_DIR=$npm_dir node "$here/openai-client.mjs" "$url" "$name" "$image" "$question" "$expected" $zoom > "$tmp/node.out" 2>&1
  local rc=$?
  sed 's/^/# /' "$tmp/node.out"
  ok $rc "$name: the openai npm client (streamed, non-streamed, errors)"

  # curl: a streamed answer ends with [DONE]; bad JSON is a 400 in the OpenAI shape
  printf '{"model": "%s", "stream": true, "max_tokens": 8, "messages": [{"role": "user", "content": "Hello"}]}' "$name" > "$tmp/s.json"
  curl -sN "$url/v1/chat/completions" -H 'Content-Type: application/json' --data @"$tmp/s.json" > "$tmp/s.out"
  tail -2 "$tmp/s.out" | grep -q '^data: \[DONE\]$'
  ok $? "$name: curl streamed reply ends with data: [DONE]"
  code=$(curl -s -o "$tmp/e.out" -w '%{http_code}' "$url/v1/chat/completions" -H 'Content-Type: application/json' --data '{"messages": [')
  [ "$code" = 400 ] && grep -q '"type":"invalid_request_error"' "$tmp/e.out"
  ok $? "$name: curl bad JSON gets 400 invalid_request_error"
  stop_server
  grep -q "requests:" "$tmp/server.out" && [ "$server_rc" = 0 ]
  ok $? "$name: the server stops cleanly on SIGTERM (exit $server_rc) and reports its counts"
  [ "$server_rc" = 0 ] || sed 's/^/# /' "$tmp/server.err" | tail -30
}

one_model tiny "$data/tiny/models/qwen25vl-text-f16.gguf" "$data/tiny/models/mmproj-qwen25vl-f16.gguf" \
  "$data/tiny/images/img_224x168.png" "What is in the picture?"
demo=$(cd "$here/../.." && pwd)/assets
if [ -f "$demo/squint-demo-text.gguf" ] && [ -f "$demo/samples/zoom.png" ]; then
  one_model squint-demo "$demo/squint-demo-text.gguf" "$demo/squint-demo-mmproj.gguf" "$demo/samples/direct.png" \
    "$(cat "$demo/samples/direct.txt")" 0
  one_model squint-demo "$demo/squint-demo-text.gguf" "$demo/squint-demo-mmproj.gguf" "$demo/samples/zoom.png" \
    "$(cat "$demo/samples/zoom.txt")" 1
fi
echo "1..$n"
[ "$failed" = 0 ]
