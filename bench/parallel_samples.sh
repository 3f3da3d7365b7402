#!/usr/bin/env bash
# Sample-parallel search, side by side: `muroan bench` on one checkpoint with
# several (--parallel-samples, --attack-batch-size) settings, REPS interleaved
# repetitions, medians of queries/s into docs/performance.md (between its
# "parallel-samples" markers) and $OUT/table.md. The results of each setting
# are also checked to be the same sets (muroan attack, --no-timing).
#   bench/parallel_samples.sh [CHECKPOINT]
# Environment, with defaults: MUROAN=build/apps/muroan/muroan OUT=runs/parallel-samples
#   REPS=3 SAMPLES=150 METHODS=reference,greedy,saliency SETTINGS="1:256 16:64 16:256 64:64"
#   DOC=docs/performance.md
set -euo pipefail
cd "$(dirname "$0")/.."
MUROAN=${MUROAN:-build/apps/muroan/muroan}
OUT=${OUT:-runs/parallel-samples}
REPS=${REPS:-3}
SAMPLES=${SAMPLES:-150}
METHODS=${METHODS:-reference,greedy,saliency}
SETTINGS=${SETTINGS:-1:256 16:64 16:256 64:64}
DOC=${DOC:-docs/performance.md}
mkdir -p "$OUT"
ckpt=${1:-$OUT/model}
# Default model: fashion-match concat, 4 epochs (what the main job trains, shorter).
[ -f "$ckpt/checkpoint.json" ] || "$MUROAN" train --task fashion-match --fusion concat --epochs 4 --quiet \
  --out "$ckpt" >/dev/null
for rep in $(seq "$REPS"); do
  for s in $SETTINGS; do
    k=${s%%:*} b=${s##*:}
    "$MUROAN" bench --checkpoint "$ckpt" --samples "$SAMPLES" --methods "$METHODS" --batch-sizes "$b" \
      --thread-counts "$(nproc)" --parallel-samples "$k" --attack-batch-size "$b" \
      --out "$OUT/bench-$k-$b-$rep.json" >/dev/null
  done
done
# Same sets at every setting of the same batch size (the batch size itself
# may move a float's last bit, see docs/batching.md).
for m in ${METHODS//,/ }; do
  for s in $SETTINGS; do
    k=${s%%:*} b=${s##*:}
    rm -rf "$OUT/attack-$m-$k-$b"
    "$MUROAN" attack --checkpoint "$ckpt" --method "$m" --samples "$SAMPLES" --parallel-samples "$k" \
      --batch-size "$b" --no-timing --quiet --out "$OUT/attack-$m-$k-$b" >/dev/null
  done
done
python3 - "$OUT" "$DOC" "$REPS" "$SAMPLES" "$METHODS" "$SETTINGS" <<'PY'
import json, re, statistics, sys
out, doc, reps, samples, methods, settings = sys.argv[1:]
methods = methods.split(",")
settings = [tuple(s.split(":")) for s in settings.split()]
rows, peak = {}, {}
for k, b in settings:
    for rep in range(1, int(reps) + 1):
        run = json.load(open(f"{out}/bench-{k}-{b}-{rep}.json"))
        peak.setdefault((k, b), []).append(run["peak_rows_per_second"])
        for a in run["attacks"]:
            rows.setdefault((k, b, a["method"]), []).append(a["queries_per_second"])
base = settings[0]
lines = ["| --parallel-samples | --attack-batch-size | forward rows/s at that batch | "
         + " | ".join(f"{m} queries/s" for m in methods) + " | "
         + " | ".join(f"{m} vs {base[0]}:{base[1]}" for m in methods) + " |",
         "| ---: | ---: | ---: | " + " | ".join(["---:"] * (2 * len(methods))) + " |"]
med = lambda v: statistics.median(v)
for k, b in settings:
    q = [med(rows[(k, b, m)]) for m in methods]
    ratio = [med(rows[(k, b, m)]) / med(rows[(base[0], base[1], m)]) for m in methods]
    lines.append(f"| {k} | {b} | {med(peak[(k, b)]):,.0f} | " + " | ".join(f"{x:,.0f}" for x in q) + " | "
                 + " | ".join(f"{r:.2f}x" for r in ratio) + " |")
# results.jsonl of K > 1 against K = 1 at the same batch size
same = []
for k, b in settings:
    if k == "1" or ("1", b) not in settings:
        continue
    for m in methods:
        a = open(f"{out}/attack-{m}-1-{b}/results.jsonl").read()
        c = open(f"{out}/attack-{m}-{k}-{b}/results.jsonl").read()
        same.append(f"{m} K={k}: {'identical' if a == c else 'DIFFERENT'}")
lines.append("")
lines.append(f"results.jsonl (muroan attack --no-timing, {samples} samples) against K=1 at the same batch size: "
             + "; ".join(same) + ".")
table = "\n".join(lines) + (f"\n\nMedians of {reps} interleaved runs of `muroan bench --samples {samples}` "
                            f"(the first {samples} correctly classified test samples, two LibTorch threads); "
                            "queries/s = the searches' forward rows over the wall time of all attacks.\n")
open(f"{out}/table.md", "w").write(table)
text = open(doc).read()
new = re.sub(r"<!-- parallel-samples:begin -->.*<!-- parallel-samples:end -->",
             "<!-- parallel-samples:begin -->\n" + table + "<!-- parallel-samples:end -->", text, flags=re.S)
open(doc, "w").write(new)
print(table)
PY
