// The audio modality kind (contract 2, DESIGN.md section 5.2): a mono waveform
// whose points are frames (10 ms by default), each decoupled to silence (the
// fill). Checked on a two-input TorchScript model (speech + note, speech.pt of
// tests/data/make_fixtures.py) whose decision is known: "alarm" exactly when
// the energy of frames 3 and 4 is high; a tone of amplitude 0.5 there needs
// both frames silenced to flip, so the smallest decoupling set is {3, 4}.
#include <gtest/gtest.h>

#include <sndfile.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli_run.h"
#include "frame_attacks.h"
#include "muroan/attack.h"
#include "muroan/audio_file.h"
#include "muroan/decoupling.h"
#include "muroan/error.h"
#include "muroan/measurement.h"
#include "muroan/point_masks.h"
#include "muroan/sample_data.h"
#include "muroan/torchscript_model.h"
#include "temp_dir.h"

namespace muroan {
namespace {

namespace fs = std::filesystem;
using testing_util::expect_one_line_error;
using testing_util::run_muroan;

const std::string kSpeechModel = std::string(MUROAN_SOURCE_DIR) + "/tests/data/speech.pt";
constexpr int64_t kRate = 8000, kSamples = 800, kFrame = 80;

class TempDir : public testing_util::TempDir {
 public:
  TempDir() : testing_util::TempDir("muroan-audio-test") {}
};

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

nlohmann::json speech_manifest() {
  auto m = nlohmann::json::parse(R"({
    "contract": 2,
    "inputs": [
      {"name": "speech", "kind": "audio", "samples": 800, "sample_rate": 8000, "frame_ms": 10},
      {"name": "note", "kind": "tokens", "max_len": 6, "pad_id": 0}
    ],
    "classes": ["routine", "alarm"],
    "fusion_method": "fusion"
  })");
  m["model"] = kSpeechModel;
  return m;
}

ModalitySpec speech_spec() { return ModalitySpec::audio("speech", kSamples, kRate, kFrame); }

// A quiet hum everywhere (amplitude 0.05) and, for an alarm, a 1 kHz tone of
// amplitude 0.5 in samples 240..399 (frames 3 and 4).
std::vector<float> waveform(bool alarm) {
  std::vector<float> w(kSamples);
  for (int64_t i = 0; i < kSamples; ++i) {
    const bool loud = alarm && i >= 240 && i < 400;
    w[static_cast<size_t>(i)] =
        static_cast<float>((loud ? 0.5 : 0.05) * std::sin(2.0 * M_PI * 1000.0 * static_cast<double>(i) / kRate));
  }
  return w;
}

Inputs speech_sample(bool alarm) {
  return {torch::tensor(waveform(alarm), torch::kFloat).view({1, kSamples}),
          torch::tensor({{4, 7, 9, 0, 0, 0}}, torch::kLong)};
}

// samples.jsonl with n samples: even ones alarms (WAV files of 0.1 s), odd
// ones routine (a number list of half the length, padded with silence).
void write_samples(const TempDir& dir, int n) {
  fs::create_directories(dir.path() / "wav");
  std::string lines;
  for (int i = 0; i < n; ++i) {
    const bool alarm = i % 2 == 0;
    nlohmann::json s = {{"id", i}, {"note", {3 + i % 5, 7, 9}}, {"label", alarm ? 1 : 0}};
    if (alarm) {
      const std::string wav = "wav/" + std::to_string(i) + ".wav";
      write_audio_file(dir.file(wav), waveform(true), kRate);
      s["speech"] = wav;
    } else {
      auto w = waveform(false);
      w.resize(kSamples / 2);
      s["speech"] = w;
    }
    lines += s.dump() + "\n";
  }
  write_text(dir.file("samples.jsonl"), lines);
}

// A WAV with libsndfile directly: other rates and channel counts than ours.
void write_wav(const std::string& path, int rate, int channels, int64_t frames) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr);
  std::vector<float> zeros(static_cast<size_t>(frames * channels), 0.25f);
  sf_writef_float(f, zeros.data(), frames);
  sf_close(f);
}

