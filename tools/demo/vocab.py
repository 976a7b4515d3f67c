"""vocab.py — the demo model's small vocabulary and a Python tokenizer for it.

The vocabulary is the tiny reference model's (tests/data/tiny/models/
qwen25vl-text-q8_0.gguf): the first 4096 Qwen2 byte-level BPE tokens with
their 3840 merges, the 22 Qwen2.5 added tokens (<|im_start|>, <|image_pad|>,
<tool_call>, ...) and [PAD] entries up to 4160 rows.  The engine's tokenizer
needs tokenizer.ggml.model "gpt2" and pre "qwen2"; the exporter copies every
tokenizer.* key of that file unchanged, so the engine tokenizes exactly as
this module does.

The Python encoder implements the Qwen2 pre-tokenizer for ASCII text (all
the demo world's text is ASCII; \\p{L} = [A-Za-z], \\p{N} = [0-9]) and the
BPE merge loop of spec F.4, plus added-token splitting.  `python3 vocab.py
--check` compares it with `squint-cli tokenize` on the protocol texts and a
few hundred generated questions and replies.

    python3 tools/demo/vocab.py --check --cli build/ui/term/squint-cli
"""
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
VOCAB_GGUF = os.path.join(ROOT, "tests", "data", "tiny", "models", "qwen25vl-text-q8_0.gguf")


# ---- a minimal GGUF metadata reader (spec A) ----

_SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def read_gguf_kv(path):
    """Returns {key: value} of a GGUF file's metadata (arrays as lists)."""
    with open(path, "rb") as f:
        data = f.read()
    off = 0

    def take(fmt):
        nonlocal off
        v = struct.unpack_from(fmt, data, off)[0]
        off += struct.calcsize(fmt)
        return v

    def string():
        nonlocal off
        n = take("<Q")
        s = data[off:off + n].decode("utf-8")
        off += n
        return s

    def value(t):
        if t == 8:
            return string()
        if t == 9:
            et = take("<I")
            n = take("<Q")
            return [value(et) for _ in range(n)]
        return take(_SCALAR[t])

    if data[:4] != b"GGUF":
        raise ValueError(path + ": not a GGUF file")
    off = 4
    take("<I")
    take("<Q")  # tensor count
    n_kv = take("<Q")
    kv = {}
    for _ in range(n_kv):
        k = string()
        kv[k] = value(take("<I"))
    return kv


# ---- byte-level BPE ----

def bytes_to_unicode():
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


# Qwen2's pre-tokenizer regex restricted to ASCII.
_PRETOK = re.compile(
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\nA-Za-z0-9]?[A-Za-z]+|[0-9]| ?[^\sA-Za-z0-9]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")


class Vocab:
    def __init__(self, path=VOCAB_GGUF):
        kv = read_gguf_kv(path)
        assert kv["tokenizer.ggml.model"] == "gpt2" and kv["tokenizer.ggml.pre"] == "qwen2", "not a Qwen2 vocabulary"
        self.kv = {k: v for k, v in kv.items() if k.startswith("tokenizer.")}
        self.tokens = kv["tokenizer.ggml.tokens"]
        self.types = kv["tokenizer.ggml.token_type"]
        self.n_rows = len(self.tokens)
        self.id = {t: i for i, t in enumerate(self.tokens)}
        self.ranks = {tuple(m.split(" ", 1)): r for r, m in enumerate(kv["tokenizer.ggml.merges"])}
        # added tokens: CONTROL (3) and USER_DEFINED (4)
        self.added = sorted([t for t, ty in zip(self.tokens, self.types) if ty in (3, 4)], key=len, reverse=True)
        self.b2u = bytes_to_unicode()
        self.u2b = {v: k for k, v in self.b2u.items()}
        self._cache = {}
        self._added_re = re.compile("|".join(re.escape(t) for t in self.added))

    def __getitem__(self, text):
        return self.id[text]

    def _bpe(self, piece):
        if piece in self._cache:
            return self._cache[piece]
        syms = list(piece)
        while len(syms) > 1:
            best, bi = None, -1
            for i in range(len(syms) - 1):
                r = self.ranks.get((syms[i], syms[i + 1]))
                if r is not None and (best is None or r < best):
                    best, bi = r, i
            if best is None:
                break
            syms[bi:bi + 2] = [syms[bi] + syms[bi + 1]]
        ids = []
        for s in syms:
            if s in self.id:
                ids.append(self.id[s])
            else:
                ids.extend(self.id[c] for c in s)
        self._cache[piece] = ids
        return ids

    def _encode_plain(self, text):
        ids = []
        for m in _PRETOK.finditer(text):
            piece = "".join(self.b2u[b] for b in m.group(0).encode("utf-8"))
            ids.extend(self._bpe(piece))
        return ids

    def encode(self, text):
        """Token ids of text, added tokens parsed (as the engine's prompts are)."""
        ids, pos = [], 0
        for m in self._added_re.finditer(text):
            if m.start() > pos:
                ids.extend(self._encode_plain(text[pos:m.start()]))
            ids.append(self.id[m.group(0)])
            pos = m.end()
        if pos < len(text):
            ids.extend(self._encode_plain(text[pos:]))
        return ids

    def decode(self, ids):
        out = bytearray()
        for i in ids:
            t = self.tokens[i]
            if self.types[i] in (3, 4):
                out.extend(t.encode("utf-8"))
            else:
                out.extend(self.u2b[c] for c in t)
        return out.decode("utf-8", errors="replace")


def _check(cli):
    import subprocess
    import world
    v = Vocab()
    texts = [world.SYSTEM, world.USER, world.PLAIN_SYSTEM, world.TOOL_INTRO, world.TOOL_AFTER]
    w = world.World(seed=99)
    for i in range(300):
        s = w.sample(i)
        texts.append(s["question"])
        texts.extend(s["replies"])
    texts.append(world.adaptive_prefix() + "<|image_pad|>" + world.first_suffix("How many?"))
    bad = 0
    for t in texts:
        want = subprocess.run([cli, "tokenize", "-m", VOCAB_GGUF, "--", t], capture_output=True, text=True,
                              check=True).stdout.split()
        got = [str(i) for i in v.encode(t)]
        if want != got:
            bad += 1
            print("MISMATCH", repr(t)[:100], want[:20], got[:20])
    print(f"{len(texts)} texts, {bad} mismatches")
    return bad == 0


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    if "--check" in sys.argv:
        cli = sys.argv[sys.argv.index("--cli") + 1] if "--cli" in sys.argv else os.path.join(
            ROOT, "build", "ui", "term", "squint-cli")
        sys.exit(0 if _check(cli) else 1)
    v = Vocab()
    print(f"{v.n_rows} rows, {len(v.ranks)} merges, {len(v.added)} added tokens")
