// The built-in tasks: shapes, determinism, balance, answer correctness, cache.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "../src/data/generators.h"
#include "muroan/error.h"
#include "muroan/task.h"
#include "temp_dir.h"

namespace muroan {
namespace {

namespace fs = std::filesystem;

TaskOptions small_options(uint64_t seed, int64_t train = 200, int64_t val = 100, int64_t test = 100) {
  TaskOptions o;
  o.seed = seed;
  o.train_size = train;
  o.val_size = val;
  o.test_size = test;
  o.cache_dir = "";
  return o;
}

// A fresh directory, removed at the end of the test.
// A TempDir named after this test program.
class TempDir : public testing_util::TempDir {
 public:
  TempDir() : testing_util::TempDir("muroan-data-test") {}
};

std::vector<std::string> words_of(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

bool same_split(const Split& a, const Split& b) {
  if (a.inputs.size() != b.inputs.size()) return false;
  for (size_t m = 0; m < a.inputs.size(); ++m)
    if (!a.inputs[m].equal(b.inputs[m])) return false;
  return a.labels.equal(b.labels) && a.ids == b.ids && a.texts == b.texts;
}

bool same_task(const TaskData& a, const TaskData& b) {
  return a.task == b.task && a.classes == b.classes && a.vocab.words() == b.vocab.words() &&
         same_split(a.train, b.train) && same_split(a.val, b.val) && same_split(a.test, b.test);
}

// Checks what every split of every task promises.
void expect_well_formed(const TaskData& data, int64_t channels, int64_t side) {
  ASSERT_EQ(data.modalities.size(), 2u);
  EXPECT_TRUE(data.modalities[0].is_image());
  EXPECT_EQ(data.modalities[0].shape, (std::vector<int64_t>{channels, side, side}));
  EXPECT_EQ(data.modalities[0].fill, 0.0);
  EXPECT_TRUE(data.modalities[1].is_tokens());
  EXPECT_EQ(data.modalities[1].max_len(), 12);
  EXPECT_EQ(data.modalities[1].pad_id, 0);
  EXPECT_EQ(data.modalities[1].vocab_size, data.vocab.size());
  const std::vector<std::pair<const Split*, std::string>> splits = {
      {&data.train, "train"}, {&data.val, "val"}, {&data.test, "test"}};
  for (const auto& [split, name] : splits) {
    SCOPED_TRACE(name);
    const int64_t n = split->size();
    ASSERT_GT(n, 0);
    ASSERT_EQ(split->inputs.size(), 2u);
    const auto& images = split->inputs[0];
    const auto& tokens = split->inputs[1];
    EXPECT_EQ(images.dtype(), torch::kFloat);
    EXPECT_EQ(images.sizes(), (std::vector<int64_t>{n, channels, side, side}));
    EXPECT_GE(images.min().item<float>(), 0.0f);
    EXPECT_LE(images.max().item<float>(), 1.0f);
    EXPECT_GT(images.max().item<float>(), 0.5f);  // not blank
    EXPECT_EQ(tokens.dtype(), torch::kLong);
    EXPECT_EQ(tokens.sizes(), (std::vector<int64_t>{n, 12}));
    EXPECT_GE(tokens.min().item<int64_t>(), 0);
    EXPECT_LT(tokens.max().item<int64_t>(), data.vocab.size());
    EXPECT_EQ(split->labels.dtype(), torch::kLong);
    EXPECT_GE(split->labels.min().item<int64_t>(), 0);
    EXPECT_LT(split->labels.max().item<int64_t>(), static_cast<int64_t>(data.classes.size()));
    ASSERT_EQ(static_cast<int64_t>(split->ids.size()), n);
    ASSERT_EQ(static_cast<int64_t>(split->texts.size()), n);
    EXPECT_EQ(split->ids[0], name + "-000000");
    EXPECT_EQ(split->ids[17], name + "-000017");
    EXPECT_EQ(std::set<std::string>(split->ids.begin(), split->ids.end()).size(), static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(data.vocab.decode(tokens[i]), split->texts[static_cast<size_t>(i)]);
      ASSERT_NE(tokens[i][0].item<int64_t>(), Vocabulary::kUnkId);
    }
    // Padding only at the end: no real token after a pad.
    auto is_pad = tokens.eq(0).to(torch::kLong);
    EXPECT_TRUE(std::get<0>(is_pad.cummax(1)).equal(is_pad));
  }
}

// ---- registry ------------------------------------------------------------------------

TEST(TaskRegistry, CatalogListsEveryTask) {
  const auto catalog = task_catalog();
  ASSERT_EQ(catalog.size(), 4u);
  EXPECT_EQ(catalog[0].name, "fashion-match");
  EXPECT_EQ(catalog[1].name, "shapes-vqa");
  EXPECT_EQ(catalog[2].name, "triage");
  EXPECT_EQ(catalog[3].name, "spoken-fashion");
  for (const auto& t : catalog) EXPECT_FALSE(t.description.empty());
}

TEST(TaskRegistry, UnknownTaskThrowsUsageError) {
  try {
    load_task("x", small_options(1));
    FAIL() << "no exception";
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()), "unknown task 'x' (known: fashion-match, shapes-vqa, triage, spoken-fashion)");
  }
}

TEST(TaskRegistry, NegativeSizeThrowsUsageError) {
  auto o = small_options(1);
  o.val_size = -3;
  EXPECT_THROW(load_task("shapes-vqa", o), UsageError);
}

TEST(Rng, UniformIsInRangeAndCoversIt) {
  data::Rng rng(7);
  std::vector<int> hits(7, 0);
  for (int i = 0; i < 7000; ++i) {
    const int64_t v = rng.uniform(7);
    ASSERT_GE(v, 0);
    ASSERT_LT(v, 7);
    ++hits[static_cast<size_t>(v)];
  }
  for (int h : hits) EXPECT_NEAR(h, 1000, 150);
  EXPECT_NE(data::stream_seed(1, "a/train"), data::stream_seed(1, "a/val"));
  EXPECT_NE(data::stream_seed(1, "a/train"), data::stream_seed(2, "a/train"));
}

// ---- fashion-match -------------------------------------------------------------------

int fashion_class_of_word(const std::string& name) {
  for (int c = 0; c < 10; ++c)
    if (name == data::kFashionClassNames[static_cast<size_t>(c)]) return c;
  ADD_FAILURE() << "unknown class word " << name;
  return -1;
}

// A caption parsed from its words alone, independently of the generator's
// caption structures: its template (the class word replaced by "{cls}"), the
// class it names and whether it is negated.
struct ParsedCaption {
  std::string templ;
  int cls = -1;
  bool negated = false;
};

ParsedCaption parse_caption(const std::string& text) {
  const auto w = words_of(text);
  ParsedCaption p;
  if (w.empty()) {
    ADD_FAILURE() << "empty caption";
    return p;
  }
  p.cls = fashion_class_of_word(w.back());
  for (size_t i = 0; i + 1 < w.size(); ++i) p.templ += w[i] + " ";
  p.templ += "{cls}";
  if (p.templ == "this is not a {cls}" || p.templ == "this is no {cls}")
    p.negated = true;
  else if (p.templ != "this is a {cls}" && p.templ != "a photo of a {cls}")
    ADD_FAILURE() << "unexpected caption '" << text << "'";
  return p;
}

bool caption_truth_from_text(const std::string& text, int item_class) {
  const ParsedCaption p = parse_caption(text);
  return (p.cls == item_class) != p.negated;
}

// Whether `image` (uint8 [1, 56, 56]) is the 28x28 `item` upscaled 2x by
// nearest neighbour: pixel (r, c) is item pixel (r / 2, c / 2).
::testing::AssertionResult is_upscaled_item(const torch::Tensor& image, const uint8_t* item) {
  if (image.sizes().vec() != std::vector<int64_t>{1, 56, 56})
    return ::testing::AssertionFailure() << "shape " << image.sizes();
  const auto img = image.contiguous();
  const uint8_t* p = img.data_ptr<uint8_t>();
  for (int r = 0; r < 56; ++r)
    for (int c = 0; c < 56; ++c)
      if (p[r * 56 + c] != item[(r / 2) * 28 + c / 2])
        return ::testing::AssertionFailure() << "pixel (" << r << ", " << c << ") differs";
  return ::testing::AssertionSuccess();
}

const uint8_t* item_pixels(const data::FashionImages& source, int64_t item) {
  return source.pixels.data() + static_cast<size_t>(item) * 784;
}

TEST(FashionMatch, WellFormed) {
  const TaskData data = load_task("fashion-match", small_options(1));
  EXPECT_EQ(data.task, "fashion-match");
  EXPECT_EQ(data.classes, (std::vector<std::string>{"false", "true"}));
  expect_well_formed(data, 1, 56);
  EXPECT_EQ(data.train.size(), 200);
  EXPECT_EQ(data.val.size(), 100);
  EXPECT_EQ(data.test.size(), 100);
  // The vocabulary is fixed by the templates, not by the seed: <pad>, <unk>,
  // the template words and the ten class names.
  EXPECT_EQ(data.vocab.words(), load_task("fashion-match", small_options(5)).vocab.words());
  EXPECT_EQ(data.vocab.id("<pad>"), 0);
  EXPECT_EQ(data.vocab.size(), 2 + 7 + 10);
  for (const char* w : {"this", "is", "a", "photo", "of", "not", "no"})
    EXPECT_NE(data.vocab.id(w), Vocabulary::kUnkId) << w;
  for (const char* w : data::kFashionClassNames) EXPECT_NE(data.vocab.id(w), Vocabulary::kUnkId) << w;
  // Every caption parses as one of the four templates.
  for (const auto& text : data.train.texts) parse_caption(text);
}

TEST(FashionMatch, DeterministicInSeed) {
  const TaskData a = load_task("fashion-match", small_options(3));
  const TaskData b = load_task("fashion-match", small_options(3));
  const TaskData c = load_task("fashion-match", small_options(4));
  EXPECT_TRUE(same_task(a, b));
  EXPECT_FALSE(a.train.inputs[0].equal(c.train.inputs[0]));
  EXPECT_NE(a.train.texts, c.train.texts);
  EXPECT_FALSE(a.test.inputs[0].equal(c.test.inputs[0]));
}

TEST(FashionMatch, EveryImageComesWithATrueAndAFalseCaption) {
  const TaskData data = load_task("fashion-match", small_options(2, 400, 100, 100));
  for (const Split* split : {&data.train, &data.val, &data.test}) {
    const auto& images = split->inputs[0];
    const auto labels = split->labels;
    EXPECT_EQ(labels.sum().item<int64_t>() * 2, split->size());  // exactly half true
    std::set<std::string> templates;
    for (int64_t i = 0; i + 1 < split->size(); i += 2) {
      ASSERT_TRUE(images[i].equal(images[i + 1])) << i;
      ASSERT_NE(labels[i].item<int64_t>(), labels[i + 1].item<int64_t>()) << i;
      // Both captions come from one template and name different classes.
      const auto first = parse_caption(split->texts[static_cast<size_t>(i)]);
      const auto second = parse_caption(split->texts[static_cast<size_t>(i + 1)]);
      ASSERT_EQ(first.templ, second.templ) << i;
      ASSERT_NE(first.cls, second.cls) << i;
      templates.insert(first.templ);
    }
    EXPECT_EQ(templates.size(), 4u);
    // Which of the pair is true varies.
    auto first = labels.slice(0, 0, split->size(), 2);
    EXPECT_GT(first.sum().item<int64_t>(), 0);
    EXPECT_LT(first.sum().item<int64_t>(), first.size(0));
  }
  // Images differ between pairs.
  EXPECT_FALSE(data.train.inputs[0][0].equal(data.train.inputs[0][2]));
  // An odd size leaves the last image with one caption.
  const TaskData odd = load_task("fashion-match", small_options(2, 7, 5, 3));
  EXPECT_EQ(odd.train.size(), 7);
  EXPECT_EQ(odd.val.size(), 5);
  EXPECT_EQ(odd.test.size(), 3);
  EXPECT_FALSE(odd.train.inputs[0][5].equal(odd.train.inputs[0][6]));
}

TEST(FashionMatch, LabelsAreTheTruthOfTheCaptionsOnTheItem) {
  const auto source = data::load_fashion_mnist(data::fashion_mnist_dir(), "train");
  const auto vocab = data::fashion_vocabulary();
  const auto plan = data::plan_fashion_split(9, "val", 300, *source, 50000, 60000);
  const auto raw = data::build_fashion_split(plan, "val", *source, vocab);
  ASSERT_EQ(raw.size(), 300);
  ASSERT_EQ(plan.scenes.size(), 150u);
  ASSERT_EQ(raw.scenes.sizes(), (std::vector<int64_t>{150, 1, 56, 56}));
  for (int64_t i = 0; i < raw.size(); ++i) {
    const auto& [scene_id, caption] = plan.samples[static_cast<size_t>(i)];
    ASSERT_EQ(scene_id, i / 2);
    const auto& scene = plan.scenes[static_cast<size_t>(scene_id)];
    const int item_class = source->labels[static_cast<size_t>(scene.item)];
    const std::string& text = raw.texts[static_cast<size_t>(i)];
    ASSERT_EQ(text, data::fashion_caption_text(caption));
    ASSERT_EQ(raw.labels[i].item<int64_t>() == 1, caption_truth_from_text(text, item_class))
        << text << " on a " << data::kFashionClassNames[static_cast<size_t>(item_class)];
    ASSERT_EQ(caption.truth, data::fashion_caption_truth(caption, item_class)) << text;
    ASSERT_EQ(raw.scene_index[i].item<int64_t>(), scene_id);
  }
  // Of each pair, exactly one caption names the item's class: the true one of
  // an affirmative template, the false one of a negated one.
  for (size_t s = 0; s < plan.scenes.size(); ++s) {
    const int item_class = source->labels[static_cast<size_t>(plan.scenes[s].item)];
    int naming_item = 0;
    for (size_t k = 2 * s; k < 2 * s + 2; ++k) {
      const auto p = parse_caption(raw.texts[k]);
      if (p.cls == item_class) {
        ++naming_item;
        ASSERT_EQ(raw.labels[static_cast<int64_t>(k)].item<int64_t>() == 1, !p.negated);
      }
    }
    ASSERT_EQ(naming_item, 1) << "scene " << s;
  }
  // Each image is its item upscaled 2x, pixel for pixel.
  for (size_t s = 0; s < plan.scenes.size(); ++s) {
    const auto& scene = plan.scenes[s];
    ASSERT_GE(scene.item, 50000);
    ASSERT_LT(scene.item, 60000);
    ASSERT_EQ(scene.class_id, source->labels[static_cast<size_t>(scene.item)]);
    ASSERT_TRUE(is_upscaled_item(raw.scenes[static_cast<int64_t>(s)], item_pixels(*source, scene.item)))
        << "scene " << s;
  }
}

TEST(FashionMatch, LoadTaskFollowsThePlan) {
  // load_task's splits are the plans of the "train", "val" and "test" streams
  // over items 0-49999 and 50000-59999 of the training file and all of the test
  // file, turned into floats.
  const TaskData data = load_task("fashion-match", small_options(9, 20, 300, 30));
  const auto train_file = data::load_fashion_mnist(data::fashion_mnist_dir(), "train");
  const auto test_file = data::load_fashion_mnist(data::fashion_mnist_dir(), "t10k");
  ASSERT_EQ(train_file->count, 60000);
  ASSERT_EQ(test_file->count, 10000);
  struct Expected {
    const Split* split;
    std::string name;
    const data::FashionImages* source;
    int64_t begin, end;
  };
  for (const auto& e : {Expected{&data.train, "train", train_file.get(), 0, 50000},
                        Expected{&data.val, "val", train_file.get(), 50000, 60000},
                        Expected{&data.test, "test", test_file.get(), 0, 10000}}) {
    SCOPED_TRACE(e.name);
    const auto plan = data::plan_fashion_split(9, e.name, e.split->size(), *e.source, e.begin, e.end);
    const auto raw = data::build_fashion_split(plan, e.name, *e.source, data::fashion_vocabulary());
    EXPECT_TRUE(e.split->labels.equal(raw.labels));
    EXPECT_EQ(e.split->texts, raw.texts);
    EXPECT_TRUE(e.split->inputs[0].equal(raw.scenes.index_select(0, raw.scene_index).to(torch::kFloat) / 255.0));
  }
}

TEST(FashionMatch, NeitherModalityAloneDecides) {
  const auto source = data::load_fashion_mnist(data::fashion_mnist_dir(), "train");
  const auto train = data::plan_fashion_split(11, "train", 6000, *source, 0, 50000);
  const auto held_out = data::plan_fashion_split(11, "val", 3000, *source, 50000, 60000);

  // The image alone: every image has exactly one true and one false caption.
  std::vector<int> true_of_scene(train.scenes.size(), 0), total_of_scene(train.scenes.size(), 0);
  for (const auto& [scene, caption] : train.samples) {
    true_of_scene[static_cast<size_t>(scene)] += caption.truth;
    ++total_of_scene[static_cast<size_t>(scene)];
  }
  for (size_t s = 0; s < train.scenes.size(); ++s) {
    ASSERT_EQ(total_of_scene[s], 2) << s;
    ASSERT_EQ(true_of_scene[s], 1) << s;
  }

  // The text alone: every template is used and true exactly half of the time;
  // each word is true about half of the time.
  std::map<std::string, std::pair<int, int>> by_template, by_word, by_text;  // (true, total)
  for (const auto& [scene, caption] : train.samples) {
    const std::string text = data::fashion_caption_text(caption);
    auto& t = by_template[parse_caption(text).templ];
    t.first += caption.truth;
    ++t.second;
    for (const auto& w : words_of(text)) {
      by_word[w].first += caption.truth;
      ++by_word[w].second;
    }
    by_text[text].first += caption.truth;
    ++by_text[text].second;
  }
  EXPECT_EQ(by_template.size(), 4u);
  for (const auto& [templ, count] : by_template) {
    EXPECT_EQ(2 * count.first, count.second) << templ;
    EXPECT_GT(count.second, 1200) << templ;
  }
  EXPECT_EQ(by_word.size(), 17u);
  for (const auto& [word, count] : by_word)
    EXPECT_NEAR(static_cast<double>(count.first) / count.second, 0.5, 0.06) << word;

  // Each of the 40 caption strings is true about half of the time (on a larger
  // plan: ~1000 samples each, so a standard error of ~0.016).
  const auto large = data::plan_fashion_split(12, "train", 40000, *source, 0, 50000);
  std::map<std::string, std::pair<int, int>> large_by_text;
  for (const auto& [scene, caption] : large.samples) {
    auto& t = large_by_text[data::fashion_caption_text(caption)];
    t.first += caption.truth;
    ++t.second;
  }
  EXPECT_EQ(large_by_text.size(), 40u);
  for (const auto& [text, count] : large_by_text)
    EXPECT_NEAR(static_cast<double>(count.first) / count.second, 0.5, 0.07) << text;

  // The best text-only rule (the majority label of each caption string, learnt
  // on 6000 samples of one split) is at chance on another.
  int correct = 0;
  for (const auto& [scene, caption] : held_out.samples) {
    const auto it = by_text.find(data::fashion_caption_text(caption));
    const bool guess = it != by_text.end() && 2 * it->second.first > it->second.second;
    correct += guess == caption.truth;
  }
  const double text_only = static_cast<double>(correct) / held_out.samples.size();
  EXPECT_NEAR(text_only, 0.5, 0.04);
}

TEST(FashionMatch, ItemsAreDrawnWithoutReplacement) {
  const auto source = data::load_fashion_mnist(data::fashion_mnist_dir(), "train");
  const auto plan = data::plan_fashion_split(4, "val", 4000, *source, 50000, 60000);
  std::set<int64_t> items;
  for (const auto& scene : plan.scenes) items.insert(scene.item);
  EXPECT_EQ(items.size(), 2000u);
  // More images than items: every item once per round.
  const auto small = data::plan_fashion_split(4, "val", 60, *source, 100, 110);
  ASSERT_EQ(small.scenes.size(), 30u);
  std::map<int64_t, int> uses;
  for (size_t s = 0; s < 30; ++s) {
    ++uses[small.scenes[s].item];
    if (s % 10 == 9) {
      ASSERT_EQ(uses.size(), 10u) << s;
      for (const auto& [item, n] : uses) ASSERT_EQ(n, static_cast<int>(s / 10 + 1)) << item;
    }
  }
  EXPECT_EQ(uses.begin()->first, 100);
  EXPECT_EQ(uses.rbegin()->first, 109);
}

TEST(FashionMatch, TrainValidationAndTestUseDisjointItems) {
  // Images of train and val never show the same item (val is items 50000+ of
  // the training file); test images come from the other file (checked by
  // LoadTaskFollowsThePlan). Compared by pixels, recovered from the generated
  // images by taking one pixel of each 2x2 block.
  const auto task = data::generate_fashion_match(5, {8000, 8000, 10});
  auto items = [](const data::RawSplit& split) {
    std::set<std::string> out;
    for (int64_t s = 0; s < split.scenes.size(0); ++s) {
      const auto image = split.scenes[s][0];
      const auto item = image.slice(0, 0, 56, 2).slice(1, 0, 56, 2).contiguous();
      // Each 2x2 block is one pixel.
      EXPECT_TRUE(image.equal(item.repeat_interleave(2, 0).repeat_interleave(2, 1))) << s;
      out.emplace(static_cast<const char*>(item.data_ptr()), 784);
    }
    return out;
  };
  const auto train = items(task.splits[0]);
  const auto val = items(task.splits[1]);
  // 4000 images each, of distinct items (but for the few exact duplicate images
  // that Fashion-MNIST holds).
  EXPECT_GT(train.size(), 3990u);
  EXPECT_GT(val.size(), 3990u);
  int shared = 0;
  for (const auto& q : val) shared += train.count(q) ? 1 : 0;
  // Overlapping ranges would share ~270 items (4000 x 4000 / 60000).
  EXPECT_LE(shared, 3);
}

TEST(FashionMatch, MissingOrCorruptFilesThrowInputErrorNamingTheFile) {
  TempDir dir;
  auto load = [&] { return data::load_fashion_mnist(dir.path().string(), "train"); };
  try {
    load();
    FAIL() << "no exception";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("train-images-idx3-ubyte.gz"), std::string::npos) << e.what();
  }
  std::ofstream(dir.path() / "train-images-idx3-ubyte.gz") << "not an idx file at all";
  std::ofstream(dir.path() / "train-labels-idx1-ubyte.gz") << "nor this";
  try {
    load();
    FAIL() << "no exception";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("train-images-idx3-ubyte.gz"), std::string::npos) << e.what();
  }
  // And through load_task, with the directory from the environment.
  ASSERT_EQ(::setenv("MUROAN_FASHION_MNIST_DIR", dir.path().c_str(), 1), 0);
  EXPECT_THROW(load_task("fashion-match", small_options(1)), InputError);
  ::unsetenv("MUROAN_FASHION_MNIST_DIR");
}