TEST(Audio, SpecFramesAndManifestFields) {
  const auto spec = speech_spec();
  EXPECT_TRUE(spec.is_audio());
  EXPECT_TRUE(spec.has_fixed_points());
  EXPECT_EQ(spec.max_points(), 10);
  // A last frame cut short is still a point.
  EXPECT_EQ(ModalitySpec::audio("a", 850, kRate, kFrame).max_points(), 11);
  EXPECT_THROW(ModalitySpec::audio("a", 50, kRate, kFrame), UsageError);

  const auto j = modality_to_json(spec);
  const auto back = modality_from_json(j, "x");
  EXPECT_EQ(back.num_samples(), kSamples);
  EXPECT_EQ(back.sample_rate, kRate);
  EXPECT_EQ(back.frame, kFrame);
  auto ms = nlohmann::json::parse(R"({"name": "s", "kind": "audio", "samples": 16000, "sample_rate": 16000,
                                      "frame_ms": 25})");
  EXPECT_EQ(modality_from_json(ms, "x").frame, 400);
  ms.erase("frame_ms");  // 10 ms when not given
  EXPECT_EQ(modality_from_json(ms, "x").frame, 160);

  TempDir dir;
  auto both = speech_manifest();
  both["inputs"][0]["frame_samples"] = 80;
  write_text(dir.file("both.json"), both.dump());
  expect_one_line_error(run_muroan({"info", "--manifest", dir.file("both.json"), "--device", "cpu"}),
                        "inputs[0]: frame_ms: give frame_samples or frame_ms, not both");
  auto long_frame = speech_manifest();
  long_frame["inputs"][0]["frame_ms"] = 500;
  write_text(dir.file("long.json"), long_frame.dump());
  expect_one_line_error(run_muroan({"info", "--manifest", dir.file("long.json"), "--device", "cpu"}),
                        "inputs[0]: frame_ms: a frame of 4000 samples; expected 1 to the input's 800");
  auto v1 = speech_manifest();
  v1.erase("contract");
  write_text(dir.file("v1.json"), v1.dump());
  expect_one_line_error(run_muroan({"info", "--manifest", dir.file("v1.json"), "--device", "cpu"}),
                        "inputs[0]: field 'kind': an audio input needs contract version 2");
  auto no_rate = speech_manifest();
  no_rate["inputs"][0].erase("sample_rate");
  write_text(dir.file("rate.json"), no_rate.dump());
  expect_one_line_error(run_muroan({"info", "--manifest", dir.file("rate.json"), "--device", "cpu"}), "sample_rate");
}

