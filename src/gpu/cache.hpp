// Hit probability of an LRU set-associative cache from reuse distances (exact binomial, and PPT-GPU's own).
#pragma once

#include <cstdint>

#include "gpu/stack_distance.hpp"

namespace whatif::gpu {

// P(hit | reuse distance D) for a cache of `blocks` lines in sets of `assoc` ways, lines mapped to sets at
// random: the access hits unless `assoc` or more of the D distinct lines touched since the last use fell
// into its set, each with probability p = assoc / blocks, so P = sum_{a < assoc} C(D,a) p^a (1-p)^(D-a).
// D = 0 is a hit, StackDistance::kCold a miss; assoc == blocks (fully associative) gives exactly D < assoc.
// Summed with rescaled terms, it stays accurate for D up to 1e18 and any associativity.
// Throws std::invalid_argument unless 0 < assoc <= blocks.
double hit_probability(std::uint64_t distance, long blocks, int assoc);

// Expected hits / accesses of a profile on that cache; cold accesses count as misses. 0 for an empty one.
double hit_rate(const ReuseProfile& profile, long blocks, int assoc);

// PPT-GPU's normal approximation of the same probability, kept to compare against and to reproduce its
// numbers. Its abs() makes every D > 0 a hit with probability at least 1/2, rising back to 1 for distances
// far beyond the cache (see cache.cpp).
double ppt_gpu_hit_probability(std::uint64_t distance, long blocks, int assoc);
double ppt_gpu_hit_rate(const ReuseProfile& profile, long blocks, int assoc);

}  // namespace whatif::gpu
