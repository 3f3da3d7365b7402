// The fusion zoo: every catalog entry is checked for shape, finiteness, which
// modalities reach z, exact insensitivity to text pads, determinism, and
// whether it can (or provably cannot) learn an interaction between modalities.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "muroan/error.h"
#include "muroan/fusion.h"

namespace muroan {
namespace {

constexpr int64_t kBatch = 3, kDim = 8, kGrid = 3, kLen = 5;

FusionConfig small_config() {
  FusionConfig c;
  c.streams = {StreamShape::image(kDim, kGrid, kGrid), StreamShape::sequence("text", kDim, kLen)};
  c.hidden = 16;
  c.num_classes = 2;
  c.rank = 3;
  c.factor = 3;
  c.heads = 2;
  c.layers = 1;
  return c;
}

std::vector<std::string> catalog_names() {
  std::vector<std::string> names;
  for (const auto& info : fusion_catalog()) names.push_back(info.name);
  return names;
}

FusionInfo info_of(const std::string& name) {
  for (const auto& info : fusion_catalog()) {
    if (info.name == name) return info;
  }
  throw std::runtime_error("not in catalog: " + name);
}

// The fusions that take the image + text pair (all but the unimodal baselines of other kinds).
std::vector<std::string> image_text_names() {
  std::vector<std::string> names;
  for (const auto& name : catalog_names()) {
    if (name != "tabular-only" && name != "audio-only" && name != "signal-only") names.push_back(name);
  }
  return names;
}

bool uses_image(const std::string& name) { return name != "text-only"; }
bool uses_text(const std::string& name) { return name != "image-only"; }

// Masks of the default batch: 5, 3 and 1 real tokens.
torch::Tensor default_mask() {
  return torch::tensor({1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0}, torch::kBool).view({kBatch, kLen});
}

// Features as the encoders produce them: pooled is the mean over the grid and
// over the real tokens (zeros when there is none).
struct Batch {
  StreamFeatures image;
  StreamFeatures text;
};

Batch make_batch(const torch::Tensor& grid, const torch::Tensor& tokens, const torch::Tensor& mask) {
  Batch b;
  b.image.grid = grid;
  b.image.pooled = grid.mean({2, 3});
  b.text.tokens = tokens;
  b.text.mask = mask;
  auto m = mask.to(torch::kFloat).unsqueeze(-1);
  b.text.pooled = (tokens * m).sum(1) / m.sum(1).clamp_min(1.0);
  return b;
}

Batch random_batch(const torch::Tensor& mask) {
  int64_t n = mask.size(0);
  return make_batch(torch::randn({n, kDim, kGrid, kGrid}), torch::randn({n, kLen, kDim}), mask);
}

// Every input a leaf that records its gradient.
Batch leaf_batch(const Batch& b) {
  Batch out;
  out.image.grid = b.image.grid.detach().clone().requires_grad_(true);
  out.image.pooled = b.image.pooled.detach().clone().requires_grad_(true);
  out.text.tokens = b.text.tokens.detach().clone().requires_grad_(true);
  out.text.pooled = b.text.pooled.detach().clone().requires_grad_(true);
  out.text.mask = b.text.mask;
  return out;
}

double grad_norm(const torch::Tensor& leaf) {
  return leaf.grad().defined() ? leaf.grad().abs().sum().item<double>() : 0.0;
}

bool finite(const torch::Tensor& t) { return torch::isfinite(t).all().item<bool>(); }

// Smallest, over the samples, of the largest change of that sample's z.
double min_row_change(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().amax(/*dim=*/1).min().item<double>();
}

class FusionTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    torch::manual_seed(11);
    fusion_ = make_fusion(GetParam(), small_config());
    batch_ = random_batch(default_mask());
  }
  torch::Tensor z(const Batch& b) { return fusion_->forward(b.image, b.text); }

  Fusion fusion_;
  Batch batch_;
};

