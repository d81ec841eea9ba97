// Intra-node graphs and their routes, computed with Boost.Graph's Dijkstra (no SimGrid here).
#include "platform/node_graph.hpp"

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/dijkstra_shortest_paths.hpp>
#include <fmt/format.h>
#include <limits>
#include <map>

namespace whatif::platform {

namespace {

// Cost of a path for route selection: latency plus the time to move 1 MiB, so both matter.
constexpr double kReferenceBytes = 1048576.0;
constexpr double kBlocked = 1e30;

struct Builder {
  NodeGraph g;
  std::map<std::string, int> by_name;

  int add_vertex(const std::string& name, VertexKind kind, int index = -1) {
    by_name[name] = static_cast<int>(g.vertices.size());
    g.vertices.push_back({name, kind, index});
    return by_name[name];
  }
  void add_edge(const std::string& name, int u, int v, double bw, double lat, const std::string& model) {
    g.edges.push_back({name, u, v, bw, lat, model});
  }
};

}  // namespace

int NodeGraph::endpoint_of(VertexKind kind, int index) const {
  for (size_t i = 0; i < endpoints.size(); ++i) {
    const auto& v = vertices[endpoints[i]];
    if (v.kind == kind && (kind == VertexKind::gateway || v.index == index)) return static_cast<int>(i);
  }
  return -1;
}

double NodeGraph::route_bandwidth(int from, int to) const {
  double bw = std::numeric_limits<double>::infinity();
  for (const auto& h : routes[from][to])
    bw = std::min(bw, edges[h.edge].bandwidth);
  return bw;
}

double NodeGraph::route_latency(int from, int to) const {
  double lat = 0;
  for (const auto& h : routes[from][to])
    lat += edges[h.edge].latency;
  return lat;
}

NodeGraph build_node_graph(const NodeTypeSpec& t, const PlatformSpec& spec, bool with_gateway) {
  Builder b;
  for (int i = 0; i < t.gpu_count; ++i)
    b.add_vertex(fmt::format("gpu{}", i), VertexKind::gpu, i);
  for (int i = 0; i < t.cpu_count; ++i)
    b.add_vertex(fmt::format("cpu{}", i), VertexKind::cpu, i);
  for (int i = 0; i < t.cpu_count; ++i)
    b.add_vertex(fmt::format("socket{}", i), VertexKind::router, i);
  for (const auto& e : t.pcie_tree)
    b.add_vertex(e.name, VertexKind::router);
  if (with_gateway) b.g.gateway = b.add_vertex("gateway", VertexKind::gateway);

  // A CPU name in the NVLink map or the PCIe tree means its socket (the CPU host is a leaf behind it).
  auto place = [&](const std::string& name) {
    if (name.rfind("cpu", 0) == 0) return b.by_name.at("socket" + name.substr(3));
    return b.by_name.at(name);
  };

  const CpuModel& cpu = spec.cpus.at(t.cpu_model);
  for (int i = 0; i < t.cpu_count; ++i)
    b.add_edge(fmt::format("mem.cpu{}", i), b.by_name[fmt::format("cpu{}", i)],
               b.by_name[fmt::format("socket{}", i)], cpu.memory_bandwidth.value, 0.0, "");
  if (t.cpu_count > 1) {
    const LinkModel& smp = spec.link(t.cpu_interconnect);
    for (int i = 0; i < t.cpu_count; ++i)
      for (int j = i + 1; j < t.cpu_count; ++j)
        b.add_edge(fmt::format("smp.cpu{}-cpu{}", i, j), b.by_name[fmt::format("socket{}", i)],
                   b.by_name[fmt::format("socket{}", j)], smp.bandwidth.value, smp.latency.value, smp.name);
  }
  if (t.intra == IntraKind::nvswitch) {
    const LinkModel& nv = spec.link(t.nvlink_link);
    int sw = b.add_vertex("nvswitch", VertexKind::router);
    for (int i = 0; i < t.gpu_count; ++i)
      b.add_edge(fmt::format("nvlink.gpu{}", i), i, sw, nv.bandwidth.value * t.links_per_gpu,
                 nv.latency.value, nv.name);
  } else if (t.intra == IntraKind::point_to_point) {
    const LinkModel& nv = spec.link(t.nvlink_link);
    for (const auto& p : t.nvlink_pairs)
      b.add_edge(fmt::format("nvlink.{}-{}", p.a, p.b), place(p.a), place(p.b), nv.bandwidth.value * p.count,
                 nv.latency.value, nv.name);
  }
  for (const auto& e : t.pcie_tree) {
    const LinkModel& l = spec.link(e.link.empty() ? t.pcie_link : e.link);
    b.add_edge("pcie." + e.name, b.by_name[e.name], place(e.parent), l.bandwidth.value, l.latency.value,
               l.name);
  }
  if (t.gpu_count > 0) {
    const LinkModel& pcie = spec.link(t.pcie_link);
    for (int i = 0; i < t.gpu_count; ++i) {
      std::string gpu = fmt::format("gpu{}", i);
      auto it = t.attach.find(gpu);
      // Without an explicit attachment, GPUs are spread evenly over the sockets' root complexes.
      int parent = it != t.attach.end() ? place(it->second)
                                        : b.by_name[fmt::format("socket{}", i * t.cpu_count / t.gpu_count)];
      b.add_edge("pcie." + gpu, i, parent, pcie.bandwidth.value, pcie.latency.value, pcie.name);
    }
  }
  std::map<int, int> nic_edge_of_gpu;  // gpu index -> NIC edge
  std::map<int, int> nic_attach_of_edge;
  if (with_gateway) {
    for (const auto& n : t.nics) {
      const LinkModel& l = spec.link(n.link);
      std::string at = !n.attach.empty() ? n.attach : t.attach.at(n.name);
      int edge = static_cast<int>(b.g.edges.size());
      b.add_edge("nic." + n.name, place(at), b.g.gateway, l.bandwidth.value * n.ports, l.latency.value,
                 l.name);
      nic_attach_of_edge[edge] = place(at);
      for (const auto& gpu : n.gpus)
        nic_edge_of_gpu[std::stoi(gpu.substr(3))] = edge;
    }
    if (t.nics.empty())
      throw core::InputError(t.location,
                             fmt::format("node type '{}': 'nics': the platform has a network, so each "
                                         "node needs at least one NIC",
                                         t.name));
  }

  NodeGraph& g = b.g;
  for (size_t v = 0; v < g.vertices.size(); ++v)
    if (g.vertices[v].kind != VertexKind::router) g.endpoints.push_back(static_cast<int>(v));

  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, boost::no_property,
                                      boost::property<boost::edge_index_t, int>>;
  Graph graph(g.vertices.size());
  std::vector<Hop> hop_of;  // directed edge id -> hop
  for (size_t e = 0; e < g.edges.size(); ++e) {
    boost::add_edge(g.edges[e].u, g.edges[e].v, static_cast<int>(hop_of.size()), graph);
    hop_of.push_back({static_cast<int>(e), true});
    boost::add_edge(g.edges[e].v, g.edges[e].u, static_cast<int>(hop_of.size()), graph);
    hop_of.push_back({static_cast<int>(e), false});
  }
  auto edge_index = boost::get(boost::edge_index, graph);

  size_t n_end = g.endpoints.size();
  g.routes.assign(n_end, std::vector<std::vector<Hop>>(n_end));
  std::vector<double> weight(hop_of.size());
  std::vector<double> dist(g.vertices.size());
  std::vector<Graph::vertex_descriptor> pred(g.vertices.size());
  for (size_t si = 0; si < n_end; ++si) {
    int src = g.endpoints[si];
    for (size_t d = 0; d < hop_of.size(); ++d) {
      const NodeEdge& e = g.edges[hop_of[d].edge];
      int from = hop_of[d].forward ? e.u : e.v;
      bool blocked = from != src && g.vertices[from].kind != VertexKind::router;  // devices do not forward
      weight[d] = blocked ? kBlocked : e.latency + kReferenceBytes / e.bandwidth;
    }
    boost::dijkstra_shortest_paths(
        graph, src,
        boost::weight_map(boost::make_iterator_property_map(weight.begin(), edge_index))
            .distance_map(
                boost::make_iterator_property_map(dist.begin(), boost::get(boost::vertex_index, graph)))
            .predecessor_map(
                boost::make_iterator_property_map(pred.begin(), boost::get(boost::vertex_index, graph))));
    auto path_to = [&](int dst) {
      std::vector<Hop> path;
      for (int v = dst; v != src; v = static_cast<int>(pred[v])) {
        int u = static_cast<int>(pred[v]);
        // Find the cheapest directed edge u -> v.
        int best = -1;
        for (auto [it, end] = boost::out_edges(u, graph); it != end; ++it)
          if (static_cast<int>(boost::target(*it, graph)) == v &&
              (best < 0 || weight[edge_index[*it]] < weight[best]))
            best = edge_index[*it];
        path.push_back(hop_of[best]);
      }
      std::reverse(path.begin(), path.end());
      return path;
    };
    for (size_t di = 0; di < n_end; ++di) {
      if (di == si) continue;
      int dst = g.endpoints[di];
      const NodeVertex& sv = g.vertices[src];
      if (dst == g.gateway && sv.kind == VertexKind::gpu && nic_edge_of_gpu.count(sv.index)) {
        int nic = nic_edge_of_gpu[sv.index];
        int at = nic_attach_of_edge[nic];
        if (dist[at] >= kBlocked / 2)
          throw core::InputError(t.location,
                                 fmt::format("node type '{}': no path from {} to its NIC", t.name, sv.name));
        auto path = path_to(at);
        path.push_back({nic, true});
        g.routes[si][di] = path;
        continue;
      }
      if (dist[dst] >= kBlocked / 2)
        throw core::InputError(t.location,
                               fmt::format("node type '{}': no path from {} to {} (check the NVLink map "
                                           "and PCIe tree)",
                                           t.name, sv.name, g.vertices[dst].name));
      g.routes[si][di] = path_to(dst);
    }
  }
  // Traffic from the network to a GPU enters through the same NIC its outgoing traffic leaves by.
  if (with_gateway) {
    int gw = g.endpoint_of(VertexKind::gateway, -1);
    for (const auto& [gpu, nic] : nic_edge_of_gpu) {
      int ge = g.endpoint_of(VertexKind::gpu, gpu);
      std::vector<Hop> back;
      for (auto it = g.routes[ge][gw].rbegin(); it != g.routes[ge][gw].rend(); ++it)
        back.push_back({it->edge, !it->forward});
      g.routes[gw][ge] = back;
    }
  }
  return g;
}

}  // namespace whatif::platform
