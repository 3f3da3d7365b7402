// The tabular modality kind (contract 2, DESIGN.md section 5.2): a float vector
// of named features, each a point decoupled to its own fill value. Checked on
// a three-input TorchScript model (image + tokens + vitals, three.pt of
// tests/data/make_fixtures.py) whose decision is known: "urgent" exactly when
// lactate (vitals[2]) exceeds 2, with image and tokens nudging the margin by at
// most 0.5; so the smallest decoupling set of a sample with lactate 3 is that
// one feature, decoupled to its fill 1.0.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli_run.h"
#include "muroan/attack.h"
#include "muroan/decoupling.h"
#include "muroan/error.h"
#include "muroan/measurement.h"
#include "muroan/png_image.h"
#include "muroan/point_masks.h"
#include "muroan/sample_data.h"
#include "muroan/torchscript_model.h"
#include "muroan/torchscript_oracle.h"
#include "temp_dir.h"

namespace muroan {
namespace {

namespace fs = std::filesystem;
using testing_util::expect_one_line_error;
using testing_util::run_muroan;

const std::string kThreeModel = std::string(MUROAN_SOURCE_DIR) + "/tests/data/three.pt";
// Its truth module: 1 when lactate > 2, else 0; -1 once token 7 leaves the note.
const std::string kThreeTruth = std::string(MUROAN_SOURCE_DIR) + "/tests/data/three_truth.pt";

class TempDir : public testing_util::TempDir {
 public:
  TempDir() : testing_util::TempDir("muroan-tabular-test") {}
};

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

nlohmann::json three_manifest() {
  auto m = nlohmann::json::parse(R"({
    "contract": 2,
    "inputs": [
      {"name": "image", "kind": "image", "shape": [1, 8, 8]},
      {"name": "note", "kind": "tokens", "max_len": 6, "pad_id": 0},
      {"name": "vitals", "kind": "tabular", "features": ["hr", "sbp", "lactate", "spo2"], "fill": [80, 120, 1.0, 97]}
    ],
    "classes": ["routine", "urgent"],
    "fusion_method": "fusion"
  })");
  m["model"] = kThreeModel;
  return m;
}

ModalitySpec vitals_spec() {
  return ModalitySpec::tabular("vitals", {"hr", "sbp", "lactate", "spo2"}, {80, 120, 1, 97});
}

std::vector<ModalitySpec> three_specs() {
  return {ModalitySpec::image("image", 1, 8, 8), ModalitySpec::tokens("note", 6, 0, 0), vitals_spec()};
}

// One sample: a grey image, tokens {4, 7, 9} and the given vitals.
Inputs three_sample(std::vector<float> vitals) {
  return {torch::full({1, 1, 8, 8}, 0.4f), torch::tensor({{4, 7, 9, 0, 0, 0}}, torch::kLong),
          torch::tensor(vitals, torch::kFloat).view({1, 4})};
}

// samples.jsonl with n samples (8x8 PNGs): even ones urgent (lactate 3.0),
// odd ones routine (lactate 1.2); labels are the model's answers.
void write_samples(const TempDir& dir, int n) {
  fs::create_directories(dir.path() / "img");
  std::string lines;
  for (int i = 0; i < n; ++i) {
    const std::string png = "img/" + std::to_string(i) + ".png";
    write_png(dir.file(png), torch::full({1, 8, 8}, 0.1f * static_cast<float>(i % 10)));
    const bool urgent = i % 2 == 0;
    nlohmann::json s = {{"id", i},
                        {"image", png},
                        {"note", {3 + i % 5, 7, 9}},
                        {"vitals", {70 + i, 110, urgent ? 3.0 : 1.2, 96}},
                        {"label", urgent ? 1 : 0}};
    lines += s.dump() + "\n";
  }
  write_text(dir.file("samples.jsonl"), lines);
}

TEST(Tabular, ManifestNeedsContractTwoAndOneFillPerFeature) {
  TempDir dir;
  write_text(dir.file("m.json"), three_manifest().dump());
  auto model = load_torchscript_model(dir.file("m.json"), torch::kCPU);
  const auto& vitals = model->modalities().at(2);
  ASSERT_TRUE(vitals.is_tabular());
  EXPECT_EQ(vitals.num_features(), 4);
  EXPECT_EQ(vitals.max_points(), 4);
  EXPECT_EQ(vitals.fills, (std::vector<double>{80, 120, 1.0, 97}));
  EXPECT_EQ(model->fusion_dim(), 3);

  auto no_contract = three_manifest();
  no_contract.erase("contract");
  write_text(dir.file("v1.json"), no_contract.dump());
  expect_one_line_error(run_muroan({"info", "--manifest", dir.file("v1.json"), "--device", "cpu"}),
                        "inputs[2]: field 'kind': a tabular input needs contract version 2");
  auto future = three_manifest();
  future["contract"] = 3;
  write_text(dir.file("v3.json"), future.dump());
  expect_one_line_error(run_muroan({"info", "--manifest", dir.file("v3.json"), "--device", "cpu"}),
                        "field 'contract': MUROAN reads contract versions 1 and 2");
  auto short_fill = three_manifest();
  short_fill["inputs"][2]["fill"] = {80, 120};
  write_text(dir.file("fill.json"), short_fill.dump());
  expect_one_line_error(run_muroan({"info", "--manifest", dir.file("fill.json"), "--device", "cpu"}),
                        "inputs[2]: fill: 2 values for 4 features");
  auto twice = three_manifest();
  twice["inputs"][2]["features"] = {"hr", "sbp", "hr", "spo2"};
  write_text(dir.file("twice.json"), twice.dump());
  expect_one_line_error(run_muroan({"info", "--manifest", dir.file("twice.json"), "--device", "cpu"}),
                        "features[2]: 'hr' named twice");
  auto one_fill = three_manifest();
  one_fill["inputs"][2]["fill"] = 0.5;  // one number: every feature's fill
  write_text(dir.file("one.json"), one_fill.dump());
  EXPECT_EQ(load_manifest(dir.file("one.json")).inputs.at(2).fills, (std::vector<double>{0.5, 0.5, 0.5, 0.5}));
}

TEST(Tabular, SamplesAreListsOfFeatureValuesAndBadOnesNameTheFeature) {
  TempDir dir;
  write_samples(dir, 4);
  const auto specs = three_specs();
  const SampleData data = load_samples(dir.file("samples.jsonl"), specs, {"routine", "urgent"});
  ASSERT_EQ(data.inputs.size(), 3u);
  EXPECT_EQ(data.inputs[2].sizes(), torch::IntArrayRef({4, 4}));
  EXPECT_EQ(data.inputs[2].scalar_type(), torch::kFloat);
  EXPECT_FLOAT_EQ(data.inputs[2][1][0].item<float>(), 71.0f);
  EXPECT_FLOAT_EQ(data.inputs[2][0][2].item<float>(), 3.0f);

  // save_samples writes the lists back; they read the same.
  save_samples(data, specs, dir.file("copy"));
  const SampleData again = load_samples(dir.file("copy/samples.jsonl"), specs, {"routine", "urgent"});
  EXPECT_TRUE(torch::equal(again.inputs[2], data.inputs[2]));

  write_text(dir.file("short.jsonl"), R"({"id": 1, "image": "img/0.png", "note": [4], "vitals": [1, 2], "label": 0})");
  try {
    load_samples(dir.file("short.jsonl"), specs, {"routine", "urgent"});
    ADD_FAILURE() << "two values for four features were accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("short.jsonl:1: field 'vitals': expected a list of 4 numbers (hr, sbp, "
                                         "lactate, spo2), got 2 values"),
              std::string::npos)
        << e.what();
  }
  write_text(dir.file("text.jsonl"),
             R"({"id": 1, "image": "img/0.png", "note": [4], "vitals": [1, 2, "high", 4], "label": 0})");
  try {
    load_samples(dir.file("text.jsonl"), specs, {"routine", "urgent"});
    ADD_FAILURE() << "a string feature value was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("feature 'lactate' (element 2) is a string, expected a finite number"),
              std::string::npos)
        << e.what();
  }
}

