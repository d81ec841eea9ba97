// One Pilgrim call signature (a CST entry's key) decoded into named, typed arguments.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace whatif::mpi {

// Pilgrim's symbolic values (pilgrim-format.md).
inline constexpr int kAnySource = -99999, kAnyTag = -99998, kProcNull = -99997;
inline constexpr int kCommWorld = -9988, kCommSelf = -9987, kCommNull = -9989;
inline constexpr int kRequestNull = -9979, kUntrackedRequest = -1;
inline constexpr int kInvalidHandle = -9999;

// How one recorded argument is stored and what it means.
enum class ArgKind : std::uint8_t {
  pointer,         // 32-byte memory-pointer record; ints = {id, offset, size, type, device}
  int32,           // plain int (counts, flags, displacement units, output ints)
  int64,           // MPI_Aint / MPI_Count / MPI_Offset by pointer
  peer,            // dest/source: encoded (my world rank - peer), or kAnySource / kProcNull
  tag,             // raw; kAnyTag
  root,            // raw communicator-local rank
  comm,            // communicator id (kCommWorld, kCommSelf, kCommNull or a per-rank counter >= 0)
  datatype,        // built-in -(index+1) or user id >= 0
  op,              // reduction op
  request,         // request id, kRequestNull or kUntrackedRequest
  status,          // 2 ints {source code, tag code}
  handle,          // group, info, win, file, errhandler, keyval, message... (an int id)
  string,          // NUL-terminated string (text holds it without the NUL)
  int32_array,     // ints[count]
  int64_array,     // MPI_Aint / MPI_Count arrays
  datatype_array,  // datatype ids
  request_array,   // request ids (Pilgrim stores them sorted descending)
  status_array,    // 2 ints per status, original order
  bytes,           // opaque (function pointers, unknown blobs): size only
};

std::string_view to_string(ArgKind kind);

struct Arg {
  std::string_view
      name;  // the MPI standard's parameter name ("count", "dest", "sendtag", "array_of_requests")
  ArgKind kind = ArgKind::int32;
  std::vector<std::int64_t> ints;  // scalars: one value; arrays: every element; status: 2 per status
  std::string text;                // strings
  std::uint32_t offset = 0;        // byte offset of the argument in the key
  std::uint32_t size = 0;          // bytes it occupies in the key
};

struct Signature {
  int function = -1;   // Pilgrim function id
  int thread = 0;      // the key's tid field (0 unless built with thread ids)
  int comm_size = -1;  // the extra int32 of calls whose arrays the communicator sizes, else -1
  std::vector<Arg> args;
  // Empty when the whole key was understood; otherwise why not ("MPI_Foo: 12 bytes left over after
  // 'comm'", "unknown function id 999"). Args decoded before the problem are kept.
  std::string problem;

  bool ok() const { return problem.empty(); }
  const Arg* find(std::string_view name) const;
  // The first value of argument `name`; `fallback` when there is no such argument or it has no value.
  std::int64_t value(std::string_view name, std::int64_t fallback = 0) const;
};

// Decodes a key as the wrappers at Pilgrim commit a2b828b write it (with the 4-byte tid when
// `has_thread_id`, the layout of format versions since 2022-04). Never throws on bad bytes: an
// undecodable key comes back with `problem` set.
Signature decode_signature(std::span<const std::uint8_t> key, bool has_thread_id = true);

// The inverse of decode_signature: each argument written by its kind (pointer records from ints
// {id, offset, size, type, device}, missing ones zero and device 0xFF; strings with their NUL).
std::vector<std::uint8_t> encode_signature(const Signature& signature, bool has_thread_id = true);

// Arguments rendered for `whatif mpi text`: "count=1 datatype=MPI_BYTE dest=1 tag=1 comm=WORLD", peers
// resolved with `my_rank` (the caller's rank in the communicator), symbolic values by name.
std::string format_arguments(const Signature& signature, int my_rank);

// Name of a built-in datatype code (-1 .. -N) or "type#K" for user types.
std::string datatype_name(std::int64_t code);
// Size in bytes of a built-in datatype code on x86-64 Linux (MPICH and Open MPI agree), 0 when the code
// is not a built-in (user types, MPI_DATATYPE_NULL).
std::int64_t builtin_datatype_size(std::int64_t code);

}  // namespace whatif::mpi
