// Builds the sim tests' star and two-level platforms directly with SimGrid, once per process.
#include "test_platform.hpp"

#include <fmt/format.h>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Host.hpp>
#include <simgrid/s4u/Link.hpp>
#include <simgrid/s4u/NetZone.hpp>

#include <stdexcept>

namespace whatif::sim::test {

namespace {

namespace sg4 = simgrid::s4u;
using Direction = sg4::LinkInRoute::Direction;

struct Platform {
  std::vector<sg4::Host*> star;
  std::vector<std::vector<sg4::Host*>> gpus;  // [node][gpu]
};

sg4::Link* duplex(sg4::NetZone* zone, const std::string& name, double bandwidth, double latency) {
  return zone->create_split_duplex_link(name, bandwidth)->set_latency(latency)->seal();
}

Platform build() {
  Platform p;
  auto* zone = sg4::create_full_zone("sim-tests");
  std::vector<sg4::Link*> star_links;
  for (int i = 0; i < kStarHosts; ++i) {
    p.star.push_back(zone->create_host(fmt::format("star{}", i), 1e9));
    star_links.push_back(duplex(zone, fmt::format("star{}-link", i), kBeta, kAlpha / 2));
  }
  for (int i = 0; i < kStarHosts; ++i)
    for (int j = 0; j < kStarHosts; ++j)
      if (i != j)
        zone->add_route(p.star[i]->get_netpoint(), p.star[j]->get_netpoint(), nullptr, nullptr,
                        {{star_links[i], Direction::UP}, {star_links[j], Direction::DOWN}}, false);

  std::vector<std::vector<sg4::Link*>> gpu_links(kNodes);
  std::vector<sg4::Link*> node_links;
  p.gpus.resize(kNodes);
  for (int node = 0; node < kNodes; ++node) {
    node_links.push_back(duplex(zone, fmt::format("node{}-uplink", node), kNodeBeta, kNodeAlpha / 2));
    for (int gpu = 0; gpu < kGpusPerNode; ++gpu) {
      p.gpus[node].push_back(zone->create_host(fmt::format("node{}-gpu{}", node, gpu), 1e9));
      gpu_links[node].push_back(
          duplex(zone, fmt::format("node{}-gpu{}-link", node, gpu), kGpuBeta, kGpuAlpha / 2));
    }
  }
  for (int a = 0; a < kNodes; ++a)
    for (int i = 0; i < kGpusPerNode; ++i)
      for (int b = 0; b < kNodes; ++b)
        for (int j = 0; j < kGpusPerNode; ++j) {
          if (a == b && i == j) continue;
          std::vector<sg4::LinkInRoute> route{{gpu_links[a][i], Direction::UP}};
          if (a != b) {
            route.emplace_back(node_links[a], Direction::UP);
            route.emplace_back(node_links[b], Direction::DOWN);
          }
          route.emplace_back(gpu_links[b][j], Direction::DOWN);
          zone->add_route(p.gpus[a][i]->get_netpoint(), p.gpus[b][j]->get_netpoint(), nullptr, nullptr, route,
                          false);
        }
  zone->seal();
  return p;
}

bool built = false;

const Platform& platform() {
  static const Platform p = [] {
    built = true;
    return build();
  }();
  return p;
}

}  // namespace

bool platform_built() {
  return built || sg4::Engine::get_instance()->get_host_count() > 0;
}

std::vector<sg4::Host*> star_hosts(int n) {
  if (n < 1 || n > kStarHosts) throw std::invalid_argument(fmt::format("star has 1..{} hosts", kStarHosts));
  const auto& star = platform().star;
  return {star.begin(), star.begin() + n};
}

Communicator star_comm(int n) {
  return Communicator(fmt::format("star{}", n), star_hosts(n));
}

Communicator two_level_comm(int nodes, int gpus) {
  if (nodes < 1 || nodes > kNodes || gpus < 1 || gpus > kGpusPerNode)
    throw std::invalid_argument("two-level communicator larger than the platform");
  std::vector<sg4::Host*> hosts;
  std::vector<int> node_of_rank;
  for (int node = 0; node < nodes; ++node)
    for (int gpu = 0; gpu < gpus; ++gpu) {
      hosts.push_back(platform().gpus[node][gpu]);
      node_of_rank.push_back(node);
    }
  return Communicator(fmt::format("two-level{}x{}", nodes, gpus), std::move(hosts), std::move(node_of_rank));
}

double timed_run(const std::function<void()>& spawn) {
  const double start = engine().now();
  spawn();
  engine().run();
  return engine().now() - start;
}

double time_collective(CollectiveOp op, Communicator& comm, std::uint64_t bytes,
                       const CollectiveOptions& options) {
  return timed_run([&] { launch_collective(op, comm, bytes, options); });
}

}  // namespace whatif::sim::test
