#!/usr/bin/python3
"""Generate tests/data/image/: the expected outputs test-image.c checks.

Everything here is computed independently of the C code, with Debian's
python3-pil and python3-numpy:

  decode.txt      PIL's RGB pixels (CRC-32) of each test file, expected errors
  norm.txt        llama.cpp-style float32 normalization (CRC-32 and samples)
  resample.txt    PIL Image.resize outputs (CRC-32), VisionThink's half-size
                  and small-image rules, HF smart_resize + bicubic + normalize,
                  and the HF pixel_values patch order
  smart_size.txt  HF smart_resize on a few hundred (w, h, min, max)

Synthetic sources are defined by formulas that test-image.c reproduces
(see synth()), so large inputs need not be committed.

Run from the repository root:  /usr/bin/python3 tools/gen-image-data.py
"""

import io
import math
import os
import random
import shutil
import struct
import sys
import zlib

import numpy as np
import PIL
from PIL import Image

OUT = os.path.join("tests", "data", "image")
REF = "/work/shared/reference/tiny"
REF_IMAGES = ["img_308x252.png", "img_224x168.png", "img_rgba_224x168.png"]

MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)

BICUBIC = Image.Resampling.BICUBIC
LANCZOS = Image.Resampling.LANCZOS
FILTERS = {"bicubic": BICUBIC, "lanczos": LANCZOS}


def crc(data):
    return "%08x" % (zlib.crc32(bytes(data)) & 0xFFFFFFFF)


# ---- synthetic images (mirrored in test-image.c) ----------------------------

def mix32(u):
    """A 32-bit integer hash (lowbias32); u is a uint32 array."""
    u = u ^ (u >> np.uint32(16))
    u = u * np.uint32(0x7FEB352D)
    u = u ^ (u >> np.uint32(15))
    u = u * np.uint32(0x846CA68B)
    u = u ^ (u >> np.uint32(16))
    return u


def synth(spec):
    """'noise:WxH:SEED' (uniform noise: every value, hard edges everywhere)
    or 'pattern:WxH' (ramps on a 16-px checkerboard: smooth areas and edges
    that make the kernels' negative lobes overshoot and clamp)."""
    kind, size, *rest = spec.split(":")
    w, h = (int(v) for v in size.split("x"))
    y, x, c = np.meshgrid(np.arange(h, dtype=np.uint32), np.arange(w, dtype=np.uint32),
                          np.arange(3, dtype=np.uint32), indexing="ij")
    if kind == "noise":
        seed = np.uint32((int(rest[0]) * 0x27D4EB2F) & 0xFFFFFFFF)
        u = (x * np.uint32(0x9E3779B1) + y * np.uint32(0x85EBCA77)
             + c * np.uint32(0xC2B2AE3D) + seed)
        v = mix32(u) >> np.uint32(24)
    elif kind == "pattern":
        v = (x * np.uint32(5) + y * np.uint32(3) + c * np.uint32(85)) & np.uint32(255)
        flip = ((x >> np.uint32(4)) ^ (y >> np.uint32(4))) & np.uint32(1)
        v = np.where(flip == 1, np.uint32(255) - v, v)
    else:
        raise ValueError(spec)
    return Image.fromarray(v.astype(np.uint8), "RGB")


def load_source(spec):
    if spec.startswith("png:"):
        return Image.open(os.path.join(OUT, spec[4:])).convert("RGB")
    return synth(spec)


# ---- reference algorithms ----------------------------------------------------

def hf_smart_resize(height, width, factor=28, min_pixels=56 * 56, max_pixels=14 * 14 * 4 * 1280):
    """transformers' Qwen2VLImageProcessor smart_resize (the version the spec
    follows: sides under the factor are refused, no clamps)."""
    if height < factor or width < factor:
        raise ValueError("too small")
    elif max(height, width) / min(height, width) > 200:
        raise ValueError("aspect")
    h_bar = round(height / factor) * factor
    w_bar = round(width / factor) * factor
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = math.floor(height / beta / factor) * factor
        w_bar = math.floor(width / beta / factor) * factor
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def visionthink_encode_image(img, downsample_image):
    """VisionThink's scripts/vllm_tool.py encode_image, verbatim logic."""
    img = img.copy()
    width, height = img.size
    if downsample_image:
        new_width = width // 2
        new_height = height // 2
        img = img.resize((new_width, new_height), Image.Resampling.LANCZOS)
    width, height = img.size
    if width < 28 or height < 28:
        scale = max(28 / width, 28 / height)
        new_width = int(width * scale)
        new_height = int(height * scale)
        img = img.resize((new_width, new_height), Image.Resampling.LANCZOS)
    return img


