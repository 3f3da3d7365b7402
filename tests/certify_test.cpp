// Certification by randomized ablation: the statistics against known values,
// the bound against brute force, soundness on a model small enough to enumerate
// every keep set and every decoupling set, determinism, and the command.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "cli_app.h"
#include "cli_run.h"
#include "muroan/certify.h"
#include "muroan/defense.h"
#include "muroan/error.h"
#include "muroan/torchscript_model.h"

namespace muroan {
namespace {

namespace fs = std::filesystem;

// ---- statistics ----

TEST(ClopperPearson, MatchesKnownValues) {
  // Reference: bisection on exact binomial tails (P(X >= s) = alpha for the
  // lower bound, P(X <= s) = alpha for the upper one), computed independently.
  struct Case {
    int64_t s, n;
    double alpha, lower, upper;
  };
  const Case cases[] = {
      {10, 10, 0.05, 0.741134449107, 1.0},
      {50, 100, 0.05, 0.413621714631, 0.586378285369},
      {50, 100, 0.025, 0.398321129503, 0.601678870497},
      {10, 10, 0.025, 0.691502892181, 1.0},
      {0, 10, 0.05, 0.0, 0.258865550893},
      {3, 10, 0.05, 0.087264433914, 0.606624216105},
      {95, 100, 0.05, 0.897746622357, 0.980094436338},
      {990, 1000, 0.001, 0.976036187155, 0.997030499070},
  };
  for (const auto& c : cases) {
    EXPECT_NEAR(clopper_pearson_lower(c.s, c.n, c.alpha), c.lower, 1e-9) << c.s << "/" << c.n;
    EXPECT_NEAR(clopper_pearson_upper(c.s, c.n, c.alpha), c.upper, 1e-9) << c.s << "/" << c.n;
  }
  // All n successes: alpha^(1/n) in closed form.
  EXPECT_NEAR(clopper_pearson_lower(100000, 100000, 0.001), std::pow(0.001, 1e-5), 1e-12);
  EXPECT_THROW(clopper_pearson_lower(11, 10, 0.05), UsageError);
  EXPECT_THROW(clopper_pearson_lower(5, 10, 0.0), UsageError);
}

TEST(ClopperPearson, IncompleteBetaKnownValuesAndRoundTrip) {
  // I_x(a,b) = P(Bin(a+b-1, x) >= a) for integers: P(Bin(4,1/2) >= 2) = 11/16.
  EXPECT_NEAR(regularized_incomplete_beta(2, 3, 0.5), 11.0 / 16.0, 1e-14);
  EXPECT_NEAR(regularized_incomplete_beta(1, 1, 0.3), 0.3, 1e-14);
  EXPECT_NEAR(regularized_incomplete_beta(0.5, 0.5, 0.5), 0.5, 1e-12);
  for (double p : {0.001, 0.05, 0.5, 0.95})
    EXPECT_NEAR(regularized_incomplete_beta(7, 300, beta_quantile(p, 7, 300)), p, 1e-10);
}

// ---- the bound ----

TEST(AblationBound, MissProbabilityIsTheBinomialRatio) {
  EXPECT_NEAR(std::exp(ablation_log_miss(9, 3, 1)), 56.0 / 84.0, 1e-12);    // C(8,3)/C(9,3)
  EXPECT_NEAR(std::exp(ablation_log_miss(16, 2, 3)), 78.0 / 120.0, 1e-12);  // C(13,2)/C(16,2)
  EXPECT_EQ(ablation_log_miss(9, 3, 0), 0.0);
  EXPECT_EQ(ablation_log_miss(9, 0, 5), 0.0);           // nothing kept: nothing to miss
  EXPECT_TRUE(std::isinf(ablation_log_miss(9, 7, 3)));  // 6 left < 7 kept
  EXPECT_TRUE(std::isinf(ablation_log_miss(5, 9, 1)));  // all kept: any change is seen
  EXPECT_NEAR(ablation_delta({9, 5}, {3, 1}, {1, 1}), 1.0 - (56.0 / 84.0) * (4.0 / 5.0), 1e-12);
}

TEST(AblationBound, WorstSplitMatchesBruteForce) {
  const std::vector<std::vector<int64_t>> ns = {{16, 5}, {30, 4, 7}, {3, 12}};
  const std::vector<std::vector<int64_t>> ks = {{2, 1}, {4, 0, 2}, {3, 2}};
  for (size_t c = 0; c < ns.size(); ++c) {
    const auto& n = ns[c];
    const auto& k = ks[c];
    int64_t total = 0;
    for (int64_t v : n) total += v;
    for (int64_t r = 0; r <= std::min<int64_t>(total + 1, 14); ++r) {
      double worst = r > total ? 1.0 : 0.0;
      std::vector<int64_t> split(n.size(), 0);
      std::function<void(size_t, int64_t)> visit = [&](size_t m, int64_t left) {
        if (m + 1 == n.size()) {
          if (left > n[m]) return;
          split[m] = left;
          worst = std::max(worst, ablation_delta(n, k, split));
          return;
        }
        for (int64_t v = 0; v <= std::min(left, n[m]); ++v) {
          split[m] = v;
          visit(m + 1, left - v);
        }
      };
      visit(0, r);
      EXPECT_NEAR(worst_ablation_delta(n, k, r), worst, 1e-12) << "case " << c << " r " << r;
    }
  }
}

TEST(AblationBound, CertifiedRadius) {
  // n 9, k 3: Delta(1) = 1/3, Delta(2) = 1 - 35/84.
  auto r = certified_radius(0.9, {9}, {3});
  EXPECT_EQ(r.total, 1);
  EXPECT_EQ(r.per_modality, std::vector<int64_t>{1});
  EXPECT_EQ(certified_radius(0.5, {9}, {3}).total, -1);  // not above 1/2: abstain
  EXPECT_EQ(certified_radius(0.8, {9}, {3}).total, 0);
  // Nothing kept of the second modality: it may change freely.
  r = certified_radius(0.99, {100, 6}, {1, 0});
  EXPECT_EQ(r.per_modality[1], 6);
  EXPECT_EQ(r.per_modality[0], 48);       // 0.99 - r/100 > 1/2
  EXPECT_EQ(r.total, r.per_modality[0]);  // the worst split puts every point in the image
  // Everything kept of the second modality: one change there can flip the vote.
  r = certified_radius(0.99, {100, 6}, {1, 6});
  EXPECT_EQ(r.per_modality[1], 0);
  EXPECT_EQ(r.total, 0);
  // The total radius is the largest r whose worst split still certifies.
  r = certified_radius(0.97, {200, 5}, {10, 1});
  ASSERT_GE(r.total, 1);
  EXPECT_GT(0.97 - worst_ablation_delta({200, 5}, {10, 1}, r.total), 0.5);
  EXPECT_LE(0.97 - worst_ablation_delta({200, 5}, {10, 1}, r.total + 1), 0.5);
}

// ---- soundness on an exhaustively checkable model ----

constexpr int64_t kSide = 4;  // image 1x4x4: 16 points
constexpr int64_t kLen = 6;   // tokens: max_len 6
constexpr int64_t kVocab = 8;
constexpr int64_t kClasses = 3;

// Logits linear in the pixels and in (token id, position) pairs, so that a
// deletion (which shifts later tokens) matters; class 0 gets `bias`.
class LinearModel : public Classifier {
 public:
  LinearModel(uint64_t seed, double bias) {
    specs_ = {ModalitySpec::image("image", 1, kSide, kSide, 0.0), ModalitySpec::tokens("tokens", kLen, 0, kVocab)};
    for (int64_t k = 0; k < kClasses; ++k) classes_.push_back("c" + std::to_string(k));
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    w_ = torch::randn({kSide * kSide, kClasses}, gen);
    e_ = torch::randn({kVocab * kLen, kClasses}, gen) * 0.7;
    e_.slice(0, 0, kLen).zero_();  // the pad id contributes nothing
    bias_ = torch::zeros({kClasses});
    bias_[0] = bias;
  }
  std::string name() const override { return "linear"; }
  const std::vector<ModalitySpec>& modalities() const override { return specs_; }
  const std::vector<std::string>& classes() const override { return classes_; }
  torch::Device device() const override { return torch::kCPU; }
  bool has_fusion() const override { return false; }
  torch::Tensor fusion(const Inputs&) override { throw Error("no fusion"); }
  torch::Tensor logits(const Inputs& in) override {
    const auto image = in[0].reshape({in[0].size(0), -1}).matmul(w_);
    const auto index = in[1] * kLen + torch::arange(kLen, torch::kLong).unsqueeze(0);
    return image + e_.index_select(0, index.flatten()).view({in[1].size(0), kLen, kClasses}).sum(1) + bias_;
  }

