// Seeds of independent random streams, in one place: a sample's attack or
// certification stream from the run's seed and the sample's index, a
// generator's stream from the task seed.
#pragma once

#include <cstdint>

namespace muroan {

// SplitMix64's finaliser (Steele, Lea, Flood 2014): spreads the bits of z, so
// that seeds differing in a few bits give unrelated streams.
uint64_t splitmix64_finalise(uint64_t z);

// The seed of stream `stream` (e.g. a sample's index) of a run seeded `seed`.
uint64_t mix_seed(uint64_t seed, uint64_t stream);

}  // namespace muroan
