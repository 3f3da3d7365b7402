// PGD, L-infinity (baseline, not a decoupling attack): projected gradient
// descent on the objective over the allowed image modalities, from a seeded
// uniform start in the eps-ball, steps of step_size * sign(gradient), values
// clamped to [clamp_min, clamp_max]. Stops at the first step whose input
// meets the decision criterion. The judge reports the L-infinity distance;
// no decoupling rate applies.
#include <torch/torch.h>

#include <random>

#include "attacks/methods.h"
#include "muroan/error.h"
#include "muroan/gradients.h"
#include "muroan/search_context.h"

namespace muroan {
namespace {

class PgdAttack : public Attack {
 public:
  using Attack::Attack;
  std::string name() const override { return "pgd"; }
  bool is_decoupling() const override { return false; }
  bool uses_gradients() const override { return true; }

 protected:
  Proposal run(SearchContext& ctx) override {
    Classifier& model = ctx.model();
    const auto& specs = ctx.specs();
    const auto& o = options();
    const Inputs& x0 = ctx.space().sample();
    std::vector<size_t> images;
    for (size_t m = 0; m < specs.size(); ++m)
      if (specs[m].is_image() && ctx.allowed(m)) images.push_back(m);
    if (images.empty()) throw UsageError("pgd perturbs image modalities, and the options allow none");

    Inputs x = x0;
    if (o.random_start && o.eps > 0) {
      std::uniform_real_distribution<float> uniform(static_cast<float>(-o.eps), static_cast<float>(o.eps));
      for (size_t m : images) {
        auto noise = torch::empty(x0[m].sizes(), torch::kFloat);
        float* pn = noise.data_ptr<float>();
        for (int64_t i = 0; i < noise.numel(); ++i) pn[i] = uniform(ctx.rng());
        x[m] = (x0[m] + noise.to(x0[m].device()).to(x0[m].dtype())).clamp(o.clamp_min, o.clamp_max);
      }
    }
    Proposal p;
    try {
      for (int64_t step = 0; step < o.steps; ++step) {
        ctx.count_forward(1);
        bool success = false;
        std::vector<torch::Tensor> grads;
        // Forward and backward on the thread that runs the model's passes (the
        // packing thread under the sample-parallel scheduler).
        model.run_alone([&](Classifier& alone) {
          torch::AutoGradMode grad_mode(true);
          Inputs vars = x;
          std::vector<torch::Tensor> wrt;
          for (size_t m : images) {
            vars[m] = x[m].detach().clone().requires_grad_(true);
            wrt.push_back(vars[m]);
          }
          const auto logits = alone.logits(vars);
          const auto fusion = ctx.uses_fusion() ? alone.fusion(vars) : torch::Tensor();
          success = ctx.is_success(logits.argmax(1).item<int64_t>());
          if (success) return;
          auto objective = ctx.loss(logits, fusion).sum();
          if (!objective.requires_grad())
            throw Error("pgd: model '" + alone.name() + "' returned outputs without gradients");
          grads = torch::autograd::grad({objective}, wrt, {}, false, false, true);
        });
        if (success) break;
        ctx.count_backward(1);
        torch::NoGradGuard no_grad;
        for (size_t k = 0; k < images.size(); ++k) {
          const size_t m = images[k];
          if (!grads[k].defined()) continue;
          // Descent on the objective: step against the gradient.
          x[m] = linf_step(x[m], -grads[k], x0[m], o.step_size, o.eps).clamp(o.clamp_min, o.clamp_max).detach();
        }
      }
    } catch (const QueryLimitReached&) {
      p.note = "max_queries (" + std::to_string(o.max_queries) + ") reached";
    }
    p.perturbed = x;
    return p;
  }
};

}  // namespace

std::unique_ptr<Attack> make_pgd_attack(const AttackOptions& options) { return std::make_unique<PgdAttack>(options); }

}  // namespace muroan
