// The built-in model: every fusion through the whole net, training on a tiny
// batch, and checkpoint round trips.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "muroan/checkpoint.h"
#include "muroan/encoders.h"
#include "muroan/error.h"
#include "muroan/fusion.h"
#include "muroan/multimodal_net.h"
#include "muroan/training_record.h"

namespace muroan {
namespace {

ModelConfig tiny_config(const std::string& fusion) {
  ModelConfig c;
  c.fusion = fusion;
  c.image_channels = 1;
  c.image_height = 16;
  c.image_width = 16;
  c.vocab_size = 10;
  c.max_len = 5;
  c.num_classes = 3;
  c.dim = 16;
  c.embed_dim = 8;
  c.head_hidden = 16;
  return c;
}

// The fusions that take one image and one token sequence.
std::vector<std::string> fusion_names() {
  std::vector<std::string> names;
  for (const auto& f : fusion_catalog()) {
    if (f.name != "tabular-only" && f.name != "audio-only" && f.name != "signal-only") names.push_back(f.name);
  }
  return names;
}

torch::Tensor random_tokens(int64_t b, int64_t len, int64_t vocab) {
  auto t = torch::randint(2, vocab, {b, len}, torch::kLong);
  t.index_put_({torch::indexing::Slice(), torch::indexing::Slice(3, torch::indexing::None)}, 0);  // pads
  return t;
}

class EveryFusion : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryFusion, ShapesOfLogitsAndFusionEmbedding) {
  torch::manual_seed(0);
  MultimodalNet net(tiny_config(GetParam()));
  net->eval();
  torch::NoGradGuard no_grad;
  auto image = torch::rand({4, 1, 16, 16});
  auto tokens = random_tokens(4, 5, 10);
  auto logits = net->forward(image, tokens);
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{4, 3}));
  auto z = net->fuse({image, tokens});
  EXPECT_EQ(z.dim(), 2);
  EXPECT_EQ(z.size(0), 4);
  EXPECT_TRUE(torch::isfinite(z).all().item<bool>());
  // The head maps z to the logits.
  EXPECT_TRUE(torch::allclose(net->head(z), logits, 1e-5, 1e-6));
  // Embedding path = id path.
  EXPECT_TRUE(torch::allclose(net->forward_embedded(image, net->embed_tokens(tokens), tokens), logits, 1e-5, 1e-6));
}

// A modality that every row shares is encoded once and its features repeated:
// the same logits and z as the full batch, for either modality shared.
TEST_P(EveryFusion, SharedModalityEncodingEqualsTheFullBatch) {
  torch::manual_seed(0);
  MultimodalNet net(tiny_config(GetParam()));
  net->eval();
  torch::NoGradGuard no_grad;
  auto images = torch::rand({5, 1, 16, 16});
  auto token_rows = random_tokens(5, 5, 10);
  auto image = images.slice(0, 0, 1);
  auto tokens = token_rows.slice(0, 0, 1);
  const auto z_text_shared = net->fuse_shared({images, tokens}, {false, true}, 5);
  EXPECT_TRUE(torch::allclose(z_text_shared, net->fuse({images, tokens.expand({5, -1})}), 1e-5, 1e-6));
  const auto z_image_shared = net->fuse_shared({image, token_rows}, {true, false}, 5);
  EXPECT_TRUE(torch::allclose(z_image_shared, net->fuse({image.expand({5, -1, -1, -1}), token_rows}), 1e-5, 1e-6));
  EXPECT_EQ(net->head(z_image_shared).sizes(), (std::vector<int64_t>{5, 3}));
}

TEST_P(EveryFusion, OverfitsATinyBatch) {
  torch::manual_seed(1);
  MultimodalNet net(tiny_config(GetParam()));
  auto image = torch::rand({12, 1, 16, 16});
  auto tokens = random_tokens(12, 5, 10);
  auto labels = torch::arange(12, torch::kLong) % 3;
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(1e-2));
  net->train();
  for (int step = 0; step < 150; ++step) {
    opt.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(net->forward(image, tokens), labels);
    loss.backward();
    opt.step();
  }
  net->eval();
  torch::NoGradGuard no_grad;
  const double acc = net->forward(image, tokens).argmax(1).eq(labels).to(torch::kDouble).mean().item<double>();
  EXPECT_EQ(acc, 1.0) << GetParam() << " could not memorise 12 samples";
}

