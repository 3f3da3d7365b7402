// Defenses: the batched point masks against InputSpace::apply and their exact
// counts, and that each defense changes the training batches as described.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "muroan/decoupling.h"
#include "muroan/defense.h"
#include "muroan/error.h"
#include "muroan/gradients.h"
#include "muroan/multimodal_net.h"
#include "muroan/trainer.h"

namespace muroan {
namespace {

constexpr int64_t kSide = 16;
constexpr int64_t kLen = 6;
constexpr int64_t kVocab = 10;

std::vector<ModalitySpec> tiny_specs(int64_t channels = 1, double fill = 0.0) {
  return {ModalitySpec::image("image", channels, kSide, kSide, fill), ModalitySpec::tokens("tokens", kLen, 0, kVocab)};
}

// Images in [0.2, 1) (no pixel equals the fill 0), 2..6 real tokens with ids 2..9.
Inputs tiny_batch(int64_t rows, uint64_t seed, int64_t channels = 1) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto image = torch::rand({rows, channels, kSide, kSide}, gen) * 0.8 + 0.2;
  auto tokens = torch::randint(2, kVocab, {rows, kLen}, gen, torch::kLong);
  auto length = torch::randint(2, kLen + 1, {rows, 1}, gen, torch::kLong);
  tokens.masked_fill_(torch::arange(kLen).unsqueeze(0) >= length, 0);
  return {image, tokens};
}

int64_t real_tokens(const torch::Tensor& row) { return (row != 0).sum().item<int64_t>(); }

// The decoupling set of row i of `masks` (pixels as 1x1 regions, token positions).
DecouplingSet set_of_row(const PointMasks& masks, int64_t i) {
  DecouplingSet s;
  if (masks[0].defined()) {
    const auto idx = masks[0][i].nonzero();
    for (int64_t j = 0; j < idx.size(0); ++j)
      s.add(DecouplingElement::pixels(0, {idx[j][1].item<int64_t>(), idx[j][0].item<int64_t>(), 1, 1}));
  }
  if (masks[1].defined()) {
    const auto idx = masks[1][i].nonzero();
    for (int64_t j = 0; j < idx.size(0); ++j) s.add(DecouplingElement::token(1, idx[j][0].item<int64_t>()));
  }
  return s;
}

void expect_matches_input_space(const Inputs& batch, const std::vector<ModalitySpec>& specs, const PointMasks& masks,
                                TextRemoval mode) {
  const Inputs out = apply_point_masks(batch, specs, masks, mode);
  for (int64_t i = 0; i < batch_size(batch); ++i) {
    const Inputs row = slice_rows(batch, i, i + 1);
    const Inputs expected = InputSpace(specs, row).apply({set_of_row(masks, i)}, mode);
    EXPECT_TRUE(torch::equal(out[0].slice(0, i, i + 1), expected[0])) << "image row " << i;
    EXPECT_TRUE(torch::equal(out[1].slice(0, i, i + 1), expected[1]))
        << "tokens row " << i << ": " << out[1][i] << " vs " << expected[1];
  }
}

// ---- point masks ----

TEST(PointMasks, MatchInputSpaceApply) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
  for (auto mode : {TextRemoval::kDelete, TextRemoval::kMask}) {
    for (int64_t channels : {1, 3}) {
      const auto specs = tiny_specs(channels, channels == 3 ? 0.5 : 0.0);
      const Inputs batch = tiny_batch(6, 3, channels);
      expect_matches_input_space(batch, specs, random_rate_masks(batch, specs, 0.3, gen), mode);
      expect_matches_input_space(batch, specs, random_keep_masks(batch, specs, {20, 1}, gen), mode);
    }
  }
  // A pad in the middle stays where InputSpace keeps it.
  const auto specs = tiny_specs();
  Inputs batch{torch::full({1, 1, kSide, kSide}, 0.5),
               torch::tensor(std::vector<int64_t>{3, 0, 5, 6, 0, 0}, torch::kLong).view({1, kLen})};
  auto tok = torch::zeros({1, kLen}, torch::kBool);
  tok[0][2] = true;
  const PointMasks masks{torch::Tensor(), tok};
  expect_matches_input_space(batch, specs, masks, TextRemoval::kDelete);
  EXPECT_TRUE(torch::equal(apply_point_masks(batch, specs, masks, TextRemoval::kDelete)[1],
                           torch::tensor(std::vector<int64_t>{3, 0, 6, 0, 0, 0}, torch::kLong).view({1, kLen})));
}

