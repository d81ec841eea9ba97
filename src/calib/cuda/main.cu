// whatif-calib-cuda: measures one GPU's throughput, bandwidth, latency, launch, transfer and GEMM figures and
// writes them as JSON for whatif's calibration (whatif-measurements/1) and validation
// (whatif-kernel-times/1).
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "common.cuh"

namespace calib {
namespace {

const char* kUsage =
    "usage: whatif-calib-cuda info [--device N]\n"
    "       whatif-calib-cuda run [--device N] [--quick] -o FILE\n"
    "       whatif-calib-cuda validate [--device N] [--quick] -o FILE\n"
    "\n"
    "  info       print the device's properties as JSON on stdout\n"
    "  run        run the whole benchmark suite, write measurements (whatif-measurements/1) to FILE\n"
    "  validate   time the validation kernels, write them (whatif-kernel-times/1) to FILE\n"
    "  --device N the CUDA device index (default 0)\n"
    "  --quick    fewer sizes and repetitions, for a fast smoke run\n"
    "  -o FILE    output file (written to FILE.tmp, then renamed)\n";

struct Options {
  std::string mode, output;
  int device = 0;
  bool quick = false;
};

[[noreturn]] void usage_error(const std::string& what) {
  if (!what.empty()) std::fprintf(stderr, "error: %s\n", what.c_str());
  std::fputs(kUsage, stderr);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  if (argc < 2) usage_error("");
  o.mode = argv[1];
  if (o.mode == "-h" || o.mode == "--help") {
    std::fputs(kUsage, stdout);
    std::exit(0);
  }
  if (o.mode != "info" && o.mode != "run" && o.mode != "validate")
    usage_error("unknown command '" + o.mode + "'");
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--device") {
      const std::string v = value();
      char* end = nullptr;
      errno = 0;
      const long d = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || errno != 0 || d < 0 || d > 1 << 20)
        usage_error("--device: expected a device index, got '" + v + "'");
      o.device = static_cast<int>(d);
    } else if (a == "--quick" && o.mode != "info") {
      o.quick = true;
    } else if ((a == "-o" || a == "--output") && o.mode != "info") {
      o.output = value();
    } else if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else {
      usage_error("unexpected argument '" + a + "' for '" + o.mode + "'");
    }
  }
  if (o.mode != "info" && o.output.empty()) usage_error(o.mode + " needs -o FILE");
  return o;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string hostname() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

std::string version_text(int v) {  // 13000 -> "13.0"
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

std::string uuid_text(const cudaUUID_t& u) {
  const auto* b = reinterpret_cast<const unsigned char*>(u.bytes);
  char buf[64];
  std::snprintf(buf, sizeof buf, "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return buf;
}

int attribute(cudaDeviceAttr attr, int device) {
  int v = 0;
  CHECK(cudaDeviceGetAttribute(&v, attr, device));
  return v;
}

// Spins every SM for `target` cycles of clock64(); block 0 reports the cycles it counted.
__global__ void spin_kernel(long long target, long long* cycles) {
  const long long t0 = clock64();
  long long t = t0;
  while (t - t0 < target)
    t = clock64();
  if (blockIdx.x == 0 && threadIdx.x == 0) *cycles = t - t0;
}

// Every thread of a full wave runs 8 independent FMA chains for `trips` trips: the SMs at full load, as in
// the heavy kernels, where power limits may hold the clock below an idle spin's. Block 0 reports its cycles.
__global__ void busy_kernel(long long trips, float* out, long long* cycles) {
  const long long t0 = clock64();
  float a[8];
#pragma unroll
  for (int j = 0; j < 8; ++j)
    a[j] = threadIdx.x + j;
  for (long long t = 0; t < trips; ++t)
#pragma unroll
    for (int u = 0; u < 32; ++u)
#pragma unroll
      for (int j = 0; j < 8; ++j)
        a[j] = fmaf(a[j], 0.9999f, 0.0001f);
  float s = 0;
#pragma unroll
  for (int j = 0; j < 8; ++j)
    s += a[j];
  if (s == -12345.0f) out[threadIdx.x] = s;  // never: keeps the chains
  if (blockIdx.x == 0 && threadIdx.x == 0) *cycles = clock64() - t0;
}

void write_file(const std::string& path, const Json& doc) {
  const std::string tmp = path + ".tmp";
  const std::string text = doc.dump();
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (!f) throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(errno));
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok)
    throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(errno));
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw std::runtime_error("cannot rename " + tmp + " to " + path + ": " + std::strerror(errno));
}

