// Decoding and encoding of Pilgrim call-signature keys, driven by a per-function argument-layout table.
#include "mpi/signature.hpp"

#include "mpi/functions.hpp"
#include "mpi/signature_layouts.hpp"

#include <cstring>
#include <limits>

namespace whatif::mpi {

namespace {

enum class Count : std::uint8_t { one, fixed, arg, comm_size };

struct ArgSpec {
  std::string_view name;
  ArgKind kind = ArgKind::int32;
  std::uint32_t slot = 4;  // bytes per element (0 for strings)
  Count count = Count::one;
  std::int64_t factor = 1;  // element count (fixed) or multiplier (arg, comm_size)
  std::string_view ref;     // the argument whose value gives the count
  bool optional = false;
  bool wide_if_room = false;  // takes 8 bytes when exactly 8 are left (errhandlers)
};

struct Layout {
  bool comm_sized = false;
  std::vector<ArgSpec> args;
  std::string error;  // non-empty when the layout text is malformed (a bug here, reported by every decode)
};

constexpr std::uint32_t kPointerBytes = 32;

bool parse_token(std::string_view token, ArgSpec& spec, std::string& error) {
  if (token.starts_with('?')) {
    spec.optional = true;
    token.remove_prefix(1);
  }
  if (token.size() < 3 || token[1] != ':') {
    error = "bad token '" + std::string(token) + "'";
    return false;
  }
  const char letter = token[0];
  token.remove_prefix(2);
  std::string_view rule;
  if (auto open = token.find('['); open != std::string_view::npos) {
    if (!token.ends_with(']')) {
      error = "unclosed rule in '" + std::string(token) + "'";
      return false;
    }
    rule = token.substr(open + 1, token.size() - open - 2);
    token = token.substr(0, open);
  }
  spec.name = token;
  struct Letter {
    char letter;
    ArgKind kind;
    std::uint32_t slot;
    bool array;
  };
  static constexpr Letter kLetters[] = {
      {'p', ArgKind::pointer, kPointerBytes, false},
      {'i', ArgKind::int32, 4, false},
      {'w', ArgKind::int32, 8, false},
      {'l', ArgKind::int64, 8, false},
      {'P', ArgKind::peer, 4, false},
      {'T', ArgKind::tag, 4, false},
      {'R', ArgKind::root, 4, false},
      {'C', ArgKind::comm, 4, false},
      {'D', ArgKind::datatype, 4, false},
      {'O', ArgKind::op, 4, false},
      {'q', ArgKind::request, 4, false},
      {'h', ArgKind::handle, 4, false},
      {'e', ArgKind::handle, 4, false},
      {'s', ArgKind::status, 8, false},
      {'z', ArgKind::string, 0, false},
      {'I', ArgKind::int32_array, 4, true},
      {'L', ArgKind::int64_array, 8, true},
      {'Y', ArgKind::datatype_array, 4, true},
      {'Q', ArgKind::request_array, 4, true},
      {'S', ArgKind::status_array, 8, true},
      {'b', ArgKind::bytes, 1, true},
  };
  const Letter* found = nullptr;
  for (const Letter& entry : kLetters)
    if (entry.letter == letter) found = &entry;
  if (found == nullptr) {
    error = std::string("unknown kind letter '") + letter + "'";
    return false;
  }
  spec.kind = found->kind;
  spec.slot = found->slot;
  spec.wide_if_room = letter == 'e';
  const bool array = found->array;
  if (array != !rule.empty()) {
    error = "'" + std::string(spec.name) + "': arrays and bytes need a [rule], scalars take none";
    return false;
  }
  if (!array) return true;
  if (auto star = rule.find('*'); star != std::string_view::npos) {
    spec.factor = 0;
    for (char c : rule.substr(0, star)) {
      if (c < '0' || c > '9') {
        error = "bad multiplier in '" + std::string(rule) + "'";
        return false;
      }
      spec.factor = spec.factor * 10 + (c - '0');
    }
    rule.remove_prefix(star + 1);
  }
  if (rule == "cs") {
    spec.count = Count::comm_size;
  } else if (rule.find_first_not_of("0123456789") == std::string_view::npos) {
    spec.count = Count::fixed;
    spec.factor = 0;
    for (char c : rule)
      spec.factor = spec.factor * 10 + (c - '0');
  } else {
    spec.count = Count::arg;
    spec.ref = rule;
  }
  return true;
}

Layout parse_layout(std::string_view text) {
  Layout layout;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] == ' ') {
      ++pos;
      continue;
    }
    std::size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view token = text.substr(pos, end - pos);
    pos = end;
    if (token == "^") {
      layout.comm_sized = true;
      continue;
    }
    ArgSpec spec;
    if (!parse_token(token, spec, layout.error)) return layout;
    if (spec.count == Count::arg) {
      bool known = false;
      for (const ArgSpec& earlier : layout.args)
        known = known || earlier.name == spec.ref;
      if (!known) {
        layout.error = "'" + std::string(spec.name) + "' is sized by unknown '" + std::string(spec.ref) + "'";
        return layout;
      }
    }
    layout.args.push_back(spec);
  }
  return layout;
}

