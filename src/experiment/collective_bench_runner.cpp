// collective-bench on SimGrid: one actor per participant, every size played in turn between barriers.
#include <fmt/format.h>
#include <map>
#include <simgrid/s4u/Barrier.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Host.hpp>

#include "core/diagnostics.hpp"
#include "core/units.hpp"
#include "experiment/collective_bench.hpp"
#include "sim/collectives.hpp"
#include "sim/comm.hpp"
#include "sim/engine.hpp"

namespace whatif::experiment {

namespace sg = simgrid::s4u;

report::WorkloadOutput run_collective_bench(const CollectiveBenchSpec& spec, sim::SimEngine& engine) {
  std::vector<sg::Host*> hosts;
  std::vector<int> node_of_rank;
  std::map<long, int> compact;  // global node index -> 0..N-1 among participants
  for (const auto& p : spec.participants) {
    hosts.push_back(sg::Host::by_name(p.host));
    auto [it, fresh] = compact.emplace(p.node, static_cast<int>(compact.size()));
    node_of_rank.push_back(it->second);
  }
  sim::Communicator comm("bench", hosts, node_of_rank);
  const int n = comm.size();
  sim::CollectiveOp op = sim::parse_collective_op(spec.operation);
  sim::CollectiveOptions options;
  options.root = spec.root;
  options.chunk_bytes = spec.chunk_bytes;
  options.inter_node_algorithm = sim::parse_algorithm(spec.inter_node_algorithm);
  std::vector<sim::Algorithm> algorithm(spec.sizes.size());
  for (size_t i = 0; i < spec.sizes.size(); ++i) {
    try {
      algorithm[i] = sim::resolve_algorithm(op, comm, spec.sizes[i], sim::parse_algorithm(spec.algorithm));
      sim::CollectiveOptions o = options;
      o.algorithm = algorithm[i];
      sim::validate_collective(op, comm, spec.sizes[i], o);
    } catch (const std::invalid_argument& e) {
      throw core::InputError(spec.algorithm_location, fmt::format("workload: 'algorithm': {}", e.what()));
    }
  }

  // Every size starts when all ranks are ready and ends when the last rank is done: the barriers cost no
  // simulated time, so time[i] is the collective's completion time as nccl-tests measures it.
  std::vector<double> start(spec.sizes.size(), 0), end(spec.sizes.size(), 0);
  std::vector<std::vector<double>> rank_end(spec.sizes.size(), std::vector<double>(n, 0));
  sg::BarrierPtr barrier = sg::Barrier::create(n);
  sim::spawn_ranks(comm, "bench", [&](int rank) {
    for (size_t i = 0; i < spec.sizes.size(); ++i) {
      barrier->wait();
      if (rank == 0) start[i] = sg::Engine::get_clock();
      sim::CollectiveOptions o = options;
      o.algorithm = algorithm[i];
      sim::run_collective(op, comm, rank, spec.sizes[i], o);
      rank_end[i][rank] = sg::Engine::get_clock();
      barrier->wait();
      if (rank == 0) end[i] = sg::Engine::get_clock();
    }
  });
  engine.run();

  report::WorkloadOutput out;
  report::Table table;
  table.title = fmt::format("{} over {} ranks on {} node(s)", spec.operation, n, comm.node_count());
  table.headers = {"size", "bytes", "algorithm", "time (us)", "algbw (GB/s)", "busbw (GB/s)"};
  table.right_align = {true, true, false, true, true, true};
  double factor = sim::bus_bandwidth_factor(op, n);
  nlohmann::json rows = nlohmann::json::array();
  double peak_busbw = 0;
  for (size_t i = 0; i < spec.sizes.size(); ++i) {
    double t = end[i] - start[i];
    double algbw = t > 0 ? static_cast<double>(spec.sizes[i]) / t : 0;
    double busbw = algbw * factor;
    peak_busbw = std::max(peak_busbw, busbw);
    std::string algo(sim::to_string(algorithm[i]));
    table.rows.push_back({core::format_quantity(static_cast<double>(spec.sizes[i]), core::Dimension::size),
                          std::to_string(spec.sizes[i]), algo, fmt::format("{:.3f}", t * 1e6),
                          fmt::format("{:.3f}", algbw / 1e9), fmt::format("{:.3f}", busbw / 1e9)});
    rows.push_back({{"bytes", spec.sizes[i]},
                    {"algorithm", algo},
                    {"time_s", t},
                    {"algbw_Bps", algbw},
                    {"busbw_Bps", busbw}});
    for (int r = 0; r < n; ++r)
      out.timeline.add(
          comm.host(r)->get_name(),
          fmt::format("{} {}", spec.operation,
                      core::format_quantity(static_cast<double>(spec.sizes[i]), core::Dimension::size)),
          "collective", start[i], rank_end[i][r],
          {{"algorithm", algo}, {"bytes", static_cast<std::int64_t>(spec.sizes[i])}});
  }
  out.metrics = {{"operation", spec.operation},  {"ranks", n},
                 {"nodes", comm.node_count()},   {"bus_bandwidth_factor", factor},
                 {"peak_busbw_Bps", peak_busbw}, {"sizes", rows}};
  out.tables.push_back(table);
  out.table_files.push_back("collective.csv");
  return out;
}

}  // namespace whatif::experiment
