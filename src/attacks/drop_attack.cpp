// Whole-modality removal (baseline): every allowed modality alone, then every
// pair, ... up to all but one (a single allowed modality is removed alone),
// evaluated in one batched pass; the first success, by increasing number of
// modalities, wins. An image is removed by filling all its pixels, a token
// sequence by removing all its real tokens.
#include "attacks/methods.h"
#include "muroan/search_context.h"

namespace muroan {
namespace {

class DropAttack : public Attack {
 public:
  using Attack::Attack;
  std::string name() const override { return "drop"; }

 protected:
  Proposal run(SearchContext& ctx) override {
    const auto& specs = ctx.specs();
    std::vector<DecouplingSet> whole;  // one per allowed modality with points
    for (size_t m = 0; m < specs.size(); ++m) {
      if (!ctx.allowed(m) || ctx.space().points()[m] == 0) continue;
      DecouplingSet s;
      if (specs[m].is_image())
        s.add(DecouplingElement::pixels(m, {0, 0, specs[m].width(), specs[m].height()}));
      else
        for (int64_t pos : ctx.space().token_positions(m))
          if (!ctx.is_protected(m, pos)) s.add(DecouplingElement::token(m, pos));
      if (s.empty()) continue;  // only protected tokens
      whole.push_back(std::move(s));
    }
    const size_t n = whole.size();
    Proposal p;
    if (n == 0) {
      p.note = "no allowed modality has points";
      return p;
    }
    const size_t max_k = n == 1 ? 1 : n - 1;
    std::vector<DecouplingSet> sets;
    for (size_t k = 1; k <= max_k; ++k)
      for (uint64_t mask = 1; mask < (uint64_t{1} << n); ++mask) {
        if (static_cast<size_t>(__builtin_popcountll(mask)) != k) continue;
        DecouplingSet s;
        for (size_t i = 0; i < n; ++i)
          if (mask & (uint64_t{1} << i))
            s.elements.insert(s.elements.end(), whole[i].elements.begin(), whole[i].elements.end());
        if (ctx.within_budget(s)) sets.push_back(std::move(s));
      }
    if (sets.empty()) {
      p.note = "removing a whole modality exceeds the budget";
      return p;
    }
    const auto evals = ctx.evaluate(sets);
    for (size_t i = 0; i < evals.size(); ++i)
      if (evals[i].success) return {sets[i], {}, ""};
    p.set = sets.back();
    p.note = "no removal of whole modalities changed the decision";
    return p;
  }
};

}  // namespace

std::unique_ptr<Attack> make_drop_attack(const AttackOptions& options) { return std::make_unique<DropAttack>(options); }

}  // namespace muroan
