// Choosing hosts of a platform for a workload: every GPU, node and GPU index ranges, or a host-name pattern.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/yaml.hpp"
#include "platform/spec.hpp"

namespace whatif::platform {

struct HostSelection {
  std::string pattern;        // fnmatch over host names; excludes the ranges
  std::string nodes = "all";  // node indices, in this order ("0-3,6")
  std::string gpus = "all";   // GPU indices within each selected node, in this order
  core::Location where;       // the mapping it was read from (or its parent's key), for errors
};

struct SelectedHost {
  std::string host;
  long node = 0;  // global node index
};

// Reads the `hosts`, `nodes` and `gpus` fields of the mapping `reader` reads (the caller finishes it).
HostSelection read_host_selection(core::MapReader& reader);

// The selected hosts in rank order: nodes in the order given, within each node its GPUs in the order given;
// a pattern takes every matching host (CPUs too unless gpus_only) in node order. Problems (bad ranges,
// nothing selected) go to `diag` as errors of `entity`.
std::vector<SelectedHost> select_hosts(const PlatformSpec& platform, const HostSelection& selection,
                                       bool gpus_only, core::Diagnostics& diag, const std::string& entity);

// "0-3,6" -> {0, 1, 2, 3, 6}: comma-separated indices and inclusive ranges, each below `limit`, kept in the
// order given, repeats dropped; nullopt when malformed or out of range.
std::optional<std::vector<long>> parse_index_ranges(const std::string& text, long limit);

}  // namespace whatif::platform
