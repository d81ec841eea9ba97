// Unit tests of platform loading, catalogs, intra-node routing and network sizing (no SimGrid engine).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "platform/catalog.hpp"
#include "platform/node_graph.hpp"
#include "platform/selection.hpp"
#include "platform/spec.hpp"
#include "platform/topology.hpp"

using namespace whatif::platform;
using whatif::core::InputError;

namespace {
const std::string kMesh = "tests/data/unit/mini-mesh.yaml";

std::string route_names(const NodeGraph& g, int from, int to) {
  std::string out;
  for (const auto& h : g.routes[from][to])
    out += (out.empty() ? "" : " ") + g.edges[h.edge].name;
  return out;
}
}  // namespace

// Loaded catalogs are kept for the process: a second load must still see every change to the files (even one
// that keeps the size, within the file system's time granularity) and report a broken file again.
TEST(Catalog, ReloadSeesChangedFilesAndRepeatsDiagnostics) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("whatif-catalog-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  for (const char* sub : {"gpus", "links", "cpus"})
    fs::create_directories(dir / sub);
  auto write_link = [&](const std::string& bandwidth) {
    std::ofstream(dir / "links" / "test-link.yaml")
        << "format: whatif-link/1\nname: Test-Link\nkind: nvlink\nbandwidth: {value: " << bandwidth
        << ", source: test}\nlatency: {value: 1us, source: test}\n";
  };
  auto load = [&](whatif::core::Diagnostics& diag) { return Catalog::load(dir.string(), diag); };
  write_link("25GBps");
  whatif::core::Diagnostics d1, d2, d3, d4;
  EXPECT_DOUBLE_EQ(load(d1).link("Test-Link")->bandwidth.value, 25e9);
  write_link("50GBps");  // same size, written at once
  EXPECT_DOUBLE_EQ(load(d2).link("Test-Link")->bandwidth.value, 50e9);
  EXPECT_TRUE(d1.items().empty() && d2.items().empty());
  write_link("fast");
  EXPECT_EQ(load(d3).link("Test-Link"), nullptr);
  EXPECT_EQ(load(d4).link("Test-Link"), nullptr);
  ASSERT_TRUE(d3.has_errors());
  ASSERT_EQ(d3.items().size(), d4.items().size());
  EXPECT_EQ(d3.items().front().format(), d4.items().front().format());
  fs::remove_all(dir);
}

TEST(Catalog, ShippedModelsLoadWithSources) {
  whatif::core::Diagnostics diag;
  Catalog c = Catalog::load("models", diag);
  for (const auto& d : diag.items())
    ADD_FAILURE() << d.format();
  for (const char* gpu : {"P100-SXM2-16GB", "V100-SXM2-16GB", "V100-SXM2-32GB", "TITAN-V", "A100-SXM4-40GB",
                          "A100-SXM4-80GB", "H100-SXM5-80GB", "H200-SXM-141GB"}) {
    const GpuModel* g = c.gpu(gpu);
    ASSERT_NE(g, nullptr) << gpu;
    EXPECT_FALSE(g->sm_count.source.empty());
    EXPECT_GT(g->half_precision_peak(), g->fp32.value * 0.99) << gpu;
  }
  EXPECT_EQ(c.gpu("A100-SXM4-80GB")->sm_count.value, 108);
  EXPECT_DOUBLE_EQ(c.link("NVLink3")->bandwidth.value, 25e9);
  EXPECT_DOUBLE_EQ(c.link("HDR-InfiniBand")->bandwidth.value, 25e9);
  for (const char* link : {"NVLink1", "NVLink2", "NVLink4", "PCIe3-x16", "PCIe4-x16", "PCIe5-x16",
                           "NDR-InfiniBand", "EDR-InfiniBand", "Cray-Aries", "100GbE"})
    EXPECT_NE(c.link(link), nullptr) << link;
  EXPECT_FALSE(c.cpu_names().empty());
}

TEST(Platform, LoadsParametersAndOverrides) {
  PlatformSpec spec = load_platform(kMesh);
  EXPECT_EQ(spec.total_nodes(), 2);
  EXPECT_EQ(spec.total_gpus(), 8);
  PlatformSpec big = load_platform(kMesh, {{"nodes", "5"}});
  EXPECT_EQ(big.total_nodes(), 5);
  auto nodes = node_instances(big);
  ASSERT_EQ(nodes.size(), 5u);
  EXPECT_EQ(nodes[4].name, "m4");
  EXPECT_EQ(gpu_host_name(nodes[4].name, 3), "m4.gpu3");
  EXPECT_THROW(load_platform(kMesh, {{"nodez", "5"}}), InputError);
  EXPECT_THROW(load_platform(kMesh, {{"nodes", "0"}}), InputError);
}

