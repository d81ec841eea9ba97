// Loads a catalog GPU's micro-architecture (its `microarchitecture:` section) and its ISA table, strictly.
#include "gpu/hardware.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <optional>
#include <vector>

#include "core/diagnostics.hpp"
#include "core/yaml.hpp"
#include "platform/catalog.hpp"

namespace whatif::gpu {

namespace fs = std::filesystem;
using core::Diagnostics;
using core::Dimension;
using core::InputError;
using core::MapReader;
using core::Scope;

namespace {

constexpr std::array<std::string_view, kUnits> kUnitNames = {"int_alu", "fp32", "fp64",   "sfu",
                                                             "tensor",  "ldst", "branch", "tex"};
constexpr std::array<std::string_view, 15> kKindNames = {
    "alu",         "global_load",  "global_store", "local_load",    "local_store",
    "shared_load", "shared_store", "shared_async", "constant_load", "texture",
    "atomic",      "barrier",      "memory_fence", "branch",        "exit"};

// Memory kinds take their latency from the GPU's memory hierarchy, not from an ISA class.
bool latency_from_hierarchy(OpKind k) {
  switch (k) {
    case OpKind::alu:
    case OpKind::barrier:
    case OpKind::memory_fence:
    case OpKind::branch:
    case OpKind::exit:
      return false;
    default:
      return true;
  }
}

template <size_t N>
std::vector<std::string> names(const std::array<std::string_view, N>& a) {
  return {a.begin(), a.end()};
}

template <size_t N>
int index_of(const std::array<std::string_view, N>& a, const std::string& s) {
  auto it = std::find(a.begin(), a.end(), s);
  return it == a.end() ? -1 : static_cast<int>(it - a.begin());
}

// `key: {value: true|false, source: ...}`
std::optional<bool> sourced_boolean(MapReader& r, std::string_view key) {
  YAML::Node n = r.node(key);
  if (!n.IsDefined() || n.IsNull()) {
    if (r.valid()) r.error(key, "missing required field ({value: true|false, source: ...})");
    return std::nullopt;
  }
  MapReader sub(n, r.scope());
  if (!sub.valid()) return std::nullopt;
  auto value = sub.boolean("value", true);
  auto source = sub.string("source", true);
  sub.finish();
  if (source && source->empty()) sub.error("source", "must not be empty");
  if (!value || !source || source->empty()) return std::nullopt;
  return value;
}

// Reads the fields of one section. Every field is read (so every problem is reported); `ok` turns false if
// any is missing or malformed.
struct Fields {
  MapReader& r;
  bool ok = true;

  long long count(std::string_view key, long long min, long long max = 100000000) {
    auto v = r.sourced_integer(key, min, max, true);
    if (v && v->source.empty()) {
      r.error(key, "'source' must not be empty");
      v.reset();
    }
    if (!v) {
      ok = false;
      return 0;
    }
    return static_cast<long long>(v->value);
  }
  double quantity(std::string_view key, Dimension dim) {
    auto v = r.sourced(key, dim, true);
    if (!v) {
      ok = false;
      return 0;
    }
    return v->value;
  }
  long bytes(std::string_view key) {
    double v = quantity(key, Dimension::size);
    if (v > 0 && v != std::floor(v)) {
      r.error(key, fmt::format("must be a whole number of bytes, got {}", v));
      ok = false;
      return 0;
    }
    return static_cast<long>(v);
  }
  bool flag(std::string_view key) {
    auto v = sourced_boolean(r, key);
    if (!v) ok = false;
    return v.value_or(false);
  }
  // Runs `body` on the sub-mapping `key` (required).
  template <typename Body>
  void section(std::string_view key, Body&& body) {
    YAML::Node n = r.node(key);
    if (!n.IsDefined() || n.IsNull()) {
      if (r.valid()) r.error(key, "missing required section");
      ok = false;
      return;
    }
    MapReader sub(n, r.scope());
    if (!sub.valid()) {
      ok = false;
      return;
    }
    Fields f{sub};
    body(f);
    sub.finish();
    ok = ok && f.ok;
  }
};

// A cache's capacity must hold a whole number of sets of `associativity` lines of `line` bytes.
void check_geometry(MapReader& r, long size, long line, long sector, int assoc, bool& ok) {
  if (size <= 0 || line <= 0 || assoc <= 0) return;
  if (sector > 0 && (sector > line || line % sector != 0)) {
    r.error("sector", fmt::format("{} B does not divide the {} B line", sector, line));
    ok = false;
  }
  if (size % (line * assoc) != 0) {
    r.error("associativity",
            fmt::format("{} B is not a whole number of {}-way sets of {} B lines", size, assoc, line));
    ok = false;
  }
}

// `class: {value: cycles, source: ...}` entries, as the ISA files and a GPU's own instruction_latency hold
// them.
void read_class_latencies(const YAML::Node& node, const Scope& scope,
                          std::map<std::string, int, std::less<>>& out) {
  MapReader c(node, scope);
  if (!c.valid()) return;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) continue;  // finish() reports it
    const std::string name = it->first.Scalar();
    auto v = c.sourced_integer(name, 1, 100000, true);
    if (v && v->source.empty()) c.error(name, "'source' must not be empty");
    if (v && !v->source.empty()) out[name] = static_cast<int>(v->value);
  }
  c.finish();
}

