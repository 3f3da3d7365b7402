// Bring your own model, end to end through the command line: `muroan
// export-data` writes a built-in task's samples, examples/export_pytorch.py
// trains and exports a PyTorch model on them, `muroan info` loads it and finds
// the accuracy the script found. And every malformed input is one `error:`
// line with a non-zero exit code.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include <nlohmann/json.hpp>

#include "cli_app.h"
#include "cli_run.h"
#include "muroan/attack.h"
#include "muroan/error.h"
#include "muroan/measurement.h"
#include "muroan/png_image.h"
#include "muroan/torchscript_model.h"
#include "temp_dir.h"

namespace muroan::cli {
namespace {

namespace fs = std::filesystem;

const std::string kSourceDir = MUROAN_SOURCE_DIR;
const std::string kPython = "/usr/bin/python3";
const std::string kTinyModel = kSourceDir + "/tests/data/tiny.pt";  // see tests/data/make_fixtures.py

using testing_util::CliRun;
using testing_util::expect_one_line_error;

CliRun run(const std::vector<std::string>& args) { return testing_util::run_muroan(args); }

// A TempDir named after this test program.
class TempDir : public testing_util::TempDir {
 public:
  TempDir() : testing_util::TempDir("muroan-byom-test") {}
};

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

bool python_has_torch() { return std::system((kPython + " -c 'import torch' >/dev/null 2>&1").c_str()) == 0; }

// The number after `prefix` in `text`; NaN when absent.
double number_after(const std::string& text, const std::string& prefix) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(prefix + "([0-9.]+)"))) return std::nan("");
  return std::stod(m[1]);
}

// Runs `examples/<script_and_args>` with Debian's Python, its output into
// `log`; the test accuracy it printed, NaN (and a test failure naming the
// command, with the log) when it failed or printed none.
double run_example(const std::string& script_and_args, const std::string& log) {
  const std::string command = kPython + " " + kSourceDir + "/examples/" + script_and_args + " > " + log + " 2>&1";
  const int code = std::system(command.c_str());
  const double accuracy = code == 0 ? number_after(read_text(log), "test accuracy ") : std::nan("");
  if (std::isnan(accuracy)) ADD_FAILURE() << command << " (exit " << code << ")\n" << read_text(log);
  return accuracy;
}

