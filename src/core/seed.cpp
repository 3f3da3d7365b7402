#include "muroan/seed.h"

namespace muroan {

namespace {
constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ULL;  // 2^64 / golden ratio, SplitMix64's increment
}

uint64_t splitmix64_finalise(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t mix_seed(uint64_t seed, uint64_t stream) { return splitmix64_finalise(seed + kGolden * (stream + 1)); }

}  // namespace muroan
