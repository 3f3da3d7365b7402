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
    case ModalityKind::kAudio:
      return "audio";
    case ModalityKind::kSignal:
      return "signal";
  }
  return "?";
}

ModalityKind parse_modality_kind(const std::string& name) {
  if (name == "image") return ModalityKind::kImage;
  if (name == "tokens") return ModalityKind::kTokens;
  if (name == "tabular") return ModalityKind::kTabular;
  if (name == "audio") return ModalityKind::kAudio;
  if (name == "signal") return ModalityKind::kSignal;
  throw UsageError("unknown modality kind '" + name + "' (expected image, tokens, tabular, audio or signal)");
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

ModalitySpec ModalitySpec::audio(std::string name, int64_t samples, int64_t sample_rate, int64_t frame, double fill) {
  if (samples <= 0 || sample_rate <= 0 || frame <= 0 || frame > samples)
    throw UsageError("audio input '" + name + "': " + std::to_string(samples) + " samples at " +
                     std::to_string(sample_rate) + " Hz in frames of " + std::to_string(frame) +
                     " (expected positive sizes and a frame no longer than the input)");
  ModalitySpec spec;
  spec.name = std::move(name);
  spec.kind = ModalityKind::kAudio;
  spec.shape = {samples};
  spec.sample_rate = sample_rate;
  spec.frame = frame;
  spec.fill = fill;
  return spec;
}

ModalitySpec ModalitySpec::signal(std::string name, int64_t samples, int64_t sample_rate, int64_t frame,
                                  std::vector<double> fills) {
  if (fills.empty() || samples <= 0 || sample_rate <= 0 || frame <= 0 || frame > samples)
    throw UsageError("signal input '" + name + "': " + std::to_string(fills.size()) + " channels of " +
                     std::to_string(samples) + " samples at " + std::to_string(sample_rate) + " Hz in frames of " +
                     std::to_string(frame) + " (expected positive sizes and a frame no longer than the input)");
  ModalitySpec spec;
  spec.name = std::move(name);
  spec.kind = ModalityKind::kSignal;
  spec.shape = {static_cast<int64_t>(fills.size()), samples};
  spec.sample_rate = sample_rate;
  spec.frame = frame;
  spec.fills = std::move(fills);
  return spec;
}

int64_t ModalitySpec::max_points() const {
  if (is_image()) return height() * width();
  return has_frames() ? num_frames() : shape.at(0);
}

nlohmann::json modality_to_json(const ModalitySpec& spec) {
  nlohmann::json j = {{"name", spec.name}, {"kind", modality_kind_name(spec.kind)}};
  if (spec.is_image()) {
    j["shape"] = spec.shape;
    j["fill"] = spec.fill;
    if (spec.resize != ResizeMode::kNone) j["resize"] = resize_mode_name(spec.resize);
  } else if (spec.is_tabular()) {
    j["features"] = spec.features;
    j["fill"] = spec.fills;
  } else if (spec.is_audio()) {
    j["samples"] = spec.num_samples();
    j["sample_rate"] = spec.sample_rate;
    j["frame_samples"] = spec.frame;
    j["fill"] = spec.fill;
  } else if (spec.is_signal()) {
    j["channels"] = spec.channels();
    j["samples"] = spec.num_samples();
    j["sample_rate"] = spec.sample_rate;
    j["frame_samples"] = spec.frame;
    j["fill"] = spec.fills;
  } else {
    j["max_len"] = spec.max_len();
    j["pad_id"] = spec.pad_id;
    j["vocab_size"] = spec.vocab_size;
    if (spec.tokenizer) j["tokenizer"] = spec.tokenizer->describe();
  }
  return j;
}

namespace {

// "fill": one finite number for all n entries (default 0), or a list of n;
// `what` names an entry in messages ("feature", "channel").
std::vector<double> fills_from_json(const nlohmann::json& j, size_t n, const char* what, const std::string& where) {
  std::vector<double> fills(n, 0.0);
  if (j.contains("fill")) {
    if (j.at("fill").is_array()) {
      fills = json_field<std::vector<double>>(j, "fill", where);
      if (fills.size() != n)
        throw InputError(where + ": fill", std::to_string(fills.size()) + " values for " + std::to_string(n) + " " +
                                               what + "s (give one per " + what + ", or one number for all)");
    } else {
      fills.assign(n, json_field<double>(j, "fill", where));
    }
  }
  for (size_t i = 0; i < fills.size(); ++i)
    if (!std::isfinite(fills[i])) throw InputError(where + ": fill[" + std::to_string(i) + "]", "not a finite number");
  return fills;
}

struct Timing {
  int64_t samples = 0, rate = 0, frame = 0;
};

// A time series' "samples" (per channel), "sample_rate" and its frame, given
// in samples or in milliseconds (10 ms when neither is given).
Timing timing_from_json(const nlohmann::json& j, const std::string& where) {
  Timing t;
  t.samples = json_field<int64_t>(j, "samples", where);
  if (t.samples <= 0 || t.samples > kMaxAudioSamples)
    throw InputError(where + ": samples", "expected a length in [1, " + std::to_string(kMaxAudioSamples) +
                                              "] samples, got " + std::to_string(t.samples));
  t.rate = json_field<int64_t>(j, "sample_rate", where);
  if (t.rate <= 0 || t.rate > 1000000)
    throw InputError(where + ": sample_rate",
                     "expected samples per second in [1, 1000000], got " + std::to_string(t.rate));
  if (j.contains("frame_samples") && j.contains("frame_ms"))
    throw InputError(where + ": frame_ms", "give frame_samples or frame_ms, not both");
  if (j.contains("frame_samples")) {
    t.frame = json_field<int64_t>(j, "frame_samples", where);
  } else {
    const double ms = j.contains("frame_ms") ? json_field<double>(j, "frame_ms", where) : 10.0;
    if (!std::isfinite(ms) || ms <= 0) throw InputError(where + ": frame_ms", "expected a positive duration");
    t.frame = static_cast<int64_t>(std::llround(ms * static_cast<double>(t.rate) / 1000.0));
  }
  if (t.frame <= 0 || t.frame > t.samples)
    throw InputError(
        where + (j.contains("frame_samples") ? ": frame_samples" : ": frame_ms"),
        "a frame of " + std::to_string(t.frame) + " samples; expected 1 to the input's " + std::to_string(t.samples));
  return t;
}

}  // namespace

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
    const auto fills = fills_from_json(j, features.size(), "feature", where);
    return ModalitySpec::tabular(name, features, fills);
  }
  if (kind_name == "audio") {
    const Timing t = timing_from_json(j, where);
    const double fill = j.contains("fill") ? json_field<double>(j, "fill", where) : 0.0;
    if (!std::isfinite(fill)) throw InputError(where + ": fill", "not a finite number");
    return ModalitySpec::audio(name, t.samples, t.rate, t.frame, fill);
  }
  if (kind_name == "signal") {
    const auto channels = json_field<int64_t>(j, "channels", where);
    if (channels <= 0 || channels > kMaxSignalChannels)
      throw InputError(where + ": channels", "expected 1 to " + std::to_string(kMaxSignalChannels) + " channels, got " +
                                                 std::to_string(channels));
    const Timing t = timing_from_json(j, where);
    if (channels * t.samples > kMaxAudioSamples)
      throw InputError(where + ": samples", std::to_string(channels) + " channels of " + std::to_string(t.samples) +
                                                " samples; MUROAN reads at most " + std::to_string(kMaxAudioSamples) +
                                                " samples per input");
    return ModalitySpec::signal(name, t.samples, t.rate, t.frame,
                                fills_from_json(j, static_cast<size_t>(channels), "channel", where));
  }
  throw InputError(where + ": kind",
                   "expected \"image\", \"tokens\", \"tabular\", \"audio\" or \"signal\", got \"" + kind_name + "\"");
}

}  // namespace muroan