def normalize_chw(img):
    """llama.cpp's normalize_image_u8_to_f32, in float32: (v/255 - m) / s."""
    a = np.asarray(img.convert("RGB"), dtype=np.uint8).astype(np.float32)
    a = (a / np.float32(255.0) - MEAN) / STD
    return np.ascontiguousarray(a.transpose(2, 0, 1)).astype("<f4")


def hf_patch_rows(chw, patch=14, merge=2, temporal=2):
    """HF Qwen2VLImageProcessor's reshape/transpose into pixel_values, then the
    first temporal slice of each row ([c][t][ky][kx] → [c][ky][kx])."""
    c, h, w = chw.shape
    frames = np.stack([chw] * temporal)
    gh, gw = h // patch, w // patch
    p = frames.reshape(1, temporal, c, gh // merge, merge, patch, gw // merge, merge, patch)
    p = p.transpose(0, 3, 6, 4, 7, 2, 1, 5, 8)
    rows = p.reshape(gh * gw, c, temporal, patch, patch)
    return np.ascontiguousarray(rows[:, :, 0]).astype("<f4")


# ---- files -------------------------------------------------------------------

def png_chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png_bytes(w, h, colour_type, idat):
    ihdr = struct.pack(">IIBBBBB", w, h, 8, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def make_format_files(lines):
    """Small files in each supported format, and hostile ones."""
    src = synth("pattern:40x30")
    exact = {
        "fmt_40x30.bmp": ("BMP", src),
        "fmt_40x30.ppm": ("PPM", src),
        "fmt_40x30.gif": ("GIF", src.quantize(64, dither=Image.Dither.NONE)),
        "fmt_grey_40x30.png": ("PNG", src.convert("L")),
        "fmt_grey_40x30.pgm": ("PPM", src.convert("L")),
        "fmt_pal_40x30.png": ("PNG", src.quantize(16, dither=Image.Dither.NONE)),
    }
    for name, (fmt, im) in exact.items():
        buf = io.BytesIO()
        im.save(buf, fmt)
        write(name, buf.getvalue())
        dec = Image.open(os.path.join(OUT, name)).convert("RGB")
        lines.append(f"rgb {name} {dec.width} {dec.height} {crc(dec.tobytes())}")

    # 16-bit RGB PNG: Pillow and stb_image both keep the high byte.
    hi = np.asarray(src, dtype=np.uint16)
    rgb16 = (hi << 8) | (255 - hi)
    raw = b"".join(b"\x00" + rgb16[y].astype(">u2").tobytes() for y in range(30))
    data = (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 40, 30, 16, 2, 0, 0, 0))
            + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b""))
    write("fmt_rgb16_40x30.png", data)
    dec = Image.open(os.path.join(OUT, "fmt_rgb16_40x30.png")).convert("RGB")
    assert dec.tobytes() == src.tobytes(), "PIL no longer keeps the high byte of 16-bit PNGs"
    lines.append(f"rgb fmt_rgb16_40x30.png 40 30 {crc(dec.tobytes())}")

    # JPEG: stb_image is not libjpeg; compare against PIL's decode with a bound.
    buf = io.BytesIO()
    src.save(buf, "JPEG", quality=90)
    write("fmt_40x30.jpg", buf.getvalue())
    Image.open(os.path.join(OUT, "fmt_40x30.jpg")).convert("RGB").save(
        os.path.join(OUT, "fmt_40x30_jpg_pil.ppm"))
    lines.append("approx fmt_40x30.jpg 40 30 fmt_40x30_jpg_pil.ppm 4 0.5")

    # Hostile files.  A header claiming 100000×100000 (30 GB of pixels).
    write("bomb_100000.png", png_bytes(100000, 100000, 2, zlib.compress(b"\x00" * 64)))
    lines.append("fail bomb_100000.png LIMIT")
    # 9000×9000 RGB: accepted by stb_image's own check, over our 64 Mi pixels.
    write("bomb_9000.png", png_bytes(9000, 9000, 2, zlib.compress(b"\x00" * 64)))
    lines.append("fail bomb_9000.png LIMIT")
    # A 1×1 PNG whose IDAT inflates to 8 MiB: only the allocation cap stops it.
    write("zbomb_1x1.png", png_bytes(1, 1, 2, zlib.compress(b"\x00" * (8 << 20), 9)))
    lines.append("fail zbomb_1x1.png LIMIT")
    write("not_an_image.txt", b"hello, this is not an image\n")
    lines.append("fail not_an_image.txt FORMAT")


