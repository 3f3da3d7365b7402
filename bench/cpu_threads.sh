#!/usr/bin/env bash
# LibTorch threads x OpenBLAS threads, side by side: one training epoch and two
# attacks per setting, REPS interleaved repetitions, medians into
# docs/performance.md (between its "cpu-threads" markers) and $OUT/table.md.
#   bench/cpu_threads.sh
# Environment, with defaults: MUROAN=build/apps/muroan/muroan OUT=runs/cpu-threads
#   REPS=3 TRAIN_SIZE=3000 SAMPLES=40 THREADS="1 2" BLAS="0 1" DOC=docs/performance.md
set -euo pipefail
cd "$(dirname "$0")/.."
MUROAN=${MUROAN:-build/apps/muroan/muroan}
OUT=${OUT:-runs/cpu-threads}
REPS=${REPS:-3}
TRAIN_SIZE=${TRAIN_SIZE:-3000}
SAMPLES=${SAMPLES:-40}
THREADS=${THREADS:-1 2}
BLAS=${BLAS:-0 1}
DOC=${DOC:-docs/performance.md}
mkdir -p "$OUT"
ckpt="$OUT/model"
# The attacked model: fashion-match concat (what the main job trains), short.
[ -f "$ckpt/checkpoint.json" ] || "$MUROAN" train --task fashion-match --fusion concat --train-size "$TRAIN_SIZE" \
  --val-size 500 --test-size 500 --epochs 3 --patience 3 --quiet --out "$ckpt" >/dev/null
seconds() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
: > "$OUT/times.txt"
for rep in $(seq "$REPS"); do
  for t in $THREADS; do
    for b in $BLAS; do
      g=("$MUROAN" --threads "$t" --blas-threads "$b")
      echo "$t $b train $(seconds "${g[@]}" train --task fashion-match --fusion concat --train-size "$TRAIN_SIZE" \
        --val-size 500 --test-size 500 --epochs 1 --quiet --out "$OUT/train-$t-$b")" >> "$OUT/times.txt"
      for m in greedy saliency; do
        rm -rf "$OUT/attack-$m-$t-$b"
        echo "$t $b $m $(seconds "${g[@]}" attack --checkpoint "$ckpt" --method "$m" --samples "$SAMPLES" --quiet \
          --out "$OUT/attack-$m-$t-$b")" >> "$OUT/times.txt"
      done
    done
  done
done
python3 - "$OUT" "$DOC" "$REPS" "$TRAIN_SIZE" "$SAMPLES" <<'PY'
import collections, json, re, statistics, sys
out, doc, reps, train_size, samples = sys.argv[1:]
times = collections.defaultdict(list)
for line in open(f"{out}/times.txt"):
    t, b, what, sec = line.split()
    times[(int(t), int(b), what)].append(float(sec))
def queries(t, b, m):
    s = json.load(open(f"{out}/attack-{m}-{t}-{b}/summary.json"))
    return s["queries_per_sample"] * s["attacked"], s["attacked"]
settings = sorted({(t, b) for t, b, _ in times})
slowest = {w: max(statistics.median(times[(t, b, w)]) for t, b in settings) for w in ("train", "greedy", "saliency")}
rows = ["| --threads | --blas-threads | train epoch (s) | greedy (s) | greedy queries/s | saliency (s) | speed-up vs slowest (train / greedy / saliency) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
for t, b in settings:
    med = {w: statistics.median(times[(t, b, w)]) for w in ("train", "greedy", "saliency")}
    q, attacked = queries(t, b, "greedy")
    rows.append(f"| {t} | {b} | {med['train']:.2f} | {med['greedy']:.2f} | {q / med['greedy']:,.0f} | {med['saliency']:.2f} | "
                + " / ".join(f"{slowest[w] / med[w]:.2f}x" for w in ("train", "greedy", "saliency")) + " |")
note = (f"Medians of {reps} interleaved runs of each setting, wall time of the whole command (start-up included). "
        f"Train: one epoch of fashion-match concat on {train_size} samples. Attacks: the first {samples} test samples "
        f"of a 3-epoch concat model ({attacked} correctly classified and attacked). `--blas-threads 0` is OpenBLAS's "
        "own choice (one thread per core), the behaviour before the fix.")
table = "\n".join(rows) + "\n\n" + note + "\n"
open(f"{out}/table.md", "w").write(table)
text = open(doc).read()
begin, end = "<!-- cpu-threads:begin -->", "<!-- cpu-threads:end -->"
text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda m: begin + "\n" + table + end, text, flags=re.S)
open(doc, "w").write(text)
print(table)
PY
