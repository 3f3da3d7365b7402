#include "oracle/sample_view.h"

#include <torch/torch.h>

#include <algorithm>

#include "muroan/error.h"

namespace muroan {
namespace oracle {

SampleView make_sample_view(const Inputs& sample, const Vocabulary& vocab, const std::string& task) {
  if (sample.size() != 2)
    throw Error(task + " oracle: expected an image and a token row, got " + std::to_string(sample.size()) +
                " modalities");
  const auto& image = sample[kImage];
  const auto& tokens = sample[kTokens];
  if (image.dim() != 4 || image.size(0) != 1 || !image.is_floating_point())
    throw Error(task + " oracle: the image must be one float row [1,C,H,W]");
  if (tokens.dim() != 2 || tokens.size(0) != 1 || tokens.scalar_type() != torch::kLong)
    throw Error(task + " oracle: the tokens must be one int64 row [1,L]");
  SampleView v;
  v.channels = image.size(1);
  v.height = image.size(2);
  v.width = image.size(3);
  const auto bytes =
      (image.detach().to(torch::kCPU).to(torch::kDouble) * 255.0).round().clamp(0, 255).to(torch::kUInt8).contiguous();
  v.pixels.assign(bytes.data_ptr<uint8_t>(), bytes.data_ptr<uint8_t>() + bytes.numel());
  const auto ids = tokens.detach().to(torch::kCPU).contiguous();
  const int64_t* p = ids.data_ptr<int64_t>();
  for (int64_t i = 0; i < ids.size(1); ++i) {
    if (p[i] == Vocabulary::kPadId) continue;
    if (p[i] < 0 || p[i] >= vocab.size())
      throw Error(task + " oracle: token id " + std::to_string(p[i]) + " is outside the task's vocabulary");
    v.tokens.push_back(p[i]);
    v.token_positions.push_back(i);
    v.words.push_back(vocab.word(p[i]));
  }
  return v;
}

std::vector<uint8_t> decoupled_pixels(const DecouplingSet& set, const SampleView& view) {
  std::vector<uint8_t> mask(static_cast<size_t>(view.height * view.width), 0);
  for (const auto& e : set.elements) {
    if (e.modality != kImage || e.is_token()) continue;
    const auto& r = e.region;
    for (int64_t y = std::max<int64_t>(0, r.y); y < std::min(view.height, r.y + r.h); ++y)
      for (int64_t x = std::max<int64_t>(0, r.x); x < std::min(view.width, r.x + r.w); ++x)
        mask[static_cast<size_t>(y * view.width + x)] = 1;
  }
  return mask;
}

std::vector<std::string> removed_words(const DecouplingSet& set, const SampleView& view) {
  std::vector<std::string> out;
  for (const auto& e : set.elements) {
    if (e.modality != kTokens || !e.is_token()) continue;
    const auto it = std::find(view.token_positions.begin(), view.token_positions.end(), e.position);
    if (it == view.token_positions.end()) continue;  // a pad: removes nothing
    const auto& w = view.words[static_cast<size_t>(it - view.token_positions.begin())];
    out.push_back(w);
  }
  return out;
}

double decoupled_garment_share(const DecouplingSet& set, const SampleView& view) {
  int64_t foreground = 0, hidden = 0;
  const auto mask = decoupled_pixels(set, view);
  for (size_t i = 0; i < mask.size(); ++i) {
    if (view.pixels[i] == 0) continue;
    ++foreground;
    hidden += mask[i] ? 1 : 0;
  }
  return foreground == 0 ? 0.0 : static_cast<double>(hidden) / static_cast<double>(foreground);
}

}  // namespace oracle
}  // namespace muroan