TEST(PointMasks, RateDecouplesExactlyTheRoundedShare) {
  const auto specs = tiny_specs();
  const Inputs batch = tiny_batch(32, 9);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  for (double rate : {0.0, 0.1, 0.25, 0.5, 0.9, 1.0}) {
    const auto masks = random_rate_masks(batch, specs, rate, gen);
    const auto d = count_masked(masks, 32);
    for (int64_t i = 0; i < 32; ++i) {
      const int64_t n_tok = real_tokens(batch[1][i]);
      EXPECT_EQ(d[0][i].item<int64_t>(), static_cast<int64_t>(std::floor(rate * kSide * kSide + 0.5))) << rate;
      EXPECT_EQ(d[1][i].item<int64_t>(), static_cast<int64_t>(std::floor(rate * static_cast<double>(n_tok) + 0.5)))
          << rate;
    }
    EXPECT_FALSE((masks[1] & (batch[1] == 0)).any().item<bool>()) << "a pad was decoupled";
  }
  EXPECT_THROW(random_rate_masks(batch, specs, 1.5, gen), UsageError);
}

TEST(PointMasks, KeepKeepsExactlyKAndIsUniform) {
  const auto specs = tiny_specs();
  const Inputs batch = tiny_batch(32, 9);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  const auto masks = random_keep_masks(batch, specs, {10, 2}, gen);
  const auto d = count_masked(masks, 32);
  for (int64_t i = 0; i < 32; ++i) {
    const int64_t n_tok = real_tokens(batch[1][i]);
    EXPECT_EQ(d[0][i].item<int64_t>(), kSide * kSide - 10);
    EXPECT_EQ(d[1][i].item<int64_t>(), n_tok - std::min<int64_t>(2, n_tok));
  }
  EXPECT_FALSE(torch::equal(masks[0][0], masks[0][1]));  // rows draw their own points
  const auto all = random_keep_masks(batch, specs, {kKeepAll, 0}, gen);
  EXPECT_FALSE(all[0].defined());
  EXPECT_TRUE(torch::equal(all[1], batch[1] != 0));

  // Same seed, same masks; every point kept with probability k/n.
  auto g1 = at::make_generator<at::CPUGeneratorImpl>(4), g2 = at::make_generator<at::CPUGeneratorImpl>(4);
  EXPECT_TRUE(
      torch::equal(random_keep_masks(batch, specs, {10, 2}, g1)[0], random_keep_masks(batch, specs, {10, 2}, g2)[0]));
  const int64_t rows = 4000;
  Inputs many{batch[0][0].expand({rows, 1, kSide, kSide}),
              torch::tensor(std::vector<int64_t>{3, 4, 5, 6, 7, 0}, torch::kLong).expand({rows, kLen})};
  const auto m = random_keep_masks(many, specs, {64, 1}, gen);
  const auto kept_image = (~m[0]).to(torch::kDouble).mean(0);  // [H,W]
  EXPECT_NEAR(kept_image.min().item<double>(), 0.25, 0.04);
  EXPECT_NEAR(kept_image.max().item<double>(), 0.25, 0.04);
  const auto kept_tokens = (~m[1]).to(torch::kDouble).mean(0).slice(0, 0, 5);
  EXPECT_NEAR(kept_tokens.min().item<double>(), 0.2, 0.03);
  EXPECT_NEAR(kept_tokens.max().item<double>(), 0.2, 0.03);
}

