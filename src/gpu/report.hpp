// Reports of the kernel model: tables, JSON, trace summaries, and the comparison with PPT-GPU's own outputs.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "gpu/model.hpp"
#include "report/table.hpp"

namespace whatif::gpu {

nlohmann::json prediction_json(const AppPrediction& p);
report::Table kernel_table(const AppPrediction& p);
report::Table stall_table(const AppPrediction& p);
std::string render_prediction(const AppPrediction& p);

// `whatif gpu info`: kernels, launch shapes, instruction mix (by base opcode), trace sizes.
nlohmann::json trace_info_json(const TraceApplication& app);
std::string render_trace_info(const nlohmann::json& info);

// PPT-GPU's report for one kernel (`ppt.py` output, e.g. reference-outputs/kernel_1_SASS_g2.out): every
// "label: number" line, keyed by its label ("Thread block limit registers", "GMEM read requests", ...).
using PptReport = std::map<std::string, double, std::less<>>;
// Reads DIR/kernel_<k>_*.out for every kernel that has one. Throws core::InputError naming the file and line
// when a report has no number where one is expected.
std::map<int, PptReport> read_ppt_reports(const std::string& dir);

// Prediction against PPT-GPU's reports, field by field: the same counts (occupancy limits, requests,
// transactions) must be equal; hit rates are compared in percentage points; cycles after undoing PPT-GPU's
// documented defects. Each row says how far off whatif is and why where they differ by design.
nlohmann::json compare_with_ppt(const AppPrediction& p, const std::map<int, PptReport>& reports);
std::string render_ppt_comparison(const nlohmann::json& comparison);

}  // namespace whatif::gpu
