// The modalities of a multimodal input and their points (DESIGN.md sections 1-2).
//
// A model sees x = (x_1 .. x_M); each x_m is one tensor, batched, in the order of
// the model's modality list. Every modality is divided into points: the atoms a
// decoupling attack may remove.
//   image  [B,C,H,W] float: a point is one pixel position (all channels); it is
//          decoupled by setting it to `fill`.
//   tokens [B,L] int64 padded with `pad_id`: a point is one word (a non-pad
//          position, or with a tokenizer a word's pieces together; special
//          tokens are no point, muroan/tokenizer.h); it is decoupled by
//          deletion (later tokens shift left) or masking.
//   tabular [B,D] float: a point is one named feature (a vital sign, a lab
//          value); it is decoupled by setting it to its own fill value (e.g.
//          the training mean), `fills[d]`.
//   audio  [B,T] float, a mono waveform of T samples at `sample_rate`: a point
//          is one frame of `frame` samples (e.g. 10 ms; the last may be
//          shorter); it is decoupled by setting its samples to `fill`
//          (silence, 0).
//   signal [B,C,T] float, a multichannel time series (the leads of an ECG, EEG
//          electrodes, the axes of a motion sensor) of T samples per channel at
//          `sample_rate`: a point is one frame of `frame` samples on every
//          channel at once (as a pixel is one position on every colour
//          channel); it is decoupled by setting each channel's samples to that
//          channel's fill, `fills[c]` (a lead's baseline, a sensor's rest value).
//          Audio is the mono case with a spectrum encoder; a signal is read as
//          raw samples (its rate is often far below speech's, and the shape
//          of a beat matters more than its pitch).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace muroan {

enum class ModalityKind { kImage, kTokens, kTabular, kAudio, kSignal };

class Tokenizer;

// Limits of an input, checked where a manifest or checkpoint is read, before
// anything is allocated: an image side (as the image reader's pixel cap) and a
// token sequence.
constexpr int64_t kMaxImageSide = 4096;
constexpr int64_t kMaxTokenLength = 16384;
constexpr int64_t kMaxTabularFeatures = 65536;
constexpr int64_t kMaxAudioSamples = int64_t{16000} * 600;  // ten minutes at 16 kHz; a signal's channel too
constexpr int64_t kMaxSignalChannels = 1024;

// How an image file of another size is brought to the input's H x W.
enum class ResizeMode { kNone, kArea, kBilinear, kNearest };
const char* resize_mode_name(ResizeMode mode);  // "none", "area", ...
// Parses "area", "bilinear" or "nearest" ("none": kNone); throws UsageError otherwise.
ResizeMode parse_resize_mode(const std::string& name);

const char* modality_kind_name(ModalityKind kind);
// Parses "image", "tokens", "tabular", "audio" or "signal"; throws UsageError otherwise.
ModalityKind parse_modality_kind(const std::string& name);

struct ModalitySpec {
  std::string name;  // e.g. "image", "tokens"
  ModalityKind kind = ModalityKind::kImage;
  // The shape of one row: image {C, H, W}; tokens {max_len}; tabular {D};
  // audio {T}; signal {C, T}.
  std::vector<int64_t> shape;
  double fill = 0.0;                      // image, audio: value of a decoupled pixel or sample
  int64_t pad_id = 0;                     // tokens: padding id
  int64_t vocab_size = 0;                 // tokens: ids must be < vocab_size (0: unknown)
  ResizeMode resize = ResizeMode::kNone;  // image files of another size (kNone: an error)
  // tokens: reads text given as a string, and says which ids continue a word
  // or are special (null: ids are given, every non-pad token is a word).
  std::shared_ptr<const Tokenizer> tokenizer;
  std::vector<std::string> features;  // tabular: the D feature names, in column order
  std::vector<double> fills;          // tabular: each decoupled feature's value; signal: each channel's
  int64_t sample_rate = 0;            // audio, signal: samples per second
  int64_t frame = 0;                  // audio, signal: samples per point

  static ModalitySpec image(std::string name, int64_t channels, int64_t height, int64_t width, double fill = 0.0);
  static ModalitySpec tokens(std::string name, int64_t max_len, int64_t pad_id, int64_t vocab_size);
  // Throws UsageError unless there is one fill per feature.
  static ModalitySpec tabular(std::string name, std::vector<std::string> features, std::vector<double> fills);
  // Throws UsageError unless 0 < frame <= samples and sample_rate > 0.
  static ModalitySpec audio(std::string name, int64_t samples, int64_t sample_rate, int64_t frame, double fill = 0.0);
  // C = fills.size() channels of `samples` each. Throws UsageError unless
  // 0 < C, 0 < frame <= samples and sample_rate > 0.
  static ModalitySpec signal(std::string name, int64_t samples, int64_t sample_rate, int64_t frame,
                             std::vector<double> fills);

  bool is_image() const { return kind == ModalityKind::kImage; }
  bool is_tokens() const { return kind == ModalityKind::kTokens; }
  bool is_tabular() const { return kind == ModalityKind::kTabular; }
  bool is_audio() const { return kind == ModalityKind::kAudio; }
  bool is_signal() const { return kind == ModalityKind::kSignal; }
  // Whether the points are frames of a time series (audio, signal).
  bool has_frames() const { return is_audio() || is_signal(); }
  // Whether points are positions (token words, tabular features, frames) rather than pixel regions.
  bool has_positions() const { return !is_image(); }
  // Whether the points are the same P positions 0..P-1 in every sample, each
  // decoupled to a fill value (tabular features, frames; not words).
  bool has_fixed_points() const { return is_tabular() || has_frames(); }
  int64_t channels() const { return shape.at(0); }  // image, signal
  int64_t height() const { return shape.at(1); }
  int64_t width() const { return shape.at(2); }
  int64_t max_len() const { return shape.at(0); }
  int64_t num_features() const { return shape.at(0); }
  int64_t num_samples() const { return shape.back(); }                        // audio, signal: T
  int64_t num_frames() const { return (num_samples() + frame - 1) / frame; }  // audio, signal: points
  // Points of an image (H*W), the token capacity (max_len; the points of one
  // token sample are its words), the features (D) or the frames.
  int64_t max_points() const;
};

// A spec as JSON (checkpoint.json, an exported task's model.json) and back.
// The tokenizer is written as its description and not read back: whoever reads
// a spec attaches the tokenizer it names. `where` prefixes error messages
// (e.g. "manifest.json: inputs[1]"); errors are InputError naming the field.
nlohmann::json modality_to_json(const ModalitySpec& spec);
ModalitySpec modality_from_json(const nlohmann::json& j, const std::string& where);

}  // namespace muroan
