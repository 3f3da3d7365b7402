// Gradient primitives shared by the white-box attacks (saliency, pgd) and the
// adversarial-training defenses (decoupling-at, pgd-at): the first-order
// saliency of decoupling a point, one projected L-infinity step, and the cuDNN
// guard that backward passes through an RNN in eval mode need.
//
//   auto score = muroan::pixel_saliency(grad, x, spec.fill);  // [B,H,W]
//   x = muroan::linf_step(x, -grad, x0, step, eps).clamp(0.0, 1.0);
#pragma once

#include <torch/types.h>

#include <vector>

#include "muroan/modality.h"

namespace muroan {

class Attack;
class Classifier;

// First-order change of a scalar objective when each pixel of the images x
// [B,C,H,W] is set to `fill` on every channel: the gradient times (fill - x),
// summed over channels. [B,H,W].
torch::Tensor pixel_saliency(const torch::Tensor& grad, const torch::Tensor& x, double fill);

// First-order change of a scalar objective when each feature d of the rows x
// [B,D] is set to fills[d]: the gradient times (fill - x). [B,D].
torch::Tensor feature_saliency(const torch::Tensor& grad, const torch::Tensor& x, const std::vector<double>& fills);

// The same for the frames of an audio or signal modality: grad x (fill - x)
// summed over each frame's samples (and a signal's channels), [B,frames].
torch::Tensor frame_saliency(const torch::Tensor& grad, const torch::Tensor& x, const ModalitySpec& spec);

// First-order change of a scalar objective when the token embeddings `now`
// [B,L,E] (with gradient `grad`, same shape) are replaced by each of the K
// candidates `after` [B,K,L,E] (the sequence embedded after a removal): the
// gradient dotted with the change, summed over positions. [B,K].
torch::Tensor token_saliency(const torch::Tensor& grad, const torch::Tensor& now, const torch::Tensor& after);

// One projected L-infinity step: x + step * sign(ascent), projected onto the
// ball of radius eps around `origin` (around 0 when `origin` is undefined).
// Pass the negated gradient to descend; clamp value ranges afterwards.
torch::Tensor linf_step(const torch::Tensor& x, const torch::Tensor& ascent, const torch::Tensor& origin, double step,
                        double eps);

// RAII: when `active`, turns cuDNN off (cuDNN refuses the backward pass of an
// RNN in eval mode on CUDA) and restores the user's setting when the last
// guard alive in any thread exits. Keep it alive from the forward pass through
// the backward pass.
//
// cuDNN is one switch for the whole process, so while one search takes a
// gradient, the passes of the others run without cuDNN too, and their last
// bits depend on timing. A run of a gradient attack on a GPU model with a
// token input therefore holds a guard for the whole run (every pass without
// cuDNN, whatever --parallel-samples is): cudnn_off_for_run says when.
class CudnnOffForRnnBackward {
 public:
  explicit CudnnOffForRnnBackward(bool active);
  ~CudnnOffForRnnBackward();
  CudnnOffForRnnBackward(const CudnnOffForRnnBackward&) = delete;
  CudnnOffForRnnBackward& operator=(const CudnnOffForRnnBackward&) = delete;

 private:
  bool active_;
};

bool cudnn_off_for_run(const Classifier& model, const Attack& attack);

}  // namespace muroan
