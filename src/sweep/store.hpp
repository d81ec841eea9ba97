// The SQLite results store of sweeps: one row per sweep, one row per point with its parameters and metrics
// as columns. WAL journal and one transaction per point, so a killed sweep loses only the points in flight.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sweep/plan.hpp"

struct sqlite3;

namespace whatif::sweep {

struct PointResult {
  std::string status;  // done | failed
  std::string error;
  double wall_s = 0;
  nlohmann::json metrics = nlohmann::json::object();  // flattened scalars
  std::string host;
};

struct SweepCounts {
  std::int64_t id = 0;
  std::string name, file, created, version;
  std::uint64_t planned = 0, done = 0, failed = 0, running = 0;
};

class Store {
 public:
  // Opens (creates) the database; throws core::InputError when it cannot.
  explicit Store(const std::string& path);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The sweep's row (created on first use): sweeps are told apart by name and definition hash, so a changed
  // sweep file or base experiment starts a new sweep instead of mixing results.
  std::int64_t open_sweep(const SweepSpec& spec, std::uint64_t planned);
  // key -> status of the points this sweep already has.
  std::map<std::string, std::string> statuses(std::int64_t sweep);
  void mark_running(std::int64_t sweep, const SweepSpec& spec, const Point& point, const std::string& host);
  void record(std::int64_t sweep, const SweepSpec& spec, const Point& point, const PointResult& result);

  std::vector<SweepCounts> sweeps();
  // Every column and row of the points of one sweep (all sweeps when nullopt), done and failed alike.
  struct Table {
    std::vector<std::string> columns;
    std::vector<std::vector<nlohmann::json>> rows;
  };
  Table points(std::optional<std::int64_t> sweep);
  // Failed points' errors, most common first.
  std::vector<std::pair<std::string, int>> errors(std::int64_t sweep, int limit);

 private:
  void exec(const std::string& sql);
  void ensure_column(const std::string& name);
  std::string column_for_metric(const std::string& key, const SweepSpec& spec);

  sqlite3* db_ = nullptr;
  std::string path_;
  std::vector<std::string> columns_;  // of `points`
};

// Flattens a run summary's metrics into scalar columns: nested mappings join their keys with '_', a list of
// exactly one mapping is read as that mapping (a one-size collective-bench), other lists are left out.
nlohmann::json flatten_metrics(const nlohmann::json& metrics);

}  // namespace whatif::sweep
