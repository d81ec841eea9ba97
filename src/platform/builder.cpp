// SimGrid platform construction: one full zone per node (routes from node_graph), cluster zones between
// nodes.
#include "platform/builder.hpp"

#include <fmt/format.h>
#include <map>
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
    bool multi_site = spec_.sites.size() > 1;
    for (const auto& t : spec_.node_types) {
      bool has_network = false;
      for (const auto& s : spec_.sites)
        has_network |= s.network.topology != Topology::none;
      graphs_.emplace(t.name, build_node_graph(t, spec_, has_network));
    }
    std::vector<std::vector<const NodeInstance*>> by_site(spec_.sites.size());
    for (const auto& n : nodes)
      by_site[n.site].push_back(&n);

    bool any_network = false;
    for (const auto& site : spec_.sites)
      any_network |= site.network.topology != Topology::none;
    if (!multi_site && !any_network) {
      build_site(0, by_site[0], nullptr);
    } else if (!multi_site) {
      // The root must exist before the node zones: see build_site.
      sg::NetZone* world = sg::create_full_zone("world");
      build_site(0, by_site[0], world);
      world->seal();
    } else {
      sg::NetZone* world = sg::create_full_zone("world");
      std::vector<std::pair<sg::NetZone*, NetPoint*>> sites;
      for (size_t s = 0; s < spec_.sites.size(); ++s)
        sites.push_back(build_site(s, by_site[s], world));
      add_wan_routes(world, sites);
      world->seal();
    }
    summary_.nodes = static_cast<long>(nodes.size());
    return summary_;
  }

 private:
  // Builds one site; returns its zone and border router (nullptr for a lone site).
  std::pair<sg::NetZone*, NetPoint*> build_site(size_t s, const std::vector<const NodeInstance*>& nodes,
                                                sg::NetZone* parent) {
    const SiteSpec& site = spec_.sites[s];
    const NetworkSpec& net = site.network;
    if (net.topology == Topology::none) {
      // One node and no network: the node zone is the site.
      auto [zone, gw] = build_node(*nodes.front(), parent, {});
      zone->seal();
      return {zone, gw};
    }
    bool with_border = spec_.sites.size() > 1;
    long leaves = static_cast<long>(nodes.size()) + (with_border ? 1 : 0);
    NetPoint* border = nullptr;
    std::string site_name = with_border ? site.name : spec_.name;
    // SimGrid 3.32 checks every new link's name against every zone reachable from the root, so creating
    // each node's links inside its own zone would cost O(nodes^2). They are all created first, in the root
    // zone, while it has no children; routes may use links of any zone.
    node_links_.clear();
    node_links_.reserve(nodes.size());
    for (const NodeInstance* n : nodes)
      node_links_.push_back(create_node_links(*n, parent));
    auto netpoint_cb = [&](sg::NetZone* zone, const std::vector<unsigned long>&,
                           unsigned long id) -> std::pair<NetPoint*, NetPoint*> {
      if (id < nodes.size()) {
        auto [node_zone, gw] = build_node(*nodes[id], zone, node_links_[id]);
        node_zone->seal();
        return {node_zone->get_netpoint(), gw};
      }
      NetPoint* r = zone->create_router(fmt::format("{}.leaf{}", site_name, id));
      if (with_border && id == nodes.size()) border = r;
      return {r, nullptr};
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
      zone = sg::create_dragonfly_zone(site_name, parent, params, callbacks, bw, lat, policy);
    } else if (net.topology == Topology::torus) {
      std::vector<unsigned long> dims(net.dimensions.begin(), net.dimensions.end());
      zone = sg::create_torus_zone(site_name, parent, dims, callbacks, bw, lat, policy);
    } else {
      FatTreeShape shape = fat_tree_shape(net, leaves);
      sg::FatTreeParams params(shape.levels, shape.down, shape.up, shape.parallel);
      zone = sg::create_fatTree_zone(site_name, parent, params, callbacks, bw, lat, policy);
    }
    zone->seal();
    summary_.links += leaves;  // at least one link per leaf; switch links are internal to the cluster zone
    return {zone, border};
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
    summary_.links += static_cast<long>(links.size());
    return links;
  }

  // Builds a node's zone (the caller seals it), creating its links in it unless they are given.
  std::pair<sg::NetZone*, NetPoint*> build_node(const NodeInstance& node, sg::NetZone* parent,
                                                std::vector<sg::Link*> links) {
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
      }
      host->set_property("node", node.name);
      host->set_property("node_index", std::to_string(node.index));
      host->set_property("index", std::to_string(vx.index));
      host->set_property("site", site);
      host->seal();
      points[v] = host->get_netpoint();
      ++summary_.hosts;
    }
    if (links.empty()) links = create_node_links(node, zone);
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
  std::vector<std::vector<sg::Link*>> node_links_;
  BuildSummary summary_;
};

}  // namespace

BuildSummary build_platform(const PlatformSpec& spec) {
  return PlatformBuilder(spec).build();
}

}  // namespace whatif::platform
