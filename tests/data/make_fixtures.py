#!/usr/bin/env python3
"""Writes the tiny TorchScript fixtures of tests/io_test.cpp (run from anywhere):

  tiny.pt  forward(image [B,1,8,8], tokens [B,6]) -> logits [B,3]; exported
           fusion(image, tokens) -> [B,4] and bad_fusion -> [B,2,2]; 20 token ids
  flat.pt  the same weights, but forward returns [B] (a wrong logits shape)
  mutating.pt  the same weights and answers, but forward zeroes its input
           tensors after use (a model MUROAN must not let corrupt its samples)

Weights are seeded, so the files only change with PyTorch's format.
"""
import os

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


def main():
    here = os.path.dirname(os.path.abspath(__file__))
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
