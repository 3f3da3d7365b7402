// The built-in image encoder: a small CNN and a readout of its grid.
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/pooling.h>
#include <torch/torch.h>

#include "he_init.h"
#include "muroan/encoders.h"
#include "muroan/error.h"

namespace muroan {
namespace {

constexpr int64_t kConvBlocks = 3;  // each halves the spatial size

void push_conv_block(torch::nn::Sequential& seq, int64_t in, int64_t out, bool pool = true) {
  seq->push_back(he_init(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, /*kernel_size=*/3).padding(1))));
  seq->push_back(torch::nn::ReLU());
  if (pool) seq->push_back(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(/*kernel_size=*/2)));
}

}  // namespace

void check_image_readout(const std::string& readout) {
  if (readout != "flat" && readout != "spp")
    throw Error("model config: image_readout '" + readout + "', expected \"flat\" or \"spp\"");
}

int64_t image_grid_size(int64_t size, const std::string& readout) {
  const int64_t pools = readout == "spp" ? kConvBlocks - 1 : kConvBlocks;
  for (int64_t i = 0; i < pools; ++i) size /= 2;
  return size;
}

ImageEncoderImpl::ImageEncoderImpl(int64_t channels, int64_t dim, int64_t grid_cells, const std::string& readout)
    : spp_(readout == "spp") {
  check_image_readout(readout);
  torch::nn::Sequential body;
  push_conv_block(body, channels, 16);
  push_conv_block(body, 16, 32);
  push_conv_block(body, 32, dim, /*pool=*/!spp_);
  static_assert(kConvBlocks == 3, "the grid size assumes three conv blocks");
  body_ = register_module("body", body);
  project_ = register_module("project", he_init(torch::nn::Linear(spp_ ? kSppFeatures * dim : dim * grid_cells, dim)));
}

StreamFeatures ImageEncoderImpl::forward(const torch::Tensor& image) {
  StreamFeatures f;
  f.grid = body_->forward(image);
  if (spp_) {
    // Where things are survives in the quadrant maxima; what is there in the
    // grid max and mean. 6 D numbers instead of a projection of every cell.
    const auto quadrants = torch::adaptive_max_pool2d(f.grid, {2, 2});
    f.pooled = torch::relu(project_->forward(
        torch::cat({f.grid.amax({2, 3}), f.grid.mean({2, 3}), std::get<0>(quadrants).flatten(1)}, 1)));
  } else {
    // A learned projection of the whole grid rather than a mean: the mean would
    // throw away where things are, and captions and questions ask about places.
    f.pooled = torch::relu(project_->forward(f.grid.flatten(1)));
  }
  return f;
}

}  // namespace muroan
