// Collective operations (allreduce, allgather, ...) and their algorithms, run SPMD-style on a Communicator.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace whatif::sim {

class Communicator;

// Byte semantics: S is the `bytes` argument of run_collective and n the communicator size.
//   allreduce, broadcast, reduce  S = the buffer on each rank.
//   reduce-scatter                S = the input buffer of each rank; each rank ends with S/n.
//   allgather                     S = the output buffer of each rank; each rank contributes S/n.
//   alltoall                      S = the send buffer of each rank; S/n goes to each peer.
// When S is not a multiple of the block count, blocks differ by at most one byte.
// Reductions cost no compute: collectives here are pure communication, the arithmetic is assumed hidden
// behind the transfers (as on GPUs, where reduction kernels run far faster than the links feeding them).
enum class CollectiveOp { allreduce, reduce_scatter, allgather, broadcast, reduce, alltoall };

// Which ops each algorithm implements:
//   ring                allreduce (reduce-scatter + allgather), reduce-scatter, allgather
//   double-binary-tree  allreduce (NCCL: two complementary binary trees, each carrying half the buffer in
//                       chunks of chunk_bytes, pipelined reduce up and broadcast down)
//   recursive-doubling  allreduce, allgather (non-power-of-two n: the extra ranks fold into a partner first
//                       and get the result back last, as MPICH's allreduce does)
//   rabenseifner        allreduce (recursive-halving reduce-scatter + recursive-doubling allgather, MPICH's
//                       fold for non-power-of-two n)
//   binomial            broadcast, reduce (MPICH's binomial trees rooted at `root`)
//   pipelined           broadcast (a chain from `root`, the buffer cut into chunks of chunk_bytes)
//   pairwise            alltoall (n-1 steps; at step k rank r sends to r+k and receives from r-k)
//   hierarchical        allreduce (intra-node ring reduce-scatter, allreduce of each rank's block among the
//                       ranks with the same local index on every node, intra-node ring allgather); needs the
//                       same number of ranks on every node
//   auto                picks one of the above, see resolve_algorithm
enum class Algorithm {
  ring,
  double_binary_tree,
  recursive_doubling,
  rabenseifner,
  binomial,
  pipelined,
  pairwise,
  hierarchical,
  automatic,  // spelled "auto"
};

std::string_view to_string(CollectiveOp op);
std::string_view to_string(Algorithm algorithm);
// Parse the names above ("reduce-scatter", "double-binary-tree", "auto"); throw std::invalid_argument
// naming the valid spellings.
CollectiveOp parse_collective_op(std::string_view name);
Algorithm parse_algorithm(std::string_view name);

std::span<const CollectiveOp> all_collective_ops();
// The concrete algorithms implementing `op` (auto, valid for every op, is not listed).
std::span<const Algorithm> algorithms_for(CollectiveOp op);

inline constexpr std::uint64_t kDefaultChunkBytes = std::uint64_t{1} << 20;

// Thresholds of the auto choice (S as defined above, n ranks):
//   allreduce       n = 1: ring (nothing to do). S <= kSmallAllreduceBytes: recursive-doubling (latency
//                   bound; log2 n steps). Otherwise, when the communicator spans several nodes with the
//                   same number (> 1) of ranks on each: hierarchical (only 2(N-1)/N of S crosses the
//                   network, N nodes). Otherwise S < kLargeAllreduceBytes: rabenseifner (bandwidth-optimal
//                   with 2 log2 n latencies); above: ring, whose neighbour-only traffic stays on local links
//                   of real topologies (rings, tori) where the latency terms no longer matter.
//   allgather       S <= kSmallAllgatherBytes: recursive-doubling, else ring (MPICH's long-message limit).
//   broadcast       pipelined when its bandwidth term (n-2+k)/k * S/beta beats binomial's ceil(log2 n) *
//                   S/beta, k = ceil(S / chunk_bytes) chunks; binomial otherwise (and always for n <= 2).
//   reduce-scatter  ring.   reduce  binomial.   alltoall  pairwise.
// Double-binary-tree is only used on request.
inline constexpr std::uint64_t kSmallAllreduceBytes = 64 * 1024;
inline constexpr std::uint64_t kLargeAllreduceBytes = 8 * 1024 * 1024;
inline constexpr std::uint64_t kSmallAllgatherBytes = 512 * 1024;

struct CollectiveOptions {
  Algorithm algorithm = Algorithm::automatic;
  int root = 0;                                    // broadcast, reduce
  std::uint64_t chunk_bytes = kDefaultChunkBytes;  // pipelined, double-binary-tree
  // The allreduce run among nodes by hierarchical (auto: chosen for S/ranks_per_node bytes over N ranks,
  // never hierarchical itself).
  Algorithm inter_node_algorithm = Algorithm::automatic;
};

// Tags at and above this value are used by collectives; user messages should stay below it.
inline constexpr int kCollectiveTagBase = 1 << 20;

// The concrete algorithm `requested` stands for. Throws std::invalid_argument when the requested algorithm
// does not implement `op` (the message lists the ones that do) or cannot run on this communicator.
Algorithm resolve_algorithm(CollectiveOp op, const Communicator& comm, std::uint64_t bytes,
                            Algorithm requested);

// Checks everything run_collective would reject (algorithm, root, chunk size). Call it before spawning
// actors: an exception escaping an actor ends the simulation.
void validate_collective(CollectiveOp op, const Communicator& comm, std::uint64_t bytes,
                         const CollectiveOptions& options);

// Plays `rank`'s part of the collective; every rank of `comm` must call it, from its own actor, with the same
// op, bytes and options. Returns when this rank's part is over. n = 1 sends nothing.
void run_collective(CollectiveOp op, Communicator& comm, int rank, std::uint64_t bytes,
                    const CollectiveOptions& options = {});

// Validates, then spawns one actor per rank (on the rank's host) running run_collective; they run at the next
// engine run. `comm` must outlive that run.
void launch_collective(CollectiveOp op, Communicator& comm, std::uint64_t bytes,
                       const CollectiveOptions& options = {});

// nccl-tests' factor turning algorithm bandwidth (S / time) into bus bandwidth: allreduce 2(n-1)/n;
// reduce-scatter, allgather, alltoall (n-1)/n; broadcast, reduce 1.
double bus_bandwidth_factor(CollectiveOp op, int n);

}  // namespace whatif::sim
