// Hit probability of an LRU set-associative cache from reuse distances (exact binomial, and PPT-GPU's own).
#include "gpu/cache.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace whatif::gpu {

namespace {

void check_geometry(long blocks, int assoc) {
  if (blocks <= 0 || assoc <= 0 || assoc > blocks) {
    throw std::invalid_argument("cache geometry: need 0 < associativity <= lines, got " +
                                std::to_string(assoc) + " ways and " + std::to_string(blocks) + " lines");
  }
}

template <typename Probability>
double profile_hit_rate(const ReuseProfile& profile, Probability probability) {
  if (profile.total == 0) return 0.0;
  double hits = 0.0;
  for (const auto& [distance, count] : profile.histogram())
    hits += static_cast<double>(count) * probability(distance);
  return hits / static_cast<double>(profile.total);
}

}  // namespace

double hit_probability(std::uint64_t distance, long blocks, int assoc) {
  check_geometry(blocks, assoc);
  if (distance == StackDistance::kCold) return 0.0;
  // Fewer intervening lines than ways cannot fill the set (this covers D = 0 and sums the whole binomial).
  if (distance < static_cast<std::uint64_t>(assoc)) return 1.0;
  if (assoc == blocks) return 0.0;  // fully associative: D >= A lines always evict it
  const double d = static_cast<double>(distance);
  const double a_ways = assoc, b_lines = static_cast<double>(blocks);
  // Term a is C(D,a) p^a q^(D-a). Term 0 = q^D underflows long before the sum does (D = 1e9, p = 1e-3), so
  // terms are kept relative to exp(log_scale), which starts at log q^D; each next term is the last one times
  // (D-a)/(a+1) * p/q, and all terms are positive, so the sum loses no precision to cancellation.
  double log_scale = d * std::log1p(-a_ways / b_lines);
  const double ratio = a_ways / (b_lines - a_ways);  // p / q
  double term = 1.0, sum = 1.0;
  constexpr double kRescale = 1e250;
  const double log_rescale = std::log(kRescale);
  for (int a = 0; a + 1 < assoc; ++a) {
    term *= (d - a) / (a + 1) * ratio;
    sum += term;
    if (term > kRescale) {
      term /= kRescale;
      sum /= kRescale;
      log_scale += log_rescale;
    }
  }
  return std::clamp(std::exp(log_scale + std::log(sum)), 0.0, 1.0);
}

double hit_rate(const ReuseProfile& profile, long blocks, int assoc) {
  check_geometry(blocks, assoc);
  return profile_hit_rate(profile, [&](std::uint64_t d) { return hit_probability(d, blocks, assoc); });
}

// PPT-GPU (lanl/PPT, PPT-GPU/src/memory_model.py, get_hit_rate_analytical, with qfunc from
// src/helper_methods.py) approximates the binomial by a normal one:
//   mean = D A / B,  variance = mean (B - A) / B,
//   P(hit | D) = 1 - Q(|A - 1 - mean| / sqrt(variance)),  Q(x) = 1/2 - erf(x / 1.41421) / 2,
// with P = 1 for D = 0 and 0 for a cold access. The defect: taking |A - 1 - mean| folds the lower tail onto
// the upper one, so Q <= 1/2 and every D > 0 is at least a 50 % hit; worse, as D grows past the cache the
// folded tail climbs back to 1, so a reuse far beyond the cache's reach (true probability ~0) is predicted
// a certain hit (D = 100000 on 1024 lines, 4 ways: 1.0). It also drops the continuity correction (A - 1/2
// would be the midpoint) and applies the approximation even for D < A, where the answer is exactly 1.
// Reproduced as written, including the 1.41421 for sqrt(2); where variance is 0 (A == B) PPT-GPU divides by
// zero, and this returns the limit 1.
double ppt_gpu_hit_probability(std::uint64_t distance, long blocks, int assoc) {
  check_geometry(blocks, assoc);
  if (distance == StackDistance::kCold) return 0.0;
  if (distance == 0) return 1.0;
  const double b_lines = static_cast<double>(blocks), a_ways = assoc;
  const double mean = static_cast<double>(distance) * (a_ways / b_lines);
  const double variance = mean * ((b_lines - a_ways) / b_lines);
  if (variance <= 0.0) return 1.0;
  const double x = std::fabs(a_ways - 1.0 - mean) / std::sqrt(variance);
  const double q = 0.5 - 0.5 * std::erf(x / 1.41421);
  return 1.0 - q;
}

double ppt_gpu_hit_rate(const ReuseProfile& profile, long blocks, int assoc) {
  check_geometry(blocks, assoc);
  return profile_hit_rate(profile,
                          [&](std::uint64_t d) { return ppt_gpu_hit_probability(d, blocks, assoc); });
}

}  // namespace whatif::gpu
