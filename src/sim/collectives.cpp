// Collective algorithms as per-rank message schedules over a Communicator, after MPICH's and NCCL's designs.
#include "sim/collectives.hpp"

#include "sim/comm.hpp"

#include <fmt/format.h>
#include <simgrid/s4u/Actor.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <stdexcept>
#include <string>
#include <vector>

namespace whatif::sim {

namespace {

constexpr std::array kOps{CollectiveOp::allreduce, CollectiveOp::reduce_scatter, CollectiveOp::allgather,
                          CollectiveOp::broadcast, CollectiveOp::reduce,         CollectiveOp::alltoall};
constexpr std::array<std::string_view, 6> kOpNames{"allreduce", "reduce-scatter", "allgather",
                                                   "broadcast", "reduce",         "alltoall"};

constexpr std::array kAlgorithms{
    Algorithm::ring,         Algorithm::double_binary_tree, Algorithm::recursive_doubling,
    Algorithm::rabenseifner, Algorithm::binomial,           Algorithm::pipelined,
    Algorithm::pairwise,     Algorithm::hierarchical,       Algorithm::automatic};
constexpr std::array<std::string_view, 9> kAlgorithmNames{
    "ring",      "double-binary-tree", "recursive-doubling", "rabenseifner", "binomial",
    "pipelined", "pairwise",           "hierarchical",       "auto"};

constexpr std::array kAllreduceAlgorithms{Algorithm::ring, Algorithm::double_binary_tree,
                                          Algorithm::recursive_doubling, Algorithm::rabenseifner,
                                          Algorithm::hierarchical};
constexpr std::array kReduceScatterAlgorithms{Algorithm::ring};
constexpr std::array kAllgatherAlgorithms{Algorithm::ring, Algorithm::recursive_doubling};
constexpr std::array kBroadcastAlgorithms{Algorithm::binomial, Algorithm::pipelined};
constexpr std::array kReduceAlgorithms{Algorithm::binomial};
constexpr std::array kAlltoallAlgorithms{Algorithm::pairwise};

// Tag offsets inside one algorithm: the double binary tree uses four streams (two trees, up and down).
constexpr int kTagsPerAlgorithm = 4;

std::string algorithm_list(std::span<const Algorithm> algorithms) {
  std::string out;
  for (auto a : algorithms)
    out += fmt::format("{}, ", to_string(a));
  return out + "auto";
}

// `total` bytes cut into `count` blocks that differ by at most one byte; offset of block i.
std::uint64_t block_offset(std::uint64_t total, std::uint64_t count, std::uint64_t i) {
  return i * (total / count) + std::min(i, total % count);
}
std::uint64_t blocks_bytes(std::uint64_t total, std::uint64_t count, std::uint64_t first,
                           std::uint64_t last) {
  return block_offset(total, count, last) - block_offset(total, count, first);
}
std::uint64_t block_bytes(std::uint64_t total, std::uint64_t count, std::uint64_t i) {
  return blocks_bytes(total, count, i, i + 1);
}

std::uint64_t chunk_count(std::uint64_t bytes, std::uint64_t chunk_bytes) {
  return std::max<std::uint64_t>(1, (bytes + chunk_bytes - 1) / chunk_bytes);
}

int floor_pow2(int n) {
  return static_cast<int>(std::bit_floor(static_cast<unsigned>(n)));
}
int ceil_log2(int n) {
  return static_cast<int>(std::bit_width(static_cast<unsigned>(n - 1)));
}

// A set of ranks an algorithm runs over: the whole communicator, or one node, or the same local index on
// every node (hierarchical). Algorithms speak in member indices; tags keep the streams of concurrent phases
// apart.
struct Group {
  Communicator* comm;
  const int* members;  // communicator rank of each member; nullptr means member i is rank i
  int size;
  int me;
  int tag;

