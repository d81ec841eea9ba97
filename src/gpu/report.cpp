// Kernel model reports: per-kernel tables and JSON, trace summaries, PPT-GPU report parsing and comparison.
#include "gpu/report.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>

#include "core/diagnostics.hpp"
#include "core/units.hpp"

namespace whatif::gpu {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string percent(double fraction) {
  return fmt::format("{:.2f}", 100 * fraction);
}

json kernel_json(const KernelPrediction& k) {
  json stalls = json::object();
  for (int i = 0; i < kStalls; ++i)
    stalls[std::string(to_string(static_cast<Stall>(i)))] = k.stalls[i];
  const MemoryStats& m = k.memory;
  return {{"id", k.id},
          {"name", k.name},
          {"blocks", k.blocks},
          {"threads_per_block", k.threads_per_block},
          {"registers", k.registers},
          {"shared_bytes", k.shared_bytes},
          {"occupancy",
           {{"warps_per_block", k.occupancy.warps_per_block},
            {"limit_blocks", k.occupancy.limit_blocks},
            {"limit_registers", k.occupancy.limit_registers},
            {"limit_shared", k.occupancy.limit_shared},
            {"limit_warps", k.occupancy.limit_warps},
            {"active_blocks", k.occupancy.active_blocks},
            {"theoretical", k.occupancy.theoretical},
            {"resident_blocks", k.resident_blocks},
            {"blocks_on_busiest_sm", k.blocks_on_busiest_sm},
            {"achieved_warps", k.achieved_warps},
            {"achieved", k.achieved_occupancy}}},
          {"memory",
           {{"read_requests", m.read_requests},
            {"write_requests", m.write_requests},
            {"atomic_requests", m.atomic_requests},
            {"read_transactions", m.read_transactions},
            {"write_transactions", m.write_transactions},
            {"atomic_transactions", m.atomic_transactions},
            {"l1_hit_rate", m.l1_hit},
            {"l1_read_hit_rate", m.l1_read_hit},
            {"l2_hit_rate", m.l2_hit},
            {"ppt_gpu_formula",
             {{"l1_hit_rate", m.ppt_l1_hit},
              {"l1_read_hit_rate", m.ppt_l1_read_hit},
              {"l2_hit_rate", m.ppt_l2_hit}}},
            {"l2_read_transactions", m.l2_read_transactions},
            {"l2_write_transactions", m.l2_write_transactions},
            {"dram_transactions", m.dram_transactions},
            {"load_latency_cycles", m.load_latency},
            {"dram_queue_cycles", m.dram_queue},
            {"noc_queue_cycles", m.noc_queue}}},
          {"warp_instructions", k.warp_instructions},
          {"thread_instructions", k.thread_instructions},
          {"issue_cycles", k.issue_cycles},
          {"dram_cycles", k.dram_cycles},
          {"noc_cycles", k.noc_cycles},
          {"cycles", k.cycles},
          {"bound", k.bound},
          {"ipc", k.ipc},
          {"seconds", k.seconds},
          {"stalls", stalls},
          {"unknown_opcodes", k.unknown_opcodes}};
}

}  // namespace

json prediction_json(const AppPrediction& p) {
  json kernels = json::array();
  double requests = 0, transactions = 0, dram = 0, instructions = 0;
  for (const auto& k : p.kernels) {
    kernels.push_back(kernel_json(k));
    const MemoryStats& m = k.memory;
    requests += static_cast<double>(m.read_requests + m.write_requests + m.atomic_requests);
    transactions += static_cast<double>(m.read_transactions + m.write_transactions + m.atomic_transactions);
    dram += m.dram_transactions;
    instructions += static_cast<double>(k.warp_instructions);
  }
  json totals{{"kernels", p.kernels.size()}, {"seconds", p.seconds},
              {"requests", requests},        {"transactions", transactions},
              {"dram_transactions", dram},   {"warp_instructions", instructions}};
  return {{"gpu", p.gpu},     {"trace_dir", p.trace_dir}, {"format", p.format},    {"seconds", p.seconds},
          {"totals", totals}, {"kernels", kernels},       {"warnings", p.warnings}};
}

