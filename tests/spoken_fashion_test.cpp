// The built-in spoken-fashion task (image, written caption, speech recorded by
// espeak-ng): the generator, its recordings and its oracle. Needs espeak-ng
// (scripts/setup.sh installs it) and Fashion-MNIST, like fashion-match.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <sstream>

#include "../src/data/spoken_fashion.h"
#include "muroan/decoupling.h"
#include "muroan/error.h"
#include "muroan/task.h"
#include "muroan/task_oracle.h"
#include "temp_dir.h"

namespace muroan {
namespace {

constexpr size_t kImage = 0, kCaption = 1, kSpeech = 2;
constexpr int64_t kFrames = data::kSpokenSamples / data::kSpokenFrame;

class SpokenFashion : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    static testing_util::TempDir dir("muroan-spoken-test");
    cache_ = dir.file("cache");
    data_ = new TaskData(load_task("spoken-fashion", options()));
  }
  // 60 test samples, recordings cached in cache_.
  static TaskOptions options() {
    TaskOptions o;
    o.seed = 2;
    o.train_size = 40;
    o.val_size = 20;
    o.test_size = 60;
    o.cache_dir = cache_;
    return o;
  }
  static void TearDownTestSuite() {
    delete data_;
    data_ = nullptr;
  }
  static std::string cache_;
  static TaskData* data_;
};
std::string SpokenFashion::cache_;
TaskData* SpokenFashion::data_ = nullptr;

TEST_F(SpokenFashion, ThreeInputsEachImageWithATrueAndAFalseClaim) {
  const TaskData& d = *data_;
  ASSERT_EQ(d.modalities.size(), 3u);
  EXPECT_TRUE(d.modalities[kImage].is_image());
  EXPECT_TRUE(d.modalities[kCaption].is_tokens());
  EXPECT_TRUE(d.modalities[kSpeech].is_audio());
  EXPECT_EQ(d.modalities[kSpeech].sample_rate, data::kSpokenRate);
  EXPECT_EQ(d.test.size(), 60);
  // Consecutive samples share an image, one true and one false claim: the
  // image alone says nothing.
  for (int64_t i = 0; i + 1 < d.test.size(); i += 2) {
    EXPECT_TRUE(torch::equal(d.test.inputs[kImage][i], d.test.inputs[kImage][i + 1])) << i;
    EXPECT_NE(d.test.labels[i].item<int64_t>(), d.test.labels[i + 1].item<int64_t>()) << i;
  }
  // The caption names no class; the speech holds a word louder than its noise.
  for (const auto& text : d.test.texts)
    EXPECT_TRUE(text == "this is a" || text == "a photo of a" || text == "this is not a" || text == "this is no")
        << text;
  const auto speech = d.test.inputs[kSpeech];
  const auto frame_rms = speech.view({speech.size(0), kFrames, data::kSpokenFrame}).pow(2).mean(2).sqrt();
  EXPECT_TRUE((frame_rms.amax(1) > 5 * frame_rms.amin(1)).all().item<bool>());
  // The recordings were cached, and the same seed gives the same task from the cache.
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(cache_) / "spoken-fashion"));
  const TaskData again = load_task("spoken-fashion", options());
  for (size_t m = 0; m < 3; ++m) EXPECT_TRUE(torch::equal(again.test.inputs[m], d.test.inputs[m])) << m;
}

// Two recordings of one word differ less than recordings of two words: the
// speech really carries the class.
TEST_F(SpokenFashion, RecordingsOfAClassAreItsWord) {
  const auto bag = data::spoken_class(0, 8, cache_), bag_gb = data::spoken_class(2, 8, cache_);
  const auto trouser = data::spoken_class(0, 1, cache_);
  EXPECT_GT(bag.size(), 800u);  // at least 0.1 s of speech
  EXPECT_NE(bag, trouser);
  EXPECT_NE(bag, bag_gb);  // another voice
}

TEST_F(SpokenFashion, OracleReReadsTheClaim) {
  const TaskData& d = *data_;
  auto oracle = make_task_oracle("spoken-fashion", d.vocab);
  ASSERT_NE(oracle, nullptr);
  int64_t negated = 0;
  for (int64_t i = 0; i < d.test.size(); ++i) {
    const Inputs row = slice_rows(d.test.inputs, i, i + 1);
    const int64_t label = d.test.labels[i].item<int64_t>();
    auto truth = oracle->prepare(row, label);
    ASSERT_EQ(truth->judge(DecouplingSet{}, TextRemoval::kDelete).label, label) << i;
    // The whole speech silenced: the class is not heard.
    DecouplingSet speech;
    for (int64_t f = 0; f < kFrames; ++f) speech.add(DecouplingElement::token(kSpeech, f));
    EXPECT_FALSE(truth->judge(speech, TextRemoval::kDelete).label.has_value()) << i;
    // "this" removed: unchanged; the negation removed: reversed.
    std::istringstream words(d.test.texts[static_cast<size_t>(i)]);
    std::string w;
    for (int64_t p = 0; words >> w; ++p) {
      DecouplingSet one;
      one.add(DecouplingElement::token(kCaption, p));
      const auto v = truth->judge(one, TextRemoval::kDelete);
      ASSERT_TRUE(v.label.has_value()) << w;
      if (w == "not" || w == "no") {
        EXPECT_EQ(*v.label, 1 - label) << w;
        ++negated;
      } else {
        EXPECT_EQ(*v.label, label) << w;
      }
    }
  }
  EXPECT_GT(negated, 10);
}

}  // namespace
}  // namespace muroan
