// Private to muroan_data and muroan_oracle: the built-in `spoken-fashion` task,
// three inputs where no single input and no pair decides the label:
//
//   image    a Fashion-MNIST item, 1x28x28
//   caption  the written half of a claim, without its class: "this is a",
//            "a photo of a", "this is not a", "this is no"
//   speech   the class, spoken: a class name recorded with Debian's espeak-ng
//            (two voices, two pitches; recorded once per machine and cached),
//            at a random speed (0.85-1.15x), loudness and offset, with noise;
//            1 s at 8 kHz, a point is a 20 ms frame
//
// The label is whether the whole claim is true: (the item's class == the
// spoken class) XOR (the caption is negated). Every image comes once with a
// true and once with a false claim of the same caption template (as in
// fashion-match), so the image alone, the caption alone, the speech alone and
// every pair leave the label at 50%.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "generators.h"  // relative: tests include this header by path
#include "muroan/task.h"

namespace muroan {
namespace data {

inline constexpr int64_t kSpokenRate = 8000;
inline constexpr int64_t kSpokenSamples = 8000;  // 1 s
inline constexpr int64_t kSpokenFrame = 160;     // 20 ms
inline constexpr int64_t kSpokenMaxLen = 6;

// One recording per (voice, class) from espeak-ng at 8 kHz, leading and
// trailing silence trimmed. Throws Error when espeak-ng is missing or fails.
// Cached under `cache_dir` (empty: not cached).
std::vector<float> spoken_class(int64_t voice, int class_id, const std::string& cache_dir);
inline constexpr int64_t kSpokenVoices = 4;  // en-us and en-gb, each at two pitches

TaskData generate_spoken_fashion(uint64_t seed, const SplitSizes& sizes, const std::string& cache_dir);

}  // namespace data
}  // namespace muroan
