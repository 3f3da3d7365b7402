// Private to muroan_data: the generators of the built-in tasks, the Fashion-MNIST
// reader and the on-disk cache. Tests include it to check the generators against
// the scene descriptions they keep.
#pragma once

#include <torch/types.h>

#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "muroan/vocabulary.h"

namespace muroan {
namespace data {

// ---- randomness ------------------------------------------------------------

// FNV-1a hash of `text`: stable across standard libraries (std::hash is not).
uint64_t fnv1a(const std::string& text);

// A seed for one named stream (e.g. "fashion-match/train"), so that each split
// depends only on the task seed and its own size.
uint64_t stream_seed(uint64_t seed, const std::string& stream);

// mt19937_64 with its own integer distribution: std::uniform_int_distribution
// differs between standard libraries, and the data must not.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  // Uniform in [0, n); n > 0.
  int64_t uniform(int64_t n);
  bool coin() { return (engine_() >> 63) != 0; }
  // Uniform in [0, 1) from 53 random bits.
  double uniform01() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  // Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform01(); }
  // Standard normal (Box-Muller, two draws per value: std::normal_distribution
  // differs between standard libraries).
  double normal();
  // Index drawn with probability proportional to `weights` (non-negative ints).
  int64_t weighted(const std::vector<int64_t>& weights);
  template <typename T>
  const T& pick(const std::vector<T>& v) {  // a uniformly drawn element; v not empty
    return v[static_cast<size_t>(uniform(static_cast<int64_t>(v.size())))];
  }
  template <typename T>
  void shuffle(std::vector<T>& v) {  // Fisher-Yates
    for (int64_t i = static_cast<int64_t>(v.size()) - 1; i > 0; --i)
      std::swap(v[static_cast<size_t>(i)], v[static_cast<size_t>(uniform(i + 1))]);
  }

