// LRU stack distances (hash table, last-use bitmap, Fenwick tree over its blocks) and reuse profiles.
#include "gpu/stack_distance.hpp"

#include <algorithm>
#include <bit>
#include <ctime>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace whatif::gpu {

namespace {

constexpr std::size_t kMinTable = 16;
constexpr std::uint32_t kMinClock = 4096;
// Largest clock (a power of two, below the empty-slot marker) and the most keys it serves.
constexpr std::uint32_t kMaxClock = 0x80000000u;
constexpr std::size_t kMaxKeys = kMaxClock / 4;

// Fibonacci hashing: the top bits of key * 2^64/phi spread consecutive line numbers evenly over the table.
constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ull;

std::uint64_t splitmix(std::uint64_t& state) {
  std::uint64_t z = (state += kGolden);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// CPU time of this thread: on a shared machine, wall time would also count the time other jobs held the core.
double thread_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// Large arrays are allocated 2 MiB-aligned and marked for transparent huge pages: the table and bitmap are
// read at random, and with 4 KiB pages a 24 MB table costs thousands of page faults when it grows (about
// 40 % of the time of a 1 M-key stream on a VM) and a TLB miss on most lookups.
constexpr std::size_t kHugePage = std::size_t{2} << 20;

std::size_t allocation_size(std::size_t bytes) {
  return bytes >= 2 * kHugePage ? (bytes + kHugePage - 1) / kHugePage * kHugePage : bytes;
}

void* allocate(std::size_t bytes) {
  const std::size_t size = allocation_size(bytes);
  const bool huge = size >= 2 * kHugePage;
  void* p = huge ? std::aligned_alloc(kHugePage, size) : std::malloc(size);
  if (p == nullptr) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (huge) madvise(p, size, MADV_HUGEPAGE);  // a hint: without it (or without THP) it is just slower
#endif
  return p;
}

template <typename T>
std::unique_ptr<T[], StackDistance::Free> allocate_array(std::size_t n, bool zero) {
  void* p = allocate(n * sizeof(T));
  if (zero) std::memset(p, 0, n * sizeof(T));
  return std::unique_ptr<T[], StackDistance::Free>(static_cast<T*>(p));
}

}  // namespace

void StackDistance::Free::operator()(void* p) const noexcept {
  std::free(p);
}

// Built for baseline x86-64, std::popcount is a call into libgcc, and the distance of an access is a few
// popcounts; so the hot entry points are also compiled for POPCNT (every x86-64 CPU since 2008), picked
// when the program loads. The helpers they call are forced inline so that they share the clone's target.
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__POPCNT__)
#define WHATIF_POPCNT_CLONES __attribute__((target_clones("popcnt", "default")))
#else
#define WHATIF_POPCNT_CLONES
#endif
#define WHATIF_INLINE [[gnu::always_inline]] inline

StackDistance::StackDistance() {
  grow_table(kMinTable);
  resize_clock(kMinClock);
  build_fenwick(0);
}

WHATIF_INLINE std::size_t StackDistance::slot_of(std::uint64_t key) const {
  return static_cast<std::size_t>((key * kGolden) >> shift_);
}

void StackDistance::grow_table(std::size_t capacity) {
  auto old = std::move(slots_);
  const std::size_t old_capacity = capacity_;
  slots_ = allocate_array<Slot>(capacity, false);
  for (std::size_t i = 0; i < capacity; ++i)
    slots_[i].time = kEmpty;
  capacity_ = capacity;
  mask_ = capacity - 1;
  shift_ = 64 - static_cast<unsigned>(std::countr_zero(capacity));
  for (std::size_t i = 0; i < old_capacity; ++i) {
    if (old[i].time == kEmpty) continue;
    const std::uint64_t key = (std::uint64_t{old[i].key_hi} << 32) | old[i].key_lo;
    std::size_t j = slot_of(key);
    while (slots_[j].time != kEmpty)
      j = (j + 1) & mask_;
    slots_[j] = old[i];
  }
}

