// Arithmetic throughput over all SMs ("peak") and dependent-chain instruction latency on one warp
// ("instruction").
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <mma.h>

#include <cstdio>
#include <string>

#include "common.cuh"

namespace calib {
namespace {

constexpr int kThreads = 256;    // threads per block of the throughput kernels
constexpr int kWaves = 4;        // grid = SMs x resident blocks per SM x waves: every SM filled several times
constexpr int kPerTrip = 256;    // FMAs per thread per loop trip: the loop's own instructions stay negligible
constexpr int kMmaPerTrip = 16;  // warp MMAs per loop trip
// Never produced: results are stored only if equal to it, which keeps every chain live.
constexpr float kSentinel = -12345.0f;

// ---- scalar and packed FMA throughput ----

struct Fp32 {
  using T = float;
  static constexpr const char* name = "fp32";
  static constexpr const char* opcode = "FFMA";
  static constexpr double flops = 2;
  __device__ static T make(float x) { return x; }
  __device__ static T fma(T a, T b, T c) { return fmaf(a, b, c); }
  __device__ static float sum(T a) { return a; }
};

struct Fp64 {
  using T = double;
  static constexpr const char* name = "fp64";
  static constexpr const char* opcode = "DFMA";
  static constexpr double flops = 2;
  __device__ static T make(float x) { return x; }
  __device__ static T fma(T a, T b, T c) { return ::fma(a, b, c); }
  __device__ static float sum(T a) { return static_cast<float>(a); }
};

struct Fp16 {  // two lanes per instruction: 4 flop per HFMA2
  using T = __half2;
  static constexpr const char* name = "fp16";
  static constexpr const char* opcode = "HFMA2";
  static constexpr double flops = 4;
  __device__ static T make(float x) { return __floats2half2_rn(x, x); }
  __device__ static T fma(T a, T b, T c) { return __hfma2(a, b, c); }
  __device__ static float sum(T a) { return __low2float(a) + __high2float(a); }
};

struct Bf16 {
  using T = __nv_bfloat162;
  static constexpr const char* name = "bf16";
  static constexpr const char* opcode = "HFMA2.BF16";
  static constexpr double flops = 4;
  __device__ static T make(float x) { return __floats2bfloat162_rn(x, x); }
  __device__ static T fma(T a, T b, T c) { return __hfma2(a, b, c); }
  __device__ static float sum(T a) { return __low2float(a) + __high2float(a); }
};

// CHAINS independent accumulators per thread (1: each FMA waits for the previous one).
template <class Op, int CHAINS>
__global__ void __launch_bounds__(kThreads) peak_kernel(float b_in, float c_in, long long trips, float* out) {
  using T = typename Op::T;
  const T b = Op::make(b_in), c = Op::make(c_in);
  T a[CHAINS];
#pragma unroll
  for (int j = 0; j < CHAINS; ++j)
    a[j] = Op::make(threadIdx.x * 1e-4f + j * 1e-3f);
    // One trip's FMAs fully unrolled, the trip loop not: the code stays small enough for the instruction
    // cache.
#pragma unroll 1
  for (long long t = 0; t < trips; ++t) {
#pragma unroll
    for (int u = 0; u < kPerTrip / CHAINS; ++u)
#pragma unroll
      for (int j = 0; j < CHAINS; ++j)
        a[j] = Op::fma(a[j], b, c);
  }
  float s = 0;
#pragma unroll
  for (int j = 0; j < CHAINS; ++j)
    s += Op::sum(a[j]);
  if (s == kSentinel) out[blockIdx.x * blockDim.x + threadIdx.x] = s;
}

// ---- tensor-core (WMMA) throughput ----

template <typename T>
__device__ T from_float(float x) {
  return static_cast<T>(x);
}
template <>
__device__ __half from_float<__half>(float x) {
  return __float2half(x);
}
template <>
__device__ __nv_bfloat16 from_float<__nv_bfloat16>(float x) {
  return __float2bfloat16(x);
}
template <>
__device__ signed char from_float<signed char>(float x) {
  return static_cast<signed char>(static_cast<int>(x));
}

template <typename T>
__global__ void init_small(T* p, int n, float scale) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
    p[i] = from_float<T>(scale * static_cast<float>(i % 7 - 3));
}

struct MmaF16 {
  using In = __half;
  using Acc = float;
  static constexpr int M = 16, N = 16, K = 16;
  static constexpr const char* name = "fp16_tensor";
  static constexpr const char* opcode = "HMMA.16816.F32";
  static constexpr int sass_per_mma = 2;  // tensor instructions one wmma::mma_sync compiles to
  static constexpr float scale = 0.01f;
};
struct MmaBf16 {
  using In = __nv_bfloat16;
  using Acc = float;
  static constexpr int M = 16, N = 16, K = 16;
  static constexpr const char* name = "bf16_tensor";
  static constexpr const char* opcode = "HMMA.16816.F32.BF16";
  static constexpr int sass_per_mma = 2;  // tensor instructions one wmma::mma_sync compiles to
  static constexpr float scale = 0.01f;
};
struct MmaS8 {
  using In = signed char;
  using Acc = int;
  static constexpr int M = 16, N = 16, K = 16;
  static constexpr const char* name = "int8_tensor";
  static constexpr const char* opcode = "IMMA.16816.S8.S8";
  static constexpr int sass_per_mma = 2;  // tensor instructions one wmma::mma_sync compiles to
  static constexpr float scale = 1.0f;
};
struct MmaF64 {
  using In = double;
  using Acc = double;
  static constexpr int M = 8, N = 8, K = 4;
  static constexpr const char* name = "fp64_tensor";
  static constexpr const char* opcode = "DMMA.884";
  static constexpr int sass_per_mma = 1;  // tensor instructions one wmma::mma_sync compiles to
  static constexpr float scale = 0.01f;
};

template <class Cfg>
using FragA = nvcuda::wmma::fragment<nvcuda::wmma::matrix_a, Cfg::M, Cfg::N, Cfg::K, typename Cfg::In,
                                     nvcuda::wmma::row_major>;
template <class Cfg>
using FragB = nvcuda::wmma::fragment<nvcuda::wmma::matrix_b, Cfg::M, Cfg::N, Cfg::K, typename Cfg::In,
                                     nvcuda::wmma::col_major>;
template <class Cfg>
using FragC = nvcuda::wmma::fragment<nvcuda::wmma::accumulator, Cfg::M, Cfg::N, Cfg::K, typename Cfg::Acc>;

template <class Cfg, int CHAINS>
__global__ void __launch_bounds__(kThreads)
    mma_peak_kernel(const typename Cfg::In* a, const typename Cfg::In* b, typename Cfg::Acc* out,
                    long long trips) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800  // bf16, s8 and fp64 WMMA need sm_80
  using namespace nvcuda;
  FragA<Cfg> fa;
  FragB<Cfg> fb;
  FragC<Cfg> acc[CHAINS];
  wmma::load_matrix_sync(fa, a, Cfg::K);
  wmma::load_matrix_sync(fb, b, Cfg::K);
#pragma unroll
  for (int j = 0; j < CHAINS; ++j)
    wmma::fill_fragment(acc[j], typename Cfg::Acc(0));
#pragma unroll 1
  for (long long t = 0; t < trips; ++t) {
#pragma unroll
    for (int u = 0; u < kMmaPerTrip / CHAINS; ++u)
#pragma unroll
      for (int j = 0; j < CHAINS; ++j)
        wmma::mma_sync(acc[j], fa, fb, acc[j]);
  }
  // Every element of every accumulator feeds the result: one mma_sync is two HMMA/IMMA, one per half of
  // the tile, and a half no output depends on is deleted by ptxas (18 instead of 32 per trip, measured).
  float s = 0;
#pragma unroll
  for (int j = 0; j < CHAINS; ++j)
#pragma unroll
    for (int e = 0; e < acc[j].num_elements; ++e)
      s += static_cast<float>(acc[j].x[e]);
  // store_matrix_sync is warp-collective: decide for the whole warp.
  if (__any_sync(0xffffffffu, s == kSentinel)) {
    const long long warp = (static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
    wmma::store_matrix_sync(out + warp * Cfg::M * Cfg::N, acc[0], Cfg::N, wmma::mem_row_major);
  }
#endif
}

const char* stream_name(int chains) {
  return chains > 1 ? "independent" : "dependent";
}

template <class Op, int CHAINS>
void peak_scalar(Context& ctx) {
  const char* stream = stream_name(CHAINS);
  set_section(std::string("peak ") + Op::name + " " + stream);
  auto kernel = peak_kernel<Op, CHAINS>;
  const int per_sm = blocks_per_sm(reinterpret_cast<const void*>(kernel), kThreads);
  const int grid = ctx.dev.sm_count * per_sm * kWaves;
  DeviceBuffer<float> out(static_cast<std::size_t>(grid) * kThreads);
  auto launch = [&](long long trips) {
    kernel<<<grid, kThreads>>>(0.999f, 0.001f, trips, out.get());
    CHECK_LAUNCH();
  };
  const long long trips = calibrate_work(launch, 16, ctx.target_s());
  const Stats s = time_launches(ctx, [&] { launch(trips); });
  const double instructions = static_cast<double>(grid) * kThreads * trips * kPerTrip;
  Json params = Json::object();
  params.set("stream", stream)
      .set("chains", CHAINS)
      .set("opcode", Op::opcode)
      .set("flop_per_instruction", Op::flops);
  params.set("blocks", grid).set("threads_per_block", kThreads).set("flop", instructions * Op::flops);
  ctx.add("peak", Op::name, std::move(params), s, instructions * Op::flops / s.median, "flop/s", stream);
}

template <class Cfg, int CHAINS>
void peak_mma(Context& ctx) {
  using In = typename Cfg::In;
  using Acc = typename Cfg::Acc;
  const char* stream = stream_name(CHAINS);
  set_section(std::string("peak ") + Cfg::name + " " + stream);
  auto kernel = mma_peak_kernel<Cfg, CHAINS>;
  const int per_sm = blocks_per_sm(reinterpret_cast<const void*>(kernel), kThreads);
  const int grid = ctx.dev.sm_count * per_sm * kWaves;
  const long long warps = static_cast<long long>(grid) * kThreads / 32;
  DeviceBuffer<In> a(Cfg::M * Cfg::K), b(Cfg::K * Cfg::N);
  DeviceBuffer<Acc> out(static_cast<std::size_t>(warps) * Cfg::M * Cfg::N);
  init_small<In><<<1, 256>>>(a.get(), Cfg::M * Cfg::K, Cfg::scale);
  CHECK_LAUNCH();
  init_small<In><<<1, 256>>>(b.get(), Cfg::K * Cfg::N, Cfg::scale);
  CHECK_LAUNCH();
  auto launch = [&](long long trips) {
    kernel<<<grid, kThreads>>>(a.get(), b.get(), out.get(), trips);
    CHECK_LAUNCH();
  };
  const long long trips = calibrate_work(launch, 4, ctx.target_s());
  const Stats s = time_launches(ctx, [&] { launch(trips); });
  const double flop_per_mma = 2.0 * Cfg::M * Cfg::N * Cfg::K;
  const double flop = static_cast<double>(warps) * trips * kMmaPerTrip * flop_per_mma;
  char shape[32];
  std::snprintf(shape, sizeof shape, "m%dn%dk%d", Cfg::M, Cfg::N, Cfg::K);
  Json params = Json::object();
  params.set("stream", stream).set("chains", CHAINS).set("opcode", Cfg::opcode).set("api", "wmma");
  params.set("shape", shape).set("sass_per_mma", Cfg::sass_per_mma).set("flop_per_mma", flop_per_mma);
  params.set("blocks", grid).set("threads_per_block", kThreads);
  params.set("flop", flop);
  ctx.add("peak", Cfg::name, std::move(params), s, flop / s.median, "flop/s", stream);
}

// ---- dependent-chain instruction latency ----

constexpr int kChainInner = 256;  // unrolled dependent instructions
constexpr int kChainOuter = 4;    // loop trips around them: chain = 1024
constexpr int kChainWarm = 16;    // untimed instructions first (see chain_kernel)

struct LatInt {
  using T = unsigned;
  static constexpr const char* name = "int";
  static constexpr const char* opcode = "IMAD";
  static constexpr const char* ptx = "mad.lo.u32";
  __device__ static void step(T& x, T b, T c) {
    asm volatile("mad.lo.u32 %0, %0, %1, %2;" : "+r"(x) : "r"(b), "r"(c));
  }
};
struct LatFp32 {
  using T = float;
  static constexpr const char* name = "fp32";
  static constexpr const char* opcode = "FFMA";
  static constexpr const char* ptx = "fma.rn.f32";
  __device__ static void step(T& x, T b, T c) {
    asm volatile("fma.rn.f32 %0, %0, %1, %2;" : "+f"(x) : "f"(b), "f"(c));
  }
};
struct LatFp16 {  // f16x2 operands live in 32-bit registers
  using T = unsigned;
  static constexpr const char* name = "fp16";
  // ptxas issues a dependent f16x2 chain alternately as HFMA2 and HFMA2.MMA (two pipes): the figure is
  // their mean.
  static constexpr const char* opcode = "HFMA2/HFMA2.MMA";
  static constexpr const char* ptx = "fma.rn.f16x2";
  __device__ static void step(T& x, T b, T c) {
    asm volatile("fma.rn.f16x2 %0, %0, %1, %2;" : "+r"(x) : "r"(b), "r"(c));
  }
};
struct LatFp64 {
  using T = double;
  static constexpr const char* name = "fp64";
  static constexpr const char* opcode = "DFMA";
  static constexpr const char* ptx = "fma.rn.f64";
  __device__ static void step(T& x, T b, T c) {
    asm volatile("fma.rn.f64 %0, %0, %1, %2;" : "+d"(x) : "d"(b), "d"(c));
  }
};
struct LatSfu {  // the .ftz form is a single MUFU.EX2 (without it the compiler adds denormal scaling)
  using T = float;
  static constexpr const char* name = "sfu";
  static constexpr const char* opcode = "MUFU.EX2";
  static constexpr const char* ptx = "ex2.approx.ftz.f32";
  __device__ static void step(T& x, T, T) { asm volatile("ex2.approx.ftz.f32 %0, %0;" : "+f"(x)); }
};

// Issue is in order: the clock is read once the last warm-up instruction has issued, so the first timed one
// waits exactly one latency for it, and the final read follows the issue of the last timed one: the span is
// chain latencies, without the kernel's parameter loads.
template <class Op>
__global__ void chain_kernel(typename Op::T seed, typename Op::T b, typename Op::T c, typename Op::T* out,
                             long long* cycles) {
  typename Op::T x = seed;
#pragma unroll
  for (int i = 0; i < kChainWarm; ++i)
    Op::step(x, b, c);
  const long long t0 = clock64();
#pragma unroll 1
  for (int o = 0; o < kChainOuter; ++o) {
#pragma unroll
    for (int i = 0; i < kChainInner; ++i)
      Op::step(x, b, c);
  }
  const long long t1 = clock64();
  out[threadIdx.x] = x;
  if (threadIdx.x == 0) *cycles = t1 - t0;
}

constexpr int kMmaChainInner = 64;  // x kChainOuter = 256 dependent MMAs
constexpr int kMmaChainWarm = 4;

template <class Cfg>
__global__ void mma_chain_kernel(const typename Cfg::In* a, const typename Cfg::In* b, typename Cfg::Acc* out,
                                 long long* cycles) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
  using namespace nvcuda;
  FragA<Cfg> fa;
  FragB<Cfg> fb;
  FragC<Cfg> acc;
  wmma::load_matrix_sync(fa, a, Cfg::K);
  wmma::load_matrix_sync(fb, b, Cfg::K);
  wmma::fill_fragment(acc, typename Cfg::Acc(0));
  // Warm-up MMAs absorb the fragment loads' latency before the clock starts.
#pragma unroll
  for (int i = 0; i < kMmaChainWarm; ++i)
    wmma::mma_sync(acc, fa, fb, acc);
  const long long t0 = clock64();
#pragma unroll 1
  for (int o = 0; o < kChainOuter; ++o) {
#pragma unroll
    for (int i = 0; i < kMmaChainInner; ++i)
      wmma::mma_sync(acc, fa, fb, acc);
  }
  const long long t1 = clock64();
  wmma::store_matrix_sync(out, acc, Cfg::N, wmma::mem_row_major);
  if (threadIdx.x == 0) *cycles = t1 - t0;
#endif
}

