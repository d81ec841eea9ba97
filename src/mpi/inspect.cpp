// Trace inspection: per-function calls and bytes, the rank-to-rank matrix, and the decoded call listing.
#include "mpi/inspect.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ostream>

#include "core/units.hpp"
#include "mpi/functions.hpp"
#include "mpi/program.hpp"
#include "mpi/signature.hpp"

namespace whatif::mpi {

TraceSummary summarize_trace(const PilgrimTrace& trace, const std::string& comms_file) {
  const auto n = static_cast<std::size_t>(trace.ranks);
  TraceSummary s;
  s.functions.resize(kFunctionCount);
  s.per_rank.assign(n, std::vector<std::uint64_t>(kFunctionCount, 0));
  s.matrix_bytes.assign(n, std::vector<double>(n, 0));
  s.matrix_messages.assign(n, std::vector<std::uint64_t>(n, 0));
  s.first_start.assign(n, 0);
  s.last_end.assign(n, 0);
  const std::vector<Signature> sigs = decode_signatures(trace);
  std::vector<CallOp> ops;
  for (std::size_t t = 0; t < sigs.size(); ++t) {
    ops.push_back(compile_call(sigs[t]));
    if (!sigs[t].ok()) s.problems.push_back(fmt::format("signature {}: {}", t, sigs[t].problem));
  }
  CommMap map;
  if (!comms_file.empty()) map = load_comm_map(comms_file, trace.ranks);
  CommRegistry registry(trace.ranks, comms_file.empty() ? nullptr : &map);
  for (int r = 0; r < trace.ranks; ++r) {
    RankState st(r, registry);
    CallStream calls(trace, r);
    int terminal = 0;
    auto& counts = s.per_rank[static_cast<std::size_t>(r)];
    while (calls.next(terminal)) {
      const Signature& sig = sigs[static_cast<std::size_t>(terminal)];
      const CallOp& op = ops[static_cast<std::size_t>(terminal)];
      if (!sig.ok()) ++s.undecodable;
      if (sig.function < 0 || sig.function >= kFunctionCount) continue;
      ++counts[static_cast<std::size_t>(sig.function)];
      double bytes = 0;
      switch (op.kind) {
        case OpKind::send:
        case OpKind::isend:
        case OpKind::sendrecv: {
          bytes = static_cast<double>(st.bytes(op.send_count, op.send_type));
          int to = st.world_peer(op.comm, op.dest);
          if (to >= 0) {
            s.matrix_bytes[static_cast<std::size_t>(r)][static_cast<std::size_t>(to)] += bytes;
            ++s.matrix_messages[static_cast<std::size_t>(r)][static_cast<std::size_t>(to)];
          }
          break;
        }
        case OpKind::collective:
          if (op.collective == Collective::alltoallv)
            for (auto c : op.send_counts)
              bytes += static_cast<double>(st.bytes(c, op.send_type));
          else if (op.collective != Collective::barrier)
            bytes = static_cast<double>(st.bytes(op.send_count, op.send_type));
          break;
        default:
          st.apply(op);
          break;
      }
      s.functions[static_cast<std::size_t>(sig.function)].bytes_sent += bytes;
    }
    for (int f = 0; f < kFunctionCount; ++f)
      s.functions[static_cast<std::size_t>(f)].calls += counts[f];
    for (const auto& note : st.notes())
      if (std::find(s.notes.begin(), s.notes.end(), note) == s.notes.end()) s.notes.push_back(note);
    TimingStream times(trace, r);
    if (times.available()) {
      CallTime t;
      bool first = true;
      while (times.next(t)) {
        if (first) s.first_start[static_cast<std::size_t>(r)] = t.start;
        first = false;
        s.last_end[static_cast<std::size_t>(r)] = t.end;
      }
    }
  }
  return s;
}

nlohmann::json summary_json(const PilgrimTrace& trace, const TraceSummary& s) {
  nlohmann::json functions = nlohmann::json::array();
  for (int f = 0; f < kFunctionCount; ++f) {
    const auto& st = s.functions[static_cast<std::size_t>(f)];
    if (st.calls == 0) continue;
    nlohmann::json per_rank = nlohmann::json::array();
    for (const auto& r : s.per_rank)
      per_rank.push_back(r[static_cast<std::size_t>(f)]);
    functions.push_back({{"function", std::string(function_name(f))},
                         {"id", f},
                         {"calls", st.calls},
                         {"calls_per_rank", per_rank},
                         {"bytes_sent", st.bytes_sent}});
  }
  std::sort(functions.begin(), functions.end(), [](const auto& a, const auto& b) {
    return a["calls"].template get<std::uint64_t>() > b["calls"].template get<std::uint64_t>();
  });
  nlohmann::json ranks = nlohmann::json::array();
  for (int r = 0; r < trace.ranks; ++r)
    ranks.push_back({{"rank", r},
                     {"calls", trace.calls(r)},
                     {"first_start_s", s.first_start[static_cast<std::size_t>(r)]},
                     {"last_end_s", s.last_end[static_cast<std::size_t>(r)]}});
  return {{"trace", trace.dir.string()},
          {"ranks", trace.ranks},
          {"format_version", trace.version.label()},
          {"timing_mode", trace.timing_name},
          {"time_resolution_s", trace.time_resolution},
          {"signatures", trace.signatures.size()},
          {"unique_grammars", trace.grammars.size()},
          {"calls", trace.total_calls()},
          {"undecodable_calls", s.undecodable},
          {"problems", s.problems},
          {"notes", s.notes},
          {"functions", functions},
          {"per_rank", ranks},
          {"matrix_bytes", s.matrix_bytes},
          {"matrix_messages", s.matrix_messages}};
}

std::string render_summary(const PilgrimTrace& trace, const TraceSummary& s) {
  std::string out = fmt::format(
      "trace {}\n  ranks {}, format {}, timing {}, {} signatures, {} unique grammar(s), {} calls\n",
      trace.dir.string(), trace.ranks, trace.version.label(), trace.timing_name, trace.signatures.size(),
      trace.grammars.size(), trace.total_calls());
  for (int r = 0; r < trace.ranks; ++r)
    out += fmt::format("  rank {:>4}: {:>10} calls, {:.6f} .. {:.6f} s\n", r, trace.calls(r),
                       s.first_start[static_cast<std::size_t>(r)], s.last_end[static_cast<std::size_t>(r)]);
  std::vector<int> order;
  for (int f = 0; f < kFunctionCount; ++f)
    if (s.functions[static_cast<std::size_t>(f)].calls > 0) order.push_back(f);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return s.functions[static_cast<std::size_t>(a)].calls > s.functions[static_cast<std::size_t>(b)].calls;
  });
  out += fmt::format("  {:<28} {:>12} {:>14}\n", "function", "calls", "bytes sent");
  for (int f : order) {
    const auto& st = s.functions[static_cast<std::size_t>(f)];
    out += fmt::format("  {:<28} {:>12} {:>14}\n", function_name(f), st.calls,
                       st.bytes_sent > 0 ? core::format_quantity(st.bytes_sent, core::Dimension::size) : "-");
  }
  if (trace.ranks <= 16) {
    out += "  point-to-point bytes, row = source, column = destination:\n";
    for (const auto& row : s.matrix_bytes) {
      out += "   ";
      for (double b : row)
        out += fmt::format(" {:>10}", b > 0 ? core::format_quantity(b, core::Dimension::size) : "0");
      out += "\n";
    }
  }
  if (s.undecodable > 0) out += fmt::format("  {} calls have undecodable signatures:\n", s.undecodable);
  for (const auto& p : s.problems)
    out += "    " + p + "\n";
  for (const auto& n : s.notes)
    out += "  note: " + n + "\n";
  return out;
}

