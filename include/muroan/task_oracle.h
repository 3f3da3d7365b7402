// The oracles of the built-in tasks (see oracle.h for what an oracle is).
//
//   muroan::TaskData task = muroan::load_task("shapes-vqa", opts);
//   auto oracle = muroan::make_task_oracle(task.task, task.vocab);
//   // null for a task without an oracle: then only decision changes are measured
#pragma once

#include <memory>
#include <string>

#include "muroan/oracle.h"
#include "muroan/vocabulary.h"

namespace muroan {

struct OracleOptions {
  // fashion-match: x_S is undefined once this share of the garment's pixels
  // is decoupled (docs/oracles.md says why a fifth).
  double garment_share = 0.2;
};

// The oracle of built-in task `task` with its vocabulary, or null when the
// task has none. Throws UsageError for options out of range.
std::unique_ptr<TruthOracle> make_task_oracle(const std::string& task, const Vocabulary& vocab,
                                              const OracleOptions& options = {});

}  // namespace muroan
