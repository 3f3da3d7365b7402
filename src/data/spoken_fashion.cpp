// spoken-fashion: a Fashion-MNIST item, the written half of a claim, and its
// class spoken by espeak-ng (see spoken_fashion.h).
#include "data/spoken_fashion.h"

#include <sndfile.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "muroan/error.h"
#include "muroan/files.h"

namespace muroan {
namespace data {
namespace {

namespace fs = std::filesystem;

struct Voice {
  const char* name;
  int pitch;
};
constexpr Voice kVoices[kSpokenVoices] = {{"en-us", 35}, {"en-us", 65}, {"en-gb", 35}, {"en-gb", 65}};

// The written captions: fashion-match's templates without their class.
const char* caption_text(FashionTemplate t) {
  switch (t) {
    case FashionTemplate::kThisIs:
      return "this is a";
    case FashionTemplate::kPhotoOf:
      return "a photo of a";
    case FashionTemplate::kThisIsNot:
      return "this is not a";
    case FashionTemplate::kThisIsNo:
      return "this is no";
  }
  throw Error("unknown caption template");
}

std::string command_output(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) return "";
  std::string out;
  char buf[256];
  while (fgets(buf, sizeof buf, pipe.get())) out += buf;
  return out;
}

// espeak-ng's version line: recordings of another version are recorded again.
const std::string& espeak_version() {
  static const std::string version = [] {
    std::string v = command_output("espeak-ng --version 2>/dev/null");
    if (v.empty())
      throw Error(
          "spoken-fashion needs espeak-ng to record its speech (Debian package espeak-ng; scripts/setup.sh "
          "installs it)");
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a(v)));
    return std::string(hex);
  }();
  return version;
}

// Mono float samples of a WAV file, and its rate.
std::vector<float> read_wav(const std::string& path, int* rate) {
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  if (!f) throw Error(path + ": espeak-ng wrote no readable WAV: " + sf_strerror(nullptr));
  std::vector<float> frames(static_cast<size_t>(info.frames * info.channels));
  const sf_count_t got = sf_readf_float(f, frames.data(), info.frames);
  sf_close(f);
  std::vector<float> mono(static_cast<size_t>(got));
  for (sf_count_t i = 0; i < got; ++i) mono[static_cast<size_t>(i)] = frames[static_cast<size_t>(i * info.channels)];
  *rate = info.samplerate;
  return mono;
}

// `in` at `from` Hz to `to` Hz, each output sample the mean of the input
// samples it covers (a box filter against aliasing).
std::vector<float> resample(const std::vector<float>& in, double from, double to) {
  const double step = from / to;
  std::vector<float> out;
  for (double t = 0; t + step <= static_cast<double>(in.size()); t += step) {
    const auto a = static_cast<size_t>(t), b = std::max(a + 1, static_cast<size_t>(t + step));
    double s = 0;
    for (size_t i = a; i < b; ++i) s += in[i];
    out.push_back(static_cast<float>(s / static_cast<double>(b - a)));
  }
  return out;
}

std::vector<float> trim(const std::vector<float>& x, float threshold) {
  size_t a = 0, b = x.size();
  while (a < b && std::abs(x[a]) < threshold) ++a;
  while (b > a && std::abs(x[b - 1]) < threshold) --b;
  return {x.begin() + static_cast<std::ptrdiff_t>(a), x.begin() + static_cast<std::ptrdiff_t>(b)};
}

std::vector<float> record(int64_t voice, int class_id) {
  const Voice& v = kVoices[voice];
  const fs::path tmp = fs::temp_directory_path() / ("muroan-espeak-" + std::to_string(::getpid()) + "-" +
                                                    std::to_string(voice) + "-" + std::to_string(class_id) + ".wav");
  const std::string word = kFashionClassNames.at(static_cast<size_t>(class_id));
  const std::string command = "espeak-ng -v " + std::string(v.name) + " -p " + std::to_string(v.pitch) +
                              " -s 160 -w '" + tmp.string() + "' '" + word + "' 2>/dev/null";
  if (std::system(command.c_str()) != 0) {
    fs::remove(tmp);
    throw Error("spoken-fashion: espeak-ng failed to record '" + word + "' (" + command + ")");
  }
  int rate = 0;
  const auto wav = read_wav(tmp.string(), &rate);
  fs::remove(tmp);
  return trim(resample(wav, rate, kSpokenRate), 0.01F);
}

}  // namespace

std::vector<float> spoken_class(int64_t voice, int class_id, const std::string& cache_dir) {
  if (voice < 0 || voice >= kSpokenVoices || class_id < 0 || class_id >= kFashionClasses)
    throw Error("spoken-fashion: no recording of voice " + std::to_string(voice) + ", class " +
                std::to_string(class_id));
  const std::string version = espeak_version();
  if (cache_dir.empty()) return record(voice, class_id);
  const fs::path path = fs::path(cache_dir) / "spoken-fashion" / version /
                        ("voice" + std::to_string(voice) + "-class" + std::to_string(class_id) + ".f32");
  std::ifstream in(path, std::ios::binary);
  if (in) {
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!bytes.empty() && bytes.size() % sizeof(float) == 0) {
      std::vector<float> cached(bytes.size() / sizeof(float));
      std::memcpy(cached.data(), bytes.data(), bytes.size());
      return cached;
    }
  }
  auto samples = record(voice, class_id);
  fs::create_directories(path.parent_path());
  write_file_atomically(path.string(),
                        std::string(reinterpret_cast<const char*>(samples.data()), samples.size() * sizeof(float)));
  return samples;
}

