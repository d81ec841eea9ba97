// Memory bandwidth (DRAM STREAM kernels, L2, shared memory) and load latency by pointer chasing.
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "common.cuh"

namespace calib {
namespace {

constexpr int kThreads = 256;
constexpr std::size_t KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;

// ---- DRAM: STREAM copy, scale, triad over float4, grid-stride ----

__global__ void copy_kernel(const float4* __restrict__ a, float4* __restrict__ b, std::size_t n) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    b[i] = a[i];
}

__global__ void scale_kernel(const float4* __restrict__ a, float4* __restrict__ b, float s, std::size_t n) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const float4 v = a[i];
    b[i] = make_float4(s * v.x, s * v.y, s * v.z, s * v.w);
  }
}

__global__ void triad_kernel(float4* __restrict__ a, const float4* __restrict__ b,
                             const float4* __restrict__ c, float s, std::size_t n) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const float4 x = b[i], y = c[i];
    a[i] = make_float4(x.x + s * y.x, x.y + s * y.y, x.z + s * y.z, x.w + s * y.w);
  }
}

// ---- L2: re-read a buffer half the L2's size; .cg loads bypass L1 so every pass is served by the L2 ----

__device__ __forceinline__ float load_cg_sum(const float4* p) {
  float x, y, z, w;  // volatile asm: the compiler may not keep a pass's values for the next one
  asm volatile("ld.global.cg.v4.f32 {%0, %1, %2, %3}, [%4];" : "=f"(x), "=f"(y), "=f"(z), "=f"(w) : "l"(p));
  return (x + y) + (z + w);
}

// Four loads in one asm statement: all issued before any of their values is needed, so that each warp keeps
// several requests in flight.
__device__ __forceinline__ float load_cg_sum4(const float4* p, std::size_t stride) {
  float v[16];
  asm volatile(
      "ld.global.cg.v4.f32 {%0, %1, %2, %3}, [%16];\n\t"
      "ld.global.cg.v4.f32 {%4, %5, %6, %7}, [%17];\n\t"
      "ld.global.cg.v4.f32 {%8, %9, %10, %11}, [%18];\n\t"
      "ld.global.cg.v4.f32 {%12, %13, %14, %15}, [%19];"
      : "=f"(v[0]), "=f"(v[1]), "=f"(v[2]), "=f"(v[3]), "=f"(v[4]), "=f"(v[5]), "=f"(v[6]), "=f"(v[7]),
        "=f"(v[8]), "=f"(v[9]), "=f"(v[10]), "=f"(v[11]), "=f"(v[12]), "=f"(v[13]), "=f"(v[14]), "=f"(v[15])
      : "l"(p), "l"(p + stride), "l"(p + 2 * stride), "l"(p + 3 * stride));
  float s = 0;
#pragma unroll
  for (int i = 0; i < 16; ++i)
    s += v[i];
  return s;
}

__global__ void l2_read_kernel(const float4* buf, std::size_t n, int passes, float* out) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  const std::size_t first = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  float acc = 0;
  for (int p = 0; p < passes; ++p) {
    std::size_t i = first;
    for (; i + 3 * stride < n; i += 4 * stride)
      acc += load_cg_sum4(buf + i, stride);
    for (; i < n; i += stride)
      acc += load_cg_sum(buf + i);
  }
  if (acc == -12345.0f) out[first] = acc;
}

// ---- shared memory: every thread streams 16-byte reads of its block's 16 KiB ----

constexpr int kSharedVecs = 1024;   // float4 per block: 16 KiB
constexpr int kSharedPerTrip = 16;  // LDS.128 per thread per loop trip

__global__ void __launch_bounds__(kThreads) shared_read_kernel(long long trips, float* out) {
  __shared__ float4 s[kSharedVecs];
  for (int i = threadIdx.x; i < kSharedVecs; i += blockDim.x)
    s[i] = make_float4(i, i + 1, i + 2, i + 3);
  __syncthreads();
  // Consecutive threads read consecutive 16-byte words: no bank conflicts.
  const unsigned base = static_cast<unsigned>(__cvta_generic_to_shared(&s[threadIdx.x]));
  float acc[4] = {0, 0, 0, 0};
  for (long long t = 0; t < trips; ++t) {
#pragma unroll
    for (int j = 0; j < kSharedPerTrip; ++j) {
      // ld.volatile: ptxas would otherwise merge and hoist the loads, as shared memory does not change (a
      // volatile asm statement only binds the front end).
      float x, y, z, w;
      asm volatile("ld.volatile.shared.v4.f32 {%0, %1, %2, %3}, [%4];"
                   : "=f"(x), "=f"(y), "=f"(z), "=f"(w)
                   : "r"(base + (j % 4) * kThreads * 16));
      acc[j % 4] += (x + y) + (z + w);
    }
  }
  const float sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
  if (sum == -12345.0f) out[blockIdx.x * blockDim.x + threadIdx.x] = sum;
}

