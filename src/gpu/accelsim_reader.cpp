// Accel-Sim trace folder reader: kernelslist.g and its kernel-<n>.traceg[.xz] files, streamed line by line.
//
// Format, as Accel-Sim's NVBit tracer and post-processor write it and its simulator reads it
// (accel-sim-framework: util/tracer_nvbit/tracer_tool/tracer_tool.cu,
// .../traces-processing/post-traces-processing.cpp and gpu-simulator/trace-parser/trace_parser.cc):
//   header   -kernel name = ..., -kernel id = ..., -grid dim = (x,y,z), -block dim = (x,y,z), -shmem = ...,
//            -nregs = ..., -cuda stream id = ..., others ignored, then #traces format = ...
//   blocks   #BEGIN_TB, thread block = x,y,z, [cluster lines], then per warp `warp = j`, `insts = n` and
//            n lines `[line_num] PC mask dst_num [Rd..] OPCODE src_num [Rs..] mem_width [format addrs..]
//            [imm]`; then #END_TB.
// Address formats: 0 lists one hex address per active lane; 1 is a hex base and a decimal stride, the i-th
// active lane at base + i*stride; 2 is a hex base then, for each active lane after the first, a decimal delta
// from the previous one. Before tracer version 3 every instruction line starts with `tb_x tb_y tb_z warp`;
// Accel-Sim's parser goes by the `-accelsim tracer version` header, but version-3 files still carry the old
// `#traces format` line and hand-made traces often have no version at all, so here the shape of a file's
// first instruction line decides (a warp id can be neither a register nor an opcode, which tells the layouts
// apart).
#include "gpu/readers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <climits>
#include <filesystem>
#include <unordered_set>

