// The built-in triage task (three inputs: vitals, note, ECG): its generator,
// the rules that label it, the oracle that re-reads them on decoupled records,
// and the pipeline end to end (train, attack, report) on a tiny split.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "../src/data/triage.h"
#include "cli_run.h"
#include "muroan/decoupling.h"
#include "muroan/error.h"
#include "muroan/task.h"
#include "muroan/task_oracle.h"
#include "temp_dir.h"

namespace muroan {
namespace {

using testing_util::run_muroan;
constexpr size_t kVitals = 0, kNote = 1, kEcg = 2;
constexpr int64_t kFrames = data::kTriageEcgSamples / data::kTriageEcgFrame;

TaskOptions small(int64_t n) {
  TaskOptions o;
  o.seed = 4;
  o.train_size = n;
  o.val_size = n;
  o.test_size = n;
  o.cache_dir = "";
  return o;
}

TEST(TriageTask, ThreeKindsOfInputDeterministicInTheSeed) {
  const TaskData a = load_task("triage", small(200));
  ASSERT_EQ(a.modalities.size(), 3u);
  EXPECT_TRUE(a.modalities[kVitals].is_tabular());
  EXPECT_EQ(a.modalities[kVitals].num_features(), 12);
  EXPECT_TRUE(a.modalities[kNote].is_tokens());
  EXPECT_TRUE(a.modalities[kEcg].is_audio());
  EXPECT_EQ(a.modalities[kEcg].num_frames(), kFrames);
  EXPECT_EQ(a.classes, (std::vector<std::string>{"routine", "urgent"}));
  // A decoupled vital is set to its population mean: close to the training
  // split's, and the same whatever the split sizes.
  const auto train = a.train.inputs[kVitals].to(torch::kDouble);
  const auto mean = train.mean(0), spread = train.std(0);
  const auto& fills = a.modalities[kVitals].fills;
  for (int64_t f = 0; f < 12; ++f)
    EXPECT_LT(std::abs(fills[static_cast<size_t>(f)] - mean[f].item<double>()), 0.25 * spread[f].item<double>())
        << a.modalities[kVitals].features[static_cast<size_t>(f)];
  EXPECT_EQ(load_task("triage", small(20)).modalities[kVitals].fills, fills);
  // Realistic ranges (systolic pressure, lactate, heart rate).
  const auto v = a.test.inputs[kVitals];
  EXPECT_GE(v.select(1, 1).min().item<float>(), 60.0F);
  EXPECT_LE(v.select(1, 1).max().item<float>(), 200.0F);
  EXPECT_GE(v.select(1, 0).min().item<float>(), 50.0F);
  EXPECT_GT(v.select(1, 6).max().item<float>(), 2.0F);
  // Both classes, neither below a third.
  const double urgent = a.test.labels.to(torch::kDouble).mean().item<double>();
  EXPECT_GT(urgent, 0.3);
  EXPECT_LT(urgent, 0.6);

  const TaskData b = load_task("triage", small(200));
  for (size_t m = 0; m < 3; ++m) EXPECT_TRUE(torch::equal(a.test.inputs[m], b.test.inputs[m])) << m;
  EXPECT_EQ(a.test.texts, b.test.texts);
  TaskOptions other = small(200);
  other.seed = 5;
  EXPECT_FALSE(torch::equal(load_task("triage", other).test.inputs[kEcg], a.test.inputs[kEcg]));
}

// A hand-written record: ST elevation or not, the note's words, the vitals.
data::TriageRecord record(bool st, std::vector<std::string> words, double systolic = 125, double lactate = 1.2) {
  data::TriageRecord r;
  r.vitals = {80, systolic, 75, 16, 98, 37.0, lactate, 8, 1.0, 100, 4.2, 50};
  r.vital_known.assign(12, true);
  r.words = std::move(words);
  // Beats every 0.8 s (75 bpm) from 0.3 s: R wave 1 mV, ST segment 0.3 mV when st.
  r.ecg.assign(data::kTriageEcgSamples, 0.0F);
  for (int64_t beat = 75; beat < data::kTriageEcgSamples; beat += 200) {
    r.ecg[static_cast<size_t>(beat)] = 1.0F;
    for (int64_t i = beat + 15; st && i < std::min(beat + 55, data::kTriageEcgSamples); ++i)
      r.ecg[static_cast<size_t>(i)] = 0.3F;
  }
  r.frame_known.assign(static_cast<size_t>(kFrames), true);
  return r;
}

TEST(TriageRules, ShockOrChestPainWithStElevation) {
  EXPECT_EQ(data::read_triage(record(true, {"pt", "reports", "chest", "pain"})).label, 1);
  EXPECT_EQ(data::read_triage(record(false, {"pt", "reports", "chest", "pain"})).label, 0);
  EXPECT_EQ(data::read_triage(record(true, {"pt", "denies", "chest", "pain"})).label, 0);
  EXPECT_EQ(data::read_triage(record(true, {"pt", "reports", "no", "chest", "pain"})).label, 0);
  EXPECT_EQ(data::read_triage(record(true, {"pt", "reports", "cough"})).label, 0);
  EXPECT_EQ(data::read_triage(record(false, {"pt", "reports", "cough"}, 85, 3.5)).label, 1);  // shock
  EXPECT_EQ(data::read_triage(record(false, {"pt", "reports", "cough"}, 85, 1.5)).label, 0);  // half a shock
  // Negation reaches two words back only: "no fever and chest pain" reports the pain.
  EXPECT_EQ(data::read_triage(record(true, {"no", "fever", "and", "chest", "pain"})).label, 1);
}

TEST(TriageRules, RemovedValuesAreUnknownNotTypical) {
  // Shock without its lactate is no longer established: undefined.
  auto shock = record(false, {"pt", "reports", "cough"}, 85, 3.5);
  shock.vital_known[data::kLactate] = false;
  EXPECT_EQ(data::read_triage(shock).label, -1);
  // A normal pressure rules shock out, whatever the lactate was.
  auto normal = record(false, {"pt", "reports", "cough"}, 130, 3.5);
  normal.vital_known[data::kLactate] = false;
  EXPECT_EQ(data::read_triage(normal).label, 0);
  // ... and chest pain with ST elevation is urgent even with shock open.
  auto cardiac = record(true, {"pt", "reports", "chest", "pain"}, 85, 3.5);
  cardiac.vital_known[data::kLactate] = false;
  EXPECT_EQ(data::read_triage(cardiac).label, 1);
  // One of "chest", "pain" gone: what hurts is unsaid.
  EXPECT_EQ(data::read_triage(record(true, {"pt", "reports", "pain"})).label, -1);
  EXPECT_EQ(data::read_triage(record(true, {"pt", "reports", "chest"})).label, -1);
}

TEST(TriageRules, AnEcgNeedsTwoReadableBeats) {
  auto r = record(true, {"pt", "reports", "chest", "pain"});
  // Beats at samples 75, 275, 475, 675 (frames 3, 11, 19, 27); each needs the
  // frames from 60 ms before its R wave to 160 ms after.
  r.frame_known[11] = false;
  r.frame_known[19] = false;
  EXPECT_EQ(data::read_triage(r).label, 1) << "beats 1 and 4 still show ST elevation";
  r.frame_known[3] = false;
  const auto one = data::read_triage(r);
  EXPECT_EQ(one.label, -1) << "one readable beat is not an ECG";
  EXPECT_NE(one.why.find("readable beat"), std::string::npos) << one.why;
  // Where the ECG does not decide (no chest pain), it may be unreadable.
  r.words = {"pt", "reports", "cough"};
  EXPECT_EQ(data::read_triage(r).label, 0);
}

// The oracle re-reads every generated test sample as its label, and a set that
// removes what decides gives the verdicts of the rules.
TEST(TriageOracle, ReadsTheRecordsAsTheGeneratorLabelledThem) {
  const TaskData data = load_task("triage", small(300));
  auto oracle = make_task_oracle("triage", data.vocab);
  ASSERT_NE(oracle, nullptr);
  int64_t cardiac = 0;
  for (int64_t i = 0; i < data.test.size(); ++i) {
    const Inputs row = slice_rows(data.test.inputs, i, i + 1);
    const int64_t label = data.test.labels[i].item<int64_t>();
    auto truth = oracle->prepare(row, label);
    ASSERT_EQ(truth->judge(DecouplingSet{}, TextRemoval::kDelete).label, label) << i;
    // Age never matters.
    DecouplingSet age;
    age.add(DecouplingElement::feature(kVitals, 11));
    EXPECT_EQ(truth->judge(age, TextRemoval::kDelete).label, label) << i;
    const std::string& text = data.test.texts[static_cast<size_t>(i)];
    const bool shock = row[kVitals][0][1].item<float>() < 100 && row[kVitals][0][6].item<float>() > 2;
    if (label != 1 || shock || text.find("chest") == std::string::npos) continue;
    ++cardiac;
    // An urgent cardiac record: silencing the whole strip, or removing "chest", leaves no truth.
    DecouplingSet strip;
    for (int64_t f = 0; f < kFrames; ++f) strip.add(DecouplingElement::token(kEcg, f));
    EXPECT_FALSE(truth->judge(strip, TextRemoval::kDelete).label.has_value()) << text;
    std::istringstream in(text);
    std::string w;
    for (int64_t p = 0; in >> w; ++p) {
      if (w != "chest") continue;
      DecouplingSet chest;
      chest.add(DecouplingElement::token(kNote, p));
      const auto v = truth->judge(chest, TextRemoval::kMask);
      EXPECT_FALSE(v.label.has_value()) << text;
      EXPECT_NE(v.reason.find("'chest' removed"), std::string::npos) << v.reason;
    }
  }
  EXPECT_GT(cardiac, 30);
  // A sample with other labels is refused: the oracle and the data must agree.
  const Inputs first = slice_rows(data.test.inputs, 0, 1);
  EXPECT_THROW(oracle->prepare(first, 1 - data.test.labels[0].item<int64_t>()), Error);
}

// train -> attack (fooled criterion, judged by the oracle) -> report, on a
// tiny split; every success keeps the truth of its record.
TEST(TriageTask, TrainAttackAndReportEndToEnd) {
  testing_util::TempDir dir("muroan-triage-test");
  const std::string ck = dir.file("ck"), out = dir.file("attack");
  auto train = run_muroan({"train",        "--task", "triage",     "--fusion", "xattn",       "--epochs", "2",
                           "--train-size", "300",    "--val-size", "100",      "--test-size", "40",       "--quiet",
                           "--cache-dir",  "",       "--device",   "cpu",      "--out",       ck});
  ASSERT_EQ(train.code, 0) << train.err;
  auto attack = run_muroan({"attack", "--checkpoint", ck, "--method", "greedy", "--samples", "12", "--quiet",
                            "--device", "cpu", "--out", out});
  ASSERT_EQ(attack.code, 0) << attack.err;
  EXPECT_NE(attack.out.find("fooled ASR"), std::string::npos) << attack.out;
  std::ifstream in(out + "/results.jsonl");
  std::string line;
  int64_t records = 0;
  while (std::getline(in, line)) {
    const auto r = nlohmann::json::parse(line);
    ++records;
    if (r.at("success").get<bool>()) EXPECT_EQ(r.at("success_class"), "fooled") << line;
  }
  EXPECT_EQ(records, 12);
  auto report = run_muroan({"report", out, "--device", "cpu"});
  ASSERT_EQ(report.code, 0) << report.err;
  EXPECT_TRUE(std::filesystem::exists(out + "/report.html"));
}

}  // namespace
}  // namespace muroan