std::string matrix_csv(const TraceSummary& s) {
  std::string out = "source,destination,bytes,messages\n";
  for (std::size_t a = 0; a < s.matrix_bytes.size(); ++a)
    for (std::size_t b = 0; b < s.matrix_bytes.size(); ++b)
      if (s.matrix_messages[a][b] > 0)
        out += fmt::format("{},{},{:.0f},{}\n", a, b, s.matrix_bytes[a][b], s.matrix_messages[a][b]);
  return out;
}

std::string matrix_svg(const TraceSummary& s) {
  const std::size_t n = s.matrix_bytes.size();
  const double cell = n <= 64 ? 24.0 : std::max(2.0, 1536.0 / static_cast<double>(n));
  const double margin = 60, size = cell * static_cast<double>(n);
  double most = 0;
  for (const auto& row : s.matrix_bytes)
    for (double b : row)
      most = std::max(most, b);
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0:.0f}\" height=\"{1:.0f}\" "
      "font-family=\"sans-serif\" "
      "font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{2:.0f}\" y=\"16\">point-to-point bytes (row: source rank, column: destination rank; max "
      "{3})"
      "</text>\n",
      size + margin + 20, size + margin + 20, margin, core::format_quantity(most, core::Dimension::size));
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t b = 0; b < n; ++b) {
      double v = s.matrix_bytes[a][b];
      // Log scale from white (nothing) through yellow to dark red (the largest pair).
      double x = (v > 0 && most > 1) ? std::log1p(v) / std::log1p(most) : 0;
      int red = static_cast<int>(255 - 100 * x), green = static_cast<int>(255 - 235 * x),
          blue = static_cast<int>(255 - 255 * std::min(1.0, 2 * x));
      out += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"rgb({},{},{})\" "
          "stroke=\"#ddd\"><title>{} -> {}: {} in {} messages</title></rect>\n",
          margin + cell * static_cast<double>(b), margin + cell * static_cast<double>(a), cell, cell, red,
          green, blue, a, b, core::format_quantity(v, core::Dimension::size), s.matrix_messages[a][b]);
    }
  if (n <= 64)
    for (std::size_t i = 0; i < n; ++i) {
      out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n",
                         margin + cell * (static_cast<double>(i) + 0.5), margin - 4, i);
      out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", margin - 4,
                         margin + cell * (static_cast<double>(i) + 0.7), i);
    }
  out += "</svg>\n";
  return out;
}