void read_microarchitecture(const YAML::Node& node, const Scope& scope, GpuHardware& hw,
                            std::vector<std::pair<Unit, core::Location>>& unit_locations) {
  MapReader top(node, scope);
  if (!top.valid()) return;
  Fields f{top};
  hw.clock_hz = f.quantity("clock", Dimension::frequency);
  f.section("units", [&](Fields& u) {
    for (int i = 0; i < kUnits; ++i) {
      hw.units[i] = static_cast<int>(u.count(kUnitNames[i], 0, 100000));
      unit_locations.emplace_back(static_cast<Unit>(i), u.r.location(kUnitNames[i]));
    }
  });
  hw.schedulers = static_cast<int>(f.count("warp_schedulers", 1, 64));
  hw.dispatch = static_cast<int>(f.count("dispatch_per_scheduler", 1, 8));
  f.section("l1", [&](Fields& c) {
    hw.l1_bytes = c.bytes("size");
    hw.l1_line = c.bytes("line");
    hw.l1_sector = c.bytes("sector");
    hw.l1_assoc = static_cast<int>(c.count("associativity", 1, 1 << 20));
    hw.l1_caches_global_loads = c.flag("caches_global_loads");
    if (c.ok) check_geometry(c.r, hw.l1_bytes, hw.l1_line, hw.l1_sector, hw.l1_assoc, c.ok);
  });
  f.section("l2", [&](Fields& c) {
    hw.l2_bytes = c.bytes("size");
    hw.l2_line = c.bytes("line");
    hw.l2_assoc = static_cast<int>(c.count("associativity", 1, 1 << 20));
    hw.l2_partitions = static_cast<int>(c.count("partitions", 1, 100000));
    if (c.ok) check_geometry(c.r, hw.l2_bytes, hw.l2_line, 0, hw.l2_assoc, c.ok);
  });
  hw.dram_channels = static_cast<int>(f.count("dram_channels", 1, 100000));
  hw.noc_bandwidth = f.quantity("noc_bandwidth", Dimension::bandwidth);
  f.section("latency", [&](Fields& l) {
    auto cycles = [&](const char* key) { return static_cast<int>(l.count(key, 1, 10000000)); };
    hw.latency.dram = cycles("dram");
    hw.latency.l1 = cycles("l1");
    hw.latency.l2 = cycles("l2");
    hw.latency.shared = cycles("shared");
    hw.latency.constant = cycles("constant");
    hw.latency.local = cycles("local");
    hw.latency.texture = cycles("texture");
    hw.latency.atomic = cycles("atomic");
    hw.latency.block_launch = cycles("block_launch");
  });
  if (YAML::Node il = top.node("instruction_latency"); il.IsDefined() && !il.IsNull())
    read_class_latencies(il, scope, hw.class_latency);
  f.section("limits", [&](Fields& l) {
    ComputeLimits& c = hw.limits;
    c.warp_size = static_cast<int>(l.count("warp_size", 1, 1024));
    c.max_threads_block = static_cast<int>(l.count("max_threads_block", 1, 1 << 20));
    c.max_threads_sm = static_cast<int>(l.count("max_threads_sm", 1, 1 << 20));
    c.max_blocks_sm = static_cast<int>(l.count("max_blocks_sm", 1, 1 << 20));
    c.max_warps_sm = static_cast<int>(l.count("max_warps_sm", 1, 1 << 20));
    c.registers_sm = static_cast<int>(l.count("registers_sm", 1, 1 << 30));
    c.max_registers_block = static_cast<int>(l.count("max_registers_block", 1, 1 << 30));
    c.max_registers_thread = static_cast<int>(l.count("max_registers_thread", 1, 1 << 20));
    c.register_unit = static_cast<int>(l.count("register_unit", 1, 1 << 20));
    c.shared_unit = static_cast<int>(l.bytes("shared_unit"));
    c.max_shared_block = l.bytes("max_shared_block");
    c.shared_sm = l.bytes("shared_sm");
    if (!l.ok) return;
    auto must = [&](bool cond, const char* key, std::string message) {
      if (!cond) {
        l.r.error(key, message);
        l.ok = false;
      }
    };
    must(static_cast<long>(c.max_warps_sm) * c.warp_size == c.max_threads_sm, "max_threads_sm",
         fmt::format("{} threads is not max_warps_sm x warp_size = {} x {}", c.max_threads_sm, c.max_warps_sm,
                     c.warp_size));
    must(c.max_threads_block <= c.max_threads_sm, "max_threads_block",
         fmt::format("{} threads exceed the {} an SM holds", c.max_threads_block, c.max_threads_sm));
    must(c.max_registers_block <= c.registers_sm, "max_registers_block",
         fmt::format("{} registers exceed the {} of an SM", c.max_registers_block, c.registers_sm));
    must(c.max_shared_block <= c.shared_sm, "max_shared_block",
         fmt::format("{} B exceed the {} B of shared memory per SM", c.max_shared_block, c.shared_sm));
  });
  top.finish();
}