INSTANTIATE_TEST_SUITE_P(Zoo, EveryFusion, ::testing::ValuesIn(fusion_names()), [](const auto& info) {
  std::string n = info.param;
  for (auto& ch : n)
    if (ch == '-') ch = '_';
  return n;
});

TEST(MultimodalNet, TrailingPadsDoNotChangeTheDecision) {
  torch::manual_seed(2);
  MultimodalNet net(tiny_config("xattn"));
  net->eval();
  torch::NoGradGuard no_grad;
  auto image = torch::rand({1, 1, 16, 16});
  auto a = torch::tensor({{3, 4, 5, 0, 0}}, torch::kLong);
  auto text = net->embed_tokens(a);
  // Garbage embeddings at pad positions are ignored.
  auto noisy = text.clone();
  noisy.index_put_({0, 4}, torch::randn({8}));
  EXPECT_TRUE(torch::allclose(net->forward_embedded(image, noisy, a), net->forward(image, a), 1e-5, 1e-6));
}

TEST(MultimodalNet, RejectsInputsThatDoNotFit) {
  auto c = tiny_config("concat");
  EXPECT_NO_THROW(check_model_inputs(c, torch::rand({2, 1, 16, 16}), torch::zeros({2, 5}, torch::kLong)));
  EXPECT_THROW(check_model_inputs(c, torch::rand({2, 3, 16, 16}), torch::zeros({2, 5}, torch::kLong)), Error);
  EXPECT_THROW(check_model_inputs(c, torch::rand({2, 1, 16, 16}), torch::zeros({2, 6}, torch::kLong)), Error);
  EXPECT_THROW(check_model_inputs(c, torch::rand({2, 1, 16, 16}), torch::full({2, 5}, 10, torch::kLong)), Error);
  EXPECT_THROW(check_model_inputs(c, torch::rand({2, 1, 16, 16}), torch::zeros({2, 5}, torch::kInt)), Error);
}

// The spp readout: a 2x finer grid for the attention fusions, a pooled vector
// that sees where things are (quadrants), few weights, and a config field that
// earlier checkpoints (flat) do not have.
TEST(ImageReadout, SppKeepsAFinerGridAndFewWeightsAndRoundTrips) {
  for (const std::string fusion : {"concat", "xattn", "film", "transformer"}) {
    ModelConfig c = tiny_config(fusion);
    c.image_readout = "spp";
    MultimodalNet net(c);
    const auto image = torch::rand({3, 1, 16, 16});
    const auto tokens = random_tokens(3, 5, 10);
    EXPECT_EQ(net->forward(image, tokens).sizes(), (std::vector<int64_t>{3, 3})) << fusion;
    EXPECT_EQ(c.fusion_config().streams[0].grid_h, 4) << "16 / 4";
    EXPECT_EQ(tiny_config(fusion).fusion_config().streams[0].grid_h, 2) << "16 / 8";
  }
  ModelConfig flat = tiny_config("concat"), spp = flat;
  spp.image_readout = "spp";
  auto projection = [](const ModelConfig& c) {
    const auto params = MultimodalNet(c)->named_parameters();
    const auto* weight = params.find("image_encoder.project.weight");
    return weight ? weight->size(1) : int64_t{-1};
  };
  EXPECT_EQ(projection(flat), 16 * 2 * 2);  // D x grid cells
  EXPECT_EQ(projection(spp), 16 * 6);       // D x (max, mean, 4 quadrant maxima)
  // Where the object is changes the pooled vector (the quadrant maxima see it).
  MultimodalNet net(spp);
  auto left = torch::zeros({1, 1, 16, 16}), right = torch::zeros({1, 1, 16, 16});
  left.index_put_({0, 0, torch::indexing::Slice(4, 8), torch::indexing::Slice(1, 5)}, 1.0);
  right.index_put_({0, 0, torch::indexing::Slice(4, 8), torch::indexing::Slice(11, 15)}, 1.0);
  const auto tokens = random_tokens(1, 5, 10);
  EXPECT_FALSE(torch::allclose(net->fuse({left, tokens}), net->fuse({right, tokens})));
  // JSON: flat writes no field (earlier checkpoints stay byte-identical), spp does; bad values are refused.
  EXPECT_FALSE(flat.to_json().contains("image_readout"));
  EXPECT_EQ(spp.to_json().at("image_readout"), "spp");
  EXPECT_EQ(ModelConfig::from_json(spp.to_json()).image_readout, "spp");
  EXPECT_EQ(ModelConfig::from_json(flat.to_json()).image_readout, "flat");
  auto bad = spp.to_json();
  bad["image_readout"] = "mean";
  EXPECT_THROW(ModelConfig::from_json(bad), Error);
}

