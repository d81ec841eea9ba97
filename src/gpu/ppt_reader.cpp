// PPT-GPU trace folder reader: app_config.py (read as data, never run), sass_traces/ and memory_traces/.
//
// Formats, as PPT-GPU's NVBit tracer writes them (tracing_tool/tracer.cu in NMSU-PEARL/PPT-GPU and forks):
//  - app_config.py: `kernel_<k> = { "key" : value, ... }` per kernel, then `app_kernels_id = [1, 2, ...]`.
//  - sass_traces/kernel_<k>.sass: `<hw_warp_id> <OPCODE.MODS> [operands]` per executed warp instruction
//    of one thread block, all its warps interleaved in arrival order.
//  - memory_traces/kernel_<k>_block_<b>.mem: one record per global/local/generic memory instruction.
//    Layout A (the original tracer): a line `=====` then `OPCODE 0xaddr 0xaddr ...`. Layout B (the
//    ppt-gpu-subcore fork): `OPCODE [warp] addr addr ...` per line, hex without 0x, the warp id only with
//    ENV_TRACING_LEVEL bit 2. Both are accepted, record by record.
#include "gpu/readers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace whatif::gpu::detail {
namespace fs = std::filesystem;
using core::InputError;
using core::Location;

namespace {

// Hardware warp slots are < 64 on every NVIDIA GPU so far; the bound keeps a garbage id from sizing a table.
constexpr std::uint64_t kMaxHardwareWarp = 1u << 16;

// app_config.py: a tiny reader for the Python literals the tracer writes

struct PyToken {
  enum Kind { name, string, number, punct, end } kind = end;
  std::string text;  // strings unquoted
  int line = 0, column = 0;
};

class PyLexer {
 public:
  PyLexer(std::string path, std::string text) : path_(std::move(path)), text_(std::move(text)) {}

  PyToken next() {
    skip_blanks();
    PyToken t;
    t.line = line_;
    t.column = static_cast<int>(pos_ - line_start_) + 1;
    if (pos_ >= text_.size()) return t;
    const char c = text_[pos_];
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = pos_;
      while (j < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[j])) || text_[j] == '_'))
        ++j;
      t.kind = PyToken::name;
      t.text = text_.substr(pos_, j - pos_);
      pos_ = j;
    } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.') {
      size_t j = pos_ + 1;
      while (j < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[j])) || text_[j] == '.' ||
              ((text_[j] == '-' || text_[j] == '+') && (text_[j - 1] == 'e' || text_[j - 1] == 'E'))))
        ++j;
      t.kind = PyToken::number;
      t.text = text_.substr(pos_, j - pos_);
      pos_ = j;
    } else if (c == '"' || c == '\'') {
      size_t j = pos_ + 1;
      std::string s;
      while (j < text_.size() && text_[j] != c && text_[j] != '\n') {
        if (text_[j] == '\\' && j + 1 < text_.size() && text_[j + 1] != '\n') ++j;
        s += text_[j++];
      }
      if (j >= text_.size() || text_[j] != c) fail(t, "unterminated string");
      t.kind = PyToken::string;
      t.text = std::move(s);
      pos_ = j + 1;
    } else if (std::string_view("{}[]():,=").find(c) != std::string_view::npos) {
      t.kind = PyToken::punct;
      t.text = std::string(1, c);
      ++pos_;
    } else {
      fail(t, fmt::format("unexpected character '{}'", printable(c)));
    }
    return t;
  }

  [[noreturn]] void fail(const PyToken& at, const std::string& message) const {
    throw InputError(Location{path_, at.line, at.column}, message);
  }
  const std::string& path() const { return path_; }

 private:
  static std::string printable(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f ? std::string(1, c) : fmt::format("\\x{:02x}", u);
  }
  void skip_blanks() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '\n') {
        ++line_;
        line_start_ = ++pos_;
      } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\\') {
        ++pos_;  // a backslash joins lines in Python; here it is just a blank
      } else if (c == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n')
          ++pos_;
      } else {
        return;
      }
    }
  }

  std::string path_, text_;
  size_t pos_ = 0, line_start_ = 0;
  int line_ = 1;
};

