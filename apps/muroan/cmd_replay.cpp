// `muroan replay`: rebuild adversarial inputs from results.jsonl and confirm the
// model's decision on them.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli_app.h"
#include "cli_flags.h"
#include "cli_options.h"
#include "commands.h"
#include "muroan/device.h"
#include "muroan/error.h"
#include "muroan/measurement.h"
#include "muroan/model_source.h"

namespace muroan::cli {

int run_replay(const ReplayCommand& o) {
  (void)o.source.model_path();  // exactly one of --checkpoint and --manifest, or UsageError
  if (o.results.empty()) throw UsageError("--results is required");
  const auto records = read_records(o.results, /*drop_truncated_tail=*/true);
  const torch::Device device = resolve_device(o.source.device);
  ModelAndData md = load_model_source(o.source, device);
  const auto& classes = md.model->classes();
  int64_t replayed = 0, confirmed = 0;
  for (const auto& rec : records) {
    if (!o.id.empty() ? rec.id != o.id : !(rec.success && rec.decoupling)) continue;
    if (rec.index < 0 || rec.index >= md.data.size() || md.data.ids[static_cast<size_t>(rec.index)] != rec.id)
      throw InputError(o.results + ": sample '" + rec.id + "'",
                       "is not sample " + std::to_string(rec.index) + " of " + md.data_source +
                           " (replay with the model and data the attack used)");
    const Inputs sample = slice_rows(md.data.inputs, rec.index, rec.index + 1);
    const ReplayResult r = replay(*md.model, sample, rec);
    ++replayed;
    confirmed += r.matches ? 1 : 0;
    std::printf("%s: label %s, recorded %s (%.3f), replayed %s (%.3f), %lld of %lld points decoupled: %s\n",
                rec.id.c_str(), classes.at(static_cast<size_t>(rec.label)).c_str(),
                classes.at(static_cast<size_t>(rec.adversarial_prediction)).c_str(), rec.adversarial_confidence,
                classes.at(static_cast<size_t>(r.prediction)).c_str(), r.confidence,
                static_cast<long long>(rec.decoupled_points), static_cast<long long>(rec.total_points),
                r.matches ? "confirmed" : "MISMATCH");
  }
  if (!o.id.empty() && replayed == 0) throw UsageError("--id: no record '" + o.id + "' in " + o.results);
  std::printf("replayed %lld, confirmed %lld\n", static_cast<long long>(replayed), static_cast<long long>(confirmed));
  return confirmed == replayed ? kExitOk : kExitError;
}

void register_replay(CLI::App& app, Action& action) {
  auto o = std::make_shared<ReplayCommand>();
  auto* cmd = app.add_subcommand("replay", "Rebuild adversarial inputs from results.jsonl and confirm them");
  auto flags = std::make_shared<FlagBinder>(cmd);
  add_model_source_options(*flags, o->source);
  cmd->add_option("--results", o->results, "results.jsonl written by muroan attack")->required();
  cmd->add_option("--id", o->id, "Replay this sample only (default: every success)");
  cmd->callback([&action, o, flags] { action = [o, flags] { return flags->run([&o] { return run_replay(*o); }); }; });
}

}  // namespace muroan::cli
