// Greedy decoupling (DESIGN.md section 3), black-box: each step evaluates, in
// batched forward passes, the objective after additionally decoupling each
// candidate (pixels, patches or quadtree cells of the allowed image modalities,
// and every real token), keeps the best, and repeats until the decision changes
// or no candidate fits the budget; then prunes every element whose restoration
// keeps the attack successful. Finds combinations whose elements do not change
// the decision alone. With options.refine it then restarts among the smaller
// candidates: a greedy step that can flip the decision with one 49-point patch
// takes it, though two words would have done.
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
    if (options().refine) p.set = refine(ctx, pool, std::move(p.set));
    return p;
  }

 private:
  // A set of s points can only be beaten by candidates of fewer than s points:
  // grow again from nothing among those, at most s - 1 points, and keep the
  // pruned success; repeat while the set shrinks.
  static DecouplingSet refine(SearchContext& ctx, const std::vector<DecouplingElement>& pool, DecouplingSet set) {
    const PointCover none(ctx.space());
    while (true) {
      const int64_t s = ctx.space().count(set).decoupled_points();
      std::vector<DecouplingElement> smaller;
      for (const auto& e : pool)
        if (none.added_by(e) < s) smaller.push_back(e);
      if (smaller.empty()) return set;
      auto grown = ctx.grow_greedy({}, smaller, s - 1);
      if (!grown.success) return set;
      auto shrunk = ctx.prune(std::move(grown.set));
      if (ctx.space().count(shrunk).decoupled_points() >= s) return set;
      set = std::move(shrunk);
    }
  }
};

}  // namespace

std::unique_ptr<Attack> make_greedy_attack(const AttackOptions& options) {
  return std::make_unique<GreedyAttack>(options);
}

}  // namespace muroan
