#!/usr/bin/env python3
"""Bring your own model with an audio input (contract 2): a voice assistant
that answers whether a spoken command names the object its camera sees.

    python3 examples/export_voice_pytorch.py --out voice
    muroan info --manifest voice/manifest.json --data voice/samples.jsonl
    muroan attack --manifest voice/manifest.json --method greedy

The data is synthetic, generated here from a seed (no download, no speech
engine): four command words, each a two-tone chord of its own frequencies
(500+1500, 700+2100, 900+2700, 1100+3300 Hz, pitch within 3%) lasting 160 to
240 ms at a random place in half a second of audio at 8 kHz, over noise and a
150 Hz hum; and four shapes (square outline, plus, cross, block; 5x5 pixels at
a random place of a 16x16 grey image). The label is 1 ("yes, that one") when
the word names the shape, else 0: neither input decides it alone.

Written, as the contract (DESIGN.md section 5.2) asks:
  OUT/model.pt        torch.jit.script(model): forward(camera, speech) -> logits [B,2]
                      and fusion(camera, speech) -> z [B,D]; the speech encoder
                      computes its spectrogram itself (torch.stft, 10 ms frames)
  OUT/truth.pt        the rule re-read from a decoupled sample: forward(camera,
                      speech) -> int64 [B], the true label of x_S or -1 where
                      the word is no longer heard or the shape no longer seen
  OUT/manifest.json   "contract": 2; camera: image [1,16,16], fill 0; speech:
                      audio, 4000 samples at 8000 Hz, 10 ms frames, fill 0 (silence)
  OUT/samples.jsonl   the test samples: camera/*.png and speech/*.wav (16-bit PCM)

Needs only PyTorch (Debian: python3-torch).
"""
import argparse
import json
import math
import os
import struct
import wave
import zlib

import torch
from torch import nn

RATE = 8000
SAMPLES = 4000                 # half a second
FRAME = 80                     # 10 ms: MUROAN's points of this input, and the spectrogram's frames
WORDS = [(500, 1500), (700, 2100), (900, 2700), (1100, 3300)]
NAMES = ["box", "plus", "cross", "block"]
SIDE, SHAPE = 16, 5
HEARD_FRAMES = 12              # a word is heard while at least 120 ms of it is
SEEN_SHARE = 0.75              # a shape is seen while 3/4 of its pixels are


def templates():
    """The four 5x5 shapes as [4,1,5,5] (1 = lit)."""
    t = torch.zeros(4, 1, SHAPE, SHAPE)
    t[0, 0, 0, :] = t[0, 0, -1, :] = t[0, 0, :, 0] = t[0, 0, :, -1] = 1  # box outline (16 px)
    t[1, 0, 2, :] = t[1, 0, :, 2] = 1                                    # plus (9 px)
    for i in range(SHAPE):
        t[2, 0, i, i] = t[2, 0, i, SHAPE - 1 - i] = 1                    # cross (9 px)
    t[3, 0, 1:4, 1:4] = 1                                                # block (9 px)
    return t


def make_speech(g, word):
    """Half a second at 8 kHz: the word's two tones (Hann-shaped onset and
    decay) at a random place, over noise and a hum."""
    t = torch.arange(SAMPLES, dtype=torch.float) / RATE
    u = lambda lo, hi: lo + (hi - lo) * float(torch.rand(1, generator=g))
    x = 0.02 * torch.randn(SAMPLES, generator=g) + u(0.0, 0.1) * torch.sin(2 * math.pi * 150 * t + u(0, 6.3))
    length = int(u(0.16, 0.24) * RATE)
    start = int(torch.randint(SAMPLES - length, (1,), generator=g))
    pitch = u(0.97, 1.03)
    envelope = torch.ones(length)
    ramp = 80
    envelope[:ramp] = torch.linspace(0, 1, ramp)
    envelope[-ramp:] = torch.linspace(1, 0, ramp)
    tw = t[:length]
    tone = sum(u(0.2, 0.4) * torch.sin(2 * math.pi * f * pitch * tw + u(0, 6.3)) for f in WORDS[word])
    x[start:start + length] += envelope * tone
    return x.clamp(-1, 1)


