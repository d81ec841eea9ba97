// Unit tests of the GPU cache model's numeric core: stack distances, reuse profiles and hit probabilities.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "gpu/cache.hpp"
#include "gpu/stack_distance.hpp"

using whatif::gpu::bench_stack_distance;
using whatif::gpu::hit_probability;
using whatif::gpu::hit_rate;
using whatif::gpu::ppt_gpu_hit_probability;
using whatif::gpu::ppt_gpu_hit_rate;
using whatif::gpu::reuse_profile;
using whatif::gpu::ReuseProfile;
using whatif::gpu::StackDistance;

namespace {

constexpr std::uint64_t kCold = StackDistance::kCold;

// O(n * distinct) reference: the depth of the key in an explicit LRU stack, most recent first.
std::vector<std::uint64_t> brute_force_distances(const std::vector<std::uint64_t>& keys) {
  std::vector<std::uint64_t> stack, out;
  for (const std::uint64_t k : keys) {
    const auto it = std::find(stack.begin(), stack.end(), k);
    if (it == stack.end()) {
      out.push_back(kCold);
    } else {
      out.push_back(static_cast<std::uint64_t>(it - stack.begin()));
      stack.erase(it);
    }
    stack.insert(stack.begin(), k);
  }
  return out;
}

// O(n log n) reference for long streams: a plain Fenwick tree over every time stamp of the stream (no blocks,
// no renumbering), itself checked against brute_force_distances below.
std::vector<std::uint64_t> plain_fenwick_distances(const std::vector<std::uint64_t>& keys) {
  std::vector<std::uint32_t> tree(keys.size() + 1);
  const auto add = [&](std::size_t t, std::uint32_t d) {
    for (std::size_t i = t + 1; i < tree.size(); i += i & (~i + 1))
      tree[i] += d;
  };
  const auto through = [&](std::size_t t) {  // marks at times <= t
    std::uint64_t sum = 0;
    for (std::size_t i = t + 1; i > 0; i &= i - 1)
      sum += tree[i];
    return sum;
  };
  std::unordered_map<std::uint64_t, std::size_t> last;
  std::vector<std::uint64_t> out;
  for (std::size_t t = 0; t < keys.size(); ++t) {
    const auto [it, fresh] = last.try_emplace(keys[t], t);
    if (fresh) {
      out.push_back(kCold);
    } else {
      out.push_back(through(t) - through(it->second));
      add(it->second, ~0u);
      it->second = t;
    }
    add(t, 1);
  }
  return out;
}

std::vector<std::uint64_t> fast_distances(const std::vector<std::uint64_t>& keys) {
  StackDistance sd;
  std::vector<std::uint64_t> out;
  out.reserve(keys.size());
  for (const std::uint64_t k : keys)
    out.push_back(sd.access(k));
  return out;
}

// Half the accesses reuse one of the last 16 keys, half draw from the key space; keys are spread over all 64
// bits (0 and UINT64_MAX included: a key equal to kCold must still work).
std::vector<std::uint64_t> random_stream(std::size_t n, std::uint64_t key_space, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint64_t> keys;
  keys.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!keys.empty() && rng() % 2 == 0) {
      keys.push_back(keys[keys.size() - 1 - rng() % std::min<std::size_t>(16, keys.size())]);
    } else {
      const std::uint64_t k = rng() % key_space;
      keys.push_back(k == 1 ? ~std::uint64_t{0} : k * 0x9E3779B97F4A7C15ull);
    }
  }
  return keys;
}

// Binomial P(X < A), X ~ Bin(D, A/B), term by term in long double through lgamma: an independent path.
long double binomial_reference(long double d, long double blocks, int assoc) {
  const long double p = assoc / blocks;
  long double sum = 0;
  for (int a = 0; a < assoc && a <= d; ++a) {
    sum += std::exp(std::lgamma(d + 1) - std::lgamma(a + 1.0L) - std::lgamma(d - a + 1) + a * std::log(p) +
                    (d - a) * std::log1p(-p));
  }
  return sum;
}