void write_call_listing(const PilgrimTrace& trace, int rank, std::uint64_t limit, std::ostream& out) {
  const std::vector<Signature> sigs = decode_signatures(trace);
  // Arguments depend on the rank (peers are relative): render each (signature, rank) once.
  for (int r = rank < 0 ? 0 : rank; r < (rank < 0 ? trace.ranks : rank + 1); ++r) {
    std::vector<std::string> rendered(sigs.size());
    std::vector<bool> done(sigs.size(), false);
    CallStream calls(trace, r);
    TimingStream times(trace, r);
    const bool timed = times.available();
    int terminal = 0;
    CallTime t;
    std::string line;
    while (calls.next(terminal)) {
      if (limit > 0 && calls.position() > limit) break;
      auto k = static_cast<std::size_t>(terminal);
      if (!done[k]) {
        const Signature& s = sigs[k];
        std::string_view name = function_name(s.function);
        rendered[k] =
            fmt::format("{}({}){}", name.empty() ? fmt::format("function#{}", s.function) : std::string(name),
                        format_arguments(s, r), s.ok() ? "" : "  # undecodable: " + s.problem);
        done[k] = true;
      }
      line.clear();
      if (timed && times.next(t))
        fmt::format_to(std::back_inserter(line), "{} {} {:.6f} {:.6f} ", r, calls.position() - 1, t.start,
                       t.end);
      else
        fmt::format_to(std::back_inserter(line), "{} {} - - ", r, calls.position() - 1);
      line += rendered[k];
      line += '\n';
      out << line;
    }
  }
}

}  // namespace whatif::mpi
