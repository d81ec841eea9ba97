// Validation kernels: GEMMs, elementwise ops and reductions of known size, timed as the suite times its
// figures, for comparing whatif's predictions against measured kernel times.
#include <cuda_fp16.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "common.cuh"

namespace calib {
namespace {

constexpr int kThreads = 256;
constexpr std::size_t MiB = 1024 * 1024;

// fp16 kernels move 16 bytes (8 halves) per access.
union Pack8 {
  uint4 raw;
  __half2 h[4];
};

__global__ void add_fp16_kernel(const uint4* __restrict__ a, const uint4* __restrict__ b,
                                uint4* __restrict__ c, std::size_t n) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    Pack8 x, y, z;
    x.raw = a[i];
    y.raw = b[i];
#pragma unroll
    for (int j = 0; j < 4; ++j)
      z.h[j] = __hadd2(x.h[j], y.h[j]);
    c[i] = z.raw;
  }
}

// GELU, tanh approximation (as in GPT-2 / PyTorch approximate='tanh'), computed in fp32.
__device__ float gelu_tanh(float x) {
  const float k = 0.7978845608028654f;  // sqrt(2 / pi)
  return 0.5f * x * (1.0f + tanhf(k * (x + 0.044715f * x * x * x)));
}

__global__ void gelu_fp16_kernel(const uint4* __restrict__ a, uint4* __restrict__ b, std::size_t n) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    Pack8 x, y;
    x.raw = a[i];
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const float2 f = __half22float2(x.h[j]);
      y.h[j] = __floats2half2_rn(gelu_tanh(f.x), gelu_tanh(f.y));
    }
    b[i] = y.raw;
  }
}

__global__ void scale_fp32_kernel(const float4* __restrict__ a, float4* __restrict__ b, float s,
                                  std::size_t n) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const float4 v = a[i];
    b[i] = make_float4(s * v.x, s * v.y, s * v.z, s * v.w);
  }
}

// Sum over the block: warp shuffles, then one warp over the warps' sums. Result valid in thread 0.
__device__ float block_sum(float v) {
  __shared__ float warp_sums[32];
#pragma unroll
  for (int o = 16; o > 0; o /= 2)
    v += __shfl_down_sync(0xffffffffu, v, o);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();
  const int warps = (blockDim.x + 31) / 32;
  v = threadIdx.x < warps ? warp_sums[threadIdx.x] : 0.0f;
  if (warp == 0)
#pragma unroll
    for (int o = 16; o > 0; o /= 2)
      v += __shfl_down_sync(0xffffffffu, v, o);
  return v;
}

// Pass 1: grid-stride partial sums, one per block.
__global__ void reduce_partial_kernel(const float4* __restrict__ a, std::size_t n, float* partial) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  float acc = 0;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const float4 v = a[i];
    acc += (v.x + v.y) + (v.z + v.w);
  }
  acc = block_sum(acc);
  if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

// Pass 2: one block over the partial sums.
__global__ void reduce_final_kernel(const float* partial, int n, float* out) {
  float acc = 0;
  for (int i = threadIdx.x; i < n; i += blockDim.x)
    acc += partial[i];
  acc = block_sum(acc);
  if (threadIdx.x == 0) *out = acc;
}

Json kernel_record(const std::string& name, const char* kind, Json params, const Stats& s) {
  Json k = Json::object();
  k.set("name", name).set("kind", kind).set("params", std::move(params)).set("time_s", to_json(s));
  return k;
}

void progress(const std::string& name, const Stats& s) {
  std::fprintf(stderr, "%-40s %s\n", name.c_str(), si(s.median, "s").c_str());
}

// Kernels of at least this long run once per event pair; shorter ones in batches.
constexpr double kBatchTarget = 50e-6;

}  // namespace