TEST_P(FusionTest, ShapeAndFinite) {
  auto out = z(batch_);
  ASSERT_EQ(out.dim(), 2);
  EXPECT_EQ(out.size(0), kBatch);
  EXPECT_EQ(out.size(1), fusion_->out_dim());
  EXPECT_EQ(out.scalar_type(), torch::kFloat);
  EXPECT_TRUE(finite(out));
}

TEST_P(FusionTest, GradientsReachExactlyTheModalitiesUsed) {
  auto b = leaf_batch(batch_);
  auto out = z(b);
  // A random projection, so that no coordinate's gradient cancels by symmetry.
  (out * torch::randn_like(out)).sum().backward();
  double image = grad_norm(b.image.grid) + grad_norm(b.image.pooled);
  double text = grad_norm(b.text.tokens) + grad_norm(b.text.pooled);
  if (uses_image(GetParam())) {
    EXPECT_GT(image, 0.0);
  } else {
    EXPECT_EQ(image, 0.0);
  }
  if (uses_text(GetParam())) {
    EXPECT_GT(text, 0.0);
  } else {
    EXPECT_EQ(text, 0.0);
  }
  // No gradient at all flows into a pad position.
  if (b.text.tokens.grad().defined()) {
    auto pads = b.text.mask.logical_not().unsqueeze(-1).expand_as(b.text.tokens);
    EXPECT_EQ(b.text.tokens.grad().masked_select(pads).abs().sum().item<double>(), 0.0);
  }
  for (const auto& p : fusion_->parameters()) {
    if (p.grad().defined()) EXPECT_TRUE(finite(p.grad()));
  }
}

TEST_P(FusionTest, PadPositionsHaveNoInfluence) {
  auto before = z(batch_);
  Batch changed = batch_;
  auto pads = batch_.text.mask.logical_not().unsqueeze(-1).expand_as(batch_.text.tokens);
  changed.text.tokens = torch::where(pads, 100 * torch::randn_like(batch_.text.tokens), batch_.text.tokens);
  ASSERT_FALSE(torch::equal(changed.text.tokens, batch_.text.tokens));
  EXPECT_TRUE(torch::equal(z(changed), before));
}

// Content is not enough: pads must not count as tokens either (a deleted token
// becomes a pad at the end), so trimming the padding away leaves z unchanged.
TEST_P(FusionTest, PaddingLengthHasNoInfluence) {
  torch::NoGradGuard no_grad;
  auto all = z(batch_);
  for (int64_t i = 0; i < kBatch; ++i) {
    int64_t real = batch_.text.mask[i].sum().item<int64_t>();
    auto trimmed =
        make_batch(batch_.image.grid.slice(0, i, i + 1), batch_.text.tokens.slice(0, i, i + 1).slice(1, 0, real),
                   batch_.text.mask.slice(0, i, i + 1).slice(1, 0, real));
    EXPECT_TRUE(torch::allclose(z(trimmed)[0], all[i], /*rtol=*/1e-5, /*atol=*/1e-6))
        << "sample " << i << " with " << real << " real tokens";
  }
}

TEST_P(FusionTest, SampleWithoutRealTokensIsFinite) {
  auto mask = default_mask();
  mask[1].fill_(false);
  auto b = leaf_batch(make_batch(batch_.image.grid, batch_.text.tokens, mask));
  auto out = z(b);
  EXPECT_TRUE(finite(out));
  out.sum().backward();
  for (const auto& p : fusion_->parameters()) {
    if (p.grad().defined()) EXPECT_TRUE(finite(p.grad()));
  }
  if (b.text.tokens.grad().defined()) EXPECT_TRUE(finite(b.text.tokens.grad()));
  if (b.image.grid.grad().defined()) EXPECT_TRUE(finite(b.image.grid.grad()));

  // Its token features are all pads, so they must not matter either.
  Batch other = make_batch(batch_.image.grid, batch_.text.tokens.clone(), mask);
  other.text.tokens[1].normal_();
  EXPECT_TRUE(torch::equal(z(other), out.detach()));
}

