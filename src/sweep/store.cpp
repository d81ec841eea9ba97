// SQLite access for sweeps.
#include "sweep/store.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>

#include "core/diagnostics.hpp"

namespace whatif::sweep {

namespace {

const std::vector<std::string>& kFixed = reserved_columns();

std::string quote(const std::string& name) {
  std::string out = "\"";
  for (char c : name)
    out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string now_text() {
  auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// A prepared statement that finalizes itself.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK)
      throw std::runtime_error(fmt::format("sqlite: {} in: {}", sqlite3_errmsg(db), sql));
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  void bind(int i, const nlohmann::json& v) {
    if (v.is_null())
      sqlite3_bind_null(stmt_, i);
    else if (v.is_boolean())
      sqlite3_bind_int64(stmt_, i, v.get<bool>() ? 1 : 0);
    else if (v.is_number_integer())
      sqlite3_bind_int64(stmt_, i, v.get<std::int64_t>());
    else if (v.is_number_unsigned())
      sqlite3_bind_int64(stmt_, i, static_cast<std::int64_t>(v.get<std::uint64_t>()));
    else if (v.is_number())
      sqlite3_bind_double(stmt_, i, v.get<double>());
    else if (v.is_string())
      sqlite3_bind_text(stmt_, i, v.get_ref<const std::string&>().c_str(), -1, SQLITE_TRANSIENT);
    else
      sqlite3_bind_text(stmt_, i, v.dump().c_str(), -1, SQLITE_TRANSIENT);
  }
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(fmt::format("sqlite: {}", sqlite3_errmsg(db_)));
  }
  nlohmann::json column(int i) const {
    switch (sqlite3_column_type(stmt_, i)) {
      case SQLITE_INTEGER:
        return sqlite3_column_int64(stmt_, i);
      case SQLITE_FLOAT:
        return sqlite3_column_double(stmt_, i);
      case SQLITE_NULL:
        return nullptr;
      default:
        return std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i)));
    }
  }
  int columns() const { return sqlite3_column_count(stmt_); }
  std::string column_name(int i) const { return sqlite3_column_name(stmt_, i); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

void flatten_into(const nlohmann::json& v, const std::string& prefix, nlohmann::json& out) {
  if (v.is_object()) {
    for (const auto& [k, x] : v.items())
      flatten_into(x, prefix.empty() ? k : prefix + "_" + k, out);
  } else if (v.is_array()) {
    if (v.size() == 1 && v[0].is_object()) flatten_into(v[0], prefix, out);
  } else if (!prefix.empty()) {
    out[prefix] = v;
  }
}

}  // namespace

nlohmann::json flatten_metrics(const nlohmann::json& metrics) {
  nlohmann::json out = nlohmann::json::object();
  flatten_into(metrics, "", out);
  return out;
}

Store::Store(const std::string& path) : path_(path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw core::InputError(core::Location{path, 0, 0}, "cannot open the results database: " + msg);
  }
  sqlite3_busy_timeout(db_, 10000);
  try {
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    exec(
        "CREATE TABLE IF NOT EXISTS sweeps (id INTEGER PRIMARY KEY, name TEXT NOT NULL, file TEXT, "
        "definition_hash TEXT NOT NULL, points INTEGER, parameters TEXT, created TEXT, whatif_version TEXT, "
        "UNIQUE(name, definition_hash))");
    exec(
        "CREATE TABLE IF NOT EXISTS points (sweep_id INTEGER NOT NULL, point INTEGER, repetition INTEGER, "
        "key TEXT NOT NULL, status TEXT, error TEXT, wall_s REAL, seed INTEGER, attempts INTEGER DEFAULT 0, "
        "started TEXT, finished TEXT, whatif_version TEXT, host TEXT, PRIMARY KEY(sweep_id, key))");
  } catch (const std::runtime_error& e) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw core::InputError(core::Location{path, 0, 0},
                           fmt::format("not a whatif results database: {}", e.what()));
  }
  Statement info(db_, "PRAGMA table_info(points)");
  while (info.step())
    columns_.push_back(info.column(1).get<std::string>());
}

Store::~Store() {
  if (db_) sqlite3_close(db_);
}

void Store::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw std::runtime_error(fmt::format("sqlite: {} in: {}", msg, sql));
  }
}