// `name: {unit: ..., kind: ..., class: ...}` of an ISA file; nullopt (with errors) when malformed.
std::optional<IsaEntry> read_entry(const YAML::Node& node, const Scope& scope,
                                   const std::map<std::string, int, std::less<>>& classes) {
  MapReader r(node, scope);
  if (!r.valid()) return std::nullopt;
  auto unit = r.choice("unit", names(kUnitNames), true);
  auto kind = r.choice("kind", names(kKindNames), true);
  auto cls = r.string("class");
  r.finish();
  if (!unit || !kind) return std::nullopt;
  IsaEntry e;
  e.unit = static_cast<Unit>(index_of(kUnitNames, *unit));
  e.kind = static_cast<OpKind>(index_of(kKindNames, *kind));
  if (latency_from_hierarchy(e.kind)) {
    if (cls) {
      r.error(
          "class",
          fmt::format("kind '{}' takes its latency from the GPU's memory latencies; remove 'class'", *kind));
      return std::nullopt;
    }
    return e;
  }
  if (!cls) {
    r.error("kind", fmt::format("kind '{}' needs a latency 'class'", *kind));
    return std::nullopt;
  }
  auto it = classes.find(*cls);
  if (it == classes.end()) {
    std::vector<std::string> known;
    for (const auto& [k, v] : classes)
      known.push_back(k);
    r.error("class", fmt::format("unknown class '{}'{} (classes: {})", *cls, core::did_you_mean(*cls, known),
                                 fmt::join(known, ", ")));
    return std::nullopt;
  }
  e.latency = it->second;
  return e;
}

bool valid_mnemonic(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isupper(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
           c == '_';
  });
}

