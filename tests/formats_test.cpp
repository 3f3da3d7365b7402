// Data formats people have (DESIGN.md 5.3): tokenizers for raw text (words are
// points, special tokens are none), images of other sizes resized, and a
// Hateful-Memes-shaped data set (integer ids, "img", JPEGs of mixed sizes, raw
// text with a WordPiece vocabulary) attacked end to end through the CLI.
#include <gtest/gtest.h>
#include <stb_image_write.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <set>

#include <nlohmann/json.hpp>

#include "cli_app.h"
#include "cli_run.h"
#include "muroan/decoupling.h"
#include "muroan/defense.h"
#include "muroan/error.h"
#include "muroan/png_image.h"
#include "muroan/sample_data.h"
#include "muroan/tokenizer.h"
#include "muroan/torchscript_model.h"
#include "temp_dir.h"

namespace muroan {
namespace {

namespace fs = std::filesystem;
using testing_util::TempDir;

const std::string kTinyModel = std::string(MUROAN_SOURCE_DIR) + "/tests/data/tiny.pt";

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// 15 ids: fits tiny.pt's embedding of 20.
const char* kWordPieceVocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthis\nis\na\nfun\n##ny\nmeme\ncat\n##s\n!\nnot\n";

std::shared_ptr<const Tokenizer> wordpiece(const TempDir& dir, const std::string& extra = "") {
  write_text(dir.file("vocab.txt"), kWordPieceVocab);
  return load_tokenizer(nlohmann::json::parse(R"({"kind": "wordpiece", "vocab": "vocab.txt")" + extra + "}"),
                        dir.path().string(), "manifest.json: inputs[1]: field 'tokenizer'");
}

TEST(Tokenizer, WhitespaceMapsWordsAndUnknownsAndTruncatesWholeWords) {
  TempDir dir;
  write_text(dir.file("vocab.json"), R"(["<pad>", "<unk>", "this", "is", "a", "cat"])");
  auto tok = load_tokenizer(nlohmann::json::parse(R"({"kind": "whitespace", "vocab": "vocab.json", "unk_id": 1,
                                                      "lowercase": true})"),
                            dir.path().string(), "m");
  auto t = tok->encode("This  is a dog", 8, "s");
  EXPECT_EQ(t.ids, (std::vector<int64_t>{2, 3, 4, 1}));
  EXPECT_FALSE(t.truncated);
  t = tok->encode("this is a cat", 3, "s");
  EXPECT_EQ(t.ids, (std::vector<int64_t>{2, 3, 4}));
  EXPECT_TRUE(t.truncated);
  EXPECT_EQ(tok->role(5), TokenRole::kWordStart);

  auto strict = load_tokenizer(nlohmann::json::parse(R"({"kind": "whitespace", "vocab": "vocab.json"})"),
                               dir.path().string(), "m");
  EXPECT_NE(error_of([&] {
              strict->encode("this dog", 8, "data.jsonl:3: field 'text'");
            }).find("data.jsonl:3: field 'text': word 'dog' is not in the tokenizer's vocabulary"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              load_tokenizer(nlohmann::json::parse(R"({"kind": "whitespace", "vocab": "vocab.json", "unk_id": 6})"),
                             dir.path().string(), "m");
            }).find("field 'unk_id': 6 is outside the vocabulary of 6 ids"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              load_tokenizer(nlohmann::json::parse(R"({"kind": "whitespace", "vocab": "vocab.json", "lower": 1})"),
                             dir.path().string(), "m");
            }).find("field 'lower': not a field of this tokenizer"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              load_tokenizer(nlohmann::json::parse(R"({"kind": "bpe"})"), dir.path().string(), "m");
            }).find("unknown tokenizer 'bpe'"),
            std::string::npos);
}

