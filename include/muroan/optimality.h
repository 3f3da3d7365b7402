// How far an attack's sets are from the smallest possible: the optimality gap
// against the exact method's results on the same samples.
//
// The exact method finds the smallest set in points among the sets of at most
// max_size elements; when it has at most max_size + 1 points it is the smallest
// of all sets (attack.h), and only then is a sample's minimum counted as known.
#pragma once

#include <cstdint>
#include <vector>

#include "muroan/measurement.h"

namespace muroan {

struct OptimalityGap {
  int64_t known = 0;         // samples attacked in both runs whose minimum is known
  int64_t solved = 0;        // of those, the method's successes
  int64_t hit = 0;           // successes with exactly the minimum's number of points
  double mean_excess = 0.0;  // mean points above the minimum over the successes (0 when none)
};

// Matches the records by sample id. Throws UsageError for max_size < 1.
OptimalityGap optimality_gap(const std::vector<SampleRecord>& exact, const std::vector<SampleRecord>& method,
                             int64_t max_size);

}  // namespace muroan
