// The oracles of the built-in tasks (ground truth of decoupled inputs), one
// test per rule on hand-made samples, then every generated sample; and the
// attacks under the fooled criterion, which must never report a set the
// oracle rejects.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "../src/data/generators.h"
#include "muroan/attack.h"
#include "muroan/error.h"
#include "muroan/measurement.h"
#include "muroan/task.h"
#include "muroan/task_oracle.h"
#include "tiny_models.h"

namespace muroan {
namespace {

using data::ShapesObject;
using data::ShapesScene;

torch::Tensor tokens_of(const Vocabulary& vocab, const std::string& text, int64_t max_len) {
  return torch::tensor(vocab.encode(text, max_len), torch::kLong).view({1, max_len});
}

// Position of `word` in the text (the token positions are the word positions).
int64_t position_of(const std::string& text, const std::string& word) {
  std::istringstream in(text);
  std::string w;
  for (int64_t i = 0; in >> w; ++i)
    if (w == word) return i;
  ADD_FAILURE() << word << " not in " << text;
  return -1;
}

DecouplingSet words(const std::string& text, std::initializer_list<const char*> ws) {
  DecouplingSet s;
  for (const char* w : ws) s.add(DecouplingElement::token(1, position_of(text, w)));
  return s;
}

// ---- fashion-match ----------------------------------------------------------------

// A 56x56 image whose garment is the 20x20 square at columns/rows 10..29 (400
// foreground pixels), and a caption.
Inputs fashion_sample(const std::string& caption) {
  auto image = torch::zeros({1, 1, 56, 56});
  image.slice(2, 10, 30).slice(3, 10, 30).fill_(0.5);
  return {image, tokens_of(data::fashion_vocabulary(), caption, data::kFashionMatchMaxLen)};
}

struct FashionCase {
  const char* caption;
  int64_t label;
  std::vector<const char*> removed;
  std::optional<int64_t> truth;  // nullopt: undefined
  const char* reason;            // a word of the reason, or "" when unchanged
};

void PrintTo(const FashionCase& c, std::ostream* os) {
  *os << "'" << c.caption << "' label " << c.label << " without";
  for (const char* w : c.removed) *os << " '" << w << "'";
}

class FashionText : public ::testing::TestWithParam<FashionCase> {};

TEST_P(FashionText, CaptionIsReRead) {
  const auto& c = GetParam();
  auto oracle = make_task_oracle("fashion-match", data::fashion_vocabulary());
  ASSERT_NE(oracle, nullptr);
  auto truth = oracle->prepare(fashion_sample(c.caption), c.label);
  DecouplingSet set;
  for (const char* w : c.removed) set.add(DecouplingElement::token(1, position_of(c.caption, w)));
  for (TextRemoval mode : {TextRemoval::kDelete, TextRemoval::kMask}) {
    const TruthVerdict v = truth->judge(set, mode);
    EXPECT_EQ(v.label, c.truth) << c.caption;
    EXPECT_NE(v.reason.find(c.reason), std::string::npos) << v.reason;
    if (!c.truth || *c.truth == c.label) EXPECT_EQ(v.reason.empty(), std::string(c.reason).empty());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Rules, FashionText,
    ::testing::Values(FashionCase{"this is not a bag", 1, {"not"}, 0, "negation"},  // negation gone: the truth flips
                      FashionCase{"this is not a bag", 0, {"not"}, 1, "negation"},
                      FashionCase{"this is no boot", 1, {"no"}, 0, "negation"},
                      FashionCase{"this is not a bag", 1, {"bag"}, std::nullopt, "class noun"},  // names nothing
                      FashionCase{"a photo of a t-shirt", 0, {"t-shirt"}, std::nullopt, "class noun"},
                      FashionCase{"this is not a bag", 1, {"not", "bag"}, std::nullopt, "class noun"},
                      FashionCase{"this is not a bag", 1, {"this"}, 1, ""},  // function words: unchanged
                      FashionCase{"this is not a bag", 1, {"this", "is", "a"}, 1, ""},
                      FashionCase{"a photo of a sandal", 0, {"photo", "of"}, 0, ""},
                      FashionCase{"this is a coat", 1, {}, 1, ""}));

TEST(FashionOracle, GarmentShareDecidesWhenTheImageIsUndefined) {
  auto oracle = make_task_oracle("fashion-match", data::fashion_vocabulary());  // a fifth: 80 of 400 pixels
  auto truth = oracle->prepare(fashion_sample("this is a bag"), 1);
  DecouplingSet set;
  set.add(DecouplingElement::pixels(0, {10, 10, 19, 4}));  // 76 pixels: 19%
  EXPECT_EQ(truth->judge(set, TextRemoval::kDelete).label, 1);
  set.add(DecouplingElement::pixels(0, {29, 10, 1, 4}));  // +4: 80 pixels, 20%
  const auto v = truth->judge(set, TextRemoval::kDelete);
  EXPECT_FALSE(v.label.has_value());
  EXPECT_NE(v.reason.find("20% of the garment"), std::string::npos) << v.reason;
  // Background pixels are already 0 (the fill): decoupling them changes nothing.
  DecouplingSet background;
  background.add(DecouplingElement::pixels(0, {30, 30, 26, 26}));
  EXPECT_EQ(truth->judge(background, TextRemoval::kDelete).label, 1);
  // Overlapping regions count their union once.
  DecouplingSet twice;
  twice.add(DecouplingElement::pixels(0, {10, 10, 19, 4}));
  twice.add(DecouplingElement::pixels(0, {10, 10, 19, 4}));
  EXPECT_EQ(truth->judge(twice, TextRemoval::kDelete).label, 1);
  // A stricter share is an option.
  OracleOptions strict;
  strict.garment_share = 0.1;
  auto strict_truth = make_task_oracle("fashion-match", data::fashion_vocabulary(), strict)
                          ->prepare(fashion_sample("this is a bag"), 1);
  DecouplingSet small;
  small.add(DecouplingElement::pixels(0, {10, 10, 20, 2}));  // 40 pixels: 10%
  EXPECT_FALSE(strict_truth->judge(small, TextRemoval::kDelete).label.has_value());
  EXPECT_THROW(make_task_oracle("fashion-match", data::fashion_vocabulary(), OracleOptions{0.0}), UsageError);
}

TEST(FashionOracle, RefusesWhatIsNotAFashionMatchSample) {
  auto oracle = make_task_oracle("fashion-match", data::fashion_vocabulary());
  EXPECT_THROW(oracle->prepare(fashion_sample("this is a bag"), 2), Error);
  Inputs rgb = fashion_sample("this is a bag");
  rgb[0] = torch::zeros({1, 3, 56, 56});
  EXPECT_THROW(oracle->prepare(rgb, 1), Error);
  Inputs bad_ids = fashion_sample("this is a bag");
  bad_ids[1][0][0] = 999;
  EXPECT_THROW(oracle->prepare(bad_ids, 1), Error);
  EXPECT_EQ(make_task_oracle("no-such-task", data::fashion_vocabulary()), nullptr);
}

// ---- shapes-vqa --------------------------------------------------------------------

// red square (10,10); blue circle (24,12): nearest to red; green circle (10,48);
// yellow square (50,50): farthest from red; purple circle (50,10).
ShapesScene hand_scene() {
  ShapesScene s;
  s.grey_background = true;
  s.objects = {{0, true, 10, 10}, {2, false, 24, 12}, {1, false, 10, 48}, {4, true, 50, 50}, {5, false, 50, 10}};
  return s;
}

Inputs shapes_sample(const ShapesScene& scene, const std::string& question) {
  auto bytes = torch::empty({1, 3, 64, 64}, torch::kUInt8);
  data::render_shapes_scene(scene, bytes.data_ptr<uint8_t>());
  return {bytes.to(torch::kFloat) / 255.0, tokens_of(data::shapes_vocabulary(), question, data::kShapesMaxLen)};
}

// Hides the 11x11 box of an object (every pixel of it).
DecouplingElement hide(const ShapesObject& o) { return DecouplingElement::pixels(0, {o.x - 5, o.y - 5, 11, 11}); }

int64_t answer_class(const char* name) {
  for (size_t i = 0; i < data::kShapesClasses.size(); ++i)
    if (std::string(name) == data::kShapesClasses[i]) return static_cast<int64_t>(i);
  ADD_FAILURE() << name;
  return -1;
}

std::unique_ptr<SampleTruth> shapes_truth(const ShapesScene& scene, const std::string& q, const char* answer) {
  auto oracle = make_task_oracle("shapes-vqa", data::shapes_vocabulary());
  return oracle->prepare(shapes_sample(scene, q), answer_class(answer));
}

TEST(ShapesOracle, QuestionWordsThatCarryTheMeaningMakeItUndefined) {
  const std::string q = "what shape is the object closest to the red object";
  auto truth = shapes_truth(hand_scene(), q, "circle");
  for (const char* w : {"red", "closest", "shape", "what"})
    EXPECT_FALSE(truth->judge(words(q, {w}), TextRemoval::kDelete).label.has_value()) << w;
  for (const char* w : {"is", "the", "to"})
    EXPECT_EQ(truth->judge(words(q, {w}), TextRemoval::kMask).label, answer_class("circle")) << w;
  const std::string c = "how many objects have the shape of the red object";
  auto count = shapes_truth(hand_scene(), c, "2");
  EXPECT_FALSE(count->judge(words(c, {"many"}), TextRemoval::kDelete).label.has_value());
  EXPECT_EQ(count->judge(words(c, {"objects", "have"}), TextRemoval::kDelete).label, answer_class("2"));
  const std::string l = "is the blue object on the left";
  auto left = shapes_truth(hand_scene(), l, "yes");
  EXPECT_FALSE(left->judge(words(l, {"left"}), TextRemoval::kDelete).label.has_value());
  EXPECT_EQ(left->judge(words(l, {"on"}), TextRemoval::kDelete).label, answer_class("yes"));
}

TEST(ShapesOracle, AnObjectLessThanHalfVisibleIsGone) {
  const auto scene = hand_scene();
  const ShapesObject& red = scene.objects[0];
  const std::string q = "what shape is the red object";
  auto truth = shapes_truth(scene, q, "square");
  DecouplingSet five_rows, six_rows;  // 55 of 121 pixels hidden (visible 55%), then 66 (45%)
  five_rows.add(DecouplingElement::pixels(0, {red.x - 5, red.y - 5, 11, 5}));
  six_rows.add(DecouplingElement::pixels(0, {red.x - 5, red.y - 5, 11, 6}));
  EXPECT_EQ(truth->judge(five_rows, TextRemoval::kDelete).label, answer_class("square"));
  const auto v = truth->judge(six_rows, TextRemoval::kDelete);
  EXPECT_FALSE(v.label.has_value());  // the object asked about is gone
  EXPECT_NE(v.reason.find("red object"), std::string::npos) << v.reason;
}

TEST(ShapesOracle, AnswersAreRecomputedOnTheVisibleScene) {
  const auto scene = hand_scene();
  const auto& o = scene.objects;  // red, blue, green, yellow, purple
  {
    const std::string q = "how many objects have the shape of the red object";
    auto truth = shapes_truth(scene, q, "2");  // red and yellow squares
    DecouplingSet s;
    s.add(hide(o[3]));
    const auto v = truth->judge(s, TextRemoval::kDelete);
    EXPECT_EQ(v.label, answer_class("1"));
    EXPECT_NE(v.reason.find("yellow"), std::string::npos) << v.reason;
    DecouplingSet circle;
    circle.add(hide(o[1]));  // a circle gone: the count of squares stays
    EXPECT_EQ(truth->judge(circle, TextRemoval::kDelete).label, answer_class("2"));
  }
  {
    const std::string q = "what shape is the object farthest from the red object";
    auto truth = shapes_truth(scene, q, "square");  // yellow
    DecouplingSet s;
    s.add(hide(o[3]));  // then purple (1600) beats green (1444): a circle
    EXPECT_EQ(truth->judge(s, TextRemoval::kDelete).label, answer_class("circle"));
  }
  {
    const std::string q = "what shape is the object closest to the red object";
    auto truth = shapes_truth(scene, q, "circle");  // blue
    DecouplingSet s;
    s.add(hide(o[1]));  // then green (1444), still a circle
    EXPECT_EQ(truth->judge(s, TextRemoval::kDelete).label, answer_class("circle"));
    DecouplingSet all_but_red;
    for (size_t i = 1; i < o.size(); ++i) all_but_red.add(hide(o[i]));
    EXPECT_FALSE(truth->judge(all_but_red, TextRemoval::kDelete).label.has_value());  // no neighbour left
  }
  {
    const std::string q = "is the blue object at the top";
    auto truth = shapes_truth(scene, q, "yes");
    DecouplingSet s;
    s.add(hide(o[0]));  // another object gone: the blue one is still at the top
    EXPECT_EQ(truth->judge(s, TextRemoval::kDelete).label, answer_class("yes"));
  }
}

TEST(ShapesOracle, ATieOfDifferentShapesIsUndefined) {
  ShapesScene s;  // red (10,10); blue circle nearest; green circle and yellow square both at 900
  s.objects = {{0, true, 10, 10}, {2, false, 22, 10}, {1, false, 10, 40}, {4, true, 40, 10}, {5, false, 50, 50}};
  auto truth = shapes_truth(s, "what shape is the object closest to the red object", "circle");
  DecouplingSet hide_blue;
  hide_blue.add(hide(s.objects[1]));
  const auto v = truth->judge(hide_blue, TextRemoval::kDelete);
  EXPECT_FALSE(v.label.has_value());
  EXPECT_NE(v.reason.find("equally"), std::string::npos) << v.reason;
}

TEST(ShapesOracle, RefusesASampleWhoseSceneDoesNotAnswerItsLabel) {
  auto oracle = make_task_oracle("shapes-vqa", data::shapes_vocabulary());
  EXPECT_THROW(oracle->prepare(shapes_sample(hand_scene(), "what shape is the red object"), answer_class("circle")),
               Error);
}

// ---- every generated sample -----------------------------------------------------------

TaskOptions small(int64_t test) {
  TaskOptions o;
  o.seed = 3;
  o.train_size = 30;
  o.val_size = 30;
  o.test_size = test;
  o.cache_dir = "";
  return o;
}

TEST(TaskOracles, EveryGeneratedSampleKeepsItsLabelWhenNothingIsDecoupled) {
  for (const char* task : {"fashion-match", "shapes-vqa"}) {
    const TaskData data = load_task(task, small(300));
    auto oracle = make_task_oracle(task, data.vocab);
    ASSERT_NE(oracle, nullptr) << task;
    const auto labels = data.test.labels.contiguous();
    for (int64_t i = 0; i < data.test.size(); ++i) {
      const Inputs row = slice_rows(data.test.inputs, i, i + 1);
      const int64_t label = labels[i].item<int64_t>();
      // prepare() rebuilds the shapes-vqa scene from the pixels and checks it answers the label.
      auto truth = oracle->prepare(row, label);
      EXPECT_EQ(truth->judge(DecouplingSet{}, TextRemoval::kDelete).label, label) << task << " " << i;
    }
  }
}

// ---- attacks under the fooled criterion -------------------------------------------------

// The tiny kOr model flips when either the key token or the bright region goes.
// This oracle says removing the key token changes the truth (as deleting "not"
// does): under the fooled criterion only the region may be used.
class KeyTokenDecides : public SampleTruth {
 public:
  TruthVerdict judge(const DecouplingSet& set, TextRemoval) const override {
    for (const auto& e : set.elements)
      if (e.is_token() && e.position == testing::kKeyPosition) return {1 - label(), "the key token decides"};
    return {label(), ""};
  }
  int64_t label() const override { return 1; }
};

class FooledCriterion : public ::testing::TestWithParam<const char*> {};

TEST_P(FooledCriterion, NeverReportsASetTheOracleRejects) {
  testing::TinyModel model(testing::Rule::kOr);
  const Inputs x = testing::tiny_sample();
  const KeyTokenDecides truth;
  AttackOptions o;
  o.method = GetParam();
  {  // flip: greedy and saliency find the one-token set (truth changed); the
     // reference tries image quadrants first, random draws an order
    o.success = SuccessCriterion::kFlip;
    const auto r = make_attack(o)->attack(model, x, 0, &truth);
    ASSERT_TRUE(r.flipped);
    EXPECT_TRUE(r.success);
    if (o.method == "greedy" || o.method == "saliency") {
      EXPECT_EQ(r.success_class, SuccessClass::kTruthChanged);
      EXPECT_EQ(r.truth_label, 0);
    }
  }
  for (SuccessCriterion c : {SuccessCriterion::kAuto, SuccessCriterion::kFooled}) {
    o.success = c;
    const auto r = make_attack(o)->attack(model, x, 0, &truth);
    EXPECT_EQ(r.criterion, SuccessCriterion::kFooled);
    ASSERT_TRUE(r.success) << o.method;
    EXPECT_EQ(r.success_class, SuccessClass::kFooled);
    EXPECT_EQ(truth.judge(r.set, TextRemoval::kDelete).label, 1);
    for (const auto& e : r.set.elements) EXPECT_FALSE(e.is_token() && e.position == testing::kKeyPosition);
    EXPECT_GE(r.points.decoupled[0], 49) << o.method;  // the region, not the word
  }
}

INSTANTIATE_TEST_SUITE_P(Methods, FooledCriterion,
                         ::testing::Values("greedy", "saliency", "random", "reference", "sparse-rs", "exact"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// An oracle that rejects every set: sets it rejects cost no query, and every
// search still ends (sparse-rs once looped forever here on a real model).
class RejectsEverySet : public SampleTruth {
 public:
  TruthVerdict judge(const DecouplingSet& set, TextRemoval) const override {
    if (set.empty()) return {label(), ""};
    return {std::nullopt, "undefined"};
  }
  int64_t label() const override { return 1; }
};

TEST(FooledCriterion, SearchesEndWhenTheOracleRejectsEverySet) {
  testing::TinyModel model(testing::Rule::kOr);
  const RejectsEverySet truth;
  for (const std::string method : {"greedy", "random", "reference", "sparse-rs", "exact"}) {
    AttackOptions o;
    o.method = method;
    o.success = SuccessCriterion::kFooled;
    const auto r = make_attack(o)->attack(model, testing::tiny_sample(), 0, &truth);
    EXPECT_FALSE(r.success) << method;
    EXPECT_EQ(r.forward_passes, 1) << method << ": only the clean pass is a query";
  }
}

TEST(FooledCriterion, NeedsATruth) {
  testing::TinyModel model(testing::Rule::kOr);
  AttackOptions o;
  o.success = SuccessCriterion::kFooled;
  EXPECT_THROW(make_attack(o)->attack(model, testing::tiny_sample()), UsageError);
  o.success = SuccessCriterion::kAuto;  // no truth: any flip, unclassified
  const auto r = make_attack(o)->attack(model, testing::tiny_sample());
  EXPECT_EQ(r.criterion, SuccessCriterion::kFlip);
  EXPECT_EQ(r.success_class, SuccessClass::kNone);
  EXPECT_TRUE(r.success);
}

class KeyTokenOracle : public TruthOracle {
 public:
  std::string name() const override { return "key-token"; }
  std::string rules() const override { return "removing the key token changes the truth"; }
  std::unique_ptr<SampleTruth> prepare(const Inputs&, int64_t label) const override {
    EXPECT_EQ(label, 1);
    return std::make_unique<KeyTokenDecides>();
  }
};

// Through run_measurement: every record is classified, the summary's headline
// is the fooled ASR; pgd (no decoupling set) gets no fooled numbers.
TEST(FooledCriterion, SummariesCarryTheClassesAndTheHeadline) {
  testing::TinyModel model(testing::Rule::kOr);
  const Inputs x = testing::tiny_sample();
  const Inputs samples = {torch::cat({x[0], x[0], x[0]}), torch::cat({x[1], x[1], x[1]})};
  const torch::Tensor labels = torch::ones({3}, torch::kLong);
  KeyTokenOracle oracle;
  MeasurementOptions o;
  o.quiet = true;
  o.oracle = &oracle;
  AttackOptions flip;
  flip.success = SuccessCriterion::kFlip;
  const auto f = run_measurement(model, samples, labels, {}, {}, flip, o).summary;
  EXPECT_EQ(f.criterion, "flip");
  EXPECT_EQ(f.oracle, "key-token");
  EXPECT_DOUBLE_EQ(f.asr, 1.0);             // greedy deletes the key token: every sample flips
  EXPECT_DOUBLE_EQ(f.headline_asr(), 0.0);  // and none of those flips is fooled
  EXPECT_EQ(f.success_classes.at("truth-changed"), 3);
  const auto fooled = run_measurement(model, samples, labels, {}, {}, AttackOptions{}, o).summary;
  EXPECT_EQ(fooled.criterion, "fooled");
  EXPECT_DOUBLE_EQ(fooled.headline_asr(), 1.0);  // the region, keeping the truth
  EXPECT_STREQ(fooled.headline_name(), "fooled ASR");
  ASSERT_TRUE(fooled.fooled_rate.has_value());
  EXPECT_DOUBLE_EQ(fooled.fooled_rate->median, 49.0 / testing::kInputPoints);
  AttackOptions pgd;
  pgd.method = "pgd";
  const auto p = run_measurement(model, samples, labels, {}, {}, pgd, o).summary;
  EXPECT_FALSE(p.fooled_asr.has_value());
  EXPECT_STREQ(p.headline_name(), "ASR (any flip)");
}

TEST(ProtectedTokens, NoAttackDecouplesThem) {
  testing::TinyModel model(testing::Rule::kOr);
  for (const char* method : {"greedy", "saliency", "random", "reference", "drop"}) {
    AttackOptions o;
    o.method = method;
    o.protected_tokens = {testing::kKey};
    const auto r = make_attack(o)->attack(model, testing::tiny_sample());
    for (const auto& e : r.set.elements) EXPECT_FALSE(e.is_token() && e.position == testing::kKeyPosition) << method;
    EXPECT_TRUE(r.success) << method;  // through the region (drop: the whole image)
  }
}

}  // namespace
}  // namespace muroan