TEST(Tokenizer, WordPieceSplitsWordsIntoPiecesBetweenClsAndSep) {
  TempDir dir;
  auto tok = wordpiece(dir);
  // [CLS] this is a fun ##ny meme ! [SEP]
  auto t = tok->encode("This is a FUNNY meme!", 12, "s");
  EXPECT_EQ(t.ids, (std::vector<int64_t>{2, 5, 6, 7, 8, 9, 10, 13, 3}));
  EXPECT_FALSE(t.truncated);
  EXPECT_EQ(tok->role(2), TokenRole::kSpecial);
  EXPECT_EQ(tok->role(3), TokenRole::kSpecial);
  EXPECT_EQ(tok->role(9), TokenRole::kContinuation);
  EXPECT_EQ(tok->role(1), TokenRole::kWordStart);  // [UNK] stands for a word
  // A word no pieces cover is one [UNK], not a partial match.
  EXPECT_EQ(tok->encode("cats funnyz dog", 12, "s").ids, (std::vector<int64_t>{2, 11, 12, 1, 1, 3}));
  // Truncation keeps whole words: "funny" (2 pieces) does not fit beside this is a.
  t = tok->encode("this is a funny meme", 6, "s");
  EXPECT_EQ(t.ids, (std::vector<int64_t>{2, 5, 6, 7, 3}));
  EXPECT_TRUE(t.truncated);

  write_text(dir.file("novocab.txt"), "[PAD]\n[CLS]\n[SEP]\nthis\n");
  EXPECT_NE(error_of([&] {
              load_tokenizer(nlohmann::json::parse(R"({"kind": "wordpiece", "vocab": "novocab.txt"})"),
                             dir.path().string(), "m");
            }).find("has no [UNK]"),
            std::string::npos);
  EXPECT_NE(error_of([&] { tok->encode("this", 2, "s"); }).find("leaves no room"), std::string::npos);
}

TEST(Tokenizer, SentencePieceWordsStartWithTheSpaceMark) {
  TempDir dir;
  std::string corpus;
  for (int i = 0; i < 40; ++i)
    corpus += "the cat is not a dog\nthe dogs play with the cats\nthis meme is funny\nthat meme is not funny\n";
  write_text(dir.file("corpus.txt"), corpus);
  // Debian's spm_train (package sentencepiece, installed with the test tools).
  if (std::system("command -v spm_train >/dev/null 2>&1") != 0) GTEST_SKIP() << "spm_train is not installed";
  const std::string train = "spm_train --input=" + dir.file("corpus.txt") + " --model_prefix=" + dir.file("spm") +
                            " --vocab_size=40 --model_type=bpe --character_coverage=1.0 --hard_vocab_limit=false"
                            " --num_threads=1 --minloglevel=2 >/dev/null 2>&1";
  ASSERT_EQ(std::system(train.c_str()), 0) << train;
  std::shared_ptr<const Tokenizer> tok;
  try {
    tok = load_tokenizer(nlohmann::json::parse(R"({"kind": "sentencepiece", "model": "spm.model",
                                                   "add_bos": true, "add_eos": true})"),
                         dir.path().string(), "m");
  } catch (const InputError& e) {
    if (std::string(e.what()).find("sanitizer build") != std::string::npos) GTEST_SKIP() << e.what();
    throw;
  }
  const auto t = tok->encode("the funny dogs", 16, "s");
  ASSERT_GE(t.ids.size(), 5u);
  EXPECT_EQ(tok->role(t.ids.front()), TokenRole::kSpecial);  // <s>
  EXPECT_EQ(tok->role(t.ids.back()), TokenRole::kSpecial);   // </s>
  const auto roles = token_roles(t.ids.data(), static_cast<int64_t>(t.ids.size()), -1, tok.get());
  EXPECT_EQ(std::count(roles.begin(), roles.end(), static_cast<uint8_t>(TokenRole::kWordStart)), 3)
      << "three words, whatever the pieces";
  write_text(dir.file("bad.model"), "not a model");
  EXPECT_NE(error_of([&] {
              load_tokenizer(nlohmann::json::parse(R"({"kind": "sentencepiece", "model": "bad.model"})"),
                             dir.path().string(), "m");
            }).find("not a SentencePiece model"),
            std::string::npos);
}