// ---- shapes-vqa ----------------------------------------------------------------------

using data::ShapesObject;
using data::ShapesQuestion;
using data::ShapesQuestionType;
using data::ShapesScene;

int64_t class_index(const char* name) {
  for (size_t i = 0; i < data::kShapesClasses.size(); ++i)
    if (std::string(name) == data::kShapesClasses[i]) return static_cast<int64_t>(i);
  return -1;
}

TEST(ShapesVqa, WellFormed) {
  const TaskData data = load_task("shapes-vqa", small_options(1, 300, 90, 90));
  EXPECT_EQ(data.task, "shapes-vqa");
  EXPECT_EQ(data.classes, (std::vector<std::string>{"no", "yes", "circle", "square", "1", "2", "3", "4", "5"}));
  expect_well_formed(data, 3, 64);
  // Every answer occurs but "5" (four objects; the class stays for the oracle's recomputed counts).
  auto counts = torch::bincount(data.train.labels, {}, 9);
  for (int64_t k = 0; k < 8; ++k) EXPECT_GT(counts[k].item<int64_t>(), 0) << data.classes[k];
  EXPECT_EQ(counts[8].item<int64_t>(), 0);
  // One question per scene.
  const auto& images = data.train.inputs[0];
  EXPECT_FALSE(images[0].equal(images[1]));
  EXPECT_FALSE(images[1].equal(images[2]));
}