  int rank_of(int member) const { return members != nullptr ? members[member] : member; }
  void send(int to, std::uint64_t bytes, int tag_offset = 0) const {
    comm->send(rank_of(me), rank_of(to), bytes, tag + tag_offset);
  }
  void recv(int from, int tag_offset = 0) const { comm->recv(rank_of(me), rank_of(from), tag + tag_offset); }
  Request isend(int to, std::uint64_t bytes, int tag_offset = 0) const {
    return comm->isend(rank_of(me), rank_of(to), bytes, tag + tag_offset);
  }
  Request irecv(int from, int tag_offset = 0) const {
    return comm->irecv(rank_of(me), rank_of(from), tag + tag_offset);
  }
  // Sends to one member while receiving from another (MPI_Sendrecv).
  void exchange(int to, std::uint64_t bytes, int from) const {
    Request in = irecv(from);
    Request out = isend(to, bytes);
    out.wait();
    in.wait();
  }
};

// ---- ring -------------------------------------------------------------------------------------------------
// n-1 steps, each sending one S/n block to the right neighbour while receiving one from the left:
// (n-1)(alpha + S/(n beta)) when every rank has its own links.

void ring_reduce_scatter(const Group& g, std::uint64_t bytes) {
  const int n = g.size;
  const int right = (g.me + 1) % n, left = (g.me + n - 1) % n;
  // Rank r forwards block r-s-1 at step s, so after n-1 steps it holds the reduced block r.
  for (int s = 0; s < n - 1; ++s) {
    const int block = ((g.me - s - 1) % n + n) % n;
    g.exchange(right, block_bytes(bytes, static_cast<std::uint64_t>(n), static_cast<std::uint64_t>(block)),
               left);
  }
}

void ring_allgather(const Group& g, std::uint64_t bytes) {
  const int n = g.size;
  const int right = (g.me + 1) % n, left = (g.me + n - 1) % n;
  for (int s = 0; s < n - 1; ++s) {
    const int block = ((g.me - s) % n + n) % n;
    g.exchange(right, block_bytes(bytes, static_cast<std::uint64_t>(n), static_cast<std::uint64_t>(block)),
               left);
  }
}

// ---- MPICH's fold for non-power-of-two n ------------------------------------------------------------------
// With p = 2^floor(log2 n) and rem = n - p, each even rank below 2 rem hands its data to the odd rank above
// it and sits out; the p survivors run the power-of-two algorithm as "virtual" ranks, then the odd ranks send
// the result back.
struct Fold {
  int p;
  int rem;
  int virtual_rank;  // -1 for the ranks that sit out

