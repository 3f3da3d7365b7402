#include "muroan/oracle.h"

#include "muroan/error.h"

namespace muroan {

const char* success_class_name(SuccessClass c) {
  switch (c) {
    case SuccessClass::kNone:
      return "none";
    case SuccessClass::kFooled:
      return "fooled";
    case SuccessClass::kTruthChanged:
      return "truth-changed";
    case SuccessClass::kUndefined:
      return "undefined";
  }
  return "?";
}

SuccessClass parse_success_class(const std::string& name) {
  for (SuccessClass c :
       {SuccessClass::kNone, SuccessClass::kFooled, SuccessClass::kTruthChanged, SuccessClass::kUndefined})
    if (name == success_class_name(c)) return c;
  throw Error("success class: expected none, fooled, truth-changed or undefined, got '" + name + "'");
}

std::vector<TruthVerdict> SampleTruth::judge_all(const std::vector<DecouplingSet>& sets, TextRemoval mode) const {
  std::vector<TruthVerdict> out;
  out.reserve(sets.size());
  for (const auto& set : sets) out.push_back(judge(set, mode));
  return out;
}

SuccessClass classify_success(const TruthVerdict& verdict, int64_t label) {
  if (!verdict.label) return SuccessClass::kUndefined;
  return *verdict.label == label ? SuccessClass::kFooled : SuccessClass::kTruthChanged;
}

}  // namespace muroan
