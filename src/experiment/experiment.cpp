// Experiment loading: common fields, --set overrides on the YAML tree, platform reference resolution.
#include "experiment/experiment.hpp"

#include <fmt/format.h>
#include <filesystem>

namespace whatif::experiment {

namespace fs = std::filesystem;
using core::MapReader;
using core::Scope;

void apply_set(YAML::Node& root, const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw core::InputError(fmt::format("--set '{}': expected path.to.key=value", assignment));
  std::string path = assignment.substr(0, eq);
  std::string value = assignment.substr(eq + 1);
  std::vector<std::string> keys;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    keys.push_back(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  for (const auto& k : keys)
    if (k.empty()) throw core::InputError(fmt::format("--set '{}': empty key in '{}'", assignment, path));
  YAML::Node parsed;
  try {
    parsed = YAML::Load(value);
  } catch (const YAML::Exception& e) {
    throw core::InputError(fmt::format("--set '{}': the value is not valid YAML: {}", assignment, e.msg));
  }
  if (!parsed.IsDefined() || parsed.IsNull()) parsed = YAML::Node(value);
  YAML::Node cur;
  cur.reset(root);
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string& key = keys[i];
    bool last = i + 1 == keys.size();
    if (cur.IsSequence()) {
      auto index = core::parse_integer(key);
      if (!index || *index < 0 || *index >= static_cast<long long>(cur.size()))
        throw core::InputError(
            fmt::format("--set '{}': '{}' indexes a list of {} items", assignment, key, cur.size()));
      if (last) {
        cur[static_cast<size_t>(*index)] = parsed;
        return;
      }
      YAML::Node next = cur[static_cast<size_t>(*index)];
      cur.reset(next);
      continue;
    }
    if (!cur.IsMap() && !cur.IsNull())
      throw core::InputError(fmt::format("--set '{}': '{}' is a value, it has no field '{}'", assignment,
                                         i ? keys[i - 1] : "", key));
    if (last) {
      cur[key] = parsed;
      return;
    }
    if (!cur[key].IsDefined() || cur[key].IsNull() || cur[key].IsScalar()) {
      if (cur[key].IsScalar())
        throw core::InputError(
            fmt::format("--set '{}': '{}' is a value, it has no field '{}'", assignment, key, keys[i + 1]));
      cur[key] = YAML::Node(YAML::NodeType::Map);
    }
    YAML::Node next = cur[key];
    cur.reset(next);
  }
}

Experiment load_experiment(const std::string& file, const std::vector<std::string>& sets,
                           std::optional<std::uint64_t> seed, const std::optional<std::string>& text) {
  core::Diagnostics diag;
  auto root = text ? std::optional<YAML::Node>(YAML::Load(*text)) : core::load_yaml_file(file, diag);
  diag.throw_if_errors();
  if (!root->IsMap())
    throw core::InputError(core::location_of(file, *root),
                           "expected a mapping with 'format: whatif-experiment/1'");
  for (const auto& s : sets)
    apply_set(*root, s);
  if (seed) (*root)["seed"] = *seed;

  Experiment e;
  e.file = file;
  e.root = *root;
  Scope scope{file, "experiment", "", &diag, nullptr};
  MapReader r(*root, scope);
  r.format("whatif-experiment/1");
  e.name = r.string("name", true).value_or("");
  e.description = r.string("description").value_or("");
  auto s = r.integer("seed", 0, std::numeric_limits<long long>::max());
  e.seed = s ? static_cast<std::uint64_t>(*s) : 1;
  if (!s && !r.has("seed")) (*root)["seed"] = e.seed;

  YAML::Node platform = r.node("platform");
  fs::path base = fs::path(file).parent_path();
  if (!platform.IsDefined()) {
    r.error("platform", "missing required field (a platform file, or {file: ..., parameters: {...}})");
  } else if (platform.IsScalar()) {
    e.platform_file = (base / platform.Scalar()).lexically_normal().string();
  } else {
    MapReader p(platform, scope.child("platform", ""));
    if (auto f = p.string("file", true)) e.platform_file = (base / *f).lexically_normal().string();
    YAML::Node params = p.node("parameters");
    if (params.IsDefined()) {
      if (!params.IsMap()) {
        p.error("parameters", "expected a mapping 'name: value'");
      } else {
        for (auto it = params.begin(); it != params.end(); ++it)
          if (auto v = core::scalar_text(it->second, p.scope(), it->first.Scalar()))
            e.platform_parameters[it->first.Scalar()] = *v;
      }
    }
    p.finish();
  }
  YAML::Node reference = r.node("reference");
  if (reference.IsDefined()) {
    MapReader ref(reference, scope.child("reference", ""));
    e.reference_source = ref.string("source", true).value_or("");
    YAML::Node metrics = ref.node("metrics");
    if (!metrics.IsMap() || metrics.size() == 0) {
      ref.error("metrics", "expected a mapping 'metric: measured value', e.g. {model_tflops_per_gpu: 163}");
    } else {
      MapReader m(metrics, scope.child("reference", "metrics"));
      for (auto it = metrics.begin(); it != metrics.end(); ++it) {
        const std::string name = it->first.Scalar();
        if (auto v =
                m.number(name, -std::numeric_limits<double>::max(), std::numeric_limits<double>::max(), true))
          e.reference.push_back({name, *v, core::location_of(file, it->second)});
      }
      m.finish();
    }
    ref.finish();
  }
  r.node("resolved");  // what a previous run recorded in its run.yaml; informational, rewritten on output
  e.workload = r.node("workload");
  if (!e.workload.IsDefined()) {
    r.error("workload", "missing required field");
  } else if (!e.workload.IsMap()) {
    r.error("workload", "expected a mapping with 'kind:'");
  } else if (!e.workload["kind"] || !e.workload["kind"].IsScalar()) {
    r.error("workload", "missing 'kind' (e.g. collective-bench)");
  } else {
    e.kind = e.workload["kind"].Scalar();
  }
  r.finish();
  diag.throw_if_errors();
  return e;
}

}  // namespace whatif::experiment