// [CLS] this fun ##ny meme [SEP] pad pad
ModalitySpec wordpiece_tokens(const TempDir& dir) {
  ModalitySpec spec = ModalitySpec::tokens("tokens", 8, 0, 15);
  spec.tokenizer = wordpiece(dir);
  return spec;
}

TEST(Tokenizer, AWordOfSeveralPiecesIsOnePointAndSpecialTokensAreNone) {
  TempDir dir;
  const ModalitySpec spec = wordpiece_tokens(dir);
  InputSpace space({spec}, {torch::tensor({{2, 5, 8, 9, 10, 3, 0, 0}}, torch::kLong)});
  EXPECT_EQ(space.token_positions(0), (std::vector<int64_t>{1, 2, 4}));
  EXPECT_EQ(space.total_points(), 3);
  EXPECT_EQ(space.word_end(0, 2), 4);

  DecouplingSet funny;
  funny.add(DecouplingElement::token(0, 2));
  auto deleted = space.apply({funny}, TextRemoval::kDelete)[0];
  EXPECT_TRUE(deleted.equal(torch::tensor({{2, 5, 10, 3, 0, 0, 0, 0}}, torch::kLong))) << deleted;
  auto masked = space.apply({funny}, TextRemoval::kMask)[0];
  EXPECT_TRUE(masked.equal(torch::tensor({{2, 5, 0, 0, 10, 3, 0, 0}}, torch::kLong))) << masked;
  const PointCount c = space.count(funny);
  EXPECT_EQ(c.decoupled_points(), 1);
  EXPECT_DOUBLE_EQ(c.rate(), 1.0 / 3.0);

  for (int64_t not_a_point : {0, 3, 5, 6}) {  // [CLS], ##ny, [SEP], pad
    DecouplingSet s;
    s.add(DecouplingElement::token(0, not_a_point));
    EXPECT_THROW(space.validate(s), Error) << not_a_point;
  }
}

TEST(Tokenizer, RandomPointMasksKeepWordsWholeAndSpecialTokens) {
  TempDir dir;
  const ModalitySpec spec = wordpiece_tokens(dir);
  const auto row = torch::tensor({{2, 5, 8, 9, 10, 3, 0, 0}}, torch::kLong);
  const Inputs batch = {row.repeat({64, 1})};
  EXPECT_EQ(count_points(batch, {spec})[0][0].item<int64_t>(), 3);
  auto gen = at::detail::createCPUGenerator(5);
  const auto masks = random_keep_masks(batch, {spec}, {1}, gen);
  const auto m = masks[0];
  EXPECT_FALSE(m.select(1, 0).any().item<bool>()) << "[CLS] decoupled";
  EXPECT_FALSE(m.select(1, 5).any().item<bool>()) << "[SEP] decoupled";
  EXPECT_TRUE(m.select(1, 2).equal(m.select(1, 3))) << "fun and ##ny decoupled apart";
  // One word of three kept: two decoupled, which is 2 or 3 positions.
  const auto words_removed =
      m.select(1, 1).to(torch::kLong) + m.select(1, 2).to(torch::kLong) + m.select(1, 4).to(torch::kLong);
  EXPECT_TRUE((words_removed == 2).all().item<bool>());
  const auto x = apply_point_masks(batch, {spec}, masks, TextRemoval::kDelete)[0];
  EXPECT_TRUE((x.select(1, 0) == 2).all().item<bool>());
}

