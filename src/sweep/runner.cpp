// Child processes for sweep points, the local scheduler and its progress display.
#include "sweep/runner.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include "core/diagnostics.hpp"
#include "core/yaml.hpp"

namespace whatif::sweep {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// A child's captured output ("" when it left none).
std::string read_output(const std::string& path) {
  core::Diagnostics ignored;
  return core::read_text_file(path, ignored).value_or("");
}

// Memory a process holds on its own, in bytes: its resident set less the pages it shares (libraries, and a
// forked child's untouched copy of its parent). Reads the cheap statm first and walks smaps_rollup only when
// the whole resident set is over `limit`. 0 when it cannot be read.
double own_memory_bytes(pid_t pid, double limit) {
  std::ifstream statm(fmt::format("/proc/{}/statm", pid));
  long long size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  const double rss = static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
  if (rss <= limit) return rss;
  std::ifstream rollup(fmt::format("/proc/{}/smaps_rollup", pid));
  std::string line;
  double own_kib = 0;
  bool found = false;
  while (std::getline(rollup, line))
    if (line.rfind("Private_Clean:", 0) == 0 || line.rfind("Private_Dirty:", 0) == 0) {
      own_kib += std::strtod(line.c_str() + line.find(':') + 1, nullptr);
      found = true;
    }
  return found ? own_kib * 1024 : rss;
}

// Starts a child with stdout and stderr to files that dies with its parent: a fork that calls `run_in_child`
// with argv[1:] when it is set, else a fork that execs `argv`.
pid_t spawn(const std::vector<std::string>& argv, const std::string& out, const std::string& err,
            const std::function<int(const std::vector<std::string>&)>& run_in_child = {}) {
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = getpid();
  std::cout.flush();  // a forked copy would write the parent's buffered output again
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(fmt::format("cannot start a point: fork: {}", std::strerror(errno)));
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);  // the pool blocks SIGCHLD to wait for it
    std::signal(SIGINT, SIG_DFL);              // and the sweep catches these (exec would reset them)
    std::signal(SIGTERM, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || e < 0) _exit(127);
    dup2(o, 1);
    dup2(e, 2);
    close(o);
    close(e);
    if (run_in_child) {
      int code = 1;
      try {
        code = run_in_child(std::vector<std::string>(argv.begin() + 1, argv.end()));
      } catch (const std::exception& ex) {
        std::cerr << "error: " << ex.what() << "\n";
      }
      std::cout.flush();
      std::cerr.flush();
      std::fflush(nullptr);
      _exit(code);  // never the parent's destructors or atexit handlers (its database connection)
    }
    execv(args[0], args.data());
    dprintf(2, "error: cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  return pid;
}

// The last lines of a failed point's stderr: its error message.
std::string error_text(const std::string& err) {
  std::string s = err;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
    s.pop_back();
  if (s.size() > 2000) s = "..." + s.substr(s.size() - 2000);
  return s;
}

sigset_t sigchld_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  return set;
}

volatile std::sig_atomic_t g_interrupted = 0;
void on_signal(int) {
  g_interrupted = 1;
}

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  auto t = static_cast<long long>(s + 0.5);
  return t >= 3600 ? fmt::format("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)
                   : fmt::format("{}:{:02}", t / 60, t % 60);
}

}  // namespace

struct PointPool::Child {
  pid_t pid = 0;
  Point point;
  Clock::time_point started;
  std::string out, err;
  std::string killed;  // why the pool killed it
};

PointPool::PointPool(const SweepSpec& spec, const RunSettings& settings)
    : spec_(spec),
      settings_(settings),
      timeout_(settings.timeout.value_or(spec.point_timeout)),
      memory_(settings.memory.value_or(spec.point_memory)) {
  // Children's ends arrive as SIGCHLD, taken with sigtimedwait: no polling between them.
  const sigset_t chld = sigchld_set();
  sigprocmask(SIG_BLOCK, &chld, nullptr);
  char tmpl[] = "/tmp/whatif-sweep-XXXXXX";
  if (!mkdtemp(tmpl))
    throw std::runtime_error(fmt::format("cannot make a scratch folder: {}", std::strerror(errno)));
  scratch_ = tmpl;
}

PointPool::~PointPool() {
  kill_all();
  std::error_code ec;
  fs::remove_all(scratch_, ec);
}

std::size_t PointPool::running() const {
  return children_.size();
}

