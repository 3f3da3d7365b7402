// Batched evaluation of a Classifier over a whole split.
#pragma once

#include <torch/types.h>

#include "muroan/classifier.h"
#include "muroan/inputs.h"

namespace muroan {

// Logits [N,K] for all N rows of `inputs` (on any device), computed in batches
// of `batch_size` under no-grad; returned on the CPU.
torch::Tensor predict_logits(Classifier& model, const Inputs& inputs, int64_t batch_size = 256);
// Share of rows whose arg-max prediction equals `labels` [N].
double accuracy(Classifier& model, const Inputs& inputs, const torch::Tensor& labels, int64_t batch_size = 256);

}  // namespace muroan