def make_camera(g, shape):
    """A 16x16 grey image with the shape at a random place, its intensity 0.6-1."""
    image = torch.zeros(1, SIDE, SIDE)
    y, x = (int(v) for v in torch.randint(SIDE - SHAPE + 1, (2,), generator=g))
    image[:, y:y + SHAPE, x:x + SHAPE] = templates()[shape] * (0.6 + 0.4 * float(torch.rand(1, generator=g)))
    return image


def make_split(n, seed):
    """n samples, half of them matching (the word names the shape)."""
    g = torch.Generator().manual_seed(seed)
    cameras, speech, labels = [], [], []
    for _ in range(n):
        shape = int(torch.randint(4, (1,), generator=g))
        match = bool(torch.rand(1, generator=g) < 0.5)
        word = shape if match else (shape + 1 + int(torch.randint(3, (1,), generator=g))) % 4
        cameras.append(make_camera(g, shape))
        speech.append(make_speech(g, word))
        labels.append(int(match))
    return torch.stack(cameras), torch.stack(speech), torch.tensor(labels)


def spectrogram(speech: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """|STFT| [B,41,50] of 10 ms frames (the window's length), aligned with
    MUROAN's (no centring)."""
    frame = window.size(0)
    return torch.stft(speech, n_fft=frame, hop_length=frame, win_length=frame, window=window, center=False,
                      return_complex=True).abs()


class VoiceNet(nn.Module):
    """A CNN over the camera image and a 1-D CNN over the log spectrogram's
    frames, concatenated into the fusion embedding z, then a head."""

    def __init__(self):
        super().__init__()
        self.register_buffer("window", torch.hann_window(FRAME))
        self.camera = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
            nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(32, 32))
        self.speech = nn.Sequential(
            nn.Conv1d(FRAME // 2 + 1, 32, 3, padding=1), nn.ReLU(), nn.Conv1d(32, 32, 3, padding=1), nn.ReLU(),
            nn.AdaptiveMaxPool1d(1), nn.Flatten(), nn.Linear(32, 32))
        self.head = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 2))

    @torch.jit.export
    def fusion(self, camera: torch.Tensor, speech: torch.Tensor) -> torch.Tensor:
        s = torch.log1p(spectrogram(speech, self.window))
        return torch.cat([self.camera(camera), self.speech(s)], dim=1)

    def forward(self, camera: torch.Tensor, speech: torch.Tensor) -> torch.Tensor:
        return self.head(self.fusion(camera, speech))


class VoiceTruth(nn.Module):
    """The rule, re-read from a sample as MUROAN decouples it (the manifest's
    truth module; README, "A truth module"): decoupled pixels are 0 and
    decoupled 10 ms frames silent, so decoupling can hide a word or a shape but
    never make another one.

      word heard:  exactly one word whose two tones both sound (a spectrogram
                   bin within one of the tone's, magnitude > 1) in at least 12
                   frames (120 ms; a clean word sounds in 15 or more)
      shape seen:  exactly one shape of which at least 3/4 of the pixels are
                   lit (> 0.3) at some place (a clean image shows all of its
                   shape and at most 5/9 of any other)
      label:       1 if the word names the shape, 0 if not, -1 if the word is
                   not heard or the shape not seen
    """

    def __init__(self):
        super().__init__()
        self.register_buffer("window", torch.hann_window(FRAME))
        t = templates()
        self.register_buffer("templates", t)
        self.register_buffer("sizes", t.sum((1, 2, 3)))
        self.bins = [[int(round(f * FRAME / RATE)) for f in w] for w in WORDS]
        self.seen_share = SEEN_SHARE
        self.heard_frames = HEARD_FRAMES

    def forward(self, camera: torch.Tensor, speech: torch.Tensor) -> torch.Tensor:
        lit = (camera > 0.3).float()
        overlap = nn.functional.conv2d(lit, self.templates).amax((2, 3))   # [B,4] pixels of each shape
        seen = overlap / self.sizes >= self.seen_share
        mag = spectrogram(speech, self.window)                            # [B,41,50]
        frames = []
        for pair in self.bins:
            sounding = torch.ones_like(mag[:, 0, :], dtype=torch.bool)
            for b in pair:
                sounding = sounding & (mag[:, b - 1:b + 2, :].amax(1) > 1.0)
            frames.append(sounding.sum(1))
        heard = torch.stack(frames, 1) >= self.heard_frames                   # [B,4]
        shape = seen.long().argmax(1)
        word = heard.long().argmax(1)
        known = (seen.sum(1) == 1) & (heard.sum(1) == 1)
        return torch.where(known, (shape == word).long(), torch.full_like(shape, -1))


