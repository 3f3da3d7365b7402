// Bring your own model: PNG images, manifest.json, the TorchScript adapter and
// samples.jsonl. Every malformed input gives one line naming the file, line and
// field. The TorchScript fixtures come from tests/data/make_fixtures.py.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "muroan/error.h"
#include "muroan/model_source.h"
#include "muroan/png_image.h"
#include "muroan/predict.h"
#include "muroan/sample_data.h"
#include "muroan/torchscript_model.h"
#include "temp_dir.h"

namespace muroan {
namespace {

namespace fs = std::filesystem;

const std::string kFixtures = std::string(MUROAN_SOURCE_DIR) + "/tests/data";
const std::string kTinyModel = kFixtures + "/tiny.pt";  // image [1,8,8], tokens [6] < 20, 3 classes
const std::string kFlatModel = kFixtures + "/flat.pt";  // forward returns [B]
const torch::Device kCpu(torch::kCPU);

// A fresh directory, removed at the end of the test.
// A TempDir named after this test program.
class TempDir : public testing_util::TempDir {
 public:
  TempDir() : testing_util::TempDir("muroan-io-test") {}
};

void write_text(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The message of the InputError (or other Error) that `f` throws; "" if none.
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Expects one line (no newline) that contains every needle.
void expect_error(const std::function<void()>& f, const std::vector<std::string>& needles) {
  const std::string what = error_of(f);
  ASSERT_FALSE(what.empty()) << "no error thrown; expected " << needles.front();
  EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  for (const auto& n : needles) EXPECT_NE(what.find(n), std::string::npos) << "'" << n << "' not in: " << what;
}

// The manifest of tiny.pt, to be modified by each test.
nlohmann::json tiny_manifest() {
  return nlohmann::json::parse(R"({
    "model": ")" + kTinyModel + R"(",
    "inputs": [
      {"name": "image", "kind": "image", "shape": [1, 8, 8], "fill": 0.0},
      {"name": "tokens", "kind": "tokens", "max_len": 6, "pad_id": 0}
    ],
    "classes": ["a", "b", "c"],
    "fusion_method": "fusion"
  })");
}

std::string write_manifest(const TempDir& dir, const nlohmann::json& j) {
  const std::string path = dir.file("manifest.json");
  write_text(path, j.dump(2));
  return path;
}

// A PNG written by hand (for what stb does not write: 16 bits, alpha).
void write_raw_png(const std::string& path, int width, int height, int bit_depth, int color_type, int bytes_per_pixel) {
  std::string raw;
  for (int y = 0; y < height; ++y) {
    raw.push_back('\0');  // filter: none
    raw.append(static_cast<size_t>(width * bytes_per_pixel), '\x40');
  }
  std::vector<unsigned char> z(compressBound(raw.size()));
  uLongf zlen = z.size();
  compress(z.data(), &zlen, reinterpret_cast<const Bytef*>(raw.data()), raw.size());
  std::string png = "\x89PNG\r\n\x1a\n";
  const auto be32 = [](uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
  };
  const auto chunk = [&](const std::string& type, const std::string& data) {
    const std::string body = type + data;
    png += be32(static_cast<uint32_t>(data.size())) + body +
           be32(static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()), body.size())));
  };
  chunk("IHDR",
        be32(width) + be32(height) + std::string{static_cast<char>(bit_depth), static_cast<char>(color_type), 0, 0, 0});
  chunk("IDAT", std::string(reinterpret_cast<const char*>(z.data()), zlen));
  chunk("IEND", "");
  write_text(path, png);
}

// ---- PNG ---------------------------------------------------------------------

TEST(Png, RoundTripsGreyAndRgbExactly) {
  TempDir dir;
  for (int64_t c : {1, 3}) {
    auto bytes = torch::arange(c * 5 * 7, torch::kLong).remainder(256).to(torch::kUInt8).view({c, 5, 7});
    const std::string path = dir.file("img" + std::to_string(c) + ".png");
    write_png(path, bytes.to(torch::kFloat).div(255.0));
    const auto back = read_png(path);
    ASSERT_EQ(back.sizes(), bytes.sizes());
    EXPECT_TRUE(back.equal(bytes));
  }
}

