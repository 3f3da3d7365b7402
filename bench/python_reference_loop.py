#!/usr/bin/env python3
"""MUROAN's `reference` attack written the way the paper's published code runs it:
a Python loop that asks the model one question at a time (one row per forward
call, under torch.no_grad), on a bring-your-own TorchScript model folder of
examples/export_pytorch.py (model.pt, manifest.json, samples.jsonl, images/).
The baseline of issue #15: MUROAN should do the same whole process at least 5x
faster.

    /usr/bin/python3 bench/python_reference_loop.py BYOM [--samples 300] [--threads 1] [--out FILE]

It follows what `muroan attack --manifest BYOM/manifest.json --data BYOM/samples.jsonl
--method reference --samples N --success flip` does, with MUROAN's defaults
(src/attacks/reference_attack.cpp, search_context.cpp, decoupling.cpp, point_masks.cpp):
  * samples: the first N lines of samples.jsonl (all of them are loaded, as MUROAN
    loads them); one clean query each; a misclassified sample is skipped;
  * 1. quadtree occlusion: each quadrant (side s -> ceil(s/2); top-left, top-right,
    bottom-left, bottom-right) set to the manifest's image fill; a quadrant whose
    occlusion alone changes the decision is a candidate, and its quadrants are tried
    next while its longer side > 10 pixels (reference_min_side); every quadrant of a
    level is asked, as MUROAN asks a whole level;
  * 2. every non-pad token deleted alone (text removal `delete`, the default: later
    tokens shift left, a pad at the end); one that changes the decision is a candidate;
  * 3. combinations of candidates (image regions by area, then y, then x; then tokens
    by position) by increasing size, lexicographic within a size, the first success
    wins, at most 500 combinations (max_combinations); a combination whose union of
    points exceeds the budget (default 1.0: no budget) is skipped without a query.
    A size-1 combination is answered by the candidate's own query;
  * success = flip: the decision differs from the clean prediction (an exported model
    has no oracle); decoupling rate = union of decoupled points (pixels + words) / N;
  * queries per sample = the clean query + every search query (MUROAN's forward_passes).
It does not: judge the found set with another query, compute the fusion shift, write
MUROAN's records or summary (MUROAN does all three, and a batched clean pass, on top
of its searches), resume, shard, protect tokens, or take manifests other than
export_pytorch.py's (one image input, one tokens input without a tokenizer).
Combinations of two or more elements are asked one at a time and stop at the first
success, as `muroan attack --batch-size 1` does; with the flip criterion and no budget they
are never reached (every candidate flips alone, so the first one is the answer).

Prints samples, attacked, successes, queries, seconds of the whole process (from the
interpreter's start, read from /proc: imports, model and data loading included; not the
interpreter's shutdown after the last line, up to 0.5 s with torch loaded, so time both
programs with /usr/bin/time for the exact figure) and queries/s; --out writes one JSON
line per sample (index, id, attacked, success, queries, decoupled points, set).
"""
import os
import time

_SCRIPT_START = time.time()


def interpreter_start_seconds():
    """Seconds from the process's start to this script's first line (interpreter
    start-up), from /proc; 0 where /proc cannot say or says something implausible."""
    try:
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        with open("/proc/self/stat") as f:
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])  # field 22: starttime, since boot
        startup = uptime - ticks / os.sysconf("SC_CLK_TCK")
        return startup if 0.0 <= startup < 60.0 else 0.0
    except (OSError, ValueError, IndexError):
        return 0.0


_STARTUP = interpreter_start_seconds()

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402

import torch  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
from export_pytorch import load_samples  # noqa: E402

# MUROAN's AttackOptions defaults (include/muroan/attack.h).
REFERENCE_MIN_SIDE = 10
MAX_COMBINATIONS = 500
BUDGET = 1.0
WALK_PER_COMBINATION = 100  # ReferenceAttack::kWalkPerCombination


def quadrants(r):
    """Quadtree cells of r = (x, y, w, h), as SearchContext::quadrants."""
    x, y, w, h = r
    cw, ch = (w + 1) // 2, (h + 1) // 2
    cells = [(x, y, cw, ch), (x + cw, y, w - cw, ch), (x, y + ch, cw, h - ch), (x + cw, y + ch, w - cw, h - ch)]
    return [q for q in cells if q[2] > 0 and q[3] > 0]


class Sample:
    """One sample's input space: x_S of a set, and the union count of its points."""

    def __init__(self, image, tokens, fill, pad_id):
        self.image, self.tokens, self.fill, self.pad_id = image, tokens, fill, pad_id
        self.row = tokens[0].tolist()
        self.positions = [i for i, t in enumerate(self.row) if t != pad_id]  # words: every non-pad token
        self.total = image.shape[2] * image.shape[3] + len(self.positions)

    def apply(self, regions, positions):
        image, tokens = self.image, self.tokens
        if regions:
            image = image.clone()
            for x, y, w, h in regions:
                image[:, :, y:y + h, x:x + w] = self.fill
        if positions:
            kept = [t for i, t in enumerate(self.row) if i not in positions or t == self.pad_id]
            tokens = torch.tensor([kept + [self.pad_id] * (len(self.row) - len(kept))], dtype=torch.long)
        return image, tokens

    def points(self, regions, positions):
        pixels = set()
        for x, y, w, h in regions:
            pixels.update((yy, xx) for yy in range(y, y + h) for xx in range(x, x + w))
        return len(pixels) + len(set(positions))


class Model:
    def __init__(self, module, image_first):
        self.module, self.image_first, self.queries = module, image_first, 0

    def predict(self, image, tokens):
        """One forward call on one row: the decision."""
        self.queries += 1
        args = (image, tokens) if self.image_first else (tokens, image)
        return int(self.module(*args).argmax(1)[0])