struct PyValue {
  enum Kind { scalar, string, dict, list } kind = scalar;
  PyToken token;                                   // the value itself (scalar, string) or its opening bracket
  std::vector<std::pair<PyToken, PyValue>> items;  // dict
  std::vector<PyValue> elements;                   // list
};

class PyParser {
 public:
  explicit PyParser(PyLexer& lex) : lex_(lex) { advance(); }

  // name = value, ...: every top-level assignment, in file order.
  std::vector<std::pair<PyToken, PyValue>> assignments() {
    std::vector<std::pair<PyToken, PyValue>> out;
    while (tok_.kind != PyToken::end) {
      if (tok_.kind != PyToken::name)
        lex_.fail(tok_, fmt::format("expected 'name = value', got '{}'", shown(tok_.text)));
      PyToken name = tok_;
      advance();
      expect("=", fmt::format("after '{}'", shown(name.text)));
      out.emplace_back(std::move(name), value(0));
    }
    return out;
  }

 private:
  void advance() { tok_ = lex_.next(); }
  bool is(const char* p) const { return tok_.kind == PyToken::punct && tok_.text == p; }
  void expect(const char* p, const std::string& where) {
    if (!is(p))
      lex_.fail(tok_, fmt::format(
                          "expected '{}' {}, got {}", p, where,
                          tok_.kind == PyToken::end ? "the end of the file" : "'" + shown(tok_.text) + "'"));
    advance();
  }

  PyValue value(int depth) {
    // Deep nesting is not something the tracer writes; the bound keeps a hostile file from exhausting the
    // stack.
    if (depth > 64) lex_.fail(tok_, "values nested too deeply");
    PyValue v;
    v.token = tok_;
    if (is("{")) {
      v.kind = PyValue::dict;
      advance();
      while (!is("}")) {
        if (tok_.kind != PyToken::string)
          lex_.fail(tok_, fmt::format("expected a quoted key or '}}', got {}",
                                      tok_.kind == PyToken::end ? "the end of the file"
                                                                : "'" + shown(tok_.text) + "'"));
        PyToken key = tok_;
        advance();
        expect(":", fmt::format("after key \"{}\"", key.text));
        v.items.emplace_back(std::move(key), value(depth + 1));
        if (!is("}")) expect(",", "or '}' after a value");
      }
      advance();
    } else if (is("[") || is("(")) {
      v.kind = PyValue::list;
      const char* close = is("[") ? "]" : ")";
      advance();
      while (!is(close)) {
        v.elements.push_back(value(depth + 1));
        if (!is(close)) expect(",", fmt::format("or '{}' after a list element", close));
      }
      advance();
    } else if (tok_.kind == PyToken::string) {
      v.kind = PyValue::string;
      advance();
    } else if (tok_.kind == PyToken::number || tok_.kind == PyToken::name) {
      v.kind = PyValue::scalar;
      advance();
    } else {
      lex_.fail(tok_, fmt::format("expected a value, got {}", tok_.kind == PyToken::end
                                                                  ? "the end of the file"
                                                                  : "'" + shown(tok_.text) + "'"));
    }
    return v;
  }

  PyLexer& lex_;
  PyToken tok_;
};

struct KernelConfig {
  int id = 0;
  std::string name;
  std::int64_t registers = -1, shared = -1, grid = -1, block = -1, stream = 0;
};

std::int64_t int_value(const PyLexer& lex, const PyValue& v, const std::string& key, std::int64_t lo,
                       std::int64_t hi) {
  std::int64_t n = 0;
  if (v.kind != PyValue::scalar || !parse_dec(v.token.text, n))
    lex.fail(v.token, fmt::format("\"{}\": expected an integer, got '{}'", key, shown(v.token.text)));
  if (n < lo || n > hi) lex.fail(v.token, fmt::format("\"{}\": {} is out of range [{}, {}]", key, n, lo, hi));
  return n;
}