// Times `launch` (one warp) ctx.reps times with events and reads the in-kernel cycle count after each.
void record_chain(Context& ctx, const char* name, const char* opcode, Json params, int chain,
                  const std::function<void(long long*)>& launch) {
  DeviceBuffer<long long> cycles(1);
  for (int i = 0; i < ctx.warmup; ++i)
    launch(cycles.get());
  CHECK(cudaDeviceSynchronize());
  TimedCycles t = time_with_cycles(ctx.reps, cycles.get(), [&] { launch(cycles.get()); });
  for (double& c : t.cycles)
    c /= chain;
  const Stats per = summarize(t.cycles);
  params.set("opcode", opcode).set("chain", chain).set("threads", 32);
  params.set("cycles_min", per.min).set("cycles_max", per.max);
  if (ctx.sm_hz > 0) params.set("seconds", per.median / ctx.sm_hz);
  ctx.add("instruction", name, std::move(params), summarize(t.seconds), per.median, "cycles", opcode);
}

template <class Op>
void chain_scalar(Context& ctx, typename Op::T seed, typename Op::T b, typename Op::T c) {
  using T = typename Op::T;
  set_section(std::string("instruction ") + Op::name);
  DeviceBuffer<T> out(32);
  Json params = Json::object();
  params.set("ptx", Op::ptx);
  record_chain(ctx, Op::name, Op::opcode, std::move(params), kChainOuter * kChainInner,
               [&](long long* cycles) {
                 chain_kernel<Op><<<1, 32>>>(seed, b, c, out.get(), cycles);
                 CHECK_LAUNCH();
               });
}

