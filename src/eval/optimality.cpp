#include "muroan/optimality.h"

#include <map>
#include <string>

#include "muroan/error.h"

namespace muroan {

OptimalityGap optimality_gap(const std::vector<SampleRecord>& exact, const std::vector<SampleRecord>& method,
                             int64_t max_size) {
  if (max_size < 1) throw UsageError("optimality gap: max_size must be >= 1, got " + std::to_string(max_size));
  std::map<std::string, int64_t> minimum;  // id -> points of the smallest set
  for (const auto& r : exact)
    if (r.attacked && r.success && r.decoupled_points <= max_size + 1) minimum[r.id] = r.decoupled_points;
  OptimalityGap gap;
  int64_t excess = 0;
  for (const auto& r : method) {
    const auto it = minimum.find(r.id);
    if (!r.attacked || it == minimum.end()) continue;
    ++gap.known;
    if (!r.success) continue;
    ++gap.solved;
    if (r.decoupled_points == it->second) ++gap.hit;
    excess += r.decoupled_points - it->second;
  }
  if (gap.solved > 0) gap.mean_excess = static_cast<double>(excess) / static_cast<double>(gap.solved);
  return gap;
}

}  // namespace muroan
