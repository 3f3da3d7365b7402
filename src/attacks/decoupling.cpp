#include "muroan/decoupling.h"

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <numeric>

#include "muroan/error.h"
#include "muroan/point_masks.h"
#include "muroan/tokenizer.h"

namespace muroan {

const char* text_removal_name(TextRemoval mode) { return mode == TextRemoval::kDelete ? "delete" : "mask"; }

TextRemoval parse_text_removal(const std::string& name) {
  if (name == "delete") return TextRemoval::kDelete;
  if (name == "mask") return TextRemoval::kMask;
  throw UsageError("text removal: expected delete or mask, got '" + name + "'");
}

DecouplingElement DecouplingElement::pixels(size_t modality, PixelRegion region) {
  DecouplingElement e;
  e.modality = modality;
  e.region = region;
  return e;
}

DecouplingElement DecouplingElement::token(size_t modality, int64_t position) {
  DecouplingElement e;
  e.modality = modality;
  e.position = position;
  e.region = {0, 0, 0, 0};
  return e;
}

DecouplingSet DecouplingSet::with(const DecouplingElement& e) const {
  DecouplingSet s = *this;
  s.add(e);
  return s;
}

DecouplingSet DecouplingSet::without(size_t index) const {
  DecouplingSet s = *this;
  s.elements.erase(s.elements.begin() + static_cast<std::ptrdiff_t>(index));
  return s;
}

bool DecouplingSet::touches(size_t m) const {
  return std::any_of(elements.begin(), elements.end(), [m](const DecouplingElement& e) { return e.modality == m; });
}

int64_t PointCount::decoupled_points() const { return std::accumulate(decoupled.begin(), decoupled.end(), int64_t{0}); }

int64_t PointCount::total_points() const { return std::accumulate(total.begin(), total.end(), int64_t{0}); }

double PointCount::rate() const {
  const int64_t n = total_points();
  return n > 0 ? static_cast<double>(decoupled_points()) / static_cast<double>(n) : 0.0;
}

namespace {

std::string describe(const DecouplingElement& e) {
  if (e.is_token()) return "position " + std::to_string(e.position);
  return "region [" + std::to_string(e.region.x) + "," + std::to_string(e.region.y) + "," + std::to_string(e.region.w) +
         "," + std::to_string(e.region.h) + "]";
}

}  // namespace

InputSpace::InputSpace(std::vector<ModalitySpec> specs, Inputs sample)
    : specs_(std::move(specs)), sample_(std::move(sample)) {
  if (sample_.size() != specs_.size())
    throw Error("sample has " + std::to_string(sample_.size()) + " modality tensors, the model " +
                std::to_string(specs_.size()));
  points_.resize(specs_.size(), 0);
  token_positions_.resize(specs_.size());
  token_ids_.resize(specs_.size());
  word_end_.resize(specs_.size());
  for (size_t m = 0; m < specs_.size(); ++m) {
    const ModalitySpec& spec = specs_[m];
    const torch::Tensor& t = sample_[m];
    if (!t.defined() || t.dim() < 1 || t.size(0) != 1)
      throw Error("modality '" + spec.name + "': expected one sample (a batch of 1 row)");
    if (spec.is_image()) {
      if (t.dim() != 4 || t.size(1) != spec.channels() || t.size(2) != spec.height() || t.size(3) != spec.width())
        throw Error("modality '" + spec.name + "': expected an image [1," + std::to_string(spec.channels()) + "," +
                    std::to_string(spec.height()) + "," + std::to_string(spec.width()) + "]");
      points_[m] = spec.height() * spec.width();
    } else if (spec.has_fixed_points()) {
      if (t.sizes().slice(1).vec() != spec.shape || !t.is_floating_point()) {
        std::string shape = "[1";
        for (int64_t d : spec.shape) shape += "," + std::to_string(d);
        throw Error("modality '" + spec.name + "': expected float " + (spec.has_frames() ? "samples " : "features ") +
                    shape + "]");
      }
      // Every feature or frame is a point, a "word" of one position.
      const int64_t D = spec.max_points();
      for (int64_t i = 0; i < D; ++i) token_positions_[m].push_back(i);
      word_end_[m].resize(static_cast<size_t>(D));
      for (int64_t i = 0; i < D; ++i) word_end_[m][static_cast<size_t>(i)] = i + 1;
      points_[m] = D;
    } else {
      if (t.dim() != 2 || t.size(1) != spec.max_len() || t.scalar_type() != torch::kLong)
        throw Error("modality '" + spec.name + "': expected int64 tokens [1," + std::to_string(spec.max_len()) + "]");
      auto host = t.to(torch::kCPU).contiguous();
      const int64_t* p = host.data_ptr<int64_t>();
      token_ids_[m].assign(p, p + spec.max_len());
      // A point is a word: its first piece and the continuation pieces after it.
      const auto roles = token_roles(p, spec.max_len(), spec.pad_id, spec.tokenizer.get());
      auto& end = word_end_[m];
      end.assign(static_cast<size_t>(spec.max_len()), -1);
      for (int64_t i = 0; i < spec.max_len(); ++i) {
        if (roles[static_cast<size_t>(i)] != static_cast<uint8_t>(TokenRole::kWordStart)) continue;
        token_positions_[m].push_back(i);
        int64_t j = i + 1;
        while (j < spec.max_len() && roles[static_cast<size_t>(j)] == static_cast<uint8_t>(TokenRole::kContinuation))
          ++j;
        end[static_cast<size_t>(i)] = j;
      }
      points_[m] = static_cast<int64_t>(token_positions_[m].size());
    }
  }
}

int64_t InputSpace::total_points() const { return std::accumulate(points_.begin(), points_.end(), int64_t{0}); }

void InputSpace::validate(const DecouplingSet& set) const {
  for (const auto& e : set.elements) {
    if (e.modality >= specs_.size())
      throw Error("decoupling set: modality index " + std::to_string(e.modality) + " but the model has " +
                  std::to_string(specs_.size()) + " modalities");
    const ModalitySpec& spec = specs_[e.modality];
    if (spec.is_image()) {
      const PixelRegion& r = e.region;
      if (e.is_token() || r.w <= 0 || r.h <= 0 || r.x < 0 || r.y < 0 || r.x + r.w > spec.width() ||
          r.y + r.h > spec.height())
        throw Error("decoupling set: " + describe(e) + " does not fit image modality '" + spec.name + "' of " +
                    std::to_string(spec.width()) + "x" + std::to_string(spec.height()) + " pixels");
    } else if (spec.has_fixed_points()) {
      const char* what = spec.has_frames() ? "frame" : "feature";
      if (!e.is_token() || e.position >= spec.max_points())
        throw Error("decoupling set: " + describe(e) + " is not a " + what + " of " + modality_kind_name(spec.kind) +
                    " modality '" + spec.name + "' (" + std::to_string(spec.max_points()) + " " + what + "s)");
    } else {
      const auto& real = token_positions_[e.modality];
      if (!e.is_token() || !std::binary_search(real.begin(), real.end(), e.position))
        throw Error("decoupling set: " + describe(e) + " is not the first token of a word of modality '" + spec.name +
                    "' (a pad, a special token or a word's continuation piece)");
    }
  }
}

Inputs InputSpace::apply(const std::vector<DecouplingSet>& sets, TextRemoval mode) const {
  for (const auto& s : sets) validate(s);
  // The sets become point masks (built on the host, one bool per point and
  // row); apply_point_masks then decouples them with a few tensor operations
  // per modality, the same code that decouples training and certification
  // batches.
  const int64_t n = static_cast<int64_t>(sets.size());
  Inputs rows;
  PointMasks masks(specs_.size());
  rows.reserve(specs_.size());
  for (size_t m = 0; m < specs_.size(); ++m) {
    const ModalitySpec& spec = specs_[m];
    std::vector<int64_t> sizes = sample_[m].sizes().vec();
    sizes[0] = n;
    const bool touched = std::any_of(sets.begin(), sets.end(), [m](const DecouplingSet& s) { return s.touches(m); });
    // Untouched: an undefined mask, and the rows stay copies of the sample.
    rows.push_back(touched ? sample_[m].expand(sizes) : sample_[m].expand(sizes).contiguous());
    if (!touched) continue;
    if (spec.is_image()) {
      const int64_t H = spec.height(), W = spec.width();
      auto mask = torch::zeros({n, H, W}, torch::kBool);
      bool* pm = mask.data_ptr<bool>();
      for (int64_t i = 0; i < n; ++i) {
        bool* row = pm + i * H * W;
        for (const auto& e : sets[static_cast<size_t>(i)].elements) {
          if (e.modality != m) continue;
          for (int64_t y = e.region.y; y < e.region.y + e.region.h; ++y)
            std::fill(row + y * W + e.region.x, row + y * W + e.region.x + e.region.w, true);
        }
      }
      masks[m] = std::move(mask);
    } else {
      // A word's point covers its first piece and its continuation pieces; a
      // feature's or frame's point is its one column of the mask.
      const int64_t L = spec.max_points();
      auto mask = torch::zeros({n, L}, torch::kBool);
      bool* pm = mask.data_ptr<bool>();
      for (int64_t i = 0; i < n; ++i)
        for (const auto& e : sets[static_cast<size_t>(i)].elements)
          if (e.modality == m) std::fill(pm + i * L + e.position, pm + i * L + word_end(m, e.position), true);
      masks[m] = std::move(mask);
    }
  }
  return apply_point_masks(rows, specs_, masks, mode);
}

PointCount InputSpace::count(const DecouplingSet& set) const {
  validate(set);
  PointCover cover(*this);
  PointCount c;
  c.total = points_;
  c.decoupled.assign(specs_.size(), 0);
  for (const auto& e : set.elements) {
    c.decoupled[e.modality] += cover.added_by(e);
    cover.add(e);
  }
  return c;
}

Inputs apply_decoupling(const Inputs& sample, const DecouplingSet& set, const std::vector<ModalitySpec>& specs,
                        TextRemoval mode) {
  return InputSpace(specs, sample).apply({set}, mode);
}

PointCover::PointCover(const InputSpace& space) {
  for (const auto& spec : space.specs()) {
    const int64_t cells = spec.max_points();
    covered_.emplace_back(static_cast<size_t>(cells), 0);
    width_.push_back(spec.is_image() ? spec.width() : 1);
  }
}

int64_t PointCover::added_by(const DecouplingElement& e) const {
  const auto& c = covered_.at(e.modality);
  if (e.is_token()) return c.at(static_cast<size_t>(e.position)) ? 0 : 1;
  const int64_t W = width_[e.modality];
  int64_t n = 0;
  for (int64_t y = e.region.y; y < e.region.y + e.region.h; ++y)
    for (int64_t x = e.region.x; x < e.region.x + e.region.w; ++x) n += c[static_cast<size_t>(y * W + x)] ? 0 : 1;
  return n;
}

void PointCover::add(const DecouplingElement& e) {
  auto& c = covered_.at(e.modality);
  if (e.is_token()) {
    auto& f = c.at(static_cast<size_t>(e.position));
    size_ += f ? 0 : 1;
    f = 1;
    return;
  }
  const int64_t W = width_[e.modality];
  for (int64_t y = e.region.y; y < e.region.y + e.region.h; ++y)
    for (int64_t x = e.region.x; x < e.region.x + e.region.w; ++x) {
      auto& f = c[static_cast<size_t>(y * W + x)];
      size_ += f ? 0 : 1;
      f = 1;
    }
}

nlohmann::ordered_json decoupling_set_to_json(const DecouplingSet& set, const std::vector<ModalitySpec>& specs,
                                              TextRemoval mode) {
  nlohmann::ordered_json mods = nlohmann::ordered_json::array();
  for (size_t m = 0; m < specs.size(); ++m) {
    nlohmann::ordered_json j;
    j["index"] = m;
    j["name"] = specs[m].name;
    j["kind"] = modality_kind_name(specs[m].kind);
    nlohmann::ordered_json items = nlohmann::ordered_json::array();
    for (const auto& e : set.elements) {
      if (e.modality != m) continue;
      if (specs[m].is_image())
        items.push_back({e.region.x, e.region.y, e.region.w, e.region.h});
      else
        items.push_back(e.position);
    }
    j[specs[m].is_image() ? "regions" : "positions"] = std::move(items);
    mods.push_back(std::move(j));
  }
  return {{"text_removal", text_removal_name(mode)}, {"modalities", std::move(mods)}};
}

DecouplingSet decoupling_set_from_json(const nlohmann::ordered_json& j, const std::vector<ModalitySpec>* specs,
                                       TextRemoval* mode) {
  auto fail = [](const std::string& what) { throw Error("decoupling set: " + what); };
  if (!j.is_object()) fail("expected a JSON object");
  if (mode) {
    auto it = j.find("text_removal");
    if (it == j.end() || !it->is_string()) fail("field 'text_removal' missing or not a string");
    *mode = parse_text_removal(it->get<std::string>());
  }
  auto mods = j.find("modalities");
  if (mods == j.end() || !mods->is_array()) fail("field 'modalities' missing or not an array");
  if (specs && mods->size() != specs->size())
    fail("lists " + std::to_string(mods->size()) + " modalities, the model has " + std::to_string(specs->size()));
  DecouplingSet set;
  for (const auto& mj : *mods) {
    if (!mj.is_object() || !mj.contains("index") || !mj["index"].is_number_unsigned())
      fail("a modality entry lacks an unsigned 'index'");
    const size_t m = mj["index"].get<size_t>();
    const std::string kind = mj.value("kind", "");
    try {
      parse_modality_kind(kind);
    } catch (const UsageError&) {
      fail("modality " + std::to_string(m) + ": bad 'kind' '" + kind + "'");
    }
    if (specs) {
      if (m >= specs->size()) fail("modality index " + std::to_string(m) + " out of range");
      const ModalitySpec& spec = (*specs)[m];
      if (mj.value("name", "") != spec.name || kind != modality_kind_name(spec.kind))
        fail("modality " + std::to_string(m) + " is '" + mj.value("name", "") + "' (" + kind + "), the model's is '" +
             spec.name + "' (" + modality_kind_name(spec.kind) + ")");
    }
    if (kind == "image") {
      const auto& regions = mj.value("regions", nlohmann::ordered_json::array());
      if (!regions.is_array()) fail("modality " + std::to_string(m) + ": 'regions' is not an array");
      for (const auto& r : regions) {
        if (!r.is_array() || r.size() != 4 ||
            !std::all_of(r.begin(), r.end(), [](const nlohmann::ordered_json& v) { return v.is_number_integer(); }))
          fail("modality " + std::to_string(m) + ": a region is not [x, y, w, h]");
        set.add(DecouplingElement::pixels(
            m, {r[0].get<int64_t>(), r[1].get<int64_t>(), r[2].get<int64_t>(), r[3].get<int64_t>()}));
      }
    } else {
      const auto& positions = mj.value("positions", nlohmann::ordered_json::array());
      if (!positions.is_array()) fail("modality " + std::to_string(m) + ": 'positions' is not an array");
      for (const auto& p : positions) {
        if (!p.is_number_integer() || p.get<int64_t>() < 0)
          fail("modality " + std::to_string(m) + ": a position is not a non-negative integer");
        set.add(DecouplingElement::token(m, p.get<int64_t>()));
      }
    }
  }
  return set;
}

}  // namespace muroan
