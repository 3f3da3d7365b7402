// The sample-parallel scheduler (sample_scheduler.h): packing, order, errors,
// gradients, shared encodings; and measurements that do not depend on it.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <numeric>
#include <sstream>
#include <thread>

#include "muroan/checkpoint.h"
#include "muroan/error.h"
#include "muroan/measurement.h"
#include "muroan/multimodal_net.h"
#include "muroan/sample_scheduler.h"
#include "muroan/throughput.h"
#include "tiny_models.h"

namespace muroan {
namespace {

namespace fs = std::filesystem;
using testing::Rule;
using testing::tiny_sample;
using testing::TinyModel;

// logits = x W, one input of 4 features; notes the rows of every call.
class CountingModel : public Classifier {
 public:
  CountingModel() : weight_(torch::arange(12, torch::kFloat).reshape({4, 3}) / 10) {
    specs_ = {ModalitySpec::tabular("x", {"a", "b", "c", "d"}, {0, 0, 0, 0})};
  }
  std::string name() const override { return "counting"; }
  const std::vector<ModalitySpec>& modalities() const override { return specs_; }
  const std::vector<std::string>& classes() const override { return classes_; }
  torch::Device device() const override { return torch::kCPU; }
  bool has_fusion() const override { return false; }
  torch::Tensor fusion(const Inputs&) override { throw Error("no fusion"); }
  torch::Tensor logits(const Inputs& in) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      call_rows.push_back(in[0].size(0));
    }
    // Row by row, so that a row's answer cannot depend on the rest of its pass.
    return (in[0].unsqueeze(2) * weight_.unsqueeze(0)).sum(1);
  }
  std::vector<int64_t> call_rows;

 private:
  torch::Tensor weight_;
  std::vector<ModalitySpec> specs_;
  std::vector<std::string> classes_{"a", "b", "c"};
  std::mutex mu_;
};

// Each sample asks `queries` questions of `rows` rows whose values depend on
// the sample and the question; answers are kept per sample.
struct Asker {
  int64_t queries = 5, rows = 3;
  std::vector<std::vector<torch::Tensor>> answers;
  torch::Tensor question(int64_t i, int64_t q) const {
    return torch::arange(rows * 4, torch::kFloat).reshape({rows, 4}) * static_cast<float>(i + 1) +
           static_cast<float>(q);
  }
  void operator()(int64_t i, Classifier& model) {
    torch::NoGradGuard no_grad;
    for (int64_t q = 0; q < queries; ++q) answers[static_cast<size_t>(i)].push_back(model.logits({question(i, q)}));
  }
};

TEST(SampleScheduler, PacksTheQueriesOfRunningSearchesIntoSharedPasses) {
  for (const int64_t pass_rows : {64, 6}) {
    SCOPED_TRACE(pass_rows);
    CountingModel model;
    SampleScheduler scheduler(model, pass_rows);
    Asker asker;
    asker.answers.resize(8);
    std::vector<int64_t> written;
    scheduler.run(8, 4, std::ref(asker), [&](int64_t i) { written.push_back(i); });
    std::vector<int64_t> order(8);
    std::iota(order.begin(), order.end(), 0);
    EXPECT_EQ(written, order);
    // 8 samples, 4 at a time, 5 questions each: 10 rounds of 4 questions of 3 rows.
    const int64_t per_pass = pass_rows == 64 ? 12 : 6;
    EXPECT_EQ(scheduler.passes(), 8 * 5 * 3 / per_pass);
    EXPECT_EQ(scheduler.rows(), 8 * 5 * 3);
    EXPECT_EQ(model.call_rows, std::vector<int64_t>(static_cast<size_t>(8 * 5 * 3 / per_pass), per_pass));
    CountingModel alone;
    for (int64_t i = 0; i < 8; ++i)
      for (int64_t q = 0; q < 5; ++q)
        EXPECT_TRUE(torch::equal(asker.answers[static_cast<size_t>(i)][static_cast<size_t>(q)],
                                 alone.logits({asker.question(i, q)})))
            << "sample " << i << " question " << q;
  }
}