  explicit Fold(const Group& g) : p(floor_pow2(g.size)), rem(g.size - floor_pow2(g.size)) {
    if (g.me < 2 * rem)
      virtual_rank = g.me % 2 == 0 ? -1 : g.me / 2;
    else
      virtual_rank = g.me - rem;
  }
  bool folded(const Group& g) const { return g.me < 2 * rem; }
  // The member playing virtual rank v.
  int member_of(int v) const { return v < rem ? 2 * v + 1 : v + rem; }
  // The first member whose data virtual rank v holds (v may be p: one past the last member).
  int first_member(int v) const { return v < rem ? 2 * v : v + rem; }
  // Before the power-of-two part: each sitting-out rank hands its whole buffer to its partner...
  void fold_in(const Group& g, std::uint64_t bytes) const {
    if (!folded(g)) return;
    if (virtual_rank < 0)
      g.send(g.me + 1, bytes);
    else
      g.recv(g.me - 1);
  }
  // ...and gets the result back after it.
  void fold_out(const Group& g, std::uint64_t bytes) const {
    if (!folded(g)) return;
    if (virtual_rank < 0)
      g.recv(g.me + 1);
    else
      g.send(g.me - 1, bytes);
  }
};

void recursive_doubling_allreduce(const Group& g, std::uint64_t bytes) {
  const Fold fold(g);
  fold.fold_in(g, bytes);
  if (fold.virtual_rank >= 0) {
    for (int mask = 1; mask < fold.p; mask <<= 1) {
      const int partner = fold.member_of(fold.virtual_rank ^ mask);
      g.exchange(partner, bytes, partner);
    }
  }
  fold.fold_out(g, bytes);
}

// MPICH's MPIR_Allreduce_intra_reduce_scatter_allgather: recursive vector halving with distance doubling,
// then the reverse, over p equal blocks.
void rabenseifner_allreduce(const Group& g, std::uint64_t bytes) {
  const Fold fold(g);
  fold.fold_in(g, bytes);
  if (fold.virtual_rank >= 0) {
    const int p = fold.p, v = fold.virtual_rank;
    const auto count = static_cast<std::uint64_t>(p);
    auto span_bytes = [&](int first, int last) {
      return blocks_bytes(bytes, count, static_cast<std::uint64_t>(first), static_cast<std::uint64_t>(last));
    };
    int send_idx = 0, recv_idx = 0, last_idx = p;
    int mask = 1;
    while (mask < p) {
      const int partner_v = v ^ mask;
      std::uint64_t send_bytes = 0;
      if (v < partner_v) {
        send_idx = recv_idx + p / (mask * 2);
        send_bytes = span_bytes(send_idx, last_idx);
      } else {
        recv_idx = send_idx + p / (mask * 2);
        send_bytes = span_bytes(send_idx, recv_idx);
      }
      const int partner = fold.member_of(partner_v);
      g.exchange(partner, send_bytes, partner);
      send_idx = recv_idx;
      mask <<= 1;
      if (mask < p) last_idx = recv_idx + p / mask;
    }
    mask >>= 1;
    while (mask > 0) {
      const int partner_v = v ^ mask;
      std::uint64_t send_bytes = 0;
      if (v < partner_v) {
        if (mask != p / 2) last_idx = last_idx + p / (mask * 2);
        recv_idx = send_idx + p / (mask * 2);
        send_bytes = span_bytes(send_idx, recv_idx);
      } else {
        recv_idx = send_idx - p / (mask * 2);
        send_bytes = span_bytes(send_idx, last_idx);
      }
      const int partner = fold.member_of(partner_v);
      g.exchange(partner, send_bytes, partner);
      if (v > partner_v) send_idx = recv_idx;
      mask >>= 1;
    }
  }
  fold.fold_out(g, bytes);
}

// Recursive doubling over S/n blocks; for non-power-of-two n the same fold as allreduce (the partner forwards
// the sitting-out rank's block, and returns every block but its own at the end), so survivors hold unequal
// amounts and a step lasts as long as the larger of the two transfers.
void recursive_doubling_allgather(const Group& g, std::uint64_t bytes) {
  const Fold fold(g);
  const auto n = static_cast<std::uint64_t>(g.size);
  if (fold.folded(g)) {
    if (fold.virtual_rank < 0)
      g.send(g.me + 1, block_bytes(bytes, n, static_cast<std::uint64_t>(g.me)));
    else
      g.recv(g.me - 1);
  }
  if (fold.virtual_rank >= 0) {
    for (int mask = 1; mask < fold.p; mask <<= 1) {
      // Before this step a virtual rank holds the blocks of its aligned group of `mask` virtual ranks.
      const int group_first = fold.virtual_rank & ~(mask - 1);
      const std::uint64_t held =
          blocks_bytes(bytes, n, static_cast<std::uint64_t>(fold.first_member(group_first)),
                       static_cast<std::uint64_t>(fold.first_member(group_first + mask)));
      const int partner = fold.member_of(fold.virtual_rank ^ mask);
      g.exchange(partner, held, partner);
    }
  }
  if (fold.folded(g)) {
    if (fold.virtual_rank < 0)
      g.recv(g.me + 1);
    else
      g.send(g.me - 1, bytes - block_bytes(bytes, n, static_cast<std::uint64_t>(g.me - 1)));
  }
}

// ---- double binary tree (NCCL) ----------------------------------------------------------------------------

struct Tree {
  int parent = -1;
  std::array<int, 2> children{-1, -1};
};

// NCCL's ncclGetBtree: an in-order binary tree whose root (rank 0) has a single child, the highest power of
// two below n; a rank's links follow from its lowest set bit.
Tree nccl_btree(int n, int rank) {
  Tree t;
  int bit = 1;
  while (bit < n && (bit & rank) == 0)
    bit <<= 1;
  if (rank == 0) {
    t.children[1] = n > 1 ? bit >> 1 : -1;
    return t;
  }
  int up = (rank ^ bit) | (bit << 1);
  if (up >= n) up = rank ^ bit;
  t.parent = up;
  int lowbit = bit >> 1;
  t.children[0] = lowbit == 0 ? -1 : rank - lowbit;
  int down1 = lowbit == 0 ? -1 : rank + lowbit;
  while (down1 >= n) {
    lowbit >>= 1;
    down1 = lowbit == 0 ? -1 : rank + lowbit;
  }
  t.children[1] = down1;
  return t;
}

// NCCL's ncclGetDtree: tree 0 is the btree; tree 1 is its mirror (n even) or its shift by one (n odd), so
// that the leaves of one tree are the inner nodes of the other and every rank's links carry balanced traffic.
Tree nccl_dtree(int n, int rank, int which) {
  if (which == 0) return nccl_btree(n, rank);
  const bool mirror = n % 2 == 0;
  auto to_tree = [&](int r) { return mirror ? n - 1 - r : (r - 1 + n) % n; };
  auto from_tree = [&](int r) { return r < 0 ? -1 : (mirror ? n - 1 - r : (r + 1) % n); };
  Tree t = nccl_btree(n, to_tree(rank));
  t.parent = from_tree(t.parent);
  for (auto& child : t.children)
    child = from_tree(child);
  return t;
}

// Each tree carries half the buffer in k chunks. A rank's part in one tree runs in helper actors so the two
// trees and the two directions proceed independently, as NCCL's channels do: the reducer receives chunk c
// from its children and forwards it up while chunk c+1 arrives; the broadcaster receives chunk c from its
// parent and forwards it down; the root turns each reduced chunk around at once. Each actor keeps at most one
// chunk in flight per link, which is what pipelines the chunks and bounds the outstanding sends.
void double_binary_tree_allreduce(const Group& g, std::uint64_t bytes, std::uint64_t chunk_bytes) {
  const std::array<std::uint64_t, 2> half{bytes - bytes / 2, bytes / 2};
  auto* host = simgrid::s4u::this_actor::get_host();
  const std::string prefix = fmt::format("{}:dbt", simgrid::s4u::this_actor::get_cname());
  std::vector<simgrid::s4u::ActorPtr> helpers;
  for (int which = 0; which < 2; ++which) {
    const Tree tree = nccl_dtree(g.size, g.me, which);
    const std::uint64_t total = half[static_cast<std::size_t>(which)];
    const std::uint64_t k = chunk_count(total, chunk_bytes);
    const int up_tag = 2 * which, down_tag = 2 * which + 1;
    auto receive_from_children = [g, tree, up_tag] {
      std::array<Request, 2> in;
      for (std::size_t i = 0; i < 2; ++i)
        if (tree.children[i] >= 0) in[i] = g.irecv(tree.children[i], up_tag);
      wait_all(in);
    };
    auto send_to_children = [g, tree, down_tag](std::array<Request, 2>& out, std::uint64_t chunk) {
      wait_all(out);
      for (std::size_t i = 0; i < 2; ++i)
        if (tree.children[i] >= 0) out[i] = g.isend(tree.children[i], chunk, down_tag);
    };
    if (tree.parent < 0) {
      helpers.push_back(simgrid::s4u::Actor::create(fmt::format("{}{}-root", prefix, which), host, [=] {
        std::array<Request, 2> out;
        for (std::uint64_t c = 0; c < k; ++c) {
          receive_from_children();
          send_to_children(out, block_bytes(total, k, c));
        }
        wait_all(out);
      }));
      continue;
    }
    helpers.push_back(simgrid::s4u::Actor::create(fmt::format("{}{}-up", prefix, which), host, [=] {
      Request out;
      for (std::uint64_t c = 0; c < k; ++c) {
        receive_from_children();
        out.wait();
        out = g.isend(tree.parent, block_bytes(total, k, c), up_tag);
      }
      out.wait();
    }));
    helpers.push_back(simgrid::s4u::Actor::create(fmt::format("{}{}-down", prefix, which), host, [=] {
      std::array<Request, 2> out;
      for (std::uint64_t c = 0; c < k; ++c) {
        g.recv(tree.parent, down_tag);
        send_to_children(out, block_bytes(total, k, c));
      }
      wait_all(out);
    }));
  }
  for (auto& helper : helpers)
    helper->join();
}

// ---- rooted and all-to-all --------------------------------------------------------------------------------

// MPICH's binomial broadcast: receive from the parent (clear the lowest set bit of the rank relative to the
// root), then send to the children from the farthest down, one after the other: ceil(log2 n)(alpha + S/beta).
void binomial_broadcast(const Group& g, std::uint64_t bytes, int root) {
  const int n = g.size;
  const int vr = (g.me - root + n) % n;
  auto member = [&](int v) { return (v + root) % n; };
  int mask = 1;
  while (mask < n) {
    if ((vr & mask) != 0) {
      g.recv(member(vr - mask));
      break;
    }
    mask <<= 1;
  }
  for (mask >>= 1; mask > 0; mask >>= 1)
    if (vr + mask < n) g.send(member(vr + mask), bytes);
}

// MPICH's binomial reduce: the broadcast tree run backwards, children received nearest first.
void binomial_reduce(const Group& g, std::uint64_t bytes, int root) {
  const int n = g.size;
  const int vr = (g.me - root + n) % n;
  auto member = [&](int v) { return (v + root) % n; };
  for (int mask = 1; mask < n; mask <<= 1) {
    if ((vr & mask) == 0) {
      if ((vr | mask) < n) g.recv(member(vr | mask));
    } else {
      g.send(member(vr & ~mask), bytes);
      break;
    }
  }
}

// A chain root -> root+1 -> ... in k chunks. Each rank posts the receive of chunk c+1 before forwarding chunk
// c, so every link moves one chunk per step: (n-2+k)(alpha + S/(k beta)).
void pipelined_broadcast(const Group& g, std::uint64_t bytes, int root, std::uint64_t chunk_bytes) {
  const int n = g.size;
  const int vr = (g.me - root + n) % n;
  const std::uint64_t k = chunk_count(bytes, chunk_bytes);
  const int prev = (g.me + n - 1) % n, next = (g.me + 1) % n;
  const bool last = vr == n - 1;
  if (vr == 0) {
    for (std::uint64_t c = 0; c < k; ++c)
      g.send(next, block_bytes(bytes, k, c));
    return;
  }
  Request in = g.irecv(prev);
  for (std::uint64_t c = 0; c < k; ++c) {
    in.wait();
    if (c + 1 < k) in = g.irecv(prev);
    if (!last) g.send(next, block_bytes(bytes, k, c));
  }
}

// n-1 steps; at step s rank r sends its block for r+s and receives from r-s, so every link carries one S/n
// block per step: (n-1)(alpha + S/(n beta)).
void pairwise_alltoall(const Group& g, std::uint64_t bytes) {
  const int n = g.size;
  for (int s = 1; s < n; ++s) {
    const int to = (g.me + s) % n, from = (g.me - s + n) % n;
    g.exchange(to, block_bytes(bytes, static_cast<std::uint64_t>(n), static_cast<std::uint64_t>(to)), from);
  }
}

// ---- choice -----------------------------------------------------------------------------------------------

Algorithm choose(CollectiveOp op, int n, std::uint64_t bytes, bool multi_node_uniform,
                 std::uint64_t chunk_bytes) {
  switch (op) {
    case CollectiveOp::allreduce:
      if (n == 1) return Algorithm::ring;
      if (bytes <= kSmallAllreduceBytes) return Algorithm::recursive_doubling;
      if (multi_node_uniform) return Algorithm::hierarchical;
      return bytes < kLargeAllreduceBytes ? Algorithm::rabenseifner : Algorithm::ring;
    case CollectiveOp::reduce_scatter:
      return Algorithm::ring;
    case CollectiveOp::allgather:
      return bytes <= kSmallAllgatherBytes ? Algorithm::recursive_doubling : Algorithm::ring;
    case CollectiveOp::broadcast: {
      if (n <= 2) return Algorithm::binomial;
      const std::uint64_t k = chunk_count(bytes, chunk_bytes);
      const auto chain_steps = static_cast<std::uint64_t>(n - 2) + k;
      return chain_steps < static_cast<std::uint64_t>(ceil_log2(n)) * k ? Algorithm::pipelined
                                                                        : Algorithm::binomial;
    }
    case CollectiveOp::reduce:
      return Algorithm::binomial;
    case CollectiveOp::alltoall:
      return Algorithm::pairwise;
  }
  return Algorithm::ring;
}

bool spans_uniform_nodes(const Communicator& comm) {
  return comm.node_count() > 1 && comm.ranks_per_node() > 1;
}

Algorithm resolve(CollectiveOp op, const Communicator& comm, std::uint64_t bytes, Algorithm requested,
                  std::uint64_t chunk_bytes) {
  if (requested == Algorithm::automatic)
    return choose(op, comm.size(), bytes, spans_uniform_nodes(comm), chunk_bytes);
  auto valid = algorithms_for(op);
  if (std::find(valid.begin(), valid.end(), requested) == valid.end())
    throw std::invalid_argument(fmt::format("algorithm '{}' does not implement {}; valid for {}: {}",
                                            to_string(requested), to_string(op), to_string(op),
                                            algorithm_list(valid)));
  if (requested == Algorithm::hierarchical && comm.ranks_per_node() == 0)
    throw std::invalid_argument(fmt::format(
        "algorithm 'hierarchical' needs the same number of ranks on every node; communicator '{}' "
        "has nodes of different sizes",
        comm.name()));
  return requested;
}

void allreduce(const Group& g, std::uint64_t bytes, Algorithm algorithm, const CollectiveOptions& options);

// Intra-node ring reduce-scatter, then the ranks with the same local index allreduce their block across nodes
// (all local indices at once, sharing each node's network links), then intra-node ring allgather.
void hierarchical_allreduce(const Group& g, std::uint64_t bytes, const CollectiveOptions& options) {
  const Communicator& comm = *g.comm;
  const int rank = g.rank_of(g.me);
  const int node = comm.node_of(rank), local = comm.local_rank(rank);
  const int per_node = comm.ranks_per_node(), nodes = comm.node_count();
  const Group intra{g.comm, comm.node_ranks(node).data(), per_node, local, g.tag};
  std::vector<int> peers(static_cast<std::size_t>(nodes));
  for (int other = 0; other < nodes; ++other)
    peers[static_cast<std::size_t>(other)] = comm.node_ranks(other)[static_cast<std::size_t>(local)];
  const Group inter{g.comm, peers.data(), nodes, node, g.tag + kTagsPerAlgorithm};
  const Group intra_gather{g.comm, intra.members, per_node, local, g.tag + 2 * kTagsPerAlgorithm};

  const std::uint64_t block =
      block_bytes(bytes, static_cast<std::uint64_t>(per_node), static_cast<std::uint64_t>(local));
  if (per_node > 1) ring_reduce_scatter(intra, bytes);
  if (nodes > 1) {
    const Algorithm inter_algorithm =
        options.inter_node_algorithm == Algorithm::automatic
            ? choose(CollectiveOp::allreduce, nodes, block, false, options.chunk_bytes)
            : options.inter_node_algorithm;
    allreduce(inter, block, inter_algorithm, options);
  }
  if (per_node > 1) ring_allgather(intra_gather, bytes);
}

void allreduce(const Group& g, std::uint64_t bytes, Algorithm algorithm, const CollectiveOptions& options) {
  if (g.size == 1) return;
  switch (algorithm) {
    case Algorithm::ring:
      ring_reduce_scatter(g, bytes);
      ring_allgather(g, bytes);
      return;
    case Algorithm::double_binary_tree:
      double_binary_tree_allreduce(g, bytes, options.chunk_bytes);
      return;
    case Algorithm::recursive_doubling:
      recursive_doubling_allreduce(g, bytes);
      return;
    case Algorithm::rabenseifner:
      rabenseifner_allreduce(g, bytes);
      return;
    case Algorithm::hierarchical:
      hierarchical_allreduce(g, bytes, options);
      return;
    default:
      return;  // unreachable: validated by resolve()
  }
}

}  // namespace

std::string_view to_string(CollectiveOp op) {
  return kOpNames[static_cast<std::size_t>(op)];
}
std::string_view to_string(Algorithm algorithm) {
  return kAlgorithmNames[static_cast<std::size_t>(algorithm)];
}

CollectiveOp parse_collective_op(std::string_view name) {
  for (std::size_t i = 0; i < kOps.size(); ++i)
    if (kOpNames[i] == name) return kOps[i];
  std::string valid;
  for (auto op_name : kOpNames)
    valid += fmt::format("{}{}", valid.empty() ? "" : ", ", op_name);
  throw std::invalid_argument(fmt::format("unknown collective '{}'; valid: {}", name, valid));
}

Algorithm parse_algorithm(std::string_view name) {
  for (std::size_t i = 0; i < kAlgorithms.size(); ++i)
    if (kAlgorithmNames[i] == name) return kAlgorithms[i];
  std::string valid;
  for (auto algorithm_name : kAlgorithmNames)
    valid += fmt::format("{}{}", valid.empty() ? "" : ", ", algorithm_name);
  throw std::invalid_argument(fmt::format("unknown collective algorithm '{}'; valid: {}", name, valid));
}

std::span<const CollectiveOp> all_collective_ops() {
  return kOps;
}

std::span<const Algorithm> algorithms_for(CollectiveOp op) {
  switch (op) {
    case CollectiveOp::allreduce:
      return kAllreduceAlgorithms;
    case CollectiveOp::reduce_scatter:
      return kReduceScatterAlgorithms;
    case CollectiveOp::allgather:
      return kAllgatherAlgorithms;
    case CollectiveOp::broadcast:
      return kBroadcastAlgorithms;
    case CollectiveOp::reduce:
      return kReduceAlgorithms;
    case CollectiveOp::alltoall:
      return kAlltoallAlgorithms;
  }
  return {};
}

Algorithm resolve_algorithm(CollectiveOp op, const Communicator& comm, std::uint64_t bytes,
                            Algorithm requested) {
  return resolve(op, comm, bytes, requested, kDefaultChunkBytes);
}

void validate_collective(CollectiveOp op, const Communicator& comm, std::uint64_t bytes,
                         const CollectiveOptions& options) {
  if (options.chunk_bytes == 0) throw std::invalid_argument("collective chunk size must be at least 1 byte");
  if ((op == CollectiveOp::broadcast || op == CollectiveOp::reduce) &&
      (options.root < 0 || options.root >= comm.size()))
    throw std::invalid_argument(fmt::format("{} root {} is not a rank of communicator '{}' (0..{})",
                                            to_string(op), options.root, comm.name(), comm.size() - 1));
  const Algorithm algorithm = resolve(op, comm, bytes, options.algorithm, options.chunk_bytes);
  if (algorithm == Algorithm::hierarchical && options.inter_node_algorithm != Algorithm::automatic) {
    if (options.inter_node_algorithm == Algorithm::hierarchical)
      throw std::invalid_argument("hierarchical allreduce cannot use hierarchical between nodes");
    auto valid = algorithms_for(CollectiveOp::allreduce);
    if (std::find(valid.begin(), valid.end(), options.inter_node_algorithm) == valid.end())
      throw std::invalid_argument(fmt::format(
          "inter-node algorithm '{}' does not implement allreduce; valid: ring, double-binary-tree, "
          "recursive-doubling, rabenseifner, auto",
          to_string(options.inter_node_algorithm)));
  }
}

void run_collective(CollectiveOp op, Communicator& comm, int rank, std::uint64_t bytes,
                    const CollectiveOptions& options) {
  if (rank < 0 || rank >= comm.size())
    throw std::invalid_argument(fmt::format("rank {} is not in communicator '{}'", rank, comm.name()));
  validate_collective(op, comm, bytes, options);
  if (comm.size() == 1) return;
  const Algorithm algorithm = resolve(op, comm, bytes, options.algorithm, options.chunk_bytes);
  const Group g{&comm, nullptr, comm.size(), rank, kCollectiveTagBase};
  switch (op) {
    case CollectiveOp::allreduce:
      allreduce(g, bytes, algorithm, options);
      return;
    case CollectiveOp::reduce_scatter:
      ring_reduce_scatter(g, bytes);
      return;
    case CollectiveOp::allgather:
      if (algorithm == Algorithm::recursive_doubling)
        recursive_doubling_allgather(g, bytes);
      else
        ring_allgather(g, bytes);
      return;
    case CollectiveOp::broadcast:
      if (algorithm == Algorithm::pipelined)
        pipelined_broadcast(g, bytes, options.root, options.chunk_bytes);
      else
        binomial_broadcast(g, bytes, options.root);
      return;
    case CollectiveOp::reduce:
      binomial_reduce(g, bytes, options.root);
      return;
    case CollectiveOp::alltoall:
      pairwise_alltoall(g, bytes);
      return;
  }
}

void launch_collective(CollectiveOp op, Communicator& comm, std::uint64_t bytes,
                       const CollectiveOptions& options) {
  validate_collective(op, comm, bytes, options);
  Communicator* shared = &comm;
  spawn_ranks(comm, fmt::format("{}/{}:", comm.name(), to_string(op)),
              [shared, op, bytes, options](int rank) { run_collective(op, *shared, rank, bytes, options); });
}

double bus_bandwidth_factor(CollectiveOp op, int n) {
  if (n < 1)
    throw std::invalid_argument(fmt::format("bus bandwidth factor needs at least one rank, got {}", n));
  const double ranks = n;
  switch (op) {
    case CollectiveOp::allreduce:
      return 2.0 * (ranks - 1.0) / ranks;
    case CollectiveOp::reduce_scatter:
    case CollectiveOp::allgather:
    case CollectiveOp::alltoall:
      return (ranks - 1.0) / ranks;
    case CollectiveOp::broadcast:
    case CollectiveOp::reduce:
      return 1.0;
  }
  return 1.0;
}

}  // namespace whatif::sim
