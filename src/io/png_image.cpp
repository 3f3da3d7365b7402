#include "muroan/png_image.h"

#include <stb_image.h>
#include <stb_image_write.h>
#include <torch/nn/functional/upsampling.h>
#include <zlib.h>

#include <array>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <vector>

#include "muroan/error.h"
#include "muroan/files.h"

namespace muroan {
namespace {

constexpr std::array<unsigned char, 8> kPngSignature = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

// stb keeps its failure reason and the writer's filter choice in globals.
std::mutex& stb_mutex() {
  static std::mutex m;
  return m;
}

std::string channels_name(int channels) {
  switch (channels) {
    case 1:
      return "grey";
    case 2:
      return "grey+alpha";
    case 3:
      return "RGB";
    case 4:
      return "RGBA";
  }
  return std::to_string(channels) + " channels";
}

uint32_t be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// Every chunk's CRC, and the image data's zlib stream inflated to its end (its
// Adler-32 checked), as libpng and PIL check them: stb checks neither, and
// would decode altered data into wrong pixels.
void verify_png_integrity(const std::string& path, const std::vector<unsigned char>& b) {
  size_t pos = kPngSignature.size();
  std::vector<unsigned char> idat;
  bool end = false;
  while (!end) {
    if (pos + 12 > b.size()) throw InputError(path, "corrupt PNG: cut short (no IEND chunk)");
    const uint32_t len = be32(&b[pos]);
    if (len > b.size() - pos - 12)
      throw InputError(path, "corrupt PNG: the chunk at byte " + std::to_string(pos) + " runs past the end");
    const std::string type(reinterpret_cast<const char*>(&b[pos + 4]), 4);
    const uLong crc = crc32(0L, &b[pos + 4], static_cast<uInt>(len + 4));
    if (crc != be32(&b[pos + 8 + len]))
      throw InputError(path,
                       "corrupt PNG: chunk '" + type + "' at byte " + std::to_string(pos) + " fails its CRC check");
    if (type == "IDAT") idat.insert(idat.end(), &b[pos + 8], &b[pos + 8 + len]);
    end = type == "IEND";
    pos += 12 + len;
  }
  z_stream z{};
  if (inflateInit(&z) != Z_OK) throw InputError(path, "cannot check the PNG's image data (zlib)");
  z.next_in = idat.data();
  z.avail_in = static_cast<uInt>(idat.size());
  std::vector<unsigned char> scratch(1 << 16);
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = scratch.data();
    z.avail_out = static_cast<uInt>(scratch.size());
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc == Z_BUF_ERROR && z.avail_in == 0) break;  // the stream ends early
  }
  const std::string msg = z.msg ? z.msg : "";
  inflateEnd(&z);
  if (rc != Z_STREAM_END)
    throw InputError(
        path, "corrupt PNG: the image data does not inflate" + (msg.empty() ? std::string(" to its end") : ": " + msg));
}

}  // namespace

namespace {

constexpr std::array<unsigned char, 3> kJpegSignature = {0xFF, 0xD8, 0xFF};

bool starts_with(const std::string& bytes, const unsigned char* sig, size_t n) {
  return bytes.size() >= n && std::memcmp(bytes.data(), sig, n) == 0;
}

// Decodes a PNG (`png`) or JPEG file's bytes: size limits and the expected
// size from the header first, the PNG's checksums, then the pixels.
torch::Tensor decode_image(const std::string& path, const std::string& content, bool png, int64_t expect_height,
                           int64_t expect_width) {
  const char* kind = png ? "PNG" : "JPEG";
  if (content.size() > static_cast<size_t>(INT32_MAX)) throw InputError(path, std::string("too large for a ") + kind);
  const std::vector<unsigned char> bytes(content.begin(), content.end());
  const int len = static_cast<int>(bytes.size());
  std::lock_guard<std::mutex> lock(stb_mutex());
  if (png && stbi_is_16_bit_from_memory(bytes.data(), len))
    throw InputError(path, "a 16-bit PNG; expected 8 bits per channel");
  {  // the header's size, before any pixel is decoded
    int w = 0, h = 0, c = 0;
    if (!stbi_info_from_memory(bytes.data(), len, &w, &h, &c))
      throw InputError(path, std::string("cannot decode ") + kind + " header: " + stbi_failure_reason());
    if (static_cast<int64_t>(w) * h > kMaxImagePixels)
      throw InputError(path, "declares " + std::to_string(w) + " x " + std::to_string(h) + " pixels, more than " +
                                 std::to_string(kMaxImagePixels) + " (refused before decoding)");
    if (expect_height > 0 && expect_width > 0 && (h != expect_height || w != expect_width))
      throw InputError(path, "is " + std::to_string(w) + " x " + std::to_string(h) + " pixels (width x height), " +
                                 "expected " + std::to_string(expect_width) + " x " + std::to_string(expect_height));
  }
  if (png) verify_png_integrity(path, bytes);
  int width = 0, height = 0, channels = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
      stbi_load_from_memory(bytes.data(), len, &width, &height, &channels, 0), stbi_image_free);
  if (!pixels) throw InputError(path, std::string("cannot decode ") + kind + ": " + stbi_failure_reason());
  if (channels != 1 && channels != 3)
    throw InputError(path, "a " + channels_name(channels) + " " + kind + "; expected 8-bit grey or RGB");
  // stb gives rows of interleaved channels [H,W,C]; copy out before stb frees them
  // (for one channel the permuted view is already contiguous, so no implicit copy).
  auto hwc = torch::from_blob(pixels.get(), {height, width, channels}, torch::kUInt8);
  return hwc.permute({2, 0, 1}).clone(torch::MemoryFormat::Contiguous);
}

}  // namespace

