// A main for the fuzz targets where libFuzzer is not linked (the g++ build):
// runs the target on every file of the given corpus directories and on
// `--mutations N` deterministic mutations of each (bit flips, truncations,
// byte insertions and repeats), so that CI exercises the targets on every
// build. Exit 0 when every input got an answer or a muroan::Error.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::vector<uint8_t> mutate(std::vector<uint8_t> in, std::mt19937_64& rng) {
  auto pick = [&](size_t n) { return n ? static_cast<size_t>(rng() % n) : 0; };
  switch (rng() % 5) {
    case 0:
      if (!in.empty()) in[pick(in.size())] ^= static_cast<uint8_t>(1u << (rng() % 8));
      break;
    case 1:
      in.resize(pick(in.size() + 1));
      break;
    case 2:
      in.insert(in.begin() + static_cast<std::ptrdiff_t>(pick(in.size() + 1)), static_cast<uint8_t>(rng()));
      break;
    case 3:
      if (!in.empty()) in[pick(in.size())] = static_cast<uint8_t>("{}[]\",:0-9eE\n \\"[rng() % 17]);
      break;
    default: {  // repeat a slice
      const size_t a = pick(in.size() + 1), b = a + pick(in.size() - a + 1);
      std::vector<uint8_t> slice(in.begin() + static_cast<std::ptrdiff_t>(a),
                                 in.begin() + static_cast<std::ptrdiff_t>(b));
      in.insert(in.begin() + static_cast<std::ptrdiff_t>(b), slice.begin(), slice.end());
    }
  }
  return in;
}

}  // namespace

int main(int argc, char** argv) {
  long mutations = 0;
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--mutations" && i + 1 < argc) {
      mutations = std::strtol(argv[++i], nullptr, 10);
      continue;
    }
    if (std::filesystem::is_directory(a)) {
      for (const auto& e : std::filesystem::directory_iterator(a))
        if (e.is_regular_file()) files.push_back(e.path());
    } else {
      files.emplace_back(a);
    }
  }
  std::sort(files.begin(), files.end());
  std::mt19937_64 rng(1);
  long runs = 0;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    const std::vector<uint8_t> seed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(seed.data(), seed.size());
    ++runs;
    std::vector<uint8_t> current = seed;
    for (long m = 0; m < mutations; ++m) {
      current = (m % 8 == 0) ? mutate(seed, rng) : mutate(current, rng);
      LLVMFuzzerTestOneInput(current.data(), current.size());
      ++runs;
    }
  }
  std::printf("%ld inputs from %zu seed files: every one answered or refused\n", runs, files.size());
  return files.empty() ? 1 : 0;
}
