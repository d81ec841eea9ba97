// Least-squares fits of the roofline's efficiency parameters and the kernel model's latencies from raw
// measurements; the calibrated model file; predicted against measured kernel times.
#include "calib/fit.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>

#include "core/diagnostics.hpp"
#include "core/units.hpp"
#include "core/yaml.hpp"
#include "cost/roofline.hpp"

namespace whatif::calib {

namespace {

using core::Dimension;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n == 0 ? 0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// y = a + b x by least squares, returned as {a, b}; `relative` minimises the relative errors instead of the
// absolute ones (for times that span decades with a constant relative noise, so that the intercept is not
// lost in the longest).
std::pair<double, double> line_fit(const std::vector<double>& x, const std::vector<double>& y,
                                   bool relative = false) {
  Eigen::MatrixXd A(static_cast<Eigen::Index>(x.size()), 2);
  Eigen::VectorXd b(static_cast<Eigen::Index>(y.size()));
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double w = relative && y[i] > 0 ? 1 / y[i] : 1;
    A(static_cast<Eigen::Index>(i), 0) = w;
    A(static_cast<Eigen::Index>(i), 1) = w * x[i];
    b(static_cast<Eigen::Index>(i)) = w * y[i];
  }
  Eigen::Vector2d c = A.colPivHouseholderQr().solve(b);
  return {c(0), c(1)};
}

double rms(const std::vector<double>& e) {
  double s = 0;
  for (double x : e)
    s += x * x;
  return e.empty() ? 0 : std::sqrt(s / static_cast<double>(e.size()));
}

// "Measured by whatif calibrate (TOOL) on DEVICE (driver D, runtime R, SM clock C), DATE, host H: WHAT"
std::string measured(const Provenance& p, const std::string& what) {
  return fmt::format(
      "Measured by whatif calibrate ({}) on {} (driver {}, runtime {}, SM clock {}), {}, host {}: {}", p.tool,
      p.device.name, p.device.driver, p.device.runtime,
      core::format_quantity(p.sm_clock_hz, Dimension::frequency), p.date, p.host, what);
}

// The GEMM efficiency model of cost/roofline.hpp, with a tile shape and the SM count.
struct GemmSample {
  double m, n, k, seconds, peak;
};
double tile_wave(const GemmSample& g, double tm, double tn, double sms) {
  const double tiles_m = std::ceil(g.m / tm), tiles_n = std::ceil(g.n / tn);
  const double tile = g.m * g.n / (tiles_m * tm * tiles_n * tn);
  const double tiles = tiles_m * tiles_n;
  const double wave = tiles / (std::ceil(tiles / sms) * sms);
  return tile * wave;
}

void fit_gemm(const Measurements& m, const platform::GpuModel& base, Fit& fit, double overhead) {
  std::vector<GemmSample> samples;
  for (const auto* r : m.select("gemm")) {
    if (r->name != "fp16" && r->name != "bf16") continue;  // the tensor-core GEMMs the training model prices
    const std::string peak_key = r->name + "_tensor";
    const auto measured_peak = fit.peaks.find(peak_key);
    const std::optional<platform::Sourced>& listed = r->name == "fp16" ? base.fp16_tensor : base.bf16_tensor;
    const double peak = measured_peak != fit.peaks.end() ? measured_peak->second.value
                        : listed                         ? listed->value
                                                         : 0;
    if (peak <= 0) continue;
    samples.push_back({r->param("m"), r->param("n"), r->param("k"), r->time.median, peak});
  }
  fit.gemm_points = samples.size();
  if (samples.size() < 3) {
    fit.notes.push_back(fmt::format("GEMM efficiency not fitted: {} fp16/bf16 GEMM shapes measured (needs 3)",
                                    samples.size()));
    return;
  }
  // Per tile shape: 1/efficiency' = 1/plateau + k_overhead / K is linear in 1/K, where efficiency' is the
  // measured efficiency with the tile and wave factors taken out. The shape with the smallest error wins.
  const double sms = base.sm_count.value;
  std::vector<std::pair<double, double>> tiles = {
      {base.efficiency.gemm_tile_m.value, base.efficiency.gemm_tile_n.value},
      {128, 256},
      {256, 128},
      {128, 128},
      {64, 128},
      {128, 64},
      {256, 256}};
  double best = INFINITY, best_a = 0, best_b = 0, best_tm = 0, best_tn = 0;
  for (auto [tm, tn] : tiles) {
    std::vector<double> x, y;
    for (const auto& g : samples) {
      const double compute = g.seconds - overhead;
      if (compute <= 0) continue;
      x.push_back(1 / g.k);
      y.push_back(g.peak * tile_wave(g, tm, tn, sms) * compute / (2 * g.m * g.n * g.k));
    }
    if (x.size() < 3) continue;
    auto [a, b] = line_fit(x, y);
    a = std::max(a, 1.0);  // plateau <= 1
    b = std::max(b, 0.0);
    std::vector<double> errors;
    for (const auto& g : samples) {
      const double eff = tile_wave(g, tm, tn, sms) / (a + b / g.k);
      errors.push_back((2 * g.m * g.n * g.k / (g.peak * eff) + overhead) / g.seconds - 1);
    }
    const double e = rms(errors);
    if (e < best) std::tie(best, best_a, best_b, best_tm, best_tn) = std::tie(e, a, b, tm, tn);
  }
  if (!std::isfinite(best)) {
    fit.notes.push_back("GEMM efficiency not fitted: every GEMM was faster than the kernel overhead");
    return;
  }
  fit.gemm_rms_error = best;
  const std::string how = fmt::format(
      "least-squares fit of 1/efficiency = 1/plateau + k_overhead/K over {} cuBLAS fp16/bf16 GEMM shapes "
      "(efficiency measured against the tensor-core peak, tile {}x{} and wave quantization taken out; tile "
      "shape chosen among {} by the smallest error), RMS error of the fitted times {:.1f} %",
      samples.size(), best_tm, best_tn, tiles.size(), 100 * best);
  fit.gemm_plateau = Fitted{1 / best_a, measured(m.from, how)};
  fit.gemm_k_overhead = Fitted{std::round(best_b), measured(m.from, how)};
  fit.gemm_tile_m = Fitted{best_tm, measured(m.from, how)};
  fit.gemm_tile_n = Fitted{best_tn, measured(m.from, how)};
}

void fit_memory(const Measurements& m, const platform::GpuModel& base, Fit& fit) {
  // Streaming kernels on arrays well beyond the L2: time = t0 + bytes / bandwidth.
  std::vector<double> bytes, seconds;
  const double l2 = m.from.device.l2_bytes;
  for (const auto* r : m.select("bandwidth"))
    if (r->name.rfind("dram_", 0) == 0 && r->param("array_bytes") >= 4 * l2) {
      bytes.push_back(r->param("bytes"));
      seconds.push_back(r->time.median);
    }
  fit.dram_points = bytes.size();
  if (bytes.size() < 2) {
    fit.notes.push_back(
        fmt::format("memory efficiency not fitted: {} DRAM streaming sizes at least 4x the L2 "
                    "(needs 2)",
                    bytes.size()));
    return;
  }
  auto [t0, per_byte] = line_fit(bytes, seconds, true);
  if (per_byte <= 0) {
    fit.notes.push_back("memory efficiency not fitted: the streaming times do not grow with the bytes moved");
    return;
  }
  fit.dram_bandwidth = 1 / per_byte;
  fit.dram_intercept = t0;
  std::vector<double> errors;
  for (std::size_t i = 0; i < bytes.size(); ++i)
    errors.push_back((t0 + bytes[i] * per_byte) / seconds[i] - 1);
  fit.dram_rms_error = rms(errors);
  double efficiency = fit.dram_bandwidth / base.memory_bandwidth.value;
  std::string how = fmt::format(
      "least-squares fit (of relative errors) of time = t0 + bytes / bandwidth over {} copy/scale/triad "
      "runs on arrays of at least 4x the L2: {} (t0 {}), RMS error {:.1f} %, over the datasheet's {}",
      bytes.size(), core::format_quantity(fit.dram_bandwidth, Dimension::bandwidth),
      core::format_quantity(t0, Dimension::time), 100 * fit.dram_rms_error,
      core::format_quantity(base.memory_bandwidth.value, Dimension::bandwidth));
  if (efficiency > 1) {
    fit.notes.push_back(
        fmt::format("measured DRAM bandwidth {} exceeds the datasheet's {}: efficiency set to 1",
                    core::format_quantity(fit.dram_bandwidth, Dimension::bandwidth),
                    core::format_quantity(base.memory_bandwidth.value, Dimension::bandwidth)));
    efficiency = 1;
  }
  fit.memory_efficiency = Fitted{efficiency, measured(m.from, how)};
}

void fit_latencies(const Measurements& m, Fit& fit) {
  struct Point {
    double bytes, cycles;
  };
  std::vector<Point> chase;
  // Only random cycles: the prefetchers hide most of a sequential chase's latency.
  for (const auto* r : m.select("latency", "global"))
    if (r->params.value("pattern", "random") == "random")
      chase.push_back({r->param("working_set_bytes"), r->value});
  std::sort(chase.begin(), chase.end(), [](const Point& a, const Point& b) { return a.bytes < b.bytes; });
  const double l2 = m.from.device.l2_bytes;
  auto window = [&](double lo, double hi) {
    std::vector<double> v;
    for (const auto& p : chase)
      if (p.bytes >= lo && p.bytes <= hi) v.push_back(p.cycles);
    return v;
  };
  auto set = [&](const char* key, std::vector<double> v, const std::string& what) {
    if (v.empty()) {
      fit.notes.push_back(
          fmt::format("latency '{}' not measured: no pointer chase in its working-set range", key));
      return;
    }
    fit.latency[key] =
        Fitted{std::round(median(v)), measured(m.from, fmt::format("{}: median of {} pointer-chase "
                                                                   "working sets, cycles per load",
                                                                   what, v.size()))};
  };
  // Working sets that surely fit each level on every GPU the catalog knows: L1 holds 16 KiB, L2 holds a
  // quarter of itself beyond the largest L1 (256 KiB); DRAM from 4x the L2.
  set("l1", window(0, 16 * 1024), "working sets up to 16 KiB (L1 hits)");
  set("l2", window(512 * 1024, l2 / 4), "working sets from 512 KiB to a quarter of the L2 (L2 hits)");
  set("dram", window(4 * l2, INFINITY), "working sets of at least 4x the L2 (DRAM)");
  std::vector<double> shared;
  for (const auto* r : m.select("latency", "shared"))
    shared.push_back(r->value);
  set("shared", shared, "shared-memory chase");
  // Where the curve leaves each plateau: the cache sizes it shows.
  auto edge = [&](const char* level, double plateau) {
    double last = 0;
    for (const auto& p : chase)
      if (p.cycles <= 1.3 * plateau) last = p.bytes;
    if (last > 0)
      fit.notes.push_back(
          fmt::format("the latency curve stays within 30 % of the {} latency up to a working set of "
                      "{}",
                      level, core::format_quantity(last, Dimension::size)));
  };
  if (fit.latency.count("l1")) edge("L1", fit.latency["l1"].value);
  if (fit.latency.count("l2")) edge("L2", fit.latency["l2"].value);
}

}  // namespace