// A cache of `blocks` lines in sets of `assoc` LRU ways, each line mapped to a set drawn at random.
double simulate_random_mapped_lru(const std::vector<std::uint64_t>& keys, long blocks, int assoc,
                                  std::uint64_t seed) {
  const long sets = blocks / assoc;
  std::vector<std::vector<std::uint64_t>> lines(static_cast<std::size_t>(sets));  // most recent first
  std::unordered_map<std::uint64_t, long> set_of;
  std::mt19937_64 rng(seed);
  std::uint64_t hits = 0;
  for (const std::uint64_t k : keys) {
    auto [where, fresh] = set_of.try_emplace(k, 0);
    if (fresh) where->second = static_cast<long>(rng() % static_cast<std::uint64_t>(sets));
    auto& set = lines[static_cast<std::size_t>(where->second)];
    const auto it = std::find(set.begin(), set.end(), k);
    if (it != set.end()) {
      ++hits;
      set.erase(it);
    } else if (set.size() == static_cast<std::size_t>(assoc)) {
      set.pop_back();
    }
    set.insert(set.begin(), k);
  }
  return static_cast<double>(hits) / static_cast<double>(keys.size());
}

// A GPU-like line stream: sweeps over an array, reuse of recent lines, random gathers.
std::vector<std::uint64_t> gpu_like_stream(std::size_t n, std::uint64_t lines, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint64_t> keys;
  std::uint64_t cursor = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto pick = rng() % 10;
    if (pick < 4) {
      keys.push_back(1000 + cursor);
      cursor = (cursor + 1) % lines;
    } else if (pick < 8 && !keys.empty()) {
      keys.push_back(keys[keys.size() - 1 - rng() % std::min<std::size_t>(600, keys.size())]);
    } else {
      keys.push_back(1000 + rng() % lines);
    }
  }
  return keys;
}

}  // namespace

TEST(GpuStackDistance, MatchesBruteForceOnRandomStreams) {
  // Key spaces from a handful (compaction every 4096 accesses renumbers a few keys many times) to thousands
  // (blocks fill, the tree and the table grow, compaction renumbers thousands).
  struct Case {
    std::uint64_t key_space;
    std::size_t accesses;
  };
  for (const Case c :
       {Case{1, 500}, Case{8, 3000}, Case{100, 20000}, Case{3000, 30000}, Case{12000, 40000}}) {
    for (std::uint64_t seed : {1u, 2u, 3u}) {
      const auto keys = random_stream(c.accesses, c.key_space, seed * 7919 + c.key_space);
      const auto expected = brute_force_distances(keys);
      const auto got = fast_distances(keys);
      ASSERT_EQ(got.size(), expected.size());
      for (std::size_t i = 0; i < got.size(); ++i) {
        ASSERT_EQ(got[i], expected[i]) << "key space " << c.key_space << " seed " << seed << " access " << i;
      }
    }
  }
}

