// Kernel launch overhead and host<->device / device<->device copy bandwidth.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "common.cuh"

namespace calib {
namespace {

__global__ void empty_kernel() {}

// Launches per event pair: the queue stays full, so the figure is the issue rate.
constexpr int kAsyncBatch = 1000;
// Launch + synchronise round trips per host-timed sample.
constexpr int kSyncBatch = 100;

// Pinned host memory owned for a scope.
class PinnedBuffer {
 public:
  explicit PinnedBuffer(std::size_t bytes) { CHECK(cudaMallocHost(&ptr_, bytes)); }
  ~PinnedBuffer() { cudaFreeHost(ptr_); }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  void* get() const { return ptr_; }

 private:
  void* ptr_ = nullptr;
};

}  // namespace

void run_launch(Context& ctx) {
  set_section("launch empty_async");
  auto launch = [] {
    empty_kernel<<<1, 1>>>();
    CHECK_LAUNCH();
  };
  const Stats async = time_launches(ctx, launch, kAsyncBatch);
  Json params = Json::object();
  params.set("launches_per_sample", kAsyncBatch).set("grid", 1).set("block", 1);
  ctx.add("launch", "empty_async", std::move(params), async, async.median, "s", "back-to-back");

  set_section("launch empty_sync");
  for (int i = 0; i < std::max(ctx.warmup, 2) * 10; ++i) {
    launch();
    CHECK(cudaDeviceSynchronize());
  }
  std::vector<double> samples;
  for (int r = 0; r < ctx.reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kSyncBatch; ++i) {
      launch();
      CHECK(cudaDeviceSynchronize());
    }
    const auto t1 = std::chrono::steady_clock::now();
    samples.push_back(std::chrono::duration<double>(t1 - t0).count() / kSyncBatch);
  }
  const Stats sync = summarize(samples);
  params = Json::object();
  params.set("launches_per_sample", kSyncBatch)
      .set("grid", 1)
      .set("block", 1)
      .set("clock", "host steady_clock");
  ctx.add("launch", "empty_sync", std::move(params), sync, sync.median, "s",
          "launch + cudaDeviceSynchronize");
}

void run_transfer(Context& ctx) {
  set_section("transfer setup");
  constexpr std::size_t KiB = 1024, MiB = 1024 * KiB;
  const std::size_t hi =
      std::max(std::min<std::size_t>(256 * MiB, ctx.dev.memory_bytes / 8) / (4 * KiB) * (4 * KiB), 4 * KiB);
  const auto sizes = geometric_sizes(4 * KiB, hi, ctx.quick ? 3 : 8, 4 * KiB);

  // Pageable memory is written once so that its pages exist before the first copy.
  std::vector<unsigned char> pageable(hi);
  std::memset(pageable.data(), 1, hi);
  PinnedBuffer pinned(hi);
  std::memset(pinned.get(), 2, hi);
  DeviceBuffer<unsigned char> d1(hi), d2(hi);
  CHECK(cudaMemset(d1.get(), 3, hi));
  CHECK(cudaMemset(d2.get(), 4, hi));

  struct Copy {
    const char* name;
    void* dst;
    const void* src;
    cudaMemcpyKind kind;
  };
  const Copy copies[] = {
      {"h2d_pageable", d1.get(), pageable.data(), cudaMemcpyHostToDevice},
      {"h2d_pinned", d1.get(), pinned.get(), cudaMemcpyHostToDevice},
      {"d2h_pageable", pageable.data(), d1.get(), cudaMemcpyDeviceToHost},
      {"d2h_pinned", pinned.get(), d1.get(), cudaMemcpyDeviceToHost},
      {"d2d", d2.get(), d1.get(), cudaMemcpyDeviceToDevice},  // bytes counted once, not read + write
  };
  for (const auto& c : copies) {
    for (std::size_t bytes : sizes) {
      set_section(std::string("transfer ") + c.name + " " + size_label(bytes));
      auto launch = [&] { CHECK(cudaMemcpy(c.dst, c.src, bytes, c.kind)); };
      // Small copies are batched per event pair (at most 1000) so the events' resolution does not matter.
      const Stats s = time_launches(ctx, launch, pick_batch(launch, 1e-3, 1000));
      Json params = Json::object();
      params.set("bytes", bytes).set("api", "cudaMemcpy");
      ctx.add("transfer", c.name, std::move(params), s, bytes / s.median, "B/s", size_label(bytes));
    }
  }
}

}  // namespace calib