TEST(PointMasks, KeepLists) {
  EXPECT_EQ(parse_keep_list("45,all", "--keep"), (std::vector<int64_t>{45, kKeepAll}));
  EXPECT_EQ(parse_keep_list("7", "--keep"), (std::vector<int64_t>{7}));
  EXPECT_EQ(keep_list_to_string({45, kKeepAll}), "45,all");
  EXPECT_THROW(parse_keep_list("4x", "--keep"), UsageError);
  EXPECT_THROW(parse_keep_list("-3", "--keep"), UsageError);
  EXPECT_THROW(parse_keep_list("", "--keep"), UsageError);
  EXPECT_EQ(expand_keep_list({5}, 2), (std::vector<int64_t>{5, 5}));
  EXPECT_THROW(expand_keep_list({5, 1, 1}, 2), UsageError);
}

// ---- defenses in training ----

ModelConfig tiny_config() {
  ModelConfig c;
  c.fusion = "concat";
  c.image_height = kSide;
  c.image_width = kSide;
  c.vocab_size = kVocab;
  c.max_len = kLen;
  c.num_classes = 2;
  c.dim = 16;
  c.embed_dim = 8;
  c.head_hidden = 16;
  return c;
}

TaskData tiny_task(int64_t train = 48) {
  TaskData d;
  d.task = "tiny";
  d.modalities = tiny_specs();
  d.classes = {"no", "yes"};
  auto split = [](int64_t n, uint64_t seed) {
    Split s;
    s.inputs = tiny_batch(n, seed);
    s.labels = (s.inputs[0].mean({1, 2, 3}) > 0.6).to(torch::kLong);
    return s;
  };
  d.train = split(train, 1);
  d.val = split(16, 2);
  d.test = split(16, 3);
  return d;
}

TrainOptions tiny_train() {
  TrainOptions t;
  t.epochs = 1;
  t.batch_size = 16;
  t.quiet = true;
  return t;
}

// Early stopping waits while the model is at chance: a validation split of one
// repeated input with both labels keeps every model at exactly 0.5.
TEST(Trainer, EarlyStoppingWaitsOnTheChancePlateau) {
  TaskData data = tiny_task();
  data.val.inputs = {data.val.inputs[0].slice(0, 0, 1).expand({16, -1, -1, -1}).contiguous(),
                     data.val.inputs[1].slice(0, 0, 1).expand({16, -1}).contiguous()};
  data.val.labels = torch::arange(16, torch::kLong) % 2;
  TrainOptions t = tiny_train();
  t.epochs = 4;
  t.patience = 1;
  MultimodalNet net(tiny_config());
  const TrainResult waited = train_model(net, data, t);
  EXPECT_EQ(waited.epochs.size(), 4U);
  EXPECT_DOUBLE_EQ(waited.chance_accuracy, 0.5);
  EXPECT_FALSE(waited.left_plateau);
  t.plateau_margin = -1.0;  // no waiting: patience 1 stops after epoch 2
  MultimodalNet net2(tiny_config());
  EXPECT_EQ(train_model(net2, data, t).epochs.size(), 2U);
}

TEST(AblationDefense, TrainingBatchesHaveTheRequestedRate) {
  const TaskData data = tiny_task();
  MultimodalNet net(tiny_config());
  TrainOptions t = tiny_train();
  DefenseOptions d;
  d.kind = DefenseKind::kAblation;
  d.ablation_rate = 0.25;
  const auto defense = install_defense(d, net, data.modalities, t);
  ASSERT_TRUE(t.transform_batch);
  EXPECT_FALSE(t.batch_logits);
  const auto inner = t.transform_batch;
  int calls = 0;
  t.transform_batch = [&](const Inputs& in, const torch::Tensor& labels) {
    const Inputs out = inner(in, labels);
    ++calls;
    for (int64_t i = 0; i < batch_size(in); ++i) {
      // The original images have no 0 pixel: every 0 was decoupled.
      EXPECT_EQ((out[0][i] == 0).sum().item<int64_t>(), 64);  // 0.25 * 256
      const int64_t n = real_tokens(in[1][i]);
      EXPECT_EQ(real_tokens(out[1][i]), n - static_cast<int64_t>(std::floor(0.25 * static_cast<double>(n) + 0.5)));
    }
    return out;
  };
  train_model(net, data, t);
  EXPECT_EQ(calls, 3);
  const auto j = defense->to_json();
  EXPECT_EQ(j["name"], "ablation");
  EXPECT_EQ(j["stats"]["defended_rows"], 48);
  EXPECT_DOUBLE_EQ(j["stats"]["decoupled_share"]["image"].get<double>(), 0.25);
}

