// Audio files of audio inputs (WAV, FLAC, ... through libsndfile), as mono
// float samples.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace muroan {

// Limits checked before anything is decoded.
constexpr uint64_t kMaxAudioFileBytes = 256ull << 20;  // 256 MiB

// The samples of the mono audio file at `path`, as floats in [-1, 1] (integer
// formats scaled by libsndfile). Throws InputError(path, ...) when the file
// cannot be read, is not a regular file of at most kMaxAudioFileBytes, is not
// an audio file libsndfile knows, has more than one channel, is recorded at
// another rate than `sample_rate`, or holds more than `max_samples` samples
// (all checked from the header, before decoding).
std::vector<float> read_audio_file(const std::string& path, int64_t sample_rate, int64_t max_samples);

// Writes `samples` as a mono 32-bit float WAV at `sample_rate` (read back
// exactly). Throws InputError(path, ...) when the file cannot be written.
void write_audio_file(const std::string& path, const std::vector<float>& samples, int64_t sample_rate);

}  // namespace muroan