 private:
  std::vector<ModalitySpec> specs_;
  std::vector<std::string> classes_;
  torch::Tensor w_, e_, bias_;
};

// Class 0 exactly when a kept trap is present (pixels kTrapPixels, bright in
// linear_sample, or the token id kTrapToken), else class 1: decoupling every
// trap moves the smoothed probability of class 0 by exactly the bound, so an
// optimistic bound fails on it.
constexpr int64_t kTrapToken = 7;
const std::vector<int64_t> kTrapPixels{5, 10};

class TrapModel : public Classifier {
 public:
  TrapModel() {
    specs_ = {ModalitySpec::image("image", 1, kSide, kSide, 0.0), ModalitySpec::tokens("tokens", kLen, 0, kVocab)};
    classes_ = {"trap", "none"};
  }
  std::string name() const override { return "trap"; }
  const std::vector<ModalitySpec>& modalities() const override { return specs_; }
  const std::vector<std::string>& classes() const override { return classes_; }
  torch::Device device() const override { return torch::kCPU; }
  bool has_fusion() const override { return false; }
  torch::Tensor fusion(const Inputs&) override { throw Error("no fusion"); }
  torch::Tensor logits(const Inputs& in) override {
    const auto flat = in[0].reshape({in[0].size(0), -1});
    const auto traps = flat.index_select(1, torch::tensor(kTrapPixels, torch::kLong)).sum(1) +
                       (in[1] == kTrapToken).to(torch::kFloat).sum(1);
    return torch::stack({10.0 * traps - 1.0, torch::zeros_like(traps)}, 1);
  }