Json header(const char* format, const Context& ctx) {
  Json doc = Json::object();
  doc.set("format", format).set("tool", kTool).set("date", utc_now()).set("host", hostname());
  doc.set("device", device_json(ctx.dev));
  Json clock = Json::object().set("measured_sm_hz", ctx.sm_hz);
  if (ctx.loaded_sm_hz > 0) clock.set("measured_sm_hz_loaded", ctx.loaded_sm_hz);
  doc.set("clock", clock.set("reps", ctx.reps));
  return doc;
}

int run(const Options& o) {
  set_section("setup");
  CHECK(cudaSetDevice(o.device));
  Context ctx;
  ctx.dev = query_device(o.device);
  if (o.mode == "info") {
    std::fputs(device_json(ctx.dev).dump().c_str(), stdout);
    return 0;
  }
  ctx.quick = o.quick;
  ctx.reps = o.quick ? 5 : 20;
  std::fprintf(stderr, "device %d: %s, %d SMs, %s memory, %s L2%s\n", ctx.dev.index, ctx.dev.prop.name,
               ctx.dev.sm_count, size_label(ctx.dev.memory_bytes).c_str(),
               size_label(ctx.dev.l2_bytes).c_str(), o.quick ? " (quick)" : "");
  ctx.sm_hz = measure_sm_clock(ctx);
  std::fprintf(stderr, "%-11s %-14s %-36s %s\n", "clock", "sm", "clock64 over a timed spin",
               si(ctx.sm_hz, "Hz").c_str());
  ctx.loaded_sm_hz = measure_loaded_sm_clock(ctx);
  std::fprintf(stderr, "%-11s %-14s %-36s %s\n", "clock", "sm loaded", "clock64 over a full FP32 load",
               si(ctx.loaded_sm_hz, "Hz").c_str());
  if (o.mode == "run") {
    run_peak(ctx);
    run_instruction(ctx);
    run_bandwidth(ctx);
    run_latency(ctx);
    run_launch(ctx);
    run_transfer(ctx);
    run_gemm(ctx);
    set_section("output");
    Json doc = header("whatif-measurements/1", ctx);
    doc.set("measurements", ctx.records);
    write_file(o.output, doc);
    std::fprintf(stderr, "wrote %zu measurements to %s\n", ctx.records.size(), o.output.c_str());
  } else {
    Json kernels = run_validation(ctx);
    set_section("output");
    Json doc = header("whatif-kernel-times/1", ctx);
    const std::size_t count = kernels.size();
    doc.set("kernels", std::move(kernels));
    write_file(o.output, doc);
    std::fprintf(stderr, "wrote %zu kernel times to %s\n", count, o.output.c_str());
  }
  return 0;
}

}  // namespace

DeviceInfo query_device(int index) {
  DeviceInfo d;
  d.index = index;
  CHECK(cudaGetDeviceProperties(&d.prop, index));
  d.sm_count = attribute(cudaDevAttrMultiProcessorCount, index);
  d.l2_bytes = attribute(cudaDevAttrL2CacheSize, index);
  d.clock_khz = attribute(cudaDevAttrClockRate, index);
  d.memory_clock_khz = attribute(cudaDevAttrMemoryClockRate, index);
  d.memory_bytes = d.prop.totalGlobalMem;
  return d;
}

