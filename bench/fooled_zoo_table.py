#!/usr/bin/env python3
"""A markdown table of fooled ASR per fusion and attack from an analyze folder
(its tables/runs.csv and summary.json), for docs/attacks.md.

    bench/fooled_zoo_table.py runs/zoo-fashion-match
"""
import csv
import json
import os
import sys

ORDER = ["concat", "sum", "product", "gmu", "tensor", "lowrank", "bilinear", "film", "xattn",
         "transformer", "late", "image-only", "text-only"]


def pct(x):
    return f"{100 * float(x):.1f}%"


def rate(x):
    return "-" if x in ("", None) else (f"{100 * float(x):.2f}%" if float(x) < 0.1 else f"{100 * float(x):.1f}%")


def main():
    root = sys.argv[1]
    summary = json.load(open(os.path.join(root, "summary.json")))
    rows = list(csv.DictReader(open(os.path.join(root, "tables", "runs.csv"))))
    methods = []
    for r in rows:
        if r["method"] not in methods:
            methods.append(r["method"])
    tests = {m["fusion"]: m.get("test_accuracy") for m in summary["models"]}
    by = {(r["fusion"], r["method"]): r for r in rows}
    fusions = sorted({r["fusion"] for r in rows}, key=lambda f: ORDER.index(f) if f in ORDER else 99)
    print("| fusion | test acc | attacked | " + " | ".join(f"{m}: fooled ASR [95% CI], median rate" for m in methods) + " |")
    print("| --- | ---: | ---: |" + " ---: |" * len(methods))
    for f in fusions:
        first = by[(f, methods[0])]
        acc = tests.get(f)
        cells = [f, "-" if acc is None else f"{acc:.3f}", first["attacked"]]
        for m in methods:
            r = by.get((f, m))
            if r is None or r["fooled_asr"] == "":
                cells.append("-")
                continue
            cells.append(f"{pct(r['fooled_asr'])} [{pct(r['fooled_ci_low'])}, {pct(r['fooled_ci_high'])}], "
                         f"{rate(r['fooled_rate_median'])}")
        note = " (near chance)" if float(first["clean_accuracy"]) - float(first["majority_share"]) <= 0.05 else ""
        cells[0] += note
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