TEST(SampleScheduler, OneAtATimeUsesTheModelItself) {
  CountingModel model;
  SampleScheduler scheduler(model, 64);
  std::vector<const Classifier*> seen;
  scheduler.run(
      3, 1, [&](int64_t, Classifier& m) { seen.push_back(&m); }, [](int64_t) {});
  EXPECT_EQ(seen, std::vector<const Classifier*>(3, &model));
}

TEST(SampleScheduler, SearchesOfDifferentLengthsAndSamplesThatAskNothing) {
  CountingModel model;
  SampleScheduler scheduler(model, 1000);
  std::vector<int64_t> asked(20, 0);
  scheduler.run(
      20, 6,
      [&](int64_t i, Classifier& m) {
        torch::NoGradGuard no_grad;
        for (int64_t q = 0; q < i % 4; ++q) {  // 0 to 3 questions
          const auto x = torch::full({1 + q, 4}, static_cast<float>(i));
          const auto y = m.logits({x});
          ASSERT_EQ(y.size(0), 1 + q);
          EXPECT_TRUE(torch::allclose(y, x.narrow(1, 0, 1).expand({1 + q, 3}) * torch::tensor({1.8F, 2.2F, 2.6F})));
          ++asked[static_cast<size_t>(i)];
        }
      },
      [](int64_t) {});
  for (int64_t i = 0; i < 20; ++i) EXPECT_EQ(asked[static_cast<size_t>(i)], i % 4);
}

TEST(SampleScheduler, AFailedSearchStopsTheRunAfterTheEarlierResults) {
  CountingModel model;
  SampleScheduler scheduler(model, 64);
  std::vector<int64_t> written;
  Asker asker;
  asker.answers.resize(12);
  try {
    scheduler.run(
        12, 4,
        [&](int64_t i, Classifier& m) {
          if (i == 5) throw Error("sample 5 failed");
          asker(i, m);
        },
        [&](int64_t i) { written.push_back(i); });
    FAIL() << "the failure was lost";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "sample 5 failed");
  }
  EXPECT_EQ(written, (std::vector<int64_t>{0, 1, 2, 3, 4}));

  // A model that fails answers every search of its pass with the error.
  class Failing : public CountingModel {
   public:
    torch::Tensor logits(const Inputs& in) override {
      if (in[0].max().item<float>() > 1000) throw Error("model failed");
      return CountingModel::logits(in);
    }
  } failing;
  SampleScheduler s2(failing, 64);
  written.clear();
  EXPECT_THROW(s2.run(
                   6, 3,
                   [](int64_t i, Classifier& m) {
                     torch::NoGradGuard no_grad;
                     m.logits({torch::full({2, 4}, i == 4 ? 5000.0F : 1.0F)});
                   },
                   [&](int64_t i) { written.push_back(i); }),
               Error);
  EXPECT_EQ(written, (std::vector<int64_t>{0, 1, 2}));

  // A failure to write (a full disk) stops the run too.
  written.clear();
  asker.answers.assign(12, {});
  EXPECT_THROW(scheduler.run(12, 4, std::ref(asker),
                             [&](int64_t i) {
                               if (i == 2) throw Error("disk full");
                               written.push_back(i);
                             }),
               Error);
  EXPECT_EQ(written, (std::vector<int64_t>{0, 1}));
}

TEST(SampleScheduler, GradientQueriesGoStraightToTheModel) {
  CountingModel model;
  SampleScheduler scheduler(model, 64);
  std::vector<torch::Tensor> grads(4);
  scheduler.run(
      4, 4,
      [&](int64_t i, Classifier& m) {
        auto x = torch::full({1, 4}, static_cast<float>(i)).requires_grad_(true);
        const auto y = m.logits({x});  // with gradients: not packed
        grads[static_cast<size_t>(i)] = torch::autograd::grad({y.select(1, 0).sum()}, {x})[0];
        torch::NoGradGuard no_grad;
        m.logits({x.detach()});
      },
      [](int64_t) {});
  for (const auto& g : grads) EXPECT_TRUE(torch::allclose(g, torch::tensor({{0.0F, 0.3F, 0.6F, 0.9F}})));
  // Four single-row gradient calls, then one packed pass of the four samples.
  std::vector<int64_t> rows = model.call_rows;
  std::sort(rows.begin(), rows.end());
  EXPECT_EQ(rows, (std::vector<int64_t>{1, 1, 1, 1, 4}));
}