TEST_P(FusionTest, OutputDependsOnTheModalitiesUsed) {
  torch::NoGradGuard no_grad;
  auto base = z(batch_);
  auto fresh = random_batch(default_mask());
  EXPECT_GT(min_row_change(z(fresh), base), 1e-6);

  Batch image_changed = batch_;
  image_changed.image = fresh.image;
  Batch text_changed = batch_;
  text_changed.text = fresh.text;
  if (uses_image(GetParam())) {
    EXPECT_GT(min_row_change(z(image_changed), base), 1e-6);
  } else {
    EXPECT_TRUE(torch::equal(z(image_changed), base));
  }
  if (uses_text(GetParam())) {
    EXPECT_GT(min_row_change(z(text_changed), base), 1e-6);
  } else {
    EXPECT_TRUE(torch::equal(z(text_changed), base));
  }
}

TEST_P(FusionTest, SamplesAreIndependent) {
  torch::NoGradGuard no_grad;
  auto all = z(batch_);
  for (int64_t i = 0; i < kBatch; ++i) {
    auto one = make_batch(batch_.image.grid.slice(0, i, i + 1), batch_.text.tokens.slice(0, i, i + 1),
                          batch_.text.mask.slice(0, i, i + 1));
    EXPECT_TRUE(torch::allclose(z(one)[0], all[i], /*rtol=*/1e-5, /*atol=*/1e-6)) << "sample " << i;
  }
}

TEST_P(FusionTest, SameSeedSameFusion) {
  torch::manual_seed(42);
  auto a = make_fusion(GetParam(), small_config());
  torch::manual_seed(42);
  auto b = make_fusion(GetParam(), small_config());
  torch::manual_seed(43);
  auto c = make_fusion(GetParam(), small_config());
  auto pa = a->named_parameters(), pb = b->named_parameters(), pc = c->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  bool any_differs = false;
  for (const auto& item : pa) {
    ASSERT_TRUE(pb.contains(item.key())) << item.key();
    EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();
    any_differs = any_differs || !torch::equal(item.value(), pc[item.key()]);
  }
  EXPECT_EQ(any_differs, pa.size() > 0);  // another seed gives another fusion
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(a->forward(batch_.image, batch_.text), b->forward(batch_.image, batch_.text)));
}

TEST_P(FusionTest, TrainAndEvalAgree) {
  torch::NoGradGuard no_grad;
  fusion_->train();
  auto train = z(batch_);
  fusion_->eval();
  EXPECT_TRUE(torch::equal(z(batch_), train));
}

// Labels = XOR of a binary attribute of each modality: two image prototypes
// (a), two text prototypes (b), each of the 4 combinations twice. Returns the
// training loss after 300 Adam steps of the fusion + a head: the model's MLP
// (out_dim -> hidden -> K), or a linear one (then the fusion itself must
// provide the interaction). Logit-producing fusions get no head.
double fit_xor(const std::string& name, bool mlp_head) {
  torch::manual_seed(5);
  auto image_protos = torch::randn({2, kDim, kGrid, kGrid});
  auto text_protos = torch::randn({2, kLen, kDim});
  auto mask_protos = default_mask().slice(0, 0, 2);
  auto a = torch::tensor({0, 0, 1, 1, 0, 0, 1, 1}, torch::kLong);
  auto b = torch::tensor({0, 1, 0, 1, 0, 1, 0, 1}, torch::kLong);
  auto labels = a.bitwise_xor(b);
  auto data =
      make_batch(image_protos.index_select(0, a), text_protos.index_select(0, b), mask_protos.index_select(0, b));

  auto fusion = make_fusion(name, small_config());
  auto head = torch::nn::Sequential();
  if (!fusion->outputs_logits()) {
    if (mlp_head) {
      head->push_back(torch::nn::Linear(fusion->out_dim(), /*out=*/16));
      head->push_back(torch::nn::Functional(torch::relu));
      head->push_back(torch::nn::Linear(16, /*out=*/2));
    } else {
      head->push_back(torch::nn::Linear(fusion->out_dim(), /*out=*/2));
    }
  }
  auto params = fusion->parameters();
  for (const auto& p : head->parameters()) params.push_back(p);
  torch::optim::Adam opt(params, torch::optim::AdamOptions(1e-2));
  auto loss_of = [&] {
    auto out = fusion->forward(data.image, data.text);
    if (!fusion->outputs_logits()) out = head->forward(out);
    return torch::nn::functional::cross_entropy(out, labels);
  };
  for (int step = 0; step < 300; ++step) {
    opt.zero_grad();
    loss_of().backward();
    opt.step();
  }
  return loss_of().item<double>();
}

