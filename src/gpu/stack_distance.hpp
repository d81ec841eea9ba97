// LRU stack (reuse) distances over a stream of cache-line numbers, and the reuse profile they add up to.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <span>
#include <utility>
#include <vector>

namespace whatif::gpu {

// For each access, how many distinct other keys were touched since the previous access to the same key.
//
// The last-use time of every key is marked in a bitmap over time stamps; a Fenwick tree over 512-stamp
// blocks of that bitmap counts the marks before a time, so a distance costs two short tree walks (the tree
// is 1/512 of the bitmap and stays in cache) and one 64-byte popcount. The newest block joins the tree only
// when it fills, so a reuse within it touches no tree node at all. When the clock runs out, live keys are
// renumbered densely in time order and the clock is resized to 4-8 stamps per key, so the bitmap stays
// O(distinct keys) however long the stream. Key -> last time lives in an open-addressing table of 12-byte
// slots (load 3/8 to 3/4); all together at most about 33 bytes per key.
class StackDistance {
 public:
  static constexpr std::uint64_t kCold = std::numeric_limits<std::uint64_t>::max();

  StackDistance();
  StackDistance(StackDistance&&) noexcept = default;
  StackDistance& operator=(StackDistance&&) noexcept = default;

  // Distance of this access to `key` (0: `key` was the last key accessed), kCold on its first access.
  // Throws std::length_error on a new key beyond 2^29 distinct ones.
  std::uint64_t access(std::uint64_t key);
  // The same for a run of keys; prefetches table slots ahead, so it is faster on large key sets.
  void access(std::span<const std::uint64_t> keys, std::uint64_t* distances);

  std::size_t distinct() const { return size_; }
  // Bytes held now by the tables (and the object itself).
  std::size_t memory_bytes() const;
  // Sizes the tables for `keys` distinct keys, so a stream of that many never rehashes.
  void reserve(std::size_t keys);

  struct Free {  // the tables come from malloc (2 MiB-aligned when large, for huge pages)
    void operator()(void* p) const noexcept;
  };

 private:
  // 12 bytes: the key in two halves keeps the slot 4-byte aligned, so no padding.
  struct Slot {
    std::uint32_t key_lo, key_hi, time;
  };
  static constexpr std::uint32_t kEmpty = std::numeric_limits<std::uint32_t>::max();
  static constexpr unsigned kBlockShift = 9;  // 512 time stamps = 8 words = one cache line
  static constexpr std::uint32_t kBlock = 1u << kBlockShift;

  struct Hot;  // the entry points, compiled per CPU feature level (stack_distance.cpp)
  std::uint64_t access_one(std::uint64_t key);
  void access_many(std::span<const std::uint64_t> keys, std::uint64_t* distances);
  std::size_t slot_of(std::uint64_t key) const;
  void grow_table(std::size_t capacity);
  void compact(std::uint32_t min_clock = 0);  // renumbers the live keys' time stamps densely
  void compact_here(std::uint32_t min_clock);
  void resize_clock(std::uint32_t capacity);
  void fenwick_add(std::uint32_t block, std::uint32_t delta);  // delta modulo 2^32
  void fenwick_finalise(std::uint32_t block, std::uint32_t marks);
  std::uint32_t fenwick_prefix(std::uint32_t blocks) const;  // marks in finalised blocks [0, blocks)
  void build_fenwick(std::uint32_t full_blocks);
  std::uint64_t distance_and_clear(std::uint32_t time);

  std::unique_ptr<Slot[], Free> slots_;
  std::size_t capacity_ = 0, mask_ = 0, size_ = 0;
  unsigned shift_ = 64;  // 64 - log2(capacity_)

  std::unique_ptr<std::uint64_t[], Free> bits_;     // one bit per time stamp: the last use of a live key
  std::unique_ptr<std::uint32_t[], Free> fenwick_;  // 1-based, over blocks [0, block of now_)
  std::uint32_t clock_capacity_ = 0;                // time stamps the bitmap holds (a power of two)
  std::uint32_t now_ = 0;                           // the next time stamp
  std::uint32_t finalised_ = 0;                     // marks in blocks before now_'s block
  std::uint32_t current_ = 0;                       // marks in now_'s block
};

// How often each stack distance occurred: a dense array for the short distances that dominate, a map for
// the long tail, so one huge distance costs one map node rather than a huge array.
struct ReuseProfile {
  static constexpr std::uint64_t kDenseLimit = 1u << 16;

  std::uint64_t cold = 0, total = 0;  // total counts cold accesses too

  void add(std::uint64_t distance, std::uint64_t count = 1);
  void merge(const ReuseProfile& other);
  std::uint64_t count(std::uint64_t distance) const;  // of a finite distance
  // Sorted (distance, count) pairs of the finite distances, zero counts left out.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> histogram() const;

 private:
  std::vector<std::uint64_t> dense_;
  std::map<std::uint64_t, std::uint64_t> sparse_;
};

// The stack distances of every access of a stream, added to a profile.
ReuseProfile reuse_profile(std::span<const std::uint64_t> keys);

// Accesses per second of StackDistance on a deterministic stream of `accesses` accesses over about
// `distinct` keys that mixes sequential sweeps (array walks) with random reuse of recent and old lines,
// as a GPU SM's line stream does; the time is this thread's CPU time in StackDistance (generating the stream
// is not counted). Backs `whatif bench`.
double bench_stack_distance(std::uint64_t accesses, std::uint64_t distinct, std::uint64_t seed);

}  // namespace whatif::gpu