// Points, x_S and the union count across three modalities of different kinds.
TEST(Tabular, FeaturesArePointsDecoupledToTheirFill) {
  const auto specs = three_specs();
  const Inputs x = three_sample({90, 130, 3.0f, 95});
  InputSpace space(specs, x);
  EXPECT_EQ(space.points(), (std::vector<int64_t>{64, 3, 4}));
  EXPECT_EQ(space.total_points(), 71);

  DecouplingSet s;
  s.add(DecouplingElement::pixels(0, {0, 0, 2, 2}));
  s.add(DecouplingElement::pixels(0, {1, 1, 2, 2}));  // overlaps the first in one pixel
  s.add(DecouplingElement::token(1, 1));
  s.add(DecouplingElement::feature(2, 2));
  s.add(DecouplingElement::feature(2, 2));  // twice: one point
  s.add(DecouplingElement::feature(2, 0));
  const PointCount c = space.count(s);
  EXPECT_EQ(c.decoupled, (std::vector<int64_t>{7, 1, 2}));
  EXPECT_DOUBLE_EQ(c.rate(), 10.0 / 71.0);

  const Inputs xs = space.apply({s}, TextRemoval::kDelete);
  EXPECT_TRUE(torch::equal(xs[2], torch::tensor({{80.0f, 130.0f, 1.0f, 95.0f}})));
  EXPECT_TRUE(torch::equal(xs[1], torch::tensor({{4, 9, 0, 0, 0, 0}}, torch::kLong)));
  EXPECT_EQ(xs[0][0][0][0][0].item<float>(), 0.0f);
  EXPECT_EQ(xs[0][0][0][3][3].item<float>(), 0.4f);

  // The same x_S from batched point masks (training, certification).
  PointMasks masks{torch::zeros({1, 8, 8}, torch::kBool), torch::zeros({1, 6}, torch::kBool),
                   torch::tensor({{true, false, true, false}})};
  masks[0].slice(1, 0, 2).slice(2, 0, 2).fill_(true);
  masks[0].slice(1, 1, 3).slice(2, 1, 3).fill_(true);
  masks[1][0][1] = true;
  const Inputs xm = apply_point_masks(x, specs, masks, TextRemoval::kDelete);
  for (size_t m = 0; m < 3; ++m) EXPECT_TRUE(torch::equal(xm[m], xs[m])) << m;
  EXPECT_EQ(count_points(x, specs)[2].item<int64_t>(), 4);

  // Random keep masks keep exactly k features per row.
  auto gen = at::detail::createCPUGenerator(5);
  const Inputs batch = {x[0].repeat({6, 1, 1, 1}), x[1].repeat({6, 1}), x[2].repeat({6, 1})};
  const PointMasks keep = random_keep_masks(batch, specs, {kKeepAll, kKeepAll, 1}, gen);
  EXPECT_FALSE(keep[0].defined());
  EXPECT_TRUE(torch::equal(keep[2].sum(1), torch::full({6}, 3, torch::kLong)));

  // A feature index outside the row is refused, naming it.
  DecouplingSet bad;
  bad.add(DecouplingElement::feature(2, 4));
  EXPECT_THROW(space.apply({bad}, TextRemoval::kDelete), Error);
}

