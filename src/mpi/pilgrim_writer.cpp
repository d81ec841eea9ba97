// Writing Pilgrim trace folders in the current (2023-03) format: hand-built test traces and the synthetic
// traces of `whatif bench mpi`.
#include "mpi/pilgrim_writer.hpp"

#include <fmt/format.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

namespace whatif::mpi {

namespace fs = std::filesystem;

namespace {

// Appends values in the native (x86-64, little-endian) layout Pilgrim uses.
class Bytes {
 public:
  template <typename T>
  void put(T value) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(&value);
    data_.insert(data_.end(), p, p + sizeof(T));
  }
  void put(std::span<const std::uint8_t> bytes) { data_.insert(data_.end(), bytes.begin(), bytes.end()); }
  const std::vector<std::uint8_t>& data() const { return data_; }

 private:
  std::vector<std::uint8_t> data_;
};

class OutFile {
 public:
  // An existing file is removed rather than truncated: ext4 flushes files rewritten in place to disk.
  explicit OutFile(const fs::path& path) : name_(path.string()), file_(open(path)) {
    if (!file_) throw std::runtime_error(fmt::format("{}: cannot create: {}", name_, std::strerror(errno)));
  }
  OutFile(const OutFile&) = delete;
  OutFile& operator=(const OutFile&) = delete;
  ~OutFile() {
    if (file_) std::fclose(file_);
  }
  void write(const void* data, std::size_t n) {
    if (n && std::fwrite(data, 1, n, file_) != n)
      throw std::runtime_error(fmt::format("{}: cannot write: {}", name_, std::strerror(errno)));
  }
  void close() {
    std::FILE* f = std::exchange(file_, nullptr);
    if (std::fclose(f) != 0)
      throw std::runtime_error(fmt::format("{}: cannot write: {}", name_, std::strerror(errno)));
  }

 private:
  static std::FILE* open(const fs::path& path) {
    std::error_code ec;
    fs::remove(path, ec);
    return std::fopen(path.string().c_str(), "wb");
  }

  std::string name_;
  std::FILE* file_;
};

void write_file(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
  OutFile f(path);
  f.write(bytes.data(), bytes.size());
  f.close();
}

// A rule k of a grammar as written: rule id -(k+1). Rules beyond the list or empty ones (but the main
// rule) are absent from the file.
bool rule_present(const std::vector<std::vector<GrammarSymbol>>& rules, std::int64_t k) {
  return k >= 0 && static_cast<std::size_t>(k) < rules.size() && (k == 0 || !rules[k].empty());
}

// Calls per terminal of one expansion of rule -1, by arithmetic on rule multiplicities (a grammar of 10^8
// calls costs its size, not its calls). Malformed grammars are written as given, for tests of the reader:
// references to missing rules, cycles and out-of-range terminals count nothing.
std::vector<std::uint64_t> terminal_calls(const std::vector<std::vector<GrammarSymbol>>& rules,
                                          std::size_t terminals) {
  std::vector<std::uint64_t> out(terminals, 0);
  if (rules.empty()) return out;
  // Iterative depth-first post-order from the main rule; its reverse lists every parent before the
  // children it reaches by a non-back edge.
  const std::size_t n = rules.size();
  std::vector<std::uint8_t> state(n, 0);
  std::vector<std::uint32_t> order;
  std::vector<std::pair<std::uint32_t, std::size_t>> stack{{0, 0}};
  state[0] = 1;
  while (!stack.empty()) {
    auto& [rule, next] = stack.back();
    if (next == rules[rule].size()) {
      state[rule] = 2;
      order.push_back(rule);
      stack.pop_back();
      continue;
    }
    const GrammarSymbol s = rules[rule][next++];
    if (s.value >= 0) continue;
    const std::int64_t child = -static_cast<std::int64_t>(s.value) - 1;
    if (rule_present(rules, child) && state[static_cast<std::size_t>(child)] == 0) {
      state[static_cast<std::size_t>(child)] = 1;
      stack.push_back({static_cast<std::uint32_t>(child), 0});
    }
  }
  std::vector<std::size_t> rank_in_order(n, 0);
  for (std::size_t i = 0; i < order.size(); ++i)
    rank_in_order[order[i]] = order.size() - 1 - i;
  constexpr std::uint64_t kCap = std::uint64_t{1} << 63;
  const auto mul = [](std::uint64_t a, std::uint64_t b) { return b && a > kCap / b ? kCap : a * b; };
  std::vector<std::uint64_t> mult(n, 0);
  mult[0] = 1;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const std::uint32_t rule = *it;
    for (const GrammarSymbol& s : rules[rule]) {
      const std::uint64_t times = mul(mult[rule], static_cast<std::uint64_t>(std::max(s.repeat, 0)));
      if (s.value >= 0) {
        if (static_cast<std::size_t>(s.value) < terminals)
          out[s.value] = std::min(kCap, out[s.value] + times);
        continue;
      }
      const std::int64_t child = -static_cast<std::int64_t>(s.value) - 1;
      if (!rule_present(rules, child) || state[static_cast<std::size_t>(child)] != 2) continue;
      if (rank_in_order[static_cast<std::size_t>(child)] <= rank_in_order[rule]) continue;  // a cycle
      mult[static_cast<std::size_t>(child)] = std::min(kCap, mult[static_cast<std::size_t>(child)] + times);
    }
  }
  return out;
}

