// Measurement: JSONL records, resume, summary statistics and replay (DESIGN.md 4, 7).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "file_limit.h"
#include "muroan/error.h"
#include "muroan/measurement.h"
#include "muroan/optimality.h"
#include "tiny_models.h"

namespace muroan {
namespace {

namespace fs = std::filesystem;
using testing::Rule;
using testing::tiny_sample;
using testing::TinyModel;

constexpr int64_t kSamples = 6;
constexpr int64_t kMislabelled = 3;  // labelled 0, predicted 1: not attacked

struct Data {
  Inputs inputs;
  torch::Tensor labels;
  std::vector<std::string> ids, texts;
};

// Six samples; sample 4 lacks the key token (only the region is left to remove).
Data make_data() {
  Data d;
  std::vector<torch::Tensor> images, tokens;
  for (int64_t i = 0; i < kSamples; ++i) {
    const auto x = tiny_sample(static_cast<uint64_t>(100 + i), i != 4);
    images.push_back(x[0]);
    tokens.push_back(x[1]);
    d.ids.push_back("s" + std::to_string(i));
    d.texts.push_back("sample " + std::to_string(i));
  }
  d.inputs = {torch::cat(images), torch::cat(tokens)};
  d.labels = torch::ones({kSamples}, torch::kLong);
  d.labels[kMislabelled] = 0;
  return d;
}

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::path(MUROAN_BINARY_DIR) / "test-output" / "measurement" / name;
  fs::remove_all(dir);
  return dir;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

MeasurementOptions quiet_options(const fs::path& dir) {
  MeasurementOptions o;
  o.out_dir = dir.string();
  o.quiet = true;
  o.record_seconds = false;
  return o;
}

MeasurementResult run(const Data& d, const AttackOptions& a, const MeasurementOptions& o) {
  TinyModel model(Rule::kAnd);
  return run_measurement(model, d.inputs, d.labels, d.ids, d.texts, a, o);
}

TEST(Measurement, SkipsMisclassifiedAndSummarises) {
  const Data d = make_data();
  AttackOptions a;
  a.method = "greedy";
  const auto r = run(d, a, quiet_options(fresh_dir("summary")));
  ASSERT_EQ(r.records.size(), static_cast<size_t>(kSamples));
  EXPECT_FALSE(r.records[kMislabelled].attacked);
  EXPECT_FALSE(r.records[kMislabelled].correct);
  EXPECT_EQ(r.summary.correct, kSamples - 1);
  EXPECT_EQ(r.summary.successes, kSamples - 1);
  EXPECT_DOUBLE_EQ(r.summary.asr, 1.0);
  EXPECT_DOUBLE_EQ(r.summary.clean_accuracy, 5.0 / 6.0);
  EXPECT_EQ(r.records[4].decoupled_points, 49);  // no key token: the region alone
  EXPECT_EQ(r.records[0].decoupled_points, 50);
  ASSERT_TRUE(r.summary.rate.has_value());
  EXPECT_DOUBLE_EQ(r.summary.rate->min, 49.0 / testing::kInputPoints);
  const auto s = nlohmann::json::parse(read_file(r.summary_path));
  EXPECT_EQ(s["format"], "muroan-summary/2");
  EXPECT_EQ(s["method"], "greedy");
  EXPECT_EQ(s["found_size_curve"].size(), default_budgets().size());
  EXPECT_EQ(s["success_criterion"], "flip");  // no oracle
  EXPECT_TRUE(s["fooled_asr"].is_null());
  EXPECT_EQ(s["headline"]["metric"], "asr");
  EXPECT_TRUE(s["versions"].contains("libtorch"));
  EXPECT_FALSE(format_summary_table(r.summary).empty());
}

TEST(Measurement, JsonlLinesCarryTheDesignFields) {
  const Data d = make_data();
  AttackOptions a;
  const auto r = run(d, a, quiet_options(fresh_dir("fields")));
  std::ifstream in(r.jsonl_path);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  const auto j = nlohmann::json::parse(line);
  for (const char* key : {"id", "label", "clean_prediction", "success", "adversarial_prediction", "points",
                          "decoupling_rate", "set", "fusion_shift", "forward_passes", "backward_passes", "seconds"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["id"], "s0");
  EXPECT_EQ(j["points"]["image"], 49);
  EXPECT_EQ(j["points"]["tokens"], 1);
  EXPECT_EQ(j["set"]["text_removal"], "delete");
  EXPECT_TRUE(fs::exists(fs::path(r.jsonl_path).parent_path() / "run.json"));
}

TEST(Measurement, SameSeedGivesByteIdenticalJsonl) {
  const Data d = make_data();
  AttackOptions a;
  a.method = "random";
  a.seed = 42;
  const auto x = run(d, a, quiet_options(fresh_dir("same-seed-a")));
  const auto y = run(d, a, quiet_options(fresh_dir("same-seed-b")));
  EXPECT_EQ(read_file(x.jsonl_path), read_file(y.jsonl_path));
  EXPECT_FALSE(read_file(x.jsonl_path).empty());
  a.seed = 43;
  const auto z = run(d, a, quiet_options(fresh_dir("same-seed-c")));
  EXPECT_NE(read_file(x.jsonl_path), read_file(z.jsonl_path));
}

// With record_seconds off (--no-timing) every method writes byte-identical
// results.jsonl and summary.json for one seed.
TEST(Measurement, EveryMethodIsByteIdenticalWithoutTiming) {
  const Data d = make_data();
  for (const auto& info : attack_catalog()) {
    SCOPED_TRACE(info.name);
    AttackOptions a;
    a.method = info.name;
    const auto x = run(d, a, quiet_options(fresh_dir("no-timing-a-" + info.name)));
    const auto y = run(d, a, quiet_options(fresh_dir("no-timing-b-" + info.name)));
    EXPECT_EQ(read_file(x.jsonl_path), read_file(y.jsonl_path));
    EXPECT_EQ(read_file(x.summary_path), read_file(y.summary_path));
    EXPECT_NE(read_file(x.jsonl_path).find("\"seconds\":0.0"), std::string::npos);
    EXPECT_EQ(read_file(x.jsonl_path).find("\"seconds\":0.0"), read_file(x.jsonl_path).find("\"seconds\":"));
  }
}

// A model whose logits are NaN when every word is removed, or always.
class NanModel : public TinyModel {
 public:
  explicit NanModel(bool always) : TinyModel(Rule::kOr), always_(always) {}
  torch::Tensor logits(const Inputs& in) override {
    auto out = TinyModel::logits(in);
    const auto no_words = (in[1] != 0).sum(1) == 0;
    auto nan_rows = always_ ? torch::ones_like(no_words) : no_words;
    return torch::where(nan_rows.unsqueeze(1), torch::full_like(out, std::nan("")), out);
  }
  torch::Tensor logits_shared(const Inputs& in, const std::vector<bool>& shared, int64_t rows) override {
    return Classifier::logits_shared(in, shared, rows);
  }

 private:
  bool always_;
};

SampleRecord gap_record(const std::string& id, bool success, int64_t points, bool attacked = true) {
  SampleRecord r;
  r.id = id;
  r.attacked = attacked;
  r.success = success;
  r.decoupled_points = points;
  return r;
}

TEST(Optimality, CountsHitsAndExcessOnlyWhereTheMinimumIsKnown) {
  // exact, max_size 3: a known up to 4 points; "big" (49 points) and "none" are not known.
  const std::vector<SampleRecord> exact = {gap_record("a", true, 1),     gap_record("b", true, 4),
                                           gap_record("c", true, 2),     gap_record("big", true, 49),
                                           gap_record("none", false, 0), gap_record("skip", true, 1, false)};
  const std::vector<SampleRecord> greedy = {gap_record("b", true, 4),     // hit
                                            gap_record("a", true, 3),     // excess 2
                                            gap_record("c", false, 0),    // known, not solved
                                            gap_record("big", true, 49),  // minimum unknown
                                            gap_record("none", true, 7), gap_record("skip", true, 1)};
  const OptimalityGap g = optimality_gap(exact, greedy, 3);
  EXPECT_EQ(g.known, 3);
  EXPECT_EQ(g.solved, 2);
  EXPECT_EQ(g.hit, 1);
  EXPECT_DOUBLE_EQ(g.mean_excess, 1.0);  // (0 + 2) / 2
  // With max_size 1 only minima of at most 2 points are known: a and c.
  const OptimalityGap small = optimality_gap(exact, greedy, 1);
  EXPECT_EQ(small.known, 2);
  EXPECT_EQ(small.hit, 0);
  EXPECT_THROW(optimality_gap(exact, greedy, 0), UsageError);
}

TEST(ModelSanity, NonFiniteLogitsAreAnErrorNeverASuccess) {
  const Data d = make_data();
  AttackOptions a;
  a.method = "drop";  // removes every word: the NaN rows
  a.modalities = {"tokens"};
  NanModel words_nan(false);
  try {
    run_measurement(words_nan, d.inputs, d.labels, d.ids, d.texts, a, quiet_options(fresh_dir("nan-drop")));
    FAIL() << "NaN logits were accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("non-finite logits"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("sample 's0'"), std::string::npos) << e.what();
  }
  NanModel always_nan(true);
  a.method = "greedy";
  EXPECT_THROW(run_measurement(always_nan, d.inputs, d.labels, d.ids, d.texts, a, quiet_options(fresh_dir("nan"))),
               Error);
}

// Answers the first query of each sample one way and later ones another: a
// nondeterministic (or batch-dependent) model.
class FlakyModel : public TinyModel {
 public:
  FlakyModel() : TinyModel(Rule::kAnd) {}
  torch::Tensor logits(const Inputs& in) override {
    auto out = TinyModel::logits(in);
    // The batched clean pass has several rows, the attack's own clean query one.
    if (in[0].size(0) == 1 && ++single_ % 2 == 1) return out.flip({1});
    return out;
  }
  torch::Tensor logits_shared(const Inputs& in, const std::vector<bool>& shared, int64_t rows) override {
    return Classifier::logits_shared(in, shared, rows);
  }

 private:
  int64_t single_ = 0;
};

TEST(ModelSanity, ANondeterministicModelIsRefusedOrMeasuredWithAWarning) {
  const Data d = make_data();
  AttackOptions a;
  FlakyModel flaky;
  try {
    run_measurement(flaky, d.inputs, d.labels, d.ids, d.texts, a, quiet_options(fresh_dir("flaky")));
    FAIL() << "a nondeterministic model was measured silently";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nondeterministic"), std::string::npos) << e.what();
  }
  auto o = quiet_options(fresh_dir("flaky-allowed"));
  o.allow_nondeterministic = true;
  FlakyModel flaky2;
  const auto r = run_measurement(flaky2, d.inputs, d.labels, d.ids, d.texts, a, o);
  int64_t left = 0;
  for (const auto& rec : r.records) {
    EXPECT_FALSE(rec.success && !rec.correct);
    left += rec.note == kNondeterministicNote ? 1 : 0;
  }
  EXPECT_GT(left, 0);
  EXPECT_LE(r.summary.asr, 1.0);
  EXPECT_TRUE(std::any_of(r.summary.warnings.begin(), r.summary.warnings.end(),
                          [](const std::string& w) { return w.find("nondeterministic") != std::string::npos; }));
}

TEST(Summary, RefusesRecordsThatContradictThemselves) {
  SampleRecord r;
  r.id = "x";
  r.attacked = true;
  r.correct = false;  // attacked although misclassified
  r.success = r.flipped = true;
  EXPECT_THROW(summarize({r}, "m", AttackOptions{}), Error);
  r.correct = true;
  r.flipped = false;  // a success without a decision change
  EXPECT_THROW(summarize({r}, "m", AttackOptions{}), Error);
  r.attacked = false;
  r.flipped = true;
  EXPECT_THROW(summarize({r}, "m", AttackOptions{}), Error);
}

TEST(Summary, WilsonIntervalsAndTheNearChanceWarning) {
  const Interval all = wilson_interval(10, 10);
  EXPECT_NEAR(all.low, 0.7225, 1e-3);  // 10/10: [0.722, 1]
  EXPECT_DOUBLE_EQ(all.high, 1.0);
  const Interval half = wilson_interval(50, 100);
  EXPECT_NEAR(half.low, 0.4038, 1e-3);
  EXPECT_NEAR(half.high, 0.5962, 1e-3);
  EXPECT_EQ(wilson_interval(0, 0).low, 0.0);
  EXPECT_EQ(wilson_interval(0, 0).high, 1.0);
  // Ten samples of label 1, five predicted correctly: accuracy 0.5 against a
  // majority share of 1.0 is not near chance; with labels half 0 it is.
  std::vector<SampleRecord> records(10);
  for (size_t i = 0; i < records.size(); ++i) {
    records[i].id = std::to_string(i);
    records[i].label = static_cast<int64_t>(i % 2);
    records[i].correct = i < 5;
  }
  const auto s = summarize(records, "m", AttackOptions{});
  EXPECT_DOUBLE_EQ(s.majority_share, 0.5);
  ASSERT_FALSE(s.warnings.empty());
  EXPECT_NE(s.warnings[0].find("majority class share"), std::string::npos) << s.warnings[0];
}

TEST(Measurement, AttackLabelsRestrictTheAttackedSamples) {
  const Data d = make_data();
  auto o = quiet_options(fresh_dir("attack-labels"));
  o.attack_labels = {0};  // every correctly classified sample has label 1
  const auto r = run(d, AttackOptions{}, o);
  EXPECT_EQ(r.summary.attacked, 0);
  EXPECT_EQ(r.summary.correct, kSamples - 1);
}

// The disk is full when a run resumes: run.json is not replaced by an empty
// file, no finished record is lost, and the next run resumes them.
TEST(Measurement, AFullDiskWhileResumingLosesNoFinishedRecord) {
  const Data d = make_data();
  const AttackOptions a;
  const auto whole = run(d, a, quiet_options(fresh_dir("disk-whole")));
  const fs::path dir = fresh_dir("disk-full");
  auto o = quiet_options(dir);
  o.limit = 3;
  run(d, a, o);
  const std::string run_json = read_file(dir / "run.json");
  const std::string records = read_file(dir / "results.jsonl");
  o.limit = 0;
  {
    testing_util::FileSizeLimit full(16);
    EXPECT_THROW(run(d, a, o), InputError);
  }
  EXPECT_EQ(read_file(dir / "run.json"), run_json);
  EXPECT_EQ(read_file(dir / "results.jsonl"), records);
  EXPECT_FALSE(fs::exists(dir / "run.json.tmp"));
  const auto r = run(d, a, o);
  EXPECT_EQ(r.resumed, 3);
  EXPECT_EQ(read_file(r.jsonl_path), read_file(whole.jsonl_path));
}

// A run killed between its first two writes leaves either run.json alone (the
// order written now) or an empty results.jsonl alone (the order of earlier
// versions): both start afresh. Records without their run.json are refused:
// nothing tells whose they are.
TEST(Measurement, AKillBetweenTheFirstTwoWritesStartsAfresh) {
  const Data d = make_data();
  const AttackOptions a;
  const auto whole = run(d, a, quiet_options(fresh_dir("first-writes-whole")));

  const fs::path only_run = fresh_dir("only-run-json");
  fs::create_directories(only_run);
  fs::copy_file(fs::path(whole.jsonl_path).parent_path() / "run.json", only_run / "run.json");
  const auto from_run = run(d, a, quiet_options(only_run));
  EXPECT_EQ(from_run.resumed, 0);
  EXPECT_EQ(read_file(from_run.jsonl_path), read_file(whole.jsonl_path));

  const fs::path only_results = fresh_dir("only-empty-results");
  fs::create_directories(only_results);
  { std::ofstream(only_results / "results.jsonl", std::ios::binary); }
  const auto from_empty = run(d, a, quiet_options(only_results));
  EXPECT_EQ(from_empty.resumed, 0);
  EXPECT_EQ(read_file(from_empty.jsonl_path), read_file(whole.jsonl_path));
  EXPECT_EQ(read_file(only_results / "run.json"), read_file(fs::path(whole.jsonl_path).parent_path() / "run.json"));

  const fs::path orphans = fresh_dir("records-without-run");
  fs::create_directories(orphans);
  fs::copy_file(whole.jsonl_path, orphans / "results.jsonl");
  EXPECT_THROW(run(d, a, quiet_options(orphans)), UsageError);
  EXPECT_EQ(read_file(orphans / "results.jsonl"), read_file(whole.jsonl_path));
}

TEST(Measurement, ResumeAfterATruncatedLineGivesTheSameFile) {
  const Data d = make_data();
  AttackOptions a;
  a.method = "random";
  const auto full = run(d, a, quiet_options(fresh_dir("resume-full")));
  const std::string expected = read_file(full.jsonl_path);

  const fs::path dir = fresh_dir("resume-cut");
  const auto first = run(d, a, quiet_options(dir));
  // Keep three lines and half of the fourth: a run killed while writing.
  const std::string text = read_file(first.jsonl_path);
  size_t cut = 0;
  for (int k = 0; k < 3; ++k) cut = text.find('\n', cut) + 1;
  const size_t fourth_end = text.find('\n', cut);
  {
    std::ofstream out(first.jsonl_path, std::ios::binary | std::ios::trunc);
    out << text.substr(0, cut + (fourth_end - cut) / 2);
  }
  const auto resumed = run(d, a, quiet_options(dir));
  EXPECT_EQ(resumed.resumed, 3);
  EXPECT_EQ(read_file(resumed.jsonl_path), expected);
  EXPECT_EQ(read_file(resumed.summary_path), read_file(full.summary_path));
}

TEST(Measurement, ResumeExtendsALimitedRun) {
  const Data d = make_data();
  AttackOptions a;
  const auto full = run(d, a, quiet_options(fresh_dir("extend-full")));
  const fs::path dir = fresh_dir("extend");
  auto o = quiet_options(dir);
  o.limit = 2;
  EXPECT_EQ(run(d, a, o).records.size(), 2u);
  o.limit = 0;
  const auto rest = run(d, a, o);
  EXPECT_EQ(rest.resumed, 2);
  EXPECT_EQ(read_file(rest.jsonl_path), read_file(full.jsonl_path));
}

TEST(Measurement, ResumeRefusesResultsOfOtherOptions) {
  const Data d = make_data();
  AttackOptions a;
  const fs::path dir = fresh_dir("other-options");
  run(d, a, quiet_options(dir));
  a.budget = 0.5;
  EXPECT_THROW(run(d, a, quiet_options(dir)), UsageError);
  auto o = quiet_options(dir);
  o.resume = false;  // start over
  EXPECT_EQ(run(d, a, o).resumed, 0);
}

// A folder written before an option existed (its run.json lacks the option)
// resumes when the option is at its default, the earlier behaviour; set to
// anything else, it is refused like any other change.
TEST(Measurement, ResumeReadsAnOptionAddedSinceAsItsDefault) {
  const Data d = make_data();
  AttackOptions a;
  a.method = "greedy";
  const fs::path dir = fresh_dir("older-options");
  auto o = quiet_options(dir);
  o.limit = 2;
  run(d, a, o);
  auto j = nlohmann::ordered_json::parse(read_file(dir / "run.json"));
  ASSERT_TRUE(j["options"].contains("refine"));
  j["options"].erase("refine");
  {
    std::ofstream out(dir / "run.json", std::ios::binary | std::ios::trunc);
    out << j.dump(2);
  }
  o.limit = 0;
  EXPECT_EQ(run(d, a, o).resumed, 2);
  a.refine = true;
  EXPECT_THROW(run(d, a, quiet_options(dir)), UsageError);
}

// The one resume rule, asked by a caller that prefers starting over (analyze):
// results of other options, more records than samples now, or an unreadable
// file are started over, never resumed, never refused.
TEST(Measurement, RestartOnMismatchStartsOverWhatCannotBeResumed) {
  const Data d = make_data();
  AttackOptions a;
  const fs::path dir = fresh_dir("restart");
  auto o = quiet_options(dir);
  const std::string first = read_file(run(d, a, o).jsonl_path);
  o.restart_on_mismatch = true;
  TinyModel model(Rule::kAnd);
  EXPECT_EQ(run(d, a, o).resumed, kSamples);  // the same run: resumed
  a.budget = 0.5;
  EXPECT_NE(resume_mismatch(model, d.inputs, d.labels, d.ids, a, o).find("options.budget"), std::string::npos);
  EXPECT_EQ(run(d, a, o).resumed, 0);  // other options: started over
  a.budget = 1.0;
  EXPECT_EQ(read_file(run(d, a, o).jsonl_path), first);  // and back
  auto fewer = o;
  fewer.limit = 2;
  EXPECT_EQ(resume_mismatch(model, d.inputs, d.labels, d.ids, a, fewer),
            std::to_string(kSamples) + " records for 2 samples to attack");
  EXPECT_EQ(run(d, a, fewer).resumed, 0);
  fewer.restart_on_mismatch = false;
  std::ofstream(dir / "results.jsonl", std::ios::app) << "{\"not\": a record}\n{}\n";
  EXPECT_THROW(run(d, a, fewer), Error);  // refused when the caller insists on resuming
  fewer.restart_on_mismatch = true;
  EXPECT_EQ(run(d, a, fewer).resumed, 0);  // an unreadable file: started over
}

// Resume checks the model file's and the data's fingerprints, and says what changed.
TEST(Measurement, ResumeRefusesAnotherModelFileOrOtherData) {
  Data d = make_data();
  const AttackOptions a;
  const fs::path dir = fresh_dir("fingerprints");
  auto o = quiet_options(dir);
  o.model_fingerprint = "0123456789abcdef";
  run(d, a, o);
  TinyModel model(Rule::kAnd);
  EXPECT_EQ(resume_mismatch(model, d.inputs, d.labels, d.ids, a, o), "");
  auto expect_refused = [&](const Data& data, const MeasurementOptions& opts, const std::string& why) {
    EXPECT_EQ(resume_mismatch(model, data.inputs, data.labels, data.ids, a, opts), why);
    try {
      run(data, a, opts);
      FAIL() << "resumed: " << why;
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  };
  auto other_model = o;
  other_model.model_fingerprint = "fedcba9876543210";
  expect_refused(d, other_model, "the model file changed");
  Data relabelled = d;
  relabelled.labels = d.labels.clone();
  relabelled.labels[0] = 0;
  expect_refused(relabelled, o, "the samples or labels changed");
  EXPECT_EQ(run(d, a, o).resumed, kSamples);  // unchanged: everything resumed
}

TEST(Measurement, ShardsMergeIntoTheFullSummary) {
  const Data d = make_data();
  AttackOptions a;
  const auto full = run(d, a, quiet_options(fresh_dir("shards-full")));
  const fs::path dir = fresh_dir("shards");
  std::vector<SampleRecord> merged;
  for (int64_t shard = 0; shard < 2; ++shard) {
    auto o = quiet_options(dir);
    o.shard_index = shard;
    o.shard_count = 2;
    const auto r = run(d, a, o);
    EXPECT_NE(r.jsonl_path.find(".shard-" + std::to_string(shard) + "-of-2"), std::string::npos);
    const auto records = read_records(r.jsonl_path);
    merged.insert(merged.end(), records.begin(), records.end());
  }
  std::sort(merged.begin(), merged.end(),
            [](const SampleRecord& x, const SampleRecord& y) { return x.index < y.index; });
  EXPECT_EQ(summary_to_json(summarize(merged, "tiny", a)).dump(), summary_to_json(full.summary).dump());
}

TEST(Measurement, RecordsReplayToTheRecordedDecision) {
  const Data d = make_data();
  TinyModel model(Rule::kAnd);
  for (const std::string method : {"greedy", "saliency", "random", "reference", "drop"}) {
    AttackOptions a;
    a.method = method;
    a.text_removal = method == "saliency" ? TextRemoval::kMask : TextRemoval::kDelete;
    const auto r = run(d, a, quiet_options(fresh_dir("replay-" + method)));
    const auto records = read_records(r.jsonl_path);
    ASSERT_EQ(records.size(), static_cast<size_t>(kSamples));
    for (const auto& rec : records) {
      if (!rec.attacked) {
        EXPECT_THROW(replay(model, slice_rows(d.inputs, rec.index, rec.index + 1), rec), UsageError);
        continue;
      }
      const auto rep = replay(model, slice_rows(d.inputs, rec.index, rec.index + 1), rec);
      EXPECT_TRUE(rep.matches) << method << " " << rec.id;
      EXPECT_EQ(rep.prediction == rec.clean_prediction, !rec.success) << method << " " << rec.id;
    }
  }
}

TEST(Measurement, PgdRecordsHaveNoSet) {
  const Data d = make_data();
  TinyModel model(Rule::kAnd);
  AttackOptions a;
  a.method = "pgd";
  a.steps = 2;
  const auto r = run(d, a, quiet_options(fresh_dir("pgd")));
  EXPECT_FALSE(r.summary.decoupling);
  EXPECT_FALSE(r.summary.rate.has_value());
  const auto records = read_records(r.jsonl_path);
  EXPECT_FALSE(records[0].decoupling);
  EXPECT_FALSE(records[0].decoupling_rate.has_value());
  EXPECT_THROW(replay(model, slice_rows(d.inputs, 0, 1), records[0]), UsageError);
}

TEST(Measurement, ReadRecordsDropsOnlyATruncatedTail) {
  const Data d = make_data();
  AttackOptions a;
  const fs::path dir = fresh_dir("read");
  const auto r = run(d, a, quiet_options(dir));
  const std::string text = read_file(r.jsonl_path);
  const fs::path cut = dir / "cut.jsonl";
  {
    std::ofstream out(cut, std::ios::binary);
    out << text.substr(0, text.size() - 10);
  }
  EXPECT_EQ(read_records(cut.string()).size(), static_cast<size_t>(kSamples - 1));
  EXPECT_THROW(read_records(cut.string(), false), InputError);
  const fs::path bad = dir / "bad.jsonl";
  {
    std::ofstream out(bad, std::ios::binary);
    out << "{not json}\n" << text;
  }
  try {
    read_records(bad.string());
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.jsonl:1"), std::string::npos) << e.what();
  }
}

TEST(Measurement, RejectsBadArguments) {
  const Data d = make_data();
  TinyModel model(Rule::kAnd);
  AttackOptions a;
  MeasurementOptions o;
  o.quiet = true;
  EXPECT_THROW(run_measurement(model, d.inputs, torch::ones({2}, torch::kLong), {}, {}, a, o), UsageError);
  EXPECT_THROW(run_measurement(model, d.inputs, d.labels, {"a"}, {}, a, o), UsageError);
  o.shard_index = 2;
  o.shard_count = 2;
  EXPECT_THROW(run_measurement(model, d.inputs, d.labels, {}, {}, a, o), UsageError);
}

// ---- summary statistics on hand-made records ----

SampleRecord record(bool correct, bool success, double rate, int64_t image_points, int64_t token_points) {
  SampleRecord r;
  r.correct = correct;
  r.attacked = correct;
  r.success = success;
  r.flipped = success;
  r.modality_names = {"image", "tokens"};
  r.modality_kinds = {ModalityKind::kImage, ModalityKind::kTokens};
  r.points = {image_points, token_points};
  r.input_points = {1000, 10};
  if (correct) r.decoupling_rate = rate;
  r.fusion_shift = success ? 0.5 : 0.1;
  r.forward_passes = 100;
  r.backward_passes = 0;
  r.seconds = 2.0;
  return r;
}

TEST(Summary, StatisticsOfHandMadeRecords) {
  const std::vector<SampleRecord> records{
      record(true, true, 0.01, 9, 1),   //
      record(true, true, 0.04, 30, 0),  //
      record(true, false, 0.30, 0, 0),  //
      record(false, false, 0.0, 0, 0),  // misclassified: not attacked
      record(true, true, 0.02, 20, 0),
  };
  AttackOptions a;
  const auto s = summarize(records, "m", a);
  EXPECT_EQ(s.samples, 5);
  EXPECT_EQ(s.correct, 4);
  EXPECT_EQ(s.attacked, 4);
  EXPECT_EQ(s.successes, 3);
  EXPECT_DOUBLE_EQ(s.clean_accuracy, 0.8);
  EXPECT_DOUBLE_EQ(s.asr, 0.75);
  ASSERT_TRUE(s.rate.has_value());
  EXPECT_EQ(s.rate->count, 3);
  EXPECT_NEAR(s.rate->mean, 0.07 / 3, 1e-12);
  EXPECT_DOUBLE_EQ(s.rate->median, 0.02);
  EXPECT_NEAR(s.rate->p90, 0.02 + 0.8 * 0.02, 1e-12);  // position 0.9 * 2 = 1.8
  EXPECT_DOUBLE_EQ(s.rate->min, 0.01);
  EXPECT_DOUBLE_EQ(s.rate->max, 0.04);
  ASSERT_EQ(s.found_size_curve.size(), default_budgets().size());
  EXPECT_DOUBLE_EQ(s.found_size_curve[0].share, 0.0);   // 0.5%
  EXPECT_DOUBLE_EQ(s.found_size_curve[1].share, 0.25);  // 1%
  EXPECT_DOUBLE_EQ(s.found_size_curve[2].share, 0.5);   // 2%
  EXPECT_DOUBLE_EQ(s.found_size_curve[3].share, 0.75);  // 5%
  EXPECT_DOUBLE_EQ(s.found_size_curve.back().share, 0.75);
  // The mean over successes of each one's share: (9/10 + 1 + 1) / 3 and (1/10) / 3.
  EXPECT_DOUBLE_EQ(s.points_share.at("image"), (0.9 + 1.0 + 1.0) / 3.0);
  EXPECT_DOUBLE_EQ(s.points_share.at("tokens"), 0.1 / 3.0);
  EXPECT_DOUBLE_EQ(*s.fusion_shift_mean, 0.5);
  EXPECT_DOUBLE_EQ(s.queries_per_sample, 100.0);
  EXPECT_DOUBLE_EQ(s.seconds_per_sample, 2.0);

  const auto j = summary_to_json(s);
  EXPECT_EQ(j["format"], kSummaryFormat);
  EXPECT_DOUBLE_EQ(j["decoupling_rate"]["median"].get<double>(), 0.02);
  EXPECT_EQ(j["seed"], a.seed);
}

TEST(Summary, RecordJsonRoundTrip) {
  auto r = record(true, true, 0.01, 9, 1);
  r.id = "x";
  r.set.add(DecouplingElement::pixels(0, {0, 0, 3, 3}));
  r.set.add(DecouplingElement::token(1, 4));
  r.text_removal = TextRemoval::kMask;
  const auto back = record_from_json(nlohmann::json::parse(record_to_json(r).dump()));
  EXPECT_EQ(record_to_json(back).dump(), record_to_json(r).dump());
  EXPECT_EQ(back.set.elements, r.set.elements);
  EXPECT_EQ(back.text_removal, TextRemoval::kMask);
  EXPECT_THROW(record_from_json(nlohmann::json::parse(R"({"id": 3})")), Error);
}

}  // namespace
}  // namespace muroan
