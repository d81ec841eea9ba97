// Shared pieces of whatif-calib-cuda: error checking, device buffers, timing with CUDA events, the run
// context that collects records, and the entry points of each benchmark file.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "json.cuh"

namespace calib {

constexpr const char* kTool = "whatif-calib-cuda 1";

// A failed CUDA (or cuBLAS) call: `error` is the library's message, `call` the code that failed and where.
class CudaError : public std::runtime_error {
 public:
  CudaError(const std::string& error, const std::string& call)
      : std::runtime_error(call + ": " + error), error(error), call(call) {}
  std::string error, call;
};

[[noreturn]] void throw_cuda(cudaError_t e, const char* call, const char* file, int line);

#define CHECK(call)                                                                      \
  do {                                                                                   \
    const cudaError_t check_e_ = (call);                                                 \
    if (check_e_ != cudaSuccess) calib::throw_cuda(check_e_, #call, __FILE__, __LINE__); \
  } while (0)

// Kernel launches report configuration errors through cudaGetLastError.
#define CHECK_LAUNCH() CHECK(cudaGetLastError())

// The benchmark running now, named in error messages ("error: peak fp32: ...").
void set_section(const std::string& name);
const std::string& section();

// Device memory owned for a scope.
template <typename T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(std::size_t count) : count_(count) {
    CHECK(cudaMalloc(reinterpret_cast<void**>(&ptr_), count * sizeof(T) > 0 ? count * sizeof(T) : 1));
  }
  ~DeviceBuffer() { cudaFree(ptr_); }  // errors here would only hide the first one
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  T* get() const { return ptr_; }
  std::size_t count() const { return count_; }
  std::size_t bytes() const { return count_ * sizeof(T); }

 private:
  T* ptr_ = nullptr;
  std::size_t count_ = 0;
};

class Event {
 public:
  Event() { CHECK(cudaEventCreate(&e_)); }
  ~Event() { cudaEventDestroy(e_); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  cudaEvent_t get() const { return e_; }

 private:
  cudaEvent_t e_ = nullptr;
};

struct Stats {  // seconds
  double median = 0, min = 0, max = 0, mean = 0, stdev = 0;
  int reps = 0;
};
Stats summarize(std::vector<double> samples);
Json to_json(const Stats& s);

struct DeviceInfo {
  int index = 0;
  cudaDeviceProp prop{};
  int sm_count = 0, l2_bytes = 0, clock_khz = 0, memory_clock_khz = 0;
  std::size_t memory_bytes = 0;
};

struct Context {
  DeviceInfo dev;
  bool quick = false;
  int reps = 20;     // timed repetitions per figure
  int warmup = 2;    // untimed launches before them
  double sm_hz = 0;  // measured SM clock, for cycles -> seconds
  double loaded_sm_hz = 0;  // the same under a full FP32 load of every SM (the clock kernels run at)
  Json records = Json::array();

  // Appends a measurement record and prints a progress line on stderr.
  void add(const std::string& kind, const std::string& name, Json params, const Stats& time, double value,
           const std::string& unit, const std::string& label = "");
  double target_s() const { return quick ? 2e-3 : 10e-3; }  // device time a calibrated kernel aims at
  std::size_t free_bytes() const;
};

// Times `launch` (work enqueued on the default stream): ctx.warmup untimed calls, then `reps` event pairs
// around `batch` calls each; samples are seconds per call.
Stats time_launches(const Context& ctx, const std::function<void()>& launch, int batch = 1, int reps = 0);
// One event-timed call, after one untimed call.
double time_once(const std::function<void()>& launch);

// `reps` launches, each between a pair of CUDA events, reading the clock64() cycle count the kernel left at
// `cycles` (device memory) after each. No warm-up: the caller does its own.
struct TimedCycles {
  std::vector<double> seconds, cycles;
};
TimedCycles time_with_cycles(int reps, const long long* cycles, const std::function<void()>& launch);
// How many calls per event pair make a batch last at least `target_s` (so that short kernels are not measured
// at the events' resolution), at most `max_batch`.
int pick_batch(const std::function<void()>& launch, double target_s, int max_batch = 10000);
// time_launches with pick_batch.
Stats time_auto(const Context& ctx, const std::function<void()>& launch, double target_s = 1e-3);
// The work count (loop trips, passes) that makes `launch(work)` take about `target_s`, starting from `start`.
long long calibrate_work(const std::function<void(long long)>& launch, long long start, double target_s);

// Geometric sizes from lo to hi (both included), rounded down to multiples of `align`, duplicates dropped.
std::vector<std::size_t> geometric_sizes(std::size_t lo, std::size_t hi, int count, std::size_t align);
// "60.1 Tflop/s", "3.35 TB/s", "4.2 us": SI prefixes for progress lines.
std::string si(double value, const std::string& unit);
std::string size_label(std::size_t bytes);  // "4 KiB", "256 MiB", "1.5 GiB"
// Blocks of `threads` that fit on one SM at once for `kernel`.
int blocks_per_sm(const void* kernel, int threads, std::size_t shared_bytes = 0);

// Data types of the GEMMs and validation kernels.
enum class DType { fp16, bf16, fp32 };
const char* dtype_name(DType t);
std::size_t dtype_bytes(DType t);
// Small uniform random values in [-0.5, 0.5) from a hash of the index, written on the device.
void fill_random(void* data, std::size_t count, DType t, std::uint32_t seed);

// Entry points of the benchmark files.
DeviceInfo query_device(int index);
Json device_json(const DeviceInfo& d);
double measure_sm_clock(Context& ctx);
double measure_loaded_sm_clock(Context& ctx);  // the same with every SM busy
void run_peak(Context& ctx);         // compute.cu
void run_instruction(Context& ctx);  // compute.cu
void run_bandwidth(Context& ctx);    // memory.cu
void run_latency(Context& ctx);      // memory.cu
void run_launch(Context& ctx);       // transfer.cu
void run_transfer(Context& ctx);     // transfer.cu
void run_gemm(Context& ctx);         // gemm.cu
Json run_validation(Context& ctx);   // validate.cu: the "kernels" list

// cuBLAS GEMMs, shared by the suite and the validation kernels (gemm.cu).
class GemmRunner {
 public:
  GemmRunner();
  ~GemmRunner();
  GemmRunner(const GemmRunner&) = delete;
  GemmRunner& operator=(const GemmRunner&) = delete;
  // Times row-major C[m x n] = A[m x k] B[k x n], GEMMs shorter than batch_s batched per event pair; false
  // when the buffers would not fit (limit_bytes).
  bool time(const Context& ctx, DType t, long long m, long long n, long long k, std::size_t limit_bytes,
            Stats& out, double batch_s = 1e-3);

 private:
  void* handle_ = nullptr;  // cublasHandle_t, kept opaque so that this header needs no cuBLAS
};

}  // namespace calib
