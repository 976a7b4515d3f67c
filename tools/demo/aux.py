"""aux.py — the auxiliary per-token targets (training only, never exported).

A linear head on the merger output (what the decoder reads) names, for every
visual token, what its 28x28-pixel cell of the image holds, as six
classifications: the colour of a shape over it, the shape's type, the label
(which of the twelve words, "a number", "a label too small to read in this
pass", or none), a number label's two digits, and the title word.  The
decoder has to find the token that answers a question; features that say
plainly "red circle here" or "label 2, 9 here" are what it can find.

Why classes and not the first head's multi-hot letters: a linear probe on the
step-1000 tower (trained without any auxiliary loss) read shape colours from
its tokens (80 % of shape cells) but hardly shape types (43 %, chance 33 %)
and no letters (recall 2 %), and from step 1000 on the decoder stopped
looking again (own/other loss 0.1044/0.1711 at step 1000, 0.1020/0.1039 at
1300) once reading questions, which those features cannot answer, were half
the mix.  Why digits and not one class per number: with one class for each
of the 102 label texts, 800 steps of vision-pretrain.py (12.8 k images)
taught colours (91 % of shape cells) and "small label here" at half size
(49/54), but not one large label: each number was ~70 images.
"""
import torch
import torch.nn.functional as F

import world

N_COLOUR = len(world.COLORS) + 1                 # + none
N_TYPE = len(world.SHAPES) + 1                   # + none
N_LABEL = len(world.WORDS) + 3                   # + a number, + too small to read here, + none
N_DIGIT = 10 + 1                                 # + none (a word, unreadable, no label)
N_TITLE = len(world.TITLES) + 1                  # + none
SIZES = (N_COLOUR, N_TYPE, N_LABEL, N_DIGIT, N_DIGIT, N_TITLE)
NAMES = ("colour", "type", "label", "tens", "units", "title")
LABEL_NUMBER, LABEL_SMALL = len(world.WORDS), len(world.WORDS) + 1
K = sum(SIZES)
PRESENCE = (2,)   # the heads whose "none" is a target too: where the label is (and whether it is legible)
WEIGHT = 1.0
VERSION = 3       # checkpoints record it: 1 multi-hot letters, 2 one class per label text


def head(n_embd):
    return torch.nn.Linear(n_embd, K)


def _overlap(box, cell):
    x0, y0 = max(box[0], cell[0]), max(box[1], cell[1])
    x1, y1 = min(box[2], cell[2]), min(box[3], cell[3])
    return max(0, x1 - x0) * max(0, y1 - y0)


def targets(sample, grid, origin=(0, 0), full=None):
    """grid*grid x 6 class ids, raster order, for the image seen as grid x
    grid merged tokens (4: the half-size pass, 8: the full image).  A cell
    holds an object when it covers a quarter of the object or of the cell.
    For a crop (vision-pretrain.py): grid is the crop's, origin its top-left
    in full-image pixels, full whether it is cut from the full image."""
    t = torch.tensor([[s - 1 for s in SIZES]]).repeat(grid * grid, 1)
    if full is None:
        full = grid == world.SIZE // 28
    cs = 28 if full else 56     # a token's cell, in full-image pixels
    for o in sample.get("objects", []):
        b = (o["box"][0] - origin[0], o["box"][1] - origin[1], o["box"][2] - origin[0], o["box"][3] - origin[1])
        area = max(1, (b[2] - b[0]) * (b[3] - b[1]))
        for gy in range(grid):
            for gx in range(grid):
                ov = _overlap(b, (gx * cs, gy * cs, (gx + 1) * cs, (gy + 1) * cs))
                if ov < 0.25 * area and ov < 0.25 * cs * cs:
                    continue
                row = t[gy * grid + gx]
                if o["what"] == "shape":
                    row[0] = list(world.COLORS).index(o["colour"])
                    row[1] = world.SHAPES.index(o["type"])
                elif o["label"]:
                    if o["small"] and not full:
                        row[2] = LABEL_SMALL
                    elif o["text"].isdigit():
                        row[2], row[3], row[4] = LABEL_NUMBER, int(o["text"][0]), int(o["text"][1])
                    else:
                        row[2] = world.WORDS.index(o["text"])
                else:
                    row[5] = world.TITLES.index(o["text"])
    return t


def _split(logits):
    return torch.split(logits, SIZES, dim=-1)


def loss(h, embds, tgts):
    """Mean of the six heads' cross-entropies: the label head's over every
    cell, the others' over the cells that hold their kind of thing."""
    parts = _split(h(torch.cat(embds)))
    t = torch.cat(tgts)
    total = 0.0
    for k, p in enumerate(parts):
        tk = t[:, k]
        if k not in PRESENCE:
            # only the cells that hold one: the few digit cells drowned in
            # the "none" cells (digits at chance after 550 steps of 16, half
            # of them 140/84-px crops)
            tk = torch.where(tk == SIZES[k] - 1, torch.full_like(tk, -100), tk)
            if bool((tk == -100).all()):
                continue
        total = total + F.cross_entropy(p, tk, ignore_index=-100)
    return WEIGHT * total / len(parts)


@torch.no_grad()
def accuracy(h, embds, tgts):
    """Per head: (right, cells) over the cells that hold something."""
    parts = _split(h(torch.cat(embds)))
    t = torch.cat(tgts)
    out = {}
    for k, (name, p) in enumerate(zip(NAMES, parts)):
        sel = t[:, k] != SIZES[k] - 1
        out[name] = (int((p[sel].argmax(-1) == t[sel, k]).sum()), int(sel.sum()))
    return out
