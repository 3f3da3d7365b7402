#!/usr/bin/env python3
"""Accuracy of a shapes-vqa model per question type.

    bench/shapes_by_question.py RESULTS.jsonl [RESULTS.jsonl ...]

RESULTS is the results.jsonl of any `muroan attack` run over a shapes-vqa
checkpoint (e.g. `--method drop --samples 0`, which costs one query a sample):
every record carries the question (`text`) and whether the clean prediction was
`correct`. Prints one row per file: the accuracy per question type with its
sample count, and overall.
"""
import json
import sys

TYPES = ["shape", "left", "top", "closest", "farthest", "count"]


def question_type(text):
    if "closest" in text:
        return "closest"
    if "farthest" in text:
        return "farthest"
    if text.startswith("how many"):
        return "count"
    if text.endswith("on the left"):
        return "left"
    if text.endswith("at the top"):
        return "top"
    return "shape"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    print("| results | " + " | ".join(TYPES) + " | all |")
    print("| --- |" + " ---: |" * (len(TYPES) + 1))
    for path in sys.argv[1:]:
        right = {t: 0 for t in TYPES}
        seen = {t: 0 for t in TYPES}
        with open(path) as f:
            for line in f:
                r = json.loads(line)
                t = question_type(r["text"])
                seen[t] += 1
                right[t] += bool(r["correct"])
        cells = [f"{right[t] / seen[t]:.3f} ({seen[t]})" if seen[t] else "-" for t in TYPES]
        total = sum(seen.values())
        cells.append(f"{sum(right.values()) / total:.3f} ({total})")
        print(f"| {path} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
