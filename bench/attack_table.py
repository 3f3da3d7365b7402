#!/usr/bin/env python3
"""docs/attacks.md from the analyze folders of bench/attack_zoo.sh (tables/*.csv)."""
import csv, json, os, sys

root = sys.argv[1] if len(sys.argv) > 1 else "runs/attack-zoo"
order = ["concat", "sum", "product", "gmu", "tensor", "lowrank", "bilinear", "film", "xattn",
         "transformer", "late", "image-only", "text-only"]
print("# Decoupling attacks on the model zoo\n")
print("Produced by `bench/attack_zoo.sh` (`muroan analyze` over the checkpoints of")
print("`bench/train_zoo.sh`, CPU, seed 1). ASR is over the correctly classified samples")
print("among the first N test samples; the decoupling rate |S|/N counts the union of")
print("decoupled pixels and words over all pixels and real words; `median` is over")
print("successful samples. Attack defaults: greedy and saliency over 7x7 patches and")
print("words (deletion), margin objective, no budget; reference as published (quadtree")
print("occlusion > 10 px, word deletion, at most 500 combinations) but counting the union.\n")
for task in sorted(os.listdir(root)):
    runs_csv = os.path.join(root, task, "tables", "runs.csv")
    if not os.path.exists(runs_csv):
        continue
    summary = json.load(open(os.path.join(root, task, "summary.json")))
    rows = list(csv.DictReader(open(runs_csv)))
    methods = []
    for r in rows:
        if r["method"] not in methods:
            methods.append(r["method"])
    fusions = sorted({r["fusion"] for r in rows}, key=lambda f: order.index(f) if f in order else 99)
    by = {(r["fusion"], r["method"]): r for r in rows}
    print(f"## {task}\n")
    print(f"Samples attacked per run: first {summary.get('samples', '?')} test samples.\n")
    head = "| fusion | clean acc (attacked samples) | " + " | ".join(f"{m} ASR / median / p90 rate" for m in methods) + " |"
    print(head)
    print("| --- | ---: | " + " | ".join("---:" for _ in methods) + " |")
    for f in fusions:
        cells = []
        acc = ""
        for m in methods:
            r = by.get((f, m))
            if not r:
                cells.append("")
                continue
            acc = f"{float(r['clean_accuracy']):.3f}"
            med = f"{100 * float(r['rate_median']):.2f}%" if r["rate_median"] else "n/a"
            p90 = f"{100 * float(r['rate_p90']):.2f}%" if r["rate_p90"] else "n/a"
            cells.append(f"{100 * float(r['asr']):.0f}% / {med} / {p90}")
        print(f"| {f} | {acc} | " + " | ".join(cells) + " |")
    print()
    # The target of the attack issue: greedy and saliency reach at least the
    # reference's ASR with a median decoupling rate at most half of its.
    if "reference" in methods:
        for m in ("greedy", "saliency"):
            if m not in methods:
                continue
            met, asr_only, neither = [], [], []
            for f in fusions:
                a, ref = by.get((f, m)), by.get((f, "reference"))
                if not a or not ref or not ref["rate_median"] or not a["rate_median"]:
                    continue
                asr_ok = float(a["asr"]) >= float(ref["asr"])
                half = float(a["rate_median"]) <= 0.5 * float(ref["rate_median"])
                (met if asr_ok and half else asr_only if asr_ok else neither).append(f)
            print(f"{m} versus reference: ASR at least the reference's and median rate at most half "
                  f"of it: {', '.join(met) or 'none'}; ASR at least the reference's, median not halved: "
                  f"{', '.join(asr_only) or 'none'}; lower ASR: {', '.join(neither) or 'none'}.\n")
    curve_csv = os.path.join(root, task, "tables", "found_sizes.csv")
    if os.path.exists(curve_csv):
        curve = [r for r in csv.DictReader(open(curve_csv)) if r["method"] == "strongest"]
        budgets = sorted({float(r["budget"]) for r in curve})
        print("ASR versus decoupling budget (strongest attack per fusion):\n")
        print("| fusion | " + " | ".join(f"{100 * b:g}%" for b in budgets) + " |")
        print("| --- | " + " | ".join("---:" for _ in budgets) + " |")
        for f in fusions:
            pts = {float(r["budget"]): float(r["asr"]) for r in curve if r["fusion"] == f}
            print(f"| {f} | " + " | ".join(f"{100 * pts.get(b, 0):.0f}%" for b in budgets) + " |")
        print()
    print(f"Full curves per method: `{curve_csv}`; per-sample results under `{os.path.join(root, task, 'runs')}`.\n")
