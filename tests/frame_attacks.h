// Shared by the tests of the time-series kinds (audio_test, signal_test): every
// attack method on a hand-set model whose decision ("alarm", class 1, to
// "routine", 0) rests on frames 3 and 4 of input 0, which flip it only
// together.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "muroan/attack.h"
#include "muroan/error.h"

namespace muroan::testing_util {

// Every method that searches frames finds both decisive frames; exact, greedy
// and saliency exactly {3, 4} and nothing of input 1. pgd (images only) is
// refused, drop succeeds by dropping the input, and the reference attack (one
// frame at a time) fails.
inline void expect_methods_find_frames_3_and_4(Classifier& model, const Inputs& alarm) {
  for (const auto& method : attack_catalog()) {
    SCOPED_TRACE(method.name);
    AttackOptions options;
    options.method = method.name;
    if (method.name == "pgd") {  // it perturbs images, and this model has none: refused in one line
      EXPECT_THROW(make_attack(options)->attack(model, alarm), UsageError);
      continue;
    }
    AttackResult r;
    ASSERT_NO_THROW(r = make_attack(options)->attack(model, alarm));
    ASSERT_TRUE(r.decoupling);
    if (method.name == "drop") {
      EXPECT_TRUE(r.success);
      continue;
    }
    if (method.name == "reference") {
      EXPECT_FALSE(r.success);
      continue;
    }
    if (!r.success) continue;  // a random search may miss
    EXPECT_EQ(r.adversarial_prediction, 0);
    for (int64_t frame : {3, 4})
      EXPECT_NE(std::find(r.set.elements.begin(), r.set.elements.end(), DecouplingElement::feature(0, frame)),
                r.set.elements.end())
          << frame;
    if (method.name == "greedy" || method.name == "saliency" || method.name == "exact")
      EXPECT_EQ(r.points.decoupled, (std::vector<int64_t>{2, 0}));
  }
}

}  // namespace muroan::testing_util
