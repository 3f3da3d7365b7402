// Deterministic randomness for the generators (see generators.h).
#include <cmath>
#include <limits>

#include "data/generators.h"
#include "muroan/error.h"
#include "muroan/seed.h"

namespace muroan {
namespace data {
namespace {

// SplitMix64: one step from z, spreading a seed over all 64 bits.
uint64_t mix(uint64_t z) { return splitmix64_finalise(z + 0x9e3779b97f4a7c15ULL); }

}  // namespace

uint64_t fnv1a(const std::string& text) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

uint64_t stream_seed(uint64_t seed, const std::string& stream) { return mix(mix(seed) ^ fnv1a(stream)); }

int64_t Rng::uniform(int64_t n) {
  if (n <= 0) throw Error("Rng::uniform needs a positive bound");
  // Rejection sampling: the largest multiple of n below 2^64 keeps it unbiased.
  const uint64_t bound = static_cast<uint64_t>(n);
  const uint64_t limit = std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % bound;
  uint64_t r;
  do r = engine_();
  while (r >= limit);
  return static_cast<int64_t>(r % bound);
}

double Rng::normal() {
  const double u = 1.0 - uniform01();  // (0, 1]: log(u) is finite
  const double v = uniform01();
  return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * 3.14159265358979323846 * v);
}

int64_t Rng::weighted(const std::vector<int64_t>& weights) {
  int64_t total = 0;
  for (int64_t w : weights) total += w;
  int64_t r = uniform(total);
  for (size_t i = 0; i < weights.size(); ++i) {
    if (r < weights[i]) return static_cast<int64_t>(i);
    r -= weights[i];
  }
  return static_cast<int64_t>(weights.size()) - 1;  // not reached
}

}  // namespace data
}  // namespace muroan
