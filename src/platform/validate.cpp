// Platform validation: models resolved against the catalogs, then every cross-reference and size checked.
#include "platform/validate.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <set>

namespace whatif::platform {

using core::Diagnostics;
using core::Location;

std::optional<int> device_index(const std::string& name, const char* prefix) {
  std::string p(prefix);
  if (name.size() <= p.size() || name.compare(0, p.size(), p) != 0) return std::nullopt;
  auto v = core::parse_integer(std::string_view(name).substr(p.size()));
  if (!v || *v < 0 || *v > kMaxDevicesPerNode) return std::nullopt;
  return static_cast<int>(*v);
}

namespace {

class PlatformValidator {
 public:
  explicit PlatformValidator(Diagnostics& diag) : diag_(diag) {}

  void resolve(PlatformSpec& spec, const std::vector<LocalLink>& local_links) {
    Catalog catalog = Catalog::load(spec.models_dir, diag_);
    for (const auto& [l, location] : local_links) {
      if (spec.links.count(l.name) || catalog.link(l.name))
        diag_.error(location, "link", l.name, "name",
                    "already defined (in this platform or in the link catalog)");
      spec.links[l.name] = l;
    }
    auto use_link = [&](const std::string& name, const Location& loc, const std::string& entity,
                        const std::string& owner, const std::string& field, bool required = false) {
      if (name.empty()) {
        if (required) diag_.error(loc, entity, owner, field, "names no link model");
        return;
      }
      if (spec.links.count(name)) return;
      if (const LinkModel* m = catalog.link(name)) {
        spec.links[name] = *m;
        return;
      }
      auto names = catalog.link_names();
      for (const auto& [k, v] : spec.links)
        names.push_back(k);
      diag_.error(loc, entity, owner, field,
                  fmt::format("unknown link model '{}'{} (searched {}/links and the platform's 'links')",
                              name, core::did_you_mean(name, names), catalog.dir()));
    };
    std::set<std::string> type_names;
    for (const auto& t : spec.node_types) {
      if (!type_names.insert(t.name).second)
        diag_.error(t.location, "node type", t.name, "name", "defined twice");
      validate_node_type(t, spec, catalog, use_link);
    }
    std::set<std::string> site_names, group_names;
    long total = 0;
    for (auto& site : spec.sites) {
      if (spec.sites.size() > 1 && !site_names.insert(site.name).second)
        diag_.error(site.location, "site", site.name, "name", "defined twice");
      long site_nodes = 0;
      for (const auto& g : site.groups) {
        if (!group_names.insert(g.name).second)
          diag_.error(g.location, "group", g.name, "name", "defined twice");
        if (!type_names.count(g.type)) {
          std::vector<std::string> names(type_names.begin(), type_names.end());
          diag_.error(g.location, "group", g.name, "type",
                      fmt::format("unknown node type '{}'{}", g.type, core::did_you_mean(g.type, names)));
        }
        site_nodes += g.count;
      }
      total += site_nodes;
      validate_network(site, site_nodes, spec.sites.size() > 1, use_link);
    }
    if (total > kMaxNodes)
      diag_.error({spec.file, 0, 0}, "platform", spec.name, "groups",
                  fmt::format("{} nodes in all: more than the {} whatif supports", total, kMaxNodes));
    validate_wan(spec);
  }

