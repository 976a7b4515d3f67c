"""vision-pretrain.py — trains the vision tower alone on the auxiliary targets.

    /usr/bin/python3 tools/demo/vision-pretrain.py [--ckpt assets/demo-train/ckpt.pt] [--steps 600]

Loads train.py's checkpoint, trains the vision tower (patch embedding,
blocks, merger) and the auxiliary head (aux.py: per visual token, the colour
and type of the shape there, which label text or title) on the half-size and
the full image of every sample, with nothing of the decoder in the loop, and
writes the tower and head back into the checkpoint (the decoder's weights,
the step and the optimizer's moments for the decoder stay as they were).
Without the decoder a whole sample (both images) trains at ~12/s against
train.py's 5-13, a tight label crop at ~100/s, so the tower sees many more; train.py then goes on with --aux-from so that
the features stay.  Its samples come from World(--seed), a stream neither
training nor evaluation uses.  Logs to log.jsonl next to the checkpoint.
"""
import argparse
import json
import os
import random
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))

import aux as auxmod  # noqa: E402
import train  # noqa: E402
import world  # noqa: E402
from model import Config, DemoVLM, pixels_of  # noqa: E402

GRIDS = {"low": world.HALF // 28, "full": world.SIZE // 28}


def embed_both(model, samples):
    """The tower's tokens for the half-size and the full image of each sample."""
    low = model.vision(torch.stack([pixels_of(world.half_image(s["image"])) for s in samples]))
    full = model.vision(torch.stack([pixels_of(s["image"]) for s in samples]))
    embds = list(low) + list(full)
    tgts = [auxmod.targets(s, GRIDS["low"]) for s in samples] + [auxmod.targets(s, GRIDS["full"]) for s in samples]
    return embds, tgts


CROP_FULL = 140    # px of the full image around the label: 5 x 5 tokens (the widest large label is ~120 px)
CROP_HALF = 84     # px of the half-size image: 3 x 3 tokens


def _origin(r, lo, hi, size, crop):
    """A crop start in [0, size - crop] that keeps [lo, hi) inside when it fits."""
    a, b = max(0, hi - crop), min(lo, size - crop)
    return r.randint(a, b) if a <= b else max(0, min(lo, size - crop))


def embed_crops(model, samples, r):
    """The tower's tokens for a crop around each sample's label, from the full
    image and from the half-size one: every crop holds text to read, at a
    third of a whole sample's cost."""
    full, half, tgts_f, tgts_h = [], [], [], []
    for s in samples:
        b = next(o["box"] for o in s["objects"] if o.get("label"))
        ox, oy = (_origin(r, b[k], b[k + 2], world.SIZE, CROP_FULL) for k in (0, 1))
        full.append(pixels_of(s["image"].crop((ox, oy, ox + CROP_FULL, oy + CROP_FULL))))
        tgts_f.append(auxmod.targets(s, CROP_FULL // 28, (ox, oy), full=True))
        hx, hy = (_origin(r, b[k] // 2, (b[k + 2] + 1) // 2, world.HALF, CROP_HALF) for k in (0, 1))
        half.append(pixels_of(world.half_image(s["image"]).crop((hx, hy, hx + CROP_HALF, hy + CROP_HALF))))
        tgts_h.append(auxmod.targets(s, CROP_HALF // 28, (2 * hx, 2 * hy), full=False))
    embds = list(model.vision(torch.stack(full))) + list(model.vision(torch.stack(half)))
    return embds, tgts_f + tgts_h


def embed_reading(model, samples, r):
    """Tight crops around each label where the protocol reads it: a small
    label in a 56-px crop of the full image, a large one in an 84-px crop of
    the half-size image.  A 56-px crop is 16 patches, a sixteenth of a full
    image: reading (digits and words in fonts of every size) needs ~10^5
    examples for this tower, and these give them in ~20 minutes."""
    groups = {56: ([], []), 84: ([], [])}
    for s in samples:
        lab = next(o for o in s["objects"] if o.get("label"))
        b = lab["box"]
        if lab["small"]:
            ox, oy = (_origin(r, b[k], b[k + 2], world.SIZE, 56) for k in (0, 1))
            img, t = s["image"].crop((ox, oy, ox + 56, oy + 56)), auxmod.targets(s, 2, (ox, oy), full=True)
            g = groups[56]
        else:
            hx, hy = (_origin(r, b[k] // 2, (b[k + 2] + 1) // 2, world.HALF, 84) for k in (0, 1))
            img = world.half_image(s["image"]).crop((hx, hy, hx + 84, hy + 84))
            t, g = auxmod.targets(s, 3, (2 * hx, 2 * hy), full=False), groups[84]
        g[0].append(pixels_of(img))
        g[1].append(t)
    embds, tgts = [], []
    for px, ts in groups.values():
        if px:
            embds += list(model.vision(torch.stack(px)))
            tgts += ts
    return embds, tgts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", default=os.path.join(ROOT, "assets", "demo-train", "ckpt.pt"))
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--mode", choices=["whole", "crops", "reading"], default="whole",
                    help="whole images; every other step 140/84-px crops around the label; or only tight "
                         "label crops (embed_reading)")
    ap.add_argument("--reinit-vision", action="store_true",
                    help="start the tower afresh (seeded; the decoder's moments kept, the tower's dropped)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    ck = torch.load(a.ckpt)
    c = Config(**{**ck["config"], "sections": tuple(ck["config"]["sections"])})
    model = DemoVLM(c)
    model.load_state_dict(ck["model"])
    ck["opt"] = train.model_group_only(ck["opt"])   # this head gets fresh moments in train.py
    if a.reinit_vision:
        own = {id(p) for p in model.vision.parameters()}
        drop = {i for i, p in enumerate(model.parameters()) if id(p) in own}
        ck["opt"]["state"] = {k: v for k, v in ck["opt"]["state"].items() if k not in drop}
        model.vision = DemoVLM(c).vision   # DemoVLM's init (scaled residual projections)
        ck["aux"] = None
    head = auxmod.head(c.n_embd)
    if ck.get("aux") is not None and ck.get("aux_version") == auxmod.VERSION:
        head.load_state_dict(ck["aux"])
    params = list(model.vision.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.01, betas=(0.9, 0.98))
    log_path = os.path.join(os.path.dirname(a.ckpt), "log.jsonl")
    w = world.World(a.seed)
    held = [w.sample(10**7 + i) for i in range(32)]
    held_crops = [w.sample(2 * 10**7 + i) for i in range(128)]
    t0 = time.time()
    for step in range(a.steps):
        for g in opt.param_groups:
            g["lr"] = train.lr_at(step, a)   # warmup, then cosine to a tenth
        samples = [w.sample(step * a.batch + b) for b in range(a.batch)]
        r = random.Random(a.seed * 9973 + step)
        if a.mode == "reading":
            embds, tgts = embed_reading(model, samples, r)
        elif a.mode == "crops" and step % 2 == 0:
            embds, tgts = embed_crops(model, samples, r)
        else:
            embds, tgts = embed_both(model, samples)
        loss = auxmod.loss(head, embds, tgts) + train.norm_penalty(model, embds)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        train.limit_patch_embedding(model)
        if (step + 1) % 50 == 0 or step + 1 == a.steps:
            with torch.no_grad():
                he, ht = embed_both(model, held)
                acc = auxmod.accuracy(head, he, ht)
                # and on label crops as --mode reading cuts them (fixed cuts)
                he, ht = embed_reading(model, held_crops, random.Random(5))
                acc_crops = auxmod.accuracy(head, he, ht)
            rec = {"vision_pretrain_step": step + 1, "loss": round(loss.item(), 4),
                   "samples_per_s": round(50 * a.batch / (time.time() - t0), 2), "mode": a.mode,
                   "held_out_cells_right": {k: f"{r}/{n}" for k, (r, n) in acc.items()},
                   "held_out_crops_right": {k: f"{r}/{n}" for k, (r, n) in acc_crops.items()}}
            print(json.dumps(rec), flush=True)
            with open(log_path, "a") as f:
                f.write(json.dumps(rec) + "\n")
            t0 = time.time()
        if (step + 1) % 100 == 0 or step + 1 == a.steps:
            ck["model"] = model.state_dict()
            ck["aux"] = head.state_dict()
            ck["aux_version"] = auxmod.VERSION
            tmp = a.ckpt + ".tmp"
            torch.save(ck, tmp)
            os.replace(tmp, a.ckpt)
    print(f"done: {a.steps} steps; tower and head written to {a.ckpt}", flush=True)


if __name__ == "__main__":
    main()
