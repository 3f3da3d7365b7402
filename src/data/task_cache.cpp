// On-disk cache of generated tasks: one directory per (task, seed, sizes,
// format version) holding meta.json (classes, vocabulary, ids, texts, and the
// size and CRC-32 of each binary file) and one raw binary file per split with
// the scene images as uint8 (a quarter of float32) and the tokens and labels.
#include <unistd.h>
#include <zlib.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "data/generators.h"
#include "muroan/error.h"

namespace muroan {
namespace data {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr char kMagic[8] = {'M', 'U', 'R', 'O', 'A', 'N', 'T', 'D'};
constexpr size_t kHeaderBytes = sizeof kMagic + 6 * sizeof(int64_t);

uint32_t crc_of(const std::vector<char>& bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  size_t at = 0;
  while (at < bytes.size()) {  // crc32 takes a uInt length
    const size_t n = std::min<size_t>(bytes.size() - at, 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data() + at), static_cast<uInt>(n));
    at += n;
  }
  return static_cast<uint32_t>(crc);
}

void append(std::vector<char>& out, const void* p, size_t n) {
  const char* c = static_cast<const char*>(p);
  out.insert(out.end(), c, c + n);
}

std::vector<char> serialize(const RawSplit& s) {
  const auto scenes = s.scenes.contiguous();
  const auto index = s.scene_index.contiguous();
  const auto tokens = s.tokens.contiguous();
  const auto labels = s.labels.contiguous();
  const int64_t dims[6] = {scenes.size(0), scenes.size(1), scenes.size(2),
                           scenes.size(3), labels.size(0), tokens.size(1)};
  std::vector<char> out;
  out.reserve(kHeaderBytes + scenes.numel() + sizeof(int64_t) * (index.numel() + tokens.numel() + labels.numel()));
  append(out, kMagic, sizeof kMagic);
  append(out, dims, sizeof dims);
  append(out, scenes.data_ptr<uint8_t>(), static_cast<size_t>(scenes.numel()));
  append(out, index.data_ptr<int64_t>(), sizeof(int64_t) * index.numel());
  append(out, tokens.data_ptr<int64_t>(), sizeof(int64_t) * tokens.numel());
  append(out, labels.data_ptr<int64_t>(), sizeof(int64_t) * labels.numel());
  return out;
}

// Copies `count` elements of `type` from `bytes` at `*at` into a new tensor.
torch::Tensor take(const std::vector<char>& bytes, size_t* at, torch::IntArrayRef shape, torch::ScalarType type) {
  auto t = torch::empty(shape, type);
  const size_t n = static_cast<size_t>(t.numel()) * t.element_size();
  if (*at + n > bytes.size()) throw Error("truncated");
  std::memcpy(t.data_ptr(), bytes.data() + *at, n);
  *at += n;
  return t;
}

// Throws on anything that does not match what the task promises.
RawSplit deserialize(const std::vector<char>& bytes, int64_t expected_rows, int64_t classes, int64_t vocab_size,
                     int64_t max_len) {
  if (bytes.size() < kHeaderBytes || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) throw Error("bad header");
  int64_t dims[6];
  std::memcpy(dims, bytes.data() + sizeof kMagic, sizeof dims);
  for (int64_t d : dims)
    if (d < 0 || d > (int64_t{1} << 40)) throw Error("bad dimensions");
  const int64_t s = dims[0], n = dims[4], l = dims[5];
  if (n != expected_rows || l != max_len) throw Error("unexpected sizes");
  const size_t need = kHeaderBytes + static_cast<size_t>(s * dims[1] * dims[2] * dims[3]) +
                      sizeof(int64_t) * static_cast<size_t>(n + n * l + n);
  if (bytes.size() != need) throw Error("wrong length");
  size_t at = kHeaderBytes;
  RawSplit out;
  out.scenes = take(bytes, &at, {s, dims[1], dims[2], dims[3]}, torch::kUInt8);
  out.scene_index = take(bytes, &at, {n}, torch::kLong);
  out.tokens = take(bytes, &at, {n, l}, torch::kLong);
  out.labels = take(bytes, &at, {n}, torch::kLong);
  auto in_range = [](const torch::Tensor& t, int64_t hi) {
    return t.numel() == 0 || (t.min().item<int64_t>() >= 0 && t.max().item<int64_t>() < hi);
  };
  if (!in_range(out.scene_index, s) || !in_range(out.labels, classes) || !in_range(out.tokens, vocab_size))
    throw Error("values out of range");
  return out;
}

std::vector<char> read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("missing");
  in.seekg(0, std::ios::end);
  const auto size = static_cast<size_t>(in.tellg());
  in.seekg(0);
  std::vector<char> bytes(size);
  if (!in.read(bytes.data(), static_cast<std::streamsize>(size))) throw Error("unreadable");
  return bytes;
}

