#include "muroan/png_image.h"

#include <stb_image.h>
#include <stb_image_write.h>

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
    case 1: return "grey";
    case 2: return "grey+alpha";
    case 3: return "RGB";
    case 4: return "RGBA";
  }
  return std::to_string(channels) + " channels";
}

}  // namespace

torch::Tensor read_png(const std::string& path, int64_t expect_height, int64_t expect_width) {
  const std::string content = read_file_limited(path, kMaxImageFileBytes);
  const std::vector<unsigned char> bytes(content.begin(), content.end());
  if (bytes.size() < kPngSignature.size() ||
      std::memcmp(bytes.data(), kPngSignature.data(), kPngSignature.size()) != 0)
    throw InputError(path, "not a PNG file");
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) throw InputError(path, "too large for a PNG");
  const int len = static_cast<int>(bytes.size());

  std::lock_guard<std::mutex> lock(stb_mutex());
  if (stbi_is_16_bit_from_memory(bytes.data(), len))
    throw InputError(path, "a 16-bit PNG; expected 8 bits per channel");
  {  // the header's size, before any pixel is decoded
    int w = 0, h = 0, c = 0;
    if (!stbi_info_from_memory(bytes.data(), len, &w, &h, &c))
      throw InputError(path, std::string("cannot decode PNG header: ") + stbi_failure_reason());
    if (static_cast<int64_t>(w) * h > kMaxImagePixels)
      throw InputError(path, "declares " + std::to_string(w) + " x " + std::to_string(h) + " pixels, more than " +
                                 std::to_string(kMaxImagePixels) + " (refused before decoding)");
    if (expect_height > 0 && expect_width > 0 && (h != expect_height || w != expect_width))
      throw InputError(path, "is " + std::to_string(w) + " x " + std::to_string(h) + " pixels (width x height), " +
                                 "expected " + std::to_string(expect_width) + " x " + std::to_string(expect_height));
  }
  int width = 0, height = 0, channels = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
      stbi_load_from_memory(bytes.data(), len, &width, &height, &channels, 0), stbi_image_free);
  if (!pixels) throw InputError(path, std::string("cannot decode PNG: ") + stbi_failure_reason());
  if (channels != 1 && channels != 3)
    throw InputError(path, "a " + channels_name(channels) + " PNG; expected 8-bit grey or RGB");
  // stb gives rows of interleaved channels [H,W,C]; copy out before stb frees them
  // (for one channel the permuted view is already contiguous, so no implicit copy).
  auto hwc = torch::from_blob(pixels.get(), {height, width, channels}, torch::kUInt8);
  return hwc.permute({2, 0, 1}).clone(torch::MemoryFormat::Contiguous);
}

void write_png(const std::string& path, const torch::Tensor& image) {
  if (image.dim() != 3 || (image.size(0) != 1 && image.size(0) != 3))
    throw Error("write_png: expected an image [C,H,W] with C = 1 or 3, got shape " +
                c10::str(image.sizes()));
  torch::Tensor bytes = image.detach().to(torch::kCPU);
  if (bytes.scalar_type() != torch::kUInt8)
    bytes = bytes.to(torch::kFloat).clamp(0.0, 1.0).mul(255.0).round().to(torch::kUInt8);
  bytes = bytes.permute({1, 2, 0}).contiguous();  // [H,W,C] as PNG rows
  const int channels = static_cast<int>(bytes.size(2));
  const int height = static_cast<int>(bytes.size(0));
  const int width = static_cast<int>(bytes.size(1));

  std::lock_guard<std::mutex> lock(stb_mutex());
  stbi_write_force_png_filter = 0;  // no filter: any reader decodes rows directly
  const int ok = stbi_write_png(path.c_str(), width, height, channels, bytes.data_ptr<uint8_t>(),
                                width * channels);
  stbi_write_force_png_filter = -1;
  if (!ok) throw InputError(path, "cannot write PNG");
}

}  // namespace muroan