 private:
  template <typename UseLink>
  void validate_node_type(const NodeTypeSpec& t, PlatformSpec& spec, const Catalog& catalog,
                          UseLink& use_link) {
    auto err = [&](const Location& loc, const std::string& field, const std::string& msg) {
      diag_.error(loc, "node type", t.name, field, msg);
    };
    if (!t.cpu_model.empty() || t.cpus_declared) {
      if (const CpuModel* c = catalog.cpu(t.cpu_model))
        spec.cpus[c->name] = *c;
      else
        err(t.location, "cpus",
            fmt::format("unknown CPU model '{}'{} (searched {}/cpus)", t.cpu_model,
                        core::did_you_mean(t.cpu_model, catalog.cpu_names()), catalog.dir()));
    }
    if (t.gpu_count > 0) {
      if (const GpuModel* g = catalog.gpu(t.gpu_model))
        spec.gpus[g->name] = *g;
      else
        err(t.location, "gpus",
            fmt::format("unknown GPU model '{}'{} (searched {}/gpus)", t.gpu_model,
                        core::did_you_mean(t.gpu_model, catalog.gpu_names()), catalog.dir()));
    }
    if (t.cpu_count > 1 && t.cpu_interconnect.empty())
      err(t.location, "cpus", fmt::format("{} sockets need an 'interconnect' link model", t.cpu_count));
    use_link(t.cpu_interconnect, t.location, "node type", t.name, "interconnect");
    use_link(t.cpu_shared_memory, t.location, "node type", t.name, "shared_memory");
    use_link(t.nvlink_link, t.location, "node type", t.name, "nvlink", t.intra != IntraKind::none);
    use_link(t.pcie_link, t.location, "node type", t.name, "pcie");

    auto is_gpu = [&](const std::string& n) {
      auto i = device_index(n, "gpu");
      return i && *i < t.gpu_count;
    };
    auto is_cpu = [&](const std::string& n) {
      auto i = device_index(n, "cpu");
      return i && *i < t.cpu_count;
    };
    std::set<std::pair<std::string, std::string>> seen_pairs;
    for (const auto& p : t.nvlink_pairs) {
      for (const auto& end : {p.a, p.b})
        if (!is_gpu(end) && !is_cpu(end))
          err(p.location, "pairs",
              fmt::format("'{}' is not a device of this node (gpu0..gpu{}, cpu0..cpu{})", end,
                          t.gpu_count - 1, t.cpu_count - 1));
      if (p.a == p.b) err(p.location, "pairs", fmt::format("'{}' is linked to itself", p.a));
      auto key = std::minmax(p.a, p.b);
      if (!seen_pairs.insert(key).second)
        err(p.location, "pairs",
            fmt::format("pair {}-{} listed twice (give the link count instead)", p.a, p.b));
    }
    if (t.intra != IntraKind::none && t.gpu_count == 0) err(t.location, "nvlink", "NVLink without GPUs");

    std::set<std::string> elements;
    for (const auto& e : t.pcie_tree) {
      if (!elements.insert(e.name).second)
        err(e.location, "tree", fmt::format("element '{}' defined twice", e.name));
      if (is_gpu(e.name) || is_cpu(e.name))
        err(e.location, "tree", fmt::format("'{}' is a device name, pick another element name", e.name));
      use_link(e.link, e.location, "pcie element", e.name, "link");
    }
    for (const auto& e : t.pcie_tree) {
      if (e.kind == "root-complex") {
        if (!is_cpu(e.parent))
          diag_.error(e.location, "pcie element", e.name, "parent",
                      fmt::format("a root complex hangs from a CPU socket (cpu0..cpu{}), got '{}'",
                                  t.cpu_count - 1, e.parent));
      } else if (!elements.count(e.parent)) {
        std::vector<std::string> names(elements.begin(), elements.end());
        diag_.error(e.location, "pcie element", e.name, "parent",
                    fmt::format("unknown element '{}'{}", e.parent, core::did_you_mean(e.parent, names)));
      }
    }
    // Cycles among switches: walk up from each element.
    std::map<std::string, std::string> parent_of;
    for (const auto& e : t.pcie_tree)
      parent_of[e.name] = e.parent;
    for (const auto& e : t.pcie_tree) {
      std::string cur = e.name;
      for (size_t steps = 0; parent_of.count(cur); ++steps) {
        cur = parent_of[cur];
        if (cur == e.name || steps > parent_of.size()) {
          diag_.error(e.location, "pcie element", e.name, "parent",
                      "the PCIe tree has a cycle through this element");
          break;
        }
      }
    }
    if (!t.pcie_tree.empty() && t.pcie_link.empty())
      err(t.location, "pcie", "a PCIe tree needs a default 'link'");
    std::set<std::string> nic_names;
    for (const auto& n : t.nics) {
      if (!nic_names.insert(n.name).second) diag_.error(n.location, "nic", n.name, "name", "defined twice");
      use_link(n.link, n.location, "nic", n.name, "link", true);
      for (const auto& g : n.gpus)
        if (!is_gpu(g))
          diag_.error(n.location, "nic", n.name, "gpus",
                      fmt::format("'{}' is not a GPU of this node (gpu0..gpu{})", g, t.gpu_count - 1));
    }
    for (const auto& [dev, element] : t.attach) {
      if (!is_gpu(dev) && !nic_names.count(dev))
        err(t.location, "attach", fmt::format("'{}' is neither a GPU nor a NIC of this node", dev));
      if (!elements.count(element) && !is_cpu(element))
        err(t.location, "attach",
            fmt::format("'{}' is not a PCIe element or CPU socket of this node", element));
    }
    for (const auto& n : t.nics) {
      std::string at = n.attach.empty() && t.attach.count(n.name) ? t.attach.at(n.name) : n.attach;
      if (at.empty())
        diag_.error(n.location, "nic", n.name, "attach",
                    "missing: name the PCIe element or CPU socket it hangs from");
      else if (!elements.count(at) && !is_cpu(at))
        diag_.error(n.location, "nic", n.name, "attach",
                    fmt::format("'{}' is not a PCIe element or CPU socket of this node", at));
    }
    if (t.gpu_count > 0 && t.pcie_link.empty())
      err(t.location, "pcie", "GPUs need a PCIe link model (pcie: {link: PCIe4-x16})");
  }

