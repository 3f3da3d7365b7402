// Points, x_S and the union count (DESIGN.md section 2).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "muroan/decoupling.h"
#include "muroan/error.h"
#include "tiny_models.h"

namespace muroan {
namespace {

using testing::kInputPoints;
using testing::kKeyPosition;
using testing::kMaxLen;
using testing::kRealTokens;
using testing::kSide;

std::vector<ModalitySpec> rgb_specs(double fill) {
  return {ModalitySpec::image("image", 3, 8, 10, fill), ModalitySpec::tokens("tokens", 6, 0, 50)};
}

Inputs rgb_sample() {
  return {torch::rand({1, 3, 8, 10}) + 1.0,  // values in [1, 2): never the fill
          torch::tensor({11, 12, 13, 14, 0, 0}, torch::kLong).view({1, 6})};
}

TEST(Decoupling, RegionsTakeTheFillAndNothingElseChanges) {
  const auto specs = rgb_specs(0.25);
  const auto x = rgb_sample();
  DecouplingSet s;
  s.add(DecouplingElement::pixels(0, {2, 3, 4, 2}));  // columns 2..5, rows 3..4
  s.add(DecouplingElement::pixels(0, {9, 7, 1, 1}));  // one pixel, bottom-right
  const auto xs = apply_decoupling(x, s, specs, TextRemoval::kDelete);
  auto mask = torch::zeros({1, 1, 8, 10}, torch::kBool);
  mask.slice(2, 3, 5).slice(3, 2, 6).fill_(true);
  mask[0][0][7][9] = true;
  const auto m = mask.expand({1, 3, 8, 10});
  EXPECT_TRUE(torch::all(xs[0].masked_select(m) == 0.25).item<bool>());
  EXPECT_TRUE(torch::equal(xs[0].masked_select(~m), x[0].masked_select(~m)));
  EXPECT_TRUE(torch::equal(xs[1], x[1]));                             // tokens untouched
  EXPECT_TRUE(torch::equal(x[0].min() >= 1.0, torch::tensor(true)));  // the input itself unchanged
}

TEST(Decoupling, TokenDeletionShiftsLeftAndPads) {
  const auto specs = rgb_specs(0.0);
  DecouplingSet s;
  s.add(DecouplingElement::token(1, 1));
  s.add(DecouplingElement::token(1, 2));
  const auto xs = apply_decoupling(rgb_sample(), s, specs, TextRemoval::kDelete);
  EXPECT_TRUE(torch::equal(xs[1], torch::tensor({11, 14, 0, 0, 0, 0}, torch::kLong).view({1, 6})));
}

TEST(Decoupling, TokenMaskingKeepsPositions) {
  const auto specs = rgb_specs(0.0);
  DecouplingSet s;
  s.add(DecouplingElement::token(1, 1));
  s.add(DecouplingElement::token(1, 2));
  const auto xs = apply_decoupling(rgb_sample(), s, specs, TextRemoval::kMask);
  EXPECT_TRUE(torch::equal(xs[1], torch::tensor({11, 0, 0, 14, 0, 0}, torch::kLong).view({1, 6})));
}

TEST(Decoupling, ManySetsInOneCallEqualOneSetAtATime) {
  const auto specs = rgb_specs(0.5);
  const auto x = rgb_sample();
  const InputSpace space(specs, x);
  std::vector<DecouplingSet> sets(4);
  sets[1].add(DecouplingElement::pixels(0, {0, 0, 10, 8}));
  sets[2].add(DecouplingElement::token(1, 0));
  sets[3].add(DecouplingElement::token(1, 3));
  sets[3].add(DecouplingElement::pixels(0, {5, 5, 2, 2}));
  for (auto mode : {TextRemoval::kDelete, TextRemoval::kMask}) {
    const auto all = space.apply(sets, mode);
    ASSERT_EQ(all[0].size(0), 4);
    for (size_t i = 0; i < sets.size(); ++i) {
      const auto one = space.apply({sets[i]}, mode);
      EXPECT_TRUE(torch::equal(all[0][static_cast<int64_t>(i)], one[0][0]));
      EXPECT_TRUE(torch::equal(all[1][static_cast<int64_t>(i)], one[1][0]));
    }
    EXPECT_TRUE(torch::equal(all[0][0], x[0][0]));  // the empty set is x
  }
}

TEST(Decoupling, UnionCountsOverlapsOnce) {
  const auto specs = rgb_specs(0.0);
  const InputSpace space(specs, rgb_sample());
  EXPECT_EQ(space.points(), (std::vector<int64_t>{80, 4}));  // pixels, real tokens
  EXPECT_EQ(space.total_points(), 84);
  DecouplingSet s;
  s.add(DecouplingElement::pixels(0, {0, 0, 4, 4}));
  s.add(DecouplingElement::pixels(0, {2, 2, 4, 4}));  // overlaps 2x2 = 4 pixels
  s.add(DecouplingElement::pixels(0, {1, 1, 1, 1}));  // inside the first
  s.add(DecouplingElement::token(1, 3));
  s.add(DecouplingElement::token(1, 3));  // the same token twice
  const PointCount c = space.count(s);
  EXPECT_EQ(c.decoupled, (std::vector<int64_t>{28, 1}));
  EXPECT_EQ(c.decoupled_points(), 29);
  EXPECT_EQ(c.total_points(), 84);
  EXPECT_DOUBLE_EQ(c.rate(), 29.0 / 84.0);

  PointCover cover(space);
  EXPECT_EQ(cover.added_by(s.elements[0]), 16);
  cover.add(s.elements[0]);
  EXPECT_EQ(cover.added_by(s.elements[1]), 12);
  EXPECT_EQ(cover.added_by(s.elements[2]), 0);
}

TEST(Decoupling, TinySampleCountsPixelsAndRealTokens) {
  const testing::TinyModel model(testing::Rule::kAnd);
  const InputSpace space(model.modalities(), testing::tiny_sample());
  EXPECT_EQ(space.total_points(), kInputPoints);
  EXPECT_EQ(space.token_positions(1).size(), static_cast<size_t>(kRealTokens));
  EXPECT_EQ(space.token_positions(1)[kKeyPosition], kKeyPosition);
}

TEST(Decoupling, InvalidSetsAreRefused) {
  const auto specs = rgb_specs(0.0);
  const InputSpace space(specs, rgb_sample());
  auto expect_refused = [&](DecouplingElement e) {
    DecouplingSet s;
    s.add(e);
    EXPECT_THROW(space.validate(s), Error);
    EXPECT_THROW(space.apply({s}, TextRemoval::kDelete), Error);
  };
  expect_refused(DecouplingElement::pixels(0, {8, 0, 3, 1}));  // past the right edge
  expect_refused(DecouplingElement::pixels(0, {0, 0, 0, 1}));  // empty
  expect_refused(DecouplingElement::token(1, 4));              // a pad
  expect_refused(DecouplingElement::token(1, 6));              // past the end
  expect_refused(DecouplingElement::token(0, 1));              // a token of the image
  expect_refused(DecouplingElement::pixels(1, {0, 0, 1, 1}));  // a region of the tokens
  expect_refused(DecouplingElement::token(2, 0));              // no such modality
}

TEST(Decoupling, SampleMustFitTheSpecs) {
  const auto specs = rgb_specs(0.0);
  EXPECT_THROW(InputSpace(specs, {torch::zeros({1, 3, 8, 9}), torch::zeros({1, 6}, torch::kLong)}), Error);
  EXPECT_THROW(InputSpace(specs, {torch::zeros({2, 3, 8, 10}), torch::zeros({2, 6}, torch::kLong)}), Error);
  EXPECT_THROW(InputSpace(specs, {torch::zeros({1, 3, 8, 10})}), Error);
}

TEST(Decoupling, JsonRoundTripRebuildsTheSameInput) {
  const auto specs = rgb_specs(0.0);
  const auto x = rgb_sample();
  DecouplingSet s;
  s.add(DecouplingElement::pixels(0, {1, 2, 3, 4}));
  s.add(DecouplingElement::token(1, 2));
  const auto j = decoupling_set_to_json(s, specs, TextRemoval::kMask);
  EXPECT_EQ(j["text_removal"], "mask");
  EXPECT_EQ(j["modalities"][0]["regions"][0].dump(), "[1,2,3,4]");
  EXPECT_EQ(j["modalities"][1]["positions"][0], 2);
  TextRemoval mode = TextRemoval::kDelete;
  const auto back = decoupling_set_from_json(nlohmann::json::parse(j.dump()), &specs, &mode);
  EXPECT_EQ(mode, TextRemoval::kMask);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back.elements[0], s.elements[0]);
  EXPECT_EQ(back.elements[1], s.elements[1]);
  const auto a = apply_decoupling(x, s, specs, TextRemoval::kMask);
  const auto b = apply_decoupling(x, back, specs, mode);
  EXPECT_TRUE(torch::equal(a[0], b[0]) && torch::equal(a[1], b[1]));

  auto renamed = rgb_specs(0.0);
  renamed[1].name = "question";
  EXPECT_THROW(decoupling_set_from_json(j, &renamed), Error);
  EXPECT_THROW(decoupling_set_from_json(nlohmann::json::parse(R"({"modalities": [{"index": 0}]})")), Error);
}

TEST(Decoupling, ParsesRemovalNames) {
  EXPECT_EQ(parse_text_removal("delete"), TextRemoval::kDelete);
  EXPECT_EQ(parse_text_removal("mask"), TextRemoval::kMask);
  EXPECT_THROW(parse_text_removal("drop"), UsageError);
}

}  // namespace
}  // namespace muroan
