// Collective names, algorithm lists, auto choices, validation messages and bus-bandwidth factors.
#include <gtest/gtest.h>

#include "test_platform.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace whatif::sim::test {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(CollectiveNames, RoundTrip) {
  const std::vector<std::string> ops{"allreduce", "reduce-scatter", "allgather",
                                     "broadcast", "reduce",         "alltoall"};
  ASSERT_EQ(all_collective_ops().size(), ops.size());
  for (std::size_t i = 0; i < ops.size(); ++i) {
    EXPECT_EQ(to_string(all_collective_ops()[i]), ops[i]);
    EXPECT_EQ(parse_collective_op(ops[i]), all_collective_ops()[i]);
  }
  for (std::string name : {"ring", "double-binary-tree", "recursive-doubling", "rabenseifner", "binomial",
                           "pipelined", "pairwise", "hierarchical", "auto"})
    EXPECT_EQ(to_string(parse_algorithm(name)), name);
  EXPECT_EQ(parse_algorithm("auto"), Algorithm::automatic);
  EXPECT_EQ(parse_collective_op("reduce-scatter"), CollectiveOp::reduce_scatter);
}

TEST(CollectiveNames, ParseRejectsUnknownNames) {
  EXPECT_EQ(error_of([] { parse_collective_op("allreduse"); }),
            "unknown collective 'allreduse'; valid: allreduce, reduce-scatter, allgather, broadcast, reduce, "
            "alltoall");
  EXPECT_EQ(error_of([] { parse_algorithm("tree"); }),
            "unknown collective algorithm 'tree'; valid: ring, double-binary-tree, recursive-doubling, "
            "rabenseifner, binomial, pipelined, pairwise, hierarchical, auto");
}

TEST(CollectiveNames, AlgorithmsFor) {
  auto names = [](CollectiveOp op) {
    std::string out;
    for (Algorithm algorithm : algorithms_for(op))
      out += std::string(to_string(algorithm)) + " ";
    return out;
  };
  EXPECT_EQ(names(CollectiveOp::allreduce),
            "ring double-binary-tree recursive-doubling rabenseifner hierarchical ");
  EXPECT_EQ(names(CollectiveOp::reduce_scatter), "ring ");
  EXPECT_EQ(names(CollectiveOp::allgather), "ring recursive-doubling ");
  EXPECT_EQ(names(CollectiveOp::broadcast), "binomial pipelined ");
  EXPECT_EQ(names(CollectiveOp::reduce), "binomial ");
  EXPECT_EQ(names(CollectiveOp::alltoall), "pairwise ");
}

TEST(CollectiveNames, ResolveRejectsAlgorithmsThatDoNotImplementTheOp) {
  Communicator comm = star_comm(4);
  EXPECT_EQ(
      error_of([&] { resolve_algorithm(CollectiveOp::allreduce, comm, 1, Algorithm::binomial); }),
      "algorithm 'binomial' does not implement allreduce; valid for allreduce: ring, double-binary-tree, "
      "recursive-doubling, rabenseifner, hierarchical, auto");
  EXPECT_EQ(error_of([&] { resolve_algorithm(CollectiveOp::alltoall, comm, 1, Algorithm::ring); }),
            "algorithm 'ring' does not implement alltoall; valid for alltoall: pairwise, auto");
  Communicator uneven("uneven", star_hosts(3), {0, 0, 1});
  EXPECT_EQ(
      error_of([&] { resolve_algorithm(CollectiveOp::allreduce, uneven, 1, Algorithm::hierarchical); }),
      "algorithm 'hierarchical' needs the same number of ranks on every node; communicator 'uneven' has "
      "nodes of different sizes");
  EXPECT_EQ(resolve_algorithm(CollectiveOp::allreduce, comm, 1, Algorithm::double_binary_tree),
            Algorithm::double_binary_tree);
}

