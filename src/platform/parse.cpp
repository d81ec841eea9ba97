// Platform files (format whatif-platform/1): parsing, includes, parameters, catalog resolution, validation.
#include <fmt/format.h>
#include <algorithm>
#include <filesystem>
#include <functional>
#include <set>

#include "platform/spec.hpp"
#include "platform/validate.hpp"

namespace whatif::platform {

namespace fs = std::filesystem;
using core::Diagnostics;
using core::Dimension;
using core::Location;
using core::MapReader;
using core::Scope;
using core::Sign;

namespace {

// Everything read from one file (and its includes) before catalog resolution.
struct RawPlatform {
  std::vector<NodeTypeSpec> node_types;
  std::vector<LocalLink> local_links;
};

std::vector<std::string> read_string_list(const YAML::Node& n, const Scope& scope, std::string_view field) {
  std::vector<std::string> out;
  if (!n.IsSequence()) {
    scope.diag->error(core::location_of(scope.file, n), scope.entity, scope.name, std::string(field),
                      "expected a list");
    return out;
  }
  for (const auto& item : n)
    if (auto s = core::scalar_text(item, scope, field)) out.push_back(*s);
  return out;
}

std::vector<int> read_int_list(const YAML::Node& n, const Scope& scope, std::string_view field, int min,
                               int max) {
  std::vector<int> out;
  for (const auto& s : read_string_list(n, scope, field)) {
    auto v = core::parse_integer(s);
    if (!v || *v < min || *v > max) {
      scope.diag->error(core::location_of(scope.file, n), scope.entity, scope.name, std::string(field),
                        fmt::format("'{}' is not an integer in [{}, {}]", s, min, max));
      continue;
    }
    out.push_back(static_cast<int>(*v));
  }
  return out;
}

void read_node_type(const YAML::Node& n, const Scope& file_scope, NodeTypeSpec& t) {
  Scope scope = file_scope.child("node type", "");
  if (n.IsMap() && n["name"] && n["name"].IsScalar()) scope.name = n["name"].Scalar();
  MapReader r(n, scope);
  if (!r.valid()) return;
  t.location = r.location();
  t.name = r.string("name", true).value_or("");
  if (auto m = r.quantity("memory", Dimension::size)) t.host_memory = *m;

  YAML::Node cpus = r.node("cpus");
  if (cpus.IsDefined()) {
    t.cpus_declared = true;
    MapReader c(cpus, scope);
    t.cpu_model = c.string("model", true).value_or("");
    t.cpu_count = static_cast<int>(c.integer("count", 1, 64).value_or(1));
    t.cpu_interconnect = c.string("interconnect").value_or("");
    t.cpu_shared_memory = c.string("shared_memory").value_or("");
    c.finish();
  } else {
    r.error("cpus", "missing required field (e.g. {model: AMD-EPYC-7742, count: 2, interconnect: xGMI})");
  }
  YAML::Node gpus = r.node("gpus");
  if (gpus.IsDefined()) {
    MapReader g(gpus, scope);
    t.gpu_model = g.string("model", true).value_or("");
    t.gpu_count = static_cast<int>(g.integer("count", 1, kMaxDevicesPerNode, true).value_or(0));
    g.finish();
  }
  YAML::Node nvlink = r.node("nvlink");
  if (nvlink.IsDefined()) {
    MapReader nv(nvlink, scope);
    YAML::Node sw = nv.node("nvswitch");
    YAML::Node pairs = nv.node("pairs");
    if (sw.IsDefined() && pairs.IsDefined()) nv.error("pairs", "give either 'nvswitch' or 'pairs', not both");
    if (sw.IsDefined()) {
      MapReader s(sw, scope);
      t.intra = IntraKind::nvswitch;
      t.nvlink_link = s.string("link", true).value_or("");
      t.links_per_gpu = static_cast<int>(s.integer("links_per_gpu", 1, 64, true).value_or(1));
      s.finish();
    } else if (pairs.IsDefined()) {
      t.intra = IntraKind::point_to_point;
      t.nvlink_link = nv.string("link", true).value_or("");
      if (!pairs.IsSequence()) {
        nv.error("pairs", "expected a list of [endpoint, endpoint, link count]");
      } else {
        for (const auto& p : pairs) {
          Location loc = core::location_of(scope.file, p);
          auto items = read_string_list(p, scope, "pairs");
          if (items.size() != 3) {
            scope.diag->error(loc, scope.entity, scope.name, "pairs",
                              "each pair is [endpoint, endpoint, link count], e.g. [gpu0, gpu1, 2]");
            continue;
          }
          auto count = core::parse_integer(items[2]);
          if (!count || *count < 1 || *count > 64) {
            scope.diag->error(loc, scope.entity, scope.name, "pairs",
                              fmt::format("link count '{}' is not an integer in [1, 64]", items[2]));
            continue;
          }
          t.nvlink_pairs.push_back({items[0], items[1], static_cast<int>(*count), loc});
        }
      }
    } else {
      nv.error_here("needs 'nvswitch: {link, links_per_gpu}' or 'link' with 'pairs'");
    }
    nv.finish();
  }
  YAML::Node pcie = r.node("pcie");
  if (pcie.IsDefined()) {
    MapReader p(pcie, scope);
    t.pcie_link = p.string("link", true).value_or("");
    YAML::Node tree = p.node("tree");
    if (tree.IsDefined()) {
      if (!tree.IsSequence()) p.error("tree", "expected a list of {name, kind, parent}");
      for (const auto& e : core::items_of(tree)) {
        Scope es = scope.child("pcie element", "");
        if (e.IsMap() && e["name"] && e["name"].IsScalar()) es.name = e["name"].Scalar();
        MapReader er(e, es);
        if (!er.valid()) continue;
        PcieElement el;
        el.location = er.location();
        el.name = er.string("name", true).value_or("");
        el.kind = er.choice("kind", {"root-complex", "switch", "host-bridge"}, true).value_or("");
        el.parent = er.string("parent", true).value_or("");
        el.link = er.string("link").value_or("");
        er.finish();
        t.pcie_tree.push_back(el);
      }
    }
    YAML::Node attach = p.node("attach");
    if (attach.IsDefined()) {
      if (!attach.IsMap()) {
        p.error("attach", "expected a mapping 'element: [devices]'");
      } else {
        for (auto it = attach.begin(); it != attach.end(); ++it) {
          std::string element = it->first.Scalar();
          for (const auto& dev : read_string_list(it->second, scope, "attach")) {
            if (t.attach.count(dev))
              scope.diag->error(core::location_of(scope.file, it->second), scope.entity, scope.name, "attach",
                                fmt::format("'{}' is attached twice", dev));
            t.attach[dev] = element;
          }
        }
      }
    }
    p.finish();
  }
  YAML::Node nics = r.node("nics");
  if (nics.IsDefined()) {
    if (!nics.IsSequence()) r.error("nics", "expected a list of {name, link, attach, gpus}");
    for (const auto& e : core::items_of(nics)) {
      Scope ns = scope.child("nic", "");
      if (e.IsMap() && e["name"] && e["name"].IsScalar()) ns.name = e["name"].Scalar();
      MapReader nr(e, ns);
      if (!nr.valid()) continue;
      NicSpec nic;
      nic.location = nr.location();
      nic.name = nr.string("name", true).value_or("");
      nic.link = nr.string("link", true).value_or("");
      nic.ports = static_cast<int>(nr.integer("ports", 1, 64).value_or(1));
      nic.attach = nr.string("attach").value_or("");
      YAML::Node g = nr.node("gpus");
      if (g.IsDefined()) nic.gpus = read_string_list(g, ns, "gpus");
      nr.finish();
      t.nics.push_back(nic);
    }
  }
  r.finish();
}

void read_network(const YAML::Node& n, const Scope& scope, NetworkSpec& net) {
  MapReader r(n, scope.child("network", ""));
  if (!r.valid()) return;
  net.location = r.location();
  auto topo = r.choice("topology", {"star", "fat-tree", "dragonfly", "torus"}, true);
  net.link = r.string("link", true).value_or("");
  net.rails = static_cast<int>(r.integer("rails", 1, 64).value_or(1));
  YAML::Node ft = r.node("fat_tree");
  YAML::Node df = r.node("dragonfly");
  YAML::Node to = r.node("torus");
  Scope ns = scope.child("network", "");
  if (!topo) return r.finish();
  if (*topo == "star") {
    net.topology = Topology::star;
  } else if (*topo == "fat-tree") {
    net.topology = Topology::fat_tree;
    if (!ft.IsDefined()) {
      r.error("fat_tree", "missing: give {switch_radix: K} or {levels, down, up, parallel}");
    } else {
      MapReader f(ft, ns);
      if (f.has("switch_radix")) {
        net.switch_radix = static_cast<int>(f.integer("switch_radix", 4, 4096).value_or(0));
        if (f.has("levels")) f.error("levels", "give either 'switch_radix' or an explicit tree, not both");
      } else {
        net.levels = static_cast<int>(f.integer("levels", 1, 8, true).value_or(0));
        for (auto [key, vec] : {std::pair{"down", &net.down}, {"up", &net.up}, {"parallel", &net.parallel}}) {
          YAML::Node v = f.node(key);
          if (!v.IsDefined()) {
            f.error(key, "missing required field (one integer per level)");
            continue;
          }
          *vec = read_int_list(v, ns, key, 1, 100000);
          if (net.levels > 0 && static_cast<int>(vec->size()) != net.levels)
            f.error(key, fmt::format("has {} entries, expected one per level ({})", vec->size(), net.levels));
        }
      }
      f.finish();
    }
  } else if (*topo == "dragonfly") {
    net.topology = Topology::dragonfly;
    if (!df.IsDefined()) {
      r.error("dragonfly",
              "missing: give {groups: [N, links], chassis: [N, links], routers: [N, links], nodes: K}");
    } else {
      MapReader d(df, ns);
      for (auto [key, pair] :
           {std::pair{"groups", &net.groups}, {"chassis", &net.chassis}, {"routers", &net.routers}}) {
        YAML::Node v = d.node(key);
        if (!v.IsDefined()) {
          d.error(key, "missing required field ([count, links])");
          continue;
        }
        auto vals = read_int_list(v, ns, key, 1, 100000);
        if (vals.size() != 2) {
          d.error(key, "expected [count, links]");
          continue;
        }
        *pair = {vals[0], vals[1]};
      }
      net.nodes_per_router = static_cast<int>(d.integer("nodes", 1, 1024, true).value_or(0));
      // SimGrid 3.32 hangs each group's global links on the routers of its first chassis, one router per
      // other group: more groups than routers per chassis would index routers that do not exist.
      if (net.groups.first > net.routers.first && net.routers.first > 0)
        d.error("groups", fmt::format("{} groups need at least as many routers per chassis (has {})",
                                      net.groups.first, net.routers.first));
      d.finish();
    }
  } else {
    net.topology = Topology::torus;
    if (!to.IsDefined()) {
      r.error("torus", "missing: give {dimensions: [X, Y, Z]}");
    } else {
      MapReader t(to, ns);
      YAML::Node dims = t.node("dimensions");
      if (!dims.IsDefined())
        t.error("dimensions", "missing required field");
      else
        net.dimensions = read_int_list(dims, ns, "dimensions", 1, 100000);
      t.finish();
    }
  }
  r.finish();
}

void read_groups(const YAML::Node& n, const Scope& scope, std::vector<GroupSpec>& out) {
  if (!n.IsSequence()) {
    scope.diag->error(core::location_of(scope.file, n), scope.entity, scope.name, "groups",
                      "expected a list of {name, type, count}");
    return;
  }
  for (const auto& g : n) {
    Scope gs = scope.child("group", "");
    if (g.IsMap() && g["name"] && g["name"].IsScalar()) gs.name = g["name"].Scalar();
    MapReader r(g, gs);
    if (!r.valid()) continue;
    GroupSpec spec;
    spec.location = r.location();
    spec.name = r.string("name", true).value_or("");
    spec.type = r.string("type", true).value_or("");
    spec.count = static_cast<int>(r.integer("count", 1, kMaxNodes, true).value_or(1));
    r.finish();
    out.push_back(spec);
  }
}

class PlatformParser {
 public:
  PlatformParser(Diagnostics& diag, const core::Parameters& overrides) : diag_(diag), overrides_(overrides) {}