void write_lossless(const fs::path& dir, const TraceToWrite& trace) {
  OutFile starts(dir / "intervals.dat"), ends(dir / "durations.dat");
  std::vector<double> sbuf, ebuf;
  constexpr std::size_t kChunk = 8192;
  sbuf.reserve(kChunk);
  ebuf.reserve(kChunk);
  const auto flush = [&] {
    starts.write(sbuf.data(), sbuf.size() * sizeof(double));
    ends.write(ebuf.data(), ebuf.size() * sizeof(double));
    sbuf.clear();
    ebuf.clear();
  };
  for (int r = 0; r < trace.ranks && static_cast<std::size_t>(r) < trace.times.size(); ++r)
    for (const CallTime& t : trace.times[static_cast<std::size_t>(r)]) {
      sbuf.push_back(t.start);
      ebuf.push_back(t.end);
      if (sbuf.size() == kChunk) flush();
    }
  flush();
  starts.close();
  ends.close();
}

void write_zstd(const fs::path& dir, const TraceToWrite& trace) {
  OutFile out(dir / "durations.dat");
  std::vector<double> durations;
  std::vector<std::uint8_t> frame;
  for (int r = 0; r < trace.ranks; ++r) {
    durations.clear();
    if (static_cast<std::size_t>(r) < trace.times.size()) {
      const auto& times = trace.times[static_cast<std::size_t>(r)];
      // Pilgrim prepends each call to a list, so its frames hold the last call first.
      for (auto it = times.rbegin(); it != times.rend(); ++it)
        durations.push_back(it->end - it->start);
    }
    const std::size_t bytes = durations.size() * sizeof(double);
    frame.resize(ZSTD_compressBound(bytes));
    const std::size_t n = ZSTD_compress(frame.data(), frame.size(), durations.data(), bytes, 1);
    if (ZSTD_isError(n))
      throw std::runtime_error(
          fmt::format("{}: zstd: {}", (dir / "durations.dat").string(), ZSTD_getErrorName(n)));
    out.write(frame.data(), n);
  }
  out.close();
}

}  // namespace

