"""train.py — trains the demo model on the synthetic world, resumably.

    nohup nice -n 5 /usr/bin/python3 tools/demo/train.py --steps 7000 &

Each step draws `--batch` samples (World(seed).sample(step * batch + b), of
kinds drawn from the CURRICULUM's mix for that step: the
data stream is a pure function of the seed and the step, so a resumed run
sees exactly what an uninterrupted one would).  A batch is either all
VisionThink (the adaptive prompt: half-size image, and for zoom samples the
tool-response turn with the full image) or, with probability --full-frac,
all plain-template full-resolution questions (policy full).  The long system
prompt is shared by the whole batch: it is run once per step (batch 1) and
its keys/values are attended by every sample, which is exact and ~4x cheaper.
Loss: cross-entropy on the assistant's reply tokens (and their <|im_end|>).

Checkpoint (every --save-every steps and at the end, atomically):
assets/demo-train/ckpt.pt with the fp32 weights, AdamW's moments stored in
8 bits (blockwise; the second moment as ceil-rounded sqrt so it is never
under-estimated) and the step.  log.jsonl next to it gets one line per
--log-every steps: step, loss, samples/s, lr; and every --probe-every steps
the validation loss of 32 samples of the current mix with their own images
and with another sample's, VisionThink format and plain (probe_own_other:
the two must part).
"""
import argparse
import json
import math
import os
import random
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import aux as auxmod  # noqa: E402
import world  # noqa: E402
from model import Config, DemoVLM, Layout, embed_layout, n_params, pixels_of  # noqa: E402
from vocab import Vocab  # noqa: E402

ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))


