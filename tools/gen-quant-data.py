#!/usr/bin/python3
"""Generate tests/data/quant/: random ggml blocks and their dequantization.

For each type NAME this writes

  NAME.blocks   raw block bytes (little-endian, ggml layout)
  NAME.f32      the dequantized values, little-endian float32

The values are computed here with numpy float32 arithmetic straight from the
formulas of qwen25vl-spec.md A.6 (the same arithmetic as gguf-py's
gguf.quants), independently of engine/quant.c, which test-quant.c checks
against these files bit for bit.

Blocks are random, plus edge cases: zero blocks, all-minimum and all-maximum
quants, subnormal, huge, negative and infinite f16 scales.

Run from the repository root:  /usr/bin/python3 tools/gen-quant-data.py
"""

import os

import numpy as np

OUT = os.path.join("tests", "data", "quant")
RNG = np.random.default_rng(20250117)

F32 = np.float32

# f16 scale bit patterns worth testing: zero, smallest and largest subnormal,
# smallest normal, one, largest finite, negative, infinity.
EDGE_SCALES = [0x0000, 0x0001, 0x03FF, 0x0400, 0x3C00, 0x7BFF, 0xB4CD, 0x7C00]


def f16_bits_to_f32(bits):
    return np.asarray(bits, dtype=np.uint16).view(np.float16).astype(F32)


