#include "muroan/task_oracle.h"

#include "oracle/oracles.h"

namespace muroan {

std::unique_ptr<TruthOracle> make_task_oracle(const std::string& task, const Vocabulary& vocab,
                                              const OracleOptions& options) {
  if (task == "fashion-match") return oracle::make_fashion_oracle(vocab, options.garment_share);
  if (task == "shapes-vqa") return oracle::make_shapes_oracle(vocab);
  if (task == "triage") return oracle::make_triage_oracle(vocab);
  if (task == "spoken-fashion") return oracle::make_spoken_fashion_oracle(vocab, options.garment_share);
  return nullptr;
}

}  // namespace muroan
