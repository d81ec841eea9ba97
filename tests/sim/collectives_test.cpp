// Collective algorithms timed on the test platforms against closed-form alpha-beta costs (within 1 %).
#include <gtest/gtest.h>

#include "test_platform.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>

namespace whatif::sim::test {
namespace {

constexpr double a = kAlpha;
constexpr double b = kBeta;

int log2_floor(int n) {
  return static_cast<int>(std::floor(std::log2(n)));
}
int log2_ceil(int n) {
  return static_cast<int>(std::ceil(std::log2(n)));
}

void expect_time(CollectiveOp op, Communicator& comm, std::uint64_t bytes, const CollectiveOptions& options,
                 double expected) {
  SCOPED_TRACE(
      fmt::format("{} {} n={} S={}", to_string(op), to_string(options.algorithm), comm.size(), bytes));
  const double t = time_collective(op, comm, bytes, options);
  EXPECT_NEAR(t, expected, 0.01 * expected);
}

void expect_star(CollectiveOp op, int n, std::uint64_t bytes, const CollectiveOptions& options,
                 double expected) {
  Communicator comm = star_comm(n);
  expect_time(op, comm, bytes, options, expected);
}

TEST(Collectives, RingAllreduce) {
  // 2(n-1) steps of one S/n block each: 2(n-1) alpha + 2(n-1)/n S/beta.
  // e.g. n = 8, S = 1e7: 14e-6 + 1.75e-2 = 1.7514e-2 s.
  for (int n : {2, 3, 8, 13})
    for (std::uint64_t s : {10000ULL, 10000000ULL}) {
      const double S = static_cast<double>(s);
      expect_star(CollectiveOp::allreduce, n, s, {.algorithm = Algorithm::ring},
                  2 * (n - 1) * a + 2.0 * (n - 1) / n * S / b);
    }
}

TEST(Collectives, RingReduceScatterAndAllgather) {
  // n-1 steps of one S/n block: (n-1) alpha + (n-1)/n S/beta, S being the input (reduce-scatter) or the
  // output (allgather). e.g. n = 5, S = 1e7: 4e-6 + 8e-3 = 8.004e-3 s.
  for (int n : {2, 5, 8, 13})
    for (std::uint64_t s : {10000ULL, 10000000ULL}) {
      const double S = static_cast<double>(s);
      const double expected = (n - 1) * a + (n - 1.0) / n * S / b;
      expect_star(CollectiveOp::reduce_scatter, n, s, {.algorithm = Algorithm::ring}, expected);
      expect_star(CollectiveOp::allgather, n, s, {.algorithm = Algorithm::ring}, expected);
    }
}

TEST(Collectives, RecursiveDoublingAllreduce) {
  // Power of two: log2 n exchanges of the whole buffer: log2(n) (alpha + S/beta).
  // Otherwise (MPICH fold, p = 2^floor(log2 n)): one extra step before and one after: (log2 p + 2)(alpha +
  // S/beta). e.g. n = 8, S = 1e6: 3 (1e-6 + 1e-3) = 3.003e-3 s; n = 6: (2 + 2)(1.001e-3) = 4.004e-3 s.
  for (int n : {2, 3, 4, 5, 6, 8, 12, 16})
    for (std::uint64_t s : {1000ULL, 1000000ULL}) {
      const double S = static_cast<double>(s);
      const bool pow2 = (n & (n - 1)) == 0;
      const int steps = pow2 ? log2_floor(n) : log2_floor(n) + 2;
      expect_star(CollectiveOp::allreduce, n, s, {.algorithm = Algorithm::recursive_doubling},
                  steps * (a + S / b));
    }
}

TEST(Collectives, RabenseifnerAllreduce) {
  // Power of two: recursive halving sends S/2, S/4, ..., S/n, recursive doubling the same back:
  // 2 log2(n) alpha + 2 (n-1)/n S/beta. e.g. n = 8, S = 8e6: 6e-6 + 1.4e-2 = 1.4006e-2 s.
  // Otherwise the fold adds a whole-buffer step before and after, the core running on p = 2^floor(log2 n):
  // 2 log2(p) alpha + 2 (p-1)/p S/beta + 2 (alpha + S/beta). e.g. n = 6, S = 8e6: p = 4:
  // 4e-6 + 1.2e-2 + 2 (1e-6 + 8e-3) = 2.8006e-2 s.
  for (int n : {2, 3, 4, 6, 8, 12, 16})
    for (std::uint64_t s : {16000ULL, 8000000ULL}) {
      const double S = static_cast<double>(s);
      const int p = 1 << log2_floor(n);
      double expected = 2 * log2_floor(p) * a + 2.0 * (p - 1) / p * S / b;
      if (p != n) expected += 2 * (a + S / b);
      expect_star(CollectiveOp::allreduce, n, s, {.algorithm = Algorithm::rabenseifner}, expected);
    }
}

TEST(Collectives, RecursiveDoublingAllgather) {
  // Power of two: step k exchanges 2^k blocks of S/n: log2(n) alpha + (n-1)/n S/beta.
  // e.g. n = 8, S = 8e6: 3e-6 + 7e-3 = 7.003e-3 s.
  for (int n : {2, 4, 8, 16})
    for (std::uint64_t s : {16000ULL, 8000000ULL}) {
      const double S = static_cast<double>(s);
      expect_star(CollectiveOp::allgather, n, s, {.algorithm = Algorithm::recursive_doubling},
                  log2_floor(n) * a + (n - 1.0) / n * S / b);
    }
  // n = 6 (p = 4, rem = 2), blocks of c = S/6. Ranks 0 and 2 hand their block to 1 and 3 (alpha + c); the
  // virtual ranks then hold {0,1}, {2,3}, {4}, {5}. Step 1: 1 <-> 3 swap 2 blocks (alpha + 2c; 4 <-> 5 swap 1
  // earlier). Step 2: 1 <-> 4 and 3 <-> 5: 1 sends 4 blocks, 4 sends 2, the step lasts alpha + 4c. Last, 1
  // and 3 return the 5 blocks 0 and 2 lack: alpha + 5c. Total 4 alpha + 12 c = 4 alpha + 2 S/beta. S = 6e6:
  // 4e-6 + 1.2e-2 = 1.2004e-2 s.
  expect_star(CollectiveOp::allgather, 6, 6000000, {.algorithm = Algorithm::recursive_doubling},
              4 * a + 2 * 6e6 / b);
}

TEST(Collectives, BinomialBroadcastAndReduce) {
  // Each level of the binomial tree is one whole-buffer message, sent one after the other by the root:
  // ceil(log2 n)(alpha + S/beta), for any root. e.g. n = 12, S = 1e6: 4 (1.001e-3) = 4.004e-3 s.
  for (int n : {2, 5, 8, 12})
    for (int root : {0, 3})
      for (std::uint64_t s : {1000ULL, 1000000ULL}) {
        const double S = static_cast<double>(s);
        const double expected = log2_ceil(n) * (a + S / b);
        const CollectiveOptions options{.algorithm = Algorithm::binomial, .root = root % n};
        expect_star(CollectiveOp::broadcast, n, s, options, expected);
        expect_star(CollectiveOp::reduce, n, s, options, expected);
      }
}

TEST(Collectives, PipelinedBroadcast) {
  // A chain of n ranks moving k chunks of S/k: the first chunk needs n-1 steps, each later one a step more:
  // (n-2+k)(alpha + S/(k beta)). e.g. n = 8, S = 8e6, chunk 1e6 (k = 8): 14 (1e-6 + 1e-3) = 1.4014e-2 s.
  for (int n : {2, 4, 8})
    for (int root : {0, 1})
      for (std::uint64_t chunk : {1000000ULL, 8000000ULL}) {
        const std::uint64_t s = 8000000;
        const double k = static_cast<double>(s / chunk);
        expect_star(CollectiveOp::broadcast, n, s,
                    {.algorithm = Algorithm::pipelined, .root = root, .chunk_bytes = chunk},
                    (n - 2 + k) * (a + 8e6 / (k * b)));
      }
}

TEST(Collectives, PairwiseAlltoall) {
  // n-1 steps, each sending one S/n block out and receiving one in: (n-1)(alpha + S/(n beta)).
  // e.g. n = 5, S = 1e7: 4 (1e-6 + 2e-3) = 8.004e-3 s.
  for (int n : {2, 5, 8})
    for (std::uint64_t s : {8000ULL, 10000000ULL}) {
      const double S = static_cast<double>(s);
      expect_star(CollectiveOp::alltoall, n, s, {.algorithm = Algorithm::pairwise},
                  (n - 1) * (a + S / (n * b)));
    }
}

TEST(Collectives, DoubleBinaryTree) {
  const CollectiveOptions one_chunk{.algorithm = Algorithm::double_binary_tree, .chunk_bytes = 1ULL << 40};
  const double S = 4e6;  // each tree carries C = S/2
  // n = 2: tree 0 is 0 <- 1, tree 1 its mirror 1 <- 0. One chunk: reduce up (alpha + C/beta) in both trees at
  // once on opposite directions, then broadcast down the same way: 2 alpha + S/beta = 4.002e-3 s.
  expect_star(CollectiveOp::allreduce, 2, 4000000, one_chunk, 2 * a + S / b);
  // n = 2, k = 4 chunks of c = S/8 per tree. In the direction 1 -> 0 travel tree 0's reduce (from 1) and tree
  // 1's broadcast (from root 1). Step 1: reduce chunk 0 alone, alpha + c/beta. Steps 2..k: reduce chunk j and
  // broadcast chunk j-1 share the link, alpha + 2c/beta each. Last: broadcast chunk k-1 alone, alpha +
  // c/beta. Total (k+1) alpha + 2kc/beta = 5 alpha + S/beta = 4.005e-3 s.
  expect_star(CollectiveOp::allreduce, 2, 4000000,
              {.algorithm = Algorithm::double_binary_tree, .chunk_bytes = 500000}, 5 * a + S / b);
  // n = 3 (odd: tree 1 is tree 0 shifted by one): tree 0 is 0 <- 2 <- 1, tree 1 is 1 <- 0 <- 2. One chunk.
  // Up: 1 -> 2 and 2 -> 0 at once, then 2 -> 0 and 0 -> 1; down: 0 -> 2 and 1 -> 0, then 2 -> 1 and 0 -> 2.
  // No link carries two flows: 4 (alpha + C/beta) = 4 alpha + 2 S/beta = 8.004e-3 s.
  expect_star(CollectiveOp::allreduce, 3, 4000000, one_chunk, 4 * a + 2 * S / b);
  // n = 4: tree 0 is 0 <- 2 <- {1, 3}, tree 1 (mirror) is 3 <- 1 <- {2, 0}. One chunk.
  //   leaves up: 1,3 -> 2 and 2,0 -> 1: two flows into 2 and into 1, beta/2 each: alpha + 2C/beta
  //   2 -> 0 and 1 -> 3 alone: alpha + C/beta;  roots down: 0 -> 2 and 3 -> 1: alpha + C/beta
  //   2 -> 1,3 and 1 -> 2,0: two flows out of 2 and out of 1: alpha + 2C/beta
  // Total 4 alpha + 6C/beta = 4 alpha + 3 S/beta = 1.2004e-2 s.
  expect_star(CollectiveOp::allreduce, 4, 4000000, one_chunk, 4 * a + 3 * S / b);
}

TEST(Collectives, DoubleBinaryTreePipelinesLargeBuffers) {
  // With many chunks both trees stream. An inner node of one tree receives two children's chunks and later
  // sends to two children, while it sends one chunk up and receives one down in the other tree: about 2S
  // through each direction of its link whatever n, against 2(n-1)/n S for the ring. Filling and draining the
  // pipeline costs at most one contended chunk step (alpha + 2c/beta, c the chunk) per tree level, up and
  // down. So 2(n-1)/n S/beta < t < 2 S/beta + 2 ceil(log2 n)(alpha + 2c/beta). (Measured: 2.06, 2.09, 2.15
  // S/beta for n = 5, 8, 16 with S = 64 c.)
  for (int n : {5, 8, 16}) {
    Communicator comm = star_comm(n);
    const double S = 6.4e7, c = 1e6;
    const double t = time_collective(CollectiveOp::allreduce, comm, 64000000,
                                     {.algorithm = Algorithm::double_binary_tree, .chunk_bytes = 1000000});
    SCOPED_TRACE(fmt::format("n={} t={} S/beta={}", n, t, S / b));
    EXPECT_GT(t, 2.0 * (n - 1) / n * S / b);
    EXPECT_LT(t, 2 * S / b + 2 * log2_ceil(n) * (a + 2 * c / b));
  }
}

TEST(Collectives, HierarchicalAllreduce) {
  // N nodes x m GPUs. Intra-node ring reduce-scatter: (m-1)(a_g + S/(m b_g)); inter-node allreduce of S/m
  // among the N GPUs of each local index, all m of them crossing the node uplink at once (b_n/m each);
  // intra-node ring allgather like the reduce-scatter. With a ring between nodes (latency a_g + a_n):
  //   2(m-1) a_g + 2(m-1)/m S/b_g + 2(N-1)(a_g + a_n) + 2(N-1)/N S/b_n.
  // e.g. N = 2, m = 4, S = 8e6: 6e-6 + 1.2e-4 + 1e-5 + 8e-4 = 9.36e-4 s.
  const double ag = kGpuAlpha, bg = kGpuBeta, an = kNodeAlpha, bn = kNodeBeta;
  for (int nodes : {2, 4})
    for (int gpus : {1, 2, 4})
      for (std::uint64_t s : {8000000ULL, 64000000ULL}) {
        const double S = static_cast<double>(s);
        Communicator comm = two_level_comm(nodes, gpus);
        const double intra = 2 * (gpus - 1) * ag + 2.0 * (gpus - 1) / gpus * S / bg;
        expect_time(CollectiveOp::allreduce, comm, s,
                    {.algorithm = Algorithm::hierarchical, .inter_node_algorithm = Algorithm::ring},
                    intra + 2 * (nodes - 1) * (ag + an) + 2.0 * (nodes - 1) / nodes * S / bn);
        // Rabenseifner between nodes: 2 log2(N)(a_g + a_n) + 2(N-1)/N S/b_n instead.
        expect_time(CollectiveOp::allreduce, comm, s,
                    {.algorithm = Algorithm::hierarchical, .inter_node_algorithm = Algorithm::rabenseifner},
                    intra + 2 * log2_floor(nodes) * (ag + an) + 2.0 * (nodes - 1) / nodes * S / bn);
      }
}

TEST(Collectives, HierarchicalBeatsFlatRingAcrossNodes) {
  // A flat ring over 4 x 4 GPUs sends 2(n-1)/n S through every node uplink and pays the inter-node latency at
  // each of its 30 steps; the hierarchical one only 2(N-1)/N S. auto picks hierarchical here.
  Communicator comm = two_level_comm(4, 4);
  const std::uint64_t s = 64000000;
  EXPECT_EQ(resolve_algorithm(CollectiveOp::allreduce, comm, s, Algorithm::automatic),
            Algorithm::hierarchical);
  const double flat = time_collective(CollectiveOp::allreduce, comm, s, {.algorithm = Algorithm::ring});
  const double hierarchical = time_collective(CollectiveOp::allreduce, comm, s, {});
  EXPECT_LT(hierarchical, 0.9 * flat);
}

TEST(Collectives, SingleRankCostsNothing) {
  Communicator comm = star_comm(1);
  for (CollectiveOp op : all_collective_ops()) {
    for (Algorithm algorithm : algorithms_for(op)) {
      SCOPED_TRACE(fmt::format("{} {}", to_string(op), to_string(algorithm)));
      EXPECT_EQ(time_collective(op, comm, 1000000, {.algorithm = algorithm}), 0.0);
    }
    EXPECT_EQ(time_collective(op, comm, 1000000, {}), 0.0);
  }
  EXPECT_EQ(comm.mailbox_count(), 0u);
}

TEST(Collectives, EveryAlgorithmCompletesOnOddLayouts) {
  // Every op x algorithm on 7 ranks (3 nodes of 2, 2, 3: hierarchical is excluded there) and on 3 nodes x 2
  // GPUs, with sizes that do not divide evenly: the run must finish (no deadlock, no leftover actor) in
  // finite time.
  auto hosts = star_hosts(7);
  Communicator uneven("uneven", hosts, {0, 0, 1, 1, 2, 2, 2});
  Communicator even = two_level_comm(3, 2);
  for (Communicator* comm : {&uneven, &even})
    for (CollectiveOp op : all_collective_ops())
      for (Algorithm algorithm : algorithms_for(op)) {
        if (algorithm == Algorithm::hierarchical && comm->ranks_per_node() == 0) continue;
        for (std::uint64_t s : {0ULL, 1ULL, 1000003ULL}) {
          SCOPED_TRACE(fmt::format("{} {} {} S={}", comm->name(), to_string(op), to_string(algorithm), s));
          const double t =
              time_collective(op, *comm, s, {.algorithm = algorithm, .root = 2, .chunk_bytes = 300000});
          EXPECT_GT(t, 0.0);
          EXPECT_LT(t, 1.0);
        }
      }
}

TEST(Collectives, ManyRanks) {
  // 64 ranks, ring allreduce of 64 KB: 126 alpha + 126/64 S/beta = 1.26e-4 + 1.26e-4 = 2.52e-4 s.
  expect_star(CollectiveOp::allreduce, 64, 64000, {.algorithm = Algorithm::ring},
              126 * a + 126.0 / 64 * 64000 / b);
  // auto: small allreduce on 64 flat ranks is recursive doubling: 6 (alpha + S/beta) = 6.006e-6 s for 1 kB.
  expect_star(CollectiveOp::allreduce, 64, 1000, {}, 6 * (a + 1000 / b));
}

}  // namespace
}  // namespace whatif::sim::test