// A fusion with an interaction, with the model's MLP head, fits XOR; late
// fusion (additive logits) and the unimodal baselines (the same input for both
// labels) cannot get below ln 2 = 0.693.
TEST_P(FusionTest, XorOfModalitiesWithMlpHead) {
  const std::string name = GetParam();
  double loss = fit_xor(name, /*mlp_head=*/true);
  if (name == "late" || !info_of(name).multimodal) {
    EXPECT_GT(loss, 0.6) << "a fusion without interaction fit XOR";
  } else {
    EXPECT_LT(loss, 0.1) << "could not fit XOR of the modalities";
  }
}

// With a linear head the interaction must come from the fusion itself: every
// fusion fits XOR except the additive ones (sum, late) and the unimodal ones.
TEST_P(FusionTest, XorOfModalitiesWithLinearHead) {
  const std::string name = GetParam();
  double loss = fit_xor(name, /*mlp_head=*/false);
  if (name == "sum" || name == "late" || !info_of(name).multimodal) {
    EXPECT_GT(loss, 0.6) << "an additive fusion fit XOR";
  } else {
    EXPECT_LT(loss, 0.1) << "no interaction between the modalities";
  }
}

INSTANTIATE_TEST_SUITE_P(Zoo, FusionTest, ::testing::ValuesIn(image_text_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string s = info.param;
                           for (char& ch : s) {
                             if (ch == '-') ch = '_';
                           }
                           return s;
                         });

TEST(FusionCatalog, NamesInOrderWithDescriptions) {
  const std::vector<std::string> expected = {
      "concat", "sum",         "product", "gmu",        "tensor",    "lowrank",      "bilinear",   "film",
      "xattn",  "transformer", "late",    "image-only", "text-only", "tabular-only", "audio-only", "signal-only"};
  EXPECT_EQ(catalog_names(), expected);
  for (const auto& info : fusion_catalog()) {
    EXPECT_FALSE(info.description.empty()) << info.name;
    EXPECT_EQ(info.description.find('\n'), std::string::npos) << info.name;
    const bool unimodal = info.name.size() > 5 && info.name.compare(info.name.size() - 5, 5, "-only") == 0;
    EXPECT_EQ(info.multimodal, !unimodal) << info.name;
  }
}

TEST(FusionCatalog, OnlyLateFusionOutputsLogits) {
  for (const auto& name : image_text_names()) {
    EXPECT_EQ(make_fusion(name, FusionConfig{})->outputs_logits(), name == "late") << name;
  }
}

TEST(FusionCatalog, OutDimsWithTheDefaultConfig) {
  FusionConfig c;  // 64-dim features, hidden 64, K = 2
  const std::map<std::string, int64_t> expected = {
      {"concat", 64},  {"sum", 64},        {"product", 64},  {"gmu", 64},    {"tensor", 289},
      {"lowrank", 64}, {"bilinear", 64},   {"film", 64},     {"xattn", 128}, {"transformer", 192},
      {"late", 2},     {"image-only", 64}, {"text-only", 64}};
  for (const auto& name : image_text_names()) {
    EXPECT_EQ(make_fusion(name, c)->out_dim(), expected.at(name)) << name;
  }
  c.num_classes = 5;
  EXPECT_EQ(make_fusion("late", c)->out_dim(), 5);
}

