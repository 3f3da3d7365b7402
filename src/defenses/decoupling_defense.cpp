// decoupling-at: adversarial training on decoupled examples found on the fly by
// a cheap batched saliency attack (decoupling_examples, see defense.h). The cost
// per batch is `steps` forward + backward passes and one forward pass, as for
// PGD with the same number of steps; the embeddings of every one-token removal
// ([B*L] sequences) are looked up, which is cheap next to the passes.
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
  if (batch.size() != 2 || specs.size() != 2 || !specs[0].is_image() || !specs[1].is_tokens())
    throw Error("decoupling-at: the built-in model takes an image and tokens");
  const auto& x = batch[0];
  const auto& tokens = batch[1];
  const auto& image_spec = specs[0];
  const int64_t B = x.size(0), H = x.size(2), W = x.size(3), L = tokens.size(1), p = o.patch;
  const auto bool_opts = torch::TensorOptions().dtype(torch::kBool).device(x.device());
  const double inf = std::numeric_limits<double>::infinity();
  CudnnOffForRnnBackward cudnn_guard(!net->is_training() && x.device().is_cuda());

  PointMasks masks{torch::zeros({B, H, W}, bool_opts), torch::zeros({B, L}, bool_opts)};
  const auto real = tokens != specs[1].pad_id;
  auto active = torch::ones({B}, bool_opts);
  // Cell areas (clipped), to tell cells with pixels left from spent ones.
  const auto area = pool_cells(torch::ones({1, H, W}, x.options()), p);
  const int64_t G = area.size(1);
  // Row r of `one_more` adds candidate position r to a token mask.
  const auto one_more = torch::eye(L, bool_opts).unsqueeze(0);

  for (int64_t step = 0; step < o.steps; ++step) {
    const Inputs xs = apply_point_masks(batch, specs, masks, o.text_removal);
    torch::Tensor scores;
    {
      torch::AutoGradMode grad_mode(true);
      auto image_var = xs[0].detach().requires_grad_(true);
      auto emb_var = net->embed_tokens(xs[1]).detach().requires_grad_(true);
      const auto logits = net->forward_embedded(image_var, emb_var, xs[1]);
      const auto loss = torch::nn::functional::cross_entropy(
          logits, labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
      const auto grads = torch::autograd::grad({loss}, {image_var, emb_var}, {}, false, false, true);
      torch::NoGradGuard no_grad;
      active &= logits.argmax(1).eq(labels);  // rows already wrong are done
      if (!active.any().item<bool>()) break;

      // Image cells: the pixels' saliency summed over the cell.
      auto cell_scores = torch::zeros({B, G}, x.options());
      if (grads[0].defined()) cell_scores = pool_cells(pixel_saliency(grads[0], xs[0], image_spec.fill), p);
      const auto left = pool_cells((~masks[0]).to(x.dtype()), p) > 0;
      cell_scores = torch::where(left, cell_scores, torch::full({}, -inf, x.options()));

      // Tokens: the saliency of removing each real position r.
      auto token_scores = torch::full({B, L}, -inf, x.options());
      if (grads[1].defined()) {
        const auto candidates = (masks[1].unsqueeze(1) | one_more).view({B * L, L});
        const auto removed =
            apply_token_mask(tokens.repeat_interleave(L, 0), candidates, specs[1].pad_id, o.text_removal);
        const auto after = net->embed_tokens(removed).view({B, L, L, -1});
        const auto change = token_saliency(grads[1], emb_var.detach(), after);
        token_scores = torch::where(real & ~masks[1], change.to(x.dtype()), token_scores);
      }
      scores = torch::cat({cell_scores, token_scores}, 1);
    }
    torch::NoGradGuard no_grad;
    const int64_t k = std::min<int64_t>(o.elements_per_step, G + L);
    const auto top = std::get<1>(scores.topk(k, 1));
    auto chosen = torch::zeros_like(scores, bool_opts).scatter(1, top, true);
    chosen &= scores.isfinite() & active.unsqueeze(1);
    masks[0] |= cells_to_pixels(chosen.slice(1, 0, G), p, H, W);
    masks[1] |= chosen.slice(1, G);
  }

  torch::NoGradGuard no_grad;
  DecouplingExamples ex;
  ex.inputs = apply_point_masks(batch, specs, masks, o.text_removal);
  ex.flipped = net->forward(ex.inputs[0], ex.inputs[1]).argmax(1).ne(labels);
  const auto n = count_points(batch, specs);
  const auto d = count_masked(masks, B);
  ex.rate = (d[0] + d[1]).to(torch::kDouble) / (n[0] + n[1]).to(torch::kDouble);
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
