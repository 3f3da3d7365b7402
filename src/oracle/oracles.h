// Private to muroan_oracle: the oracle of each built-in task, one file each.
#pragma once

#include <memory>

#include "muroan/oracle.h"
#include "muroan/vocabulary.h"

namespace muroan {
namespace oracle {

// `garment_share`: the share of the garment's pixels at which the image of
// x_S no longer shows the item (kDefaultGarmentShare in task_oracle.h).
std::unique_ptr<TruthOracle> make_fashion_oracle(const Vocabulary& vocab, double garment_share);
std::unique_ptr<TruthOracle> make_shapes_oracle(const Vocabulary& vocab);
std::unique_ptr<TruthOracle> make_triage_oracle(const Vocabulary& vocab);
// `share`: of the spoken class's frames or the garment's pixels, as fashion-match's garment share.
std::unique_ptr<TruthOracle> make_spoken_fashion_oracle(const Vocabulary& vocab, double share);

}  // namespace oracle
}  // namespace muroan
