// collective-bench: parsing and validation of the workload, participant selection (no SimGrid here).
#include "experiment/collective_bench.hpp"

#include <fmt/format.h>
#include <fnmatch.h>
#include <algorithm>
#include <cmath>

#include "sim/collectives.hpp"

namespace whatif::experiment {

using core::Dimension;
using core::MapReader;

namespace {
constexpr size_t kMaxSizes = 128;
constexpr double kMaxBytes = 1e15;

std::vector<std::string> names_of(auto span) {
  std::vector<std::string> out;
  for (auto v : span)
    out.emplace_back(sim::to_string(v));
  return out;
}
}  // namespace

std::optional<std::vector<long>> parse_index_ranges(const std::string& text, long limit) {
  std::vector<long> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    part.erase(std::remove(part.begin(), part.end(), ' '), part.end());
    size_t dash = part.find('-');
    auto lo = core::parse_integer(part.substr(0, dash));
    auto hi = dash == std::string::npos ? lo : core::parse_integer(part.substr(dash + 1));
    if (!lo || !hi || *lo < 0 || *hi < *lo || *hi >= limit) return std::nullopt;
    for (long i = *lo; i <= *hi; ++i)
      out.push_back(i);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  // Order is kept (it is the rank order, e.g. an NVLink ring); repeats are dropped.
  std::vector<long> unique;
  for (long v : out)
    if (std::find(unique.begin(), unique.end(), v) == unique.end()) unique.push_back(v);
  return unique;
}

CollectiveBenchSpec parse_collective_bench(const YAML::Node& workload, const core::Scope& scope,
                                           const platform::PlatformSpec& platform) {
  CollectiveBenchSpec spec;
  MapReader r(workload, scope);
  r.string("kind");
  std::vector<std::string> ops = names_of(sim::all_collective_ops());
  if (auto op = r.choice("operation", ops, true)) spec.operation = *op;
  std::vector<std::string> algos;
  if (!spec.operation.empty())
    algos = names_of(sim::algorithms_for(sim::parse_collective_op(spec.operation)));
  algos.push_back("auto");
  spec.algorithm_location = r.location("algorithm");
  if (auto a = r.choice("algorithm", algos)) spec.algorithm = *a;
  if (auto a = r.choice("inter_node_algorithm", names_of(sim::algorithms_for(sim::CollectiveOp::allreduce))))
    spec.inter_node_algorithm = *a;
  if (auto root = r.integer("root", 0, 1 << 30)) spec.root = static_cast<int>(*root);
  if (auto chunk = r.quantity("chunk", Dimension::size)) {
    if (*chunk < 1 || *chunk > kMaxBytes)
      r.error("chunk", "must be between 1B and 1PB");
    else
      spec.chunk_bytes = static_cast<std::uint64_t>(*chunk);
  }

  YAML::Node sizes = r.node("sizes");
  if (!sizes.IsDefined()) {
    r.error("sizes", "missing required field ({from: 8B, to: 1GiB, factor: 2} or a list of sizes)");
  } else if (sizes.IsSequence()) {
    for (const auto& s : sizes) {
      auto text = core::scalar_text(s, scope, "sizes");
      if (!text) continue;
      try {
        double v = core::parse_quantity(*text, Dimension::size);
        if (v < 1 || v > kMaxBytes)
          scope.diag->error(core::location_of(scope.file, s), scope.entity, scope.name, "sizes",
                            fmt::format("'{}' is not between 1B and 1PB", *text));
        else
          spec.sizes.push_back(static_cast<std::uint64_t>(v));
      } catch (const core::UnitError& e) {
        scope.diag->error(core::location_of(scope.file, s), scope.entity, scope.name, "sizes", e.what());
      }
    }
  } else {
    MapReader s(sizes, scope);
    auto from = s.quantity("from", Dimension::size, core::Sign::positive, true);
    auto to = s.quantity("to", Dimension::size, core::Sign::positive, true);
    auto factor = s.number("factor", 1.0001, 1e6);
    s.finish();
    double f = factor.value_or(2.0);
    if (from && to) {
      if (*from < 1 || *to > kMaxBytes) {
        s.error("to", "sizes must lie between 1B and 1PB");
      } else if (*to < *from) {
        s.error("to", "must not be smaller than 'from'");
      } else {
        for (double v = *from; v <= *to * (1 + 1e-9) && spec.sizes.size() <= kMaxSizes; v *= f)
          spec.sizes.push_back(static_cast<std::uint64_t>(std::llround(v)));
      }
    }
  }
  if (spec.sizes.size() > kMaxSizes) r.error("sizes", fmt::format("more than {} sizes", kMaxSizes));
  if (sizes.IsDefined() && spec.sizes.empty() && !scope.diag->has_errors()) r.error("sizes", "no size given");

  // Participants: all GPUs by default; or node and GPU index ranges; or a host-name pattern.
  YAML::Node part = r.node("participants");
  std::string hosts_pattern, node_ranges = "all", gpu_ranges = "all";
  core::Location part_loc = r.location("participants");
  if (part.IsDefined()) {
    MapReader p(part, scope.child("participants", ""));
    if (auto h = p.string("hosts")) hosts_pattern = *h;
    if (auto n = p.string("nodes")) node_ranges = *n;
    if (auto g = p.string("gpus")) gpu_ranges = *g;
    if (!hosts_pattern.empty() && (p.has("nodes") || p.has("gpus")))
      p.error("hosts", "give either a host pattern or node/gpu ranges, not both");
    p.finish();
  }
  auto nodes = platform::node_instances(platform);
  if (!hosts_pattern.empty()) {
    for (const auto& n : nodes) {
      for (int c = 0; c < n.type->cpu_count; ++c) {
        std::string h = platform::cpu_host_name(n.name, c);
        if (fnmatch(hosts_pattern.c_str(), h.c_str(), 0) == 0) spec.participants.push_back({h, n.index});
      }
      for (int g = 0; g < n.type->gpu_count; ++g) {
        std::string h = platform::gpu_host_name(n.name, g);
        if (fnmatch(hosts_pattern.c_str(), h.c_str(), 0) == 0) spec.participants.push_back({h, n.index});
      }
    }
  } else {
    std::vector<long> node_order;
    if (node_ranges == "all") {
      for (const auto& n : nodes)
        node_order.push_back(n.index);
    } else if (auto set = parse_index_ranges(node_ranges, static_cast<long>(nodes.size()))) {
      node_order = *set;
    } else {
      scope.diag->error(part_loc, "participants", "", "nodes",
                        fmt::format("'{}' is not a list of node ranges within 0..{} (e.g. \"0-3,6\")",
                                    node_ranges, nodes.size() - 1));
    }
    for (long index : node_order) {
      const auto& n = nodes[static_cast<size_t>(index)];
      if (n.type->gpu_count == 0) continue;
      std::vector<long> gpu_order;
      if (gpu_ranges == "all") {
        for (int g = 0; g < n.type->gpu_count; ++g)
          gpu_order.push_back(g);
      } else if (auto set = parse_index_ranges(gpu_ranges, n.type->gpu_count)) {
        gpu_order = *set;
      } else {
        scope.diag->error(part_loc, "participants", "", "gpus",
                          fmt::format("'{}' is not a list of GPU ranges within 0..{} of node type '{}'",
                                      gpu_ranges, n.type->gpu_count - 1, n.type->name));
        break;
      }
      for (long g : gpu_order)
        spec.participants.push_back({platform::gpu_host_name(n.name, static_cast<int>(g)), n.index});
    }
  }
  if (spec.participants.empty() && !scope.diag->has_errors())
    scope.diag->error(part_loc, "participants", "", hosts_pattern.empty() ? "gpus" : "hosts",
                      hosts_pattern.empty() ? "selects no GPU of the platform"
                                            : fmt::format("pattern '{}' matches no host", hosts_pattern));
  if (spec.root >= static_cast<int>(std::max<size_t>(spec.participants.size(), 1)))
    r.error("root", fmt::format("rank {} does not exist: there are {} participants", spec.root,
                                spec.participants.size()));
  r.finish();
  return spec;
}

}  // namespace whatif::experiment