// Reads app_config.py; returns the kernels in app_kernels_id order.
std::vector<KernelConfig> read_app_config(const std::string& path, std::vector<std::string>& warnings) {
  // Read whole (it is small); the bound keeps a wrong file from filling memory.
  std::error_code ec;
  const auto bytes = fs::file_size(path, ec);
  if (!ec && bytes > (64u << 20)) throw InputError(Location{path, 0, 0}, "too large for an app_config.py");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(Location{path, 0, 0}, "cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  PyLexer lex(path, ss.str());
  PyParser parser(lex);

  std::map<int, KernelConfig> dicts;
  std::vector<std::pair<int, PyToken>> listed;
  bool have_list = false;
  for (auto& [name, value] : parser.assignments()) {
    if (name.text == "app_kernels_id") {
      if (value.kind != PyValue::list) lex.fail(value.token, "app_kernels_id: expected a list of kernel ids");
      have_list = true;
      listed.clear();
      for (const auto& e : value.elements)
        listed.emplace_back(static_cast<int>(int_value(lex, e, "app_kernels_id", 1, 1 << 30)), e.token);
      continue;
    }
    std::int64_t id = 0;
    if (name.text.rfind("kernel_", 0) != 0 || !parse_dec(std::string_view(name.text).substr(7), id)) continue;
    if (id < 1 || id > (1 << 30)) lex.fail(name, fmt::format("{}: kernel id out of range", name.text));
    if (value.kind != PyValue::dict)
      lex.fail(value.token, fmt::format("{}: expected a {{ ... }} dict", name.text));
    KernelConfig k;
    k.id = static_cast<int>(id);
    bool has_name = false;
    for (const auto& [key, v] : value.items) {
      const std::string& kk = key.text;
      if (kk == "kernel_name") {
        if (v.kind != PyValue::string) lex.fail(v.token, "\"kernel_name\": expected a quoted name");
        k.name = v.token.text;
        has_name = true;
      } else if (kk == "num_registers") {
        k.registers = int_value(lex, v, kk, 0, 65536);
      } else if (kk == "shared_mem_bytes") {
        k.shared = int_value(lex, v, kk, 0, std::int64_t{1} << 40);
      } else if (kk == "grid_size") {
        k.grid = int_value(lex, v, kk, 1, std::int64_t{1} << 62);
      } else if (kk == "block_size") {
        k.block = int_value(lex, v, kk, 1, std::int64_t{1} << 30);
      } else if (kk == "cuda_stream_id") {
        // The tracer prints the stream handle through an int: any int may appear, only identity matters.
        k.stream = int_value(lex, v, kk, INT32_MIN, INT32_MAX);
      } else {
        warnings.push_back(fmt::format("{}:{}:{}: warning: {}: unknown key \"{}\" ignored", path, key.line,
                                       key.column, name.text, shown(kk)));
      }
    }
    const char* missing = !has_name         ? "kernel_name"
                          : k.registers < 0 ? "num_registers"
                          : k.shared < 0    ? "shared_mem_bytes"
                          : k.grid < 0      ? "grid_size"
                          : k.block < 0     ? "block_size"
                                            : nullptr;
    if (missing) lex.fail(value.token, fmt::format("{}: missing \"{}\"", name.text, missing));
    if (dicts.count(k.id))
      warnings.push_back(fmt::format("{}:{}:{}: warning: {} is assigned twice; the last one counts", path,
                                     name.line, name.column, name.text));
    dicts[k.id] = std::move(k);
  }

  std::vector<KernelConfig> out;
  if (!have_list) {
    // The tracer writes the list when the application exits; a crashed run leaves only the dicts.
    warnings.push_back(
        fmt::format("{}: warning: no app_kernels_id list; every kernel_<k> dict is taken as a kernel", path));
    for (auto& [id, k] : dicts)
      out.push_back(k);
  } else {
    for (const auto& [id, at] : listed) {
      auto it = dicts.find(id);
      if (it == dicts.end())
        lex.fail(at, fmt::format("app_kernels_id lists kernel {} but there is no kernel_{} dict", id, id));
      if (std::any_of(out.begin(), out.end(), [&](const KernelConfig& k) { return k.id == id; }))
        lex.fail(at, fmt::format("app_kernels_id lists kernel {} twice", id));
      out.push_back(it->second);
    }
  }
  if (out.empty()) throw InputError(Location{path, 0, 0}, "no kernels");
  return out;
}

// sass_traces/kernel_<k>.sass

// Maps hardware warp slots to 0.. in order of first appearance.
class WarpNumbering {
 public:
  int get(std::uint64_t hw) {
    if (hw >= map_.size()) map_.resize(hw + 1, -1);
    int& w = map_[hw];
    if (w < 0) w = count_++;
    return w;
  }
  int count() const { return count_; }
  void reset() {
    map_.clear();
    count_ = 0;
  }

 private:
  std::vector<int> map_;
  int count_ = 0;
};

bool is_opcode_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c));
}