void StackDistance::resize_clock(std::uint32_t capacity) {
  if (capacity == clock_capacity_) return;
  clock_capacity_ = capacity;
  bits_ = allocate_array<std::uint64_t>(capacity / 64, true);
  fenwick_ = allocate_array<std::uint32_t>(capacity / kBlock + 1, true);
}

// The tree only holds the finalised blocks (those before now_'s): a node above them is never read, so it is
// not kept up to date but computed when its last block is finalised, from its children, which are.
void StackDistance::build_fenwick(std::uint32_t full_blocks) {
  // Linear-time construction: each node passes its sum on to its parent.
  for (std::uint32_t i = 1; i <= full_blocks; ++i)
    fenwick_[i] = kBlock;
  for (std::uint32_t i = 1; i <= full_blocks; ++i) {
    const std::uint32_t parent = i + (i & (0u - i));
    if (parent <= full_blocks) fenwick_[parent] += fenwick_[i];
  }
}

WHATIF_INLINE void StackDistance::fenwick_finalise(std::uint32_t block, std::uint32_t marks) {
  const std::uint32_t node = block + 1;
  for (std::uint32_t child = 1; child < (node & (0u - node)); child <<= 1)
    marks += fenwick_[node - child];
  fenwick_[node] = marks;
}

WHATIF_INLINE void StackDistance::fenwick_add(std::uint32_t block, std::uint32_t delta) {
  const std::uint32_t finalised_blocks = now_ >> kBlockShift;
  for (std::uint32_t i = block + 1; i <= finalised_blocks; i += i & (0u - i))
    fenwick_[i] += delta;
}

WHATIF_INLINE std::uint32_t StackDistance::fenwick_prefix(std::uint32_t blocks) const {
  std::uint32_t sum = 0;
  for (std::uint32_t i = blocks; i > 0; i &= i - 1)
    sum += fenwick_[i];
  return sum;
}

WHATIF_INLINE std::uint64_t StackDistance::distance_and_clear(std::uint32_t time) {
  const std::uint32_t block = time >> kBlockShift, now_block = now_ >> kBlockShift;
  const std::uint32_t word = time >> 6, bit = time & 63, in_block = word % (kBlock / 64);
  // Marks after `time` in its own block: all eight words masked, so no branch depends on where it lies; bit
  // 63 gives an empty mask for its own word, the shift wrapping to 0.
  const std::uint64_t above = ~((std::uint64_t{2} << bit) - 1);
  const std::uint64_t* block_bits = &bits_[word - in_block];
  std::uint64_t after = 0;
  for (std::uint32_t w = 0; w < kBlock / 64; ++w) {
    const std::uint64_t mask = w < in_block ? 0 : w == in_block ? above : ~std::uint64_t{0};
    after += std::popcount(block_bits[w] & mask);
  }
  bits_[word] &= ~(std::uint64_t{1} << bit);
  if (block == now_block) {  // a reuse within the newest block: all marks after it are in this block
    --current_;
    return after;
  }
  const std::uint32_t through_block = fenwick_prefix(block + 1);
  fenwick_add(block, ~0u);  // -1
  const std::uint64_t distance = after + (finalised_ - through_block) + current_;
  --finalised_;
  return distance;
}

WHATIF_INLINE void StackDistance::compact_here(std::uint32_t min_clock) {
  // A live key's new time stamp is its rank among the live time stamps, so order (and distances) survive.
  const std::uint32_t blocks = clock_capacity_ / kBlock, now_block = now_ >> kBlockShift;
  std::vector<std::uint32_t> before_block(blocks + 1);
  for (std::uint32_t b = 0; b <= blocks; ++b)
    before_block[b] = b <= now_block ? fenwick_prefix(b) : 0;
  for (std::size_t i = 0; i < capacity_; ++i) {
    Slot& s = slots_[i];
    if (s.time == kEmpty) continue;
    const std::uint32_t block = s.time >> kBlockShift, word = s.time >> 6;
    std::uint32_t rank = before_block[block];
    for (std::uint32_t w = block * (kBlock / 64); w < word; ++w)
      rank += std::popcount(bits_[w]);
    rank += std::popcount(bits_[word] & ((std::uint64_t{1} << (s.time & 63)) - 1));
    s.time = rank;
  }
  const auto live = static_cast<std::uint32_t>(size_);
  // Four stamps per live key: a compaction every 3 * live accesses at least, for half a byte of bitmap.
  resize_clock(std::bit_ceil(std::max({kMinClock, min_clock, 4 * live})));
  std::memset(bits_.get(), 0, clock_capacity_ / 8);
  for (std::uint32_t w = 0; w < live / 64; ++w)
    bits_[w] = ~std::uint64_t{0};
  if (live % 64 != 0) bits_[live / 64] = (std::uint64_t{1} << (live % 64)) - 1;
  build_fenwick(live / kBlock);
  now_ = live;
  finalised_ = live / kBlock * kBlock;
  current_ = live % kBlock;
}

