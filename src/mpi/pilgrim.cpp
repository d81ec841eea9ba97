// Reading Pilgrim trace folders: format-version detection, the two-level grammar and the streamed call
// expansion (the timing files are in pilgrim_timing.cpp).
#include "mpi/pilgrim.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <unordered_map>

#include "core/diagnostics.hpp"
#include "mpi/functions.hpp"
#include "mpi/pilgrim_internal.hpp"

namespace whatif::mpi {

// Pilgrim writes its files with the native layout of x86-64; values are copied straight out of the bytes.
static_assert(std::endian::native == std::endian::little, "the Pilgrim reader assumes a little-endian host");

namespace fs = std::filesystem;
using core::InputError;
using core::Location;
using namespace detail;  // the reader's shared helpers (pilgrim_internal.hpp)

std::string_view to_string(TimingMode mode) {
  switch (mode) {
    case TimingMode::aggregated:
      return "AGGREGATED";
    case TimingMode::lossless:
      return "LOSSLESS";
    case TimingMode::zstd:
      return "ZSTD";
    case TimingMode::other:
      return "other";
  }
  return "other";
}

std::string FormatVersion::label() const {
  std::string out;
  if (long_metadata)
    out = "2023-03 or later";
  else if (thread_ids)
    out = "2022-04 .. 2023-02";
  else if (cst_counts)
    out = "2021-12 .. 2022-03";
  else if (grammar_ids)
    out = "2021-06 .. 2021-11";
  else
    return "before 2021-06";
  // Each change kept the earlier ones, so a missing older feature means a build no release matches.
  std::vector<std::string> missing;
  if (long_metadata && !thread_ids) missing.push_back("no thread ids in keys");
  if ((long_metadata || thread_ids) && !cst_counts) missing.push_back("no CST counts");
  if ((long_metadata || thread_ids || cst_counts) && !grammar_ids) missing.push_back("no grammar ids");
  if (!missing.empty()) out += fmt::format(" (unusual: {})", fmt::join(missing, ", "));
  return out;
}

namespace {

// Old pilgrim.mt files stored the timing mode as an int (pilgrim_timings.h before the string modes).
constexpr int kOldAggregated = 0, kOldNonAggregated = 1, kOldLossless = 2;
// The second-level grammar can expand a small file a lot, but not without bound: this caps the integers it
// may claim (a fixed allowance plus a ratio to the file size) so that a forged count cannot make us
// allocate gigabytes. Real traces expand by less than 1x (hpcc: 62 KB -> 16 194 integers).
constexpr std::uint64_t kStreamAllowance = std::uint64_t{1} << 22;
constexpr std::uint64_t kStreamRatio = 256;

// A failure under one reading of an ambiguous file; the reader tries the other reading before it reports
// the failure that got further.
struct ParseFailure {
  std::uint64_t offset = 0;
  std::string message;
};

[[noreturn]] void fail(std::uint64_t offset, std::string message) {
  throw ParseFailure{offset, std::move(message)};
}

std::vector<std::uint8_t> read_whole_file(const fs::path& path) {
  const std::string name = path.string();
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw error_at(name, 0, "no such file");
  std::FILE* f = std::fopen(name.c_str(), "rb");
  if (!f) throw error_at(name, 0, fmt::format("cannot open: {}", std::strerror(errno)));
  std::vector<std::uint8_t> bytes;
  std::uint8_t chunk[65536];
  std::size_t got = 0;
  while ((got = std::fread(chunk, 1, sizeof chunk, f)) > 0)
    bytes.insert(bytes.end(), chunk, chunk + got);
  const bool bad = std::ferror(f);
  std::fclose(f);
  if (bad) throw error_at(name, bytes.size(), "read error");
  return bytes;
}

// Bounds-checked little-endian reads over a file's bytes.
class Cursor {
 public:
  explicit Cursor(const std::vector<std::uint8_t>& bytes) : data_(bytes.data()), size_(bytes.size()) {}
  std::uint64_t pos() const { return pos_; }
  std::uint64_t size() const { return size_; }
  std::uint64_t left() const { return size_ - pos_; }
  void seek(std::uint64_t pos) { pos_ = pos; }
  const std::uint8_t* here() const { return data_ + pos_; }

