// Sparse-RS adapted to decoupling (after Croce, Andriushchenko, Singh,
// Flammarion, Hein, "Sparse-RS: a versatile framework for query-efficient
// sparse black-box adversarial attacks", AAAI 2022): score-based random search
// over which k candidate elements (greedy's candidates, from every allowed
// modality at once) are decoupled. The decoupled value is fixed (the fill, or
// deletion), so the search is over the set only. Each step proposes
// batch_size sets, each the current set with a scheduled share alpha of its k
// elements swapped for random elements outside it (alpha starts at 0.3 and
// halves at the paper's iterations 10, 50, 200, 500, 1000, 2000, 4000, 6000 and
// 8000, scaled to the query budget), evaluates them in one batched pass, and
// moves to the best when its margin loss does not increase. Proposing a batch
// per step instead of one set is the one departure from the paper: it spends
// the same queries in fewer, larger forward passes. k starts at 1 and doubles
// while no set of k elements succeeds; each k may spend half of the queries
// left, and at most twice as many as there are sets of k elements. A success is pruned as greedy's is. The query budget
// is options.max_queries, or 10,000 when that is 0 (unlimited).
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "attacks/methods.h"
#include "muroan/search_context.h"

namespace muroan {
namespace {

constexpr int64_t kDefaultQueries = 10000;
constexpr double kAlphaInit = 0.3;
// Sparse-RS's schedule: alpha halves at these iterations of a 10,000-query run.
constexpr int64_t kHalvings[] = {10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000};

double alpha_at(int64_t iteration, int64_t budget) {
  const double scaled = static_cast<double>(iteration) * 10000.0 / static_cast<double>(std::max<int64_t>(1, budget));
  double alpha = kAlphaInit;
  for (int64_t h : kHalvings)
    if (scaled > static_cast<double>(h)) alpha /= 2.0;
  return alpha;
}

class SparseRsAttack : public Attack {
 public:
  using Attack::Attack;
  std::string name() const override { return "sparse-rs"; }

 protected:
  Proposal run(SearchContext& ctx) override {
    const auto pool = ctx.candidates();
    const auto n = static_cast<int64_t>(pool.size());
    const int64_t cap = options().max_queries > 0 ? options().max_queries : kDefaultQueries;
    Proposal p;
    p.note = "no set found within " + std::to_string(cap) + " queries";
    if (n == 0) {
      p.note = "no candidate to decouple";
      return p;
    }
    auto& rng = ctx.rng();
    auto draw = [&rng](int64_t bound) {  // uniform in [0, bound)
      return static_cast<int64_t>(std::uniform_int_distribution<int64_t>(0, bound - 1)(rng));
    };
    auto to_set = [&pool](const std::vector<int64_t>& members) {
      DecouplingSet set;
      for (int64_t i : members) set.add(pool[static_cast<size_t>(i)]);
      return set;
    };
    auto left = [&] { return cap - ctx.forward_passes(); };

    for (int64_t k = 1; left() > 0; k = std::min(2 * k, n)) {
      // Half of what is left, and no more than twice the number of distinct
      // sets of k elements (k = 1 has only n).
      double distinct = 1.0;
      for (int64_t i = 0; i < k; ++i) distinct = distinct * static_cast<double>(n - i) / static_cast<double>(i + 1);
      const int64_t allotment =
          std::max<int64_t>(1, static_cast<int64_t>(std::min(static_cast<double>(left()) / 2.0, 2.0 * distinct)));
      const int64_t stop_at = ctx.forward_passes() + allotment;
      // A random start of k distinct elements.
      std::vector<int64_t> order(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
      for (int64_t i = 0; i < k; ++i)
        std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(i + draw(n - i))]);
      std::vector<int64_t> current(order.begin(), order.begin() + k);
      double current_loss = std::numeric_limits<double>::infinity();
      DecouplingSet start = to_set(current);
      if (ctx.within_budget(start)) {
        const auto e = ctx.evaluate({start});
        if (e[0].success) return finish(ctx, std::move(start));
        current_loss = e[0].loss;
      }
      int64_t iteration = 0, empty_rounds = 0;
      // Proposals the oracle rejects cost no query, so the round also ends
      // after `allotment` proposals.
      while (ctx.forward_passes() < stop_at && iteration < allotment && k < n) {
        const int64_t rows =
            std::min<int64_t>({options().batch_size, stop_at - ctx.forward_passes(), allotment - iteration});
        const int64_t swaps =
            std::max<int64_t>(1, std::min<int64_t>(k, std::llround(alpha_at(iteration, cap) * static_cast<double>(k))));
        std::vector<std::vector<int64_t>> proposals;
        std::vector<DecouplingSet> sets;
        std::vector<char> in_current(static_cast<size_t>(n), 0);  // membership of `current`
        for (int64_t i : current) in_current[static_cast<size_t>(i)] = 1;
        for (int64_t r = 0; r < rows; ++r) {
          std::vector<int64_t> members = current;
          std::vector<char> in = in_current;
          for (int64_t s = 0; s < swaps; ++s) {
            int64_t outside = draw(n);
            while (in[static_cast<size_t>(outside)]) outside = draw(n);
            const int64_t slot = draw(k);
            in[static_cast<size_t>(members[static_cast<size_t>(slot)])] = 0;
            in[static_cast<size_t>(outside)] = 1;
            members[static_cast<size_t>(slot)] = outside;
          }
          DecouplingSet set = to_set(members);
          if (!ctx.within_budget(set)) continue;
          proposals.push_back(std::move(members));
          sets.push_back(std::move(set));
        }
        iteration += rows;
        if (sets.empty()) {
          // Every swap went over the budget: a larger k would too.
          if (++empty_rounds >= 100) {
            p.note = "sets of " + std::to_string(k) + " elements exceed the budget";
            return p;
          }
          continue;
        }
        empty_rounds = 0;
        const auto evals = ctx.evaluate(sets);
        size_t best = 0;
        for (size_t r = 0; r < evals.size(); ++r) {
          if (evals[r].success) return finish(ctx, std::move(sets[r]));
          if (SearchContext::lower_loss(evals[r].loss, evals[best].loss)) best = r;
        }
        if (!SearchContext::lower_loss(current_loss, evals[best].loss)) {  // not an increase
          current_loss = evals[best].loss;
          current = std::move(proposals[best]);
        }
      }
      if (k == n) break;
    }
    return p;
  }

 private:
  Proposal finish(SearchContext& ctx, DecouplingSet set) {
    Proposal p;
    p.set = ctx.prune(std::move(set));
    return p;
  }
};

}  // namespace

std::unique_ptr<Attack> make_sparse_rs_attack(const AttackOptions& options) {
  return std::make_unique<SparseRsAttack>(options);
}

}  // namespace muroan