// Every method attacks the three-input model; the searches that try single
// features find the one decisive feature, and nothing else.
TEST(Tabular, AttacksFindTheDecisiveFeatureOfAThreeInputModel) {
  TempDir dir;
  write_text(dir.file("m.json"), three_manifest().dump());
  auto model = load_torchscript_model(dir.file("m.json"), torch::kCPU);
  const Inputs x = three_sample({90, 130, 3.0f, 95});
  ASSERT_EQ(model->logits(x).argmax(1).item<int64_t>(), 1);
  for (const auto& method : attack_catalog()) {
    SCOPED_TRACE(method.name);
    AttackOptions options;
    options.method = method.name;
    options.patch = 2;
    AttackResult r;
    ASSERT_NO_THROW(r = make_attack(options)->attack(*model, x));
    if (!r.decoupling) continue;  // pgd perturbs the image only, which cannot flip this model
    if (method.name == "drop") {
      EXPECT_TRUE(r.success);  // dropping the vitals does it
      continue;
    }
    if (!r.success) continue;  // a random search may miss
    EXPECT_EQ(r.adversarial_prediction, 0);
    // Only lactate decides: every successful set holds it (a random search may
    // hold other features beside it).
    EXPECT_NE(std::find(r.set.elements.begin(), r.set.elements.end(), DecouplingElement::feature(2, 2)),
              r.set.elements.end());
    if (method.name == "greedy" || method.name == "saliency" || method.name == "exact" || method.name == "reference") {
      ASSERT_EQ(r.set.size(), 1u);
      EXPECT_EQ(r.set.elements[0], DecouplingElement::feature(2, 2));
      EXPECT_EQ(r.points.decoupled, (std::vector<int64_t>{0, 0, 1}));
    }
  }
  // --modalities image,note: the vitals are out of reach, and no set flips the model.
  AttackOptions no_vitals;
  no_vitals.modalities = {"image", "note"};
  no_vitals.patch = 2;
  EXPECT_FALSE(make_attack(no_vitals)->attack(*model, x).success);
}

