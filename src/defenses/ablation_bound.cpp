// The randomized-ablation bound over several modalities and its certified radii
// (derivation: docs/certification.md).
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "muroan/certify.h"
#include "muroan/error.h"

namespace muroan {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// log C(n-r, k)/C(n, k) for r = 0 .. r_max (entries past n are -inf):
// C(n-i-1, k)/C(n-i, k) = (n-i-k)/(n-i), so each point adds log(1 - k/(n-i)).
std::vector<double> log_miss_table(int64_t n, int64_t k, int64_t r_max) {
  k = std::min(std::max<int64_t>(k, 0), n);
  std::vector<double> f(static_cast<size_t>(r_max + 1), 0.0);
  for (int64_t r = 1; r <= r_max; ++r) {
    const int64_t left = n - (r - 1);  // points before removing the r-th
    double step;
    if (k == 0)
      step = 0.0;
    else if (left - k <= 0)
      step = -kInf;  // fewer than k points would be left to keep
    else
      step = std::log1p(-static_cast<double>(k) / static_cast<double>(left));
    f[static_cast<size_t>(r)] = f[static_cast<size_t>(r - 1)] + step;
  }
  return f;
}

// 1 - exp(log_miss), accurate for small Delta.
double delta_of(double log_miss) { return log_miss == -kInf ? 1.0 : -std::expm1(log_miss); }

void check_sizes(const std::vector<int64_t>& n, const std::vector<int64_t>& k) {
  if (n.size() != k.size()) throw Error("ablation bound: one keep count per modality is needed");
  for (size_t m = 0; m < n.size(); ++m)
    if (n[m] < 0 || k[m] < 0) throw Error("ablation bound: negative point or keep count");
}

// min over splits (sum r_m = j, 0 <= r_m <= n_m) of sum_m log_miss_m(r_m), for
// j = 0 .. r_max; +inf where no split exists.
std::vector<double> worst_log_miss(const std::vector<int64_t>& n, const std::vector<int64_t>& k, int64_t r_max) {
  std::vector<double> best(static_cast<size_t>(r_max + 1), kInf);
  best[0] = 0.0;
  for (size_t m = 0; m < n.size(); ++m) {
    const int64_t cap = std::min(n[m], r_max);
    const auto f = log_miss_table(n[m], k[m], cap);
    std::vector<double> next(best.size(), kInf);
    for (int64_t j = 0; j <= r_max; ++j) {
      if (best[static_cast<size_t>(j)] == kInf) continue;
      for (int64_t r = 0; r <= cap && j + r <= r_max; ++r) {
        double& slot = next[static_cast<size_t>(j + r)];
        slot = std::min(slot, best[static_cast<size_t>(j)] + f[static_cast<size_t>(r)]);
      }
    }
    best = std::move(next);
  }
  return best;
}

}  // namespace

double ablation_log_miss(int64_t n, int64_t k, int64_t r) {
  if (n < 0 || k < 0 || r < 0) throw Error("ablation bound: negative count");
  if (r > n) return -kInf;
  return log_miss_table(n, k, r).back();
}

double ablation_delta(const std::vector<int64_t>& n, const std::vector<int64_t>& k, const std::vector<int64_t>& r) {
  check_sizes(n, k);
  if (r.size() != n.size()) throw Error("ablation bound: one changed-point count per modality is needed");
  double log_miss = 0.0;
  for (size_t m = 0; m < n.size(); ++m) log_miss += ablation_log_miss(n[m], k[m], r[m]);
  return delta_of(log_miss);
}

double worst_ablation_delta(const std::vector<int64_t>& n, const std::vector<int64_t>& k, int64_t r) {
  check_sizes(n, k);
  if (r < 0) throw Error("ablation bound: negative radius");
  const double worst = worst_log_miss(n, k, r)[static_cast<size_t>(r)];
  return worst == kInf ? 1.0 : delta_of(worst);
}

CertifiedRadius certified_radius(double p_lower, const std::vector<int64_t>& n, const std::vector<int64_t>& k) {
  check_sizes(n, k);
  CertifiedRadius out;
  out.per_modality.assign(n.size(), -1);
  if (!(p_lower > 0.5)) return out;
  const auto holds = [p_lower](double log_miss) { return p_lower - delta_of(log_miss) > 0.5; };
  // Per modality: Delta grows with r, so scan up to the first failure.
  int64_t sum = 0;
  for (size_t m = 0; m < n.size(); ++m) {
    const auto f = log_miss_table(n[m], k[m], n[m]);
    int64_t r = 0;
    while (r < n[m] && holds(f[static_cast<size_t>(r + 1)])) ++r;
    out.per_modality[m] = r;
    sum += r;
  }
  // Any split of more than sum_m r_m points puts more than r_m into some
  // modality m, which already fails: the total radius is at most the sum.
  const auto worst = worst_log_miss(n, k, sum);
  int64_t r = 0;
  while (r < sum && worst[static_cast<size_t>(r + 1)] != kInf && holds(worst[static_cast<size_t>(r + 1)])) ++r;
  out.total = r;
  return out;
}

}  // namespace muroan