TEST(Platform, RoutesPreferNvlinkAndNeverCrossDevices) {
  PlatformSpec spec = load_platform(kMesh);
  NodeGraph g = build_node_graph(spec.node_types[0], spec, true);
  int g0 = g.endpoint_of(VertexKind::gpu, 0), g1 = g.endpoint_of(VertexKind::gpu, 1);
  int g2 = g.endpoint_of(VertexKind::gpu, 2), g3 = g.endpoint_of(VertexKind::gpu, 3);
  int gw = g.endpoint_of(VertexKind::gateway, -1);
  // Double NVLink: 2 x 10 GB/s, one hop of 1 us.
  EXPECT_EQ(route_names(g, g0, g1), "nvlink.gpu0-gpu1");
  EXPECT_DOUBLE_EQ(g.route_bandwidth(g0, g1), 20e9);
  EXPECT_DOUBLE_EQ(g.route_latency(g0, g1), 1e-6);
  // gpu0 -> gpu2 has no NVLink and may not hop through gpu1: PCIe up to rc0, socket link, down to gpu2.
  EXPECT_EQ(route_names(g, g0, g2), "pcie.gpu0 pcie.sw0 pcie.rc0 smp.cpu0-cpu1 pcie.rc1 pcie.sw1 pcie.gpu2");
  EXPECT_DOUBLE_EQ(g.route_bandwidth(g0, g2), 4e9);
  EXPECT_DOUBLE_EQ(g.route_latency(g0, g2), 6 * 2e-6 + 3e-6);
  // Network traffic leaves by the affine NIC, both ways.
  EXPECT_EQ(route_names(g, g3, gw), "pcie.gpu3 nic.hca1");
  EXPECT_EQ(route_names(g, gw, g3), "nic.hca1 pcie.gpu3");
  EXPECT_EQ(route_names(g, g1, gw), "pcie.gpu1 nic.hca0");
  // Every ordered pair of endpoints has a route.
  for (size_t i = 0; i < g.endpoints.size(); ++i)
    for (size_t j = 0; j < g.endpoints.size(); ++j)
      if (i != j) {
        EXPECT_FALSE(g.routes[i][j].empty()) << i << "->" << j;
      }
}

TEST(Topology, FatTreeFromRadix) {
  NetworkSpec net;
  net.topology = Topology::fat_tree;
  net.switch_radix = 40;
  FatTreeShape one = fat_tree_shape(net, 30);
  EXPECT_EQ(one.levels, 1);
  EXPECT_EQ(one.leaves(), 30);
  FatTreeShape two = fat_tree_shape(net, 512);  // 26 leaf switches of 20 nodes, 20 spines
  EXPECT_EQ(two.levels, 2);
  EXPECT_EQ(two.down, (std::vector<unsigned>{20, 26}));
  EXPECT_EQ(two.up, (std::vector<unsigned>{1, 20}));
  EXPECT_GE(two.leaves(), 512);
  FatTreeShape three = fat_tree_shape(net, 10000);
  EXPECT_EQ(three.levels, 3);
  EXPECT_GE(three.leaves(), 10000);
  net.topology = Topology::star;
  EXPECT_EQ(fat_tree_shape(net, 7).down, (std::vector<unsigned>{7}));
}

TEST(Selection, IndexRangesKeepOrderAndDropRepeats) {
  EXPECT_EQ(parse_index_ranges("3,0-2,1", 4), (std::vector<long>{3, 0, 1, 2}));
  EXPECT_EQ(parse_index_ranges(" 5 - 6 ", 7), (std::vector<long>{5, 6}));
  for (const char* bad : {"", "4", "2-1", "-1", "a", "0,,1", "0-99999999999"})
    EXPECT_FALSE(parse_index_ranges(bad, 4).has_value()) << bad;
}

// mini-mesh with 3 nodes of 4 GPUs (and 2 CPUs): every GPU by default, node-major; ranges in the order given;
// patterns in node order; problems reported, not thrown.
TEST(Selection, SelectsHostsByRangesAndPatterns) {
  PlatformSpec spec = load_platform(kMesh, {{"nodes", "3"}});
  auto hosts = [&](HostSelection s, bool gpus_only, whatif::core::Diagnostics& diag) {
    std::vector<std::string> out;
    for (const auto& h : select_hosts(spec, s, gpus_only, diag, "placement"))
      out.push_back(h.host);
    return out;
  };
  whatif::core::Diagnostics ok;
  EXPECT_EQ(hosts({}, true, ok).size(), 12u);
  EXPECT_EQ(hosts({"", "2,0", "3,1"}, true, ok),
            (std::vector<std::string>{gpu_host_name("m2", 3), gpu_host_name("m2", 1), gpu_host_name("m0", 3),
                                      gpu_host_name("m0", 1)}));
  EXPECT_EQ(hosts({"m1.*"}, true, ok).size(), 4u);
  EXPECT_EQ(hosts({"m1.*"}, false, ok).size(), 6u);
  EXPECT_FALSE(ok.has_errors());
  for (HostSelection bad :
       {HostSelection{"", "0-3"}, HostSelection{"", "all", "4"}, HostSelection{"nothing*"}}) {
    whatif::core::Diagnostics diag;
    EXPECT_TRUE(hosts(bad, true, diag).empty());
    EXPECT_TRUE(diag.has_errors()) << bad.nodes << " " << bad.gpus << " " << bad.pattern;
  }
}
