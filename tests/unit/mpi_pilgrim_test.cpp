// Pilgrim trace reading: the four shipped traces against their pilgrim2text output, every format version,
// the streamed grammar expansion against a naive one, the timing modes, and corrupt files of every kind.
#include "core/diagnostics.hpp"
#include "mpi/functions.hpp"
#include "mpi/pilgrim.hpp"
#include "mpi/pilgrim_writer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace {
namespace fs = std::filesystem;
using whatif::core::InputError;
using namespace whatif::mpi;

using Rules = std::vector<std::vector<GrammarSymbol>>;

// A scratch folder under the system's temporary folder, removed with its contents.
class Scratch {
 public:
  explicit Scratch(const std::string& name)
      : dir_(fs::temp_directory_path() / ("whatif-pilgrim-test-" + std::to_string(::getpid())) / name) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    fs::remove(dir_.parent_path(), ec);  // only once empty
  }
  const fs::path& dir() const { return dir_; }

 private:
  fs::path dir_;
};

std::vector<std::uint8_t> slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void spit(const fs::path& p, const std::vector<std::uint8_t>& bytes) {
  // Removed first: ext4 flushes a file truncated and rewritten in place, which made the loops below slow.
  fs::remove(p);
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Little-endian byte builder for hand-written files.
struct Bytes {
  std::vector<std::uint8_t> data;
  template <typename T>
  Bytes& put(T v) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(&v);
    data.insert(data.end(), p, p + sizeof(T));
    return *this;
  }
  Bytes& i32(std::int32_t v) { return put(v); }
  Bytes& ints(std::initializer_list<std::int32_t> vs) {
    for (auto v : vs)
      put(v);
    return *this;
  }
};

// The message of the InputError `f` throws ("" and a test failure when it throws none or another type).
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not an InputError: " << e.what();
    return "";
  }
  ADD_FAILURE() << "no InputError thrown";
  return "";
}

// Keys as Pilgrim's wrappers write them (functions with one key length: tid detection votes on them).
std::vector<std::uint8_t> key(int function, std::vector<std::int32_t> args, bool tid = true) {
  Bytes b;
  b.put(static_cast<std::int16_t>(function));
  if (tid) b.i32(0);
  for (auto a : args)
    b.i32(a);
  return b.data;
}
std::vector<std::uint8_t> comm_rank_key(int rank, bool tid = true) {
  return key(fid::comm_rank, {-9988, rank}, tid);
}
std::vector<std::uint8_t> barrier_key(bool tid = true) {
  return key(fid::barrier, {-9988}, tid);
}
std::vector<std::uint8_t> send_key(int peer, bool tid = true) {
  std::vector<std::int32_t> args(8, 0);  // the 32-byte pointer record
  args[7] = 0xFF00;                      // device 0xFF
  for (std::int32_t a : {1, -14, peer, 1, -9988})
    args.push_back(a);
  return key(fid::send, args, tid);
}

// The calls of rule -1, expanded recursively (the reference CallStream is checked against).
void expand(const Rules& rules, std::size_t rule, std::vector<int>& out) {
  for (const GrammarSymbol& s : rules[rule])
    for (int k = 0; k < s.repeat; ++k) {
      if (s.value >= 0)
        out.push_back(s.value);
      else
        expand(rules, static_cast<std::size_t>(-s.value - 1), out);
    }
}
std::vector<int> expand(const Rules& rules) {
  std::vector<int> out;
  if (!rules.empty()) expand(rules, 0, out);
  return out;
}

std::vector<int> stream_all(const PilgrimTrace& t, int rank, std::size_t limit = SIZE_MAX) {
  std::vector<int> out;
  CallStream s(t, rank);
  int term = 0;
  while (out.size() < limit && s.next(term))
    out.push_back(term);
  return out;
}

// Old format variants (pilgrim-format.md, "Versions"), hand-serialised. The second-level grammar holds
// each serialised rank grammar in a rule of its own, consecutive equal ones as one rule repeated, so that
// the reader's second-level expansion is exercised too. Rules are all written, empty ones included.
struct RawOptions {
  bool long_metadata = true;
  bool grammar_ids = true;
  bool counts = true;
  std::int32_t old_code = 2;
  std::string mode = "LOSSLESS";
};

void write_raw(const fs::path& dir, const TraceToWrite& t, const RawOptions& o) {
  fs::create_directories(dir);
  Bytes mt;
  mt.put(1e-6).i32(t.ranks);
  if (o.long_metadata) {
    char mode[20] = {};
    std::memcpy(mode, o.mode.data(), std::min<std::size_t>(o.mode.size(), 19));
    for (char c : mode)
      mt.put(c);
    mt.put(std::uint64_t{0});
  } else {
    mt.i32(o.old_code);
  }
  spit(dir / "pilgrim.mt", mt.data);

  std::vector<std::uint32_t> counts(t.keys.size(), 0);
  for (int r = 0; r < t.ranks; ++r)
    for (int term : expand(t.grammars[t.grammar_of_rank[r]]))
      ++counts[term];
  Bytes funcs;
  funcs.i32(static_cast<std::int32_t>(t.keys.size()));
  for (std::size_t i = 0; i < t.keys.size(); ++i) {
    funcs.i32(static_cast<std::int32_t>(i)).i32(0).i32(static_cast<std::int32_t>(t.keys[i].size()));
    if (o.counts) funcs.put(counts[i]);
    funcs.data.insert(funcs.data.end(), t.keys[i].begin(), t.keys[i].end());
  }
  spit(dir / "funcs.dat", funcs.data);

  // The grammars in the stream: the unique ones with ids, one per rank without.
  std::vector<int> in_stream;
  if (o.grammar_ids)
    for (std::size_t g = 0; g < t.grammars.size(); ++g)
      in_stream.push_back(static_cast<int>(g));
  else
    in_stream = t.grammar_of_rank;
  std::vector<std::vector<GrammarSymbol>> serial;
  std::int32_t smallest = -1;
  for (const Rules& rules : t.grammars) {
    std::vector<GrammarSymbol> pairs{{static_cast<std::int32_t>(rules.size()), 1}};
    for (std::size_t k = 0; k < rules.size(); ++k) {
      pairs.push_back({-static_cast<std::int32_t>(k) - 1, 1});
      pairs.push_back({static_cast<std::int32_t>(rules[k].size()), 1});
      pairs.insert(pairs.end(), rules[k].begin(), rules[k].end());
    }
    for (auto& p : pairs)
      smallest = std::min(smallest, p.value);
    serial.push_back(pairs);
  }
  const std::int32_t start = smallest - 1;
  std::vector<GrammarSymbol> top;
  std::uint64_t ints = 0;
  for (std::size_t i = 0; i < in_stream.size(); ++i) {
    if (!top.empty() && top.back().value == start - 1 - in_stream[i] && in_stream[i - 1] == in_stream[i])
      ++top.back().repeat;
    else
      top.push_back({start - 1 - in_stream[i], 1});
    ints += 2 * serial[in_stream[i]].size();
  }
  Bytes g;
  if (o.grammar_ids) {
    for (int r = 0; r < t.ranks; ++r)
      g.i32(t.grammar_of_rank[r]);
    g.i32(static_cast<std::int32_t>(t.grammars.size()));
  }
  g.i32(start).put(ints).i32(static_cast<std::int32_t>(1 + serial.size()));
  g.i32(start).i32(static_cast<std::int32_t>(top.size()));
  for (auto& s : top)
    g.i32(s.value).i32(s.repeat);
  for (std::size_t k = 0; k < serial.size(); ++k) {
    g.i32(start - 1 - static_cast<std::int32_t>(k)).i32(static_cast<std::int32_t>(serial[k].size()));
    for (auto& s : serial[k])
      g.i32(s.value).i32(s.repeat);
  }
  spit(dir / "grammars.dat", g.data);

  if (o.mode == "LOSSLESS" || (!o.long_metadata && o.old_code != 1)) {
    Bytes starts, ends;
    for (const auto& rank_times : t.times)
      for (const CallTime& c : rank_times) {
        starts.put(c.start);
        ends.put(c.end);
      }
    if (o.long_metadata || o.old_code == 2 || !t.times.empty()) {
      spit(dir / "intervals.dat", starts.data);
      spit(dir / "durations.dat", ends.data);
    }
  }
}

