#!/usr/bin/env bash
# squint-cli run as people and tools call it: a forced zoom through -p with
# --json, a raw prompt with dumps, and bad arguments.  Prints TAP.
set -u
cli="$1"
data="${SQ_TEST_DATA:-tests/data}/tiny"
model="$data/models/qwen25vl-text-f32.gguf"
mmproj="$data/models/mmproj-qwen25vl-f32.gguf"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0
check() { # check DESCRIPTION COMMAND...
  n=$((n + 1))
  local what="$1"; shift
  if "$@"; then echo "ok $n - $what"; else echo "not ok $n - $what"; fails=$((fails + 1)); fi
}

forced=$'<think>The digits are tiny.</think>\n<tool_call>\n{"name": "resize_image", "arguments": {"action": "resize"}}\n</tool_call>'
"$cli" run -m "$model" --mmproj "$mmproj" --image "$data/images/img_448x336.png" -p "Which number?" \
  --policy adaptive -n 4 --json --debug-forced-reply "$forced" > "$tmp/zoom.out" 2> "$tmp/zoom.err"
check "run -p --policy adaptive exits 0" test $? -eq 0
last=$(grep '^{' "$tmp/zoom.out" | tail -n 1)
check "JSON reports the zoom" grep -q '"zoomed": true' <<< "$last"
check "JSON has both image token counts" grep -q '"image_tokens": \[48, 192\]' <<< "$last"
check "JSON ledger: 240 used of 192" grep -q '"used": 240, "baseline": 192, "saved": -48' <<< "$last"
check "the zoom notice is printed" grep -q 'zooming in' "$tmp/zoom.out"
check "the ledger line is printed" grep -q 'visual tokens: 240 used / 192 full-resolution' "$tmp/zoom.err"

"$cli" run -m "$model" --mmproj "$mmproj" --image "$data/images/img_448x336.png" -p "Which number?" \
  --policy low -n 4 --json --debug-forced-reply "$forced" > "$tmp/low.out" 2>/dev/null
check "policy low declines the zoom" grep -q '"zoom_requested": true, "zoomed": false' "$tmp/low.out"

"$cli" run -m "$model" --mmproj "$mmproj" --image "$data/images/img_224x168.png" \
  --raw-prompt $'<|im_start|>user\n<image>Describe this image.<|im_end|>\n<|im_start|>assistant\n' \
  -n 3 --temp 0 --dump-logits "$tmp/logits.f32" --dump-image-embd "$tmp/embd.f32" --json > "$tmp/raw.out" 2>&1
check "raw prompt run exits 0" test $? -eq 0
check "logits dump holds 4160 floats" test "$(stat -c %s "$tmp/logits.f32")" -eq $((4160 * 4))
check "embedding dump holds 48 rows of 256" test "$(stat -c %s "$tmp/embd.f32")" -eq $((48 * 256 * 4))
check "raw JSON lists 3 generated ids" grep -qE '"generated_ids": \[[0-9]+, [0-9]+, [0-9]+\]' "$tmp/raw.out"

"$cli" run -m "$model" --image "$data/images/img_224x168.png" -p "x" > /dev/null 2> "$tmp/e1"
check "an image without --mmproj is refused" test $? -eq 2
"$cli" run -m "$model" -p "x" --policy sideways > /dev/null 2> "$tmp/e2"
check "an unknown policy is refused with a message" grep -q "unknown policy 'sideways'" "$tmp/e2"
"$cli" run -m "$tmp/missing.gguf" -p "x" > /dev/null 2> "$tmp/e3"
rc=$?
check "a missing model file: exit 1 and a message" test $rc -eq 1 -a -s "$tmp/e3"

echo "1..$n"
[ "$fails" -eq 0 ]
