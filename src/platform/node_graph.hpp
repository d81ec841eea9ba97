// The inside of a node as a graph (devices, PCIe elements, switches) and the routes between its endpoints.
#pragma once

#include <string>
#include <vector>

#include "platform/spec.hpp"

namespace whatif::platform {

enum class VertexKind { gpu, cpu, router, gateway };

struct NodeVertex {
  std::string name;  // gpu3, cpu0, socket0, sw1, nvswitch, gateway
  VertexKind kind;
  int index = -1;  // device index for gpu/cpu
};

// A full-duplex link: `bandwidth` in each direction.
struct NodeEdge {
  std::string name;  // unique inside the node, e.g. "nvlink.gpu0-gpu1"
  int u = 0, v = 0;
  double bandwidth = 0, latency = 0;
  std::string model;  // link model name ("" for memory paths)
};

struct Hop {
  int edge;
  bool forward;  // true: u -> v
};

struct NodeGraph {
  std::vector<NodeVertex> vertices;
  std::vector<NodeEdge> edges;
  std::vector<int> endpoints;  // vertices that are hosts or the gateway, in a fixed order
  int gateway = -1;
  // routes[i][j]: from endpoints[i] to endpoints[j] (empty when i == j)
  std::vector<std::vector<std::vector<Hop>>> routes;

  int endpoint_of(VertexKind kind, int index) const;
  double route_bandwidth(int from, int to) const;  // bottleneck, B/s
  double route_latency(int from, int to) const;    // sum, s
};

// Builds the graph of a node type and computes every endpoint-to-endpoint route: the fastest path where
// devices do not forward traffic, and a GPU's traffic to the gateway leaves through the NIC it is affine to.
// Throws InputError when two endpoints have no path.
NodeGraph build_node_graph(const NodeTypeSpec& type, const PlatformSpec& spec, bool with_gateway);

}  // namespace whatif::platform
