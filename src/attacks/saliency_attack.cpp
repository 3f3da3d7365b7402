// Saliency decoupling (DESIGN.md section 3), white-box. Each step:
//   * one forward + backward pass at the current x_S gives first-order estimates
//     of the objective change for decoupling each candidate: for image points
//     the gradient times (fill - x), summed over channels and over the region;
//     for tokens the gradient w.r.t. the token embeddings dotted with (embedding
//     of the sequence after the removal - embedding now), summed over positions;
//   * the top_k candidates by estimate are re-ranked exactly in one batched
//     evaluation and the best is decoupled;
// until the decision changes or no candidate fits the budget; then the greedy
// pruning. Token candidates of a model without token embeddings (or under the
// fusion objective, which has no embedding path) are evaluated exactly instead,
// and the result's note says so.
#include <torch/torch.h>

#include <algorithm>
#include <numeric>

#include "attacks/methods.h"
#include "muroan/error.h"
#include "muroan/gradients.h"
#include "muroan/search_context.h"

namespace muroan {
namespace {

class SaliencyAttack : public Attack {
 public:
  using Attack::Attack;
  std::string name() const override { return "saliency"; }
  bool uses_gradients() const override { return true; }

 protected:
  Proposal run(SearchContext& ctx) override {
    Classifier& model = ctx.model();
    const auto image_pool = ctx.image_candidates();
    const auto feature_pool = ctx.feature_candidates();
    const auto token_pool = ctx.token_candidates();
    const bool token_gradients = !token_pool.empty() && model.supports_token_embeddings() && !ctx.uses_fusion();
    Proposal p;
    if (!token_pool.empty() && !token_gradients)
      p.note = ctx.uses_fusion() ? "token candidates evaluated exactly: the fusion objective has no embedding path"
                                 : "token candidates evaluated exactly: the model exposes no token embeddings";

    // Pixel regions, tabular features and audio frames first: the gradient with respect to
    // their values estimates them directly; then tokens (through embeddings).
    std::vector<DecouplingElement> pool = image_pool;
    pool.insert(pool.end(), feature_pool.begin(), feature_pool.end());
    pool.insert(pool.end(), token_pool.begin(), token_pool.end());
    const size_t n_direct = image_pool.size() + feature_pool.size();
    std::vector<bool> used(pool.size(), false);
    PointCover cover(ctx.space());
    DecouplingSet set;
    bool success = false;
    const size_t top_k = static_cast<size_t>(options().top_k);

    while (!success) {
      // Live candidates: add points and fit the budget.
      std::vector<size_t> live;
      for (size_t i = 0; i < pool.size(); ++i) {
        if (used[i]) continue;
        const int64_t a = cover.added_by(pool[i]);
        if (a == 0) {
          used[i] = true;
          continue;
        }
        if (cover.size() + a > ctx.point_budget()) continue;
        live.push_back(i);
      }
      // Under the fooled criterion a candidate that loses the truth is not
      // ranked at all (the oracle needs no model query; all judged in one batch).
      if (ctx.judges_truth() && !live.empty()) {
        std::vector<DecouplingSet> grown;
        grown.reserve(live.size());
        for (size_t i : live) grown.push_back(set.with(pool[i]));
        const auto keep = ctx.admissible_all(grown);
        std::vector<size_t> kept;
        for (size_t k = 0; k < live.size(); ++k)
          if (keep[k]) kept.push_back(live[k]);
        live = std::move(kept);
      }
      if (live.empty()) break;

      std::vector<double> estimate(pool.size(), 0.0);
      std::vector<bool> exact(pool.size(), false);
      std::vector<CandidateEval> exact_eval(pool.size());
      const bool need_image = std::any_of(live.begin(), live.end(), [&](size_t i) { return i < n_direct; });
      const bool need_tokens = std::any_of(live.begin(), live.end(), [&](size_t i) { return i >= n_direct; });
      const Inputs xs = ctx.space().apply({set}, options().text_removal);

      if (need_image || (need_tokens && token_gradients))
        estimate_first_order(ctx, set, xs, pool, live, n_direct, token_gradients && need_tokens, estimate);
      if (need_tokens && !token_gradients) {  // exact evaluation of every live token
        std::vector<size_t> idx;
        std::vector<DecouplingSet> rows;
        for (size_t i : live)
          if (i >= n_direct) {
            idx.push_back(i);
            rows.push_back(set.with(pool[i]));
          }
        const auto evals = ctx.evaluate(rows);
        for (size_t r = 0; r < idx.size(); ++r) {
          exact[idx[r]] = true;
          exact_eval[idx[r]] = evals[r];
        }
      }

      // The top_k estimated candidates (not yet exact), re-ranked exactly.
      std::vector<size_t> ranked;
      for (size_t i : live)
        if (!exact[i]) ranked.push_back(i);
      std::stable_sort(ranked.begin(), ranked.end(), [&](size_t a, size_t b) { return estimate[a] < estimate[b]; });
      if (ranked.size() > top_k) ranked.resize(top_k);
      if (!ranked.empty()) {
        std::vector<DecouplingSet> rows;
        rows.reserve(ranked.size());
        for (size_t i : ranked) rows.push_back(set.with(pool[i]));
        const auto evals = ctx.evaluate(rows);
        for (size_t r = 0; r < ranked.size(); ++r) {
          exact[ranked[r]] = true;
          exact_eval[ranked[r]] = evals[r];
        }
      }

      std::vector<size_t> chosen;
      std::vector<CandidateEval> evals;
      std::vector<int64_t> added;
      for (size_t i : live)
        if (exact[i]) {
          chosen.push_back(i);
          evals.push_back(exact_eval[i]);
          added.push_back(cover.added_by(pool[i]));
        }
      const size_t b = SearchContext::pick_best(evals, added);
      if (!evals[b].admissible) {  // every exactly evaluated way to grow loses the truth
        p.note = "every candidate left would lose the sample's truth";
        break;
      }
      set.add(pool[chosen[b]]);
      cover.add(pool[chosen[b]]);
      used[chosen[b]] = true;
      success = evals[b].success;
    }
    if (!success) {
      p.set = std::move(set);
      if (p.note.empty()) p.note = "the budget ran out before the decision changed";
      return p;
    }
    p.set = ctx.prune(std::move(set));
    return p;
  }

