// Trace folder dispatch (PPT-GPU or Accel-Sim, told from the files present) and the readers' shared helpers.
#include "gpu/trace.hpp"

#include "gpu/readers.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace whatif::gpu {
namespace detail {
namespace fs = std::filesystem;
using core::InputError;
using core::Location;

namespace {
constexpr size_t kInitialBuffer = 128 * 1024;
// A longer "line" is not a trace line; refusing it bounds memory on a binary file given by mistake.
constexpr size_t kMaxLine = 64u * 1024 * 1024;

// Single-quoted for sh, so that any file name reaches xz unchanged.
std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}
}  // namespace

LineReader::LineReader(std::string path) : path_(std::move(path)) {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0)
    throw InputError(Location{path_, 0, 0}, errno == ENOENT ? "no such file" : std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw InputError(Location{path_, 0, 0}, "not a regular file");
  bytes_ = static_cast<long>(st.st_size);
  if (path_.ends_with(".xz")) {
    // stderr is silenced so that xz's own words do not interleave with ours; its exit status is reported.
    const std::string cmd = "exec xz -dc -- " + shell_quote(path_) + " 2>/dev/null";
    file_ = popen(cmd.c_str(), "r");
    pipe_ = true;
    if (!file_)
      throw InputError(Location{path_, 0, 0}, fmt::format("cannot run xz: {}", std::strerror(errno)));
  } else {
    file_ = std::fopen(path_.c_str(), "rb");
    if (!file_) throw InputError(Location{path_, 0, 0}, fmt::format("cannot open: {}", std::strerror(errno)));
  }
  // A small file needs no more than itself (+1 so that its end is seen without a second allocation).
  size_ = pipe_ ? kInitialBuffer : std::clamp<size_t>(static_cast<size_t>(bytes_) + 1, 256, kInitialBuffer);
  buf_ = std::make_unique_for_overwrite<char[]>(size_ + 1);  // + the sentinel
}

LineReader::~LineReader() {
  if (!file_) return;
  if (pipe_)
    pclose(file_);  // a child still writing gets SIGPIPE once the read end closes, so this does not block
  else
    std::fclose(file_);
}

void LineReader::finish() {
  if (!file_) return;
  FILE* f = file_;
  file_ = nullptr;
  if (!pipe_) {
    const bool bad = std::ferror(f);
    std::fclose(f);
    if (bad) throw InputError(Location{path_, 0, 0}, "read error");
    return;
  }
  const int status = pclose(f);
  if (status == -1)
    throw InputError(Location{path_, 0, 0}, fmt::format("cannot decompress: {}", std::strerror(errno)));
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    throw InputError(Location{path_, 0, 0},
                     "cannot decompress: the xz program was not found (install xz-utils)");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw InputError(Location{path_, 0, 0},
                     fmt::format("cannot decompress: xz failed (status {}); the file is corrupt or truncated",
                                 WIFEXITED(status) ? WEXITSTATUS(status) : status));
}

bool LineReader::next(std::string_view& line) {
  for (;;) {
    if (begin_ < end_) {
      const char* b = buf_.get() + begin_;
      const size_t avail = end_ - begin_;
      const char* nl = static_cast<const char*>(std::memchr(b, '\n', avail));
      if (nl || eof_) {
        size_t len = nl ? static_cast<size_t>(nl - b) : avail;
        begin_ += nl ? len + 1 : len;
        if (len > 0 && b[len - 1] == '\r') --len;
        ++line_;
        current_ = line = std::string_view(b, len);
        return true;
      }
    } else if (eof_) {
      current_ = line = {};
      return false;
    }
    // Keep the partial line, then refill behind it.
    if (begin_ > 0) {
      std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (end_ == size_) {
      if (size_ >= kMaxLine)
        throw InputError(Location{path_, static_cast<int>(line_ + 1), 1},
                         "line longer than 64 MiB (not a text trace?)");
      auto bigger = std::make_unique_for_overwrite<char[]>(size_ * 2 + 1);
      std::memcpy(bigger.get(), buf_.get(), end_);
      buf_ = std::move(bigger);
      size_ *= 2;
    }
    const size_t n = file_ ? std::fread(buf_.get() + end_, 1, size_ - end_, file_) : 0;
    end_ += n;
    if (n == 0) {
      eof_ = true;
      buf_[end_] = '\n';  // the sentinel after a last line without an end of line
      finish();
    }
  }
}

void LineReader::fail(std::string_view at, const std::string& message) const {
  int column = 1;
  if (at.data() >= current_.data() && at.data() <= current_.data() + current_.size())
    column = static_cast<int>(at.data() - current_.data()) + 1;
  throw InputError(Location{path_, static_cast<int>(line_), column}, message);
}

std::string_view Tokens::next() {
  size_t i = 0;
  while (i < rest_.size() && (rest_[i] == ' ' || rest_[i] == '\t'))
    ++i;
  size_t j = i;
  while (j < rest_.size() && rest_[j] != ' ' && rest_[j] != '\t')
    ++j;
  std::string_view tok = rest_.substr(i, j - i);
  rest_.remove_prefix(j);
  return tok;
}

bool parse_dec(std::string_view s, std::int64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 10);
  return ec == std::errc() && p == s.data() + s.size();
}