  PlatformSpec parse(const std::string& file) {
    PlatformSpec spec;
    spec.file = file;
    auto root = core::load_yaml_file(file, diag_);
    if (!root) return spec;
    Scope scope{file, "platform", "", &diag_, &params_};
    MapReader r(*root, scope);
    if (!r.valid()) return spec;
    r.format("whatif-platform/1");
    spec.name = r.string("name", true).value_or("");
    spec.description = r.string("description").value_or("");
    read_parameters(r, spec.name);
    spec.parameters = params_;
    Scope body{file, "platform", spec.name, &diag_, &params_};
    RawPlatform raw;
    read_includes(r, file, raw);
    read_local(r, body, raw);
    YAML::Node sites = r.node("sites");
    YAML::Node groups = r.node("groups");
    YAML::Node network = r.node("network");
    if (sites.IsDefined()) {
      if (groups.IsDefined()) r.error("groups", "with 'sites', groups belong inside each site");
      if (network.IsDefined()) r.error("network", "with 'sites', each site has its own network");
      read_sites(sites, body, spec);
    } else {
      SiteSpec site;
      site.name = spec.name;
      site.location = r.location();
      if (groups.IsDefined())
        read_groups(groups, body, site.groups);
      else
        r.error("groups", "missing required field (e.g. [{name: node, type: my-node, count: 1}])");
      if (network.IsDefined()) read_network(network, body, site.network);
      spec.sites.push_back(site);
    }
    YAML::Node wan = r.node("wan");
    if (wan.IsDefined()) read_wan(wan, body, spec);
    r.finish();
    spec.node_types = raw.node_types;
    spec.models_dir = find_models_dir(file);
    validate_platform(spec, raw.local_links, diag_);
    return spec;
  }