// The image encoder pools with elementwise maxima and puts each ReLU after
// its pooling (faster on a CPU, image_encoder.cpp): its grid and every
// gradient must be those of the textbook conv -> ReLU -> max_pool2d stack to
// the bit, ties (flat backgrounds, a window of equal values) and odd sizes
// (28 -> 14 -> 7 -> 3) included.
TEST(ImageEncoder, SameBitsAndGradientsAsConvReluMaxPool2d) {
  torch::manual_seed(3);
  for (const std::string readout : {"flat", "spp"}) {
    const bool spp = readout == "spp";
    ImageEncoder encoder(1, 8, spp ? 1 : 9, readout);
    const auto params = encoder->named_parameters();
    {
      torch::NoGradGuard no_grad;  // positive biases: flat backgrounds give tied positive windows
      for (const auto* bias : {"body.0.bias", "body.3.bias", "body.6.bias"}) params[bias].uniform_(0.05, 0.1);
    }
    auto image = torch::zeros({4, 1, 28, 28});
    image.index_put_({torch::indexing::Slice(), 0, torch::indexing::Slice(6, 20), torch::indexing::Slice(9, 17)},
                     torch::rand({4, 14, 8}));
    image.index_put_({0, 0, torch::indexing::Slice(2, 4), torch::indexing::Slice(2, 4)}, 0.5);  // a tied window
    auto reference = [&](const torch::Tensor& x) {
      auto h = x;
      for (int block = 0; block < 3; ++block) {
        const auto layer = "body." + std::to_string(3 * block) + ".";
        h = torch::relu(torch::conv2d(h, params[layer + "weight"], params[layer + "bias"], 1, 1));
        if (!(spp && block == 2)) h = torch::max_pool2d(h, 2);
      }
      return h;
    };
    const auto x = image.clone().requires_grad_();
    const auto grid = encoder->forward(x).grid;
    const auto expected = reference(x);
    ASSERT_EQ(grid.sizes(), expected.sizes()) << readout;
    EXPECT_TRUE(torch::equal(grid, expected)) << readout;
    const auto direction = torch::randn(grid.sizes());
    const std::vector<torch::Tensor> wrt = {x, params["body.0.weight"], params["body.3.weight"], params["body.6.bias"]};
    const auto got = torch::autograd::grad({(grid * direction).sum()}, wrt);
    const auto want = torch::autograd::grad({(expected * direction).sum()}, wrt);
    for (size_t i = 0; i < wrt.size(); ++i) EXPECT_TRUE(torch::equal(got[i], want[i])) << readout << " gradient " << i;
    EXPECT_GT(got[0].abs().sum().item<double>(), 0.0) << "the comparison must see gradients";
  }
}

