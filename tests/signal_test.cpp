// The signal modality kind (contract 2, DESIGN.md section 5.2): a multichannel
// time series whose points are frames on every channel at once, each channel
// decoupled to its own fill. Checked on a two-input TorchScript model (leads +
// note, leads.pt of tests/data/make_fixtures.py) whose decision is known:
// "alarm" exactly when the energy of lead 2 in frames 3 and 4 is high, while
// leads 0 and 1 carry larger waves that never matter; a wave of amplitude 0.5
// there needs both frames decoupled to flip, so the smallest decoupling set is
// {3, 4}.
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
#include "muroan/encoders.h"
#include "muroan/error.h"
#include "muroan/gradients.h"
#include "muroan/measurement.h"
#include "muroan/multimodal_net.h"
#include "muroan/point_masks.h"
#include "muroan/sample_data.h"
#include "muroan/torchscript_model.h"
#include "temp_dir.h"

namespace muroan {
namespace {

namespace fs = std::filesystem;
using testing_util::expect_one_line_error;
using testing_util::run_muroan;

const std::string kLeadsModel = std::string(MUROAN_SOURCE_DIR) + "/tests/data/leads.pt";
constexpr int64_t kRate = 200, kSamples = 400, kFrame = 20, kLeads = 3;

class TempDir : public testing_util::TempDir {
 public:
  TempDir() : testing_util::TempDir("muroan-signal-test") {}
};

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

nlohmann::json leads_manifest() {
  auto m = nlohmann::json::parse(R"({
    "contract": 2,
    "inputs": [
      {"name": "leads", "kind": "signal", "channels": 3, "samples": 400, "sample_rate": 200, "frame_ms": 100},
      {"name": "note", "kind": "tokens", "max_len": 6, "pad_id": 0}
    ],
    "classes": ["routine", "alarm"],
    "fusion_method": "fusion"
  })");
  m["model"] = kLeadsModel;
  return m;
}

ModalitySpec leads_spec(std::vector<double> fills = {0.0, 0.0, 0.0}) {
  return ModalitySpec::signal("leads", kSamples, kRate, kFrame, std::move(fills));
}

// Channel after channel: lead 0 a 5 Hz wave of amplitude 1, lead 1 a 3 Hz wave
// of 0.8, lead 2 a 25 Hz hum of 0.05 and, for an alarm, of 0.5 in samples
// 60..99 (frames 3 and 4).
std::vector<float> leads(bool alarm) {
  std::vector<float> w(static_cast<size_t>(kLeads * kSamples));
  for (int64_t i = 0; i < kSamples; ++i) {
    const double t = static_cast<double>(i) / kRate;
    const bool loud = alarm && i >= 60 && i < 100;
    w[static_cast<size_t>(i)] = static_cast<float>(std::sin(2.0 * M_PI * 5.0 * t));
    w[static_cast<size_t>(kSamples + i)] = static_cast<float>(0.8 * std::sin(2.0 * M_PI * 3.0 * t));
    w[static_cast<size_t>(2 * kSamples + i)] =
        static_cast<float>((loud ? 0.5 : 0.05) * std::sin(2.0 * M_PI * 25.0 * t));
  }
  return w;
}

torch::Tensor leads_tensor(bool alarm) {
  return torch::tensor(leads(alarm), torch::kFloat).view({1, kLeads, kSamples});
}

Inputs leads_sample(bool alarm) { return {leads_tensor(alarm), torch::tensor({{4, 7, 9, 0, 0, 0}}, torch::kLong)}; }

// samples.jsonl with n samples: even ones alarms (3-channel WAV files), odd
// ones routine (lists of channels of half the length, padded with the fill).
void write_samples(const TempDir& dir, int n) {
  fs::create_directories(dir.path() / "wav");
  std::string lines;
  for (int i = 0; i < n; ++i) {
    const bool alarm = i % 2 == 0;
    nlohmann::json s = {{"id", i}, {"note", {3 + i % 5, 7, 9}}, {"label", alarm ? 1 : 0}};
    const auto w = leads(alarm);
    if (alarm) {
      const std::string wav = "wav/" + std::to_string(i) + ".wav";
      write_audio_file(dir.file(wav), w, kRate, kLeads);
      s["leads"] = wav;
    } else {
      nlohmann::json channels = nlohmann::json::array();
      for (int64_t c = 0; c < kLeads; ++c)
        channels.push_back(std::vector<float>(w.begin() + c * kSamples, w.begin() + c * kSamples + kSamples / 2));
      s["leads"] = channels;
    }
    lines += s.dump() + "\n";
  }
  write_text(dir.file("samples.jsonl"), lines);
}

void write_wav(const std::string& path, int rate, int channels, int64_t frames) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr);
  std::vector<float> v(static_cast<size_t>(frames * channels), 0.25f);
  sf_writef_float(f, v.data(), frames);
  sf_close(f);
}

