// Hand-built classifiers with known decoupling sets, shared by the decoupling,
// attack and measurement tests.
//
// Modalities: "image" [1,56,56] and "tokens" (max_len 8, pad 0, vocab 16).
// Two features: img = mean of the 7x7 region kRegion (column 21, row 35, on the
// patch grid of 7), tok = number of kKey tokens. logits = [0, margin]:
//   kAnd:   margin = img + tok - 0.5      both must go: the minimal set is
//                                         kRegion + the key token (50 points)
//   kOr:    margin = min(img, tok) - 0.5  either one flips the decision
//   kImage: margin = img - 0.5            only the region matters
//   kToken: margin = tok - 0.5            only the key token matters
//   kPair:  three classes, logits [1.5 - img - tok, 0.75 (img + tok), 1]: clean
//           class 1; removing the region or the token gives class 2, both class 0
// The fusion embedding is z = [img, tok, 1].
#pragma once

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <atomic>
#include <string>
#include <vector>

#include "muroan/classifier.h"
#include "muroan/decoupling.h"
#include "muroan/modality.h"

namespace muroan::testing {

constexpr int64_t kSide = 56;
constexpr int64_t kMaxLen = 8;
constexpr int64_t kVocab = 16;
constexpr int64_t kKey = 7;
const PixelRegion kRegion{21, 35, 7, 7};

enum class Rule { kAnd, kOr, kImage, kToken, kPair };

class TinyModel : public Classifier {
 public:
  explicit TinyModel(Rule rule, bool fusion = true, bool embeddings = true, int64_t classes = 2)
      : rule_(rule), fusion_(fusion), embeddings_(embeddings) {
    specs_ = {ModalitySpec::image("image", 1, kSide, kSide, 0.0), ModalitySpec::tokens("tokens", kMaxLen, 0, kVocab)};
    for (int64_t k = 0; k < classes; ++k) classes_.push_back("class" + std::to_string(k));
  }

  std::string name() const override { return "tiny"; }
  const std::vector<ModalitySpec>& modalities() const override { return specs_; }
  const std::vector<std::string>& classes() const override { return classes_; }
  torch::Device device() const override { return torch::kCPU; }
  bool has_fusion() const override { return fusion_; }
  bool supports_token_embeddings() const override { return embeddings_; }

  torch::Tensor logits(const Inputs& in) override {
    return head(image_feature(in[0]), (in[1] == kKey).to(torch::kFloat).sum(1));
  }
  torch::Tensor fusion(const Inputs& in) override {
    auto img = image_feature(in[0]);
    auto tok = (in[1] == kKey).to(torch::kFloat).sum(1);
    return torch::stack({img, tok, torch::ones_like(img)}, 1);
  }
  torch::Tensor embed_tokens(size_t, const torch::Tensor& ids) override {
    return torch::one_hot(ids, kVocab).to(torch::kFloat);
  }
  torch::Tensor logits_from_embeddings(const Inputs& emb, const Inputs&) override {
    return head(image_feature(emb[0]), emb[1].select(2, kKey).sum(1));
  }

  // Counts the shared rows, then answers as the base class does (repeating them).
  torch::Tensor logits_shared(const Inputs& in, const std::vector<bool>& shared, int64_t rows) override {
    for (size_t m = 0; m < shared.size(); ++m)
      if (shared[m]) shared_rows[m] += rows;
    return Classifier::logits_shared(in, shared, rows);
  }

  std::atomic<int64_t> calls{0};              // logits() calls, to see batching (atomic: sample-parallel runs)
  std::vector<int64_t> shared_rows = {0, 0};  // rows per modality answered from one shared row

 private:
  static torch::Tensor image_feature(const torch::Tensor& image) {
    return image.select(1, 0)
        .slice(1, kRegion.y, kRegion.y + kRegion.h)
        .slice(2, kRegion.x, kRegion.x + kRegion.w)
        .mean({1, 2});
  }
  torch::Tensor head(const torch::Tensor& img, const torch::Tensor& tok) {
    ++calls;
    if (rule_ == Rule::kPair) return torch::stack({1.5 - img - tok, 0.75 * (img + tok), torch::ones_like(img)}, 1);
    torch::Tensor margin;
    switch (rule_) {
      case Rule::kAnd:
        margin = img + tok - 0.5;
        break;
      case Rule::kOr:
        margin = torch::min(img, tok) - 0.5;
        break;
      case Rule::kImage:
        margin = img - 0.5;
        break;
      case Rule::kToken:
        margin = tok - 0.5;
        break;
      case Rule::kPair:
        break;
    }
    std::vector<torch::Tensor> cols{torch::zeros_like(margin), margin};
    // Extra classes sit far below, so that a targeted attack on them fails.
    for (size_t k = 2; k < classes_.size(); ++k) cols.push_back(torch::full_like(margin, -100.0));
    return torch::stack(cols, 1);
  }

  Rule rule_;
  bool fusion_, embeddings_;
  std::vector<ModalitySpec> specs_;
  std::vector<std::string> classes_;
};

// One sample: uniform background in [0, 0.9) (seeded), kRegion bright (1.0),
// tokens {3, 5, kKey, 9, 4} then padding: the key token at position 2.
inline Inputs tiny_sample(uint64_t seed = 1, bool with_key = true) {
  auto gen = torch::make_generator<at::CPUGeneratorImpl>(seed);
  auto image = torch::rand({1, 1, kSide, kSide}, gen) * 0.9;
  image.slice(2, kRegion.y, kRegion.y + kRegion.h).slice(3, kRegion.x, kRegion.x + kRegion.w).fill_(1.0);
  const std::vector<int64_t> ids{3, 5, with_key ? kKey : 6, 9, 4, 0, 0, 0};
  auto tokens = torch::tensor(ids, torch::kLong).view({1, kMaxLen});
  return {image, tokens};
}

constexpr int64_t kKeyPosition = 2;
constexpr int64_t kRealTokens = 5;
constexpr int64_t kInputPoints = kSide * kSide + kRealTokens;

}  // namespace muroan::testing