report::Table kernel_table(const AppPrediction& p) {
  report::Table t;
  t.title = fmt::format("{} kernels of {} on {}", p.kernels.size(), p.trace_dir, p.gpu);
  t.headers = {"kernel",     "name",     "grid x block", "regs",     "occupancy %",
               "achieved %", "requests", "transact",     "L1 hit %", "L2 hit %",
               "DRAM tx",    "cycles",   "bound",        "IPC",      "time (us)"};
  t.right_align = {true, false, false, true, true,  true, true, true,
                   true, true,  true,  true, false, true, true};
  for (const auto& k : p.kernels) {
    const MemoryStats& m = k.memory;
    t.rows.push_back({std::to_string(k.id), k.name, fmt::format("{} x {}", k.blocks, k.threads_per_block),
                      std::to_string(k.registers), percent(k.occupancy.theoretical),
                      percent(k.achieved_occupancy),
                      std::to_string(m.read_requests + m.write_requests + m.atomic_requests),
                      std::to_string(m.read_transactions + m.write_transactions + m.atomic_transactions),
                      percent(m.l1_hit), percent(m.l2_hit), fmt::format("{:.0f}", m.dram_transactions),
                      fmt::format("{:.0f}", k.cycles), k.bound, fmt::format("{:.3f}", k.ipc),
                      fmt::format("{:.3f}", k.seconds * 1e6)});
  }
  return t;
}

report::Table stall_table(const AppPrediction& p) {
  report::Table t;
  t.title = "Scheduler cycles by reason (%)";
  t.headers = {"kernel"};
  t.right_align = {true};
  for (int i = 0; i < kStalls; ++i) {
    t.headers.emplace_back(to_string(static_cast<Stall>(i)));
    t.right_align.push_back(true);
  }
  for (const auto& k : p.kernels) {
    std::vector<std::string> row{std::to_string(k.id)};
    for (double v : k.stalls)
      row.push_back(fmt::format("{:.1f}", 100 * v));
    t.rows.push_back(row);
  }
  return t;
}

std::string render_prediction(const AppPrediction& p) {
  std::string out = kernel_table(p).render() + "\n" + stall_table(p).render();
  out += fmt::format("total: {} kernels, {} (one after another)\n", p.kernels.size(),
                     core::format_quantity(p.seconds, core::Dimension::time));
  return out;
}

json trace_info_json(const TraceApplication& app) {
  json kernels = json::array();
  long bytes = 0;
  for (const auto& k : app.kernels) {
    std::map<std::string, long> mix;
    for (const auto& ins : k.instructions)
      if (ins.opcode < k.opcodes.size())
        ++mix[k.opcodes[ins.opcode].substr(0, k.opcodes[ins.opcode].find('.'))];
    long records = 0;
    for (const auto& b : k.memory)
      records += static_cast<long>(b.records.size());
    bytes += k.trace_bytes;
    kernels.push_back({{"id", k.id},
                       {"name", k.name},
                       {"grid", {k.grid.x, k.grid.y, k.grid.z}},
                       {"block", {k.block.x, k.block.y, k.block.z}},
                       {"registers", k.registers},
                       {"shared_bytes", k.shared_bytes},
                       {"stream", k.stream},
                       {"traced_block", k.traced_block},
                       {"traced_warps", k.traced_warps},
                       {"traced_instructions", k.instructions.size()},
                       {"memory_blocks", k.memory.size()},
                       {"memory_records", records},
                       {"instruction_mix", mix},
                       {"trace_bytes", k.trace_bytes},
                       {"files", k.files.size()}});
  }
  return {{"dir", app.dir},
          {"format", app.format},
          {"trace_bytes", bytes},
          {"kernels", kernels},
          {"warnings", app.warnings}};
}