def make_decode_and_norm():
    lines, norm = [], []
    for name in REF_IMAGES:
        im = Image.open(os.path.join(OUT, name))
        rgb = im.convert("RGB")
        lines.append(f"rgb {name} {im.width} {im.height} {crc(rgb.tobytes())}")
        chw = normalize_chw(rgb)
        norm.append(f"norm {name} {crc(chw.tobytes())}")
        rng = random.Random(name)
        for _ in range(12):
            c, y, x = rng.randrange(3), rng.randrange(im.height), rng.randrange(im.width)
            norm.append(f"sample {name} {c} {y} {x} {float(chw[c, y, x]).hex()}")
    rgba = Image.open(os.path.join(OUT, "img_rgba_224x168.png"))
    assert rgba.mode == "RGBA"
    assert rgba.convert("RGB").tobytes() == np.asarray(rgba)[:, :, :3].tobytes()
    make_format_files(lines)
    check_against_llama_dump()
    return lines, norm


def check_against_llama_dump():
    """The reference inp_raw dump must equal normalize_chw bit for bit."""
    path = os.path.join(REF, "cases/f32_308x252_mmf32/vision/inp_raw.f32")
    if not os.path.exists(path):
        print("note: reference dump not found; skipping the inp_raw cross-check")
        return
    dump = np.fromfile(path, dtype="<f4").reshape(3, 252, 308)
    ours = normalize_chw(Image.open(os.path.join(OUT, "img_308x252.png")))
    assert np.array_equal(dump, ours), "llama.cpp inp_raw differs from the f32 formula"
    print("inp_raw dump of img_308x252 == float32 (v/255 - mean)/std: bit-identical")


RESIZES = [
    # (source, target w, target h) — each with both filters
    ("png:img_308x252.png", 224, 168),   # down
    ("png:img_308x252.png", 333, 271),   # up, odd
    ("png:img_308x252.png", 101, 77),    # strong down, odd
    ("png:img_308x252.png", 308, 100),   # vertical pass only
    ("png:img_308x252.png", 150, 252),   # horizontal pass only
    ("png:img_224x168.png", 448, 336),   # 2× up
    ("noise:97x61:1", 200, 150),
    ("noise:97x61:1", 13, 9),
    ("noise:97x61:1", 1, 1),
    ("noise:97x61:1", 97, 1),
    ("noise:97x61:1", 1, 61),
    ("noise:5x3:7", 64, 48),             # tiny source, big upscale
    ("noise:33x500:3", 17, 1003),
    ("pattern:1024x768", 512, 384),      # the half-size pass
    ("pattern:1024x768", 1036, 756),     # smart_resize of 1024×768
    ("pattern:1024x768", 504, 392),
    ("pattern:641x479", 1000, 3),
]

HALVES = [
    "pattern:1024x768", "png:img_308x252.png", "noise:97x61:2", "pattern:40x30",
    "noise:50x200:4", "pattern:3x3", "noise:2x2:5", "noise:57x55:6", "noise:300x9:8",
    "noise:1x50:9", "noise:55x1:9",
]

MIN_SIDES = ["noise:20x15:10", "noise:27x400:11", "noise:1x1:12", "pattern:28x28", "noise:5x90:13"]

PREPARES = [
    ("png:img_308x252.png", 3136, 12845056),   # already multiples of 28: no resize
    ("noise:300x200:14", 3136, 12845056),
    ("pattern:1024x768", 3136, 12845056),
    ("pattern:1024x768", 3136, 200704),        # max_pixels branch
    ("noise:41x37:15", 6272, 3211264),         # min_pixels branch
]