// ---- pointer chasing: one thread, each load's address is the previous load's value ----

constexpr int kChaseUnroll = 8;

// `warm` untimed loads first (a multiple of kChaseUnroll, at least one round): they bring the cycle into this
// SM's L1, which does not keep lines across launches, and issue is in order, so the clock starts once the
// last of them has issued and the timed span holds exactly `steps` load latencies. The pointer is kept in
// `state` so that the next launch continues along the cycle rather than re-reading the same few lines.
__global__ void chase_global_kernel(unsigned long long* state, long long warm, long long steps,
                                    long long* cycles) {
  unsigned long long p = *state;
  for (long long i = 0; i < warm; i += kChaseUnroll) {
#pragma unroll
    for (int u = 0; u < kChaseUnroll; ++u)
      asm volatile("ld.global.ca.u64 %0, [%0];" : "+l"(p));
  }
  const long long t0 = clock64();
  for (long long i = 0; i < steps; i += kChaseUnroll) {
#pragma unroll
    for (int u = 0; u < kChaseUnroll; ++u)
      asm volatile("ld.global.ca.u64 %0, [%0];" : "+l"(p));
  }
  const long long t1 = clock64();
  *state = p;
  *cycles = t1 - t0;
}

// The chain arrives as slot indices and is rewritten in shared memory as shared-window byte addresses, so
// that each step is a single LDS with no address arithmetic in between.
__global__ void chase_shared_kernel(const unsigned* next, int slots, long long steps, long long* cycles,
                                    unsigned* sink) {
  extern __shared__ unsigned chain[];
  const unsigned base = static_cast<unsigned>(__cvta_generic_to_shared(chain));
  for (int i = threadIdx.x; i < slots; i += blockDim.x)
    chain[i] = base + 4u * next[i];
  __syncthreads();
  if (threadIdx.x != 0) return;
  unsigned p = base;
#pragma unroll
  for (int u = 0; u < kChaseUnroll; ++u)
    asm volatile("ld.shared.u32 %0, [%0];" : "+r"(p));
  const long long t0 = clock64();
  for (long long i = 0; i < steps; i += kChaseUnroll) {
#pragma unroll
    for (int u = 0; u < kChaseUnroll; ++u)
      asm volatile("ld.shared.u32 %0, [%0];" : "+r"(p));
  }
  const long long t1 = clock64();
  *sink = p;
  *cycles = t1 - t0;
}

// A random cyclic order of n slots starting at slot 0 (random, so that no prefetcher or DRAM page locality
// helps); next[i] is the slot after slot i.
std::vector<std::uint32_t> random_cycle(std::size_t n, std::mt19937_64& rng) {
  std::vector<std::uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  if (n > 2) std::shuffle(order.begin() + 1, order.end(), rng);
  std::vector<std::uint32_t> next(n);
  for (std::size_t i = 0; i < n; ++i)
    next[order[i]] = order[(i + 1) % n];
  return next;
}

long long round_up(long long x, long long m) {
  return (x + m - 1) / m * m;
}

}  // namespace