void Store::ensure_column(const std::string& name) {
  if (std::find(columns_.begin(), columns_.end(), name) != columns_.end()) return;
  exec(fmt::format("ALTER TABLE points ADD COLUMN {}", quote(name)));
  columns_.push_back(name);
}

std::string Store::column_for_metric(const std::string& key, const SweepSpec& spec) {
  bool taken = std::find(kFixed.begin(), kFixed.end(), key) != kFixed.end() ||
               std::any_of(spec.parameters.begin(), spec.parameters.end(),
                           [&](const Parameter& p) { return p.name == key; });
  return taken ? "metric_" + key : key;
}

std::int64_t Store::open_sweep(const SweepSpec& spec, std::uint64_t planned) {
  nlohmann::json names = nlohmann::json::array();
  for (const auto& p : spec.parameters)
    names.push_back(p.name);
  Statement find(db_, "SELECT id FROM sweeps WHERE name = ? AND definition_hash = ?");
  find.bind(1, spec.name);
  find.bind(2, spec.definition_hash);
  if (find.step()) {
    std::int64_t id = find.column(0).get<std::int64_t>();
    Statement update(db_, "UPDATE sweeps SET points = ? WHERE id = ?");
    update.bind(1, planned);
    update.bind(2, id);
    update.step();
    return id;
  }
  Statement insert(
      db_,
      "INSERT INTO sweeps (name, file, definition_hash, points, parameters, created, whatif_version) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)");
  insert.bind(1, spec.name);
  insert.bind(2, spec.file);
  insert.bind(3, spec.definition_hash);
  insert.bind(4, planned);
  insert.bind(5, names.dump());
  insert.bind(6, now_text());
  insert.bind(7, WHATIF_VERSION);
  insert.step();
  for (const auto& p : spec.parameters)
    if (std::find(kFixed.begin(), kFixed.end(), p.name) == kFixed.end()) ensure_column(p.name);
  return sqlite3_last_insert_rowid(db_);
}

std::map<std::string, std::string> Store::statuses(std::int64_t sweep) {
  std::map<std::string, std::string> out;
  Statement q(db_, "SELECT key, status FROM points WHERE sweep_id = ?");
  q.bind(1, sweep);
  while (q.step())
    out[q.column(0).get<std::string>()] = q.column(1).is_string() ? q.column(1).get<std::string>() : "";
  return out;
}