namespace whatif::gpu::detail {
namespace fs = std::filesystem;
using core::InputError;
using core::Location;

namespace {

constexpr std::uint64_t kMaxWarpInBlock = 1u << 16;
constexpr std::uint64_t kMaxOperands = 64;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// TMA bulk copies (Hopper) use another address layout; they are not global loads a memory trace records.
bool is_tma_opcode(std::string_view op) {
  for (std::string_view t : {"UTMALDG", "UTMASTG", "UTMAPF", "UTMAREDG", "UBLKCP", "UBLKPF", "UBLKRED"})
    if (op.find(t) != std::string_view::npos) return true;
  return false;
}

struct ListedKernel {
  int id = 0;
  std::string path;
};

// kernelslist.g: `kernel-<n>.traceg[.xz]` lines in launch order, and Memcpy lines that do not concern us.
std::vector<ListedKernel> read_kernels_list(const fs::path& root) {
  LineReader in((root / "kernelslist.g").string());
  std::vector<ListedKernel> out;
  std::string_view line;
  while (in.next(line)) {
    const std::string_view s = trim(line);
    if (s.empty() || s.starts_with("Memcpy")) continue;
    std::int64_t id = 0;
    const size_t dot = s.find('.');
    const bool named = s.starts_with("kernel-") && dot != std::string_view::npos &&
                       parse_dec(s.substr(7, dot - 7), id) && id >= 1 && id <= (1 << 30);
    const std::string_view suffix = dot == std::string_view::npos ? std::string_view() : s.substr(dot);
    if (!named || (suffix != ".traceg" && suffix != ".traceg.xz"))
      in.fail(s, fmt::format(
                     "expected 'kernel-<n>.traceg' (or .traceg.xz) or a Memcpy line, got '{}'{}", shown(s),
                     suffix == ".trace" || suffix == ".trace.xz"
                         ? " (a raw tracer output: run Accel-Sim's post-traces-processing on it first)"
                         : ""));
    if (std::any_of(out.begin(), out.end(), [&](const ListedKernel& k) { return k.id == id; }))
      in.fail(s, fmt::format("kernel {} is listed twice", id));
    // Either spelling is accepted when only the other file is there: traces are often (de)compressed later.
    fs::path p = root / std::string(s);
    std::error_code ec;
    if (!fs::exists(p, ec)) {
      fs::path alt =
          suffix == ".traceg" ? fs::path(p.string() + ".xz") : root / std::string(s.substr(0, s.size() - 3));
      if (fs::exists(alt, ec)) p = alt;
    }
    out.push_back({static_cast<int>(id), p.string()});
  }
  return out;
}

// Parses "(x,y,z)" or "x,y,z" (blanks allowed); the callers check the ranges.
bool parse_dim3(std::string_view s, std::int64_t v[3]) {
  s = trim(s);
  if (!s.empty() && s.front() == '(') {
    if (s.back() != ')') return false;
    s = s.substr(1, s.size() - 2);
  }
  for (int i = 0; i < 3; ++i) {
    const size_t comma = s.find(',');
    if ((i < 2) != (comma != std::string_view::npos)) return false;
    if (!parse_dec(trim(s.substr(0, comma)), v[i])) return false;
    s = i < 2 ? s.substr(comma + 1) : std::string_view();
  }
  return true;
}

// Whether an instruction line reads `[line_num] PC mask dst_num [Rd..] OPCODE ...` (tokens taken by copy).
bool modern_shape(Tokens t, bool lineinfo) {
  std::uint64_t x = 0;
  if (lineinfo && !parse_dec(t.next(), x)) return false;
  std::int64_t dsts = 0;
  if (!parse_hex(t.next(), x) || !parse_hex(t.next(), x) || !parse_dec(t.next(), dsts) || dsts < 0 ||
      dsts > 64)
    return false;
  for (std::int64_t i = 0; i < dsts; ++i) {
    Reg r = 0;
    if (parse_register(t.next(), r) <= 0) return false;
  }
  const std::string_view op = t.next();
  return !op.empty() && std::isalpha(static_cast<unsigned char>(op[0]));
}

// Whether it reads `tb_x tb_y tb_z warp` and then the modern shape (tracers before version 3).
bool old_shape(Tokens t, bool lineinfo) {
  std::uint64_t x = 0;
  for (int i = 0; i < 4; ++i)
    if (!parse_dec(t.next(), x)) return false;
  return modern_shape(t, lineinfo);
}

class TracegReader {
 public:
  TracegReader(const std::string& path, KernelTrace& k, std::vector<std::string>& warnings)
      : in_(path), k_(k), warnings_(warnings), opcodes_(k.opcodes) {}

  void read() {
    std::string_view line;
    while (in_.next(line)) {
      const std::string_view s = trim(line);
      if (s.empty()) continue;
      if (s[0] == '-') {
        header(s);
      } else if (s[0] == '#') {
        hash_line(s);
      } else if (s.find('=') != std::string_view::npos) {
        key_line(s);
      } else {
        instruction(s);
      }
    }
    if (in_tb_) in_.fail(line, "the file ends inside a thread block (no #END_TB)");
    if (!have_grid_ || !have_block_)
      throw InputError(Location{in_.path(), 0, 0},
                       fmt::format("no '-{} dim = (x,y,z)' header", have_grid_ ? "block" : "grid"));
    std::sort(k_.memory.begin(), k_.memory.end(),
              [](const BlockMemory& a, const BlockMemory& b) { return a.block < b.block; });
    k_.traced_warps = instruction_warps_;
    k_.trace_bytes = in_.file_bytes();
  }

 private:
  std::int64_t header_int(std::string_view value, std::string_view key, std::int64_t lo, std::int64_t hi) {
    std::int64_t n = 0;
    if (!parse_dec(value, n))
      in_.fail(value, fmt::format("{}: expected an integer, got '{}'", key, shown(value)));
    if (n < lo || n > hi) in_.fail(value, fmt::format("{}: {} is out of range [{}, {}]", key, n, lo, hi));
    return n;
  }

