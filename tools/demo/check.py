"""check.py — the independent engine check: PyTorch vs the C engine.

    /usr/bin/python3 tools/demo/check.py [--ckpt assets/demo-train/ckpt.pt | --random SEED]
        [--n 4] [--policy adaptive] [--cli build/ui/term/squint-cli]

Exports the model (F16) to a temp prefix, then for n held-out samples runs
`squint-cli run --policy P --json --kv-f32 --dump-logits` and PyTorch's own
greedy decoding of the same protocol (both passes when the model zooms), with
the matrices rounded to F16 as in the files.  Prints the last-prompt-position
logits difference and whether the generated token ids are identical.

    /usr/bin/python3 tools/demo/check.py --shipped --n 6 --write tests/data/demo-check

checks the shipped F16 pair (assets/squint-demo-*.gguf) instead of an export
and writes each case — image, question, policy and PyTorch's greedy ids — to
the folder, where tests/demo-model.sh replays them through the engine.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))

import world  # noqa: E402
from export import export, load  # noqa: E402
from model import Config, DemoVLM, Layout, embed_layout, pixels_of  # noqa: E402
from train import Prompts  # noqa: E402
from vocab import Vocab  # noqa: E402


@torch.no_grad()
def greedy(m, pr, layout, emb, n_predict):
    """Greedy decoding, recomputing the whole sequence each token.  Returns ids and the prompt's last logits."""
    out, first = [], None
    for _ in range(n_predict):
        h, pos, _ = embed_layout(m, [layout], emb, pr.pad)
        hn, _ = m.text(h, pos)
        logits = m.text.logits(hn[0, -1])
        if first is None:
            first = logits.clone()
        tok = int(torch.argmax(logits))
        out.append(tok)
        if tok in (pr.im_end, pr.pad):
            break
        layout.text([tok])
    return out, first


@torch.no_grad()
def torch_answer(m, pr, img, question, policy, n_predict):
    v = pr.v
    emb = {}
    if policy == "full":
        l = Layout(pr.image_pad)
        l.text(pr.full_prefix)
        emb["full"] = m.vision(pixels_of(img)[None])[0]
        l.image(img.height // 28, img.width // 28, "full")
        l.text(v.encode(world.full_suffix(question)))
        ids, logits = greedy(m, pr, l, emb, n_predict)
        return ids, logits
    half = world.half_image(img)
    emb["low"] = m.vision(pixels_of(half)[None])[0]
    l = Layout(pr.image_pad)
    l.text(pr.adaptive_prefix)
    l.image(half.height // 28, half.width // 28, "low")
    l.text(v.encode(world.first_suffix(question)))
    ids, logits = greedy(m, pr, l, emb, n_predict)
    text = v.decode(ids)
    if policy == "adaptive" and '"resize"' in text and "</tool_call>" in text and ids[-1] == pr.im_end:
        l.text([pr.im_end])
        l.text(pr.tool_prefix)
        emb["full"] = m.vision(pixels_of(img)[None])[0]
        l.image(img.height // 28, img.width // 28, "full")
        l.text(pr.tool_suffix)
        ids2, _ = greedy(m, pr, l, emb, n_predict)
        ids = ids + ids2
    return ids, logits


def round_f16(m):
    for p in m.parameters():
        if p.dim() >= 2:
            p.data = p.data.half().float()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", default=os.path.join(ROOT, "assets", "demo-train", "ckpt.pt"))
    ap.add_argument("--random", type=int, default=None, help="check an untrained model of this seed instead")
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--n-predict", type=int, default=48)
    ap.add_argument("--policy", default="adaptive")
    ap.add_argument("--seed", type=int, default=4242, help="world seed of the samples")
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "ui", "term", "squint-cli"))
    ap.add_argument("--exporter", default=os.path.join(ROOT, "build", "tools", "squint-demo-export"))
    ap.add_argument("--shipped", action="store_true", help="check assets/squint-demo-{text,mmproj}.gguf")
    ap.add_argument("--write", metavar="DIR", help="save the cases and PyTorch's ids (cases.jsonl + PNGs)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.random is not None:
        torch.manual_seed(a.random)
        m, step = DemoVLM(Config()), 0
        m.eval()
    else:
        m, step = load(a.ckpt)
    round_f16(m)
    tmp = tempfile.mkdtemp(prefix="squint-demo-check-")
    if a.shipped:
        prefix = os.path.join(ROOT, "assets", "squint-demo")
    else:
        prefix = os.path.join(tmp, "m")
        export(m, prefix, "f16", a.exporter, step)
    cases = []
    pr = Prompts(Vocab())
    w = world.World(a.seed)
    same = 0
    for i in range(a.n):
        s = w.sample(i, kind="abc"[i % 3])
        png = os.path.join(a.write if a.write else tmp, f"{i}.png")
        if a.write:
            os.makedirs(a.write, exist_ok=True)
        s["image"].save(png)
        lg = os.path.join(tmp, f"{i}.logits")
        r = subprocess.run([a.cli, "run", "-m", prefix + "-text.gguf", "--mmproj", prefix + "-mmproj.gguf",
                            "--image", png, "-p", s["question"], "--policy", a.policy, "--json", "-q", "--kv-f32",
                            "-t", "1", "-n", str(a.n_predict), "--dump-logits", lg],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print("engine failed:", r.stderr)
            sys.exit(1)
        js = json.loads(r.stdout.strip().splitlines()[-1])
        eng = js.get("generated_ids", [])
        ids, logits = torch_answer(m, pr, s["image"], s["question"], a.policy, a.n_predict)
        # the engine's id list holds both passes' reply tokens without the
        # control tokens that end them (<|im_end|>), as squint-cli reports them
        ids = [t for t in ids if t not in (pr.im_end, pr.pad)]
        e = np.fromfile(lg, dtype="<f4")
        e = e[:logits.numel()] if e.size >= logits.numel() else e
        d = float(np.abs(e - logits.numpy()).max()) if e.size == logits.numel() else float("nan")
        ok = eng == ids
        same += ok
        cases.append({"image": f"{i}.png", "question": s["question"], "policy": a.policy,
                      "n_predict": a.n_predict, "ids": ids})
        print(f"[{i}] kind {s['kind']} zoom_requested={js.get('zoom_requested')} logits max|diff| {d:.2e} "
              f"(range {float(logits.max() - logits.min()):.2f}), argmax engine {int(np.argmax(e))} torch "
              f"{int(torch.argmax(logits))}; tokens {'IDENTICAL' if ok else 'DIFFER'} ({len(eng)} vs {len(ids)})")
        if not ok:
            print("   engine:", eng[:40])
            print("   torch: ", ids[:40])
        print("   engine text:", repr(js.get("reply", pr.v.decode(eng)))[:300])
        print("   torch  text:", repr(pr.v.decode(ids))[:300])
    print(f"{same}/{a.n} identical greedy token sequences")
    if a.write:
        with open(os.path.join(a.write, "cases.jsonl"), "w") as f:
            for c in cases:
                f.write(json.dumps(c) + "\n")
        print(f"wrote {len(cases)} cases to {a.write}")
    sys.exit(0 if same == a.n else 1)


if __name__ == "__main__":
    main()
