// Loading of the hardware catalogs in models/, strict about fields and sources.
#include "platform/catalog.hpp"

#include <fmt/format.h>
#include <unistd.h>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <mutex>

namespace whatif::platform {

namespace fs = std::filesystem;
using core::Dimension;
using core::MapReader;
using core::Scope;

const std::vector<std::string> kLinkKinds = {"nvlink", "pcie",  "infiniband",       "ethernet",
                                             "aries",  "local", "cpu-interconnect", "wan"};

double GpuModel::half_precision_peak() const {
  double best = fp32.value;
  for (const auto* p : {&fp16, &fp16_tensor, &bf16_tensor})
    if (*p) best = std::max(best, (*p)->value);
  return best;
}

namespace {

std::optional<GpuModel> read_gpu(const YAML::Node& root, Scope scope) {
  MapReader r(root, scope);
  if (!r.valid()) return std::nullopt;
  GpuModel g;
  bool ok = r.format("whatif-gpu/1");
  auto name = r.string("name", true);
  auto vendor = r.string("vendor", true);
  auto arch = r.choice("architecture", {"Pascal", "Volta", "Turing", "Ampere", "Hopper", "Blackwell"}, true);
  auto cc = r.string("compute_capability", true);
  auto sms = r.sourced_integer("sm_count", 1, 100000, true);
  bool fields_ok = name && vendor && arch && cc && sms;
  auto read_group = [&](const char* key, auto&& body) {
    YAML::Node n = r.node(key);
    if (!n.IsDefined()) {
      r.error(key, "missing required field");
      fields_ok = false;
      return;
    }
    MapReader sub(n, scope);
    if (!sub.valid()) {
      fields_ok = false;
      return;
    }
    body(sub);
    sub.finish();
  };
  auto need = [&](std::optional<Sourced> v, Sourced& out) {
    if (v)
      out = *v;
    else
      fields_ok = false;
  };
  read_group("clocks", [&](MapReader& s) {
    need(s.sourced("base", Dimension::frequency, true), g.base_clock);
    need(s.sourced("boost", Dimension::frequency, true), g.boost_clock);
  });
  read_group("memory", [&](MapReader& s) {
    auto type = s.string("type", true);
    if (type) g.memory_type = *type;
    need(s.sourced("size", Dimension::size, true), g.memory_size);
    need(s.sourced("bandwidth", Dimension::bandwidth, true), g.memory_bandwidth);
  });
  read_group("cache", [&](MapReader& s) {
    need(s.sourced("l1_per_sm", Dimension::size, true), g.l1_per_sm);
    need(s.sourced("shared_per_sm", Dimension::size, true), g.shared_per_sm);
    need(s.sourced("l2", Dimension::size, true), g.l2);
  });
  read_group("peak", [&](MapReader& s) {
    need(s.sourced("fp64", Dimension::flop_rate, true), g.fp64);
    need(s.sourced("fp32", Dimension::flop_rate, true), g.fp32);
    g.fp64_tensor = s.sourced("fp64_tensor", Dimension::flop_rate);
    g.fp16 = s.sourced("fp16", Dimension::flop_rate);
    g.fp16_tensor = s.sourced("fp16_tensor", Dimension::flop_rate);
    g.bf16_tensor = s.sourced("bf16_tensor", Dimension::flop_rate);
    g.int8_tensor = s.sourced("int8_tensor", Dimension::flop_rate);
    if (!s.has("fp16") && !s.has("fp16_tensor")) {
      s.error_here("needs 'fp16' or 'fp16_tensor'");
      fields_ok = false;
    }
  });
  need(r.sourced("tdp", Dimension::power, true), g.tdp);
  r.node("microarchitecture");  // read by gpu::load_gpu_hardware (src/gpu/hardware.cpp)
  // Optional provenance of a calibrated model (device, driver, clock, date, fit quality), written by
  // `whatif calibrate fit` (src/calib/fit.cpp); every calibrated value also names it in its own source.
  if (YAML::Node cal = r.node("calibration"); cal.IsDefined() && !cal.IsMap())
    r.error("calibration", "expected a mapping");
  read_group("efficiency", [&](MapReader& s) {
    // An achieved fraction of a peak: sourced() already rejects zero and negative values.
    auto fraction = [&](MapReader& m, const char* key, Sourced& out) {
      auto v = m.sourced(key, Dimension::ratio, true);
      if (v && v->value > 1.0) {
        m.error(key, fmt::format("must be a fraction of the peak in (0, 1], got {}", v->value));
        v.reset();
      }
      need(v, out);
    };
    auto count = [&](MapReader& m, const char* key, long long min, long long max, Sourced& out) {
      auto v = m.sourced_integer(key, min, max, true);
      if (v && v->source.empty()) {
        m.error(key, "'source' must not be empty");
        v.reset();
      }
      need(v, out);
    };
    YAML::Node gemm = s.node("gemm");
    if (!gemm.IsDefined()) {
      s.error("gemm", "missing required field");
      fields_ok = false;
    } else {
      MapReader m(gemm, scope);
      if (m.valid()) {
        fraction(m, "plateau", g.efficiency.gemm_plateau);
        count(m, "tile_m", 1, 4096, g.efficiency.gemm_tile_m);
        count(m, "tile_n", 1, 4096, g.efficiency.gemm_tile_n);
        count(m, "k_overhead", 0, 1000000, g.efficiency.gemm_k_overhead);
        m.finish();
      } else {
        fields_ok = false;
      }
    }
    fraction(s, "memory", g.efficiency.memory);
    need(s.sourced("kernel_overhead", Dimension::time, true), g.efficiency.kernel_overhead);
  });
  r.finish();
  if (!ok || !fields_ok) return std::nullopt;
  g.name = *name;
  g.vendor = *vendor;
  g.architecture = *arch;
  g.compute_capability = *cc;
  g.sm_count = *sms;
  g.file = scope.file;
  return g;
}

std::optional<CpuModel> read_cpu(const YAML::Node& root, Scope scope) {
  MapReader r(root, scope);
  if (!r.valid()) return std::nullopt;
  CpuModel c;
  bool ok = r.format("whatif-cpu/1");
  auto name = r.string("name", true);
  auto vendor = r.string("vendor", true);
  auto cores = r.sourced_integer("cores", 1, 100000, true);
  auto clock = r.sourced("clock", Dimension::frequency, true);
  auto peak = r.sourced("peak_fp64", Dimension::flop_rate, true);
  auto mem = r.sourced("memory_bandwidth", Dimension::bandwidth, true);
  r.finish();
  if (!ok || !name || !vendor || !cores || !clock || !peak || !mem) return std::nullopt;
  c.name = *name;
  c.vendor = *vendor;
  c.cores = *cores;
  c.clock = *clock;
  c.peak_fp64 = *peak;
  c.memory_bandwidth = *mem;
  c.file = scope.file;
  return c;
}

template <typename Model, typename Reader>
void load_folder(const fs::path& folder, const char* entity, Reader read, std::map<std::string, Model>& out,
                 core::Diagnostics& diag) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) {
    diag.error({folder.string(), 0, 0}, "", "", "", "catalog folder not found");
    return;
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(folder, ec))
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    auto root = core::load_yaml_file(file.string(), diag);
    if (!root) continue;
    Scope scope{file.string(), entity, file.stem().string(), &diag, nullptr};
    auto model = read(*root, scope);
    if (!model) continue;
    if (out.count(model->name)) {
      diag.error({file.string(), 0, 0}, entity, model->name, "name",
                 fmt::format("defined twice (also in {})", out[model->name].file));
      continue;
    }
    out.emplace(model->name, std::move(*model));
  }
}