// Returns the file's size.
long read_sass(const std::string& path, KernelTrace& k, OpcodeTable& opcodes) {
  LineReader in(path);
  WarpNumbering warps;
  std::string_view line;
  while (in.next(line)) {
    Tokens t(line);
    const std::string_view w = t.next();
    if (w.empty()) continue;
    std::uint64_t hw = 0;
    if (!parse_dec(w, hw)) in.fail(w, fmt::format("expected a warp id, got '{}'", shown(w)));
    if (hw >= kMaxHardwareWarp) in.fail(w, fmt::format("warp id {} out of range", w));
    const std::string_view op = t.next();
    if (op.empty()) in.fail(t.rest(), "missing opcode after the warp id");
    if (!is_opcode_start(op[0])) in.fail(op, fmt::format("expected an opcode, got '{}'", shown(op)));
    Instruction& ins = k.instructions.emplace_back();
    ins.opcode = opcodes.intern(op);
    ins.warp = warps.get(hw);
    for (std::string_view tok = t.next(); !tok.empty(); tok = t.next()) {
      Reg r = 0;
      const int kind = parse_register(tok, r);
      if (kind < 0) in.fail(tok, fmt::format("register '{}' out of range", shown(tok)));
      if (kind > 0) ins.operands.push_back(r);
    }
  }
  k.traced_warps = warps.count();
  return in.file_bytes();
}

// memory_traces/kernel_<k>_block_<b>.mem

// Returns the file's size.
long read_memory(const std::string& path, BlockMemory& bm, OpcodeTable& opcodes) {
  LineReader in(path);
  WarpNumbering warps;
  std::string_view line;
  long separator_line = 0;  // a `=====` still waiting for its record
  // The subcore fork prints the warp id through the same ofstream as the addresses, after `std::hex` was set
  // by the file's first address: warp ids are decimal until then and hex afterwards.
  bool hex_warps = false;
  while (in.next(line)) {
    Tokens t(line);
    const std::string_view op = t.next();
    if (op.empty()) continue;
    if (op == "=====") {
      if (separator_line)
        in.fail(op, fmt::format("'=====' follows the one of line {} with no record between", separator_line));
      separator_line = in.line_number();
      continue;
    }
    if (!is_opcode_start(op[0])) in.fail(op, fmt::format("expected an opcode, got '{}'", shown(op)));
    separator_line = 0;
    MemoryRecord& r = bm.records.emplace_back();
    r.opcode = opcodes.intern(op);
    r.first = static_cast<std::uint32_t>(bm.sectors.size());
    std::string_view tok = t.next();
    // Addresses are 48-bit pointers; a short bare token can only be a warp id (< 64 on every GPU so far).
    if (!tok.empty() && tok.size() <= 2 && tok.find_first_of("xX") == std::string_view::npos) {
      std::uint64_t hw = 0;
      const bool ok = hex_warps ? parse_hex(tok, hw) : parse_dec(tok, hw);
      if (!ok) in.fail(tok, fmt::format("expected a warp id, got '{}'", shown(tok)));
      r.warp = warps.get(hw);
      tok = t.next();
    }
    std::uint32_t lanes = 0;
    const char* end = line.data() + line.size();
    for (const char* p = tok.data(); !tok.empty();) {
      const char* start = p;
      std::uint64_t a = 0;
      if (!scan_hex(p, end, a))
        in.fail(std::string_view(start, p - start),
                fmt::format("expected a hex address, got '{}'", shown(std::string_view(start, p - start))));
      add_sector(bm.sectors, r.first, a);
      ++lanes;
      hex_warps = true;
      while (p < end && (*p == ' ' || *p == '\t'))
        ++p;
      if (p == end) break;
    }
    r.lanes = lanes;
    r.count = static_cast<std::uint32_t>(bm.sectors.size() - r.first);
  }
  if (separator_line)
    throw InputError(Location{path, static_cast<int>(separator_line), 1},
                     "truncated record: '=====' with no record after it");
  return in.file_bytes();
}

