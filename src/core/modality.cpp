#include "muroan/modality.h"

#include <nlohmann/json.hpp>

#include <cmath>

#include "muroan/error.h"
#include "muroan/json_value.h"
#include "muroan/tokenizer.h"

namespace muroan {

const char* modality_kind_name(ModalityKind kind) {
  switch (kind) {
    case ModalityKind::kImage:
      return "image";
    case ModalityKind::kTokens:
      return "tokens";
    case ModalityKind::kTabular:
      return "tabular";
  }
  return "?";
}

ModalityKind parse_modality_kind(const std::string& name) {
  if (name == "image") return ModalityKind::kImage;
  if (name == "tokens") return ModalityKind::kTokens;
  if (name == "tabular") return ModalityKind::kTabular;
  throw UsageError("unknown modality kind '" + name + "' (expected image, tokens or tabular)");
}

const char* resize_mode_name(ResizeMode mode) {
  switch (mode) {
    case ResizeMode::kNone:
      return "none";
    case ResizeMode::kArea:
      return "area";
    case ResizeMode::kBilinear:
      return "bilinear";
    case ResizeMode::kNearest:
      return "nearest";
  }
  return "?";
}

ResizeMode parse_resize_mode(const std::string& name) {
  for (ResizeMode m : {ResizeMode::kNone, ResizeMode::kArea, ResizeMode::kBilinear, ResizeMode::kNearest})
    if (name == resize_mode_name(m)) return m;
  throw UsageError("unknown resize '" + name + "' (expected area, bilinear, nearest or none)");
}

ModalitySpec ModalitySpec::image(std::string name, int64_t channels, int64_t height, int64_t width, double fill) {
  ModalitySpec spec;
  spec.name = std::move(name);
  spec.kind = ModalityKind::kImage;
  spec.shape = {channels, height, width};
  spec.fill = fill;
  return spec;
}

ModalitySpec ModalitySpec::tokens(std::string name, int64_t max_len, int64_t pad_id, int64_t vocab_size) {
  ModalitySpec spec;
  spec.name = std::move(name);
  spec.kind = ModalityKind::kTokens;
  spec.shape = {max_len};
  spec.pad_id = pad_id;
  spec.vocab_size = vocab_size;
  return spec;
}

ModalitySpec ModalitySpec::tabular(std::string name, std::vector<std::string> features, std::vector<double> fills) {
  if (fills.size() != features.size())
    throw UsageError("tabular input '" + name + "': " + std::to_string(fills.size()) + " fill values for " +
                     std::to_string(features.size()) + " features");
  ModalitySpec spec;
  spec.name = std::move(name);
  spec.kind = ModalityKind::kTabular;
  spec.shape = {static_cast<int64_t>(features.size())};
  spec.features = std::move(features);
  spec.fills = std::move(fills);
  return spec;
}

int64_t ModalitySpec::max_points() const { return is_image() ? height() * width() : shape.at(0); }

nlohmann::json modality_to_json(const ModalitySpec& spec) {
  nlohmann::json j = {{"name", spec.name}, {"kind", modality_kind_name(spec.kind)}};
  if (spec.is_image()) {
    j["shape"] = spec.shape;
    j["fill"] = spec.fill;
    if (spec.resize != ResizeMode::kNone) j["resize"] = resize_mode_name(spec.resize);
  } else if (spec.is_tabular()) {
    j["features"] = spec.features;
    j["fill"] = spec.fills;
  } else {
    j["max_len"] = spec.max_len();
    j["pad_id"] = spec.pad_id;
    j["vocab_size"] = spec.vocab_size;
    if (spec.tokenizer) j["tokenizer"] = spec.tokenizer->describe();
  }
  return j;
}

ModalitySpec modality_from_json(const nlohmann::json& j, const std::string& where) {
  const auto kind_name = json_field<std::string>(j, "kind", where);
  const auto name = json_field<std::string>(j, "name", where);
  if (kind_name == "image") {
    const auto shape = json_field<std::vector<int64_t>>(j, "shape", where);
    if (shape.size() != 3 || shape[0] <= 0 || shape[1] <= 0 || shape[2] <= 0)
      throw InputError(where + ": shape", "expected [C, H, W] with positive sizes");
    // Before anything of this size is allocated (a probe batch, a mask).
    if (shape[0] != 1 && shape[0] != 3)
      throw InputError(where + ": shape", "C = " + std::to_string(shape[0]) + ", expected 1 (grey) or 3 (RGB)");
    if (shape[1] > kMaxImageSide || shape[2] > kMaxImageSide)
      throw InputError(where + ": shape", std::to_string(shape[1]) + " x " + std::to_string(shape[2]) +
                                              " pixels; MUROAN reads images of at most " +
                                              std::to_string(kMaxImageSide) + " x " + std::to_string(kMaxImageSide));
    const double fill = j.contains("fill") ? json_field<double>(j, "fill", where) : 0.0;
    ModalitySpec spec = ModalitySpec::image(name, shape[0], shape[1], shape[2], fill);
    if (j.contains("resize")) {
      try {
        spec.resize = parse_resize_mode(json_field<std::string>(j, "resize", where));
      } catch (const UsageError& e) {
        throw InputError(where + ": resize", e.what());
      }
    }
    return spec;
  }
  if (kind_name == "tokens") {
    const auto max_len = json_field<int64_t>(j, "max_len", where);
    if (max_len <= 0 || max_len > kMaxTokenLength)
      throw InputError(where + ": max_len", "expected a length in [1, " + std::to_string(kMaxTokenLength) + "], got " +
                                                std::to_string(max_len));
    const int64_t pad_id = j.contains("pad_id") ? json_field<int64_t>(j, "pad_id", where) : 0;
    const int64_t vocab = j.contains("vocab_size") ? json_field<int64_t>(j, "vocab_size", where) : 0;
    return ModalitySpec::tokens(name, max_len, pad_id, vocab);
  }
  if (kind_name == "tabular") {
    const auto features = json_field<std::vector<std::string>>(j, "features", where);
    const auto d = static_cast<int64_t>(features.size());
    if (d == 0 || d > kMaxTabularFeatures)
      throw InputError(where + ": features", "expected 1 to " + std::to_string(kMaxTabularFeatures) +
                                                 " feature names, got " + std::to_string(d));
    for (size_t i = 0; i < features.size(); ++i) {
      if (features[i].empty()) throw InputError(where + ": features[" + std::to_string(i) + "]", "empty name");
      for (size_t k = 0; k < i; ++k)
        if (features[k] == features[i])
          throw InputError(where + ": features[" + std::to_string(i) + "]", "'" + features[i] + "' named twice");
    }
    // "fill": one number for every feature, or a list of D numbers (default 0).
    std::vector<double> fills(features.size(), 0.0);
    if (j.contains("fill")) {
      if (j.at("fill").is_array()) {
        fills = json_field<std::vector<double>>(j, "fill", where);
        if (fills.size() != features.size())
          throw InputError(where + ": fill", std::to_string(fills.size()) + " values for " + std::to_string(d) +
                                                 " features (give one per feature, or one number for all)");
      } else {
        fills.assign(features.size(), json_field<double>(j, "fill", where));
      }
    }
    for (size_t i = 0; i < fills.size(); ++i)
      if (!std::isfinite(fills[i]))
        throw InputError(where + ": fill[" + std::to_string(i) + "]", "not a finite number");
    return ModalitySpec::tabular(name, features, fills);
  }
  throw InputError(where + ": kind", "expected \"image\", \"tokens\" or \"tabular\", got \"" + kind_name + "\"");
}

}  // namespace muroan