  void header(std::string_view s) {
    if (seen_block_) in_.fail(s, "a '-' header line after the first thread block");
    const size_t eq = s.find('=');
    if (eq == std::string_view::npos) in_.fail(s, "expected '-key = value'");
    const std::string_view key = trim(s.substr(1, eq - 1));
    const std::string_view value = trim(s.substr(eq + 1));
    if (key == "kernel name") {
      k_.name = std::string(value);
    } else if (key == "kernel id") {
      const std::int64_t id = header_int(value, key, 0, INT32_MAX);
      if (id != k_.id)
        warnings_.push_back(
            fmt::format("{}:{}: warning: '-kernel id = {}' but kernelslist.g names it kernel-{}", in_.path(),
                        in_.line_number(), id, k_.id));
    } else if (key == "grid dim" || key == "block dim") {
      std::int64_t v[3];
      if (!parse_dim3(value, v))
        in_.fail(value, fmt::format("{}: expected (x,y,z), got '{}'", key, shown(value)));
      for (std::int64_t d : v)
        if (d < 1 || d > INT32_MAX) in_.fail(value, fmt::format("{}: dimension {} out of range", key, d));
      std::int64_t n = 0;
      if (__builtin_mul_overflow(v[0], v[1], &n) || __builtin_mul_overflow(n, v[2], &n) ||
          n > (std::int64_t{1} << 62))
        in_.fail(value, fmt::format("{}: more than 2^62 in all", key));
      Dim3& d = key == "grid dim" ? k_.grid : k_.block;
      d = Dim3{static_cast<long>(v[0]), static_cast<long>(v[1]), static_cast<long>(v[2])};
      (key == "grid dim" ? have_grid_ : have_block_) = true;
    } else if (key == "shmem") {
      k_.shared_bytes = static_cast<long>(header_int(value, key, 0, std::int64_t{1} << 40));
    } else if (key == "nregs") {
      k_.registers = static_cast<int>(header_int(value, key, 0, 65536));
    } else if (key == "cuda stream id") {
      std::uint64_t v = 0;
      if (!parse_dec(value, v))
        in_.fail(value, fmt::format("{}: expected an integer, got '{}'", key, shown(value)));
      // The tracer prints the stream handle (a pointer); only its identity matters, folded to fit an int.
      k_.stream = v <= INT32_MAX ? static_cast<int>(v) : static_cast<int>((v ^ (v >> 31)) & INT32_MAX);
    } else if (key == "enable lineinfo") {
      lineinfo_ = header_int(value, key, 0, 1) != 0;
    }
  }

  void hash_line(std::string_view s) {
    Tokens t(s);
    const std::string_view first = t.next();
    if (first == "#BEGIN_TB") {
      if (in_tb_) in_.fail(first, "#BEGIN_TB before the previous block's #END_TB");
      if (!have_grid_ || !have_block_)
        in_.fail(first, fmt::format("no '-{} dim = (x,y,z)' header before the first thread block",
                                    have_grid_ ? "block" : "grid"));
      in_tb_ = true;
      seen_block_ = true;
      block_ = -1;
      warp_ = -1;
      block_warps_.clear();
    } else if (first == "#END_TB") {
      if (!in_tb_) in_.fail(first, "#END_TB without #BEGIN_TB");
      end_warp(first);
      if (block_ < 0) in_.fail(first, "a thread block without 'thread block = x,y,z'");
      end_block();
      in_tb_ = false;
      keep_instructions_ = false;
    }
  }