torch::Tensor read_png(const std::string& path, int64_t expect_height, int64_t expect_width) {
  const std::string content = read_file_limited(path, kMaxImageFileBytes);
  if (!starts_with(content, kPngSignature.data(), kPngSignature.size())) throw InputError(path, "not a PNG file");
  return decode_image(path, content, /*png=*/true, expect_height, expect_width);
}

torch::Tensor read_image(const std::string& path, int64_t expect_height, int64_t expect_width) {
  const std::string content = read_file_limited(path, kMaxImageFileBytes);
  if (starts_with(content, kPngSignature.data(), kPngSignature.size()))
    return decode_image(path, content, /*png=*/true, expect_height, expect_width);
  if (starts_with(content, kJpegSignature.data(), kJpegSignature.size()))
    return decode_image(path, content, /*png=*/false, expect_height, expect_width);
  throw InputError(path, "not a PNG or JPEG file");
}

torch::Tensor convert_channels(const torch::Tensor& image, int64_t channels) {
  if (image.size(0) == channels) return image;
  if (image.size(0) == 3 && channels == 1) {  // ITU-R BT.601 luma, rounded
    const auto rgb = image.to(torch::kFloat);
    const auto y = rgb[0] * 0.299 + rgb[1] * 0.587 + rgb[2] * 0.114;
    return y.round().clamp(0, 255).to(torch::kUInt8).unsqueeze(0);
  }
  if (image.size(0) == 1 && channels == 3) return image.repeat({3, 1, 1});
  throw Error("convert_channels: from " + std::to_string(image.size(0)) + " to " + std::to_string(channels) +
              " channels");
}

torch::Tensor resize_image(const torch::Tensor& image, int64_t height, int64_t width, ResizeMode mode) {
  namespace F = torch::nn::functional;
  if (image.dim() != 3 || height <= 0 || width <= 0)
    throw Error("resize_image: expected an image [C,H,W] and a positive size");
  auto options = F::InterpolateFuncOptions().size(std::vector<int64_t>{height, width});
  switch (mode) {
    case ResizeMode::kArea:
      options.mode(torch::kArea);
      break;
    case ResizeMode::kBilinear:
      options.mode(torch::kBilinear).align_corners(false);
      break;
    case ResizeMode::kNearest:
      options.mode(torch::kNearest);
      break;
    case ResizeMode::kNone:
      throw Error("resize_image: no resize mode given");
  }
  // Every mode is a convex combination of source pixels: no value leaves their range.
  return F::interpolate(image.to(torch::kFloat).unsqueeze(0), options).squeeze(0);
}

void write_png(const std::string& path, const torch::Tensor& image) {
  if (image.dim() != 3 || (image.size(0) != 1 && image.size(0) != 3))
    throw Error("write_png: expected an image [C,H,W] with C = 1 or 3, got shape " + c10::str(image.sizes()));
  torch::Tensor bytes = image.detach().to(torch::kCPU);
  if (bytes.scalar_type() != torch::kUInt8)
    bytes = bytes.to(torch::kFloat).clamp(0.0, 1.0).mul(255.0).round().to(torch::kUInt8);
  bytes = bytes.permute({1, 2, 0}).contiguous();  // [H,W,C] as PNG rows
  const int channels = static_cast<int>(bytes.size(2));
  const int height = static_cast<int>(bytes.size(0));
  const int width = static_cast<int>(bytes.size(1));

  std::lock_guard<std::mutex> lock(stb_mutex());
  stbi_write_force_png_filter = 0;  // no filter: any reader decodes rows directly
  const int ok = stbi_write_png(path.c_str(), width, height, channels, bytes.data_ptr<uint8_t>(), width * channels);
  stbi_write_force_png_filter = -1;
  if (!ok) throw InputError(path, "cannot write PNG");
}

}  // namespace muroan