TEST(AblationDefense, KeepKAndFraction) {
  const TaskData data = tiny_task(32);
  MultimodalNet net(tiny_config());
  TrainOptions t = tiny_train();
  DefenseOptions d;
  d.kind = DefenseKind::kAblation;
  d.ablation_keep = {10, kKeepAll};
  d.fraction = 0.5;
  const auto defense = install_defense(d, net, data.modalities, t);
  const auto inner = t.transform_batch;
  t.transform_batch = [&](const Inputs& in, const torch::Tensor& labels) {
    const Inputs out = inner(in, labels);
    for (int64_t i = 0; i < batch_size(in); ++i) {
      const int64_t zeros = (out[0][i] == 0).sum().item<int64_t>();
      EXPECT_EQ(zeros, i < 8 ? kSide * kSide - 10 : 0) << "row " << i;  // the first half only
      EXPECT_TRUE(torch::equal(out[1][i], in[1][i]));                   // tokens kept whole
    }
    return out;
  };
  train_model(net, data, t);
  EXPECT_EQ(defense->to_json()["stats"]["defended_rows"], 16);
  EXPECT_EQ(defense->to_json()["ablation_keep"], "10,all");
  d.ablation_keep = {10, 1, 1};
  EXPECT_THROW(install_defense(d, net, data.modalities, t), UsageError);
}

TEST(PgdDefense, ExamplesLieWithinEpsAndRaiseTheLoss) {
  MultimodalNet net(tiny_config());
  const Inputs batch = tiny_batch(16, 4);
  const auto labels = (batch[0].mean({1, 2, 3}) > 0.6).to(torch::kLong);
  DefenseOptions o;
  o.kind = DefenseKind::kPgdAt;
  o.eps = 0.05;
  o.text_eps = 0.2;
  o.steps = 5;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  const auto ex = pgd_examples(net, batch, labels, o, gen);
  EXPECT_LE((ex.image - batch[0]).abs().max().item<double>(), 0.05 + 1e-6);
  EXPECT_GT((ex.image - batch[0]).abs().max().item<double>(), 0.04);
  EXPECT_GE(ex.image.min().item<double>(), 0.0);
  EXPECT_LE(ex.image.max().item<double>(), 1.0);
  ASSERT_TRUE(ex.embedding_delta.defined());
  EXPECT_LE(ex.embedding_delta.abs().max().item<double>(), 0.2 + 1e-6);
  EXPECT_GT(ex.embedding_delta.abs().max().item<double>(), 0.1);
  const auto pads = (batch[1] == 0).unsqueeze(-1).expand_as(ex.embedding_delta);
  EXPECT_EQ(ex.embedding_delta.masked_select(pads).abs().sum().item<double>(), 0.0);
  torch::NoGradGuard no_grad;
  const auto clean = torch::nn::functional::cross_entropy(net->forward(batch[0], batch[1]), labels);
  const auto adv = torch::nn::functional::cross_entropy(
      net->forward_embedded(ex.image, net->embed_tokens(batch[1]) + ex.embedding_delta, batch[1]), labels);
  EXPECT_GT(adv.item<double>(), clean.item<double>());
}

