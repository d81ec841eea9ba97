// Running a sweep: every point in its own `whatif run` process (SimGrid allows one engine per process), N at
// a time, each with a time and a memory limit, results recorded as they come; or spread over MPI ranks.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sweep/plan.hpp"
#include "sweep/store.hpp"

namespace whatif::sweep {

struct RunSettings {
  std::string executable;  // the whatif binary that runs each point
  // Runs a whole whatif command line (without the program name) and returns its exit code. When set, a
  // point's child is a fork of this process that calls it, instead of a new process exec'ing `executable`:
  // that skips the ~65 ms a new whatif spends loading and relocating SimGrid's 40 shared libraries. Leave it
  // unset in a process that runs threads or has MPI initialised (MPI libraries hook memory calls from their
  // own threads; a forked copy must not inherit that).
  std::function<int(const std::vector<std::string>&)> run_in_child;
  std::string db;
  int jobs = 1;
  bool retry_failed = false;
  std::optional<double> timeout, memory;    // override the sweep file's limits
  std::optional<std::string> keep_results;  // keep each point's results folder under this folder
  std::optional<std::uint64_t> limit;       // run at most this many points (then stop, resumable)
  std::vector<std::string> simgrid_args;
  enum class Progress { automatic, bar, lines, quiet } progress = Progress::automatic;
};

struct SweepOutcome {
  std::uint64_t planned = 0, skipped = 0, ran = 0, done = 0, failed = 0;
  double wall_s = 0;
};

// Runs the points not done yet (and the failed ones with retry_failed), on this machine.
SweepOutcome run_sweep(const SweepSpec& spec, const std::vector<Point>& points, const RunSettings& settings);

// The same, with MPI: rank 0 owns the database and hands out points one at a time; the other ranks run them.
// Only in builds with MPI; elsewhere throws core::InputError saying so.
SweepOutcome run_sweep_mpi(const SweepSpec& spec, const std::vector<Point>& points,
                           const RunSettings& settings);
bool mpi_available();

// Runs points one after another in child processes and hands back their results: the worker side of both
// modes, public for the MPI distribution and the benchmark.
class PointPool {
 public:
  PointPool(const SweepSpec& spec, const RunSettings& settings);
  ~PointPool();
  PointPool(const PointPool&) = delete;
  PointPool& operator=(const PointPool&) = delete;
  std::size_t running() const;
  // Starts a point in a child process; throws std::runtime_error when the process cannot start.
  void start(const Point& point);
  // Waits until at least one child ended (or `max_wait` seconds passed) and returns what ended.
  std::vector<std::pair<Point, PointResult>> collect(double max_wait);
  // Kills every child (on interruption).
  void kill_all();

 private:
  struct Child;
  const SweepSpec& spec_;
  const RunSettings& settings_;
  std::string scratch_;
  std::vector<Child> children_;
  double timeout_, memory_;
};

// Points to run now: not done yet (failed ones only with retry_failed), at most settings.limit; `skipped`
// counts the others.
std::vector<const Point*> pending_points(Store& store, std::int64_t sweep, const std::vector<Point>& points,
                                         const RunSettings& settings, std::uint64_t& skipped);
std::string host_name();

// Runs `args` (a whole `whatif run` command line) as a child process and waits: the baseline of the sweep
// benchmark. Returns the wall time in seconds.
double run_bare(const std::string& executable, const std::vector<std::string>& args);

// The machine's own ceiling for a process per point, for `whatif bench sweep`: `children` forks of this
// process, `jobs` at a time, each touching `pages` fresh pages and then running `iterations` of a fixed
// arithmetic loop. Wall seconds.
double fork_control(std::size_t children, int jobs, int pages, long iterations);
// Iterations of that loop per second, on one core.
double control_loop_rate();

}  // namespace whatif::sweep