Fit fit_measurements(const Measurements& m, const platform::GpuModel& base) {
  Fit fit;
  if (m.from.device.sm_count != static_cast<int>(base.sm_count.value))
    throw core::InputError(
        core::Location{m.from.file, 0, 0},
        fmt::format("measured on {} with {} SMs, but base model '{}' has {} SMs: pick the base "
                    "model of the measured GPU",
                    m.from.device.name, m.from.device.sm_count, base.name, base.sm_count.value));
  // The clock kernels run at: under full load where measured (power limits may hold it below an idle spin's).
  if (m.from.loaded_sm_clock_hz > 0)
    fit.sm_clock = Fitted{
        m.from.loaded_sm_clock_hz,
        measured(m.from, fmt::format("clock64() cycles over a kernel timed with CUDA events, every SM busy "
                                     "with FP32 work (an idle spin ran at {})",
                                     core::format_quantity(m.from.sm_clock_hz, Dimension::frequency)))};
  else
    fit.sm_clock =
        Fitted{m.from.sm_clock_hz, measured(m.from, "clock64() cycles over a kernel timed with CUDA events")};

  // Peaks: the independent-stream throughput of each precision.
  static const std::set<std::string> peak_keys = {"fp64",        "fp32",        "fp16",       "fp16_tensor",
                                                  "bf16_tensor", "int8_tensor", "fp64_tensor"};
  for (const auto* r : m.select("peak")) {
    if (r->params.value("stream", "") != "independent" || !peak_keys.count(r->name)) continue;
    fit.peaks[r->name] = Fitted{
        r->value,
        measured(m.from,
                 fmt::format("'{}' throughput, independent instruction streams on every SM, median "
                             "of {} timed repetitions (spread {:.1f} %)",
                             r->name, r->time.reps, 100 * (r->time.max - r->time.min) / r->time.median))};
  }
  // From Hopper on, the int8 tensor-core peak needs wgmma, which the microbenchmark's mma does not use (and
  // no int8 GEMM shows what it reaches): the base model's peak stays.
  if (const auto int8 = fit.peaks.find("int8_tensor");
      int8 != fit.peaks.end() && std::atof(m.from.device.compute_capability.c_str()) >= 9.0) {
    fit.notes.push_back(fmt::format(
        "int8_tensor peak not replaced: mma reached {} on compute capability {}, "
        "where only wgmma reaches the peak",
        core::format_quantity(int8->second.value, Dimension::flop_rate), m.from.device.compute_capability));
    fit.peaks.erase(int8);
  }
  // A tensor-core peak measured below what cuBLAS reaches is not the peak (on Hopper, only the wgmma
  // instructions cuBLAS uses reach it, not the mma of the microbenchmark): the base model's peak stays.
  for (const char* dtype : {"fp16", "bf16"}) {
    const auto peak = fit.peaks.find(std::string(dtype) + "_tensor");
    if (peak == fit.peaks.end()) continue;
    double best = 0;
    for (const auto* r : m.select("gemm", dtype))
      best = std::max(best, r->value);
    if (best <= peak->second.value) continue;
    fit.notes.push_back(fmt::format(
        "{}_tensor peak not replaced: the mma microbenchmark reached {}, cuBLAS GEMMs {} (the tensor-core "
        "instructions cuBLAS uses are faster than mma on this GPU)",
        dtype, core::format_quantity(peak->second.value, Dimension::flop_rate),
        core::format_quantity(best, Dimension::flop_rate)));
    fit.peaks.erase(peak);
  }
  fit_memory(m, base, fit);
  // A kernel's fixed time in a stream: the streaming fit's intercept (launch, ramp-up and drain), never
  // below the rate at which empty kernels launch back to back.
  double launch_s = 0;
  if (auto launch = m.select("launch", "empty_async"); !launch.empty()) {
    launch_s = launch.front()->value;
    fit.notes.push_back(fmt::format("empty kernels launch back to back every {}",
                                    core::format_quantity(launch_s, Dimension::time)));
  }
  if (fit.dram_points >= 2 && fit.dram_intercept > launch_s)
    fit.kernel_overhead = Fitted{
        fit.dram_intercept,
        measured(m.from, fmt::format("intercept t0 of the DRAM streaming fit (time = t0 + bytes / "
                                     "bandwidth over {} runs): a kernel's time beyond its bytes; "
                                     "empty kernels launch every {}",
                                     fit.dram_points, core::format_quantity(launch_s, Dimension::time)))};
  else if (launch_s > 0)
    fit.kernel_overhead =
        Fitted{launch_s, measured(m.from, "back-to-back launches of an empty kernel, time per launch")};
  const double overhead =
      fit.kernel_overhead ? fit.kernel_overhead->value : base.efficiency.kernel_overhead.value;
  fit_gemm(m, base, fit, overhead);
  fit_latencies(m, fit);
  for (const auto* r : m.select("instruction"))
    fit.instruction_latency[r->name] =
        Fitted{std::round(r->value),
               measured(m.from, fmt::format("dependent chain of {} on one warp, cycles per {}",
                                            r->params.value("opcode", r->name),
                                            r->params.value("per", std::string("instruction"))))};
  std::map<std::string, double> largest;  // host<->device copies: the bandwidth at the largest size
  for (const auto* r : m.select("transfer")) {
    const double bytes = r->param("bytes");
    if (bytes <= largest[r->name]) continue;
    largest[r->name] = bytes;
    fit.transfer[r->name] = Fitted{
        r->value,
        measured(m.from, fmt::format("{} of {}", r->name, core::format_quantity(bytes, Dimension::size)))};
  }
  return fit;
}