  void key_line(std::string_view s) {
    const size_t eq = s.find('=');
    const std::string_view key = trim(s.substr(0, eq));
    const std::string_view value = trim(s.substr(eq + 1));
    if (key == "thread block") {
      if (!in_tb_) in_.fail(s, "'thread block' outside #BEGIN_TB ... #END_TB");
      if (block_ >= 0) in_.fail(s, "a second 'thread block' line in one block");
      std::int64_t v[3];
      if (!parse_dim3(value, v))
        in_.fail(value, fmt::format("thread block: expected x,y,z, got '{}'", shown(value)));
      if (v[0] < 0 || v[1] < 0 || v[2] < 0 || v[0] >= k_.grid.x || v[1] >= k_.grid.y || v[2] >= k_.grid.z)
        in_.fail(value, fmt::format("thread block {} is outside the grid ({},{},{})", shown(value), k_.grid.x,
                                    k_.grid.y, k_.grid.z));
      block_ = (v[2] * k_.grid.y + v[1]) * k_.grid.x + v[0];
      if (!blocks_seen_.insert(block_).second)
        in_.fail(value, fmt::format("thread block {} appears twice", shown(value)));
      if (keep_instructions_) k_.traced_block = block_;
    } else if (key == "warp") {
      if (!in_tb_ || block_ < 0) in_.fail(s, "'warp' outside a thread block");
      end_warp(s);
      std::uint64_t w = 0;
      if (!parse_dec(value, w))
        in_.fail(value, fmt::format("warp: expected an integer, got '{}'", shown(value)));
      const std::uint64_t warps_per_block = static_cast<std::uint64_t>((k_.block.count() + 31) / 32);
      if (w >= warps_per_block || w >= kMaxWarpInBlock)
        in_.fail(value, fmt::format("warp {} is outside a block of {} warps", w, warps_per_block));
      if (std::find(block_warps_.begin(), block_warps_.end(), static_cast<int>(w)) != block_warps_.end())
        in_.fail(value, fmt::format("warp {} appears twice in this block", w));
      warp_ = static_cast<int>(w);
      block_warps_.push_back(warp_);
      if (warp_records_.size() <= w) {
        warp_records_.resize(w + 1);
        warp_sectors_.resize(w + 1);
      }
      expected_ = -1;
      seen_ = 0;
    } else if (key == "insts") {
      if (warp_ < 0) in_.fail(s, "'insts' before 'warp'");
      if (seen_ > 0 || expected_ >= 0) in_.fail(s, "'insts' after this warp's instructions began");
      expected_ = header_int(value, "insts", 0, INT64_MAX);
    }
    // Other keys ("cluster id", "cluster cta", "cluster rank" of Hopper traces) do not concern the model.
  }

  void end_warp(std::string_view at) {
    if (warp_ >= 0 && expected_ >= 0 && seen_ != expected_)
      in_.fail(at,
               fmt::format("warp {} has {} instructions where 'insts = {}' said", warp_, seen_, expected_));
    warp_ = -1;
  }

  // Within a block, warps' records are interleaved round-robin, each warp's in its own order, to stand for
  // warps running side by side, as PPT-GPU's arrival-order memory traces do (Accel-Sim lists one warp after
  // another).
  void end_block() {
    BlockMemory bm;
    bm.block = block_;
    size_t rounds = 0;
    for (int w : block_warps_)
      rounds = std::max(rounds, warp_records_[w].size());
    for (size_t r = 0; r < rounds; ++r) {
      for (int w : block_warps_) {
        if (r >= warp_records_[w].size()) continue;
        MemoryRecord m = warp_records_[w][r];
        const auto* src = warp_sectors_[w].data() + m.first;
        m.first = static_cast<std::uint32_t>(bm.sectors.size());
        bm.sectors.insert(bm.sectors.end(), src, src + m.count);
        bm.records.push_back(m);
      }
    }
    for (int w : block_warps_) {
      warp_records_[w].clear();
      warp_sectors_[w].clear();
    }
    if (!bm.records.empty()) k_.memory.push_back(std::move(bm));
  }

  std::uint64_t hex_token(Tokens& t, const char* what) {
    const std::string_view tok = t.next();
    if (tok.empty()) in_.fail(t.rest(), fmt::format("truncated instruction: missing {}", what));
    std::uint64_t v = 0;
    if (!parse_hex(tok, v))
      in_.fail(tok, fmt::format("{}: expected a hex number, got '{}'", what, shown(tok)));
    return v;
  }

