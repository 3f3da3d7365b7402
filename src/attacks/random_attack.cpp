// Random decoupling (baseline): the candidates (as greedy's) in a random order
// drawn from the sample's seeded stream; the prefixes of that order, growing up
// to the budget, are evaluated in batches and the smallest successful prefix
// wins (under the fooled criterion, elements that would lose the sample's truth
// are passed over). random_trials orders are tried. No pruning: it is the contrast to the
// searching attacks under the same budget.
#include <algorithm>

#include "attacks/methods.h"
#include "muroan/search_context.h"

namespace muroan {
namespace {

class RandomAttack : public Attack {
 public:
  using Attack::Attack;
  std::string name() const override { return "random"; }

 protected:
  Proposal run(SearchContext& ctx) override {
    const auto pool = ctx.candidates();
    const size_t batch = static_cast<size_t>(options().batch_size);
    Proposal p;
    p.note = "no random set within the budget changed the decision";
    for (int64_t trial = 0; trial < options().random_trials; ++trial) {
      auto order = pool;
      std::shuffle(order.begin(), order.end(), ctx.rng());
      PointCover cover(ctx.space());
      DecouplingSet prefix;
      std::vector<DecouplingSet> pending;
      for (size_t i = 0; i <= order.size(); ++i) {
        const bool grow = i < order.size() && cover.size() + cover.added_by(order[i]) <= ctx.point_budget();
        // Under the fooled criterion an element that would lose the truth is
        // passed over (no query), as greedy passes it over.
        if (grow && ctx.judges_truth() && !ctx.admissible(prefix.with(order[i]))) continue;
        if (grow) {
          cover.add(order[i]);
          prefix.add(order[i]);
          pending.push_back(prefix);
        }
        if (pending.size() >= batch || (!grow && !pending.empty())) {
          const auto evals = ctx.evaluate(pending);
          for (size_t k = 0; k < evals.size(); ++k)
            if (evals[k].success) return {pending[k], {}, ""};
          p.set = pending.back();
          pending.clear();
        }
        if (!grow) break;
      }
    }
    return p;
  }
};

}  // namespace

std::unique_ptr<Attack> make_random_attack(const AttackOptions& options) {
  return std::make_unique<RandomAttack>(options);
}

}  // namespace muroan