TEST(ShapesVqa, DeterministicInSeed) {
  const TaskData a = load_task("shapes-vqa", small_options(3, 60, 30, 30));
  const TaskData b = load_task("shapes-vqa", small_options(3, 60, 30, 30));
  const TaskData c = load_task("shapes-vqa", small_options(4, 60, 30, 30));
  EXPECT_TRUE(same_task(a, b));
  EXPECT_FALSE(a.train.inputs[0].equal(c.train.inputs[0]));
  EXPECT_NE(a.train.texts, c.train.texts);
  // Splits are different streams.
  EXPECT_FALSE(a.val.inputs[0].slice(0, 0, 30).equal(a.test.inputs[0].slice(0, 0, 30)));
}

TEST(ShapesVqa, AnswersOnAHandBuiltScene) {
  // red circle (10,10), green square (50,12), blue square (12,50),
  // orange circle (54,54), yellow circle (40,40)
  ShapesScene scene;
  scene.grey_background = true;
  scene.objects = {{0, false, 10, 10}, {1, true, 50, 12}, {2, true, 12, 50}, {3, false, 54, 54}, {4, false, 40, 40}};
  auto ask = [&](ShapesQuestionType t, int color) {
    return data::kShapesClasses[static_cast<size_t>(data::shapes_answer(scene, {t, color}))];
  };
  using T = ShapesQuestionType;
  EXPECT_STREQ(ask(T::kShape, 0), "circle");
  EXPECT_STREQ(ask(T::kShape, 1), "square");
  EXPECT_STREQ(ask(T::kLeft, 0), "yes");
  EXPECT_STREQ(ask(T::kLeft, 1), "no");
  EXPECT_STREQ(ask(T::kTop, 1), "yes");
  EXPECT_STREQ(ask(T::kTop, 2), "no");
  // Closest to orange (54,54) is yellow (40,40): circle; farthest is red: circle.
  EXPECT_STREQ(ask(T::kClosestShape, 3), "circle");
  EXPECT_STREQ(ask(T::kFarthestShape, 3), "circle");
  // Closest to green (50,12): yellow (40,40) d^2=884 vs red (10,10) 1604 -> circle;
  // farthest from green: blue (12,50) d^2=2888 vs orange 1780 -> square.
  EXPECT_STREQ(ask(T::kClosestShape, 1), "circle");
  EXPECT_STREQ(ask(T::kFarthestShape, 1), "square");
  EXPECT_STREQ(ask(T::kCount, 0), "3");
  EXPECT_STREQ(ask(T::kCount, 2), "2");
  EXPECT_THROW(data::shapes_answer(scene, {T::kShape, 5}), Error);  // no purple object
  EXPECT_EQ(data::shapes_question_text({T::kFarthestShape, 1}),
            "what shape is the object farthest from the green object");

  std::vector<uint8_t> img(3 * 64 * 64);
  data::render_shapes_scene(scene, img.data());
  auto px = [&](int ch, int x, int y) { return img[static_cast<size_t>(ch * 4096 + y * 64 + x)]; };
  EXPECT_EQ(px(0, 10, 10), data::kShapesColors[0][0]);       // red centre
  EXPECT_EQ(px(1, 50, 12), data::kShapesColors[1][1]);       // green centre
  EXPECT_EQ(px(2, 55, 17), data::kShapesColors[1][2]);       // square corner drawn
  EXPECT_EQ(px(0, 15, 15), data::kShapesGreyBackground[0]);  // circle corner not
  EXPECT_EQ(px(0, 14, 10), data::kShapesColors[0][0]);       // circle edge drawn (r^2 = 16)
  EXPECT_EQ(px(0, 15, 10), data::kShapesGreyBackground[0]);  // one pixel further not
  EXPECT_EQ(px(0, 32, 5), data::kShapesGreyBackground[0]);   // background
}

