// `muroan report DIR`: renders DIR/report.html (and DIR/tables/*.csv) again
// from the JSON files of a result folder: one written by `muroan analyze`, or
// one `muroan attack --out DIR` run. For an attack folder, --checkpoint or
// --manifest (with --data when the attack used other samples) first builds
// DIR/gallery.json, since the report itself never loads a model.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>

#include "cli_app.h"
#include "cli_flags.h"
#include "cli_options.h"
#include "commands.h"
#include "muroan/checkpoint.h"
#include "muroan/device.h"
#include "muroan/error.h"
#include "muroan/model_source.h"
#include "muroan/report.h"

namespace muroan::cli {

namespace fs = std::filesystem;

int run_report(const ReportCommand& o) {
  if (o.dir.empty()) throw UsageError("give the result folder: muroan report DIR");
  if (!fs::is_directory(o.dir)) throw UsageError(o.dir + ": not a directory");
  if (o.gallery < 0) throw UsageError("--gallery must be >= 0");
  const bool with_model = !o.source.checkpoint.empty() || !o.source.manifest.empty();
  if (with_model) {
    const std::string& model_path = o.source.model_path();  // exactly one of the two
    if (is_analysis_folder(o.dir))
      throw UsageError("--checkpoint/--manifest build the gallery of one attack folder; " + o.dir +
                       " is an analysis, whose run folders already hold theirs");
    if (!fs::exists(fs::path(o.dir) / "run.json"))
      throw UsageError(o.dir + ": no run.json (expected a folder written by muroan attack --out)");
    const torch::Device device = resolve_device(o.source.device);
    ModelAndData md = load_model_source(o.source, device);
    std::vector<std::string> words;
    if (!is_manifest_path(model_path)) words = load_checkpoint(model_path, torch::kCPU).vocab.words();
    const int64_t n = write_gallery(o.dir, *md.model, md.data, words, o.gallery);
    std::printf("gallery: %lld successful samples -> %s\n", static_cast<long long>(n),
                (fs::path(o.dir) / "gallery.json").string().c_str());
  }
  const std::string page = write_report(o.dir);
  std::printf("report: %s\n", page.c_str());
  return kExitOk;
}

void register_report(CLI::App& app, Action& action) {
  auto o = std::make_shared<ReportCommand>();
  auto* cmd = app.add_subcommand("report", "Render report.html and tables/*.csv of a result folder again");
  cmd->add_option("dir", o->dir, "Result folder of muroan analyze or muroan attack --out")->required();
  auto flags = std::make_shared<FlagBinder>(cmd);
  add_model_source_options(*flags, o->source);
  cmd->add_option("--gallery", o->gallery, "With a model: successful samples kept in gallery.json")
      ->capture_default_str();
  cmd->callback([&action, o, flags] { action = [o, flags] { return flags->run([&o] { return run_report(*o); }); }; });
}

}  // namespace muroan::cli