void read_isa(const YAML::Node& root, const Scope& scope, const std::string& architecture,
              const std::map<std::string, int, std::less<>>& overrides, Isa& isa,
              std::vector<std::pair<Unit, std::string>>& used_units) {
  MapReader r(root, scope);
  if (!r.valid()) return;
  r.format("whatif-isa/1");
  auto arch = r.string("architecture", true);
  if (arch && *arch != architecture)
    r.error("architecture",
            fmt::format("'{}' does not match the GPU's architecture '{}'", *arch, architecture));
  auto source = r.string("source", true);
  if (source && source->empty()) r.error("source", "must not be empty");

  std::map<std::string, int, std::less<>> classes;
  YAML::Node cls = r.node("classes");
  if (!cls.IsDefined() || cls.IsNull()) {
    r.error("classes", "missing required section (class -> {value: cycles, source: ...})");
  } else {
    read_class_latencies(cls, scope, classes);
  }

  for (auto& [name, cycles] : classes)  // the GPU's own measured latencies win
    if (auto own = overrides.find(name); own != overrides.end()) cycles = own->second;
  isa.classes = classes;

  YAML::Node ops = r.node("opcodes");
  if (!ops.IsDefined() || ops.IsNull()) {
    r.error("opcodes", "missing required section (MNEMONIC -> {unit, kind, class})");
  } else if (!ops.IsMap()) {
    r.error("opcodes", "expected a mapping of MNEMONIC -> {unit, kind, class}");
  } else {
    for (auto it = ops.begin(); it != ops.end(); ++it) {
      const core::Location at = core::location_of(scope.file, it->first);
      if (!it->first.IsScalar() || !valid_mnemonic(it->first.Scalar())) {
        scope.diag->error(
            at, scope.entity, scope.name, it->first.IsScalar() ? it->first.Scalar() : "",
            "an opcode is a base mnemonic of upper-case letters, digits and '_' (no '.' modifiers)");
        continue;
      }
      const std::string name = it->first.Scalar();
      if (isa.opcodes.count(name)) {
        scope.diag->error(at, scope.entity, scope.name, name, "opcode defined twice");
        continue;
      }
      auto e = read_entry(it->second, scope.child("opcode", name), classes);
      if (!e) continue;
      isa.opcodes.emplace(name, *e);
      used_units.emplace_back(e->unit, name);
    }
  }

  YAML::Node fb = r.node("fallback");
  if (!fb.IsDefined() || fb.IsNull()) {
    r.error("fallback", "missing required field ({unit, kind, class} for opcodes the table does not know)");
  } else if (auto e = read_entry(fb, scope.child("isa fallback", scope.name), classes)) {
    isa.fallback = *e;
    used_units.emplace_back(e->unit, "the fallback");
  }
  r.finish();
}

// Splits "7.0" into 7 and 0.
std::optional<std::pair<int, int>> parse_cc(const std::string& s) {
  auto dot = s.find('.');
  if (dot == std::string::npos) return std::nullopt;
  auto major = core::parse_integer(std::string_view(s).substr(0, dot));
  auto minor = core::parse_integer(std::string_view(s).substr(dot + 1));
  if (!major || !minor || *major < 1 || *major > 99 || *minor < 0 || *minor > 9) return std::nullopt;
  return std::pair{static_cast<int>(*major), static_cast<int>(*minor)};
}

std::string lower(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The node of `key` in mapping `root` (undefined when absent), without marking anything.
YAML::Node child(const YAML::Node& root, const char* key) {
  if (root.IsMap())
    for (auto it = root.begin(); it != root.end(); ++it)
      if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
  return YAML::Node(YAML::NodeType::Undefined);
}

}  // namespace

std::string_view to_string(Unit u) {
  const auto i = static_cast<size_t>(u);
  return i < kUnitNames.size() ? kUnitNames[i] : "unknown";
}

std::string_view to_string(OpKind k) {
  const auto i = static_cast<size_t>(k);
  return i < kKindNames.size() ? kKindNames[i] : "unknown";
}

IsaEntry Isa::classify(std::string_view opcode, bool* known) const {
  const std::string_view base = opcode.substr(0, opcode.find('.'));
  auto it = opcodes.find(base);
  if (known != nullptr) *known = it != opcodes.end();
  return it == opcodes.end() ? fallback : it->second;
}

