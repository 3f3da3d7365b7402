// `muroan analyze` and `muroan report`, run in-process on a tiny task: every
// file of the result folder is written, the report is rebuilt byte for byte
// from the JSON, the page is self-contained, and (when Chromium is installed)
// it loads in a headless browser without console errors and shows its tables
// and gallery.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <regex>
#include <sstream>
#include <thread>
#include <tuple>

#include <nlohmann/json.hpp>

#include "cli_app.h"
#include "cli_run.h"
#include "muroan/analysis.h"
#include "muroan/measurement.h"
#include "muroan/png_image.h"
#include "muroan/predict.h"
#include "muroan/sample_data.h"
#include "muroan/torchscript_model.h"

namespace muroan::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kChromium = "/usr/bin/chromium";
const std::string kTinyModel = std::string(MUROAN_SOURCE_DIR) + "/tests/data/tiny.pt";  // tests/data/make_fixtures.py

using testing_util::CliRun;
CliRun run(const std::vector<std::string>& args) { return testing_util::run_muroan(args); }

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool contains(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

// One tiny analysis per test process (ctest runs each test in its own process,
// maybe in parallel: hence the process id in the folder name).
class ReportTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = fs::temp_directory_path() / ("muroan_report_test_" + std::to_string(getpid()));
    fs::remove_all(root_);
    out_ = root_ / "analysis";
    analyze_ = run(analyze_args());
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }

  static std::vector<std::string> analyze_args() {
    return {"analyze",
            "--task",
            "fashion-match",
            "--fusions",
            "concat,gmu",
            "--methods",
            "greedy,reference",
            "--samples",
            "8",
            "--epochs",
            "1",
            "--train-size",
            "64",
            "--val-size",
            "32",
            "--test-size",
            "32",
            "--device",
            "cpu",
            "--quiet",
            "--out",
            out_.string(),
            "--cache-dir",
            (root_ / "cache").string()};
  }

  static fs::path root_, out_;
  static CliRun analyze_;
};

fs::path ReportTest::root_, ReportTest::out_;
CliRun ReportTest::analyze_;

TEST_F(ReportTest, AnalyzeWritesEveryFile) {
  ASSERT_EQ(analyze_.code, 0) << analyze_.err;
  EXPECT_TRUE(contains(analyze_.out, "[4/4] gmu/reference")) << analyze_.out;
  EXPECT_TRUE(contains(analyze_.out, "report.html")) << analyze_.out;
  EXPECT_TRUE(analyze_.err.empty()) << "--quiet prints no progress: " << analyze_.err;
  for (const char* f : {"summary.json", "report.html", "tables/overview.csv", "tables/runs.csv",
                        "tables/found_sizes.csv", "tables/timings.csv"})
    EXPECT_TRUE(fs::exists(out_ / f)) << f;
  for (const char* fusion : {"concat", "gmu"}) {
    EXPECT_TRUE(fs::exists(out_ / "checkpoints" / fusion / "checkpoint.json")) << fusion;
    EXPECT_TRUE(fs::exists(out_ / "checkpoints" / fusion / "weights.pt")) << fusion;
    for (const char* method : {"greedy", "reference"})
      for (const char* f : {"run.json", "results.jsonl", "summary.json", "gallery.json"})
        EXPECT_TRUE(fs::exists(out_ / "runs" / fusion / method / f)) << fusion << "/" << method << "/" << f;
  }
  const auto summary = nlohmann::json::parse(read_file(out_ / "summary.json"));
  EXPECT_EQ(summary["format"], "muroan-analysis/1");
  EXPECT_EQ(summary["runs"].size(), 4u);
  EXPECT_EQ(summary["seed"], 1);
  EXPECT_TRUE(summary["versions"].contains("libtorch"));
  EXPECT_TRUE(summary["timings"]["total_seconds"].is_number());
  EXPECT_TRUE(contains(summary["command"].get<std::string>(), "muroan analyze --task fashion-match"));
  // 8 samples attacked per run, one JSON line each.
  const std::string jsonl = read_file(out_ / "runs" / "concat" / "greedy" / "results.jsonl");
  EXPECT_EQ(std::count(jsonl.begin(), jsonl.end(), '\n'), 8);
  // One CSV row per fusion x method.
  const std::string runs = read_file(out_ / "tables" / "runs.csv");
  EXPECT_EQ(std::count(runs.begin(), runs.end(), '\n'), 5) << runs;
}