TEST(FusionCatalog, UnknownNameThrowsUsageError) {
  try {
    make_fusion("concatenate", FusionConfig{});
    FAIL() << "no exception";
  } catch (const UsageError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("unknown fusion 'concatenate'"), std::string::npos) << what;
    EXPECT_NE(what.find("transformer"), std::string::npos) << what;
    EXPECT_NE(what.find("text-only"), std::string::npos) << what;
  }
  EXPECT_THROW(make_fusion("", FusionConfig{}), UsageError);
}

TEST(FusionCatalog, BadConfigThrowsUsageError) {
  FusionConfig c;
  c.heads = 5;  // 64 is not divisible by 5
  EXPECT_THROW(make_fusion("xattn", c), UsageError);
  EXPECT_THROW(make_fusion("transformer", c), UsageError);
  EXPECT_NO_THROW(make_fusion("gmu", c));  // heads do not matter there
  FusionConfig zero;
  zero.hidden = 0;
  EXPECT_THROW(make_fusion("concat", zero), UsageError);
}

TEST(FusionTransformer, ShorterTextAndSmallerGridAreAccepted) {
  torch::manual_seed(1);
  auto f = make_fusion("transformer", small_config());
  auto b = make_batch(torch::randn({2, kDim, 2, 3}), torch::randn({2, 4, kDim}), torch::ones({2, 4}, torch::kBool));
  EXPECT_EQ(f->forward(b.image, b.text).sizes(), (std::vector<int64_t>{2, 3 * 16}));
  auto too_long = make_batch(torch::randn({2, kDim, kGrid, kGrid}), torch::randn({2, kLen + 1, kDim}),
                             torch::ones({2, kLen + 1}, torch::kBool));
  EXPECT_ANY_THROW(f->forward(too_long.image, too_long.text));
}

// The transformer's [CLS] output must move with the position of a token: the
// position embeddings are really added (word order matters).
TEST(FusionTransformer, TokenOrderMatters) {
  torch::manual_seed(2);
  auto f = make_fusion("transformer", small_config());
  torch::NoGradGuard no_grad;
  auto b = random_batch(torch::ones({kBatch, kLen}, torch::kBool));
  auto swapped = make_batch(b.image.grid, b.text.tokens.flip({1}), b.text.mask);
  EXPECT_GT(min_row_change(f->forward(swapped.image, swapped.text), f->forward(b.image, b.text)), 1e-6);
}

// xattn mean-pools over tokens, so it is order-free; it must average over the
// real tokens only (a second copy of a sample with its tokens duplicated gives
// the same z).
TEST(FusionCrossAttention, AveragesOverRealTokensOnly) {
  torch::manual_seed(3);
  auto f = make_fusion("xattn", small_config());
  torch::NoGradGuard no_grad;
  auto grid = torch::randn({1, kDim, kGrid, kGrid});
  auto tok = torch::randn({1, 1, kDim});
  auto once = make_batch(grid, torch::cat({tok, torch::zeros({1, kLen - 1, kDim})}, 1),
                         torch::tensor({1, 0, 0, 0, 0}, torch::kBool).view({1, kLen}));
  auto twice = make_batch(grid, torch::cat({tok, tok, torch::zeros({1, kLen - 2, kDim})}, 1),
                          torch::tensor({1, 1, 0, 0, 0}, torch::kBool).view({1, kLen}));
  EXPECT_TRUE(torch::allclose(f->forward(once.image, once.text), f->forward(twice.image, twice.text),
                              /*rtol=*/1e-5, /*atol=*/1e-6));
}

// ---------------------------------------------------------------- three inputs

constexpr int64_t kFeatures = 4;  // positions of the third (tabular) input

FusionConfig three_input_config() {
  FusionConfig c = small_config();
  c.streams.push_back(StreamShape::sequence("tabular", kDim, kFeatures));
  return c;
}

