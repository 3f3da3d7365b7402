// Private: images as PNG data URIs, so that report.html needs no other file.
#pragma once

#include <torch/types.h>

#include <string>

namespace muroan::report {

// "data:image/png;base64,..." of `image` [C,H,W] (C = 1 or 3; uint8, or floating
// in [0,1], clamped and rounded to 8 bits). Deterministic: zlib at a fixed level,
// no filters. Throws Error for a bad shape.
std::string png_data_uri(const torch::Tensor& image);

// Standard base64 (RFC 4648) with padding.
std::string base64_encode(const std::string& bytes);

}  // namespace muroan::report
