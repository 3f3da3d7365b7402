#include "muroan/audio_file.h"

#include <sndfile.h>

#include <cmath>
#include <memory>

#include "muroan/error.h"
#include "muroan/files.h"

namespace muroan {
namespace {

struct SndfileCloser {
  void operator()(SNDFILE* f) const { sf_close(f); }
};
using SndfileHandle = std::unique_ptr<SNDFILE, SndfileCloser>;

}  // namespace

std::vector<float> read_audio_file(const std::string& path, int64_t sample_rate, int64_t max_samples,
                                   int64_t channels) {
  check_regular_file(path, kMaxAudioFileBytes);
  SF_INFO info{};
  SndfileHandle file(sf_open(path.c_str(), SFM_READ, &info));
  if (!file) throw InputError(path, std::string("not an audio file libsndfile can read: ") + sf_strerror(nullptr));
  if (info.channels != channels)
    throw InputError(path, std::to_string(info.channels) + " channels; " +
                               (channels == 1 ? std::string("an audio input takes mono files")
                                              : "the input has " + std::to_string(channels)));
  if (info.samplerate != sample_rate)
    throw InputError(path, "recorded at " + std::to_string(info.samplerate) + " Hz; the input expects " +
                               std::to_string(sample_rate) + " Hz (resample it first)");
  if (info.frames > max_samples)
    throw InputError(path,
                     std::to_string(info.frames) + " samples, more than the input's " + std::to_string(max_samples));
  const auto n = static_cast<size_t>(info.frames), c = static_cast<size_t>(channels);
  std::vector<float> interleaved(n * c);
  const sf_count_t got = sf_readf_float(file.get(), interleaved.data(), info.frames);
  if (got != info.frames)
    throw InputError(path, "read " + std::to_string(got) + " of the " + std::to_string(info.frames) +
                               " samples its header declares: " + sf_strerror(file.get()));
  std::vector<float> samples(n * c);
  for (size_t i = 0; i < n; ++i)
    for (size_t k = 0; k < c; ++k) {
      const float v = interleaved[i * c + k];
      if (!std::isfinite(v))
        throw InputError(path, "sample " + std::to_string(i) + (c > 1 ? " of channel " + std::to_string(k) : "") +
                                   " is not a finite number");
      samples[k * n + i] = v;
    }
  return samples;
}

void write_audio_file(const std::string& path, const std::vector<float>& samples, int64_t sample_rate,
                      int64_t channels) {
  if (channels <= 0 || samples.size() % static_cast<size_t>(channels) != 0)
    throw Error("write_audio_file: " + std::to_string(samples.size()) + " samples do not make " +
                std::to_string(channels) + " equal channels");
  SF_INFO info{};
  info.samplerate = static_cast<int>(sample_rate);
  info.channels = static_cast<int>(channels);
  info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
  SndfileHandle file(sf_open(path.c_str(), SFM_WRITE, &info));
  if (!file) throw InputError(path, std::string("cannot write: ") + sf_strerror(nullptr));
  const size_t c = static_cast<size_t>(channels), frames = samples.size() / c;
  std::vector<float> interleaved(samples.size());
  for (size_t i = 0; i < frames; ++i)
    for (size_t k = 0; k < c; ++k) interleaved[i * c + k] = samples[k * frames + i];
  const auto n = static_cast<sf_count_t>(frames);
  if (sf_writef_float(file.get(), interleaved.data(), n) != n)
    throw InputError(path, std::string("cannot write: ") + sf_strerror(file.get()));
  // sf_close writes the header's sizes: a full disk shows here.
  if (sf_close(file.release()) != 0) throw InputError(path, "cannot write: closing the file failed");
}

}  // namespace muroan