def reference_attack(model, s, clean):
    """The search of ReferenceAttack::run, one query at a time. Returns
    (success, regions, positions, adversarial prediction, note)."""
    candidates = []  # (key, regions, positions, prediction alone)
    _, _, height, width = s.image.shape

    # 1. Quadtree occlusion, level by level.
    frontier = [(0, 0, width, height)]
    while frontier:
        level = [q for f in frontier for q in quadrants(f)]
        frontier = []
        for q in level:
            pred = model.predict(*s.apply([q], ()))
            if pred != clean:
                candidates.append(((0, q[2] * q[3], 0, q[1], q[0], -1), [q], [], pred))
                if max(q[2], q[3]) > REFERENCE_MIN_SIDE:
                    frontier.append(q)

    # 2. Each token deleted alone.
    for p in s.positions:
        pred = model.predict(*s.apply((), {p}))
        if pred != clean:
            candidates.append(((1, 0, 1, 0, 0, p), [], [p], pred))

    # Image regions by area (then position), then tokens by position.
    candidates.sort(key=lambda c: c[0])  # stable, as std::stable_sort

    # 3. Combinations by increasing size, lexicographic within a size.
    n = len(candidates)
    point_budget = math.floor(BUDGET * s.total + 1e-9)
    tried = walked = 0
    walk_limit = WALK_PER_COMBINATION * MAX_COMBINATIONS
    for k in range(1, n + 1):
        if tried >= MAX_COMBINATIONS or walked >= walk_limit:
            break
        for pick in itertools.combinations(range(n), k):
            if tried >= MAX_COMBINATIONS or walked >= walk_limit:
                break
            walked += 1
            regions = [r for i in pick for r in candidates[i][1]]
            positions = [p for i in pick for p in candidates[i][2]]
            if point_budget < s.total and s.points(regions, positions) > point_budget:
                continue
            tried += 1
            if k == 1:
                pred = candidates[pick[0]][3]  # known from the candidate's own query
            else:
                pred = model.predict(*s.apply(regions, set(positions)))
            if pred != clean:
                return True, regions, positions, pred, ""
    if n == 0:
        note = "no quadrant or token changes the decision alone"
    elif tried >= MAX_COMBINATIONS:
        note = "max_combinations reached"
    else:
        note = "combination walk limit reached"
    return False, [], [], clean, note


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("byom", help="folder of examples/export_pytorch.py: model.pt, manifest.json, samples.jsonl")
    parser.add_argument("--samples", type=int, default=300, help="the first N samples (0: all)")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (0: PyTorch's default)")
    parser.add_argument("--out", help="write one JSON line per sample to this file")
    args = parser.parse_args()
    if args.samples < 0:
        parser.error("--samples must be >= 0")
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    with open(os.path.join(args.byom, "manifest.json")) as f:
        manifest = json.load(f)
    kinds = [i.get("kind") for i in manifest["inputs"]]
    if sorted(kinds) != ["image", "tokens"] or any("tokenizer" in i for i in manifest["inputs"]):
        sys.exit(f"{args.byom}/manifest.json: expected one image and one tokens input without a tokenizer "
                 f"(examples/export_pytorch.py), got {kinds}")
    image_spec = next(i for i in manifest["inputs"] if i["kind"] == "image")
    token_spec = next(i for i in manifest["inputs"] if i["kind"] == "tokens")
    fill, pad_id = float(image_spec.get("fill", 0.0)), token_spec["pad_id"]
    module = torch.jit.load(os.path.join(args.byom, manifest["model"]), map_location="cpu").eval()
    model = Model(module, kinds[0] == "image")
    images, tokens, labels = load_samples(args.byom, token_spec["max_len"], pad_id)
    with open(os.path.join(args.byom, "samples.jsonl")) as f:
        ids = [str(json.loads(line).get("id", i)) for i, line in enumerate(l for l in f if l.strip())]
    count = len(labels) if args.samples == 0 else min(args.samples, len(labels))

    out = open(args.out, "w") if args.out else None
    attacked = successes = search_queries = 0
    with torch.no_grad():
        for i in range(count):
            s = Sample(images[i:i + 1], tokens[i:i + 1], fill, pad_id)
            label = int(labels[i])
            before = model.queries
            clean = model.predict(s.image, s.tokens)
            record = {"index": i, "id": ids[i], "label": label, "clean_prediction": clean,
                      "attacked": clean == label}
            if clean == label:
                success, regions, positions, adv, note = reference_attack(model, s, clean)
                attacked += 1
                successes += success
                queries = model.queries - before
                search_queries += queries
                record.update(success=success, adversarial_prediction=adv, queries=queries,
                              decoupled_points=s.points(regions, positions), total_points=s.total,
                              decoupling_rate=s.points(regions, positions) / s.total,
                              set={"regions": [list(r) for r in regions], "positions": positions})
                if note:
                    record["note"] = note
            if out:
                out.write(json.dumps(record) + "\n")
    if out:
        out.close()

    seconds = time.time() - _SCRIPT_START + _STARTUP
    print(f"samples: {count} (the first of {len(labels)}; {count - attacked} misclassified, not attacked)")
    print(f"attacked: {attacked}")
    print(f"successes: {successes} (flip)")
    print(f"queries: {search_queries} (attacked samples: clean query + search, one row per forward call); "
          f"{model.queries} forward calls in all")
    print(f"seconds: {seconds:.2f} (whole process, from the interpreter's start; torch threads "
          f"{torch.get_num_threads()})")
    print(f"queries/s: {search_queries / seconds:.1f}")


if __name__ == "__main__":
    main()