// End to end through the command line: info describes the tabular input, the
// attack's records replay, and the gallery shows the feature struck through.
TEST(Tabular, CommandLineAttackReplayAndReport) {
  TempDir dir;
  write_text(dir.file("m.json"), three_manifest().dump());
  write_samples(dir, 6);
  auto info =
      run_muroan({"info", "--manifest", dir.file("m.json"), "--data", dir.file("samples.jsonl"), "--device", "cpu"});
  ASSERT_EQ(info.code, 0) << info.err;
  EXPECT_NE(info.out.find("3. vitals: tabular, 4 features (hr fill 80, sbp fill 120, lactate fill 1, spo2 fill 97); 4 "
                          "points"),
            std::string::npos)
      << info.out;
  EXPECT_NE(info.out.find("accuracy: 1.0000 (6 of 6)"), std::string::npos) << info.out;

  const std::string out = dir.file("run");
  auto attack = run_muroan({"attack", "--manifest", dir.file("m.json"), "--method", "greedy", "--patch", "2",
                            "--attack-labels", "urgent", "--samples", "0", "--device", "cpu", "--quiet", "--out", out});
  ASSERT_EQ(attack.code, 0) << attack.err;
  const auto records = read_records(out + "/results.jsonl");
  int attacked = 0;
  for (const auto& r : records) {
    if (!r.attacked) continue;
    ++attacked;
    EXPECT_TRUE(r.success) << r.id;
    EXPECT_EQ(r.decoupled_points, 1) << r.id;
    EXPECT_EQ(r.total_points, 71) << r.id;
  }
  EXPECT_EQ(attacked, 3);
  auto replay =
      run_muroan({"replay", "--manifest", dir.file("m.json"), "--results", out + "/results.jsonl", "--device", "cpu"});
  ASSERT_EQ(replay.code, 0) << replay.err << replay.out;
  EXPECT_NE(replay.out.find("replayed 3, confirmed 3"), std::string::npos) << replay.out;

  auto report = run_muroan({"report", out, "--manifest", dir.file("m.json"), "--device", "cpu"});
  ASSERT_EQ(report.code, 0) << report.err;
  std::ifstream gallery_in(out + "/gallery.json");
  const auto gallery = nlohmann::json::parse(gallery_in);
  ASSERT_FALSE(gallery["items"].empty());
  const auto& table = gallery["items"][0]["tables"][0];
  EXPECT_EQ(table["modality"], "vitals");
  EXPECT_EQ(table["features"][2]["name"], "lactate");
  EXPECT_EQ(table["features"][2]["decoupled"], true);
  EXPECT_EQ(table["features"][0]["decoupled"], false);
  std::ifstream html_in(out + "/report.html");
  const std::string html((std::istreambuf_iterator<char>(html_in)), std::istreambuf_iterator<char>());
  EXPECT_NE(html.find("<del>lactate 3</del> &rarr; 1"), std::string::npos);
}

