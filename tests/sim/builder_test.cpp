// Simulation tests of platforms built from YAML by the builder: one engine and one platform per process, so
// each case is its own meson test. Expected times come from the platform files' numbers (worked out in their
// header comments) or from the catalog values the platform uses, never from a run.
#include <gtest/gtest.h>

#include <cmath>
#include <fmt/format.h>
#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Host.hpp>

#include "platform/builder.hpp"
#include "platform/spec.hpp"
#include "sim/collectives.hpp"
#include "sim/comm.hpp"
#include "sim/engine.hpp"

namespace sg = simgrid::s4u;
using namespace whatif;

namespace {

sim::SimEngine* the_engine = nullptr;

platform::PlatformSpec build(const std::string& file, const core::Parameters& params = {}) {
  platform::PlatformSpec spec = platform::load_platform(file, params);
  platform::build_platform(spec);
  return spec;
}

std::vector<sg::Host*> hosts(const std::vector<std::string>& names) {
  std::vector<sg::Host*> out;
  for (const auto& n : names)
    out.push_back(sg::Host::by_name(n));
  return out;
}

// Simulated time of one collective over `comm`, started at the current clock.
double time_collective(sim::CollectiveOp op, sim::Communicator& comm, std::uint64_t bytes,
                       sim::Algorithm algorithm) {
  double start = the_engine->now();
  sim::CollectiveOptions options;
  options.algorithm = algorithm;
  sim::launch_collective(op, comm, bytes, options);
  the_engine->run();
  return the_engine->now() - start;
}

// Simulated time for concurrent point-to-point messages (src -> dst pairs), all started at once.
double time_messages(const std::vector<std::pair<std::string, std::string>>& pairs, std::uint64_t bytes) {
  std::vector<std::string> names;
  for (const auto& [a, b] : pairs) {
    names.push_back(a);
    names.push_back(b);
  }
  sim::Communicator comm("pairs", hosts(names));
  double start = the_engine->now();
  sim::spawn_ranks(comm, "pair", [&comm, bytes](int rank) {
    if (rank % 2 == 0)
      comm.send(rank, rank + 1, bytes);
    else
      comm.recv(rank, rank - 1);
  });
  the_engine->run();
  return the_engine->now() - start;
}

}  // namespace

// uniform-star-8.yaml: alpha = 2 us, beta = 10 GB/s between any two GPUs (see its header).
// Ring allreduce over 8 ranks, S = 64 MiB: 2(n-1) alpha + 2(n-1)/n S/beta
//   = 14 x 2 us + 1.75 x 67108864 B / 1e10 B/s = 28 us + 11.744051 ms = 11.772051 ms.
TEST(Builder, StarRingAllreduceMatchesAlphaBeta) {
  build("tests/data/platforms/uniform-star-8.yaml");
  std::vector<std::string> names;
  for (int i = 0; i < 8; ++i)
    names.push_back(platform::gpu_host_name(fmt::format("n{}", i), 0));
  sim::Communicator comm("ring", hosts(names));
  const double S = 67108864.0, alpha = 2e-6, beta = 1e10;
  double expected = 14 * alpha + 1.75 * S / beta;
  double t = time_collective(sim::CollectiveOp::allreduce, comm, static_cast<std::uint64_t>(S),
                             sim::Algorithm::ring);
  EXPECT_NEAR(t, expected, 0.01 * expected);
}

// two-sites.yaml: across sites alpha = 4 x 1 us + 1 ms = 1.004 ms, beta = 1 GB/s: 1e6 B -> 2.004 ms.
// Inside a site alpha = 2 us, beta = 10 GB/s: 1e6 B -> 102 us.
TEST(Builder, TwoSitesRouteCrossesLanAndWan) {
  build("tests/data/platforms/two-sites.yaml");
  EXPECT_NEAR(time_messages({{"e0.gpu0", "c1.gpu0"}}, 1000000), 2.004e-3, 1e-9);
  EXPECT_NEAR(time_messages({{"c1.gpu0", "e0.gpu0"}}, 1000000), 2.004e-3, 1e-9);
  EXPECT_NEAR(time_messages({{"e0.gpu0", "e1.gpu0"}}, 1000000), 102e-6, 1e-12);
}