TEST_F(ReportTest, ReportRebuildsTheSamePage) {
  ASSERT_EQ(analyze_.code, 0) << analyze_.err;
  const std::string before = read_file(out_ / "report.html");
  const std::string table_before = read_file(out_ / "tables" / "runs.csv");
  fs::remove(out_ / "report.html");
  const CliRun r = run({"report", out_.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_file(out_ / "report.html"), before);
  EXPECT_EQ(read_file(out_ / "tables" / "runs.csv"), table_before);
}

TEST_F(ReportTest, PageIsSelfContainedAndShowsTheAnswer) {
  ASSERT_EQ(analyze_.code, 0) << analyze_.err;
  const std::string html = read_file(out_ / "report.html");
  EXPECT_FALSE(contains(html, "http://"));
  EXPECT_FALSE(contains(html, "https://"));
  EXPECT_FALSE(contains(html, "<script"));
  EXPECT_FALSE(contains(html, "url("));
  // Every src/href is a data URI (or an anchor within the page).
  const std::regex ref(R"re(\b(src|href)\s*=\s*"([^"]*)")re");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), ref); it != std::sregex_iterator(); ++it) {
    const std::string target = (*it)[2];
    EXPECT_TRUE(target.rfind("data:image/png;base64,", 0) == 0 || target.rfind("#", 0) == 0) << target.substr(0, 80);
  }
  EXPECT_TRUE(contains(html, "of samples fooled") || contains(html, "of samples flipped")) << html.substr(0, 3000);
  EXPECT_TRUE(contains(html, "95% CI"));
  EXPECT_TRUE(contains(html, "oracle (fashion-match)"));
  EXPECT_TRUE(contains(html, "<table class=\"overview\""));
  EXPECT_TRUE(contains(html, "<table class=\"runs\""));
  EXPECT_TRUE(contains(html, "<svg class=\"chart\""));
  EXPECT_TRUE(contains(html, "class=\"gallery-item\""));
  EXPECT_TRUE(contains(html, "muroan analyze --task fashion-match"));
}

// The optimality gap that analyze records when the exact method ran: a column
// of the per-fusion tables; a malformed one is refused naming the field.
TEST_F(ReportTest, ShowsTheOptimalityGapWhereTheAnalysisHasOne) {
  ASSERT_EQ(analyze_.code, 0) << analyze_.err;
  const fs::path copy = root_ / "with-gap";
  fs::remove_all(copy);
  fs::copy(out_, copy, fs::copy_options::recursive);
  auto summary = nlohmann::json::parse(read_file(copy / "summary.json"));
  EXPECT_FALSE(contains(read_file(copy / "report.html"), "Exact minimum hit"));
  summary["runs"][0]["optimality"] = {
      {"known_minimum", 5}, {"solved", 4}, {"hit_minimum", 3}, {"mean_excess_points", 1.5}};
  std::ofstream(copy / "summary.json") << summary.dump(2);
  const CliRun r = run({"report", copy.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string html = read_file(copy / "report.html");
  EXPECT_TRUE(contains(html, "Exact minimum hit (mean excess)"));
  EXPECT_TRUE(contains(html, "3 / 5 (+1.50)")) << html.substr(0, 2000);
  summary["runs"][0]["optimality"]["hit_minimum"] = "three";
  std::ofstream(copy / "summary.json") << summary.dump(2);
  const CliRun bad = run({"report", copy.string()});
  EXPECT_NE(bad.code, 0);
  EXPECT_TRUE(contains(bad.err, "optimality")) << bad.err;
  EXPECT_TRUE(contains(bad.err, "hit_minimum")) << bad.err;
}

TEST_F(ReportTest, AnalyzeReusesCheckpointsAndResults) {
  ASSERT_EQ(analyze_.code, 0) << analyze_.err;
  const CliRun again = run(analyze_args());
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_TRUE(contains(again.out, "fashion-match/concat: reusing")) << again.out;
  EXPECT_TRUE(contains(again.out, "8 resumed")) << again.out;
  EXPECT_FALSE(contains(again.out, "(best epoch")) << "trained again: " << again.out;
}

// `muroan analyze` is one library call: the same options through
// muroan::run_analysis reuse the command's checkpoints, resume all its runs,
// and record the same command line and settings.
TEST_F(ReportTest, TheLibraryCallIsTheCommand) {
  ASSERT_EQ(analyze_.code, 0) << analyze_.err;
  const auto before = nlohmann::json::parse(read_file(out_ / "summary.json"));
  AnalysisOptions o;
  o.task = "fashion-match";
  o.fusions = {"concat", "gmu"};
  o.methods = {"greedy", "reference"};
  o.samples = 8;
  o.train.epochs = 1;
  o.data.train_size = 64;
  o.data.val_size = 32;
  o.data.test_size = 32;
  o.data.cache_dir = (root_ / "cache").string();
  o.device = "cpu";
  o.quiet = true;
  o.out = out_.string();
  std::vector<std::string> lines;
  o.log = [&lines](const std::string& line) { lines.push_back(line); };
  EXPECT_EQ(analysis_command_line(o), before["command"].get<std::string>());
  const AnalysisResult r = run_analysis(o);
  EXPECT_EQ(r.report, (out_ / "report.html").string());
  lines.erase(
      std::remove_if(lines.begin(), lines.end(), [](const std::string& l) { return l.rfind("  warning: ", 0) == 0; }),
      lines.end());
  ASSERT_EQ(lines.size(), 6u) << "a line per model and per run";
  EXPECT_TRUE(contains(lines[0], "concat: reusing")) << lines[0];
  EXPECT_TRUE(contains(lines[1], "[1/4] concat/greedy") && contains(lines[1], "8 resumed")) << lines[1];
  const auto after = nlohmann::json::parse(read_file(out_ / "summary.json"));
  EXPECT_EQ(after["settings"], before["settings"]);
  EXPECT_EQ(after["models"].size(), 2u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(after["runs"][i]["summary"]["asr"], before["runs"][i]["summary"]["asr"]);
}

// No analysis needed: every bad name is refused before any work.
TEST(ReportCli, BadNamesFailBeforeAnyWork) {
  const fs::path root = fs::temp_directory_path() / ("muroan_report_cli_" + std::to_string(getpid()));
  fs::remove_all(root);
  const fs::path out = root / "never";
  for (const auto& [flag, value, needle] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"--fusions", "concat,magic", "unknown fusion 'magic'"},
           {"--methods", "greedy,telepathy", "unknown method 'telepathy'"},
           {"--task", "imagenet", "unknown task 'imagenet'"},
           {"--fusions", "gmu,gmu", "listed twice"},
           {"--samples", "-1", "--samples"}}) {
    const CliRun r = run({"analyze", flag, value, "--out", out.string()});
    EXPECT_NE(r.code, 0) << flag << " " << value;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(contains(r.err, needle)) << r.err;
    EXPECT_FALSE(fs::exists(out)) << "work started for " << flag << " " << value;
  }
  const CliRun missing = run({"report", (root / "nowhere").string()});
  EXPECT_NE(missing.code, 0);
  EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1) << missing.err;
  fs::create_directories(root / "empty");
  const CliRun empty = run({"report", (root / "empty").string()});
  EXPECT_NE(empty.code, 0);
  EXPECT_TRUE(contains(empty.err, "not a result folder")) << empty.err;
  fs::remove_all(root);
}

TEST_F(ReportTest, ReportsASingleAttackFolder) {
  ASSERT_EQ(analyze_.code, 0) << analyze_.err;
  const std::string checkpoint = (out_ / "checkpoints" / "gmu").string();
  const fs::path dir = root_ / "attack";
  // Any flip: the gallery below needs successes, and whether a briefly trained
  // model is fooled on 6 samples depends on the compiler's floating point (the
  // clang sanitizer build found none).
  const CliRun a =
      run({"attack", "--checkpoint", checkpoint, "--method", "greedy", "--samples", "6", "--success", "flip",
           "--device", "cpu", "--cache-dir", (root_ / "cache").string(), "--quiet", "--out", dir.string()});
  ASSERT_EQ(a.code, 0) << a.err;
  const CliRun plain = run({"report", dir.string()});
  ASSERT_EQ(plain.code, 0) << plain.err;
  std::string html = read_file(dir / "report.html");
  EXPECT_TRUE(contains(html, "<table class=\"runs\""));
  EXPECT_FALSE(contains(html, "class=\"gallery-item\"")) << "no gallery.json, no model: no gallery";
  EXPECT_TRUE(fs::exists(dir / "tables" / "runs.csv"));

  const CliRun with_model = run({"report", dir.string(), "--checkpoint", checkpoint, "--device", "cpu", "--cache-dir",
                                 (root_ / "cache").string()});
  ASSERT_EQ(with_model.code, 0) << with_model.err;
  EXPECT_TRUE(fs::exists(dir / "gallery.json"));
  html = read_file(dir / "report.html");
  EXPECT_TRUE(contains(html, "class=\"gallery-item\""));
  EXPECT_TRUE(contains(html, "fashion-match/gmu"));

  const CliRun refused = run({"report", out_.string(), "--checkpoint", checkpoint});
  EXPECT_NE(refused.code, 0);
  EXPECT_TRUE(contains(refused.err, "is an analysis")) << refused.err;
}

// --defenses trains each fusion once per defense; every model appears in the
// summary and the report under "<fusion>+<defense>", and a second run reuses them.
TEST(AnalyzeDefenses, TrainsAndReportsEachDefendedModel) {
  const fs::path root = fs::temp_directory_path() / ("muroan_analyze_defenses_" + std::to_string(getpid()));
  fs::remove_all(root);
  const std::vector<std::string> args = {"analyze",
                                         "--task",
                                         "fashion-match",
                                         "--fusions",
                                         "concat",
                                         "--defenses",
                                         "none,ablation",
                                         "--methods",
                                         "greedy",
                                         "--samples",
                                         "4",
                                         "--epochs",
                                         "1",
                                         "--train-size",
                                         "64",
                                         "--val-size",
                                         "32",
                                         "--test-size",
                                         "32",
                                         "--device",
                                         "cpu",
                                         "--quiet",
                                         "--out",
                                         (root / "a").string(),
                                         "--cache-dir",
                                         (root / "cache").string()};
  const CliRun first = run(args);
  ASSERT_EQ(first.code, 0) << first.err;
  const auto j = nlohmann::json::parse(read_file(root / "a" / "summary.json"));
  ASSERT_EQ(j["models"].size(), 2U);
  EXPECT_EQ(j["models"][1]["fusion"], "concat+ablation");
  EXPECT_EQ(j["models"][1]["defense"], "ablation");
  const auto ck = nlohmann::json::parse(read_file(root / "a" / "checkpoints" / "concat+ablation" / "checkpoint.json"));
  EXPECT_EQ(ck["training"]["defense"]["name"], "ablation");
  EXPECT_EQ(ck["model"]["fusion"], "concat");
  EXPECT_TRUE(contains(read_file(root / "a" / "report.html"), "concat+ablation"));
  const CliRun second = run(args);
  ASSERT_EQ(second.code, 0) << second.err;
  EXPECT_TRUE(contains(second.out, "concat+ablation: reusing")) << second.out;
  const CliRun bad = run({"analyze", "--defenses", "none,armor", "--out", (root / "b").string()});
  EXPECT_EQ(bad.code, 2);
  EXPECT_TRUE(contains(bad.err, "armor")) << bad.err;
  fs::remove_all(root);
}

// Records of a results.jsonl without their timing; the clean confidence is
// rounded (the clean pass of a shard batches other rows, which moves the last
// bits of a convolution).
std::vector<nlohmann::json> comparable_records(const fs::path& jsonl) {
  std::vector<nlohmann::json> out;
  std::ifstream in(jsonl);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    j.erase("seconds");
    // Processes with other thread counts (mpirun binds each rank to a core) sum
    // in another order: the last bits of probabilities may differ.
    for (const char* key : {"clean_confidence", "adversarial_confidence", "fusion_shift"})
      if (j[key].is_number()) j[key] = std::round(j[key].get<double>() * 1e5) / 1e5;
    out.push_back(j);
  }
  return out;
}

TEST_F(ReportTest, ShardedAttackMergesIntoTheUnshardedResult) {
  ASSERT_EQ(analyze_.code, 0) << analyze_.err;
  const std::string checkpoint = (out_ / "checkpoints" / "concat").string();
  auto attack = [&](const fs::path& dir, std::vector<std::string> extra) {
    std::vector<std::string> args = {"attack",
                                     "--checkpoint",
                                     checkpoint,
                                     "--method",
                                     "greedy",
                                     "--samples",
                                     "7",
                                     "--device",
                                     "cpu",
                                     "--cache-dir",
                                     (root_ / "cache").string(),
                                     "--quiet",
                                     "--out",
                                     dir.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run(args);
  };
  const fs::path whole = root_ / "whole", sharded = root_ / "sharded";
  ASSERT_EQ(attack(whole, {}).code, 0);

  const CliRun first = attack(sharded, {"--shard", "1/3"});
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_TRUE(contains(first.out, "shard 1 of 3 done")) << first.out;
  EXPECT_FALSE(fs::exists(sharded / "summary.json"));
  const CliRun unfinished = run({"merge", sharded.string()});
  EXPECT_NE(unfinished.code, 0);
  EXPECT_TRUE(contains(unfinished.err, "shard 0 of 3 has not finished")) << unfinished.err;
  ASSERT_EQ(attack(sharded, {"--shard", "0/3"}).code, 0);
  const CliRun last = attack(sharded, {"--shard", "2/3"});
  ASSERT_EQ(last.code, 0) << last.err;
  EXPECT_TRUE(contains(last.out, "merged 3 shards")) << last.out;

  EXPECT_EQ(comparable_records(sharded / "results.jsonl"), comparable_records(whole / "results.jsonl"));
  EXPECT_EQ(read_file(sharded / "run.json"), read_file(whole / "run.json"));
  auto summary = [](const fs::path& dir) {
    auto j = nlohmann::json::parse(read_file(dir / "summary.json"));
    j.erase("seconds_per_sample");
    return j;
  };
  EXPECT_EQ(summary(sharded), summary(whole));
  // `muroan merge` does it again from the shard files, and the report reads the result.
  fs::remove(sharded / "summary.json");
  const CliRun merged = run({"merge", sharded.string()});
  ASSERT_EQ(merged.code, 0) << merged.err;
  EXPECT_EQ(summary(sharded), summary(whole));
  EXPECT_EQ(run({"report", sharded.string()}).code, 0);

  const CliRun bad = attack(root_ / "bad", {"--shard", "3/3"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_TRUE(contains(bad.err, "--shard: expected i/N")) << bad.err;
}

// `muroan attack` killed with SIGKILL at random points, then run again into the
// same folder, ends with the files an uninterrupted run writes (--no-timing:
// byte for byte).
TEST_F(ReportTest, KilledAtRandomPointsTheResumedFilesEqualAnUninterruptedRun) {
  ASSERT_EQ(analyze_.code, 0) << analyze_.err;
  const std::vector<std::string> common = {"attack",
                                           "--checkpoint",
                                           (out_ / "checkpoints" / "concat").string(),
                                           "--method",
                                           "greedy",
                                           "--samples",
                                           "16",
                                           "--device",
                                           "cpu",
                                           "--quiet",
                                           "--no-timing",
                                           "--cache-dir",
                                           (root_ / "cache").string()};
  auto with_out = [&](const fs::path& dir) {
    auto args = common;
    args.insert(args.end(), {"--out", dir.string()});
    return args;
  };
  const fs::path whole = root_ / "kill-whole";
  ASSERT_EQ(run(with_out(whole)).code, 0);
  std::mt19937 rng(7);
  int killed_midway = 0;
  for (int trial = 0; trial < 5; ++trial) {
    const fs::path dir = root_ / ("kill-" + std::to_string(trial));
    auto args = with_out(dir);
    args.insert(args.begin(), MUROAN_EXE);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    ASSERT_EQ(posix_spawn(&pid, MUROAN_EXE, &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 2500));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    const bool was_killed = WIFSIGNALED(status);
    if (was_killed && fs::exists(dir / "results.jsonl") && !fs::exists(dir / "summary.json")) ++killed_midway;
    const auto resumed = run(with_out(dir));
    ASSERT_EQ(resumed.code, 0) << resumed.err;
    EXPECT_EQ(read_file(dir / "results.jsonl"), read_file(whole / "results.jsonl")) << "trial " << trial;
    EXPECT_EQ(read_file(dir / "summary.json"), read_file(whole / "summary.json")) << "trial " << trial;
    EXPECT_EQ(read_file(dir / "run.json"), read_file(whole / "run.json")) << "trial " << trial;
  }
  std::printf("killed while attacking in %d of 5 trials\n", killed_midway);
}

// --protect-words maps words through the checkpoint's vocabulary and no set
// removes them; --attack-labels restricts the attacked samples; both refuse
// what they cannot map, in one line.
TEST_F(ReportTest, ProtectedWordsAndAttackLabelsFromTheCommandLine) {
  ASSERT_EQ(analyze_.code, 0) << analyze_.err;
  const std::string checkpoint = (out_ / "checkpoints" / "concat").string();
  const fs::path dir = root_ / "protected";
  const auto r = run({"attack",
                      "--checkpoint",
                      checkpoint,
                      "--method",
                      "greedy",
                      "--samples",
                      "16",
                      "--device",
                      "cpu",
                      "--quiet",
                      "--success",
                      "flip",
                      "--protect-words",
                      "not,no,a,this",
                      "--attack-labels",
                      "false",
                      "--cache-dir",
                      (root_ / "cache").string(),
                      "--out",
                      dir.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  int attacked = 0;
  for (const auto& rec : read_records((dir / "results.jsonl").string())) {
    if (!rec.attacked) continue;
    ++attacked;
    EXPECT_EQ(rec.label, 0) << rec.id;
    std::istringstream words(rec.text);
    std::vector<std::string> w{std::istream_iterator<std::string>(words), std::istream_iterator<std::string>()};
    for (const auto& e : rec.set.elements)
      if (e.is_token()) {
        ASSERT_LT(static_cast<size_t>(e.position), w.size());
        for (const char* p : {"not", "no", "a", "this"}) EXPECT_NE(w[static_cast<size_t>(e.position)], p) << rec.id;
      }
  }
  EXPECT_GT(attacked, 0);  // the one-epoch model answers "false" on most samples
  const auto summary = nlohmann::json::parse(read_file(dir / "summary.json"));
  EXPECT_EQ(summary["options"]["protected_tokens"].size(), 4u);
  const auto unknown =
      run({"attack", "--checkpoint", checkpoint, "--samples", "2", "--device", "cpu", "--quiet", "--protect-words",
           "notaword", "--cache-dir", (root_ / "cache").string(), "--out", (root_ / "unknown").string()});
  EXPECT_NE(unknown.code, 0);
  EXPECT_TRUE(contains(unknown.err, "--protect-words: 'notaword' is not in the model's vocabulary")) << unknown.err;
  const auto label =
      run({"attack", "--checkpoint", checkpoint, "--samples", "2", "--device", "cpu", "--quiet", "--attack-labels",
           "maybe", "--cache-dir", (root_ / "cache").string(), "--out", (root_ / "label").string()});
  EXPECT_NE(label.code, 0);
  EXPECT_TRUE(contains(label.err, "--attack-labels: 'maybe' is neither a class name (false, true)")) << label.err;
}

// The same under mpirun, when Open MPI is installed (scripts/setup.sh
// --with-test-tools installs openmpi-bin): each rank takes its shard from
// mpirun's environment, the last one merges.
TEST_F(ReportTest, MpirunShardsAndMerges) {
  if (!fs::exists("/usr/bin/mpirun"))
    GTEST_SKIP() << "mpirun is not installed (Debian package openmpi-bin; scripts/setup.sh installs it)";
  ASSERT_EQ(analyze_.code, 0) << analyze_.err;
  const std::string checkpoint = (out_ / "checkpoints" / "concat").string();
  const fs::path whole = root_ / "mpi-whole", sharded = root_ / "mpi-sharded";
  const std::string common = " attack --checkpoint " + checkpoint +
                             " --method reference --samples 7 --device cpu --quiet --cache-dir " +
                             (root_ / "cache").string();
  ASSERT_EQ(run({"attack", "--checkpoint", checkpoint, "--method", "reference", "--samples", "7", "--device", "cpu",
                 "--quiet", "--cache-dir", (root_ / "cache").string(), "--out", whole.string()})
                .code,
            0);
  const std::string cmd =
      "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout 300 mpirun "
      "--oversubscribe -n 2 " +
      std::string(MUROAN_EXE) + common + " --out " + sharded.string() + " > " + (root_ / "mpi.log").string() + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << read_file(root_ / "mpi.log");
  EXPECT_TRUE(fs::exists(sharded / "results.shard-0-of-2.jsonl"));
  EXPECT_TRUE(fs::exists(sharded / "results.shard-1-of-2.jsonl"));
  EXPECT_EQ(comparable_records(sharded / "results.jsonl"), comparable_records(whole / "results.jsonl"));
}

// Renders `url` in headless Chromium with a fresh profile and no network;
// returns the exit code, standard output (e.g. --dump-dom) in *out and
// standard error (the browser's log, console messages included) in *log.
int chromium(const std::vector<std::string>& extra, const std::string& url, const fs::path& work, std::string* out,
             std::string* log) {
  const fs::path profile = work / "profile";
  fs::remove_all(profile);
  std::string cmd = std::string("timeout 120 ") + kChromium +
                    " --headless --no-sandbox --disable-gpu --disable-background-networking"
                    " --disable-component-update --disable-sync --no-first-run --enable-logging=stderr --v=0"
                    " --user-data-dir=" +
                    profile.string();
  for (const auto& e : extra) cmd += " " + e;
  cmd += " '" + url + "' > '" + (work / "stdout.txt").string() + "' 2> '" + (work / "stderr.txt").string() + "'";
  const int rc = std::system(cmd.c_str());
  *out = read_file(work / "stdout.txt");
  *log = read_file(work / "stderr.txt");
  return rc;
}

// Console messages in Chromium's log: lines like "...:INFO:CONSOLE(3)] "..."".
std::vector<std::string> console_lines(const std::string& log) {
  std::vector<std::string> lines;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);)
    if (contains(line, ":CONSOLE")) lines.push_back(line);
  return lines;
}

TEST_F(ReportTest, LoadsInHeadlessChromiumWithoutConsoleErrors) {
  if (!fs::exists(kChromium))
    GTEST_SKIP() << kChromium << " is not installed (Debian package chromium; scripts/setup.sh installs it)";
  ASSERT_EQ(analyze_.code, 0) << analyze_.err;
  const fs::path work = root_ / "chromium";
  fs::create_directories(work);

  // A copy with a probe before the page's Content-Security-Policy: it records
  // script errors, failed images and policy violations into the DOM, which
  // --dump-dom then shows. The page itself has no script.
  constexpr const char* kProbe =
      "<script>var e=[];addEventListener('error',function(x){e.push(x.message||'failed: '+"
      "(x.target&&x.target.tagName))},true);document.addEventListener('securitypolicyviolation',"
      "function(x){e.push('csp: '+x.blockedURI)});addEventListener('load',function(){"
      "document.documentElement.setAttribute('data-probe-errors',String(e.length));"
      "document.documentElement.setAttribute('data-probe-text',e.join(' | '))});</script>";
  std::string html = read_file(out_ / "report.html");
  const auto head = html.find("<head>");
  ASSERT_NE(head, std::string::npos);
  html.insert(head + 6, kProbe);
  const fs::path probed = work / "probed.html";
  std::ofstream(probed, std::ios::binary) << html;

  std::string dom, log;
  const int rc = chromium({"--dump-dom"}, "file://" + probed.string(), work, &dom, &log);
  ASSERT_EQ(rc, 0) << log;
  EXPECT_TRUE(contains(dom, "data-probe-errors=\"0\"")) << dom.substr(0, 400);
  EXPECT_TRUE(contains(dom, "<table class=\"overview\""));
  EXPECT_TRUE(contains(dom, "<table class=\"runs\""));
  EXPECT_TRUE(contains(dom, "class=\"gallery-item\""));
  EXPECT_TRUE(console_lines(log).empty()) << console_lines(log).front();

  // The page as it is, with a screenshot: no console message at all.
  const fs::path png = work / "report.png";
  const int shot = chromium({"--hide-scrollbars", "--window-size=1280,2000", "--screenshot=" + png.string()},
                            "file://" + (out_ / "report.html").string(), work, &dom, &log);
  ASSERT_EQ(shot, 0) << log;
  EXPECT_TRUE(console_lines(log).empty()) << console_lines(log).front();
  const std::string bytes = read_file(png);
  ASSERT_GT(bytes.size(), 8u);
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
}

// `muroan attack` on a TorchScript model, then `muroan report DIR --manifest`:
// the gallery is built from the manifest's samples, with the words of "text".
TEST(ReportTorchScript, ReportsAnAttackOnATorchScriptModel) {
  const fs::path dir = fs::temp_directory_path() / ("muroan_report_ts_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "images");
  nlohmann::json manifest = {{"model", kTinyModel},
                             {"inputs",
                              {{{"name", "image"}, {"kind", "image"}, {"shape", {1, 8, 8}}},
                               {{"name", "tokens"}, {"kind", "tokens"}, {"max_len", 6}, {"pad_id", 0}}}},
                             {"classes", {"a", "b", "c"}},
                             {"fusion_method", "fusion"}};
  std::ofstream(dir / "manifest.json") << manifest.dump();
  // Six samples labelled with the model's own decision, so that all are attacked.
  torch::manual_seed(5);
  auto write_samples = [&](const std::vector<int64_t>& labels) {
    std::ofstream out(dir / "samples.jsonl");
    for (int i = 0; i < 6; ++i) {
      const std::vector<int64_t> tokens = {2 + i, 7, 11 + i, 3};
      nlohmann::json j = {{"id", "s" + std::to_string(i)},
                          {"image", "images/" + std::to_string(i) + ".png"},
                          {"text", "w" + std::to_string(i) + " <b>x</b> & z"},
                          {"tokens", tokens},
                          {"label", labels[static_cast<size_t>(i)]}};
      out << j.dump() << "\n";
    }
  };
  for (int i = 0; i < 6; ++i)
    write_png((dir / "images" / (std::to_string(i) + ".png")).string(), torch::rand({1, 8, 8}));
  write_samples(std::vector<int64_t>(6, 0));
  auto model = load_torchscript_model((dir / "manifest.json").string(), torch::kCPU);
  const auto data = load_samples((dir / "samples.jsonl").string(), model->modalities(), model->classes());
  const auto predicted = predict_logits(*model, data.inputs).argmax(1);
  write_samples(std::vector<int64_t>(predicted.data_ptr<int64_t>(), predicted.data_ptr<int64_t>() + 6));

  const std::string out = (dir / "attack").string();
  const CliRun a = run({"attack", "--manifest", (dir / "manifest.json").string(), "--method", "greedy", "--patch", "2",
                        "--samples", "6", "--device", "cpu", "--quiet", "--out", out});
  ASSERT_EQ(a.code, 0) << a.err;
  const CliRun r = run({"report", out, "--manifest", (dir / "manifest.json").string(), "--device", "cpu"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto gallery = nlohmann::json::parse(read_file(fs::path(out) / "gallery.json"));
  ASSERT_FALSE(gallery["items"].empty()) << "greedy without a budget flips a 3-class tiny model";
  const std::string html = read_file(fs::path(out) / "report.html");
  EXPECT_TRUE(contains(html, "class=\"gallery-item\""));
  EXPECT_TRUE(contains(html, "&lt;b&gt;x&lt;/b&gt;")) << "words of the text, escaped";
  EXPECT_FALSE(contains(html, "<b>x</b>"));
  EXPECT_FALSE(contains(html, "http://"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace muroan::cli
