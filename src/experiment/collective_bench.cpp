// collective-bench: parsing and validation of the workload, participant selection (no SimGrid here).
#include "experiment/collective_bench.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>

#include "platform/selection.hpp"
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
  platform::HostSelection selection;
  if (part.IsDefined()) {
    MapReader p(part, scope.child("participants", ""));
    selection = platform::read_host_selection(p);
    p.finish();
  }
  selection.where = r.location("participants");
  for (auto& [host, node] : platform::select_hosts(platform, selection, false, *scope.diag, "participants"))
    spec.participants.push_back({std::move(host), node});
  if (spec.root >= static_cast<int>(std::max<size_t>(spec.participants.size(), 1)))
    r.error("root", fmt::format("rank {} does not exist: there are {} participants", spec.root,
                                spec.participants.size()));
  r.finish();
  return spec;
}

}  // namespace whatif::experiment
