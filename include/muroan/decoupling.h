// Points, decoupling sets and x_S (DESIGN.md section 2).
//
// A decoupling set S lists the points an attack removes: pixel regions of image
// modalities and token positions of token modalities. `InputSpace::apply` is the
// one place where x_S is rebuilt from x and S; attacks, the attack judge, replay
// and the tests all go through it.
//
//   muroan::DecouplingSet s;
//   s.add(muroan::DecouplingElement::pixels(0, {21, 35, 7, 7}));  // 7x7 at column 21, row 35
//   s.add(muroan::DecouplingElement::token(1, 3));   // original token position 3
//   muroan::InputSpace space(model.modalities(), x);  // x: one sample, one row per modality
//   muroan::Inputs xs = space.apply({s}, muroan::TextRemoval::kDelete);
//   double rate = space.count(s).rate();               // |S| / N over the union of points
#pragma once

#include <torch/types.h>
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "muroan/inputs.h"
#include "muroan/modality.h"

namespace muroan {

// How a decoupled token is removed.
enum class TextRemoval {
  kDelete,  // later tokens shift left, the pad id fills the end
  kMask,    // the token is replaced by the pad id, positions are kept
};
const char* text_removal_name(TextRemoval mode);
// "delete" or "mask"; throws UsageError otherwise.
TextRemoval parse_text_removal(const std::string& name);

// A rectangle of pixel positions: columns [x, x+w), rows [y, y+h). A single
// pixel is {x, y, 1, 1}; a patch of granularity p is p x p (clipped at edges).
struct PixelRegion {
  int64_t x = 0, y = 0, w = 1, h = 1;
  int64_t area() const { return w * h; }
  bool operator==(const PixelRegion& o) const { return x == o.x && y == o.y && w == o.w && h == o.h; }
};

// One element an attack decouples: a pixel region of an image modality, one
// position (in the ORIGINAL sequence) of a token modality, or one feature
// index of a tabular modality.
struct DecouplingElement {
  size_t modality = 0;
  PixelRegion region;     // image modalities
  int64_t position = -1;  // token and tabular modalities; -1 for a region

  static DecouplingElement pixels(size_t modality, PixelRegion region);
  static DecouplingElement token(size_t modality, int64_t position);
  static DecouplingElement feature(size_t modality, int64_t index) { return token(modality, index); }
  bool is_token() const { return position >= 0; }  // a position (token or feature), not a region
  bool operator==(const DecouplingElement& o) const {
    return modality == o.modality && position == o.position && (is_token() || region == o.region);
  }
};

// A decoupling set: elements in the order an attack chose them. Elements may
// overlap; the points they cover are counted once (InputSpace::count).
struct DecouplingSet {
  std::vector<DecouplingElement> elements;

  bool empty() const { return elements.empty(); }
  size_t size() const { return elements.size(); }
  void add(const DecouplingElement& e) { elements.push_back(e); }
  // A copy with `e` added / with element `index` removed.
  DecouplingSet with(const DecouplingElement& e) const;
  DecouplingSet without(size_t index) const;
  // Whether any element lies in modality `m`.
  bool touches(size_t m) const;
};

// Decoupled points (union) and input points per modality.
struct PointCount {
  std::vector<int64_t> decoupled;  // |S ∩ modality m|
  std::vector<int64_t> total;      // N_m: H*W pixels, or the real tokens of the sample
  int64_t decoupled_points() const;
  int64_t total_points() const;
  // |S| / N (0 when N is 0).
  double rate() const;
};

// The input space of one sample: its points, and x_S for any decoupling set.
// The sample is one row per modality ([1,C,H,W] float, [1,L] int64), on any
// device; x_S is built on that device.
class InputSpace {
 public:
  // Throws Error when the sample does not match the modality specs.
  InputSpace(std::vector<ModalitySpec> specs, Inputs sample);

  const std::vector<ModalitySpec>& specs() const { return specs_; }
  const Inputs& sample() const { return sample_; }
  // N_m for every modality, and N.
  const std::vector<int64_t>& points() const { return points_; }
  int64_t total_points() const;
  // The points of a positional modality m, in order: for tokens the position
  // of each word's first token (without a tokenizer: every non-pad position),
  // for tabular every feature index 0..D-1.
  const std::vector<int64_t>& token_positions(size_t m) const { return token_positions_.at(m); }
  // One past the last piece of the word that starts at `position` (position + 1
  // for a word of one token); -1 where no word starts.
  int64_t word_end(size_t m, int64_t position) const { return word_end_.at(m).at(static_cast<size_t>(position)); }
  // The id at `position` of token modality m (throws std::out_of_range outside the row).
  int64_t token_id(size_t m, int64_t position) const { return token_ids_.at(m).at(static_cast<size_t>(position)); }

  // Throws Error naming the element when `set` does not fit this sample: an
  // unknown modality, a region outside the image or empty, a token position
  // that is outside the sequence or a pad.
  void validate(const DecouplingSet& set) const;

  // THE function that rebuilds x_S: row i of the result is the sample with the
  // points of sets[i] decoupled (images: the spec's fill over all channels;
  // tokens: deleted or masked per `mode`). One tensor operation per modality,
  // whatever the number of sets. Points outside a set are untouched.
  Inputs apply(const std::vector<DecouplingSet>& sets, TextRemoval mode) const;

  // Union of decoupled points per modality.
  PointCount count(const DecouplingSet& set) const;

 private:
  std::vector<ModalitySpec> specs_;
  Inputs sample_;
  std::vector<int64_t> points_;
  std::vector<std::vector<int64_t>> token_positions_;
  std::vector<std::vector<int64_t>> token_ids_;  // host copy of each token row
  std::vector<std::vector<int64_t>> word_end_;   // per position: end of the word starting there, or -1
};

// Shorthand for InputSpace(specs, sample).apply({set}, mode): one row.
Inputs apply_decoupling(const Inputs& sample, const DecouplingSet& set, const std::vector<ModalitySpec>& specs,
                        TextRemoval mode);

// Incremental union counting for searches: which points a set covers so far.
class PointCover {
 public:
  explicit PointCover(const InputSpace& space);
  // Points `e` would add that are not covered yet.
  int64_t added_by(const DecouplingElement& e) const;
  void add(const DecouplingElement& e);
  int64_t size() const { return size_; }

 private:
  std::vector<std::vector<uint8_t>> covered_;  // per modality: H*W or L flags
  std::vector<int64_t> width_;
  int64_t size_ = 0;
};

// JSON of a set, self-describing so that x_S can be rebuilt later:
//   {"text_removal": "delete",
//    "modalities": [{"index": 0, "name": "image", "kind": "image", "regions": [[x, y, w, h], ...]},
//                   {"index": 1, "name": "tokens", "kind": "tokens", "positions": [3]}]}
// Every modality is listed, with empty arrays where nothing is decoupled.
nlohmann::ordered_json decoupling_set_to_json(const DecouplingSet& set, const std::vector<ModalitySpec>& specs,
                                              TextRemoval mode);
// Parses the JSON above (a nlohmann::json converts implicitly); throws Error naming the field when it is malformed.
// When `specs` is given, the modality names and kinds must match it. `mode`,
// when given, receives the text removal mode.
DecouplingSet decoupling_set_from_json(const nlohmann::ordered_json& j,
                                       const std::vector<ModalitySpec>* specs = nullptr, TextRemoval* mode = nullptr);

}  // namespace muroan