bool parse_dec(std::string_view s, std::uint64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 10);
  return ec == std::errc() && p == s.data() + s.size();
}

bool parse_hex(std::string_view s, std::uint64_t& out) {
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  if (s.empty() || s.size() > 16) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    const int d = kHexClass[static_cast<unsigned char>(c)];
    if (d >= kHexEnd) return false;
    v = v << 4 | static_cast<std::uint64_t>(d);
  }
  out = v;
  return true;
}

int parse_register(std::string_view t, Reg& out) {
  if (t.size() < 2) return 0;
  Reg base = 0;
  unsigned limit = 0;
  std::string_view digits;
  if (t[0] == 'R') {
    if (t == "RZ") return out = kZeroReg, 1;
    base = 0, limit = 255, digits = t.substr(1);
  } else if (t[0] == 'P') {
    if (t == "PT") return out = kTruePred, 1;
    base = kPredicate, limit = 7, digits = t.substr(1);
  } else if (t[0] == 'U' && t.size() >= 3 && t[1] == 'R') {
    if (t == "URZ") return out = kUniform + 63, 1;
    base = kUniform, limit = 255, digits = t.substr(2);
  } else if (t[0] == 'U' && t.size() >= 3 && t[1] == 'P') {
    if (t == "UPT") return out = kUniformPredicate + 7, 1;
    base = kUniformPredicate, limit = 7, digits = t.substr(2);
  } else {
    return 0;
  }
  // Anything else that starts like a register ("R-1" from an operand the tracer could not name) is not one.
  for (char c : digits)
    if (c < '0' || c > '9') return 0;
  std::uint64_t n = 0;
  if (!parse_dec(digits, n) || n > limit) return -1;
  out = static_cast<Reg>(base + static_cast<Reg>(n));
  return 1;
}

std::uint32_t OpcodeTable::intern(std::string_view name) {
  if (!last_name_.empty() && name == last_name_) return last_id_;
  auto it = index_.find(name);
  if (it == index_.end()) {
    const auto id = static_cast<std::uint32_t>(names_.size());
    names_.emplace_back(name);
    it = index_.emplace(names_.back(), id).first;
  }
  // The map's key, unlike names_' elements, never moves.
  last_name_ = it->first;
  last_id_ = it->second;
  return last_id_;
}

bool is_memory_trace_opcode(std::string_view opcode) {
  const std::string_view base = opcode.substr(0, opcode.find('.'));
  // REDG is Hopper's spelling of a global reduction (as ATOMG is of a global atomic).
  static constexpr std::string_view kinds[] = {"LDG",  "STG",   "LD",  "ST",   "LDL",   "STL",
                                               "ATOM", "ATOMG", "RED", "REDG", "LDGSTS"};
  return std::find(std::begin(kinds), std::end(kinds), base) != std::end(kinds);
}

std::string shown(std::string_view text) {
  constexpr size_t kMax = 48;
  std::string out;
  for (size_t i = 0; i < text.size() && i < kMax; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f)
      out += static_cast<char>(c);
    else
      out += fmt::format("\\x{:02x}", c);
  }
  if (text.size() > kMax) out += "...";
  return out;
}

std::string id_ranges(const std::vector<int>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size();) {
    size_t j = i;
    while (j + 1 < ids.size() && ids[j + 1] == ids[j] + 1)
      ++j;
    if (!out.empty()) out += ", ";
    out += j == i ? fmt::format("{}", ids[i]) : fmt::format("{}-{}", ids[i], ids[j]);
    i = j + 1;
  }
  return out.empty() ? "none" : out;
}

std::vector<int> select_kernels(const std::string& dir, const std::vector<int>& available,
                                const std::vector<int>& wanted) {
  if (wanted.empty()) return available;
  std::vector<int> out;
  for (int id : wanted) {
    if (!std::binary_search(available.begin(), available.end(), id))
      throw InputError(Location{dir, 0, 0}, fmt::format("kernel {} is not in the trace (it has kernels {})",
                                                        id, id_ranges(available)));
    out.push_back(id);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace detail

TraceApplication read_trace_dir(const std::string& dir, const std::vector<int>& kernel_ids) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw core::InputError(core::Location{dir, 0, 0}, "no such trace folder");
  const bool ppt = fs::is_regular_file(fs::path(dir) / "app_config.py", ec);
  const bool accelsim = fs::is_regular_file(fs::path(dir) / "kernelslist.g", ec);
  if (accelsim) {
    // Accel-Sim traces carry PCs, masks and every block's instructions: the richer of the two wins.
    TraceApplication app = detail::read_accelsim_dir(dir, kernel_ids);
    if (ppt)
      app.warnings.insert(
          app.warnings.begin(),
          fmt::format("{}: warning: both app_config.py (PPT-GPU) and kernelslist.g (Accel-Sim) are "
                      "present; the Accel-Sim trace was read",
                      dir));
    return app;
  }
  if (ppt) return detail::read_ppt_dir(dir, kernel_ids);
  throw core::InputError(
      core::Location{dir, 0, 0},
      "not a trace folder: it holds neither app_config.py (PPT-GPU) nor kernelslist.g (Accel-Sim)");
}

}  // namespace whatif::gpu
