// fashion-match: is the caption true of the Fashion-MNIST item in the image?
//
// Each image is one Fashion-MNIST item upscaled 2x by nearest neighbour (every
// pixel becomes a 2x2 block) to fill 1x56x56. Each caption names a class with
// one of four templates, two affirmative ("this is a {cls}", "a photo of a
// {cls}") and two negated ("this is not a {cls}", "this is no {cls}"); the
// caption is true iff (item class == named class) XOR negated.
//
// Every image is used twice, once with a true caption (label 1) and once with a
// false one (label 0) of the same template, so the image alone says nothing
// about the label. Of the two, the caption whose underlying fact holds (the
// affirmative true one, or the negated false one) names the item's class, the
// other a uniformly drawn other class; as the classes are balanced, each
// caption string is then true half of the time in expectation and the text
// alone says nothing either.
//
// Why not the earlier design (a 2x2 grid of four items, captions about a
// position, the whole grid or a half): measured, no fusion learnt it in a usable
// time; all stayed at exactly 50% (loss 0.693) after 8 epochs on 12000 samples
// on 2 CPU cores. A prototype of this design reached ~91% validation accuracy
// in 4 epochs with a small CNN+GRU and concat fusion, while still needing both
// modalities.
#include <algorithm>
#include <numeric>
#include <sstream>

#include "data/generators.h"
#include "muroan/error.h"