std::string render_trace_info(const json& info) {
  report::Table t;
  t.title = fmt::format("{} trace {}: {} kernels, {}", info["format"].get<std::string>(),
                        info["dir"].get<std::string>(), info["kernels"].size(),
                        core::format_quantity(info["trace_bytes"].get<double>(), core::Dimension::size));
  t.headers = {"kernel", "name",         "grid",           "block",      "regs",       "shared",
               "warps",  "instructions", "memory records", "trace size", "top opcodes"};
  t.right_align = {true, false, false, false, true, true, true, true, true, true, false};
  auto dims = [](const json& d) {
    return fmt::format("{}x{}x{}", d[0].get<long>(), d[1].get<long>(), d[2].get<long>());
  };
  for (const auto& k : info["kernels"]) {
    std::vector<std::pair<long, std::string>> mix;
    for (const auto& [op, n] : k["instruction_mix"].items())
      mix.emplace_back(-n.get<long>(), op);
    std::sort(mix.begin(), mix.end());
    std::string top;
    for (std::size_t i = 0; i < std::min<std::size_t>(4, mix.size()); ++i)
      top += fmt::format("{}{} {}", i ? ", " : "", mix[i].second, -mix[i].first);
    t.rows.push_back(
        {std::to_string(k["id"].get<int>()), k["name"].get<std::string>(), dims(k["grid"]), dims(k["block"]),
         std::to_string(k["registers"].get<int>()), std::to_string(k["shared_bytes"].get<long>()),
         std::to_string(k["traced_warps"].get<int>()), std::to_string(k["traced_instructions"].get<long>()),
         std::to_string(k["memory_records"].get<long>()),
         core::format_quantity(k["trace_bytes"].get<double>(), core::Dimension::size), top});
  }
  std::string out = t.render();
  for (const auto& w : info["warnings"])
    out += "warning: " + w.get<std::string>() + "\n";
  return out;
}

std::map<int, PptReport> read_ppt_reports(const std::string& dir) {
  std::map<int, PptReport> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw core::InputError(fmt::format("{}: no such folder", dir));
  const std::regex name(R"(kernel_(\d+)_.*\.out)");
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::smatch match;
    const std::string file = entry.path().filename().string();
    if (!std::regex_match(file, match, name)) continue;
    const int id = std::stoi(match[1].str());
    PptReport report;
    std::ifstream in(entry.path());
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string label = line.substr(0, colon);
      label.erase(0, label.find_first_not_of(" \t*-"));
      std::string value = line.substr(colon + 1);
      value.erase(std::remove(value.begin(), value.end(), ','), value.end());
      const auto start = value.find_first_of("0123456789.-");
      if (start == std::string::npos) continue;  // "kernel name: Kernel", "- Occupancy of SM-0:"
      char* end = nullptr;
      const double v = std::strtod(value.c_str() + start, &end);
      if (end == value.c_str() + start)
        throw core::InputError(
            fmt::format("{}:{}: error: expected a number after '{}:'", entry.path().string(), number, label));
      report[label] = v;
    }
    out[id] = std::move(report);
  }
  return out;
}

