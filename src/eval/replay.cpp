// Replay: rebuild x_S from a recorded set with the one function that attacks
// use (InputSpace::apply) and ask the model again.
#include <torch/torch.h>

#include "muroan/error.h"
#include "muroan/measurement.h"

namespace muroan {

ReplayResult replay(Classifier& model, const Inputs& sample, const DecouplingSet& set, TextRemoval mode) {
  torch::NoGradGuard no_grad;
  const InputSpace space(model.modalities(), to_device(sample, model.device()));
  ReplayResult r;
  r.adversarial = space.apply({set}, mode);
  const auto probs = torch::softmax(model.logits(r.adversarial).to(torch::kDouble), 1);
  r.prediction = probs.argmax(1).item<int64_t>();
  r.confidence = probs[0][r.prediction].item<double>();
  return r;
}

ReplayResult replay(Classifier& model, const Inputs& sample, const SampleRecord& record) {
  if (!record.attacked)
    throw UsageError("replay: sample '" + record.id + "' was not attacked (misclassified when clean)");
  if (!record.decoupling)
    throw UsageError("replay: sample '" + record.id +
                     "' holds a perturbation result (pgd) that stores no decoupling set");
  const auto& specs = model.modalities();
  if (record.modality_names.size() != specs.size())
    throw UsageError("replay: the record has " + std::to_string(record.modality_names.size()) +
                     " modalities, the model " + std::to_string(specs.size()));
  for (size_t m = 0; m < specs.size(); ++m)
    if (record.modality_names[m] != specs[m].name)
      throw UsageError("replay: the record's modality " + std::to_string(m) + " is '" + record.modality_names[m] +
                       "', the model's '" + specs[m].name + "'");
  ReplayResult r = replay(model, sample, record.set, record.text_removal);
  r.matches = r.prediction == record.adversarial_prediction;
  return r;
}

}  // namespace muroan
