"""world.py — the demo model's synthetic world: "screenshots" and questions.

Every image is a 224x224 canvas (the full image; the engine's VisionThink
first look halves it to 112x112 with Pillow-exact Lanczos, which
`half_image` reproduces): a background, often a title bar with a large word,
1-3 coloured shapes (different types and colours), and one label box holding a word or a number, written
either large (readable at half size) or small (readable only at full size).

Question kinds (sample["kind"]):
  a  answerable at low resolution: the colour of a shape, which shape has a
     colour, how many shapes there are, the (large) title;
  b  the label in SMALL text: the model must call resize_image first;
  c  the label in LARGE text: the same question as b, answered directly;
  o  (training only, the curriculum's first stages) one big shape alone,
     its colour or its shape asked ("oc": its colour only).
  at, aw, an  (training only) kind a with its question fixed: the title,
     which shape has a colour, how many shapes (the sample's kind is "a").

Replies follow the VisionThink protocol (visionthink-protocol.md).  The
protocol texts are read from engine/prompts/*.txt, byte for byte what the
engine embeds.  Everything is a pure function of (seed, index).

    python3 tools/demo/world.py --show 8 --out /tmp/world    # a few samples
    python3 tools/demo/world.py --eval assets/demo-eval --seed 20250 --n 600
"""
import json
import os
import random
import sys

from PIL import Image, ImageDraw, ImageFont

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
PROMPTS = os.path.join(ROOT, "engine", "prompts")


def _prompt(name):
    with open(os.path.join(PROMPTS, name), "rb") as f:
        return f.read().decode("utf-8")


SYSTEM = _prompt("visionthink-system.txt")
USER = _prompt("visionthink-user.txt")
PLAIN_SYSTEM = _prompt("plain-system.txt")
TOOL_INTRO = _prompt("visionthink-tool-response-intro.txt")
TOOL_AFTER = _prompt("visionthink-tool-response-after.txt")

TOOL_CALL = '<tool_call>\n{"name": "resize_image", "arguments": {"action": "resize"}}\n</tool_call>'

SIZE = 224          # full image side (8 x 28): 64 visual tokens
HALF = SIZE // 2    # first look: 112 = 4 x 28, 16 visual tokens

FONT_DIR = "/usr/share/fonts/truetype/dejavu"
FONT_BOLD = os.path.join(FONT_DIR, "DejaVuSans-Bold.ttf")

COLORS = {
    "red": (220, 40, 40), "green": (40, 170, 60), "blue": (40, 80, 220), "yellow": (235, 200, 30),
    "orange": (245, 130, 20), "purple": (140, 50, 180), "black": (20, 20, 20),
}
SHAPES = ["circle", "square", "triangle"]
# Twelve label words (thirty at first: none was read after 1300 steps, when
# each word was one label in sixty).
WORDS = ["apple", "river", "stone", "cloud", "tiger", "house", "light", "table", "music", "paper", "water", "plant"]
# training-only kinds that fix kind a's question (the decoder got titles
# right 4/20 when they were ~5 % of its samples)
FOCUS = {"at": "title", "aw": "which", "an": "count"}
TITLES = ["Home", "News", "Shop", "Mail", "Maps", "Docs", "Help", "Games", "Notes", "Photos", "Music", "Store"]
BACKGROUNDS = [(250, 250, 250), (240, 240, 235), (230, 236, 244), (245, 238, 225), (236, 244, 236)]

SMALL_FONT = (10, 12)   # px: illegible at half size (5-6 px), legible at full
LARGE_FONT = (22, 28)   # px: legible at half size (11-14 px)

KIND_WEIGHTS = {"a": 0.45, "b": 0.30, "c": 0.25}

_fonts = {}


def font(size):
    if size not in _fonts:
        _fonts[size] = ImageFont.truetype(FONT_BOLD, size)
    return _fonts[size]


# ---- prompts (as engine/zoom.c builds them) ----

def adaptive_prefix():
    """Turn 1 up to the first image (policies adaptive and low)."""
    return "<|im_start|>system\n" + SYSTEM + "<|im_end|>\n<|im_start|>user\n" + USER + "\n<|vision_start|>"


def first_suffix(question):
    return "<|vision_end|>\n" + question + "<|im_end|>\n<|im_start|>assistant\n"


def tool_prefix():
    """After the assistant's <|im_end|> (no newline between), up to the full image."""
    return "<|im_start|>user\n<tool_response>\n" + TOOL_INTRO + "\n<|vision_start|>"


def tool_suffix():
    return "<|vision_end|>\n</tool_response>\n" + TOOL_AFTER + "<|im_end|>\n<|im_start|>assistant\n"


def full_prefix():
    """Policy full: the plain chat template, the image before the text."""
    return "<|im_start|>system\n" + PLAIN_SYSTEM + "<|im_end|>\n<|im_start|>user\n<|vision_start|>"