const std::vector<Layout>& layouts() {
  static const std::vector<Layout> table = [] {
    std::vector<Layout> result(kFunctionCount);
    std::vector<int> listed(kFunctionCount, 0);
    for (const LayoutText& entry : layout_texts()) {
      int id = function_id(entry.function);
      if (id < 0) continue;  // a typo in the table: the function stays without layout, and tests catch it
      result[static_cast<std::size_t>(id)] = parse_layout(entry.layout);
      ++listed[static_cast<std::size_t>(id)];
    }
    for (std::size_t id = 0; id < result.size(); ++id) {
      if (listed[id] == 1) continue;
      result[id].args.clear();
      result[id].error = listed[id] == 0 ? "no argument layout" : "listed twice in the layout table";
    }
    return result;
  }();
  return table;
}

// Little-endian reads from a key whose bounds the caller has checked.
std::int64_t read_int(std::span<const std::uint8_t> key, std::size_t pos, std::size_t bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < bytes; ++i)
    value |= std::uint64_t{key[pos + i]} << (8 * i);
  if (bytes < 8 && (value >> (8 * bytes - 1)) != 0) value |= ~std::uint64_t{0} << (8 * bytes);  // sign
  return static_cast<std::int64_t>(value);
}

std::uint64_t read_unsigned(std::span<const std::uint8_t> key, std::size_t pos, std::size_t bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < bytes; ++i)
    value |= std::uint64_t{key[pos + i]} << (8 * i);
  return value;
}

void write_int(std::vector<std::uint8_t>& out, std::int64_t value, std::size_t bytes) {
  auto bits = static_cast<std::uint64_t>(value);
  for (std::size_t i = 0; i < bytes; ++i)
    out.push_back(static_cast<std::uint8_t>(bits >> (8 * i)));
}

std::int64_t element_count(const ArgSpec& spec, const Signature& sig) {
  switch (spec.count) {
    case Count::one:
      return 1;
    case Count::fixed:
      return spec.factor;
    case Count::comm_size:
      return spec.factor * sig.comm_size;
    case Count::arg: {
      const Arg* ref = sig.find(spec.ref);
      // An optional argument that was not recorded sizes nothing.
      std::int64_t value = ref && !ref->ints.empty() ? ref->ints.front() : 0;
      // Values come from the key; keep the product far from overflow (no real array is near 2^31).
      if (value > std::numeric_limits<std::int32_t>::max() ||
          value < std::numeric_limits<std::int32_t>::min())
        return value;
      return spec.factor * value;
    }
  }
  return 0;
}

