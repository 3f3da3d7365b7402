// Exact minimum (the yardstick for the searching attacks): every set of at most
// max_size candidate elements (greedy's candidates: image regions at the chosen
// granularity and words) is evaluated in order of its size in points |S| (the
// union, as the decoupling rate counts it), in batched forward passes, until
// one succeeds. The first success is the smallest set in points among all sets
// of at most max_size elements; sets over the budget are skipped and, under the
// fooled criterion, sets the oracle rejects cost no query (they cannot be
// fooled successes). If its size c is at most max_size + 1 points it is the
// smallest set of all: a set of more elements, none of them redundant, covers
// at least max_size + 1 points, and a redundant one covers what a smaller set
// does. No success: "minimum > max_size elements", not a property of the model.
#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

#include "attacks/methods.h"
#include "muroan/search_context.h"

namespace muroan {
namespace {

// Index sets of more elements than this are not enumerated (16 bytes each).
constexpr double kMaxEnumerated = 4e6;

struct Combination {
  std::array<int32_t, kMaxExactSize> index{};
  int32_t size = 0;
  int64_t points = 0;
};

double combinations_up_to(int64_t n, int64_t k) {
  double total = 0.0, c = 1.0;
  for (int64_t i = 1; i <= k && i <= n; ++i) {
    c = c * static_cast<double>(n - i + 1) / static_cast<double>(i);
    total += c;
  }
  return total;
}

// Point ids (modality offset + pixel or position) of an element, sorted. The
// offsets are capacities (H*W, max_len, D), not the sample's point counts: a
// word can start at a position beyond the number of words (word pieces), and
// its id must not reach into the next modality's.
std::vector<int64_t> element_points(const DecouplingElement& e, const InputSpace& space) {
  int64_t offset = 0;
  for (size_t m = 0; m < e.modality; ++m) offset += space.specs()[m].max_points();
  std::vector<int64_t> out;
  if (e.is_token()) {
    // A word is one point: its first position (its pieces go with it).
    out.push_back(offset + e.position);
    return out;
  }
  const int64_t width = space.specs()[e.modality].width();
  for (int64_t y = e.region.y; y < e.region.y + e.region.h; ++y)
    for (int64_t x = e.region.x; x < e.region.x + e.region.w; ++x) out.push_back(offset + y * width + x);
  return out;
}

class ExactAttack : public Attack {
 public:
  using Attack::Attack;
  std::string name() const override { return "exact"; }

 protected:
  Proposal run(SearchContext& ctx) override {
    const auto pool = ctx.candidates();
    const auto n = static_cast<int64_t>(pool.size());
    const int64_t k_max = options().max_size;
    const std::string limit = std::to_string(k_max) + " element" + (k_max == 1 ? "" : "s");
    Proposal p;
    const double total = combinations_up_to(n, k_max);
    if (total > kMaxEnumerated) {
      p.note = "exact search not run: " + std::to_string(static_cast<int64_t>(total)) + " sets of at most " + limit +
               " over " + std::to_string(n) + " candidates (more than " +
               std::to_string(static_cast<int64_t>(kMaxEnumerated)) +
               "; use a coarser --granularity or a smaller --max-size)";
      return p;
    }
    std::vector<std::vector<int64_t>> points;
    points.reserve(pool.size());
    for (const auto& e : pool) points.push_back(element_points(e, ctx.space()));

    // Every combination within the budget, with its union size.
    std::vector<Combination> sets;
    sets.reserve(static_cast<size_t>(total));
    Combination c;
    // level[d]: the points covered by the first d chosen elements.
    std::vector<std::vector<int64_t>> level(static_cast<size_t>(k_max) + 1);
    auto enumerate = [&](auto&& self, int32_t start, int32_t depth) -> void {
      const auto& covered = level[static_cast<size_t>(depth)];
      auto& next = level[static_cast<size_t>(depth) + 1];
      for (int32_t i = start; i < n; ++i) {
        const auto& add = points[static_cast<size_t>(i)];
        next.clear();
        std::set_union(covered.begin(), covered.end(), add.begin(), add.end(), std::back_inserter(next));
        c.index[static_cast<size_t>(depth)] = i;
        c.size = depth + 1;
        c.points = static_cast<int64_t>(next.size());
        if (c.points > ctx.point_budget()) continue;
        sets.push_back(c);
        if (depth + 1 < k_max) self(self, i + 1, depth + 1);
      }
    };
    enumerate(enumerate, 0, 0);
    // By points, then fewer elements, then enumeration order: deterministic.
    std::stable_sort(sets.begin(), sets.end(), [](const Combination& a, const Combination& b) {
      return a.points != b.points ? a.points < b.points : a.size < b.size;
    });

    const auto batch = static_cast<size_t>(options().batch_size);
    for (size_t begin = 0; begin < sets.size(); begin += batch) {
      const size_t end = std::min(sets.size(), begin + batch);
      std::vector<DecouplingSet> rows;
      rows.reserve(end - begin);
      for (size_t s = begin; s < end; ++s) {
        DecouplingSet set;
        for (int32_t j = 0; j < sets[s].size; ++j)
          set.add(pool[static_cast<size_t>(sets[s].index[static_cast<size_t>(j)])]);
        rows.push_back(std::move(set));
      }
      const auto evals = ctx.evaluate(rows);
      for (size_t r = 0; r < evals.size(); ++r) {
        if (!evals[r].success) continue;
        const int64_t found = sets[begin + r].points;
        p.set = std::move(rows[r]);
        p.note = "exact minimum: " + std::to_string(found) + " points, the smallest of the sets of at most " + limit +
                 (found <= k_max + 1 ? " and of all sets" : "") + " (" + std::to_string(begin + r + 1) + " of " +
                 std::to_string(sets.size()) + " sets tried)";
        return p;
      }
    }
    p.note = "minimum > " + limit + ": none of the " + std::to_string(sets.size()) + " sets of at most " + limit +
             " within the budget changes the decision";
    return p;
  }
};

}  // namespace

std::unique_ptr<Attack> make_exact_attack(const AttackOptions& options) {
  return std::make_unique<ExactAttack>(options);
}

}  // namespace muroan
