#!/usr/bin/env python3
"""The markdown table of scripts/recipe-suite.sh from its results.jsonl.

Each line of results.jsonl is {"side": "jimm" | "pytorch", "folder", "seed", "size", "accuracy",
"seconds", ...} or, for a failed run, {"side", "folder", "seed", "error"}. Prints one row per folder
(in the order of the file): validation accuracy in % per seed and its mean for each side, the mean
seconds of a run on each side (whole job: jimm's from its JSON, which includes loading the folder and
writing the report; PyTorch's after its imports), and jimm's mean minus PyTorch's in points.

Usage: python3 scripts/recipe_suite_table.py OUT_DIR/results.jsonl
"""
import json
import sys


def mean(xs):
    return sum(xs) / len(xs) if xs else float("nan")


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    folders = []
    for r in rows:
        if r["folder"] not in folders:
            folders.append(r["folder"])
    seeds = sorted({r["seed"] for r in rows})
    label = ",".join(map(str, seeds))
    print(f"| folder | px | jimm accuracy % (seeds {label}) | jimm mean | PyTorch (fastai defaults) % (seeds {label}) "
          f"| PyTorch mean | jimm s | PyTorch s | jimm − PyTorch |")
    print("| --- | ---: | --- | ---: | --- | ---: | ---: | ---: | ---: |")
    failures = []
    for f in folders:
        cells, means, secs, size = [], [], [], ""
        for side in ("jimm", "pytorch"):
            by_seed = {r["seed"]: r for r in rows if r["folder"] == f and r["side"] == side}
            size = size or next((str(r["size"]) for r in by_seed.values() if "size" in r), "")
            per, accs, ss = [], [], []
            for s in seeds:
                r = by_seed.get(s)
                if r is None:
                    per.append("–")
                elif "error" in r:
                    per.append("failed")
                    failures.append(f"{side} {f} seed {s}: {r['error']}")
                else:
                    per.append(f"{100 * r['accuracy']:.1f}")
                    accs.append(100 * r["accuracy"])
                    ss.append(r["seconds"])
            cells.append(" / ".join(per))
            means.append(mean(accs))
            secs.append(mean(ss))
        diff = means[0] - means[1]
        print(f"| {f} | {size} | {cells[0]} | {means[0]:.1f} | {cells[1]} | {means[1]:.1f} | {secs[0]:.0f} | {secs[1]:.0f} "
              f"| {diff:+.1f} |")
    if failures:
        print("\nfailed runs (logs in OUT_DIR/logs):")
        for line in failures:
            print("- " + line)


if __name__ == "__main__":
    main()