// torus-8.yaml: h torus hops of 1 us each, 10 GB/s: 1e6 B over h hops -> h us + 100 us.
TEST(Builder, TorusHopsAddLatency) {
  build("tests/data/platforms/torus-8.yaml");
  EXPECT_NEAR(time_messages({{"t0.gpu0", "t1.gpu0"}}, 1000000), 101e-6, 1e-12);
  EXPECT_NEAR(time_messages({{"t0.gpu0", "t3.gpu0"}}, 1000000), 102e-6, 1e-12);
  EXPECT_NEAR(time_messages({{"t0.gpu0", "t7.gpu0"}}, 1000000), 103e-6, 1e-12);
}

// Two DGX A100 nodes: GPU i of node 0 sends to GPU i of node 1, all 8 at once. Each flow leaves by its own
// HDR NIC (affinity) and the 8 rails carry 8 x HDR, so every flow gets one NIC's bandwidth: the time is that
// of one flow alone, S / HDR + the path latency (PCIe switch, NIC, fat tree and back).
TEST(Builder, DgxA100FlowsUseTheirOwnNicAndRail) {
  platform::PlatformSpec spec = build("platforms/dgx-a100.yaml", {{"nodes", "2"}});
  const double S = 1e9;
  double one = time_messages({{"dgx0.gpu0", "dgx1.gpu0"}}, static_cast<std::uint64_t>(S));
  double hdr = spec.link("HDR-InfiniBand").bandwidth.value;
  EXPECT_NEAR(one, S / hdr, 0.001 * S / hdr);
  std::vector<std::pair<std::string, std::string>> pairs;
  for (int g = 0; g < 8; ++g)
    pairs.push_back({platform::gpu_host_name("dgx0", g), platform::gpu_host_name("dgx1", g)});
  EXPECT_NEAR(time_messages(pairs, static_cast<std::uint64_t>(S)), one, 1e-9);
}

// DGX-1: the ring 0,3,2,1,5,6,7,4 uses a double NVLink2 on every hop, so ring allreduce runs at
// beta = 2 x NVLink2 and alpha = one NVLink2 hop, straight from the catalog.
TEST(Builder, Dgx1NvlinkRingUsesDoubleLinks) {
  platform::PlatformSpec spec = build("platforms/dgx1-v100.yaml");
  std::vector<std::string> names;
  for (int g : {0, 3, 2, 1, 5, 6, 7, 4})
    names.push_back(platform::gpu_host_name("dgx0", g));
  sim::Communicator comm("ring", hosts(names));
  const platform::LinkModel& nv = spec.link("NVLink2");
  const double S = 1 << 30, alpha = nv.latency.value, beta = 2 * nv.bandwidth.value;
  double expected = 14 * alpha + 1.75 * S / beta;
  double t = time_collective(sim::CollectiveOp::allreduce, comm, static_cast<std::uint64_t>(S),
                             sim::Algorithm::ring);
  EXPECT_NEAR(t, expected, 0.01 * expected);
}

// Hosts carry the properties participant selection and hierarchical algorithms rely on.
TEST(Builder, HostPropertiesAndCounts) {
  platform::PlatformSpec spec = platform::load_platform("platforms/selene.yaml", {{"nodes", "3"}});
  platform::BuildSummary summary = platform::build_platform(spec);
  EXPECT_EQ(summary.nodes, 3);
  EXPECT_EQ(summary.gpus, 24);
  EXPECT_EQ(sg::Engine::get_instance()->get_host_count(), 24u + 6u);
  sg::Host* h = sg::Host::by_name("dgx2.gpu5");
  EXPECT_STREQ(h->get_property("kind"), "gpu");
  EXPECT_STREQ(h->get_property("node"), "dgx2");
  EXPECT_STREQ(h->get_property("node_index"), "2");
  EXPECT_STREQ(h->get_property("index"), "5");
  EXPECT_STREQ(h->get_property("model"), "A100-SXM4-80GB");
  EXPECT_DOUBLE_EQ(h->get_speed(), spec.gpus.at("A100-SXM4-80GB").half_precision_peak());
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  sim::SimEngine engine;
  the_engine = &engine;
  return RUN_ALL_TESTS();
}
