// The command-line program, run in-process: bad input gives one clear line and
// a non-zero exit code; train -> eval -> bench works end to end on a tiny task.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include "cli_app.h"
#include "cli_run.h"
#include "muroan/error.h"
#include "muroan/train_run.h"

namespace muroan::cli {
namespace {

namespace fs = std::filesystem;

using Run = testing_util::CliRun;
using testing_util::expect_one_line_error;

Run run(const std::vector<std::string>& args) { return testing_util::run_muroan(args); }

int count_lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

TEST(Cli, ListsTasksAndModels) {
  auto t = run({"tasks"});
  EXPECT_EQ(t.code, 0);
  EXPECT_NE(t.out.find("fashion-match"), std::string::npos);
  EXPECT_NE(t.out.find("shapes-vqa"), std::string::npos);
  EXPECT_NE(t.out.find("training: at most 60 epochs, Adam 0.001, patience 10"), std::string::npos) << t.out;
  auto m = run({"models"});
  EXPECT_EQ(m.code, 0);
  for (const char* f :
       {"concat", "sum", "product", "gmu", "tensor", "lowrank", "bilinear", "film", "xattn", "transformer", "late"})
    EXPECT_NE(m.out.find(std::string(f) + " "), std::string::npos) << f;
}

TEST(Cli, RefusesUnknownTaskFusionAndFlags) {
  expect_one_line_error(run({"train", "--task", "imagenet"}), "unknown task 'imagenet'");
  expect_one_line_error(run({"train", "--fusion", "magic"}), "unknown fusion 'magic'");
  expect_one_line_error(run({"train", "--bogus"}), "--bogus");
  expect_one_line_error(run({"train", "--epochs", "ten"}), "--epochs");
  expect_one_line_error(run({"train", "--epochs", "-1"}), "--epochs");
  expect_one_line_error(run({"train", "--lr", "-0.1"}), "--lr");
  expect_one_line_error(run({"train", "--device", "tpu"}), "--device");
  expect_one_line_error(run({"frobnicate"}), "frobnicate");
  expect_one_line_error(run({"eval", "--checkpoint", "/nonexistent/dir"}), "/nonexistent/dir");
}

// 0 epochs, learning rate or patience: the task's recipe; a value given stays.
TEST(Cli, TrainingRecipeOfTheTask) {
  const TrainOptions shapes = with_task_recipe(task_recipe(), "shapes-vqa");
  EXPECT_EQ(shapes.epochs, 60);
  EXPECT_EQ(shapes.learning_rate, 1e-3);
  EXPECT_EQ(shapes.patience, 10);
  const TrainOptions fashion = with_task_recipe(task_recipe(), "fashion-match");
  EXPECT_EQ(fashion.epochs, 12);  // what the main job trains with
  EXPECT_EQ(fashion.learning_rate, 5e-4);
  EXPECT_EQ(fashion.patience, 3);
  TrainOptions given = task_recipe();
  given.epochs = 2;
  given.patience = 1;
  const TrainOptions mixed = with_task_recipe(given, "spoken-fashion");
  EXPECT_EQ(mixed.epochs, 2);
  EXPECT_EQ(mixed.learning_rate, 5e-4);
  EXPECT_EQ(mixed.patience, 1);
  EXPECT_EQ(TrainRunOptions().train.epochs, 0);  // library default: the task's
  EXPECT_THROW(with_task_recipe(given, "imagenet"), UsageError);
}

TEST(Cli, ThreadsBeforeOrAfterTheCommand) {
  const int before = at::get_num_threads();
  ASSERT_EQ(run({"--threads", "2", "tasks"}).code, 0);
  EXPECT_EQ(at::get_num_threads(), 2);
  ASSERT_EQ(run({"models", "--threads", "1"}).code, 0);
  EXPECT_EQ(at::get_num_threads(), 1);
  expect_one_line_error(run({"tasks", "--threads", "-3"}), "--threads");
  at::set_num_threads(before);
}

// The same seed trains the same weights, byte for byte (a whole training, not
// only its initialisation); another seed trains others.
TEST(Cli, TrainingTwiceWithASeedWritesIdenticalWeights) {
  const fs::path dir = fs::temp_directory_path() / "muroan_cli_determinism";
  fs::remove_all(dir);
  auto train = [&](const std::string& name, const std::string& seed) {
    const std::string out = (dir / name).string();
    auto t = run({"train",       "--task",
                  "shapes-vqa",  "--fusion",
                  "concat",      "--epochs",
                  "2",           "--train-size",
                  "64",          "--val-size",
                  "32",          "--test-size",
                  "32",          "--seed",
                  seed,          "--device",
                  "cpu",         "--quiet",
                  "--out",       out,
                  "--cache-dir", (dir / "cache").string()});
    EXPECT_EQ(t.code, 0) << t.err;
    std::ifstream in(fs::path(out) / "weights.pt", std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  const std::string a = train("a", "3"), b = train("b", "3"), c = train("c", "4");
  ASSERT_FALSE(a.empty());
  EXPECT_TRUE(a == b) << "two trainings with seed 3 wrote different weights";
  EXPECT_FALSE(a == c) << "seeds 3 and 4 wrote the same weights";
}

TEST(Cli, TrainThenEvalReproducesTheTestAccuracy) {
  const fs::path dir = fs::temp_directory_path() / "muroan_cli_test";
  fs::remove_all(dir);
  const std::string out = (dir / "ck").string();
  const std::string cache = (dir / "cache").string();
  auto t = run({"train",        "--task",  "shapes-vqa", "--fusion", "concat",      "--epochs", "1",
                "--train-size", "64",      "--val-size", "32",       "--test-size", "32",       "--device",
                "cpu",          "--quiet", "--out",      out,        "--cache-dir", cache});
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_NE(t.out.find("test accuracy"), std::string::npos);
  std::ifstream in(fs::path(out) / "checkpoint.json");
  const auto j = nlohmann::json::parse(in);
  const double test_acc = j["training"]["test_accuracy"].get<double>();
  EXPECT_EQ(j["task"], "shapes-vqa");
  EXPECT_EQ(j["model"]["fusion"], "concat");

  auto e = run({"eval", "--checkpoint", out, "--device", "cpu", "--cache-dir", cache});
  ASSERT_EQ(e.code, 0) << e.err;
  char expected[64];
  std::snprintf(expected, sizeof expected, "test accuracy %.4f on 32 samples", test_acc);
  EXPECT_NE(e.out.find(expected), std::string::npos) << e.out;

  // muroan bench on the same checkpoint: forward rows/s per batch size, then an attack's queries/s.
  const std::string bench_json = (dir / "bench.json").string();
  auto b = run({"bench", "--checkpoint", out, "--device", "cpu", "--cache-dir", cache, "--batch-sizes", "1,4",
                "--thread-counts", "1", "--methods", "greedy", "--samples", "2", "--min-seconds", "0.01", "--out",
                bench_json});
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_NE(b.out.find("| 1 |"), std::string::npos) << b.out;
  std::ifstream bin(bench_json);
  const auto bj = nlohmann::json::parse(bin);
  ASSERT_EQ(bj["forward"].size(), 2u);
  EXPECT_EQ(bj["forward"][1]["batch"], 4);
  EXPECT_GT(bj["forward"][1]["rows_per_second"].get<double>(), 0.0);
  EXPECT_EQ(bj["forward"][1]["rows"].get<int64_t>() % 4, 0);
  ASSERT_EQ(bj["attacks"].size(), 1u);
  EXPECT_EQ(bj["attacks"][0]["method"], "greedy");
  EXPECT_LE(bj["attacks"][0]["samples"].get<int64_t>(), 2);
  if (bj["attacks"][0]["samples"].get<int64_t>() > 0) EXPECT_GT(bj["attacks"][0]["queries"].get<int64_t>(), 0);
  EXPECT_EQ(bj["attacks"][0]["packed_passes"].get<int64_t>(), 0);  // one search at a time on a CPU: nothing packed
  expect_one_line_error(run({"bench", "--checkpoint", out, "--cache-dir", cache, "--batch-sizes", "0"}),
                        "--batch-sizes");
  expect_one_line_error(run({"bench", "--checkpoint", out, "--cache-dir", cache, "--methods", "magic"}),
                        "unknown method 'magic'");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace muroan::cli
