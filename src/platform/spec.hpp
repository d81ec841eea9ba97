// PlatformSpec: the validated, SimGrid-free description of a platform, resolved against the catalogs.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/diagnostics.hpp"
#include "platform/catalog.hpp"

namespace whatif::platform {

struct NvlinkPair {
  std::string a, b;  // "gpu3" or "cpu0" (the CPU socket)
  int count = 1;
  core::Location location;
};

struct PcieElement {
  std::string name;
  std::string kind;    // root-complex | switch | host-bridge
  std::string parent;  // cpuN for a root complex, else another element
  std::string link;    // link model of the uplink to the parent
  core::Location location;
};

struct NicSpec {
  std::string name;
  std::string link;
  int ports = 1;
  std::string attach;             // PCIe element (or cpuN) it hangs from
  std::vector<std::string> gpus;  // GPUs whose inter-node traffic it carries
  core::Location location;
};

enum class IntraKind { none, point_to_point, nvswitch };

struct NodeTypeSpec {
  std::string name;
  core::Location location;
  std::string cpu_model;
  bool cpus_declared = false;  // a missing 'cpus' is reported once, not again as an unknown model
  int cpu_count = 1;
  std::string cpu_interconnect;  // link between sockets (may be empty for one socket)
  // Transport between processes on one socket (MPI's shared-memory channel): a loopback route per CPU host.
  // Empty: such processes cannot exchange messages.
  std::string cpu_shared_memory;
  double host_memory = 0;
  std::string gpu_model;  // may be empty (CPU-only nodes)
  int gpu_count = 0;
  IntraKind intra = IntraKind::none;
  std::string nvlink_link;
  int links_per_gpu = 0;  // NVSwitch
  std::vector<NvlinkPair> nvlink_pairs;
  std::string pcie_link;
  std::vector<PcieElement> pcie_tree;
  std::map<std::string, std::string> attach;  // gpuN / nicname -> PCIe element or cpuN
  std::vector<NicSpec> nics;
};

struct GroupSpec {
  std::string name;
  std::string type;
  int count = 1;
  core::Location location;
};

enum class Topology { none, star, fat_tree, dragonfly, torus };

struct NetworkSpec {
  Topology topology = Topology::none;
  std::string link;
  // Parallel network planes (multi-rail fabrics such as DGX clusters' 8 rails): each network link carries
  // rails x the link model's bandwidth. A node's own traffic is still bounded by its NICs.
  int rails = 1;
  // fat-tree (explicit, or derived from switch_radix when levels == 0)
  int levels = 0;
  std::vector<int> down, up, parallel;
  int switch_radix = 0;
  // dragonfly: (count, links) per level and nodes per router
  std::pair<int, int> groups{0, 0}, chassis{0, 0}, routers{0, 0};
  int nodes_per_router = 0;
  // torus
  std::vector<int> dimensions;
  core::Location location;
};

struct SiteSpec {
  std::string name;
  std::vector<GroupSpec> groups;
  NetworkSpec network;
  core::Location location;
};

struct WanSpec {
  std::string a, b;
  double bandwidth = 0, latency = 0;
  core::Location location;
};

struct PlatformSpec {
  std::string name, description, file;
  core::Parameters parameters;  // resolved values (defaults overridden by the user)
  std::vector<NodeTypeSpec> node_types;
  std::vector<SiteSpec> sites;  // one implicit site when the file has none
  std::vector<WanSpec> wan;
  std::map<std::string, LinkModel> links;  // every link model used (catalog or platform-local)
  std::map<std::string, GpuModel> gpus;
  std::map<std::string, CpuModel> cpus;
  std::string models_dir;

  const NodeTypeSpec& node_type(const std::string& name) const;
  const LinkModel& link(const std::string& name) const { return links.at(name); }
  long total_nodes() const;
  long total_gpus() const;
};

// A node instance: the i-th node of the platform, in site/group order.
struct NodeInstance {
  std::string name;  // "<group><index>"
  const NodeTypeSpec* type = nullptr;
  int site = 0;
  long index = 0;  // global node index
};

std::vector<NodeInstance> node_instances(const PlatformSpec& spec);

// Host names of a node's devices, shared by the builder, reports and participant selection.
std::string gpu_host_name(const std::string& node, int gpu);
std::string cpu_host_name(const std::string& node, int cpu);

// Parses, resolves and validates a platform file. `overrides` replace parameter defaults. Throws InputError
// listing every problem.
PlatformSpec load_platform(const std::string& file, const core::Parameters& overrides = {});

}  // namespace whatif::platform
