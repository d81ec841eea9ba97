// Engine benchmark: a two-host platform, then raw s4u and whatif Communicator ping-pongs timed on one engine.
#include "sim/bench_engine.hpp"

#include "sim/comm.hpp"
#include "sim/engine.hpp"

#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Host.hpp>
#include <simgrid/s4u/Link.hpp>
#include <simgrid/s4u/Mailbox.hpp>
#include <simgrid/s4u/NetZone.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <utility>

namespace whatif::sim {

namespace {

namespace sg4 = simgrid::s4u;

constexpr int kRepeats = 3;
constexpr std::uint64_t kMessageBytes = 8;
char bench_payload = 0;

// This benchmark measures the engine itself, so it builds its platform directly instead of through
// platform/builder.cpp: two hosts joined by one link.
std::pair<sg4::Host*, sg4::Host*> build_platform() {
  auto* zone = sg4::create_full_zone("whatif-bench");
  auto* a = zone->create_host("whatif-bench-a", 1e9);
  auto* b = zone->create_host("whatif-bench-b", 1e9);
  auto* link = zone->create_link("whatif-bench-link", 1e9)->set_latency(1e-6)->seal();
  zone->add_route(a->get_netpoint(), b->get_netpoint(), nullptr, nullptr, {sg4::LinkInRoute(link)}, true);
  zone->seal();
  return {a, b};
}

double timed_run(sg4::Engine& engine) {
  const auto start = std::chrono::steady_clock::now();
  engine.run();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double raw_ping_pong(sg4::Engine& engine, sg4::Host* a, sg4::Host* b, long rounds) {
  auto* ping = sg4::Mailbox::by_name("whatif-bench-ping");
  auto* pong = sg4::Mailbox::by_name("whatif-bench-pong");
  sg4::Actor::create("raw-a", a, [=] {
    for (long i = 0; i < rounds; ++i) {
      ping->put(&bench_payload, kMessageBytes);
      pong->get<void>();
    }
  });
  sg4::Actor::create("raw-b", b, [=] {
    for (long i = 0; i < rounds; ++i) {
      ping->get<void>();
      pong->put(&bench_payload, kMessageBytes);
    }
  });
  return timed_run(engine);
}

double sim_ping_pong(sg4::Engine& engine, Communicator& comm, long rounds) {
  Communicator* shared = &comm;
  sg4::Actor::create("sim-a", comm.host(0), [shared, rounds] {
    for (long i = 0; i < rounds; ++i) {
      shared->send(0, 1, kMessageBytes);
      shared->recv(0, 1);
    }
  });
  sg4::Actor::create("sim-b", comm.host(1), [shared, rounds] {
    for (long i = 0; i < rounds; ++i) {
      shared->recv(1, 0);
      shared->send(1, 0, kMessageBytes);
    }
  });
  return timed_run(engine);
}

}  // namespace

EngineBenchResult bench_engine(long activities, const std::vector<BenchPhase>& phases) {
  if (activities < 2) throw std::invalid_argument("bench_engine needs at least 2 activities");
  std::optional<SimEngine> own_engine;
  if (!sg4::Engine::is_initialized()) own_engine.emplace();
  auto& engine = *sg4::Engine::get_instance();
  if (engine.get_netzone_root() != nullptr || engine.get_host_count() > 0)
    throw std::logic_error(
        "bench_engine needs a process without a platform (SimGrid allows one per process)");
  const auto [a, b] = build_platform();
  Communicator comm("whatif-bench", {a, b});

  const long rounds = activities / 2;
  const long warm_up_rounds = std::min(rounds, 10000L);
  raw_ping_pong(engine, a, b, warm_up_rounds);
  sim_ping_pong(engine, comm, warm_up_rounds);

  double raw = std::numeric_limits<double>::infinity(), sim = raw;
  for (int i = 0; i < kRepeats; ++i) {
    raw = std::min(raw, raw_ping_pong(engine, a, b, rounds));
    sim = std::min(sim, sim_ping_pong(engine, comm, rounds));
  }

  // Each extra phase alternates with the raw ping-pong too, so the baseline's best run comes from the same
  // stretch of wall time as the phase's.
  EngineBenchResult result;
  const std::vector<std::string> hosts{a->get_name(), b->get_name()};
  for (const auto& phase : phases) {
    phase.run(hosts);  // warm-up
    BenchPhaseResult r{phase.name, 0, std::numeric_limits<double>::infinity(), 0, 0};
    for (int i = 0; i < kRepeats; ++i) {
      raw = std::min(raw, raw_ping_pong(engine, a, b, rounds));
      const auto start = std::chrono::steady_clock::now();
      r.activities = phase.run(hosts);
      r.seconds = std::min(r.seconds,
                           std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    r.per_second = static_cast<double>(r.activities) / std::max(r.seconds, 1e-12);
    result.phases.push_back(r);
  }
  result.activities = 2 * rounds;
  result.raw_seconds = raw;
  result.sim_seconds = sim;
  result.raw_per_second = static_cast<double>(result.activities) / std::max(raw, 1e-12);
  result.sim_per_second = static_cast<double>(result.activities) / std::max(sim, 1e-12);
  result.ratio = result.sim_per_second / result.raw_per_second;
  for (auto& r : result.phases)
    r.ratio = r.per_second / result.raw_per_second;
  return result;
}

}  // namespace whatif::sim