void run_bandwidth(Context& ctx) {
  const std::size_t l2 = static_cast<std::size_t>(ctx.dev.l2_bytes);
  const int grid = ctx.dev.sm_count * blocks_per_sm(reinterpret_cast<const void*>(triad_kernel), kThreads);

  // DRAM: from 4 MiB to well past the L2 (at least 4x), never above a quarter of the memory (three arrays
  // live).
  {
    set_section("bandwidth dram");
    const std::size_t cap = std::min(ctx.dev.memory_bytes / 4, ctx.free_bytes() * 3 / 4 / 3);
    const std::size_t hi = std::max<std::size_t>(std::min(std::max(16 * l2, GiB), cap), 4 * MiB) / MiB * MiB;
    const auto sizes = geometric_sizes(4 * MiB, hi, ctx.quick ? 3 : 8, MiB);
    DeviceBuffer<float4> a(hi / 16), b(hi / 16), c(hi / 16);
    fill_random(a.get(), hi / 4, DType::fp32, 1);
    fill_random(b.get(), hi / 4, DType::fp32, 2);
    fill_random(c.get(), hi / 4, DType::fp32, 3);
    for (std::size_t bytes : sizes) {
      const std::size_t n = bytes / 16;
      struct Kernel {
        const char* name;
        int arrays;
        std::function<void()> launch;
      };
      const Kernel kernels[] = {
          {"dram_copy", 2,
           [&] {
             copy_kernel<<<grid, kThreads>>>(a.get(), b.get(), n);
             CHECK_LAUNCH();
           }},
          {"dram_scale", 2,
           [&] {
             scale_kernel<<<grid, kThreads>>>(b.get(), c.get(), 1.0001f, n);
             CHECK_LAUNCH();
           }},
          {"dram_triad", 3,
           [&] {
             triad_kernel<<<grid, kThreads>>>(a.get(), b.get(), c.get(), 0.9999f, n);
             CHECK_LAUNCH();
           }},
      };
      for (const auto& k : kernels) {
        set_section(std::string("bandwidth ") + k.name + " " + size_label(bytes));
        const Stats s = time_auto(ctx, k.launch, 1e-3);
        const double moved = static_cast<double>(k.arrays) * bytes;
        Json params = Json::object();
        params.set("bytes", moved)
            .set("array_bytes", bytes)
            .set("blocks", grid)
            .set("threads_per_block", kThreads);
        ctx.add("bandwidth", k.name, std::move(params), s, moved / s.median, "B/s", size_label(bytes));
      }
    }
  }

  // L2: half its size, re-read `passes` times per launch.
  {
    set_section("bandwidth l2");
    const std::size_t bytes = std::max<std::size_t>(l2 / 2 / 4096 * 4096, 4096);
    const std::size_t n = bytes / 16;
    const int l2_grid =
        ctx.dev.sm_count * blocks_per_sm(reinterpret_cast<const void*>(l2_read_kernel), kThreads);
    DeviceBuffer<float4> buf(n);
    DeviceBuffer<float> out(static_cast<std::size_t>(l2_grid) * kThreads);
    fill_random(buf.get(), bytes / 4, DType::fp32, 4);
    auto launch = [&](long long passes) {
      l2_read_kernel<<<l2_grid, kThreads>>>(buf.get(), n, static_cast<int>(passes), out.get());
      CHECK_LAUNCH();
    };
    const long long passes = std::min(calibrate_work(launch, 4, ctx.target_s()), 1LL << 30);
    const Stats s = time_launches(ctx, [&] { launch(passes); });
    const double moved = static_cast<double>(bytes) * passes;
    Json params = Json::object();
    params.set("bytes", moved)
        .set("buffer_bytes", bytes)
        .set("passes", passes)
        .set("load", "ld.global.cg.v4");
    ctx.add("bandwidth", "l2", std::move(params), s, moved / s.median, "B/s", "half the L2, re-read");
  }

  // Shared memory on every SM.
  {
    set_section("bandwidth shared");
    const int sh_grid =
        ctx.dev.sm_count * blocks_per_sm(reinterpret_cast<const void*>(shared_read_kernel), kThreads);
    DeviceBuffer<float> out(static_cast<std::size_t>(sh_grid) * kThreads);
    auto launch = [&](long long trips) {
      shared_read_kernel<<<sh_grid, kThreads>>>(trips, out.get());
      CHECK_LAUNCH();
    };
    const long long trips = calibrate_work(launch, 64, ctx.target_s());
    const Stats s = time_launches(ctx, [&] { launch(trips); });
    const double moved = static_cast<double>(sh_grid) * kThreads * kSharedPerTrip * 16.0 * trips;
    Json params = Json::object();
    params.set("bytes", moved)
        .set("blocks", sh_grid)
        .set("threads_per_block", kThreads)
        .set("load", "ld.volatile.shared.v4");
    ctx.add("bandwidth", "shared", std::move(params), s, moved / s.median, "B/s", "all SMs");
  }
}

namespace {

// Launches the chase R times after warming, with events around each launch; the value is cycles per load.
void record_chase(Context& ctx, const char* name, Json params, long long steps,
                  const std::function<void(long long, long long*)>& launch, long long warm_steps,
                  const std::string& label) {
  DeviceBuffer<long long> cycles(1);
  // Walk (most of) the cycle once: TLB and caches reach their steady state.
  launch(warm_steps, cycles.get());
  for (int i = 1; i < ctx.warmup; ++i)
    launch(steps, cycles.get());
  CHECK(cudaDeviceSynchronize());
  TimedCycles t = time_with_cycles(ctx.reps, cycles.get(), [&] { launch(steps, cycles.get()); });
  for (double& c : t.cycles)
    c /= static_cast<double>(steps);
  const Stats per = summarize(t.cycles);
  params.set("steps", steps).set("cycles_min", per.min).set("cycles_max", per.max);
  if (ctx.sm_hz > 0) params.set("seconds", per.median / ctx.sm_hz);
  ctx.add("latency", name, std::move(params), summarize(t.seconds), per.median, "cycles", label);
}

}  // namespace

