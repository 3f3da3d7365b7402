#include "muroan/predict.h"

#include <torch/utils.h>

namespace muroan {

torch::Tensor predict_logits(Classifier& model, const Inputs& inputs, int64_t batch_size) {
  torch::NoGradGuard no_grad;
  const int64_t n = muroan::batch_size(inputs);
  std::vector<torch::Tensor> parts;
  for (int64_t begin = 0; begin < n; begin += batch_size) {
    const auto batch = to_device(slice_rows(inputs, begin, std::min(n, begin + batch_size)), model.device());
    parts.push_back(model.logits(batch).to(torch::kCPU));
  }
  if (parts.empty()) return torch::empty({0, model.num_classes()});
  return torch::cat(parts, 0);
}

double accuracy(Classifier& model, const Inputs& inputs, const torch::Tensor& labels, int64_t batch_size) {
  if (labels.size(0) == 0) return 0.0;
  const auto pred = predict_logits(model, inputs, batch_size).argmax(1);
  return pred.eq(labels.to(torch::kCPU)).to(torch::kDouble).mean().item<double>();
}

}  // namespace muroan