// A manifest's truth module (field "truth") judges x_S as the built-in
// oracles do: unchanged, truth-changed, or no label.
TEST(TruthModule, JudgesDecoupledInputsAndRefusesADisagreeingSample) {
  TempDir dir;
  auto manifest = three_manifest();
  manifest["truth"] = kThreeTruth;
  write_text(dir.file("m.json"), manifest.dump());
  auto model = load_torchscript_model(dir.file("m.json"), torch::kCPU);
  const auto oracle = load_torchscript_oracle(model->manifest(), model->modalities());
  ASSERT_NE(oracle, nullptr);
  EXPECT_NE(oracle->rules().find("three_truth.pt labels each decoupled input"), std::string::npos) << oracle->rules();

  const auto truth = oracle->prepare(three_sample({90, 130, 3.0f, 95}), 1);
  EXPECT_EQ(truth->judge(DecouplingSet{}, TextRemoval::kDelete).label, std::optional<int64_t>(1));
  DecouplingSet lactate;
  lactate.add(DecouplingElement::feature(2, 2));
  const TruthVerdict changed = truth->judge(lactate, TextRemoval::kDelete);
  EXPECT_EQ(changed.label, std::optional<int64_t>(0));  // lactate takes its fill, 1.0
  EXPECT_NE(changed.reason.find("labels x_S 'routine'"), std::string::npos) << changed.reason;
  DecouplingSet heart_rate;
  heart_rate.add(DecouplingElement::feature(2, 0));
  EXPECT_EQ(truth->judge(heart_rate, TextRemoval::kDelete).label, std::optional<int64_t>(1));
  DecouplingSet complaint;  // token 7 at position 1
  complaint.add(DecouplingElement::token(1, 1));
  for (TextRemoval mode : {TextRemoval::kDelete, TextRemoval::kMask}) {
    const TruthVerdict none = truth->judge(complaint, mode);
    EXPECT_FALSE(none.label.has_value());
    EXPECT_NE(none.reason.find("gives x_S no label"), std::string::npos) << none.reason;
  }
  // The module says urgent, the data routine: refused, not measured against.
  try {
    oracle->prepare(three_sample({90, 130, 3.0f, 95}), 0);
    ADD_FAILURE() << "a disagreeing sample was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("labels the clean sample 'urgent', the data says 'routine'"),
              std::string::npos)
        << e.what();
  }
  // No field: no oracle.
  write_text(dir.file("plain.json"), three_manifest().dump());
  EXPECT_EQ(load_torchscript_oracle(load_manifest(dir.file("plain.json")), model->modalities()), nullptr);
}

TEST(TruthModule, BadModulesAndFieldsAreOneLine) {
  TempDir dir;
  auto logits = three_manifest();
  logits["truth"] = kThreeModel;  // returns float logits [B,2]
  write_text(dir.file("logits.json"), logits.dump());
  write_samples(dir, 2);
  const std::vector<std::string> attack = {"attack", "--method", "greedy", "--samples",     "0",         "--device",
                                           "cpu",    "--quiet",  "--out",  dir.file("run"), "--manifest"};
  auto with = [&](std::string manifest) {
    auto args = attack;
    args.push_back(std::move(manifest));
    return args;
  };
  expect_one_line_error(run_muroan(with(dir.file("logits.json"))),
                        "forward returns shape [2, 2], expected int64 labels [2], each in -1..1 (-1: no label)");
  auto missing = three_manifest();
  missing["truth"] = "nowhere.pt";
  write_text(dir.file("missing.json"), missing.dump());
  expect_one_line_error(run_muroan(with(dir.file("missing.json"))), "field 'truth': ");
  auto rules_alone = three_manifest();
  rules_alone["truth_rules"] = "lactate > 2";
  write_text(dir.file("rules.json"), rules_alone.dump());
  expect_one_line_error(run_muroan(with(dir.file("rules.json"))),
                        "field 'truth_rules': describes a truth module, but the manifest names none");
  // Without a truth module, 'fooled' cannot be counted, and the message says how to give one.
  write_text(dir.file("plain.json"), three_manifest().dump());
  auto fooled = with(dir.file("plain.json"));
  fooled.insert(fooled.end() - 2, {"--success", "fooled"});
  expect_one_line_error(run_muroan(fooled), "a manifest names one with field 'truth'");
}

