"""model.py — the demo model: Qwen2.5-VL's architecture at toy size, in PyTorch.

Written to mirror the engine's math (qwen25vl-spec.md B, C, D), so the
exported GGUF pair runs unchanged through engine/vision.c and engine/text.c:

vision (mmproj):  14x14 patches in merge-block order, embedded by two
  temporal kernels (a still image is two identical frames: e = (W0 + W1) p),
  blocks of RMSNorm -> q,k,v (biases) -> 2-D RoPE (pairs j < D/4 rotate by the
  patch row, the next D/4 by the column, base 10000, NEOX pairing j <-> j+D/2)
  -> window attention (windows of 4x4 merged tokens = 112 px; layer L attends
  over the whole image iff (L+1) % n_wa_pattern == 0) -> out proj (bias) ->
  RMSNorm -> SwiGLU with biases; then the merger: RMSNorm, concatenate each
  2x2 group, Linear -> exact (erf) GELU -> Linear to the text width.
text (qwen2vl):  token embedding (image rows replaced by the merger output),
  blocks of RMSNorm -> q,k,v (biases) -> M-RoPE (pair k uses position
  t, h or w by the sections, frequency base^(-2k/D) with the global k) ->
  causal GQA attention -> o (no bias) -> RMSNorm -> SwiGLU (no biases);
  final RMSNorm and tied output (token_embd).
Positions follow spec B.5: text tokens (p, p, p); an image of gh x gw merged
tokens starting at P gets (P, P + row, P + col), then next = P + max(gh, gw).

Attention is written as plain matmuls (faster than SDPA on a 2-core CPU).
"""
import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

# Pixel normalization, written to the mmproj (clip.vision.image_mean/std).
# Not CLIP's (0.48, 0.46, 0.41)/(0.27, 0.26, 0.28): on these near-white
# canvases CLIP's maps the background to ~1.9 in every element, a constant
# patch vector that the blocks' RMSNorm (no centring) keeps, and a fresh
# tower did not learn to tell one digit from another (chance after 100 steps
# of 32 crops; the first block's query weights got gradients 80x smaller).
# White at 0 learned them (32 % after 100 steps).
MEAN = (1.0, 1.0, 1.0)
STD = (0.5, 0.5, 0.5)


@dataclass
class Config:
    # text
    n_vocab: int = 4160
    n_embd: int = 192
    n_layer: int = 4
    n_head: int = 6
    n_head_kv: int = 2
    n_ff: int = 384
    sections: tuple = (4, 6, 6, 0)
    rope_base: float = 100.0   # not Qwen's 1e6: see README, Status (columns need the w pairs to turn)
    eps: float = 1e-6
    # vision
    v_embd: int = 128
    v_layer: int = 4
    v_head: int = 4
    v_ff: int = 256
    v_wa_pattern: int = 2
    patch: int = 14
    merge: int = 2
    window_px: int = 112

    def to_dict(self):
        d = asdict(self)
        d["sections"] = list(self.sections)
        return d


def rmsnorm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate(x, cos, sin):
    """NEOX rotation: element k pairs with k + D/2.  cos/sin have D/2 columns."""
    h = x.shape[-1] // 2
    a, b = x[..., :h], x[..., h:]
    return torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)


# ---- vision ----

class VisionBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, f = c.v_embd, c.v_ff
        self.ln1 = nn.Parameter(torch.ones(d))
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.ln2 = nn.Parameter(torch.ones(d))
        self.gate, self.up = nn.Linear(d, f), nn.Linear(d, f)
        self.down = nn.Linear(f, d)

    def forward(self, x, cos, sin, mask, n_head, eps):
        B, N, d = x.shape
        hd = d // n_head
        a = rmsnorm(x, self.ln1, eps)
        q = self.q(a).view(B, N, n_head, hd).transpose(1, 2)
        k = self.k(a).view(B, N, n_head, hd).transpose(1, 2)
        v = self.v(a).view(B, N, n_head, hd).transpose(1, 2)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        s = (q * (1.0 / math.sqrt(hd))) @ k.transpose(-1, -2)
        if mask is not None:
            s = s + mask
        o = (s.softmax(-1) @ v).transpose(1, 2).reshape(B, N, d)
        x = x + self.o(o)
        b = rmsnorm(x, self.ln2, eps)
        return x + self.down(F.silu(self.gate(b)) * self.up(b))


