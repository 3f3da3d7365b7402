// Greedy decoupling (DESIGN.md section 3), black-box: each step evaluates, in
// batched forward passes, the objective after additionally decoupling each
// candidate (pixels, patches or quadtree cells of the allowed image modalities,
// and every real token), keeps the best, and repeats until the decision changes
// or no candidate fits the budget; then prunes every element whose restoration
// keeps the attack successful. Finds combinations whose elements do not change
// the decision alone.
#include "attacks/methods.h"
#include "muroan/search_context.h"

namespace muroan {
namespace {

class GreedyAttack : public Attack {
 public:
  using Attack::Attack;
  std::string name() const override { return "greedy"; }

 protected:
  Proposal run(SearchContext& ctx) override {
    const auto pool = ctx.candidates();
    auto grown = ctx.grow_greedy({}, pool);
    Proposal p;
    if (!grown.success) {
      p.set = std::move(grown.set);
      p.note = "the budget ran out before the decision changed";
      return p;
    }
    p.set = ctx.prune(std::move(grown.set));
    return p;
  }
};

}  // namespace

std::unique_ptr<Attack> make_greedy_attack(const AttackOptions& options) {
  return std::make_unique<GreedyAttack>(options);
}

}  // namespace muroan