TEST(PgdDefense, TrainsOnPgdExamples) {
  const TaskData data = tiny_task();
  MultimodalNet net(tiny_config());
  TrainOptions t = tiny_train();
  DefenseOptions d;
  d.kind = DefenseKind::kPgdAt;
  d.eps = 0.03;
  d.steps = 3;
  const auto defense = install_defense(d, net, data.modalities, t);
  EXPECT_TRUE(t.batch_logits);
  train_model(net, data, t);
  const auto j = defense->to_json();
  EXPECT_EQ(j["stats"]["batches"], 3);
  EXPECT_EQ(j["stats"]["defended_rows"], 48);
  const double linf = j["stats"]["mean_image_linf"].get<double>();
  EXPECT_GT(linf, 0.02);
  EXPECT_LE(linf, 0.03 + 1e-6);
  EXPECT_EQ(j["eps"], 0.03);
}

TEST(DecouplingDefense, ExamplesAreDecoupledInputs) {
  torch::manual_seed(2);
  MultimodalNet net(tiny_config());
  const auto specs = tiny_specs();
  const Inputs batch = tiny_batch(16, 4);
  torch::Tensor labels;
  {
    torch::NoGradGuard no_grad;
    labels = net->forward(batch[0], batch[1]).argmax(1);  // every row starts correct
  }
  DefenseOptions o;
  o.kind = DefenseKind::kDecouplingAt;
  o.steps = 3;
  o.patch = 4;
  o.elements_per_step = 2;
  const auto ex = decoupling_examples(net, batch, labels, specs, o);
  expect_matches_input_space(batch, specs, ex.masks, o.text_removal);
  const auto d = count_masked(ex.masks, 16);
  int64_t decoupled_rows = 0;
  for (int64_t i = 0; i < 16; ++i) {
    const int64_t pixels = d[0][i].item<int64_t>(), tokens = d[1][i].item<int64_t>();
    EXPECT_EQ(pixels % 16, 0);           // whole 4x4 cells
    EXPECT_LE(pixels / 16 + tokens, 6);  // at most steps * elements
    decoupled_rows += pixels + tokens > 0 ? 1 : 0;
    EXPECT_NEAR(ex.rate[i].item<double>(),
                static_cast<double>(pixels + tokens) / static_cast<double>(kSide * kSide + real_tokens(batch[1][i])),
                1e-12);
  }
  EXPECT_EQ(decoupled_rows, 16);  // all rows start correct, so all are attacked
  torch::NoGradGuard no_grad;
  const auto logits = net->forward(ex.inputs[0], ex.inputs[1]);
  EXPECT_TRUE(torch::equal(logits.argmax(1).ne(labels), ex.flipped));
  const auto clean = torch::nn::functional::cross_entropy(net->forward(batch[0], batch[1]), labels);
  EXPECT_GT(torch::nn::functional::cross_entropy(logits, labels).item<double>(), clean.item<double>());
}

