// SimGrid platform construction: one full zone per node (routes from node_graph), cluster zones between
// nodes.
#include "platform/builder.hpp"

#include <fmt/format.h>
#include <map>
#include <simgrid/kernel/routing/NetZoneImpl.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Host.hpp>
#include <simgrid/s4u/Link.hpp>
#include <simgrid/s4u/NetZone.hpp>

#include "platform/node_graph.hpp"
#include "platform/topology.hpp"

namespace whatif::platform {

namespace sg = simgrid::s4u;
using simgrid::kernel::routing::NetPoint;

namespace {

class PlatformBuilder {
 public:
  explicit PlatformBuilder(const PlatformSpec& spec) : spec_(spec) {}

  BuildSummary build() {
    auto nodes = node_instances(spec_);
    bool any_network = false;
    for (const auto& site : spec_.sites)
      any_network |= site.network.topology != Topology::none;
    for (const auto& t : spec_.node_types)
      graphs_.emplace(t.name, build_node_graph(t, spec_, any_network));
    std::vector<std::vector<const NodeInstance*>> by_site(spec_.sites.size());
    for (const auto& n : nodes)
      by_site[n.site].push_back(&n);

    if (!any_network) {
      // One node and no network: the node zone is the root.
      build_node(*by_site[0].front(), nullptr).first->seal();
    } else {
      sg::NetZone* world = sg::create_full_zone("world");
      std::vector<std::pair<sg::NetZone*, NetPoint*>> sites;
      for (size_t s = 0; s < spec_.sites.size(); ++s)
        sites.push_back(build_site(s, by_site[s], world));
      if (sites.size() > 1) add_wan_routes(world, sites);
      world->seal();
    }
    summary_.nodes = static_cast<long>(nodes.size());
    summary_.links = static_cast<long>(sg::Engine::get_instance()->get_link_count());
    return summary_;
  }

 private:
  // Builds one site under `world`; returns its zone and its border router (for WAN routes).
  //
  // SimGrid 3.32 checks each new host and link name against every zone reachable from the root, and sealing a
  // zone scans every host reachable from the root: building nodes inside an attached cluster costs O(nodes^2)
  // (25 s for 4 608 nodes). So a site is built in a staging zone that is not attached yet (it gets the root's
  // models by hand), each node zone is sealed while the root does not see it, and the staging zone is
  // attached last, unsealed, so that sealing the world seals only what is left.
  std::pair<sg::NetZone*, NetPoint*> build_site(size_t s, const std::vector<const NodeInstance*>& nodes,
                                                sg::NetZone* world) {
    const SiteSpec& site = spec_.sites[s];
    const NetworkSpec& net = site.network;
    bool multi_site = spec_.sites.size() > 1;
    std::string site_name = multi_site ? site.name : spec_.name;
    sg::NetZone* staging = sg::create_full_zone(site_name + ".site");
    auto* impl = staging->get_impl();
    const auto* root = world->get_impl();
    impl->set_network_model(root->get_network_model());
    impl->set_cpu_pm_model(root->get_cpu_pm_model());
    impl->set_cpu_vm_model(root->get_cpu_vm_model());
    impl->set_disk_model(root->get_disk_model());
    impl->set_host_model(root->get_host_model());

    long leaves = static_cast<long>(nodes.size()) + (multi_site ? 1 : 0);
    NetPoint* border = nullptr;
    auto netpoint_cb = [&](sg::NetZone* zone, const std::vector<unsigned long>&,
                           unsigned long id) -> std::pair<NetPoint*, NetPoint*> {
      if (id < nodes.size()) {
        auto [node_zone, gw] = build_node(*nodes[id], zone);
        node_zone->seal();
        return {node_zone->get_netpoint(), gw};
      }
      if (multi_site && id == nodes.size()) {
        // Cluster zones route only between leaves that have a gateway: the border router gets a zone of its
        // own.
        sg::NetZone* border_zone = sg::create_full_zone(site_name + ".border");
        border_zone->set_parent(zone);
        border = border_zone->create_router(site_name + ".gw");
        border_zone->seal();
        return {border_zone->get_netpoint(), border};
      }
      return {zone->create_router(fmt::format("{}.leaf{}", site_name, id)), nullptr};
    };
    sg::ClusterCallbacks callbacks(netpoint_cb);
    const LinkModel& link = spec_.link(net.link);
    double bw = link.bandwidth.value * net.rails, lat = link.latency.value;
    auto policy = sg::Link::SharingPolicy::SPLITDUPLEX;
    sg::NetZone* zone = nullptr;
    if (net.topology == Topology::dragonfly) {
      sg::DragonflyParams params(
          {static_cast<unsigned>(net.groups.first), static_cast<unsigned>(net.groups.second)},
          {static_cast<unsigned>(net.chassis.first), static_cast<unsigned>(net.chassis.second)},
          {static_cast<unsigned>(net.routers.first), static_cast<unsigned>(net.routers.second)},
          static_cast<unsigned>(net.nodes_per_router));
      zone = sg::create_dragonfly_zone(site_name, staging, params, callbacks, bw, lat, policy);
    } else if (net.topology == Topology::torus) {
      std::vector<unsigned long> dims(net.dimensions.begin(), net.dimensions.end());
      zone = sg::create_torus_zone(site_name, staging, dims, callbacks, bw, lat, policy);
    } else {
      FatTreeShape shape = fat_tree_shape(net, leaves);
      sg::FatTreeParams params(shape.levels, shape.down, shape.up, shape.parallel);
      zone = sg::create_fatTree_zone(site_name, staging, params, callbacks, bw, lat, policy);
    }
    zone->seal();
    staging->set_parent(world);
    return {staging, border};
  }

