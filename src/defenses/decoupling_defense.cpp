// decoupling-at: adversarial training on decoupled examples found on the fly by
// a cheap batched saliency attack (decoupling_examples, see defense.h), over
// the points of every input: p x p image cells, words, tabular features, audio
// and signal frames. The cost per batch is `steps` forward + backward passes
// and one forward pass, as for PGD with the same number of steps; the
// embeddings of every one-token removal ([B*L] sequences per token input) are
// looked up, which is cheap next to the passes.
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <limits>

#include "defenses/defenses.h"
#include "muroan/error.h"
#include "muroan/gradients.h"

namespace muroan {
namespace {

// Sum of `values` [B,H,W] over the cells of a grid of p x p squares (the last
// row and column of cells clipped at the edges): [B, ceil(H/p) * ceil(W/p)].
torch::Tensor pool_cells(const torch::Tensor& values, int64_t p) {
  const int64_t B = values.size(0), H = values.size(1), W = values.size(2);
  const int64_t gh = (H + p - 1) / p, gw = (W + p - 1) / p;
  auto padded = torch::constant_pad_nd(values, {0, gw * p - W, 0, gh * p - H}, 0);
  return padded.view({B, gh, p, gw, p}).sum({2, 4}).view({B, gh * gw});
}

// Cells [B, G] (bool) back to pixels [B,H,W].
torch::Tensor cells_to_pixels(const torch::Tensor& cells, int64_t p, int64_t H, int64_t W) {
  const int64_t B = cells.size(0), gh = (H + p - 1) / p, gw = (W + p - 1) / p;
  auto grid = cells.view({B, gh, 1, gw, 1}).expand({B, gh, p, gw, p}).reshape({B, gh * p, gw * p});
  return grid.slice(1, 0, H).slice(2, 0, W);
}

}  // namespace

DecouplingExamples decoupling_examples(MultimodalNet& net, const Inputs& batch, const torch::Tensor& labels,
                                       const std::vector<ModalitySpec>& specs, const DefenseOptions& o) {
  if (batch.empty() || batch.size() != specs.size())
    throw Error("decoupling-at: " + std::to_string(batch.size()) + " input tensors for " +
                std::to_string(specs.size()) + " inputs");
  const size_t M = specs.size();
  const int64_t B = labels.size(0), p = o.patch;
  const auto device = labels.device();
  const auto bool_opts = torch::TensorOptions().dtype(torch::kBool).device(device);
  const auto score_opts = torch::TensorOptions().dtype(torch::kFloat).device(device);
  const double inf = std::numeric_limits<double>::infinity();
  CudnnOffForRnnBackward cudnn_guard(!net->is_training() && device.is_cuda());

  // Per input: its mask (pixels [B,H,W], else points [B,P]) and its candidates
  // per row (image: p x p cells; tokens: positions; features, frames: points).
  // Token inputs: their real positions, and every row repeated once per
  // position with `one_more` row r adding position r to its mask (the same in
  // every step).
  PointMasks masks;
  std::vector<int64_t> candidates(M);
  std::vector<torch::Tensor> real(M), repeated(M), one_more(M);
  for (size_t m = 0; m < M; ++m) {
    const auto& spec = specs[m];
    if (spec.is_image()) {
      masks.push_back(torch::zeros({B, spec.height(), spec.width()}, bool_opts));
      candidates[m] = ((spec.height() + p - 1) / p) * ((spec.width() + p - 1) / p);
    } else {
      if (spec.is_tokens()) {
        real[m] = batch[m] != spec.pad_id;
        repeated[m] = batch[m].repeat_interleave(spec.max_len(), 0);
        one_more[m] = torch::eye(spec.max_len(), bool_opts).unsqueeze(0);
      }
      const int64_t P = spec.is_tokens() ? spec.max_len() : spec.max_points();
      masks.push_back(torch::zeros({B, P}, bool_opts));
      candidates[m] = P;
    }
  }
  int64_t all_candidates = 0;
  for (int64_t c : candidates) all_candidates += c;
  auto active = torch::ones({B}, bool_opts);

  for (int64_t step = 0; step < o.steps; ++step) {
    const Inputs xs = apply_point_masks(batch, specs, masks, o.text_removal);
    std::vector<torch::Tensor> scores(M);
    {
      torch::AutoGradMode grad_mode(true);
      Inputs vars(M);
      for (size_t m = 0; m < M; ++m)
        vars[m] = (specs[m].is_tokens() ? net->embed_tokens(m, xs[m]) : xs[m]).detach().requires_grad_(true);
      const auto logits = net->forward_embedded(vars, xs);
      const auto loss = torch::nn::functional::cross_entropy(
          logits, labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
      const auto grads = torch::autograd::grad({loss}, vars, {}, false, false, true);
      torch::NoGradGuard no_grad;
      active &= logits.argmax(1).eq(labels);  // rows already wrong are done
      if (!active.any().item<bool>()) break;

      // The first-order gain in loss of decoupling each candidate not yet
      // decoupled (-inf for spent ones and pads).
      for (size_t m = 0; m < M; ++m) {
        const auto& spec = specs[m];
        const auto& g = grads[m];
        auto none = torch::full({B, candidates[m]}, -inf, score_opts);
        if (spec.is_image()) {  // a cell: its pixels' saliency, while pixels of it are left
          auto cell = g.defined() ? pool_cells(pixel_saliency(g, xs[m], spec.fill).to(torch::kFloat), p)
                                  : torch::zeros({B, candidates[m]}, score_opts);
          const auto left = pool_cells((~masks[m]).to(torch::kFloat), p) > 0;
          scores[m] = torch::where(left, cell, none);
        } else if (spec.is_tokens()) {  // a word: the embedding after its removal, dotted with the gradient
          const int64_t L = spec.max_len();
          if (!g.defined()) {
            scores[m] = none;
            continue;
          }
          const auto removal = (masks[m].unsqueeze(1) | one_more[m]).view({B * L, L});
          const auto removed = apply_token_mask(repeated[m], removal, spec.pad_id, o.text_removal);
          const auto after = net->embed_tokens(m, removed).view({B, L, L, -1});
          const auto change = token_saliency(g, vars[m].detach(), after).to(torch::kFloat);
          scores[m] = torch::where(real[m] & ~masks[m], change, none);
        } else {  // a feature or a frame: set to its fill
          auto point = !g.defined()        ? torch::zeros({B, candidates[m]}, score_opts)
                       : spec.has_frames() ? frame_saliency(g, xs[m], spec).to(torch::kFloat)
                                           : feature_saliency(g, xs[m], spec.fills).to(torch::kFloat);
          scores[m] = torch::where(~masks[m], point, none);
        }
      }
    }
    torch::NoGradGuard no_grad;
    const auto all = torch::cat(scores, 1);
    const int64_t k = std::min<int64_t>(o.elements_per_step, all_candidates);
    auto chosen = torch::zeros_like(all, bool_opts).scatter(1, std::get<1>(all.topk(k, 1)), true);
    chosen &= all.isfinite() & active.unsqueeze(1);
    int64_t at = 0;
    for (size_t m = 0; m < M; ++m) {
      const auto mine = chosen.slice(1, at, at + candidates[m]);
      at += candidates[m];
      masks[m] |= specs[m].is_image() ? cells_to_pixels(mine, p, specs[m].height(), specs[m].width()) : mine;
    }
  }

  torch::NoGradGuard no_grad;
  DecouplingExamples ex;
  ex.inputs = apply_point_masks(batch, specs, masks, o.text_removal);
  ex.flipped = net->forward(ex.inputs).argmax(1).ne(labels);
  const auto n = count_points(batch, specs);
  const auto d = count_masked(masks, B);
  auto decoupled = d[0].clone(), total = n[0].clone();
  for (size_t m = 1; m < M; ++m) {
    decoupled += d[m];
    total += n[m];
  }
  ex.rate = decoupled.to(torch::kDouble) / total.to(torch::kDouble);
  ex.masks = std::move(masks);
  return ex;
}

namespace {

class DecouplingAtDefense : public Defense {
 public:
  DecouplingAtDefense(const DefenseOptions& o, MultimodalNet net, std::vector<ModalitySpec> specs)
      : Defense(o), net_(std::move(net)), specs_(std::move(specs)) {}

  Inputs transform(const Inputs& batch, const torch::Tensor& labels) {
    const int64_t head = defended_rows(options().fraction, batch_size(batch));
    const Inputs rows = slice_rows(batch, 0, head);
    const DecouplingExamples ex = decoupling_examples(net_, rows, labels.slice(0, 0, head), specs_, options());
    flipped_ += ex.flipped.sum().item<int64_t>();
    rate_sum_ += ex.rate.sum().item<double>();
    flipped_rate_sum_ += (ex.rate * ex.flipped.to(torch::kDouble)).sum().item<double>();
    ++batches_;
    defended_rows_ += head;
    return splice_rows(ex.inputs, batch, head);
  }

 protected:
  void add_stats(nlohmann::json& stats) const override {
    const double n = static_cast<double>(std::max<int64_t>(1, defended_rows_));
    stats["adversarial_error"] = static_cast<double>(flipped_) / n;  // share of rows wrong on x_S
    stats["mean_decoupling_rate"] = rate_sum_ / n;
    stats["mean_decoupling_rate_wrong"] = flipped_ ? flipped_rate_sum_ / static_cast<double>(flipped_) : 0.0;
  }

 private:
  MultimodalNet net_;
  std::vector<ModalitySpec> specs_;
  int64_t flipped_ = 0;
  double rate_sum_ = 0, flipped_rate_sum_ = 0;
};

}  // namespace

std::shared_ptr<Defense> install_decoupling_at(const DefenseOptions& options, MultimodalNet net,
                                               const std::vector<ModalitySpec>& specs, TrainOptions& train) {
  auto d = std::make_shared<DecouplingAtDefense>(options, std::move(net), specs);
  train.transform_batch = [d](const Inputs& batch, const torch::Tensor& labels) { return d->transform(batch, labels); };
  return d;
}

}  // namespace muroan
