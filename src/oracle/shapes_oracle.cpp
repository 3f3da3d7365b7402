// The shapes-vqa oracle: the answer to a decoupled question about a decoupled
// scene, recomputed.
//
// Question (deleted or masked words alike): a word that carries its meaning
// removed -> undefined: the colour, and the words that say what is asked
// ("what", "shape", "left", "top", "closest", "farthest", "how", "many").
// Removing any other word ("is", "the", "object", "on", ...) leaves the question.
// Scene: rebuilt from the clean image (objects have distinct palette colours
// and never touch, so each colour's pixels are one object: its centre is the
// centre of their bounding box, a full 11x11 box is a square). An object with
// less than half of its pixels visible in x_S is gone from the scene; the
// answer is recomputed on what is left (exists, left/top, nearest, farthest,
// count). The question's own object gone, no other object left for a
// relational question, or a tie between neighbours of different shapes ->
// undefined.
#include <algorithm>
#include <array>
#include <cstdio>

#include "data/generators.h"
#include "muroan/error.h"
#include "oracle/oracles.h"
#include "oracle/sample_view.h"

namespace muroan {
namespace oracle {
namespace {

using data::ShapesObject;
using data::ShapesQuestion;
using data::ShapesQuestionType;

constexpr std::array<const char*, 8> kKeyWords = {"what", "shape", "left", "top", "closest", "farthest", "how", "many"};
constexpr int64_t kClassCircle = 2, kClassSquare = 3, kClassOne = 4;

struct SceneObject {
  ShapesObject object;
  std::vector<size_t> pixels;  // y * W + x
};

std::string color_name(int c) { return data::kShapesColorNames.at(static_cast<size_t>(c)); }

int color_of_word(const std::string& w) {
  for (size_t c = 0; c < data::kShapesColorNames.size(); ++c)
    if (w == data::kShapesColorNames[c]) return static_cast<int>(c);
  return -1;
}

// The question the words ask; throws Error when they fit no template.
ShapesQuestion parse_question(const std::vector<std::string>& words) {
  ShapesQuestion q;
  int colors = 0;
  auto has = [&words](const char* w) { return std::find(words.begin(), words.end(), w) != words.end(); };
  for (const auto& w : words) {
    const int c = color_of_word(w);
    if (c >= 0) {
      q.color = c;
      ++colors;
    }
  }
  if (colors != 1) throw Error("shapes-vqa oracle: the question names " + std::to_string(colors) + " colours");
  if (has("closest"))
    q.type = ShapesQuestionType::kClosestShape;
  else if (has("farthest"))
    q.type = ShapesQuestionType::kFarthestShape;
  else if (has("many"))
    q.type = ShapesQuestionType::kCount;
  else if (has("left"))
    q.type = ShapesQuestionType::kLeft;
  else if (has("top"))
    q.type = ShapesQuestionType::kTop;
  else if (has("shape"))
    q.type = ShapesQuestionType::kShape;
  else
    throw Error("shapes-vqa oracle: the question fits no template");
  return q;
}

int64_t dist_sq(const ShapesObject& a, const ShapesObject& b) {
  const int64_t dx = a.x - b.x, dy = a.y - b.y;
  return dx * dx + dy * dy;
}

int64_t shape_class(const ShapesObject& o) { return o.square ? kClassSquare : kClassCircle; }

class ShapesTruth : public SampleTruth {
 public:
  ShapesTruth(SampleView view, int64_t label, ShapesQuestion question, std::vector<SceneObject> objects)
      : view_(std::move(view)), label_(label), question_(question), objects_(std::move(objects)) {}

  int64_t label() const override { return label_; }

  TruthVerdict judge(const DecouplingSet& set, TextRemoval) const override {
    TruthVerdict v;
    for (const auto& w : removed_words(set, view_)) {
      if (color_of_word(w) >= 0 || std::find(kKeyWords.begin(), kKeyWords.end(), w) != kKeyWords.end()) {
        v.reason = "question word '" + w + "' removed: the question asks something else, or nothing";
        return v;
      }
    }
    const auto mask = decoupled_pixels(set, view_);
    std::vector<ShapesObject> visible;
    std::string gone;
    for (const auto& o : objects_) {
      size_t hidden = 0;
      for (size_t p : o.pixels) hidden += mask[p];
      if (2 * hidden > o.pixels.size()) {  // less than half visible
        gone += (gone.empty() ? "" : ", ") + color_name(o.object.color);
        if (o.object.color == question_.color) {
          v.reason = "the " + color_name(o.object.color) + " object the question asks about is hidden";
          return v;
        }
        continue;
      }
      visible.push_back(o.object);
    }
    const auto answer = answer_on(visible, &v.reason);
    if (!answer) return v;
    v.label = *answer;
    if (*answer != label_)
      v.reason = "hidden: " + gone + "; the answer becomes '" +
                 std::string(data::kShapesClasses.at(static_cast<size_t>(*answer))) + "'";
    return v;
  }

