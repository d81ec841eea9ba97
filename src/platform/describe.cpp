// Platform descriptions for `whatif platform show|dot`, computed from the spec and its node graphs.
#include "platform/describe.hpp"

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/graphviz.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/units.hpp"
#include "platform/node_graph.hpp"
#include "platform/topology.hpp"
#include "report/table.hpp"

namespace whatif::platform {

using nlohmann::json;

std::string topology_name(Topology t) {
  switch (t) {
    case Topology::none:
      return "none";
    case Topology::star:
      return "star";
    case Topology::fat_tree:
      return "fat-tree";
    case Topology::dragonfly:
      return "dragonfly";
    case Topology::torus:
      return "torus";
  }
  return "?";
}

namespace {

bool has_network(const PlatformSpec& spec) {
  for (const auto& s : spec.sites)
    if (s.network.topology != Topology::none) return true;
  return false;
}

json describe_network(const SiteSpec& site, long leaves) {
  const NetworkSpec& n = site.network;
  json j{{"topology", topology_name(n.topology)}};
  if (n.topology == Topology::none) return j;
  j["link"] = n.link;
  j["rails"] = n.rails;
  if (n.topology == Topology::fat_tree || n.topology == Topology::star) {
    FatTreeShape s = fat_tree_shape(n, leaves);
    j["levels"] = s.levels;
    j["down"] = s.down;
    j["up"] = s.up;
    j["parallel"] = s.parallel;
    j["leaves"] = s.leaves();
  } else if (n.topology == Topology::dragonfly) {
    j["groups"] = {n.groups.first, n.groups.second};
    j["chassis"] = {n.chassis.first, n.chassis.second};
    j["routers"] = {n.routers.first, n.routers.second};
    j["nodes_per_router"] = n.nodes_per_router;
  } else {
    j["dimensions"] = n.dimensions;
  }
  return j;
}

}  // namespace

json describe_platform(const PlatformSpec& spec, long max_hosts) {
  json j;
  j["name"] = spec.name;
  j["file"] = spec.file;
  j["description"] = spec.description;
  j["parameters"] = json::object();
  for (const auto& [k, v] : spec.parameters)
    j["parameters"][k] = v;
  j["nodes"] = spec.total_nodes();
  j["gpus"] = spec.total_gpus();
  bool net = has_network(spec);
  json types = json::array();
  for (const auto& t : spec.node_types) {
    NodeGraph g = build_node_graph(t, spec, net);
    json jt{{"name", t.name},
            {"cpus", {{"model", t.cpu_model}, {"count", t.cpu_count}}},
            {"gpus", {{"model", t.gpu_model}, {"count", t.gpu_count}}},
            {"host_memory_bytes", t.host_memory},
            {"nics", t.nics.size()},
            {"links", g.edges.size()}};
    jt["intra"] =
        t.intra == IntraKind::nvswitch ? fmt::format("NVSwitch ({} x{})", t.nvlink_link, t.links_per_gpu)
        : t.intra == IntraKind::point_to_point ? fmt::format("NVLink point-to-point ({})", t.nvlink_link)
                                               : std::string("PCIe only");
    json bw = json::array(), lat = json::array();
    for (int a = 0; a < t.gpu_count; ++a) {
      json bw_row = json::array(), lat_row = json::array();
      for (int b = 0; b < t.gpu_count; ++b) {
        if (a == b) {
          bw_row.push_back(nullptr);
          lat_row.push_back(nullptr);
          continue;
        }
        int ea = g.endpoint_of(VertexKind::gpu, a), eb = g.endpoint_of(VertexKind::gpu, b);
        bw_row.push_back(g.route_bandwidth(ea, eb));
        lat_row.push_back(g.route_latency(ea, eb));
      }
      bw.push_back(bw_row);
      lat.push_back(lat_row);
    }
    jt["gpu_bandwidth_Bps"] = bw;
    jt["gpu_latency_s"] = lat;
    types.push_back(jt);
  }
  j["node_types"] = types;
  json sites = json::array();
  for (const auto& s : spec.sites) {
    long nodes = 0;
    json groups = json::array();
    for (const auto& g : s.groups) {
      groups.push_back({{"name", g.name}, {"type", g.type}, {"count", g.count}});
      nodes += g.count;
    }
    sites.push_back({{"name", s.name},
                     {"groups", groups},
                     {"network", describe_network(s, nodes + (spec.sites.size() > 1 ? 1 : 0))}});
  }
  j["sites"] = sites;
  json wan = json::array();
  for (const auto& w : spec.wan)
    wan.push_back({{"between", {w.a, w.b}}, {"bandwidth_Bps", w.bandwidth}, {"latency_s", w.latency}});
  j["wan"] = wan;
  json hosts = json::array();
  long listed = 0, total_hosts = 0;
  for (const auto& n : node_instances(spec)) {
    total_hosts += n.type->gpu_count + n.type->cpu_count;
    for (int c = 0; c < n.type->cpu_count && listed < max_hosts; ++c, ++listed)
      hosts.push_back({{"name", cpu_host_name(n.name, c)}, {"kind", "cpu"}, {"model", n.type->cpu_model}});
    for (int gi = 0; gi < n.type->gpu_count && listed < max_hosts; ++gi, ++listed)
      hosts.push_back({{"name", gpu_host_name(n.name, gi)}, {"kind", "gpu"}, {"model", n.type->gpu_model}});
  }
  j["hosts"] = hosts;
  j["host_count"] = total_hosts;
  return j;
}

std::string render_description(const json& d) {
  using core::Dimension;
  using core::format_quantity;
  std::string out =
      fmt::format("platform {} ({})\n", d["name"].get<std::string>(), d["file"].get<std::string>());
  if (!d["description"].get<std::string>().empty()) out += "  " + d["description"].get<std::string>() + "\n";
  out += fmt::format("  {} node(s), {} GPU(s), {} host(s)\n", d["nodes"].get<long>(), d["gpus"].get<long>(),
                     d["host_count"].get<long>());
  if (!d["parameters"].empty()) {
    std::vector<std::string> ps;
    for (auto it = d["parameters"].begin(); it != d["parameters"].end(); ++it)
      ps.push_back(fmt::format("{}={}", it.key(), it.value().get<std::string>()));
    out += fmt::format("  parameters: {}\n", fmt::join(ps, ", "));
  }
  for (const auto& s : d["sites"]) {
    std::vector<std::string> gs;
    for (const auto& g : s["groups"])
      gs.push_back(fmt::format("{} x {} ({})", g["count"].get<long>(), g["type"].get<std::string>(),
                               g["name"].get<std::string>()));
    out += fmt::format("site {}: {}\n", s["name"].get<std::string>(), fmt::join(gs, ", "));
    const json& n = s["network"];
    if (n["topology"] == "none") continue;
    std::string shape;
    if (n.contains("levels"))
      shape = fmt::format("levels {}, down {}, up {}, parallel {}, {} leaves", n["levels"].get<int>(),
                          n["down"].dump(), n["up"].dump(), n["parallel"].dump(), n["leaves"].get<long>());
    else if (n.contains("dimensions"))
      shape = fmt::format("dimensions {}", n["dimensions"].dump());
    else
      shape = fmt::format("groups {}, chassis {}, routers {}, {} nodes per router", n["groups"].dump(),
                          n["chassis"].dump(), n["routers"].dump(), n["nodes_per_router"].get<int>());
    out += fmt::format(
        "  network: {} of {}{} ({})\n", n["topology"].get<std::string>(), n["link"].get<std::string>(),
        n["rails"].get<int>() > 1 ? fmt::format(" x {} rails", n["rails"].get<int>()) : "", shape);
  }
  for (const auto& w : d["wan"])
    out += fmt::format("wan {} <-> {}: {}, {}\n", w["between"][0].get<std::string>(),
                       w["between"][1].get<std::string>(),
                       format_quantity(w["bandwidth_Bps"].get<double>(), Dimension::bandwidth),
                       format_quantity(w["latency_s"].get<double>(), Dimension::time));
  for (const auto& t : d["node_types"]) {
    out += fmt::format("\nnode type {}: {} x {}, {} x {}, {}, {} NIC(s)\n", t["name"].get<std::string>(),
                       t["gpus"]["count"].get<int>(), t["gpus"]["model"].get<std::string>(),
                       t["cpus"]["count"].get<int>(), t["cpus"]["model"].get<std::string>(),
                       t["intra"].get<std::string>(), t["nics"].get<size_t>());
    size_t n = t["gpu_bandwidth_Bps"].size();
    if (n < 2) continue;
    for (int which = 0; which < 2; ++which) {
      report::Table table;
      table.title = which == 0 ? "  GPU-to-GPU bandwidth per direction (GB/s)" : "  GPU-to-GPU latency (us)";
      table.headers.push_back("  ");
      table.right_align.push_back(false);
      for (size_t b = 0; b < n; ++b) {
        table.headers.push_back(fmt::format("gpu{}", b));
        table.right_align.push_back(true);
      }
      const json& m = which == 0 ? t["gpu_bandwidth_Bps"] : t["gpu_latency_s"];
      for (size_t a = 0; a < n; ++a) {
        std::vector<std::string> row{fmt::format("  gpu{}", a)};
        for (size_t b = 0; b < n; ++b)
          row.push_back(m[a][b].is_null() ? "-"
                        : which == 0      ? fmt::format("{:.1f}", m[a][b].get<double>() / 1e9)
                                          : fmt::format("{:.2f}", m[a][b].get<double>() * 1e6));
        table.rows.push_back(row);
      }
      out += table.render();
    }
  }
  out += fmt::format("\nhosts ({} of {} listed):\n", d["hosts"].size(), d["host_count"].get<long>());
  for (const auto& h : d["hosts"])
    out += fmt::format("  {:<24} {:<4} {}\n", h["name"].get<std::string>(), h["kind"].get<std::string>(),
                       h["model"].get<std::string>());
  return out;
}

std::string platform_dot(const PlatformSpec& spec) {
  struct V {
    std::string id, label, shape;
  };
  struct E {
    std::string label;
  };
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, V, E>;
  Graph graph;
  bool net = has_network(spec);
  std::map<std::string, Graph::vertex_descriptor> gateway_of_type;
  std::ostringstream clusters;
  for (const auto& t : spec.node_types) {
    NodeGraph g = build_node_graph(t, spec, net);
    std::vector<Graph::vertex_descriptor> vs;
    clusters << fmt::format("  subgraph \"cluster_{}\" {{ label=\"node type {}\";", t.name, t.name);
    for (const auto& v : g.vertices) {
      std::string shape = v.kind == VertexKind::gpu   ? "box"
                          : v.kind == VertexKind::cpu ? "ellipse"
                                                      : "diamond";
      std::string label = v.kind == VertexKind::gpu   ? fmt::format("{}\\n{}", v.name, t.gpu_model)
                          : v.kind == VertexKind::cpu ? fmt::format("{}\\n{}", v.name, t.cpu_model)
                                                      : v.name;
      auto d = boost::add_vertex({t.name + "." + v.name, label, shape}, graph);
      clusters << " " << d << ";";
      vs.push_back(d);
    }
    clusters << " }\n";
    for (const auto& e : g.edges)
      boost::add_edge(
          vs[e.u], vs[e.v],
          {fmt::format("{}\\n{:.4g} GB/s", e.model.empty() ? "memory" : e.model, e.bandwidth / 1e9)}, graph);
    if (g.gateway >= 0) gateway_of_type[t.name] = vs[g.gateway];
  }
  for (const auto& s : spec.sites) {
    if (s.network.topology == Topology::none) continue;
    auto net_v = boost::add_vertex(
        {"net." + s.name,
         fmt::format("{} network\\n{} of {}", s.name, topology_name(s.network.topology), s.network.link),
         "hexagon"},
        graph);
    for (const auto& g : s.groups) {
      auto grp = boost::add_vertex(
          {"group." + g.name, fmt::format("group {}\\n{} x {}", g.name, g.count, g.type), "folder"}, graph);
      boost::add_edge(grp, net_v, {"nodes"}, graph);
      if (gateway_of_type.count(g.type)) boost::add_edge(gateway_of_type[g.type], grp, {"each node"}, graph);
    }
  }
  std::ostringstream out;
  boost::write_graphviz(
      out, graph,
      [&](std::ostream& os, Graph::vertex_descriptor v) {
        os << fmt::format("[label=\"{}\", shape={}]", graph[v].label, graph[v].shape);
      },
      [&](std::ostream& os, Graph::edge_descriptor e) {
        os << fmt::format("[label=\"{}\"]", graph[e].label);
      },
      [&](std::ostream& os) { os << fmt::format("label=\"{}\";\n{}", spec.name, clusters.str()); });
  return out.str();
}

}  // namespace whatif::platform