 private:
  std::vector<ModalitySpec> specs_;
  std::vector<std::string> classes_;
};

Inputs linear_sample() {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
  auto image = torch::rand({1, 1, kSide, kSide}, gen) * 0.8 + 0.2;
  for (int64_t p : kTrapPixels) image.view({-1})[p] = 1.0f;
  auto tokens = torch::tensor(std::vector<int64_t>{3, 5, 2, kTrapToken, 4, 0}, torch::kLong).view({1, kLen});
  return {image, tokens};
}

// All k-subsets of {0..n-1}.
std::vector<std::vector<int64_t>> subsets(int64_t n, int64_t k) {
  std::vector<std::vector<int64_t>> out;
  std::vector<int64_t> s;
  std::function<void(int64_t)> rec = [&](int64_t from) {
    if (static_cast<int64_t>(s.size()) == k) {
      out.push_back(s);
      return;
    }
    for (int64_t i = from; i < n; ++i) {
      s.push_back(i);
      rec(i + 1);
      s.pop_back();
    }
  };
  rec(0);
  return out;
}

// The exact class probabilities of the smoothed classifier at x: every keep
// set (k_img pixels, min(k_tok, n_tok) of x's real tokens) once.
std::vector<double> exact_probabilities(Classifier& model, const Inputs& x, int64_t k_img, int64_t k_tok,
                                        TextRemoval mode) {
  const InputSpace space(model.modalities(), x);
  const auto& real = space.token_positions(1);
  const int64_t n_tok = static_cast<int64_t>(real.size());
  const auto image_sets = subsets(kSide * kSide, k_img);
  const auto token_sets = subsets(n_tok, std::min(k_tok, n_tok));
  const int64_t rows = static_cast<int64_t>(image_sets.size() * token_sets.size());
  auto image_mask = torch::ones({rows, kSide * kSide}, torch::kBool);
  auto token_mask = (x[1] != 0).expand({rows, kLen}).clone();
  bool* pi = image_mask.data_ptr<bool>();
  bool* pt = token_mask.data_ptr<bool>();
  int64_t row = 0;
  for (const auto& is : image_sets)
    for (const auto& ts : token_sets) {
      for (int64_t p : is) pi[row * kSide * kSide + p] = false;
      for (int64_t t : ts) pt[row * kLen + real[static_cast<size_t>(t)]] = false;
      ++row;
    }
  const Inputs batch{x[0].expand({rows, 1, kSide, kSide}), x[1].expand({rows, kLen})};
  torch::NoGradGuard no_grad;
  const auto ablated =
      apply_point_masks(batch, model.modalities(), {image_mask.view({rows, kSide, kSide}), token_mask}, mode);
  const auto votes = torch::bincount(model.logits(ablated).argmax(1), {}, model.num_classes());
  std::vector<double> p;
  for (int64_t c = 0; c < model.num_classes(); ++c) p.push_back(votes[c].item<double>() / static_cast<double>(rows));
  return p;
}

// Every decoupling set of at most `max_size` points of x (pixels and real tokens).
std::vector<DecouplingSet> decoupling_sets(const InputSpace& space, int64_t max_size) {
  std::vector<DecouplingElement> points;
  for (int64_t y = 0; y < kSide; ++y)
    for (int64_t x = 0; x < kSide; ++x) points.push_back(DecouplingElement::pixels(0, {x, y, 1, 1}));
  for (int64_t t : space.token_positions(1)) points.push_back(DecouplingElement::token(1, t));
  std::vector<DecouplingSet> out;
  for (int64_t size = 0; size <= max_size; ++size)
    for (const auto& idx : subsets(static_cast<int64_t>(points.size()), size)) {
      DecouplingSet s;
      for (int64_t i : idx) s.add(points[static_cast<size_t>(i)]);
      out.push_back(s);
    }
  return out;
}

struct SoundnessCase {
  TextRemoval mode;
  int64_t k_img, k_tok;
};

class Soundness : public ::testing::TestWithParam<SoundnessCase> {};

TEST_P(Soundness, NoDecouplingWithinTheRadiusChangesTheExactVote) {
  const auto c = GetParam();
  const Inputs x = linear_sample();
  const InputSpace space(
      {ModalitySpec::image("image", 1, kSide, kSide, 0.0), ModalitySpec::tokens("tokens", kLen, 0, kVocab)}, x);
  const std::vector<int64_t> n = space.points();  // {16, 5}
  const std::vector<int64_t> k{c.k_img, std::min(c.k_tok, n[1])};

  // The smallest bias (from a grid) that certifies a radius >= 1 with the exact
  // probability: the vote is then as close to the bound as the grid allows.
  double bias = 0;
  CertifiedRadius radius;
  std::vector<double> p0;
  for (bias = 0.0; bias < 20.0; bias += 0.25) {
    LinearModel model(3, bias);
    p0 = exact_probabilities(model, x, c.k_img, c.k_tok, c.mode);
    if (p0[0] <= 0.5) continue;
    radius = certified_radius(p0[0], n, k);
    if (radius.total >= 1) break;
  }
  ASSERT_GE(radius.total, 1) << "no bias on the grid gives a certificate";
  ASSERT_LT(p0[0], 1.0) << "the test needs a vote that is not unanimous";
  LinearModel model(3, bias);

  // Every set within the radius (and a little beyond, for the lemma); with
  // nothing kept of the tokens they are free and the radius grows by all of
  // them, so that case is enumerated up to 3 points only.
  if (c.k_tok > 0) ASSERT_LE(radius.total, 3);
  const int64_t checked = std::min<int64_t>(std::max<int64_t>(radius.total, 2), 3);
  int64_t sets = 0;
  for (const auto& s : decoupling_sets(space, checked)) {
    const Inputs xs = space.apply({s}, c.mode);
    const auto p = exact_probabilities(model, xs, c.k_img, c.k_tok, c.mode);
    const PointCount pc = space.count(s);
    // The lemma: no class probability moves by more than Delta of this split.
    const double delta = ablation_delta(n, k, pc.decoupled);
    for (int64_t cls = 0; cls < kClasses; ++cls)
      EXPECT_LE(std::abs(p[static_cast<size_t>(cls)] - p0[static_cast<size_t>(cls)]), delta + 1e-12)
          << "class " << cls << " after decoupling " << pc.decoupled[0] << "+" << pc.decoupled[1];
    // The certificate: within the radius, the vote stays class 0 (above 1/2).
    if (pc.decoupled_points() <= radius.total) EXPECT_GT(p[0], 0.5);
    ++sets;
  }
  EXPECT_GT(sets, 200);

  // Arbitrary changes of pixel values are covered as well.
  for (const auto& idx : subsets(kSide * kSide, 2)) {
    Inputs xc{x[0].clone(), x[1]};
    for (int64_t i : idx) xc[0].view({-1})[i] = 0.37f + 0.1f * static_cast<float>(i % 3);
    const auto p = exact_probabilities(model, xc, c.k_img, c.k_tok, c.mode);
    const double delta = ablation_delta(n, k, {2, 0});
    for (int64_t cls = 0; cls < kClasses; ++cls)
      EXPECT_LE(std::abs(p[static_cast<size_t>(cls)] - p0[static_cast<size_t>(cls)]), delta + 1e-12);
  }

  // The Monte Carlo certificate: its radius is at most the exact one here.
  CertifyOptions o;
  o.keep = {c.k_img, c.k_tok};
  o.n = 4000;
  o.text_removal = c.mode;
  const auto rec = certify_sample(model, x, 0, 0, o);
  EXPECT_EQ(rec.candidate, 0);
  EXPECT_LE(rec.p_lower, p0[0]);
  EXPECT_LE(rec.radius.total, radius.total);
  EXPECT_EQ(rec.keep, k);
  EXPECT_EQ(rec.points, n);
}

TEST_P(Soundness, TheBoundIsTightOnTheTrapModel) {
  const auto c = GetParam();
  TrapModel model;
  const Inputs x = linear_sample();
  const InputSpace space(model.modalities(), x);
  const std::vector<int64_t> n = space.points();
  const std::vector<int64_t> k{c.k_img, std::min(c.k_tok, n[1])};
  const auto p0 = exact_probabilities(model, x, c.k_img, c.k_tok, c.mode);
  for (const auto& s : decoupling_sets(space, 3)) {
    const auto p = exact_probabilities(model, space.apply({s}, c.mode), c.k_img, c.k_tok, c.mode);
    const double delta = ablation_delta(n, k, space.count(s).decoupled);
    EXPECT_LE(std::abs(p[0] - p0[0]), delta + 1e-12);
  }
  // Every trap decoupled: class 0 is gone, and it had exactly probability Delta.
  DecouplingSet traps;
  for (int64_t p : kTrapPixels) traps.add(DecouplingElement::pixels(0, {p % kSide, p / kSide, 1, 1}));
  traps.add(DecouplingElement::token(1, 3));
  const auto p = exact_probabilities(model, space.apply({traps}, c.mode), c.k_img, c.k_tok, c.mode);
  EXPECT_EQ(p[0], 0.0);
  EXPECT_NEAR(p0[0], ablation_delta(n, k, {2, 1}), 1e-12);
}

INSTANTIATE_TEST_SUITE_P(Modes, Soundness,
                         ::testing::Values(SoundnessCase{TextRemoval::kDelete, 3, 1},
                                           SoundnessCase{TextRemoval::kMask, 3, 1},
                                           SoundnessCase{TextRemoval::kDelete, 2, 2},
                                           SoundnessCase{TextRemoval::kDelete, 2, 0}),
                         [](const ::testing::TestParamInfo<SoundnessCase>& info) {
                           return std::string(text_removal_name(info.param.mode)) + "_keep_" +
                                  std::to_string(info.param.k_img) + "_" + std::to_string(info.param.k_tok);
                         });

// ---- determinism and files ----

TEST(Certify, SameSeedSameRecordsWhateverTheBatchSize) {
  LinearModel model(3, 1.0);
  const Inputs x = linear_sample();
  CertifyOptions o;
  o.keep = {3, 1};
  o.n = 500;
  o.record_seconds = false;
  const auto a = certify_record_to_json(certify_sample(model, x, 0, 5, o)).dump();
  o.batch_size = 7;  // other forward passes, same random numbers
  const auto b = certify_record_to_json(certify_sample(model, x, 0, 5, o)).dump();
  EXPECT_EQ(a, b);
  o.seed = 2;
  const auto c = certify_sample(model, x, 0, 5, o);
  EXPECT_NE(a, certify_record_to_json(c).dump());  // other copies, other counts
  int64_t sum = 0;
  for (int64_t v : c.counts) sum += v;
  EXPECT_EQ(sum, 500);
}

TEST(Certify, RunWritesIdenticalFilesForASeed) {
  LinearModel model(3, 1.0);
  const Inputs one = linear_sample();
  auto gen = at::make_generator<at::CPUGeneratorImpl>(11);
  const Inputs inputs{torch::cat({one[0], torch::rand({3, 1, kSide, kSide}, gen)}, 0),
                      one[1].expand({4, kLen}).clone()};
  const auto labels = torch::tensor(std::vector<int64_t>{0, 1, 0, 2}, torch::kLong);
  const fs::path dir = fs::temp_directory_path() / "muroan_certify_test";
  fs::remove_all(dir);
  CertifyOptions o;
  o.keep = {3, 1};
  o.n = 300;
  o.n0 = 20;
  o.quiet = true;
  o.record_seconds = false;
  auto read = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  o.out_dir = (dir / "a").string();
  const auto ra = run_certification(model, inputs, labels, {}, o);
  o.out_dir = (dir / "b").string();
  const auto rb = run_certification(model, inputs, labels, {}, o);
  EXPECT_EQ(read(ra.jsonl_path), read(rb.jsonl_path));
  EXPECT_EQ(read(ra.summary_path), read(rb.summary_path));
  const auto s = nlohmann::json::parse(read(ra.summary_path));
  EXPECT_EQ(s["format"], kCertifyFormat);
  EXPECT_EQ(s["samples"], 4);
  EXPECT_EQ(s["options"]["n"], 300);
  EXPECT_EQ(s["options"]["keep"]["image"], 3);
  EXPECT_TRUE(s["curve"].is_array());
  EXPECT_EQ(s["curve"][0]["accuracy"].get<double>(), s["certified_accuracy"].get<double>());
  EXPECT_EQ(ra.records.size(), 4u);
  std::ifstream lines(ra.jsonl_path);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["index"], count);
    EXPECT_TRUE(j.contains("radius_per_modality"));
    ++count;
  }
  EXPECT_EQ(count, 4);
  // Certified accuracy never grows with the radius; radius 0 counts correct, non-abstained samples.
  for (size_t i = 1; i < ra.summary.curve.size(); ++i)
    EXPECT_LE(ra.summary.curve[i].accuracy, ra.summary.curve[i - 1].accuracy);
  int64_t correct = 0;
  for (const auto& r : ra.records) correct += r.correct ? 1 : 0;
  EXPECT_DOUBLE_EQ(ra.summary.certified_accuracy, static_cast<double>(correct) / 4.0);
}