// Frames are points: x_S silences exactly their samples, a short last frame
// included; the union counts across image, tokens and audio; point masks give
// the same x_S.
TEST(Audio, FramesAreSilencedAndCountedOnce) {
  const std::vector<ModalitySpec> specs = {ModalitySpec::image("image", 1, 4, 4), ModalitySpec::tokens("note", 6, 0, 0),
                                           ModalitySpec::audio("speech", 850, kRate, kFrame)};
  const Inputs x = {torch::full({1, 1, 4, 4}, 0.5f), torch::tensor({{4, 7, 9, 0, 0, 0}}, torch::kLong),
                    torch::ones({1, 850})};
  InputSpace space(specs, x);
  EXPECT_EQ(space.points(), (std::vector<int64_t>{16, 3, 11}));

  DecouplingSet s;
  s.add(DecouplingElement::pixels(0, {0, 0, 2, 2}));
  s.add(DecouplingElement::pixels(0, {1, 0, 2, 2}));  // two pixels shared with the first
  s.add(DecouplingElement::token(1, 2));
  s.add(DecouplingElement::feature(2, 3));
  s.add(DecouplingElement::feature(2, 3));   // twice: one point
  s.add(DecouplingElement::feature(2, 10));  // the last frame, 50 samples
  const PointCount c = space.count(s);
  EXPECT_EQ(c.decoupled, (std::vector<int64_t>{6, 1, 2}));
  EXPECT_DOUBLE_EQ(c.rate(), 9.0 / 30.0);

  const Inputs xs = space.apply({s}, TextRemoval::kDelete);
  auto expected = torch::ones({1, 850});
  expected.narrow(1, 240, 80).zero_();
  expected.narrow(1, 800, 50).zero_();
  EXPECT_TRUE(torch::equal(xs[2], expected));
  EXPECT_TRUE(torch::equal(xs[1], torch::tensor({{4, 7, 0, 0, 0, 0}}, torch::kLong)));

  PointMasks masks{torch::zeros({1, 4, 4}, torch::kBool), torch::zeros({1, 6}, torch::kBool),
                   torch::zeros({1, 11}, torch::kBool)};
  masks[0].slice(1, 0, 2).slice(2, 0, 3).fill_(true);
  masks[1][0][2] = true;
  masks[2][0][3] = true;
  masks[2][0][10] = true;
  const Inputs xm = apply_point_masks(x, specs, masks, TextRemoval::kDelete);
  for (size_t m = 0; m < 3; ++m) EXPECT_TRUE(torch::equal(xm[m], xs[m])) << m;
  EXPECT_EQ(count_points(x, specs)[2].item<int64_t>(), 11);

  // Random keep masks keep exactly k frames per row (certification, training).
  auto gen = at::detail::createCPUGenerator(3);
  const Inputs batch = {x[0].repeat({5, 1, 1, 1}), x[1].repeat({5, 1}), x[2].repeat({5, 1})};
  const PointMasks keep = random_keep_masks(batch, specs, {kKeepAll, kKeepAll, 4}, gen);
  EXPECT_TRUE(torch::equal(keep[2].sum(1), torch::full({5}, 7, torch::kLong)));
  const Inputs kept = apply_point_masks(batch, specs, keep, TextRemoval::kDelete);
  EXPECT_TRUE(torch::equal((kept[2] == 0).sum(1), frames_to_samples(keep[2], specs[2]).sum(1)));

  // Replay files name frames as positions, and read back.
  const auto j = decoupling_set_to_json(s, specs, TextRemoval::kDelete);
  EXPECT_EQ(j["modalities"][2]["kind"], "audio");
  EXPECT_EQ(j["modalities"][2]["positions"], nlohmann::ordered_json::parse("[3, 3, 10]"));
  TextRemoval mode;
  EXPECT_TRUE(torch::equal(space.apply({decoupling_set_from_json(j, &specs, &mode)}, mode)[2], expected));

  DecouplingSet bad;
  bad.add(DecouplingElement::feature(2, 11));
  try {
    space.apply({bad}, TextRemoval::kDelete);
    ADD_FAILURE() << "frame 11 of 11 was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is not a frame of audio modality 'speech' (11 frames)"), std::string::npos)
        << e.what();
  }
}

