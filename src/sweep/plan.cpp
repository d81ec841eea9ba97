// Reading sweep files and expanding them into points.
#include "sweep/plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <numeric>

#include "core/units.hpp"
#include "core/yaml.hpp"
#include "experiment/run.hpp"

namespace whatif::sweep {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kMaxPoints = 50'000'000;

std::uint64_t fnv1a(std::string_view text, std::uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// SplitMix64: derived seeds and the sampler's stream, the same on every platform.
std::uint64_t splitmix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
double uniform(std::uint64_t& state) {
  return static_cast<double>(splitmix(state) >> 11) * 0x1.0p-53;
}

std::string format_number(double v, bool integer) {
  if (integer || (std::abs(v) < 9e15 && v == std::round(v)))
    return fmt::format("{}", static_cast<long long>(std::llround(v)));
  return fmt::format("{}", v);
}

std::string default_name(const std::string& path) {
  auto dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

void read_range(core::MapReader& pr, Parameter& p) {
  YAML::Node node = pr.node("range");
  core::MapReader r(node, pr.scope().child("range of parameter", p.name));
  if (!r.valid()) return;
  auto from = r.number("from", -1e300, 1e300, true);
  auto to = r.number("to", -1e300, 1e300, true);
  auto steps = r.integer("steps", 2, static_cast<long long>(kMaxPoints));
  auto step = r.number("step", -1e300, 1e300);
  auto factor = r.number("factor", 1.0 + 1e-12, 1e300);
  auto scale = r.choice("scale", {"linear", "geometric"});
  r.finish();
  if (!from || !to) return;
  bool geometric = factor.has_value() || scale.value_or("linear") == "geometric";
  int given = (steps ? 1 : 0) + (step ? 1 : 0) + (factor ? 1 : 0);
  if (given != 1) {
    r.error_here("give exactly one of 'steps', 'step' (linear) or 'factor' (geometric)");
    return;
  }
  if (step && geometric) {
    r.error("step", "a geometric range takes 'factor' or 'steps', not 'step'");
    return;
  }
  if (geometric && (*from <= 0 || *to <= 0)) {
    r.error_here(fmt::format("a geometric range needs positive bounds, got {} to {}", *from, *to));
    return;
  }
  std::vector<double> v;
  if (steps) {
    for (long long i = 0; i < *steps; ++i) {
      double t = static_cast<double>(i) / static_cast<double>(*steps - 1);
      v.push_back(geometric ? *from * std::pow(*to / *from, t) : *from + (*to - *from) * t);
    }
  } else if (step) {
    if (*step == 0 || (*to - *from) / *step < 0) {
      r.error("step", fmt::format("step {} never goes from {} to {}", *step, *from, *to));
      return;
    }
    double n = std::floor((*to - *from) / *step + 1e-9);
    if (n + 1 > static_cast<double>(kMaxPoints)) {
      r.error("step", fmt::format("{} values is too many", n + 1));
      return;
    }
    for (long long i = 0; i <= static_cast<long long>(n); ++i)
      v.push_back(*from + *step * static_cast<double>(i));
  } else {
    if (*to < *from) {
      r.error_here(fmt::format("'to' ({}) is below 'from' ({})", *to, *from));
      return;
    }
    for (double x = *from; x <= *to * (1 + 1e-12) && v.size() <= kMaxPoints; x *= *factor)
      v.push_back(x);
  }
  bool integral = std::all_of(v.begin(), v.end(), [](double x) {
    return std::abs(x - std::round(x)) < 1e-9 * std::max(1.0, std::abs(x));
  });
  for (double x : v)
    p.values.push_back(format_number(integral ? std::round(x) : x, integral) + p.unit);
}

void read_sample(core::MapReader& pr, Parameter& p) {
  YAML::Node node = pr.node("sample");
  core::MapReader r(node, pr.scope().child("sample of parameter", p.name));
  if (!r.valid()) return;
  auto low = r.number("low", -1e300, 1e300, true);
  auto high = r.number("high", -1e300, 1e300, true);
  p.log = r.boolean("log").value_or(false);
  p.integer = r.boolean("integer").value_or(false);
  r.finish();
  if (!low || !high) return;
  p.low = *low;
  p.high = *high;
  if (p.high < p.low) r.error_here(fmt::format("'high' ({}) is below 'low' ({})", p.high, p.low));
  if (p.log && p.low <= 0) r.error("low", "a log-uniform sample needs a positive 'low'");
}

}  // namespace

const std::vector<std::string>& reserved_columns() {
  static const std::vector<std::string> names = {
      "sweep_id", "point",    "repetition", "key",      "status",         "error", "wall_s",
      "seed",     "attempts", "started",    "finished", "whatif_version", "host"};
  return names;
}

SweepSpec load_sweep(const std::string& file) {
  core::Diagnostics diag;
  std::error_code ec;
  if (fs::is_directory(file, ec))
    throw core::InputError(core::Location{file, 0, 0}, "is a directory, not a sweep file");
  // The text is read once: parsed here, and hashed below with the base experiment's.
  std::optional<std::string> text = core::read_text_file(file, diag);
  std::optional<YAML::Node> root = text ? core::parse_yaml_text(*text, file, diag) : std::nullopt;
  diag.throw_if_errors();
  SweepSpec spec;
  spec.file = file;
  core::Scope scope{file, "sweep", "", &diag, nullptr};
  core::MapReader r(*root, scope);
  if (!r.valid()) {
    diag.throw_if_errors();
    throw core::InputError(core::location_of(file, *root),
                           "expected a mapping with 'format: whatif-sweep/1'");
  }
  r.format("whatif-sweep/1");
  spec.name = r.string("name", true).value_or("");
  spec.description = r.string("description").value_or("");
  if (auto e = r.string("experiment", true)) {
    fs::path p = *e;
    spec.experiment =
        p.is_absolute() ? p.string() : (fs::path(file).parent_path() / p).lexically_normal().string();
    if (!fs::is_regular_file(spec.experiment, ec))
      r.error("experiment", fmt::format("no such experiment file '{}'", spec.experiment));
  }
  spec.combine = r.choice("combine", {"grid", "zip"}).value_or("grid");
  spec.repetitions = static_cast<int>(r.integer("repetitions", 1, 100000).value_or(1));
  spec.seed =
      static_cast<std::uint64_t>(r.integer("seed", 0, std::numeric_limits<long long>::max()).value_or(1));
  if (YAML::Node limits = r.node("limits"); limits.IsDefined()) {
    core::MapReader lr(limits, scope.child("limits", ""));
    if (auto t = lr.quantity("time", core::Dimension::time)) spec.point_timeout = *t;
    if (auto m = lr.quantity("memory", core::Dimension::size)) spec.point_memory = *m;
    lr.finish();
  }
  if (YAML::Node samples = r.node("samples"); samples.IsDefined()) {
    core::MapReader sr(samples, scope.child("samples", ""));
    spec.sample_method = sr.choice("method", {"random", "latin-hypercube"}).value_or("random");
    spec.sample_count = static_cast<std::uint64_t>(sr.integer("count", 1, 10'000'000, true).value_or(0));
    spec.sample_seed =
        static_cast<std::uint64_t>(sr.integer("seed", 0, std::numeric_limits<long long>::max()).value_or(1));
    sr.finish();
  }

  YAML::Node params = r.node("parameters");
  if (!params.IsDefined() || !params.IsSequence() || params.size() == 0)
    r.error("parameters", "expected a list of parameters ({path, values | range | sample})");
  bool any_sample = false;
  for (const YAML::Node& node : core::items_of(params)) {
    Parameter p;
    p.where = core::location_of(file, node);
    core::MapReader pr(node, scope.child("parameter", ""));
    if (!pr.valid()) {
      pr.error_here("expected a mapping {path, values | range | sample}");
      continue;
    }
    YAML::Node path = pr.node("path");
    if (path.IsScalar()) {
      p.paths.push_back(path.as<std::string>());
    } else if (path.IsSequence()) {
      for (const auto& x : path)
        if (x.IsScalar()) p.paths.push_back(x.as<std::string>());
    }
    if ((path.IsDefined() && p.paths.empty()) ||
        std::any_of(p.paths.begin(), p.paths.end(), [](const std::string& s) {
          return s.empty() || s.front() == '.' || s.back() == '.' || s.find("..") != std::string::npos;
        })) {
      pr.error("path",
               "expected a dotted path into the experiment (e.g. workload.algorithm) or a list of them");
      continue;
    }
    if (p.paths.empty() && !pr.has("name")) {
      pr.error_here("a parameter without 'path' (a variable for constraints and columns) needs a 'name'");
      continue;
    }
    p.name = pr.string("name").value_or(p.paths.empty() ? "" : default_name(p.paths.front()));
    p.unit = pr.string("unit").value_or("");
    p.zip = pr.string("zip").value_or("");
    int kinds = (pr.has("values") ? 1 : 0) + (pr.has("range") ? 1 : 0) + (pr.has("sample") ? 1 : 0) +
                (pr.has("expr") ? 1 : 0);
    if (kinds != 1) {
      pr.error_here(
          fmt::format("parameter '{}' needs exactly one of 'values', 'range', 'sample' or 'expr'", p.name));
    } else if (pr.has("expr")) {
      p.kind = Parameter::Kind::derived;
      auto text = pr.string("expr");
      try {
        p.expr = Expr::parse(text.value_or(""));
        for (const auto& n : p.expr->names())
          if (std::none_of(spec.parameters.begin(), spec.parameters.end(),
                           [&](const Parameter& q) { return q.name == n; }))
            pr.error("expr", fmt::format("'{}' is not a parameter declared before '{}'", n, p.name));
      } catch (const std::invalid_argument& e) {
        pr.error("expr", e.what());
      }
      if (!p.zip.empty()) pr.error("zip", "a derived parameter follows the others; it cannot be zipped");
    } else if (pr.has("values")) {
      YAML::Node values = pr.node("values");
      if (!values.IsSequence() || values.size() == 0) {
        pr.error("values", "expected a non-empty list");
      } else {
        for (const auto& v : values) {
          if (v.IsScalar()) {
            p.values.push_back(v.as<std::string>() + p.unit);
          } else {
            YAML::Emitter out;
            out << YAML::Flow << v;
            p.values.push_back(out.c_str());
          }
        }
      }
    } else if (pr.has("range")) {
      p.kind = Parameter::Kind::range;
      read_range(pr, p);
    } else {
      p.kind = Parameter::Kind::sample;
      any_sample = true;
      read_sample(pr, p);
      if (!p.zip.empty()) pr.error("zip", "sampled parameters advance together already (one sample each)");
    }
    pr.finish();
    if (std::find(reserved_columns().begin(), reserved_columns().end(), p.name) != reserved_columns().end())
      pr.error("name",
               fmt::format("'{}' is a fixed column of the results ({}); give the parameter another 'name'",
                           p.name, fmt::join(reserved_columns(), ", ")));
    for (const auto& other : spec.parameters)
      if (other.name == p.name)
        pr.error("name", fmt::format("two parameters are named '{}'; give one a 'name'", p.name));
    spec.parameters.push_back(std::move(p));
  }
  if (any_sample && spec.sample_count == 0)
    r.error("samples",
            "sampled parameters need 'samples: {method: random | latin-hypercube, count: N, seed: S}'");

  YAML::Node constraints = r.node("constraints");
  if (constraints.IsDefined() && !constraints.IsSequence())
    r.error("constraints", "expected a list of expressions");
  for (const YAML::Node& c : core::items_of(constraints)) {
    core::Location where = core::location_of(file, c);
    if (!c.IsScalar()) {
      diag.error(where, "constraint", "", "", "expected an expression in quotes");
      continue;
    }
    try {
      Expr e = Expr::parse(c.as<std::string>());
      for (const auto& n : e.names())
        if (std::none_of(spec.parameters.begin(), spec.parameters.end(),
                         [&](const Parameter& p) { return p.name == n; })) {
          std::vector<std::string> known;
          for (const auto& p : spec.parameters)
            known.push_back(p.name);
          diag.error(where, "constraint", c.as<std::string>(), "",
                     fmt::format("'{}' is not a parameter{} (parameters: {})", n,
                                 core::did_you_mean(n, known), fmt::join(known, ", ")));
        }
      spec.constraints.push_back({std::move(e), where});
    } catch (const std::invalid_argument& e) {
      diag.error(where, "constraint", c.as<std::string>(), "", e.what());
    }
  }
  r.finish();
  diag.throw_if_errors();
  std::optional<std::string> base = core::read_text_file(spec.experiment, diag);
  diag.throw_if_errors();
  spec.definition_hash = fmt::format("{:016x}", fnv1a(*base, fnv1a(*text)));
  return spec;
}

std::vector<Point> expand(const SweepSpec& spec, std::uint64_t* dropped) {
  // Dimensions: each zip group (or every list/range parameter, with combine: zip), each other list/range
  // parameter, and the sampled parameters together. A dimension's entries give each of its parameters a
  // value.
  struct Dimension {
    std::vector<std::size_t> params;
    std::vector<std::vector<std::string>> entries;  // entries[i][k]: value of params[k]
  };
  const std::size_t np = spec.parameters.size();
  std::vector<Dimension> dims;
  std::map<std::string, std::size_t> group_dim;
  Dimension sampled;
  core::Diagnostics diag;
  for (std::size_t i = 0; i < np; ++i) {
    const Parameter& p = spec.parameters[i];
    if (p.kind == Parameter::Kind::sample) {
      sampled.params.push_back(i);
      continue;
    }
    if (p.kind == Parameter::Kind::derived) continue;
    std::string group = spec.combine == "zip" ? std::string("\x01all") : p.zip;
    std::size_t d;
    if (group.empty()) {
      d = dims.size();
      dims.emplace_back();
    } else if (auto it = group_dim.find(group); it != group_dim.end()) {
      d = it->second;
    } else {
      d = dims.size();
      dims.emplace_back();
      group_dim[group] = d;
    }
    Dimension& dim = dims[d];
    if (!dim.params.empty() && dim.entries.size() != p.values.size()) {
      const Parameter& first = spec.parameters[dim.params.front()];
      diag.error(p.where, "parameter", p.name, "zip",
                 fmt::format("zipped with '{}' but has {} values where '{}' has {}", first.name,
                             p.values.size(), first.name, dim.entries.size()));
      continue;
    }
    dim.params.push_back(i);
    dim.entries.resize(p.values.size());
    for (std::size_t k = 0; k < p.values.size(); ++k)
      dim.entries[k].push_back(p.values[k]);
  }
  diag.throw_if_errors();
  if (!sampled.params.empty()) {
    std::uint64_t state = spec.sample_seed;
    const std::uint64_t n = spec.sample_count;
    sampled.entries.assign(n, {});
    for (std::size_t k : sampled.params) {
      const Parameter& p = spec.parameters[k];
      std::vector<std::uint64_t> strata(n);
      std::iota(strata.begin(), strata.end(), 0);
      if (spec.sample_method == "latin-hypercube")  // one value per stratum, strata shuffled per parameter
        for (std::uint64_t i = n; i > 1; --i)
          std::swap(strata[i - 1], strata[static_cast<std::size_t>(splitmix(state) % i)]);
      for (std::uint64_t i = 0; i < n; ++i) {
        double u = spec.sample_method == "latin-hypercube"
                       ? (static_cast<double>(strata[i]) + uniform(state)) / static_cast<double>(n)
                       : uniform(state);
        double x = p.log ? std::exp(std::log(p.low) + u * (std::log(p.high) - std::log(p.low)))
                         : p.low + u * (p.high - p.low);
        sampled.entries[i].push_back(format_number(p.integer ? std::round(x) : x, p.integer) + p.unit);
      }
    }
    dims.push_back(std::move(sampled));
  }
  std::uint64_t total = 1;
  for (const auto& d : dims) {
    if (d.entries.empty()) return {};
    if (total > kMaxPoints / d.entries.size())
      throw core::InputError(core::Location{spec.file, 0, 0},
                             fmt::format("the sweep has more than {} combinations; split it", kMaxPoints));
    total *= d.entries.size();
  }

  std::vector<Point> points;
  std::uint64_t removed = 0;
  std::vector<std::size_t> at(dims.size(), 0);
  std::vector<std::string> values(np);
  for (std::uint64_t c = 0; c < total; ++c) {
    for (std::size_t d = 0; d < dims.size(); ++d)
      for (std::size_t k = 0; k < dims[d].params.size(); ++k)
        values[dims[d].params[k]] = dims[d].entries[at[d]][k];
    auto lookup = [&](const std::string& name) -> std::optional<Value> {
      for (std::size_t i = 0; i < np; ++i)
        if (spec.parameters[i].name == name) return value_of(values[i]);
      return std::nullopt;
    };
    for (std::size_t i = 0; i < np; ++i) {
      const Parameter& p = spec.parameters[i];
      if (p.kind != Parameter::Kind::derived) continue;
      try {
        Value v = p.expr->evaluate(lookup);
        values[i] = std::holds_alternative<double>(v) ? format_number(std::get<double>(v), false) + p.unit
                                                      : std::get<std::string>(v) + p.unit;
      } catch (const std::invalid_argument& e) {
        throw core::InputError(p.where,
                               fmt::format("parameter '{}' = '{}': {}", p.name, p.expr->text(), e.what()));
      }
    }
    bool keep = true;
    for (const auto& constraint : spec.constraints) {
      try {
        keep = constraint.expr.holds(lookup);
      } catch (const std::invalid_argument& e) {
        std::vector<std::string> shown;
        for (std::size_t i = 0; i < np; ++i)
          shown.push_back(spec.parameters[i].name + "=" + values[i]);
        throw core::InputError(constraint.where,
                               fmt::format("constraint '{}' at {}: {}", constraint.expr.text(),
                                           fmt::join(shown, ", "), e.what()));
      }
      if (!keep) break;
    }
    if (keep) {
      std::uint64_t h = 1469598103934665603ull;
      for (std::size_t i = 0; i < np; ++i)
        h = fnv1a(spec.parameters[i].name + "=" + values[i] + ";", h);
      for (int rep = 0; rep < spec.repetitions; ++rep) {
        Point p;
        p.index = c - removed;
        p.repetition = rep;
        p.values = values;
        std::uint64_t state = spec.seed ^ h ^ (static_cast<std::uint64_t>(rep) * 0x9e3779b97f4a7c15ull);
        p.seed = splitmix(state) >> 1;  // fits SQLite's signed 64-bit integers
        p.key = fmt::format("{:016x}-{}", h, rep);
        points.push_back(std::move(p));
      }
    } else {
      ++removed;
    }
    for (std::size_t d = dims.size(); d-- > 0;) {  // the last dimension varies fastest
      if (++at[d] < dims[d].entries.size()) break;
      at[d] = 0;
    }
  }
  if (dropped) *dropped = removed;
  return points;
}

std::vector<std::string> assignments(const SweepSpec& spec, const Point& point) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < spec.parameters.size(); ++i)
    for (const auto& path : spec.parameters[i].paths)
      out.push_back(path + "=" + point.values[i]);
  return out;
}