TEST(ShapesVqa, GeneratedScenesAreValidAndAnswersCorrect) {
  const TaskData data = load_task("shapes-vqa", small_options(13, 600, 30, 30));
  const auto plan = data::plan_shapes_split(13, "train", 600);
  ASSERT_EQ(plan.samples.size(), 600u);
  ASSERT_EQ(plan.scenes.size(), 600u);  // one question per scene
  const auto images = (data.train.inputs[0] * 255).round().to(torch::kUInt8);
  for (size_t s = 0; s < plan.scenes.size(); ++s) {
    const auto& objects = plan.scenes[s].objects;
    ASSERT_EQ(objects.size(), 4u);
    std::set<int> colors, cells;
    for (const auto& o : objects) {
      ASSERT_LT(o.color, data::kShapesSceneColors);
      colors.insert(o.color);
      // In its own 16 px cell, the whole 11 px object inside it (so never on the midline).
      const int cx = o.x / 16, cy = o.y / 16;
      cells.insert(cy * 4 + cx);
      ASSERT_LE(std::abs(o.x - (cx * 16 + 8)), 2) << o.x;
      ASSERT_LE(std::abs(o.y - (cy * 16 + 8)), 2) << o.y;
      ASSERT_GE(o.x - 5, cx * 16);
      ASSERT_LE(o.x + 5, cx * 16 + 15);
    }
    ASSERT_EQ(colors.size(), 4u);
    ASSERT_EQ(cells.size(), 4u);
    // The image is the rendering of the scene.
    std::vector<uint8_t> img(3 * 64 * 64);
    data::render_shapes_scene(plan.scenes[s], img.data());
    ASSERT_TRUE(images[static_cast<int64_t>(s)].equal(torch::from_blob(img.data(), {3, 64, 64}, torch::kUInt8)));
  }
  // Answers recomputed here, by brute force, from the scene description.
  for (int64_t i = 0; i < 600; ++i) {
    const auto& [s, q] = plan.samples[static_cast<size_t>(i)];
    ASSERT_EQ(s, i);
    const auto& objects = plan.scenes[static_cast<size_t>(s)].objects;
    const ShapesObject* ref = nullptr;
    for (const auto& o : objects)
      if (o.color == q.color) ref = &o;
    ASSERT_NE(ref, nullptr);
    std::string expected;
    switch (q.type) {
      case ShapesQuestionType::kShape:
        expected = ref->square ? "square" : "circle";
        break;
      case ShapesQuestionType::kLeft:
        expected = ref->x + 0.5 < 32 ? "yes" : "no";
        break;
      case ShapesQuestionType::kTop:
        expected = ref->y + 0.5 < 32 ? "yes" : "no";
        break;
      case ShapesQuestionType::kCount: {
        int n = 0;
        for (const auto& o : objects) n += o.square == ref->square;
        expected = std::to_string(n);
        break;
      }
      default:
        FAIL() << "a relational question was generated: " << data::shapes_question_text(q);
    }
    ASSERT_EQ(data.classes[static_cast<size_t>(data.train.labels[i].item<int64_t>())], expected)
        << data.train.texts[static_cast<size_t>(i)];
    ASSERT_EQ(data.train.texts[static_cast<size_t>(i)], data::shapes_question_text(q));
  }
}

