#!/usr/bin/env python3
"""Bring your own model with three inputs (contract 2): a triage model over a
clinical note, vital signs and labs, and a 1-lead ECG strip.

    python3 examples/export_triage_pytorch.py --out triage
    muroan info --manifest triage/manifest.json --data triage/samples.jsonl
    muroan attack --manifest triage/manifest.json --method greedy --success fooled

The data is synthetic, generated here from a seed (no download), with a stated
rule that needs more than one input to decide:

    urgent = (ST elevation on the ECG and the note reports chest pain)
             or (lactate > 2 mmol/L and systolic pressure < 100 mmHg)

A note that *denies* chest pain ("denies chest pain") does not count, so the
model has to read the negation; the vitals are correlated and noisy as real ones
are (heart rate rises as pressure falls). Written, as the contract (DESIGN.md
section 5.2) asks:
  OUT/model.pt        torch.jit.script(model): forward(ecg, note, vitals) -> logits [B,2]
                      and fusion(ecg, note, vitals) -> z [B,D]
  OUT/truth.pt        the rule as a truth module: forward(ecg, note, vitals) -> int64 [B],
                      the true label of a (decoupled) record, -1 where it has none
  OUT/manifest.json   "contract": 2, the three inputs (ecg: image [1,16,64];
                      note: tokens; vitals: tabular with named features and the
                      training means as fill values), classes, fusion method, vocab
  OUT/vocab.json      the note's words by id
  OUT/samples.jsonl   the test samples (+ OUT/ecg/*.png), vitals as lists of numbers

Needs only PyTorch (Debian: python3-torch).
"""
import argparse
import json
import os
import struct
import zlib

import torch
from torch import nn

FEATURES = ["heart_rate", "systolic_bp", "resp_rate", "spo2", "temperature", "lactate", "wbc", "age"]
WORDS = ["<pad>", "<unk>", "pt", "reports", "denies", "chest", "pain", "cough", "fever", "nausea", "and", "with",
         "since", "morning", "mild", "no", "headache", "dizziness", "fall", "yesterday"]
MAX_LEN = 10
ECG_H, ECG_W = 16, 64
ST_ROWS = (5, 7)  # rows of a raised ST segment (baseline row 9, R waves row 3)


def make_note(g, chest_pain, negated):
    """A short note; chest pain reported, denied, or not mentioned."""
    ids = {w: i for i, w in enumerate(WORDS)}
    fillers = [["cough"], ["fever"], ["nausea"], ["headache"], ["dizziness"], ["fall", "yesterday"]]
    words = ["pt"]
    if chest_pain:
        words += (["denies"] if negated else ["reports"]) + ["chest", "pain"]
    else:
        words += ["reports"] + fillers[int(torch.randint(len(fillers), (1,), generator=g))]
    if torch.rand(1, generator=g) < 0.5:
        words += ["with", "mild"] + fillers[int(torch.randint(len(fillers), (1,), generator=g))]
    if torch.rand(1, generator=g) < 0.3:
        words += ["since", "morning"]
    return [ids[w] for w in words[:MAX_LEN]]