  template <typename T>
  T get(std::string_view what) {
    if (left() < sizeof(T))
      fail(pos_,
           fmt::format("{} is cut off: {} bytes needed, the file ends at byte {}", what, sizeof(T), size_));
    T value;
    std::memcpy(&value, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  void skip(std::uint64_t n, std::string_view what) {
    if (left() < n)
      fail(pos_, fmt::format("{} ({} bytes) runs past the end of the file at byte {}", what, n, size_));
    pos_ += n;
  }

 private:
  const std::uint8_t* data_;
  std::uint64_t size_;
  std::uint64_t pos_ = 0;
};

// ---- pilgrim.mt --------------------------------------------------------------------------------------

struct Metadata {
  bool long_format = true;
  double time_resolution = 1e-6;
  int ranks = 0;
  TimingMode timing = TimingMode::aggregated;
  std::string timing_name;
  int old_code = -1;
};

TimingMode mode_from_name(std::string_view name) {
  if (name == "AGGREGATED") return TimingMode::aggregated;
  if (name == "LOSSLESS" || name == "NOCOMP") return TimingMode::lossless;  // NOCOMP: its name in 2022
  if (name == "ZSTD") return TimingMode::zstd;
  return TimingMode::other;
}

Metadata read_metadata(const fs::path& path) {
  const std::string name = path.string();
  const std::vector<std::uint8_t> bytes = read_whole_file(path);
  if (bytes.size() != 40 && bytes.size() != 16)
    throw error_at(
        name, bytes.size(),
        fmt::format("the file has {} bytes; Pilgrim writes 40 (since 2023-03) or 16", bytes.size()));
  Metadata md;
  md.long_format = bytes.size() == 40;
  std::memcpy(&md.time_resolution, bytes.data(), 8);
  std::int32_t ranks = 0;
  std::memcpy(&ranks, bytes.data() + 8, 4);
  if (!(std::isfinite(md.time_resolution) && md.time_resolution > 0))
    throw error_at(name, 0, fmt::format("time resolution {} is not a positive number", md.time_resolution));
  if (ranks <= 0) throw error_at(name, 8, fmt::format("rank count {} is not positive", ranks));
  md.ranks = ranks;
  if (md.long_format) {
    const char* text = reinterpret_cast<const char*>(bytes.data() + 12);
    md.timing_name.assign(text, strnlen(text, 20));
    for (char& c : md.timing_name)
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
    md.timing = mode_from_name(md.timing_name);
  } else {
    std::int32_t code = 0;
    std::memcpy(&code, bytes.data() + 12, 4);
    if (code != kOldAggregated && code != kOldNonAggregated && code != kOldLossless)
      throw error_at(name, 12,
                     fmt::format("unknown timing mode code {} (old Pilgrim wrote 0 aggregated, 1 "
                                 "non-aggregated, 2 lossless)",
                                 code));
    md.old_code = code;
    md.timing_name = std::to_string(code);
    md.timing = code == kOldLossless        ? TimingMode::lossless
                : code == kOldNonAggregated ? TimingMode::other
                                            : TimingMode::aggregated;
  }
  return md;
}

// ---- funcs.dat ---------------------------------------------------------------------------------------

struct CstParse {
  std::vector<CstEntry> entries;
  std::vector<std::uint8_t> key_bytes;
};

CstParse parse_cst(const std::vector<std::uint8_t>& bytes, int ranks, bool counts) {
  Cursor c(bytes);
  const std::int32_t n = c.get<std::int32_t>("the entry count");
  const std::uint64_t header = counts ? 16 : 12;
  if (n < 0) fail(0, fmt::format("entry count {} is negative", n));
  if (static_cast<std::uint64_t>(n) * header > c.left())
    fail(0, fmt::format("entry count {} cannot fit in a file of {} bytes", n, c.size()));
  CstParse out;
  out.entries.resize(static_cast<std::size_t>(n));
  out.key_bytes.reserve(c.left() - static_cast<std::uint64_t>(n) * header);
  std::vector<bool> seen(static_cast<std::size_t>(n), false);
  for (std::int32_t i = 0; i < n; ++i) {
    const std::uint64_t entry_offset = c.pos();
    const std::int32_t terminal = c.get<std::int32_t>(fmt::format("entry {}", i));
    if (terminal < 0 || terminal >= n)
      fail(entry_offset, fmt::format("entry {}: terminal id {} is outside 0..{}", i, terminal, n - 1));
    if (seen[static_cast<std::size_t>(terminal)])
      fail(entry_offset, fmt::format("entry {}: terminal id {} appears twice", i, terminal));
    seen[static_cast<std::size_t>(terminal)] = true;
    const std::int32_t rank = c.get<std::int32_t>(fmt::format("entry {}", i));
    if (rank < 0 || rank >= ranks)
      fail(entry_offset + 4, fmt::format("entry {}: rank {} is outside 0..{}", i, rank, ranks - 1));
    const std::uint64_t len_offset = c.pos();
    const std::int32_t key_len = c.get<std::int32_t>(fmt::format("entry {}", i));
    if (key_len < 0) fail(len_offset, fmt::format("entry {}: key length {} is negative", i, key_len));
    if (key_len < 2)
      fail(len_offset, fmt::format("entry {}: key length {} cannot hold a function id", i, key_len));
    const std::uint32_t count = counts ? c.get<std::uint32_t>(fmt::format("entry {}", i)) : 0;
    const std::uint64_t key_offset = c.pos();
    if (c.left() < static_cast<std::uint64_t>(key_len))
      fail(len_offset, fmt::format("entry {}: key length {} runs past the end of the file at byte {}", i,
                                   key_len, c.size()));
    std::int16_t function = 0;
    std::memcpy(&function, c.here(), 2);
    if (function < 0 || function >= kFunctionCount)
      fail(key_offset,
           fmt::format("entry {}: function id {} is outside 0..{}", i, function, kFunctionCount - 1));
    CstEntry& e = out.entries[static_cast<std::size_t>(terminal)];
    e.terminal = terminal;
    e.first_rank = rank;
    e.count = count;
    e.key_begin = out.key_bytes.size();
    e.key_size = static_cast<std::uint32_t>(key_len);
    e.file_offset = entry_offset;
    out.key_bytes.insert(out.key_bytes.end(), c.here(), c.here() + key_len);
    c.skip(static_cast<std::uint64_t>(key_len), "key");
  }
  if (c.left() != 0) fail(c.pos(), fmt::format("{} bytes follow the last of the {} entries", c.left(), n));
  return out;
}

// Keys of calls whose layout has no arrays or strings have one length; the 4-byte tid (2022-04) shows as
// that length or 4 bytes less. Lengths with the tid, checked on the traces in traces/pilgrim.
constexpr std::pair<int, int> kFixedKeyLengths[] = {
    {fid::comm_size, 14}, {fid::comm_rank, 14},   {fid::barrier, 10},   {fid::send, 58},
    {fid::recv, 66},      {fid::isend, 62},       {fid::irecv, 62},     {fid::wait, 18},
    {fid::bcast, 54},     {fid::allreduce, 86},   {fid::reduce, 90},    {fid::comm_free, 10},
    {fid::sendrecv, 114}, {fid::type_commit, 10}, {fid::type_free, 10}, {fid::type_size, 14},
    {fid::alltoall, 90},
};

// Decides whether keys carry the tid. Votes of the fixed-length calls decide; without a majority, the
// other files' version decides (40-byte metadata is later than the tid, no counts is earlier), and in the
// window between them a tid is assumed when every key has the same 4 bytes after the function id (one
// thread's id, 0 in builds without thread ids), which first arguments of different calls rarely share.
bool detect_thread_ids(const CstParse& cst, bool long_metadata, bool counts) {
  int with = 0, without = 0;
  bool all_long = true, same_tid = true;
  std::optional<std::int32_t> first_tid;
  for (const CstEntry& e : cst.entries) {
    const std::uint8_t* key = cst.key_bytes.data() + e.key_begin;
    std::int16_t function = 0;
    std::memcpy(&function, key, 2);
    for (const auto& [f, len] : kFixedKeyLengths) {
      if (f != function) continue;
      with += static_cast<int>(e.key_size) == len;
      without += static_cast<int>(e.key_size) == len - 4;
    }
    if (e.key_size < 6) {
      all_long = false;
      continue;
    }
    std::int32_t tid = 0;
    std::memcpy(&tid, key + 2, 4);
    if (!first_tid) first_tid = tid;
    same_tid = same_tid && *first_tid == tid;
  }
  if (!all_long) return false;
  if (with != without) return with > without;
  if (long_metadata) return true;
  if (!counts) return false;
  return same_tid;
}

// ---- grammars ----------------------------------------------------------------------------------------

// Depth-first, iterative (a forged grammar may nest as deep as it has rules): fills `total[r]` for every
// rule with the weighted sum of its symbols, failing on references to missing rules and on cycles.
// `edge(rule, i)` gives symbol i of a rule as {child rule or -1, multiplier}; a terminal adds its
// multiplier, a rule multiplier x total[child]. Returns the rules in post-order (children first).
template <typename Count, typename Edge, typename Fail>
std::vector<std::uint32_t> weigh_rules(std::uint32_t rules, Count symbol_count, Edge edge, Fail cycle,
                                       std::vector<std::uint64_t>& total) {
  total.assign(rules, 0);
  std::vector<std::uint8_t> state(rules, 0);  // 0 new, 1 on the stack, 2 done
  std::vector<std::uint32_t> order;
  order.reserve(rules);
  struct Item {
    std::uint32_t rule;
    std::uint32_t next;
  };
  std::vector<Item> stack;
  for (std::uint32_t root = 0; root < rules; ++root) {
    if (state[root] != 0) continue;
    state[root] = 1;
    stack.push_back({root, 0});
    while (!stack.empty()) {
      const std::size_t top = stack.size() - 1;
      const std::uint32_t rule = stack[top].rule;
      if (stack[top].next == symbol_count(rule)) {
        state[rule] = 2;
        order.push_back(rule);
        stack.pop_back();
        continue;
      }
      const auto [child, mult] = edge(rule, stack[top].next);
      if (child < 0) {
        total[rule] = sat_add(total[rule], mult);
      } else {
        const auto c = static_cast<std::uint32_t>(child);
        if (state[c] == 1) cycle(rule, c);
        if (state[c] == 0) {
          state[c] = 1;
          stack.push_back({c, 0});
          continue;  // this symbol is counted once the child is done
        }
        total[rule] = sat_add(total[rule], sat_mul(mult, total[c]));
      }
      ++stack[top].next;
    }
  }
  return order;
}

struct SecondLevelRule {
  std::int32_t id = 0;
  std::uint64_t offset = 0;  // of the rule in grammars.dat
  std::uint32_t begin = 0;   // into the symbol pool
  std::uint32_t size = 0;
};

// One unique grammar cut from the expanded integer stream, its rules renumbered densely (-1 stays the main
// rule; the others take -2, -3 ... in table order) so that sparse upstream ids cannot inflate the tables.
Grammar cut_grammar(const std::vector<GrammarSymbol>& stream, std::size_t& pos, int index, int terminals,
                    std::uint64_t offset) {
  const auto problem = [&](std::size_t at, const std::string& what) {
    fail(offset,
         fmt::format("unique grammar {} (pair {} of the expanded grammar stream): {}", index, at, what));
  };
  if (pos >= stream.size()) problem(pos, "missing: the stream ends before it");
  const std::int32_t nrules = stream[pos].value;
  const std::size_t head = pos++;
  if (nrules < 1) problem(head, fmt::format("rule count {} is not positive", nrules));
  if (static_cast<std::uint64_t>(nrules) * 2 > stream.size() - pos)
    problem(head, fmt::format("rule count {} exceeds the {} pairs left", nrules, stream.size() - pos));

  struct Span {
    std::size_t begin;
    std::uint32_t size;
    std::size_t at;
  };
  std::unordered_map<std::int32_t, std::uint32_t> index_of;
  // One slot more than rules: without a main rule the others take slots 1..nrules before that is noticed.
  std::vector<Span> spans(static_cast<std::size_t>(nrules) + 1);
  std::uint32_t next_index = 1;
  bool has_main = false;
  for (std::int32_t r = 0; r < nrules; ++r) {
    const std::size_t at = pos;
    if (stream.size() - pos < 2) problem(at, fmt::format("rule {} of {} is cut off", r, nrules));
    const std::int32_t id = stream[pos].value;
    const std::int32_t nsym = stream[pos + 1].value;
    pos += 2;
    if (id > -1) problem(at, fmt::format("rule id {} is not negative", id));
    if (nsym < 0) problem(at, fmt::format("rule {}: symbol count {} is negative", id, nsym));
    if (static_cast<std::uint64_t>(nsym) > stream.size() - pos)
      problem(at, fmt::format("rule {}: symbol count {} exceeds the {} pairs left", id, nsym,
                              stream.size() - pos));
    std::uint32_t slot = 0;
    if (id == -1) {
      if (has_main) problem(at, "rule -1 appears twice");
      has_main = true;
    } else {
      if (index_of.contains(id)) problem(at, fmt::format("rule {} appears twice", id));
      slot = next_index++;
      index_of.emplace(id, slot);
    }
    spans[slot] = {pos, static_cast<std::uint32_t>(nsym), at};
    pos += static_cast<std::size_t>(nsym);
  }
  if (!has_main) problem(head, "has no main rule -1");
  spans.pop_back();

  Grammar g;
  std::uint64_t total_symbols = 0;
  for (const Span& s : spans)
    total_symbols += s.size;
  if (total_symbols >= std::numeric_limits<std::uint32_t>::max()) problem(head, "has more than 2^32 symbols");
  g.symbols.reserve(total_symbols);
  g.rule_begin.resize(spans.size());
  g.rule_end.resize(spans.size());
  for (std::size_t k = 0; k < spans.size(); ++k) {
    const Span& s = spans[k];
    g.rule_begin[k] = static_cast<std::uint32_t>(g.symbols.size());
    for (std::size_t i = 0; i < s.size; ++i) {
      GrammarSymbol sym = stream[s.begin + i];
      if (sym.repeat < 1)
        problem(s.begin + i, fmt::format("symbol {} repeated {} times", sym.value, sym.repeat));
      if (sym.value >= 0) {
        if (sym.value >= terminals)
          problem(s.begin + i,
                  fmt::format("terminal {} is not in funcs.dat ({} signatures)", sym.value, terminals));
      } else if (sym.value != -1) {  // (-1, the main rule, keeps its index 0: a cycle found below)
        const auto it = index_of.find(sym.value);
        if (it == index_of.end())
          problem(s.begin + i, fmt::format("rule {} is used but not defined", sym.value));
        sym.value = -static_cast<std::int32_t>(it->second) - 1;
      }
      g.symbols.push_back(sym);
    }
    g.rule_end[k] = static_cast<std::uint32_t>(g.symbols.size());
  }
  weigh_rules(
      static_cast<std::uint32_t>(spans.size()),
      [&](std::uint32_t r) { return g.rule_end[r] - g.rule_begin[r]; },
      [&](std::uint32_t r, std::uint32_t i) {
        const GrammarSymbol& s = g.symbols[g.rule_begin[r] + i];
        return std::pair<std::int64_t, std::uint64_t>{
            s.value >= 0 ? -1 : -static_cast<std::int64_t>(s.value) - 1,
            static_cast<std::uint64_t>(s.repeat)};
      },
      [&](std::uint32_t r, std::uint32_t) {
        problem(spans[r].at, "its rules refer to themselves (a cycle), so it has no finite expansion");
      },
      g.rule_calls);
  return g;
}

struct GrammarParse {
  std::vector<Grammar> grammars;
  std::vector<int> grammar_of_rank;
};

GrammarParse parse_grammars(const std::vector<std::uint8_t>& bytes, int ranks, int terminals, bool ids) {
  Cursor c(bytes);
  GrammarParse out;
  std::int32_t unique = ranks;
  if (ids) {
    if (c.left() / 4 < static_cast<std::uint64_t>(ranks) + 1)
      fail(0, fmt::format("the file ({} bytes) cannot hold the grammar ids of {} ranks", c.size(), ranks));
    c.seek(static_cast<std::uint64_t>(ranks) * 4);
    unique = c.get<std::int32_t>("the unique-grammar count");
    if (unique < 1 || unique > ranks)
      fail(c.pos() - 4, fmt::format("unique-grammar count {} is outside 1..{}", unique, ranks));
    c.seek(0);
    out.grammar_of_rank.resize(static_cast<std::size_t>(ranks));
    for (int r = 0; r < ranks; ++r) {
      const std::int32_t g = c.get<std::int32_t>("grammar id");
      if (g < 0 || g >= unique)
        fail(c.pos() - 4, fmt::format("rank {}: grammar id {} is outside 0..{}", r, g, unique - 1));
      out.grammar_of_rank[static_cast<std::size_t>(r)] = g;
    }
    c.skip(4, "unique-grammar count");
  }
  const std::int32_t start_rule = c.get<std::int32_t>("the start rule id");
  const std::uint64_t ints_offset = c.pos();
  const std::uint64_t ints = c.get<std::uint64_t>("the uncompressed integer count");
  const std::uint64_t cap = kStreamAllowance + kStreamRatio * c.size();
  if (ints % 2 != 0) fail(ints_offset, fmt::format("uncompressed integer count {} is odd", ints));
  if (ints > cap)
    fail(ints_offset,
         fmt::format("uncompressed integer count {} is implausible for a file of {} bytes (limit {})", ints,
                     c.size(), cap));

  // The second-level grammar: rules of (value, exp) pairs; a value below start_rule is a rule.
  const std::uint64_t rules_offset = c.pos();
  const std::int32_t nrules = c.get<std::int32_t>("the rule count");
  if (nrules < 1) fail(rules_offset, fmt::format("rule count {} is not positive", nrules));
  if (static_cast<std::uint64_t>(nrules) * 8 > c.left())
    fail(rules_offset, fmt::format("rule count {} cannot fit in the {} bytes left", nrules, c.left()));
  std::vector<SecondLevelRule> rules(static_cast<std::size_t>(nrules));
  std::vector<GrammarSymbol> pool;
  pool.reserve((c.left() - static_cast<std::uint64_t>(nrules) * 8) / 8);
  std::unordered_map<std::int32_t, std::uint32_t> index_of;
  for (std::int32_t r = 0; r < nrules; ++r) {
    SecondLevelRule& rule = rules[static_cast<std::size_t>(r)];
    rule.offset = c.pos();
    rule.id = c.get<std::int32_t>(fmt::format("rule {}", r));
    const std::int32_t nsym = c.get<std::int32_t>(fmt::format("rule {}", r));
    if (nsym < 0) fail(rule.offset + 4, fmt::format("rule {}: symbol count {} is negative", rule.id, nsym));
    if (static_cast<std::uint64_t>(nsym) * 8 > c.left())
      fail(rule.offset + 4, fmt::format("rule {}: {} symbols run past the end of the file at byte {}",
                                        rule.id, nsym, c.size()));
    if (!index_of.emplace(rule.id, static_cast<std::uint32_t>(r)).second)
      fail(rule.offset, fmt::format("rule {} appears twice", rule.id));
    rule.begin = static_cast<std::uint32_t>(pool.size());
    rule.size = static_cast<std::uint32_t>(nsym);
    for (std::int32_t i = 0; i < nsym; ++i) {
      GrammarSymbol s;
      s.value = c.get<std::int32_t>("symbol");
      s.repeat = c.get<std::int32_t>("symbol");
      if (s.value < start_rule && s.repeat < 1)
        fail(c.pos() - 4, fmt::format("rule {}: rule {} repeated {} times", rule.id, s.value, s.repeat));
      pool.push_back(s);
    }
  }
  if (c.left() != 0) fail(c.pos(), fmt::format("{} bytes follow the last rule", c.left()));
  const auto start_it = index_of.find(start_rule);
  if (start_it == index_of.end()) fail(rules_offset, fmt::format("start rule {} is not defined", start_rule));

  // Resolve references once, then count each rule's output pairs before expanding anything.
  std::vector<std::int64_t> child(pool.size(), -1);
  for (const SecondLevelRule& rule : rules)
    for (std::uint32_t i = rule.begin; i < rule.begin + rule.size; ++i) {
      if (pool[i].value >= start_rule) continue;
      const auto it = index_of.find(pool[i].value);
      if (it == index_of.end())
        fail(rule.offset + 8 + 8 * std::uint64_t{i - rule.begin},
             fmt::format("rule {}: rule {} is used but not defined", rule.id, pool[i].value));
      child[i] = it->second;
    }
  std::vector<std::uint64_t> pairs;
  weigh_rules(
      static_cast<std::uint32_t>(rules.size()), [&](std::uint32_t r) { return rules[r].size; },
      [&](std::uint32_t r, std::uint32_t i) {
        const std::uint32_t k = rules[r].begin + i;
        return std::pair<std::int64_t, std::uint64_t>{
            child[k], child[k] < 0 ? 1 : static_cast<std::uint64_t>(pool[k].repeat)};
      },
      [&](std::uint32_t r, std::uint32_t) {
        fail(rules[r].offset, fmt::format("rule {} refers to itself (a cycle)", rules[r].id));
      },
      pairs);
  const std::uint32_t start = start_it->second;
  if (pairs[start] != ints / 2)
    fail(ints_offset, fmt::format("the grammar expands to {} integers, the header says {}",
                                  pairs[start] >= kSaturated ? std::string("more than 2^63")
                                                             : std::to_string(2 * pairs[start]),
                                  ints));

  std::vector<GrammarSymbol> stream;
  stream.reserve(ints / 2);
  struct Frame {
    std::uint32_t rule, next;
    std::int32_t left;
  };
  std::vector<Frame> stack{{start, 0, 0}};
  while (!stack.empty()) {
    Frame& f = stack.back();
    const SecondLevelRule& rule = rules[f.rule];
    if (f.next == rule.size) {
      if (f.left > 0) {
        --f.left;
        f.next = 0;
      } else {
        stack.pop_back();
      }
      continue;
    }
    const std::uint32_t k = rule.begin + f.next++;
    if (child[k] < 0) {
      stream.push_back(pool[k]);
    } else if (pairs[static_cast<std::size_t>(child[k])] > 0) {  // empty rules would only spin
      stack.push_back({static_cast<std::uint32_t>(child[k]), 0, pool[k].repeat - 1});
    }
  }

  // Cut the stream into the unique grammars (one per rank before grammar ids existed).
  std::size_t pos = 0;
  for (int g = 0; g < unique; ++g)
    out.grammars.push_back(cut_grammar(stream, pos, g, terminals, rules_offset));
  if (pos != stream.size())
    fail(rules_offset,
         fmt::format("{} pairs of the expanded grammar stream follow the last of the {} grammars",
                     stream.size() - pos, unique));
  if (!ids) {
    out.grammar_of_rank.resize(static_cast<std::size_t>(ranks));
    for (int r = 0; r < ranks; ++r)
      out.grammar_of_rank[static_cast<std::size_t>(r)] = r;
  }
  return out;
}

// Runs `parse` under the newer and the older reading of a file, keeping the first that succeeds. When
// both fail, the newer reading's failure is reported if the other files are of a later version (each
// change kept the earlier ones), else the failure that got further into the file.
template <typename T, typename Parse>
std::pair<T, bool> parse_either(const std::string& file, bool newer_expected, Parse parse) {
  std::optional<ParseFailure> newer;
  try {
    return {parse(true), true};
  } catch (const ParseFailure& f) {
    newer = f;
  }
  try {
    return {parse(false), false};
  } catch (const ParseFailure& older) {
    const ParseFailure& worst = !newer_expected && older.offset > newer->offset ? older : *newer;
    throw error_at(file, worst.offset, worst.message);
  }
}

}  // namespace

// ---- PilgrimTrace ------------------------------------------------------------------------------------

std::span<const std::uint8_t> PilgrimTrace::key(int terminal) const {
  if (terminal < 0 || static_cast<std::size_t>(terminal) >= signatures.size()) return {};
  const CstEntry& e = signatures[static_cast<std::size_t>(terminal)];
  if (e.key_begin + e.key_size > key_bytes.size()) return {};
  return {key_bytes.data() + e.key_begin, e.key_size};
}

std::uint64_t PilgrimTrace::calls(int rank) const {
  if (rank < 0 || static_cast<std::size_t>(rank) >= grammar_of_rank.size())
    throw std::out_of_range(fmt::format("rank {} is outside 0..{}", rank, grammar_of_rank.size()));
  const int g = grammar_of_rank[static_cast<std::size_t>(rank)];
  if (g < 0 || static_cast<std::size_t>(g) >= grammars.size()) return 0;
  return grammars[static_cast<std::size_t>(g)].calls();
}

std::uint64_t PilgrimTrace::total_calls() const {
  std::uint64_t total = 0;
  for (std::size_t r = 0; r < grammar_of_rank.size(); ++r)
    total = sat_add(total, calls(static_cast<int>(r)));
  return total;
}

PilgrimTrace read_pilgrim_trace(const fs::path& dir) {
  PilgrimTrace trace;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw InputError(core::Location{dir.string(), 0, 0}, "no such trace folder");
  trace.dir = fs::is_directory(dir / "pilgrim-logs", ec) ? dir / "pilgrim-logs" : dir;
  if (!fs::exists(trace.dir / "pilgrim.mt", ec))
    throw InputError(core::Location{dir.string(), 0, 0},
                     "not a Pilgrim trace: it holds neither pilgrim.mt nor pilgrim-logs/");

  const Metadata md = read_metadata(trace.dir / "pilgrim.mt");
  trace.ranks = md.ranks;
  trace.time_resolution = md.time_resolution;
  trace.timing = md.timing;
  trace.timing_name = md.timing_name;
  trace.version.long_metadata = md.long_format;

  const fs::path funcs_path = trace.dir / "funcs.dat";
  const std::vector<std::uint8_t> funcs = read_whole_file(funcs_path);
  // The count field (2021-12) changes the entry size: the reading whose entries exactly fill the file wins.
  // When both do (no entries at all), a 40-byte pilgrim.mt means the newer format.
  std::optional<CstParse> with_counts, without_counts;
  std::optional<ParseFailure> counts_failure, plain_failure;
  try {
    with_counts = parse_cst(funcs, md.ranks, true);
  } catch (const ParseFailure& f) {
    counts_failure = f;
  }
  try {
    without_counts = parse_cst(funcs, md.ranks, false);
  } catch (const ParseFailure& f) {
    plain_failure = f;
  }
  if (!with_counts && !without_counts) {
    const ParseFailure& worst =
        !md.long_format && plain_failure->offset > counts_failure->offset ? *plain_failure : *counts_failure;
    throw error_at(funcs_path.string(), worst.offset, worst.message);
  }
  const bool counts = with_counts && (!without_counts || md.long_format);
  CstParse cst = counts ? std::move(*with_counts) : std::move(*without_counts);
  trace.version.cst_counts = counts;
  trace.version.thread_ids = detect_thread_ids(cst, md.long_format, counts);
  trace.signatures = std::move(cst.entries);
  trace.key_bytes = std::move(cst.key_bytes);

  // grammar_id[] and the unique count (2021-06) shift everything after them: the reading that decodes
  // the whole file consistently wins.
  const fs::path grammars_path = trace.dir / "grammars.dat";
  const std::vector<std::uint8_t> grammar_bytes = read_whole_file(grammars_path);
  const int terminals = static_cast<int>(trace.signatures.size());
  auto [parsed, ids] = parse_either<GrammarParse>(
      grammars_path.string(), md.long_format || counts,
      [&](bool with_ids) { return parse_grammars(grammar_bytes, md.ranks, terminals, with_ids); });
  trace.version.grammar_ids = ids;
  trace.grammars = std::move(parsed.grammars);
  trace.grammar_of_rank = std::move(parsed.grammar_of_rank);

  // Before the mode became a string (2023-03) Pilgrim wrote 0 whatever the mode; the timing files say more.
  if (!md.long_format && md.old_code == kOldAggregated) {
    const std::uint64_t expected = sat_mul(trace.total_calls(), 8);
    const std::uint64_t starts = file_size_or(trace.dir / "intervals.dat", 0);
    const std::uint64_t ends = file_size_or(trace.dir / "durations.dat", 0);
    if (expected > 0 && starts == expected && ends == expected) {
      trace.timing = TimingMode::lossless;
    } else if (ends > 0 && starts == 0) {
      // ZSTD mode wrote only durations.dat, as zstd frames: look for the magic number near the start.
      std::FILE* f = std::fopen((trace.dir / "durations.dat").string().c_str(), "rb");
      if (f) {
        std::vector<std::uint8_t> head(static_cast<std::size_t>(std::min<std::uint64_t>(ends, 1 << 20)));
        const std::size_t got = std::fread(head.data(), 1, head.size(), f);
        std::fclose(f);
        for (std::size_t i = 0; i + 4 <= got; ++i) {
          std::uint32_t magic = 0;
          std::memcpy(&magic, head.data() + i, 4);
          if (magic == kZstdMagic) {
            trace.timing = TimingMode::zstd;
            break;
          }
        }
      }
    }
  }
  return trace;
}

// ---- CallStream --------------------------------------------------------------------------------------

CallStream::CallStream(const PilgrimTrace& trace, int rank) {
  if (rank < 0 || static_cast<std::size_t>(rank) >= trace.grammar_of_rank.size())
    throw std::out_of_range(fmt::format("rank {} is outside 0..{}", rank, trace.grammar_of_rank.size()));
  const int g = trace.grammar_of_rank[static_cast<std::size_t>(rank)];
  if (g < 0 || static_cast<std::size_t>(g) >= trace.grammars.size()) return;
  grammar_ = &trace.grammars[static_cast<std::size_t>(g)];
  if (grammar_->rule_begin.empty() || grammar_->rule_calls.size() != grammar_->rule_begin.size() ||
      grammar_->rule_end.size() != grammar_->rule_begin.size())
    return;
  // An acyclic grammar nests at most one frame per rule: the stack never grows past this.
  stack_.reserve(grammar_->rule_begin.size() + 1);
  if (grammar_->calls() > 0) stack_.push_back({0, grammar_->rule_begin[0], 0, 0});
}

bool CallStream::next(int& terminal) {
  const GrammarSymbol* symbols = grammar_ ? grammar_->symbols.data() : nullptr;
  while (!stack_.empty()) {
    Frame& f = stack_.back();
    if (f.symbol_left > 0) {
      --f.symbol_left;
      terminal = symbols[f.symbol - 1].value;
      ++position_;
      return true;
    }
    if (f.symbol < grammar_->rule_end[f.rule]) {
      const GrammarSymbol s = symbols[f.symbol++];
      if (s.value >= 0) {
        f.symbol_left = s.repeat - 1;
        terminal = s.value;
        ++position_;
        return true;
      }
      const auto child = static_cast<std::uint32_t>(-(s.value + 1));
      // Rules that yield no call are skipped, so every frame pushed leads to a call: no input can make
      // this loop spin without output.
      if (grammar_->rule_calls[child] != 0 && stack_.size() <= grammar_->rule_begin.size())
        stack_.push_back({child, grammar_->rule_begin[child], s.repeat - 1, 0});
      continue;
    }
    if (f.rule_left > 0) {
      --f.rule_left;
      f.symbol = grammar_->rule_begin[f.rule];
      continue;
    }
    stack_.pop_back();
  }
  return false;
}

}  // namespace whatif::mpi
