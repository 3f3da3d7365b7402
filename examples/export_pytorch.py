#!/usr/bin/env python3
"""Bring your own model to MUROAN: train a small image+text PyTorch model, export it.

    muroan export-data --task fashion-match --split train --samples 12000 --out data/train
    muroan export-data --task fashion-match --split test --samples 1000 --out data/test
    python3 examples/export_pytorch.py --train data/train --test data/test --out byom
    muroan info --manifest byom/manifest.json --data byom/samples.jsonl

What it writes follows MUROAN's TorchScript contract (DESIGN.md section 5):
  byom/model.pt        torch.jit.script(model): forward(image, tokens) -> logits [B,K],
                       and the exported method fusion(image, tokens) -> z [B,D]
  byom/manifest.json   the model file, its inputs, classes, fusion method, and its
                       vocabulary (byom/vocab.json, words by id), so that words can
                       be protected from attacks (muroan attack --protect-words not,no)
  byom/samples.jsonl   the test samples (+ byom/images/*.png), to measure it on

Needs only PyTorch (Debian: python3-torch). fashion-match pairs every garment
with a true and a false (often negated) caption, so a model is at 50% until it
has learnt both the garments and the negation. With 12000 training samples and 6
epochs this one reaches about 0.9 test accuracy in a few minutes on 2 CPU cores
(README); with a few hundred samples it stays near 0.5, and MUROAN warns that a
model at chance is not worth attacking.
"""
import argparse
import json
import os
import shutil
import struct
import zlib

import torch
from torch import nn


def read_png(path):
    """An 8-bit grey or RGB PNG as uint8 [C,H,W]. (With Pillow installed,
    numpy.asarray(PIL.Image.open(path)) does the same; this needs nothing.)"""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG file")
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    if depth != 8 or color not in (0, 2) or interlace:
        raise ValueError(f"{path}: expected an 8-bit grey or RGB PNG")
    channels = 1 if color == 0 else 3
    stride, raw = width * channels, zlib.decompress(idat)
    rows, prev = [], bytearray(stride)
    for y in range(height):
        kind, row = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride if kind else 0):  # undo the PNG row filter (export-data writes none)
            a = row[i - channels] if i >= channels else 0
            b, c = prev[i], prev[i - channels] if i >= channels else 0
            p = a + b - c
            paeth = a if abs(p - a) <= min(abs(p - b), abs(p - c)) else b if abs(p - b) <= abs(p - c) else c
            row[i] = (row[i] + (0, a, b, (a + b) // 2, paeth)[kind]) & 255
        rows.append(row)
        prev = row
    return torch.frombuffer(bytearray(b"".join(rows)), dtype=torch.uint8).view(height, width, channels).permute(2, 0, 1)


def load_samples(folder, max_len, pad_id):
    """samples.jsonl of `muroan export-data`: images float [N,C,H,W] in [0,1], tokens [N,L], labels [N]."""
    with open(os.path.join(folder, "samples.jsonl")) as f:
        samples = [json.loads(line) for line in f if line.strip()]
    images = torch.stack([read_png(os.path.join(folder, s["image"])) for s in samples]).float() / 255
    tokens = torch.full((len(samples), max_len), pad_id, dtype=torch.long)
    for i, s in enumerate(samples):
        tokens[i, :len(s["tokens"])] = torch.tensor(s["tokens"], dtype=torch.long)
    labels = torch.tensor([s["label"] for s in samples], dtype=torch.long)
    return images, tokens, labels


class MatchNet(nn.Module):
    """A CNN summarises the image (u), a bag of word embeddings summarises the
    caption (v), and z = [u, v, u * v] is the fusion embedding that feeds the
    head. The product lets the model compare the garment with the class the
    caption names; the negation's embedding in v flips the answer."""

    def __init__(self, channels: int, vocab_size: int, pad_id: int, num_classes: int):
        super().__init__()
        self.image = nn.Sequential(
            nn.Conv2d(channels, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.Conv2d(64, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Linear(64, 64))
        self.embed = nn.Embedding(vocab_size, 64, padding_idx=pad_id)
        self.pad_id = pad_id
        self.head = nn.Sequential(nn.Linear(3 * 64, 64), nn.ReLU(), nn.Linear(64, num_classes))

    @torch.jit.export
    def fusion(self, image: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        u = self.image(image)
        v = self.embed(tokens).sum(1)  # the pad embedding is zero
        return torch.cat([u, v, u * v], dim=1)

    def forward(self, image: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.fusion(image, tokens))


def accuracy(model, images, tokens, labels):
    with torch.no_grad():
        return (model(images, tokens).argmax(1) == labels).float().mean().item()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", required=True, help="folder written by muroan export-data --split train")
    parser.add_argument("--test", required=True, help="folder written by muroan export-data --split test")
    parser.add_argument("--out", required=True, help="folder for model.pt, manifest.json, samples.jsonl, images/")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    torch.manual_seed(args.seed)

    with open(os.path.join(args.train, "task.json")) as f:
        task = json.load(f)  # inputs (image then tokens), classes, vocabulary
    image_spec, token_spec = task["inputs"]
    max_len, pad_id, vocab_size = token_spec["max_len"], token_spec["pad_id"], token_spec["vocab_size"]
    train = load_samples(args.train, max_len, pad_id)
    test = load_samples(args.test, max_len, pad_id)

    model = MatchNet(image_spec["shape"][0], vocab_size, pad_id, len(task["classes"]))
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    for epoch in range(args.epochs):
        model.train()
        for batch in torch.randperm(len(train[2])).split(64):
            images, tokens, labels = (t[batch] for t in train)
            loss = nn.functional.cross_entropy(model(images, tokens), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        print(f"epoch {epoch + 1}: train accuracy {accuracy(model, *train):.4f}")

    # The export: a TorchScript module, its manifest, and the data to measure it on.
    os.makedirs(args.out, exist_ok=True)
    scripted = torch.jit.script(model.eval())
    scripted.save(os.path.join(args.out, "model.pt"))
    manifest = {
        "model": "model.pt",
        "inputs": [
            {"name": "image", "kind": "image", "shape": image_spec["shape"], "fill": 0.0},
            {"name": "tokens", "kind": "tokens", "max_len": max_len, "pad_id": pad_id, "vocab_size": vocab_size},
        ],
        "classes": task["classes"],
        "fusion_method": "fusion",
        "vocab": "vocab.json",
    }
    with open(os.path.join(args.out, "vocab.json"), "w") as f:
        json.dump(task["vocabulary"], f)
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    shutil.copy(os.path.join(args.test, "samples.jsonl"), args.out)
    shutil.copytree(os.path.join(args.test, "images"), os.path.join(args.out, "images"), dirs_exist_ok=True)

    # The exported module, on the exported data: what `muroan info` should report.
    print(f"test accuracy {accuracy(scripted, *test):.4f} on {len(test[2])} samples -> {args.out}")


if __name__ == "__main__":
    main()