// Call times 1 ms apart, each 0.25 ms long, from `origin`.
std::vector<std::vector<CallTime>> regular_times(const TraceToWrite& t, double origin = 0.5) {
  std::vector<std::vector<CallTime>> out;
  for (int r = 0; r < t.ranks; ++r) {
    std::vector<CallTime> times;
    const std::size_t n = expand(t.grammars[t.grammar_of_rank[r]]).size();
    for (std::size_t i = 0; i < n; ++i)
      times.push_back({origin + r * 0.1 + i * 1e-3, origin + r * 0.1 + i * 1e-3 + 2.5e-4});
    out.push_back(times);
  }
  return out;
}

// The ping-pong example of pilgrim-format.md, with keys of the version in question: 2 unique grammars
// over 4 ranks; rule -1 -> t0 t1 t2 (-2)^100, rule -2 -> t3 t4 (senders), t4 t3 (receivers).
TraceToWrite ping_pong(bool tid = true, TimingMode timing = TimingMode::lossless) {
  TraceToWrite t;
  t.ranks = 4;
  t.timing = timing;
  t.keys = {comm_rank_key(0, tid), barrier_key(tid), key(fid::comm_size, {-9988, 4}, tid), send_key(1, tid),
            key(fid::recv, {0, 0, 0, 0, 0, 0, 0, 0xFF00, 1, -14, 1, 1, -9988, 0, 0}, tid)};
  t.grammars = {Rules{{{0, 1}, {1, 1}, {2, 1}, {-2, 100}}, {{3, 1}, {4, 1}}},
                Rules{{{0, 1}, {1, 1}, {2, 1}, {-2, 100}}, {{4, 1}, {3, 1}}}};
  t.grammar_of_rank = {0, 0, 1, 1};
  t.times = regular_times(t);
  return t;
}

// ---- the shipped traces ------------------------------------------------------------------------------

struct RealTrace {
  const char* name;
  std::vector<std::uint64_t> calls;                   // metadata.yaml mpi_calls_per_rank
  std::vector<std::pair<double, double>> first_last;  // sanity_checks first_tstart_s, last_tend_s
};

const std::vector<RealTrace>& real_traces() {
  static const std::vector<RealTrace> traces = {
      {"hpcc-4r-n250",
       {81152, 80915, 81143, 81172},
       {{0.000751, 1.729282}, {0.00178, 1.730156}, {0.001216, 1.729189}, {0.001055, 1.72907}}},
      {"lammps-lj-4r",
       {19954, 19954, 19954, 19954},
       {{0.002007, 6.617699}, {0.004377, 6.618047}, {0.002827, 6.618284}, {0.001632, 6.617541}}},
      {"netpipe-2r-mpich", {24404, 24404}, {{0.000899, 0.378417}, {0.003659, 0.380611}}},
      {"netpipe-2r-openmpi", {24404, 24404}, {{0.000692, 0.351249}, {0.000416, 0.351116}}},
  };
  return traces;
}

fs::path real_dir(const char* name) {
  return fs::path("traces/pilgrim") / name / "pilgrim-logs";
}

int function_of(const PilgrimTrace& t, int terminal) {
  const auto k = t.key(terminal);
  std::int16_t f = -1;
  if (k.size() >= 2) std::memcpy(&f, k.data(), 2);
  return f;
}

TEST(MpiPilgrimReal, CallsPerRankMatchMetadata) {
  for (const RealTrace& rt : real_traces()) {
    SCOPED_TRACE(rt.name);
    const PilgrimTrace t = read_pilgrim_trace(real_dir(rt.name));
    EXPECT_EQ(t.ranks, static_cast<int>(rt.calls.size()));
    EXPECT_EQ(t.timing, TimingMode::lossless);
    EXPECT_EQ(t.timing_name, "LOSSLESS");
    EXPECT_DOUBLE_EQ(t.time_resolution, 1e-6);
    EXPECT_TRUE(t.version.long_metadata && t.version.grammar_ids && t.version.cst_counts &&
                t.version.thread_ids);
    EXPECT_EQ(t.version.label(), "2023-03 or later");
    std::uint64_t total = 0;
    for (int r = 0; r < t.ranks; ++r) {
      EXPECT_EQ(t.calls(r), rt.calls[r]) << "rank " << r;
      EXPECT_EQ(stream_all(t, r).size(), rt.calls[r]) << "rank " << r;
      total += rt.calls[r];
    }
    EXPECT_EQ(t.total_calls(), total);
  }
}

TEST(MpiPilgrimReal, ParentFolderIsAccepted) {
  const PilgrimTrace a = read_pilgrim_trace("traces/pilgrim/netpipe-2r-mpich");
  const PilgrimTrace b = read_pilgrim_trace(real_dir("netpipe-2r-mpich"));
  EXPECT_EQ(a.dir, b.dir);
  EXPECT_EQ(a.signatures.size(), b.signatures.size());
  EXPECT_EQ(a.total_calls(), b.total_calls());
}

