// Host selection for workloads: index ranges and host-name patterns over a platform's node instances.
#include "platform/selection.hpp"

#include <fmt/format.h>
#include <fnmatch.h>
#include <algorithm>
#include <unordered_set>

namespace whatif::platform {

HostSelection read_host_selection(core::MapReader& reader) {
  HostSelection s;
  s.where = reader.location();
  if (auto h = reader.string("hosts")) s.pattern = *h;
  if (auto n = reader.string("nodes")) s.nodes = *n;
  if (auto g = reader.string("gpus")) s.gpus = *g;
  if (!s.pattern.empty() && (reader.has("nodes") || reader.has("gpus")))
    reader.error("hosts", "give either a host pattern or node/gpu ranges, not both");
  return s;
}

std::optional<std::vector<long>> parse_index_ranges(const std::string& text, long limit) {
  std::vector<long> out;
  std::unordered_set<long> seen;
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
      if (seen.insert(i).second) out.push_back(i);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::vector<SelectedHost> select_hosts(const PlatformSpec& platform, const HostSelection& selection,
                                       bool gpus_only, core::Diagnostics& diag, const std::string& entity) {
  std::vector<SelectedHost> out;
  auto nodes = node_instances(platform);
  if (!selection.pattern.empty()) {
    auto match = [&](const std::string& h, long node) {
      if (fnmatch(selection.pattern.c_str(), h.c_str(), 0) == 0) out.push_back({h, node});
    };
    for (const auto& n : nodes) {
      if (!gpus_only)
        for (int c = 0; c < n.type->cpu_count; ++c)
          match(cpu_host_name(n.name, c), n.index);
      for (int g = 0; g < n.type->gpu_count; ++g)
        match(gpu_host_name(n.name, g), n.index);
    }
    if (out.empty())
      diag.error(selection.where, entity, "", "hosts",
                 fmt::format("pattern '{}' matches no {}host", selection.pattern, gpus_only ? "GPU " : ""));
    return out;
  }
  std::vector<long> node_order;
  if (selection.nodes == "all") {
    for (const auto& n : nodes)
      node_order.push_back(n.index);
  } else if (auto set = parse_index_ranges(selection.nodes, static_cast<long>(nodes.size()))) {
    node_order = *set;
  } else {
    diag.error(selection.where, entity, "", "nodes",
               fmt::format("'{}' is not a list of node ranges within 0..{} (e.g. \"0-3,6\")", selection.nodes,
                           nodes.size() - 1));
    return out;
  }
  for (long index : node_order) {
    const auto& n = nodes[static_cast<size_t>(index)];
    if (n.type->gpu_count == 0) continue;
    std::vector<long> gpu_order;
    if (selection.gpus == "all") {
      for (int g = 0; g < n.type->gpu_count; ++g)
        gpu_order.push_back(g);
    } else if (auto set = parse_index_ranges(selection.gpus, n.type->gpu_count)) {
      gpu_order = *set;
    } else {
      diag.error(selection.where, entity, "", "gpus",
                 fmt::format("'{}' is not a list of GPU ranges within 0..{} of node type '{}'",
                             selection.gpus, n.type->gpu_count - 1, n.type->name));
      return out;
    }
    for (long g : gpu_order)
      out.push_back({gpu_host_name(n.name, static_cast<int>(g)), n.index});
  }
  if (out.empty()) diag.error(selection.where, entity, "", "gpus", "selects no GPU of the platform");
  return out;
}

}  // namespace whatif::platform
