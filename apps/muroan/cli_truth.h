// What counts as a success, shared by attack and analyze: the task's oracle,
// protected tokens and the labels to attack.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "muroan/model_source.h"
#include "muroan/oracle.h"

namespace muroan::cli {

// The oracle of a checkpoint's built-in task (null for a manifest, or a task without one).
std::unique_ptr<TruthOracle> oracle_for(const ModelAndData& md, double garment_share);

// Token ids from --protect-words (mapped with the model's vocabulary) and
// --protect-tokens (ids), plus the manifest's protected_tokens; sorted, unique.
// Throws UsageError naming the flag and the word that cannot be mapped.
std::vector<int64_t> resolve_protected_tokens(const std::string& words, const std::string& ids, const ModelAndData& md);

// "--attack-labels 1,true": class indices or names -> indices. Empty: none.
std::vector<int64_t> resolve_labels(const std::string& list, const std::vector<std::string>& classes);

}  // namespace muroan::cli
