"""eval.py — the demo model on a held-out set, run by the C engine.

    /usr/bin/python3 tools/demo/eval.py [--n 600] [--seed 20250] [--jobs 2]
        [--cli build/ui/term/squint-cli] [--model assets/squint-demo-text.gguf]
        [--mmproj assets/squint-demo-mmproj.gguf] [--out assets/demo-eval.json]

Writes the held-out questions (world.py, a seed no training step uses: the
training stream is World(1); kinds balanced a/b/c) to a temporary folder, then
asks every question with `squint-cli run --policy P --json -q` for P in
adaptive, low and full, greedy.  Prints, per kind and policy: answer accuracy
(the <answer> text equal to the truth, case and surrounding space ignored),
zoom rate, and visual tokens used against the always-full baseline; writes
all of it, with every reply, to --out.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))

import world  # noqa: E402

POLICIES = ("adaptive", "low", "full")


def ask(cli, model, mmproj, image, question, policy):
    cmd = [cli, "run", "-m", model, "--mmproj", mmproj, "--image", image, "-p", question,
           "--policy", policy, "--json", "-q", "-n", "96", "-t", "1"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def normalize(s):
    return (s or "").strip().lower()


def summarize(rows):
    """rows: dicts with kind, correct, zoomed, used, baseline -> per-kind and overall figures."""
    out = {}
    for kind in ("a", "b", "c", "all"):
        rs = [r for r in rows if kind == "all" or r["kind"] == kind]
        if not rs:
            continue
        zoomed = [r for r in rs if r["zoomed"]]
        used = sum(r["used"] for r in rs)
        base = sum(r["baseline"] for r in rs)
        out[kind] = {
            "n": len(rs),
            "accuracy": sum(r["correct"] for r in rs) / len(rs),
            "zoom_rate": len(zoomed) / len(rs),
            "accuracy_when_zoomed": (sum(r["correct"] for r in zoomed) / len(zoomed)) if zoomed else None,
            "visual_used": used,
            "visual_baseline": base,
            "visual_ratio": used / base if base else None,
        }
    return out


def topic(question):
    """What a question asks about (world.py's question templates)."""
    q = question.lower()
    for key, name in (("title", "title"), ("how many", "count"), ("which shape", "which shape"),
                      ("color", "colour"), ("number", "label number"), ("word", "label word")):
        if key in q:
            return name
    return "other"


def by_topic(rows):
    """(topic, kind) -> [right, n], for the table under the main one."""
    out = {}
    for r in rows:
        k = (topic(r["question"]), r["kind"])
        cell = out.setdefault(k, [0, 0])
        cell[0] += r["correct"]
        cell[1] += 1
    return out


def pct(x):
    return "—" if x is None else f"{100 * x:.1f}%"


def print_table(results):
    print(f"{'policy':9} {'kind':4} {'n':>4} {'accuracy':>9} {'zoom':>7} {'acc|zoom':>9} {'tokens':>15} {'ratio':>7}")
    for policy in POLICIES:
        if policy not in results:
            continue
        for kind, s in results[policy]["summary"].items():
            print(f"{policy:9} {kind:4} {s['n']:4d} {pct(s['accuracy']):>9} {pct(s['zoom_rate']):>7} "
                  f"{pct(s['accuracy_when_zoomed']):>9} {s['visual_used']:7d}/{s['visual_baseline']:<7d} "
                  f"{pct(s['visual_ratio']):>7}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--seed", type=int, default=20250)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "ui", "term", "squint-cli"))
    ap.add_argument("--model", default=os.path.join(ROOT, "assets", "squint-demo-text.gguf"))
    ap.add_argument("--mmproj", default=os.path.join(ROOT, "assets", "squint-demo-mmproj.gguf"))
    ap.add_argument("--policies", default=",".join(POLICIES))
    ap.add_argument("--out", default=os.path.join(ROOT, "assets", "demo-eval.json"))
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="squint-eval-")
    world.main(["--eval", tmp, "--seed", str(a.seed), "--n", str(a.n)])
    with open(os.path.join(tmp, "questions.jsonl")) as f:
        questions = [json.loads(line) for line in f]

    results = {"seed": a.seed, "n": len(questions), "model": os.path.basename(a.model)}
    for policy in a.policies.split(","):
        t0 = time.time()

        def one(q, policy=policy):
            r = ask(a.cli, a.model, a.mmproj, os.path.join(tmp, q["image"]), q["question"], policy)
            vt = r["visual_tokens"]
            return {"index": q["index"], "kind": q["kind"], "question": q["question"], "truth": q["answer"],
                    "answer": r["answer"],
                    "correct": normalize(r["answer"]) == normalize(q["answer"]), "zoomed": r["zoomed"],
                    "used": vt["used"], "baseline": vt["baseline"]}

        with ThreadPoolExecutor(a.jobs) as ex:
            rows = list(ex.map(one, questions))
        results[policy] = {"summary": summarize(rows), "seconds": round(time.time() - t0, 1), "rows": rows}
        print(f"{policy}: {len(rows)} questions in {time.time() - t0:.0f} s", flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    print_table(results)
    for policy in POLICIES:
        if policy in results:
            t = by_topic(results[policy]["rows"])
            print(f"{policy}, by question: " + "; ".join(f"{name} ({kind}) {r}/{n}" for (name, kind), (r, n)
                                                          in sorted(t.items(), key=lambda kv: (kv[0][1], kv[0][0]))))
    with open(a.out, "w") as f:
        json.dump(results, f, indent=1)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
