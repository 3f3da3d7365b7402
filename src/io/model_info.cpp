#include "muroan/model_info.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "muroan/predict.h"
#include "muroan/text_format.h"
#include "muroan/tokenizer.h"

namespace muroan {
namespace {

// Class names listed in full up to this many; longer lists are cut.
constexpr size_t kMaxClassesShown = 20;

std::string classes_text(const std::vector<std::string>& classes) {
  std::string s;
  for (size_t i = 0; i < classes.size() && i < kMaxClassesShown; ++i) s += (i ? ", " : "") + classes[i];
  if (classes.size() > kMaxClassesShown) s += ", ... (" + std::to_string(classes.size() - kMaxClassesShown) + " more)";
  return s;
}

std::string vocab_text(const ModalitySpec& spec, VocabOrigin origin) {
  switch (origin) {
    case VocabOrigin::kManifest:
      return "vocab_size " + std::to_string(spec.vocab_size) + " (manifest)";
    case VocabOrigin::kProbe:
      return "vocab_size " + std::to_string(spec.vocab_size) + " (found by probing the model)";
    default:
      return "vocab_size unknown (the model accepts every id probed)";
  }
}

// "hr = 80, sbp = 120, ..." (the first few features and their fill values).
std::string features_text(const ModalitySpec& spec) {
  constexpr size_t kShown = 6;
  std::string s;
  for (size_t i = 0; i < spec.features.size() && i < kShown; ++i) {
    char fill[32];
    std::snprintf(fill, sizeof fill, "%g", spec.fills[i]);
    s += (i ? ", " : "") + spec.features[i] + " fill " + fill;
  }
  if (spec.features.size() > kShown) s += ", ...";
  return s;
}

// A signal's channel fills: "0" when all are equal, else the list (the first few).
std::string channel_fills_text(const ModalitySpec& spec) {
  const bool same = std::all_of(spec.fills.begin(), spec.fills.end(), [&](double f) { return f == spec.fills[0]; });
  if (same) return format_text("%g", spec.fills[0]);
  constexpr size_t kShown = 6;
  std::string s = "its channel's fill (";
  for (size_t i = 0; i < spec.fills.size() && i < kShown; ++i) s += format_text(i ? ", %g" : "%g", spec.fills[i]);
  return s + (spec.fills.size() > kShown ? ", ...)" : ")");
}

}  // namespace

std::string format_model_info(const TorchScriptClassifier& model) {
  const auto& specs = model.modalities();
  std::string out =
      format_text("model: %s (TorchScript, %s)\n", model.manifest().model_path.c_str(), model.device().str().c_str());
  out += "inputs, in the order forward takes them:\n";
  int64_t max_points = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    const ModalitySpec& s = specs[i];
    max_points += s.max_points();
    if (s.is_image())
      out += format_text("  %zu. %s: image [%lld, %lld, %lld], fill %g; %lld points (pixels)\n", i + 1, s.name.c_str(),
                         static_cast<long long>(s.channels()), static_cast<long long>(s.height()),
                         static_cast<long long>(s.width()), s.fill, static_cast<long long>(s.max_points()));
    else if (s.is_tabular())
      out += format_text("  %zu. %s: tabular, %lld features (%s); %lld points (features), each decoupled to its fill\n",
                         i + 1, s.name.c_str(), static_cast<long long>(s.num_features()), features_text(s).c_str(),
                         static_cast<long long>(s.max_points()));
    else if (s.is_audio())
      out += format_text(
          "  %zu. %s: audio, %lld samples at %lld Hz (%.3f s); %lld points (frames of %lld samples, %.1f ms), each "
          "decoupled to %g\n",
          i + 1, s.name.c_str(), static_cast<long long>(s.num_samples()), static_cast<long long>(s.sample_rate),
          static_cast<double>(s.num_samples()) / static_cast<double>(s.sample_rate),
          static_cast<long long>(s.max_points()), static_cast<long long>(s.frame),
          1000.0 * static_cast<double>(s.frame) / static_cast<double>(s.sample_rate), s.fill);
    else if (s.is_signal())
      out += format_text(
          "  %zu. %s: signal, %lld channels of %lld samples at %lld Hz (%.3f s); %lld points (frames of %lld samples, "
          "%.1f ms, on every channel), each decoupled to %s\n",
          i + 1, s.name.c_str(), static_cast<long long>(s.channels()), static_cast<long long>(s.num_samples()),
          static_cast<long long>(s.sample_rate),
          static_cast<double>(s.num_samples()) / static_cast<double>(s.sample_rate),
          static_cast<long long>(s.max_points()), static_cast<long long>(s.frame),
          1000.0 * static_cast<double>(s.frame) / static_cast<double>(s.sample_rate), channel_fills_text(s).c_str());
    else
      out += format_text("  %zu. %s: tokens, max_len %lld, pad_id %lld, %s; up to %lld points (non-pad tokens)\n",
                         i + 1, s.name.c_str(), static_cast<long long>(s.max_len()), static_cast<long long>(s.pad_id),
                         vocab_text(s, model.vocab_origin(i)).c_str(), static_cast<long long>(s.max_points()));
  }
  out += format_text("input space: up to %lld points per sample\n", static_cast<long long>(max_points));
  out += format_text("classes: %lld: %s\n", static_cast<long long>(model.num_classes()),
                     classes_text(model.classes()).c_str());
  if (model.has_fusion())
    out +=
        format_text("fusion: method '%s', embedding of %lld dimensions (fusion objective and fusion shift available)\n",
                    model.manifest().fusion_method.c_str(), static_cast<long long>(model.fusion_dim()));
  else
    out +=
        "fusion: none (the manifest names no fusion_method): the fusion objective and the fusion shift are not "
        "available for this model (the margin and targeted objectives are)\n";
  return out;
}