TEST(Signal, SpecFramesAndManifestFields) {
  const auto spec = leads_spec({0.0, 0.1, -0.2});
  EXPECT_TRUE(spec.is_signal());
  EXPECT_TRUE(spec.has_frames());
  EXPECT_TRUE(spec.has_fixed_points());
  EXPECT_EQ(spec.channels(), 3);
  EXPECT_EQ(spec.num_samples(), kSamples);
  EXPECT_EQ(spec.max_points(), 20);
  EXPECT_EQ(ModalitySpec::signal("s", 410, kRate, kFrame, {0.0}).max_points(), 21);  // a short last frame
  EXPECT_THROW(ModalitySpec::signal("s", 10, kRate, kFrame, {0.0}), UsageError);
  EXPECT_THROW(ModalitySpec::signal("s", kSamples, kRate, kFrame, {}), UsageError);

  const auto back = modality_from_json(modality_to_json(spec), "x");
  EXPECT_EQ(back.kind, ModalityKind::kSignal);
  EXPECT_EQ(back.shape, (std::vector<int64_t>{3, kSamples}));
  EXPECT_EQ(back.fills, (std::vector<double>{0.0, 0.1, -0.2}));
  EXPECT_EQ(back.frame, kFrame);
  EXPECT_EQ(back.sample_rate, kRate);
  auto j = nlohmann::json::parse(R"({"name": "s", "kind": "signal", "channels": 2, "samples": 500,
                                     "sample_rate": 250, "fill": 1.5})");
  const auto one_fill = modality_from_json(j, "x");
  EXPECT_EQ(one_fill.fills, (std::vector<double>{1.5, 1.5}));
  EXPECT_EQ(one_fill.frame, 3);  // 10 ms at 250 Hz, rounded: as audio

  TempDir dir;
  auto refused = [&](const std::function<void(nlohmann::json&)>& edit, const std::string& needle) {
    auto m = leads_manifest();
    edit(m);
    write_text(dir.file("m.json"), m.dump());
    expect_one_line_error(run_muroan({"info", "--manifest", dir.file("m.json"), "--device", "cpu"}), needle);
  };
  refused([](auto& m) { m["inputs"][0]["channels"] = 0; }, "inputs[0]: channels: expected 1 to 1024 channels, got 0");
  refused([](auto& m) { m["inputs"][0].erase("channels"); }, "channels");
  refused(
      [](auto& m) {
        m["inputs"][0]["fill"] = {0.0, 1.0};
      },
      "inputs[0]: fill: 2 values for 3 channels (give one per channel, or one number for all)");
  refused([](auto& m) { m["inputs"][0]["frame_ms"] = 5000; },
          "inputs[0]: frame_ms: a frame of 1000 samples; expected 1 to the input's 400");
  refused([](auto& m) { m.erase("contract"); }, "inputs[0]: field 'kind': a signal input needs contract version 2");
  refused(
      [](auto& m) {
        m["inputs"][0]["channels"] = 1000;
        m["inputs"][0]["samples"] = 100000;
      },
      "inputs[0]: samples: 1000 channels of 100000 samples; MUROAN reads at most 9600000 samples per input");
  refused([](auto& m) { m["inputs"][0]["kind"] = "signals"; },
          "expected \"image\", \"tokens\", \"tabular\", \"audio\" or \"signal\", got \"signals\"");
}

