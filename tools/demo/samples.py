"""samples.py — the two sample images the app and the tests show off.

    /usr/bin/python3 tools/demo/samples.py [--cli build/ui/term/squint-cli] [--seed 777]

Draws candidates from World(seed) (a seed neither training nor the held-out
evaluation uses), asks the shipped model about each with squint-cli (no -m:
the built-in demo model), and keeps the first large-label question it answers
directly and the first small-label question it answers after zooming in.
Writes assets/samples/{direct,zoom}.png, .txt (the question) and .answer.
The choice is by the model's behaviour, so the samples are ones it gets
right; its accuracy over a held-out set is in assets/MODEL-CARD.md.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))

import world  # noqa: E402


def ask(cli, path, question):
    p = subprocess.run([cli, "run", "--image", path, "-p", question, "--json", "-q", "-t", "2"],
                       capture_output=True, text=True, timeout=120, check=True)
    return json.loads(p.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "ui", "term", "squint-cli"))
    ap.add_argument("--seed", type=int, default=777)
    ap.add_argument("--tries", type=int, default=60)
    a = ap.parse_args()
    out = os.path.join(ROOT, "assets", "samples")
    os.makedirs(out, exist_ok=True)
    w = world.World(a.seed)
    want = {"direct": ("c", False), "zoom": ("b", True)}
    for name, (kind, zoom) in want.items():
        for i in range(a.tries):
            s = w.sample(i, kind=kind)
            path = os.path.join(out, name + ".png")
            s["image"].save(path)
            r = ask(a.cli, path, s["question"])
            if r["answer"].strip().lower() == s["answer"].lower() and r["zoomed"] == zoom:
                with open(os.path.join(out, name + ".txt"), "w") as f:
                    f.write(s["question"])
                with open(os.path.join(out, name + ".answer"), "w") as f:
                    f.write(s["answer"])
                print(f"{name}: candidate {i}: {s['question']!r} -> {s['answer']!r} (zoomed: {zoom})")
                break
        else:
            os.remove(os.path.join(out, name + ".png"))
            sys.exit(f"no {name} sample in {a.tries} tries: the model is not good enough yet")


if __name__ == "__main__":
    main()