TEST(Resize, AreaAveragesNearestPicksBilinearKeepsAConstant) {
  const auto img = torch::tensor({1.0f, 3.0f, 5.0f, 7.0f}).view({1, 2, 2});
  EXPECT_FLOAT_EQ(resize_image(img, 1, 1, ResizeMode::kArea).item<float>(), 4.0f);
  const auto up = resize_image(img, 4, 4, ResizeMode::kNearest);
  EXPECT_FLOAT_EQ(up[0][0][1].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(up[0][3][3].item<float>(), 7.0f);
  const auto flat = resize_image(torch::full({3, 5, 7}, 0.25f), 8, 8, ResizeMode::kBilinear);
  EXPECT_TRUE(flat.sub(0.25f).abs().max().item<float>() < 1e-6f);
  EXPECT_EQ(flat.sizes(), (std::vector<int64_t>{3, 8, 8}));
  EXPECT_THROW(resize_image(img, 2, 2, ResizeMode::kNone), Error);
}

// ---- a Hateful-Memes-shaped data set, end to end ---------------------------------------------------------------

void write_jpeg(const std::string& path, int width, int height, int seed) {
  std::vector<unsigned char> rgb(static_cast<size_t>(width * height * 3));
  for (size_t i = 0; i < rgb.size(); ++i)
    rgb[i] = static_cast<unsigned char>((i * 37 + static_cast<size_t>(seed) * 101) % 256);
  ASSERT_NE(stbi_write_jpg(path.c_str(), width, height, 3, rgb.data(), 90), 0);
}

using testing_util::CliRun;
CliRun cli(const std::vector<std::string>& args) { return testing_util::run_muroan(args); }

class HatefulMemesShaped : public testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.path() / "img");
    write_text(dir_.file("vocab.txt"), kWordPieceVocab);
    const std::vector<std::string> texts = {
        "this meme is funny", "this is not a cat!",  "cats", "a funny cat meme", "this is a meme",
        "not funny",          "this cat is funny !", "memes"};
    const int sizes[][2] = {{13, 9}, {8, 8}, {20, 16}, {9, 31}, {64, 48}, {8, 8}, {11, 11}, {40, 7}};
    std::string jsonl;
    for (size_t i = 0; i < texts.size(); ++i) {
      const int id = 42950 + static_cast<int>(i);
      write_jpeg(dir_.file("img/" + std::to_string(id) + ".jpg"), sizes[i][0], sizes[i][1], id);
      jsonl += nlohmann::json{{"id", id},
                              {"img", "img/" + std::to_string(id) + ".jpg"},
                              {"label", static_cast<int>(i % 2)},
                              {"text", texts[i]}}
                   .dump() +
               "\n";
    }
    write_text(dir_.file("train.jsonl"), jsonl);
    manifest_ = nlohmann::json::parse(R"({
      "inputs": [
        {"name": "image", "kind": "image", "shape": [1, 8, 8], "resize": "area"},
        {"name": "tokens", "kind": "tokens", "max_len": 6, "pad_id": 0, "vocab_size": 20,
         "tokenizer": {"kind": "wordpiece", "vocab": "vocab.txt"}}
      ],
      "fields": {"image": "img", "tokens": "text"},
      "classes": ["not-hateful", "hateful", "unused"]
    })");
    manifest_["model"] = kTinyModel;
    write_manifest();
  }
  std::string write_manifest() {
    write_text(dir_.file("manifest.json"), manifest_.dump(2));
    return dir_.file("manifest.json");
  }
  TempDir dir_;
  nlohmann::json manifest_;
};

TEST_F(HatefulMemesShaped, LoadsIntegerIdsMappedFieldsMixedJpegsAndRawText) {
  auto model = load_torchscript_model(dir_.file("manifest.json"), torch::kCPU);
  const SampleData data =
      load_samples(dir_.file("train.jsonl"), model->modalities(), model->classes(), model->manifest().fields);
  ASSERT_EQ(data.size(), 8);
  EXPECT_EQ(data.ids[0], "42950");
  EXPECT_EQ(data.inputs[0].sizes(), (std::vector<int64_t>{8, 1, 8, 8}));
  EXPECT_TRUE(data.inputs[0].min().item<float>() >= 0.0f && data.inputs[0].max().item<float>() <= 1.0f);
  // "this meme is funny" -> [CLS] this meme is fun ##ny [SEP]: 7 ids, max_len 6 keeps three words.
  EXPECT_TRUE(data.inputs[1][0].equal(torch::tensor({2, 5, 10, 6, 3, 0}, torch::kLong))) << data.inputs[1][0];
  EXPECT_EQ(data.texts[0], "this meme is funny");
  EXPECT_EQ(data.truncated_texts, 4) << "this meme is funny, this is not a cat!, a funny cat meme, this cat is funny !";

  manifest_["inputs"][0].erase("resize");
  write_manifest();
  auto strict = load_torchscript_model(dir_.file("manifest.json"), torch::kCPU);
  EXPECT_NE(error_of([&] {
              load_samples(dir_.file("train.jsonl"), strict->modalities(), strict->classes(),
                           strict->manifest().fields);
            }).find("train.jsonl:1: field 'img'"),
            std::string::npos);
}