def make_resample():
    lines = []
    for spec, w, h in RESIZES:
        src = load_source(spec)
        for fname, f in FILTERS.items():
            out = src.resize((w, h), f)
            lines.append(f"resize {spec} {fname} {w} {h} {crc(out.tobytes())}")
    for spec in HALVES:
        src = load_source(spec)
        try:
            out = visionthink_encode_image(src, True)
        except ValueError:
            lines.append(f"halferr {spec}")
            continue
        lines.append(f"half {spec} {out.width} {out.height} {crc(out.tobytes())}")
    for spec in MIN_SIDES:
        out = visionthink_encode_image(load_source(spec), False)
        lines.append(f"minside {spec} {out.width} {out.height} {crc(out.tobytes())}")
    for spec, lo, hi in PREPARES:
        src = load_source(spec)
        h, w = hf_smart_resize(src.height, src.width, 28, lo, hi)
        sized = src if (w, h) == src.size else src.resize((w, h), BICUBIC)
        chw = normalize_chw(sized)
        lines.append(f"prepare {spec} {lo} {hi} {w} {h} {crc(chw.tobytes())}")
    for w, h in [(56, 84), (308, 252), (28, 28)]:
        chw = np.arange(3 * h * w, dtype=np.float32).reshape(3, h, w)
        lines.append(f"patch {w} {h} {crc(hf_patch_rows(chw).tobytes())}")
    return lines


def smart_size_cases():
    cases = set()
    limits = [(3136, 12845056), (3136, 1003520), (6272, 3211264), (3136, 200704)]
    # Sides at 28k + 14 (ties: Python rounds half to even) and their neighbours.
    for k in range(1, 40):
        for d in (-1, 0, 1):
            s = 28 * k + 14 + d
            cases.add((s, 56, *limits[k % len(limits)]))
            cases.add((100 + 28 * (k % 5), s, *limits[(k + 1) % len(limits)]))
    rng = random.Random(20240601)
    for _ in range(250):
        w = rng.choice([rng.randint(1, 120), rng.randint(28, 2000), rng.randint(1000, 12000)])
        h = rng.choice([rng.randint(1, 120), rng.randint(28, 2000), rng.randint(1000, 12000)])
        cases.add((w, h, *rng.choice(limits)))
    edge = [(28, 28), (27, 100), (100, 27), (28, 5600), (28, 5601), (5600, 28), (5601, 28),
            (70, 70), (42, 42), (14, 14), (1024, 768), (512, 384), (308, 252), (8192, 8192),
            (32768, 32768), (32768, 200), (40, 30), (37, 28), (10000, 60), (28, 1)]
    for w, h in edge:
        for lo, hi in limits:
            cases.add((w, h, lo, hi))
    cases.add((3000, 28, 3136, 3136))    # max branch collapses a side to 0
    cases.add((28, 28, 0, 1))
    return sorted(cases)


def make_smart_size():
    lines = []
    for w, h, lo, hi in smart_size_cases():
        try:
            rh, rw = hf_smart_resize(h, w, 28, lo, hi)
            if rh <= 0 or rw <= 0:
                rh = rw = -1
        except ValueError:
            rh = rw = -1
        lines.append(f"{w} {h} {lo} {hi} {rw} {rh}")
    return lines


def save_table(name, header, lines):
    with open(os.path.join(OUT, name), "w") as f:
        f.write(f"# {header}\n# generated by tools/gen-image-data.py with Pillow {PIL.__version__},"
                f" numpy {np.__version__}\n")
        f.write("\n".join(lines) + "\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in REF_IMAGES:
        src = os.path.join(REF, "images", name)
        if os.path.exists(src):
            shutil.copyfile(src, os.path.join(OUT, name))
        elif not os.path.exists(os.path.join(OUT, name)):
            sys.exit(f"missing {src}")
    decode, norm = make_decode_and_norm()
    save_table("decode.txt", "rgb FILE W H CRC32 | approx FILE W H PIL_PPM MAX_ABS MEAN_ABS"
               " | fail FILE STATUS", decode)
    save_table("norm.txt", "norm FILE CRC32(f32 CHW) | sample FILE C Y X HEXFLOAT", norm)
    save_table("resample.txt", "resize SRC FILTER W H CRC32 | half SRC W H CRC32 | halferr SRC"
               " | minside SRC W H CRC32 | prepare SRC MIN MAX W H CRC32(f32 CHW)"
               " | patch W H CRC32", make_resample())
    save_table("smart_size.txt", "W H MIN_PIXELS MAX_PIXELS OUT_W OUT_H (-1 -1: refused)",
               make_smart_size())


if __name__ == "__main__":
    main()
