// The built-in model's encoders E_m, one per modality kind (DESIGN.md section
// 1): each maps its input to StreamFeatures (per-position features and a pooled
// summary) for the fusion.
//
//   image   [B,C,H,W] -> small CNN; a grid of cells and a readout of the grid
//   tokens  [B,L]     -> embedding + GRU; one position per token
//   tabular [B,F]     -> standardised values; one position per feature, an MLP summary
//   audio   [B,T]     -> log power spectrum of each frame, 1-D CNN over frames
//   signal  [B,C,T]   -> raw samples of each frame on every channel, 1-D CNN over frames
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/rnn.h>
#include <torch/nn/pimpl.h>

#include <string>

#include "muroan/fusion.h"
#include "muroan/modality.h"

namespace muroan {

// Numbers per channel in the image encoder's spp readout: grid max, grid mean, four quadrant maxima.
constexpr int64_t kSppFeatures = 6;

// "flat" or "spp" (ModelConfig::image_readout); throws Error otherwise.
void check_image_readout(const std::string& readout);
// The side of the image encoder's grid for an image side: size / 8 (flat) or size / 4 (spp).
int64_t image_grid_size(int64_t size, const std::string& readout);

// Small CNN: three conv-relu blocks, each but (with the spp readout) the last
// followed by 2x2 max-pooling; exposes the spatial grid (a map of D features)
// for attention fusions, and a pooled vector read out from the whole grid.
class ImageEncoderImpl : public torch::nn::Module {
 public:
  ImageEncoderImpl(int64_t channels, int64_t dim, int64_t grid_cells, const std::string& readout = "flat");
  StreamFeatures forward(const torch::Tensor& image);

 private:
  bool spp_ = false;
  torch::nn::Sequential body_{nullptr};
  torch::nn::Linear project_{nullptr};
};
TORCH_MODULE(ImageEncoder);

// Token embedding + GRU; per-token features and their masked mean.
class TextEncoderImpl : public torch::nn::Module {
 public:
  TextEncoderImpl(int64_t vocab_size, int64_t embed_dim, int64_t dim, int64_t pad_id);
  torch::Tensor embed(const torch::Tensor& ids);  // [B,L] -> [B,L,E]
  // From embeddings [B,L,E] and the mask [B,L] (true at real tokens).
  StreamFeatures forward_embedded(const torch::Tensor& embeddings, const torch::Tensor& mask);
  StreamFeatures forward(const torch::Tensor& ids);
  int64_t pad_id() const { return pad_id_; }

 private:
  int64_t pad_id_;
  torch::nn::Embedding embedding_{nullptr};
  torch::nn::GRU gru_{nullptr};
};
TORCH_MODULE(TextEncoder);

// Tabular features [B,F]: each value is standardised, (v - centre) / scale
// (buffers, saved with the weights; set_standardisation). Training centres
// each feature on its fill value, so a decoupled feature reads as exactly 0,
// "nothing unusual", and scales it by the training split's spread around it.
// Position f is relu(v_f w_f + b_f) (a learned embedding of the value); the
// summary is a two-layer MLP over the whole standardised vector, which can
// learn thresholds and combinations of features.
class TabularEncoderImpl : public torch::nn::Module {
 public:
  TabularEncoderImpl(int64_t features, int64_t dim);
  // centre, scale [F]; a scale of 0 is taken as 1 (a constant feature).
  void set_standardisation(const torch::Tensor& centre, const torch::Tensor& scale);
  StreamFeatures forward(const torch::Tensor& values);

 private:
  torch::Tensor centre_, scale_;             // buffers [F]
  torch::Tensor value_weight_, value_bias_;  // [F, D]
  torch::nn::Sequential summary_{nullptr};
};
TORCH_MODULE(TabularEncoder);

// A time series cut into the modality's frames (its points; the last one
// zero-padded), each frame's features projected (learned), then two 1-D
// convolutions over the frames; summary: the max and mean over frames,
// projected. A frame's features:
//   audio  [B,T]: its log power spectrum log(1 + |FFT|^2) (a short-time
//          Fourier transform with a rectangular window and a hop of one frame,
//          so that decoupling a frame changes exactly one column; the learned
//          projection stands in for a fixed mel bank);
//   signal [B,C,T]: its raw samples on every channel (the shape of a beat,
//          not its spectrum, at the low rates of physiological signals).
class FrameEncoderImpl : public torch::nn::Module {
 public:
  FrameEncoderImpl(const ModalitySpec& spec, int64_t dim);
  StreamFeatures forward(const torch::Tensor& x);

 private:
  torch::Tensor frame_features(const torch::Tensor& x) const;  // [B, frames, features]

  bool spectrum_;
  int64_t channels_, samples_, frame_, frames_;
  torch::nn::Linear frame_proj_{nullptr};
  torch::nn::Conv1d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::Linear summary_{nullptr};
};
TORCH_MODULE(FrameEncoder);

}  // namespace muroan
