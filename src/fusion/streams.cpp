// The inputs of a fusion: StreamFeatures, StreamShape, their roles, and the
// per-input layers most fusions build.
#include "fusions.h"
#include "muroan/error.h"

namespace muroan {

torch::Tensor StreamFeatures::positions() const {
  return is_grid() ? grid.flatten(/*start_dim=*/2).transpose(1, 2) : tokens;
}

torch::Tensor StreamFeatures::position_mask() const {
  if (!is_grid()) return mask.to(torch::kBool);
  return torch::ones({grid.size(0), grid.size(2) * grid.size(3)}, grid.options().dtype(torch::kBool));
}

StreamShape StreamShape::image(int64_t dim, int64_t grid_h, int64_t grid_w) {
  StreamShape s;
  s.role = "image";
  s.grid = true;
  s.dim = dim;
  s.length = grid_h * grid_w;
  s.grid_h = grid_h;
  s.grid_w = grid_w;
  return s;
}

StreamShape StreamShape::sequence(std::string role, int64_t dim, int64_t length) {
  StreamShape s;
  s.role = std::move(role);
  s.dim = dim;
  s.length = length;
  s.grid_h = s.grid_w = 0;
  return s;
}

std::string stream_role(const std::string& kind_word, const std::vector<StreamShape>& before) {
  int count = 0;
  for (const auto& s : before) {
    // "text" and "text2" are both text inputs.
    if (s.role.rfind(kind_word, 0) == 0 &&
        s.role.find_first_not_of("0123456789", kind_word.size()) == std::string::npos)
      ++count;
  }
  return count == 0 ? kind_word : kind_word + std::to_string(count + 1);
}

std::vector<torch::nn::Linear> per_stream_linears(torch::nn::Module& owner, const FusionConfig& config,
                                                  const std::string& suffix, int64_t out, bool bias_first_only) {
  std::vector<torch::nn::Linear> layers;
  for (size_t m = 0; m < config.streams.size(); ++m) {
    const auto& s = config.streams[m];
    layers.push_back(owner.register_module(
        s.role + suffix, torch::nn::Linear(torch::nn::LinearOptions(s.dim, out).bias(!bias_first_only || m == 0))));
  }
  return layers;
}

int64_t total_dim(const FusionConfig& config) {
  int64_t d = 0;
  for (const auto& s : config.streams) d += s.dim;
  return d;
}

size_t stream_with_role(const FusionConfig& config, const std::string& role, const std::string& fusion) {
  for (size_t m = 0; m < config.streams.size(); ++m) {
    if (config.streams[m].role == role) return m;
  }
  throw UsageError("fusion '" + fusion + "' needs a " + role + " input; the model has none");
}

}  // namespace muroan