TEST(ShapesVqa, AnswersAreReasonablyBalanced) {
  const auto plan = data::plan_shapes_split(21, "train", 8000);
  std::vector<int> counts(9, 0);
  std::map<ShapesQuestionType, int> types;
  for (const auto& [s, q] : plan.samples) {
    ++counts[static_cast<size_t>(data::shapes_answer(plan.scenes[static_cast<size_t>(s)], q))];
    ++types[q.type];
  }
  EXPECT_EQ(types.size(), 4u);  // shape, left, top, count, each a quarter
  for (const auto& [type, n] : types) EXPECT_NEAR(n / 8000.0, 0.25, 0.02);
  const double n = 8000;
  // Each object's shape is a fair coin, so a count question's answer k (the
  // objects that share the asked object's shape) has probability C(4,k) k / 32.
  const std::map<std::string, double> count_share = {
      {"1", 4.0 / 32}, {"2", 12.0 / 32}, {"3", 12.0 / 32}, {"4", 4.0 / 32}, {"5", 0.0}};
  for (const auto& [k, p] : count_share)
    EXPECT_NEAR(counts[static_cast<size_t>(class_index(k.c_str()))] / n, p / 4, 0.012) << k;
  EXPECT_NEAR(counts[static_cast<size_t>(class_index("circle"))] / n, 1.0 / 8, 0.02);
  EXPECT_NEAR(counts[static_cast<size_t>(class_index("square"))] / n, 1.0 / 8, 0.02);
  EXPECT_NEAR(counts[static_cast<size_t>(class_index("yes"))] / n, 1.0 / 4, 0.025);
  EXPECT_NEAR(counts[static_cast<size_t>(class_index("no"))] / n, 1.0 / 4, 0.025);
  // No class dominates: the majority answer (yes or no) is right for about a quarter.
  EXPECT_LT(*std::max_element(counts.begin(), counts.end()) / n, 0.27);
}