namespace {

YAML::Node sourced(const std::string& value, const std::string& source) {
  YAML::Node n;
  n["value"] = value;
  n["source"] = source;
  n.SetStyle(YAML::EmitterStyle::Flow);
  return n;
}

}  // namespace

std::string calibrated_model_yaml(const Measurements& m, const Fit& fit, const platform::GpuModel& base,
                                  const std::string& name) {
  core::Diagnostics diag;
  auto root = core::load_yaml_file(base.file, diag);
  diag.throw_if_errors();
  YAML::Node doc = YAML::Clone(*root);
  doc["name"] = name;
  for (const auto& [key, v] : fit.peaks)
    doc["peak"][key] = sourced(core::format_quantity(v.value, Dimension::flop_rate), v.source);
  YAML::Node eff = doc["efficiency"];
  if (fit.memory_efficiency)
    eff["memory"] =
        sourced(fmt::format("{:.4f}", fit.memory_efficiency->value), fit.memory_efficiency->source);
  if (fit.kernel_overhead)
    eff["kernel_overhead"] = sourced(core::format_quantity(fit.kernel_overhead->value, Dimension::time),
                                     fit.kernel_overhead->source);
  if (fit.gemm_plateau) {
    eff["gemm"]["plateau"] =
        sourced(fmt::format("{:.4f}", fit.gemm_plateau->value), fit.gemm_plateau->source);
    eff["gemm"]["tile_m"] = sourced(fmt::format("{}", fit.gemm_tile_m->value), fit.gemm_tile_m->source);
    eff["gemm"]["tile_n"] = sourced(fmt::format("{}", fit.gemm_tile_n->value), fit.gemm_tile_n->source);
    eff["gemm"]["k_overhead"] =
        sourced(fmt::format("{}", fit.gemm_k_overhead->value), fit.gemm_k_overhead->source);
  }
  if (doc["microarchitecture"].IsMap()) {
    YAML::Node ua = doc["microarchitecture"];
    if (fit.sm_clock)
      ua["clock"] =
          sourced(core::format_quantity(fit.sm_clock->value, Dimension::frequency), fit.sm_clock->source);
    for (const auto& [key, v] : fit.latency)
      ua["latency"][key] = sourced(fmt::format("{}", v.value), v.source);
    for (const auto& [key, v] : fit.instruction_latency)
      ua["instruction_latency"][key] = sourced(fmt::format("{}", v.value), v.source);
  }
  YAML::Node cal;
  cal["tool"] = m.from.tool;
  cal["device"] = m.from.device.name;
  if (!m.from.device.uuid.empty()) cal["uuid"] = m.from.device.uuid;
  cal["compute_capability"] = m.from.device.compute_capability;
  cal["driver"] = m.from.device.driver;
  cal["runtime"] = m.from.device.runtime;
  cal["sm_clock"] = core::format_quantity(m.from.sm_clock_hz, Dimension::frequency);
  cal["date"] = m.from.date;
  cal["host"] = m.from.host;
  cal["measurements"] = m.from.file;
  cal["base_model"] = base.name;
  if (fit.dram_points)
    cal["fit"]["dram"] = fmt::format("{} over {} sizes, RMS error {:.2f} %",
                                     core::format_quantity(fit.dram_bandwidth, Dimension::bandwidth),
                                     fit.dram_points, 100 * fit.dram_rms_error);
  if (fit.gemm_points && fit.gemm_plateau)
    cal["fit"]["gemm"] =
        fmt::format("{} shapes, RMS error {:.2f} %", fit.gemm_points, 100 * fit.gemm_rms_error);
  for (const auto& [key, v] : fit.transfer)
    cal["transfer"][key] = core::format_quantity(v.value, Dimension::bandwidth);
  for (const auto& note : fit.notes)
    cal["notes"].push_back(note);
  doc["calibration"] = cal;
  YAML::Emitter out;
  out << doc;
  return fmt::format("# Calibrated from {} by whatif calibrate fit (base model {}).\n{}\n", m.from.file,
                     base.name, out.c_str());
}

