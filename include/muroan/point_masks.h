// Decoupling whole batches at once: point masks (one bool per point and row)
// and x_S built from them with a few tensor operations per modality, with the
// semantics of InputSpace::apply (decoupling.h), which builds x_S of one sample
// from decoupling sets. Random masks for training (ablation) and certification.
//
//   muroan::PointMasks masks = muroan::random_keep_masks(batch, specs, {45, muroan::kKeepAll}, gen);
//   muroan::Inputs xs = muroan::apply_point_masks(batch, specs, masks, muroan::TextRemoval::kDelete);
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "muroan/decoupling.h"
#include "muroan/inputs.h"
#include "muroan/modality.h"

namespace muroan {

// "Keep every point of this modality" in a list of keep counts.
constexpr int64_t kKeepAll = -1;

// Decoupled points of a batch, one bool tensor per modality: image [B,H,W],
// tokens [B,L], tabular [B,D], audio [B,frames] (true: decouple this point). Only real (non-pad) token positions
// may be set. An undefined tensor decouples nothing in that modality.
using PointMasks = std::vector<torch::Tensor>;

// The batch with the masked points decoupled, with the semantics of
// InputSpace::apply (images: the spec's fill on all channels; tokens: deleted,
// later tokens shift left and pads fill the end, or masked with the pad id;
// tabular features: each its own fill value; audio frames: every sample of
// the frame set to the fill).
// Vectorised: a few tensor operations per modality, on the batch's device.
Inputs apply_point_masks(const Inputs& batch, const std::vector<ModalitySpec>& specs, const PointMasks& masks,
                         TextRemoval mode);

// Real points per row and modality: int64 [B] (H*W for images, the non-pad
// tokens for token modalities), on the batch's device.
std::vector<torch::Tensor> count_points(const Inputs& batch, const std::vector<ModalitySpec>& specs);
// Decoupled points per row and modality, int64 [B] (0 where a mask is undefined).
std::vector<torch::Tensor> count_masked(const PointMasks& masks, int64_t rows);

// Random masks on the batch's device, drawn on the CPU from `gen` (so that a
// seed gives the same masks on every device):
//   rate: in each row and modality, floor(rate * n + 0.5) of its n points are
//         decoupled, uniformly at random;
//   keep: in each row, min(keep[m], n) points of modality m are kept and the
//         rest decoupled; kKeepAll keeps the modality whole (undefined mask).
// `keep` holds one count per modality, or one for all. Throws UsageError for a
// rate outside [0,1] or a negative count other than kKeepAll.
PointMasks random_rate_masks(const Inputs& batch, const std::vector<ModalitySpec>& specs, double rate,
                             torch::Generator& gen);
PointMasks random_keep_masks(const Inputs& batch, const std::vector<ModalitySpec>& specs,
                             const std::vector<int64_t>& keep, torch::Generator& gen);

// "45,all" -> {45, kKeepAll}; "10" -> {10}. Throws UsageError naming `option`.
std::vector<int64_t> parse_keep_list(const std::string& text, const std::string& option);
std::string keep_list_to_string(const std::vector<int64_t>& keep);
// One keep count per modality (a single value is repeated); throws UsageError
// when the list has another length.
std::vector<int64_t> expand_keep_list(const std::vector<int64_t>& keep, size_t modalities);

// A frame mask [B,frames] of an audio or signal modality spread to its
// samples: [B,T] (audio) or [B,1,T] (signal, every channel alike).
torch::Tensor frames_to_samples(const torch::Tensor& frames, const ModalitySpec& spec);

// What a decoupled frame's samples become, broadcastable against rows of the
// modality: the audio fill (a scalar), or a signal's fill per channel [1,C,1].
torch::Tensor frame_fill(const ModalitySpec& spec, const torch::TensorOptions& options);

// Token rows [B,L] with the masked real positions deleted (later tokens shift
// left, pads fill the end) or masked with the pad id.
torch::Tensor apply_token_mask(const torch::Tensor& tokens, const torch::Tensor& mask, int64_t pad_id,
                               TextRemoval mode);

}  // namespace muroan