def random_scales(n, edge_every=0):
    """f16 scale bits: mostly small normals, some edge patterns."""
    vals = RNG.normal(0.0, 0.02, size=n).astype(np.float16)
    bits = vals.view(np.uint16).copy()
    if edge_every:
        for i in range(0, n, edge_every):
            bits[i] = EDGE_SCALES[(i // edge_every) % len(EDGE_SCALES)]
    return bits


def random_bytes(n_blocks, n):
    return RNG.integers(0, 256, size=(n_blocks, n), dtype=np.uint8)


def with_extremes(qs):
    """Block 1 all zero bits, block 2 all one bits (min / max quants)."""
    qs[1, :] = 0x00
    qs[2, :] = 0xFF
    return qs


def nibbles(qs):
    """(n, 16) bytes → (n, 32) values: low nibbles first, then high."""
    return np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int32)


def fifth_bits(qh):
    """(n, 4) bytes → (n, 32) bits: bit j of the little-endian u32."""
    h = qh.astype(np.uint32)
    word = h[:, 0] | (h[:, 1] << 8) | (h[:, 2] << 16) | (h[:, 3] << 24)
    j = np.arange(32, dtype=np.uint32)
    return ((word[:, None] >> j) & 1).astype(np.int32)


def pack(*fields):
    """Concatenate per-block fields (each (n, k) uint8) into block bytes."""
    return np.concatenate([np.asarray(f, dtype=np.uint8) for f in fields], axis=1)


def u16_bytes(bits):
    return np.asarray(bits, dtype="<u2").reshape(-1, 1).view(np.uint8)


def legacy(name, n_blocks):
    d_bits = random_scales(n_blocks, edge_every=3)
    d_bits[0] = 0x2E66  # block 0 is all-zero quants with an ordinary scale
    d = f16_bits_to_f32(d_bits)[:, None]
    m_bits = random_scales(n_blocks)
    m_bits[4] = 0x8001  # a negative subnormal minimum
    m = f16_bits_to_f32(m_bits)[:, None]

    if name == "q8_0":
        qs = RNG.integers(-128, 128, size=(n_blocks, 32), dtype=np.int8)
        qs[0] = 0
        qs[1] = -128
        qs[2] = 127
        y = d * qs.astype(F32)
        return pack(u16_bytes(d_bits), qs.view(np.uint8)), y

    qs = with_extremes(random_bytes(n_blocks, 16))
    qs[0] = 0
    if name in ("q5_0", "q5_1"):
        qh = with_extremes(random_bytes(n_blocks, 4))
        qh[0] = 0
        q = (nibbles(qs) | (fifth_bits(qh) << 4)).astype(F32)
    else:
        q = nibbles(qs).astype(F32)

    if name == "q4_0":
        return pack(u16_bytes(d_bits), qs), d * (q - F32(8))
    if name == "q4_1":
        return pack(u16_bytes(d_bits), u16_bytes(m_bits), qs), d * q + m
    if name == "q5_0":
        return pack(u16_bytes(d_bits), qh, qs), d * (q - F32(16))
    if name == "q5_1":
        return pack(u16_bytes(d_bits), u16_bytes(m_bits), qh, qs), d * q + m
    raise ValueError(name)


def k4_scales_mins(scales):
    """(n, 12) packed bytes → (n, 8) scales and (n, 8) mins (spec A.6)."""
    s = scales.astype(np.int32)
    sc = np.empty((s.shape[0], 8), dtype=np.int32)
    mn = np.empty_like(sc)
    for j in range(8):
        if j < 4:
            sc[:, j] = s[:, j] & 63
            mn[:, j] = s[:, j + 4] & 63
        else:
            sc[:, j] = (s[:, j + 4] & 15) | ((s[:, j - 4] >> 6) << 4)
            mn[:, j] = (s[:, j + 4] >> 4) | ((s[:, j] >> 6) << 4)
    return sc, mn


def k_quant(name, n_blocks):
    d_bits = random_scales(n_blocks, edge_every=2)
    d = f16_bits_to_f32(d_bits)
    dmin_bits = random_scales(n_blocks)
    dmin_bits[3] = 0x0005  # subnormal
    dmin = f16_bits_to_f32(dmin_bits)

    if name == "q6_K":
        ql = with_extremes(random_bytes(n_blocks, 128))
        qh = with_extremes(random_bytes(n_blocks, 64))
        sc = RNG.integers(-128, 128, size=(n_blocks, 16), dtype=np.int8)
        sc[1] = -128
        sc[2] = 127
        ql[0] = 0
        qh[0] = 0
        y = np.empty((n_blocks, 256), dtype=F32)
        for h in range(2):
            l = np.arange(32)
            L = ql[:, 64 * h:64 * h + 64].astype(np.int32)
            H = qh[:, 32 * h:32 * h + 32].astype(np.int32)
            q1 = ((L[:, l] & 15) | (((H[:, l] >> 0) & 3) << 4)) - 32
            q2 = ((L[:, l + 32] & 15) | (((H[:, l] >> 2) & 3) << 4)) - 32
            q3 = ((L[:, l] >> 4) | (((H[:, l] >> 4) & 3) << 4)) - 32
            q4 = ((L[:, l + 32] >> 4) | (((H[:, l] >> 6) & 3) << 4)) - 32
            is_ = l // 16
            S = sc[:, 8 * h:8 * h + 8].astype(F32)
            ds = lambda k: d[:, None] * S[:, is_ + k]
            base = 128 * h
            y[:, base + l] = ds(0) * q1.astype(F32)
            y[:, base + l + 32] = ds(2) * q2.astype(F32)
            y[:, base + l + 64] = ds(4) * q3.astype(F32)
            y[:, base + l + 96] = ds(6) * q4.astype(F32)
        return pack(ql, qh, sc.view(np.uint8), u16_bytes(d_bits)), y

    scales = with_extremes(random_bytes(n_blocks, 12))
    qs = with_extremes(random_bytes(n_blocks, 128))
    qs[0] = 0
    sc, mn = k4_scales_mins(scales)
    qh = None
    if name == "q5_K":
        qh = with_extremes(random_bytes(n_blocks, 32))
    y = np.empty((n_blocks, 256), dtype=F32)
    l = np.arange(32)
    for c in range(4):
        q = qs[:, 32 * c:32 * c + 32].astype(np.int32)
        lo, hi = q & 15, q >> 4
        if qh is not None:
            H = qh.astype(np.int32)
            lo = lo + (((H >> (2 * c)) & 1) << 4)
            hi = hi + (((H >> (2 * c + 1)) & 1) << 4)
        for k, v in ((0, lo), (1, hi)):
            j = 2 * c + k
            d1 = d * sc[:, j].astype(F32)
            m1 = dmin * mn[:, j].astype(F32)
            y[:, 64 * c + 32 * k + l] = d1[:, None] * v.astype(F32) - m1[:, None]
    fields = [u16_bytes(d_bits), u16_bytes(dmin_bits), scales]
    if qh is not None:
        fields.append(qh)
    fields.append(qs)
    return pack(*fields), y


def q8_k(n_blocks):
    d = RNG.normal(0.0, 0.05, size=n_blocks).astype(F32)
    d[0] = 0.0
    qs = RNG.integers(-127, 128, size=(n_blocks, 256), dtype=np.int8)
    bsums = qs.astype(np.int16).reshape(n_blocks, 16, 16).sum(axis=2, dtype=np.int16)
    y = d[:, None] * qs.astype(F32)
    blocks = pack(d.astype("<f4").reshape(-1, 1).view(np.uint8), qs.view(np.uint8),
                  bsums.astype("<i2").view(np.uint8))
    return blocks, y


def f16_values(n):
    bits = RNG.integers(0, 1 << 16, size=n, dtype=np.uint16)
    # NaN payloads are left to the exhaustive test in test-quant.c.
    bits[(bits & 0x7C00) == 0x7C00] &= 0xFC00
    bits[:8] = EDGE_SCALES
    return u16_bytes(bits), f16_bits_to_f32(bits)


def bf16_values(n):
    bits = RNG.integers(0, 1 << 16, size=n, dtype=np.uint16)
    bits[(bits & 0x7F80) == 0x7F80] &= 0xFF80
    bits[:4] = [0x0000, 0x0001, 0x7F7F, 0xFF80]
    f = (bits.astype(np.uint32) << 16).view(F32)
    return u16_bytes(bits), f


def write(name, blocks, values):
    blocks = np.ascontiguousarray(blocks, dtype=np.uint8)
    values = np.ascontiguousarray(values, dtype="<f4")
    with open(os.path.join(OUT, name + ".blocks"), "wb") as f:
        f.write(blocks.tobytes())
    with open(os.path.join(OUT, name + ".f32"), "wb") as f:
        f.write(values.tobytes())


def main():
    os.makedirs(OUT, exist_ok=True)
    np.seterr(all="ignore")  # inf·0 in the infinite-scale blocks is meant
    write("f16", *f16_values(512))
    write("bf16", *bf16_values(512))
    for name in ("q4_0", "q4_1", "q5_0", "q5_1", "q8_0"):
        write(name, *legacy(name, 24))
    for name in ("q4_K", "q5_K", "q6_K"):
        write(name, *k_quant(name, 6))
    write("q8_K", *q8_k(3))


if __name__ == "__main__":
    main()