 private:
  void read_parameters(MapReader& r, const std::string& platform_name) {
    YAML::Node p = r.node("parameters");
    std::set<std::string> declared;
    if (p.IsDefined()) {
      if (!p.IsMap()) {
        r.error("parameters", "expected a mapping 'name: default value'");
      } else {
        for (auto it = p.begin(); it != p.end(); ++it) {
          Scope s{r.scope().file, "parameter", it->first.Scalar(), &diag_, nullptr};
          if (auto v = core::scalar_text(it->second, s, "")) params_[it->first.Scalar()] = *v;
          declared.insert(it->first.Scalar());
        }
      }
    }
    std::vector<std::string> names(declared.begin(), declared.end());
    for (const auto& [k, v] : overrides_) {
      if (!declared.count(k)) {
        diag_.error({r.scope().file, 0, 0}, "platform", platform_name, k,
                    fmt::format("is not a parameter of this platform{}{}", core::did_you_mean(k, names),
                                names.empty() ? " (it declares none)"
                                              : fmt::format(" (parameters: {})", fmt::join(names, ", "))));
        continue;
      }
      params_[k] = v;
    }
  }

  void read_includes(MapReader& r, const std::string& file, RawPlatform& raw) {
    YAML::Node inc = r.node("include");
    if (!inc.IsDefined()) return;
    std::error_code ec;
    std::string self = fs::weakly_canonical(file, ec).string();
    stack_.push_back(self);
    for (const auto& rel : read_string_list(inc, r.scope(), "include")) {
      fs::path path = fs::path(file).parent_path() / rel;
      std::string canon = fs::weakly_canonical(path, ec).string();
      if (std::find(stack_.begin(), stack_.end(), canon) != stack_.end()) {
        r.error("include", fmt::format("include cycle: '{}' is already being read", rel));
        continue;
      }
      if (stack_.size() > 16) {
        r.error("include", "includes nested more than 16 deep");
        continue;
      }
      read_included(path.string(), raw);
    }
    stack_.pop_back();
  }

