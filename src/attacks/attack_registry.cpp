// The catalog of attack methods and make_attack(): the one place that maps
// names to methods. A new method is one file (its Attack and its make_*
// function, declared in methods.h) and one line here.
#include <vector>

#include "attacks/methods.h"
#include "muroan/error.h"

namespace muroan {
namespace {

struct Entry {
  AttackInfo info;
  std::unique_ptr<Attack> (*make)(const AttackOptions&);
};

const std::vector<Entry>& entries() {
  static const std::vector<Entry> kEntries = {
      {{"reference",
        "the published decoupling attack: quadtree occlusion and word-deletion candidates, "
        "then their combinations by increasing size (black-box)"},
       make_reference_attack},
      {{"greedy",
        "adds the point or region that most lowers the objective until the decision changes, "
        "then prunes (black-box)"},
       make_greedy_attack},
      {{"saliency",
        "first-order estimates rank the candidates, the best are re-ranked exactly, then "
        "pruned (white-box)"},
       make_saliency_attack},
      {{"random", "random sets growing up to the budget (baseline)"}, make_random_attack},
      {{"sparse-rs",
        "Sparse-RS random search over which k candidates are decoupled, k doubling until a set "
        "succeeds, then pruned; 10,000 queries unless --max-queries (black-box)"},
       make_sparse_rs_attack},
      {{"exact",
        "the smallest set in points among all sets of at most max_size candidates, by batched "
        "enumeration in order of size (black-box; the yardstick for the other attacks)"},
       make_exact_attack},
      {{"drop", "removal of whole modalities (baseline)"}, make_drop_attack},
      {{"pgd", "L-infinity PGD on the image modalities; not a decoupling attack (baseline)"}, make_pgd_attack},
  };
  return kEntries;
}

}  // namespace

std::vector<AttackInfo> attack_catalog() {
  std::vector<AttackInfo> out;
  for (const auto& e : entries()) out.push_back(e.info);
  return out;
}

std::unique_ptr<Attack> make_attack(const AttackOptions& options) {
  validate_attack_options(options);  // an unknown name included
  for (const auto& e : entries())
    if (e.info.name == options.method) return e.make(options);
  throw UsageError("attack method: unknown method '" + options.method + "'");
}

}  // namespace muroan
