// Pilgrim trace files (pilgrim.mt, funcs.dat, grammars.dat, intervals.dat, durations.dat): reading, the
// streamed grammar expansion, and timings. No SimGrid here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace whatif::mpi {

enum class TimingMode { aggregated, lossless, zstd, other };
std::string_view to_string(TimingMode mode);

// What the files say about the Pilgrim version that wrote them (pilgrim-format.md, "Versions").
struct FormatVersion {
  bool long_metadata = true;  // 40-byte pilgrim.mt (2023-03 on) instead of 16 bytes
  bool grammar_ids = true;    // grammar_id[] and unique-grammar count in grammars.dat (2021-06 on)
  bool cst_counts = true;     // uint32 count in each CST entry (2021-12 on)
  bool thread_ids = true;     // int32 tid in each key (2022-04 on)
  // "2023-03 or later", "2022-04 .. 2023-02", ... : the newest range consistent with the files.
  std::string label() const;
};

// One call signature (CST entry). Its key bytes are PilgrimTrace::key(terminal).
struct CstEntry {
  int terminal = 0;
  int first_rank = 0;
  std::uint32_t count = 0;      // calls with this signature over all ranks (0 when the version has no counts)
  std::uint64_t key_begin = 0;  // into PilgrimTrace::key_bytes
  std::uint32_t key_size = 0;
  std::uint64_t file_offset = 0;  // of the entry in funcs.dat, for error messages
};

// One symbol of a rank grammar: a terminal (value >= 0, a CST terminal id) or a rule (value < -1, or -1
// the main rule), repeated `repeat` times.
struct GrammarSymbol {
  std::int32_t value = 0;
  std::int32_t repeat = 1;
};

// One unique rank grammar, rules kept compressed. Rule id -k is at index k-1. The reader renumbers rules
// densely (-1 stays the main rule, the others follow in file order), as upstream ids have gaps.
struct Grammar {
  std::vector<GrammarSymbol> symbols;     // every rule's symbols, rule after rule
  std::vector<std::uint32_t> rule_begin;  // per rule index: first symbol
  std::vector<std::uint32_t> rule_end;    // per rule index: one past the last symbol (begin == end: absent)
  std::vector<std::uint64_t> rule_calls;  // calls one expansion of the rule yields (saturating at 2^63)
  std::uint64_t calls() const { return rule_calls.empty() ? 0 : rule_calls[0]; }
};

struct PilgrimTrace {
  std::filesystem::path dir;
  FormatVersion version;
  int ranks = 0;
  double time_resolution = 1e-6;
  TimingMode timing = TimingMode::aggregated;
  std::string timing_name;           // as written ("LOSSLESS") or the numeric code of old versions
  std::vector<CstEntry> signatures;  // indexed by terminal id
  std::vector<std::uint8_t> key_bytes;
  std::vector<Grammar> grammars;     // unique grammars
  std::vector<int> grammar_of_rank;  // per rank: index into grammars

  std::span<const std::uint8_t> key(int terminal) const;
  std::uint64_t calls(int rank) const;
  std::uint64_t total_calls() const;
};

// Reads and checks every file but the timing ones (which are streamed). Throws core::InputError naming the
// file and byte offset for anything truncated, corrupt or inconsistent ("funcs.dat: byte 1234: key length
// -3 of entry 17 is negative"); never crashes whatever the bytes. A directory holding pilgrim-logs/ is
// accepted in place of pilgrim-logs/ itself.
PilgrimTrace read_pilgrim_trace(const std::filesystem::path& dir);

// A rank's calls in order, expanded on the fly from its grammar with a stack of rule cursors: memory is
// O(grammar depth) whatever the number of calls.
class CallStream {
 public:
  CallStream(const PilgrimTrace& trace, int rank);
  // The next call's terminal id; false after the last call.
  bool next(int& terminal);
  std::uint64_t position() const { return position_; }  // calls returned so far

 private:
  struct Frame {
    std::uint32_t rule = 0;        // rule index
    std::uint32_t symbol = 0;      // current symbol index in Grammar::symbols
    std::int32_t rule_left = 0;    // expansions of this rule still to start after the current one
    std::int32_t symbol_left = 0;  // repeats of the current terminal still to emit
  };
  const Grammar* grammar_ = nullptr;
  std::vector<Frame> stack_;
  std::uint64_t position_ = 0;
};

// Start and end of one call in seconds, re-based per rank (see TimingStream).
struct CallTime {
  double start = 0;
  double end = 0;
};

// A rank's call times, streamed in call order from intervals.dat (starts) and durations.dat (ends) in
// LOSSLESS mode, or from the rank's zstd frame of durations in ZSTD mode (then start = previous end,
// i.e. no compute gaps are known, and the frame is decoded whole). Timestamps are re-based: when the rank's
// first start is later than one hour, the values are taken as raw MPI_Wtime (upstream Pilgrim) and the
// first start becomes 0; otherwise they are already seconds since MPI_Init and kept. Throws
// core::InputError naming the file and byte offset when a file is shorter than the grammar says.
class TimingStream {
 public:
  TimingStream(const PilgrimTrace& trace, int rank);
  ~TimingStream();
  TimingStream(TimingStream&&) noexcept;
  TimingStream& operator=(TimingStream&&) noexcept;
  bool available() const;  // false for AGGREGATED and the binned modes
  bool next(CallTime& time);
  double base() const;  // what was subtracted (0 when kept)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace whatif::mpi