TEST(Png, RefusesWhatIsNotAn8BitGreyOrRgbPng) {
  TempDir dir;
  expect_error([&] { read_png(dir.file("missing.png")); }, {"missing.png: cannot open"});
  write_text(dir.file("text.png"), "hello, not an image");
  expect_error([&] { read_png(dir.file("text.png")); }, {"text.png: not a PNG file"});
  write_text(dir.file("cut.png"), std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0", 18));  // cut in the header
  expect_error([&] { read_png(dir.file("cut.png")); }, {"cut.png: cannot decode PNG"});
  write_raw_png(dir.file("rgba.png"), 4, 4, 8, /*RGBA*/ 6, 4);
  expect_error([&] { read_png(dir.file("rgba.png")); }, {"rgba.png: a RGBA PNG; expected 8-bit grey or RGB"});
  write_raw_png(dir.file("ga.png"), 4, 4, 8, /*grey+alpha*/ 4, 2);
  expect_error([&] { read_png(dir.file("ga.png")); }, {"grey+alpha"});
  write_raw_png(dir.file("deep.png"), 4, 4, 16, /*grey*/ 0, 2);
  expect_error([&] { read_png(dir.file("deep.png")); }, {"deep.png: a 16-bit PNG"});
  write_raw_png(dir.file("grey.png"), 4, 3, 8, 0, 1);  // the hand-made writer itself is right
  EXPECT_EQ(read_png(dir.file("grey.png")).sizes(), torch::IntArrayRef({1, 3, 4}));
  // Sizes are checked from the header, before decoding.
  expect_error([&] { read_png(dir.file("grey.png"), 8, 8); },
               {"grey.png: is 4 x 3 pixels (width x height), expected 8 x 8"});
}

// Altered compressed data is refused, as zlib and PIL refuse it, never decoded
// into wrong pixels: first by the chunk's CRC, then (CRC recomputed by a
// forger) by the zlib stream's own checksum.
TEST(Png, CorruptDataIsRefused) {
  TempDir dir;
  const std::string good = dir.file("good.png");
  write_png(good, torch::arange(64, torch::kFloat).div(64.0).view({1, 8, 8}));
  std::string bytes = read_text_file(good);
  const size_t idat = bytes.find("IDAT");
  ASSERT_NE(idat, std::string::npos);
  const uint32_t len = (uint32_t(uint8_t(bytes[idat - 4])) << 24) | (uint32_t(uint8_t(bytes[idat - 3])) << 16) |
                       (uint32_t(uint8_t(bytes[idat - 2])) << 8) | uint32_t(uint8_t(bytes[idat - 1]));
  bytes[idat + 4 + len / 2] ^= 0x55;  // a byte in the middle of the compressed data
  write_text(dir.file("crc.png"), bytes);
  expect_error([&] { read_png(dir.file("crc.png")); }, {"crc.png: corrupt PNG: chunk 'IDAT'", "CRC"});
  const uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(bytes.data() + idat), len + 4);
  for (int k = 0; k < 4; ++k) bytes[idat + 4 + len + k] = static_cast<char>((crc >> (24 - 8 * k)) & 0xff);
  write_text(dir.file("forged.png"), bytes);
  expect_error([&] { read_png(dir.file("forged.png")); }, {"forged.png: corrupt PNG: the image data does not inflate"});
  write_text(dir.file("cut.png"), read_text_file(good).substr(0, idat + 8));
  expect_error([&] { read_png(dir.file("cut.png")); }, {"cut.png: corrupt PNG"});
}

