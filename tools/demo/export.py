"""export.py — checkpoint -> GGUF pair (text + mmproj) as llama.cpp lays them out.

    /usr/bin/python3 tools/demo/export.py [--ckpt assets/demo-train/ckpt.pt]
        [--type f16|q8_0] [--exporter build/tools/squint-demo-export] [--out assets/squint-demo]

Dumps each tensor as raw float32 into a temp dir with a manifest and runs the
C exporter (tools/demo/export-gguf.c, the engine's own GGUF writer and
quantizers).  Text: token_embd (tied output), blk.L.* in converter order,
output_norm; matrices --type, 1-D tensors F32.  mmproj: v.patch_embd.weight
(+ .weight.1) as [14,14,3,C], v.blk.L.*, v.post_ln, mm.0, mm.2; matrices F16
(vision widths here are whole blocks, but F16 is what llama.cpp's converter
writes), 1-D F32.  general.name contains "VisionThink" and
squint.prompt_profile = "visionthink", so the engine defaults to --policy adaptive.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))

from model import Config, DemoVLM, MEAN, STD  # noqa: E402
from vocab import VOCAB_GGUF  # noqa: E402


def load(ckpt):
    ck = torch.load(ckpt, map_location="cpu")
    c = Config(**{**ck["config"], "sections": tuple(ck["config"]["sections"])})
    m = DemoVLM(c)
    m.load_state_dict(ck["model"])
    m.eval()
    return m, ck.get("step", 0)


def export(m, out_prefix, text_type, exporter, step=0):
    c = m.c
    tmp = tempfile.mkdtemp(prefix="squint-demo-export-")
    lines = []
    k = [0]

    def tensor(name, t, typ):
        t = t.detach().float().contiguous()
        raw = os.path.join(tmp, f"{k[0]:04d}.f32")
        k[0] += 1
        t.numpy().astype("<f4").tofile(raw)
        ne = list(reversed(t.shape))
        nd = len(ne)
        ne += [1] * (4 - nd)
        lines.append(f"tensor {name} {typ if nd > 1 else 'f32'} {nd} {ne[0]} {ne[1]} {ne[2]} {ne[3]} {raw}")

    # ---- text ----
    t = m.text
    lines.append(f"file {out_prefix}-text.gguf")
    lines += ["str general.architecture qwen2vl", "str general.type model",
              f"str general.name Squint demo VisionThink Qwen2.5-VL (step {step})",
              f"u32 qwen2vl.block_count {c.n_layer}", "u32 qwen2vl.context_length 4096",
              f"u32 qwen2vl.embedding_length {c.n_embd}", f"u32 qwen2vl.feed_forward_length {c.n_ff}",
              f"u32 qwen2vl.attention.head_count {c.n_head}", f"u32 qwen2vl.attention.head_count_kv {c.n_head_kv}",
              "i32a qwen2vl.rope.dimension_sections " + " ".join(str(s) for s in c.sections),
              f"f32 qwen2vl.rope.freq_base {c.rope_base}", f"f32 qwen2vl.attention.layer_norm_rms_epsilon {c.eps}",
              f"u32 general.file_type {1 if text_type == 'f16' else 7}",
              "str squint.prompt_profile visionthink",
              f"vocab {VOCAB_GGUF}", "u32 general.quantization_version 2"]
    tensor("token_embd.weight", t.embd, text_type)
    for i, b in enumerate(t.blocks):
        p = f"blk.{i}."
        tensor(p + "attn_norm.weight", b.attn_norm, "f32")
        tensor(p + "attn_q.weight", b.q.weight, text_type)
        tensor(p + "attn_q.bias", b.q.bias, "f32")
        tensor(p + "attn_k.weight", b.k.weight, text_type)
        tensor(p + "attn_k.bias", b.k.bias, "f32")
        tensor(p + "attn_v.weight", b.v.weight, text_type)
        tensor(p + "attn_v.bias", b.v.bias, "f32")
        tensor(p + "attn_output.weight", b.o.weight, text_type)
        tensor(p + "ffn_norm.weight", b.ffn_norm, "f32")
        tensor(p + "ffn_gate.weight", b.gate.weight, text_type)
        tensor(p + "ffn_up.weight", b.up.weight, text_type)
        tensor(p + "ffn_down.weight", b.down.weight, text_type)
    tensor("output_norm.weight", t.out_norm, "f32")
    lines.append("end")

    # ---- vision ----
    v = m.vision
    vt = "f16"
    lines.append(f"file {out_prefix}-mmproj.gguf")
    lines += ["str general.architecture clip", "str general.type mmproj",
              f"str general.name Squint demo VisionThink vision (step {step})", "u32 general.file_type 1",
              "bool clip.has_vision_encoder 1", f"u32 clip.vision.projection_dim {c.n_embd}",
              "u32 clip.vision.image_size 560", f"u32 clip.vision.patch_size {c.patch}",
              f"u32 clip.vision.embedding_length {c.v_embd}", f"u32 clip.vision.feed_forward_length {c.v_ff}",
              f"u32 clip.vision.block_count {c.v_layer}", f"u32 clip.vision.attention.head_count {c.v_head}",
              "f32a clip.vision.image_mean " + " ".join(repr(x) for x in MEAN),
              "f32a clip.vision.image_std " + " ".join(repr(x) for x in STD),
              "str clip.projector_type qwen2.5vl_merger", "bool clip.use_silu 1",
              f"u32 clip.vision.n_wa_pattern {c.v_wa_pattern}",
              f"f32 clip.vision.attention.layer_norm_epsilon {c.eps}"]
    pk = (c.v_embd, 3, c.patch, c.patch)
    tensor("v.patch_embd.weight", v.patch0.view(pk), vt)
    tensor("v.patch_embd.weight.1", v.patch1.view(pk), vt)
    for i, b in enumerate(v.blocks):
        p = f"v.blk.{i}."
        tensor(p + "ln1.weight", b.ln1, "f32")
        for nm, lin in (("attn_q", b.q), ("attn_k", b.k), ("attn_v", b.v), ("attn_out", b.o)):
            tensor(p + nm + ".weight", lin.weight, vt)
            tensor(p + nm + ".bias", lin.bias, "f32")
        tensor(p + "ln2.weight", b.ln2, "f32")
        for nm, lin in (("ffn_gate", b.gate), ("ffn_up", b.up), ("ffn_down", b.down)):
            tensor(p + nm + ".weight", lin.weight, vt)
            tensor(p + nm + ".bias", lin.bias, "f32")
    tensor("v.post_ln.weight", v.post_ln, "f32")
    tensor("mm.0.weight", v.mm0.weight, vt)
    tensor("mm.0.bias", v.mm0.bias, "f32")
    tensor("mm.2.weight", v.mm2.weight, vt)
    tensor("mm.2.bias", v.mm2.bias, "f32")
    lines.append("end")

    man = os.path.join(tmp, "manifest.txt")
    with open(man, "w") as f:
        f.write("\n".join(lines) + "\n")
    subprocess.run([exporter, man], check=True)
    for fn in os.listdir(tmp):
        os.remove(os.path.join(tmp, fn))
    os.rmdir(tmp)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", default=os.path.join(ROOT, "assets", "demo-train", "ckpt.pt"))
    ap.add_argument("--type", default="f16", choices=["f16", "q8_0"])
    ap.add_argument("--exporter", default=os.path.join(ROOT, "build", "tools", "squint-demo-export"))
    ap.add_argument("--out", default=os.path.join(ROOT, "assets", "squint-demo"))
    a = ap.parse_args()
    m, step = load(a.ckpt)
    export(m, a.out, a.type, a.exporter, step)


if __name__ == "__main__":
    main()