template <class Cfg>
void chain_mma(Context& ctx, const char* name) {
  using In = typename Cfg::In;
  set_section(std::string("instruction ") + name);
  DeviceBuffer<In> a(Cfg::M * Cfg::K), b(Cfg::K * Cfg::N);
  DeviceBuffer<typename Cfg::Acc> out(Cfg::M * Cfg::N);
  init_small<In><<<1, 256>>>(a.get(), Cfg::M * Cfg::K, Cfg::scale);
  CHECK_LAUNCH();
  init_small<In><<<1, 256>>>(b.get(), Cfg::K * Cfg::N, Cfg::scale);
  CHECK_LAUNCH();
  char shape[32];
  std::snprintf(shape, sizeof shape, "m%dn%dk%d", Cfg::M, Cfg::N, Cfg::K);
  Json params = Json::object();
  params.set("api", "wmma")
      .set("shape", shape)
      .set("per", "wmma::mma_sync")
      .set("sass_per_mma", Cfg::sass_per_mma);
  record_chain(ctx, name, Cfg::opcode, std::move(params), kChainOuter * kMmaChainInner,
               [&](long long* cycles) {
                 mma_chain_kernel<Cfg><<<1, 32>>>(a.get(), b.get(), out.get(), cycles);
                 CHECK_LAUNCH();
               });
}

}  // namespace

