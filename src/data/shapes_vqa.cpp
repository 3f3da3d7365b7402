// shapes-vqa: Sort-of-CLEVR style visual question answering over generated
// scenes of four coloured circles and squares, one per slot of a 4x4 grid.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "data/generators.h"
#include "muroan/error.h"

namespace muroan {
namespace data {
namespace {

constexpr int kNumColors = static_cast<int>(kShapesColorNames.size());
constexpr int64_t kClassNo = 0, kClassYes = 1, kClassCircle = 2, kClassSquare = 3, kClassOne = 4;

int64_t dist_sq(const ShapesObject& a, const ShapesObject& b) {
  const int64_t dx = a.x - b.x, dy = a.y - b.y;
  return dx * dx + dy * dy;
}

const ShapesObject& object_of_color(const ShapesScene& scene, int color) {
  for (const auto& o : scene.objects)
    if (o.color == color) return o;
  throw Error(std::string("shapes-vqa: the scene has no ") + kShapesColorNames.at(static_cast<size_t>(color)) +
              " object");
}

// The other object nearest (farthest == false) or farthest from `ref`.
const ShapesObject& extreme_neighbour(const ShapesScene& scene, const ShapesObject& ref, bool farthest) {
  const ShapesObject* best = nullptr;
  for (const auto& o : scene.objects) {
    if (&o == &ref) continue;
    if (!best || (farthest ? dist_sq(o, ref) > dist_sq(*best, ref) : dist_sq(o, ref) < dist_sq(*best, ref))) best = &o;
  }
  if (!best) throw Error("shapes-vqa: a relational question needs two objects");
  return *best;
}

static_assert(kShapesObjects <= kShapesSceneColors, "every object has its own colour");

ShapesScene sample_scene(Rng& rng) {
  ShapesScene scene;
  scene.grey_background = rng.coin();
  std::vector<int> colors(kShapesSceneColors), cells(kShapesSlots * kShapesSlots);
  for (int c = 0; c < kShapesSceneColors; ++c) colors[static_cast<size_t>(c)] = c;
  for (size_t i = 0; i < cells.size(); ++i) cells[i] = static_cast<int>(i);
  rng.shuffle(colors);
  rng.shuffle(cells);
  const int cell_side = static_cast<int>(kShapesSide / kShapesSlots);
  for (int64_t i = 0; i < kShapesObjects; ++i) {
    ShapesObject o;
    o.color = colors[static_cast<size_t>(i)];
    o.square = rng.coin();
    const int cell = cells[static_cast<size_t>(i)];
    auto jitter = [&rng] {
      return static_cast<int>(rng.uniform(2 * kShapesJitter + 1)) - static_cast<int>(kShapesJitter);
    };
    o.x = (cell % static_cast<int>(kShapesSlots)) * cell_side + cell_side / 2 + jitter();
    o.y = (cell / static_cast<int>(kShapesSlots)) * cell_side + cell_side / 2 + jitter();
    scene.objects.push_back(o);
  }
  return scene;
}

void add_words(Vocabulary& vocab, const std::string& text) {
  std::istringstream words(text);
  std::string w;
  int64_t n = 0;
  while (words >> w) {
    vocab.add(w);
    ++n;
  }
  if (n > kShapesMaxLen) throw Error("shapes-vqa question '" + text + "' exceeds max_len");
}

}  // namespace

std::string shapes_question_text(const ShapesQuestion& q) {
  const std::string c = kShapesColorNames.at(static_cast<size_t>(q.color));
  switch (q.type) {
    case ShapesQuestionType::kShape:
      return "what shape is the " + c + " object";
    case ShapesQuestionType::kLeft:
      return "is the " + c + " object on the left";
    case ShapesQuestionType::kTop:
      return "is the " + c + " object at the top";
    case ShapesQuestionType::kClosestShape:
      return "what shape is the object closest to the " + c + " object";
    case ShapesQuestionType::kFarthestShape:
      return "what shape is the object farthest from the " + c + " object";
    case ShapesQuestionType::kCount:
      return "how many objects have the shape of the " + c + " object";
  }
  throw Error("unknown shapes-vqa question type");
}

int64_t shapes_answer(const ShapesScene& scene, const ShapesQuestion& q) {
  const ShapesObject& ref = object_of_color(scene, q.color);
  const int64_t mid = kShapesSide / 2;
  auto shape = [](const ShapesObject& o) { return o.square ? kClassSquare : kClassCircle; };
  switch (q.type) {
    case ShapesQuestionType::kShape:
      return shape(ref);
    case ShapesQuestionType::kLeft:
      return ref.x < mid ? kClassYes : kClassNo;
    case ShapesQuestionType::kTop:
      return ref.y < mid ? kClassYes : kClassNo;
    case ShapesQuestionType::kClosestShape:
      return shape(extreme_neighbour(scene, ref, false));
    case ShapesQuestionType::kFarthestShape:
      return shape(extreme_neighbour(scene, ref, true));
    case ShapesQuestionType::kCount: {
      const auto same = std::count_if(scene.objects.begin(), scene.objects.end(),
                                      [&](const ShapesObject& o) { return o.square == ref.square; });
      return kClassOne + static_cast<int64_t>(same) - 1;
    }
  }
  throw Error("unknown shapes-vqa question type");
}

void render_shapes_scene(const ShapesScene& scene, uint8_t* chw) {
  constexpr int64_t kPlane = kShapesSide * kShapesSide;
  for (int64_t ch = 0; ch < 3; ++ch)
    std::memset(chw + ch * kPlane, scene.grey_background ? kShapesGreyBackground[ch] : 0, kPlane);
  for (const auto& o : scene.objects) {
    const auto& rgb = kShapesColors.at(static_cast<size_t>(o.color));
    for (int64_t dy = -kShapesHalfSize; dy <= kShapesHalfSize; ++dy) {
      for (int64_t dx = -kShapesHalfSize; dx <= kShapesHalfSize; ++dx) {
        if (!o.square && dx * dx + dy * dy > kShapesCircleRadiusSq) continue;
        const int64_t x = o.x + dx, y = o.y + dy;
        if (x < 0 || y < 0 || x >= kShapesSide || y >= kShapesSide) continue;
        for (int64_t ch = 0; ch < 3; ++ch) chw[ch * kPlane + y * kShapesSide + x] = rgb[ch];
      }
    }
  }
}

Vocabulary shapes_vocabulary() {
  Vocabulary vocab;
  for (int t = 0; t <= static_cast<int>(ShapesQuestionType::kCount); ++t)
    for (int c = 0; c < kNumColors; ++c)
      add_words(vocab, shapes_question_text({static_cast<ShapesQuestionType>(t), c}));
  return vocab;
}

ShapesPlan plan_shapes_split(uint64_t seed, const std::string& split, int64_t size) {
  Rng rng(stream_seed(seed, "shapes-vqa/" + split));
  constexpr ShapesQuestionType kAsked[] = {ShapesQuestionType::kShape, ShapesQuestionType::kLeft,
                                           ShapesQuestionType::kTop, ShapesQuestionType::kCount};
  ShapesPlan plan;
  plan.scenes.reserve(static_cast<size_t>(size));
  plan.samples.reserve(static_cast<size_t>(size));
  for (int64_t s = 0; s < size; ++s) {
    ShapesScene scene = sample_scene(rng);
    const ShapesQuestionType type = kAsked[rng.uniform(4)];
    const int color = scene.objects[static_cast<size_t>(rng.uniform(kShapesObjects))].color;
    plan.scenes.push_back(std::move(scene));
    plan.samples.emplace_back(s, ShapesQuestion{type, color});
  }
  return plan;
}

RawSplit build_shapes_split(const ShapesPlan& plan, const std::string& split, const Vocabulary& vocab) {
  RawSplit out;
  const auto scenes = static_cast<int64_t>(plan.scenes.size());
  out.scenes = torch::empty({scenes, 3, kShapesSide, kShapesSide}, torch::kUInt8);
  uint8_t* img = out.scenes.data_ptr<uint8_t>();
  for (const auto& scene : plan.scenes) {
    render_shapes_scene(scene, img);
    img += 3 * kShapesSide * kShapesSide;
  }
  const auto n = static_cast<int64_t>(plan.samples.size());
  out.scene_index = torch::empty({n}, torch::kLong);
  out.labels = torch::empty({n}, torch::kLong);
  int64_t* scene_of = out.scene_index.data_ptr<int64_t>();
  int64_t* label = out.labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const auto& [scene, question] = plan.samples[static_cast<size_t>(i)];
    scene_of[i] = scene;
    label[i] = shapes_answer(plan.scenes[static_cast<size_t>(scene)], question);
    out.ids.push_back(sample_id(split, i));
    out.texts.push_back(shapes_question_text(question));
  }
  out.tokens = encode_texts(vocab, out.texts, kShapesMaxLen);
  return out;
}

RawTask generate_shapes_vqa(uint64_t seed, const SplitSizes& sizes) {
  RawTask task;
  task.task = "shapes-vqa";
  task.classes.assign(kShapesClasses.begin(), kShapesClasses.end());
  task.vocab = shapes_vocabulary();
  task.max_len = kShapesMaxLen;
  const std::array<int64_t, 3> n = {sizes.train, sizes.val, sizes.test};
  for (size_t s = 0; s < 3; ++s) {
    const std::string split = kSplitNames[s];
    task.splits[s] = build_shapes_split(plan_shapes_split(seed, split, n[s]), split, task.vocab);
  }
  return task;
}

}  // namespace data
}  // namespace muroan
