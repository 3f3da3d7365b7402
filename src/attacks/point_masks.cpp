// Batched point masks: decoupling many rows at once with a few tensor
// operations per modality (InputSpace::apply builds x_S of one sample from sets;
// training and certification need whole batches of random masks).
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>
#include <sstream>

#include "muroan/error.h"
#include "muroan/point_masks.h"
#include "muroan/tokenizer.h"

namespace muroan {
namespace {

void check_batch(const Inputs& batch, const std::vector<ModalitySpec>& specs) {
  if (batch.size() != specs.size())
    throw Error("batch has " + std::to_string(batch.size()) + " modality tensors, the model " +
                std::to_string(specs.size()));
  for (size_t m = 0; m < specs.size(); ++m) {
    const auto& t = batch[m];
    const auto& spec = specs[m];
    bool ok = false;
    if (spec.is_image())
      ok = t.dim() == 4 && t.size(2) == spec.height() && t.size(3) == spec.width();
    else if (spec.has_fixed_points())
      ok = t.sizes().slice(1).vec() == spec.shape && t.is_floating_point();
    else
      ok = t.dim() == 2 && t.size(1) == spec.max_len() && t.scalar_type() == torch::kLong;
    if (!ok) throw Error("modality '" + specs[m].name + "': the batch does not fit its spec");
  }
}

// Rank of each entry of `scores` within its row (0: smallest), [B,P] int64.
torch::Tensor row_ranks(const torch::Tensor& scores) { return scores.argsort(/*dim=*/int64_t{1}).argsort(int64_t{1}); }

// The points of token rows x [B,L] on the CPU: `starts` marks the first token
// of each word (muroan/tokenizer.h), and `owner` gives, for every position of a
// word, the position where the word starts (itself elsewhere).
void token_words(const torch::Tensor& x, const ModalitySpec& spec, torch::Tensor* starts, torch::Tensor* owner) {
  const auto host = x.to(torch::kCPU).contiguous();
  const int64_t B = host.size(0), L = host.size(1);
  *starts = torch::zeros({B, L}, torch::kBool);
  *owner = torch::arange(L, torch::kLong).repeat({B, 1}).contiguous();
  const int64_t* ids = host.data_ptr<int64_t>();
  bool* ps = starts->data_ptr<bool>();
  int64_t* po = owner->data_ptr<int64_t>();
  for (int64_t b = 0; b < B; ++b) {
    const auto roles = token_roles(ids + b * L, L, spec.pad_id, spec.tokenizer.get());
    int64_t start = -1;
    for (int64_t i = 0; i < L; ++i) {
      const uint8_t r = roles[static_cast<size_t>(i)];
      if (r == static_cast<uint8_t>(TokenRole::kWordStart)) {
        start = i;
        ps[b * L + i] = true;
      } else if (r == static_cast<uint8_t>(TokenRole::kContinuation)) {
        po[b * L + i] = start;
      }
    }
  }
}

// Random scores in [0,1) for the points of modality m (token positions that
// start no word get 2, so they rank after every word); drawn on the CPU.
torch::Tensor point_scores(const torch::Tensor& x, const ModalitySpec& spec, torch::Generator& gen, torch::Tensor* real,
                           torch::Tensor* owner) {
  const int64_t B = x.size(0);
  if (!spec.is_tokens()) return torch::rand({B, spec.max_points()}, gen, torch::kFloat);
  token_words(x, spec, real, owner);
  auto s = torch::rand({B, spec.max_len()}, gen, torch::kFloat);
  return torch::where(*real, s, torch::full({}, 2.0f));
}

// A token mask chosen on word starts, spread to the continuation pieces of each word.
torch::Tensor spread_to_words(const torch::Tensor& flat, const torch::Tensor& owner) { return flat.gather(1, owner); }

torch::Tensor shape_mask(const torch::Tensor& flat, const ModalitySpec& spec, const torch::Device& device) {
  auto m = spec.is_image() ? flat.view({flat.size(0), spec.height(), spec.width()}) : flat;
  return m.to(device);
}

}  // namespace

torch::Tensor frames_to_samples(const torch::Tensor& frames, const ModalitySpec& spec) {
  auto samples = frames.repeat_interleave(spec.frame, /*dim=*/1).narrow(1, 0, spec.num_samples());
  return spec.is_signal() ? samples.unsqueeze(1) : samples;
}

torch::Tensor frame_fill(const ModalitySpec& spec, const torch::TensorOptions& options) {
  if (!spec.is_signal()) return torch::full({}, spec.fill, options);
  return torch::tensor(spec.fills, torch::kDouble).to(options).view({1, spec.channels(), 1});
}

torch::Tensor apply_token_mask(const torch::Tensor& tokens, const torch::Tensor& mask, int64_t pad_id,
                               TextRemoval mode) {
  const auto removed = mask.to(tokens.device()) & (tokens != pad_id);
  const auto pad = torch::full({}, pad_id, tokens.options());
  if (mode == TextRemoval::kMask) return torch::where(removed, pad, tokens);
  // Delete: a stable order that puts kept positions first (in order), then the
  // removed ones, which become pads at the end.
  const int64_t L = tokens.size(1);
  const auto position = torch::arange(L, tokens.options());
  const auto key = position.unsqueeze(0) + removed.to(torch::kLong) * L;
  const auto gathered = tokens.gather(1, key.argsort(int64_t{1}));
  const auto kept = L - removed.sum(1, /*keepdim=*/true);
  return torch::where(position.unsqueeze(0) >= kept, pad, gathered);
}

Inputs apply_point_masks(const Inputs& batch, const std::vector<ModalitySpec>& specs, const PointMasks& masks,
                         TextRemoval mode) {
  check_batch(batch, specs);
  if (masks.size() != specs.size())
    throw Error("point masks: " + std::to_string(masks.size()) + " masks for " + std::to_string(specs.size()) +
                " modalities");
  Inputs out;
  out.reserve(batch.size());
  for (size_t m = 0; m < specs.size(); ++m) {
    const auto& x = batch[m];
    const auto& spec = specs[m];
    if (!masks[m].defined()) {
      out.push_back(x);
      continue;
    }
    const auto mask = masks[m].to(x.device());
    if (spec.is_image()) {
      out.push_back(torch::where(mask.unsqueeze(1), torch::full({}, spec.fill, x.options()), x));
    } else if (spec.is_tabular()) {
      const auto fills = torch::tensor(spec.fills, torch::kDouble).to(x.dtype()).to(x.device()).unsqueeze(0);
      out.push_back(torch::where(mask, fills, x));
    } else if (spec.has_frames()) {
      out.push_back(torch::where(frames_to_samples(mask, spec), frame_fill(spec, x.options()), x));
    } else {
      out.push_back(apply_token_mask(x, mask, spec.pad_id, mode));
    }
  }
  return out;
}

std::vector<torch::Tensor> count_points(const Inputs& batch, const std::vector<ModalitySpec>& specs) {
  check_batch(batch, specs);
  std::vector<torch::Tensor> n;
  for (size_t m = 0; m < specs.size(); ++m) {
    const auto& x = batch[m];
    if (!specs[m].is_tokens())
      n.push_back(torch::full({x.size(0)}, specs[m].max_points(),
                              torch::TensorOptions().dtype(torch::kLong).device(x.device())));
    else if (!specs[m].tokenizer)
      n.push_back((x != specs[m].pad_id).sum(1));
    else {
      torch::Tensor starts, owner;
      token_words(x, specs[m], &starts, &owner);
      n.push_back(starts.sum(1).to(x.device()));
    }
  }
  return n;
}

std::vector<torch::Tensor> count_masked(const PointMasks& masks, int64_t rows) {
  std::vector<torch::Tensor> n;
  for (const auto& mask : masks)
    n.push_back(mask.defined() ? mask.flatten(1).sum(1) : torch::zeros({rows}, torch::kLong));
  return n;
}

PointMasks random_rate_masks(const Inputs& batch, const std::vector<ModalitySpec>& specs, double rate,
                             torch::Generator& gen) {
  check_batch(batch, specs);
  if (!(rate >= 0.0 && rate <= 1.0)) throw UsageError("ablation rate must be in [0,1], got " + std::to_string(rate));
  PointMasks masks;
  for (size_t m = 0; m < specs.size(); ++m) {
    torch::Tensor real, owner;
    const auto scores = point_scores(batch[m], specs[m], gen, &real, &owner);
    const auto n = real.defined() ? real.sum(1) : torch::full({scores.size(0)}, scores.size(1), torch::kLong);
    const auto decouple = (n.to(torch::kDouble) * rate + 0.5).floor().to(torch::kLong);
    auto flat = row_ranks(scores) < decouple.unsqueeze(1);
    if (real.defined()) flat = spread_to_words(flat & real, owner);
    masks.push_back(shape_mask(flat, specs[m], batch[m].device()));
  }
  return masks;
}

PointMasks random_keep_masks(const Inputs& batch, const std::vector<ModalitySpec>& specs,
                             const std::vector<int64_t>& keep, torch::Generator& gen) {
  check_batch(batch, specs);
  const auto k = expand_keep_list(keep, specs.size());
  PointMasks masks;
  for (size_t m = 0; m < specs.size(); ++m) {
    if (k[m] == kKeepAll) {
      masks.emplace_back();
      continue;
    }
    torch::Tensor real, owner;
    const auto scores = point_scores(batch[m], specs[m], gen, &real, &owner);
    // The k lowest scores are kept; non-points score last, so min(k, n) words stay.
    auto kept = torch::zeros(scores.sizes(), torch::kBool);
    const int64_t k_row = std::min(k[m], scores.size(1));
    if (k_row > 0) kept.scatter_(1, std::get<1>(scores.topk(k_row, 1, /*largest=*/false, /*sorted=*/false)), true);
    auto flat = ~kept;
    if (real.defined()) flat = spread_to_words(flat & real, owner);
    masks.push_back(shape_mask(flat, specs[m], batch[m].device()));
  }
  return masks;
}

std::vector<int64_t> parse_keep_list(const std::string& text, const std::string& option) {
  const auto bad = [&] {
    return UsageError(option + ": expected non-negative counts or 'all', separated by commas, got '" + text + "'");
  };
  std::vector<int64_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item == "all") {
      out.push_back(kKeepAll);
      continue;
    }
    size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || item.empty() || v < 0) throw bad();
    out.push_back(v);
  }
  if (out.empty()) throw UsageError(option + ": expected at least one count");
  return out;
}

std::string keep_list_to_string(const std::vector<int64_t>& keep) {
  std::string s;
  for (size_t i = 0; i < keep.size(); ++i)
    s += (i ? "," : "") + (keep[i] == kKeepAll ? std::string("all") : std::to_string(keep[i]));
  return s;
}

std::vector<int64_t> expand_keep_list(const std::vector<int64_t>& keep, size_t modalities) {
  for (int64_t k : keep)
    if (k < 0 && k != kKeepAll) throw UsageError("keep counts must be >= 0 or 'all'");
  if (keep.size() == 1) return std::vector<int64_t>(modalities, keep[0]);
  if (keep.size() != modalities)
    throw UsageError("keep list '" + keep_list_to_string(keep) + "' has " + std::to_string(keep.size()) +
                     " counts, the model has " + std::to_string(modalities) + " modalities");
  return keep;
}

}  // namespace muroan
