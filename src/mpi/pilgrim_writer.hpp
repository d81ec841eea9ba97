// Writes Pilgrim trace folders (current format, LOSSLESS, ZSTD or AGGREGATED): hand-built test traces and
// the synthetic traces of `whatif bench mpi`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "mpi/pilgrim.hpp"

namespace whatif::mpi {

struct TraceToWrite {
  int ranks = 1;
  TimingMode timing = TimingMode::lossless;
  // Encoded keys (see encode_signature in signature.hpp), terminal id = index.
  std::vector<std::vector<std::uint8_t>> keys;
  // Unique grammars; each is a list of rules, rule k (0-based) being rule id -(k+1), as (value, repeat)
  // symbols. grammar_of_rank[r] picks one.
  std::vector<std::vector<std::vector<GrammarSymbol>>> grammars;
  std::vector<int> grammar_of_rank;
  // Per rank, per call: LOSSLESS start/end times (required for lossless and zstd, ignored otherwise).
  std::vector<std::vector<CallTime>> times;
};

// Writes the five files into `dir` (created), as Pilgrim at commit a2b828b would: CST counts are computed
// from the grammars, the second-level grammar is a single start rule holding the whole integer stream.
// ZSTD frames are written one per rank, back to back (without upstream's inclusive-scan gap).
void write_pilgrim_trace(const std::filesystem::path& dir, const TraceToWrite& trace);

}  // namespace whatif::mpi