void Store::mark_running(std::int64_t sweep, const SweepSpec& spec, const Point& point,
                         const std::string& host) {
  exec("BEGIN IMMEDIATE");
  try {
    std::string cols =
        "sweep_id, point, repetition, key, status, seed, attempts, started, whatif_version, host";
    std::string marks = "?, ?, ?, ?, 'running', ?, 1, ?, ?, ?";
    for (const auto& p : spec.parameters) {
      cols += ", " + quote(p.name);
      marks += ", ?";
    }
    Statement s(
        db_,
        fmt::format("INSERT INTO points ({}) VALUES ({}) ON CONFLICT(sweep_id, key) DO UPDATE SET "
                    "status = 'running', error = NULL, attempts = attempts + 1, started = excluded.started, "
                    "host = excluded.host",
                    cols, marks));
    int i = 1;
    s.bind(i++, sweep);
    s.bind(i++, point.index);
    s.bind(i++, point.repetition);
    s.bind(i++, point.key);
    s.bind(i++, static_cast<std::int64_t>(point.seed));
    s.bind(i++, now_text());
    s.bind(i++, WHATIF_VERSION);
    s.bind(i++, host);
    for (std::size_t k = 0; k < point.values.size(); ++k) {
      // A number with the parameter's unit is stored as the number, so that it sorts and plots as one.
      std::string v = point.values[k];
      const std::string& unit = spec.parameters[k].unit;
      if (!unit.empty() && v.size() > unit.size() &&
          v.compare(v.size() - unit.size(), unit.size(), unit) == 0 &&
          std::holds_alternative<double>(value_of(v.substr(0, v.size() - unit.size()))))
        v.resize(v.size() - unit.size());
      Value value = value_of(v);
      if (const double* d = std::get_if<double>(&value))
        s.bind(i++, *d == std::round(*d) && std::abs(*d) < 9e18
                        ? nlohmann::json(static_cast<std::int64_t>(*d))
                        : nlohmann::json(*d));
      else
        s.bind(i++, v);
    }
    s.step();
    exec("COMMIT");
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
}

void Store::record(std::int64_t sweep, const SweepSpec& spec, const Point& point, const PointResult& result) {
  exec("BEGIN IMMEDIATE");
  try {
    std::string sets = "status = ?, error = ?, wall_s = ?, finished = ?";
    std::vector<nlohmann::json> values = {
        result.status, result.error.empty() ? nlohmann::json() : nlohmann::json(result.error), result.wall_s,
        now_text()};
    for (const auto& [k, v] : result.metrics.items()) {
      std::string column = column_for_metric(k, spec);
      ensure_column(column);
      sets += ", " + quote(column) + " = ?";
      values.push_back(v);
    }
    Statement s(db_, fmt::format("UPDATE points SET {} WHERE sweep_id = ? AND key = ?", sets));
    int i = 1;
    for (const auto& v : values)
      s.bind(i++, v);
    s.bind(i++, sweep);
    s.bind(i++, point.key);
    s.step();
    exec("COMMIT");
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
}

std::vector<SweepCounts> Store::sweeps() {
  std::vector<SweepCounts> out;
  Statement q(db_,
              "SELECT s.id, s.name, s.file, s.created, s.whatif_version, s.points, "
              "SUM(p.status = 'done'), SUM(p.status = 'failed'), SUM(p.status = 'running') "
              "FROM sweeps s LEFT JOIN points p ON p.sweep_id = s.id GROUP BY s.id ORDER BY s.id");
  while (q.step()) {
    SweepCounts c;
    c.id = q.column(0).get<std::int64_t>();
    c.name = q.column(1).get<std::string>();
    c.file = q.column(2).is_string() ? q.column(2).get<std::string>() : "";
    c.created = q.column(3).is_string() ? q.column(3).get<std::string>() : "";
    c.version = q.column(4).is_string() ? q.column(4).get<std::string>() : "";
    auto count = [&](int i) { return q.column(i).is_number() ? q.column(i).get<std::uint64_t>() : 0; };
    c.planned = count(5);
    c.done = count(6);
    c.failed = count(7);
    c.running = count(8);
    out.push_back(c);
  }
  return out;
}

Store::Table Store::points(std::optional<std::int64_t> sweep) {
  Table t;
  Statement q(db_, sweep ? "SELECT * FROM points WHERE sweep_id = ? ORDER BY sweep_id, point, repetition"
                         : "SELECT * FROM points ORDER BY sweep_id, point, repetition");
  if (sweep) q.bind(1, *sweep);
  for (int i = 0; i < q.columns(); ++i)
    t.columns.push_back(q.column_name(i));
  while (q.step()) {
    std::vector<nlohmann::json> row;
    for (int i = 0; i < q.columns(); ++i)
      row.push_back(q.column(i));
    t.rows.push_back(std::move(row));
  }
  if (!sweep || t.rows.empty()) return t;
  // Columns that only other sweeps fill are left out.
  std::vector<std::size_t> keep;
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    bool fixed = std::find(kFixed.begin(), kFixed.end(), t.columns[i]) != kFixed.end();
    if (fixed ||
        std::any_of(t.rows.begin(), t.rows.end(), [&](const auto& row) { return !row[i].is_null(); }))
      keep.push_back(i);
  }
  Table kept;
  for (std::size_t i : keep)
    kept.columns.push_back(t.columns[i]);
  for (const auto& row : t.rows) {
    std::vector<nlohmann::json> r;
    for (std::size_t i : keep)
      r.push_back(row[i]);
    kept.rows.push_back(std::move(r));
  }
  return kept;
}

std::vector<std::pair<std::string, int>> Store::errors(std::int64_t sweep, int limit) {
  std::vector<std::pair<std::string, int>> out;
  Statement q(
      db_,
      "SELECT error, COUNT(*) AS n FROM points WHERE sweep_id = ? AND status = 'failed' GROUP BY error "
      "ORDER BY n DESC LIMIT ?");
  q.bind(1, sweep);
  q.bind(2, limit);
  while (q.step())
    out.emplace_back(q.column(0).is_string() ? q.column(0).get<std::string>() : "",
                     static_cast<int>(q.column(1).get<std::int64_t>()));
  return out;
}

}  // namespace whatif::sweep