TEST(TrainingRecord, JsonRoundTripAndTypeChecks) {
  TrainingRecord r;
  r.epochs_max = 12;
  r.batch_size = 64;
  r.learning_rate = 5e-4;
  r.patience = 3;
  r.seed = 7;
  r.device = "cpu";
  r.best_epoch = 9;
  r.val_accuracy = 0.9;
  r.test_accuracy = 0.91;
  r.test_samples = 2000;
  r.parameters = 256034;
  r.seconds = 12.5;
  r.chance_accuracy = 0.5;
  r.left_plateau = true;
  r.history = {{1, 0.69, 0.5, 0.5, 1.0}, {2, 0.4, 0.8, 0.85, 1.1}};
  r.defense = {{"name", "ablation"}, {"ablation_keep", "45,all"}};
  const auto j = r.to_json();
  EXPECT_EQ(j.at("history").size(), 2u);
  const TrainingRecord back = TrainingRecord::from_json(j, "x");
  EXPECT_EQ(back.to_json(), j);
  EXPECT_EQ(back.defense_name(), "ablation");
  EXPECT_EQ(back.history[1].val_accuracy, 0.85);
  // An earlier checkpoint without some fields keeps the defaults; a wrong type is an error naming the field.
  auto old = j;
  old.erase("left_plateau");
  old.erase("defense");
  const TrainingRecord earlier = TrainingRecord::from_json(old, "x");
  EXPECT_FALSE(earlier.left_plateau);
  EXPECT_EQ(earlier.defense_name(), "none");
  for (const auto& [field, value] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"epochs_max", "twelve"}, {"seed", -1}, {"test_accuracy", "high"}, {"history", 3}, {"defense", "x"}}) {
    auto bad = j;
    bad[field] = value;
    try {
      TrainingRecord::from_json(bad, "ck.json: training");
      FAIL() << field;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("'" + field + "'"), std::string::npos) << e.what();
    }
  }
  auto bad_epoch = j;
  bad_epoch["history"][1]["val_accuracy"] = "x";
  EXPECT_THROW(TrainingRecord::from_json(bad_epoch, "x"), InputError);
}