Json device_json(const DeviceInfo& d) {
  const int i = d.index;
  int driver = 0, runtime = 0;
  CHECK(cudaDriverGetVersion(&driver));
  CHECK(cudaRuntimeGetVersion(&runtime));
  const std::string cc = std::to_string(attribute(cudaDevAttrComputeCapabilityMajor, i)) + "." +
                         std::to_string(attribute(cudaDevAttrComputeCapabilityMinor, i));
  Json j = Json::object();
  j.set("index", i)
      .set("name", d.prop.name)
      .set("uuid", uuid_text(d.prop.uuid))
      .set("compute_capability", cc);
  j.set("sm_count", d.sm_count).set("memory_bytes", d.memory_bytes).set("l2_bytes", d.l2_bytes);
  j.set("shared_per_sm_bytes", attribute(cudaDevAttrMaxSharedMemoryPerMultiprocessor, i));
  j.set("shared_per_block_optin_bytes", attribute(cudaDevAttrMaxSharedMemoryPerBlockOptin, i));
  j.set("max_threads_per_sm", attribute(cudaDevAttrMaxThreadsPerMultiProcessor, i));
  j.set("registers_per_sm", attribute(cudaDevAttrMaxRegistersPerMultiprocessor, i));
  j.set("memory_bus_bits", attribute(cudaDevAttrGlobalMemoryBusWidth, i));
  j.set("clock_khz", d.clock_khz).set("memory_clock_khz", d.memory_clock_khz);
  j.set("driver_version", version_text(driver)).set("runtime_version", version_text(runtime));
  j.set("ecc", attribute(cudaDevAttrEccEnabled, i) != 0);
  return j;
}

// cycles / seconds of a spin on every SM long enough (about 50 ms) that the events' overhead does not matter.
double measure_sm_clock(Context& ctx) {
  set_section("clock");
  const long long target = ctx.quick ? 20'000'000LL : 100'000'000LL;
  DeviceBuffer<long long> cycles(1);
  for (int i = 0; i < ctx.warmup; ++i)
    spin_kernel<<<ctx.dev.sm_count, 32>>>(target / 10, cycles.get());
  CHECK_LAUNCH();
  CHECK(cudaDeviceSynchronize());
  const TimedCycles t = time_with_cycles(ctx.reps, cycles.get(), [&] {
    spin_kernel<<<ctx.dev.sm_count, 32>>>(target, cycles.get());
    CHECK_LAUNCH();
  });
  std::vector<double> hz;
  for (std::size_t r = 0; r < t.cycles.size(); ++r)
    hz.push_back(t.cycles[r] / t.seconds[r]);
  return summarize(hz).median;
}

// The same with every SM busy (one full wave of busy_kernel, about 50 ms; 10 quick).
double measure_loaded_sm_clock(Context& ctx) {
  set_section("clock loaded");
  constexpr int kThreads = 256;
  const int grid = ctx.dev.sm_count * blocks_per_sm(reinterpret_cast<const void*>(busy_kernel), kThreads);
  DeviceBuffer<long long> cycles(1);
  DeviceBuffer<float> out(kThreads);
  auto launch = [&](long long trips) {
    busy_kernel<<<grid, kThreads>>>(trips, out.get(), cycles.get());
    CHECK_LAUNCH();
  };
  const long long trips = calibrate_work(launch, 64, ctx.quick ? 10e-3 : 50e-3);
  for (int i = 0; i < ctx.warmup; ++i)
    launch(trips);
  CHECK(cudaDeviceSynchronize());
  const TimedCycles t = time_with_cycles(ctx.reps, cycles.get(), [&] { launch(trips); });
  std::vector<double> hz;
  for (std::size_t r = 0; r < t.cycles.size(); ++r)
    hz.push_back(t.cycles[r] / t.seconds[r]);
  return summarize(hz).median;
}

}  // namespace calib

int main(int argc, char** argv) {
  const calib::Options o = calib::parse(argc, argv);
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    std::fprintf(stderr, "error: no CUDA device: %s\n",
                 cudaGetErrorString(e != cudaSuccess ? e : cudaErrorNoDevice));
    return 2;
  }
  if (o.device >= count) {
    std::fprintf(stderr, "error: device %d out of range: %d CUDA device%s (indices 0..%d)\n", o.device, count,
                 count == 1 ? "" : "s", count - 1);
    return 2;
  }
  try {
    return calib::run(o);
  } catch (const calib::CudaError& err) {
    std::fprintf(stderr, "error: %s: %s\n  in %s\n", calib::section().c_str(), err.error.c_str(),
                 err.call.c_str());
  } catch (const std::exception& err) {
    std::fprintf(stderr, "error: %s: %s\n", calib::section().c_str(), err.what());
  }
  return 1;
}