// funcs.dat's count of each signature is the number of its calls over all ranks; per-function counts per
// rank from pilgrim2text-summary.txt.
TEST(MpiPilgrimReal, CountsMatchFuncsDatAndSummary) {
  const std::map<std::string, std::map<int, std::vector<std::uint64_t>>> summary = {
      {"hpcc-4r-n250",
       {{fid::testany, {66403, 66400, 66388, 66384}},
        {fid::isend, {3280, 3292, 3293, 3293}},
        {fid::waitall, {1591, 1591, 1591, 1591}},
        {fid::send, {609, 457, 543, 498}}}},
      {"lammps-lj-4r", {{fid::wait, {6490, 6490, 6490, 6490}}, {fid::allreduce, {145, 145, 145, 145}}}},
      {"netpipe-2r-mpich",
       {{fid::send, {12140, 12100}}, {fid::recv, {12100, 12140}}, {fid::barrier, {162, 162}}}},
      {"netpipe-2r-openmpi", {{fid::send, {12140, 12100}}, {fid::recv, {12100, 12140}}}},
  };
  for (const RealTrace& rt : real_traces()) {
    SCOPED_TRACE(rt.name);
    const PilgrimTrace t = read_pilgrim_trace(real_dir(rt.name));
    std::vector<std::uint64_t> per_terminal(t.signatures.size(), 0);
    std::map<int, std::vector<std::uint64_t>> per_function;
    for (int r = 0; r < t.ranks; ++r)
      for (int term : stream_all(t, r)) {
        ++per_terminal[term];
        auto& v = per_function[function_of(t, term)];
        v.resize(t.ranks);
        ++v[r];
      }
    for (std::size_t i = 0; i < t.signatures.size(); ++i) {
      EXPECT_EQ(t.signatures[i].terminal, static_cast<int>(i));
      EXPECT_EQ(per_terminal[i], t.signatures[i].count) << "terminal " << i;
      ASSERT_GE(function_of(t, static_cast<int>(i)), 0);
      ASSERT_LT(function_of(t, static_cast<int>(i)), kFunctionCount);
    }
    for (const auto& [function, counts] : summary.at(rt.name))
      EXPECT_EQ(per_function[function], counts) << "function " << function;
  }
}

// The call sequence and times of rank 0 and the last rank against pilgrim2text/<rank>.txt (extracted once
// from pilgrim2text-output.tar.xz): its first three starts, the 1000th, and checksums of the first 1000
// lines: sum of (line number x start in us), the same of ends, and of (line number x function id).
struct TextCheck {
  const char* trace;
  int rank;
  double starts[3];
  double start_999;
  long long start_sum, end_sum, function_sum;
};

// A time as pilgrim2text prints it ("%.6f"), in microseconds.
long long printed_us(double seconds) {
  char text[64];
  std::snprintf(text, sizeof text, "%.6f", seconds);
  std::string digits;
  for (const char* p = text; *p; ++p)
    if (*p != '.') digits += *p;
  return std::stoll(digits);
}

TEST(MpiPilgrimReal, TimingsMatchPilgrim2text) {
  const TextCheck checks[] = {
      {"hpcc-4r-n250", 0, {0.000751, 0.000861, 0.001003}, 0.022395, 8362806724LL, 8370978389LL, 8935873},
      {"hpcc-4r-n250", 3, {0.001055, 0.001103, 0.001108}, 0.021918, 8254258121LL, 8262052369LL, 8994822},
      {"lammps-lj-4r", 0, {0.002007, 0.004149, 0.005520}, 0.302486, 105256939014LL, 105324661632LL, 80788057},
      {"lammps-lj-4r", 3, {0.001632, 0.001733, 0.003142}, 0.302239, 105073139532LL, 105124885207LL, 80788057},
      {"netpipe-2r-mpich", 0, {0.000899, 0.000981, 0.001441}, 0.004174, 1708053283LL, 1708447969LL, 91022787},
      {"netpipe-2r-mpich", 1, {0.003659, 0.003767, 0.003893}, 0.006369, 2806239057LL, 2806812927LL, 91138893},
      {"netpipe-2r-openmpi",
       0,
       {0.000692, 0.000739, 0.000837},
       0.003380,
       1368653145LL,
       1369077541LL,
       91022787},
      {"netpipe-2r-openmpi",
       1,
       {0.000416, 0.000959, 0.001017},
       0.003246,
       1302152332LL,
       1302701501LL,
       91138893},
  };
  for (const TextCheck& c : checks) {
    SCOPED_TRACE(std::string(c.trace) + " rank " + std::to_string(c.rank));
    const PilgrimTrace t = read_pilgrim_trace(real_dir(c.trace));
    const RealTrace& rt = *std::find_if(real_traces().begin(), real_traces().end(),
                                        [&](const RealTrace& r) { return std::string(r.name) == c.trace; });
    TimingStream ts(t, c.rank);
    CallStream cs(t, c.rank);
    ASSERT_TRUE(ts.available());
    EXPECT_EQ(ts.base(), 0.0);  // the patched tracer already wrote seconds since MPI_Init
    std::uint64_t n = 0;
    long long start_sum = 0, end_sum = 0, function_sum = 0;
    CallTime first, last, time;
    int term = 0;
    while (ts.next(time)) {
      ASSERT_TRUE(cs.next(term));
      if (n == 0) first = time;
      // pilgrim2text prints microseconds, rounded
      if (n < 3) {
        EXPECT_NEAR(time.start, c.starts[n], 5.0001e-7);
      }
      if (n == 999) {
        EXPECT_NEAR(time.start, c.start_999, 5.0001e-7);
      }
      if (n < 1000) {
        start_sum += static_cast<long long>(n + 1) * printed_us(time.start);
        end_sum += static_cast<long long>(n + 1) * printed_us(time.end);
        function_sum += static_cast<long long>(n + 1) * function_of(t, term);
      }
      last = time;
      ++n;
    }
    EXPECT_FALSE(cs.next(term));
    EXPECT_EQ(n, t.calls(c.rank));
    EXPECT_EQ(n, rt.calls[c.rank]);
    EXPECT_NEAR(first.start, rt.first_last[c.rank].first, 1e-6);
    EXPECT_NEAR(last.end, rt.first_last[c.rank].second, 1e-6);
    EXPECT_EQ(start_sum, c.start_sum);
    EXPECT_EQ(end_sum, c.end_sum);
    EXPECT_EQ(function_sum, c.function_sum);
  }
}

// ---- hand-built traces -------------------------------------------------------------------------------

