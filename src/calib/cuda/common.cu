// Error reporting, timing and formatting helpers shared by every benchmark.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common.cuh"

namespace calib {

namespace {
std::string g_section = "setup";
}

void throw_cuda(cudaError_t e, const char* call, const char* file, int line) {
  throw CudaError(cudaGetErrorString(e), std::string(call) + " at " + file + ":" + std::to_string(line));
}

void set_section(const std::string& name) {
  g_section = name;
}
const std::string& section() {
  return g_section;
}

Stats summarize(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  s.reps = static_cast<int>(n);
  s.min = v.front();
  s.max = v.back();
  s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  double sum = 0;
  for (double x : v)
    sum += x;
  s.mean = sum / n;
  double sq = 0;
  for (double x : v)
    sq += (x - s.mean) * (x - s.mean);
  s.stdev = n > 1 ? std::sqrt(sq / (n - 1)) : 0;  // sample standard deviation
  return s;
}

Json to_json(const Stats& s) {
  return Json::object()
      .set("median", s.median)
      .set("min", s.min)
      .set("max", s.max)
      .set("mean", s.mean)
      .set("stdev", s.stdev)
      .set("reps", s.reps);
}

void Context::add(const std::string& kind, const std::string& name, Json params, const Stats& time,
                  double value, const std::string& unit, const std::string& label) {
  Json r = Json::object();
  r.set("kind", kind).set("name", name).set("params", std::move(params)).set("time_s", to_json(time));
  r.set("value", value).set("unit", unit);
  records.push(std::move(r));
  std::fprintf(stderr, "%-11s %-14s %-36s %s\n", kind.c_str(), name.c_str(), label.c_str(),
               si(value, unit).c_str());
}

std::size_t Context::free_bytes() const {
  std::size_t free = 0, total = 0;
  CHECK(cudaMemGetInfo(&free, &total));
  return free;
}

namespace {
// Seconds between `start` recorded before `work` and `stop` after it, waiting for `stop`.
double between_events(const Event& start, const Event& stop, const std::function<void()>& work) {
  CHECK(cudaEventRecord(start.get()));
  work();
  CHECK(cudaEventRecord(stop.get()));
  CHECK(cudaEventSynchronize(stop.get()));
  float ms = 0;
  CHECK(cudaEventElapsedTime(&ms, start.get(), stop.get()));
  return 1e-3 * ms;
}
}  // namespace

Stats time_launches(const Context& ctx, const std::function<void()>& launch, int batch, int reps) {
  if (reps <= 0) reps = ctx.reps;
  batch = std::max(batch, 1);
  for (int i = 0; i < ctx.warmup; ++i)
    launch();
  CHECK(cudaDeviceSynchronize());
  Event start, stop;
  std::vector<double> samples;
  for (int r = 0; r < reps; ++r)
    samples.push_back(between_events(start, stop, [&] {
                        for (int b = 0; b < batch; ++b)
                          launch();
                      }) /
                      batch);
  CHECK(cudaGetLastError());
  return summarize(samples);
}

TimedCycles time_with_cycles(int reps, const long long* cycles, const std::function<void()>& launch) {
  Event start, stop;
  TimedCycles out;
  for (int r = 0; r < reps; ++r) {
    out.seconds.push_back(between_events(start, stop, launch));
    long long c = 0;
    CHECK(cudaMemcpy(&c, cycles, sizeof c, cudaMemcpyDeviceToHost));
    out.cycles.push_back(static_cast<double>(c));
  }
  return out;
}

double time_once(const std::function<void()>& launch) {
  launch();  // untimed: first-call costs (module loading, page mapping) stay out of the figure
  CHECK(cudaDeviceSynchronize());
  Event start, stop;
  return between_events(start, stop, launch);
}

int pick_batch(const std::function<void()>& launch, double target_s, int max_batch) {
  const double t = time_once(launch);
  if (t <= 0) return max_batch;
  const double b = std::ceil(target_s / t);
  return static_cast<int>(std::clamp(b, 1.0, static_cast<double>(max_batch)));
}

Stats time_auto(const Context& ctx, const std::function<void()>& launch, double target_s) {
  return time_launches(ctx, launch, pick_batch(launch, target_s));
}

long long calibrate_work(const std::function<void(long long)>& launch, long long start, double target_s) {
  long long work = std::max(start, 1LL);
  for (int i = 0; i < 12; ++i) {
    const double t = time_once([&] { launch(work); });
    // Scale only from times well above the launch overhead; grow geometrically until then.
    if (t >= 0.25 * target_s) return std::max(1LL, std::llround(std::min(1e15, work * target_s / t)));
    const double grow = t > 0 ? std::clamp(target_s / t, 2.0, 64.0) : 64.0;
    work = std::llround(std::min(1e15, work * grow));
  }
  return work;
}

std::vector<std::size_t> geometric_sizes(std::size_t lo, std::size_t hi, int count, std::size_t align) {
  std::vector<std::size_t> out;
  if (hi < lo) hi = lo;
  for (int i = 0; i < count; ++i) {
    const double f = count > 1 ? static_cast<double>(i) / (count - 1) : 0.0;
    const double x = lo * std::pow(static_cast<double>(hi) / lo, f);
    std::size_t s = static_cast<std::size_t>(x) / align * align;
    if (s < align) s = align;
    if (out.empty() || s != out.back()) out.push_back(s);
  }
  return out;
}

std::string si(double value, const std::string& unit) {
  char buf[64];
  if (unit == "cycles") {
    std::snprintf(buf, sizeof buf, "%.1f cycles", value);
    return buf;
  }
  static const char* up[] = {"", "k", "M", "G", "T", "P", "E"};
  static const char* down[] = {"", "m", "u", "n", "p"};
  int i = 0;
  double v = value;
  if (std::fabs(v) >= 1) {
    while (std::fabs(v) >= 1000 && i < 6)
      v /= 1000, ++i;
    std::snprintf(buf, sizeof buf, "%.3g %s%s", v, up[i], unit.c_str());
  } else {
    while (v != 0 && std::fabs(v) < 1 && i < 4)
      v *= 1000, ++i;
    std::snprintf(buf, sizeof buf, "%.3g %s%s", v, down[i], unit.c_str());
  }
  return buf;
}

std::string size_label(std::size_t bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int i = 0;
  while (v >= 1024 && i < 4)
    v /= 1024, ++i;
  char buf[32];
  if (v == std::floor(v))
    std::snprintf(buf, sizeof buf, "%.0f%s", v, units[i]);
  else
    std::snprintf(buf, sizeof buf, "%.3g%s", v, units[i]);
  return buf;
}

int blocks_per_sm(const void* kernel, int threads, std::size_t shared_bytes) {
  int n = 0;
  CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, kernel, threads, shared_bytes));
  return std::max(n, 1);
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::fp16:
      return "fp16";
    case DType::bf16:
      return "bf16";
    case DType::fp32:
      return "fp32";
  }
  return "?";
}

std::size_t dtype_bytes(DType t) {
  return t == DType::fp32 ? 4 : 2;
}

}  // namespace calib