// A small built-in concat model over a 16x16 image and 5 tokens.
BuiltinClassifier tiny_concat(int64_t classes) {
  ModelConfig c;
  c.fusion = "concat";
  c.image_channels = 1;
  c.image_height = 16;
  c.image_width = 16;
  c.vocab_size = 10;
  c.max_len = 5;
  c.num_classes = classes;
  c.dim = 16;
  c.embed_dim = 8;
  c.head_hidden = 16;
  std::vector<std::string> names;
  for (int64_t k = 0; k < classes; ++k) names.push_back(std::string(1, static_cast<char>('a' + k)));
  return BuiltinClassifier(MultimodalNet(c),
                           {ModalitySpec::image("image", 1, 16, 16), ModalitySpec::tokens("text", 5, 0, 10)}, names,
                           "tiny-concat", torch::kCPU);
}

// Queries that share an encoding keep sharing it when packed: the built-in
// model encodes one row per group and answers as it does group by group.
TEST(SampleScheduler, SharedEncodingsOfSeveralSamplesInOnePass) {
  torch::manual_seed(3);
  BuiltinClassifier model = tiny_concat(3);
  torch::NoGradGuard no_grad;
  // Three samples: image shared, 2, 3 and 1 token rows.
  const auto images = torch::rand({3, 1, 16, 16});
  const auto tokens = torch::randint(1, 10, {6, 5});
  const std::vector<int64_t> groups{2, 3, 1};
  Classifier::QueryBatch packed{{images, tokens}, {true, false}, groups, true};
  const auto a = model.answer(packed);
  int64_t offset = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    const auto gi = static_cast<int64_t>(g);
    const Inputs one{images.narrow(0, gi, 1), tokens.narrow(0, offset, groups[g])};
    const auto alone = model.answer({one, {true, false}, {groups[g]}, true});
    EXPECT_TRUE(torch::allclose(a.logits.narrow(0, offset, groups[g]), alone.logits, 1e-5, 1e-6)) << g;
    EXPECT_TRUE(torch::allclose(a.fusion.narrow(0, offset, groups[g]), alone.fusion, 1e-5, 1e-6)) << g;
    // and the shared answer is the unshared one
    const auto full = model.logits({images.narrow(0, gi, 1).expand({groups[g], 1, 16, 16}), one[1]});
    EXPECT_TRUE(torch::allclose(alone.logits, full, 1e-5, 1e-6)) << g;
    offset += groups[g];
  }
  // The default answer (TinyModel has no answer of its own) agrees, and with
  // two groups makes one pass with the shared rows repeated, not one per group.
  TinyModel tiny(Rule::kAnd);
  const Inputs x0 = tiny_sample(1), x1 = tiny_sample(2);
  const auto t = torch::cat({x0[1], x0[1], x1[1]});
  const auto both = tiny.answer({{torch::cat({x0[0], x1[0]}), t}, {true, false}, {2, 1}, false});
  EXPECT_EQ(tiny.calls.load(), 1);
  EXPECT_EQ(tiny.shared_rows, (std::vector<int64_t>{0, 0}));
  EXPECT_TRUE(
      torch::equal(both.logits.narrow(0, 0, 2), tiny.logits({x0[0].expand({2, 1, 56, 56}), t.narrow(0, 0, 2)})));
  EXPECT_TRUE(torch::equal(both.logits.narrow(0, 2, 1), tiny.logits(x1)));
  // One group: the logits_shared call, its row counted as shared.
  const auto one = tiny.answer({{x1[0], x1[1]}, {true, false}, {1}, false});
  EXPECT_TRUE(torch::equal(one.logits, tiny.logits(x1)));
  EXPECT_EQ(tiny.shared_rows, (std::vector<int64_t>{1, 0}));
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