void write_pilgrim_trace(const fs::path& dir, const TraceToWrite& trace) {
  constexpr std::uint64_t kCountCap = std::numeric_limits<std::uint32_t>::max();
  if (trace.timing == TimingMode::other)
    throw std::invalid_argument("write_pilgrim_trace: only AGGREGATED, LOSSLESS and ZSTD can be written");
  fs::create_directories(dir);
  const auto grammar_of = [&](int rank) {
    return static_cast<std::size_t>(rank) < trace.grammar_of_rank.size() ? trace.grammar_of_rank[rank] : 0;
  };

  // pilgrim.mt: double time resolution, int ranks, char timing_mode[20], 8 bytes (the struct's tail).
  Bytes mt;
  mt.put(1e-6);
  mt.put(static_cast<std::int32_t>(trace.ranks));
  char mode[20] = {};
  const std::string_view name = to_string(trace.timing);
  std::memcpy(mode, name.data(), std::min(name.size(), sizeof mode - 1));
  mt.put(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(mode), sizeof mode));
  mt.put(std::uint64_t{0});
  write_file(dir / "pilgrim.mt", mt.data());

  // funcs.dat, with counts over all ranks and the first rank that calls each signature.
  const std::size_t terminals = trace.keys.size();
  std::vector<std::uint64_t> counts(terminals, 0);
  std::vector<int> first_rank(terminals, -1);
  std::vector<bool> done(trace.grammars.size(), false);
  for (int r = 0; r < trace.ranks; ++r) {
    const int g = grammar_of(r);
    if (g < 0 || static_cast<std::size_t>(g) >= trace.grammars.size() || done[g]) continue;
    done[g] = true;
    std::uint64_t users = 0;
    for (int q = 0; q < trace.ranks; ++q)
      users += grammar_of(q) == g;
    const std::vector<std::uint64_t> calls = terminal_calls(trace.grammars[g], terminals);
    for (std::size_t t = 0; t < terminals; ++t) {
      if (calls[t] == 0) continue;
      counts[t] = std::min(counts[t] + std::min(calls[t], kCountCap) * std::min(users, kCountCap), kCountCap);
      if (first_rank[t] < 0) first_rank[t] = r;
    }
  }
  Bytes funcs;
  funcs.put(static_cast<std::int32_t>(terminals));
  for (std::size_t t = 0; t < terminals; ++t) {
    funcs.put(static_cast<std::int32_t>(t));
    funcs.put(static_cast<std::int32_t>(std::max(first_rank[t], 0)));
    funcs.put(static_cast<std::int32_t>(trace.keys[t].size()));
    // Upstream keeps an unsigned int: larger counts are clamped rather than wrapped.
    funcs.put(static_cast<std::uint32_t>(
        std::min<std::uint64_t>(counts[t], std::numeric_limits<std::uint32_t>::max())));
    funcs.put(std::span<const std::uint8_t>(trace.keys[t]));
  }
  write_file(dir / "funcs.dat", funcs.data());

  // grammars.dat: the unique grammars serialised as (value, exp) pairs, held by a single second-level rule.
  std::vector<GrammarSymbol> stream;
  for (const auto& rules : trace.grammars) {
    std::int32_t present = 0;
    for (std::size_t k = 0; k < rules.size(); ++k)
      present += rule_present(rules, static_cast<std::int64_t>(k));
    if (rules.empty()) present = 1;  // an empty grammar still has its (empty) main rule
    stream.push_back({present, 1});
    for (std::size_t k = 0; k < std::max<std::size_t>(rules.size(), 1); ++k) {
      if (!rules.empty() && !rule_present(rules, static_cast<std::int64_t>(k))) continue;
      const std::size_t nsym = rules.empty() ? 0 : rules[k].size();
      stream.push_back({-static_cast<std::int32_t>(k) - 1, 1});
      stream.push_back({static_cast<std::int32_t>(nsym), 1});
      for (std::size_t i = 0; i < nsym; ++i)
        stream.push_back(rules[k][i]);
    }
  }
  std::int32_t smallest = -1;
  for (const GrammarSymbol& s : stream)
    smallest = std::min({smallest, s.value, s.repeat});
  const std::int32_t start_rule =
      smallest == std::numeric_limits<std::int32_t>::min() ? smallest : smallest - 1;
  Bytes grammars;
  for (int r = 0; r < trace.ranks; ++r)
    grammars.put(static_cast<std::int32_t>(grammar_of(r)));
  grammars.put(static_cast<std::int32_t>(trace.grammars.size()));
  grammars.put(start_rule);
  grammars.put(static_cast<std::uint64_t>(2 * stream.size()));
  grammars.put(std::int32_t{1});
  grammars.put(start_rule);
  grammars.put(static_cast<std::int32_t>(stream.size()));
  for (const GrammarSymbol& s : stream) {
    grammars.put(s.value);
    grammars.put(s.repeat);
  }
  write_file(dir / "grammars.dat", grammars.data());

  // Timing files of the mode only; stale ones of an earlier write would contradict it.
  std::error_code ec;
  if (trace.timing != TimingMode::lossless) fs::remove(dir / "intervals.dat", ec);
  if (trace.timing == TimingMode::aggregated) fs::remove(dir / "durations.dat", ec);
  if (trace.timing == TimingMode::lossless) write_lossless(dir, trace);
  if (trace.timing == TimingMode::zstd) write_zstd(dir, trace);
}

}  // namespace whatif::mpi
