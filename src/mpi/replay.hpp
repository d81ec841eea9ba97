// Replay of a Pilgrim trace on a platform: one SimGrid actor per rank, MPI matching, collectives, compute
// phases from the recorded timings.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mpi/pilgrim.hpp"
#include "platform/spec.hpp"
#include "sim/engine.hpp"
#include "sim/timeline.hpp"

namespace whatif::mpi {

// Collective algorithms and eager limits are chosen as this MPI library's defaults would.
enum class MpiLibrary { mpich, openmpi };
std::string_view to_string(MpiLibrary library);
MpiLibrary parse_mpi_library(std::string_view name);  // throws std::invalid_argument

struct ReplayOptions {
  std::string map = "block";  // block | round-robin | a file with one host name per rank
  MpiLibrary library = MpiLibrary::mpich;
  // Messages up to this size go eagerly (the sender does not wait for the receiver); < 0: the library's
  // default for the transport (see replay.cpp).
  double eager_threshold = -1;
  // Compute phases (gaps between recorded calls) are multiplied by compute_scale and, when
  // traced_core_speed > 0 (flop/s of one core of the traced machine), by traced / replay core speed.
  double compute_scale = 1;
  double traced_core_speed = 0;
  double tracing_overhead = 0;          // seconds Pilgrim added to every gap, subtracted (gaps stay >= 0)
  double call_gap = 0;                  // compute between calls for traces without timings (AGGREGATED)
  double launch_overhead = 0;           // job launch + MPI_Init + MPI_Finalize, added to the run time
  std::string comms_file;               // whatif-mpi-comms/1 membership of split communicators
  std::size_t timeline_limit = 200000;  // events recorded in timeline.json; 0 disables the timeline
};

struct RankReport {
  int rank = 0;
  std::string host;
  double end = 0;  // simulated time the rank's last call ended
  double compute = 0, point_to_point = 0, collectives = 0, waiting = 0;
  std::uint64_t calls = 0, messages = 0;
  double bytes_sent = 0;
};

struct ReplayReport {
  std::vector<RankReport> ranks;
  double application_time = 0;  // latest rank end
  double run_time = 0;          // application_time + launch overhead
  double eager_threshold = 0;
  std::uint64_t calls = 0, messages = 0, collectives = 0;
  std::vector<std::string> notes;  // assumptions the replay had to make, once each
  sim::Timeline timeline{"whatif mpi replay"};
  bool timeline_truncated = false;
};

// Host of each rank: CPU sockets of the platform in node order, each offering one slot per core. block fills
// a socket's cores before the next; round-robin deals ranks over nodes. More ranks than cores wrap around
// (oversubscription) with a warning. A file lists one host name per line (# comments), rank by rank.
std::vector<std::string> place_ranks(const platform::PlatformSpec& platform, int ranks,
                                     const std::string& map, std::vector<std::string>& warnings);

// Replays every rank on the already built platform. Throws core::InputError for bad options or a platform the
// ranks cannot run on, and ReplayDeadlock (exit 1) when ranks remain blocked, naming each one's call and
// position in the trace.
ReplayReport replay_trace(const PilgrimTrace& trace, const platform::PlatformSpec& platform,
                          const ReplayOptions& options, sim::SimEngine& engine);

// For benchmarks: replays on the named hosts of a platform that already exists, running SimGrid's engine.
ReplayReport replay_on_hosts(const PilgrimTrace& trace, const ReplayOptions& options,
                             const std::vector<std::string>& hosts);

class ReplayDeadlock : public sim::SimulationError {
 public:
  using sim::SimulationError::SimulationError;
};

}  // namespace whatif::mpi
