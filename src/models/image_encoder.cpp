// The built-in image encoder: a small CNN and a readout of its grid.
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/pooling.h>
#include <torch/torch.h>

#include <array>

#include "he_init.h"
#include "muroan/encoders.h"
#include "muroan/error.h"

namespace muroan {
namespace {

constexpr int64_t kConvBlocks = 3;  // each halves the spatial size

// The four strided views of x's 2x2 windows: x[.., 2i+a, 2j+b] for (a,b) in
// row order; an odd last row or column is left out, as MaxPool2d(2) does.
std::array<torch::Tensor, 4> window_corners(const torch::Tensor& x) {
  const int64_t h = x.size(-2) / 2 * 2, w = x.size(-1) / 2 * 2;
  const auto even = x.narrow(-2, 0, h).narrow(-1, 0, w);
  using torch::indexing::Slice;
  const auto at = [&](int64_t a, int64_t b) {
    return even.index({"...", Slice(a, torch::indexing::None, 2), Slice(b, torch::indexing::None, 2)});
  };
  return {at(0, 0), at(0, 1), at(1, 0), at(1, 1)};
}

// 2x2 max pooling with stride 2, the same numbers and gradients as
// max_pool2d, made of elementwise maxima: LibTorch 1.13's CPU max_pool2d
// takes 7.7 ms on [64,16,56,56] where the three maxima of the four strided
// views take 0.8 ms (docs/performance.md). A maximum rounds nothing, so the
// values are max_pool2d's to the bit; the gradient goes, as max_pool2d's
// does, to the first maximum of each window in row order, so training is
// unchanged to the bit too.
struct MaxPool2x2 : torch::autograd::Function<MaxPool2x2> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x) {
    const auto c = window_corners(x);
    auto y = torch::maximum(torch::maximum(c[0], c[1]), torch::maximum(c[2], c[3]));
    ctx->save_for_backward({x, y});
    return y;
  }
  // max_pool2d's own backward kernel, given the indices max_pool2d would have
  // returned: of each window's first maximum in row order (flat h * W + w).
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& y = saved[1];
    const auto c = window_corners(x);
    const int64_t width = x.size(-1), h = y.size(-2), w = y.size(-1);
    const auto longs = torch::TensorOptions(torch::kLong).device(x.device());
    const auto window = torch::arange(h, longs).mul_(2 * width).view({h, 1}) + torch::arange(w, longs).mul_(2);
    auto corner = torch::where(c[2].eq(y), width, width + 1);
    corner = torch::where(c[1].eq(y), 1, corner);
    corner = torch::where(c[0].eq(y), 0, corner);
    return {
        torch::max_pool2d_with_indices_backward(grads[0], x, {2, 2}, {2, 2}, {0, 0}, {1, 1}, false, corner + window)};
  }
};

torch::Tensor max_pool_2x2(const torch::Tensor& x) {
  if (!x.device().is_cpu()) return torch::max_pool2d(x, 2);  // the device's own kernel
  return MaxPool2x2::apply(x);
}

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
  // body_ holds conv, ReLU and (pooled blocks) MaxPool2d, the layout every
  // checkpoint's archive has; they run here as conv, pooling, ReLU, the
  // pooling by max_pool_2x2. Pooling before the ReLU gives the same numbers
  // and gradients (max and ReLU commute: both are monotone, and a window whose
  // maximum is not positive passes no gradient either way) for a quarter of
  // the ReLU's work.
  const auto layers = body_->children();
  auto h = image;
  for (size_t i = 0; i < layers.size(); ++i) {
    if (auto* conv = layers[i]->as<torch::nn::Conv2dImpl>()) {
      h = conv->forward(h);
      continue;
    }
    if (i + 1 < layers.size() && layers[i + 1]->as<torch::nn::MaxPool2dImpl>()) {  // ReLU, then MaxPool2d
      h = max_pool_2x2(h);
      ++i;
    }
    h = torch::relu(h);
  }
  f.grid = h;
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