class Prompts:
    """Token ids of the fixed prompt pieces, and layouts of samples."""

    def __init__(self, vocab):
        v = self.v = vocab
        self.im_end = v["<|im_end|>"]
        self.image_pad = v["<|image_pad|>"]
        self.pad = v["<|endoftext|>"]
        self.adaptive_prefix = v.encode(world.adaptive_prefix())
        self.full_prefix = v.encode(world.full_prefix())
        self.tool_prefix = v.encode(world.tool_prefix())
        self.tool_suffix = v.encode(world.tool_suffix())

    def adaptive(self, s, b, start):
        l = Layout(self.image_pad, start)
        l.image(world.HALF // 28, world.HALF // 28, ("low", b))
        l.text(self.v.encode(world.first_suffix(s["question"])))
        l.text(self.v.encode(s["replies"][0]) + [self.im_end], train=True)
        if s["zoom"]:
            l.text(self.tool_prefix)
            l.image(world.SIZE // 28, world.SIZE // 28, ("full", b))
            l.text(self.tool_suffix)
            l.text(self.v.encode(s["replies"][1]) + [self.im_end], train=True)
        return l

    def full(self, s, b, start):
        l = Layout(self.image_pad, start)
        l.image(world.SIZE // 28, world.SIZE // 28, ("full", b))
        l.text(self.v.encode(world.full_suffix(s["question"])))
        l.text(self.v.encode(s["full_reply"]) + [self.im_end], train=True)
        return l


def prefix_kv(model, ids):
    t = model.text
    h = t.embd[torch.tensor(ids)][None]
    P = len(ids)
    pos = torch.arange(P).view(1, 1, P).expand(3, 1, P)
    _, kvs = t(h, pos, want_kv=True)
    return kvs, P


NORM_RATIO = 2.0     # image tokens may be at most this many times as long as text embeddings
NORM_WEIGHT = 0.01


def norm_penalty(model, image_embds):
    """Keeps image embeddings on the scale of the text embeddings.  Without it
    the merger's output grew to ~300x the text embeddings' norm in the first
    900 steps (one near-constant vector for every image), the decoder learned
    to ignore it and the vision tower's gradients vanished (1e-3 vs 0.3)."""
    text = model.text.embd.norm(dim=-1).mean().detach()
    n = torch.cat([e.reshape(-1, e.shape[-1]) for e in image_embds]).norm(dim=-1)
    return NORM_WEIGHT * F.relu(n - NORM_RATIO * text).pow(2).mean()


PATCH_ROW_MAX = 1.0   # init rows are ~0.49 long


@torch.no_grad()
def limit_patch_embedding(model):
    """Max-norm on the patch embedding's rows.  Its output feeds RMSNorms
    only, so its gradient is orthogonal to the weights and Adam lengthens them
    every step: by step 1100 the rows were ~50x their initial length, the
    blocks' updates drowned in the residual stream, and every image came out
    of the merger as the same vector (the decoder answered from priors)."""
    for w in (model.vision.patch0, model.vision.patch1):
        n = w.norm(dim=1, keepdim=True).clamp_min(1e-12)
        w.mul_((PATCH_ROW_MAX / n).clamp(max=1.0))


def batch_loss(model, pr, samples, full_mode, aux=None):
    ids = pr.full_prefix if full_mode else pr.adaptive_prefix
    kvs, P = prefix_kv(model, ids)
    emb = {}
    if full_mode:
        px = torch.stack([pixels_of(s["image"]) for s in samples])
        e = model.vision(px)
        for b in range(len(samples)):
            emb[("full", b)] = e[b]
        layouts = [pr.full(s, b, P) for b, s in enumerate(samples)]
    else:
        px = torch.stack([pixels_of(world.half_image(s["image"])) for s in samples])
        e = model.vision(px)
        for b in range(len(samples)):
            emb[("low", b)] = e[b]
        zi = [b for b, s in enumerate(samples) if s["zoom"]]
        if zi:
            e = model.vision(torch.stack([pixels_of(samples[b]["image"]) for b in zi]))
            for k, b in enumerate(zi):
                emb[("full", b)] = e[k]
        layouts = [pr.adaptive(s, b, P) for b, s in enumerate(samples)]
    # zoom and direct samples differ a lot in length: run them as two groups
    groups = [[l for l, s in zip(layouts, samples) if s["zoom"]], [l for l, s in zip(layouts, samples) if not s["zoom"]]]
    total, n = 0.0, 0
    for g in groups:
        if not g:
            continue
        h, pos, labels = embed_layout(model, g, emb, pr.pad)
        hn, _ = model.text(h, pos, past=kvs)
        sel = labels != -100
        logits = model.text.logits(hn[sel])
        total = total + F.cross_entropy(logits, labels[sel], reduction="sum")
        n += int(sel.sum())
    loss = total / n + norm_penalty(model, list(emb.values()))
    if aux is not None:
        keys = list(emb)
        grids = {"low": world.HALF // 28, "full": world.SIZE // 28}
        loss = loss + auxmod.loss(aux, [emb[k] for k in keys], [auxmod.targets(samples[k[1]], grids[k[0]]) for k in keys])
    return loss, n


# ---- compact optimizer state ----

QB = 64


def _q8(x, unsigned_ceil=False):
    x = x.flatten().float()
    n = x.numel()
    pad = (-n) % QB
    xb = F.pad(x, (0, pad)).view(-1, QB)
    if unsigned_ceil:
        s = xb.amax(1, keepdim=True).clamp_min(1e-30) / 255.0
        q = torch.ceil(xb / s).clamp(0, 255).to(torch.uint8)
    else:
        s = xb.abs().amax(1, keepdim=True).clamp_min(1e-30) / 127.0
        q = torch.round(xb / s).clamp(-127, 127).to(torch.int8)
    return {"q": q, "s": s.squeeze(1), "n": n}


def _dq8(d, shape):
    x = (d["q"].float() * d["s"][:, None]).flatten()[:d["n"]]
    return x.view(shape)


def pack_opt(opt):
    sd = opt.state_dict()
    st = {}
    for k, v in sd["state"].items():
        st[k] = {"step": v["step"], "m": _q8(v["exp_avg"]), "r": _q8(v["exp_avg_sq"].sqrt(), True),
                 "shape": tuple(v["exp_avg"].shape)}
    return {"state": st, "param_groups": sd["param_groups"]}


def unpack_opt(opt, packed):
    st = {}
    for k, v in packed["state"].items():
        st[k] = {"step": v["step"], "exp_avg": _dq8(v["m"], v["shape"]),
                 "exp_avg_sq": _dq8(v["r"], v["shape"]).pow(2)}
    opt.load_state_dict({"state": st, "param_groups": packed["param_groups"]})


def model_group_only(packed):
    """A packed optimizer state without its auxiliary head's group (the
    last one, when there are two)."""
    groups = packed["param_groups"]
    if len(groups) < 2:
        return packed
    drop = set(groups[-1]["params"])
    return {"state": {k: v for k, v in packed["state"].items() if k not in drop}, "param_groups": groups[:-1]}


def save(path, model, opt, step, args, aux=None):
    tmp = path + ".tmp"
    torch.save({"step": step, "config": model.c.to_dict(), "model": model.state_dict(), "opt": pack_opt(opt),
                "args": vars(args), "aux": aux.state_dict() if aux is not None else None,
                "aux_version": auxmod.VERSION}, tmp)
    os.replace(tmp, path)


# The curriculum: (first step, fraction of plain full-resolution batches,
# mix of kinds).  A fresh decoder ignores the image on the full world (it
# answers from priors; 1790 steps never changed that) but learns to look
# within ~100 steps on one shape alone, asked its colour in the plain
# template (curriculum-probe.py) — and not in 200 steps when that came
# mostly in the VisionThink format with colour and shape questions.  So
# training starts exactly there and widens: the VisionThink format, shapes
# and titles (kind a), then the labels (b, c).
CURRICULUM = [
    (0, 1.0, {"oc": 1.0}),
    (150, 0.5, {"o": 1.0}),
    (300, 0.3, {"o": 0.3, "a": 0.7}),
    # The one-shape questions stay in the mix: a run that cut them to 5 % at
    # step 600 had stopped looking by step 700 (own/other image loss
    # 0.1997/0.2002, from 0.058/0.350 at step 300).
    (700, 0.3, {"o": 0.3, "a": 0.5, "c": 0.2}),
    (1000, 0.2, {"o": 0.1, "a": 0.35, "b": 0.3, "c": 0.25}),
]


def stage_at(step):
    stage = CURRICULUM[0]
    for st in CURRICULUM:
        if step >= st[0]:
            stage = st
    return stage


def mix_at(step, a=None):
    if a is not None and a.mix:
        return a.mix
    return stage_at(step)[2]


def batch_kinds(step, a):
    """The kinds of one step's samples: a pure function of (seed, step)."""
    mix = mix_at(step if a.curriculum else 10**9, a)
    r = random.Random(a.seed * 104729 + step)
    return r.choices(list(mix), weights=list(mix.values()), k=a.batch)


@torch.no_grad()
def probe(model, pr, val):
    """Validation losses with each sample's own image and with another's, in
    the VisionThink format and in the plain one: a model that ignores the
    image scores both alike."""
    rotated = [dict(s, image=t["image"]) for s, t in zip(val, val[1:] + val[:1])]
    out = {}
    for name, full in (("adaptive", False), ("full", True)):
        out[name] = (round(batch_loss(model, pr, val, full)[0].item(), 4),
                     round(batch_loss(model, pr, rotated, full)[0].item(), 4))
    return out


@torch.no_grad()
def reply_accuracy(model, pr, samples):
    """Teacher-forced, the VisionThink format: how many samples get every
    token of their last reply right (the answer after the full image for
    zoom samples), and how many the zoom decision (the token after the first
    </think>).  Returns (replies right, decisions right, samples)."""
    v = pr.v
    kvs, P = prefix_kv(model, pr.adaptive_prefix)
    emb = {}
    e = model.vision(torch.stack([pixels_of(world.half_image(s["image"])) for s in samples]))
    for b, s in enumerate(samples):
        emb[("low", b)] = e[b]
        if s["zoom"]:
            emb[("full", b)] = model.vision(pixels_of(s["image"])[None])[0]
    right = decided = 0
    for b, s in enumerate(samples):
        h, pos, labels = embed_layout(model, [pr.adaptive(s, b, P)], emb, pr.pad)
        hn, _ = model.text(h, pos, past=kvs)
        sel = labels[0] != -100
        tgt, pred = labels[0][sel].tolist(), model.text.logits(hn[0][sel]).argmax(-1).tolist()
        last, first = s["replies"][-1], s["replies"][0]
        base = len(tgt) - len(v.encode(last)) - 1
        right += tgt[base:] == pred[base:]
        j = len(v.encode(first[:first.index("</think>") + len("</think>")]))
        decided += tgt[j] == pred[j]
    return right, decided, len(samples)


def train_acc(model, pr, w, kind, n=24):
    right, _, _ = reply_accuracy(model, pr, [w.sample(10**6 + i, kind=kind) for i in range(n)])
    return f"{right}/{n}"


def parse_mix(text):
    mix = {}
    for part in text.split(","):
        k, _, w = part.partition("=")
        kinds = ("o", "oc", "a", "b", "c", *world.FOCUS)
        if k not in kinds or not w:
            raise argparse.ArgumentTypeError(f"bad mix entry {part!r} (want kind=weight, kinds {' '.join(kinds)})")
        mix[k] = float(w)
    return mix


def lr_at(step, a):
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    p = min(1.0, (step - a.warmup) / max(1, a.steps - a.warmup))
    return a.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", default=os.path.join(ROOT, "assets", "demo-train", "ckpt.pt"))
    ap.add_argument("--steps", type=int, default=7000, help="total steps of the schedule (resume continues)")
    ap.add_argument("--stop-after", type=int, default=0, help="stop after this many steps in this sitting")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--rewarm", type=int, default=0,
                    help="ramp the lr up again over this many steps of this sitting (a resumed run whose tower "
                         "vision-pretrain.py replaced has no Adam moments for it: full-lr first steps move "
                         "every weight by ~lr)")
    ap.add_argument("--wd", type=float, default=0.01)
    ap.add_argument("--full-frac", type=float, default=0.2, help="without --no-curriculum: the stage's")
    ap.add_argument("--no-curriculum", dest="curriculum", action="store_false",
                    help="the last stage's mix from the first step")
    ap.add_argument("--mix", type=parse_mix, default=None,
                    help="kinds and weights for this sitting instead of the curriculum's, e.g. o=0.5,a=0.5 "
                         "(with --full-frac): a decoder that stopped looking relearns it on one shape")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--save-every", type=int, default=100)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--probe-every", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    ap.add_argument("--aux-from", type=int, default=-1,
                    help="add the auxiliary per-token loss from this step on (default: never; from step 0 the "
                         "first (multi-hot) head "
                         "kept a fresh decoder from looking at all: own/other loss 0.1367/0.1367 at step 100, "
                         "0.0999/0.4240 without it)")
    ap.add_argument("--rope-base", type=float, default=Config.rope_base,
                    help="text M-RoPE base of a fresh model (a checkpoint keeps its own); README, Status")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    os.makedirs(os.path.dirname(a.ckpt), exist_ok=True)
    log_path = os.path.join(os.path.dirname(a.ckpt), "log.jsonl")
    pr = Prompts(Vocab())
    start = 0
    if os.path.exists(a.ckpt) and not a.fresh:
        ck = torch.load(a.ckpt)
        c = Config(**{**ck["config"], "sections": tuple(ck["config"]["sections"])})
        model = DemoVLM(c)
        model.load_state_dict(ck["model"])
        opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.wd, betas=(0.9, 0.98))
        aux = auxmod.head(c.n_embd)
        same_head = ck.get("aux") is not None and ck.get("aux_version") == auxmod.VERSION
        if same_head:
            aux.load_state_dict(ck["aux"])
        if same_head and len(ck["opt"]["param_groups"]) == 2:
            opt.add_param_group({"params": list(aux.parameters())})
            unpack_opt(opt, ck["opt"])
        else:
            # an older head, or one vision-pretrain.py trained: the model's moments, fresh ones for the head
            unpack_opt(opt, model_group_only(ck["opt"]))
            opt.add_param_group({"params": list(aux.parameters())})
        start = ck["step"]
        print(f"resumed from {a.ckpt} at step {start}", flush=True)
    else:
        torch.manual_seed(a.seed)
        model = DemoVLM(Config(rope_base=a.rope_base))
        opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.wd, betas=(0.9, 0.98))
        aux = auxmod.head(model.c.n_embd)
        opt.add_param_group({"params": list(aux.parameters())})
        if os.path.exists(log_path):
            os.remove(log_path)
    print(f"{n_params(model)} parameters; prefix {len(pr.adaptive_prefix)} tokens (adaptive), "
          f"{len(pr.full_prefix)} (full)", flush=True)
    w = world.World(a.seed)
    pw = world.World(a.seed + 500)   # probe samples: not in the training stream
    t0, seen, acc_loss, acc_n = time.time(), 0, 0.0, 0
    step = start
    end = a.steps if not a.stop_after else min(a.steps, start + a.stop_after)
    while step < end:
        ramp = min(1.0, (step - start + 1) / a.rewarm) if a.rewarm > 0 else 1.0
        for g in opt.param_groups:
            g["lr"] = lr_at(step, a) * ramp
        full_frac = stage_at(step)[1] if a.curriculum and not a.mix else a.full_frac
        full_mode = random.Random(a.seed * 7777 + step).random() < full_frac
        kinds = batch_kinds(step, a)
        samples = [w.sample(step * a.batch + b, kind=k) for b, k in enumerate(kinds)]
        use_aux = a.aux_from >= 0 and step >= a.aux_from
        loss, _ = batch_loss(model, pr, samples, full_mode, aux if use_aux else None)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        limit_patch_embedding(model)
        step += 1
        seen += a.batch
        acc_loss += loss.item()
        acc_n += 1
        if step % a.log_every == 0:
            dt = time.time() - t0
            rec = {"step": step, "loss": round(acc_loss / acc_n, 4), "samples_per_s": round(seen / dt, 2),
                   "lr": round(lr_at(step - 1, a), 6), "time": round(time.time(), 1)}
            print(json.dumps(rec), flush=True)
            with open(log_path, "a") as f:
                f.write(json.dumps(rec) + "\n")
            t0, seen, acc_loss, acc_n = time.time(), 0, 0.0, 0
        if step % a.probe_every == 0:
            mix = mix_at(step - 1, a)
            vr = random.Random(99)
            val = [pw.sample(i, kind=vr.choices(list(mix), weights=list(mix.values()))[0]) for i in range(32)]
            rec = {"step": step, "probe_own_other": probe(model, pr, val)}
            if step % (2 * a.probe_every) == 0:
                rec["reply_right"] = {k: train_acc(model, pr, pw, k) for k in "abc"}
            print(json.dumps(rec), flush=True)
            with open(log_path, "a") as f:
                f.write(json.dumps(rec) + "\n")
            t0 = time.time()
        if step % a.save_every == 0 or step == end:
            save(a.ckpt, model, opt, step, a, aux)
    print(f"done at step {step}; checkpoint {a.ckpt} ({os.path.getsize(a.ckpt) / 1e6:.1f} MB)", flush=True)


if __name__ == "__main__":
    main()
