// Sweep files (format whatif-sweep/1): a base experiment, parameters addressed by the dotted paths of
// `whatif run --set`, their combination, constraints and repetitions, expanded into resolved points.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/diagnostics.hpp"
#include "sweep/expr.hpp"

namespace whatif::sweep {

struct Parameter {
  std::string name;                // its column in the results and its name in constraints
  std::vector<std::string> paths;  // every path gets the value; none for a variable that is only a column
  enum class Kind { list, range, sample, derived } kind = Kind::list;
  std::optional<Expr> expr;         // derived: computed from the parameters before it
  std::vector<std::string> values;  // list and range, already formatted (unit appended)
  double low = 0, high = 0;         // sample bounds
  bool log = false, integer = false;
  std::string unit;  // appended to generated numbers (range, sample)
  std::string zip;   // parameters with the same zip group advance together
  core::Location where;
};

struct Constraint {
  Expr expr;
  core::Location where;
};

struct SweepSpec {
  std::string file, name, description;
  std::string experiment;  // base experiment file, resolved against the sweep file's folder
  std::vector<Parameter> parameters;
  std::string combine = "grid";  // grid | zip
  std::string sample_method = "random";
  std::uint64_t sample_count = 0, sample_seed = 1;
  std::vector<Constraint> constraints;
  int repetitions = 1;
  std::uint64_t seed = 1;       // repetitions' seeds derive from it
  double point_timeout = 3600;  // seconds
  double point_memory = 0;      // bytes of resident memory, 0 = no limit
  std::string definition_hash;  // of the sweep file and the base experiment's text
};

struct Point {
  std::uint64_t index = 0;  // position among the resolved points (before repetitions)
  int repetition = 0;
  std::uint64_t seed = 0;
  std::vector<std::string> values;  // one per parameter
  std::string key;                  // stable identity: parameter values and repetition
};

// The fixed columns of the results table, which parameter names may not take.
const std::vector<std::string>& reserved_columns();

// Reads and checks a sweep file; throws core::InputError with every problem (file, line, field).
SweepSpec load_sweep(const std::string& file);

// All points, in order (first parameter slowest), constraints applied, repetitions expanded.
// `dropped` receives how many combinations the constraints removed.
std::vector<Point> expand(const SweepSpec& spec, std::uint64_t* dropped = nullptr);

// `path=value` assignments of one point, for `whatif run --set`.
std::vector<std::string> assignments(const SweepSpec& spec, const Point& point);

// Checks the base experiment with the first point, and every value of every parameter alone, without
// running anything: a bad sweep fails before any point runs. Throws core::InputError naming the value.
void check_points(const SweepSpec& spec, const std::vector<Point>& points);

}  // namespace whatif::sweep
