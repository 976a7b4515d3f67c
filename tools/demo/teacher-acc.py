"""teacher-acc.py — a quick look at a checkpoint: per kind, how often the
model's argmax gets every token of the final reply right (teacher forcing,
the VisionThink format; for zoom samples the reply after the full image), and
how often it gets the zoom decision right (the first token after </think>).
Much cheaper than eval.py (one forward pass per kind), for watching training.

    /usr/bin/python3 tools/demo/teacher-acc.py [--ckpt assets/demo-train/ckpt.pt] [--n 48]
"""
import argparse
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))

import train  # noqa: E402
import world  # noqa: E402
from export import load  # noqa: E402
from model import embed_layout, pixels_of  # noqa: E402
from vocab import Vocab  # noqa: E402


@torch.no_grad()
def predictions(m, pr, samples):
    """Per sample: (target ids, predicted ids) over its trained reply tokens."""
    kvs, P = train.prefix_kv(m, pr.adaptive_prefix)
    emb = {}
    e = m.vision(torch.stack([pixels_of(world.half_image(s["image"])) for s in samples]))
    for b in range(len(samples)):
        emb[("low", b)] = e[b]
    for b, s in enumerate(samples):
        if s["zoom"]:
            emb[("full", b)] = m.vision(pixels_of(s["image"])[None])[0]
    out = []
    for b, s in enumerate(samples):
        h, pos, labels = embed_layout(m, [pr.adaptive(s, b, P)], emb, pr.pad)
        hn, _ = m.text(h, pos, past=kvs)
        sel = labels[0] != -100
        out.append((labels[0][sel].tolist(), m.text.logits(hn[0][sel]).argmax(-1).tolist()))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", default=os.path.join(ROOT, "assets", "demo-train", "ckpt.pt"))
    ap.add_argument("--n", type=int, default=48)
    ap.add_argument("--seed", type=int, default=31337)
    a = ap.parse_args()
    torch.set_num_threads(2)
    m, step = load(a.ckpt)
    v = Vocab()
    pr = train.Prompts(v)
    w = world.World(a.seed)
    for kind in "abc":
        S = [w.sample(i, kind=kind) for i in range(a.n)]
        right = decided = 0
        for s, (tgt, pred) in zip(S, predictions(m, pr, S)):
            last = s["replies"][-1]
            base = len(tgt) - len(v.encode(last)) - 1           # where the last reply starts
            right += tgt[base:] == pred[base:]
            first = s["replies"][0]
            j = len(v.encode(first[:first.index("</think>") + len("</think>")]))
            decided += tgt[j] == pred[j]
        print(f"step {step} kind {kind}: answer right {right}/{a.n}, zoom decision right {decided}/{a.n}")


if __name__ == "__main__":
    main()