 private:
  // One forward + backward pass at xs; fills estimate[i] (the first-order
  // change of the objective) for the live image and feature candidates and,
  // when `tokens` is set, the live token candidates.
  void estimate_first_order(SearchContext& ctx, const DecouplingSet& set, const Inputs& xs,
                            const std::vector<DecouplingElement>& pool, const std::vector<size_t>& live,
                            size_t n_direct, bool tokens, std::vector<double>& estimate) {
    Classifier& model = ctx.model();
    const auto& specs = ctx.specs();
    Inputs vars = xs;
    std::vector<torch::Tensor> wrt, grads;
    std::vector<int64_t> slot(specs.size(), -1);  // index into wrt per modality
    ctx.count_forward(1);
    // Forward and backward on the thread that runs the model's passes (the
    // packing thread under the sample-parallel scheduler).
    model.run_alone([&](Classifier& alone) {
      torch::AutoGradMode grad_mode(true);
      // cuDNN refuses RNN backward in eval mode; models stay in eval mode here.
      CudnnOffForRnnBackward cudnn_off(alone.device().is_cuda() && tokens);
      for (size_t m = 0; m < specs.size(); ++m) {
        if (!specs[m].is_tokens() && ctx.allowed(m)) {
          vars[m] = xs[m].detach().clone().requires_grad_(true);
          slot[m] = static_cast<int64_t>(wrt.size());
          wrt.push_back(vars[m]);
        }
      }
      torch::Tensor logits, fusion;
      if (tokens) {
        for (size_t m = 0; m < specs.size(); ++m) {
          if (!specs[m].is_tokens()) continue;
          vars[m] = alone.embed_tokens(m, xs[m]).detach().clone().requires_grad_(ctx.allowed(m));
          if (ctx.allowed(m)) {
            slot[m] = static_cast<int64_t>(wrt.size());
            wrt.push_back(vars[m]);
          }
        }
        logits = alone.logits_from_embeddings(vars, xs);
      } else if (ctx.uses_fusion()) {
        fusion = alone.fusion(vars);
      } else {
        logits = alone.logits(vars);
      }
      auto objective = ctx.loss(logits, fusion).sum();
      if (!objective.requires_grad())
        throw Error("saliency: model '" + alone.name() +
                    "' returned outputs without gradients; it needs a differentiable model");
      grads = torch::autograd::grad({objective}, wrt, {}, /*retain_graph=*/false,
                                    /*create_graph=*/false, /*allow_unused=*/true);
    });
    ctx.count_backward(1);
    torch::NoGradGuard no_grad;

    // Image: per-pixel gradient x (fill - x), summed over channels, then
    // regions; tabular: per feature gradient x (fill - x); audio: the same
    // summed over each frame's samples.
    std::vector<torch::Tensor> pixel_score(specs.size());
    for (size_t m = 0; m < specs.size(); ++m) {
      if (specs[m].is_tokens() || slot[m] < 0) continue;
      const auto& g = grads[static_cast<size_t>(slot[m])];
      if (!g.defined()) continue;
      const auto score = specs[m].is_image()     ? pixel_saliency(g, xs[m], specs[m].fill)
                         : specs[m].has_frames() ? frame_saliency(g, xs[m], specs[m])
                                                 : feature_saliency(g, xs[m], specs[m].fills);
      pixel_score[m] = score[0].to(torch::kCPU).to(torch::kDouble).contiguous();
    }
    for (size_t i : live) {
      if (i >= n_direct) continue;
      const auto& e = pool[i];
      const auto& s = pixel_score[e.modality];
      if (!s.defined()) continue;
      const double* ps = s.data_ptr<double>();
      if (e.is_token()) {  // a tabular feature or a frame
        estimate[i] = ps[e.position];
        continue;
      }
      const int64_t W = specs[e.modality].width();
      double total = 0.0;
      for (int64_t y = e.region.y; y < e.region.y + e.region.h; ++y)
        for (int64_t x = e.region.x; x < e.region.x + e.region.w; ++x) total += ps[y * W + x];
      estimate[i] = total;
    }
    if (!tokens) return;

    // Tokens: embed the sequence after each removal (batched), dot with the gradient.
    // Rows are rebuilt from the original sample (set + candidate), so that
    // positions stay positions of the original sequence.
    std::vector<size_t> idx;
    std::vector<DecouplingSet> rows;
    for (size_t i : live)
      if (i >= n_direct) idx.push_back(i);
    if (idx.empty()) return;
    for (size_t m = 0; m < specs.size(); ++m) {
      if (!specs[m].is_tokens() || slot[m] < 0) continue;
      const auto& g = grads[static_cast<size_t>(slot[m])];
      if (!g.defined()) continue;
      std::vector<size_t> mine;
      for (size_t i : idx)
        if (pool[i].modality == m) mine.push_back(i);
      if (mine.empty()) continue;
      rows.clear();
      for (size_t i : mine) rows.push_back(set.with(pool[i]));
      const Inputs removed = ctx.space().apply(rows, options().text_removal);
      const auto after = model.embed_tokens(m, removed[m]);                           // [n,L,E]
      const auto delta = token_saliency(g, vars[m].detach(), after.unsqueeze(0))[0];  // [n]
      const auto host = delta.to(torch::kCPU).to(torch::kDouble).contiguous();
      for (size_t r = 0; r < mine.size(); ++r) estimate[mine[r]] = host.data_ptr<double>()[r];
    }
  }
};

}  // namespace

std::unique_ptr<Attack> make_saliency_attack(const AttackOptions& options) {
  return std::make_unique<SaliencyAttack>(options);
}

}  // namespace muroan