TEST(MpiPilgrimWriter, NestedGrammarWithRepeats) {
  Scratch s("nested");
  TraceToWrite t;
  t.ranks = 3;
  t.keys = {barrier_key(), comm_rank_key(0), send_key(1), send_key(2)};
  // rule -1: t0 (-2)^3 t1^2;  rule -2: t2 (-3)^2;  rule -3: t3^2 t0
  t.grammars = {Rules{{{0, 1}, {-2, 3}, {1, 2}}, {{2, 1}, {-3, 2}}, {{3, 2}, {0, 1}}}, Rules{{{1, 4}}}};
  t.grammar_of_rank = {0, 1, 0};
  t.times = regular_times(t);
  write_pilgrim_trace(s.dir(), t);
  const std::vector<int> expected = {0, 2, 3, 3, 0, 3, 3, 0, 2, 3, 3, 0, 3, 3, 0, 2, 3, 3, 0, 3, 3, 0, 1, 1};
  ASSERT_EQ(expand(t.grammars[0]), expected);

  const PilgrimTrace r = read_pilgrim_trace(s.dir());
  EXPECT_EQ(r.ranks, 3);
  EXPECT_EQ(r.grammars.size(), 2u);
  EXPECT_EQ(r.grammar_of_rank, (std::vector<int>{0, 1, 0}));
  EXPECT_EQ(r.grammars[0].rule_calls, (std::vector<std::uint64_t>{24, 7, 3}));
  EXPECT_EQ(r.calls(0), 24u);
  EXPECT_EQ(r.calls(1), 4u);
  EXPECT_EQ(r.total_calls(), 52u);
  EXPECT_EQ(stream_all(r, 0), expected);
  EXPECT_EQ(stream_all(r, 1), (std::vector<int>{1, 1, 1, 1}));
  EXPECT_EQ(stream_all(r, 2), expected);
  // counts over ranks: t0 7+7, t1 2+4+2, t2 3+3, t3 12+12; first ranks 0, 0, 0, 0
  EXPECT_EQ(r.signatures[0].count, 14u);
  EXPECT_EQ(r.signatures[1].count, 8u);
  EXPECT_EQ(r.signatures[2].count, 6u);
  EXPECT_EQ(r.signatures[3].count, 24u);
  for (std::size_t i = 0; i < t.keys.size(); ++i) {
    const auto k = r.key(static_cast<int>(i));
    EXPECT_EQ(std::vector<std::uint8_t>(k.begin(), k.end()), t.keys[i]);
  }
  EXPECT_TRUE(r.key(99).empty());

  CallStream cs(r, 1);
  int term = -1;
  EXPECT_TRUE(cs.next(term));
  EXPECT_EQ(cs.position(), 1u);

  for (int rank = 0; rank < 3; ++rank) {
    TimingStream ts(r, rank);
    CallTime c;
    std::size_t i = 0;
    while (ts.next(c)) {
      ASSERT_LT(i, t.times[rank].size());
      EXPECT_EQ(c.start, t.times[rank][i].start);
      EXPECT_EQ(c.end, t.times[rank][i].end);
      ++i;
    }
    EXPECT_EQ(i, t.times[rank].size());
  }
}

