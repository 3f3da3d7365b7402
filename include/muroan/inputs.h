// A batch of multimodal inputs: one tensor per modality, in modality order.
#pragma once

#include <torch/types.h>

#include <vector>

namespace muroan {

using Inputs = std::vector<torch::Tensor>;

// Rows [begin, end) of every modality tensor.
Inputs slice_rows(const Inputs& inputs, int64_t begin, int64_t end);
// Rows at `index` (int64 tensor) of every modality tensor.
Inputs select_rows(const Inputs& inputs, const torch::Tensor& index);
// Every modality tensor moved to `device`.
Inputs to_device(const Inputs& inputs, const torch::Device& device);
// Number of rows (batch size); 0 for an empty list.
int64_t batch_size(const Inputs& inputs);

}  // namespace muroan