TEST(Certify, RefusesBadOptions) {
  LinearModel model(3, 1.0);
  const Inputs x = linear_sample();
  const auto labels = torch::zeros({1}, torch::kLong);
  CertifyOptions o;
  EXPECT_THROW(run_certification(model, x, labels, {}, o), UsageError);  // no keep
  o.keep = {3, 1, 1};
  EXPECT_THROW(run_certification(model, x, labels, {}, o), UsageError);  // 3 counts, 2 modalities
  o.keep = {3};
  o.alpha = 1.5;
  EXPECT_THROW(run_certification(model, x, labels, {}, o), UsageError);
}

TEST(Certify, WorksOnATorchScriptModel) {
  const fs::path dir = fs::temp_directory_path() / "muroan_certify_byom_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  nlohmann::json manifest = nlohmann::json::parse(R"({
    "inputs": [{"name": "image", "kind": "image", "shape": [1, 8, 8]},
               {"name": "tokens", "kind": "tokens", "max_len": 6, "pad_id": 0}],
    "classes": ["a", "b", "c"]})");
  manifest["model"] = std::string(MUROAN_SOURCE_DIR) + "/tests/data/tiny.pt";  // tests/data/make_fixtures.py
  std::ofstream(dir / "manifest.json") << manifest.dump();
  auto model = load_torchscript_model((dir / "manifest.json").string(), torch::kCPU);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  const Inputs inputs{
      torch::rand({3, 1, 8, 8}, gen),
      torch::tensor(std::vector<int64_t>{4, 2, 9, 0, 0, 0, 3, 3, 0, 0, 0, 0, 1, 5, 7, 2, 8, 0}, torch::kLong)
          .view({3, 6})};
  const auto labels = torch::tensor(std::vector<int64_t>{0, 1, 2}, torch::kLong);
  CertifyOptions o;
  o.keep = {10, 1};
  o.n = 200;
  o.n0 = 16;
  o.quiet = true;
  o.record_seconds = false;
  const auto a = run_certification(*model, inputs, labels, {}, o);
  const auto b = run_certification(*model, inputs, labels, {}, o);
  ASSERT_EQ(a.records.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(certify_record_to_json(a.records[i]), certify_record_to_json(b.records[i]));
    EXPECT_EQ(a.records[i].points[0], 64);
    EXPECT_EQ(a.records[i].keep[0], 10);
    EXPECT_EQ(a.records[i].keep[1], 1);
  }
  EXPECT_EQ(a.records[1].points[1], 2);
}