StreamFeatures tabular_features(const torch::Tensor& values) {  // values [B, F, D]
  StreamFeatures f;
  f.tokens = values;
  f.mask = torch::ones({values.size(0), values.size(1)}, torch::kBool);
  f.pooled = values.mean(1);
  return f;
}

std::vector<StreamFeatures> three_inputs(const Batch& b, const torch::Tensor& values) {
  return {b.image, b.text, tabular_features(values)};
}

// Every fusion that joins inputs, and the tabular baseline.
std::vector<std::string> three_input_names() {
  std::vector<std::string> names = {"tabular-only"};
  for (const auto& info : fusion_catalog()) {
    if (info.multimodal) names.push_back(info.name);
  }
  return names;
}

class ThreeInputFusionTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    torch::manual_seed(12);
    fusion_ = make_fusion(GetParam(), three_input_config());
    batch_ = random_batch(default_mask());
    values_ = torch::randn({kBatch, kFeatures, kDim});
  }
  torch::Tensor z(const Batch& b, const torch::Tensor& values) { return fusion_->forward(three_inputs(b, values)); }

  Fusion fusion_;
  Batch batch_;
  torch::Tensor values_;
};

TEST_P(ThreeInputFusionTest, EveryInputItUsesReachesZ) {
  auto b = leaf_batch(batch_);
  auto values = values_.clone().requires_grad_(true);
  auto out = z(b, values);
  ASSERT_EQ(out.dim(), 2);
  EXPECT_EQ(out.size(0), kBatch);
  EXPECT_EQ(out.size(1), fusion_->out_dim());
  EXPECT_TRUE(finite(out));
  (out * torch::randn_like(out)).sum().backward();
  const bool only_tabular = GetParam() == "tabular-only";
  const double image = grad_norm(b.image.grid) + grad_norm(b.image.pooled);
  const double text = grad_norm(b.text.tokens) + grad_norm(b.text.pooled);
  if (only_tabular) {
    EXPECT_EQ(image + text, 0.0);
  } else {
    EXPECT_GT(image, 0.0);
    EXPECT_GT(text, 0.0);
  }
  EXPECT_GT(grad_norm(values), 0.0);
  if (b.text.tokens.grad().defined()) {
    auto pads = b.text.mask.logical_not().unsqueeze(-1).expand_as(b.text.tokens);
    EXPECT_EQ(b.text.tokens.grad().masked_select(pads).abs().sum().item<double>(), 0.0);
  }
}

TEST_P(ThreeInputFusionTest, TextPadsHaveNoInfluence) {
  torch::NoGradGuard no_grad;
  auto before = z(batch_, values_);
  Batch changed = batch_;
  auto pads = batch_.text.mask.logical_not().unsqueeze(-1).expand_as(batch_.text.tokens);
  changed.text.tokens = torch::where(pads, 100 * torch::randn_like(batch_.text.tokens), batch_.text.tokens);
  EXPECT_TRUE(torch::equal(z(changed, values_), before));
}

TEST_P(ThreeInputFusionTest, SamplesAreIndependent) {
  torch::NoGradGuard no_grad;
  auto all = z(batch_, values_);
  for (int64_t i = 0; i < kBatch; ++i) {
    auto one = make_batch(batch_.image.grid.slice(0, i, i + 1), batch_.text.tokens.slice(0, i, i + 1),
                          batch_.text.mask.slice(0, i, i + 1));
    EXPECT_TRUE(torch::allclose(z(one, values_.slice(0, i, i + 1))[0], all[i], /*rtol=*/1e-5, /*atol=*/1e-6))
        << "sample " << i;
  }
}

