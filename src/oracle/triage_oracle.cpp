// The triage oracle: the task's own rules (data/triage.h) re-read on the
// record with the decoupled values unknown, the removed words gone and the
// silenced ECG frames unreadable.
#include "data/triage.h"
#include "muroan/error.h"
#include "oracle/oracles.h"

namespace muroan {
namespace oracle {
namespace {

constexpr size_t kVitals = 0, kNote = 1, kEcg = 2;

class TriageTruth : public SampleTruth {
 public:
  TriageTruth(data::TriageRecord clean, std::vector<int64_t> word_positions, int64_t label)
      : clean_(std::move(clean)), word_positions_(std::move(word_positions)), label_(label) {}

  int64_t label() const override { return label_; }

  // Deleted and masked words alike are gone from the note.
  TruthVerdict judge(const DecouplingSet& set, TextRemoval) const override {
    data::TriageRecord rec = clean_;
    std::vector<bool> word_kept(word_positions_.size(), true);
    for (const auto& e : set.elements) {
      if (!e.is_token()) throw Error("triage oracle: a pixel region, but the task has no image");
      const auto p = static_cast<size_t>(e.position);
      if (e.modality == kVitals && p < rec.vital_known.size()) {
        rec.vital_known[p] = false;
      } else if (e.modality == kEcg && p < rec.frame_known.size()) {
        rec.frame_known[p] = false;
      } else if (e.modality == kNote) {
        for (size_t i = 0; i < word_positions_.size(); ++i)
          if (word_positions_[i] == e.position) word_kept[i] = false;
      } else {
        throw Error("triage oracle: element " + std::to_string(e.position) + " of modality " +
                    std::to_string(e.modality) + " is outside the record");
      }
    }
    rec.words.clear();
    for (size_t i = 0; i < word_kept.size(); ++i)
      if (word_kept[i]) rec.words.push_back(clean_.words[i]);
    const data::TriageReading reading = data::read_triage(rec);
    TruthVerdict v;
    if (reading.label >= 0) v.label = reading.label;
    if (reading.label != label_) v.reason = reading.why;
    return v;
  }

 private:
  data::TriageRecord clean_;
  std::vector<int64_t> word_positions_;  // original position of each word of clean_.words
  int64_t label_;
};

class TriageOracle : public TruthOracle {
 public:
  explicit TriageOracle(Vocabulary vocab) : vocab_(std::move(vocab)) {}
  std::string name() const override { return "triage"; }
  std::string rules() const override {
    return "the task's rules re-read with decoupled vitals unknown (not their fill), removed words gone and "
           "silenced ECG frames unreadable: shock (systolic < 100 and lactate > 2) -> urgent; chest pain "
           "reported and ST elevation in most of >= 2 readable beats -> urgent; one of 'chest', 'pain' "
           "removed, a shock value removed that could have made it, or < 2 readable beats where the ECG "
           "decides -> undefined; else routine.";
  }
  std::unique_ptr<SampleTruth> prepare(const Inputs& sample, int64_t label) const override {
    if (sample.size() != 3)
      throw Error("triage oracle: expected vitals, note and ecg, got " + std::to_string(sample.size()) + " inputs");
    const auto vitals = sample[kVitals].to(torch::kCPU).to(torch::kDouble).contiguous();
    const auto note = sample[kNote].to(torch::kCPU).to(torch::kLong).contiguous();
    const auto ecg = sample[kEcg].to(torch::kCPU).to(torch::kFloat).contiguous();
    const auto features = static_cast<int64_t>(data::triage_features().size());
    if (vitals.dim() != 2 || vitals.size(0) != 1 || vitals.size(1) != features || note.dim() != 2 ||
        note.size(0) != 1 || ecg.dim() != 2 || ecg.size(0) != 1 || ecg.size(1) != data::kTriageEcgSamples)
      throw Error("triage oracle: the sample does not look like a triage record");
    data::TriageRecord rec;
    rec.vitals.assign(vitals.data_ptr<double>(), vitals.data_ptr<double>() + features);
    rec.vital_known.assign(rec.vitals.size(), true);
    rec.ecg.assign(ecg.data_ptr<float>(), ecg.data_ptr<float>() + ecg.size(1));
    rec.frame_known.assign(static_cast<size_t>(data::kTriageEcgSamples / data::kTriageEcgFrame), true);
    std::vector<int64_t> positions;
    for (int64_t i = 0; i < note.size(1); ++i) {
      const int64_t id = note[0][i].item<int64_t>();
      if (id == Vocabulary::kPadId) continue;
      if (id < 0 || id >= vocab_.size()) throw Error("triage oracle: token id " + std::to_string(id) + " unknown");
      rec.words.push_back(vocab_.word(id));
      positions.push_back(i);
    }
    const auto clean = data::read_triage(rec);
    if (clean.label != label)
      throw Error("triage oracle: the rules read the clean record as " + std::to_string(clean.label) + " (" +
                  clean.why + "), the data says " + std::to_string(label));
    return std::make_unique<TriageTruth>(std::move(rec), std::move(positions), label);
  }

 private:
  Vocabulary vocab_;
};

}  // namespace

std::unique_ptr<TruthOracle> make_triage_oracle(const Vocabulary& vocab) {
  return std::make_unique<TriageOracle>(vocab);
}

}  // namespace oracle
}  // namespace muroan
