// Audio files of audio and signal inputs (WAV, FLAC, ... through libsndfile),
// as float samples: mono for audio, one channel per lead or sensor for a signal.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace muroan {

// Limits checked before anything is decoded.
constexpr uint64_t kMaxAudioFileBytes = 256ull << 20;  // 256 MiB

// The samples of the audio file at `path` with `channels` channels, as floats
// (integer formats scaled to [-1, 1] by libsndfile), channel after channel:
// channel c's samples are [c * n, (c + 1) * n) for the file's n samples per
// channel. Throws InputError(path, ...) when the file cannot be read, is not a
// regular file of at most kMaxAudioFileBytes, is not an audio file libsndfile
// knows, has another number of channels, is recorded at another rate than
// `sample_rate`, or holds more than `max_samples` samples per channel (all
// checked from the header, before decoding).
std::vector<float> read_audio_file(const std::string& path, int64_t sample_rate, int64_t max_samples,
                                   int64_t channels = 1);

// Writes `samples` (channel after channel, as read_audio_file returns them) as
// a 32-bit float WAV of `channels` channels at `sample_rate` (read back
// exactly). Throws InputError(path, ...) when the file cannot be written.
void write_audio_file(const std::string& path, const std::vector<float>& samples, int64_t sample_rate,
                      int64_t channels = 1);

}  // namespace muroan