def accuracy(model, camera, speech, labels):
    with torch.no_grad():
        return (model(camera, speech).argmax(1) == labels).float().mean().item()


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


def pcm16(x):
    """The 16-bit samples of a waveform in [-1,1], and the floats a reader gets back (value / 32768)."""
    q = (x * 32768).round().clamp(-32768, 32767).to(torch.int16)
    return q, q.float() / 32768


def write_wav(path, samples):
    with wave.open(path, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(RATE)
        f.writeframes(struct.pack(f"<{len(samples)}h", *samples.tolist()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="folder for model.pt, truth.pt, manifest.json, samples.jsonl")
    parser.add_argument("--train-size", type=int, default=3000)
    parser.add_argument("--test-size", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    train = make_split(args.train_size, args.seed)
    test = make_split(args.test_size, args.seed + 1000)

    model = VoiceNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for epoch in range(args.epochs):
        model.train()
        for batch in torch.randperm(len(train[2])).split(64):
            camera, speech, labels = (t[batch] for t in train)
            loss = nn.functional.cross_entropy(model(camera, speech), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        print(f"epoch {epoch + 1}: train accuracy {accuracy(model, *train):.4f}")

    for folder in ("camera", "speech"):
        os.makedirs(os.path.join(args.out, folder), exist_ok=True)
    torch.jit.script(model.eval()).save(os.path.join(args.out, "model.pt"))
    truth = torch.jit.script(VoiceTruth().eval())
    truth.save(os.path.join(args.out, "truth.pt"))
    manifest = {
        "contract": 2,
        "model": "model.pt",
        "inputs": [
            {"name": "camera", "kind": "image", "shape": [1, SIDE, SIDE], "fill": 0.0},
            {"name": "speech", "kind": "audio", "samples": SAMPLES, "sample_rate": RATE, "frame_ms": 10,
             "fill": 0.0},
        ],
        "classes": ["no", "yes"],
        "fusion_method": "fusion",
        "truth": "truth.pt",
        "truth_rules": "the word is heard while both of its tones sound in 120 ms of frames, the shape seen while "
                       "3/4 of its pixels are lit; yes iff the heard word names the seen shape; no label when either "
                       "is gone",
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    # Measured on what MUROAN will read: 8-bit pixels, 16-bit samples.
    camera8 = (test[0] * 255).round() / 255
    speech16 = torch.zeros_like(test[1])
    with open(os.path.join(args.out, "samples.jsonl"), "w") as f:
        for i in range(len(test[2])):
            png, wav = f"camera/{i:05d}.png", f"speech/{i:05d}.wav"
            write_png(os.path.join(args.out, png), test[0][i])
            q, speech16[i] = pcm16(test[1][i])
            write_wav(os.path.join(args.out, wav), q)
            f.write(json.dumps({"id": i, "camera": png, "speech": wav, "label": int(test[2][i])}) + "\n")
    agree = (truth(camera8, speech16) == test[2]).float().mean().item()
    if agree != 1.0:
        raise SystemExit(f"truth.pt labels {agree:.2%} of the test samples as the rule does; expected all")
    print(f"test accuracy {accuracy(model, camera8, speech16, test[2]):.4f} on {len(test[2])} samples "
          f"({test[2].float().mean().item():.0%} yes) -> {args.out}")


if __name__ == "__main__":
    main()
