// Turns a PlatformSpec into SimGrid zones, hosts and links: the only caller of SimGrid's platform API.
#pragma once

#include <string>
#include <vector>

#include "platform/spec.hpp"

namespace whatif::platform {

struct BuildSummary {
  long nodes = 0, hosts = 0, gpus = 0;
  long links = 0;   // SimGrid links (a full-duplex link is two, one per direction), network links included
  long routes = 0;  // explicit routes inside nodes
};

// Builds the platform into the process's SimGrid engine (a SimEngine must exist). Call once per process.
// Hosts are named <node>.gpuN and <node>.cpuN; each carries properties kind (gpu|cpu), node, node_index,
// index (device index in the node), site and model.
BuildSummary build_platform(const PlatformSpec& spec);

}  // namespace whatif::platform
