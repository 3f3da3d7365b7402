// 8-bit PNG images, grey or RGB, as tensors [C,H,W] (C = 1 or 3). Reading and
// writing go through stb (stb_image, stb_image_write).
#pragma once

#include <torch/types.h>

#include <string>

namespace muroan {

// The PNG at `path` as uint8 [C,H,W]. Throws InputError(path, ...) when the
// file cannot be read, is not a PNG, is not 8 bits per channel, or is neither
// grey nor RGB (grey+alpha and RGBA are refused, not flattened).
torch::Tensor read_png(const std::string& path);

// Writes `image` [C,H,W] (C = 1 or 3; uint8, or floating in [0,1], clamped and
// rounded to 8 bits) as a PNG, unfiltered so that simple readers can decode it.
// Throws InputError(path, ...) when it cannot be written, Error for a bad shape.
void write_png(const std::string& path, const torch::Tensor& image);

}  // namespace muroan