// ---- cache ---------------------------------------------------------------------------

// "<stem>-v<version>": the name of a cache entry.
std::string cache_entry(const std::string& stem) { return stem + "-v" + std::to_string(data::kCacheFormatVersion); }

TEST(TaskCache, RoundTripGivesIdenticalData) {
  TempDir dir;
  auto o = small_options(6, 90, 30, 30);
  o.cache_dir = (dir.path() / "nested" / "cache").string();
  const TaskData fresh = load_task("shapes-vqa", small_options(6, 90, 30, 30));
  const TaskData first = load_task("shapes-vqa", o);
  const fs::path entry = fs::path(o.cache_dir) / cache_entry("shapes-vqa-s6-90-30-30");
  ASSERT_TRUE(fs::exists(entry / "meta.json"));
  ASSERT_TRUE(fs::exists(entry / "train.bin"));
  // Nothing temporary left behind.
  int entries = 0;
  for (const auto& e : fs::directory_iterator(o.cache_dir)) {
    ++entries;
    EXPECT_EQ(e.path().filename(), entry.filename());
  }
  EXPECT_EQ(entries, 1);
  const auto written = fs::last_write_time(entry / "train.bin");
  const TaskData second = load_task("shapes-vqa", o);
  EXPECT_EQ(fs::last_write_time(entry / "train.bin"), written);  // read, not rewritten
  EXPECT_TRUE(same_task(fresh, first));
  EXPECT_TRUE(same_task(fresh, second));
  EXPECT_EQ(second.modalities[0].shape, fresh.modalities[0].shape);
  EXPECT_EQ(second.modalities[1].vocab_size, fresh.modalities[1].vocab_size);

  // The same for fashion-match, whose images are grey.
  o.cache_dir = dir.path().string();
  const TaskData f1 = load_task("fashion-match", o);
  const TaskData f2 = load_task("fashion-match", o);
  EXPECT_TRUE(fs::exists(dir.path() / cache_entry("fashion-match-s6-90-30-30") / "meta.json"));
  EXPECT_TRUE(same_task(f1, f2));
  EXPECT_TRUE(same_task(f1, load_task("fashion-match", small_options(6, 90, 30, 30))));
}

