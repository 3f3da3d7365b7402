// The built-in triage task: generation and the rules (see triage.h).
#include "data/triage.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "muroan/error.h"

namespace muroan {
namespace data {
namespace {

// Windows of one beat, in samples from its R wave: the PR segment (baseline)
// and the ST segment, at 250 Hz. A beat is readable when every sample from the
// baseline's start to the ST window's end is known.
constexpr int64_t kBaselineFrom = -15, kBaselineTo = -8;  // -60 .. -32 ms
constexpr int64_t kStFrom = 20, kStTo = 40;               // 80 .. 160 ms
constexpr double kStElevated = 0.15;                      // mV above the PR baseline
constexpr double kRThreshold = 0.5;                       // mV
constexpr int64_t kRWindow = 25;                          // an R wave is the maximum within +-100 ms
constexpr int64_t kMinReadableBeats = 2;

constexpr double kShockSystolic = 100.0, kShockLactate = 2.0;
constexpr int64_t kFillRecords = 2000;

const std::vector<std::vector<std::string>> kSymptoms = {
    {"cough"}, {"fever"}, {"nausea"}, {"dizziness"}, {"headache"}, {"fatigue"}, {"shortness", "of", "breath"}};
const std::vector<std::vector<std::string>> kReported = {{"pt", "reports", "chest", "pain"},
                                                         {"pt", "complains", "of", "chest", "pain"},
                                                         {"chest", "pain", "since", "this", "morning"},
                                                         {"new", "chest", "pain"}};
const std::vector<std::vector<std::string>> kDenied = {
    {"pt", "denies", "chest", "pain"}, {"no", "chest", "pain"}, {"pt", "reports", "no", "chest", "pain"}};
const std::vector<std::vector<std::string>> kHistory = {
    {"since", "yesterday"}, {"history", "of", "diabetes"}, {"history", "of", "hypertension"}};

enum class Pain { kReported, kDenied, kAbsent };

double clamp(double v, double lo, double hi) { return std::min(hi, std::max(lo, v)); }
double gauss(double x, double sd) { return std::exp(-x * x / (2.0 * sd * sd)); }
double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

std::string fmt(const char* format, double a, double b = 0.0) {
  char buf[160];
  std::snprintf(buf, sizeof buf, format, a, b);
  return buf;
}

// ---- the rules ---------------------------------------------------------------

struct PainReading {
  bool clear = true;  // false: the note no longer says (one of "chest", "pain" removed)
  bool reported = false;
  std::string why;
};

PainReading read_pain(const std::vector<std::string>& words) {
  PainReading r;
  const auto chest = std::find(words.begin(), words.end(), "chest");
  const bool has_pain = std::find(words.begin(), words.end(), "pain") != words.end();
  if ((chest != words.end()) != has_pain) {
    r.clear = false;
    r.why = has_pain ? "'chest' removed: the note no longer says what hurts"
                     : "'pain' removed: the note no longer says what is wrong with the chest";
    return r;
  }
  if (chest == words.end()) {
    r.why = "no chest pain in the note";
    return r;
  }
  // A negation among the two words before "chest" ("denies chest pain",
  // "reports no chest pain").
  const auto from = chest - std::min<std::ptrdiff_t>(2, chest - words.begin());
  const bool negated = std::any_of(from, chest, [](const std::string& w) { return w == "denies" || w == "no"; });
  r.reported = !negated;
  r.why = negated ? "chest pain denied in the note" : "chest pain reported in the note";
  return r;
}

struct EcgReading {
  int64_t readable = 0, elevated = 0;
  bool clear() const { return readable >= kMinReadableBeats; }
  bool st() const { return 2 * elevated > readable; }
};

// R waves of the clean strip: samples above kRThreshold that are the maximum
// within +-kRWindow.
std::vector<int64_t> r_waves(const std::vector<float>& ecg) {
  std::vector<int64_t> out;
  const auto n = static_cast<int64_t>(ecg.size());
  for (int64_t i = 0; i < n; ++i) {
    if (ecg[static_cast<size_t>(i)] <= kRThreshold) continue;
    bool peak = true;
    for (int64_t j = std::max<int64_t>(0, i - kRWindow); peak && j <= std::min(n - 1, i + kRWindow); ++j) {
      const float v = ecg[static_cast<size_t>(j)], c = ecg[static_cast<size_t>(i)];
      peak = v < c || (v == c && j >= i);
    }
    if (peak) out.push_back(i);
  }
  return out;
}

EcgReading read_ecg(const std::vector<float>& ecg, const std::vector<bool>& frame_known) {
  EcgReading r;
  const auto n = static_cast<int64_t>(ecg.size());
  const auto known = [&](int64_t i) { return frame_known[static_cast<size_t>(i / kTriageEcgFrame)]; };
  const auto mean = [&](int64_t from, int64_t to) {
    double s = 0;
    for (int64_t i = from; i < to; ++i) s += ecg[static_cast<size_t>(i)];
    return s / static_cast<double>(to - from);
  };
  for (int64_t peak : r_waves(ecg)) {
    if (peak + kBaselineFrom < 0 || peak + kStTo > n) continue;  // cut by the strip's ends
    bool intact = true;
    for (int64_t i = peak + kBaselineFrom; intact && i < peak + kStTo; ++i) intact = known(i);
    if (!intact) continue;
    ++r.readable;
    if (mean(peak + kStFrom, peak + kStTo) - mean(peak + kBaselineFrom, peak + kBaselineTo) > kStElevated) ++r.elevated;
  }
  return r;
}

}  // namespace

const std::vector<std::string>& triage_features() {
  static const std::vector<std::string> kFeatures = {"heart_rate_bpm",    "systolic_bp_mmhg", "diastolic_bp_mmhg",
                                                     "resp_rate_per_min", "spo2_pct",         "temperature_c",
                                                     "lactate_mmol_l",    "wbc_10e9_per_l",   "creatinine_mg_dl",
                                                     "glucose_mg_dl",     "potassium_mmol_l", "age_years"};
  return kFeatures;
}

TriageReading read_triage(const TriageRecord& rec) {
  TriageReading out;
  // Shock: both values needed; one removed leaves it open unless the other
  // already rules it out.
  const bool sbp_known = rec.vital_known[kSystolic], lac_known = rec.vital_known[kLactate];
  const double sbp = rec.vitals[kSystolic], lac = rec.vitals[kLactate];
  const bool sbp_low = sbp<kShockSystolic, lac_high = lac> kShockLactate;
  const bool no_shock = (sbp_known && !sbp_low) || (lac_known && !lac_high);
  const bool shock = sbp_known && lac_known && sbp_low && lac_high;
  if (shock) {
    out.label = 1;
    out.why = fmt("shock: systolic %.0f mmHg, lactate %.1f mmol/L", sbp, lac);
    return out;
  }
  const PainReading pain = read_pain(rec.words);
  const EcgReading ecg = read_ecg(rec.ecg, rec.frame_known);
  // Urgent through chest pain and ST elevation, whatever the shock values say.
  if (pain.clear && pain.reported && ecg.clear() && ecg.st()) {
    out.label = 1;
    out.why = fmt("chest pain reported and ST elevation in %.0f of %.0f readable beats",
                  static_cast<double>(ecg.elevated), static_cast<double>(ecg.readable));
    return out;
  }
  if (!no_shock) {
    out.why = std::string(sbp_known ? "lactate" : "systolic pressure") +
              " removed: whether the patient is in shock is no longer known";
    return out;  // undefined
  }
  if (!pain.clear) {
    out.why = pain.why;
    return out;
  }
  if (!pain.reported) {
    out.label = 0;
    out.why = pain.why + ", no shock";
    return out;
  }
  if (!ecg.clear()) {
    out.why = fmt("chest pain reported, but only %.0f readable beat(s) left on the ECG (needs %.0f)",
                  static_cast<double>(ecg.readable), static_cast<double>(kMinReadableBeats));
    return out;
  }
  out.label = 0;
  out.why = fmt("chest pain reported, no ST elevation (%.0f of %.0f readable beats), no shock",
                static_cast<double>(ecg.elevated), static_cast<double>(ecg.readable));
  return out;
}

namespace {

// ---- generation --------------------------------------------------------------

struct Case {
  bool shock = false;
  bool decoy_vitals = false;  // low pressure or high lactate, not both
  Pain pain = Pain::kAbsent;
  bool st = false;
};

Case draw_case(Rng& rng) {
  const auto pick_pain = [&] { return static_cast<Pain>(rng.uniform(3)); };
  Case c;
  switch (rng.weighted({30, 15, 12, 15, 10, 8, 10})) {
    case 0:
      c.st = true, c.pain = Pain::kReported;
      break;  // urgent: ST and chest pain
    case 1:   // urgent: shock, whatever else
      c.shock = true, c.pain = pick_pain(), c.st = rng.uniform(4) == 0;
      break;
    case 2:
      c.st = true, c.pain = Pain::kDenied;
      break;  // ST, pain denied
    case 3:
      c.pain = Pain::kReported;
      break;  // pain, normal ECG
    case 4:   // half a shock
      c.decoy_vitals = true, c.pain = pick_pain(), c.st = c.pain != Pain::kReported && rng.coin();
      break;
    case 5:
      c.st = true;
      break;  // ST, no chest pain mentioned
    default:
      c.pain = rng.coin() ? Pain::kDenied : Pain::kAbsent;
      break;  // nothing
  }
  return c;
}

std::vector<double> make_vitals(Rng& rng, const Case& c) {
  const auto n = [&](double mean, double sd) { return mean + sd * rng.normal(); };
  double sbp, lactate;
  if (c.shock) {
    sbp = clamp(n(86, 7), 62, 99);
    lactate = clamp(n(3.6, 0.9), 2.2, 9);
  } else if (c.decoy_vitals && rng.coin()) {
    sbp = clamp(n(91, 5), 72, 99);
    lactate = clamp(std::abs(n(1.2, 0.4)), 0.4, 1.9);
  } else if (c.decoy_vitals) {
    sbp = clamp(n(122, 12), 104, 170);
    lactate = clamp(n(3.0, 0.6), 2.1, 6);
  } else {
    sbp = clamp(n(128, 16), 101, 200);
    lactate = clamp(std::abs(n(1.3, 0.5)), 0.4, 1.9);
  }
  const double stress = c.shock ? 1.0 : 0.0;
  const double hr = clamp(n(76, 9) + 0.45 * (125 - sbp), 50, 120);  // the ECG's rate
  return {std::round(hr),
          std::round(sbp),
          std::round(clamp(0.6 * sbp + n(6, 5), 35, 120)),
          std::round(clamp(n(16, 2.5) + 6 * stress, 8, 40)),
          std::round(clamp(n(97.5, 1.2) - 3 * stress, 80, 100)),
          std::round(clamp(n(37.0, 0.45) + (c.shock ? 0.8 : 0.0), 35, 41) * 10) / 10,
          std::round(lactate * 10) / 10,
          std::round(clamp(n(8, 2.2) + 4 * stress, 1, 30) * 10) / 10,
          std::round(clamp(n(1.0, 0.25) + 0.5 * stress, 0.3, 6) * 100) / 100,
          std::round(clamp(n(110, 25), 60, 400)),
          std::round(clamp(n(4.2, 0.4), 2.8, 6.5) * 10) / 10,
          std::round(rng.uniform(20.0, 90.0))};
}

std::vector<std::string> make_note(Rng& rng, const Case& c) {
  std::vector<std::string> words;
  const auto append = [&](const std::vector<std::string>& more) {
    words.insert(words.end(), more.begin(), more.end());
  };
  if (c.pain == Pain::kAbsent) {
    append({"pt", "reports"});
    append(rng.pick(kSymptoms));
  } else {
    append(rng.pick(c.pain == Pain::kReported ? kReported : kDenied));
    if (rng.coin()) {
      append(rng.coin() ? std::vector<std::string>{"and"} : std::vector<std::string>{"with", "mild"});
      append(rng.pick(kSymptoms));
    }
  }
  const bool has_since = std::find(words.begin(), words.end(), "since") != words.end();
  if (rng.uniform(10) < 3) {
    const auto& more = rng.pick(kHistory);
    if (!(has_since && more[0] == "since") && static_cast<int64_t>(words.size() + more.size()) <= kTriageMaxLen)
      append(more);
  }
  return words;
}

// Beats at the record's heart rate: P wave, R wave, S dip, ST segment (raised
// by 0.25-0.4 mV with `st`), T wave; baseline wander and noise.
std::vector<float> make_ecg(Rng& rng, double heart_rate, bool st) {
  const double dt = 1.0 / static_cast<double>(kTriageEcgRate);
  const double rr = 60.0 / heart_rate;
  const double wander_f = rng.uniform(0.15, 0.4), wander_phase = rng.uniform(0.0, 6.283);
  std::vector<double> signal(kTriageEcgSamples, 0.0);
  for (int64_t i = 0; i < kTriageEcgSamples; ++i) {
    const double t = static_cast<double>(i) * dt;
    signal[static_cast<size_t>(i)] = 0.05 * std::sin(6.283185307 * wander_f * t + wander_phase) + 0.02 * rng.normal();
  }
  for (double r = rng.uniform(0.0, rr) - rr; r < 3.4; r += rr) {
    const double amp = rng.uniform(0.8, 1.2), t_amp = rng.uniform(0.2, 0.35);
    const double elevation = st ? rng.uniform(0.25, 0.4) : 0.0;
    for (int64_t i = 0; i < kTriageEcgSamples; ++i) {
      const double x = static_cast<double>(i) * dt - r;
      if (x < -0.3 || x > 0.6) continue;
      signal[static_cast<size_t>(i)] +=
          0.1 * gauss(x + 0.16, 0.02) + amp * gauss(x, 0.01) - 0.2 * gauss(x - 0.03, 0.01) +
          elevation * sigmoid((x - 0.055) / 0.006) * sigmoid((0.22 - x) / 0.008) + t_amp * gauss(x - 0.30, 0.05);
    }
  }
  return {signal.begin(), signal.end()};
}

Vocabulary triage_vocabulary() {
  Vocabulary v;
  for (const auto* group : {&kSymptoms, &kReported, &kDenied, &kHistory})
    for (const auto& phrase : *group)
      for (const auto& w : phrase) v.add(w);
  for (const char* w : {"and", "with", "mild"}) v.add(w);
  return v;
}

Split make_split(uint64_t seed, const std::string& split, int64_t n, const Vocabulary& vocab) {
  Rng rng(stream_seed(seed, "triage/" + split));
  const auto features = static_cast<int64_t>(triage_features().size());
  auto vitals = torch::empty({n, features}, torch::kFloat);
  auto ecg = torch::empty({n, kTriageEcgSamples}, torch::kFloat);
  auto labels = torch::empty({n}, torch::kLong);
  Split out;
  for (int64_t i = 0; i < n; ++i) {
    const Case c = draw_case(rng);
    TriageRecord rec;
    rec.vitals = make_vitals(rng, c);
    rec.words = make_note(rng, c);
    rec.ecg = make_ecg(rng, rec.vitals[0], c.st);
    rec.vital_known.assign(rec.vitals.size(), true);
    rec.frame_known.assign(static_cast<size_t>(kTriageEcgSamples / kTriageEcgFrame), true);
    const TriageReading reading = read_triage(rec);
    if (reading.label < 0)
      throw Error("triage: generated record " + std::to_string(i) + " has no label: " + reading.why);
    for (int64_t f = 0; f < features; ++f) vitals[i][f] = rec.vitals[static_cast<size_t>(f)];
    std::memcpy(ecg[i].data_ptr<float>(), rec.ecg.data(), rec.ecg.size() * sizeof(float));
    labels[i] = reading.label;
    std::string text;
    for (const auto& w : rec.words) text += (text.empty() ? "" : " ") + w;
    out.texts.push_back(text);
    out.ids.push_back(sample_id(split, i));
  }
  out.inputs = {vitals, encode_texts(vocab, out.texts, kTriageMaxLen), ecg};
  out.labels = labels;
  return out;
}

}  // namespace

TaskData generate_triage(uint64_t seed, const SplitSizes& sizes) {
  TaskData task;
  task.task = "triage";
  task.classes = {"routine", "urgent"};
  task.vocab = triage_vocabulary();
  task.train = make_split(seed, "train", sizes.train, task.vocab);
  task.val = make_split(seed, "val", sizes.val, task.vocab);
  task.test = make_split(seed, "test", sizes.test, task.vocab);
  // A decoupled vital reads as its population mean, "nothing unusual": the
  // mean of a reference sample of records from the seed's own stream, so that
  // it does not depend on the sizes asked for (an export of 5 test samples
  // has the same fills as the model trained on 6,000).
  const auto reference = make_split(seed, "fill", kFillRecords, task.vocab).inputs[0].to(torch::kDouble).mean(0);
  std::vector<double> fills(static_cast<size_t>(reference.size(0)));
  for (size_t f = 0; f < fills.size(); ++f)
    fills[f] = std::round(reference[static_cast<int64_t>(f)].item<double>() * 100) / 100;
  task.modalities = {ModalitySpec::tabular("vitals", triage_features(), fills),
                     ModalitySpec::tokens("note", kTriageMaxLen, Vocabulary::kPadId, task.vocab.size()),
                     ModalitySpec::audio("ecg", kTriageEcgSamples, kTriageEcgRate, kTriageEcgFrame, /*fill=*/0.0)};
  return task;
}

}  // namespace data
}  // namespace muroan