// ---- the command ----

using Run = testing_util::CliRun;
Run run(const std::vector<std::string>& args) { return testing_util::run_muroan(args); }

TEST(CertifyCommand, TrainsWithAblationThenCertifiesWithItsKeep) {
  const fs::path dir = fs::temp_directory_path() / "muroan_certify_cli_test";
  fs::remove_all(dir);
  const std::string ck = (dir / "ck").string(), cache = (dir / "cache").string();
  const std::vector<std::string> common{"--task",       "shapes-vqa", "--fusion",   "concat",      "--epochs",    "1",
                                        "--train-size", "64",         "--val-size", "16",          "--test-size", "16",
                                        "--device",     "cpu",        "--quiet",    "--cache-dir", cache};
  std::vector<std::string> args{"train"};
  args.insert(args.end(), common.begin(), common.end());
  for (const char* a : {"--defense", "ablation", "--ablation-keep", "200,all", "--out"}) args.push_back(a);
  args.push_back(ck);
  auto t = run(args);
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_NE(t.out.find("defense ablation"), std::string::npos) << t.out;

  const std::string out = (dir / "cert").string();
  auto c = run({"certify", "--checkpoint", ck, "--samples", "3", "--samples-n", "40", "--samples-n0", "8", "--device",
                "cpu", "--quiet", "--out", out, "--cache-dir", cache});
  ASSERT_EQ(c.code, 0) << c.err;
  EXPECT_NE(c.out.find("certified accuracy"), std::string::npos);
  std::ifstream in(fs::path(out) / "certify_summary.json");
  const auto s = nlohmann::json::parse(in);
  EXPECT_EQ(s["samples"], 3);
  EXPECT_EQ(s["options"]["keep"]["image"], 200);  // from the checkpoint
  EXPECT_EQ(s["options"]["keep"]["tokens"], "all");

  // A checkpoint without ablation needs --keep; bad values give one line.
  std::vector<std::string> none{"train"};
  none.insert(none.end(), common.begin(), common.end());
  none.push_back("--out");
  none.push_back((dir / "plain").string());
  ASSERT_EQ(run(none).code, 0);
  auto e = run({"certify", "--checkpoint", (dir / "plain").string(), "--device", "cpu", "--cache-dir", cache});
  EXPECT_NE(e.code, 0);
  EXPECT_NE(e.err.find("--keep is required"), std::string::npos) << e.err;
  e = run({"certify", "--checkpoint", ck, "--alpha", "2", "--cache-dir", cache});
  EXPECT_NE(e.code, 0);
  EXPECT_NE(e.err.find("--alpha"), std::string::npos) << e.err;
  e = run({"certify", "--checkpoint", ck, "--keep", "10,x", "--cache-dir", cache});
  EXPECT_NE(e.code, 0);
  EXPECT_NE(e.err.find("--keep"), std::string::npos) << e.err;
  e = run({"train", "--defense", "magic"});
  EXPECT_NE(e.code, 0);
  EXPECT_NE(e.err.find("--defense"), std::string::npos) << e.err;
}

}  // namespace
}  // namespace muroan