TEST(MpiPilgrimWriter, CountsByArithmeticOnHugeGrammars) {
  Scratch s("huge");
  TraceToWrite t;
  t.ranks = 2;
  t.timing = TimingMode::aggregated;
  t.keys = {barrier_key(), send_key(1)};
  // 10 levels of (-next)^10 under t1: 10^10 barriers, more than a uint32 count holds.
  Rules rules;
  for (int k = 0; k < 10; ++k)
    rules.push_back({{-(k + 2), 10}});
  rules.push_back({{0, 1}});
  rules[0].push_back({1, 3});
  t.grammars = {rules};
  t.grammar_of_rank = {0, 0};
  write_pilgrim_trace(s.dir(), t);
  const PilgrimTrace r = read_pilgrim_trace(s.dir());
  EXPECT_EQ(r.calls(0), 10'000'000'003u);
  EXPECT_EQ(r.signatures[0].count, 0xFFFFFFFFu);  // clamped
  EXPECT_EQ(r.signatures[1].count, 6u);
  EXPECT_EQ(stream_all(r, 0, 5), (std::vector<int>{0, 0, 0, 0, 0}));
}

// A random acyclic grammar: rule k refers only to rules after it.
Rules random_rules(std::mt19937& rng, int terminals) {
  const int n = std::uniform_int_distribution<int>(1, 8)(rng);
  Rules rules(n);
  for (int k = 0; k < n; ++k) {
    const int len = std::uniform_int_distribution<int>(k == 0 ? 0 : 1, 6)(rng);
    for (int i = 0; i < len; ++i) {
      GrammarSymbol s;
      s.repeat = std::uniform_int_distribution<int>(1, 4)(rng);
      if (k + 1 < n && std::uniform_int_distribution<int>(0, 2)(rng) == 0)
        s.value = -std::uniform_int_distribution<int>(k + 2, n)(rng);
      else
        s.value = std::uniform_int_distribution<int>(0, terminals - 1)(rng);
      rules[k].push_back(s);
    }
  }
  return rules;
}

TEST(MpiPilgrimStream, RandomGrammarsMatchNaiveExpansion) {
  Scratch s("random");
  std::mt19937 rng(12345);
  for (int round = 0; round < 150; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    TraceToWrite t;
    t.ranks = std::uniform_int_distribution<int>(1, 5)(rng);
    t.timing = TimingMode::aggregated;
    const int terminals = std::uniform_int_distribution<int>(1, 6)(rng);
    for (int i = 0; i < terminals; ++i)
      t.keys.push_back(comm_rank_key(i));
    const int unique = std::uniform_int_distribution<int>(1, t.ranks)(rng);
    for (int g = 0; g < unique; ++g)
      t.grammars.push_back(random_rules(rng, terminals));
    for (int r = 0; r < t.ranks; ++r)
      t.grammar_of_rank.push_back(r < unique ? r : std::uniform_int_distribution<int>(0, unique - 1)(rng));
    // Every other round through the hand serialiser: old formats and a repeated second-level rule.
    if (round % 2) {
      RawOptions o;
      o.grammar_ids = round % 4 == 1;
      o.mode = "AGGREGATED";
      write_raw(s.dir(), t, o);
    } else {
      write_pilgrim_trace(s.dir(), t);
    }
    const PilgrimTrace r = read_pilgrim_trace(s.dir());
    std::vector<std::uint64_t> counts(terminals, 0);
    for (int rank = 0; rank < t.ranks; ++rank) {
      const std::vector<int> want = expand(t.grammars[t.grammar_of_rank[rank]]);
      EXPECT_EQ(stream_all(r, rank), want) << "rank " << rank;
      EXPECT_EQ(r.calls(rank), want.size());
      for (int term : want)
        ++counts[term];
    }
    for (int i = 0; i < terminals; ++i)
      EXPECT_EQ(r.signatures[i].count, counts[i]) << "terminal " << i;
  }
}

// Every combination of the four format changes, hand-written, is told apart and read.
TEST(MpiPilgrimVersions, EveryVariantIsDetectedAndRead) {
  Scratch s("versions");
  for (int mask = 0; mask < 16; ++mask) {
    FormatVersion want;
    want.long_metadata = mask & 1;
    want.grammar_ids = mask & 2;
    want.cst_counts = mask & 4;
    want.thread_ids = mask & 8;
    SCOPED_TRACE("variant " + std::to_string(mask));
    TraceToWrite t = ping_pong(want.thread_ids);
    RawOptions o;
    o.long_metadata = want.long_metadata;
    o.grammar_ids = want.grammar_ids;
    o.counts = want.cst_counts;
    fs::remove_all(s.dir());
    write_raw(s.dir(), t, o);
    const PilgrimTrace r = read_pilgrim_trace(s.dir());
    EXPECT_EQ(r.version.long_metadata, want.long_metadata);
    EXPECT_EQ(r.version.grammar_ids, want.grammar_ids);
    EXPECT_EQ(r.version.cst_counts, want.cst_counts);
    EXPECT_EQ(r.version.thread_ids, want.thread_ids);
    EXPECT_EQ(r.timing, TimingMode::lossless);
    EXPECT_EQ(r.timing_name, want.long_metadata ? "LOSSLESS" : "2");
    EXPECT_EQ(r.ranks, 4);
    EXPECT_EQ(r.grammars.size(), want.grammar_ids ? 2u : 4u);
    for (int rank = 0; rank < 4; ++rank) {
      EXPECT_EQ(r.calls(rank), 203u);
      EXPECT_EQ(stream_all(r, rank), expand(t.grammars[t.grammar_of_rank[rank]]));
      TimingStream ts(r, rank);
      CallTime c;
      std::size_t n = 0;
      while (ts.next(c))
        EXPECT_EQ(c.start, t.times[rank][n++].start);
      EXPECT_EQ(n, 203u);
    }
    EXPECT_EQ(r.signatures[3].count, want.cst_counts ? 400u : 0u);
    EXPECT_EQ(r.key(3).size(), want.thread_ids ? 58u : 54u);
  }
}

TEST(MpiPilgrimVersions, Labels) {
  FormatVersion v;
  EXPECT_EQ(v.label(), "2023-03 or later");
  v.long_metadata = false;
  EXPECT_EQ(v.label(), "2022-04 .. 2023-02");
  v.thread_ids = false;
  EXPECT_EQ(v.label(), "2021-12 .. 2022-03");
  v.cst_counts = false;
  EXPECT_EQ(v.label(), "2021-06 .. 2021-11");
  v.grammar_ids = false;
  EXPECT_EQ(v.label(), "before 2021-06");
  v.long_metadata = true;
  EXPECT_EQ(v.label(), "2023-03 or later (unusual: no thread ids in keys, no CST counts, no grammar ids)");
  EXPECT_EQ(to_string(TimingMode::lossless), "LOSSLESS");
  EXPECT_EQ(to_string(TimingMode::zstd), "ZSTD");
  EXPECT_EQ(to_string(TimingMode::aggregated), "AGGREGATED");
  EXPECT_EQ(to_string(TimingMode::other), "other");
}

// 16-byte pilgrim.mt: the int mode of pilgrim_timings.h (0 aggregated, 1 non-aggregated, 2 lossless);
// builds after the string modes wrote 0 whatever the mode, so 0 with matching timing files is LOSSLESS.
TEST(MpiPilgrimVersions, OldTimingCodes) {
  Scratch s("codes");
  TraceToWrite t = ping_pong(false);
  RawOptions o;
  o.long_metadata = false;
  o.grammar_ids = o.counts = false;
  o.old_code = 0;
  write_raw(s.dir(), t, o);
  PilgrimTrace r = read_pilgrim_trace(s.dir());
  EXPECT_EQ(r.timing, TimingMode::lossless);
  EXPECT_EQ(r.timing_name, "0");
  EXPECT_EQ(r.version.label(), "before 2021-06");

  fs::remove(s.dir() / "intervals.dat");
  fs::remove(s.dir() / "durations.dat");
  r = read_pilgrim_trace(s.dir());
  EXPECT_EQ(r.timing, TimingMode::aggregated);
  EXPECT_FALSE(TimingStream(r, 0).available());

  o.old_code = 1;
  t.times.clear();
  write_raw(s.dir(), t, o);
  r = read_pilgrim_trace(s.dir());
  EXPECT_EQ(r.timing, TimingMode::other);
  EXPECT_FALSE(TimingStream(r, 0).available());

  o.old_code = 7;
  write_raw(s.dir(), t, o);
  const std::string e = error_of([&] { read_pilgrim_trace(s.dir()); });
  EXPECT_NE(e.find("pilgrim.mt"), std::string::npos) << e;
  EXPECT_NE(e.find("byte 12"), std::string::npos) << e;
}

// ---- timing modes ------------------------------------------------------------------------------------

TEST(MpiPilgrimTiming, AggregatedAndOtherModesHaveNoTimings) {
  Scratch s("aggregated");
  TraceToWrite t = ping_pong(true, TimingMode::aggregated);
  write_pilgrim_trace(s.dir(), t);
  EXPECT_FALSE(fs::exists(s.dir() / "intervals.dat"));
  const PilgrimTrace r = read_pilgrim_trace(s.dir());
  EXPECT_EQ(r.timing, TimingMode::aggregated);
  TimingStream ts(r, 2);
  EXPECT_FALSE(ts.available());
  CallTime c;
  EXPECT_FALSE(ts.next(c));

  RawOptions o;
  o.mode = "CFG";
  write_raw(s.dir(), t, o);
  const PilgrimTrace cfg = read_pilgrim_trace(s.dir());
  EXPECT_EQ(cfg.timing, TimingMode::other);
  EXPECT_EQ(cfg.timing_name, "CFG");
  EXPECT_FALSE(TimingStream(cfg, 0).available());
}

TEST(MpiPilgrimTiming, RawWtimeIsRebasedPerRank) {
  Scratch s("wtime");
  TraceToWrite t = ping_pong();
  t.times = regular_times(t, 1.7e9);
  write_pilgrim_trace(s.dir(), t);
  const PilgrimTrace r = read_pilgrim_trace(s.dir());
  TimingStream ts(r, 3);
  CallTime c;
  ASSERT_TRUE(ts.next(c));
  EXPECT_EQ(ts.base(), t.times[3][0].start);
  EXPECT_EQ(c.start, 0.0);
  EXPECT_NEAR(c.end, 2.5e-4, 1e-6);
  ASSERT_TRUE(ts.next(c));
  EXPECT_NEAR(c.start, 1e-3, 1e-6);
}

TEST(MpiPilgrimTiming, ZstdFramesBackToBack) {
  Scratch s("zstd");
  TraceToWrite t = ping_pong(true, TimingMode::zstd);
  for (auto& rank : t.times)
    for (std::size_t i = 0; i < rank.size(); ++i)
      rank[i].end = rank[i].start + 1e-6 * static_cast<double>(i % 7 + 1);
  write_pilgrim_trace(s.dir(), t);
  EXPECT_FALSE(fs::exists(s.dir() / "intervals.dat"));
  const PilgrimTrace r = read_pilgrim_trace(s.dir());
  EXPECT_EQ(r.timing, TimingMode::zstd);
  for (int rank = 0; rank < 4; ++rank) {
    TimingStream ts(r, rank);
    ASSERT_TRUE(ts.available());
    CallTime c;
    double clock = 0;
    std::size_t n = 0;
    while (ts.next(c)) {
      EXPECT_EQ(c.start, clock);  // no compute gaps are known in this mode
      EXPECT_NEAR(c.end - c.start, t.times[rank][n].end - t.times[rank][n].start, 1e-15);
      clock = c.end;
      ++n;
    }
    EXPECT_EQ(n, 203u);
  }
}

std::vector<std::uint8_t> zstd_frame(const std::vector<double>& values) {
  std::vector<std::uint8_t> out(ZSTD_compressBound(values.size() * 8));
  out.resize(ZSTD_compress(out.data(), out.size(), values.data(), values.size() * 8, 1));
  return out;
}

// Upstream writes rank r's frame at the inclusive prefix sum of the frame sizes: a gap first, then frames
// that overlap when a frame is larger than the next one.
TEST(MpiPilgrimTiming, ZstdInclusiveScanLayout) {
  Scratch s("zstd-scan");
  TraceToWrite t;
  t.ranks = 2;
  t.timing = TimingMode::zstd;
  t.keys = {barrier_key(), send_key(1)};
  t.grammars = {Rules{{{0, 5}}}, Rules{{{1, 400}}}};
  t.grammar_of_rank = {0, 1};
  write_pilgrim_trace(s.dir(), t);
  std::mt19937 rng(7);
  std::vector<double> small(5), large(400);
  for (double& d : small)
    d = 1e-6 * std::uniform_int_distribution<int>(1, 1000000)(rng);
  for (double& d : large)
    d = 1e-6 * std::uniform_int_distribution<int>(1, 1000000)(rng);
  const auto write_scan = [&](const std::vector<std::vector<std::uint8_t>>& frames) {
    std::vector<std::uint8_t> file;
    std::size_t offset = 0;
    for (const auto& f : frames) {
      offset += f.size();  // MPI_Scan: inclusive
      if (file.size() < offset + f.size()) file.resize(offset + f.size(), 0);
      std::copy(f.begin(), f.end(), file.begin() + static_cast<std::ptrdiff_t>(offset));
    }
    spit(s.dir() / "durations.dat", file);
  };
  const auto read_rank = [&](const PilgrimTrace& r, int rank) {
    std::vector<double> out;
    TimingStream ts(r, rank);
    CallTime c;
    while (ts.next(c))
      out.push_back(c.end - c.start);
    return out;
  };

  // Small frame then large one: a gap of the first frame's size, no overlap.
  write_scan({zstd_frame(small), zstd_frame(large)});
  PilgrimTrace r = read_pilgrim_trace(s.dir());
  std::vector<double> want_small(small.rbegin(), small.rend()), want_large(large.rbegin(), large.rend());
  auto got = read_rank(r, 0);
  ASSERT_EQ(got.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i)
    EXPECT_NEAR(got[i], want_small[i], 1e-12);
  got = read_rank(r, 1);
  ASSERT_EQ(got.size(), 400u);
  for (std::size_t i = 0; i < 400; ++i)
    EXPECT_NEAR(got[i], want_large[i], 1e-9);

  // Large frame then small one: the second overwrites the tail of the first.
  t.grammars = {Rules{{{1, 400}}}, Rules{{{0, 5}}}};
  write_pilgrim_trace(s.dir(), t);
  write_scan({zstd_frame(large), zstd_frame(small)});
  r = read_pilgrim_trace(s.dir());
  const std::string e = error_of([&] { read_rank(r, 0); });
  EXPECT_NE(e.find("durations.dat"), std::string::npos) << e;
  EXPECT_NE(e.find("byte "), std::string::npos) << e;
  EXPECT_NE(e.find("rank 0"), std::string::npos) << e;
  got = read_rank(r, 1);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_NEAR(got[0], small[4], 1e-12);

  // A frame of the wrong length for its rank.
  write_scan({zstd_frame(large), zstd_frame(large)});
  const std::string wrong = error_of([&] { read_rank(r, 1); });
  EXPECT_NE(wrong.find("rank 1"), std::string::npos) << wrong;
  fs::remove(s.dir() / "durations.dat");
  EXPECT_NE(error_of([&] { read_rank(r, 1); }).find("no such file"), std::string::npos);
}

TEST(MpiPilgrimTiming, ShortTimingFileIsAnInputError) {
  Scratch s("short-timing");
  const TraceToWrite t = ping_pong();
  write_pilgrim_trace(s.dir(), t);
  auto bytes = slurp(s.dir() / "durations.dat");
  bytes.resize(bytes.size() - 8);
  spit(s.dir() / "durations.dat", bytes);
  const PilgrimTrace r = read_pilgrim_trace(s.dir());
  TimingStream ok(r, 2);  // ranks before the cut read fine
  const std::string e = error_of([&] { TimingStream ts(r, 3); });
  EXPECT_NE(e.find("durations.dat"), std::string::npos) << e;
  EXPECT_NE(e.find("byte " + std::to_string(bytes.size())), std::string::npos) << e;
}

// ---- corrupt inputs ----------------------------------------------------------------------------------

// Reads the trace and, if it reads, everything in it (a bounded number of calls): any problem must come
// as an InputError naming a trace file and a byte, never as a crash or another exception.
void read_everything(const fs::path& dir, std::string* error = nullptr) {
  try {
    const PilgrimTrace r = read_pilgrim_trace(dir);
    for (int rank = 0; rank < r.ranks; ++rank) {
      stream_all(r, rank, 5000);
      TimingStream ts(r, rank);
      CallTime c;
      for (int i = 0; i < 5000 && ts.next(c); ++i) {
      }
    }
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("byte "), std::string::npos) << m;
    EXPECT_TRUE(m.find(".dat") != std::string::npos || m.find("pilgrim.mt") != std::string::npos) << m;
    if (error) *error = m;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not an InputError: " << e.what();
  }
}

