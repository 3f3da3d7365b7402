// gallery.json: a few successful attacks of a run, with what a person needs to
// see them. Written while the model and its samples are at hand, so that the
// report (which never loads a model) can show them.
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

#include "muroan/decoupling.h"
#include "muroan/error.h"
#include "muroan/files.h"
#include "muroan/json_file.h"
#include "muroan/measurement.h"
#include "muroan/report.h"
#include "png_data_uri.h"

namespace muroan {
namespace {

namespace fs = std::filesystem;

// Replays tried per item kept: a record whose replay disagrees is skipped.
constexpr int64_t kTriesPerItem = 4;

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// Which modalities a successful record decouples, e.g. "image+tokens".
std::string modality_mix(const SampleRecord& r) {
  std::string mix;
  for (size_t m = 0; m < r.points.size() && m < r.modality_names.size(); ++m)
    if (r.points[m] > 0) mix += (mix.empty() ? "" : "+") + r.modality_names[m];
  return mix;
}

// Successful records, smallest decoupling rate first, one of each modality mix
// before the rest, so that the gallery is not all text deletions (or all patches).
std::vector<const SampleRecord*> candidates(const std::vector<SampleRecord>& records) {
  std::vector<const SampleRecord*> ok;
  for (const auto& r : records)
    if (r.success && r.decoupling && r.decoupling_rate) ok.push_back(&r);
  std::stable_sort(ok.begin(), ok.end(), [](const SampleRecord* a, const SampleRecord* b) {
    return *a->decoupling_rate < *b->decoupling_rate;
  });
  std::vector<const SampleRecord*> firsts, rest;
  std::map<std::string, bool> seen;
  for (const auto* r : ok) {
    auto& s = seen[modality_mix(*r)];
    (s ? rest : firsts).push_back(r);
    s = true;
  }
  firsts.insert(firsts.end(), rest.begin(), rest.end());
  return firsts;
}

// Log-magnitude spectrograms of an audio input's original and decoupled
// waveforms [T], as grey images [1,bins,frames] in [0,1]: one column per point
// (a Hann window of the next power of two >= 2 frames, hop one frame), low
// frequencies at the bottom, bins averaged down to at most kSpectrogramBins,
// both on the original's scale (its loudest bin white, 80 dB below it black),
// so that silenced frames are dark.
constexpr int64_t kSpectrogramBins = 96;

std::pair<torch::Tensor, torch::Tensor> spectrograms(const torch::Tensor& original, const torch::Tensor& decoupled,
                                                     const ModalitySpec& spec) {
  int64_t n_fft = 16;
  while (n_fft < 2 * spec.frame) n_fft *= 2;
  const int64_t frames = spec.num_frames();
  const auto window = torch::hann_window(n_fft, torch::kDouble);
  auto db = [&](const torch::Tensor& wave) {
    const auto w = wave.to(torch::kCPU).to(torch::kDouble).flatten();
    // Centred on each frame: frame p's window starts half a window before its middle.
    const int64_t left = n_fft / 2 - spec.frame / 2;
    const int64_t right = frames * spec.frame + n_fft - w.size(0);
    const auto padded = torch::constant_pad_nd(w, {left, std::max<int64_t>(right, 0)});
    const auto windows = padded.unfold(0, n_fft, spec.frame).narrow(0, 0, frames) * window;
    auto magnitude = torch::fft::rfft(windows, n_fft, 1).abs();  // [frames, bins]
    const int64_t bins = std::min(kSpectrogramBins, magnitude.size(1));
    magnitude = torch::adaptive_avg_pool1d(magnitude.unsqueeze(0), bins).squeeze(0);
    return (20.0 * torch::log10(magnitude + 1e-9)).t().flip({0});  // [bins, frames], low at the bottom
  };
  const auto a = db(original), b = db(decoupled);
  const double top = a.max().item<double>();
  auto scale = [top](const torch::Tensor& s) { return ((s - (top - 80.0)) / 80.0).clamp(0.0, 1.0).unsqueeze(0); };
  return {scale(a), scale(b)};
}

// A signal's original and decoupled channels [C,T] drawn as traces, one band
// per channel (dark on white, [1,H,W] in [0,1]): each of the W columns shows
// the range of its samples, a frame spans `columns_per_frame` columns, and
// both traces use the original's scale per channel (its fill included), so
// that a decoupled frame shows as that channel's fill line.
constexpr int64_t kTraceColumns = 600;  // at most, unless frames need more
constexpr int64_t kTraceHeight = 600;   // at most, unless channels need more

struct Traces {
  torch::Tensor original, decoupled;
  int64_t columns_per_frame = 1;
};

Traces traces(const torch::Tensor& original, const torch::Tensor& decoupled, const ModalitySpec& spec) {
  const int64_t C = spec.channels(), T = spec.num_samples(), frames = spec.num_frames();
  Traces out;
  out.columns_per_frame = std::clamp<int64_t>(kTraceColumns / frames, 1, spec.frame);
  const int64_t W = frames * out.columns_per_frame;
  const int64_t band = std::clamp<int64_t>(kTraceHeight / C - 2, 8, 48), H = C * (band + 2);
  const auto a = original.to(torch::kCPU).to(torch::kDouble).contiguous();
  const auto b = decoupled.to(torch::kCPU).to(torch::kDouble).contiguous();
  auto draw = [&](const torch::Tensor& x, torch::Tensor& image) {
    const double* px = x.data_ptr<double>();
    const double* pa = a.data_ptr<double>();
    float* pi = image.data_ptr<float>();
    for (int64_t c = 0; c < C; ++c) {
      const double fill = spec.fills[static_cast<size_t>(c)];
      double lo = fill, hi = fill;
      for (int64_t t = 0; t < T; ++t) {
        lo = std::min(lo, pa[c * T + t]);
        hi = std::max(hi, pa[c * T + t]);
      }
      const double span = hi > lo ? hi - lo : 1.0;
      auto row = [&](double v) {
        const double r = (hi - v) / span * static_cast<double>(band - 1);
        return c * (band + 2) + 1 + std::clamp<int64_t>(static_cast<int64_t>(std::lround(r)), 0, band - 1);
      };
      for (int64_t col = 0; col < W; ++col) {
        // The column's samples, and the last one before it (no gaps between columns).
        const int64_t first = col * frames * spec.frame / W, last = (col + 1) * frames * spec.frame / W;
        int64_t top = H, bottom = -1;
        for (int64_t t = std::max<int64_t>(first - 1, 0); t < std::max(last, first + 1) && t < T; ++t) {
          const int64_t r = row(px[c * T + t]);
          top = std::min(top, r);
          bottom = std::max(bottom, r);
        }
        for (int64_t r = top; r <= bottom; ++r) pi[r * W + col] = 0.0f;
      }
    }
  };
  out.original = torch::ones({1, H, W}, torch::kFloat);
  out.decoupled = torch::ones({1, H, W}, torch::kFloat);
  draw(a, out.original);
  draw(b, out.decoupled);
  return out;
}

// The runs of decoupled frames of modality m as regions {x, 0, w, height} of
// an image with `columns` columns per frame.
nlohmann::ordered_json frame_regions(const SampleRecord& r, size_t m, int64_t frames, int64_t columns, int64_t height) {
  std::vector<bool> cut(static_cast<size_t>(frames), false);
  for (const auto& e : r.set.elements)
    if (e.modality == m && e.is_token() && e.position < frames) cut[static_cast<size_t>(e.position)] = true;
  nlohmann::ordered_json regions = nlohmann::ordered_json::array();
  for (int64_t p = 0; p < frames;) {
    if (!cut[static_cast<size_t>(p)]) {
      ++p;
      continue;
    }
    int64_t end = p;
    while (end < frames && cut[static_cast<size_t>(end)]) ++end;
    regions.push_back({p * columns, 0, (end - p) * columns, height});
    p = end;
  }
  return regions;
}

nlohmann::ordered_json decision(int64_t cls, double confidence, const std::vector<std::string>& classes) {
  const bool named = cls >= 0 && cls < static_cast<int64_t>(classes.size());
  return {{"class", cls},
          {"name", named ? classes[static_cast<size_t>(cls)] : std::to_string(cls)},
          {"confidence", confidence}};
}

nlohmann::ordered_json item_json(const SampleRecord& r, const Inputs& sample, const Inputs& adversarial,
                                 const InputSpace& space, const std::vector<std::string>& classes,
                                 const std::vector<std::string>& vocabulary) {
  const auto& specs = space.specs();
  nlohmann::ordered_json images = nlohmann::ordered_json::array();
  nlohmann::ordered_json texts = nlohmann::ordered_json::array();
  nlohmann::ordered_json tables = nlohmann::ordered_json::array();
  for (size_t m = 0; m < specs.size(); ++m) {
    if (specs[m].is_tabular()) {  // each feature's value, and the fill it was set to when decoupled
      const auto values = sample[m][0].to(torch::kCPU).to(torch::kDouble).contiguous();
      nlohmann::ordered_json features = nlohmann::ordered_json::array();
      for (int64_t d = 0; d < specs[m].num_features(); ++d) {
        const bool decoupled =
            std::any_of(r.set.elements.begin(), r.set.elements.end(),
                        [&](const DecouplingElement& e) { return e.modality == m && e.is_token() && e.position == d; });
        features.push_back({{"name", specs[m].features[static_cast<size_t>(d)]},
                            {"value", values.data_ptr<double>()[d]},
                            {"fill", specs[m].fills[static_cast<size_t>(d)]},
                            {"decoupled", decoupled}});
      }
      tables.push_back({{"modality", specs[m].name}, {"features", std::move(features)}});
      continue;
    }
    if (specs[m].is_audio()) {  // spectrograms; each run of decoupled frames outlined
      const auto [before, after] = spectrograms(sample[m][0], adversarial[m][0], specs[m]);
      const int64_t bins = before.size(1), frames = specs[m].num_frames();
      images.push_back({{"modality", specs[m].name},
                        {"kind", "spectrogram"},
                        {"width", frames},
                        {"height", bins},
                        {"original", report::png_data_uri(before)},
                        {"decoupled", report::png_data_uri(after)},
                        {"regions", frame_regions(r, m, frames, 1, bins)}});
      continue;
    }
    if (specs[m].is_signal()) {  // one trace per channel; each run of decoupled frames outlined
      const Traces t = traces(sample[m][0], adversarial[m][0], specs[m]);
      const int64_t height = t.original.size(1), width = t.original.size(2);
      images.push_back({{"modality", specs[m].name},
                        {"kind", "traces"},
                        {"width", width},
                        {"height", height},
                        {"original", report::png_data_uri(t.original)},
                        {"decoupled", report::png_data_uri(t.decoupled)},
                        {"regions", frame_regions(r, m, specs[m].num_frames(), t.columns_per_frame, height)}});
      continue;
    }
    if (specs[m].is_image()) {
      nlohmann::ordered_json regions = nlohmann::ordered_json::array();
      for (const auto& e : r.set.elements)
        if (e.modality == m && !e.is_token()) regions.push_back({e.region.x, e.region.y, e.region.w, e.region.h});
      images.push_back({{"modality", specs[m].name},
                        {"width", specs[m].width()},
                        {"height", specs[m].height()},
                        {"original", report::png_data_uri(sample[m][0])},
                        {"decoupled", report::png_data_uri(adversarial[m][0])},
                        {"regions", std::move(regions)}});
      continue;
    }
    const auto ids = sample[m][0].to(torch::kCPU).contiguous();
    const auto& positions = space.token_positions(m);
    const auto text_words = split_words(r.text);
    const bool words_from_text = vocabulary.empty() && text_words.size() == positions.size();
    nlohmann::ordered_json words = nlohmann::ordered_json::array();
    for (size_t k = 0; k < positions.size(); ++k) {
      const int64_t pos = positions[k];
      const int64_t id = ids[pos].item<int64_t>();
      std::string word;
      if (id >= 0 && id < static_cast<int64_t>(vocabulary.size()))
        word = vocabulary[static_cast<size_t>(id)];
      else if (words_from_text)
        word = text_words[k];
      else
        word = "#" + std::to_string(id);
      const bool deleted = std::any_of(r.set.elements.begin(), r.set.elements.end(), [&](const DecouplingElement& e) {
        return e.modality == m && e.is_token() && e.position == pos;
      });
      words.push_back({{"text", word}, {"deleted", deleted}});
    }
    texts.push_back(
        {{"modality", specs[m].name}, {"removal", text_removal_name(r.text_removal)}, {"words", std::move(words)}});
  }
  nlohmann::ordered_json j;
  j["id"] = r.id;
  j["index"] = r.index;
  auto label = decision(r.label, 0.0, classes);
  label.erase("confidence");
  j["label"] = std::move(label);
  j["clean"] = decision(r.clean_prediction, r.clean_confidence, classes);
  j["adversarial"] = decision(r.adversarial_prediction, r.adversarial_confidence, classes);
  j["decoupling_rate"] = *r.decoupling_rate;
  j["success_class"] =
      r.success_class ? nlohmann::ordered_json(success_class_name(*r.success_class)) : nlohmann::ordered_json(nullptr);
  if (!r.truth_reason.empty()) j["truth_reason"] = r.truth_reason;
  j["decoupled_points"] = r.decoupled_points;
  j["total_points"] = r.total_points;
  j["images"] = std::move(images);
  j["texts"] = std::move(texts);
  j["tables"] = std::move(tables);
  return j;
}

}  // namespace

int64_t write_gallery(const std::string& run_dir, Classifier& model, const SampleData& data,
                      const std::vector<std::string>& vocabulary, int64_t max_items) {
  const fs::path dir(run_dir);
  const fs::path run_path = dir / "run.json";
  const nlohmann::ordered_json run = read_ordered_json_file(run_path.string());
  const auto records = read_records((dir / "results.jsonl").string());
  const auto n = data.size();

  nlohmann::ordered_json items = nlohmann::ordered_json::array();
  int64_t tries = 0;
  for (const SampleRecord* r : candidates(records)) {
    if (static_cast<int64_t>(items.size()) >= max_items || tries >= kTriesPerItem * max_items) break;
    ++tries;
    if (r->index < 0 || r->index >= n)
      throw InputError((dir / "results.jsonl").string(), "sample index " + std::to_string(r->index) +
                                                             " is outside the " + std::to_string(n) + " samples given");
    if (!data.ids.empty() && data.ids[static_cast<size_t>(r->index)] != r->id)
      throw InputError((dir / "results.jsonl").string(),
                       "sample " + std::to_string(r->index) + " is '" + r->id + "' in the results but '" +
                           data.ids[static_cast<size_t>(r->index)] + "' in the data: not the samples of this run");
    const Inputs sample = slice_rows(data.inputs, r->index, r->index + 1);
    const ReplayResult replayed = replay(model, sample, *r);
    if (!replayed.matches) continue;  // nondeterministic model: do not show what we cannot reproduce
    const InputSpace space(model.modalities(), sample);
    items.push_back(item_json(*r, sample, replayed.adversarial, space, model.classes(), vocabulary));
  }

  nlohmann::ordered_json j;
  j["format"] = kGalleryFormat;
  j["model"] = run.value("model", model.name());
  j["method"] = run.value("method", "");
  j["classes"] = model.classes();
  j["items"] = std::move(items);
  const fs::path path = dir / "gallery.json";
  write_file_atomically(path.string(), j.dump(1) + "\n");
  return static_cast<int64_t>(j["items"].size());
}

}  // namespace muroan