namespace muroan {
namespace data {
namespace {

// A caption of template `t` whose truth for an item of class `item_class` is
// `truth`. The named class is the item's iff the underlying fact (ignoring a
// negation) must hold, i.e. iff truth != negated.
FashionCaption make_caption(Rng& rng, FashionTemplate t, int item_class, bool truth) {
  FashionCaption c;
  c.templ = t;
  c.truth = truth;
  if (truth != fashion_template_negated(t)) {
    c.class_id = item_class;
  } else {  // uniform over the other nine classes
    const auto other = static_cast<int>(rng.uniform(kFashionClasses - 1));
    c.class_id = other < item_class ? other : other + 1;
  }
  return c;
}

}  // namespace

bool fashion_caption_truth(const FashionCaption& caption, int item_class) {
  return (item_class == caption.class_id) != fashion_template_negated(caption.templ);
}

std::string fashion_caption_text(const FashionCaption& c) {
  const std::string cls = kFashionClassNames.at(static_cast<size_t>(c.class_id));
  switch (c.templ) {
    case FashionTemplate::kThisIs:
      return "this is a " + cls;
    case FashionTemplate::kPhotoOf:
      return "a photo of a " + cls;
    case FashionTemplate::kThisIsNot:
      return "this is not a " + cls;
    case FashionTemplate::kThisIsNo:
      return "this is no " + cls;
  }
  throw Error("unknown fashion-match template");
}

Vocabulary fashion_vocabulary() {
  // Every caption the templates can produce, in a fixed order: the vocabulary
  // is the same for every seed and split, and each caption must fit max_len.
  Vocabulary vocab;
  for (int t = 0; t < kFashionTemplates; ++t) {
    for (int cls = 0; cls < kFashionClasses; ++cls) {
      FashionCaption c;
      c.templ = static_cast<FashionTemplate>(t);
      c.class_id = cls;
      std::istringstream words(fashion_caption_text(c));
      std::string w;
      int64_t n = 0;
      while (words >> w) {
        vocab.add(w);
        ++n;
      }
      if (n > kFashionMatchMaxLen)
        throw Error("fashion-match caption '" + fashion_caption_text(c) + "' exceeds max_len");
    }
  }
  return vocab;
}

FashionPlan plan_fashion_split(uint64_t seed, const std::string& split, int64_t size, const FashionImages& source,
                               int64_t item_begin, int64_t item_end) {
  if (item_begin < 0 || item_end > source.count || item_begin >= item_end)
    throw Error("fashion-match: empty item range for split " + split);
  Rng rng(stream_seed(seed, "fashion-match/" + split));
  FashionPlan plan;
  const int64_t scenes = (size + 1) / 2;
  plan.scenes.reserve(static_cast<size_t>(scenes));
  plan.samples.reserve(static_cast<size_t>(size));
  // Items without replacement: a Fisher-Yates shuffle of the range, done lazily
  // (one swap per image). Once every item has been used it carries on over the
  // permutation it leaves, which yields another uniform permutation.
  const int64_t range = item_end - item_begin;
  std::vector<int64_t> items(static_cast<size_t>(range));
  std::iota(items.begin(), items.end(), item_begin);
  for (int64_t s = 0; s < scenes; ++s) {
    const int64_t k = s % range;
    std::swap(items[static_cast<size_t>(k)], items[static_cast<size_t>(k + rng.uniform(range - k))]);
    FashionScene scene;
    scene.item = items[static_cast<size_t>(k)];
    scene.class_id = source.labels[static_cast<size_t>(scene.item)];
    plan.scenes.push_back(scene);
    const auto t = static_cast<FashionTemplate>(rng.uniform(kFashionTemplates));
    FashionCaption yes = make_caption(rng, t, scene.class_id, true);
    FashionCaption no = make_caption(rng, t, scene.class_id, false);
    if (rng.coin()) std::swap(yes, no);  // which of the two comes first
    plan.samples.emplace_back(s, yes);
    if (static_cast<int64_t>(plan.samples.size()) < size) plan.samples.emplace_back(s, no);
  }
  return plan;
}

RawSplit build_fashion_split(const FashionPlan& plan, const std::string& split, const FashionImages& source,
                             const Vocabulary& vocab) {
  RawSplit out;
  const auto scenes = static_cast<int64_t>(plan.scenes.size());
  constexpr int64_t kSide = kFashionMatchSide;
  out.scenes = torch::empty({scenes, 1, kSide, kSide}, torch::kUInt8);
  uint8_t* img = out.scenes.data_ptr<uint8_t>();
  for (const auto& scene : plan.scenes) {
    const uint8_t* item = source.pixels.data() + static_cast<size_t>(scene.item * kFashionSide * kFashionSide);
    for (int64_t r = 0; r < kFashionSide; ++r) {
      uint8_t* row = img + r * kFashionMatchScale * kSide;
      for (int64_t c = 0; c < kFashionSide; ++c)
        std::fill_n(row + c * kFashionMatchScale, kFashionMatchScale, item[r * kFashionSide + c]);
      for (int64_t k = 1; k < kFashionMatchScale; ++k) std::copy(row, row + kSide, row + k * kSide);
    }
    img += kSide * kSide;
  }
  const auto n = static_cast<int64_t>(plan.samples.size());
  out.scene_index = torch::empty({n}, torch::kLong);
  out.labels = torch::empty({n}, torch::kLong);
  int64_t* scene_of = out.scene_index.data_ptr<int64_t>();
  int64_t* label = out.labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const auto& [scene, caption] = plan.samples[static_cast<size_t>(i)];
    scene_of[i] = scene;
    label[i] = caption.truth ? 1 : 0;
    out.ids.push_back(sample_id(split, i));
    out.texts.push_back(fashion_caption_text(caption));
  }
  out.tokens = encode_texts(vocab, out.texts, kFashionMatchMaxLen);
  return out;
}

RawTask generate_fashion_match(uint64_t seed, const SplitSizes& sizes) {
  const std::string dir = fashion_mnist_dir();
  const auto train_file = load_fashion_mnist(dir, "train");
  const auto test_file = load_fashion_mnist(dir, "t10k");
  if (train_file->count < 2) throw InputError(dir, "the training file holds too few items");
  // The last sixth of the training file (10000 of 60000 items) is for validation
  // only, so that validation images never show a training item.
  const int64_t val_begin = train_file->count - train_file->count / 6;
  RawTask task;
  task.task = "fashion-match";
  task.classes = {"false", "true"};
  task.vocab = fashion_vocabulary();
  task.max_len = kFashionMatchMaxLen;
  const std::array<int64_t, 3> n = {sizes.train, sizes.val, sizes.test};
  for (size_t s = 0; s < 3; ++s) {
    const std::string split = kSplitNames[s];
    const FashionImages& source = s == 2 ? *test_file : *train_file;
    const int64_t begin = s == 1 ? val_begin : 0;
    const int64_t end = s == 0 ? val_begin : source.count;
    const FashionPlan plan = plan_fashion_split(seed, split, n[s], source, begin, end);
    task.splits[s] = build_fashion_split(plan, split, source, task.vocab);
  }
  return task;
}

}  // namespace data
}  // namespace muroan