Json run_validation(Context& ctx) {
  Json kernels = Json::array();

  // GEMMs of transformer shapes the suite does not measure (h = 5120, 6144; t = 1024, 4096).
  {
    set_section("validate gemm setup");
    GemmRunner runner;
    struct Layer {
      long long h, t;
    };
    for (DType t : {DType::bf16, DType::fp16}) {
      for (const Layer& l : {Layer{5120, 1024}, Layer{6144, 4096}}) {
        struct G {
          const char* op;
          long long m, n, k;
        };
        const G gemms[] = {
            {"qkv", l.t, 3 * l.h, l.h}, {"mlp_up", l.t, 4 * l.h, l.h}, {"mlp_down", l.t, l.h, 4 * l.h}};
        for (const auto& g : gemms) {
          const std::string name = std::string("gemm-") + g.op + "-h" + std::to_string(l.h) + "-t" +
                                   std::to_string(l.t) + "-" + dtype_name(t);
          set_section("validate " + name);
          Stats s;
          if (!runner.time(ctx, t, g.m, g.n, g.k, ctx.dev.memory_bytes / 3, s, kBatchTarget)) {
            std::fprintf(stderr, "%-40s skipped: buffers too large\n", name.c_str());
            continue;
          }
          Json params = Json::object();
          params.set("m", g.m).set("n", g.n).set("k", g.k).set("dtype", dtype_name(t));
          kernels.push(kernel_record(name, "gemm", std::move(params), s));
          progress(name, s);
        }
      }
    }
  }

  // Elementwise and reduction kernels at 16 MiB, 256 MiB and 1 GiB per input array; all arrays of one kernel
  // together stay within a quarter of the device memory.
  const int grid = ctx.dev.sm_count * blocks_per_sm(reinterpret_cast<const void*>(add_fp16_kernel), kThreads);
  auto sizes_for = [&](int arrays) {
    std::vector<std::size_t> out;
    const std::vector<std::size_t> wanted = ctx.quick
                                                ? std::vector<std::size_t>{16 * MiB}
                                                : std::vector<std::size_t>{16 * MiB, 256 * MiB, 1024 * MiB};
    for (std::size_t s : wanted) {
      s = std::min(s, ctx.dev.memory_bytes / 4 / arrays / MiB * MiB);
      if (s >= MiB && (out.empty() || s != out.back())) out.push_back(s);
    }
    return out;
  };

  // Times one memory-bound kernel and records it: `moved` bytes read and written over `elements` elements.
  auto record = [&](const std::string& name, const char* kind, const char* op, const char* dtype,
                    std::size_t moved, std::size_t elements, const std::function<void()>& launch) {
    const Stats s = time_auto(ctx, launch, kBatchTarget);
    Json params = Json::object();
    params.set("bytes", moved).set("elements", elements).set("dtype", dtype).set("op", op);
    if (std::string(kind) == "reduction") params.set("passes", 2);
    kernels.push(kernel_record(name, kind, std::move(params), s));
    progress(name, s);
  };

  for (std::size_t bytes : sizes_for(3)) {
    const std::string name = "elementwise-add-" + size_label(bytes);
    set_section("validate " + name);
    const std::size_t elements = bytes / 2, n = bytes / 16;
    DeviceBuffer<uint4> a(n), b(n), c(n);
    fill_random(a.get(), elements, DType::fp16, 21);
    fill_random(b.get(), elements, DType::fp16, 22);
    record(name, "elementwise", "add", "fp16", 3 * bytes, elements, [&] {
      add_fp16_kernel<<<grid, kThreads>>>(a.get(), b.get(), c.get(), n);
      CHECK_LAUNCH();
    });
  }

  for (std::size_t bytes : sizes_for(2)) {
    const std::string name = "elementwise-gelu-" + size_label(bytes);
    set_section("validate " + name);
    const std::size_t elements = bytes / 2, n = bytes / 16;
    DeviceBuffer<uint4> a(n), b(n);
    fill_random(a.get(), elements, DType::fp16, 23);
    record(name, "elementwise", "gelu", "fp16", 2 * bytes, elements, [&] {
      gelu_fp16_kernel<<<grid, kThreads>>>(a.get(), b.get(), n);
      CHECK_LAUNCH();
    });
  }

  for (std::size_t bytes : sizes_for(2)) {
    const std::string name = "elementwise-scale-" + size_label(bytes);
    set_section("validate " + name);
    const std::size_t elements = bytes / 4, n = bytes / 16;
    DeviceBuffer<float4> a(n), b(n);
    fill_random(a.get(), elements, DType::fp32, 24);
    record(name, "elementwise", "scale", "fp32", 2 * bytes, elements, [&] {
      scale_fp32_kernel<<<grid, kThreads>>>(a.get(), b.get(), 0.5f, n);
      CHECK_LAUNCH();
    });
  }

  const int reduce_grid =
      ctx.dev.sm_count * blocks_per_sm(reinterpret_cast<const void*>(reduce_partial_kernel), kThreads);
  for (std::size_t bytes : sizes_for(1)) {
    const std::string name = "reduction-sum-" + size_label(bytes);
    set_section("validate " + name);
    const std::size_t elements = bytes / 4, n = bytes / 16;
    DeviceBuffer<float4> a(n);
    DeviceBuffer<float> partial(reduce_grid), result(1);
    fill_random(a.get(), elements, DType::fp32, 25);
    record(name, "reduction", "sum", "fp32", bytes, elements, [&] {
      reduce_partial_kernel<<<reduce_grid, kThreads>>>(a.get(), n, partial.get());
      CHECK_LAUNCH();
      reduce_final_kernel<<<1, 1024>>>(partial.get(), reduce_grid, result.get());
      CHECK_LAUNCH();
    });
  }
  return kernels;
}

}  // namespace calib
