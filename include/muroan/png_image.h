// 8-bit PNG (and, for reading, JPEG) images, grey or RGB, as tensors [C,H,W]
// (C = 1 or 3). Reading and writing go through stb (stb_image, stb_image_write).
#pragma once

#include <torch/types.h>

#include <string>

#include "muroan/modality.h"

namespace muroan {

// Limits checked before anything is decoded.
constexpr uint64_t kMaxImageFileBytes = 64ull << 20;  // 64 MiB
constexpr int64_t kMaxImagePixels = 16ll << 20;       // 16 Mpixel (4096 x 4096)

// The PNG at `path` as uint8 [C,H,W]. Throws InputError(path, ...) when the
// file cannot be read, is not a regular file of at most kMaxImageFileBytes, is
// not a PNG, declares more than kMaxImagePixels or (when given, > 0) another
// height and width than `expect_height` x `expect_width` (checked from the
// header, before decoding), is corrupt (a chunk's CRC or the image data's
// zlib checksum fails), is not 8 bits per channel, or is neither grey nor RGB
// (grey+alpha and RGBA are refused, not flattened).
torch::Tensor read_png(const std::string& path, int64_t expect_height = 0, int64_t expect_width = 0);

// The same for a PNG or a JPEG (told apart by their signatures): a JPEG gets
// the same limits and header checks (it carries no checksum to verify).
torch::Tensor read_image(const std::string& path, int64_t expect_height = 0, int64_t expect_width = 0);

// `image` uint8 [C,H,W] with `channels` channels: RGB -> grey by ITU-R BT.601
// luma (0.299 R + 0.587 G + 0.114 B, rounded), grey -> RGB by repetition.
// Throws Error for other counts.
torch::Tensor convert_channels(const torch::Tensor& image, int64_t channels);

// `image` float [C,H,W] resized to height x width: kArea averages the source
// pixels each target pixel covers (for shrinking), kBilinear interpolates
// (align_corners false), kNearest picks. Throws Error for kNone or a bad shape.
torch::Tensor resize_image(const torch::Tensor& image, int64_t height, int64_t width, ResizeMode mode);

// Writes `image` [C,H,W] (C = 1 or 3; uint8, or floating in [0,1], clamped and
// rounded to 8 bits) as a PNG, unfiltered so that simple readers can decode it.
// Throws InputError(path, ...) when it cannot be written, Error for a bad shape.
void write_png(const std::string& path, const torch::Tensor& image);

}  // namespace muroan