template <typename Map>
std::vector<std::string> keys(const Map& m) {
  std::vector<std::string> out;
  for (const auto& [k, v] : m)
    out.push_back(k);
  return out;
}

}  // namespace

std::optional<LinkModel> read_link_fields(MapReader& r, bool require_sources) {
  LinkModel l;
  auto name = r.string("name", true);
  auto kind = r.choice("kind", kLinkKinds, true);
  std::optional<core::Sourced> bw, lat;
  if (require_sources) {
    bw = r.sourced("bandwidth", Dimension::bandwidth, true);
    lat = r.sourced("latency", Dimension::time, true);
  } else {
    auto b = r.quantity("bandwidth", Dimension::bandwidth, core::Sign::positive, true);
    auto t = r.quantity("latency", Dimension::time, core::Sign::non_negative, true);
    auto source = r.string("source");
    std::string why = source ? *source : "defined in the platform file";
    if (b) bw = core::Sourced{*b, why};
    if (t) lat = core::Sourced{*t, why};
  }
  if (!name || !kind || !bw || !lat) return std::nullopt;
  l.name = *name;
  l.kind = *kind;
  l.bandwidth = *bw;
  l.latency = *lat;
  l.file = r.scope().file;
  return l;
}

namespace {

// What the catalog's files hold now: every YAML file of the three folders, named with a hash of its text
// (reading ~35 small files costs a fraction of parsing them).
std::string catalog_signature(const fs::path& root) {
  std::vector<std::string> entries;
  for (const char* sub : {"gpus", "links", "cpus"}) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(root / sub, ec)) {
      if (entry.path().extension() != ".yaml") continue;
      core::Diagnostics ignored;
      const auto text = core::read_text_file(entry.path().string(), ignored);
      entries.push_back(fmt::format("{}|{}", entry.path().string(),
                                    text ? std::hash<std::string>{}(*text) : std::size_t{0}));
    }
  }
  std::sort(entries.begin(), entries.end());
  return fmt::format("{}", fmt::join(entries, "\n"));
}

}  // namespace

