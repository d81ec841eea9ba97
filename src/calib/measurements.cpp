// Strict reading of whatif-calib-cuda's JSON files.
#include "calib/measurements.hpp"

#include <fmt/format.h>

#include <cmath>

#include "core/diagnostics.hpp"
#include "core/yaml.hpp"

namespace whatif::calib {

namespace {

using nlohmann::json;

// Walks a JSON document, naming the path of every problem.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const std::string& path, const std::string& what) const {
    throw core::InputError(core::Location{file_, 0, 0}, fmt::format("'{}': {}", path, what));
  }
  const json& member(const json& obj, const std::string& path, const char* key) const {
    if (!obj.is_object()) fail(path, "expected an object");
    auto it = obj.find(key);
    if (it == obj.end()) fail(path + "." + key, "missing required field");
    return *it;
  }
  std::string text(const json& obj, const std::string& path, const char* key) const {
    const json& v = member(obj, path, key);
    if (!v.is_string()) fail(path + "." + key, "expected a string");
    return v.get<std::string>();
  }
  double number(const json& obj, const std::string& path, const char* key, bool positive = false) const {
    const json& v = member(obj, path, key);
    if (!v.is_number()) fail(path + "." + key, "expected a number");
    const double x = v.get<double>();
    if (!std::isfinite(x) || x < 0 || (positive && x == 0))
      fail(path + "." + key,
           fmt::format("expected a {} number, got {}", positive ? "positive" : "non-negative", x));
    return x;
  }
  TimeStats stats(const json& obj, const std::string& path) const {
    const std::string p = path + ".time_s";
    const json& t = member(obj, path, "time_s");
    TimeStats s;
    s.median = number(t, p, "median", true);
    s.min = number(t, p, "min", true);
    s.max = number(t, p, "max", true);
    s.mean = number(t, p, "mean", true);
    s.stdev = number(t, p, "stdev");
    s.reps = static_cast<int>(number(t, p, "reps", true));
    if (!(s.min <= s.median && s.median <= s.max)) fail(p, "needs min <= median <= max");
    return s;
  }
  json params(const json& obj, const std::string& path) const {
    auto it = obj.find("params");
    if (it == obj.end()) return json::object();
    if (!it->is_object()) fail(path + ".params", "expected an object");
    for (const char* key : {"pattern", "dtype", "op", "opcode", "per"})  // words the fit and validation read
      if (it->contains(key) && !(*it)[key].is_string()) fail(path + ".params." + key, "expected a string");
    return *it;
  }
  // `kind`, one of `known`.
  std::string kind(const json& obj, const std::string& path, const std::vector<std::string>& known) const {
    std::string k = text(obj, path, "kind");
    if (std::find(known.begin(), known.end(), k) == known.end())
      fail(path + ".kind", fmt::format("unknown kind '{}'{} (known: {})", k, core::did_you_mean(k, known),
                                       fmt::join(known, ", ")));
    return k;
  }
  // The document's list under `key`.
  const json& list(const json& doc, const char* key) const {
    const json& l = member(doc, "", key);
    if (!l.is_array()) fail(key, "expected a list");
    return l;
  }
  Provenance provenance(const json& doc, const char* format) const {
    if (text(doc, "", "format") != format)
      fail("format", fmt::format("expected '{}', got '{}'", format, doc["format"].get<std::string>()));
    Provenance p;
    p.file = file_;
    p.tool = text(doc, "", "tool");
    p.date = text(doc, "", "date");
    p.host = text(doc, "", "host");
    const json& d = member(doc, "", "device");
    p.device.name = text(d, "device", "name");
    p.device.uuid = d.value("uuid", "");
    p.device.compute_capability = text(d, "device", "compute_capability");
    p.device.driver = text(d, "device", "driver_version");
    p.device.runtime = text(d, "device", "runtime_version");
    p.device.sm_count = static_cast<int>(number(d, "device", "sm_count", true));
    p.device.memory_bytes = number(d, "device", "memory_bytes", true);
    p.device.l2_bytes = number(d, "device", "l2_bytes", true);
    const json& clock = member(doc, "", "clock");
    p.sm_clock_hz = number(clock, "clock", "measured_sm_hz", true);
    if (clock.contains("measured_sm_hz_loaded"))
      p.loaded_sm_clock_hz = number(clock, "clock", "measured_sm_hz_loaded", true);
    return p;
  }

 private:
  std::string file_;
};

json parse_file(const std::string& path) {
  core::Diagnostics diag;
  auto text = core::read_text_file(path, diag);
  diag.throw_if_errors();
  try {
    return json::parse(*text);
  } catch (const json::parse_error& e) {
    throw core::InputError(core::Location{path, 0, 0}, fmt::format("not valid JSON: {}", e.what()));
  }
}

double numeric_param(const json& params, const std::string& where, const char* key) {
  auto it = params.find(key);
  if (it == params.end() || !it->is_number())
    throw core::InputError(fmt::format("{}: params.{}: missing or not a number", where, key));
  return it->get<double>();
}

}  // namespace

double Record::param(const char* key) const {
  return numeric_param(params, where, key);
}
double KernelTime::param(const char* key) const {
  return numeric_param(params, where, key);
}

std::vector<const Record*> Measurements::select(const std::string& kind, const std::string& name) const {
  std::vector<const Record*> out;
  for (const auto& r : records)
    if (r.kind == kind && (name.empty() || r.name == name)) out.push_back(&r);
  return out;
}

Measurements load_measurements(const std::string& path) {
  const json doc = parse_file(path);
  Reader rd(path);
  Measurements m;
  m.from = rd.provenance(doc, "whatif-measurements/1");
  const json& list = rd.list(doc, "measurements");
  static const std::vector<std::string> kinds = {"peak",   "bandwidth", "latency", "instruction",
                                                 "launch", "transfer",  "gemm"};
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string where = fmt::format("measurements[{}]", i);
    Record r;
    r.where = fmt::format("{}: {}", path, where);
    r.kind = rd.kind(list[i], where, kinds);
    r.name = rd.text(list[i], where, "name");
    r.unit = rd.text(list[i], where, "unit");
    r.params = rd.params(list[i], where);
    r.time = rd.stats(list[i], where);
    r.value = rd.number(list[i], where, "value", true);
    m.records.push_back(std::move(r));
  }
  return m;
}

KernelTimes load_kernel_times(const std::string& path) {
  const json doc = parse_file(path);
  Reader rd(path);
  KernelTimes k;
  k.from = rd.provenance(doc, "whatif-kernel-times/1");
  const json& list = rd.list(doc, "kernels");
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string where = fmt::format("kernels[{}]", i);
    KernelTime t;
    t.where = fmt::format("{}: {}", path, where);
    t.name = rd.text(list[i], where, "name");
    static const std::vector<std::string> kinds = {"gemm", "elementwise", "reduction"};
    t.kind = rd.kind(list[i], where, kinds);
    t.params = rd.params(list[i], where);
    t.time = rd.stats(list[i], where);
    k.kernels.push_back(std::move(t));
  }
  return k;
}

}  // namespace whatif::calib