  std::vector<sg::Link*> create_node_links(const NodeInstance& node, sg::NetZone* zone) {
    const NodeGraph& g = graphs_.at(node.type->name);
    std::vector<sg::Link*> links;
    links.reserve(g.edges.size());
    for (const auto& e : g.edges) {
      sg::Link* l = zone->create_split_duplex_link(node.name + "." + e.name, e.bandwidth);
      l->set_latency(e.latency);
      l->seal();
      links.push_back(l);
    }
    return links;
  }

  // Builds a node's zone, hosts, links and routes (the caller seals it).
  std::pair<sg::NetZone*, NetPoint*> build_node(const NodeInstance& node, sg::NetZone* parent) {
    const NodeTypeSpec& t = *node.type;
    const NodeGraph& g = graphs_.at(t.name);
    sg::NetZone* zone = sg::create_full_zone(node.name);
    if (parent != nullptr) zone->set_parent(parent);
    std::vector<NetPoint*> points(g.vertices.size(), nullptr);
    const GpuModel* gpu = t.gpu_model.empty() ? nullptr : &spec_.gpus.at(t.gpu_model);
    const CpuModel& cpu = spec_.cpus.at(t.cpu_model);
    std::string site = spec_.sites[node.site].name;
    for (int v : g.endpoints) {
      const NodeVertex& vx = g.vertices[v];
      if (vx.kind == VertexKind::gateway) {
        points[v] = zone->create_router(node.name + ".gw");
        continue;
      }
      sg::Host* host = nullptr;
      if (vx.kind == VertexKind::gpu) {
        host = zone->create_host(gpu_host_name(node.name, vx.index), gpu->half_precision_peak());
        host->set_property("kind", "gpu");
        host->set_property("model", gpu->name);
        ++summary_.gpus;
      } else {
        host = zone->create_host(cpu_host_name(node.name, vx.index), cpu.peak_fp64.value / cpu.cores.value);
        host->set_core_count(static_cast<int>(cpu.cores.value));
        host->set_property("kind", "cpu");
        host->set_property("model", cpu.name);
        if (!t.cpu_shared_memory.empty()) host->set_property("shared_memory", t.cpu_shared_memory);
      }
      host->set_property("node", node.name);
      host->set_property("node_index", std::to_string(node.index));
      host->set_property("index", std::to_string(vx.index));
      host->set_property("site", site);
      host->seal();
      points[v] = host->get_netpoint();
      ++summary_.hosts;
    }
    std::vector<sg::Link*> links = create_node_links(node, zone);
    std::vector<sg::LinkInRoute> route;
    for (size_t i = 0; i < g.endpoints.size(); ++i)
      for (size_t j = 0; j < g.endpoints.size(); ++j) {
        if (i == j) continue;
        route.clear();
        for (const Hop& h : g.routes[i][j])
          route.emplace_back(links[h.edge],
                             h.forward ? sg::LinkInRoute::Direction::UP : sg::LinkInRoute::Direction::DOWN);
        zone->add_route(points[g.endpoints[i]], points[g.endpoints[j]], nullptr, nullptr, route, false);
        ++summary_.routes;
      }
    // Processes on one socket talk through shared memory: a route from the socket's host to itself.
    if (!t.cpu_shared_memory.empty()) {
      const LinkModel& shm = spec_.link(t.cpu_shared_memory);
      for (int v : g.endpoints) {
        const NodeVertex& vx = g.vertices[v];
        if (vx.kind != VertexKind::cpu) continue;
        sg::Link* l = zone->create_link(cpu_host_name(node.name, vx.index) + ".shm", shm.bandwidth.value)
                          ->set_latency(shm.latency.value)
                          ->seal();
        zone->add_route(points[v], points[v], nullptr, nullptr, {sg::LinkInRoute(l)}, false);
        ++summary_.routes;
      }
    }
    return {zone, g.gateway >= 0 ? points[g.gateway] : nullptr};
  }