  // The answer on the objects left (the question's object among them).
  std::optional<int64_t> answer_on(const std::vector<ShapesObject>& objects, std::string* why) const {
    const ShapesObject* ref = nullptr;
    for (const auto& o : objects)
      if (o.color == question_.color) ref = &o;
    if (!ref) return std::nullopt;
    switch (question_.type) {
      case ShapesQuestionType::kShape:
      case ShapesQuestionType::kLeft:
      case ShapesQuestionType::kTop:
        return data::shapes_answer(data::ShapesScene{false, objects}, question_);
      case ShapesQuestionType::kCount: {
        const auto same = std::count_if(objects.begin(), objects.end(),
                                        [&](const ShapesObject& o) { return o.square == ref->square; });
        return kClassOne + static_cast<int64_t>(same) - 1;
      }
      case ShapesQuestionType::kClosestShape:
      case ShapesQuestionType::kFarthestShape: {
        const bool farthest = question_.type == ShapesQuestionType::kFarthestShape;
        std::optional<int64_t> best_d, shape;
        bool tie_differs = false;
        for (const auto& o : objects) {
          if (&o == ref) continue;
          const int64_t d = dist_sq(o, *ref);
          if (!best_d || (farthest ? d > *best_d : d < *best_d)) {
            best_d = d;
            shape = shape_class(o);
            tie_differs = false;
          } else if (d == *best_d && shape_class(o) != *shape) {
            tie_differs = true;
          }
        }
        if (!shape) {
          *why = "no object but the " + color_name(question_.color) + " one is left";
          return std::nullopt;
        }
        if (tie_differs) {
          *why = "two objects of different shapes are now equally near or far";
          return std::nullopt;
        }
        return shape;
      }
    }
    return std::nullopt;
  }

 private:
  SampleView view_;
  int64_t label_;
  ShapesQuestion question_;
  std::vector<SceneObject> objects_;
};

// The scene's objects, from the clean image's palette colours.
std::vector<SceneObject> rebuild_scene(const SampleView& v) {
  std::vector<SceneObject> out;
  for (size_t c = 0; c < data::kShapesColors.size(); ++c) {
    const auto& rgb = data::kShapesColors[c];
    SceneObject o;
    int64_t x0 = v.width, x1 = -1, y0 = v.height, y1 = -1;
    for (int64_t y = 0; y < v.height; ++y)
      for (int64_t x = 0; x < v.width; ++x)
        if (v.at(0, y, x) == rgb[0] && v.at(1, y, x) == rgb[1] && v.at(2, y, x) == rgb[2]) {
          o.pixels.push_back(static_cast<size_t>(y * v.width + x));
          x0 = std::min(x0, x);
          x1 = std::max(x1, x);
          y0 = std::min(y0, y);
          y1 = std::max(y1, y);
        }
    if (o.pixels.empty()) continue;
    o.object.color = static_cast<int>(c);
    o.object.x = static_cast<int>((x0 + x1) / 2);
    o.object.y = static_cast<int>((y0 + y1) / 2);
    o.object.square = static_cast<int64_t>(o.pixels.size()) == (x1 - x0 + 1) * (y1 - y0 + 1);
    out.push_back(std::move(o));
  }
  return out;
}

class ShapesOracle : public TruthOracle {
 public:
  explicit ShapesOracle(Vocabulary vocab) : vocab_(std::move(vocab)) {}
  std::string name() const override { return "shapes-vqa"; }
  std::string rules() const override {
    return "question re-read: the colour or a word that says what is asked (what, shape, left, top, "
           "closest, farthest, how, many) removed -> undefined; other words removed -> unchanged. "
           "Scene: an object with less than half of its pixels visible is gone and the answer is "
           "recomputed; the asked-about object gone, no neighbour left, or a tie of different shapes "
           "-> undefined.";
  }
  std::unique_ptr<SampleTruth> prepare(const Inputs& sample, int64_t label) const override {
    auto view = make_sample_view(sample, vocab_, "shapes-vqa");
    if (view.channels != 3) throw Error("shapes-vqa oracle: expected an RGB image");
    const ShapesQuestion q = parse_question(view.words);
    auto objects = rebuild_scene(view);
    ShapesTruth truth(view, label, q, objects);
    std::vector<ShapesObject> all;
    all.reserve(objects.size());
    for (const auto& o : objects) all.push_back(o.object);
    std::string why;
    const auto answer = truth.answer_on(all, &why);
    if (!answer || *answer != label)
      throw Error("shapes-vqa oracle: the scene rebuilt from the image answers '" +
                  std::string(answer ? data::kShapesClasses.at(static_cast<size_t>(*answer)) : "nothing") + "' to '" +
                  [&] {
                    std::string s;
                    for (const auto& w : view.words) s += (s.empty() ? "" : " ") + w;
                    return s;
                  }() +
                  "', not the label " + std::to_string(label) + ": not a shapes-vqa sample");
    return std::make_unique<ShapesTruth>(std::move(view), label, q, std::move(objects));
  }

 private:
  Vocabulary vocab_;
};

}  // namespace

std::unique_ptr<TruthOracle> make_shapes_oracle(const Vocabulary& vocab) {
  return std::make_unique<ShapesOracle>(vocab);
}

}  // namespace oracle
}  // namespace muroan