// End to end: info checks the module against the labels; an attack's flips
// are classified, and every flip of this model changes the truth (only
// lactate moves it), so its fooled ASR is 0 whichever criterion searches.
TEST(TruthModule, CommandLineClassifiesFlips) {
  TempDir dir;
  auto manifest = three_manifest();
  manifest["truth"] = kThreeTruth;
  manifest["truth_rules"] = "urgent when lactate > 2; no label without the complaint";
  write_text(dir.file("m.json"), manifest.dump());
  write_samples(dir, 6);
  auto info =
      run_muroan({"info", "--manifest", dir.file("m.json"), "--data", dir.file("samples.jsonl"), "--device", "cpu"});
  ASSERT_EQ(info.code, 0) << info.err;
  EXPECT_NE(info.out.find("three_truth.pt: urgent when lactate > 2; no label without the complaint\n"),
            std::string::npos)
      << info.out;
  EXPECT_NE(info.out.find("truth: labels 6 of 6 clean samples as the data does\n"), std::string::npos) << info.out;

  for (const char* criterion : {"flip", "fooled"}) {
    SCOPED_TRACE(criterion);
    const std::string out = dir.file(std::string("run-") + criterion);
    auto attack = run_muroan({"attack", "--manifest", dir.file("m.json"), "--method", "greedy", "--patch", "2",
                              "--success", criterion, "--samples", "0", "--device", "cpu", "--quiet", "--out", out});
    ASSERT_EQ(attack.code, 0) << attack.err;
    std::ifstream in(out + "/summary.json");
    const auto summary = nlohmann::json::parse(in);
    EXPECT_EQ(summary["oracle"], "data/three_truth.pt");  // named by its folder and file
    EXPECT_EQ(summary["attacked"], 6);
    EXPECT_EQ(summary["fooled"], 0);
    if (std::string(criterion) == "flip") {
      EXPECT_EQ(summary["flips"], 3);  // the urgent ones; no decoupling raises a lactate of 1.2
      EXPECT_EQ(summary["success_classes"]["truth-changed"], 3);
      for (const auto& r : read_records(out + "/results.jsonl")) {
        if (!r.success) continue;
        EXPECT_EQ(r.success_class, std::optional<SuccessClass>(SuccessClass::kTruthChanged)) << r.id;
        EXPECT_EQ(r.truth_label, std::optional<int64_t>(1 - r.label)) << r.id;
      }
    }
  }

  // A module that disagrees with a label: info names the sample, an attack stops there.
  std::string lines;
  std::ifstream samples_in(dir.file("samples.jsonl"));
  for (std::string line; std::getline(samples_in, line);) {
    auto j = nlohmann::json::parse(line);
    if (j["id"] == 3) j["label"] = 1;  // lactate 1.2 called urgent
    lines += j.dump() + "\n";
  }
  write_text(dir.file("wrong.jsonl"), lines);
  auto wrong =
      run_muroan({"info", "--manifest", dir.file("m.json"), "--data", dir.file("wrong.jsonl"), "--device", "cpu"});
  ASSERT_EQ(wrong.code, 0) << wrong.err;
  EXPECT_NE(wrong.out.find("truth: labels 5 of 6 clean samples as the data does; not sample '3' (truth 'routine', "
                           "data 'urgent')"),
            std::string::npos)
      << wrong.out;
}

}  // namespace
}  // namespace muroan
