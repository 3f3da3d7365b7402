// Ground truth of a decoupled input: what the true label of x_S is, when the
// task can say (issue: label-preserving success).
//
// A decoupling attack that deletes the word that decides the answer ("this is
// not a bag" -> "this is a bag") has not fooled the model: the truth changed
// and a model that follows it is right. A task oracle re-reads x_S and says its
// true label, or that it has none ("this is not a" names nothing). The judge
// then classifies every decision change:
//
//   fooled         the decision changed, the truth of x_S did not
//   truth-changed  the truth of x_S differs from the sample's label
//   undefined      x_S has no true label (a class noun deleted, the garment hidden)
//
//   auto oracle = muroan::make_task_oracle("fashion-match", task.vocab);  // task_oracle.h; null: none
//   auto truth = oracle->prepare(sample, label);    // one sample, one row per modality
//   muroan::TruthVerdict v = truth->judge(set, muroan::TextRemoval::kDelete);
//   if (v.label && *v.label == label) { /* the truth of x_S is unchanged */ }
//
// Oracles exist for the built-in tasks (muroan/task_oracle.h);
// a bring-your-own model has none, and then MUROAN measures any flip, with
// protected tokens (AttackOptions::protected_tokens) as the user's own guard.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "muroan/decoupling.h"
#include "muroan/inputs.h"

namespace muroan {

// The truth of one decoupled input.
struct TruthVerdict {
  std::optional<int64_t> label;  // the true label of x_S; nullopt: undefined
  std::string reason;            // why it differs from the sample's label (empty when unchanged)
};

// What an oracle knows of one sample (its words, its garment's pixels, its
// scene), prepared once and asked for many sets during a search.
class SampleTruth {
 public:
  virtual ~SampleTruth() = default;
  // The truth of x_S. `set` must fit the sample (InputSpace::validate).
  virtual TruthVerdict judge(const DecouplingSet& set, TextRemoval mode) const = 0;
  // The truth of x_S for each set, in order: judge() set by set, unless an
  // oracle can do better with the batch (a TorchScript module: one call).
  virtual std::vector<TruthVerdict> judge_all(const std::vector<DecouplingSet>& sets, TextRemoval mode) const;
  // The sample's own label.
  virtual int64_t label() const = 0;
};

class TruthOracle {
 public:
  virtual ~TruthOracle() = default;
  virtual std::string name() const = 0;
  // One line for people: the rules this oracle applies (reports and docs).
  virtual std::string rules() const = 0;
  // `sample`: one row per modality in the task's order (any device); `label`:
  // its true label. Throws Error when the sample does not look like the task's.
  virtual std::unique_ptr<SampleTruth> prepare(const Inputs& sample, int64_t label) const = 0;
};

// How a decision change is classified.
enum class SuccessClass {
  kNone,  // no decision change (or no oracle: unclassified)
  kFooled,
  kTruthChanged,
  kUndefined,
};
const char* success_class_name(SuccessClass c);  // "none", "fooled", "truth-changed", "undefined"
// Throws Error for another name.
SuccessClass parse_success_class(const std::string& name);
// The class of a decision change given the verdict on x_S and the sample's
// label: fooled iff the truth of x_S is the label. A change whose x_S has
// another truth is never "fooled", whatever the model answers (conservative:
// on a 9-answer task the model may leave both the old and the new truth).
SuccessClass classify_success(const TruthVerdict& verdict, int64_t label);

}  // namespace muroan
