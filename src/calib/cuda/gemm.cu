// cuBLAS GEMM throughput (cublasGemmEx) over transformer, square and K-sweep shapes, and the device-side
// random fill that the GEMMs and validation kernels share.
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "common.cuh"

#define CHECK_CUBLAS(call)                                                                             \
  do {                                                                                                 \
    const cublasStatus_t check_s_ = (call);                                                            \
    if (check_s_ != CUBLAS_STATUS_SUCCESS)                                                             \
      throw calib::CudaError(cublasGetStatusString(check_s_),                                          \
                             std::string(#call) + " at " + __FILE__ + ":" + std::to_string(__LINE__)); \
  } while (0)

namespace calib {
namespace {

__device__ std::uint32_t hash32(std::uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

__global__ void fill_kernel(void* data, std::size_t n, int type, std::uint32_t seed) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const std::uint32_t h =
        hash32(static_cast<std::uint32_t>(i) ^ hash32(static_cast<std::uint32_t>(i >> 32) + seed));
    const float v = (h >> 8) * (1.0f / 16777216.0f) - 0.5f;
    if (type == static_cast<int>(DType::fp16))
      static_cast<__half*>(data)[i] = __float2half(v);
    else if (type == static_cast<int>(DType::bf16))
      static_cast<__nv_bfloat16*>(data)[i] = __float2bfloat16(v);
    else
      static_cast<float*>(data)[i] = v;
  }
}

cudaDataType_t cuda_type(DType t) {
  switch (t) {
    case DType::fp16:
      return CUDA_R_16F;
    case DType::bf16:
      return CUDA_R_16BF;
    case DType::fp32:
      return CUDA_R_32F;
  }
  return CUDA_R_32F;
}

struct Shape {
  long long m, n, k;
  std::string family;
};

std::vector<Shape> gemm_shapes(bool quick) {
  std::vector<Shape> out;
  std::set<std::tuple<long long, long long, long long>> seen;
  auto add = [&](long long m, long long n, long long k, const std::string& family) {
    if (seen.insert({m, n, k}).second) out.push_back({m, n, k, family});
  };
  // A transformer layer's GEMMs for t tokens and hidden size h.
  auto layer = [&](long long h, long long t) {
    const std::string tag = "-h" + std::to_string(h) + "-t" + std::to_string(t);
    add(t, 3 * h, h, "qkv" + tag);
    add(t, h, h, "attn_out" + tag);
    add(t, 4 * h, h, "mlp_up" + tag);
    add(t, h, 4 * h, "mlp_down" + tag);
  };
  if (quick) {
    layer(4096, 2048);
    layer(1024, 512);
    for (long long s : {1024, 2048, 8192})
      add(s, s, s, "square");
    add(4096, 4096, 256, "k_sweep");
    return out;
  }
  for (long long h : {1024, 2048, 4096, 8192, 12288})
    for (long long t : {512, 2048, 8192})
      layer(h, t);
  for (long long s : {256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192, 12288, 16384})
    add(s, s, s, "square");
  for (long long k : {64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384})
    add(4096, 4096, k, "k_sweep");
  return out;
}

}  // namespace

void fill_random(void* data, std::size_t count, DType t, std::uint32_t seed) {
  int sms = 0, device = 0;
  CHECK(cudaGetDevice(&device));
  CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  fill_kernel<<<std::max(sms, 1) * 8, 256>>>(data, count, static_cast<int>(t), seed);
  CHECK_LAUNCH();
}

GemmRunner::GemmRunner() {
  cublasHandle_t h = nullptr;
  CHECK_CUBLAS(cublasCreate(&h));
  handle_ = h;
  // Default math: CUBLAS_COMPUTE_32F on fp32 data then stays true fp32, no TF32 tensor cores.
  CHECK_CUBLAS(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH));
}

GemmRunner::~GemmRunner() {
  cublasDestroy(static_cast<cublasHandle_t>(handle_));
}

bool GemmRunner::time(const Context& ctx, DType t, long long m, long long n, long long k,
                      std::size_t limit_bytes, Stats& out, double batch_s) {
  const std::size_t es = dtype_bytes(t);
  const std::size_t a_count = m * k, b_count = k * n, c_count = m * n;
  const std::size_t bytes = (a_count + b_count + c_count) * es;
  if (bytes > limit_bytes || bytes > ctx.free_bytes() / 10 * 9) return false;
  DeviceBuffer<unsigned char> a(a_count * es), b(b_count * es), c(c_count * es);
  fill_random(a.get(), a_count, t, 11);
  fill_random(b.get(), b_count, t, 12);
  CHECK(cudaMemset(c.get(), 0, c_count * es));
  const cudaDataType_t type = cuda_type(t);
  const float alpha = 1.0f, beta = 0.0f;
  cublasHandle_t h = static_cast<cublasHandle_t>(handle_);
  // Row-major C[m x n] = A[m x k] B[k x n] is column-major C^T[n x m] = B^T[n x k] A^T[k x m]: the row-major
  // buffers read as column-major are exactly those transposes, so cuBLAS gets (n, m, k) with B first.
  auto launch = [&] {
    CHECK_CUBLAS(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(n), static_cast<int>(m),
                              static_cast<int>(k), &alpha, b.get(), type, static_cast<int>(n), a.get(), type,
                              static_cast<int>(k), &beta, c.get(), type, static_cast<int>(n),
                              CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  };
  out = time_auto(ctx, launch, batch_s);
  return true;
}

void run_gemm(Context& ctx) {
  set_section("gemm setup");
  GemmRunner runner;
  const std::size_t limit = ctx.dev.memory_bytes / 3;
  const auto shapes = gemm_shapes(ctx.quick);
  for (DType t : {DType::fp16, DType::bf16, DType::fp32}) {
    for (const auto& s : shapes) {
      if (t == DType::fp32 && s.family != "square") continue;
      char label[96];
      std::snprintf(label, sizeof label, "%lldx%lldx%lld", s.m, s.n, s.k);
      set_section(std::string("gemm ") + dtype_name(t) + " " + label);
      Stats st;
      if (!runner.time(ctx, t, s.m, s.n, s.k, limit, st)) {
        std::fprintf(stderr, "%-11s %-14s %-36s skipped: buffers too large\n", "gemm", dtype_name(t), label);
        continue;
      }
      const double flop = 2.0 * s.m * s.n * s.k;
      Json params = Json::object();
      params.set("m", s.m).set("n", s.n).set("k", s.k).set("shape", s.family).set("layout", "row-major");
      params.set("compute", "CUBLAS_COMPUTE_32F");
      ctx.add("gemm", dtype_name(t), std::move(params), st, flop / st.median, "flop/s", label);
    }
  }
}

}  // namespace calib