void run_peak(Context& ctx) {
  peak_scalar<Fp64, 8>(ctx);
  peak_scalar<Fp64, 1>(ctx);
  peak_scalar<Fp32, 8>(ctx);
  peak_scalar<Fp32, 1>(ctx);
  peak_scalar<Fp16, 8>(ctx);
  peak_scalar<Fp16, 1>(ctx);
  peak_scalar<Bf16, 8>(ctx);
  peak_scalar<Bf16, 1>(ctx);
  peak_mma<MmaF16, 8>(ctx);
  peak_mma<MmaF16, 1>(ctx);
  peak_mma<MmaBf16, 8>(ctx);
  peak_mma<MmaBf16, 1>(ctx);
  peak_mma<MmaS8, 8>(ctx);
  peak_mma<MmaS8, 1>(ctx);
  peak_mma<MmaF64, 8>(ctx);
  peak_mma<MmaF64, 1>(ctx);
}

void run_instruction(Context& ctx) {
  chain_scalar<LatInt>(ctx, 1u, 3u, 1u);
  chain_scalar<LatFp32>(ctx, 1.0f, 0.999f, 0.001f);
  // half2 bit patterns: 1.0, 0.999 and 0.001 in both lanes
  chain_scalar<LatFp16>(ctx, 0x3C003C00u, 0x3BFE3BFEu, 0x14191419u);
  chain_scalar<LatFp64>(ctx, 1.0, 0.999, 0.001);
  chain_scalar<LatSfu>(ctx, 0.0f, 0.0f, 0.0f);
  chain_mma<MmaF16>(ctx, "tensor");
  chain_mma<MmaF64>(ctx, "tensor_fp64");
}

}  // namespace calib
