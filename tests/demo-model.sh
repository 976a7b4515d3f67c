#!/usr/bin/env bash
# The built-in demo model, shipped in assets/, through squint-cli with no -m
# (the default model): one sample it answers from the half-size image, one it
# answers after zooming in (assets/samples/{direct,zoom}.{png,txt,answer});
# then the engine against PyTorch: the greedy token ids tools/demo/check.py
# recorded from the training code's own model for a few held-out questions
# (CHECK_DIR/cases.jsonl) must come out of the engine unchanged.
#   demo-model.sh SQUINT_CLI ASSETS_DIR CHECK_DIR
set -u
cli=$1 assets=$2 checks=$3
n=0 failed=0
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else failed=$((failed+1)); echo "not ok $n - $2"; fi; }
for f in squint-demo-text.gguf squint-demo-mmproj.gguf; do
  [ -f "$assets/$f" ] || { echo "Bail out! $assets/$f is missing"; exit 1; }
done
check() {
  local name=$1 want_zoom=$2
  local q a out
  q=$(cat "$assets/samples/$name.txt") a=$(cat "$assets/samples/$name.answer")
  out=$(SQUINT_DEMO_DIR="$assets" "$cli" run --image "$assets/samples/$name.png" -p "$q" --json -q -t 2 2>/dev/null | tail -1)
  echo "# $name: $q -> $out"
  python3 - "$out" "$a" "$want_zoom" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
ok = r["answer"].strip().lower() == sys.argv[2].lower() and r["zoomed"] == (sys.argv[3] == "1") \
    and r["policy"] == "adaptive"
sys.exit(0 if ok else 1)
PY
  ok $? "$name sample: answer '$a', zoomed=$want_zoom, with the default (demo) model"
}
check direct 0
check zoom 1
while IFS= read -r case; do
  { IFS= read -r img; IFS= read -r q; IFS= read -r pol; IFS= read -r np; } < <(python3 -c '
import json, sys
c = json.loads(sys.argv[1])
print(c["image"], c["question"], c["policy"], c["n_predict"], sep="\n")' "$case")
  out=$(SQUINT_DEMO_DIR="$assets" "$cli" run --image "$checks/$img" -p "$q" --policy "$pol" --json -q --kv-f32 \
        -t 1 -n "$np" 2>/dev/null </dev/null | tail -1)
  python3 - "$out" "$case" <<'PY'
import json, sys
got, want = json.loads(sys.argv[1]).get("generated_ids"), json.loads(sys.argv[2])["ids"]
if got != want:
    print(f"# engine {got}\n# torch  {want}")
sys.exit(0 if got == want else 1)
PY
  ok $? "engine = PyTorch, greedy ids: $img '$q' ($pol)"
done < "$checks/cases.jsonl"
echo "1..$n"
[ "$failed" = 0 ]