GpuHardware load_gpu_hardware(const std::string& models_dir, const std::string& gpu_name) {
  const fs::path gpus_dir = fs::path(models_dir) / "gpus";
  std::error_code ec;
  if (!fs::is_directory(gpus_dir, ec))
    throw InputError(core::Location{gpus_dir.string(), 0, 0}, "GPU catalog folder not found");

  // Find the file that defines the GPU (the catalog validates it below).
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(gpus_dir, ec))
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::string file;
  std::optional<YAML::Node> root;
  std::vector<std::string> known;
  for (const auto& p : files) {
    Diagnostics scratch;
    auto node = core::load_yaml_file(p.string(), scratch);
    if (!node) continue;
    YAML::Node name = child(*node, "name");
    if (!name.IsScalar()) continue;
    known.push_back(name.Scalar());
    if (name.Scalar() == gpu_name && file.empty()) {
      file = p.string();
      root = node;
    }
  }
  if (file.empty())
    throw InputError(core::Location{gpus_dir.string(), 0, 0},
                     fmt::format("unknown GPU '{}'{} (catalog GPUs: {})", gpu_name,
                                 core::did_you_mean(gpu_name, known), fmt::join(known, ", ")));

  // The catalog's own checks of the GPU file (its other folders may be absent: only this file's problems
  // count).
  Diagnostics catalog_diag;
  platform::Catalog catalog = platform::Catalog::load(models_dir, catalog_diag);
  const platform::GpuModel* model = catalog.gpu(gpu_name);
  if (model == nullptr || model->file != file) {
    std::vector<core::Diagnostic> mine;
    for (const auto& d : catalog_diag.items())
      if (!d.warning && d.location.file == file) mine.push_back(d);
    if (mine.empty()) throw InputError(core::Location{file, 0, 0}, "not loaded by the catalog");
    throw InputError(mine);
  }

  GpuHardware hw;
  hw.name = model->name;
  hw.architecture = model->architecture;
  hw.file = file;
  hw.sms = static_cast<int>(model->sm_count.value);
  hw.dram_bandwidth = model->memory_bandwidth.value;

  Diagnostics diag;
  const Scope scope{file, "gpu model", gpu_name, &diag, nullptr};
  if (auto cc = parse_cc(model->compute_capability)) {
    hw.cc_major = cc->first;
    hw.cc_minor = cc->second;
  } else {
    diag.error(core::location_of(file, child(*root, "compute_capability")), scope.entity, gpu_name,
               "compute_capability",
               fmt::format("expected MAJOR.MINOR, got '{}'", model->compute_capability));
  }

  YAML::Node section = child(*root, "microarchitecture");
  if (!section.IsDefined() || section.IsNull()) {
    diag.error(core::location_of(file, *root), scope.entity, gpu_name, "microarchitecture",
               "missing section: the kernel model needs the GPU's units, caches, latencies and limits (see "
               "models/README.md, 'Micro-architecture section')");
    diag.throw_if_errors();
  }
  std::vector<std::pair<Unit, core::Location>> unit_locations;
  read_microarchitecture(section, scope, hw, unit_locations);

  const fs::path isa_path = fs::path(models_dir) / "isa" / (lower(hw.architecture) + ".yaml");
  hw.isa.architecture = hw.architecture;
  hw.isa.file = isa_path.string();
  if (!fs::is_regular_file(isa_path, ec)) {
    diag.error(core::location_of(file, child(*root, "architecture")), scope.entity, gpu_name, "architecture",
               fmt::format("no ISA file {} for architecture '{}'", isa_path.string(), hw.architecture));
    diag.throw_if_errors();
  }
  std::vector<std::pair<Unit, std::string>> used_units;
  if (auto isa_root = core::load_yaml_file(isa_path.string(), diag)) {
    const Scope isa_scope{isa_path.string(), "isa", lower(hw.architecture), &diag, nullptr};
    read_isa(*isa_root, isa_scope, hw.architecture, hw.class_latency, hw.isa, used_units);
  }
  diag.throw_if_errors();

  // The GPU's own class latencies (read_isa applied them) must name classes its ISA has.
  std::vector<std::string> classes;
  for (const auto& [k, v] : hw.isa.classes)
    classes.push_back(k);
  for (const auto& [cls, cycles] : hw.class_latency)
    if (!hw.isa.classes.count(cls))
      diag.error(core::location_of(file, section["instruction_latency"][cls]), scope.entity, gpu_name,
                 "microarchitecture.instruction_latency." + cls,
                 fmt::format("{} has no latency class '{}'{} (classes: {})", hw.isa.file, cls,
                             core::did_you_mean(cls, classes), fmt::join(classes, ", ")));
  diag.throw_if_errors();

  // Every unit the ISA sends work to must exist on this GPU, or that work could never issue.
  for (const auto& [unit, loc] : unit_locations) {
    if (hw.units[static_cast<int>(unit)] > 0) continue;
    std::vector<std::string> users;
    for (const auto& [u, opcode] : used_units)
      if (u == unit) users.push_back(opcode);
    if (users.empty()) continue;
    if (users.size() > 6) users.resize(6), users.push_back("...");
    diag.error(loc, scope.entity, gpu_name, std::string(to_string(unit)),
               fmt::format("0 units per SM, but {} sends {} to them", hw.isa.file, fmt::join(users, ", ")));
  }
  diag.throw_if_errors();
  return hw;
}

}  // namespace whatif::gpu