WHATIF_INLINE std::uint64_t StackDistance::access_one(std::uint64_t key) {
  const std::uint32_t lo = static_cast<std::uint32_t>(key), hi = static_cast<std::uint32_t>(key >> 32);
  std::size_t i = slot_of(key);
  std::uint64_t distance;
  for (;;) {
    Slot& s = slots_[i];
    if (s.time == kEmpty) {
      if (size_ == kMaxKeys) throw std::length_error("StackDistance: more than 2^29 distinct keys");
      if (size_ + 1 > capacity_ - capacity_ / 4) {  // keep the load at or below 3/4
        grow_table(capacity_ * 2);
        i = slot_of(key);
        while (slots_[i].time != kEmpty)
          i = (i + 1) & mask_;
      }
      slots_[i] = Slot{lo, hi, now_};
      ++size_;
      distance = kCold;
      break;
    }
    if (s.key_lo == lo && s.key_hi == hi) {
      distance = distance_and_clear(s.time);
      s.time = now_;
      break;
    }
    i = (i + 1) & mask_;
  }
  bits_[now_ >> 6] |= std::uint64_t{1} << (now_ & 63);
  ++current_;
  ++now_;
  if ((now_ & (kBlock - 1)) == 0) {  // the newest block is full: it joins the tree
    fenwick_finalise((now_ >> kBlockShift) - 1, current_);
    finalised_ += current_;
    current_ = 0;
  }
  if (now_ == clock_capacity_) compact();
  return distance;
}

WHATIF_INLINE void StackDistance::access_many(std::span<const std::uint64_t> keys, std::uint64_t* distances) {
  // The table slot is the likely cache miss of an access on a large key set; fetching it early hides it.
  constexpr std::size_t kAhead = 16;
  const std::size_t n = keys.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) __builtin_prefetch(&slots_[slot_of(keys[i + kAhead])]);
    distances[i] = access_one(keys[i]);
  }
}

// The entry points, each compiled once per target (see WHATIF_POPCNT_CLONES); only this file declares them,
// as clang wants every declaration of a multiversioned function to say so.
struct StackDistance::Hot {
  WHATIF_POPCNT_CLONES static std::uint64_t one(StackDistance& sd, std::uint64_t key) {
    return sd.access_one(key);
  }
  WHATIF_POPCNT_CLONES static void many(StackDistance& sd, std::span<const std::uint64_t> keys,
                                        std::uint64_t* distances) {
    sd.access_many(keys, distances);
  }
  WHATIF_POPCNT_CLONES static void compact(StackDistance& sd, std::uint32_t min_clock) {
    sd.compact_here(min_clock);
  }
};

std::uint64_t StackDistance::access(std::uint64_t key) {
  return Hot::one(*this, key);
}

void StackDistance::access(std::span<const std::uint64_t> keys, std::uint64_t* distances) {
  Hot::many(*this, keys, distances);
}

void StackDistance::compact(std::uint32_t min_clock) {
  Hot::compact(*this, min_clock);
}

void StackDistance::reserve(std::size_t keys) {
  keys = std::min(keys, kMaxKeys);
  std::size_t capacity = capacity_;
  while (keys > capacity - capacity / 4)
    capacity *= 2;
  if (capacity != capacity_) grow_table(capacity);
  const std::uint64_t clock = std::min<std::uint64_t>(kMaxClock, 4 * std::uint64_t{keys});
  if (clock > clock_capacity_) compact(static_cast<std::uint32_t>(clock));
}

