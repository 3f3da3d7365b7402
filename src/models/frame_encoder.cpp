// The built-in encoder of a time series (audio, signal): features per frame,
// a 1-D CNN over frames.
#include <torch/torch.h>
// torch/fft.h does not include what it uses: after torch.h.
#include <torch/fft.h>

#include "he_init.h"
#include "muroan/encoders.h"

namespace muroan {

FrameEncoderImpl::FrameEncoderImpl(const ModalitySpec& spec, int64_t dim)
    : spectrum_(spec.is_audio()),
      channels_(spec.is_signal() ? spec.channels() : 1),
      samples_(spec.num_samples()),
      frame_(spec.frame),
      frames_(spec.num_frames()) {
  TORCH_CHECK(spec.has_frames(), "frame encoder: input '", spec.name, "' is no audio or signal");
  // Audio: the frame's spectrum (frame / 2 + 1 bins); a signal: its raw samples on every channel.
  // "spectrum" is the audio layer's name in checkpoints written before signals.
  const int64_t in = spectrum_ ? frame_ / 2 + 1 : channels_ * frame_;
  frame_proj_ = register_module(spectrum_ ? "spectrum" : "frame", he_init(torch::nn::Linear(in, dim)));
  conv1_ = register_module(
      "conv1", he_init(torch::nn::Conv1d(torch::nn::Conv1dOptions(dim, dim, /*kernel_size=*/3).padding(1))));
  conv2_ = register_module(
      "conv2", he_init(torch::nn::Conv1d(torch::nn::Conv1dOptions(dim, dim, /*kernel_size=*/3).padding(1))));
  summary_ = register_module("summary", he_init(torch::nn::Linear(2 * dim, dim)));
}

torch::Tensor FrameEncoderImpl::frame_features(const torch::Tensor& x) const {
  const int64_t batch = x.size(0);
  const int64_t pad = frames_ * frame_ - samples_;
  const auto padded = torch::constant_pad_nd(x, {0, pad});
  if (!spectrum_)  // [B,C,T] -> [B,F,C*frame]: each frame's samples, channel after channel
    return padded.view({batch, channels_, frames_, frame_}).permute({0, 2, 1, 3}).reshape({batch, frames_, -1});
  // |X|^2 from the real and imaginary parts: the complex abs has no gradient
  // at 0, which a silenced (decoupled) frame is exactly.
  auto spectrum = torch::view_as_real(torch::fft::rfft(padded.view({batch, frames_, frame_}), /*n=*/c10::nullopt,
                                                       /*dim=*/-1));
  return torch::log1p(spectrum.pow(2).sum(-1));  // [B, F, bins]
}

StreamFeatures FrameEncoderImpl::forward(const torch::Tensor& x) {
  if (spectrum_) {
    TORCH_CHECK(x.dim() == 2 && x.size(1) == samples_, "audio encoder: expected [B,", samples_, "] samples");
  } else {
    TORCH_CHECK(x.dim() == 3 && x.size(1) == channels_ && x.size(2) == samples_, "signal encoder: expected [B,",
                channels_, ",", samples_, "] samples");
  }
  const int64_t batch = x.size(0);
  auto h = torch::relu(frame_proj_->forward(frame_features(x))).transpose(1, 2);  // [B, D, F]
  h = torch::relu(conv1_->forward(h));
  h = torch::relu(conv2_->forward(h));
  StreamFeatures f;
  f.tokens = h.transpose(1, 2).contiguous();  // [B, F, D]
  f.mask = torch::ones({batch, frames_}, x.options().dtype(torch::kBool));
  f.pooled = torch::relu(summary_->forward(torch::cat({h.amax(2), h.mean(2)}, /*dim=*/1)));
  return f;
}

}  // namespace muroan
