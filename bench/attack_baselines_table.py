#!/usr/bin/env python3
"""The table of bench/attack_baselines.sh from its result folders.

    bench/attack_baselines_table.py OUT MAX_SIZE BUDGET... -- METHOD...

For each method and query budget: fooled ASR over the attacked samples with its
95% Wilson interval, the median decoupling rate and mean queries over successes,
and, on the samples whose exact minimum is known (exact succeeded with at most
MAX_SIZE + 1 points, so no set at all is smaller), how many of them the method
solved with a set of exactly that many points (a failure is a miss) and its
mean excess in points over the ones it solved. Then, paired with sparse-rs, on
the samples both fooled: how often each method's set is smaller, as large or
larger, and both medians over those common samples.
"""
import json
import math
import os
import statistics
import sys


def wilson(k, n, z=1.959964):
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


def load(path):
    out = {}
    with open(os.path.join(path, "results.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            if r.get("attacked"):
                out[r["id"]] = r
    return out


def main():
    args = sys.argv[1:]
    sep = args.index("--")
    root, max_size, budgets, methods = args[0], int(args[1]), args[2:sep], args[sep + 1:]
    exact = load(os.path.join(root, "exact"))
    known = {i: r["decoupled_points"] for i, r in exact.items() if r["success"] and r["decoupled_points"] <= max_size + 1}
    beyond = sum(1 for r in exact.values() if not r["success"])
    print(f"Exact minimum (sets of at most {max_size} elements): known for {len(known)} of {len(exact)} attacked "
          f"samples; {beyond} have no successful set of at most {max_size} elements.\n")
    print("| method | queries | attacked | fooled ASR [95% CI] | median rate | mean queries | hit the minimum | mean excess (points) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for q in budgets:
        for m in methods:
            res = load(os.path.join(root, f"{m}-q{q}"))
            n = len(res)
            wins = [r for r in res.values() if r["success"]]
            lo, hi = wilson(len(wins), n)
            rates = [r["decoupling_rate"] for r in wins]
            queries = [r["forward_passes"] for r in res.values()]
            # A failure on a sample whose minimum is known counts as a miss.
            on_known = [i for i in res if i in known]
            both = [(res[i]["decoupled_points"], known[i]) for i in on_known if res[i]["success"]]
            hit = sum(1 for p, k in both if p == k)
            excess = statistics.mean(p - k for p, k in both) if both else float("nan")
            med = f"{100 * statistics.median(rates):.3f}%" if rates else "-"
            print(f"| {m} | {q} | {n} | {100 * len(wins) / max(n, 1):.1f}% [{100 * lo:.1f}-{100 * hi:.1f}%] | {med} | "
                  f"{statistics.mean(queries):.0f} | {hit} of {len(on_known)} | {excess:.2f} |")
    paired(root, budgets, methods)


def paired(root, budgets, methods, against="sparse-rs"):
    """Set sizes on the samples both methods fooled: a median over each method's own
    successes compares different samples when their ASRs differ."""
    if against not in methods:
        return
    print(f"\nPaired with {against}, on the samples both fooled at the same budget: how often the method's "
          f"set has fewer, as many or more points, and both medians over those samples.\n")
    print(f"| method | queries | both fooled | fewer points | as many | more points | median rate | {against} median rate |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for q in budgets:
        other = load(os.path.join(root, f"{against}-q{q}"))
        for m in methods:
            if m == against:
                continue
            res = load(os.path.join(root, f"{m}-q{q}"))
            common = [i for i in res if res[i]["success"] and i in other and other[i]["success"]]
            if not common:
                print(f"| {m} | {q} | 0 | - | - | - | - | - |")
                continue
            d = [res[i]["decoupled_points"] - other[i]["decoupled_points"] for i in common]
            mine = statistics.median(res[i]["decoupling_rate"] for i in common)
            theirs = statistics.median(other[i]["decoupling_rate"] for i in common)
            print(f"| {m} | {q} | {len(common)} | {sum(x < 0 for x in d)} | {sum(x == 0 for x in d)} | "
                  f"{sum(x > 0 for x in d)} | {100 * mine:.3f}% | {100 * theirs:.3f}% |")


if __name__ == "__main__":
    main()