void check_points(const SweepSpec& spec, const std::vector<Point>& points) {
  if (points.empty()) return;
  auto check = [&](const std::vector<std::string>& sets, const std::string& what) {
    try {
      experiment::RunOptions o;
      o.file = spec.experiment;
      o.sets = sets;
      experiment::check_experiment(o);
    } catch (const core::InputError& e) {
      throw core::InputError(core::Location{spec.file, 0, 0},
                             fmt::format("{} does not make a valid experiment:\n{}", what, e.what()));
    }
  };
  check(assignments(spec, points.front()),
        fmt::format("point 0 ({})", fmt::join(assignments(spec, points.front()), " ")));
  // For every value of every parameter, the first point that has it (real points keep zips and constraints),
  // so that a typo in any value fails now; at most 64 values per parameter.
  for (std::size_t i = 0; i < spec.parameters.size(); ++i) {
    const Parameter& p = spec.parameters[i];
    std::vector<std::string> seen = {points.front().values[i]};
    for (const auto& point : points) {
      const std::string& v = point.values[i];
      if (std::find(seen.begin(), seen.end(), v) != seen.end()) continue;
      seen.push_back(v);
      if (seen.size() > 64) break;
      check(assignments(spec, point), fmt::format("parameter '{}' = '{}' (point {}: {})", p.name, v,
                                                  point.index, fmt::join(assignments(spec, point), " ")));
    }
  }
}

}  // namespace whatif::sweep
