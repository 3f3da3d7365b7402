#include "muroan/device.h"

#include <torch/cuda.h>
#include <torch/nn/module.h>
#include <torch/utils.h>

#include "muroan/error.h"

namespace muroan {

torch::Device resolve_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::kCPU;
  if (name == "cuda") {
    if (!torch::cuda::is_available())
      throw UsageError("--device cuda: this LibTorch has no usable CUDA device (use --device cpu or auto)");
    return torch::Device(torch::kCUDA);
  }
  throw UsageError("--device: expected auto, cpu or cuda, got '" + name + "'");
}

void seed_everything(uint64_t seed) {
  torch::manual_seed(seed);
  if (torch::cuda::is_available()) torch::cuda::manual_seed_all(seed);
}

}  // namespace muroan
