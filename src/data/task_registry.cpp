// The built-in tasks: catalog, default sizes, caching, and the conversion of a
// generated task into TaskData.
#include <functional>

#include "data/generators.h"
#include "data/spoken_fashion.h"
#include "data/triage.h"
#include "muroan/error.h"
#include "muroan/names.h"
#include "muroan/task.h"

namespace muroan {
namespace {

struct TaskEntry {
  TaskInfo info;
  data::SplitSizes default_sizes;
  // Image + tokens tasks: generated as scenes and texts, cached.
  std::function<data::RawTask(uint64_t, const data::SplitSizes&)> generate;
  // Other tasks: generated directly (in seconds: not cached), given the seed,
  // the sizes and the cache folder for what they keep (spoken-fashion's recordings).
  std::function<TaskData(uint64_t, const data::SplitSizes&, const std::string&)> generate_data = nullptr;
};

const std::vector<TaskEntry>& registry() {
  static const std::vector<TaskEntry> entries = {
      {{"fashion-match",
        "is the caption true of the Fashion-MNIST item? (1x56x56 image of one item upscaled "
        "2x, caption naming a class, maybe negated, classes false/true; every image with a "
        "true and a false caption)"},
       {12000, 2000, 2000},
       data::generate_fashion_match},
      {{"shapes-vqa",
        "Sort-of-CLEVR style questions about 4 coloured circles and squares, one per slot of a 4x4 grid "
        "(3x64x64 image; question: shape, left, top or count; 9 answers: no, yes, circle, square, 1-5)",
        // The flat readout memorises scenes and a 64-wide head does not bind a
        // colour word to a place under concat (docs/zoo_accuracy.md).
        "spp", 256,
        // 60 epochs at 1e-3: the fusions that learn it reached their best after 10 to 55 (docs/zoo_accuracy.md).
        60, 1e-3, 10},
       {12000, 2000, 2000},
       data::generate_shapes_vqa},
      {{"triage",
        "is the synthetic patient urgent? (vitals: 12 vital signs and labs; note: a clinical note that reports, "
        "denies or omits chest pain; ecg: a 3 s 1-lead ECG at 250 Hz; urgent = shock, or chest pain with ST "
        "elevation; classes routine/urgent)"},
       {6000, 1000, 1000},
       nullptr,
       [](uint64_t seed, const data::SplitSizes& sizes, const std::string&) {
         return data::generate_triage(seed, sizes);
       }},
      {{"spoken-fashion",
        "is the claim true of the Fashion-MNIST item? (image 1x28x28; caption: the written half of the claim, "
        "'this is not a'; speech: the class, spoken by espeak-ng, 1 s at 8 kHz; label = (item class == "
        "spoken class) XOR negated; classes false/true; no input and no pair decides)",
        // A 256-wide head and 30 epochs, patience 5: concat must compare the
        // spoken and the seen class in its head, and reached 0.892 with a
        // 64-wide one, 0.918 with 256 (docs/zoo_spoken_fashion.md).
        "flat", 256, 30, 5e-4, 5},
       {8000, 1000, 1000},
       nullptr,
       data::generate_spoken_fashion},
  };
  return entries;
}

// Scene images repeated per sample, as float in [0,1].
Split to_split(data::RawSplit raw) {
  Split split;
  auto images = raw.scenes.index_select(0, raw.scene_index).to(torch::kFloat).div_(255.0);
  split.inputs = {images, raw.tokens};
  split.labels = raw.labels;
  split.ids = std::move(raw.ids);
  split.texts = std::move(raw.texts);
  return split;
}

int64_t resolve_size(int64_t requested, int64_t fallback, const char* which) {
  if (requested < 0)
    throw UsageError(std::string("the ") + which + " size must be positive (0: default), got " +
                     std::to_string(requested));
  return requested == 0 ? fallback : requested;
}

}  // namespace

TaskInfo task_info(const std::string& name) {
  std::vector<std::string> known;
  for (const auto& e : registry()) {
    if (e.info.name == name) return e.info;
    known.push_back(e.info.name);
  }
  throw UsageError("unknown task '" + name + "' (known: " + join_names(known) + ")");
}

std::vector<TaskInfo> task_catalog() {
  std::vector<TaskInfo> out;
  for (const auto& e : registry()) out.push_back(e.info);
  return out;
}

TaskData load_task(const std::string& name, const TaskOptions& options) {
  const TaskEntry* entry = nullptr;
  std::vector<std::string> known;
  for (const auto& e : registry()) {
    if (e.info.name == name) entry = &e;
    known.push_back(e.info.name);
  }
  if (!entry) throw UsageError("unknown task '" + name + "' (known: " + join_names(known) + ")");

  data::SplitSizes sizes;
  sizes.train = resolve_size(options.train_size, entry->default_sizes.train, "train");
  sizes.val = resolve_size(options.val_size, entry->default_sizes.val, "validation");
  sizes.test = resolve_size(options.test_size, entry->default_sizes.test, "test");

  if (entry->generate_data) return entry->generate_data(options.seed, sizes, options.cache_dir);

  data::RawTask raw;
  bool cached = false;
  std::string path;
  if (!options.cache_dir.empty()) {
    path = data::cache_path(options.cache_dir, name, options.seed, sizes);
    cached = data::read_cached_task(path, name, options.seed, sizes, &raw);
  }
  if (!cached) {
    raw = entry->generate(options.seed, sizes);
    if (!path.empty()) data::write_cached_task(path, options.seed, sizes, raw);
  }

  TaskData task;
  task.task = name;
  const auto& scenes = raw.splits[0].scenes;
  task.modalities = {ModalitySpec::image("image", scenes.size(1), scenes.size(2), scenes.size(3), /*fill=*/0.0),
                     ModalitySpec::tokens("tokens", raw.max_len, Vocabulary::kPadId, raw.vocab.size())};
  task.classes = std::move(raw.classes);
  task.vocab = std::move(raw.vocab);
  task.train = to_split(std::move(raw.splits[0]));
  task.val = to_split(std::move(raw.splits[1]));
  task.test = to_split(std::move(raw.splits[2]));
  return task;
}

}  // namespace muroan