json compare_with_ppt(const AppPrediction& p, const std::map<int, PptReport>& reports) {
  json rows = json::array();
  auto get = [](const PptReport& r, std::string_view key) -> std::optional<double> {
    auto it = r.find(key);
    return it == r.end() ? std::nullopt : std::optional<double>(it->second);
  };
  for (const auto& k : p.kernels) {
    auto found = reports.find(k.id);
    if (found == reports.end()) continue;
    const PptReport& r = found->second;
    const MemoryStats& m = k.memory;
    auto add = [&](const char* field, std::string_view ppt_key, double whatif, const char* kind,
                   const char* note) {
      auto ppt = get(r, ppt_key);
      if (!ppt) return;
      json row{{"kernel", k.id}, {"field", field}, {"whatif", whatif}, {"ppt_gpu", *ppt}, {"kind", kind}};
      // Counts and rates differ in their own units; other figures relatively.
      if (std::string_view(kind) == "relative")
        row["difference"] = *ppt != 0 ? (whatif - *ppt) / *ppt : 0.0;
      else
        row["difference"] = whatif - *ppt;
      if (*note) row["note"] = note;
      rows.push_back(row);
    };
    add("limit: blocks per SM", "Thread block Limit SM", k.occupancy.limit_blocks, "exact", "");
    add("limit: registers", "Thread block limit registers", k.occupancy.limit_registers, "exact", "");
    add("limit: shared memory", "Thread block limit shared memory", k.occupancy.limit_shared, "exact", "");
    add("limit: warps", "Thread block limit warps", k.occupancy.limit_warps, "exact", "");
    add("theoretical occupancy %", "theoretical occupancy", 100 * k.occupancy.theoretical, "exact", "");
    add("read requests", "GMEM read requests", static_cast<double>(m.read_requests), "exact", "");
    add("write requests", "GMEM write requests", static_cast<double>(m.write_requests), "exact", "");
    add("read transactions", "GMEM read transactions", static_cast<double>(m.read_transactions), "exact", "");
    add("write transactions", "GMEM write transactions", static_cast<double>(m.write_transactions), "exact",
        "");
    add("L1 hit % (all)", "unified L1 cache hit rate", 100 * m.l1_hit, "percentage points",
        "whatif: hits / accesses over all SMs, exact binomial set-associative formula");
    add("L1 hit % (all), mean over SMs", "unified L1 cache hit rate", 100 * m.sm_mean_l1_hit,
        "percentage points", "the SMs' rates averaged, as PPT-GPU does; exact formula");
    add("L1 hit % (all), PPT-GPU's formula", "unified L1 cache hit rate", 100 * m.ppt_l1_hit,
        "percentage points", "averaged over SMs and through PPT-GPU's normal approximation");
    add("L1 hit % (reads)", "unified L1 cache hit rate for read transactions (global memory accesses)",
        100 * m.l1_read_hit, "percentage points", "");
    add("L1 hit % (reads), mean over SMs",
        "unified L1 cache hit rate for read transactions (global memory accesses)",
        100 * m.sm_mean_l1_read_hit, "percentage points", "");
    add("L1 hit % (reads), PPT-GPU's formula",
        "unified L1 cache hit rate for read transactions (global memory accesses)", 100 * m.ppt_l1_read_hit,
        "percentage points", "");
    add("L2 hit %", "L2 cache hit rate", 100 * m.l2_hit, "percentage points", "");
    add("L2 hit %, PPT-GPU's formula", "L2 cache hit rate", 100 * m.ppt_l2_hit, "percentage points", "");
    add("L2 read transactions", "L2 read transactions", m.l2_read_transactions, "relative",
        "read transactions x (1 - L1 read hit): follows the hit rate");
    add("DRAM transactions", "DRAM total transactions", m.dram_transactions, "relative",
        "L2 transactions x (1 - L2 hit): follows the hit rate");
    add("warp instructions", "Warp instructions executed", static_cast<double>(k.warp_instructions), "exact",
        "");
    // PPT-GPU's "max" cycles add the simulated active cycles to the last block's end, which already
    // includes them: the run counted twice. Its "min" (launch overhead + last block's end) counts it once, so
    // that is the figure to compare; its time is then cycles x SMs / clock, undone here as cycles / clock.
    add("cycles (busiest SM) vs PPT-GPU's min", "GPU active cycles (min)", k.cycles, "relative",
        "PPT-GPU's 'max' counts its run twice; its 'min' is the run once");
    if (auto c = get(r, "GPU active cycles (min)"); c && k.cycles > 0 && k.seconds > 0) {
      const double clock = k.cycles / k.seconds;
      rows.push_back({{"kernel", k.id},
                      {"field", "time (us), PPT-GPU's min cycles / clock"},
                      {"whatif", k.seconds * 1e6},
                      {"ppt_gpu", *c / clock * 1e6},
                      {"kind", "relative"},
                      {"difference", (k.cycles - *c) / *c}});
    }
  }
  return {{"gpu", p.gpu}, {"rows", rows}};
}

std::string render_ppt_comparison(const json& comparison) {
  report::Table t;
  t.title = fmt::format("whatif on {} against PPT-GPU's own reports", comparison["gpu"].get<std::string>());
  t.headers = {"kernel", "field", "whatif", "PPT-GPU", "difference"};
  t.right_align = {true, false, true, true, true};
  int exact = 0, equal = 0;
  for (const auto& r : comparison["rows"]) {
    const std::string kind = r["kind"].get<std::string>();
    const double d = r["difference"].get<double>();
    std::string diff = kind == "exact" ? (std::abs(d) < 1e-9 ? "equal" : fmt::format("{:+g}", d))
                       : kind == "percentage points" ? fmt::format("{:+.2f} pp", d)
                                                     : fmt::format("{:+.1f} %", 100 * d);
    if (kind == "exact") ++exact, equal += std::abs(d) < 1e-9;
    t.rows.push_back({std::to_string(r["kernel"].get<int>()), r["field"].get<std::string>(),
                      fmt::format("{:.6g}", r["whatif"].get<double>()),
                      fmt::format("{:.6g}", r["ppt_gpu"].get<double>()), diff});
  }
  return t.render() + fmt::format("{} of {} counts equal PPT-GPU's\n", equal, exact);
}

}  // namespace whatif::gpu