std::size_t StackDistance::memory_bytes() const {
  return sizeof(*this) + allocation_size(capacity_ * sizeof(Slot)) + allocation_size(clock_capacity_ / 8) +
         allocation_size((clock_capacity_ / kBlock + 1) * sizeof(std::uint32_t));
}

void ReuseProfile::add(std::uint64_t distance, std::uint64_t count) {
  total += count;
  if (distance == StackDistance::kCold) {
    cold += count;
  } else if (distance < kDenseLimit) {
    if (distance >= dense_.size()) {
      dense_.resize(std::min<std::uint64_t>(kDenseLimit, std::bit_ceil(distance + 1)));
    }
    dense_[distance] += count;
  } else {
    sparse_[distance] += count;
  }
}

void ReuseProfile::merge(const ReuseProfile& other) {
  for (const auto& [distance, count] : other.histogram())
    add(distance, count);
  cold += other.cold;
  total += other.cold;
}

std::uint64_t ReuseProfile::count(std::uint64_t distance) const {
  if (distance < dense_.size()) return dense_[distance];
  const auto it = sparse_.find(distance);
  return it == sparse_.end() ? 0 : it->second;
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> ReuseProfile::histogram() const {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  for (std::uint64_t d = 0; d < dense_.size(); ++d) {
    if (dense_[d] != 0) out.emplace_back(d, dense_[d]);
  }
  out.insert(out.end(), sparse_.begin(), sparse_.end());  // every sparse distance is past the dense ones
  return out;
}

ReuseProfile reuse_profile(std::span<const std::uint64_t> keys) {
  StackDistance sd;
  ReuseProfile profile;
  std::vector<std::uint64_t> distances(4096);
  for (std::size_t at = 0; at < keys.size(); at += distances.size()) {
    const std::size_t n = std::min(distances.size(), keys.size() - at);
    sd.access(keys.subspan(at, n), distances.data());
    for (std::size_t i = 0; i < n; ++i)
      profile.add(distances[i]);
  }
  return profile;
}

double bench_stack_distance(std::uint64_t accesses, std::uint64_t distinct, std::uint64_t seed) {
  if (distinct == 0) throw std::invalid_argument("bench_stack_distance: distinct must be positive");
  // Half the accesses walk four arrays line by line (coalesced loads and stores), 30 % reuse one of the
  // last 1024 lines (temporal locality within a block's working set), 20 % hit a random line (gathers).
  constexpr std::uint64_t kBase = 0x7f00'0000'0000ull >> 7;  // line numbers of a typical device heap
  std::uint64_t rng = seed;
  std::uint64_t cursor[4];
  for (int c = 0; c < 4; ++c)
    cursor[c] = distinct * static_cast<std::uint64_t>(c) / 4;
  std::vector<std::uint64_t> recent(1024, kBase);
  std::size_t recent_at = 0;

  StackDistance sd;
  std::vector<std::uint64_t> keys(1 << 16), distances(keys.size());
  double busy = 0;
  for (std::uint64_t done = 0; done < accesses;) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(keys.size(), accesses - done));
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t r = splitmix(rng);
      const std::uint64_t pick = r % 100;
      std::uint64_t key;
      if (pick < 50) {
        std::uint64_t& c = cursor[(r >> 8) & 3];
        key = kBase + c;
        c = c + 1 == distinct ? 0 : c + 1;
      } else if (pick < 80) {
        key = recent[(r >> 16) & 1023];
      } else {
        key = kBase + (r >> 20) % distinct;
      }
      recent[recent_at++ & 1023] = key;
      keys[i] = key;
    }
    const double start = thread_seconds();
    sd.access(std::span<const std::uint64_t>(keys.data(), n), distances.data());
    busy += thread_seconds() - start;
    done += n;
  }
  return busy > 0 ? static_cast<double>(accesses) / busy : 0.0;
}

#undef WHATIF_POPCNT_CLONES
#undef WHATIF_INLINE

}  // namespace whatif::gpu