// Decodes one argument at `pos`; returns an empty string or why it could not.
std::string decode_arg(std::span<const std::uint8_t> key, std::size_t pos, const ArgSpec& spec,
                       const Signature& sig, Arg& arg) {
  const std::size_t left = key.size() - pos;
  arg.name = spec.name;
  arg.kind = spec.kind;
  arg.offset = static_cast<std::uint32_t>(pos);
  auto short_key = [&](std::uint64_t need) {
    return "key ends inside '" + std::string(spec.name) + "' (needs " + std::to_string(need) + " bytes, " +
           std::to_string(left) + " left)";
  };

  if (spec.kind == ArgKind::string) {
    const std::uint8_t* begin = key.data() + pos;
    const void* nul = left == 0 ? nullptr : std::memchr(begin, 0, left);
    if (nul == nullptr) return "string '" + std::string(spec.name) + "' has no terminating NUL";
    std::size_t length = static_cast<const std::uint8_t*>(nul) - begin;
    arg.text.assign(reinterpret_cast<const char*>(begin), length);
    arg.size = static_cast<std::uint32_t>(length + 1);
    return {};
  }

  std::int64_t count = element_count(spec, sig);
  const std::uint32_t slot = spec.wide_if_room && left == 8 ? 8 : spec.slot;
  if (count < 0) return "negative length " + std::to_string(count) + " for '" + std::string(spec.name) + "'";
  if (static_cast<std::uint64_t>(count) > left / slot)
    return short_key(static_cast<std::uint64_t>(count) * slot);
  const std::size_t bytes = static_cast<std::size_t>(count) * slot;
  arg.size = static_cast<std::uint32_t>(bytes);

  switch (spec.kind) {
    case ArgKind::pointer:
      // {int32 id; pad; uint64 offset; uint64 size; char type; char device; pad}
      arg.ints = {read_int(key, pos, 4), static_cast<std::int64_t>(read_unsigned(key, pos + 8, 8)),
                  static_cast<std::int64_t>(read_unsigned(key, pos + 16, 8)),
                  static_cast<std::int64_t>(key[pos + 24]), static_cast<std::int64_t>(key[pos + 25])};
      break;
    case ArgKind::int64:
      arg.ints = {read_int(key, pos, 8)};
      break;
    case ArgKind::status:
      arg.ints = {read_int(key, pos, 4), read_int(key, pos + 4, 4)};
      break;
    case ArgKind::bytes:
      arg.ints.assign(key.begin() + static_cast<std::ptrdiff_t>(pos),
                      key.begin() + static_cast<std::ptrdiff_t>(pos + bytes));
      break;
    case ArgKind::int64_array:
      arg.ints.reserve(static_cast<std::size_t>(count));
      for (std::size_t i = 0; i < bytes; i += 8)
        arg.ints.push_back(read_int(key, pos + i, 8));
      break;
    default:
      // 4-byte ints, one per element (2 per status; the upper word too for a scalar in an 8-byte slot).
      arg.ints.reserve(bytes / 4);
      for (std::size_t i = 0; i < bytes; i += 4)
        arg.ints.push_back(read_int(key, pos + i, 4));
      break;
  }
  return {};
}

// Pilgrim's built-in lists (pmodels/pilgrim include/pilgrim_consts.h: builtin_mpi_datatypes[] and
// builtin_mpi_ops[]): the object at index k is recorded as -(k+1). Sizes are MPI_Type_size on x86-64
// Linux (the data bytes, not the extent: MPI_DOUBLE_INT is 12, MPI_LONG_DOUBLE 16 as sizeof(long double)).
// MPI-3 builds define MPI_LB/MPI_UB as MPI_DATATYPE_NULL, so those two codes never appear in new traces.
struct BuiltinType {
  std::string_view name;
  std::int64_t size;
};

constexpr BuiltinType kBuiltinTypes[] = {
    {"MPI_DATATYPE_NULL", 0},
    {"MPI_CHAR", 1},
    {"MPI_UNSIGNED_CHAR", 1},
    {"MPI_SHORT", 2},
    {"MPI_UNSIGNED_SHORT", 2},
    {"MPI_INT", 4},
    {"MPI_UNSIGNED", 4},
    {"MPI_LONG", 8},
    {"MPI_UNSIGNED_LONG", 8},
    {"MPI_LONG_LONG", 8},
    {"MPI_FLOAT", 4},
    {"MPI_DOUBLE", 8},
    {"MPI_LONG_DOUBLE", 16},
    {"MPI_BYTE", 1},
    {"MPI_WCHAR", 4},
    {"MPI_PACKED", 1},
    {"MPI_LB", 0},
    {"MPI_UB", 0},
    {"MPI_C_COMPLEX", 8},
    {"MPI_C_DOUBLE_COMPLEX", 16},
    {"MPI_C_LONG_DOUBLE_COMPLEX", 32},
    {"MPI_2INT", 8},
    {"MPI_C_BOOL", 1},
    {"MPI_SIGNED_CHAR", 1},
    {"MPI_CHARACTER", 1},
    {"MPI_INTEGER", 4},
    {"MPI_REAL", 4},
    {"MPI_LOGICAL", 4},
    {"MPI_COMPLEX", 8},
    {"MPI_2INTEGER", 8},
    {"MPI_2REAL", 8},
    {"MPI_DOUBLE_COMPLEX", 16},
    {"MPI_REAL4", 4},
    {"MPI_COMPLEX8", 8},
    {"MPI_REAL8", 8},
    {"MPI_COMPLEX16", 16},
    {"MPI_REAL16", 16},
    {"MPI_COMPLEX32", 32},
    {"MPI_INTEGER1", 1},
    {"MPI_INTEGER2", 2},
    {"MPI_INTEGER4", 4},
    {"MPI_INTEGER8", 8},
    {"MPI_INT8_T", 1},
    {"MPI_INT16_T", 2},
    {"MPI_INT32_T", 4},
    {"MPI_INT64_T", 8},
    {"MPI_UINT8_T", 1},
    {"MPI_UINT16_T", 2},
    {"MPI_UINT32_T", 4},
    {"MPI_UINT64_T", 8},
    {"MPI_AINT", 8},
    {"MPI_FLOAT_INT", 8},
    {"MPI_DOUBLE_INT", 12},
    {"MPI_LONG_INT", 12},
    {"MPI_SHORT_INT", 6},
    {"MPI_LONG_DOUBLE_INT", 20},
    {"MPI_DOUBLE_PRECISION", 8},
};