TEST(CollectiveNames, AutoChoices) {
  Communicator flat = star_comm(8);
  Communicator nodes = two_level_comm(2, 4);
  Communicator one_per_node = two_level_comm(4, 1);
  auto pick = [](CollectiveOp op, const Communicator& comm, std::uint64_t bytes) {
    return resolve_algorithm(op, comm, bytes, Algorithm::automatic);
  };
  using enum Algorithm;
  EXPECT_EQ(pick(CollectiveOp::allreduce, flat, kSmallAllreduceBytes), recursive_doubling);
  EXPECT_EQ(pick(CollectiveOp::allreduce, flat, kSmallAllreduceBytes + 1), rabenseifner);
  EXPECT_EQ(pick(CollectiveOp::allreduce, flat, kLargeAllreduceBytes), ring);
  EXPECT_EQ(pick(CollectiveOp::allreduce, nodes, 1024), recursive_doubling);
  EXPECT_EQ(pick(CollectiveOp::allreduce, nodes, 1 << 20), hierarchical);
  EXPECT_EQ(pick(CollectiveOp::allreduce, nodes, 1 << 30), hierarchical);
  EXPECT_EQ(pick(CollectiveOp::allreduce, one_per_node, 1 << 30), ring);
  EXPECT_EQ(pick(CollectiveOp::allgather, flat, kSmallAllgatherBytes), recursive_doubling);
  EXPECT_EQ(pick(CollectiveOp::allgather, flat, kSmallAllgatherBytes + 1), ring);
  EXPECT_EQ(pick(CollectiveOp::reduce_scatter, flat, 1), ring);
  EXPECT_EQ(pick(CollectiveOp::reduce, flat, 1 << 30), binomial);
  EXPECT_EQ(pick(CollectiveOp::alltoall, flat, 1 << 30), pairwise);
  // Broadcast on 8 ranks, 1 MiB chunks: chain (6 + k)/k against binomial 3, so pipelined from k = 4 chunks.
  EXPECT_EQ(pick(CollectiveOp::broadcast, flat, 3 * kDefaultChunkBytes), binomial);
  EXPECT_EQ(pick(CollectiveOp::broadcast, flat, 4 * kDefaultChunkBytes), pipelined);
  EXPECT_EQ(pick(CollectiveOp::broadcast, star_comm(2), 1 << 30), binomial);
}

TEST(CollectiveNames, ValidateRejectsBadOptions) {
  Communicator comm = star_comm(4);
  EXPECT_EQ(error_of([&] { validate_collective(CollectiveOp::broadcast, comm, 1, {.root = 4}); }),
            "broadcast root 4 is not a rank of communicator 'star4' (0..3)");
  EXPECT_EQ(error_of([&] { validate_collective(CollectiveOp::allreduce, comm, 1, {.chunk_bytes = 0}); }),
            "collective chunk size must be at least 1 byte");
  Communicator nodes = two_level_comm(2, 2);
  EXPECT_EQ(error_of([&] {
              validate_collective(
                  CollectiveOp::allreduce, nodes, 1,
                  {.algorithm = Algorithm::hierarchical, .inter_node_algorithm = Algorithm::pairwise});
            }),
            "inter-node algorithm 'pairwise' does not implement allreduce; valid: ring, double-binary-tree, "
            "recursive-doubling, rabenseifner, auto");
  EXPECT_NO_THROW(validate_collective(CollectiveOp::allreduce, comm, 1, {.root = 99}));  // root unused there
}

TEST(CollectiveNames, BusBandwidthFactors) {
  EXPECT_DOUBLE_EQ(bus_bandwidth_factor(CollectiveOp::allreduce, 8), 2.0 * 7 / 8);
  EXPECT_DOUBLE_EQ(bus_bandwidth_factor(CollectiveOp::reduce_scatter, 8), 7.0 / 8);
  EXPECT_DOUBLE_EQ(bus_bandwidth_factor(CollectiveOp::allgather, 4), 3.0 / 4);
  EXPECT_DOUBLE_EQ(bus_bandwidth_factor(CollectiveOp::alltoall, 2), 0.5);
  EXPECT_DOUBLE_EQ(bus_bandwidth_factor(CollectiveOp::broadcast, 16), 1.0);
  EXPECT_DOUBLE_EQ(bus_bandwidth_factor(CollectiveOp::reduce, 16), 1.0);
  EXPECT_DOUBLE_EQ(bus_bandwidth_factor(CollectiveOp::allreduce, 1), 0.0);
  EXPECT_THROW(bus_bandwidth_factor(CollectiveOp::allreduce, 0), std::invalid_argument);
}

}  // namespace
}  // namespace whatif::sim::test