// Frames are points on every channel at once: x_S sets each channel's samples
// of a frame to that channel's fill, a short last frame included; the union
// counts across image, tokens and the signal; point masks give the same x_S.
TEST(Signal, FramesAreDecoupledOnEveryChannelToItsFill) {
  const std::vector<ModalitySpec> specs = {ModalitySpec::image("image", 1, 4, 4), ModalitySpec::tokens("note", 6, 0, 0),
                                           ModalitySpec::signal("leads", 90, kRate, kFrame, {0.0, -1.0})};
  const Inputs x = {torch::full({1, 1, 4, 4}, 0.5f), torch::tensor({{4, 7, 9, 0, 0, 0}}, torch::kLong),
                    torch::ones({1, 2, 90})};
  InputSpace space(specs, x);
  EXPECT_EQ(space.points(), (std::vector<int64_t>{16, 3, 5}));

  DecouplingSet s;
  s.add(DecouplingElement::pixels(0, {0, 0, 2, 2}));
  s.add(DecouplingElement::token(1, 1));
  s.add(DecouplingElement::feature(2, 1));
  s.add(DecouplingElement::feature(2, 1));  // twice: one point
  s.add(DecouplingElement::feature(2, 4));  // the last frame, 10 samples
  const PointCount c = space.count(s);
  EXPECT_EQ(c.decoupled, (std::vector<int64_t>{4, 1, 2}));
  EXPECT_DOUBLE_EQ(c.rate(), 7.0 / 24.0);

  const Inputs xs = space.apply({s}, TextRemoval::kDelete);
  auto expected = torch::ones({1, 2, 90});
  for (auto [from, len] : {std::pair<int64_t, int64_t>{20, 20}, {80, 10}}) {
    expected[0][0].narrow(0, from, len).fill_(0.0);
    expected[0][1].narrow(0, from, len).fill_(-1.0);
  }
  EXPECT_TRUE(torch::equal(xs[2], expected));

  PointMasks masks{torch::zeros({1, 4, 4}, torch::kBool), torch::zeros({1, 6}, torch::kBool),
                   torch::zeros({1, 5}, torch::kBool)};
  masks[0].slice(1, 0, 2).slice(2, 0, 2).fill_(true);
  masks[1][0][1] = true;
  masks[2][0][1] = true;
  masks[2][0][4] = true;
  const Inputs xm = apply_point_masks(x, specs, masks, TextRemoval::kDelete);
  for (size_t m = 0; m < 3; ++m) EXPECT_TRUE(torch::equal(xm[m], xs[m])) << m;
  EXPECT_EQ(count_points(x, specs)[2].item<int64_t>(), 5);

  // Random keep masks keep exactly k frames per row, on both channels alike.
  auto gen = at::detail::createCPUGenerator(3);
  const Inputs batch = {x[0].repeat({6, 1, 1, 1}), x[1].repeat({6, 1}), x[2].repeat({6, 1, 1})};
  const PointMasks keep = random_keep_masks(batch, specs, {kKeepAll, kKeepAll, 2}, gen);
  EXPECT_TRUE(torch::equal(keep[2].sum(1), torch::full({6}, 3, torch::kLong)));
  const Inputs kept = apply_point_masks(batch, specs, keep, TextRemoval::kDelete);
  EXPECT_TRUE(torch::equal(kept[2].select(1, 0) == 0, kept[2].select(1, 1) == -1));

  // The saliency of a frame sums grad x (fill - x) over its samples on every channel.
  const auto grad = torch::ones({1, 2, 90});
  const auto score = frame_saliency(grad, x[2], specs[2]);
  ASSERT_EQ(score.sizes(), (std::vector<int64_t>{1, 5}));
  EXPECT_FLOAT_EQ(score[0][0].item<float>(), 20 * (0.0f - 1.0f) + 20 * (-1.0f - 1.0f));
  EXPECT_FLOAT_EQ(score[0][4].item<float>(), 10 * (0.0f - 1.0f) + 10 * (-1.0f - 1.0f));

  // Replay files name frames as positions, and read back.
  const auto j = decoupling_set_to_json(s, specs, TextRemoval::kDelete);
  EXPECT_EQ(j["modalities"][2]["kind"], "signal");
  EXPECT_EQ(j["modalities"][2]["positions"], nlohmann::ordered_json::parse("[1, 1, 4]"));
  TextRemoval mode;
  EXPECT_TRUE(torch::equal(space.apply({decoupling_set_from_json(j, &specs, &mode)}, mode)[2], expected));

  DecouplingSet bad;
  bad.add(DecouplingElement::feature(2, 5));
  try {
    space.apply({bad}, TextRemoval::kDelete);
    ADD_FAILURE() << "frame 5 of 5 was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is not a frame of signal modality 'leads' (5 frames)"), std::string::npos)
        << e.what();
  }
  // A mono row is no signal of two channels.
  EXPECT_THROW(InputSpace(specs, {x[0], x[1], torch::ones({1, 90})}), Error);
}