  // An included file contributes its node types and local links (its groups and network are ignored).
  void read_included(const std::string& file, RawPlatform& raw) {
    auto root = core::load_yaml_file(file, diag_);
    if (!root) return;
    Scope scope{file, "platform", "", &diag_, &params_};
    MapReader r(*root, scope);
    if (!r.valid()) return;
    r.format("whatif-platform/1");
    r.string("name");
    r.string("description");
    r.node("parameters");  // an included file's parameters do not apply: the including file sets them
    read_includes(r, file, raw);
    read_local(r, scope, raw);
    for (const char* key : {"groups", "network", "sites", "wan"})
      r.node(key);
    r.finish();
  }

  void read_local(MapReader& r, const Scope& scope, RawPlatform& raw) {
    YAML::Node links = r.node("links");
    if (links.IsDefined()) {
      if (!links.IsSequence()) r.error("links", "expected a list of {name, kind, bandwidth, latency}");
      for (const auto& l : core::items_of(links)) {
        Scope ls =
            scope.child("link", l.IsMap() && l["name"] && l["name"].IsScalar() ? l["name"].Scalar() : "");
        MapReader lr(l, ls);
        if (!lr.valid()) continue;
        auto model = read_link_fields(lr, false);
        lr.finish();
        if (model) raw.local_links.push_back({*model, lr.location()});
      }
    }
    YAML::Node types = r.node("node_types");
    if (types.IsDefined()) {
      if (!types.IsSequence()) r.error("node_types", "expected a list of node types");
      for (const auto& t : core::items_of(types)) {
        NodeTypeSpec spec;
        read_node_type(t, scope, spec);
        raw.node_types.push_back(spec);
      }
    }
  }