Validation validate_kernels(const KernelTimes& k, const platform::GpuModel& gpu) {
  const cost::RooflineModel roofline(gpu);
  Validation v;
  v.gpu = gpu.name;
  v.device = k.from.device.name;
  for (const auto& kt : k.kernels) {
    cost::OpWork w;
    const std::string dtype = kt.params.value("dtype", "fp16");
    try {
      w.precision = cost::parse_precision(dtype);
    } catch (const core::InputError&) {
      throw core::InputError(
          fmt::format("{}: params.dtype: '{}' (expected fp16, bf16 or fp32)", kt.where, dtype));
    }
    ValidationRow row;
    row.name = kt.name;
    row.kind = kt.kind;
    if (kt.kind == "gemm") {
      const double m = kt.param("m"), n = kt.param("n"), kk = kt.param("k");
      w.op_class = cost::OpClass::gemm;
      w.flops = 2 * m * n * kk;
      w.bytes = (m * kk + kk * n + m * n) * cost::bytes_per_element(w.precision);
      w.shape = {static_cast<std::int64_t>(m), static_cast<std::int64_t>(n), static_cast<std::int64_t>(kk),
                 1};
      row.detail = fmt::format("{} {}x{}x{}", dtype, m, n, kk);
    } else {
      w.op_class = cost::OpClass::elementwise;
      w.bytes = kt.param("bytes");
      w.flops = kt.param("elements");
      row.detail = fmt::format("{} {} {}", dtype, kt.params.value("op", kt.kind),
                               core::format_quantity(w.bytes, Dimension::size));
    }
    row.measured = kt.time.median;
    row.predicted = roofline.duration(w);
    row.error = row.predicted / row.measured - 1;
    double& worst = kt.kind == "gemm" ? v.worst_gemm : v.worst_memory;
    worst = std::max(worst, std::fabs(row.error));
    v.rows.push_back(row);
  }
  return v;
}