constexpr std::string_view kBuiltinOps[] = {
    "MPI_OP_NULL", "MPI_MAX", "MPI_MIN",  "MPI_SUM",  "MPI_PROD",   "MPI_LAND",   "MPI_BAND",
    "MPI_LOR",     "MPI_BOR", "MPI_LXOR", "MPI_BXOR", "MPI_MINLOC", "MPI_MAXLOC", "MPI_REPLACE",
};

const BuiltinType* builtin_type(std::int64_t code) {
  constexpr auto n = static_cast<std::int64_t>(std::size(kBuiltinTypes));
  if (code > -1 || code < -n) return nullptr;
  return &kBuiltinTypes[static_cast<std::size_t>(-code - 1)];
}

std::string op_name(std::int64_t code) {
  constexpr auto n = static_cast<std::int64_t>(std::size(kBuiltinOps));
  if (code <= -1 && code >= -n) return std::string(kBuiltinOps[static_cast<std::size_t>(-code - 1)]);
  if (code == kInvalidHandle) return "INVALID";
  if (code >= 0) return "op#" + std::to_string(code);
  return "op(" + std::to_string(code) + ")";
}

std::string comm_name(std::int64_t code) {
  if (code == kCommWorld) return "WORLD";
  if (code == kCommSelf) return "SELF";
  if (code == kCommNull) return "NULL";
  if (code == kInvalidHandle) return "INVALID";
  if (code >= 0) return "comm#" + std::to_string(code);
  return "comm(" + std::to_string(code) + ")";
}

std::string request_name(std::int64_t code) {
  if (code == kRequestNull) return "REQUEST_NULL";
  if (code == kUntrackedRequest) return "UNTRACKED";
  return std::to_string(code);
}

std::string peer_name(std::int64_t code, int my_rank) {
  if (code == kAnySource) return "ANY_SOURCE";
  if (code == kProcNull) return "PROC_NULL";
  return std::to_string(my_rank - code);
}

std::string tag_name(std::int64_t code) {
  return code == kAnyTag ? "ANY_TAG" : std::to_string(code);
}

std::string handle_name(std::int64_t code) {
  return code == kInvalidHandle ? "INVALID" : std::to_string(code);
}

template <class Name>
std::string join(const std::vector<std::int64_t>& values, Name name) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += name(values[i]);
  }
  return out + "]";
}

}  // namespace

std::string_view to_string(ArgKind kind) {
  switch (kind) {
    case ArgKind::pointer:
      return "pointer";
    case ArgKind::int32:
      return "int32";
    case ArgKind::int64:
      return "int64";
    case ArgKind::peer:
      return "peer";
    case ArgKind::tag:
      return "tag";
    case ArgKind::root:
      return "root";
    case ArgKind::comm:
      return "comm";
    case ArgKind::datatype:
      return "datatype";
    case ArgKind::op:
      return "op";
    case ArgKind::request:
      return "request";
    case ArgKind::status:
      return "status";
    case ArgKind::handle:
      return "handle";
    case ArgKind::string:
      return "string";
    case ArgKind::int32_array:
      return "int32_array";
    case ArgKind::int64_array:
      return "int64_array";
    case ArgKind::datatype_array:
      return "datatype_array";
    case ArgKind::request_array:
      return "request_array";
    case ArgKind::status_array:
      return "status_array";
    case ArgKind::bytes:
      return "bytes";
  }
  return "unknown";
}

