// Private: the defenses, one per file, for install_defense, and helpers they share.
#pragma once

#include <torch/types.h>

#include <memory>
#include <vector>

#include "muroan/defense.h"

namespace muroan {

std::shared_ptr<Defense> install_pgd_at(const DefenseOptions& options, MultimodalNet net, TrainOptions& train);
std::shared_ptr<Defense> install_ablation(const DefenseOptions& options, const std::vector<ModalitySpec>& specs,
                                          TrainOptions& train);
std::shared_ptr<Defense> install_decoupling_at(const DefenseOptions& options, MultimodalNet net,
                                               const std::vector<ModalitySpec>& specs, TrainOptions& train);

// Rows defended in a batch of `rows`: the first ceil(fraction * rows) (batches
// are shuffled by the trainer), at least one.
int64_t defended_rows(double fraction, int64_t rows);
// `head` rows of `defended` followed by the remaining rows of `original`.
Inputs splice_rows(const Inputs& defended, const Inputs& original, int64_t head);

// A CPU generator for a seed.
torch::Generator make_cpu_generator(uint64_t seed);

}  // namespace muroan