// Labels = parity of a binary attribute of each of the three inputs: no input
// and no pair says anything about the label, only all three together. A fusion
// with an interaction and the model's MLP head fits it; late fusion (additive
// logits) and a unimodal baseline cannot get below ln 2.
TEST_P(ThreeInputFusionTest, ParityOfThreeInputs) {
  const std::string name = GetParam();
  torch::manual_seed(6);
  auto image_protos = torch::randn({2, kDim, kGrid, kGrid});
  auto text_protos = torch::randn({2, kLen, kDim});
  auto tab_protos = torch::randn({2, kFeatures, kDim});
  auto mask_protos = default_mask().slice(0, 0, 2);
  auto a = torch::tensor({0, 0, 0, 0, 1, 1, 1, 1}, torch::kLong);
  auto b = torch::tensor({0, 0, 1, 1, 0, 0, 1, 1}, torch::kLong);
  auto c = torch::tensor({0, 1, 0, 1, 0, 1, 0, 1}, torch::kLong);
  auto labels = a.bitwise_xor(b).bitwise_xor(c);
  auto data =
      make_batch(image_protos.index_select(0, a), text_protos.index_select(0, b), mask_protos.index_select(0, b));
  auto inputs = three_inputs(data, tab_protos.index_select(0, c));

  auto fusion = make_fusion(name, three_input_config());
  auto head = torch::nn::Sequential();
  if (!fusion->outputs_logits()) {
    head->push_back(torch::nn::Linear(fusion->out_dim(), /*out=*/16));
    head->push_back(torch::nn::Functional(torch::relu));
    head->push_back(torch::nn::Linear(16, /*out=*/2));
  }
  auto params = fusion->parameters();
  for (const auto& p : head->parameters()) params.push_back(p);
  torch::optim::Adam opt(params, torch::optim::AdamOptions(1e-2));
  auto loss_of = [&] {
    auto out = fusion->forward(inputs);
    if (!fusion->outputs_logits()) out = head->forward(out);
    return torch::nn::functional::cross_entropy(out, labels);
  };
  for (int step = 0; step < 400; ++step) {
    opt.zero_grad();
    loss_of().backward();
    opt.step();
  }
  const double loss = loss_of().item<double>();
  if (name == "late" || name == "tabular-only") {
    EXPECT_GT(loss, 0.6) << "a fusion without interaction fit the parity";
  } else {
    EXPECT_LT(loss, 0.1) << "could not fit the parity of three inputs";
  }
}

INSTANTIATE_TEST_SUITE_P(Zoo, ThreeInputFusionTest, ::testing::ValuesIn(three_input_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string s = info.param;
                           for (char& ch : s) {
                             if (ch == '-') ch = '_';
                           }
                           return s;
                         });

TEST(FusionInputs, WhatAFusionCannotTakeIsAUsageError) {
  FusionConfig four = three_input_config();
  four.streams.push_back(StreamShape::sequence("audio", kDim, 6));
  EXPECT_THROW(make_fusion("tensor", four), UsageError);  // 17^4 features
  EXPECT_NO_THROW(make_fusion("lowrank", four));          // its factored form takes any number
  EXPECT_EQ(make_fusion("tensor", three_input_config())->out_dim(), 17 * 17 * 17);
  EXPECT_THROW(make_fusion("audio-only", three_input_config()), UsageError);   // no audio input
  EXPECT_THROW(make_fusion("signal-only", three_input_config()), UsageError);  // no signal input
  FusionConfig one = small_config();
  one.streams.resize(1);
  EXPECT_THROW(make_fusion("concat", one), UsageError);  // nothing to fuse
  EXPECT_NO_THROW(make_fusion("image-only", one));
}

TEST(FusionInputs, RolesNameRepeatedKinds) {
  std::vector<StreamShape> before;
  EXPECT_EQ(stream_role("text", before), "text");
  before.push_back(StreamShape::sequence("text", 4, 3));
  before.push_back(StreamShape::sequence("tabular", 4, 3));
  EXPECT_EQ(stream_role("text", before), "text2");
  EXPECT_EQ(stream_role("tabular", before), "tabular2");
  EXPECT_EQ(stream_role("audio", before), "audio");
}

}  // namespace
}  // namespace muroan
