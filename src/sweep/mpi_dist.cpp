// Sweeps over MPI ranks: rank 0 owns the database and hands out one point at a time to whichever rank asks;
// the other ranks run each point in a child process, as the local mode does, and send back its result.
#include <fmt/format.h>

#include <chrono>
#include <iostream>

#include "core/diagnostics.hpp"
#include "sweep/runner.hpp"

#ifdef WHATIF_HAVE_MPI
// The C API only: Open MPI's deprecated C++ bindings do not compile cleanly and are not used.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace whatif::sweep {

#ifndef WHATIF_HAVE_MPI

bool mpi_available() {
  return false;
}

SweepOutcome run_sweep_mpi(const SweepSpec&, const std::vector<Point>&, const RunSettings&) {
  throw core::InputError(
      "--mpi: this whatif was built without MPI (install libopenmpi-dev or libmpich-dev and rebuild)");
}

#else

namespace {

enum Tag : int { kReady = 1, kResult = 2, kWork = 3 };

void send_text(const std::string& text, int dest, int tag) {
  MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, dest, tag, MPI_COMM_WORLD);
}

std::string receive_text(int source, int tag, MPI_Status& status) {
  MPI_Probe(source, tag, MPI_COMM_WORLD, &status);
  int size = 0;
  MPI_Get_count(&status, MPI_CHAR, &size);
  std::string text(static_cast<std::size_t>(size), '\0');
  MPI_Recv(text.data(), size, MPI_CHAR, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  return text;
}

SweepOutcome coordinate(const SweepSpec& spec, const std::vector<Point>& points, const RunSettings& settings,
                        int ranks) {
  Store store(settings.db);
  const std::int64_t sweep = store.open_sweep(spec, points.size());
  SweepOutcome outcome;
  outcome.planned = points.size();
  std::vector<const Point*> todo = pending_points(store, sweep, points, settings, outcome.skipped);
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t next = 0;
  int workers = ranks - 1;
  std::cout << fmt::format("sweep {}: {} points to run on {} worker ranks\n", spec.name, todo.size(), workers)
            << std::flush;
  while (workers > 0) {
    MPI_Status status;
    MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &status);
    const int worker = status.MPI_SOURCE;
    std::string text = receive_text(worker, status.MPI_TAG, status);
    nlohmann::json r = nlohmann::json::parse(text);
    if (status.MPI_TAG == kResult) {
      const Point& point = points.at(r["point"].get<std::size_t>());
      PointResult result;
      result.status = r["status"];
      result.error = r["error"];
      result.wall_s = r["wall_s"];
      result.metrics = r["metrics"];
      result.host = r["host"];
      store.record(sweep, spec, point, result);
      ++outcome.ran;
      (result.status == "done" ? outcome.done : outcome.failed)++;
    }
    if (next < todo.size()) {
      const Point& point = *todo[next++];
      store.mark_running(sweep, spec, point, r.value("host", ""));
      std::int64_t index = &point - points.data();
      MPI_Send(&index, 1, MPI_INT64_T, worker, kWork, MPI_COMM_WORLD);
    } else {
      std::int64_t stop = -1;
      MPI_Send(&stop, 1, MPI_INT64_T, worker, kWork, MPI_COMM_WORLD);
      --workers;
    }
  }
  outcome.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return outcome;
}

void work(const SweepSpec& spec, const std::vector<Point>& points, const RunSettings& settings) {
  PointPool pool(spec, settings);
  const std::string host = host_name();
  send_text(nlohmann::json{{"host", host}}.dump(), 0, kReady);
  for (;;) {
    std::int64_t index = -1;
    MPI_Recv(&index, 1, MPI_INT64_T, 0, kWork, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (index < 0) return;
    pool.start(points.at(static_cast<std::size_t>(index)));
    std::vector<std::pair<Point, PointResult> > ended;
    while (ended.empty())
      ended = pool.collect(3600);
    const PointResult& r = ended.front().second;
    send_text(nlohmann::json{{"point", index},
                             {"status", r.status},
                             {"error", r.error},
                             {"wall_s", r.wall_s},
                             {"metrics", r.metrics},
                             {"host", host}}
                  .dump(),
              0, kResult);
  }
}

}  // namespace

bool mpi_available() {
  return true;
}

SweepOutcome run_sweep_mpi(const SweepSpec& spec, const std::vector<Point>& points,
                           const RunSettings& settings) {
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SINGLE, &provided);
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  if (ranks < 2) {
    MPI_Finalize();
    throw core::InputError(
        "--mpi needs at least 2 ranks (rank 0 hands out points, the others run them): mpirun -n K whatif "
        "sweep run "
        "... --mpi");
  }
  SweepOutcome outcome;
  try {
    if (rank == 0)
      outcome = coordinate(spec, points, settings, ranks);
    else
      work(spec, points, settings);
  } catch (const std::exception& e) {
    std::cerr << fmt::format("error: rank {}: {}\n", rank, e.what());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  MPI_Finalize();
  if (rank != 0) outcome.planned = 0;  // workers report nothing
  return outcome;
}

#endif

}  // namespace whatif::sweep