Catalog Catalog::load(const std::string& dir, core::Diagnostics& diag) {
  // Loaded catalogs stay for the process, checked against their files' contents: a sweep's points,
  // forked from a process that already loaded it, and commands that load it twice skip parsing ~35 files.
  struct Loaded {
    std::string signature;
    Catalog catalog;
    std::vector<core::Diagnostic> diagnostics;
  };
  static std::map<std::string, Loaded> loaded;
  static std::mutex mutex;
  const std::lock_guard<std::mutex> lock(mutex);
  const std::string signature = catalog_signature(dir);
  if (auto it = loaded.find(dir); it != loaded.end() && it->second.signature == signature) {
    for (const auto& d : it->second.diagnostics)
      diag.add(d);
    return it->second.catalog;
  }
  core::Diagnostics own;
  Catalog c = read(dir, own);
  for (const auto& d : own.items())
    diag.add(d);
  loaded[dir] = Loaded{signature, c, own.items()};
  return c;
}

Catalog Catalog::read(const std::string& dir, core::Diagnostics& diag) {
  Catalog c;
  c.dir_ = dir;
  fs::path root(dir);
  load_folder<GpuModel>(root / "gpus", "gpu model", read_gpu, c.gpus_, diag);
  load_folder<LinkModel>(
      root / "links", "link model",
      [](const YAML::Node& n, Scope s) -> std::optional<LinkModel> {
        MapReader r(n, s);
        if (!r.valid()) return std::nullopt;
        bool ok = r.format("whatif-link/1");
        auto l = read_link_fields(r, true);
        r.finish();
        if (!ok) return std::nullopt;
        return l;
      },
      c.links_, diag);
  load_folder<CpuModel>(root / "cpus", "cpu model", read_cpu, c.cpus_, diag);
  return c;
}

const GpuModel* Catalog::gpu(const std::string& name) const {
  auto it = gpus_.find(name);
  return it == gpus_.end() ? nullptr : &it->second;
}
const LinkModel* Catalog::link(const std::string& name) const {
  auto it = links_.find(name);
  return it == links_.end() ? nullptr : &it->second;
}
const CpuModel* Catalog::cpu(const std::string& name) const {
  auto it = cpus_.find(name);
  return it == cpus_.end() ? nullptr : &it->second;
}
std::vector<std::string> Catalog::gpu_names() const {
  return keys(gpus_);
}
std::vector<std::string> Catalog::link_names() const {
  return keys(links_);
}
std::vector<std::string> Catalog::cpu_names() const {
  return keys(cpus_);
}

GpuModel load_gpu_model_file(const std::string& path) {
  core::Diagnostics diag;
  auto root = core::load_yaml_file(path, diag);
  std::optional<GpuModel> model;
  if (root) model = read_gpu(*root, Scope{path, "gpu model", fs::path(path).stem().string(), &diag, nullptr});
  diag.throw_if_errors();
  if (!model) throw core::InputError(core::Location{path, 0, 0}, "not a GPU model (format whatif-gpu/1)");
  return *model;
}

std::string find_models_dir(const std::string& input_file) {
  if (const char* env = std::getenv("WHATIF_MODELS"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  auto is_catalog = [&ec](const fs::path& p) { return fs::is_directory(p / "gpus", ec); };
  fs::path dir = fs::absolute(fs::path(input_file), ec).parent_path();
  for (int depth = 0; depth < 32 && !dir.empty(); ++depth) {
    if (is_catalog(dir / "models")) return (dir / "models").string();
    if (dir == dir.parent_path()) break;
    dir = dir.parent_path();
  }
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) {
    exe[n] = '\0';
    fs::path bin = fs::path(exe).parent_path();
    for (const fs::path& candidate :
         {bin.parent_path() / "models", bin.parent_path() / "share" / "whatif" / "models", bin / "models"})
      if (is_catalog(candidate)) return candidate.string();
  }
  return "models";
}

}  // namespace whatif::platform
