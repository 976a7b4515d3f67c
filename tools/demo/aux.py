"""aux.py — the auxiliary per-token targets (training only, never exported).

A linear head on the merger output (what the decoder reads) names, for every
visual token, what its 28x28-pixel cell of the image holds, as four
classifications: the colour of a shape over it, the shape's type, the label
(which of the 102 label texts, "a label too small to read in this pass", or
none) and the title word.  The decoder has to find the token that answers a
question; features that say plainly "red circle here" or "label 29 here" are
what it can find.

Why classes and not the first head's multi-hot letters: a linear probe on the
step-1000 tower (trained without any auxiliary loss) read shape colours from
its tokens (80 % of shape cells) but hardly shape types (43 %, chance 33 %)
and no letters (recall 2 %), and from step 1000 on the decoder stopped
looking again (own/other loss 0.1044/0.1711 at step 1000, 0.1020/0.1039 at
1300) once reading questions, which those features cannot answer, were half
the mix.
"""
import torch
import torch.nn.functional as F

import world

LABELS = world.WORDS + [str(n) for n in range(10, 100)]
N_COLOUR = len(world.COLORS) + 1                 # + none
N_TYPE = len(world.SHAPES) + 1                   # + none
N_LABEL = len(LABELS) + 2                        # + too small to read here, + none
N_TITLE = len(world.TITLES) + 1                  # + none
SIZES = (N_COLOUR, N_TYPE, N_LABEL, N_TITLE)
NAMES = ("colour", "type", "label", "title")
K = sum(SIZES)
WEIGHT = 1.0
VERSION = 2       # checkpoints record it: version 1 was the multi-hot head


def head(n_embd):
    return torch.nn.Linear(n_embd, K)


def _overlap(box, cell):
    x0, y0 = max(box[0], cell[0]), max(box[1], cell[1])
    x1, y1 = min(box[2], cell[2]), min(box[3], cell[3])
    return max(0, x1 - x0) * max(0, y1 - y0)


def targets(sample, grid):
    """grid*grid x 4 class ids, raster order, for the image seen as grid x
    grid merged tokens (4: the half-size pass, 8: the full image).  A cell
    holds an object when it covers a quarter of the object or of the cell."""
    t = torch.tensor([[N_COLOUR - 1, N_TYPE - 1, N_LABEL - 1, N_TITLE - 1]]).repeat(grid * grid, 1)
    cs = world.SIZE / grid
    for o in sample.get("objects", []):
        b = o["box"]
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
                    legible = not o["small"] or grid == world.SIZE // 28
                    row[2] = LABELS.index(o["text"]) if legible else len(LABELS)
                else:
                    row[3] = world.TITLES.index(o["text"])
    return t


def _split(logits):
    return torch.split(logits, SIZES, dim=-1)


def loss(h, embds, tgts):
    """Mean of the four cross-entropies over every cell of every image."""
    parts = _split(h(torch.cat(embds)))
    t = torch.cat(tgts)
    return WEIGHT * sum(F.cross_entropy(p, t[:, k]) for k, p in enumerate(parts)) / len(parts)


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