const Arg* Signature::find(std::string_view name) const {
  for (const Arg& arg : args)
    if (arg.name == name) return &arg;
  return nullptr;
}

std::int64_t Signature::value(std::string_view name, std::int64_t fallback) const {
  const Arg* arg = find(name);
  return arg && !arg->ints.empty() ? arg->ints.front() : fallback;
}

Signature decode_signature(std::span<const std::uint8_t> key, bool has_thread_id) {
  Signature sig;
  if (key.size() < 2) {
    sig.problem = "key of " + std::to_string(key.size()) + " bytes has no function id";
    return sig;
  }
  sig.function = static_cast<int>(read_int(key, 0, 2));
  const std::string_view name = function_name(sig.function);
  if (name.empty()) {
    sig.problem = "unknown function id " + std::to_string(sig.function);
    return sig;
  }
  auto fail = [&](const std::string& why) { sig.problem = std::string(name) + ": " + why; };

  std::size_t pos = 2;
  if (has_thread_id) {
    if (key.size() < pos + 4) {
      fail("key ends inside the thread id");
      return sig;
    }
    sig.thread = static_cast<int>(read_int(key, pos, 4));
    pos += 4;
  }
  const Layout& layout = layouts()[static_cast<std::size_t>(sig.function)];
  if (!layout.error.empty()) {
    fail("internal layout error: " + layout.error);
    return sig;
  }
  if (layout.comm_sized) {
    if (key.size() < pos + 4) {
      fail("key ends inside the communicator size");
      return sig;
    }
    sig.comm_size = static_cast<int>(read_int(key, pos, 4));
    pos += 4;
    if (sig.comm_size < 0) {
      fail("negative communicator size " + std::to_string(sig.comm_size));
      return sig;
    }
  }
  sig.args.reserve(layout.args.size());
  for (const ArgSpec& spec : layout.args) {
    if (spec.optional && pos == key.size()) continue;
    Arg arg;
    if (std::string why = decode_arg(key, pos, spec, sig, arg); !why.empty()) {
      fail(why);
      return sig;
    }
    pos += arg.size;
    sig.args.push_back(std::move(arg));
  }
  if (pos != key.size()) {
    std::string after = "the header";
    if (!sig.args.empty()) {
      after.assign(1, '\'');
      after.append(sig.args.back().name).push_back('\'');
    }
    fail(std::to_string(key.size() - pos) + " bytes left over after " + after);
  }
  return sig;
}

