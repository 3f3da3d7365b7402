// Private to muroan_oracle: a host copy of one built-in sample (image as 8-bit
// values, token ids) and what a decoupling set removes from it, for the oracles.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "muroan/decoupling.h"
#include "muroan/inputs.h"
#include "muroan/vocabulary.h"

namespace muroan {
namespace oracle {

// The layout of every built-in task: modality 0 the image, modality 1 the tokens.
inline constexpr size_t kImage = 0;
inline constexpr size_t kTokens = 1;

struct SampleView {
  int64_t channels = 0, height = 0, width = 0;
  std::vector<uint8_t> pixels;  // [C,H,W], round(255 * value)
  std::vector<int64_t> tokens;  // the non-pad ids, in order (original positions)
  std::vector<int64_t> token_positions;
  std::vector<std::string> words;  // tokens decoded

  uint8_t at(int64_t c, int64_t y, int64_t x) const {
    return pixels[static_cast<size_t>((c * height + y) * width + x)];
  }
};

// Throws Error (naming `task`) when `sample` is not an image [1,C,H,W] and a
// token row [1,L] with ids in the vocabulary.
SampleView make_sample_view(const Inputs& sample, const Vocabulary& vocab, const std::string& task);

// H*W flags: 1 where a pixel region of the image modality covers the pixel.
std::vector<uint8_t> decoupled_pixels(const DecouplingSet& set, const SampleView& view);

// The share of the garment -- the image's non-zero pixels, one channel -- that
// the set decouples; 0 for an image without one.
double decoupled_garment_share(const DecouplingSet& set, const SampleView& view);

// The words at the token positions the set removes (deleted or masked: either
// way the word is gone from the text the model reads).
std::vector<std::string> removed_words(const DecouplingSet& set, const SampleView& view);

}  // namespace oracle
}  // namespace muroan
