// The catalog of fusions and make_fusion(): the one place that maps names to
// modules.
#include <functional>

#include "fusions.h"
#include "muroan/error.h"
#include "muroan/names.h"

namespace muroan {

namespace {

using Factory = std::function<Fusion(const FusionConfig&)>;

struct Entry {
  FusionInfo info;
  bool uses_heads;  // hidden must be divisible by heads
  Factory make;
};

template <typename Impl>
Factory factory() {
  return [](const FusionConfig& config) -> Fusion { return std::make_shared<Impl>(config); };
}

Factory unimodal(const std::string& role) {
  return [role](const FusionConfig& config) -> Fusion { return std::make_shared<UnimodalFusionImpl>(config, role); };
}

const std::vector<Entry>& entries() {
  static const std::vector<Entry> kEntries = {
      {{"concat", "feature-level concatenation of the pooled features, one ReLU layer", true},
       false,
       factory<ConcatFusionImpl>()},
      {{"sum", "sum of the projected pooled features", true}, false, factory<SumFusionImpl>()},
      {{"product", "element-wise product of the projected pooled features", true}, false, factory<ProductFusionImpl>()},
      {{"gmu", "gated multimodal unit (Arevalo et al. 2017)", true}, false, factory<GmuFusionImpl>()},
      {{"tensor", "tensor fusion, outer product with an appended 1 (TFN, Zadeh et al. 2017; 2 or 3 inputs)", true},
       false,
       factory<TensorFusionImpl>()},
      {{"lowrank", "low-rank multimodal fusion with modality-specific factors (LMF, Liu et al. 2018)", true},
       false,
       factory<LowRankFusionImpl>()},
      {{"bilinear", "factorized bilinear pooling (MFB, Yu et al. 2017)", true}, false, factory<BilinearFusionImpl>()},
      {{"film", "the other inputs modulate the first one's feature maps (FiLM, Perez et al. 2018)", true},
       false,
       factory<FilmFusionImpl>()},
      {{"xattn", "cross-modal attention, text tokens attend over the other inputs' positions (image grid cells)", true},
       true,
       factory<CrossAttentionFusionImpl>()},
      {{"transformer",
        "single-stream transformer over [CLS], the whole image, its cells and every input's positions (VisualBERT / "
        "ViLT)",
        true},
       true,
       factory<TransformerFusionImpl>()},
      {{"late", "late fusion, average of unimodal logits (baseline, no interaction)", true},
       false,
       factory<LateFusionImpl>()},
      {{"image-only", "unimodal baseline: the pooled image features alone", false}, false, unimodal("image")},
      {{"text-only", "unimodal baseline: the pooled text features alone", false}, false, unimodal("text")},
      {{"tabular-only", "unimodal baseline: the pooled tabular features alone", false}, false, unimodal("tabular")},
      {{"audio-only", "unimodal baseline: the pooled audio features alone", false}, false, unimodal("audio")},
      {{"signal-only", "unimodal baseline: the pooled signal features alone", false}, false, unimodal("signal")},
  };
  return kEntries;
}

void check_positive(const char* field, int64_t value) {
  if (value <= 0) {
    throw UsageError("fusion config: " + std::string(field) + " must be positive, got " + std::to_string(value));
  }
}

void check_config(const Entry& entry, const FusionConfig& config) {
  if (entry.info.multimodal && config.streams.size() < 2)
    throw UsageError("fusion '" + entry.info.name + "' joins at least two inputs, got " +
                     std::to_string(config.streams.size()));
  if (config.streams.empty()) throw UsageError("fusion config: no inputs");
  for (const auto& s : config.streams) {
    check_positive("dim", s.dim);
    if (s.grid) {
      check_positive("grid_h", s.grid_h);
      check_positive("grid_w", s.grid_w);
    } else {
      check_positive("length", s.length);
    }
  }
  check_positive("hidden", config.hidden);
  check_positive("num_classes", config.num_classes);
  check_positive("rank", config.rank);
  check_positive("factor", config.factor);
  check_positive("heads", config.heads);
  check_positive("layers", config.layers);
  if (entry.uses_heads && config.hidden % config.heads != 0) {
    throw UsageError("fusion '" + entry.info.name + "': hidden " + std::to_string(config.hidden) +
                     " is not divisible by heads " + std::to_string(config.heads));
  }
}

}  // namespace

std::vector<FusionInfo> fusion_catalog() {
  std::vector<FusionInfo> out;
  for (const auto& entry : entries()) out.push_back(entry.info);
  return out;
}

Fusion make_fusion(const std::string& name, const FusionConfig& config) {
  for (const auto& entry : entries()) {
    if (entry.info.name == name) {
      check_config(entry, config);
      return entry.make(config);
    }
  }
  std::vector<std::string> known;
  for (const auto& entry : entries()) known.push_back(entry.info.name);
  throw UsageError("unknown fusion '" + name + "' (known: " + join_names(known) + ")");
}

}  // namespace muroan