std::vector<std::uint8_t> encode_signature(const Signature& signature, bool has_thread_id) {
  std::vector<std::uint8_t> out;
  write_int(out, signature.function, 2);
  if (has_thread_id) write_int(out, signature.thread, 4);
  auto at = [](const std::vector<std::int64_t>& ints, std::size_t i, std::int64_t fallback = 0) {
    return i < ints.size() ? ints[i] : fallback;
  };
  // Whether a scalar sits in an 8-byte slot (Testsome's outcount) follows the layout, so hand-built
  // signatures need not set Arg::size; the size of a decoded argument says the same.
  const Layout* layout = signature.function >= 0 && signature.function < kFunctionCount
                             ? &layouts()[static_cast<std::size_t>(signature.function)]
                             : nullptr;
  if (layout != nullptr && layout->comm_sized) write_int(out, signature.comm_size, 4);
  auto wide_slot = [&](const Arg& arg) {
    if (arg.size == 8) return true;
    if (layout == nullptr) return false;
    for (const ArgSpec& spec : layout->args)
      if (spec.name == arg.name) return spec.slot == 8 || (spec.wide_if_room && arg.ints.size() > 1);
    return false;
  };
  for (const Arg& arg : signature.args) {
    switch (arg.kind) {
      case ArgKind::pointer: {
        write_int(out, at(arg.ints, 0), 4);
        write_int(out, 0, 4);
        write_int(out, at(arg.ints, 1), 8);
        write_int(out, at(arg.ints, 2), 8);
        write_int(out, at(arg.ints, 3), 1);
        write_int(out, at(arg.ints, 4, 0xFF), 1);
        write_int(out, 0, 6);
        break;
      }
      case ArgKind::int64:
        write_int(out, at(arg.ints, 0), 8);
        break;
      case ArgKind::status:
        write_int(out, at(arg.ints, 0), 4);
        write_int(out, at(arg.ints, 1), 4);
        break;
      case ArgKind::string:
        out.insert(out.end(), arg.text.begin(), arg.text.end());
        out.push_back(0);
        break;
      case ArgKind::bytes:
        if (arg.ints.empty()) {
          out.insert(out.end(), arg.size, 0);
        } else {
          for (std::int64_t byte : arg.ints)
            write_int(out, byte, 1);
        }
        break;
      case ArgKind::int64_array:
        for (std::int64_t value : arg.ints)
          write_int(out, value, 8);
        break;
      case ArgKind::int32_array:
      case ArgKind::datatype_array:
      case ArgKind::request_array:
      case ArgKind::status_array:
        for (std::int64_t value : arg.ints)
          write_int(out, value, 4);
        break;
      default:
        // 4-byte scalars; Testsome's outcount and Open MPI's errhandlers fill 8 bytes, the upper word in
        // ints[1].
        write_int(out, at(arg.ints, 0), 4);
        if (wide_slot(arg)) write_int(out, at(arg.ints, 1), 4);
        break;
    }
  }
  return out;
}

std::string format_arguments(const Signature& signature, int my_rank) {
  std::string out;
  for (const Arg& arg : signature.args) {
    if (!out.empty()) out += ' ';
    const std::string name(arg.name);
    const std::int64_t first = arg.ints.empty() ? 0 : arg.ints.front();
    switch (arg.kind) {
      case ArgKind::pointer:
        out += name;
        continue;  // buffer ids say nothing useful in a text dump
      case ArgKind::peer:
        out += name + "=" + peer_name(first, my_rank);
        break;
      case ArgKind::tag:
        out += name + "=" + tag_name(first);
        break;
      case ArgKind::comm:
        out += name + "=" + comm_name(first);
        break;
      case ArgKind::datatype:
        out += name + "=" + datatype_name(first);
        break;
      case ArgKind::op:
        out += name + "=" + op_name(first);
        break;
      case ArgKind::request:
        out += name + "=" + request_name(first);
        break;
      case ArgKind::handle:
        out += name + "=" + handle_name(first);
        break;
      case ArgKind::status:
        out += name + "={" + std::to_string(first) + "," +
               std::to_string(arg.ints.size() > 1 ? arg.ints[1] : 0) + "}";
        break;
      case ArgKind::string:
        out += name + "=\"" + arg.text + "\"";
        break;
      case ArgKind::bytes:
        out += name + "=<" + std::to_string(arg.size) + "B>";
        break;
      case ArgKind::int32_array:
      case ArgKind::int64_array:
        out += name + "=" + join(arg.ints, [](std::int64_t v) { return std::to_string(v); });
        break;
      case ArgKind::datatype_array:
        out += name + "=" + join(arg.ints, datatype_name);
        break;
      case ArgKind::request_array:
        out += name + "=" + join(arg.ints, request_name);
        break;
      case ArgKind::status_array: {
        out += name + "=[";
        for (std::size_t i = 0; i + 1 < arg.ints.size(); i += 2) {
          if (i) out += ',';
          out += "{" + std::to_string(arg.ints[i]) + "," + std::to_string(arg.ints[i + 1]) + "}";
        }
        out += "]";
        break;
      }
      default:
        out += name + "=" + std::to_string(first);
        break;  // int32, int64, root
    }
  }
  return out;
}

std::string datatype_name(std::int64_t code) {
  if (const BuiltinType* type = builtin_type(code)) return std::string(type->name);
  if (code == kInvalidHandle) return "INVALID";
  if (code >= 0) return "type#" + std::to_string(code);
  return "datatype(" + std::to_string(code) + ")";
}

std::int64_t builtin_datatype_size(std::int64_t code) {
  const BuiltinType* type = builtin_type(code);
  return type ? type->size : 0;
}

}  // namespace whatif::mpi
