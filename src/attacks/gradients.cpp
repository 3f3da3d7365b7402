#include "muroan/gradients.h"

#include <ATen/Context.h>
#include <torch/torch.h>

#include <algorithm>
#include <mutex>

#include "muroan/attack.h"
#include "muroan/classifier.h"
#include "muroan/point_masks.h"

namespace muroan {

torch::Tensor pixel_saliency(const torch::Tensor& grad, const torch::Tensor& x, double fill) {
  return (grad * (fill - x)).sum(1);
}

torch::Tensor feature_saliency(const torch::Tensor& grad, const torch::Tensor& x, const std::vector<double>& fills) {
  const auto fill = torch::tensor(fills, torch::kDouble).to(x.dtype()).to(x.device()).unsqueeze(0);
  return grad * (fill - x);
}

torch::Tensor frame_saliency(const torch::Tensor& grad, const torch::Tensor& x, const ModalitySpec& spec) {
  auto per_sample = grad * (frame_fill(spec, x.options()) - x);
  if (spec.is_signal()) per_sample = per_sample.sum(1);  // every channel of a frame
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

namespace {

// The guards alive in any thread, and the user's setting from before the first:
// cuDNN is global, and the sample-parallel searches take gradients on several
// threads at once; one guard's exit must not turn cuDNN back on under another's
// forward pass (whose backward would then fail).
std::mutex cudnn_guard_mutex;
int64_t cudnn_guards = 0;
bool cudnn_user_setting = true;

}  // namespace

CudnnOffForRnnBackward::CudnnOffForRnnBackward(bool active) : active_(active) {
  if (!active_) return;
  std::lock_guard<std::mutex> lock(cudnn_guard_mutex);
  if (cudnn_guards++ == 0) {
    cudnn_user_setting = at::globalContext().userEnabledCuDNN();
    at::globalContext().setUserEnabledCuDNN(false);
  }
}

CudnnOffForRnnBackward::~CudnnOffForRnnBackward() {
  if (!active_) return;
  std::lock_guard<std::mutex> lock(cudnn_guard_mutex);
  if (--cudnn_guards == 0) at::globalContext().setUserEnabledCuDNN(cudnn_user_setting);
}

bool cudnn_off_for_run(const Classifier& model, const Attack& attack) {
  const auto& specs = model.modalities();
  return model.device().is_cuda() && attack.uses_gradients() &&
         std::any_of(specs.begin(), specs.end(), [](const ModalitySpec& s) { return s.is_tokens(); });
}

}  // namespace muroan