std::string render_validation(const Validation& v) {
  std::ostringstream out;
  out << fmt::format("model {} against kernels measured on {}\n", v.gpu, v.device);
  out << fmt::format("{:<34} {:<12} {:<28} {:>12} {:>12} {:>8}\n", "kernel", "kind", "shape", "measured",
                     "predicted", "error");
  for (const auto& r : v.rows)
    out << fmt::format("{:<34} {:<12} {:<28} {:>12} {:>12} {:>+7.1f}%\n", r.name, r.kind, r.detail,
                       core::format_quantity(r.measured, Dimension::time),
                       core::format_quantity(r.predicted, Dimension::time), 100 * r.error);
  out << fmt::format("largest error: GEMMs {:.1f} %, memory-bound kernels {:.1f} %\n", 100 * v.worst_gemm,
                     100 * v.worst_memory);
  return out.str();
}

nlohmann::json validation_json(const Validation& v) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : v.rows)
    rows.push_back({{"name", r.name},
                    {"kind", r.kind},
                    {"shape", r.detail},
                    {"measured_s", r.measured},
                    {"predicted_s", r.predicted},
                    {"error", r.error}});
  return {{"gpu", v.gpu},
          {"device", v.device},
          {"kernels", rows},
          {"worst_gemm_error", v.worst_gemm},
          {"worst_memory_error", v.worst_memory}};
}

}  // namespace whatif::calib