TEST(Signal, SamplesAreMultichannelFilesOrListsOfChannels) {
  TempDir dir;
  write_samples(dir, 4);
  const std::vector<ModalitySpec> specs = {leads_spec({0.0, 0.0, 0.25}), ModalitySpec::tokens("note", 6, 0, 0)};
  const SampleData data = load_samples(dir.file("samples.jsonl"), specs, {"routine", "alarm"});
  ASSERT_EQ(data.inputs[0].sizes(), torch::IntArrayRef({4, kLeads, kSamples}));
  // The float WAV reads back exactly, channel by channel.
  EXPECT_TRUE(torch::equal(data.inputs[0][0], leads_tensor(true)[0]));
  // The short lists: their samples, then each channel's fill.
  EXPECT_TRUE(torch::equal(data.inputs[0][1].narrow(1, 0, 200), leads_tensor(false)[0].narrow(1, 0, 200)));
  EXPECT_EQ(data.inputs[0][1][1].narrow(0, 200, 200).abs().sum().item<float>(), 0.0f);
  EXPECT_TRUE(torch::equal(data.inputs[0][1][2].narrow(0, 200, 200), torch::full({200}, 0.25f)));

  // save_samples writes 3-channel WAVs; they read the same.
  save_samples(data, specs, dir.file("copy"));
  SF_INFO info{};
  SNDFILE* f = sf_open(dir.file("copy/audio/1.wav").c_str(), SFM_READ, &info);
  ASSERT_NE(f, nullptr);
  sf_close(f);
  EXPECT_EQ(info.channels, 3);
  const SampleData again = load_samples(dir.file("copy/samples.jsonl"), specs, {"routine", "alarm"});
  EXPECT_TRUE(torch::equal(again.inputs[0], data.inputs[0]));

  auto refused = [&](const nlohmann::json& value, const std::string& needle) {
    const nlohmann::json line = {{"id", 1}, {"leads", value}, {"note", {4}}, {"label", 0}};
    write_text(dir.file("bad.jsonl"), line.dump() + "\n");
    try {
      load_samples(dir.file("bad.jsonl"), specs, {"routine", "alarm"});
      ADD_FAILURE() << "accepted: " << needle;
    } catch (const InputError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("bad.jsonl:1: field 'leads': "), std::string::npos) << what;
      EXPECT_NE(what.find(needle), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  };
  write_wav(dir.file("mono.wav"), kRate, 1, 100);
  refused("mono.wav", "1 channels; the input has 3");
  write_wav(dir.file("fast.wav"), 500, 3, 100);
  refused("fast.wav", "recorded at 500 Hz; the input expects 200 Hz");
  write_wav(dir.file("long.wav"), kRate, 3, 401);
  refused("long.wav", "401 samples, more than the input's 400");
  refused(std::vector<double>(10, 0.0),
          "expected an audio file path of 3 channels or a list of 3 lists of samples "
          "(one per channel), got 10 values");
  refused(nlohmann::json::parse("[[0.1], [0.2]]"), "got 2 values");
  refused(nlohmann::json::parse("[[0.1], [0.2, \"x\"], [0.3]]"),
          "channel 1: sample 1 is a string, expected a finite number");
  refused(nlohmann::json::array({std::vector<double>(401, 0.0), {0.0}, {0.0}}),
          "channel 0: 401 samples, more than the input's 400");
  refused(3, "expected an audio file path of 3 channels");
  // A 16-bit PCM file of 3 channels is read, channel after channel, scaled to [-1, 1].
  write_wav(dir.file("pcm.wav"), kRate, 3, 100);
  const auto pcm = read_audio_file(dir.file("pcm.wav"), kRate, kSamples, 3);
  ASSERT_EQ(pcm.size(), 300u);
  EXPECT_NEAR(pcm[250], 0.25f, 1e-4f);
}

// Every method that searches frames finds the two decisive ones; exact,
// greedy and saliency find exactly {3, 4}. With lead 2's fill at 0.5 (its
// decoupled frames read as a raised line), no decoupling lowers its energy
// and no method flips an alarm: the fill is the channel's, not one for all.
TEST(Signal, AttacksDecoupleTheDecisiveFramesOfOneLead) {
  TempDir dir;
  write_text(dir.file("m.json"), leads_manifest().dump());
  auto model = load_torchscript_model(dir.file("m.json"), torch::kCPU);
  const Inputs x = leads_sample(true);
  ASSERT_EQ(model->logits(x).argmax(1).item<int64_t>(), 1);
  ASSERT_EQ(model->logits(leads_sample(false)).argmax(1).item<int64_t>(), 0);
  testing_util::expect_methods_find_frames_3_and_4(*model, x);
  AttackOptions by_kind;  // --modalities signal: the kind names the leads input
  by_kind.modalities = resolve_modality_names({"signal"}, model->modalities());
  EXPECT_EQ(by_kind.modalities, (std::vector<std::string>{"leads"}));
  EXPECT_TRUE(make_attack(by_kind)->attack(*model, x).success);

  auto raised = leads_manifest();
  raised["inputs"][0]["fill"] = {0.0, 0.0, 0.5};
  write_text(dir.file("raised.json"), raised.dump());
  auto raised_model = load_torchscript_model(dir.file("raised.json"), torch::kCPU);
  for (const std::string method : {"greedy", "exact", "saliency"}) {
    AttackOptions options;
    options.method = method;
    EXPECT_FALSE(make_attack(options)->attack(*raised_model, x).success) << method;
  }
}

// End to end through the command line: info describes the signal, the
// attack's records replay, the gallery draws the leads as traces with the
// decoupled frames outlined, and certification ablates frames.
TEST(Signal, CommandLineAttackReplayAndReport) {
  TempDir dir;
  write_text(dir.file("m.json"), leads_manifest().dump());
  write_samples(dir, 6);
  auto info =
      run_muroan({"info", "--manifest", dir.file("m.json"), "--data", dir.file("samples.jsonl"), "--device", "cpu"});
  ASSERT_EQ(info.code, 0) << info.err;
  EXPECT_NE(info.out.find("1. leads: signal, 3 channels of 400 samples at 200 Hz (2.000 s); 20 points (frames of 20 "
                          "samples, 100.0 ms, on every channel), each decoupled to 0"),
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
      EXPECT_FALSE(r.success) << r.id;  // decoupling to 0 never raises the energy
      continue;
    }
    ++successes;
    EXPECT_TRUE(r.success) << r.id;
    EXPECT_EQ(r.decoupled_points, 2) << r.id;
    EXPECT_EQ(r.total_points, 23) << r.id;  // 20 frames and 3 words
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
  EXPECT_EQ(image["modality"], "leads");
  EXPECT_EQ(image["kind"], "traces");
  // 20 frames of 20 samples: 20 columns a frame (400 columns), three bands.
  EXPECT_EQ(image["width"], 400);
  const int64_t height = image["height"].get<int64_t>();
  EXPECT_EQ(height % 3, 0);
  EXPECT_EQ(image["regions"], nlohmann::json::array({{60, 0, 40, height}}));  // frames 3-4, every lead
  std::ifstream html_in(out + "/report.html");
  const std::string html((std::istreambuf_iterator<char>(html_in)), std::istreambuf_iterator<char>());
  EXPECT_NE(html.find("leads (traces): decoupled"), std::string::npos);

  // Certification ablates frames: keeping 10 of the 20, both decisive frames
  // go with probability C(18,8)/C(20,10) = 45/190, and only then is an alarm
  // routine; decoupling never makes a routine sample an alarm.
  const std::string cert = dir.file("cert");
  auto certify = run_muroan({"certify", "--manifest", dir.file("m.json"), "--keep", "10,all", "--samples", "0",
                             "--device", "cpu", "--quiet", "--out", cert});
  ASSERT_EQ(certify.code, 0) << certify.err;
  std::ifstream cert_in(cert + "/certify.jsonl");
  int certified = 0;
  for (std::string line; std::getline(cert_in, line); ++certified) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["keep"]["leads"], 10);
    const double routine_share = j["counts"][0].get<double>() / 1000.0;
    if (j["label"] == 1)
      EXPECT_NEAR(routine_share, 45.0 / 190.0, 0.05) << line;  // binomial sd 0.013
    else
      EXPECT_EQ(routine_share, 1.0) << line;
  }
  EXPECT_EQ(certified, 6);
}