void PointPool::start(const Point& point) {
  Child c;
  c.point = point;
  std::string stem = fmt::format("{}/{}", scratch_, point.key);
  c.out = stem + ".out";
  c.err = stem + ".err";
  // Results folders only when kept: the metrics come from the summary the point prints.
  std::vector<std::string> argv = {settings_.executable,      "run", spec_.experiment, "--json", "--seed",
                                   std::to_string(point.seed)};
  if (settings_.keep_results) {
    argv.push_back("-o");
    argv.push_back(
        (fs::path(*settings_.keep_results) / spec_.name / fmt::format("{}-{}", point.index, point.repetition))
            .string());
  } else {
    argv.push_back("--no-files");
  }
  for (const auto& a : assignments(spec_, point)) {
    argv.push_back("--set");
    argv.push_back(a);
  }
  for (const auto& a : settings_.simgrid_args)
    argv.push_back(a);
  c.started = Clock::now();
  c.pid = spawn(argv, c.out, c.err, settings_.run_in_child);
  children_.push_back(std::move(c));
}

void PointPool::kill_all() {
  for (auto& c : children_) {
    kill(c.pid, SIGKILL);
    waitpid(c.pid, nullptr, 0);
  }
  children_.clear();
}

std::vector<std::pair<Point, PointResult>> PointPool::collect(double max_wait) {
  std::vector<std::pair<Point, PointResult>> ended;
  const auto begin = Clock::now();
  auto last_check = Clock::time_point{};
  for (;;) {
    for (std::size_t i = 0; i < children_.size();) {
      Child& c = children_[i];
      int status = 0;
      pid_t r = waitpid(c.pid, &status, WNOHANG);
      if (r == 0) {
        ++i;
        continue;
      }
      PointResult res;
      res.wall_s = seconds_since(c.started);
      std::string out = read_output(c.out), err = read_output(c.err);
      if (!c.killed.empty()) {
        res.status = "failed";
        res.error = c.killed;
      } else if (r > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        try {
          nlohmann::json summary = nlohmann::json::parse(out);
          res.metrics = flatten_metrics(summary.value("metrics", nlohmann::json::object()));
          res.status = "done";
        } catch (const nlohmann::json::exception& e) {
          res.status = "failed";
          res.error = fmt::format("the point's summary is not JSON: {}", e.what());
        }
      } else {
        res.status = "failed";
        std::string how = r < 0                 ? std::string("lost")
                          : WIFEXITED(status)   ? fmt::format("exit code {}", WEXITSTATUS(status))
                          : WIFSIGNALED(status) ? fmt::format("killed by signal {}", WTERMSIG(status))
                                                : std::string("ended");
        res.error = fmt::format("{}: {}", how, error_text(err));
      }
      std::error_code ec;
      fs::remove(c.out, ec);
      fs::remove(c.err, ec);
      ended.emplace_back(std::move(c.point), std::move(res));
      children_.erase(children_.begin() + static_cast<std::ptrdiff_t>(i));
    }
    if (!ended.empty() || children_.empty() || seconds_since(begin) >= max_wait || g_interrupted)
      return ended;
    // Limits, every 50 ms.
    if (seconds_since(last_check) >= 0.05) {
      last_check = Clock::now();
      for (auto& c : children_) {
        if (!c.killed.empty()) continue;
        if (seconds_since(c.started) > timeout_) {
          c.killed = fmt::format("time limit: still running after {} s", timeout_);
          kill(c.pid, SIGKILL);
        } else if (memory_ > 0) {
          double rss = own_memory_bytes(c.pid, memory_);
          if (rss > memory_) {
            c.killed = fmt::format("memory limit: resident memory of its own {:.0f} MiB exceeds {:.0f} MiB",
                                   rss / 1048576, memory_ / 1048576);
            kill(c.pid, SIGKILL);
          }
        }
      }
    }
    // Sleep until a child ends, at most until the next limit check.
    const sigset_t chld = sigchld_set();
    const double left = std::max(0.0, std::min(0.05, max_wait - seconds_since(begin)));
    timespec ts{static_cast<time_t>(left), static_cast<long>((left - std::floor(left)) * 1e9)};
    sigtimedwait(&chld, nullptr, &ts);
  }
}

double run_bare(const std::string& executable, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {executable};
  argv.insert(argv.end(), args.begin(), args.end());
  auto t0 = Clock::now();
  pid_t pid = spawn(argv, "/dev/null", "/dev/null");
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error(fmt::format("the baseline run failed: {}", fmt::join(argv, " ")));
  return seconds_since(t0);
}

namespace {

double control_loop(long iterations) {
  volatile double x = 1;
  for (long k = 0; k < iterations; ++k)
    x = x * 1.0000001 + 1e-9;
  return x;
}

}  // namespace

double control_loop_rate() {
  const long n = 20'000'000;
  const auto t0 = Clock::now();
  control_loop(n);
  return static_cast<double>(n) / seconds_since(t0);
}

