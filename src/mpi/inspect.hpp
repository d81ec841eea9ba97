// What `whatif mpi info` and `whatif mpi text` show: a trace's calls, bytes and communication matrix, and the
// per-call listing with decoded arguments. No SimGrid.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mpi/pilgrim.hpp"

namespace whatif::mpi {

struct FunctionStats {
  std::uint64_t calls = 0;
  double bytes_sent = 0;  // point-to-point payloads and each rank's collective send buffer
};

struct TraceSummary {
  std::vector<FunctionStats> functions;              // by function id
  std::vector<std::vector<std::uint64_t>> per_rank;  // [rank][function id] calls
  std::vector<std::vector<double>> matrix_bytes;     // [source][destination] point-to-point bytes
  std::vector<std::vector<std::uint64_t>> matrix_messages;
  std::vector<double> first_start, last_end;  // per rank, LOSSLESS only
  std::uint64_t undecodable = 0;              // calls whose signature did not decode
  std::vector<std::string> problems;          // undecodable signatures, once each
  std::vector<std::string> notes;             // assumptions (datatypes, communicators)
};

TraceSummary summarize_trace(const PilgrimTrace& trace, const std::string& comms_file = "");
nlohmann::json summary_json(const PilgrimTrace& trace, const TraceSummary& s);
std::string render_summary(const PilgrimTrace& trace, const TraceSummary& s);
std::string matrix_csv(const TraceSummary& s);
// A heatmap of matrix_bytes (log colour scale), one cell per rank pair.
std::string matrix_svg(const TraceSummary& s);

// One line per call: "RANK INDEX START END MPI_Func(args)", times as %.6f (or "-" without timings).
// rank < 0 lists every rank in turn; limit 0 means all calls.
void write_call_listing(const PilgrimTrace& trace, int rank, std::uint64_t limit, std::ostream& out);

}  // namespace whatif::mpi