class Vision(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        pp = 3 * c.patch * c.patch
        self.patch0 = nn.Parameter(torch.randn(c.v_embd, pp) * 0.02)   # v.patch_embd.weight
        self.patch1 = nn.Parameter(torch.randn(c.v_embd, pp) * 0.02)   # v.patch_embd.weight.1
        self.blocks = nn.ModuleList(VisionBlock(c) for _ in range(c.v_layer))
        self.post_ln = nn.Parameter(torch.ones(c.v_embd))
        self.mm0 = nn.Linear(4 * c.v_embd, 4 * c.v_embd)
        self.mm2 = nn.Linear(4 * c.v_embd, c.n_embd)
        self._geo = {}

    def geometry(self, H, W, device):
        """RoPE tables and the window mask for an H x W image (merge-block order)."""
        key = (H, W)
        if key not in self._geo:
            c = self.c
            gh, gw = H // (c.patch * c.merge), W // (c.patch * c.merge)
            rows, cols, win = [], [], []
            wc = c.window_px // (c.patch * c.merge)
            nwx = (gw + wc - 1) // wc
            for R in range(gh):
                for C in range(gw):
                    for dy in range(2):
                        for dx in range(2):
                            rows.append(2 * R + dy)
                            cols.append(2 * C + dx)
                            win.append((R // wc) * nwx + C // wc)
            hd = c.v_embd // c.v_head
            q = hd // 4
            inv = torch.tensor([10000.0 ** (-2.0 * i / (hd // 2)) for i in range(q)], dtype=torch.float64)
            rows = torch.tensor(rows, dtype=torch.float64)
            cols = torch.tensor(cols, dtype=torch.float64)
            th = torch.cat([rows[:, None] * inv[None], cols[:, None] * inv[None]], dim=1)  # N x D/2
            cos, sin = th.cos().float(), th.sin().float()
            win = torch.tensor(win)
            mask = torch.where(win[:, None] == win[None, :], 0.0, float("-inf")).float()
            self._geo[key] = (cos.to(device), sin.to(device), mask.to(device), gh, gw)
        return self._geo[key]

    def forward(self, pixels):
        """pixels: B x 3 x H x W, normalized.  Returns B x (gh*gw) x n_embd, raster order."""
        c = self.c
        B, _, H, W = pixels.shape
        cos, sin, mask, gh, gw = self.geometry(H, W, pixels.device)
        p = c.patch
        x = pixels.view(B, 3, gh, 2, p, gw, 2, p).permute(0, 2, 5, 3, 6, 1, 4, 7).reshape(B, gh * gw * 4, 3 * p * p)
        x = x @ (self.patch0 + self.patch1).t()
        for il, blk in enumerate(self.blocks):
            full = (il + 1) % c.v_wa_pattern == 0
            x = blk(x, cos, sin, None if full else mask, c.v_head, c.eps)
        x = rmsnorm(x, self.post_ln, c.eps).reshape(B, gh * gw, 4 * c.v_embd)
        return self.mm2(F.gelu(self.mm0(x)))  # exact erf GELU


# ---- text ----

class TextBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, hd = c.n_embd, c.n_embd // c.n_head
        self.attn_norm = nn.Parameter(torch.ones(d))
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, c.n_head_kv * hd)
        self.v = nn.Linear(d, c.n_head_kv * hd)
        self.o = nn.Linear(d, d, bias=False)
        self.ffn_norm = nn.Parameter(torch.ones(d))
        self.gate = nn.Linear(d, c.n_ff, bias=False)
        self.up = nn.Linear(d, c.n_ff, bias=False)
        self.down = nn.Linear(c.n_ff, d, bias=False)


class Text(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embd = nn.Parameter(torch.randn(c.n_vocab, c.n_embd) * 0.02)
        self.blocks = nn.ModuleList(TextBlock(c) for _ in range(c.n_layer))
        self.out_norm = nn.Parameter(torch.ones(c.n_embd))
        hd = c.n_embd // c.n_head
        self.register_buffer("inv", torch.tensor([c.rope_base ** (-2.0 * k / hd) for k in range(hd // 2)],
                                                 dtype=torch.float64), persistent=False)
        sec = []
        for s, n in enumerate(c.sections):
            sec += [s] * n
        self.sec = sec[:hd // 2]

    def rope_tables(self, pos):
        """pos: 3 x B x L integer (t, h, w) -> cos, sin of B x 1 x L x D/2."""
        sel = torch.stack([pos[s] for s in self.sec], dim=-1).double()   # B x L x D/2
        th = sel * self.inv
        return th.cos().float()[:, None], th.sin().float()[:, None]

    def forward(self, h, pos, past=None, want_kv=False):
        """h: B x L x d input embeddings; pos: 3 x B x L.  past: per-layer (k, v)
        of a shared prefix (1 x Hkv x P x D), attended by every row.  Returns
        the final normalized hidden states (B x L x d) and, with want_kv, the
        per-layer (k, v) of these rows."""
        c = self.c
        B, L, d = h.shape
        hd = d // c.n_head
        g = c.n_head // c.n_head_kv
        cos, sin = self.rope_tables(pos)
        causal = torch.full((L, L), float("-inf"), device=h.device).triu(1)
        kvs = []
        for il, blk in enumerate(self.blocks):
            x = rmsnorm(h, blk.attn_norm, c.eps)
            q = blk.q(x).view(B, L, c.n_head, hd).transpose(1, 2)
            k = blk.k(x).view(B, L, c.n_head_kv, hd).transpose(1, 2)
            v = blk.v(x).view(B, L, c.n_head_kv, hd).transpose(1, 2)
            q, k = rotate(q, cos, sin), rotate(k, cos, sin)
            if want_kv:
                kvs.append((k, v))
            # GQA: query head i uses kv head i // g
            qg = (q * (1.0 / math.sqrt(hd))).reshape(B, c.n_head_kv, g * L, hd)
            s = (qg @ k.transpose(-1, -2)).view(B, c.n_head_kv, g, L, L) + causal
            if past is None:
                o = s.softmax(-1).view(B, c.n_head_kv, g * L, L) @ v
            else:
                o = self._with_prefix(qg, s, v, past[il])
            o = o.reshape(B, c.n_head, L, hd)
            h = h + blk.o(o.transpose(1, 2).reshape(B, L, d))
            x = rmsnorm(h, blk.ffn_norm, c.eps)
            h = h + blk.down(F.silu(blk.gate(x)) * blk.up(x))
        return rmsnorm(h, self.out_norm, c.eps), kvs

    @staticmethod
    def _with_prefix(qg, s, v, prefix):
        """Attention over a shared prefix's keys and the rows' own keys without
        copying the prefix per row: the prefix scores fold the batch into the
        query rows, and the two parts share one softmax (max/sum combined).
        qg: B x Hkv x gL x D; s: B x Hkv x g x L x L (causal); prefix k, v:
        1 x Hkv x P x D.  Returns B x Hkv x gL x D."""
        pk, pv = prefix
        B, Hkv, gL, D = qg.shape
        P = pk.shape[2]
        sp = (qg.transpose(0, 1).reshape(Hkv, B * gL, D) @ pk[0].transpose(-1, -2))   # Hkv x B*gL x P
        sp = sp.view(Hkv, B, gL, P).transpose(0, 1)                                     # B x Hkv x gL x P
        ss = s.reshape(B, Hkv, gL, -1)
        m = torch.maximum(sp.amax(-1, keepdim=True), ss.amax(-1, keepdim=True)).detach()
        ep, es = (sp - m).exp(), (ss - m).exp()
        den = ep.sum(-1, keepdim=True) + es.sum(-1, keepdim=True)
        op = (ep.transpose(0, 1).reshape(Hkv, B * gL, P) @ pv[0]).view(Hkv, B, gL, D).transpose(0, 1)
        return (op + es @ v) / den

    def logits(self, hn):
        return hn @ self.embd.t()


class DemoVLM(nn.Module):
    def __init__(self, c=None):
        super().__init__()
        self.c = c or Config()
        self.vision = Vision(self.c)
        self.text = Text(self.c)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        # residual projections scaled down (GPT-2 style)
        for blk in list(self.vision.blocks) + list(self.text.blocks):
            nn.init.normal_(blk.o.weight, std=0.02 / math.sqrt(2 * len(self.text.blocks)))
            nn.init.normal_(blk.down.weight, std=0.02 / math.sqrt(2 * len(self.text.blocks)))


def n_params(m):
    return sum(p.numel() for p in m.parameters())


# ---- inputs ----

def pixels_of(img):
    """PIL RGB image -> 3 x H x W normalized float tensor (spec D.3)."""
    import numpy as np
    a = torch.from_numpy(np.asarray(img, dtype=np.uint8).copy()).permute(2, 0, 1).float() / 255.0
    mean = torch.tensor(MEAN).view(3, 1, 1)
    std = torch.tensor(STD).view(3, 1, 1)
    return (a - mean) / std


class Layout:
    """A token sequence with images: ids (image rows = image_pad id), M-RoPE
    positions, where each image's rows are, and which tokens carry loss."""

    def __init__(self, image_pad, start_pos=0):
        self.image_pad = image_pad
        self.ids, self.t, self.h, self.w, self.target = [], [], [], [], []
        self.images = []     # (row index, key)
        self.next = start_pos

    def text(self, ids, train=False):
        for i in ids:
            self.ids.append(i)
            self.t.append(self.next)
            self.h.append(self.next)
            self.w.append(self.next)
            self.target.append(train)
            self.next += 1

    def image(self, gh, gw, key):
        self.images.append((len(self.ids), key))
        P = self.next
        for r in range(gh):
            for c in range(gw):
                self.ids.append(self.image_pad)
                self.t.append(P)
                self.h.append(P + r)
                self.w.append(P + c)
                self.target.append(False)
        self.next = P + max(gh, gw)

    def __len__(self):
        return len(self.ids)


def embed_layout(model, layouts, image_embd, pad_id):
    """Embeddings (B x L x d), positions (3 x B x L) and labels (B x L, -100 =
    no loss; labels[i] is the token at i + 1) of right-padded layouts.
    image_embd[key] is a (gh*gw) x d tensor."""
    B = len(layouts)
    L = max(len(l) for l in layouts)
    dev = model.text.embd.device
    ids = torch.full((B, L), pad_id, dtype=torch.long)
    pos = torch.zeros(3, B, L, dtype=torch.long)
    labels = torch.full((B, L), -100, dtype=torch.long)
    for b, l in enumerate(layouts):
        n = len(l)
        ids[b, :n] = torch.tensor(l.ids)
        pos[0, b, :n] = torch.tensor(l.t)
        pos[1, b, :n] = torch.tensor(l.h)
        pos[2, b, :n] = torch.tensor(l.w)
        # pad positions continue so RoPE stays finite
        if n < L:
            pos[:, b, n:] = torch.arange(l.next, l.next + L - n)
        tgt = torch.tensor(l.target[1:] + [False])
        nxt = torch.tensor(l.ids[1:] + [pad_id])
        labels[b, :n] = torch.where(tgt, nxt, torch.full_like(nxt, -100))
    h = model.text.embd[ids.to(dev)]
    rows_b, rows_i, embs = [], [], []
    for b, l in enumerate(layouts):
        for start, key in l.images:
            e = image_embd[key]
            rows_b.append(torch.full((e.shape[0],), b, dtype=torch.long))
            rows_i.append(torch.arange(start, start + e.shape[0]))
            embs.append(e)
    if embs:
        h = h.index_put((torch.cat(rows_b), torch.cat(rows_i)), torch.cat(embs))
    return h, pos.to(dev), labels.to(dev)