TEST(Byom, PythonExportThenInfoReportsTheSameAccuracy) {
  if (!python_has_torch())
    GTEST_SKIP() << kPython << " cannot import torch (Debian package python3-torch): "
                 << "the bring-your-own-model example examples/export_pytorch.py is not tested";
  TempDir dir;
  const std::string cache = dir.file("cache");
  constexpr int kTestSamples = 300;
  auto train = run({"export-data", "--task", "fashion-match", "--split", "train", "--samples", "2000", "--out",
                    dir.file("train"), "--cache-dir", cache});
  ASSERT_EQ(train.code, 0) << train.err;
  EXPECT_NE(train.out.find("2000 train samples"), std::string::npos) << train.out;
  auto test = run({"export-data", "--task", "fashion-match", "--split", "test", "--samples",
                   std::to_string(kTestSamples), "--out", dir.file("test"), "--cache-dir", cache});
  ASSERT_EQ(test.code, 0) << test.err;
  EXPECT_TRUE(fs::exists(dir.file("test/images/test-000000.png")));
  const auto task = nlohmann::json::parse(read_text(dir.file("train/task.json")));
  EXPECT_EQ(task["classes"], nlohmann::json({"false", "true"}));

  const std::string log = dir.file("python.log");
  const double python_accuracy = run_example(
      "export_pytorch.py --train " + dir.file("train") + " --test " + dir.file("test") + " --out " + dir.file("byom"),
      log);
  ASSERT_FALSE(std::isnan(python_accuracy));

  auto info = run({"info", "--manifest", dir.file("byom/manifest.json"), "--data", dir.file("byom/samples.jsonl"),
                   "--device", "cpu"});
  ASSERT_EQ(info.code, 0) << info.err;
  EXPECT_NE(info.out.find("1. image: image [1, 56, 56]"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("2. tokens: tokens, max_len 12, pad_id 0, vocab_size"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("classes: 2: false, true"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("fusion: method 'fusion', embedding of 192 dimensions"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find(std::to_string(kTestSamples) + " samples"), std::string::npos) << info.out;
  const double muroan_accuracy = number_after(info.out, "accuracy: ");
  // The same module on the same pixels and ids; batching may flip a near tie.
  EXPECT_NEAR(muroan_accuracy, python_accuracy, 1.5 / kTestSamples) << read_text(log) << info.out;
}

// The three-input example (contract 2: ECG strip image, clinical note, vitals
// table) exports a model that `muroan info` reads with the accuracy the
// script found, and that `muroan attack` attacks end to end.
TEST(Byom, ThreeInputExportThenInfoAndAttack) {
  if (!python_has_torch())
    GTEST_SKIP() << kPython << " cannot import torch (Debian package python3-torch): "
                 << "the three-input example examples/export_triage_pytorch.py is not tested";
  TempDir dir;
  const std::string log = dir.file("python.log");
  const double python_accuracy = run_example(
      "export_triage_pytorch.py --out " + dir.file("triage") + " --train-size 1500 --test-size 200 --epochs 8", log);
  ASSERT_FALSE(std::isnan(python_accuracy));
  EXPECT_GT(python_accuracy, 0.85) << read_text(log);  // the rule is learnt, not the majority class (~65%)

  const std::string manifest = dir.file("triage/manifest.json");
  auto info = run({"info", "--manifest", manifest, "--data", dir.file("triage/samples.jsonl"), "--device", "cpu"});
  ASSERT_EQ(info.code, 0) << info.err;
  EXPECT_NE(info.out.find("1. ecg: image [1, 16, 64]"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("2. note: tokens, max_len 10"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("3. vitals: tabular, 8 features (heart_rate fill"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("200 samples"), std::string::npos) << info.out;
  EXPECT_NEAR(number_after(info.out, "accuracy: "), python_accuracy, 1.5 / 200) << read_text(log) << info.out;
  // The exported rule (truth.pt) labels every clean sample as the data does.
  EXPECT_NE(info.out.find("truth: labels 200 of 200 clean samples as the data does"), std::string::npos) << info.out;

  const std::string out = dir.file("attack");
  auto attack = run({"attack", "--manifest", manifest, "--method", "greedy", "--samples", "24", "--protect-words",
                     "denies", "--device", "cpu", "--quiet", "--out", out});
  ASSERT_EQ(attack.code, 0) << attack.err;
  const auto records = read_records(out + "/results.jsonl");
  ASSERT_EQ(records.size(), 24u);
  int64_t successes = 0;
  for (const auto& r : records) {
    if (!r.success) continue;
    ++successes;
    // With a truth module the default criterion is fooled: a success keeps the truth.
    EXPECT_EQ(r.success_class, std::optional<SuccessClass>(SuccessClass::kFooled)) << r.id;
    EXPECT_EQ(r.truth_label, std::optional<int64_t>(r.label)) << r.id;
    EXPECT_EQ(r.modality_names, (std::vector<std::string>{"ecg", "note", "vitals"}));
    EXPECT_GT(r.decoupled_points, 0);
  }
  EXPECT_GT(successes, 0);
  auto replay = run({"replay", "--manifest", manifest, "--results", out + "/results.jsonl", "--device", "cpu"});
  EXPECT_EQ(replay.code, 0) << replay.out << replay.err;
}

// The audio example (README, "Bring your own model"): a camera image and half
// a second of speech as a WAV file per sample. `muroan info` reads it with the
// accuracy the script found; the truth module tells the searches' flips apart:
// hiding the shape or the word leaves a sample without a label, which the any-
// flip criterion counts and the default (fooled) criterion does not.
TEST(Byom, AudioExportThenInfoAndAttack) {
  if (!python_has_torch())
    GTEST_SKIP() << kPython << " cannot import torch (Debian package python3-torch): "
                 << "the audio example examples/export_voice_pytorch.py is not tested";
  TempDir dir;
  const std::string log = dir.file("python.log");
  const double python_accuracy = run_example(
      "export_voice_pytorch.py --out " + dir.file("voice") + " --train-size 1500 --test-size 100 --epochs 8", log);
  ASSERT_FALSE(std::isnan(python_accuracy));
  EXPECT_GT(python_accuracy, 0.9) << read_text(log);  // both inputs are read (either alone says nothing: chance)

  const std::string manifest = dir.file("voice/manifest.json");
  auto info = run({"info", "--manifest", manifest, "--data", dir.file("voice/samples.jsonl"), "--device", "cpu"});
  ASSERT_EQ(info.code, 0) << info.err;
  EXPECT_NE(info.out.find("2. speech: audio, 4000 samples at 8000 Hz (0.500 s); 50 points (frames of 80 samples"),
            std::string::npos)
      << info.out;
  EXPECT_NEAR(number_after(info.out, "accuracy: "), python_accuracy, 1.5 / 100) << read_text(log) << info.out;
  EXPECT_NE(info.out.find("truth: labels 100 of 100 clean samples as the data does"), std::string::npos) << info.out;

  // Any flip: most flips hide the shape or the word (no label left).
  const std::string flip = dir.file("flip");
  auto attack = run({"attack", "--manifest", manifest, "--method", "greedy", "--samples", "12", "--success", "flip",
                     "--device", "cpu", "--quiet", "--out", flip});
  ASSERT_EQ(attack.code, 0) << attack.err;
  int64_t undefined = 0;
  for (const auto& r : read_records(flip + "/results.jsonl")) {
    EXPECT_EQ(r.modality_names, (std::vector<std::string>{"camera", "speech"}));
    if (r.success_class == std::optional<SuccessClass>(SuccessClass::kUndefined)) {
      ++undefined;
      EXPECT_TRUE(r.success) << r.id;
      EXPECT_FALSE(r.truth_label.has_value()) << r.id;
    }
  }
  EXPECT_GT(undefined, 0);
  // The default criterion (fooled, with a truth module): only label-keeping successes.
  const std::string fooled = dir.file("fooled");
  attack = run({"attack", "--manifest", manifest, "--method", "greedy", "--samples", "12", "--device", "cpu", "--quiet",
                "--out", fooled});
  ASSERT_EQ(attack.code, 0) << attack.err;
  const auto records = read_records(fooled + "/results.jsonl");
  ASSERT_EQ(records.size(), 12u);
  for (const auto& r : records) {
    if (!r.success) continue;
    EXPECT_EQ(r.success_class, std::optional<SuccessClass>(SuccessClass::kFooled)) << r.id;
    EXPECT_EQ(r.truth_label, std::optional<int64_t>(r.label)) << r.id;
  }
  auto replay = run({"replay", "--manifest", manifest, "--results", fooled + "/results.jsonl", "--device", "cpu"});
  EXPECT_EQ(replay.code, 0) << replay.out << replay.err;
}

// DIR/name: a manifest of the tiny fixtures' contract (image [1,8,8], 6 tokens,
// 3 classes, fusion method) for `model`; returns its path.
std::string write_tiny_manifest(TempDir& dir, const std::string& name, const std::string& model) {
  auto manifest = nlohmann::json::parse(R"({
    "inputs": [
      {"name": "image", "kind": "image", "shape": [1, 8, 8]},
      {"name": "tokens", "kind": "tokens", "max_len": 6, "pad_id": 0}
    ],
    "classes": ["a", "b", "c"],
    "fusion_method": "fusion"
  })");
  manifest["model"] = model;
  write_text(dir.file(name), manifest.dump());
  return dir.file(name);
}

// A model that zeroes its input tensors after use (mutating.pt: tiny.pt's
// weights) gets copies: the sample is unchanged and every attack finds what it
// finds on the well-behaved model.
TEST(Byom, AModelThatWritesIntoItsInputsCannotCorruptTheResults) {
  TempDir dir;
  auto good = load_torchscript_model(write_tiny_manifest(dir, "good.json", kTinyModel), torch::kCPU);
  auto bad =
      load_torchscript_model(write_tiny_manifest(dir, "bad.json", kSourceDir + "/tests/data/mutating.pt"), torch::kCPU);
  torch::manual_seed(3);
  const Inputs sample = {torch::rand({1, 1, 8, 8}), torch::tensor({{4, 7, 9, 2, 0, 0}}, torch::kLong)};
  const Inputs copy = {sample[0].clone(), sample[1].clone()};
  for (const char* method : {"greedy", "reference", "drop"}) {
    AttackOptions options;
    options.method = method;
    options.patch = 2;
    const auto a = make_attack(options)->attack(*good, sample);
    const auto b = make_attack(options)->attack(*bad, sample);
    EXPECT_EQ(a.success, b.success) << method;
    EXPECT_EQ(a.adversarial_prediction, b.adversarial_prediction) << method;
    EXPECT_EQ(a.points.decoupled, b.points.decoupled) << method;
    EXPECT_TRUE(torch::equal(sample[0], copy[0]) && torch::equal(sample[1], copy[1])) << method;
  }
}

// Every attack method and objective works on a TorchScript model as on a
// built-in one; the fusion objective needs the manifest's fusion method.
TEST(Byom, EveryAttackRunsOnATorchScriptModel) {
  TempDir dir;
  auto model = load_torchscript_model(write_tiny_manifest(dir, "manifest.json", kTinyModel), torch::kCPU);
  torch::manual_seed(3);
  const Inputs sample = {torch::rand({1, 1, 8, 8}), torch::tensor({{4, 7, 9, 2, 0, 0}}, torch::kLong)};
  for (const auto& method : attack_catalog()) {
    for (const Objective objective : {Objective::kMargin, Objective::kFusion}) {
      SCOPED_TRACE(method.name + std::string(" / ") + objective_name(objective));
      AttackOptions options;
      options.method = method.name;
      options.objective = objective;
      options.patch = 2;
      auto attack = make_attack(options);
      AttackResult r;
      ASSERT_NO_THROW(r = attack->attack(*model, sample));
      EXPECT_GE(r.clean_prediction, 0);
      EXPECT_GT(r.forward_passes, 0);
      EXPECT_TRUE(r.fusion_shift.has_value());
      if (r.success) EXPECT_NE(r.adversarial_prediction, r.clean_prediction);
    }
  }

  auto manifest = nlohmann::json::parse(read_text(dir.file("manifest.json")));
  manifest.erase("fusion_method");
  write_text(dir.file("manifest.json"), manifest.dump());
  auto plain = load_torchscript_model(dir.file("manifest.json"), torch::kCPU);
  AttackOptions options;
  options.objective = Objective::kFusion;
  try {
    validate_attack_options(options, *plain);
    ADD_FAILURE() << "the fusion objective was accepted for a model without a fusion method";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("fusion"), std::string::npos) << e.what();
  }
  options.objective = Objective::kMargin;
  const AttackResult r = make_attack(options)->attack(*plain, sample);
  EXPECT_FALSE(r.fusion_shift.has_value());
}

// A directory with a manifest for tiny.pt (no fusion method) and an 8x8 grey PNG.
class BadInput : public testing::Test {
 protected:
  void SetUp() override {
    manifest_ = nlohmann::json::parse(R"({
      "inputs": [
        {"name": "image", "kind": "image", "shape": [1, 8, 8]},
        {"name": "tokens", "kind": "tokens", "max_len": 6, "pad_id": 0}
      ],
      "classes": ["a", "b", "c"]
    })");
    manifest_["model"] = kTinyModel;
    write_manifest();
    write_png(dir_.file("x.png"), torch::zeros({1, 8, 8}));
  }
  std::string write_manifest() {
    write_text(dir_.file("manifest.json"), manifest_.dump(2));
    return dir_.file("manifest.json");
  }
  CliRun info(const std::string& data = "") {
    std::vector<std::string> args = {"info", "--manifest", dir_.file("manifest.json"), "--device", "cpu"};
    if (!data.empty()) args.insert(args.end(), {"--data", data});
    return run(args);
  }
  TempDir dir_;
  nlohmann::json manifest_;
};

TEST_F(BadInput, InfoDescribesAModelWithoutFusion) {
  auto r = info();
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("vocab_size 20 (found by probing the model)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("input space: up to 70 points per sample"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fusion: none"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fusion objective and the fusion shift are not available"), std::string::npos) << r.out;
}

TEST_F(BadInput, EachProblemIsOneLineAndANonZeroExit) {
  const std::string samples = dir_.file("samples.jsonl");
  // samples whose image is not a PNG and whose label is out of range, line by line
  write_text(samples, R"({"id": "1", "image": "manifest.json", "tokens": [1], "label": 0})"
                      "\n");
  expect_one_line_error(info(samples),
                        samples + ":1: field 'image': " + dir_.file("manifest.json") + ": not a PNG or JPEG file");
  write_text(samples,
             "\n"
             R"({"id": "1", "image": "x.png", "tokens": [1], "label": 12})"
             "\n");
  expect_one_line_error(info(samples), samples + ":2: field 'label': 12 is outside the 3 classes");
  write_text(samples, R"({"id": "1", "image": "x.png", "tokens": [1, 99], "label": 1})"
                      "\n");
  expect_one_line_error(info(samples), samples +
                                           ":1: field 'tokens': id 99 (element 1) is outside the model's "
                                           "vocabulary of 20 ids");
  write_text(samples, "");
  expect_one_line_error(info(samples), samples + ": no samples");

  // the manifest and the model
  manifest_["classes"] = "a b c";
  write_manifest();
  expect_one_line_error(info(), "manifest.json: field 'classes': expected an array of class names, got a string");
  manifest_["classes"] = {"a", "b"};
  write_manifest();
  expect_one_line_error(info(), "tiny.pt: forward returns shape [2, 3], expected logits [2, 2]");
  manifest_["classes"] = {"a", "b", "c"};
  manifest_["fusion_method"] = "fuse";
  write_manifest();
  expect_one_line_error(info(), "manifest.json: field 'fusion_method': " + kTinyModel + " has no method 'fuse'");
  manifest_.erase("fusion_method");
  const std::string bytes = read_text(kTinyModel);
  write_text(dir_.file("cut.pt"), bytes.substr(0, bytes.size() / 3));
  manifest_["model"] = "cut.pt";
  write_manifest();
  expect_one_line_error(info(), dir_.file("cut.pt") + ": cannot load TorchScript model");
  expect_one_line_error(run({"info", "--manifest", dir_.file("none.json")}), "none.json: cannot open");
  expect_one_line_error(run({"info"}), "--manifest");
  expect_one_line_error(run({"export-data", "--split", "dev", "--out", dir_.file("x")}), "--split");
}

}  // namespace
}  // namespace muroan::cli