namespace {

Split make_split(uint64_t seed, const std::string& split, int64_t n, const FashionImages& source, int64_t begin,
                 int64_t end, const Vocabulary& vocab, const std::vector<std::vector<float>>& recordings) {
  const FashionPlan plan = plan_fashion_split(stream_seed(seed, "spoken-fashion"), split, n, source, begin, end);
  Rng rng(stream_seed(seed, "spoken-fashion/speech/" + split));
  const auto count = static_cast<int64_t>(plan.samples.size());
  auto images = torch::empty({count, 1, kFashionSide, kFashionSide}, torch::kFloat);
  auto speech = torch::zeros({count, kSpokenSamples}, torch::kFloat);
  auto labels = torch::empty({count}, torch::kLong);
  Split out;
  for (int64_t i = 0; i < count; ++i) {
    const auto& [scene_index, caption] = plan.samples[static_cast<size_t>(i)];
    const auto& scene = plan.scenes[static_cast<size_t>(scene_index)];
    const uint8_t* item = source.pixels.data() + static_cast<size_t>(scene.item * kFashionSide * kFashionSide);
    float* img = images[i].data_ptr<float>();
    for (int64_t p = 0; p < kFashionSide * kFashionSide; ++p) img[p] = static_cast<float>(item[p]) / 255.0F;
    // The spoken class: a recording at a random speed, loudness and offset, in noise.
    const int64_t voice = rng.uniform(kSpokenVoices);
    const auto& word = recordings[static_cast<size_t>(voice * kFashionClasses + caption.class_id)];
    const double speed = rng.uniform(0.85, 1.15), gain = rng.uniform(0.5, 1.0), noise = rng.uniform(0.002, 0.01);
    const auto length =
        std::min<int64_t>(kSpokenSamples, static_cast<int64_t>(static_cast<double>(word.size()) / speed));
    const int64_t offset = rng.uniform(kSpokenSamples - length + 1);
    float* s = speech[i].data_ptr<float>();
    for (int64_t k = 0; k < kSpokenSamples; ++k) s[k] = static_cast<float>(noise * rng.normal());
    for (int64_t k = 0; k < length; ++k) {
      const double t = static_cast<double>(k) * speed;  // linear interpolation into the recording
      const auto a = static_cast<size_t>(t);
      const size_t b = std::min(a + 1, word.size() - 1);
      const double f = t - static_cast<double>(a);
      s[offset + k] += static_cast<float>(gain * ((1 - f) * word[a] + f * word[b]));
    }
    labels[i] = caption.truth ? 1 : 0;
    out.texts.push_back(caption_text(caption.templ));
    out.ids.push_back(sample_id(split, i));
  }
  out.inputs = {images, encode_texts(vocab, out.texts, kSpokenMaxLen), speech};
  out.labels = labels;
  return out;
}

}  // namespace

TaskData generate_spoken_fashion(uint64_t seed, const SplitSizes& sizes, const std::string& cache_dir) {
  std::vector<std::vector<float>> recordings;
  for (int64_t v = 0; v < kSpokenVoices; ++v)
    for (int c = 0; c < kFashionClasses; ++c) recordings.push_back(spoken_class(v, c, cache_dir));
  const std::string dir = fashion_mnist_dir();
  const auto train_file = load_fashion_mnist(dir, "train");
  const auto test_file = load_fashion_mnist(dir, "t10k");
  const int64_t val_begin = train_file->count - train_file->count / 6;  // as fashion-match
  TaskData task;
  task.task = "spoken-fashion";
  task.classes = {"false", "true"};
  for (int t = 0; t < kFashionTemplates; ++t) {
    std::string text = caption_text(static_cast<FashionTemplate>(t)), w;
    for (std::istringstream words(text); words >> w;) task.vocab.add(w);
  }
  task.train = make_split(seed, "train", sizes.train, *train_file, 0, val_begin, task.vocab, recordings);
  task.val = make_split(seed, "val", sizes.val, *train_file, val_begin, train_file->count, task.vocab, recordings);
  task.test = make_split(seed, "test", sizes.test, *test_file, 0, test_file->count, task.vocab, recordings);
  task.modalities = {ModalitySpec::image("image", 1, kFashionSide, kFashionSide, /*fill=*/0.0),
                     ModalitySpec::tokens("caption", kSpokenMaxLen, Vocabulary::kPadId, task.vocab.size()),
                     ModalitySpec::audio("speech", kSpokenSamples, kSpokenRate, kSpokenFrame, /*fill=*/0.0)};
  return task;
}

}  // namespace data
}  // namespace muroan
