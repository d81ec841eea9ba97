// Synthetic Pilgrim traces for benchmarks and tests: a two-rank ping-pong whose grammar repeats one rule.
#pragma once

#include <cstdint>
#include <filesystem>

#include "mpi/pilgrim.hpp"

namespace whatif::mpi {

// Rank 0 sends `bytes` to rank 1 and receives them back, `round_trips` times (4 calls per round trip over
// both ranks, plus a Barrier each at the start). LOSSLESS timings put `gap` seconds between calls; other
// modes write no timings (a LOSSLESS trace of 10^8 calls needs 1.6 GB of timing files).
void write_pingpong_trace(const std::filesystem::path& dir, std::uint64_t round_trips, std::int64_t bytes,
                          TimingMode mode, double gap = 0);

}  // namespace whatif::mpi
