#!/usr/bin/env python3
"""Writes the tiny TorchScript fixtures of tests/io_test.cpp (run from anywhere):

  tiny.pt  forward(image [B,1,8,8], tokens [B,6]) -> logits [B,3]; exported
           fusion(image, tokens) -> [B,4] and bad_fusion -> [B,2,2]; 20 token ids
  flat.pt  the same weights, but forward returns [B] (a wrong logits shape)
  mutating.pt  the same weights and answers, but forward zeroes its input
           tensors after use (a model MUROAN must not let corrupt its samples)
  three.pt forward(image [B,1,8,8], tokens [B,6], vitals [B,4]) -> logits [B,2]
           (contract 2): "urgent" (class 1) exactly when vitals[2] (lactate)
           exceeds 2.0; image and tokens add at most 0.5 to the margin, so the
           smallest decoupling set of an urgent sample whose lactate is above
           2.5 is that one feature (fill 1.0). Exported fusion -> [B,3].
  three_truth.pt  its truth module (manifest field "truth"): forward(image,
           tokens, vitals) -> int64 [B], 1 when lactate > 2, else 0, and -1
           (no label) when token 7 is not in the note.
  speech.pt forward(speech [B,800], note [B,6]) -> logits [B,2] (contract 2;
           speech: 0.1 s at 8 kHz, 10 frames of 10 ms): "alarm" (class 1)
           exactly when the mean square of samples 240..399 (frames 3 and 4)
           exceeds 0.02 by the note's nudge of at most 0.25/40; a tone of
           amplitude 0.5 there needs both frames silenced to flip (one leaves
           half its energy). Exported fusion -> [B,2].
  leads.pt forward(leads [B,3,400], note [B,6]) -> logits [B,2] (contract 2;
           leads: a 3-channel signal of 2 s at 200 Hz, 20 frames of 100 ms):
           the same rule on lead 2 alone, samples 60..99 (frames 3 and 4);
           leads 0 and 1 never matter. Exported fusion -> [B,2].

    python3 tests/data/make_fixtures.py          # every fixture
    python3 tests/data/make_fixtures.py three    # only three.pt and three_truth.pt
    python3 tests/data/make_fixtures.py speech   # only speech.pt
    python3 tests/data/make_fixtures.py leads    # only leads.pt

Weights are seeded, so the files only change with PyTorch's format.
"""
import os
import sys

import torch
from torch import nn


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.image = nn.Linear(64, 4)
        self.embed = nn.Embedding(20, 4)
        self.head = nn.Linear(4, 3)

    @torch.jit.export
    def fusion(self, image: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.image(image.flatten(1)) + self.embed(tokens).mean(1))

    @torch.jit.export
    def bad_fusion(self, image: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        return self.fusion(image, tokens).view(-1, 2, 2)

    def forward(self, image: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.fusion(image, tokens))


class Flat(Tiny):
    def forward(self, image: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.fusion(image, tokens)).sum(1)


class Mutating(Tiny):
    def forward(self, image: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        out = self.head(self.fusion(image, tokens))
        image.zero_()
        tokens.zero_()
        return out


class Three(nn.Module):
    """Hand-set weights (no training): the lactate rule, plus bounded nudges."""

    @torch.jit.export
    def fusion(self, image: torch.Tensor, tokens: torch.Tensor, vitals: torch.Tensor) -> torch.Tensor:
        lactate = vitals[:, 2] - 2.0
        nudge_image = 0.25 * torch.tanh(image.flatten(1).mean(1) - 0.5)
        nudge_tokens = 0.25 * torch.tanh((tokens > 0).float().sum(1) / 6.0 - 0.5)
        return torch.stack([lactate, nudge_image, nudge_tokens], dim=1)

    def forward(self, image: torch.Tensor, tokens: torch.Tensor, vitals: torch.Tensor) -> torch.Tensor:
        z = self.fusion(image, tokens, vitals)
        urgent = 4.0 * z[:, 0] + z[:, 1] + z[:, 2]
        return torch.stack([torch.zeros_like(urgent), urgent], dim=1)


class ThreeTruth(nn.Module):
    """The truth of three.pt's task: urgent when lactate > 2; no label once
    token 7 (the complaint) is gone from the note."""

    def forward(self, image: torch.Tensor, tokens: torch.Tensor, vitals: torch.Tensor) -> torch.Tensor:
        label = (vitals[:, 2] > 2.0).long()
        complaint = (tokens == 7).any(1)
        return torch.where(complaint, label, torch.full_like(label, -1))


class Speech(nn.Module):
    """Hand-set: the energy of frames 3-4 decides, the note nudges."""

    @torch.jit.export
    def fusion(self, speech: torch.Tensor, note: torch.Tensor) -> torch.Tensor:
        energy = speech[:, 240:400].pow(2).mean(1) - 0.02
        nudge = 0.25 * torch.tanh((note > 0).float().sum(1) / 6.0 - 0.5) / 40.0
        return torch.stack([energy, nudge], dim=1)

    def forward(self, speech: torch.Tensor, note: torch.Tensor) -> torch.Tensor:
        z = self.fusion(speech, note)
        alarm = 40.0 * (z[:, 0] + z[:, 1])
        return torch.stack([torch.zeros_like(alarm), alarm], dim=1)


class Leads(nn.Module):
    """Hand-set: the energy of lead 2 in frames 3-4 decides, the note nudges."""

    @torch.jit.export
    def fusion(self, leads: torch.Tensor, note: torch.Tensor) -> torch.Tensor:
        energy = leads[:, 2, 60:100].pow(2).mean(1) - 0.02
        nudge = 0.25 * torch.tanh((note > 0).float().sum(1) / 6.0 - 0.5) / 40.0
        return torch.stack([energy, nudge], dim=1)

    def forward(self, leads: torch.Tensor, note: torch.Tensor) -> torch.Tensor:
        z = self.fusion(leads, note)
        alarm = 40.0 * (z[:, 0] + z[:, 1])
        return torch.stack([torch.zeros_like(alarm), alarm], dim=1)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.argv[1:] == ["speech"]:
        torch.jit.script(Speech().eval()).save(os.path.join(here, "speech.pt"))
        return
    if sys.argv[1:] == ["leads"]:
        torch.jit.script(Leads().eval()).save(os.path.join(here, "leads.pt"))
        return
    torch.jit.script(Speech().eval()).save(os.path.join(here, "speech.pt"))
    torch.jit.script(Leads().eval()).save(os.path.join(here, "leads.pt"))
    torch.jit.script(Three().eval()).save(os.path.join(here, "three.pt"))
    torch.jit.script(ThreeTruth().eval()).save(os.path.join(here, "three_truth.pt"))
    if sys.argv[1:] == ["three"]:
        return
    torch.manual_seed(0)
    tiny = Tiny().eval()
    flat = Flat().eval()
    flat.load_state_dict(tiny.state_dict())
    mutating = Mutating().eval()
    mutating.load_state_dict(tiny.state_dict())
    torch.jit.script(tiny).save(os.path.join(here, "tiny.pt"))
    torch.jit.script(flat).save(os.path.join(here, "flat.pt"))
    torch.jit.script(mutating).save(os.path.join(here, "mutating.pt"))


if __name__ == "__main__":
    main()