  std::int64_t dec_token(Tokens& t, const char* what) {
    const std::string_view tok = t.next();
    if (tok.empty()) in_.fail(t.rest(), fmt::format("truncated instruction: missing {}", what));
    std::int64_t v = 0;
    if (!parse_dec(tok, v)) in_.fail(tok, fmt::format("{}: expected an integer, got '{}'", what, shown(tok)));
    return v;
  }

  void registers(Tokens& t, std::int64_t n, Instruction* ins, const char* what) {
    for (std::int64_t i = 0; i < n; ++i) {
      const std::string_view tok = t.next();
      if (tok.empty()) in_.fail(t.rest(), fmt::format("truncated instruction: missing {} register", what));
      Reg r = 0;
      if (parse_register(tok, r) <= 0)
        in_.fail(tok, fmt::format("expected a {} register, got '{}'", what, shown(tok)));
      if (ins) ins->operands.push_back(r);
    }
  }

  void instruction(std::string_view s) {
    if (!in_tb_ || warp_ < 0) in_.fail(s, "an instruction outside a warp of a thread block");
    if (expected_ >= 0 && seen_ >= expected_)
      in_.fail(s, fmt::format("warp {} has more instructions than 'insts = {}' said", warp_, expected_));
    ++seen_;
    Tokens t(s);
    if (!layout_known_) {
      old_prefix_ = !modern_shape(t, lineinfo_) && old_shape(t, lineinfo_);
      layout_known_ = true;
    }
    if (old_prefix_)
      for (const char* what : {"block x", "block y", "block z", "warp id"})
        dec_token(t, what);
    if (lineinfo_) dec_token(t, "line number");
    const std::uint64_t pc = hex_token(t, "PC");
    const std::uint64_t mask = hex_token(t, "active mask");
    if (mask > 0xffffffffu) in_.fail(s, "active mask wider than 32 lanes");
    Instruction* ins = nullptr;
    if (keep_instructions_) {
      ins = &k_.instructions.emplace_back();
      ins->pc = pc;
      ins->active_mask = static_cast<std::uint32_t>(mask);
      if (warp_numbers_.size() <= static_cast<size_t>(warp_)) warp_numbers_.resize(warp_ + 1, -1);
      int& w = warp_numbers_[warp_];
      if (w < 0) w = instruction_warps_++;
      ins->warp = w;
    }
    const std::int64_t dsts = dec_token(t, "destination count");
    if (dsts < 0 || static_cast<std::uint64_t>(dsts) > kMaxOperands)
      in_.fail(s, fmt::format("destination count {} out of range", dsts));
    registers(t, dsts, ins, "destination");
    const std::string_view op = t.next();
    if (op.empty()) in_.fail(t.rest(), "truncated instruction: missing opcode");
    if (!std::isalpha(static_cast<unsigned char>(op[0])))
      in_.fail(op, fmt::format("expected an opcode, got '{}'", shown(op)));
    const std::uint32_t opcode = opcodes_.intern(op);
    if (ins) {
      ins->opcode = opcode;
      ins->dst_count = static_cast<std::int8_t>(dsts);
    }
    const std::int64_t srcs = dec_token(t, "source count");
    if (srcs < 0 || static_cast<std::uint64_t>(srcs) > kMaxOperands)
      in_.fail(s, fmt::format("source count {} out of range", srcs));
    registers(t, srcs, ins, "source");
    const std::int64_t width = dec_token(t, "memory width");
    if (width < 0) in_.fail(s, fmt::format("memory width {} is negative", width));
    if (width == 0 || is_tma_opcode(op)) return;  // what follows (the immediate) does not concern the model

    if (memory_class_.size() <= opcode) memory_class_.resize(opcode + 1, -1);
    if (memory_class_[opcode] < 0) memory_class_[opcode] = is_memory_trace_opcode(op) ? 1 : 0;
    const bool record = memory_class_[opcode] == 1;
    std::vector<std::uint64_t>& sectors = warp_sectors_[warp_];
    const size_t first = sectors.size();
    const int lanes = std::popcount(mask);
    const std::int64_t format = dec_token(t, "address format");
    if (format == 0) {
      for (int i = 0; i < lanes; ++i) {
        const std::uint64_t a = hex_token(t, "address");
        if (record) add_sector(sectors, first, a);
      }
    } else if (format == 1) {
      const std::uint64_t base = hex_token(t, "base address");
      const std::int64_t stride = dec_token(t, "stride");
      // Unsigned arithmetic: a hostile stride wraps instead of overflowing.
      if (record)
        for (int i = 0; i < lanes; ++i)
          add_sector(sectors, first,
                     base + static_cast<std::uint64_t>(stride) * static_cast<std::uint64_t>(i));
    } else if (format == 2) {
      std::uint64_t a = hex_token(t, "base address");
      if (record && lanes > 0) add_sector(sectors, first, a);
      for (int i = 1; i < lanes; ++i) {
        a += static_cast<std::uint64_t>(dec_token(t, "address delta"));
        if (record) add_sector(sectors, first, a);
      }
    } else {
      in_.fail(s, fmt::format("unknown address format {} (0 list, 1 base+stride, 2 base+deltas)", format));
    }
    // A warp instruction with every lane off touches no memory.
    if (!record || lanes == 0) return;
    MemoryRecord m;
    m.opcode = opcode;
    m.warp = warp_;
    m.lanes = static_cast<std::uint32_t>(lanes);
    m.first = static_cast<std::uint32_t>(first);
    m.count = static_cast<std::uint32_t>(sectors.size() - first);
    warp_records_[warp_].push_back(m);
  }

