// Human and machine-readable descriptions of a platform: summary, per-node GPU matrices, Graphviz export.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "platform/spec.hpp"

namespace whatif::platform {

// Everything `whatif platform show` prints, as JSON (hosts are listed up to `max_hosts`).
nlohmann::json describe_platform(const PlatformSpec& spec, long max_hosts = 64);

// The same as aligned text.
std::string render_description(const nlohmann::json& description);

// Graphviz DOT: one cluster per node type with its devices and links, and the network as one vertex per
// group (a 560-node cluster stays readable).
std::string platform_dot(const PlatformSpec& spec);

std::string topology_name(Topology t);

}  // namespace whatif::platform