// The built-in frame encoder on a signal: a frame's samples on any channel
// reach that frame's features and, through the two convolutions, at most two
// neighbours on each side; the built-in model takes signals in every fusion
// that takes M inputs (here with tokens) and learns a small batch.
TEST(Signal, TheBuiltInModelEncodesFramesOfEveryChannel) {
  torch::manual_seed(5);
  const auto spec = ModalitySpec::signal("leads", 160, kRate, kFrame, {0.0, 0.0});
  FrameEncoder encoder(spec, 8);
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({1, 2, 160});
  for (int64_t channel : {0, 1}) {
    auto changed_x = x.clone();
    changed_x[0][channel].narrow(0, 20, 20).zero_();  // frame 1 of one channel
    const auto changed = (encoder->forward(x).tokens[0] - encoder->forward(changed_x).tokens[0]).abs().amax(1);
    EXPECT_GT(changed[1].item<double>(), 0.0) << channel;
    for (int64_t f = 4; f < 8; ++f) EXPECT_EQ(changed[f].item<double>(), 0.0) << "frame " << f;
  }
  EXPECT_THROW(encoder->forward(torch::randn({1, 160})), c10::Error);

  for (const std::string fusion : {"concat", "xattn", "signal-only"}) {
    SCOPED_TRACE(fusion);
    ModelConfig c;
    c.fusion = fusion;
    c.num_classes = 2;
    c.dim = 16;
    c.embed_dim = 8;
    c.head_hidden = 16;
    c.inputs = {spec, ModalitySpec::tokens("note", 5, 0, 10)};
    torch::manual_seed(1);
    MultimodalNet net(c);
    // The class is the sign of channel 1's mean in frame 2: only a signal path can learn it.
    auto leads = torch::randn({16, 2, 160}) * 0.1;
    const auto labels = torch::arange(16, torch::kLong) % 2;
    leads.select(1, 1).narrow(1, 40, 20).add_((labels.to(torch::kFloat) * 2 - 1).unsqueeze(1));
    const Inputs batch = {leads, torch::randint(1, 10, {16, 5}, torch::kLong)};
    torch::GradMode::set_enabled(true);
    torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(1e-2));
    net->train();
    for (int step = 0; step < 60; ++step) {
      opt.zero_grad();
      torch::nn::functional::cross_entropy(net->forward(batch), labels).backward();
      opt.step();
    }
    torch::GradMode::set_enabled(false);
    net->eval();
    EXPECT_EQ(net->forward(batch).argmax(1).eq(labels).sum().item<int64_t>(), 16);
  }
}

}  // namespace
}  // namespace muroan
