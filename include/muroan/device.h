// Run-time device selection: --device auto|cpu|cuda. Code compiles against a
// CPU-only LibTorch; CUDA is used only when the running LibTorch has it.
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <string>

namespace muroan {

// "auto" picks CUDA when available, else CPU; "cuda" without CUDA throws
// UsageError; anything else throws UsageError.
torch::Device resolve_device(const std::string& name);

// Seeds LibTorch's global generators (CPU and, if present, CUDA).
void seed_everything(uint64_t seed);

// RAII: puts a module in eval mode and disables autograd; restores both.
class EvalGuard {
 public:
  explicit EvalGuard(torch::nn::Module& module);
  ~EvalGuard();
  EvalGuard(const EvalGuard&) = delete;
  EvalGuard& operator=(const EvalGuard&) = delete;

 private:
  torch::nn::Module& module_;
  bool was_training_;
  torch::NoGradGuard no_grad_;
};

}  // namespace muroan
