#!/usr/bin/env bash
# Two or more builds of muroan (or one build under other environments), side
# by side on this machine: one training epoch, three attacks and the forward
# rows/s of `muroan bench`, REPS interleaved repetitions, medians into
# $OUT/table.md. Also checks that every variant gives the same results: the
# trained weights' tensors and the attacks' results.jsonl (--no-timing).
#   VARIANTS="before|/tmp/muroan-before after|build/apps/muroan/muroan" bench/side_by_side.sh
# A variant is label|binary or label|binary|VAR=value (one environment
# assignment, e.g. GLIBC_TUNABLES=...). Environment, with defaults:
#   OUT=runs/side-by-side REPS=3 SAMPLES=100 EPOCHS=1
#   CHECKPOINT=runs/analyze-fashion-match/checkpoints/concat (attacked and benched)
set -euo pipefail
cd "$(dirname "$0")/.."
: "${VARIANTS:?label|binary[|VAR=value] ...}"
OUT=${OUT:-runs/side-by-side}
REPS=${REPS:-3}
SAMPLES=${SAMPLES:-100}
EPOCHS=${EPOCHS:-1}
CHECKPOINT=${CHECKPOINT:-runs/analyze-fashion-match/checkpoints/concat}
[ -f "$CHECKPOINT/checkpoint.json" ] || { echo "error: $CHECKPOINT: no checkpoint.json (run scripts/main.sh first)" >&2; exit 1; }
mkdir -p "$OUT"
: > "$OUT/times.txt"
seconds() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
for rep in $(seq "$REPS"); do
  for v in $VARIANTS; do
    IFS='|' read -r label bin envset <<< "$v"
    run=(env ${envset:+"$envset"} "$bin")
    echo "$label train $(seconds "${run[@]}" train --task fashion-match --fusion concat --epochs "$EPOCHS" --quiet \
      --out "$OUT/$label/train")" >> "$OUT/times.txt"
    for m in greedy saliency reference; do
      echo "$label $m $(seconds "${run[@]}" attack --checkpoint "$CHECKPOINT" --method "$m" --samples "$SAMPLES" \
        --no-resume --no-timing --quiet --out "$OUT/$label/$m")" >> "$OUT/times.txt"
    done
    "${run[@]}" bench --checkpoint "$CHECKPOINT" --methods "" --batch-sizes 1 16 64 256 1024 --thread-counts 2 \
      --out "$OUT/$label/bench-$rep.json" >/dev/null
  done
done
python3 - "$OUT" "$REPS" "$SAMPLES" "$EPOCHS" "$CHECKPOINT" $VARIANTS <<'PY'
import collections, filecmp, json, statistics, sys, zipfile
out, reps, samples, epochs, checkpoint, *variants = sys.argv[1:]
labels = [v.split("|")[0] for v in variants]
times = collections.defaultdict(list)
for line in open(f"{out}/times.txt"):
    label, what, sec = line.split()
    times[(label, what)].append(float(sec))
def rows_per_s(label):
    per_batch = collections.defaultdict(list)
    for rep in range(1, int(reps) + 1):
        for m in json.load(open(f"{out}/{label}/bench-{rep}.json"))["forward"]:
            per_batch[m["batch"]].append(m["rows_per_second"])
    return {b: statistics.median(r) for b, r in sorted(per_batch.items())}
def tensors(label):  # the weights' tensors, not the archive's module code
    with zipfile.ZipFile(f"{out}/{label}/train/weights.pt") as z:
        return {n.split("/", 1)[1]: z.read(n) for n in z.namelist() if "/data/" in n}
base = labels[0]
work = ["train", "greedy", "saliency", "reference"]
rates = {l: rows_per_s(l) for l in labels}
batches = list(rates[base])
lines = ["| variant | " + " | ".join(f"{w} (s)" for w in work) + " | "
         + " | ".join(f"forward rows/s, batch {b}" for b in batches) + " | same results as " + base + " |",
         "| --- |" + " ---: |" * (len(work) + len(batches)) + " --- |"]
for l in labels:
    same = "-" if l == base else ("yes" if tensors(l) == tensors(base) and all(
        filecmp.cmp(f"{out}/{l}/{m}/results.jsonl", f"{out}/{base}/{m}/results.jsonl", shallow=False)
        for m in work[1:]) else "**no**")
    med = {w: statistics.median(times[(l, w)]) for w in work}
    cells = [f"{med[w]:.2f}" + ("" if l == base else f" ({statistics.median(times[(base, w)]) / med[w]:.2f}x)") for w in work]
    cells += [f"{rates[l][b]:,.0f}" for b in batches]
    lines.append(f"| {l} | " + " | ".join(cells) + f" | {same} |")
note = (f"Medians of {reps} interleaved runs, wall time of the whole command (start-up included); (Nx): speed-up over "
        f"{base}. Train: {epochs} epoch(s) of fashion-match concat, default sizes. Attacks: the first {samples} test "
        f"samples of {checkpoint}. Forward rows/s: `muroan bench --thread-counts 2` on the same checkpoint, medians.")
open(f"{out}/table.md", "w").write("\n".join(lines) + "\n\n" + note + "\n")
print("\n".join(lines) + "\n\n" + note)
PY
