#include "muroan/gradients.h"

#include <ATen/Context.h>
#include <torch/torch.h>

namespace muroan {

torch::Tensor pixel_saliency(const torch::Tensor& grad, const torch::Tensor& x, double fill) {
  return (grad * (fill - x)).sum(1);
}

torch::Tensor feature_saliency(const torch::Tensor& grad, const torch::Tensor& x, const std::vector<double>& fills) {
  const auto fill = torch::tensor(fills, torch::kDouble).to(x.dtype()).to(x.device()).unsqueeze(0);
  return grad * (fill - x);
}

torch::Tensor frame_saliency(const torch::Tensor& grad, const torch::Tensor& x, const ModalitySpec& spec) {
  const auto per_sample = grad * (spec.fill - x);
  const int64_t padded = spec.num_frames() * spec.frame;
  return torch::constant_pad_nd(per_sample, {0, padded - spec.num_samples()})
      .view({x.size(0), spec.num_frames(), spec.frame})
      .sum(2);
}

torch::Tensor token_saliency(const torch::Tensor& grad, const torch::Tensor& now, const torch::Tensor& after) {
  return ((after - now.unsqueeze(1)) * grad.unsqueeze(1)).sum({2, 3});
}

torch::Tensor linf_step(const torch::Tensor& x, const torch::Tensor& ascent, const torch::Tensor& origin, double step,
                        double eps) {
  const auto next = x + step * ascent.sign();
  if (!origin.defined()) return next.clamp(-eps, eps);
  return torch::min(torch::max(next, origin - eps), origin + eps);
}

CudnnOffForRnnBackward::CudnnOffForRnnBackward(bool active)
    : active_(active), was_(at::globalContext().userEnabledCuDNN()) {
  if (active_) at::globalContext().setUserEnabledCuDNN(false);
}

CudnnOffForRnnBackward::~CudnnOffForRnnBackward() {
  if (active_) at::globalContext().setUserEnabledCuDNN(was_);
}

}  // namespace muroan