// kernel id -> (block, path) of its memory trace files, by increasing block.
std::map<int, std::vector<std::pair<long, std::string>>> list_memory_traces(const std::string& dir) {
  std::map<int, std::vector<std::pair<long, std::string>>> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw InputError(Location{dir, 0, 0}, "no such folder");
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    // kernel_<k>_block_<b>.mem; the fork's SM-level kernel_<k>_sm_<s>.mem files are not per-block traces.
    std::string_view s(name);
    if (s.size() < 11 || s.rfind("kernel_", 0) != 0 || s.substr(s.size() - 4) != ".mem") continue;
    s = s.substr(7, s.size() - 11);
    const size_t sep = s.find("_block_");
    std::int64_t k = 0, b = 0;
    if (sep == std::string_view::npos || !parse_dec(s.substr(0, sep), k) ||
        !parse_dec(s.substr(sep + 7), b) || k < 1 || k > (1 << 30) || b < 0)
      continue;
    out[static_cast<int>(k)].emplace_back(static_cast<long>(b), it->path().string());
  }
  if (ec) throw InputError(Location{dir, 0, 0}, fmt::format("cannot list: {}", ec.message()));
  for (auto& [k, files] : out)
    std::sort(files.begin(), files.end());
  return out;
}

}  // namespace

TraceApplication read_ppt_dir(const std::string& dir, const std::vector<int>& kernel_ids) {
  TraceApplication app;
  app.dir = dir;
  app.format = "ppt-gpu";
  const fs::path root(dir);
  std::vector<KernelConfig> configs = read_app_config((root / "app_config.py").string(), app.warnings);

  std::vector<int> available;
  for (const auto& c : configs)
    available.push_back(c.id);
  std::sort(available.begin(), available.end());
  const std::vector<int> selected = select_kernels(dir, available, kernel_ids);

  const auto memory_files = list_memory_traces((root / "memory_traces").string());
  for (int id : selected) {
    const KernelConfig& c =
        *std::find_if(configs.begin(), configs.end(), [&](const auto& k) { return k.id == id; });
    KernelTrace& k = app.kernels.emplace_back();
    k.id = c.id;
    k.name = c.name;
    k.grid = Dim3{static_cast<long>(c.grid), 1, 1};
    k.block = Dim3{static_cast<long>(c.block), 1, 1};
    k.registers = static_cast<int>(c.registers);
    k.shared_bytes = static_cast<long>(c.shared);
    k.stream = static_cast<int>(c.stream);
    // The tracer keeps the first block it sees, and does not say which one it was.
    k.traced_block = 0;
    OpcodeTable opcodes(k.opcodes);

    const std::string sass = (root / "sass_traces" / fmt::format("kernel_{}.sass", id)).string();
    k.trace_bytes += read_sass(sass, k, opcodes);
    k.files.push_back(sass);

    auto it = memory_files.find(id);
    if (it == memory_files.end()) continue;  // a kernel without global memory instructions has no files
    for (const auto& [block, path] : it->second) {
      if (block >= c.grid)
        app.warnings.push_back(fmt::format("{}: warning: block {} is outside kernel {}'s grid of {} blocks",
                                           path, block, id, c.grid));
      BlockMemory& bm = k.memory.emplace_back();
      bm.block = block;
      k.trace_bytes += read_memory(path, bm, opcodes);
      k.files.push_back(path);
    }
  }
  return app;
}

}  // namespace whatif::gpu::detail
