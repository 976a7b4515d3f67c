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
from vocab import Vocab  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", default=os.path.join(ROOT, "assets", "demo-train", "ckpt.pt"))
    ap.add_argument("--n", type=int, default=48)
    ap.add_argument("--seed", type=int, default=31337)
    a = ap.parse_args()
    torch.set_num_threads(2)
    m, step = load(a.ckpt)
    pr = train.Prompts(Vocab())
    w = world.World(a.seed)
    for kind in "abc":
        right, decided, n = train.reply_accuracy(m, pr, [w.sample(i, kind=kind) for i in range(a.n)])
        print(f"step {step} kind {kind}: answer right {right}/{n}, zoom decision right {decided}/{n}")


if __name__ == "__main__":
    main()
