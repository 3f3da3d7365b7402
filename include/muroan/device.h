// Run-time device selection: --device auto|cpu|cuda. Code compiles against a
// CPU-only LibTorch; CUDA is used only when the running LibTorch has it.
#pragma once

#include <torch/types.h>

#include <string>

namespace muroan {

// "auto" picks CUDA when available, else CPU; "cuda" without CUDA throws
// UsageError; anything else throws UsageError.
torch::Device resolve_device(const std::string& name);

// Seeds LibTorch's global generators (CPU and, if present, CUDA).
void seed_everything(uint64_t seed);

}  // namespace muroan