  void read_sites(const YAML::Node& n, const Scope& scope, PlatformSpec& spec) {
    if (!n.IsSequence()) {
      diag_.error(core::location_of(scope.file, n), scope.entity, scope.name, "sites",
                  "expected a list of sites");
      return;
    }
    for (const auto& s : n) {
      Scope ss =
          scope.child("site", s.IsMap() && s["name"] && s["name"].IsScalar() ? s["name"].Scalar() : "");
      MapReader r(s, ss);
      if (!r.valid()) continue;
      SiteSpec site;
      site.location = r.location();
      site.name = r.string("name", true).value_or("");
      YAML::Node groups = r.node("groups");
      if (groups.IsDefined())
        read_groups(groups, ss, site.groups);
      else
        r.error("groups", "missing required field");
      YAML::Node network = r.node("network");
      if (network.IsDefined()) read_network(network, ss, site.network);
      r.finish();
      spec.sites.push_back(site);
    }
  }

  void read_wan(const YAML::Node& n, const Scope& scope, PlatformSpec& spec) {
    if (!n.IsSequence()) {
      diag_.error(core::location_of(scope.file, n), scope.entity, scope.name, "wan",
                  "expected a list of WAN links");
      return;
    }
    for (const auto& w : n) {
      MapReader r(w, scope.child("wan link", ""));
      if (!r.valid()) continue;
      WanSpec wan;
      wan.location = r.location();
      YAML::Node between = r.node("between");
      auto ends =
          between.IsDefined() ? read_string_list(between, r.scope(), "between") : std::vector<std::string>{};
      if (ends.size() != 2)
        r.error("between", "expected the two site names, e.g. [edge, cloud]");
      else
        wan.a = ends[0], wan.b = ends[1];
      wan.bandwidth = r.quantity("bandwidth", Dimension::bandwidth, Sign::positive, true).value_or(0);
      wan.latency = r.quantity("latency", Dimension::time, Sign::non_negative, true).value_or(0);
      r.finish();
      spec.wan.push_back(wan);
    }
  }

  Diagnostics& diag_;
  const core::Parameters& overrides_;
  core::Parameters params_;
  std::vector<std::string> stack_;
};

}  // namespace

const NodeTypeSpec& PlatformSpec::node_type(const std::string& type_name) const {
  for (const auto& t : node_types)
    if (t.name == type_name) return t;
  throw std::out_of_range("node type " + type_name);
}

long PlatformSpec::total_nodes() const {
  long n = 0;
  for (const auto& s : sites)
    for (const auto& g : s.groups)
      n += g.count;
  return n;
}

long PlatformSpec::total_gpus() const {
  long n = 0;
  for (const auto& s : sites)
    for (const auto& g : s.groups)
      n += static_cast<long>(g.count) * node_type(g.type).gpu_count;
  return n;
}

std::vector<NodeInstance> node_instances(const PlatformSpec& spec) {
  std::vector<NodeInstance> out;
  out.reserve(spec.total_nodes());
  long index = 0;
  for (size_t s = 0; s < spec.sites.size(); ++s)
    for (const auto& g : spec.sites[s].groups)
      for (int i = 0; i < g.count; ++i)
        out.push_back({g.name + std::to_string(i), &spec.node_type(g.type), static_cast<int>(s), index++});
  return out;
}

std::string gpu_host_name(const std::string& node, int gpu) {
  return node + ".gpu" + std::to_string(gpu);
}
std::string cpu_host_name(const std::string& node, int cpu) {
  return node + ".cpu" + std::to_string(cpu);
}

PlatformSpec load_platform(const std::string& file, const core::Parameters& overrides) {
  Diagnostics diag;
  PlatformParser parser(diag, overrides);
  PlatformSpec spec = parser.parse(file);
  diag.throw_if_errors();
  return spec;
}

}  // namespace whatif::platform
