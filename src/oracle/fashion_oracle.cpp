// The fashion-match oracle: the truth of a decoupled caption-image pair.
//
// Text (deleted or masked words alike: the word is gone from what is read):
//   * a class noun gone ("this is not a") -> undefined: the caption names nothing;
//   * else the negation gone ("not", "no") -> the truth flips: "this is not a
//     bag" becomes "this is a bag", and "this is no bag" becomes "this is bag";
//   * else (only "this", "is", "a", "photo", "of" gone) -> unchanged: the
//     caption still makes the same claim about the same class.
// Image: the garment is the item's foreground, the pixels that are not 0 in
// the clean image (Fashion-MNIST backgrounds are 0; decoupling fills with 0, so
// a background pixel cannot change). Once kGarmentShare of the foreground is
// decoupled, x_S is undefined: whether the hidden item is still a bag or a
// boot is no longer a fact of the image. See docs/oracles.md for the choice.
#include <algorithm>
#include <sstream>

#include "data/generators.h"
#include "muroan/error.h"
#include "oracle/oracles.h"
#include "oracle/sample_view.h"

namespace muroan {
namespace oracle {
namespace {

class FashionTruth : public SampleTruth {
 public:
  FashionTruth(SampleView view, int64_t label, double garment_share)
      : view_(std::move(view)), label_(label), garment_share_(garment_share) {}

  int64_t label() const override { return label_; }

  TruthVerdict judge(const DecouplingSet& set, TextRemoval) const override {
    TruthVerdict v;
    bool negation_gone = false;
    std::string negation;
    for (const auto& w : removed_words(set, view_)) {
      if (is_class_noun(w)) {
        v.reason = "class noun '" + w + "' removed: the caption names no class";
        return v;  // undefined
      }
      if (w == "not" || w == "no") {
        negation_gone = true;
        negation = w;
      }
    }
    const double share = decoupled_garment_share(set, view_);
    if (share >= garment_share_) {
      char buf[160];
      std::snprintf(buf, sizeof buf,
                    "%.0f%% of the garment's pixels decoupled (limit %.0f%%): the item is no "
                    "longer a fact of the image",
                    100.0 * share, 100.0 * garment_share_);
      v.reason = buf;
      return v;  // undefined
    }
    if (negation_gone) {
      v.label = 1 - label_;
      v.reason = "negation '" + negation + "' removed: the caption's claim is reversed";
      return v;
    }
    v.label = label_;
    return v;
  }

 private:
  static bool is_class_noun(const std::string& w) {
    return std::find(data::kFashionClassNames.begin(), data::kFashionClassNames.end(), w) !=
           data::kFashionClassNames.end();
  }

  SampleView view_;
  int64_t label_;
  double garment_share_;
};

class FashionOracle : public TruthOracle {
 public:
  FashionOracle(Vocabulary vocab, double garment_share) : vocab_(std::move(vocab)), garment_share_(garment_share) {}
  std::string name() const override { return "fashion-match"; }
  std::string rules() const override {
    char buf[400];
    std::snprintf(buf, sizeof buf,
                  "caption re-read: a class noun removed -> undefined; 'not' or 'no' removed -> the truth "
                  "flips; other words removed -> unchanged. Image: %.0f%% or more of the garment's "
                  "(non-zero) pixels decoupled -> undefined.",
                  100.0 * garment_share_);
    return buf;
  }
  std::unique_ptr<SampleTruth> prepare(const Inputs& sample, int64_t label) const override {
    if (label != 0 && label != 1)
      throw Error("fashion-match oracle: label " + std::to_string(label) + " is not 0 (false) or 1 (true)");
    auto view = make_sample_view(sample, vocab_, "fashion-match");
    if (view.channels != 1) throw Error("fashion-match oracle: expected a grey image");
    return std::make_unique<FashionTruth>(std::move(view), label, garment_share_);
  }

 private:
  Vocabulary vocab_;
  double garment_share_;
};

}  // namespace

std::unique_ptr<TruthOracle> make_fashion_oracle(const Vocabulary& vocab, double garment_share) {
  if (!(garment_share > 0.0 && garment_share <= 1.0))
    throw UsageError("fashion-match oracle: the garment share must be in (0, 1]");
  return std::make_unique<FashionOracle>(vocab, garment_share);
}

}  // namespace oracle
}  // namespace muroan