TEST(ModelConfig, JsonRoundTripAndMissingField) {
  auto c = tiny_config("tensor");
  auto d = ModelConfig::from_json(c.to_json());
  EXPECT_EQ(d.to_json(), c.to_json());
  auto j = c.to_json();
  j.erase("vocab_size");
  EXPECT_THROW(ModelConfig::from_json(j), Error);
  // Sizes a corrupt checkpoint could ask the allocator for are refused first.
  const std::vector<std::pair<const char*, int64_t>> huge = {
      {"dim", 1 << 20},      {"image_height", 100000}, {"max_len", 600000000}, {"vocab_size", int64_t{1} << 40},
      {"image_channels", 4}, {"num_classes", 1},       {"pad_id", 10}};
  for (const auto& [field, value] : huge) {
    auto k = c.to_json();
    k[field] = value;
    try {
      ModelConfig::from_json(k);
      ADD_FAILURE() << field << " = " << value << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  }
  // A float where an integer belongs is refused, not converted (6.7e77 to an
  // integer is undefined behaviour; found by fuzz/checkpoint_fuzzer.cpp, UBSan).
  for (const double bad : {6.7e77, 12.5}) {
    auto k = c.to_json();
    k["dim"] = bad;
    EXPECT_THROW(ModelConfig::from_json(k), Error) << bad;
  }
  auto wide = c.to_json();
  wide["dim"] = 4096;
  wide["image_height"] = wide["image_width"] = 4096;
  EXPECT_THROW(ModelConfig::from_json(wide), Error) << "a 2^36-weight projection";
}

class CheckpointTest : public ::testing::Test {
 protected:
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "muroan_checkpoint_test";
  void SetUp() override { std::filesystem::remove_all(dir); }
  void TearDown() override { std::filesystem::remove_all(dir); }
};

TEST_F(CheckpointTest, RoundTripGivesIdenticalLogits) {
  torch::manual_seed(3);
  Checkpoint ck;
  ck.config = tiny_config("gmu");
  ck.task = "unit";
  ck.task_options.seed = 9;
  ck.task_options.train_size = 5;
  ck.classes = {"a", "b", "c"};
  ck.modalities = {ModalitySpec::image("image", 1, 16, 16), ModalitySpec::tokens("tokens", 5, 0, 10)};
  ck.vocab = Vocabulary({"w2", "w3", "w4", "w5", "w6", "w7", "w8", "w9"});
  ck.net = MultimodalNet(ck.config);
  ck.net->eval();
  save_checkpoint(ck, dir.string());

  Checkpoint back = load_checkpoint(dir.string(), torch::kCPU);
  EXPECT_EQ(back.task, "unit");
  EXPECT_EQ(back.task_options.seed, 9u);
  EXPECT_EQ(back.task_options.train_size, 5);
  EXPECT_EQ(back.classes, ck.classes);
  EXPECT_EQ(back.vocab.words(), ck.vocab.words());
  ASSERT_EQ(back.modalities.size(), 2u);
  EXPECT_EQ(back.modalities[1].max_len(), 5);
  torch::NoGradGuard no_grad;
  auto image = torch::rand({3, 1, 16, 16});
  auto tokens = random_tokens(3, 5, 10);
  EXPECT_TRUE(torch::equal(back.net->forward(image, tokens), ck.net->forward(image, tokens)));
  auto model = make_classifier(back, torch::kCPU);
  EXPECT_EQ(model->name(), "unit/gmu");
  EXPECT_TRUE(torch::equal(model->logits({image, tokens}), ck.net->forward(image, tokens)));
}

TEST_F(CheckpointTest, BrokenFilesGiveInputErrors) {
  EXPECT_THROW(load_checkpoint(dir.string(), torch::kCPU), InputError);
  torch::manual_seed(4);
  Checkpoint ck;
  ck.config = tiny_config("sum");
  ck.task = "unit";
  ck.classes = {"a", "b", "c"};
  ck.modalities = {ModalitySpec::image("image", 1, 16, 16), ModalitySpec::tokens("tokens", 5, 0, 10)};
  ck.net = MultimodalNet(ck.config);
  save_checkpoint(ck, dir.string());
  // A truncated weights file.
  const auto weights = dir / "weights.pt";
  std::filesystem::resize_file(weights, std::filesystem::file_size(weights) / 2);
  EXPECT_THROW(load_checkpoint(dir.string(), torch::kCPU), InputError);
  // A config that is not JSON.
  save_checkpoint(ck, dir.string());
  { std::ofstream(dir / "checkpoint.json") << "{ not json"; }
  EXPECT_THROW(load_checkpoint(dir.string(), torch::kCPU), InputError);
  // A number too large to store: nlohmann's out_of_range, not a parse_error.
  { std::ofstream(dir / "checkpoint.json") << "{\"format\": 1E400}"; }
  EXPECT_THROW(load_checkpoint(dir.string(), torch::kCPU), InputError);
  // A float where an integer belongs (the task seed), refused before conversion.
  save_checkpoint(ck, dir.string());
  {
    std::ifstream in(dir / "checkpoint.json");
    auto j = nlohmann::json::parse(in);
    j["task_options"]["seed"] = 6.7e77;
    std::ofstream(dir / "checkpoint.json") << j.dump();
  }
  try {
    load_checkpoint(dir.string(), torch::kCPU);
    ADD_FAILURE() << "a seed of 6.7e77 was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("field 'seed' has the wrong type"), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------- other kinds

// Three inputs of the other kinds: 5 tabular features, a token note, 160 audio
// samples in frames of 20 (8 frames).
std::vector<ModalitySpec> three_kinds() {
  return {ModalitySpec::tabular("vitals", {"hr", "sbp", "temp", "spo2", "rr"}, {80, 120, 37, 97, 16}),
          ModalitySpec::tokens("note", 5, 0, 10), ModalitySpec::audio("ecg", 160, 200, 20)};
}

ModelConfig three_kind_config(const std::string& fusion) {
  ModelConfig c = tiny_config(fusion);
  c.inputs = three_kinds();
  return c;
}

Inputs three_kind_batch(int64_t b) {
  return {torch::randn({b, 5}) * 10 + 60, random_tokens(b, 5, 10), torch::randn({b, 160}) * 0.3};
}

std::vector<std::string> three_kind_fusions() {
  std::vector<std::string> names = {"tabular-only", "text-only", "audio-only"};
  for (const auto& f : fusion_catalog()) {
    if (f.multimodal) names.push_back(f.name);
  }
  return names;
}

class ThreeKinds : public ::testing::TestWithParam<std::string> {};

TEST_P(ThreeKinds, LogitsSharedEncodingAndTheEmbeddingPath) {
  torch::manual_seed(0);
  MultimodalNet net(three_kind_config(GetParam()));
  net->eval();
  torch::NoGradGuard no_grad;
  const Inputs x = three_kind_batch(4);
  const auto logits = net->forward(x);
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{4, 3}));
  EXPECT_TRUE(torch::isfinite(logits).all().item<bool>());
  EXPECT_TRUE(torch::allclose(net->head(net->fuse(x)), logits, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(net->forward_embedded({x[0], net->embed_tokens(1, x[1]), x[2]}, x), logits, 1e-5, 1e-6));
  EXPECT_THROW(net->embed_tokens(0, x[1]), c10::Error);  // input 0 is tabular
  // Each input shared in turn: one row encoded once equals that row repeated.
  for (size_t m = 0; m < 3; ++m) {
    Inputs shared = x;
    shared[m] = x[m].slice(0, 0, 1);
    Inputs repeated = x;
    std::vector<int64_t> sizes(static_cast<size_t>(x[m].dim()), -1);
    sizes[0] = 4;
    repeated[m] = shared[m].expand(sizes);
    std::vector<bool> flags(3, false);
    flags[m] = true;
    EXPECT_TRUE(torch::allclose(net->fuse_shared(shared, flags, 4), net->fuse(repeated), 1e-5, 1e-6)) << m;
  }
}

TEST_P(ThreeKinds, OverfitsATinyBatch) {
  const std::string name = GetParam();
  torch::manual_seed(1);
  MultimodalNet net(three_kind_config(name));
  const Inputs x = three_kind_batch(12);
  net->set_tabular_standardisation(0, x[0].mean(0), x[0].std(0));
  auto labels = torch::arange(12, torch::kLong) % 3;
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(1e-2));
  net->train();
  for (int step = 0; step < 150; ++step) {
    opt.zero_grad();
    torch::nn::functional::cross_entropy(net->forward(x), labels).backward();
    opt.step();
  }
  net->eval();
  torch::NoGradGuard no_grad;
  const double acc = net->forward(x).argmax(1).eq(labels).to(torch::kDouble).mean().item<double>();
  EXPECT_EQ(acc, 1.0) << name << " could not memorise 12 samples";
}

INSTANTIATE_TEST_SUITE_P(Zoo, ThreeKinds, ::testing::ValuesIn(three_kind_fusions()), [](const auto& info) {
  std::string n = info.param;
  for (auto& ch : n)
    if (ch == '-') ch = '_';
  return n;
});

// Silencing an audio frame changes that frame's features and, through the 1-D
// convolutions (kernel 3, two layers), at most its two neighbours on each side.
TEST(FrameEncoder, AnAudioFrameReachesOnlyItsNeighbourhood) {
  torch::manual_seed(5);
  FrameEncoder encoder(ModalitySpec::audio("a", 160, 200, 20), 8);
  torch::NoGradGuard no_grad;
  auto wave = torch::randn({1, 160});
  auto silenced = wave.clone();
  silenced.slice(1, 20, 40).zero_();  // frame 1
  const auto a = encoder->forward(wave).tokens[0], b = encoder->forward(silenced).tokens[0];
  const auto changed = (a - b).abs().amax(1);
  EXPECT_GT(changed[1].item<double>(), 0.0);
  for (int64_t f = 4; f < 8; ++f) EXPECT_EQ(changed[f].item<double>(), 0.0) << "frame " << f;
  // A silent frame has a finite gradient (no |0| in the spectrum's derivative).
  torch::GradMode::set_enabled(true);
  auto leaf = silenced.clone().requires_grad_(true);
  encoder->forward(leaf).pooled.sum().backward();
  EXPECT_TRUE(torch::isfinite(leaf.grad()).all().item<bool>());
  torch::GradMode::set_enabled(false);
}

// A feature at its training mean reads as 0 after standardisation, whatever its scale.
TEST(TabularEncoder, StandardisesWithTheTrainingStatistics) {
  torch::manual_seed(6);
  TabularEncoder encoder(2, 4);
  torch::NoGradGuard no_grad;
  encoder->set_standardisation(torch::tensor({100.0F, 0.5F}), torch::tensor({20.0F, 0.0F}));
  const auto at_mean = encoder->forward(torch::tensor({{100.0F, 0.5F}})).tokens;
  const auto zero = encoder->forward(torch::tensor({{0.0F, 0.0F}}));
  encoder->set_standardisation(torch::zeros({2}), torch::ones({2}));
  EXPECT_TRUE(torch::allclose(at_mean, encoder->forward(torch::zeros({1, 2})).tokens));
  EXPECT_FALSE(torch::allclose(zero.tokens, at_mean));
  EXPECT_TRUE(torch::isfinite(zero.pooled).all().item<bool>()) << "a std of 0 is taken as 1";
}

TEST_F(CheckpointTest, ThreeKindRoundTripKeepsTheStandardisation) {
  torch::manual_seed(7);
  Checkpoint ck;
  ck.config = three_kind_config("xattn");
  ck.task = "unit";
  ck.classes = {"a", "b", "c"};
  ck.modalities = three_kinds();
  ck.vocab = Vocabulary({"w2", "w3", "w4", "w5", "w6", "w7", "w8", "w9"});
  ck.net = MultimodalNet(ck.config);
  const Inputs x = three_kind_batch(3);
  ck.net->set_tabular_standardisation(0, torch::full({5}, 60.0F), torch::full({5}, 10.0F));
  ck.net->eval();
  save_checkpoint(ck, dir.string());

  const auto json = ck.config.to_json();
  EXPECT_TRUE(json.contains("inputs"));
  EXPECT_FALSE(json.contains("image_height")) << "no image fields for a model without the image + tokens pair";
  Checkpoint back = load_checkpoint(dir.string(), torch::kCPU);
  ASSERT_EQ(back.config.inputs.size(), 3u);
  EXPECT_EQ(back.config.inputs[0].features, ck.config.inputs[0].features);
  EXPECT_EQ(back.config.inputs[2].frame, 20);
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(back.net->forward(x), ck.net->forward(x)));
  auto model = make_classifier(back, torch::kCPU);
  EXPECT_TRUE(torch::equal(model->logits(x), ck.net->forward(x)));
  // The modalities the classifier is given must be the net's.
  EXPECT_THROW(BuiltinClassifier(back.net, {ModalitySpec::image("image", 1, 16, 16)}, ck.classes, "x", torch::kCPU),
               Error);
}

TEST(ModelConfig, InputsAreCheckedLikeTheImageFields) {
  auto j = three_kind_config("concat").to_json();
  EXPECT_EQ(ModelConfig::from_json(j).to_json(), j);
  auto bad = j;
  bad["inputs"][1]["vocab_size"] = int64_t{1} << 40;
  EXPECT_THROW(ModelConfig::from_json(bad), Error);
  bad = j;
  bad["inputs"] = nlohmann::json::array();
  EXPECT_THROW(ModelConfig::from_json(bad), Error);
  bad = j;
  bad["inputs"][0]["kind"] = "smell";
  EXPECT_THROW(ModelConfig::from_json(bad), Error);
}

}  // namespace
}  // namespace muroan