void write_all(const fs::path& path, const void* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) throw Error("cannot write " + path.string());
}

json sizes_json(const SplitSizes& sizes) { return {sizes.train, sizes.val, sizes.test}; }

}  // namespace

std::string cache_path(const std::string& cache_dir, const std::string& task, uint64_t seed, const SplitSizes& sizes) {
  const std::string name = task + "-s" + std::to_string(seed) + "-" + std::to_string(sizes.train) + "-" +
                           std::to_string(sizes.val) + "-" + std::to_string(sizes.test) + "-v" +
                           std::to_string(kCacheFormatVersion);
  return (fs::path(cache_dir) / name).string();
}

bool read_cached_task(const std::string& path, const std::string& task, uint64_t seed, const SplitSizes& sizes,
                      RawTask* out) {
  const fs::path dir(path);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return false;
  try {
    const auto meta_bytes = read_all(dir / "meta.json");
    const json meta = json::parse(meta_bytes.begin(), meta_bytes.end());
    if (meta.at("format").get<int>() != kCacheFormatVersion || meta.at("task") != task ||
        meta.at("seed").get<uint64_t>() != seed || meta.at("sizes") != sizes_json(sizes))
      return false;
    RawTask result;
    result.task = task;
    result.classes = meta.at("classes").get<std::vector<std::string>>();
    result.vocab = Vocabulary::from_json(meta.at("vocab"));
    result.max_len = meta.at("max_len").get<int64_t>();
    if (result.classes.empty() || result.max_len <= 0) return false;
    const std::array<int64_t, 3> rows = {sizes.train, sizes.val, sizes.test};
    for (size_t s = 0; s < 3; ++s) {
      const json& entry = meta.at("splits").at(kSplitNames[s]);
      const auto bytes = read_all(dir / (std::string(kSplitNames[s]) + ".bin"));
      if (bytes.size() != entry.at("bytes").get<size_t>() || crc_of(bytes) != entry.at("crc32").get<uint32_t>())
        return false;
      RawSplit split =
          deserialize(bytes, rows[s], static_cast<int64_t>(result.classes.size()), result.vocab.size(), result.max_len);
      split.ids = entry.at("ids").get<std::vector<std::string>>();
      split.texts = entry.at("texts").get<std::vector<std::string>>();
      if (static_cast<int64_t>(split.ids.size()) != rows[s] || static_cast<int64_t>(split.texts.size()) != rows[s])
        return false;
      result.splits[s] = std::move(split);
    }
    *out = std::move(result);
    return true;
  } catch (const std::exception&) {  // parse errors, missing keys, bad files
    return false;
  }
}

bool write_cached_task(const std::string& path, uint64_t seed, const SplitSizes& sizes, const RawTask& task) {
  static std::atomic<int> counter{0};
  const fs::path final_dir(path);
  const fs::path tmp = final_dir.string() + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  std::error_code ec;
  try {
    fs::create_directories(tmp);
    json meta = {{"format", kCacheFormatVersion}, {"task", task.task},       {"seed", seed},
                 {"sizes", sizes_json(sizes)},    {"classes", task.classes}, {"vocab", task.vocab.to_json()},
                 {"max_len", task.max_len}};
    for (size_t s = 0; s < 3; ++s) {
      const auto bytes = serialize(task.splits[s]);
      write_all(tmp / (std::string(kSplitNames[s]) + ".bin"), bytes.data(), bytes.size());
      meta["splits"][kSplitNames[s]] = {{"bytes", bytes.size()},
                                        {"crc32", crc_of(bytes)},
                                        {"ids", task.splits[s].ids},
                                        {"texts", task.splits[s].texts}};
    }
    const std::string text = meta.dump();
    write_all(tmp / "meta.json", text.data(), text.size());
    // Only an entry that failed to read is ever replaced: it is corrupt.
    if (fs::exists(final_dir, ec)) fs::remove_all(final_dir);
    fs::rename(tmp, final_dir);
    return true;
  } catch (const std::exception&) {
    // Unwritable cache directory, full disk, or another process that renamed
    // its copy into place first: the data in memory is still good.
    fs::remove_all(tmp, ec);
    return false;
  }
}

}  // namespace data
}  // namespace muroan
