// `whatif calibrate run|fit|validate`. The CUDA side is a separate program, whatif-calib-cuda
// (src/calib/cuda/), built when nvcc is found, so whatif itself never needs a GPU or the CUDA runtime.
#include "cli/calibrate_commands.hpp"

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "calib/fit.hpp"
#include "cli/cli.hpp"
#include "core/diagnostics.hpp"
#include "platform/catalog.hpp"
#include "report/folder.hpp"
#include "report/json.hpp"

namespace whatif::cli {

namespace fs = std::filesystem;

namespace {

constexpr int kBadInput = 2;

// whatif-calib-cuda: $WHATIF_CALIB_CUDA, else beside this executable (installed) or in its build tree.
std::optional<std::string> cuda_program() {
  if (const char* env = std::getenv("WHATIF_CALIB_CUDA")) {
    if (access(env, X_OK) != 0)
      throw core::InputError(fmt::format("calibrate: WHATIF_CALIB_CUDA={}: not an executable file", env));
    return std::string(env);
  }
  std::error_code ec;
  const fs::path self = fs::path(self_executable()).parent_path();
  for (const fs::path& p :
       {self / "whatif-calib-cuda", self / "src" / "calib" / "cuda" / "whatif-calib-cuda"})
    if (fs::is_regular_file(p, ec)) return p.string();
  return std::nullopt;
}

// Runs whatif-calib-cuda with `args`; its stderr (progress, errors) passes through. Returns its exit code.
int run_cuda_program(const std::vector<std::string>& args) {
  auto program = cuda_program();
  if (!program)
    throw core::InputError(
        "calibrate: this whatif was built without CUDA (whatif-calib-cuda was not built: nvcc was not "
        "found, or -Dcuda=disabled); install the CUDA toolkit and rebuild with -Dcuda=enabled");
  std::vector<std::string> words = {*program};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& w : words)
    argv.push_back(w.data());
  argv.push_back(nullptr);
  std::cout.flush();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("calibrate: cannot start whatif-calib-cuda");
  if (pid == 0) {
    dup2(2, 1);  // the program's stdout (its JSON goes to -o) joins the progress on stderr
    execv(argv[0], argv.data());
    const std::string msg = fmt::format("calibrate: cannot run {}: {}\n", argv[0], std::strerror(errno));
    (void)!write(2, msg.data(), msg.size());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 1;
}

// The catalog model of the measured device: same SM count, closest memory size.
platform::GpuModel model_for_device(const calib::Measurements& m) {
  core::Diagnostics diag;
  const std::string dir = platform::find_models_dir(".");
  platform::Catalog catalog = platform::Catalog::load(dir, diag);
  const platform::GpuModel* best = nullptr;
  for (const auto& name : catalog.gpu_names()) {
    const platform::GpuModel* g = catalog.gpu(name);
    if (static_cast<int>(g->sm_count.value) != m.from.device.sm_count) continue;
    if (!best || std::fabs(g->memory_size.value - m.from.device.memory_bytes) <
                     std::fabs(best->memory_size.value - m.from.device.memory_bytes))
      best = g;
  }
  if (!best)
    throw core::InputError(fmt::format("calibrate: no catalog GPU in {} has the {} SMs of {}: give --base",
                                       dir, m.from.device.sm_count, m.from.device.name));
  return *best;
}

std::string slug(std::string s) {
  for (char& c : s)
    c = std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '-';
  return s;
}

// Fits, writes the model file and prints what was fitted; returns the model file.
std::string fit_and_write(const calib::Measurements& m, const platform::GpuModel& base,
                          const std::string& name, const std::string& out) {
  calib::Fit fit = calib::fit_measurements(m, base);
  const std::string yaml = calib::calibrated_model_yaml(m, fit, base, name);
  const fs::path parent = fs::path(out).parent_path();
  report::ResultsFolder(parent.empty() ? "." : parent.string())
      .write_text(fs::path(out).filename().string(), yaml);
  platform::load_gpu_model_file(out);  // what we wrote must load
  std::cout << fmt::format("calibrated model '{}' (base {}) from {} on {}: {}\n", name, base.name,
                           m.from.file, m.from.device.name, out);
  if (fit.memory_efficiency)
    std::cout << fmt::format(
        "  DRAM: {:.4g} GB/s = {:.1f} % of the datasheet's, fit RMS error {:.2f} % over {} "
        "sizes\n",
        fit.dram_bandwidth / 1e9, 100 * fit.memory_efficiency->value, 100 * fit.dram_rms_error,
        fit.dram_points);
  if (fit.kernel_overhead)
    std::cout << fmt::format("  kernel overhead: {}\n",
                             core::format_quantity(fit.kernel_overhead->value, core::Dimension::time));
  if (fit.gemm_plateau)
    std::cout << fmt::format(
        "  GEMM: plateau {:.3f}, tile {}x{}, k_overhead {}, fit RMS error {:.2f} % over {} "
        "shapes\n",
        fit.gemm_plateau->value, fit.gemm_tile_m->value, fit.gemm_tile_n->value, fit.gemm_k_overhead->value,
        100 * fit.gemm_rms_error, fit.gemm_points);
  for (const auto& [k, v] : fit.peaks)
    std::cout << fmt::format("  peak {}: {:.4g} Tflop/s\n", k, v.value / 1e12);
  for (const auto& [k, v] : fit.latency)
    std::cout << fmt::format("  latency {}: {} cycles\n", k, v.value);
  for (const auto& [k, v] : fit.instruction_latency)
    std::cout << fmt::format("  instruction latency {}: {} cycles\n", k, v.value);
  for (const auto& note : fit.notes)
    std::cout << "  note: " << note << "\n";
  return out;
}

}  // namespace

void CalibrateCommands::add_to(CLI::App& app) {
  CLI::App* cal = app.add_subcommand("calibrate", "Calibrate GPU models with whatif's CUDA microbenchmarks");
  cal->require_subcommand(1);
  run_ = cal->add_subcommand("run", "Run the microbenchmarks on a GPU; write measurements.json and a model");
  run_->add_option("--device", device_, "CUDA device index (default 0)")->check(CLI::NonNegativeNumber);
  run_->add_option("-o,--out", out_, "Output folder")->required();
  run_->add_option("--base", base_,
                   "Base GPU model file (default: the catalog GPU with the device's SM count)");
  run_->add_option("--name", name_, "Name of the calibrated model (default: <base name>-measured)");
  run_->add_flag("--quick", quick_, "Fewer sizes and repetitions (a smoke run)");
  fit_ = cal->add_subcommand("fit", "Fit a GPU model from recorded measurements (offline, no GPU needed)");
  fit_->add_option("measurements", measurements_, "measurements.json of whatif-calib-cuda")->required();
  fit_->add_option("--base", base_, "Base GPU model file (models/gpus/X.yaml)")->required();
  fit_->add_option("-o,--out", out_, "Calibrated model file to write")->required();
  fit_->add_option("--name", name_, "Name of the calibrated model (default: <base name>-measured)");
  validate_ =
      cal->add_subcommand("validate", "Predict real kernels with a GPU model and compare with measurement");
  validate_->add_option("--gpu", gpu_, "GPU model file")->required();
  validate_->add_option("--device", device_, "CUDA device index (default 0)")->check(CLI::NonNegativeNumber);
  validate_->add_option("--times", times_,
                        "Recorded kernel times (whatif-kernel-times/1) instead of a GPU run");
  validate_->add_flag("--json", json_, "Print JSON");
}

std::optional<int> CalibrateCommands::execute() {
  if (run_->parsed()) return run();
  if (fit_->parsed()) return fit();
  if (validate_->parsed()) return validate();
  return std::nullopt;
}

int CalibrateCommands::run() {
  fs::create_directories(out_);
  const std::string file = (fs::path(out_) / "measurements.json").string();
  std::vector<std::string> args = {"run", "--device", std::to_string(device_), "-o", file};
  if (quick_) args.push_back("--quick");
  if (int code = run_cuda_program(args); code != 0) return code == kBadInput ? kBadInput : 1;
  const calib::Measurements m = calib::load_measurements(file);
  const platform::GpuModel base = base_.empty() ? model_for_device(m) : platform::load_gpu_model_file(base_);
  const std::string name = name_.value_or(base.name + "-measured");
  fit_and_write(m, base, name, (fs::path(out_) / (slug(name) + ".yaml")).string());
  return 0;
}

int CalibrateCommands::fit() {
  const calib::Measurements m = calib::load_measurements(measurements_);
  const platform::GpuModel base = platform::load_gpu_model_file(base_);
  fit_and_write(m, base, name_.value_or(base.name + "-measured"), out_);
  return 0;
}

int CalibrateCommands::validate() {
  const platform::GpuModel gpu = platform::load_gpu_model_file(gpu_);
  std::string file;
  if (times_) {
    file = *times_;
  } else {
    char tmpl[] = "/tmp/whatif-calibrate-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("cannot make a scratch folder");
    file = (fs::path(tmpl) / "kernel-times.json").string();
    if (int code = run_cuda_program({"validate", "--device", std::to_string(device_), "-o", file}); code != 0)
      return code == kBadInput ? kBadInput : 1;
  }
  const calib::KernelTimes times = calib::load_kernel_times(file);
  std::error_code ec;
  if (!times_) fs::remove_all(fs::path(file).parent_path(), ec);  // the scratch folder of the GPU run
  const calib::Validation v = calib::validate_kernels(times, gpu);
  std::cout << (json_ ? report::json_text(calib::validation_json(v)) : calib::render_validation(v));
  return 0;
}

}  // namespace whatif::cli
