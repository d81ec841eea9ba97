// Parsing of the `training` workload: model (preset or inline), parallel layout, schedule, placement.
#include "training/workload.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <algorithm>
#include <filesystem>
#include <map>

#include "cost/registry.hpp"
#include "platform/catalog.hpp"
#include "platform/selection.hpp"

namespace whatif::training {

using core::MapReader;

namespace {

std::optional<TransformerConfig> read_model(const YAML::Node& node, const core::Scope& scope,
                                            MapReader& parent) {
  if (node.IsScalar()) {
    try {
      return preset(node.Scalar());
    } catch (const core::InputError& e) {
      parent.error("model", e.diagnostics().front().message);
      return std::nullopt;
    }
  }
  MapReader m(node, scope.child("model", ""));
  if (!m.valid()) return std::nullopt;
  TransformerConfig cfg;
  cfg.name = m.string("name").value_or("custom");
  cfg.layers = static_cast<int>(m.integer("layers", 1, 100000, true).value_or(1));
  cfg.hidden = static_cast<int>(m.integer("hidden", 1, 1 << 24, true).value_or(1));
  cfg.heads = static_cast<int>(m.integer("heads", 1, 1 << 16, true).value_or(1));
  cfg.sequence = static_cast<int>(m.integer("sequence", 1, 1 << 24, true).value_or(1));
  cfg.vocabulary = static_cast<int>(m.integer("vocabulary", 1, 1 << 26, true).value_or(1));
  cfg.ffn = static_cast<int>(m.integer("ffn", 1, 1 << 26).value_or(0));
  if (auto p = m.choice("precision", {"fp16", "bf16", "fp32"})) cfg.precision = parse_precision(*p);
  m.finish();
  try {
    validate(cfg);
  } catch (const core::InputError& e) {
    for (const auto& d : e.diagnostics())
      m.error_here(fmt::format("'{}': {}", d.field, d.message));
    return std::nullopt;
  }
  return cfg;
}

// `costs: {OP: {model: kernel-trace, trace: FOLDER, kernels: [ids]}}` prices OP (every run of it) by the
// kernel model's prediction of those traced kernels on the placement's GPU.
void read_op_costs(const YAML::Node& costs, const core::Scope& scope, MapReader& r, TrainingSpec& spec) {
  if (!costs.IsMap()) {
    r.error("costs", "expected a mapping 'op: {model: kernel-trace, trace: FOLDER, kernels: [ids]}'");
    return;
  }
  const ParallelLayout& l = spec.layout;
  std::vector<std::string> known;
  for (const BlockOps& b :
       {layer_ops(spec.model, std::max(1, l.micro_batch), std::max(1, l.tensor), l.recompute),
        embedding_ops(spec.model, std::max(1, l.micro_batch), std::max(1, l.tensor)),
        output_ops(spec.model, std::max(1, l.micro_batch), std::max(1, l.tensor))})
    for (const auto* list : {&b.forward, &b.backward})
      for (const Op& op : *list)
        if (std::find(known.begin(), known.end(), op.name) == known.end()) known.push_back(op.name);
  for (auto it = costs.begin(); it != costs.end(); ++it) {
    const std::string op = it->first.Scalar();
    MapReader c(it->second, scope.child("costs", op));
    if (std::find(known.begin(), known.end(), op) == known.end()) {
      r.error("costs", fmt::format("'{}' is not an op of this model{} (ops: {})", op,
                                   core::did_you_mean(op, known), fmt::join(known, ", ")));
      continue;
    }
    c.choice("model", {"kernel-trace"}, true);
    auto trace = c.string("trace", true);
    std::vector<int> ids;
    for (const auto& k : core::items_of(c.node("kernels"))) {
      auto v = k.IsScalar() ? core::parse_integer(k.Scalar()) : std::nullopt;
      if (!v || *v < 1 || *v > 1'000'000)
        c.error("kernels", "expected kernel ids, e.g. [1, 2]");
      else
        ids.push_back(static_cast<int>(*v));
    }
    c.finish();
    if (!trace || spec.gpu_model.empty()) continue;
    const std::string dir =
        (std::filesystem::path(scope.file).parent_path() / *trace).lexically_normal().string();
    try {
      const double seconds =
          cost::kernel_trace_seconds(dir, ids, platform::find_models_dir(scope.file), spec.gpu_model);
      spec.op_costs[op] = {seconds,
                           fmt::format("{} kernels [{}] on {}", dir, fmt::join(ids, ", "), spec.gpu_model)};
    } catch (const core::InputError& e) {
      c.error("trace", e.what());
    }
  }
}

}  // namespace

TrainingSpec parse_training(const YAML::Node& workload, const core::Scope& scope,
                            const platform::PlatformSpec& platform) {
  TrainingSpec spec;
  MapReader r(workload, scope);
  r.string("kind");
  YAML::Node model = r.node("model");
  bool model_ok = false;
  if (!model.IsDefined())
    r.error("model", fmt::format("missing: a preset ({}) or {{layers, hidden, heads, sequence, vocabulary}}",
                                 fmt::join(preset_names(), ", ")));
  else if (auto cfg = read_model(model, scope, r))
    spec.model = *cfg, model_ok = true;

  ParallelLayout& l = spec.layout;
  YAML::Node parallel = r.node("parallel");
  if (!parallel.IsDefined()) {
    r.error("parallel", "missing: {tensor, pipeline, data, micro_batch, global_batch, ...}");
  } else {
    MapReader p(parallel, scope.child("parallel", ""));
    l.tensor = static_cast<int>(p.integer("tensor", 1, 1 << 16).value_or(1));
    l.pipeline = static_cast<int>(p.integer("pipeline", 1, 1 << 16).value_or(1));
    l.data = static_cast<int>(p.integer("data", 1, 1 << 20).value_or(1));
    l.micro_batch = static_cast<int>(p.integer("micro_batch", 1, 1 << 20, true).value_or(1));
    l.global_batch = static_cast<int>(p.integer("global_batch", 1, 1 << 26, true).value_or(1));
    l.virtual_stages = static_cast<int>(p.integer("virtual_stages", 1, 1024).value_or(1));
    if (auto rc = p.choice("recompute", {"none", "selective", "full"})) l.recompute = parse_recompute(*rc);
    l.zero_stage = static_cast<int>(p.integer("zero", 0, 1).value_or(0));
    if (auto b = p.quantity("bucket", core::Dimension::size)) l.bucket_bytes = *b;
    if (auto o = p.boolean("overlap_grad_allreduce")) l.overlap_grad_allreduce = *o;
    if (auto sg = p.boolean("scatter_gather")) spec.scatter_gather = *sg;
    p.finish();
  }

  YAML::Node schedule = r.node("schedule");
  std::string schedule_name = "1f1b";
  const std::vector<std::string> kinds{"gpipe", "1f1b", "interleaved-1f1b", "chimera"};
  if (schedule.IsScalar()) {
    if (auto k = r.choice("schedule", kinds)) schedule_name = *k;
  } else if (schedule.IsDefined()) {
    MapReader s(schedule, scope.child("schedule", ""));
    if (auto k = s.choice("kind", kinds, true)) schedule_name = *k;
    if (auto v = s.choice("variant", {"direct", "forward-doubling", "backward-halving"}))
      spec.variant = parse_chimera_variant(*v);
    s.finish();
  }
  spec.schedule = parse_schedule_kind(schedule_name);

  if (auto mode = r.choice("mode", {"symmetric", "full", "full-exact"})) {
    spec.full = *mode != "symmetric";
    spec.fused = *mode != "full-exact";
  }
  // Placement: the GPUs the job runs on (every GPU of the platform unless node/GPU ranges or a host pattern
  // say otherwise), numbered in that order, and how ranks map onto them (the axis order).
  YAML::Node placement = r.node("placement");
  platform::HostSelection selection;
  if (placement.IsDefined()) {
    MapReader pl(placement, scope.child("placement", ""));
    YAML::Node order = pl.node("order");
    if (order.IsSequence() && order.size() == 3) {
      for (size_t i = 0; i < 3; ++i) {
        std::string axis = order[i].IsScalar() ? order[i].Scalar() : "";
        if (axis == "tensor" || axis == "pipeline" || axis == "data")
          l.order[i] = axis == "tensor" ? Axis::tensor : axis == "pipeline" ? Axis::pipeline : Axis::data;
        else
          pl.error("order", fmt::format("'{}' is not an axis (tensor, pipeline, data)", axis));
      }
    } else if (order.IsDefined()) {
      pl.error("order", "expected the three axes fastest first, e.g. [tensor, pipeline, data]");
    }
    selection = platform::read_host_selection(pl);
    pl.finish();
  } else {
    selection.where = r.location();
  }
  YAML::Node costs = r.node("costs");
  r.finish();

  // All of one GPU model (the cost model prices one GPU); GPUs per node is what a node contributes.
  std::map<long, int> per_node;
  const auto nodes = platform::node_instances(platform);
  for (auto& [host, node] : platform::select_hosts(platform, selection, true, *scope.diag, "placement")) {
    const platform::NodeInstance& n = nodes[static_cast<size_t>(node)];
    if (spec.gpu_model.empty()) spec.gpu_model = n.type->gpu_model;
    if (n.type->gpu_model != spec.gpu_model) {
      r.error_here(fmt::format("the placement mixes GPU models ({} and {}); training runs on one model",
                               spec.gpu_model, n.type->gpu_model));
      break;
    }
    spec.gpu_hosts.push_back(std::move(host));
    ++per_node[node];
  }
  for (const auto& [node, count] : per_node)
    spec.gpus_per_node = std::max(spec.gpus_per_node, count);
  if (costs.IsDefined() && model_ok) read_op_costs(costs, scope, r, spec);

  if (model_ok) {
    LayoutContext context{spec.model.layers,     spec.model.hidden, spec.model.heads,
                          spec.model.ffn_size(), schedule_name,     static_cast<long>(spec.gpu_hosts.size()),
                          spec.gpus_per_node};
    for (const auto& e : layout_errors(l, context))
      r.error("parallel", e);
    spec.warnings = layout_warnings(l, context);
  }
  return spec;
}

}  // namespace whatif::training
