// The built-in audio encoder: a spectrum per frame, a 1-D CNN over frames.
#include <torch/torch.h>
// torch/fft.h does not include what it uses: after torch.h.
#include <torch/fft.h>

#include "he_init.h"
#include "muroan/encoders.h"

namespace muroan {

AudioEncoderImpl::AudioEncoderImpl(int64_t samples, int64_t frame, int64_t dim)
    : samples_(samples), frame_(frame), frames_((samples + frame - 1) / frame) {
  const int64_t bins = frame / 2 + 1;
  spectrum_ = register_module("spectrum", he_init(torch::nn::Linear(bins, dim)));
  conv1_ = register_module(
      "conv1", he_init(torch::nn::Conv1d(torch::nn::Conv1dOptions(dim, dim, /*kernel_size=*/3).padding(1))));
  conv2_ = register_module(
      "conv2", he_init(torch::nn::Conv1d(torch::nn::Conv1dOptions(dim, dim, /*kernel_size=*/3).padding(1))));
  summary_ = register_module("summary", he_init(torch::nn::Linear(2 * dim, dim)));
}

StreamFeatures AudioEncoderImpl::forward(const torch::Tensor& waveform) {
  TORCH_CHECK(waveform.dim() == 2 && waveform.size(1) == samples_, "audio encoder: expected [B,", samples_,
              "] samples");
  const int64_t batch = waveform.size(0);
  auto padded = torch::constant_pad_nd(waveform, {0, frames_ * frame_ - samples_});
  // |X|^2 from the real and imaginary parts: the complex abs has no gradient
  // at 0, which a silenced (decoupled) frame is exactly.
  auto spectrum = torch::view_as_real(torch::fft::rfft(padded.view({batch, frames_, frame_}), /*n=*/c10::nullopt,
                                                       /*dim=*/-1));
  auto power = torch::log1p(spectrum.pow(2).sum(-1));               // [B, F, bins]
  auto x = torch::relu(spectrum_->forward(power)).transpose(1, 2);  // [B, D, F]
  x = torch::relu(conv1_->forward(x));
  x = torch::relu(conv2_->forward(x));
  StreamFeatures f;
  f.tokens = x.transpose(1, 2).contiguous();  // [B, F, D]
  f.mask = torch::ones({batch, frames_}, waveform.options().dtype(torch::kBool));
  f.pooled = torch::relu(summary_->forward(torch::cat({x.amax(2), x.mean(2)}, /*dim=*/1)));
  return f;
}

}  // namespace muroan