TEST_F(HatefulMemesShaped, IsAttackedEndToEndAndNeverLosesASpecialTokenOrHalfAWord) {
  const auto r =
      cli({"attack", "--manifest", dir_.file("manifest.json"), "--data", dir_.file("train.jsonl"), "--method", "greedy",
           "--samples", "0", "--patch", "2", "--device", "cpu", "--no-timing", "--out", dir_.file("out")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("4 of 8 texts were longer than the input's max_len"), std::string::npos) << r.err;
  auto model = load_torchscript_model(dir_.file("manifest.json"), torch::kCPU);
  const SampleData data =
      load_samples(dir_.file("train.jsonl"), model->modalities(), model->classes(), model->manifest().fields);
  std::ifstream in(dir_.file("out/results.jsonl"));
  int records = 0, token_decouplings = 0;
  std::set<std::string> ids;
  for (std::string line; std::getline(in, line);) {
    const auto rec = nlohmann::json::parse(line);
    ++records;
    ids.insert(rec.at("id").get<std::string>());
    if (!rec.value("success", false)) continue;
    const auto row = data.inputs[1][rec.at("index").get<int64_t>()].contiguous();
    const auto roles = token_roles(row.data_ptr<int64_t>(), row.size(0), 0, model->modalities()[1].tokenizer.get());
    for (const auto& m : rec.at("set").at("modalities")) {
      if (m.at("kind") != "tokens") continue;
      for (const auto& p : m.at("positions")) {
        ++token_decouplings;
        EXPECT_EQ(roles.at(p.get<size_t>()), static_cast<uint8_t>(TokenRole::kWordStart))
            << "position " << p << " is no word start in " << line;
      }
    }
  }
  EXPECT_EQ(records, 8);
  EXPECT_TRUE(ids.count("42950") && ids.count("42957"));
  EXPECT_GT(token_decouplings, 0) << "no word was decoupled: the test shows nothing about words";
  const auto replay = cli({"replay", "--manifest", dir_.file("manifest.json"), "--data", dir_.file("train.jsonl"),
                           "--results", dir_.file("out/results.jsonl"), "--device", "cpu"});
  EXPECT_EQ(replay.code, 0) << replay.err << replay.out;
  RecordProperty("token_decouplings", token_decouplings);
}

TEST_F(HatefulMemesShaped, ManifestMistakesAreOneClearLine) {
  const std::vector<std::pair<std::function<void()>, std::string>> cases = {
      {[&] { manifest_["inputs"][0]["resize"] = "cubic"; }, "field 'resize': expected \"area\""},
      {[&] { manifest_["inputs"][1]["resize"] = "area"; }, "only an image input is resized"},
      {[&] {
         manifest_["inputs"][0]["tokenizer"] = {{"kind", "wordpiece"}};
       },
       "only a tokens input has a tokenizer"},
      {[&] { manifest_["inputs"][1]["vocab_size"] = 10; }, "knows 15 ids, more than the input's vocab_size 10"},
      {[&] { manifest_["inputs"][1]["tokenizer"]["vocab"] = "missing.txt"; }, "missing.txt"},
      {[&] { manifest_["inputs"][1].erase("tokenizer"); }, "has no tokenizer in the manifest"},
  };
  const nlohmann::json original = manifest_;
  for (const auto& [edit, needle] : cases) {
    manifest_ = original;
    edit();
    write_manifest();
    const auto r =
        cli({"info", "--manifest", dir_.file("manifest.json"), "--data", dir_.file("train.jsonl"), "--device", "cpu"});
    EXPECT_NE(r.code, 0) << needle;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << "'" << needle << "' not in: " << r.err;
  }
}

}  // namespace
}  // namespace muroan
