// Fashion-MNIST from its gzipped idx files (Debian package dataset-fashion-mnist).
#include <zlib.h>

#include <cstdlib>
#include <map>
#include <mutex>

#include "data/generators.h"
#include "muroan/error.h"

namespace muroan {
namespace data {
namespace {

constexpr const char* kDefaultDir = "/usr/share/datasets/fashion-mnist";
constexpr uint32_t kImagesMagic = 0x00000803;  // unsigned byte, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;  // unsigned byte, 1 dimension

// The whole decompressed file (zlib also reads an uncompressed file as is).
std::vector<uint8_t> read_gz(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f)
    throw InputError(path,
                     "cannot open (install the Debian package dataset-fashion-mnist "
                     "or set MUROAN_FASHION_MNIST_DIR)");
  std::vector<uint8_t> out;
  std::vector<uint8_t> chunk(1 << 20);
  for (;;) {
    const int n = gzread(f, chunk.data(), static_cast<unsigned>(chunk.size()));
    if (n < 0) {
      int code = 0;
      std::string msg = gzerror(f, &code);
      gzclose(f);
      throw InputError(path, "corrupt gzip data (" + msg + ")");
    }
    if (n == 0) break;
    out.insert(out.end(), chunk.begin(), chunk.begin() + n);
  }
  gzclose(f);
  return out;
}

uint32_t big_endian(const std::vector<uint8_t>& b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) | uint32_t{b[at + 3]};
}

// Checks an idx header: magic, then `dims` big-endian sizes; returns the sizes.
std::vector<int64_t> idx_header(const std::vector<uint8_t>& b, const std::string& path, uint32_t magic, size_t dims) {
  const size_t header = 4 * (dims + 1);
  if (b.size() < header) throw InputError(path, "truncated idx header");
  if (big_endian(b, 0) != magic)
    throw InputError(path,
                     "not an idx file of " + std::to_string(dims) + "-dimensional unsigned bytes (bad magic number)");
  std::vector<int64_t> sizes;
  int64_t total = 1;
  for (size_t d = 0; d < dims; ++d) {
    sizes.push_back(big_endian(b, 4 * (d + 1)));
    total *= sizes.back();
  }
  if (b.size() != header + static_cast<size_t>(total))
    throw InputError(path, "holds " + std::to_string(b.size() - header) + " data bytes, its header announces " +
                               std::to_string(total));
  return sizes;
}

std::shared_ptr<const FashionImages> read_pair(const std::string& dir, const std::string& prefix) {
  const std::string images_path = dir + "/" + prefix + "-images-idx3-ubyte.gz";
  const std::string labels_path = dir + "/" + prefix + "-labels-idx1-ubyte.gz";
  auto images = read_gz(images_path);
  auto labels = read_gz(labels_path);
  const auto image_sizes = idx_header(images, images_path, kImagesMagic, 3);
  const auto label_sizes = idx_header(labels, labels_path, kLabelsMagic, 1);
  if (image_sizes[1] != kFashionSide || image_sizes[2] != kFashionSide)
    throw InputError(images_path, "images are " + std::to_string(image_sizes[1]) + "x" +
                                      std::to_string(image_sizes[2]) + ", expected 28x28");
  if (image_sizes[0] == 0) throw InputError(images_path, "holds no images");
  if (label_sizes[0] != image_sizes[0])
    throw InputError(labels_path, "holds " + std::to_string(label_sizes[0]) + " labels for " +
                                      std::to_string(image_sizes[0]) + " images");
  auto out = std::make_shared<FashionImages>();
  out->count = image_sizes[0];
  out->pixels.assign(images.begin() + 16, images.end());
  out->labels.assign(labels.begin() + 8, labels.end());
  for (size_t i = 0; i < out->labels.size(); ++i) {
    if (out->labels[i] >= kFashionClasses)
      throw InputError(labels_path, "label " + std::to_string(out->labels[i]) + " of item " + std::to_string(i) +
                                        " is not a class 0-9");
  }
  return out;
}

}  // namespace

std::string fashion_mnist_dir() {
  const char* env = std::getenv("MUROAN_FASHION_MNIST_DIR");
  return env && *env ? env : kDefaultDir;
}

std::shared_ptr<const FashionImages> load_fashion_mnist(const std::string& dir, const std::string& prefix) {
  // Decompressing the training file takes a noticeable fraction of a second, and a
  // process (the test suite, a training run) may load several splits or tasks.
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const FashionImages>> loaded;
  const std::string key = dir + "/" + prefix;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = loaded.find(key);
  if (it != loaded.end()) return it->second;
  auto data = read_pair(dir, prefix);  // throws: nothing is remembered
  loaded.emplace(key, data);
  return data;
}

}  // namespace data
}  // namespace muroan