TEST(Audio, SamplesAreAudioFilesOrNumberListsAndBadOnesAreOneLine) {
  TempDir dir;
  write_samples(dir, 4);
  const std::vector<ModalitySpec> specs = {speech_spec(), ModalitySpec::tokens("note", 6, 0, 0)};
  const SampleData data = load_samples(dir.file("samples.jsonl"), specs, {"routine", "alarm"});
  ASSERT_EQ(data.inputs[0].sizes(), torch::IntArrayRef({4, kSamples}));
  // The float WAV reads back exactly; the short list is padded with silence.
  EXPECT_TRUE(torch::equal(data.inputs[0][0], torch::tensor(waveform(true))));
  EXPECT_TRUE(torch::equal(data.inputs[0][1].narrow(0, 0, 400), torch::tensor(waveform(false)).narrow(0, 0, 400)));
  EXPECT_EQ(data.inputs[0][1].narrow(0, 400, 400).abs().sum().item<float>(), 0.0f);

  // save_samples writes WAVs; they read the same.
  save_samples(data, specs, dir.file("copy"));
  EXPECT_TRUE(fs::exists(dir.file("copy/audio/0.wav")));
  const SampleData again = load_samples(dir.file("copy/samples.jsonl"), specs, {"routine", "alarm"});
  EXPECT_TRUE(torch::equal(again.inputs[0], data.inputs[0]));

  auto refused = [&](const nlohmann::json& speech, const std::string& needle) {
    const nlohmann::json line = {{"id", 1}, {"speech", speech}, {"note", {4}}, {"label", 0}};
    write_text(dir.file("bad.jsonl"), line.dump() + "\n");
    try {
      load_samples(dir.file("bad.jsonl"), specs, {"routine", "alarm"});
      ADD_FAILURE() << "accepted: " << needle;
    } catch (const InputError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("bad.jsonl:1: field 'speech': "), std::string::npos) << what;
      EXPECT_NE(what.find(needle), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  };
  write_wav(dir.file("stereo.wav"), kRate, 2, 100);
  refused("stereo.wav", "2 channels; an audio input takes mono files");
  write_wav(dir.file("fast.wav"), 16000, 1, 100);
  refused("fast.wav", "recorded at 16000 Hz; the input expects 8000 Hz");
  write_wav(dir.file("long.wav"), kRate, 1, 900);
  refused("long.wav", "900 samples, more than the input's 800");
  write_text(dir.file("text.wav"), "not audio at all");
  refused("text.wav", "not an audio file libsndfile can read");
  refused("missing.wav", "missing.wav");
  refused(std::vector<double>(801, 0.0), "801 samples, more than the input's 800");
  refused(nlohmann::json::parse(R"([0.1, "loud"])"), "sample 1 is a string, expected a finite number");
  refused(3, "expected an audio file path or a list of samples, got an integer");
  // A 16-bit PCM file of the right rate is read, scaled to [-1, 1].
  write_wav(dir.file("pcm.wav"), kRate, 1, 100);
  const auto pcm = read_audio_file(dir.file("pcm.wav"), kRate, kSamples);
  ASSERT_EQ(pcm.size(), 100u);
  EXPECT_NEAR(pcm[0], 0.25f, 1e-4f);
}

// Every method that searches frames finds the two decisive ones; exact,
// greedy and saliency find exactly {3, 4}.
TEST(Audio, AttacksSilenceTheDecisiveFrames) {
  TempDir dir;
  write_text(dir.file("m.json"), speech_manifest().dump());
  auto model = load_torchscript_model(dir.file("m.json"), torch::kCPU);
  const Inputs x = speech_sample(true);
  ASSERT_EQ(model->logits(x).argmax(1).item<int64_t>(), 1);
  ASSERT_EQ(model->logits(speech_sample(false)).argmax(1).item<int64_t>(), 0);
  testing_util::expect_methods_find_frames_3_and_4(*model, x);
  AttackOptions no_speech;
  no_speech.modalities = {"note"};
  EXPECT_FALSE(make_attack(no_speech)->attack(*model, x).success);
  AttackOptions by_kind;  // --modalities audio: the kind names the speech input
  by_kind.modalities = resolve_modality_names({"audio"}, model->modalities());
  EXPECT_EQ(by_kind.modalities, (std::vector<std::string>{"speech"}));
  EXPECT_TRUE(make_attack(by_kind)->attack(*model, x).success);
}

// End to end through the command line: info describes the audio input, the
// attack's records replay, the gallery draws spectrograms with the silenced
// frames outlined, and certification ablates frames.
TEST(Audio, CommandLineAttackReplayAndReport) {
  TempDir dir;
  write_text(dir.file("m.json"), speech_manifest().dump());
  write_samples(dir, 6);
  auto info =
      run_muroan({"info", "--manifest", dir.file("m.json"), "--data", dir.file("samples.jsonl"), "--device", "cpu"});
  ASSERT_EQ(info.code, 0) << info.err;
  EXPECT_NE(info.out.find("1. speech: audio, 800 samples at 8000 Hz (0.100 s); 10 points (frames of 80 samples, 10.0 "
                          "ms), each decoupled to 0"),
            std::string::npos)
      << info.out;
  EXPECT_NE(info.out.find("accuracy: 1.0000 (6 of 6)"), std::string::npos) << info.out;

  const std::string out = dir.file("run");
  auto attack = run_muroan({"attack", "--manifest", dir.file("m.json"), "--method", "greedy", "--samples", "0",
                            "--device", "cpu", "--quiet", "--out", out});
  ASSERT_EQ(attack.code, 0) << attack.err;
  int attacked = 0, successes = 0;
  for (const auto& r : read_records(out + "/results.jsonl")) {
    if (!r.attacked) continue;
    ++attacked;
    if (r.label == 0) {
      EXPECT_FALSE(r.success) << r.id;  // silencing never raises the energy
      continue;
    }
    ++successes;
    EXPECT_TRUE(r.success) << r.id;
    EXPECT_EQ(r.decoupled_points, 2) << r.id;
    EXPECT_EQ(r.total_points, 13) << r.id;  // 10 frames and 3 words
  }
  EXPECT_EQ(attacked, 6);
  EXPECT_EQ(successes, 3);
  auto replay =
      run_muroan({"replay", "--manifest", dir.file("m.json"), "--results", out + "/results.jsonl", "--device", "cpu"});
  ASSERT_EQ(replay.code, 0) << replay.err << replay.out;
  EXPECT_NE(replay.out.find("replayed 3, confirmed 3"), std::string::npos) << replay.out;

  auto report = run_muroan({"report", out, "--manifest", dir.file("m.json"), "--device", "cpu"});
  ASSERT_EQ(report.code, 0) << report.err;
  std::ifstream gallery_in(out + "/gallery.json");
  const auto gallery = nlohmann::json::parse(gallery_in);
  ASSERT_FALSE(gallery["items"].empty());
  const auto& image = gallery["items"][0]["images"][0];
  EXPECT_EQ(image["modality"], "speech");
  EXPECT_EQ(image["kind"], "spectrogram");
  EXPECT_EQ(image["width"], 10);
  EXPECT_EQ(image["regions"], nlohmann::json::parse("[[3, 0, 2, 96]]"));  // frames 3-4, every bin
  // Certification ablates frames: keeping 5 of the 10, both decisive frames
  // go with probability C(8,3)/C(10,5) = 2/9, and only then is an alarm
  // routine; silence never makes a routine sample an alarm.
  const std::string cert = dir.file("cert");
  auto certify = run_muroan({"certify", "--manifest", dir.file("m.json"), "--keep", "5,all", "--samples", "0",
                             "--device", "cpu", "--quiet", "--out", cert});
  ASSERT_EQ(certify.code, 0) << certify.err;
  std::ifstream cert_in(cert + "/certify.jsonl");
  int certified = 0;
  for (std::string line; std::getline(cert_in, line); ++certified) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["keep"]["speech"], 5);
    const double routine_share = j["counts"][0].get<double>() / 1000.0;
    if (j["label"] == 1)
      EXPECT_NEAR(routine_share, 2.0 / 9.0, 0.05) << line;  // binomial sd 0.013
    else
      EXPECT_EQ(routine_share, 1.0) << line;
  }
  EXPECT_EQ(certified, 6);

  std::ifstream html_in(out + "/report.html");
  const std::string html((std::istreambuf_iterator<char>(html_in)), std::istreambuf_iterator<char>());
  EXPECT_NE(html.find("speech (spectrogram): decoupled"), std::string::npos);
}

}  // namespace
}  // namespace muroan