double fork_control(std::size_t children, int jobs, int pages, long iterations) {
  const auto t0 = Clock::now();
  std::size_t started = 0, running = 0;
  while (started < children || running > 0) {
    while (started < children && running < static_cast<std::size_t>(jobs)) {
      std::fflush(nullptr);
      const pid_t pid = fork();
      if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
      if (pid == 0) {
        const std::size_t bytes = static_cast<std::size_t>(pages) * 4096;
        auto* p = static_cast<volatile char*>(std::malloc(bytes));
        for (std::size_t i = 0; p && i < bytes; i += 4096)
          p[i] = 1;
        control_loop(iterations);
        _exit(0);
      }
      ++started;
      ++running;
    }
    if (waitpid(-1, nullptr, 0) > 0) --running;
  }
  return seconds_since(t0);
}

namespace {

class Progress {
 public:
  Progress(RunSettings::Progress mode, std::uint64_t total) : total_(total), t0_(Clock::now()) {
    if (mode == RunSettings::Progress::automatic)
      mode = isatty(STDOUT_FILENO) ? RunSettings::Progress::bar : RunSettings::Progress::lines;
    mode_ = mode;
  }
  void update(std::uint64_t done, std::uint64_t failed, bool last = false) {
    if (mode_ == RunSettings::Progress::quiet) return;
    const std::uint64_t finished = done + failed;
    const double elapsed = seconds_since(t0_);
    const double rate = elapsed > 0 ? static_cast<double>(finished) / elapsed : 0;
    const double eta = rate > 0 ? static_cast<double>(total_ - finished) / rate : NAN;
    if (mode_ == RunSettings::Progress::bar) {
      const int width = 30;
      int filled = total_
                       ? static_cast<int>(width * static_cast<double>(finished) / static_cast<double>(total_))
                       : width;
      std::cout << fmt::format("\r[{}{}] {}/{} done, {} failed, {:.1f} points/s, ETA {}   ",
                               std::string(filled, '#'), std::string(width - filled, '.'), done, total_,
                               failed, rate, format_duration(eta))
                << (last ? "\n" : "") << std::flush;
      return;
    }
    // Plain lines for logs: every 10 s, and at the end.
    if (!last && seconds_since(last_line_) < 10) return;
    last_line_ = Clock::now();
    std::cout << fmt::format("progress: {}/{} points done, {} failed, {:.2f} points/s, elapsed {}, ETA {}\n",
                             done, total_, failed, rate, format_duration(elapsed),
                             last ? "0:00" : format_duration(eta))
              << std::flush;
  }

 private:
  RunSettings::Progress mode_;
  std::uint64_t total_;
  Clock::time_point t0_, last_line_ = Clock::now();
};

}  // namespace

std::string host_name() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

// Points to run now: not done yet (failed ones only on request), at most `limit`.
std::vector<const Point*> pending_points(Store& store, std::int64_t sweep, const std::vector<Point>& points,
                                         const RunSettings& settings, std::uint64_t& skipped) {
  auto statuses = store.statuses(sweep);
  std::vector<const Point*> todo;
  skipped = 0;
  for (const auto& p : points) {
    auto it = statuses.find(p.key);
    if (it != statuses.end() &&
        (it->second == "done" || (it->second == "failed" && !settings.retry_failed))) {
      ++skipped;
      continue;
    }
    if (settings.limit && todo.size() >= *settings.limit) continue;
    todo.push_back(&p);
  }
  return todo;
}

SweepOutcome run_sweep(const SweepSpec& spec, const std::vector<Point>& points, const RunSettings& settings) {
  Store store(settings.db);
  const std::int64_t sweep = store.open_sweep(spec, points.size());
  SweepOutcome outcome;
  outcome.planned = points.size();
  std::vector<const Point*> todo = pending_points(store, sweep, points, settings, outcome.skipped);
  const auto t0 = Clock::now();
  const std::string host = host_name();
  g_interrupted = 0;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  struct sigaction old_int {
  }, old_term{};
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);

  Progress progress(settings.progress, todo.size());
  PointPool pool(spec, settings);
  std::size_t next = 0;
  const std::size_t jobs = static_cast<std::size_t>(std::max(1, settings.jobs));
  while ((next < todo.size() || pool.running() > 0) && !g_interrupted) {
    while (next < todo.size() && pool.running() < jobs) {
      store.mark_running(sweep, spec, *todo[next], host);
      pool.start(*todo[next]);
      ++next;
    }
    for (auto& [point, result] : pool.collect(1.0)) {
      result.host = host;
      store.record(sweep, spec, point, result);
      ++outcome.ran;
      (result.status == "done" ? outcome.done : outcome.failed)++;
    }
    progress.update(outcome.done, outcome.failed);
  }
  progress.update(outcome.done, outcome.failed, true);
  pool.kill_all();
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  outcome.wall_s = seconds_since(t0);
  if (g_interrupted)
    throw std::runtime_error("interrupted: the points in flight run again when the same command resumes");
  return outcome;
}

}  // namespace whatif::sweep
