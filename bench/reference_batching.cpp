// Batched versus one-query-at-a-time evaluation of the reference decoupling
// attack: the same algorithm on the same model and samples, with
// batch_size = 256 (each quadtree level, the token candidates and each batch of
// combinations in one forward pass) and batch_size = 1 (one forward pass per
// query). Reports seconds per sample, queries per second and the ratio.
//
//   ./build/bench/bench_reference_batching [--benchmark_min_time=2]
//
// The model is a small CNN + GRU classifier shaped like the built-in nets (random
// weights, seeded) with a planted rule so that the quadtree search recurses:
// occluding any of three 7x7 regions or deleting the key token flips the
// decision, as a trained model's evidence would. A "light" variant keeps only
// the planted rule: its forward pass costs little, so it shows the attack's own
// per-query overhead. Swapping in a trained checkpoint's Classifier changes only
// make_model(); the attack code is the same. BM_Forward gives the model's rows
// per second by batch size: on a CPU whose convolutions do not get cheaper per
// row in a batch, batching saves only the per-call overhead.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>

#include "muroan/attack.h"
#include "muroan/classifier.h"
#include "muroan/error.h"

namespace {

using muroan::Inputs;
using muroan::ModalitySpec;

constexpr int64_t kSide = 56;
constexpr int64_t kMaxLen = 12;
constexpr int64_t kVocab = 64;
constexpr int64_t kKey = 7;
constexpr int64_t kSamples = 8;
constexpr int64_t kRegions[3][2] = {{7, 7}, {35, 14}, {21, 42}};  // (x, y) of the 7x7 regions

// The shape of the built-in nets (src/models/multimodal_net.cpp): three
// conv-relu-maxpool blocks over the image, token embedding + GRU over the text,
// concatenation and an MLP head.
struct BenchNetImpl : torch::nn::Module {
  BenchNetImpl() {
    torch::nn::Sequential body;
    int64_t in = 1;
    for (int64_t out : {16, 32, 64}) {
      body->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, /*kernel_size=*/3).padding(1)));
      body->push_back(torch::nn::ReLU());
      body->push_back(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(/*kernel_size=*/2)));
      in = out;
    }
    image = register_module("image", body);
    project = register_module("project", torch::nn::Linear(64 * 7 * 7, 64));
    embed = register_module("embed", torch::nn::Embedding(torch::nn::EmbeddingOptions(kVocab, 32).padding_idx(0)));
    gru = register_module("gru", torch::nn::GRU(torch::nn::GRUOptions(32, 64).batch_first(true)));
    hidden = register_module("hidden", torch::nn::Linear(128, 64));
    head = register_module("head", torch::nn::Linear(64, 2));
  }
  torch::nn::Sequential image{nullptr};
  torch::nn::Linear project{nullptr};
  torch::nn::Embedding embed{nullptr};
  torch::nn::GRU gru{nullptr};
  torch::nn::Linear hidden{nullptr}, head{nullptr};
};
TORCH_MODULE(BenchNet);

class BenchClassifier : public muroan::Classifier {
 public:
  // light: skip the CNN and GRU (a model whose forward pass costs little, so that
  // the per-call overhead dominates).
  explicit BenchClassifier(bool light) : light_(light) {
    torch::manual_seed(0);
    net_ = BenchNet();
    net_->eval();
    specs_ = {ModalitySpec::image("image", 1, kSide, kSide), ModalitySpec::tokens("tokens", kMaxLen, 0, kVocab)};
  }
  std::string name() const override { return "bench-cnn-gru"; }
  const std::vector<ModalitySpec>& modalities() const override { return specs_; }
  const std::vector<std::string>& classes() const override { return classes_; }
  torch::Device device() const override { return torch::kCPU; }
  bool has_fusion() const override { return false; }
  torch::Tensor fusion(const Inputs&) override { throw muroan::Error("no fusion"); }

  torch::Tensor logits(const Inputs& in) override {
    const auto& x = in[0];
    torch::Tensor learned = torch::zeros({x.size(0), 2});
    if (!light_) learned = learned_logits(in);
    // The planted evidence: min over three regions and the key token.
    std::vector<torch::Tensor> evidence;
    for (const auto& r : kRegions)
      evidence.push_back(x.select(1, 0).slice(1, r[1], r[1] + 7).slice(2, r[0], r[0] + 7).mean({1, 2}));
    evidence.push_back((in[1] == kKey).to(torch::kFloat).sum(1));
    const auto margin = std::get<0>(torch::stack(evidence, 1).min(1)) - 0.5;
    return learned * 0.01 + torch::stack({torch::zeros_like(margin), margin}, 1);
  }