void run_latency(Context& ctx) {
  constexpr std::size_t kStride = 128;               // one cache line per slot
  constexpr std::size_t kSequentialMax = 256 * KiB;  // about the largest L1
  const std::size_t l2 = static_cast<std::size_t>(ctx.dev.l2_bytes);
  const std::size_t hi = std::min<std::size_t>(512 * MiB, ctx.dev.memory_bytes / 4) / kStride * kStride;
  std::vector<std::size_t> sizes = geometric_sizes(KiB, hi, ctx.quick ? 12 : 30, kStride);
  if (!ctx.quick)  // the points around the L2 capacity, where the curve steps
    for (std::size_t s : {l2 / 4, l2 / 2, l2, 2 * l2, 4 * l2})
      if (s >= KiB && s <= hi) sizes.push_back(s / kStride * kStride);
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());

  std::mt19937_64 rng(20261124);
  const long long min_steps = ctx.quick ? 4096 : 8192, max_steps = ctx.quick ? 16384 : 65536;
  DeviceBuffer<unsigned long long> state(1);
  for (std::size_t w : sizes) {
    const std::size_t slots = w / kStride;
    DeviceBuffer<unsigned char> chain(w);
    const auto base = reinterpret_cast<unsigned long long>(chain.get());
    for (const char* pattern : {"sequential", "random"}) {
      if (std::string(pattern) == "sequential" && w > kSequentialMax) continue;
      set_section(std::string("latency global ") + pattern + " " + size_label(w));
      std::vector<std::uint32_t> next;
      if (std::string(pattern) == "random") {
        next = random_cycle(slots, rng);
      } else {
        next.resize(slots);
        for (std::size_t i = 0; i < slots; ++i)
          next[i] = static_cast<std::uint32_t>((i + 1) % slots);
      }
      std::vector<unsigned long long> host(w / 8, 0);
      for (std::size_t i = 0; i < slots; ++i)
        host[i * kStride / 8] = base + next[i] * kStride;
      CHECK(cudaMemcpy(chain.get(), host.data(), w, cudaMemcpyHostToDevice));
      CHECK(cudaMemcpy(state.get(), &base, sizeof base, cudaMemcpyHostToDevice));
      // Short cycles are walked many times; long ones partly per launch, continuing where the last launch
      // stopped.
      const long long steps = round_up(std::clamp<long long>(slots, min_steps, max_steps), kChaseUnroll);
      const long long warm = round_up(std::min<long long>(slots, 1LL << 20), kChaseUnroll);
      // Each launch first walks the cycle once (at most `steps` loads) into its own SM's L1.
      const long long in_kernel_warm =
          round_up(std::max<long long>(std::min<long long>(slots, steps), 1), kChaseUnroll);
      Json params = Json::object();
      params.set("working_set_bytes", w).set("stride_bytes", kStride).set("pattern", pattern);
      params.set("load", "ld.global.ca.u64");
      record_chase(
          ctx, "global", std::move(params), steps,
          [&](long long n, long long* cycles) {
            chase_global_kernel<<<1, 1>>>(state.get(), in_kernel_warm, n, cycles);
            CHECK_LAUNCH();
          },
          warm, std::string(pattern) + " " + size_label(w));
    }
  }

  // Shared memory: random cycles over 4-byte slots.
  const std::size_t shared_max = ctx.quick ? 8 * KiB : 32 * KiB;
  DeviceBuffer<unsigned> sink(1);
  for (std::size_t w = KiB; w <= shared_max; w *= 2) {
    set_section("latency shared " + size_label(w));
    const int slots = static_cast<int>(w / 4);
    const std::vector<std::uint32_t> next = random_cycle(slots, rng);
    DeviceBuffer<unsigned> dev_next(slots);
    CHECK(cudaMemcpy(dev_next.get(), next.data(), w, cudaMemcpyHostToDevice));
    const long long steps = 8192;
    Json params = Json::object();
    params.set("working_set_bytes", w)
        .set("stride_bytes", 4)
        .set("pattern", "random")
        .set("load", "ld.shared.u32");
    record_chase(
        ctx, "shared", std::move(params), steps,
        [&](long long n, long long* cycles) {
          chase_shared_kernel<<<1, 128, w>>>(dev_next.get(), slots, n, cycles, sink.get());
          CHECK_LAUNCH();
        },
        steps, size_label(w));
  }
}

}  // namespace calib
