// Pilgrim's MPI function ids (0-383, generator order of include/pilgrim_func_ids.h) and their names.
#pragma once

#include <string_view>

namespace whatif::mpi {

inline constexpr int kFunctionCount = 384;  // 383 is Pilgrim's pseudo-call "free" (pointer-tracking builds)

// "MPI_Send" for 71; "" for an id outside 0..383.
std::string_view function_name(int id);
// The id of "MPI_Send" (or "Send"), -1 when unknown.
int function_id(std::string_view name);

// Ids the replay and the inspectors refer to by name (checked against the table by a unit test).
namespace fid {
inline constexpr int testany = 12, get_count = 22, allgather = 25, cart_shift = 36, comm_size = 37;
inline constexpr int request_free = 39, allgatherv = 46, send = 71, comm_rank = 86, cancel = 87;
inline constexpr int type_commit = 89, probe = 92, allreduce = 96, type_contiguous = 97, reduce = 98;
inline constexpr int recv_init = 100, wait = 105, ibcast = 151, send_init = 157, gather = 168;
inline constexpr int waitall = 175, testall = 177, barrier = 179, waitsome = 182, comm_split = 186;
inline constexpr int testsome = 205, scatterv = 220, scatter = 231, comm_free = 235, alltoall = 238;
inline constexpr int type_free = 243, iallreduce = 256, type_size = 257, reduce_scatter_block = 259;
inline constexpr int alltoallw = 271, alltoallv = 272, exscan = 273, scan = 280, startall = 281;
inline constexpr int recv = 293, irecv = 301, issend = 302, gatherv = 307, comm_create = 308;
inline constexpr int comm_dup = 310, reduce_scatter = 316, ibarrier = 317, cart_create = 326;
inline constexpr int sendrecv = 327, bcast = 332, isend = 341, start = 343, test = 350, waitany = 352;
inline constexpr int iprobe = 359, ssend = 364, sendrecv_replace = 1, rsend = 28, bsend = 299;
inline constexpr int irsend = 41, ibsend = 141, cart_sub = 145, comm_split_type = 27;
inline constexpr int comm_dup_with_info = 240, comm_create_group = 209, free_pseudo = 383;
}  // namespace fid

}  // namespace whatif::mpi