 private:
  std::mt19937_64 engine_;
};

// ---- generated tasks -----------------------------------------------------------

struct SplitSizes {
  int64_t train = 0, val = 0, test = 0;
};

// One split as generated: every scene image is stored once and samples refer to
// it, because each image is shared by several samples (captions / questions).
struct RawSplit {
  torch::Tensor scenes;       // uint8 [S, C, H, W]
  torch::Tensor scene_index;  // int64 [N], row of `scenes` of each sample
  torch::Tensor tokens;       // int64 [N, max_len]
  torch::Tensor labels;       // int64 [N]
  std::vector<std::string> ids;
  std::vector<std::string> texts;
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

inline constexpr std::array<const char*, 3> kSplitNames = {"train", "val", "test"};

struct RawTask {
  std::string task;
  std::vector<std::string> classes;
  Vocabulary vocab;
  int64_t max_len = 0;
  std::array<RawSplit, 3> splits;  // train, val, test
};

// "train-000017".
std::string sample_id(const std::string& split, int64_t index);
// Tokens [N, max_len] of `texts`; throws Error if a text is longer than max_len.
torch::Tensor encode_texts(const Vocabulary& vocab, const std::vector<std::string>& texts, int64_t max_len);

// ---- Fashion-MNIST ---------------------------------------------------------------

inline constexpr int64_t kFashionSide = 28;
inline constexpr int64_t kFashionClasses = 10;

struct FashionImages {
  int64_t count = 0;
  std::vector<uint8_t> pixels;  // count x 28 x 28
  std::vector<uint8_t> labels;  // count, each < 10
};

// $MUROAN_FASHION_MNIST_DIR, else /usr/share/datasets/fashion-mnist (Debian
// package dataset-fashion-mnist).
std::string fashion_mnist_dir();
// Reads <dir>/<prefix>-images-idx3-ubyte.gz and <prefix>-labels-idx1-ubyte.gz
// (prefix "train" or "t10k"); kept in memory for the life of the process.
// Throws InputError naming the file when one is missing or corrupt.
std::shared_ptr<const FashionImages> load_fashion_mnist(const std::string& dir, const std::string& prefix);

// ---- fashion-match ---------------------------------------------------------------

inline constexpr int64_t kFashionMatchMaxLen = 12;
// One item per image, upscaled by nearest neighbour: item pixel (r, c) fills the
// 2x2 block at rows 2r..2r+1, columns 2c..2c+1 of the 56x56 image.
inline constexpr int64_t kFashionMatchScale = 2;
inline constexpr int64_t kFashionMatchSide = kFashionMatchScale * kFashionSide;  // 56
inline constexpr std::array<const char*, kFashionClasses> kFashionClassNames = {
    "t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"};

// Caption templates: two affirmative, two negated.
enum class FashionTemplate : int {
  kThisIs = 0,  // "this is a {cls}"
  kPhotoOf,     // "a photo of a {cls}"
  kThisIsNot,   // "this is not a {cls}"
  kThisIsNo,    // "this is no {cls}"
};
inline constexpr int kFashionTemplates = 4;
// A negated caption is true iff the item is NOT of the class it names.
constexpr bool fashion_template_negated(FashionTemplate t) {
  return t == FashionTemplate::kThisIsNot || t == FashionTemplate::kThisIsNo;
}

struct FashionScene {
  int64_t item = 0;  // index into the source images
  int class_id = 0;  // its label
};

struct FashionCaption {
  FashionTemplate templ = FashionTemplate::kThisIs;
  int class_id = 0;    // the class the caption names
  bool truth = false;  // what the generator intended; fashion_caption_truth agrees
};

struct FashionPlan {
  std::vector<FashionScene> scenes;
  std::vector<std::pair<int64_t, FashionCaption>> samples;  // (scene, caption)
};

// Whether `caption` is true of an item of class `item_class`:
// (item_class == caption.class_id) XOR the template is negated.
bool fashion_caption_truth(const FashionCaption& caption, int item_class);
std::string fashion_caption_text(const FashionCaption& caption);
Vocabulary fashion_vocabulary();
// Items are drawn from source images [item_begin, item_end) without replacement
// (a split repeats an item only once it needs more images than the range
// holds); every image gets one true and one false caption of the same
// template, adjacent, in random order.
FashionPlan plan_fashion_split(uint64_t seed, const std::string& split, int64_t size, const FashionImages& source,
                               int64_t item_begin, int64_t item_end);
// Images uint8 [scenes, 1, 56, 56], each its item upscaled 2x.
RawSplit build_fashion_split(const FashionPlan& plan, const std::string& split, const FashionImages& source,
                             const Vocabulary& vocab);
RawTask generate_fashion_match(uint64_t seed, const SplitSizes& sizes);

// ---- shapes-vqa ------------------------------------------------------------------

// A scene: four objects of four distinct colours, each in its own cell of a
// 4x4 grid of 16 px cells (centre jittered by up to kShapesJitter px), so that
// no object straddles the midline and no two touch. One question per scene.
// (Until cache version 3: five objects of six colours anywhere off the midline,
// three questions per scene, two of them relational; the zoo did not learn it
// on 2 CPU cores, docs/zoo_accuracy.md.)
inline constexpr int64_t kShapesSide = 64;
inline constexpr int64_t kShapesObjects = 4;
inline constexpr int64_t kShapesSlots = 4;  // slots per row and column
inline constexpr int64_t kShapesJitter = 2;
inline constexpr int64_t kShapesHalfSize = 5;         // a square spans centre +- 5 px (11 px)
inline constexpr int64_t kShapesCircleRadiusSq = 16;  // a circle: 9 px across
inline constexpr int64_t kShapesMaxLen = 12;
// The palette (and the vocabulary) has six colours; generated scenes use the first four.
inline constexpr std::array<const char*, 6> kShapesColorNames = {"red", "green", "blue", "orange", "yellow", "purple"};
inline constexpr std::array<std::array<uint8_t, 3>, 6> kShapesColors = {
    {{230, 30, 30}, {30, 190, 30}, {40, 80, 255}, {255, 140, 0}, {240, 230, 40}, {170, 60, 220}}};
inline constexpr int kShapesSceneColors = 4;
inline constexpr std::array<uint8_t, 3> kShapesGreyBackground = {90, 90, 90};
inline constexpr std::array<const char*, 9> kShapesClasses = {"no", "yes", "circle", "square", "1", "2", "3", "4", "5"};

struct ShapesObject {
  int color = 0;  // index into kShapesColorNames
  bool square = false;
  int x = 0, y = 0;  // centre pixel (column, row)
};

struct ShapesScene {
  bool grey_background = false;
  std::vector<ShapesObject> objects;  // distinct colours
};

enum class ShapesQuestionType : int {
  kShape = 0,      // "what shape is the {c} object"
  kLeft,           // "is the {c} object on the left"
  kTop,            // "is the {c} object at the top"
  kClosestShape,   // "what shape is the object closest to the {c} object"
  kFarthestShape,  // "what shape is the object farthest from the {c} object"
  kCount,          // "how many objects have the shape of the {c} object"
};

struct ShapesQuestion {
  ShapesQuestionType type = ShapesQuestionType::kShape;
  int color = 0;
};

struct ShapesPlan {
  std::vector<ShapesScene> scenes;
  std::vector<std::pair<int64_t, ShapesQuestion>> samples;  // (scene, question)
};

std::string shapes_question_text(const ShapesQuestion& question);
// Index into kShapesClasses of the answer; throws Error if the colour is absent.
int64_t shapes_answer(const ShapesScene& scene, const ShapesQuestion& question);
// Draws the scene into `chw`, uint8 [3, 64, 64].
void render_shapes_scene(const ShapesScene& scene, uint8_t* chw);
Vocabulary shapes_vocabulary();
// One question per scene: shape, left, top or count, about an object of the
// scene drawn uniformly. (The relational types stay known to the oracle.)
ShapesPlan plan_shapes_split(uint64_t seed, const std::string& split, int64_t size);
RawSplit build_shapes_split(const ShapesPlan& plan, const std::string& split, const Vocabulary& vocab);
RawTask generate_shapes_vqa(uint64_t seed, const SplitSizes& sizes);

// ---- cache -------------------------------------------------------------------------

// Bump whenever what a task generates for a given seed and sizes changes, so
// that entries written by an older generator are not reused. 2: fashion-match
// shows one upscaled item per image instead of a 2x2 grid. 3: shapes-vqa's
// scenes in slots, one question per scene.
inline constexpr int kCacheFormatVersion = 3;

// "<cache_dir>/<task>-s<seed>-<train>-<val>-<test>-v<version>".
std::string cache_path(const std::string& cache_dir, const std::string& task, uint64_t seed, const SplitSizes& sizes);
// The cached task, or false if the entry is missing, of another format, or
// corrupt in any way (the caller regenerates it).
bool read_cached_task(const std::string& path, const std::string& task, uint64_t seed, const SplitSizes& sizes,
                      RawTask* out);
// Writes into a temporary directory and renames it into place, so that an
// interrupted write never leaves a half-written entry; replaces a corrupt one.
// Returns false (and leaves nothing behind) if the cache cannot be written.
bool write_cached_task(const std::string& path, uint64_t seed, const SplitSizes& sizes, const RawTask& task);

}  // namespace data
}  // namespace muroan
