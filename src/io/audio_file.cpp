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

std::vector<float> read_audio_file(const std::string& path, int64_t sample_rate, int64_t max_samples) {
  check_regular_file(path, kMaxAudioFileBytes);
  SF_INFO info{};
  SndfileHandle file(sf_open(path.c_str(), SFM_READ, &info));
  if (!file) throw InputError(path, std::string("not an audio file libsndfile can read: ") + sf_strerror(nullptr));
  if (info.channels != 1)
    throw InputError(path, std::to_string(info.channels) + " channels; an audio input takes mono files");
  if (info.samplerate != sample_rate)
    throw InputError(path, "recorded at " + std::to_string(info.samplerate) + " Hz; the input expects " +
                               std::to_string(sample_rate) + " Hz (resample it first)");
  if (info.frames > max_samples)
    throw InputError(path,
                     std::to_string(info.frames) + " samples, more than the input's " + std::to_string(max_samples));
  std::vector<float> samples(static_cast<size_t>(info.frames));
  const sf_count_t got = sf_readf_float(file.get(), samples.data(), info.frames);
  if (got != info.frames)
    throw InputError(path, "read " + std::to_string(got) + " of the " + std::to_string(info.frames) +
                               " samples its header declares: " + sf_strerror(file.get()));
  for (size_t i = 0; i < samples.size(); ++i)
    if (!std::isfinite(samples[i])) throw InputError(path, "sample " + std::to_string(i) + " is not a finite number");
  return samples;
}

void write_audio_file(const std::string& path, const std::vector<float>& samples, int64_t sample_rate) {
  SF_INFO info{};
  info.samplerate = static_cast<int>(sample_rate);
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
  SndfileHandle file(sf_open(path.c_str(), SFM_WRITE, &info));
  if (!file) throw InputError(path, std::string("cannot write: ") + sf_strerror(nullptr));
  const auto n = static_cast<sf_count_t>(samples.size());
  if (sf_writef_float(file.get(), samples.data(), n) != n)
    throw InputError(path, std::string("cannot write: ") + sf_strerror(file.get()));
  // sf_close writes the header's sizes: a full disk shows here.
  if (sf_close(file.release()) != 0) throw InputError(path, "cannot write: closing the file failed");
}

}  // namespace muroan
