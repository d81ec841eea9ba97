// Internals shared by the PPT-GPU and Accel-Sim trace readers: a streaming line reader, number parsing,
// opcode interning and sector reduction. Private to src/gpu (the public interface is trace.hpp).
#pragma once

#include "core/diagnostics.hpp"
#include "gpu/trace.hpp"

#include <array>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace whatif::gpu::detail {

// Reads a text file line by line through a fixed buffer, so a multi-gigabyte trace never sits in memory.
// A name ending in ".xz" is streamed through a child `xz -dc` (no decompression library to depend on).
class LineReader {
 public:
  explicit LineReader(std::string path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line without its end-of-line characters; false at the end. The character just past the line is
  // always readable and ends a token ('\n', '\r' or a sentinel '\n' after a last line without one), so
  // scanners may stop on it without bounds checks. A failed decompression throws here, at the end, so that it
  // is reported rather than the truncated text it left behind.
  bool next(std::string_view& line);
  long line_number() const { return line_; }
  long file_bytes() const { return bytes_; }  // on disk (compressed, for .xz)
  const std::string& path() const { return path_; }

  // Throws "PATH:LINE:COL: error: message", COL being where `at` (a view into the current line) starts, or 1.
  [[noreturn]] void fail(std::string_view at, const std::string& message) const;

 private:
  void finish();

  std::string path_;
  FILE* file_ = nullptr;
  bool pipe_ = false;
  long bytes_ = 0;
  std::unique_ptr<char[]> buf_;  // not a vector: no need to zero what fread overwrites
  size_t size_ = 0, begin_ = 0, end_ = 0;
  bool eof_ = false;
  long line_ = 0;
  std::string_view current_;
};

// Splits a line into blank-separated tokens (spaces and tabs) without copying.
class Tokens {
 public:
  explicit Tokens(std::string_view line) : rest_(line) {}
  // The next token, or an empty view at the end.
  std::string_view next();
  std::string_view rest() const { return rest_; }

 private:
  std::string_view rest_;
};

// Whole-token parsers: false on anything but the number (no sign unless signed, no blanks, no overflow).
bool parse_dec(std::string_view s, std::int64_t& out);
bool parse_dec(std::string_view s, std::uint64_t& out);
bool parse_hex(std::string_view s, std::uint64_t& out);  // optional 0x / 0X prefix

// Character classes for scan_hex: 0-15 a hex digit's value, kHexEnd a blank or end of line, kHexBad anything
// else.
constexpr std::int8_t kHexEnd = 16, kHexBad = 17;
inline constexpr std::array<std::int8_t, 256> kHexClass = [] {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t)
    v = kHexBad;
  for (int c = 0; c < 10; ++c)
    t['0' + c] = static_cast<std::int8_t>(c);
  for (int c = 0; c < 6; ++c)
    t['a' + c] = t['A' + c] = static_cast<std::int8_t>(10 + c);
  for (unsigned char c : {' ', '\t', '\r', '\n'})
    t[c] = kHexEnd;
  return t;
}();

// Scans the hex number at p (optional 0x) up to a blank or the end of the line, and moves p past it: the
// addresses' fast path, with no tokenizer pass and one table look-up per digit. The character at `end` must
// be readable and not a hex digit, which LineReader guarantees for its lines. False on a bad character (p is
// then past the whole token), no digit, or more than 16 digits.
inline bool scan_hex(const char*& p, const char* end, std::uint64_t& out) {
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) p += 2;
  const char* digits = p;
  std::uint64_t v = 0;
  for (int d; (d = kHexClass[static_cast<unsigned char>(*p)]) < kHexEnd; ++p)
    v = v << 4 | static_cast<std::uint64_t>(d);
  out = v;
  if (p < end && kHexClass[static_cast<unsigned char>(*p)] == kHexBad) {
    while (p < end && *p != ' ' && *p != '\t')
      ++p;
    return false;
  }
  // The scan may stop past `end` only if the caller broke the contract; p < end keeps the view honest anyway.
  if (p > end) p = end;
  return p > digits && p - digits <= 16;
}

// Register operand tokens (R<n>, P<n>, UR<n>, UP<n>) to Reg. Returns 1 on a register, 0 on a token that is
// not register-shaped (immediates, constant banks, ...), -1 on a register number out of range.
int parse_register(std::string_view token, Reg& out);

// The kernel's opcode table, interning full mnemonics ("LDG.E.U8") to their index.
class OpcodeTable {
 public:
  explicit OpcodeTable(std::vector<std::string>& names) : names_(names) {}
  std::uint32_t intern(std::string_view name);

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<std::string>& names_;
  // Consecutive lines often repeat an opcode: one comparison spares a hash.
  std::string_view last_name_;
  std::uint32_t last_id_ = 0;
  std::unordered_map<std::string, std::uint32_t, Hash, std::equal_to<>> index_;
};

// Appends addr >> 5 to `sectors` unless one of sectors[first..] already holds it: a record's distinct
// sectors, in order of first appearance.
inline void add_sector(std::vector<std::uint64_t>& sectors, size_t first, std::uint64_t address) {
  const std::uint64_t s = address >> 5;
  const size_t n = sectors.size();
  // Lanes usually walk consecutive addresses, so the last sector is the likely match.
  if (n > first && sectors[n - 1] == s) return;
  for (size_t i = first; i + 1 < n; ++i)
    if (sectors[i] == s) return;
  sectors.push_back(s);
}

// Whether a mnemonic is a global, local or generic memory instruction, the kind a memory trace records (LDG,
// STG, LD, ST, LDL, STL, ATOM, ATOMG, RED, REDG, LDGSTS), told by the part before the first '.'.
bool is_memory_trace_opcode(std::string_view opcode);

// Trace text for an error message: bytes outside printable ASCII escaped (\xNN), long text cut with "...".
std::string shown(std::string_view text);

// "1-3, 5, 8" for error messages listing kernel ids.
std::string id_ranges(const std::vector<int>& sorted_ids);

// Checks `wanted` against the available ids (sorted); throws naming the unknown one and listing the others.
// Returns the sorted, deduplicated selection (all ids when `wanted` is empty).
std::vector<int> select_kernels(const std::string& dir, const std::vector<int>& available,
                                const std::vector<int>& wanted);

TraceApplication read_ppt_dir(const std::string& dir, const std::vector<int>& kernel_ids);
TraceApplication read_accelsim_dir(const std::string& dir, const std::vector<int>& kernel_ids);

}  // namespace whatif::gpu::detail
