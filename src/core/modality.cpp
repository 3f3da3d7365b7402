#include "muroan/modality.h"

#include "muroan/error.h"

namespace muroan {

const char* modality_kind_name(ModalityKind kind) {
  switch (kind) {
    case ModalityKind::kImage:
      return "image";
    case ModalityKind::kTokens:
      return "tokens";
  }
  return "?";
}

ModalityKind parse_modality_kind(const std::string& name) {
  if (name == "image") return ModalityKind::kImage;
  if (name == "tokens") return ModalityKind::kTokens;
  throw UsageError("unknown modality kind '" + name + "' (expected image or tokens)");
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

int64_t ModalitySpec::max_points() const { return is_image() ? height() * width() : max_len(); }

}  // namespace muroan