TEST(TaskCache, CorruptEntryIsRegenerated) {
  TempDir dir;
  auto o = small_options(8, 60, 30, 30);
  o.cache_dir = dir.path().string();
  const TaskData reference = load_task("fashion-match", o);
  const fs::path entry = dir.path() / cache_entry("fashion-match-s8-60-30-30");
  const auto good_size = fs::file_size(entry / "train.bin");

  {  // flip one byte in the middle of the images
    std::fstream f(entry / "train.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(good_size / 2));
    char c = 0;
    f.read(&c, 1);
    f.seekp(static_cast<std::streamoff>(good_size / 2));
    c = static_cast<char>(c ^ 0x5a);
    f.write(&c, 1);
  }
  EXPECT_TRUE(same_task(reference, load_task("fashion-match", o)));
  EXPECT_TRUE(same_task(reference, load_task("fashion-match", o)));  // the rewritten entry

  fs::resize_file(entry / "val.bin", 100);  // truncated
  EXPECT_TRUE(same_task(reference, load_task("fashion-match", o)));
  EXPECT_GT(fs::file_size(entry / "val.bin"), 100u);

  std::ofstream(entry / "meta.json") << "{\"format\": 1, \"task\": ";  // cut short
  EXPECT_TRUE(same_task(reference, load_task("fashion-match", o)));

  fs::remove(entry / "test.bin");  // missing file
  EXPECT_TRUE(same_task(reference, load_task("fashion-match", o)));
  EXPECT_TRUE(fs::exists(entry / "test.bin"));
}

TEST(TaskCache, EntriesDependOnSeedAndSizes) {
  TempDir dir;
  auto o = small_options(1, 30, 30, 30);
  o.cache_dir = dir.path().string();
  const TaskData a = load_task("shapes-vqa", o);
  o.seed = 2;
  const TaskData b = load_task("shapes-vqa", o);
  o.train_size = 60;
  const TaskData c = load_task("shapes-vqa", o);
  EXPECT_FALSE(a.train.inputs[0].equal(b.train.inputs[0]));
  EXPECT_EQ(c.train.size(), 60);
  EXPECT_TRUE(fs::exists(dir.path() / cache_entry("shapes-vqa-s1-30-30-30")));
  EXPECT_TRUE(fs::exists(dir.path() / cache_entry("shapes-vqa-s2-30-30-30")));
  EXPECT_TRUE(fs::exists(dir.path() / cache_entry("shapes-vqa-s2-60-30-30")));
}

}  // namespace
}  // namespace muroan