  // Full routes between every pair of sites, along the WAN path with the least latency.
  void add_wan_routes(sg::NetZone* world, const std::vector<std::pair<sg::NetZone*, NetPoint*>>& sites) {
    size_t n = sites.size();
    std::map<std::string, size_t> index;
    for (size_t s = 0; s < n; ++s)
      index[spec_.sites[s].name] = s;
    std::vector<sg::Link*> wan_links;
    std::vector<std::vector<std::pair<size_t, size_t>>> adj(n);  // (neighbour, wan index)
    for (size_t w = 0; w < spec_.wan.size(); ++w) {
      const WanSpec& spec = spec_.wan[w];
      sg::Link* l = world->create_split_duplex_link(fmt::format("wan.{}-{}", spec.a, spec.b), spec.bandwidth);
      l->set_latency(spec.latency);
      l->seal();
      wan_links.push_back(l);
      adj[index[spec.a]].push_back({index[spec.b], w});
      adj[index[spec.b]].push_back({index[spec.a], w});
    }
    for (size_t src = 0; src < n; ++src) {
      // Dijkstra on latency over the (small) site graph.
      std::vector<double> dist(n, 1e300);
      std::vector<std::pair<size_t, size_t>> pred(n, {n, 0});
      std::vector<bool> done(n, false);
      dist[src] = 0;
      for (size_t iter = 0; iter < n; ++iter) {
        size_t u = n;
        for (size_t v = 0; v < n; ++v)
          if (!done[v] && (u == n || dist[v] < dist[u])) u = v;
        if (u == n || dist[u] >= 1e300) break;
        done[u] = true;
        for (auto [v, w] : adj[u])
          if (dist[u] + spec_.wan[w].latency < dist[v]) {
            dist[v] = dist[u] + spec_.wan[w].latency;
            pred[v] = {u, w};
          }
      }
      for (size_t dst = 0; dst < n; ++dst) {
        if (dst == src) continue;
        std::vector<sg::LinkInRoute> route;
        for (size_t v = dst; v != src; v = pred[v].first) {
          const WanSpec& w = spec_.wan[pred[v].second];
          bool forward = index[w.a] == pred[v].first;
          route.emplace_back(wan_links[pred[v].second],
                             forward ? sg::LinkInRoute::Direction::UP : sg::LinkInRoute::Direction::DOWN);
        }
        std::reverse(route.begin(), route.end());
        world->add_route(sites[src].first->get_netpoint(), sites[dst].first->get_netpoint(),
                         sites[src].second, sites[dst].second, route, false);
      }
    }
  }

  const PlatformSpec& spec_;
  std::map<std::string, NodeGraph> graphs_;
  BuildSummary summary_;
};

}  // namespace

BuildSummary build_platform(const PlatformSpec& spec) {
  return PlatformBuilder(spec).build();
}

}  // namespace whatif::platform