  LineReader in_;
  KernelTrace& k_;
  std::vector<std::string>& warnings_;
  OpcodeTable opcodes_;
  bool have_grid_ = false, have_block_ = false, old_prefix_ = false, layout_known_ = false, lineinfo_ = false;
  bool in_tb_ = false, seen_block_ = false, keep_instructions_ = true;
  long block_ = -1;
  int warp_ = -1;
  std::int64_t expected_ = -1, seen_ = 0;
  std::unordered_set<long> blocks_seen_;
  std::vector<int> block_warps_;  // warps of the current block, in trace order
  std::vector<std::vector<MemoryRecord>>
      warp_records_;  // per warp of the current block (first: into sectors)
  std::vector<std::vector<std::uint64_t>> warp_sectors_;
  std::vector<int> warp_numbers_;  // traced block: trace warp -> 0.. in order of first instruction
  int instruction_warps_ = 0;
  std::vector<std::int8_t> memory_class_;  // per opcode: -1 unknown yet, 0 no record, 1 memory trace record
};

}  // namespace

TraceApplication read_accelsim_dir(const std::string& dir, const std::vector<int>& kernel_ids) {
  TraceApplication app;
  app.dir = dir;
  app.format = "accel-sim";
  const fs::path root(dir);
  const std::vector<ListedKernel> listed = read_kernels_list(root);
  std::vector<int> available;
  for (const auto& k : listed)
    available.push_back(k.id);
  std::sort(available.begin(), available.end());
  if (available.empty())
    throw InputError(Location{(root / "kernelslist.g").string(), 0, 0}, "no kernels listed");
  for (int id : select_kernels(dir, available, kernel_ids)) {
    const ListedKernel& lk =
        *std::find_if(listed.begin(), listed.end(), [&](const auto& k) { return k.id == id; });
    KernelTrace& k = app.kernels.emplace_back();
    k.id = id;
    TracegReader(lk.path, k, app.warnings).read();
    k.files.push_back(lk.path);
  }
  return app;
}

}  // namespace whatif::gpu::detail