MeasurementOptions options_in(const std::string& name, int64_t parallel) {
  MeasurementOptions o;
  const fs::path dir = fs::path(MUROAN_BINARY_DIR) / "test-output" / "scheduler" / name;
  fs::remove_all(dir);
  o.out_dir = dir.string();
  o.quiet = true;
  o.record_seconds = false;
  o.parallel_samples = parallel;
  return o;
}

// Every method, one sample at a time and 4 or 16 at once: the same bytes.
// The tiny model's arithmetic is row by row, so packing cannot move a bit.
TEST(SampleParallelMeasurement, EveryMethodWritesTheSameResults) {
  constexpr int64_t kSamples = 10;
  std::vector<torch::Tensor> images, tokens;
  for (int64_t i = 0; i < kSamples; ++i) {
    const auto x = tiny_sample(static_cast<uint64_t>(200 + i), i % 3 != 1);
    images.push_back(x[0]);
    tokens.push_back(x[1]);
  }
  const Inputs inputs{torch::cat(images), torch::cat(tokens)};
  auto labels = torch::ones({kSamples}, torch::kLong);
  labels[2] = 0;  // misclassified: not attacked
  for (const auto& info : attack_catalog()) {
    SCOPED_TRACE(info.name);
    AttackOptions a;
    a.method = info.name;
    a.batch_size = 16;
    std::string first;
    for (const int64_t parallel : {1, 4, 16}) {
      TinyModel model(Rule::kAnd);
      const auto r = run_measurement(model, inputs, labels, {}, {}, a,
                                     options_in(info.name + "-" + std::to_string(parallel), parallel));
      const std::string text = read_text(r.jsonl_path);
      ASSERT_EQ(r.records.size(), static_cast<size_t>(kSamples));
      if (parallel == 1) {
        first = text;
        EXPECT_GT(r.summary.attacked, 0);
      } else {
        EXPECT_EQ(text, first) << "parallel " << parallel;
      }
    }
  }
}

// Under the scheduler only the thread that called run_measurement runs the
// model: packed queries, the numbers asked of alone(), and the forward and
// backward passes of the gradient attacks (run_alone). Search threads that
// ran passes of their own would each start a LibTorch thread pool.
TEST(SampleParallelMeasurement, OnlyTheCallingThreadRunsTheModel) {
  class ThreadNoting : public TinyModel {
   public:
    ThreadNoting() : TinyModel(Rule::kAnd) {}
    torch::Tensor logits(const Inputs& in) override { return note(), TinyModel::logits(in); }
    torch::Tensor fusion(const Inputs& in) override { return note(), TinyModel::fusion(in); }
    torch::Tensor logits_from_embeddings(const Inputs& emb, const Inputs& original) override {
      return note(), TinyModel::logits_from_embeddings(emb, original);
    }
    torch::Tensor embed_tokens(size_t m, const torch::Tensor& ids) override {
      return note(), TinyModel::embed_tokens(m, ids);
    }
    std::vector<std::thread::id> seen() {
      std::lock_guard<std::mutex> lock(mu_);
      return threads_;
    }

   private:
    void note() {
      std::lock_guard<std::mutex> lock(mu_);
      threads_.push_back(std::this_thread::get_id());
    }
    std::mutex mu_;
    std::vector<std::thread::id> threads_;
  };
  constexpr int64_t kSamples = 8;
  std::vector<torch::Tensor> images, tokens;
  for (int64_t i = 0; i < kSamples; ++i) {
    const auto x = tiny_sample(static_cast<uint64_t>(300 + i), i % 2 == 0);
    images.push_back(x[0]);
    tokens.push_back(x[1]);
  }
  const Inputs inputs{torch::cat(images), torch::cat(tokens)};
  const auto labels = torch::ones({kSamples}, torch::kLong);
  for (const std::string method : {"greedy", "reference", "saliency", "pgd"}) {
    SCOPED_TRACE(method);
    for (const Objective objective : {Objective::kMargin, Objective::kFusion}) {
      SCOPED_TRACE(objective_name(objective));
      AttackOptions a;
      a.method = method;
      a.objective = objective;
      ThreadNoting model;
      const auto r = run_measurement(model, inputs, labels, {}, {}, a,
                                     options_in(method + "-threads-" + objective_name(objective), 4));
      EXPECT_GT(r.summary.attacked, 0);
      const auto seen = model.seen();
      ASSERT_FALSE(seen.empty());
      const auto here = std::this_thread::get_id();
      EXPECT_EQ(std::count(seen.begin(), seen.end(), here), static_cast<std::ptrdiff_t>(seen.size()))
          << "of " << seen.size() << " passes";
    }
  }
}

