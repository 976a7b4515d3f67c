"""curriculum-probe.py — the first step of a curriculum: does the decoder learn to look?

    /usr/bin/python3 tools/demo/curriculum-probe.py [--steps 200]

A fresh model trained on the easiest task there is — one shape on a plain
canvas, "What color is the shape?", the plain (policy full) prompt — with the
fixes of train.py (image-norm penalty, patch-embedding max-norm).  Every 50
steps it prints the validation loss with each sample's own image and with
another sample's image: when they part, the decoder uses the image.

Measured 2026-11-25 (2 threads): own 0.084 vs rotated 0.283 after 100 steps
(1600 samples, ~3 min); the full world from scratch never parted in 1790
steps.  So train.py starts from this and widens the world step by step.
With --rope-base 100 (the demo model's base now): 0.064 vs 0.369 at step 100.
"""
import argparse
import os
import random
import sys
import time

import torch
from PIL import Image, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import train  # noqa: E402
import world  # noqa: E402
from model import Config, DemoVLM  # noqa: E402
from vocab import Vocab  # noqa: E402


def one_shape(index):
    r = random.Random(index)
    img = Image.new("RGB", (world.SIZE, world.SIZE), r.choice(world.BACKGROUNDS))
    d = ImageDraw.Draw(img)
    col = r.choice(list(world.COLORS))
    s = r.randint(40, 90)
    x, y = r.randint(4, world.SIZE - s - 4), r.randint(4, world.SIZE - s - 4)
    shape = r.choice(world.SHAPES)
    if shape == "circle":
        d.ellipse((x, y, x + s, y + s), fill=world.COLORS[col])
    elif shape == "square":
        d.rectangle((x, y, x + s, y + s), fill=world.COLORS[col])
    else:
        d.polygon([(x + s / 2, y), (x + s, y + s), (x, y + s)], fill=world.COLORS[col])
    reply = f"<think>The {shape} is {col}.</think><answer>{col}</answer>"
    return {"image": img, "question": "What color is the shape?", "full_reply": reply, "replies": [reply],
            "zoom": False}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rope-base", type=float, default=Config.rope_base)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(3)
    pr = train.Prompts(Vocab())
    m = DemoVLM(Config(rope_base=a.rope_base))
    opt = torch.optim.AdamW(m.parameters(), lr=1.5e-3, weight_decay=0.01, betas=(0.9, 0.98))
    val = [one_shape(10**6 + i) for i in range(32)]
    rotated = [dict(s, image=t["image"]) for s, t in zip(val, val[1:] + val[:1])]
    t0 = time.time()
    for step in range(a.steps):
        for g in opt.param_groups:
            g["lr"] = 1.5e-3 * min(1.0, (step + 1) / 50)
        loss, _ = train.batch_loss(m, pr, [one_shape(step * 16 + b) for b in range(16)], True)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        train.limit_patch_embedding(m)
        if step % 50 == 49:
            with torch.no_grad():
                own = train.batch_loss(m, pr, val, True)[0].item()
                other = train.batch_loss(m, pr, rotated, True)[0].item()
            print(f"{step + 1}: train {loss.item():.3f}, validation with own images {own:.4f}, "
                  f"with another's {other:.4f} ({time.time() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