def make_ecg(g, st_elevation):
    """A 1-lead strip as a grey image [1,16,64]: beats at a random rate, the
    segment after each R wave raised when `st_elevation`."""
    t = torch.arange(ECG_W, dtype=torch.float)
    period = 10 + int(torch.randint(6, (1,), generator=g))
    phase = (t + int(torch.randint(period, (1,), generator=g))) % period
    signal = torch.where(phase == 0, torch.tensor(6.0), torch.tensor(0.0))  # R waves
    if st_elevation:
        signal = signal + torch.where((phase >= 2) & (phase <= 4), torch.tensor(2.5), torch.tensor(0.0))
    signal = signal + 0.4 * torch.randn(ECG_W, generator=g)
    rows = (ECG_H // 2 + 1 - signal).round().clamp(0, ECG_H - 1).long()
    image = torch.zeros(1, ECG_H, ECG_W)
    image[0, rows, torch.arange(ECG_W)] = 1.0
    return image


def make_vitals(g, shock):
    """Eight correlated values; `shock`: low pressure with a high lactate."""
    n = lambda mean, sd: mean + sd * float(torch.randn(1, generator=g))
    sbp = n(85, 8) if shock else n(125, 15)
    lactate = n(3.5, 0.8) if shock else abs(n(1.3, 0.6))
    hr = n(110, 10) + (125 - sbp) * 0.2
    return [round(v, 2) for v in (hr, sbp, n(18, 3), min(100.0, n(96, 2)), n(37.2, 0.6), lactate, n(9, 3), n(60, 15))]


def make_split(n, seed):
    """n samples, half of them urgent, each urgent for one of the rule's two
    reasons, and many non-urgent ones that meet half of a reason."""
    g = torch.Generator().manual_seed(seed)
    ecgs, notes, vitals, labels = [], [], [], []
    for i in range(n):
        case = int(torch.randint(6, (1,), generator=g))
        # 0: ST + chest pain (urgent); 1: shock (urgent); 2: ST, pain denied;
        # 3: chest pain, normal ECG; 4: low pressure, normal lactate; 5: nothing.
        st = case in (0, 2) or (case == 5 and torch.rand(1, generator=g) < 0.2)
        pain = case in (0, 2, 3)
        negated = case == 2
        shock = case == 1
        v = make_vitals(g, shock)
        if case == 4:
            v[1] = round(88 + 5 * float(torch.randn(1, generator=g)), 2)  # low pressure, lactate normal
        urgent = (st and pain and not negated) or (v[5] > 2 and v[1] < 100)
        ecgs.append(make_ecg(g, st))
        notes.append(make_note(g, pain, negated))
        vitals.append(v)
        labels.append(int(urgent))
    tokens = torch.zeros(n, MAX_LEN, dtype=torch.long)
    for i, ids in enumerate(notes):
        tokens[i, :len(ids)] = torch.tensor(ids)
    return torch.stack(ecgs), tokens, torch.tensor(vitals), torch.tensor(labels)


class TriageNet(nn.Module):
    """Per input an encoder (a CNN over the strip, word embeddings with their
    order kept by a GRU, an MLP over standardised vitals), concatenated into
    the fusion embedding z, then a head."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor):
        super().__init__()
        self.ecg = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveMaxPool2d((1, 4)), nn.Flatten(),
            nn.Linear(128, 32))
        self.embed = nn.Embedding(len(WORDS), 32, padding_idx=0)
        self.gru = nn.GRU(32, 32, batch_first=True)
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)
        self.vitals = nn.Sequential(nn.Linear(len(FEATURES), 32), nn.ReLU(), nn.Linear(32, 32))
        self.head = nn.Sequential(nn.Linear(96, 32), nn.ReLU(), nn.Linear(32, 2))

    @torch.jit.export
    def fusion(self, ecg: torch.Tensor, note: torch.Tensor, vitals: torch.Tensor) -> torch.Tensor:
        _, h = self.gru(self.embed(note))
        v = self.vitals((vitals - self.mean) / self.std)
        return torch.cat([self.ecg(ecg), h[0], v], dim=1)

    def forward(self, ecg: torch.Tensor, note: torch.Tensor, vitals: torch.Tensor) -> torch.Tensor:
        return self.head(self.fusion(ecg, note, vitals))


class TriageTruth(nn.Module):
    """The rule, re-read from a record as MUROAN decouples it (the manifest's
    truth module; README, "A truth module"): the true label of x_S, or -1 where x_S
    no longer says. Decoupled vitals read as their fill (the training mean),
    so a deleted lactate is a typical lactate; decoupled ECG pixels are 0.

      shock (lactate > 2 and systolic < 100)           -> urgent, whatever else
      one of "chest", "pain" deleted, the other kept   -> -1 (what hurts?)
      no chest pain reported ("denies", or no mention) -> routine
      over a fifth of the strip's trace hidden         -> -1 (the ECG is unread)
      else: ST elevation still visible (>= 4 columns whose trace is raised,
            rows 5-7; a clean strip's baseline is row 9, its R waves row 3)
            -> urgent, else routine
    """

    def __init__(self):
        super().__init__()
        self.chest = WORDS.index("chest")
        self.pain = WORDS.index("pain")
        self.denies = WORDS.index("denies")
        self.st_first, self.st_last = ST_ROWS

    def forward(self, ecg: torch.Tensor, note: torch.Tensor, vitals: torch.Tensor) -> torch.Tensor:
        chest = (note == self.chest).any(1)
        pain = (note == self.pain).any(1)
        reported = chest & pain & ~(note == self.denies).any(1)
        trace = ecg[:, 0] > 0.5                                  # [B,H,W]: one lit pixel per column when clean
        hidden = 1.0 - trace.any(1).float().mean(1)              # share of columns without their trace
        raised = trace[:, self.st_first:self.st_last + 1].any(1).sum(1)
        shock = (vitals[:, 5] > 2.0) & (vitals[:, 1] < 100.0)
        one, zero, none = torch.ones_like(raised), torch.zeros_like(raised), torch.full_like(raised, -1)
        label = torch.where(raised >= 4, one, zero)
        label = torch.where(hidden > 0.2, none, label)
        label = torch.where(reported, label, zero)
        label = torch.where(chest != pain, none, label)
        return torch.where(shock, one, label).long()


def accuracy(model, ecg, note, vitals, labels):
    with torch.no_grad():
        return (model(ecg, note, vitals).argmax(1) == labels).float().mean().item()


def write_png(path, image):
    """A grey 8-bit PNG of a [1,H,W] tensor in [0,1] (needs nothing but zlib)."""
    h, w = image.shape[1], image.shape[2]
    pixels = (image[0] * 255).round().clamp(0, 255).to(torch.uint8).tolist()
    raw = b"".join(b"\x00" + bytes(row) for row in pixels)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="folder for model.pt, manifest.json, samples.jsonl, ecg/")
    parser.add_argument("--train-size", type=int, default=3000)
    parser.add_argument("--test-size", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    train = make_split(args.train_size, args.seed)
    test = make_split(args.test_size, args.seed + 1000)
    mean, std = train[2].mean(0), train[2].std(0)

    model = TriageNet(mean, std)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for epoch in range(args.epochs):
        model.train()
        for batch in torch.randperm(len(train[3])).split(64):
            ecg, note, vitals, labels = (t[batch] for t in train)
            loss = nn.functional.cross_entropy(model(ecg, note, vitals), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        print(f"epoch {epoch + 1}: train accuracy {accuracy(model, *train):.4f}")

    os.makedirs(os.path.join(args.out, "ecg"), exist_ok=True)
    torch.jit.script(model.eval()).save(os.path.join(args.out, "model.pt"))
    truth = torch.jit.script(TriageTruth().eval())
    truth.save(os.path.join(args.out, "truth.pt"))
    manifest = {
        "contract": 2,
        "model": "model.pt",
        "inputs": [
            {"name": "ecg", "kind": "image", "shape": [1, ECG_H, ECG_W], "fill": 0.0},
            {"name": "note", "kind": "tokens", "max_len": MAX_LEN, "pad_id": 0, "vocab_size": len(WORDS)},
            # A decoupled vital takes the training mean: "not measured, assume typical".
            {"name": "vitals", "kind": "tabular", "features": FEATURES, "fill": [round(float(m), 3) for m in mean]},
        ],
        "classes": ["routine", "urgent"],
        "fusion_method": "fusion",
        "vocab": "vocab.json",
        "truth": "truth.pt",
        "truth_rules": "the generating rule re-read from x_S: shock -> urgent; 'chest' or 'pain' alone -> no label; "
                       "no chest pain reported -> routine; over 20% of the ECG trace hidden -> no label; "
                       "else urgent iff ST elevation is still visible",
    }
    with open(os.path.join(args.out, "vocab.json"), "w") as f:
        json.dump(WORDS, f)
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    with open(os.path.join(args.out, "samples.jsonl"), "w") as f:
        for i in range(len(test[3])):
            png = f"ecg/{i:05d}.png"
            write_png(os.path.join(args.out, png), test[0][i])
            note = [int(t) for t in test[1][i] if t != 0]
            text = " ".join(WORDS[t] for t in note)
            f.write(json.dumps({"id": i, "ecg": png, "note": note, "text": text,
                                "vitals": [round(float(v), 4) for v in test[2][i]], "label": int(test[3][i])}) + "\n")
    # The PNGs hold 8-bit pixels: measure the exported module on what MUROAN will read.
    ecg8 = (test[0] * 255).round() / 255
    agree = (truth(ecg8, test[1], test[2]) == test[3]).float().mean().item()
    if agree != 1.0:
        raise SystemExit(f"truth.pt labels {agree:.2%} of the test samples as the rule does; expected all")
    urgent = test[3].float().mean().item()
    print(f"test accuracy {accuracy(model, ecg8, test[1], test[2], test[3]):.4f} on {len(test[3])} samples "
          f"({urgent:.0%} urgent) -> {args.out}")


if __name__ == "__main__":
    main()