std::vector<std::pair<std::string, std::function<void(const fs::path&)>>> corruption_subjects() {
  return {
      {"current", [](const fs::path& d) { write_pilgrim_trace(d, ping_pong()); }},
      {"zstd", [](const fs::path& d) { write_pilgrim_trace(d, ping_pong(true, TimingMode::zstd)); }},
      {"oldest",
       [](const fs::path& d) {
         RawOptions o;
         o.long_metadata = o.grammar_ids = o.counts = false;
         write_raw(d, ping_pong(false), o);
       }},
  };
}

TEST(MpiPilgrimCorrupt, EveryTruncationIsAnInputError) {
  for (const auto& [name, make] : corruption_subjects()) {
    Scratch s("truncate-" + name);
    make(s.dir());
    for (const char* file : {"pilgrim.mt", "funcs.dat", "grammars.dat"}) {
      const auto whole = slurp(s.dir() / file);
      for (std::size_t cut = 0; cut < whole.size(); ++cut) {
        SCOPED_TRACE(name + " " + file + " cut at " + std::to_string(cut));
        spit(s.dir() / file, std::vector<std::uint8_t>(whole.begin(), whole.begin() + cut));
        std::string e;
        read_everything(s.dir(), &e);
        EXPECT_NE(e.find(file), std::string::npos) << e;
      }
      spit(s.dir() / file, whole);
    }
    for (const char* file : {"intervals.dat", "durations.dat"}) {
      if (!fs::exists(s.dir() / file)) continue;
      const auto whole = slurp(s.dir() / file);
      for (std::size_t cut = 0; cut < whole.size(); cut += 7) {
        SCOPED_TRACE(name + " " + file + " cut at " + std::to_string(cut));
        spit(s.dir() / file, std::vector<std::uint8_t>(whole.begin(), whole.begin() + cut));
        std::string e;
        read_everything(s.dir(), &e);
        EXPECT_NE(e.find(file), std::string::npos) << e;
      }
      spit(s.dir() / file, whole);
    }
  }
}