// Any inputs of any kind: a built-in model over vitals (tabular), a note
// (tokens), a 2-lead signal and an image. Each step adds the candidate with the
// largest first-order gain in loss among the points of all four inputs; the
// first step's choice is checked against the saliencies computed here.
TEST(DecouplingDefense, ExamplesOverTheInputsOfEveryKind) {
  torch::manual_seed(4);
  const std::vector<ModalitySpec> specs = {
      ModalitySpec::tabular("vitals", {"hr", "sbp", "lactate"}, {80.0, 120.0, 1.0}),
      ModalitySpec::tokens("note", kLen, 0, kVocab), ModalitySpec::signal("leads", 100, 100, 10, {0.0, 0.5}),
      ModalitySpec::image("image", 1, kSide, kSide)};
  ModelConfig c;
  c.fusion = "concat";
  c.num_classes = 2;
  c.dim = 8;
  c.embed_dim = 4;
  c.head_hidden = 8;
  c.inputs = specs;
  MultimodalNet net(c);
  net->eval();
  const int64_t B = 6;
  const Inputs two = tiny_batch(B, 7);
  const Inputs batch = {torch::randn({B, 3}) * 10 + torch::tensor({80.0, 120.0, 1.0}).unsqueeze(0), two[1],
                        torch::randn({B, 2, 100}), two[0]};
  torch::Tensor labels;
  {
    torch::NoGradGuard no_grad;
    labels = net->forward(batch).argmax(1);  // every row starts correct
  }
  DefenseOptions o;
  o.kind = DefenseKind::kDecouplingAt;
  o.patch = 4;
  o.elements_per_step = 1;
  o.steps = 1;
  const auto first = decoupling_examples(net, batch, labels, specs, o);

  // The saliencies of step 1, by hand: the gradient of the summed loss.
  Inputs vars = {batch[0].clone().requires_grad_(true), net->embed_tokens(1, batch[1]).detach().requires_grad_(true),
                 batch[2].clone().requires_grad_(true), batch[3].clone().requires_grad_(true)};
  const auto loss =
      torch::nn::functional::cross_entropy(net->forward_embedded(vars, batch), labels,
                                           torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
  loss.backward();
  torch::NoGradGuard no_grad;
  const auto features = feature_saliency(vars[0].grad(), batch[0], specs[0].fills);
  const auto frames = frame_saliency(vars[2].grad(), batch[2], specs[2]);
  const auto pixels = pixel_saliency(vars[3].grad(), batch[3], 0.0);
  int64_t checked = 0;
  for (int64_t i = 0; i < B; ++i) {
    // The best feature, frame and 4x4 cell of row i; words are compared through the chosen mask.
    double best = -1e300;
    int64_t best_kind = -1;
    const auto cells = pixels[i].view({4, 4, 4, 4}).sum({1, 3}).flatten();
    for (const auto& [kind, s] :
         std::vector<std::pair<int64_t, torch::Tensor>>{{0, features[i]}, {2, frames[i]}, {3, cells}})
      if (s.max().item<double>() > best) {
        best = s.max().item<double>();
        best_kind = kind;
      }
    const auto d = count_masked(first.masks, B);
    int64_t total = 0;
    for (size_t m = 0; m < 4; ++m) total += d[m][i].item<int64_t>();
    EXPECT_EQ(total, d[3][i].item<int64_t>() > 0 ? 16 : 1) << "row " << i << ": one point, or one 4x4 cell";
    if (d[1][i].item<int64_t>() == 1) continue;  // a word won (its gain is not recomputed here)
    ++checked;
    ASSERT_GT(d[best_kind][i].item<int64_t>(), 0) << "row " << i << " did not take its best point";
    if (best_kind == 0) EXPECT_TRUE(first.masks[0][i][features[i].argmax().item<int64_t>()].item<bool>());
    if (best_kind == 2) EXPECT_TRUE(first.masks[2][i][frames[i].argmax().item<int64_t>()].item<bool>());
  }
  EXPECT_GE(checked, 3) << "most rows should take a feature, frame or cell";
  // Several steps: x_S as InputSpace builds it, the leads' frames to each lead's
  // fill, the rate over the points of all four inputs, and a larger loss.
  o.steps = 4;
  o.elements_per_step = 2;
  const auto ex = decoupling_examples(net, batch, labels, specs, o);
  const auto d = count_masked(ex.masks, B);
  const auto n = count_points(batch, specs);
  for (int64_t i = 0; i < B; ++i) {
    DecouplingSet s;
    for (size_t m = 0; m < 3; ++m) {
      const auto idx = ex.masks[m][i].nonzero();
      for (int64_t j = 0; j < idx.size(0); ++j)
        s.add(m == 1 ? DecouplingElement::token(1, idx[j][0].item<int64_t>())
                     : DecouplingElement::feature(m, idx[j][0].item<int64_t>()));
    }
    const auto px = ex.masks[3][i].nonzero();
    for (int64_t j = 0; j < px.size(0); ++j)
      s.add(DecouplingElement::pixels(3, {px[j][1].item<int64_t>(), px[j][0].item<int64_t>(), 1, 1}));
    const Inputs expected = InputSpace(specs, slice_rows(batch, i, i + 1)).apply({s}, o.text_removal);
    for (size_t m = 0; m < 4; ++m) EXPECT_TRUE(torch::equal(ex.inputs[m].slice(0, i, i + 1), expected[m])) << m;
    int64_t decoupled = 0, points = 0;
    for (size_t m = 0; m < 4; ++m) {
      decoupled += d[m][i].item<int64_t>();
      points += n[m][i].item<int64_t>();
    }
    EXPECT_GT(decoupled, 0);
    EXPECT_DOUBLE_EQ(ex.rate[i].item<double>(), static_cast<double>(decoupled) / static_cast<double>(points));
  }
  const auto logits = net->forward(ex.inputs);
  EXPECT_TRUE(torch::equal(logits.argmax(1).ne(labels), ex.flipped));
  EXPECT_GT(torch::nn::functional::cross_entropy(logits, labels).item<double>(),
            torch::nn::functional::cross_entropy(net->forward(batch), labels).item<double>());
  // The defense installs for such a model; pgd-at, written for image + tokens, says so.
  TrainOptions t;
  EXPECT_NO_THROW(install_defense(o, net, specs, t));
  DefenseOptions pgd;
  pgd.kind = DefenseKind::kPgdAt;
  EXPECT_THROW(install_defense(pgd, net, specs, t), UsageError);
}

TEST(DecouplingDefense, TrainingBatchesContainDecoupledExamples) {
  const TaskData data = tiny_task();
  MultimodalNet net(tiny_config());
  TrainOptions t = tiny_train();
  DefenseOptions d;
  d.kind = DefenseKind::kDecouplingAt;
  d.steps = 2;
  d.patch = 4;
  const auto defense = install_defense(d, net, data.modalities, t);
  const auto inner = t.transform_batch;
  int64_t changed = 0;
  t.transform_batch = [&](const Inputs& in, const torch::Tensor& labels) {
    const Inputs out = inner(in, labels);
    for (int64_t i = 0; i < batch_size(in); ++i) {
      // Pixels are either untouched or decoupled; tokens are a subsequence.
      EXPECT_TRUE(((out[0][i] == in[0][i]) | (out[0][i] == 0)).all().item<bool>());
      const auto kept = out[1][i].masked_select(out[1][i] != 0);
      const auto orig = in[1][i].masked_select(in[1][i] != 0);
      int64_t j = 0;
      for (int64_t k = 0; k < orig.size(0) && j < kept.size(0); ++k)
        if (orig[k].item<int64_t>() == kept[j].item<int64_t>()) ++j;
      EXPECT_EQ(j, kept.size(0)) << "row " << i << " is not a deletion of the original";
      changed += torch::equal(out[0][i], in[0][i]) && torch::equal(out[1][i], in[1][i]) ? 0 : 1;
    }
    return out;
  };
  train_model(net, data, t);
  EXPECT_GT(changed, 0);
  const auto j = defense->to_json();
  EXPECT_EQ(j["stats"]["defended_rows"], 48);
  EXPECT_GT(j["stats"]["mean_decoupling_rate"].get<double>(), 0.0);
}

TEST(DefenseOptions, ParseAndValidate) {
  for (const char* name : {"none", "pgd-at", "ablation", "decoupling-at"})
    EXPECT_STREQ(defense_name(parse_defense(name)), name);
  EXPECT_THROW(parse_defense("magic"), UsageError);
  DefenseOptions o;
  o.kind = DefenseKind::kPgdAt;
  o.steps = 0;
  EXPECT_THROW(validate_defense_options(o), UsageError);
  o.steps = 3;
  o.eps = 0;
  o.text_eps = 0;
  EXPECT_THROW(validate_defense_options(o), UsageError);
  o.kind = DefenseKind::kAblation;
  o.ablation_rate = 1.5;
  EXPECT_THROW(validate_defense_options(o), UsageError);
  o.kind = DefenseKind::kDecouplingAt;
  o.fraction = 0;
  EXPECT_THROW(validate_defense_options(o), UsageError);
  o.fraction = 1;
  o.patch = 0;
  EXPECT_THROW(validate_defense_options(o), UsageError);
  const auto j = defense_options_to_json(DefenseOptions{});
  EXPECT_EQ(j["name"], "none");
}

}  // namespace
}  // namespace muroan
