#!/usr/bin/env python3
"""Would mixed precision change a decision of a forward-only search? Runs the
exported bring-your-own model (examples/export_pytorch.py) on its test samples
and on randomly decoupled copies of them (k random 7x7 patches set to the
image fill and k random words set to the pad id, k = 1..8, as an attack's
queries do), in float32 and under CUDA autocast with bfloat16 and float16, and
counts the rows whose argmax differs from float32's, overall and among the
rows float32 itself finds close (top-2 logit margin below 0.5). Also times a
forward pass of 4096 rows in each precision (median of 20, after warm-up).

    python3 bench/gpu_mixed_precision.py BYOM_FOLDER [--copies 16] [--seed 1] [--device cuda]
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
from export_pytorch import load_samples  # noqa: E402


def decoupled_copies(images, tokens, pad_id, copies, generator):
    """copies random decouplings of every sample: k patches and k words, k = 1..8."""
    n, _, h, w = images.shape
    xs, ts = [], []
    for c in range(copies):
        k = c % 8 + 1
        x, t = images.clone(), tokens.clone()
        for _ in range(k):
            r = torch.randint(0, h // 7, (n,), generator=generator) * 7
            q = torch.randint(0, w // 7, (n,), generator=generator) * 7
            for i in range(n):
                x[i, :, r[i]:r[i] + 7, q[i]:q[i] + 7] = 0.0
            words = (t != pad_id).sum(1).clamp(min=1)
            pos = (torch.rand(n, generator=generator) * words).long()
            t[torch.arange(n), pos] = pad_id
        xs.append(x)
        ts.append(t)
    return torch.cat([images] + xs), torch.cat([tokens] + ts)


def forward(model, x, t, dtype):
    if dtype is None:
        return model(x, t).float()
    with torch.autocast(x.device.type, dtype=dtype):
        return model(x, t).float()


def run(model, images, tokens, dtype, device, batch=4096):
    with torch.no_grad():
        return torch.cat([forward(model, images[s:s + batch].to(device), tokens[s:s + batch].to(device), dtype).cpu()
                          for s in range(0, images.shape[0], batch)])


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_forward(model, images, tokens, dtype, device, rows=4096):
    reps = (rows + images.shape[0] - 1) // images.shape[0]
    x = images.repeat(reps, 1, 1, 1)[:rows].to(device)
    t = tokens.repeat(reps, 1)[:rows].to(device)
    times = []
    with torch.no_grad():
        for i in range(25):
            synchronize(device)
            start = time.perf_counter()
            forward(model, x, t, dtype)
            synchronize(device)
            if i >= 5:
                times.append(time.perf_counter() - start)
    return rows / statistics.median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("byom")
    p.add_argument("--copies", type=int, default=16)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--device", default="cuda", help="cuda; cpu (bfloat16 only) to try the script")
    a = p.parse_args()
    device = torch.device(a.device)
    precisions = [("bfloat16", torch.bfloat16)] + ([("float16", torch.float16)] if device.type == "cuda" else [])
    manifest = json.load(open(os.path.join(a.byom, "manifest.json")))
    tok = next(i for i in manifest["inputs"] if i["kind"] == "tokens")
    images, tokens, labels = load_samples(a.byom, tok["max_len"], tok["pad_id"])
    model = torch.jit.load(os.path.join(a.byom, "model.pt"), map_location=device).eval()
    g = torch.Generator().manual_seed(a.seed)
    xs, ts = decoupled_copies(images, tokens, tok["pad_id"], a.copies, g)
    ref = run(model, xs, ts, None, device)
    top2 = ref.topk(2, dim=1).values
    close = (top2[:, 0] - top2[:, 1]) < 0.5
    print(f"{xs.shape[0]} rows ({images.shape[0]} test samples + {a.copies} decoupled copies each); "
          f"float32 accuracy on the clean samples {(ref[:len(labels)].argmax(1) == labels).float().mean():.4f}; "
          f"{int(close.sum())} rows with a top-2 margin below 0.5")
    for name, dtype in precisions:
        out = run(model, xs, ts, dtype, device)
        diff = out.argmax(1) != ref.argmax(1)
        err = ((out - ref).norm() / ref.norm()).item()
        print(f"autocast {name}: {int(diff.sum())} of {xs.shape[0]} decisions differ from float32 "
              f"({int((diff & close).sum())} of the {int(close.sum())} close rows); "
              f"relative logit error {err:.2e}; max |logit difference| {(out - ref).abs().max():.3g}")
    for name, dtype in [("float32", None)] + precisions:
        print(f"forward rows/s at 4096 rows, {name}: {time_forward(model, images, tokens, dtype, device):,.0f}")


if __name__ == "__main__":
    main()