  template <typename UseLink>
  void validate_network(const SiteSpec& site, long nodes, bool multi_site, UseLink& use_link) {
    const NetworkSpec& net = site.network;
    if (net.topology == Topology::none) {
      if (nodes > 1 || multi_site)
        diag_.error(site.location, "site", site.name, "network",
                    fmt::format("{} nodes need a 'network' (star, fat-tree, dragonfly or torus)", nodes));
      return;
    }
    use_link(net.link, net.location, "network", "", "link", true);
    long leaves = nodes + (multi_site ? 1 : 0);  // one leaf is the site's border router
    long capacity = 0;
    if (net.topology == Topology::fat_tree && net.switch_radix == 0 && net.levels > 0 &&
        static_cast<int>(net.down.size()) == net.levels) {
      capacity = 1;
      for (int d : net.down)
        capacity = std::min<long>(capacity * d, 100000000);
    } else if (net.topology == Topology::dragonfly) {
      capacity =
          static_cast<long>(net.groups.first) * net.chassis.first * net.routers.first * net.nodes_per_router;
    } else if (net.topology == Topology::torus) {
      capacity = 1;
      for (int d : net.dimensions)
        capacity = std::min<long>(capacity * d, 100000000);
    } else {
      capacity = leaves;  // star and radix-sized fat trees grow to fit
    }
    if (capacity < leaves)
      diag_.error(net.location, "network", site.name, "topology",
                  fmt::format("has room for {} nodes but the site has {}{}", capacity, leaves,
                              multi_site ? " (including the site's border router)" : ""));
    // Empty leaves become routers; a network far larger than its nodes is almost surely a typo, and building
    // hundreds of thousands of routers would take minutes.
    long slack = std::max(leaves, 4096L);
    if (capacity > leaves + slack)
      diag_.error(
          net.location, "network", site.name, "topology",
          fmt::format("has room for {} nodes but the site has only {}: size the network to the nodes (at "
                      "most {} leaves)",
                      capacity, leaves, leaves + slack));
  }

  void validate_wan(const PlatformSpec& spec) {
    std::vector<std::string> names;
    for (const auto& s : spec.sites)
      names.push_back(s.name);
    for (const auto& w : spec.wan) {
      for (const auto& end : {w.a, w.b})
        if (!end.empty() && std::find(names.begin(), names.end(), end) == names.end())
          diag_.error(w.location, "wan link", "", "between",
                      fmt::format("unknown site '{}'{}", end, core::did_you_mean(end, names)));
      if (!w.a.empty() && w.a == w.b)
        diag_.error(w.location, "wan link", "", "between", "joins a site to itself");
    }
    if (spec.sites.size() < 2) {
      if (!spec.wan.empty())
        diag_.error(spec.wan.front().location, "wan link", "", "between", "needs several sites");
      return;
    }
    // Every site must be reachable from the first over WAN links.
    std::set<std::string> reached{names.front()};
    for (bool grew = true; grew;) {
      grew = false;
      for (const auto& w : spec.wan)
        if (reached.count(w.a) != reached.count(w.b))
          grew = reached.insert(reached.count(w.a) ? w.b : w.a).second;
    }
    for (const auto& s : spec.sites)
      if (!reached.count(s.name))
        diag_.error(s.location, "site", s.name, "wan", "is not connected to the other sites by any WAN link");
  }

  Diagnostics& diag_;
};

}  // namespace

void validate_platform(PlatformSpec& spec, const std::vector<LocalLink>& local_links, Diagnostics& diag) {
  PlatformValidator(diag).resolve(spec, local_links);
}

}  // namespace whatif::platform