TEST(MpiPilgrimCorrupt, FlippedBytesNeverCrash) {
  for (const auto& [name, make] : corruption_subjects()) {
    Scratch s("flip-" + name);
    make(s.dir());
    for (const char* file : {"pilgrim.mt", "funcs.dat", "grammars.dat", "durations.dat"}) {
      if (std::string(file) == "durations.dat" && name != "zstd") continue;  // LOSSLESS values are free
      const auto whole = slurp(s.dir() / file);
      for (std::size_t at = 0; at < whole.size(); ++at)
        for (std::uint8_t pattern : {0xFF, 0x80, 0x01}) {
          SCOPED_TRACE(name + " " + file + " byte " + std::to_string(at));
          auto bytes = whole;
          bytes[at] ^= pattern;
          spit(s.dir() / file, bytes);
          read_everything(s.dir());
        }
      spit(s.dir() / file, whole);
    }
  }
}

// A minimal current-format trace (1 rank, Barrier) whose grammars.dat is given as ints.
struct Minimal {
  Scratch scratch{"minimal"};
  explicit Minimal(int ranks = 1) {
    TraceToWrite t;
    t.ranks = ranks;
    t.timing = TimingMode::aggregated;
    t.keys = {barrier_key(), comm_rank_key(0)};
    t.grammars = {Rules{{{0, 1}}}};
    t.grammar_of_rank.assign(ranks, 0);
    write_pilgrim_trace(scratch.dir(), t);
  }
  const fs::path& dir() const { return scratch.dir(); }
  // grammars.dat = ids..., unique, start, uncompressed, then `rest` ints.
  void grammars(std::vector<std::int32_t> head, std::uint64_t uncompressed, std::vector<std::int32_t> rest) {
    Bytes b;
    for (auto v : head)
      b.i32(v);
    b.put(uncompressed);
    for (auto v : rest)
      b.i32(v);
    spit(dir() / "grammars.dat", b.data);
  }
  // A single-rank grammar, serialised as a flat second-level start rule -100.
  void rank_grammar(const std::vector<std::int32_t>& pairs) {
    const std::int32_t start = std::min(-100, *std::min_element(pairs.begin(), pairs.end()) - 1);
    std::vector<std::int32_t> rest = {1, start, static_cast<std::int32_t>(pairs.size() / 2)};
    rest.insert(rest.end(), pairs.begin(), pairs.end());
    grammars({0, 1, start}, pairs.size(), rest);
  }
  std::string error() const {
    return error_of([&] { read_pilgrim_trace(dir()); });
  }
};

void check_error(const std::string& e, const std::string& file, const std::string& part) {
  EXPECT_NE(e.find(file), std::string::npos) << e;
  EXPECT_NE(e.find("byte "), std::string::npos) << e;
  EXPECT_NE(e.find(part), std::string::npos) << e;
}
// (a macro, so that a failure names the line of the case)
#define expect_error(e, file, part) \
  do {                              \
    SCOPED_TRACE(part);             \
    check_error(e, file, part);     \
  } while (0)

TEST(MpiPilgrimCorrupt, Metadata) {
  Minimal m;
  const auto whole = slurp(m.dir() / "pilgrim.mt");
  for (std::int32_t ranks : {0, -1, std::numeric_limits<std::int32_t>::min()}) {
    auto b = whole;
    std::memcpy(b.data() + 8, &ranks, 4);
    spit(m.dir() / "pilgrim.mt", b);
    expect_error(m.error(), "pilgrim.mt", "rank count " + std::to_string(ranks) + " is not positive");
  }
  auto b = whole;
  const double nan = std::nan("");
  std::memcpy(b.data(), &nan, 8);
  spit(m.dir() / "pilgrim.mt", b);
  expect_error(m.error(), "pilgrim.mt", "time resolution");
  b = whole;
  b.push_back(0);
  spit(m.dir() / "pilgrim.mt", b);
  expect_error(m.error(), "pilgrim.mt", "41 bytes");
  // A huge rank count: the grammar ids cannot fit, nor can that many grammars.
  b = whole;
  const std::int32_t huge = std::numeric_limits<std::int32_t>::max();
  std::memcpy(b.data() + 8, &huge, 4);
  spit(m.dir() / "pilgrim.mt", b);
  expect_error(m.error(), "", "");
  fs::remove(m.dir() / "pilgrim.mt");
  EXPECT_NE(m.error().find("not a Pilgrim trace: it holds neither pilgrim.mt nor pilgrim-logs/"),
            std::string::npos)
      << m.error();
  EXPECT_NE(error_of([&] { read_pilgrim_trace(m.dir() / "nope"); }).find("no such trace folder"),
            std::string::npos);
}

TEST(MpiPilgrimCorrupt, Funcs) {
  Minimal m;
  const auto write_funcs = [&](std::vector<std::int32_t> ints, std::vector<std::uint8_t> tail) {
    Bytes b;
    for (auto v : ints)
      b.i32(v);
    b.data.insert(b.data.end(), tail.begin(), tail.end());
    spit(m.dir() / "funcs.dat", b.data);
  };
  const auto funcs = [&](std::vector<std::int32_t> ints, std::vector<std::uint8_t> tail = {}) {
    write_funcs(ints, tail);
    return m.error();
  };
  const auto bk = barrier_key();
  expect_error(funcs({-1}), "funcs.dat", "entry count -1 is negative");
  expect_error(funcs({std::numeric_limits<std::int32_t>::max()}), "funcs.dat", "cannot fit");
  // entry {terminal, rank, key_len, count} + key
  expect_error(funcs({1, 0, 0, -3, 1}, bk), "funcs.dat", "key length -3 is negative");
  expect_error(funcs({1, 0, 0, 1 << 30, 1}, bk), "funcs.dat", "runs past the end");
  expect_error(funcs({1, 5, 0, 10, 1}, bk), "funcs.dat", "terminal id 5 is outside 0..0");
  expect_error(funcs({1, 0, 3, 10, 1}, bk), "funcs.dat", "rank 3 is outside 0..0");
  auto bad_function = bk;
  bad_function[0] = 0xFF;
  bad_function[1] = 0x7F;
  expect_error(funcs({1, 0, 0, 10, 1}, bad_function), "funcs.dat", "function id 32767");
  std::vector<std::uint8_t> two = bk;
  two.insert(two.end(), {0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 1, 0, 0, 0});
  two.insert(two.end(), bk.begin(), bk.end());
  expect_error(funcs({2, 0, 0, 10, 1}, two), "funcs.dat", "terminal id 0 appears twice");
  // The grammar uses terminal 1 while funcs.dat has only terminal 0.
  write_funcs({1, 0, 0, 10, 1}, bk);
  m.rank_grammar({1, 1, -1, 1, 1, 1, 1, 1});
  expect_error(m.error(), "grammars.dat", "terminal 1 is not in funcs.dat");
}

