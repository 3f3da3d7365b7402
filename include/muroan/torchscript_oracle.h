// Bring your own oracle: a TorchScript module, named by the manifest's field
// "truth", that says the true label of a decoupled input x_S, so that a flip
// of a bring-your-own model can be judged fooled, truth-changed or undefined
// as the built-in tasks' flips are (oracle.h).
//
//   auto model = muroan::load_torchscript_model("triage/manifest.json", device);
//   auto oracle = muroan::load_torchscript_oracle(model->manifest(), model->modalities());
//   // null when the manifest names no truth module
//
// The module's forward takes the model's inputs (same order, same types) and
// returns int64 [B]: the true label of each row, or -1 where the row has none
// (say a note whose subject was deleted). It is called on the CPU, once per
// batch of candidate sets during a search (a rule is cheap; a learnt oracle
// would be judged by a model, and is not what this is for). Its label of every clean sample must be
// the sample's own: a module that disagrees with the data is refused, naming the
// sample, rather than measured against.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "muroan/modality.h"
#include "muroan/oracle.h"
#include "muroan/sample_data.h"
#include "muroan/torchscript_model.h"

namespace muroan {

class TorchScriptOracle : public TruthOracle {
 public:
  // Loads manifest.truth_path on the CPU and probes forward with a batch of two
  // rows. `specs`: the model's inputs (vocab sizes filled in). Throws InputError
  // naming the file on any problem.
  TorchScriptOracle(const Manifest& manifest, std::vector<ModalitySpec> specs);
  ~TorchScriptOracle() override;
  TorchScriptOracle(const TorchScriptOracle&) = delete;
  TorchScriptOracle& operator=(const TorchScriptOracle&) = delete;

  // "<its folder>/<its file>", e.g. "triage/truth.pt".
  std::string name() const override { return name_; }
  // The manifest's truth_rules, or a line saying what the module is.
  std::string rules() const override;
  // Throws Error when the module labels the clean sample other than `label`.
  std::unique_ptr<SampleTruth> prepare(const Inputs& sample, int64_t label) const override;

  // The module's labels of `rows` (any device): int64 [B] on the CPU, each in
  // [-1, K). Throws Error (one line, naming the module) on a failure or any
  // other output.
  torch::Tensor labels(const Inputs& rows) const;
  const std::vector<std::string>& classes() const { return classes_; }

 private:
  struct Module;  // the TorchScript module, kept out of this header
  std::unique_ptr<Module> module_;
  std::vector<ModalitySpec> specs_;
  std::vector<std::string> classes_;
  std::string name_, rules_;
};

// For `muroan info`: the module and its rules, and with `data`, how many of
// its clean samples the module labels as the data does (naming the first that
// it does not: an attack stops there).
std::string format_truth_info(const TorchScriptOracle& oracle, const SampleData* data = nullptr);

// The manifest's truth module, or null when it names none.
std::unique_ptr<TorchScriptOracle> load_torchscript_oracle(const Manifest& manifest,
                                                           const std::vector<ModalitySpec>& specs);

}  // namespace muroan
