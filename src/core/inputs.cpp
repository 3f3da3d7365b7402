#include "muroan/inputs.h"

namespace muroan {

Inputs slice_rows(const Inputs& inputs, int64_t begin, int64_t end) {
  Inputs out;
  out.reserve(inputs.size());
  for (const auto& t : inputs) out.push_back(t.slice(0, begin, end));
  return out;
}

Inputs select_rows(const Inputs& inputs, const torch::Tensor& index) {
  Inputs out;
  out.reserve(inputs.size());
  for (const auto& t : inputs) out.push_back(t.index_select(0, index.to(t.device())));
  return out;
}

Inputs to_device(const Inputs& inputs, const torch::Device& device) {
  Inputs out;
  out.reserve(inputs.size());
  for (const auto& t : inputs) out.push_back(t.to(device));
  return out;
}

int64_t batch_size(const Inputs& inputs) { return inputs.empty() ? 0 : inputs.front().size(0); }

}  // namespace muroan