// Limits before allocation: a header that declares 20000 x 20000 pixels (about
// 400 MB decoded) is refused from its 33 bytes; a device is not read at all.
TEST(Png, LimitsComeBeforeAllocation) {
  TempDir dir;
  std::string header("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
  const uint32_t side = 20000;
  for (int k = 0; k < 2; ++k)
    for (int shift = 24; shift >= 0; shift -= 8) header.push_back(static_cast<char>((side >> shift) & 0xff));
  header += std::string("\x08\x00\x00\x00\x00", 5) + std::string(4, '\0');  // 8-bit grey, CRC
  write_text(dir.file("huge.png"), header);
  expect_error([&] { read_png(dir.file("huge.png")); }, {"huge.png: declares 20000 x 20000 pixels", "before decoding"});
  expect_error([&] { read_png("/dev/zero"); }, {"/dev/zero: not a regular file"});
  expect_error([&] { read_png(dir.path().string()); }, {"a directory"});
}

// ---- manifest.json -------------------------------------------------------------

// A check that a manifest (written into `dir`) is refused with `needle` in the message.
std::function<void(const nlohmann::json&, const std::string&)> manifest_refusal(TempDir& dir) {
  return [&dir](const nlohmann::json& manifest, const std::string& needle) {
    expect_error([&] { load_manifest(write_manifest(dir, manifest)); }, {needle});
  };
}

TEST(Manifest, FieldsMapInputNamesToSampleFields) {
  TempDir dir;
  auto j = tiny_manifest();
  j["model"] = "model.pt";
  j["fields"] = {{"image", "img"}, {"id", "key"}};
  EXPECT_EQ(load_manifest(write_manifest(dir, j)).fields.at("image"), "img");
  const auto refused = manifest_refusal(dir);
  auto k = j;
  k["fields"] = {{"picture", "img"}};
  refused(k, "field 'fields.picture': 'picture' is not an input name nor id, label or text");
  k["fields"] = {{"image", "x"}, {"tokens", "x"}};
  refused(k, "'x' is the field of two names");
  k["fields"] = {{"image", 3}};
  refused(k, "field 'fields.image': expected the name of a sample field");
  k["fields"] = "img";
  refused(k, "field 'fields': expected an object");
}

// "vocab" maps words to ids so that "protected_tokens" (and --protect-words) may name words.
TEST(Manifest, ProtectedTokensAreIdsOrWordsOfItsVocab) {
  TempDir dir;
  auto j = tiny_manifest();
  j["model"] = "model.pt";
  write_text(dir.file("vocab.json"), R"(["<pad>", "<unk>", "this", "is", "not"])");
  j["vocab"] = "vocab.json";
  j["protected_tokens"] = nlohmann::json::array({"not", 3});
  const Manifest m = load_manifest(write_manifest(dir, j));
  EXPECT_EQ(m.protected_tokens, (std::vector<int64_t>{4, 3}));
  EXPECT_EQ(m.word_ids.at("this"), 2);
  const auto refused = manifest_refusal(dir);
  auto k = j;
  k["protected_tokens"] = nlohmann::json::array({"never"});
  refused(k, "field 'protected_tokens[0]': 'never' is not in the manifest's vocab");
  k.erase("vocab");
  k["protected_tokens"] = nlohmann::json::array({"not"});
  refused(k, "'not' is a word, and the manifest has no \"vocab\"");
  k["protected_tokens"] = nlohmann::json::array({-1});
  refused(k, "expected a token id (integer >= 0) or a word");
  k["protected_tokens"] = 5;
  refused(k, "field 'protected_tokens': expected an array");
  k["vocab"] = "missing.json";
  refused(k, "missing.json: cannot open");
  write_text(dir.file("bad_vocab.json"), R"({"this": "2"})");
  k["vocab"] = "bad_vocab.json";
  refused(k, "bad_vocab.json: field 'this': expected a token id");
}

TEST(Manifest, ReadsTheContractExample) {
  TempDir dir;
  auto j = tiny_manifest();
  j["model"] = "model.pt";
  j["inputs"][1]["vocab_size"] = 20;
  const Manifest m = load_manifest(write_manifest(dir, j));
  EXPECT_EQ(m.model_path, dir.file("model.pt"));  // relative to the manifest
  ASSERT_EQ(m.inputs.size(), 2u);
  EXPECT_TRUE(m.inputs[0].is_image());
  EXPECT_EQ(m.inputs[0].shape, (std::vector<int64_t>{1, 8, 8}));
  EXPECT_TRUE(m.inputs[1].is_tokens());
  EXPECT_EQ(m.inputs[1].max_len(), 6);
  EXPECT_EQ(m.inputs[1].vocab_size, 20);
  EXPECT_EQ(m.classes, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(m.fusion_method, "fusion");
  j.erase("fusion_method");
  EXPECT_EQ(load_manifest(write_manifest(dir, j)).fusion_method, "");
}

TEST(Manifest, NamesTheFileAndFieldOfEveryProblem) {
  TempDir dir;
  const auto bad = [&](const std::function<void(nlohmann::json&)>& edit, const std::vector<std::string>& needles) {
    auto j = tiny_manifest();
    edit(j);
    const std::string path = write_manifest(dir, j);
    std::vector<std::string> all = {path};
    all.insert(all.end(), needles.begin(), needles.end());
    expect_error([&] { load_manifest(path); }, all);
  };
  bad([](auto& j) { j.erase("model"); }, {"field 'model': missing"});
  bad([](auto& j) { j["model"] = 7; }, {"field 'model': expected a string, got an integer"});
  bad([](auto& j) { j["inputs"] = "image"; }, {"field 'inputs': expected a non-empty array"});
  bad([](auto& j) { j["inputs"] = nlohmann::json::array(); }, {"field 'inputs'", "empty array"});
  bad([](auto& j) { j["inputs"][1]["max_len"] = "12"; },
      {"inputs[1]: field 'max_len': expected an integer, got a string"});
  bad([](auto& j) { j["inputs"][1]["max_len"] = 12.5; }, {"inputs[1]: field 'max_len'", "floating-point"});
  bad([](auto& j) { j["inputs"][0]["shape"] = {1, 8}; }, {"inputs[0]: field 'shape': expected [C, H, W]"});
  bad([](auto& j) { j["inputs"][0]["fill"] = "black"; }, {"inputs[0]: field 'fill': expected a number"});
  bad([](auto& j) { j["inputs"][0]["kind"] = "video"; }, {"inputs[0]", "kind", "video"});
  // sizes bounded before anything is allocated (a probe batch of 100000^2 pixels, or 600M tokens)
  bad(
      [](auto& j) {
        j["inputs"][0]["shape"] = {3, 100000, 100000};
      },
      {"inputs[0]: shape", "100000 x 100000 pixels; MUROAN reads images of at most 4096 x 4096"});
  bad(
      [](auto& j) {
        j["inputs"][0]["shape"] = {4, 8, 8};
      },
      {"inputs[0]: shape", "C = 4, expected 1 (grey) or 3 (RGB)"});
  bad([](auto& j) { j["inputs"][1]["max_len"] = 600000000; },
      {"inputs[1]: max_len", "expected a length in [1, 16384], got 600000000"});
  bad([](auto& j) { j["inputs"][1]["name"] = "image"; }, {"inputs[1]: field 'name': 'image' names two inputs"});
  bad([](auto& j) { j["inputs"][1]["name"] = "label"; }, {"inputs[1]: field 'name'", "sample field"});
  bad([](auto& j) { j["inputs"][1]["pad_id"] = -1; }, {"inputs[1]: field 'pad_id': must not be negative"});
  bad([](auto& j) { j["classes"] = 3; }, {"field 'classes': expected an array of class names, got an integer"});
  bad([](auto& j) { j["classes"] = {"a"}; }, {"field 'classes': expected at least 2 classes, got 1"});
  bad([](auto& j) { j["classes"][1] = 2; }, {"field 'classes[1]': expected a class name"});
  bad([](auto& j) { j["classes"][2] = "a"; }, {"field 'classes[2]': 'a' is listed twice"});
  bad([](auto& j) { j["fusion_method"] = true; }, {"field 'fusion_method': expected a string, got a boolean"});
  bad([](auto& j) { j["fusion_method"] = ""; }, {"field 'fusion_method': empty"});

  write_text(dir.file("broken.json"), "{\n  \"model\": \"m.pt\",\n  \"inputs\": [\n}\n");
  expect_error([&] { load_manifest(dir.file("broken.json")); }, {dir.file("broken.json") + ":4: not valid JSON"});
  // A number too large to store (found by fuzz/manifest_fuzzer.cpp: nlohmann throws out_of_range, not parse_error).
  write_text(dir.file("huge.json"), "{\"model\": 1E400}");
  expect_error([&] { load_manifest(dir.file("huge.json")); }, {"huge.json: not valid JSON", "1E400"});
  write_text(dir.file("list.json"), "[1, 2]");
  expect_error([&] { load_manifest(dir.file("list.json")); }, {"list.json: expected a JSON object, got an array"});
  expect_error([&] { load_manifest(dir.file("none.json")); }, {"none.json: cannot open"});
}

// ---- the TorchScript adapter ---------------------------------------------------

TEST(TorchScriptModel, LoadsProbesAndClassifies) {
  TempDir dir;
  auto model = load_torchscript_model(write_manifest(dir, tiny_manifest()), kCpu);
  EXPECT_EQ(model->num_classes(), 3);
  EXPECT_TRUE(model->has_fusion());
  EXPECT_EQ(model->fusion_dim(), 4);
  EXPECT_FALSE(model->supports_token_embeddings());
  EXPECT_EQ(model->modalities()[1].vocab_size, 20);  // found by the probe
  EXPECT_EQ(model->vocab_origin(1), VocabOrigin::kProbe);
  EXPECT_EQ(model->vocab_origin(0), VocabOrigin::kNone);

  const Inputs x = {torch::rand({5, 1, 8, 8}), torch::randint(1, 20, {5, 6}, torch::kLong)};
  torch::NoGradGuard no_grad;
  EXPECT_EQ(model->logits(x).sizes(), torch::IntArrayRef({5, 3}));
  EXPECT_EQ(model->fusion(x).sizes(), torch::IntArrayRef({5, 4}));
  expect_error([&] { model->logits({x[0]}); }, {"expected 2 inputs (image, tokens), got 1"});
}

TEST(TorchScriptModel, LetsGradientsReachTheImage) {
  TempDir dir;
  auto model = load_torchscript_model(write_manifest(dir, tiny_manifest()), kCpu);
  auto image = torch::rand({2, 1, 8, 8}).requires_grad_(true);
  model->logits({image, torch::ones({2, 6}, torch::kLong)}).sum().backward();
  ASSERT_TRUE(image.grad().defined());
  EXPECT_GT(image.grad().abs().sum().item<double>(), 0.0);
}

TEST(TorchScriptModel, TakesTheVocabularySizeFromTheManifest) {
  TempDir dir;
  auto j = tiny_manifest();
  j["inputs"][1]["vocab_size"] = 15;
  auto model = load_torchscript_model(write_manifest(dir, j), kCpu);
  EXPECT_EQ(model->modalities()[1].vocab_size, 15);
  EXPECT_EQ(model->vocab_origin(1), VocabOrigin::kManifest);
}

TEST(TorchScriptModel, WithoutAFusionMethodSaysSoClearly) {
  TempDir dir;
  auto j = tiny_manifest();
  j.erase("fusion_method");
  auto model = load_torchscript_model(write_manifest(dir, j), kCpu);
  EXPECT_FALSE(model->has_fusion());
  EXPECT_EQ(model->fusion_dim(), 0);
  expect_error(
      [&] {
        model->fusion({torch::rand({1, 1, 8, 8}), torch::ones({1, 6}, torch::kLong)});
      },
      {"no fusion embedding", "fusion_method", "fusion objective and the fusion shift are not available"});
}

TEST(TorchScriptModel, RefusesModelsThatBreakTheContract) {
  TempDir dir;
  const auto bad = [&](const std::function<void(nlohmann::json&)>& edit, const std::vector<std::string>& needles) {
    auto j = tiny_manifest();
    edit(j);
    const std::string path = write_manifest(dir, j);
    expect_error([&] { load_torchscript_model(path, kCpu); }, needles);
  };
  // logits [B,K] with K = the manifest's classes, checked on a probe batch
  bad(
      [](auto& j) {
        j["classes"] = {"yes", "no"};
      },
      {"tiny.pt: forward returns shape [2, 3], expected logits [2, 2]", "K = 2"});
  bad([](auto& j) { j["model"] = kFlatModel; }, {"flat.pt: forward returns shape [2], expected logits [2, 3]"});
  // a fusion method named but absent, or of the wrong shape
  bad([](auto& j) { j["fusion_method"] = "fuse"; },
      {"manifest.json: field 'fusion_method'", "has no method 'fuse'", "fusion", "@torch.jit.export"});
  bad([](auto& j) { j["fusion_method"] = "bad_fusion"; },
      {"tiny.pt: bad_fusion returns shape [2, 2, 2], expected fusion embedding [2, D]"});
  // inputs that do not fit forward: the model's own error, as one line
  bad(
      [](auto& j) {
        j["inputs"][0]["shape"] = {1, 9, 9};
      },
      {"tiny.pt: forward fails on a probe batch (image [2, 1, 9, 9] Float, tokens [2, 6] Long) on cpu:",
       "shapes cannot be multiplied"});
  bad([](auto& j) { j["inputs"].erase(1); }, {"tiny.pt: forward takes 2 inputs, the manifest lists 1 (image)"});
  // missing and truncated model files
  bad([&](auto& j) { j["model"] = dir.file("nothing.pt"); }, {"manifest.json: field 'model'", "does not exist"});
  {
    std::ifstream in(kTinyModel, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    write_text(dir.file("cut.pt"), bytes.substr(0, bytes.size() / 2));
  }
  bad([&](auto& j) { j["model"] = dir.file("cut.pt"); }, {"cut.pt: cannot load TorchScript model"});
  write_text(dir.file("text.pt"), "not a model");
  bad([&](auto& j) { j["model"] = dir.file("text.pt"); }, {"text.pt: cannot load TorchScript model"});
}

TEST(TorchScriptModel, ChecksTheManifestVocabularySize) {
  TempDir dir;
  auto j = tiny_manifest();
  j["inputs"][1]["vocab_size"] = 30;  // wrong: the embedding has 20 rows
  const std::string path = write_manifest(dir, j);
  expect_error(
      [&] { load_torchscript_model(path, kCpu); },
      {"manifest.json: inputs[1]: field 'vocab_size': 30 ids, but", "tiny.pt refuses id 29: ", "index out of range"});
}

TEST(TorchScriptModel, TurnsARuntimeFailureIntoOneLine) {
  TempDir dir;
  auto model = load_torchscript_model(write_manifest(dir, tiny_manifest()), kCpu);
  auto tokens = torch::ones({1, 6}, torch::kLong);
  tokens[0][2] = 25;  // outside the embedding: only load_samples checks ids
  expect_error(
      [&] {
        model->logits({torch::rand({1, 1, 8, 8}), tokens});
      },
      {"tiny.pt: forward fails on image [1, 1, 8, 8] Float, tokens [1, 6] Long: ", "index out of range"});
}

// ---- samples.jsonl ------------------------------------------------------------

class Samples : public testing::Test {
 protected:
  void SetUp() override {
    model_ = load_torchscript_model(write_manifest(dir_, tiny_manifest()), kCpu);
    image_ = torch::arange(64, torch::kLong).to(torch::kFloat).div(255.0).view({1, 8, 8});
    fs::create_directories(dir_.file("data/images"));
    write_png(dir_.file("data/images/a.png"), image_);
    write_png(dir_.file("data/images/rgb.png"), torch::zeros({3, 8, 8}));
    write_png(dir_.file("data/images/small.png"), torch::zeros({1, 7, 8}));
  }
  // Writes data/samples.jsonl; returns its path.
  std::string write_samples(const std::string& lines) {
    write_text(dir_.file("data/samples.jsonl"), lines);
    return dir_.file("data/samples.jsonl");
  }
  SampleData load(const std::string& path) { return load_samples(path, model_->modalities(), model_->classes()); }
  // Expects `line` (as line 2, after a good one) to be refused with "<file>:2: <needle>".
  void expect_refused(const std::string& line, const std::string& needle) {
    const std::string path = write_samples(std::string(kGood) + "\n" + line + "\n");
    SCOPED_TRACE(line);
    expect_error([&] { load(path); }, {path + ":2: " + needle});
  }

  static constexpr const char* kGood = R"({"id": "s1", "image": "images/a.png", "tokens": [3, 4], "label": 2})";
  TempDir dir_;
  std::unique_ptr<TorchScriptClassifier> model_;
  torch::Tensor image_;
};

TEST_F(Samples, LoadsImagesTokensLabelsIdsAndTexts) {
  const auto data = load(write_samples(std::string(kGood) + "\n\n" +
                                       R"({"id": "s2", "image": "images/a.png", "text": "a b c", )"
                                       R"("tokens": [1, 2, 3, 4, 5, 6], "label": 0})" +
                                       "\n"));
  ASSERT_EQ(data.size(), 2);
  EXPECT_EQ(data.ids, (std::vector<std::string>{"s1", "s2"}));
  EXPECT_EQ(data.texts, (std::vector<std::string>{"", "a b c"}));
  EXPECT_TRUE(data.labels.equal(torch::tensor({2, 0}, torch::kLong)));
  ASSERT_EQ(data.inputs.size(), 2u);
  EXPECT_EQ(data.inputs[0].sizes(), torch::IntArrayRef({2, 1, 8, 8}));
  EXPECT_TRUE(data.inputs[0][0].equal(image_));  // k/255 survives 8 bits exactly
  EXPECT_TRUE(data.inputs[1].equal(torch::tensor({{3, 4, 0, 0, 0, 0}, {1, 2, 3, 4, 5, 6}}, torch::kLong)));
  const double acc = accuracy(*model_, data.inputs, data.labels);
  EXPECT_GE(acc, 0.0);
  EXPECT_LE(acc, 1.0);
}

// Integer ids, as many data sets have them (Hateful Memes: {"id": 42953, ...}).
TEST_F(Samples, IdsMayBeIntegers) {
  const auto data = load(write_samples(R"({"id": 42953, "image": "images/a.png", "tokens": [3], "label": 1})"
                                       "\n"
                                       R"({"id": "s2", "image": "images/a.png", "tokens": [4], "label": 0})"
                                       "\n"));
  EXPECT_EQ(data.ids, (std::vector<std::string>{"42953", "s2"}));
  // "7" and 7 are the same id.
  const std::string dup = write_samples(R"({"id": 7, "image": "images/a.png", "tokens": [3], "label": 1})"
                                        "\n"
                                        R"({"id": "7", "image": "images/a.png", "tokens": [4], "label": 0})"
                                        "\n");
  expect_error([&] { load(dup); }, {dup + ":2: field 'id': '7' is already the id of line 1"});
}

// PNG or JPEG, grey or RGB: converted to the input's channels (RGB -> grey by
// BT.601 luma). tests/data/rgb16x8.jpg: stb_image_write's stbi_write_jpg
// (quality 95) of a 16x8 RGB pattern, left half R 200, right half R 20.
TEST_F(Samples, JpegAndRgbFilesServeAGreyInput) {
  fs::copy_file(std::string(MUROAN_SOURCE_DIR) + "/tests/data/rgb16x8.jpg", dir_.file("data/images/p.jpg"));
  const auto jpeg = read_image(dir_.file("data/images/p.jpg"));
  ASSERT_EQ(jpeg.sizes(), torch::IntArrayRef({3, 8, 16}));
  EXPECT_NEAR(jpeg[0][4][2].item<int>(), 200, 8);  // lossy, but close
  EXPECT_NEAR(jpeg[0][4][13].item<int>(), 20, 8);
  // The grey input of the fixture model is 8x8: the JPEG is refused by size,
  // from its header; an 8x8 RGB PNG is converted by luma.
  expect_refused(
      R"({"id": "s2", "image": "images/p.jpg", "tokens": [1], "label": 0})",
      "field 'image': " + dir_.file("data/images/p.jpg") + ": is 16 x 8 pixels (width x height), expected 8 x 8");
  const auto data = load(write_samples(R"({"id": "s1", "image": "images/rgb.png", "tokens": [3], "label": 2})"
                                       "\n"));
  const auto rgb = read_png(dir_.file("data/images/rgb.png")).to(torch::kFloat);
  const auto luma = (rgb[0] * 0.299 + rgb[1] * 0.587 + rgb[2] * 0.114).round() / 255.0;
  EXPECT_TRUE(torch::allclose(data.inputs[0][0][0], luma));
  EXPECT_TRUE(convert_channels(torch::ones({1, 2, 2}, torch::kUInt8), 3).equal(torch::ones({3, 2, 2}, torch::kUInt8)));
  write_text(dir_.file("data/images/x.gif"), "GIF89a....");
  expect_error([&] { read_image(dir_.file("data/images/x.gif")); }, {"x.gif: not a PNG or JPEG file"});
}

// Data sets name their fields their own way; the manifest's "fields" maps them
// (Hateful Memes: {"id": 42953, "img": "img/42953.png", "label": 0, "text": "..."}).
TEST_F(Samples, FieldsAreMappedFromTheManifest) {
  const std::map<std::string, std::string> fields{
      {"image", "img"}, {"tokens", "ids"}, {"text", "caption"}, {"label", "y"}};
  const std::string path =
      write_samples(R"({"id": 42953, "img": "images/a.png", "ids": [3, 4], "y": 2, "caption": "a meme", "image": 7})"
                    "\n");
  const auto data = load_samples(path, model_->modalities(), model_->classes(), fields);
  EXPECT_EQ(data.ids, (std::vector<std::string>{"42953"}));
  EXPECT_EQ(data.texts, (std::vector<std::string>{"a meme"}));
  EXPECT_TRUE(data.labels.equal(torch::tensor({2}, torch::kLong)));
  EXPECT_TRUE(data.inputs[1].equal(torch::tensor({{3, 4, 0, 0, 0, 0}}, torch::kLong)));
  // Errors name the sample's own field.
  const std::string bad = write_samples(R"({"id": 1, "img": 5, "ids": [3], "y": 0})"
                                        "\n");
  expect_error([&] { load_samples(bad, model_->modalities(), model_->classes(), fields); },
               {bad + ":1: field 'img': expected a string"});
}

TEST_F(Samples, NamesTheFileLineAndFieldOfEveryProblem) {
  expect_refused(R"({"id": "s2", "image": "images/a.png", "tokens": [1], "label": 12})",
                 "field 'label': 12 is outside the 3 classes");
  expect_refused(R"({"id": "s2", "image": "images/a.png", "tokens": [1], "label": -1})",
                 "field 'label': -1 is outside the 3 classes");
  expect_refused(R"({"id": "s2", "image": "images/a.png", "tokens": [1], "label": "b"})",
                 "field 'label': expected an integer, got a string");
  expect_refused(R"({"id": "s2", "image": "images/a.png", "tokens": [1]})", "field 'label': missing");
  expect_refused(R"({"image": "images/a.png", "tokens": [1], "label": 0})", "field 'id': missing");
  expect_refused(R"({"id": 2.5, "image": "images/a.png", "tokens": [1], "label": 0})",
                 "field 'id': expected a string or an integer, got a floating-point number");
  expect_refused(R"({"id": [1], "image": "images/a.png", "tokens": [1], "label": 0})",
                 "field 'id': expected a string or an integer, got an array");
  expect_refused(R"({"id": "s1", "image": "images/a.png", "tokens": [1], "label": 0})",
                 "field 'id': 's1' is already the id of line 1");
  expect_refused(R"({"id": "s2", "image": "images/a.png", "tokens": [1, 25], "label": 0})",
                 "field 'tokens': id 25 (element 1) is outside the model's vocabulary of 20 ids");
  expect_refused(R"({"id": "s2", "image": "images/a.png", "tokens": [1, -3], "label": 0})",
                 "field 'tokens': id -3 (element 1) is outside the model's vocabulary");
  expect_refused(R"({"id": "s2", "image": "images/a.png", "tokens": [1, 2, 3, 4, 5, 6, 7], "label": 0})",
                 "field 'tokens': 7 ids, more than max_len 6");
  expect_refused(R"({"id": "s2", "image": "images/a.png", "tokens": "a b", "label": 0})",
                 "field 'tokens': a string, and input 'tokens' has no tokenizer");
  expect_refused(R"({"id": "s2", "image": "images/a.png", "tokens": [1, 2.5], "label": 0})",
                 "field 'tokens': element 1 is a floating-point number, expected an integer id");
  expect_refused(R"({"id": "s2", "image": "images/none.png", "tokens": [1], "label": 0})",
                 "field 'image': " + dir_.file("data/images/none.png") + ": cannot open");
  expect_refused(R"({"id": "s2", "image": "samples.jsonl", "tokens": [1], "label": 0})",
                 "field 'image': " + dir_.file("data/samples.jsonl") + ": not a PNG or JPEG file");
  expect_refused(
      R"({"id": "s2", "image": "images/small.png", "tokens": [1], "label": 0})",
      "field 'image': " + dir_.file("data/images/small.png") + ": is 8 x 7 pixels (width x height), expected 8 x 8");
  expect_refused(R"({"id": "s2", "image": 5, "tokens": [1], "label": 0})", "field 'image': expected a string");
  expect_refused(R"({"id": "s2", "tokens": [1], "label": 0})", "field 'image': missing");
  expect_refused(R"({"id": "s2", "image": "images/a.png", "label": 0})", "field 'tokens': missing");
  expect_refused(R"({"id": "s2", "image": "images/a.png", "text": 3, "tokens": [1], "label": 0})",
                 "field 'text': expected a string");
  expect_refused(R"({"id": "s2", "image": "images/a.png", "tokens": [1], "label": 0)", "not valid JSON");
  expect_refused(R"({"id": "s2", "image": "images/a.png", "tokens": [1], "label": 1E400})", "not valid JSON");
  expect_refused(R"([1, 2, 3])", "expected a JSON object, got an array");
}

TEST_F(Samples, RefusesAnEmptyOrMissingFile) {
  const std::string empty = write_samples("");
  expect_error([&] { load(empty); }, {empty + ": no samples"});
  const std::string blank = write_samples("\n  \n");
  expect_error([&] { load(blank); }, {blank + ": no samples"});
  expect_error([&] { load(dir_.file("nothing.jsonl")); }, {"nothing.jsonl: cannot open"});
}

TEST_F(Samples, SaveThenLoadGivesTheSameSamples) {
  SampleData data;
  data.inputs = {torch::randint(0, 256, {3, 1, 8, 8}).to(torch::kFloat).div(255.0),
                 torch::tensor({{5, 6, 0, 0, 0, 0}, {1, 0, 2, 0, 0, 0}, {19, 18, 17, 16, 15, 14}}, torch::kLong)};
  data.labels = torch::tensor({0, 2, 1}, torch::kLong);
  data.ids = {"x/1", "x 2", "x3"};  // unsafe characters in file names
  data.texts = {"first", "", "third"};
  save_samples(data, model_->modalities(), dir_.file("saved"));
  const auto back = load(dir_.file("saved/samples.jsonl"));
  EXPECT_EQ(back.ids, data.ids);
  EXPECT_EQ(back.texts, data.texts);
  EXPECT_TRUE(back.labels.equal(data.labels));
  EXPECT_TRUE(back.inputs[0].equal(data.inputs[0]));
  EXPECT_TRUE(back.inputs[1].equal(data.inputs[1]));
  EXPECT_TRUE(fs::exists(dir_.file("saved/images/x_1.png")));
}

TEST(ExportTaskSplit, WritesSamplesAndATaskDescription) {
  TempDir dir;
  TaskData task;
  task.task = "toy";
  task.modalities = {ModalitySpec::image("image", 1, 8, 8), ModalitySpec::tokens("tokens", 6, 0, 0)};
  task.classes = {"no", "yes", "maybe"};
  task.vocab = Vocabulary({"red", "green"});
  task.test.inputs = {torch::rand({4, 1, 8, 8}), torch::tensor({{2, 3, 0, 0, 0, 0}}, torch::kLong).repeat({4, 1})};
  task.test.labels = torch::tensor({0, 1, 2, 1}, torch::kLong);
  task.test.ids = {"t0", "t1", "t2", "t3"};
  task.test.texts = {"red green", "red green", "red green", "red green"};
  EXPECT_EQ(export_task_split(task, "test", 3, dir.file("out")), 3);
  std::ifstream in(dir.file("out/task.json"));
  const auto j = nlohmann::json::parse(in);
  EXPECT_EQ(j["task"], "toy");
  EXPECT_EQ(j["split"], "test");
  EXPECT_EQ(j["samples"], 3);
  EXPECT_EQ(j["classes"], nlohmann::json({"no", "yes", "maybe"}));
  EXPECT_EQ(j["vocabulary"], nlohmann::json({"<pad>", "<unk>", "red", "green"}));
  EXPECT_EQ(j["inputs"][1]["vocab_size"], 4);
  const auto data = load_samples(dir.file("out/samples.jsonl"), task.modalities, task.classes);
  EXPECT_EQ(data.size(), 3);
  EXPECT_EQ(data.ids[2], "t2");
  EXPECT_EQ(data.texts[0], "red green");
  EXPECT_THROW(export_task_split(task, "dev", 0, dir.file("out")), UsageError);
}

TEST(ModelSource, LoadsAManifestWithTheSamplesBesideIt) {
  TempDir dir;
  const std::string manifest = write_manifest(dir, tiny_manifest());
  fs::create_directories(dir.file("images"));
  write_png(dir.file("images/a.png"), torch::zeros({1, 8, 8}));
  write_text(dir.file("samples.jsonl"), R"({"id": "a", "image": "images/a.png", "tokens": [1], "label": 1})"
                                        "\n");
  EXPECT_TRUE(is_manifest_path(manifest));
  EXPECT_FALSE(is_manifest_path(dir.file("")));
  auto md = load_model_and_data(manifest, "", kCpu);
  ASSERT_TRUE(md.model);
  EXPECT_EQ(md.model->num_classes(), 3);
  EXPECT_EQ(md.data.size(), 1);
  EXPECT_EQ(md.data_source, dir.file("samples.jsonl"));
}

}  // namespace
}  // namespace muroan
