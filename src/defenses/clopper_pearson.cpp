// Clopper-Pearson bounds from the beta quantile, computed here (no dependency):
// the regularized incomplete beta by its continued fraction (modified Lentz,
// Numerical Recipes 6.4), inverted by bisection.
#include <cmath>
#include <limits>
#include <string>

#include "muroan/certify.h"
#include "muroan/error.h"

namespace muroan {
namespace {

constexpr int kMaxTerms = 200000;  // converges in O(sqrt(max(a, b))) terms
constexpr double kEpsilon = 1e-15;
constexpr double kTiny = 1e-300;

// The continued fraction of I_x(a,b), valid (fast) for x < (a+1)/(a+b+2).
double beta_fraction(double a, double b, double x) {
  const double qab = a + b, qap = a + 1.0, qam = a - 1.0;
  double c = 1.0, d = 1.0 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= kMaxTerms; ++m) {
    const double dm = m, m2 = 2.0 * m;
    double aa = dm * (b - dm) * x / ((qam + m2) * (a + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + dm) * (qab + dm) * x / ((a + m2) * (qap + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1.0) < kEpsilon) return h;
  }
  throw Error("incomplete beta: the continued fraction did not converge for a=" + std::to_string(a) +
              ", b=" + std::to_string(b));
}

void check_counts(int64_t successes, int64_t trials, double alpha) {
  if (trials <= 0 || successes < 0 || successes > trials)
    throw UsageError("Clopper-Pearson: need 0 <= successes <= trials and trials > 0, got " + std::to_string(successes) +
                     " of " + std::to_string(trials));
  if (!(alpha > 0.0 && alpha < 1.0)) throw UsageError("Clopper-Pearson: alpha must be in (0,1)");
}

}  // namespace

double regularized_incomplete_beta(double a, double b, double x) {
  if (!(a > 0.0 && b > 0.0)) throw UsageError("incomplete beta: a and b must be positive");
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double log_front = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  const double front = std::exp(log_front);
  if (x < (a + 1.0) / (a + b + 2.0)) return front * beta_fraction(a, b, x) / a;
  return 1.0 - front * beta_fraction(b, a, 1.0 - x) / b;
}

double beta_quantile(double p, double a, double b, bool round_up) {
  if (!(p >= 0.0 && p <= 1.0)) throw UsageError("beta quantile: p must be in [0,1]");
  double lo = 0.0, hi = 1.0;
  // I_x is increasing in x: keep I_lo <= p <= I_hi.
  for (int i = 0; i < 200 && hi - lo > 1e-15; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (regularized_incomplete_beta(a, b, mid) < p)
      lo = mid;
    else
      hi = mid;
  }
  return round_up ? hi : lo;
}

double clopper_pearson_lower(int64_t successes, int64_t trials, double alpha) {
  check_counts(successes, trials, alpha);
  if (successes == 0) return 0.0;
  return beta_quantile(alpha, static_cast<double>(successes), static_cast<double>(trials - successes + 1),
                       /*round_up=*/false);
}

double clopper_pearson_upper(int64_t successes, int64_t trials, double alpha) {
  check_counts(successes, trials, alpha);
  if (successes == trials) return 1.0;
  return beta_quantile(1.0 - alpha, static_cast<double>(successes + 1), static_cast<double>(trials - successes),
                       /*round_up=*/true);
}

}  // namespace muroan
