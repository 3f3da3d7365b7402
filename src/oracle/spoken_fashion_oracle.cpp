// The spoken-fashion oracle: the claim re-read on the decoupled input.
//
// Caption (deleted or masked words alike): "not" or "no" removed -> the truth
// flips ("this is not a" + "bag" becomes "this is a" + "bag"); other words ->
// unchanged (the caption names no class). Speech: the spoken word is the
// frames well above the noise floor of the clean recording; once
// `garment_share` of them is silenced the class is no longer heard ->
// undefined. Image: as fashion-match, once that share of the garment's
// pixels is decoupled -> undefined.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "data/spoken_fashion.h"
#include "muroan/error.h"
#include "oracle/oracles.h"
#include "oracle/sample_view.h"

namespace muroan {
namespace oracle {
namespace {

constexpr size_t kSpeech = 2;
constexpr int64_t kFrames = data::kSpokenSamples / data::kSpokenFrame;

// Frames of the spoken word: RMS above a tenth of the loudest frame and above
// three times the tenth-quietest-percent frame (the noise floor; the word
// fills at most 0.7 of the second).
std::vector<bool> voiced_frames(const torch::Tensor& speech) {
  const auto rms = speech.view({kFrames, data::kSpokenFrame}).pow(2).mean(1).sqrt().contiguous();
  const float* r = rms.data_ptr<float>();
  std::vector<float> sorted(r, r + kFrames);
  std::nth_element(sorted.begin(), sorted.begin() + kFrames / 10, sorted.end());
  const float floor = sorted[kFrames / 10], loudest = *std::max_element(r, r + kFrames);
  std::vector<bool> voiced(kFrames);
  for (int64_t f = 0; f < kFrames; ++f) voiced[static_cast<size_t>(f)] = r[f] > 0.1F * loudest && r[f] > 3 * floor;
  return voiced;
}

class SpokenTruth : public SampleTruth {
 public:
  SpokenTruth(SampleView view, std::vector<bool> voiced, int64_t label, double share)
      : view_(std::move(view)), voiced_(std::move(voiced)), label_(label), share_(share) {
    for (bool v : voiced_) spoken_ += v ? 1 : 0;
  }

  int64_t label() const override { return label_; }

  TruthVerdict judge(const DecouplingSet& set, TextRemoval) const override {
    TruthVerdict v;
    std::vector<bool> silenced(voiced_.size(), false);
    for (const auto& e : set.elements)
      if (e.modality == kSpeech && e.is_token() && e.position >= 0 && e.position < kFrames)
        silenced[static_cast<size_t>(e.position)] = true;
    int64_t unheard = 0;
    for (size_t f = 0; f < voiced_.size(); ++f) unheard += voiced_[f] && silenced[f] ? 1 : 0;
    char buf[200];
    if (spoken_ > 0 && static_cast<double>(unheard) >= share_ * static_cast<double>(spoken_)) {
      std::snprintf(buf, sizeof buf, "%lld of the %lld frames of the spoken class silenced: the class is not heard",
                    static_cast<long long>(unheard), static_cast<long long>(spoken_));
      v.reason = buf;
      return v;  // undefined
    }
    const double garment = decoupled_garment_share(set, view_);
    if (garment >= share_) {
      std::snprintf(buf, sizeof buf, "%.0f%% of the garment's pixels decoupled: the item is no longer a fact",
                    100.0 * garment);
      v.reason = buf;
      return v;  // undefined
    }
    for (const auto& w : removed_words(set, view_)) {
      if (w == "not" || w == "no") {
        v.label = 1 - label_;
        v.reason = "negation '" + w + "' removed: the claim is reversed";
        return v;
      }
    }
    v.label = label_;
    return v;
  }

 private:
  SampleView view_;
  std::vector<bool> voiced_;
  int64_t label_;
  double share_;
  int64_t spoken_ = 0;
};

class SpokenOracle : public TruthOracle {
 public:
  SpokenOracle(Vocabulary vocab, double share) : vocab_(std::move(vocab)), share_(share) {}
  std::string name() const override { return "spoken-fashion"; }
  std::string rules() const override {
    char buf[400];
    std::snprintf(buf, sizeof buf,
                  "caption re-read: 'not' or 'no' removed -> the truth flips, other words -> unchanged; "
                  "%.0f%% or more of the spoken class's frames silenced, or of the garment's pixels "
                  "decoupled -> undefined.",
                  100.0 * share_);
    return buf;
  }
  std::unique_ptr<SampleTruth> prepare(const Inputs& sample, int64_t label) const override {
    if (label != 0 && label != 1)
      throw Error("spoken-fashion oracle: label " + std::to_string(label) + " is not 0 or 1");
    if (sample.size() != 3)
      throw Error("spoken-fashion oracle: expected image, caption and speech, got " + std::to_string(sample.size()) +
                  " inputs");
    const auto speech = sample[kSpeech].to(torch::kCPU).to(torch::kFloat).contiguous();
    if (speech.dim() != 2 || speech.size(0) != 1 || speech.size(1) != data::kSpokenSamples)
      throw Error("spoken-fashion oracle: the speech must be one row of " + std::to_string(data::kSpokenSamples) +
                  " samples");
    auto view = make_sample_view({sample[0], sample[1]}, vocab_, "spoken-fashion");
    auto voiced = voiced_frames(speech[0]);
    if (std::none_of(voiced.begin(), voiced.end(), [](bool v) { return v; }))
      throw Error("spoken-fashion oracle: no spoken word stands out of the noise in the speech");
    return std::make_unique<SpokenTruth>(std::move(view), std::move(voiced), label, share_);
  }

 private:
  Vocabulary vocab_;
  double share_;
};

}  // namespace

std::unique_ptr<TruthOracle> make_spoken_fashion_oracle(const Vocabulary& vocab, double share) {
  if (!(share > 0.0 && share <= 1.0)) throw UsageError("spoken-fashion oracle: the share must be in (0, 1]");
  return std::make_unique<SpokenOracle>(vocab, share);
}

}  // namespace oracle
}  // namespace muroan
