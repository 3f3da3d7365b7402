// A minimal PNG encoder (8-bit grey or RGB, filter 0, one IDAT) over zlib, and
// base64. Written here rather than through stb so that the bytes depend on
// nothing but the pixels (stb keeps its filter choice in a global).
#include "png_data_uri.h"

#include <torch/torch.h>
#include <zlib.h>

#include <array>
#include <cstdint>

#include "muroan/error.h"

namespace muroan::report {
namespace {

void put_u32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>((v >> 24) & 0xff));
  out.push_back(static_cast<char>((v >> 16) & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}

void put_chunk(std::string& out, const char* type, const std::string& data) {
  put_u32(out, static_cast<uint32_t>(data.size()));
  const std::string body = std::string(type, 4) + data;
  out += body;
  const auto* bytes = reinterpret_cast<const Bytef*>(body.data());
  put_u32(out, static_cast<uint32_t>(crc32(crc32(0L, Z_NULL, 0), bytes, static_cast<uInt>(body.size()))));
}

std::string encode_png(const torch::Tensor& image) {
  if (!image.defined() || image.dim() != 3 || (image.size(0) != 1 && image.size(0) != 3) || image.size(1) < 1 ||
      image.size(2) < 1)
    throw Error("png_data_uri: expected an image [C,H,W] with C = 1 or 3");
  torch::Tensor bytes = image.detach().to(torch::kCPU);
  if (bytes.scalar_type() != torch::kByte)
    bytes = bytes.to(torch::kFloat).clamp(0.0, 1.0).mul(255.0).round().to(torch::kByte);
  bytes = bytes.permute({1, 2, 0}).contiguous();  // [H,W,C]: PNG rows are interleaved
  const auto channels = static_cast<int>(image.size(0));
  const auto height = static_cast<uint32_t>(image.size(1));
  const auto width = static_cast<uint32_t>(image.size(2));
  const size_t row = static_cast<size_t>(width) * static_cast<size_t>(channels);

  std::string raw;  // each row: filter byte 0, then the pixels
  raw.reserve((row + 1) * height);
  const auto* px = reinterpret_cast<const char*>(bytes.data_ptr<uint8_t>());
  for (uint32_t y = 0; y < height; ++y) {
    raw.push_back('\0');
    raw.append(px + y * row, row);
  }
  uLongf packed_size = compressBound(static_cast<uLong>(raw.size()));
  std::string packed(packed_size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(packed.data()), &packed_size, reinterpret_cast<const Bytef*>(raw.data()),
                static_cast<uLong>(raw.size()), Z_BEST_COMPRESSION) != Z_OK)
    throw Error("png_data_uri: zlib compression failed");
  packed.resize(packed_size);

  std::string ihdr;
  put_u32(ihdr, width);
  put_u32(ihdr, height);
  ihdr.push_back(8);                                         // bits per channel
  ihdr.push_back(static_cast<char>(channels == 1 ? 0 : 2));  // grey or RGB
  ihdr.append(3, '\0');                                      // deflate, filter set 0, no interlace
  std::string png("\x89PNG\r\n\x1a\n", 8);
  put_chunk(png, "IHDR", ihdr);
  put_chunk(png, "IDAT", packed);
  put_chunk(png, "IEND", "");
  return png;
}

}  // namespace

std::string base64_encode(const std::string& bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], kAlphabet[v & 63]};
  }
  if (i + 1 == bytes.size()) {
    const uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == bytes.size()) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8);
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
  }
  return out;
}

std::string png_data_uri(const torch::Tensor& image) {
  return "data:image/png;base64," + base64_encode(encode_png(image));
}

}  // namespace muroan::report