TEST(GpuStackDistance, MatchesAPlainFenwickTreeOnLongStreams) {
  // Long enough for trees of thousands of blocks, many table growths and compactions at every size.
  EXPECT_EQ(plain_fenwick_distances(random_stream(20000, 3000, 9)),
            brute_force_distances(random_stream(20000, 3000, 9)));
  for (const auto& keys : {random_stream(1'500'000, 150'000, 21), gpu_like_stream(2'000'000, 400'000, 22),
                           random_stream(1'000'000, 1'000'000'000, 23)}) {
    const auto expected = plain_fenwick_distances(keys);
    const auto got = fast_distances(keys);
    ASSERT_EQ(got.size(), expected.size());
    for (std::size_t i = 0; i < got.size(); ++i)
      ASSERT_EQ(got[i], expected[i]) << "access " << i;
  }
}

TEST(GpuStackDistance, ColdAccessesThenCyclicSweeps) {
  // A cyclic sweep over N keys: the first pass is all cold, every later access has N - 1 others between.
  for (const std::uint64_t n : {1u, 2u, 511u, 512u, 513u, 3000u, 5000u}) {
    StackDistance sd;
    for (std::uint64_t k = 0; k < n; ++k)
      ASSERT_EQ(sd.access(k << 7), kCold);
    EXPECT_EQ(sd.distinct(), n);
    for (int pass = 0; pass < 5; ++pass) {
      for (std::uint64_t k = 0; k < n; ++k)
        ASSERT_EQ(sd.access(k << 7), n - 1) << "n " << n << " pass " << pass;
    }
  }
}

TEST(GpuStackDistance, RepeatedKeyIsDistanceZero) {
  StackDistance sd;
  EXPECT_EQ(sd.access(42), kCold);
  for (int i = 0; i < 20000; ++i)
    ASSERT_EQ(sd.access(42), 0u);  // crosses blocks and several compactions
  EXPECT_EQ(sd.distinct(), 1u);
  EXPECT_EQ(sd.access(43), kCold);
  EXPECT_EQ(sd.access(42), 1u);
  EXPECT_EQ(sd.access(43), 1u);
}

TEST(GpuStackDistance, BatchAndReserveGiveTheSameDistances) {
  const auto keys = random_stream(50000, 9000, 11);
  const auto expected = fast_distances(keys);
  StackDistance batch;
  std::vector<std::uint64_t> got(keys.size());
  batch.access(keys, got.data());
  EXPECT_EQ(got, expected);

  StackDistance reserved;
  reserved.access(keys[0]);
  reserved.reserve(100000);  // renumbers the one live key into a larger clock
  got.assign(1, kCold);
  for (std::size_t i = 1; i < keys.size(); ++i)
    got.push_back(reserved.access(keys[i]));
  EXPECT_EQ(got, expected);
}

TEST(GpuStackDistance, MemoryStaysUnder64BytesPerKey) {
  // 3 M accesses over 300 k keys: many compactions; table, bitmap and tree must all stay O(distinct).
  // Checked all along, since the table is emptiest (3/8 full) just after it grows.
  StackDistance sd;
  std::mt19937_64 rng(5);
  for (int i = 0; i < 3'000'000; ++i) {
    sd.access(rng() % 300'000);
    if (i % 1000 == 0) {
      ASSERT_LE(sd.memory_bytes(), 64 * sd.distinct() + 4096) << "after " << i;
    }
  }
  ASSERT_GT(sd.distinct(), 299'000u);
  const double per_key = static_cast<double>(sd.memory_bytes()) / static_cast<double>(sd.distinct());
  RecordProperty("bytes_per_distinct_key", std::to_string(per_key));
  EXPECT_LE(sd.memory_bytes(), 64 * sd.distinct() + 4096);
  // A fresh one holds only a small constant.
  EXPECT_LE(StackDistance().memory_bytes(), 4096u);
}

TEST(GpuStackDistance, ReuseProfileHistogram) {
  ReuseProfile p;
  p.add(kCold);
  p.add(0);
  p.add(0);
  p.add(7);
  p.add(1'000'000'000'000'000ull);  // far beyond the dense part: one map node, not a huge array
  p.add(ReuseProfile::kDenseLimit, 3);
  EXPECT_EQ(p.total, 8u);
  EXPECT_EQ(p.cold, 1u);
  EXPECT_EQ(p.count(0), 2u);
  EXPECT_EQ(p.count(7), 1u);
  EXPECT_EQ(p.count(8), 0u);
  EXPECT_EQ(p.count(ReuseProfile::kDenseLimit), 3u);
  using H = std::vector<std::pair<std::uint64_t, std::uint64_t>>;
  EXPECT_EQ(p.histogram(),
            (H{{0, 2}, {7, 1}, {ReuseProfile::kDenseLimit, 3}, {1'000'000'000'000'000ull, 1}}));

  ReuseProfile q;
  q.add(7, 2);
  q.add(kCold, 4);
  q.merge(p);
  EXPECT_EQ(q.total, 14u);
  EXPECT_EQ(q.cold, 5u);
  EXPECT_EQ(q.count(7), 3u);

  // reuse_profile over a stream: a b a b c a -> cold, cold, 1, 1, cold, 2.
  const std::vector<std::uint64_t> keys{1, 2, 1, 2, 3, 1};
  const ReuseProfile r = reuse_profile(keys);
  EXPECT_EQ(r.total, 6u);
  EXPECT_EQ(r.cold, 3u);
  EXPECT_EQ(r.histogram(), (H{{1, 2}, {2, 1}}));
}

TEST(GpuStackDistance, BenchRuns) {
  EXPECT_GT(bench_stack_distance(200'000, 20'000, 1), 0.0);
  EXPECT_EQ(bench_stack_distance(0, 20'000, 1), 0.0);
  EXPECT_THROW(bench_stack_distance(10, 0, 1), std::invalid_argument);
}

TEST(GpuCache, ZeroDistanceHitsColdMisses) {
  for (const auto& [blocks, assoc] :
       {std::pair{1L, 1}, {1024L, 1}, {1024L, 4}, {1024L, 1024}, {73728L, 24}}) {
    EXPECT_EQ(hit_probability(0, blocks, assoc), 1.0);
    EXPECT_EQ(hit_probability(kCold, blocks, assoc), 0.0);
    EXPECT_EQ(ppt_gpu_hit_probability(0, blocks, assoc), 1.0);
    EXPECT_EQ(ppt_gpu_hit_probability(kCold, blocks, assoc), 0.0);
  }
}

TEST(GpuCache, FullyAssociativeIsAStep) {
  for (const int a : {1, 4, 64, 1024}) {
    for (std::uint64_t d = 0; d < 3 * static_cast<std::uint64_t>(a) + 5; ++d) {
      ASSERT_EQ(hit_probability(d, a, a), d < static_cast<std::uint64_t>(a) ? 1.0 : 0.0) << a << " " << d;
    }
    EXPECT_EQ(hit_probability(1'000'000'000, a, a), 0.0);
  }
}

TEST(GpuCache, DirectMappedIsGeometric) {
  // A = 1: hit only if none of the D lines fell into the same single-line set, (1 - 1/B)^D. B is a power of
  // two so 1 - 1/B is exact in the reference.
  for (const long blocks : {2L, 1024L, 1L << 20}) {
    for (const std::uint64_t d : {1ull, 2ull, 10ull, 1000ull, 1'000'000ull, 1'000'000'000ull}) {
      const double expected = std::pow(1.0 - 1.0 / static_cast<double>(blocks), static_cast<double>(d));
      EXPECT_NEAR(hit_probability(d, blocks, 1), expected, 1e-12 + 1e-9 * expected) << blocks << " " << d;
    }
  }
}

TEST(GpuCache, MatchesTheBinomialSum) {
  // Small and huge distances against long-double lgamma terms, including tails far below 1e-100.
  struct Case {
    double d, blocks;
    int assoc;
  };
  for (const Case c : {Case{5, 64, 4}, Case{100, 64, 4}, Case{300, 1024, 16}, Case{200, 256, 64},
                       Case{73728, 73728, 24}, Case{150000, 73728, 24}, Case{1e6, 73728, 24},
                       Case{1e9, 1e9, 64}, Case{1e9, 2e9, 32}, Case{1e9, 1.6e7, 64}, Case{4096, 4096, 8}}) {
    const double got = hit_probability(static_cast<std::uint64_t>(c.d), static_cast<long>(c.blocks), c.assoc);
    const auto expected = static_cast<double>(binomial_reference(c.d, c.blocks, c.assoc));
    EXPECT_NEAR(got, expected, 1e-13 + 1e-7 * expected) << c.d << " " << c.blocks << " " << c.assoc;
    EXPECT_TRUE(std::isfinite(got));
    EXPECT_GE(got, 0.0);
    EXPECT_LE(got, 1.0);
  }
  // D = 1e9 on a 64-way cache whose mean intervening lines per set is exactly A: near one half.
  const double half = hit_probability(1'000'000'000, 1'000'000'000, 64);
  EXPECT_GT(half, 0.4);
  EXPECT_LT(half, 0.5);
}

TEST(GpuCache, SymmetricBinomialGivesOneHalf) {
  // B = 2A makes p = 1/2; with D = 2A - 1 the binomial is symmetric about A - 1/2, so P(X < A) = 1/2.
  for (int a = 1; a <= 128; ++a) {
    EXPECT_NEAR(hit_probability(2 * static_cast<std::uint64_t>(a) - 1, 2L * a, a), 0.5, 1e-12) << a;
  }
}

TEST(GpuCache, MonotoneInDistanceAndSize) {
  for (const auto& [blocks, assoc] :
       {std::pair{1024L, 1}, {1024L, 4}, {1024L, 64}, {73728L, 24}, {128L, 64}, {1L << 20, 128}}) {
    double last = 1.0;
    for (std::uint64_t d = 0; d < 20000; ++d) {
      const double p = hit_probability(d, blocks, assoc);
      ASSERT_LE(p, last + 1e-12) << blocks << " " << assoc << " " << d;
      last = p;
    }
    for (double d = 20000; d < 1e13; d *= 1.1) {
      const double p = hit_probability(static_cast<std::uint64_t>(d), blocks, assoc);
      ASSERT_LE(p, last + 1e-12) << blocks << " " << assoc << " " << d;
      last = p;
    }
  }
  // A bigger cache of the same associativity never hits less.
  double last = 0.0;
  for (long blocks = 16; blocks < (1L << 22); blocks += blocks / 8) {
    const double p = hit_probability(5000, blocks, 16);
    ASSERT_GE(p, last - 1e-12) << blocks;
    last = p;
  }
}

TEST(GpuCache, AgreesWithMonteCarloRandomMappedLru) {
  // The model is exact in expectation over random set mappings: average a simulated cache over 40 mappings
  // of a GPU-like stream (sweeps over 3000 lines, reuse of recent lines, gathers) on a 512-line cache.
  const auto keys = gpu_like_stream(40000, 3000, 3);
  const ReuseProfile profile = reuse_profile(keys);
  for (const int assoc : {1, 2, 4, 8, 16, 512}) {
    double simulated = 0;
    constexpr int kMappings = 40;
    for (int s = 0; s < kMappings; ++s)
      simulated += simulate_random_mapped_lru(keys, 512, assoc, 100 + s);
    simulated /= kMappings;
    EXPECT_NEAR(hit_rate(profile, 512, assoc), simulated, 0.01) << assoc << " ways";
  }
}

TEST(GpuCache, HitRateOverAProfile) {
  ReuseProfile p;
  p.add(0, 3);
  p.add(2, 2);
  p.add(4);
  p.add(1000);
  p.add(kCold, 2);
  // Fully associative, 4 lines: D = 0 and 2 hit (5 accesses), D = 4, 1000 and the 2 cold ones miss.
  EXPECT_DOUBLE_EQ(hit_rate(p, 4, 4), 5.0 / 9.0);
  ReuseProfile q;
  q.add(1, 4);
  q.add(kCold, 4);
  // Direct-mapped, 8 lines: D = 1 hits with 7/8, so (4 * 7/8) / 8 accesses.
  EXPECT_DOUBLE_EQ(hit_rate(q, 8, 1), 0.4375);
  EXPECT_EQ(hit_rate(ReuseProfile{}, 8, 1), 0.0);
}

TEST(GpuCache, PptGpuApproximationAndItsDefect) {
  // PPT-GPU's formula by hand for D = 256, 1024 lines, 4 ways: mean = 256 * 4/1024 = 1,
  // variance = 1 * 1020/1024, x = |4 - 1 - 1| / sqrt(0.99609) = 2.00391, P = 1 - Q(x) = 0.97746083...
  EXPECT_NEAR(ppt_gpu_hit_probability(256, 1024, 4), 0.9774608335030421, 1e-12);
  // The defect: every D > 0 is at least a 50 % hit, and far reuses (true probability ~0) become certain hits.
  for (const auto& [blocks, assoc] : {std::pair{1024L, 1}, {1024L, 4}, {73728L, 24}, {4096L, 64}}) {
    for (std::uint64_t d = 1; d < 50000; d += 7)
      ASSERT_GE(ppt_gpu_hit_probability(d, blocks, assoc), 0.5) << d;
  }
  EXPECT_LT(hit_probability(100000, 1024, 4), 1e-30);
  EXPECT_GT(ppt_gpu_hit_probability(100000, 1024, 4), 0.999);
  // So a pure streaming profile (every line reused only after 10x the cache) is predicted all hits.
  ReuseProfile streaming;
  streaming.add(10240, 100);
  EXPECT_LT(hit_rate(streaming, 1024, 4), 1e-6);
  EXPECT_GT(ppt_gpu_hit_rate(streaming, 1024, 4), 0.99);
}

TEST(GpuCache, RejectsImpossibleGeometry) {
  EXPECT_THROW(hit_probability(1, 0, 1), std::invalid_argument);
  EXPECT_THROW(hit_probability(1, 4, 0), std::invalid_argument);
  EXPECT_THROW(hit_probability(1, 4, 8), std::invalid_argument);
  EXPECT_THROW(ppt_gpu_hit_probability(1, 4, 8), std::invalid_argument);
  EXPECT_THROW(hit_rate(ReuseProfile{}, -1, 1), std::invalid_argument);
}
