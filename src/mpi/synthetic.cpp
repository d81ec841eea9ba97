// Synthetic ping-pong traces written through the Pilgrim writer.
#include "mpi/synthetic.hpp"

#include <limits>
#include <stdexcept>

#include "mpi/functions.hpp"
#include "mpi/pilgrim_writer.hpp"
#include "mpi/signature.hpp"

namespace whatif::mpi {

namespace {

Signature point_to_point(int function, std::int64_t count, int encoded_peer, bool with_status) {
  Signature s;
  s.function = function;
  s.args = {{"buf", ArgKind::pointer, {}, {}, 0, 0},
            {"count", ArgKind::int32, {count}, {}, 0, 0},
            {"datatype", ArgKind::datatype, {-14}, {}, 0, 0},  // MPI_BYTE
            {function == fid::send ? "dest" : "source", ArgKind::peer, {encoded_peer}, {}, 0, 0},
            {"tag", ArgKind::tag, {1}, {}, 0, 0},
            {"comm", ArgKind::comm, {kCommWorld}, {}, 0, 0}};
  if (with_status) s.args.push_back({"status", ArgKind::status, {0, 0}, {}, 0, 0});
  return s;
}

}  // namespace

void write_pingpong_trace(const std::filesystem::path& dir, std::uint64_t round_trips, std::int64_t bytes,
                          TimingMode mode, double gap) {
  if (round_trips == 0 ||
      round_trips > static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max()) * 8)
    throw std::invalid_argument("round trips out of range");
  TraceToWrite t;
  t.ranks = 2;
  t.timing = mode;
  Signature barrier;
  barrier.function = fid::barrier;
  barrier.args = {{"comm", ArgKind::comm, {kCommWorld}, {}, 0, 0}};
  // Peers are encoded as (my rank - peer): rank 0 talks to 1 as -1, rank 1 to 0 as +1.
  t.keys = {encode_signature(barrier), encode_signature(point_to_point(fid::send, bytes, -1, false)),
            encode_signature(point_to_point(fid::recv, bytes, -1, true)),
            encode_signature(point_to_point(fid::recv, bytes, 1, true)),
            encode_signature(point_to_point(fid::send, bytes, 1, false))};
  // Repeat counts are int32: nest a second rule when one cannot hold them all.
  auto grammar = [&](int first, int second) {
    std::vector<std::vector<GrammarSymbol>> rules(3);
    std::uint64_t outer = (round_trips + (1u << 20) - 1) >> 20,
                  inner = round_trips / std::max<std::uint64_t>(outer, 1);
    if (outer <= 1) {
      rules[0] = {{0, 1}, {-2, static_cast<std::int32_t>(round_trips)}};
      rules[1] = {{first, 1}, {second, 1}};
      rules.resize(2);
    } else {
      std::uint64_t rest = round_trips - outer * inner;
      rules[0] = {{0, 1}, {-3, static_cast<std::int32_t>(outer)}};
      if (rest > 0) rules[0].push_back({-2, static_cast<std::int32_t>(rest)});
      rules[1] = {{first, 1}, {second, 1}};
      rules[2] = {{-2, static_cast<std::int32_t>(inner)}};
    }
    return rules;
  };
  t.grammars = {grammar(1, 2), grammar(3, 4)};
  t.grammar_of_rank = {0, 1};
  if (mode == TimingMode::lossless) {
    t.times.resize(2);
    for (auto& rank : t.times) {
      double now = gap;
      for (std::uint64_t i = 0; i < 2 * round_trips + 1; ++i) {
        rank.push_back({now, now});
        now += gap;
      }
    }
  }
  write_pilgrim_trace(dir, t);
}

}  // namespace whatif::mpi