DataInfo describe_data(TorchScriptClassifier& model, const SampleData& data, const std::string& path,
                       int64_t batch_size) {
  const auto& specs = model.modalities();
  DataInfo info;
  info.path = path;
  info.samples = data.size();
  for (size_t i = 0; i < specs.size(); ++i) {
    double points = static_cast<double>(specs[i].max_points());
    if (specs[i].is_tokens() && data.size() > 0) {  // words: a word's pieces are one point, special tokens none
      const auto rows = data.inputs[i].to(torch::kCPU).contiguous();
      int64_t words = 0;
      for (int64_t r = 0; r < rows.size(0); ++r)
        for (uint8_t role :
             token_roles(rows[r].data_ptr<int64_t>(), rows.size(1), specs[i].pad_id, specs[i].tokenizer.get()))
          words += role == static_cast<uint8_t>(TokenRole::kWordStart) ? 1 : 0;
      points = static_cast<double>(words) / static_cast<double>(data.size());
    }
    info.mean_points.push_back(points);
  }
  info.accuracy = accuracy(model, data.inputs, data.labels, batch_size);
  info.correct = static_cast<int64_t>(std::llround(info.accuracy * static_cast<double>(data.size())));
  return info;
}

std::string format_data_info(const DataInfo& info, const std::vector<ModalitySpec>& specs) {
  std::string out = format_text("data: %s: %lld samples; mean points per sample:", info.path.c_str(),
                                static_cast<long long>(info.samples));
  double total = 0;
  for (size_t i = 0; i < specs.size() && i < info.mean_points.size(); ++i) {
    total += info.mean_points[i];
    out += format_text(" %s %.1f,", specs[i].name.c_str(), info.mean_points[i]);
  }
  out += format_text(" %.1f in all\n", total);
  out += format_text("accuracy: %.4f (%lld of %lld)\n", info.accuracy, static_cast<long long>(info.correct),
                     static_cast<long long>(info.samples));
  return out;
}

}  // namespace muroan