TEST(MpiPilgrimCorrupt, Grammars) {
  Minimal m;
  // The valid one: rule -1 -> t0.
  m.rank_grammar({1, 1, -1, 1, 1, 1, 0, 1});
  EXPECT_EQ(read_pilgrim_trace(m.dir()).calls(0), 1u);

  m.rank_grammar({1, 1, -1, 1, 2, 1, 0, 1, -1, 1});
  expect_error(m.error(), "grammars.dat", "cycle");
  m.rank_grammar({2, 1, -1, 1, 1, 1, -2, 1, -2, 1, 1, 1, -1, 1});
  expect_error(m.error(), "grammars.dat", "cycle");
  m.rank_grammar({2, 1, -1, 1, 1, 1, -2, 1, -2, 1, 1, 1, -2, 1});
  expect_error(m.error(), "grammars.dat", "cycle");
  m.rank_grammar({1, 1, -1, 1, 1, 1, -5, 1});
  expect_error(m.error(), "grammars.dat", "rule -5 is used but not defined");
  m.rank_grammar({1, 1, -2, 1, 1, 1, 0, 1});
  expect_error(m.error(), "grammars.dat", "no main rule");
  m.rank_grammar({1, 1, -1, 1, 1, 1, 0, 0});
  expect_error(m.error(), "grammars.dat", "repeated 0 times");
  m.rank_grammar({1, 1, -1, 1, 1, 1, 0, -4});
  expect_error(m.error(), "grammars.dat", "repeated -4 times");
  m.rank_grammar({1, 1, -1, 1, -2, 1, 0, 1});
  expect_error(m.error(), "grammars.dat", "symbol count -2 is negative");
  m.rank_grammar({1, 1, -1, 1, 5, 1, 0, 1});
  expect_error(m.error(), "grammars.dat", "symbol count 5 exceeds");
  m.rank_grammar({-1, 1, -1, 1, 1, 1, 0, 1});
  expect_error(m.error(), "grammars.dat", "rule count -1 is not positive");
  m.rank_grammar({1 << 30, 1, -1, 1, 1, 1, 0, 1});
  expect_error(m.error(), "grammars.dat", "rule count 1073741824 exceeds");
  m.rank_grammar({1, 1, -1, 1, 1, 1, 0, 1, 1, 1});
  expect_error(m.error(), "grammars.dat", "follow the last of the 1 grammars");
  m.rank_grammar({2, 1, -1, 1, 1, 1, 0, 1, -1, 1, 0, 1});
  expect_error(m.error(), "grammars.dat", "rule -1 appears twice");

  // Header and second level.
  const std::vector<std::int32_t> pairs = {1, 1, -1, 1, 1, 1, 0, 1};
  std::vector<std::int32_t> rest = {1, -100, 4};
  rest.insert(rest.end(), pairs.begin(), pairs.end());
  m.grammars({3, 1, -100}, 8, rest);
  expect_error(m.error(), "grammars.dat", "grammar id 3 is outside 0..0");
  m.grammars({0, 0, -100}, 8, rest);
  expect_error(m.error(), "grammars.dat", "unique-grammar count 0");
  m.grammars({0, 1, -100}, 10, rest);
  expect_error(m.error(), "grammars.dat", "expands to 8 integers, the header says 10");
  m.grammars({0, 1, -100}, 9, rest);
  expect_error(m.error(), "grammars.dat", "is odd");
  m.grammars({0, 1, -100}, std::uint64_t{1} << 60, rest);
  expect_error(m.error(), "grammars.dat", "implausible");
  m.grammars({0, 1, -101}, 8, rest);
  expect_error(m.error(), "grammars.dat", "start rule -101 is not defined");
  m.grammars({0, 1, -100}, 8, {1, -100, 1 << 28});
  expect_error(m.error(), "grammars.dat", "run past the end");
  m.grammars({0, 1, -100}, 8, {1 << 30});
  expect_error(m.error(), "grammars.dat", "cannot fit");
  // Second-level cycles, missing rules, zero repeats, and an exponential expansion claimed to be small.
  // (-100 is the start rule; references below it are rules, anything else a pair of the stream)
  m.grammars({0, 1, -100}, 8, {3, -100, 1, -101, 1, -101, 1, -102, 1, -102, 1, -101, 1});
  expect_error(m.error(), "grammars.dat", "cycle");
  m.grammars({0, 1, -100}, 8, {1, -100, 1, -105, 1});
  expect_error(m.error(), "grammars.dat", "rule -105 is used but not defined");
  m.grammars({0, 1, -100}, 8, {2, -100, 1, -101, 0, -101, 1, 5, 1});
  expect_error(m.error(), "grammars.dat", "repeated 0 times");
  std::vector<std::int32_t> doubling = {40, -100, 1, -101, 2};
  for (int k = 1; k < 40; ++k)
    doubling.insert(doubling.end(), {-100 - k, 2, -101 - k, 1, -101 - k, 1});
  m.grammars({0, 1, -100}, 8, doubling);  // the last rule refers to -140, which does not exist
  expect_error(m.error(), "grammars.dat", "rule -140 is used but not defined");
  doubling.resize(doubling.size() - 6);
  doubling.insert(doubling.end(), {-139, 1, 5, 1});  // a terminal pair at the bottom: 2^39 pairs
  m.grammars({0, 1, -100}, 8, doubling);
  expect_error(m.error(), "grammars.dat", "expands to");
  fs::remove(m.dir() / "grammars.dat");
  expect_error(m.error(), "grammars.dat", "no such file");
}

// Deep and wide grammars: no recursion to overflow, no spinning on rules that yield nothing, saturation.
TEST(MpiPilgrimCorrupt, DeepGrammars) {
  Minimal m;
  constexpr int kDepth = 200000;
  // rule -k -> (-(k+1))^2 ... : 2^200000 calls, saturated.
  std::vector<std::int32_t> pairs = {kDepth};
  pairs.push_back(1);
  for (int k = 1; k <= kDepth; ++k) {
    pairs.insert(pairs.end(), {-k, 1, 1, 1});
    if (k < kDepth)
      pairs.insert(pairs.end(), {-(k + 1), 2});
    else
      pairs.insert(pairs.end(), {0, 1});
  }
  m.rank_grammar(pairs);
  PilgrimTrace r = read_pilgrim_trace(m.dir());
  EXPECT_EQ(r.calls(0), std::uint64_t{1} << 63);
  EXPECT_EQ(stream_all(r, 0, 3), (std::vector<int>{0, 0, 0}));

  // rule -1 -> (-2)^max t0, rule -2 empty, nested deep: one call, found at once.
  pairs = {3,  1, -1, 1, 2, 1, -2, std::numeric_limits<std::int32_t>::max(),
           0,  1, -2, 1, 1, 1, -3, std::numeric_limits<std::int32_t>::max(),
           -3, 1, 0,  1};
  m.rank_grammar(pairs);
  r = read_pilgrim_trace(m.dir());
  EXPECT_EQ(r.calls(0), 1u);
  EXPECT_EQ(stream_all(r, 0), (std::vector<int>{0}));
}

}  // namespace
