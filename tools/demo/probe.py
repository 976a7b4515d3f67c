"""probe.py — does a checkpoint use the image at all?

    /usr/bin/python3 tools/demo/probe.py [--ckpt assets/demo-train/ckpt.pt] [--n 32] [--kind a]

Two numbers tell a model that answers from its priors (the failure mode met in
the first training runs) from one that looks:
  * the validation loss of n held-out samples with their own images against
    the same samples with the images rotated by one (a model that ignores the
    image gets the same loss for both);
  * how much the merger's output varies across images (std over images /
    mean |value|; ~0.4 at initialization, ~0.03 when the vision tower has
    collapsed to one vector), and the image/text embedding norm ratio.
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
from model import pixels_of  # noqa: E402
from vocab import Vocab  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", default=os.path.join(ROOT, "assets", "demo-train", "ckpt.pt"))
    ap.add_argument("--n", type=int, default=32)
    ap.add_argument("--kind", default=None, help="a, b or c (default: the training mix)")
    ap.add_argument("--seed", type=int, default=4242)
    a = ap.parse_args()
    torch.set_num_threads(2)
    m, step = load(a.ckpt)
    pr = train.Prompts(Vocab())
    w = world.World(a.seed)
    S = [w.sample(i, kind=a.kind) for i in range(a.n)]
    for name, (own, other) in train.probe(m, pr, S).items():
        print(f"{name:8} loss with own images {own:.4f}, with another's {other:.4f} (difference {other - own:+.4f})")
    with torch.no_grad():
        e = m.vision(torch.stack([pixels_of(world.half_image(s["image"])) for s in S]))
        print(f"merger output: variation across images {(e.std(0).mean() / e.abs().mean()).item():.3f}, "
              f"norm {e.norm(dim=-1).mean().item():.2f} vs text embeddings {m.text.embd.norm(dim=-1).mean().item():.2f}")
    print(f"checkpoint step {step}")


if __name__ == "__main__":
    main()