 private:
  torch::Tensor learned_logits(const Inputs& in) {
    const auto& x = in[0];
    const auto h = torch::relu(net_->project(net_->image->forward(x).flatten(1)));
    const auto mask = (in[1] != 0).to(torch::kFloat).unsqueeze(2);
    const auto tokens = std::get<0>(net_->gru(net_->embed(in[1])));
    const auto t = (tokens * mask).sum(1) / mask.sum(1).clamp_min(1.0);
    return net_->head(torch::relu(net_->hidden(torch::cat({h, t}, 1))));
  }

  bool light_;
  BenchNet net_{nullptr};
  std::vector<ModalitySpec> specs_;
  std::vector<std::string> classes_{"no", "yes"};
};

// The model under test.
std::unique_ptr<muroan::Classifier> make_model(bool light) { return std::make_unique<BenchClassifier>(light); }

std::vector<Inputs> make_samples() {
  torch::manual_seed(1);
  std::vector<Inputs> out;
  for (int64_t i = 0; i < kSamples; ++i) {
    auto image = torch::rand({1, 1, kSide, kSide}) * 0.9;
    for (const auto& r : kRegions) image.slice(2, r[1], r[1] + 7).slice(3, r[0], r[0] + 7).fill_(1.0);
    auto tokens = torch::randint(8, kVocab, {1, kMaxLen}, torch::kLong);
    tokens[0][i % 10] = kKey;
    tokens.slice(1, 10, kMaxLen).fill_(0);  // 10 real tokens
    out.push_back({image, tokens});
  }
  return out;
}

struct Totals {
  double seconds = 0;
  int64_t samples = 0, queries = 0;
};
std::map<std::pair<int64_t, int64_t>, Totals> g_totals;  // by (light, batch size)

void BM_Reference(benchmark::State& state) {
  const bool light = state.range(0) != 0;
  const int64_t batch = state.range(1);
  torch::NoGradGuard no_grad;
  const auto model = make_model(light);
  const auto samples = make_samples();
  muroan::AttackOptions options;
  options.method = "reference";
  options.batch_size = batch;
  auto attack = muroan::make_attack(options);
  int64_t queries = 0, successes = 0, samples_done = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    for (uint64_t i = 0; i < samples.size(); ++i) {
      const auto r = attack->attack(*model, samples[i], i);
      queries += r.forward_passes;
      successes += r.success ? 1 : 0;
    }
    samples_done += static_cast<int64_t>(samples.size());
    auto& t = g_totals[{state.range(0), batch}];
    t.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    t.samples += static_cast<int64_t>(samples.size());
    t.queries = queries;
  }
  state.counters["queries/s"] = benchmark::Counter(static_cast<double>(queries), benchmark::Counter::kIsRate);
  state.counters["queries/sample"] = static_cast<double>(queries) / static_cast<double>(samples_done);
  state.counters["asr"] = static_cast<double>(successes) / static_cast<double>(samples_done);
}
BENCHMARK(BM_Reference)
    ->ArgNames({"light", "batch"})
    ->Args({0, 256})
    ->Args({0, 1})
    ->Args({1, 256})
    ->Args({1, 1})
    ->Unit(benchmark::kMillisecond);

// The model alone: seconds per row for a forward pass of `rows` rows.
void BM_Forward(benchmark::State& state) {
  const int64_t rows = state.range(0);
  torch::NoGradGuard no_grad;
  const auto model = make_model(false);
  const auto x = make_samples()[0];
  const Inputs batch{x[0].expand({rows, 1, kSide, kSide}).contiguous(), x[1].expand({rows, kMaxLen}).contiguous()};
  for (auto _ : state) benchmark::DoNotOptimize(model->logits(batch));
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(rows * state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Forward)->ArgName("rows")->Arg(1)->Arg(4)->Arg(12)->Arg(64)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  for (int64_t light : {0, 1}) {
    const auto one = g_totals.find({light, 1});
    const auto many = g_totals.find({light, 256});
    if (one == g_totals.end() || many == g_totals.end()) continue;
    const double per_one = one->second.seconds / static_cast<double>(one->second.samples);
    const double per_many = many->second.seconds / static_cast<double>(many->second.samples);
    std::printf(
        "reference attack, %s model, %lld samples, %d torch threads: batched %.2f ms/sample, "
        "one query at a time %.2f ms/sample, speed-up %.2fx\n",
        light ? "light" : "CNN+GRU", static_cast<long long>(kSamples), torch::get_num_threads(), 1e3 * per_many,
        1e3 * per_one, per_one / per_many);
  }
  return 0;
}