def full_suffix(question):
    return "<|vision_end|>" + question + "<|im_end|>\n<|im_start|>assistant\n"


def half_image(img):
    """The engine's first-look image: Lanczos to (w div 2, h div 2) (Pillow-exact in both)."""
    return img.resize((img.width // 2, img.height // 2), Image.LANCZOS)


# ---- the generator ----

def _overlaps(box, boxes, pad=4):
    x0, y0, x1, y1 = box
    for a0, b0, a1, b1 in boxes:
        if x0 < a1 + pad and a0 < x1 + pad and y0 < b1 + pad and b0 < y1 + pad:
            return True
    return False


def _draw_shape(d, shape, box, color):
    x0, y0, x1, y1 = box
    if shape == "circle":
        d.ellipse(box, fill=color)
    elif shape == "square":
        d.rectangle(box, fill=color)
    else:
        d.polygon([(x0 + (x1 - x0) / 2, y0), (x1, y1), (x0, y1)], fill=color)


class World:
    def __init__(self, seed=0, kind_weights=None):
        self.seed = seed
        self.kind_weights = kind_weights or KIND_WEIGHTS

    def rng(self, index):
        return random.Random(self.seed * 1000003 + index * 7919 + 17)

    def sample(self, index, kind=None):
        r = self.rng(index)
        if kind in ("o", "oc"):
            return self._one_shape(r, index, colour_only=kind == "oc")
        if kind is None:
            kinds = list(self.kind_weights)
            kind = r.choices(kinds, weights=[self.kind_weights[k] for k in kinds])[0]
        focus = FOCUS.get(kind)
        if focus:
            kind = "a"
        bg = r.choice(BACKGROUNDS)
        img = Image.new("RGB", (SIZE, SIZE), bg)
        d = ImageDraw.Draw(img)
        boxes = []
        objects = []   # what is where: train.py's auxiliary per-token targets

        # title bar
        has_title = r.random() < 0.6 or focus == "title"
        title = r.choice(TITLES)
        top = 0
        if has_title:
            th = r.randint(34, 40)
            bar = tuple(max(0, c - r.randint(25, 60)) for c in bg)
            d.rectangle([0, 0, SIZE - 1, th], fill=bar)
            f = font(r.randint(*LARGE_FONT))
            tw = d.textlength(title, font=f)
            tx = r.randint(6, max(6, int(SIZE - tw - 6)))
            d.text((tx, th // 2), title, font=f, fill=(20, 20, 20), anchor="lm")
            objects.append({"what": "text", "text": title, "box": (tx, 4, tx + tw, th - 4), "small": False,
                            "label": False})
            top = th + 2
            boxes.append((0, 0, SIZE, th))

        # the label: a word or a number, small or large
        small = kind == "b" or (kind == "a" and r.random() < 0.5)
        is_number = r.random() < 0.5
        text = str(r.randint(10, 99)) if is_number else r.choice(WORDS)
        fs = r.randint(*(SMALL_FONT if small else LARGE_FONT))
        f = font(fs)
        tw = int(d.textlength(text, font=f))
        pad = max(3, fs // 3)
        bw, bh = tw + 2 * pad, fs + 2 * pad
        for _ in range(50):
            x0, y0 = r.randint(4, SIZE - bw - 4), r.randint(top + 4, SIZE - bh - 4)
            lbox = (x0, y0, x0 + bw, y0 + bh)
            if not _overlaps(lbox, boxes):
                break
        d.rectangle(lbox, fill=(255, 255, 255), outline=(90, 90, 90))
        d.text((x0 + pad, y0 + bh / 2), text, font=f, fill=(0, 0, 0), anchor="lm")
        boxes.append(lbox)
        objects.append({"what": "text", "text": text, "box": lbox, "small": small, "label": True})

        # shapes: one to three, of different types and colours, so that "the
        # circle" and "the red shape" name one shape (a 3.3 M-parameter model
        # did not learn to bind types to colours among up to five shapes of
        # repeated types: 5/32 kind-a replies right after 300 steps)
        n = r.randint(1, 3)
        shapes = []
        for sh, col in zip(r.sample(SHAPES, n), r.sample(list(COLORS), n)):
            s = r.randint(28, 44)
            for _ in range(50):
                x0, y0 = r.randint(4, SIZE - s - 4), r.randint(top + 4, SIZE - s - 4)
                box = (x0, y0, x0 + s, y0 + s)
                if not _overlaps(box, boxes):
                    break
            else:
                continue
            boxes.append(box)
            shapes.append((sh, col, box))
            objects.append({"what": "shape", "type": sh, "colour": col, "box": box})
            _draw_shape(d, sh, box, COLORS[col])

        # the question
        if kind == "a":
            question, answer, think = self._low_question(r, shapes, has_title, title, focus)
            replies = [f"<think>{think}</think><answer>{answer}</answer>"]
            full_reply = replies[0]
            zoom = False
        else:
            what = "number" if is_number else "word"
            question = r.choice([f"What {what} is written on the label?", f"What {what} does the label show?",
                                 f"Read the {what} on the label."])
            answer = text
            full_reply = f"<think>The label reads {text}.</think><answer>{text}</answer>"
            if kind == "b":
                replies = ["<think>The label text is too small to read at this resolution. "
                           "I need the full image.</think>\n" + TOOL_CALL,
                           f"<think>In the full image the label reads {text}.</think><answer>{text}</answer>"]
                zoom = True
            else:
                replies = [f"<think>The label text is large enough to read: {text}.</think><answer>{text}</answer>"]
                zoom = False
        return {"index": index, "kind": kind, "image": img, "question": question, "answer": answer,
                "replies": replies, "full_reply": full_reply, "zoom": zoom, "small_label": small,
                "label": text, "objects": objects}

    def _one_shape(self, r, index, colour_only=False):
        """The curriculum's first stage (train.py): one big shape on a plain
        canvas and a question about it that any of its visual tokens answers.
        A fresh decoder learns to look at the image on this within ~100 steps,
        where it never did on the full world (README, Status)."""
        img = Image.new("RGB", (SIZE, SIZE), r.choice(BACKGROUNDS))
        d = ImageDraw.Draw(img)
        col, sh, s = r.choice(list(COLORS)), r.choice(SHAPES), r.randint(40, 90)
        x0, y0 = r.randint(4, SIZE - s - 4), r.randint(4, SIZE - s - 4)
        _draw_shape(d, sh, (x0, y0, x0 + s, y0 + s), COLORS[col])
        objects = [{"what": "shape", "type": sh, "colour": col, "box": (x0, y0, x0 + s, y0 + s)}]
        if colour_only or r.random() < 0.5:
            question, answer, think = "What color is the shape?", col, f"The {sh} is {col}."
        else:
            question, answer, think = "What shape is it?", sh, f"It is a {col} {sh}."
        reply = f"<think>{think}</think><answer>{answer}</answer>"
        return {"index": index, "kind": "o", "image": img, "question": question, "answer": answer,
                "replies": [reply], "full_reply": reply, "zoom": False, "small_label": False, "label": "",
                "objects": objects}

    def _low_question(self, r, shapes, has_title, title, focus=None):
        # No left/right questions: the decoder sees a visual token's column
        # only through M-RoPE's w pairs, the lowest frequencies of a 32-wide
        # head at base 1e6 (under 2e-4 rad per column), and the toy model
        # stayed at chance on them (teacher-forced 5/11 right at step 1000).
        options = (["color", "which", "count"] if shapes else ["count"]) + (["title"] if has_title else [])
        q = focus if focus in options else r.choice(options)
        if q == "title":
            return "What is the title of the page?", title, f"The title at the top says {title}."
        if q == "count":
            k = len(shapes)
            return ("How many shapes are there?", str(k), f"I count {k} shape{'' if k == 1 else 's'}.")
        sh, col, _ = r.choice(shapes)
        if q == "which":
            return f"Which shape is {col}?", sh, f"The {col} shape is a {sh}."
        return f"What color is the {sh}?", col, f"The {sh} is {col}."


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=20250)
    ap.add_argument("--show", type=int, default=0, help="write N samples as PNG + text to --out")
    ap.add_argument("--out", default="/tmp/squint-world")
    ap.add_argument("--eval", metavar="DIR", help="write a held-out set: DIR/images/*.png + DIR/questions.jsonl")
    ap.add_argument("--n", type=int, default=600, help="questions in --eval (kinds balanced a/b/c)")
    a = ap.parse_args(argv)
    w = World(a.seed)
    if a.show:
        os.makedirs(a.out, exist_ok=True)
        for i in range(a.show):
            s = w.sample(i)
            s["image"].save(os.path.join(a.out, f"{i:03d}.png"))
            half_image(s["image"]).save(os.path.join(a.out, f"{i:03d}-half.png"))
            print(i, s["kind"], s["question"], "->", s["answer"], "|", " || ".join(s["replies"]))
    if a.eval:
        os.makedirs(os.path.join(a.eval, "images"), exist_ok=True)
        kinds = "abc"
        with open(os.path.join(a.eval, "questions.jsonl"), "w") as f:
            for i in range(a.n):
                s = w.sample(i, kind=kinds[i % 3])
                name = f"images/{i:04d}.png"
                s["image"].save(os.path.join(a.eval, name))
                rec = {k: s[k] for k in ("index", "kind", "question", "answer", "zoom", "label")}
                rec["image"] = name
                f.write(json.dumps(rec) + "\n")
        print(f"wrote {a.n} questions to {a.eval}")


if __name__ == "__main__":
    main(sys.argv[1:])
