// shapes-vqa: Sort-of-CLEVR style visual question answering over generated
// scenes of five coloured circles and squares.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "data/generators.h"
#include "muroan/error.h"

namespace muroan {
namespace data {
namespace {

constexpr int64_t kCircleRadiusSq = 30;  // radius ~5.5: 11 px across, like a square
// Centres at least this far apart along x or y leave a gap of at least 1 px
// between two objects.
constexpr int kMinSeparation = 2 * kShapesHalfSize + 2;
// Centres stay this far from the vertical / horizontal midline so that "on the
// left" and "at the top" are never a matter of one pixel.
constexpr int kMidlineMargin = 2;
constexpr int kPlacementTries = 200;
constexpr int kNumColors = static_cast<int>(kShapesColorNames.size());
constexpr int64_t kClassNo = 0, kClassYes = 1, kClassCircle = 2, kClassSquare = 3, kClassOne = 4;

int64_t dist_sq(const ShapesObject& a, const ShapesObject& b) {
  const int64_t dx = a.x - b.x, dy = a.y - b.y;
  return dx * dx + dy * dy;
}

const ShapesObject& object_of_color(const ShapesScene& scene, int color) {
  for (const auto& o : scene.objects)
    if (o.color == color) return o;
  throw Error(std::string("shapes-vqa: the scene has no ") +
              kShapesColorNames.at(static_cast<size_t>(color)) + " object");
}

// The other object nearest (farthest == false) or farthest from `ref`.
const ShapesObject& extreme_neighbour(const ShapesScene& scene, const ShapesObject& ref,
                                      bool farthest) {
  const ShapesObject* best = nullptr;
  for (const auto& o : scene.objects) {
    if (&o == &ref) continue;
    if (!best || (farthest ? dist_sq(o, ref) > dist_sq(*best, ref)
                           : dist_sq(o, ref) < dist_sq(*best, ref)))
      best = &o;
  }
  if (!best) throw Error("shapes-vqa: a relational question needs two objects");
  return *best;
}

// Whether every object has a single nearest and a single farthest neighbour, so
// that relational questions have one answer.
bool relations_unique(const std::vector<ShapesObject>& objects) {
  for (size_t i = 0; i < objects.size(); ++i) {
    std::vector<int64_t> d;
    for (size_t j = 0; j < objects.size(); ++j)
      if (j != i) d.push_back(dist_sq(objects[i], objects[j]));
    std::sort(d.begin(), d.end());
    if (d.size() >= 2 && (d[0] == d[1] || d[d.size() - 1] == d[d.size() - 2])) return false;
  }
  return true;
}

// A centre coordinate: inside the image, off the midline band.
int draw_coordinate(Rng& rng) {
  const int lo = static_cast<int>(kShapesHalfSize);
  const int hi = static_cast<int>(kShapesSide - 1 - kShapesHalfSize);
  const int mid = static_cast<int>(kShapesSide / 2);  // first pixel of the right half
  for (;;) {
    const int v = lo + static_cast<int>(rng.uniform(hi - lo + 1));
    if (v < mid - kMidlineMargin || v >= mid + kMidlineMargin) return v;
  }
}

ShapesScene sample_scene(Rng& rng) {
  ShapesScene scene;
  scene.grey_background = rng.coin();
  std::vector<int> colors(kNumColors);
  for (int c = 0; c < kNumColors; ++c) colors[static_cast<size_t>(c)] = c;
  rng.shuffle(colors);
  // The number of circles is drawn with weights 1,2,2,2,2,1 for 0..5: with the
  // counting question below this makes the answers 1..5 equally likely.
  const int64_t circles = rng.weighted({1, 2, 2, 2, 2, 1});
  std::vector<char> square(kShapesObjects);  // not vector<bool>: shuffled by swap
  for (int64_t i = 0; i < kShapesObjects; ++i) square[static_cast<size_t>(i)] = i >= circles;
  rng.shuffle(square);
  for (;;) {
    scene.objects.clear();
    bool placed = true;
    for (int64_t i = 0; i < kShapesObjects && placed; ++i) {
      placed = false;
      for (int tries = 0; tries < kPlacementTries && !placed; ++tries) {
        ShapesObject o;
        o.color = colors[static_cast<size_t>(i)];
        o.square = square[static_cast<size_t>(i)] != 0;
        o.x = draw_coordinate(rng);
        o.y = draw_coordinate(rng);
        placed = std::all_of(scene.objects.begin(), scene.objects.end(),
                             [&](const ShapesObject& p) {
                               return std::max(std::abs(p.x - o.x), std::abs(p.y - o.y)) >=
                                      kMinSeparation;
                             });
        if (placed) scene.objects.push_back(o);
      }
    }
    if (placed && relations_unique(scene.objects)) return scene;
  }
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
    case ShapesQuestionType::kShape: return "what shape is the " + c + " object";
    case ShapesQuestionType::kLeft: return "is the " + c + " object on the left";
    case ShapesQuestionType::kTop: return "is the " + c + " object at the top";
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
    case ShapesQuestionType::kShape: return shape(ref);
    case ShapesQuestionType::kLeft: return ref.x < mid ? kClassYes : kClassNo;
    case ShapesQuestionType::kTop: return ref.y < mid ? kClassYes : kClassNo;
    case ShapesQuestionType::kClosestShape: return shape(extreme_neighbour(scene, ref, false));
    case ShapesQuestionType::kFarthestShape: return shape(extreme_neighbour(scene, ref, true));
    case ShapesQuestionType::kCount: {
      const auto same = std::count_if(scene.objects.begin(), scene.objects.end(),
                                      [&](const ShapesObject& o) {
                                        return o.square == ref.square;
                                      });
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
        if (!o.square && dx * dx + dy * dy > kCircleRadiusSq) continue;
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
  ShapesPlan plan;
  const int64_t scenes = (size + 2) / 3;
  plan.scenes.reserve(static_cast<size_t>(scenes));
  plan.samples.reserve(static_cast<size_t>(size));
  for (int64_t s = 0; s < scenes; ++s) {
    ShapesScene scene = sample_scene(rng);
    // Counting first: its answer is drawn uniformly among the counts this scene
    // offers (with the circle weights above: 1..5 equally likely), then an object
    // of that shape is its reference.
    int64_t circles = 0;
    for (const auto& o : scene.objects) circles += o.square ? 0 : 1;
    std::vector<char> offered;  // square?, for each count on offer
    if (circles > 0) offered.push_back(0);
    if (circles < kShapesObjects) offered.push_back(1);
    const bool count_square = rng.pick(offered) != 0;
    std::vector<int> count_colors, other_colors;
    for (const auto& o : scene.objects) {
      if (o.square == count_square) count_colors.push_back(o.color);
    }
    const ShapesQuestion count{ShapesQuestionType::kCount, rng.pick(count_colors)};
    // The other two questions ask about two other, distinct objects.
    for (const auto& o : scene.objects)
      if (o.color != count.color) other_colors.push_back(o.color);
    rng.shuffle(other_colors);
    ShapesQuestion plain{static_cast<ShapesQuestionType>(rng.uniform(3)), other_colors[0]};
    ShapesQuestion relational{
        rng.coin() ? ShapesQuestionType::kClosestShape : ShapesQuestionType::kFarthestShape,
        other_colors[1]};
    plan.scenes.push_back(std::move(scene));
    for (const auto& q : {plain, relational, count}) {
      if (static_cast<int64_t>(plan.samples.size()) < size) plan.samples.emplace_back(s, q);
    }
  }
  return plan;
}

RawSplit build_shapes_split(const ShapesPlan& plan, const std::string& split,
                            const Vocabulary& vocab) {
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