// A model with matrix products (the built-in concat): the sets, decisions and
// query counts are the same at any parallelism, and so are the reported numbers
// (asked of the model alone).
TEST(SampleParallelMeasurement, BuiltInModelGivesTheSameSetsAndNumbers) {
  torch::manual_seed(5);
  BuiltinClassifier model = tiny_concat(2);
  constexpr int64_t kSamples = 12;
  // No word twice in a sentence: two deletions that give the same row would
  // tie exactly, and which one wins would be up to rounding.
  std::vector<torch::Tensor> sentences;
  for (int64_t i = 0; i < kSamples; ++i) sentences.push_back(torch::randperm(9, torch::kLong).narrow(0, 0, 5) + 1);
  const Inputs inputs{torch::randn({kSamples, 1, 16, 16}), torch::stack(sentences)};
  torch::Tensor labels;
  {
    torch::NoGradGuard no_grad;
    labels = model.logits(inputs).argmax(1);  // every sample attacked
  }
  for (const std::string method : {"greedy", "reference", "saliency", "sparse-rs"}) {
    SCOPED_TRACE(method);
    AttackOptions a;
    a.method = method;
    a.patch = 4;
    a.max_queries = 400;
    const auto one = run_measurement(model, inputs, labels, {}, {}, a, options_in("builtin-" + method + "-1", 1));
    const auto many = run_measurement(model, inputs, labels, {}, {}, a, options_in("builtin-" + method + "-8", 8));
    EXPECT_EQ(read_text(one.jsonl_path), read_text(many.jsonl_path));
  }
}

// muroan bench's record of the packing: every counted query of greedy but
// each search's clean query (counted, and asked of the model alone) was
// answered in a packed pass.
TEST(SampleParallelMeasurement, ThroughputCountsThePackedPasses) {
  std::vector<torch::Tensor> images, tokens;
  for (int64_t i = 0; i < 6; ++i) {
    const auto x = tiny_sample(static_cast<uint64_t>(400 + i), true);
    images.push_back(x[0]);
    tokens.push_back(x[1]);
  }
  Split data;
  data.inputs = {torch::cat(images), torch::cat(tokens)};
  data.labels = torch::ones({6}, torch::kLong);
  AttackOptions a;
  a.method = "greedy";
  TinyModel model(Rule::kAnd);
  const auto one = measure_attack_throughput(model, data, a, 6, 1);
  EXPECT_EQ(one.packed_passes, 0);
  const auto packed = measure_attack_throughput(model, data, a, 6, 3);
  EXPECT_EQ(packed.samples, 6);
  EXPECT_EQ(packed.queries, one.queries);
  EXPECT_GT(packed.packed_passes, 0);
  EXPECT_EQ(packed.packed_rows, packed.queries - packed.samples);
}

TEST(SampleParallelMeasurement, RejectsANegativeParallelism) {
  TinyModel model(Rule::kAnd);
  const Inputs x = tiny_sample(1);
  EXPECT_THROW(
      run_measurement(model, x, torch::ones({1}, torch::kLong), {}, {}, AttackOptions{}, options_in("negative", -1)),
      UsageError);
}

}  // namespace
}  // namespace muroan
