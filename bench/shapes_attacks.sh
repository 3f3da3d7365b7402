#!/usr/bin/env bash
# Greedy decoupling under the fooled criterion on every shapes-vqa model of the
# zoo that learnt the task (test accuracy >= 0.90; bench/train_zoo.sh or the
# recipe in docs/zoo_accuracy.md), on the first SAMPLES test samples, and the
# table for docs/attacks.md (printed).
#   bench/shapes_attacks.sh
# Environment: SAMPLES (default 240), METHOD (greedy), ZOO (runs/zoo),
# OUT (runs/shapes-attacks), MUROAN (build/apps/muroan/muroan).
set -euo pipefail
cd "$(dirname "$0")/.."
MUROAN=${MUROAN:-build/apps/muroan/muroan}
SAMPLES=${SAMPLES:-240}
METHOD=${METHOD:-greedy}
ZOO=${ZOO:-runs/zoo}
OUT=${OUT:-runs/shapes-attacks}
for dir in "$ZOO"/shapes-vqa/*/; do
  fusion=$(basename "$dir")
  acc=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["training"]["test_accuracy"])' "$dir/checkpoint.json")
  python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 0.9 else 1)' "$acc" || { echo "skip $fusion ($acc)"; continue; }
  "$MUROAN" attack --checkpoint "$dir" --method "$METHOD" --samples "$SAMPLES" --device cpu --quiet \
    --out "$OUT/$fusion/$METHOD"
done
python3 - "$OUT" "$METHOD" <<'PY'
import json, os, sys
root, method = sys.argv[1], sys.argv[2]
order = ["concat", "sum", "product", "gmu", "tensor", "lowrank", "bilinear", "film", "xattn", "transformer"]
rows = []
for f in sorted(os.listdir(root), key=lambda f: order.index(f) if f in order else 99):
    p = os.path.join(root, f, method, "summary.json")
    if os.path.exists(p):
        rows.append((f, json.load(open(p))))
print(f"| model | clean acc. | attacked | fooled ASR [95% CI] | median rate (fooled) | any flip | truth-changed | undefined |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for f, s in rows:
    ci = s["fooled_asr_ci95"]
    med = (s.get("fooled_decoupling_rate") or {}).get("median")
    c = s["success_classes"]
    print(f"| {f} | {s['clean_accuracy']:.3f} | {s['attacked']} | {100*s['fooled_asr']:.1f}% [{100*ci[0]:.1f}, {100*ci[1]:.1f}] | "
          f"{'-' if med is None else f'{100*med:.2f}%'} | {100*s['asr']:.1f}% | {c['truth-changed']} | {c['undefined']} |")
PY
