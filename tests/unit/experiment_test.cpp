// Unit tests of --set overrides on experiment trees.
#include <gtest/gtest.h>

#include "experiment/experiment.hpp"

using whatif::core::InputError;
using whatif::experiment::apply_set;

TEST(ApplySet, NestedCreatesAndOverrides) {
  YAML::Node root = YAML::Load("workload: {kind: collective-bench, sizes: {from: 8B}}\nlist: [a, b]\n");
  apply_set(root, "workload.sizes.from=1MiB");
  apply_set(root, "workload.algorithm=ring");
  apply_set(root, "platform.parameters.nodes=16");
  apply_set(root, "list.1=c");
  apply_set(root, "workload.ranks=[1, 2]");
  EXPECT_EQ(root["workload"]["sizes"]["from"].as<std::string>(), "1MiB");
  EXPECT_EQ(root["workload"]["algorithm"].as<std::string>(), "ring");
  EXPECT_EQ(root["platform"]["parameters"]["nodes"].as<int>(), 16);
  EXPECT_EQ(root["list"][1].as<std::string>(), "c");
  EXPECT_EQ(root["workload"]["ranks"].size(), 2u);
  EXPECT_EQ(root["workload"]["kind"].as<std::string>(), "collective-bench");
}

TEST(ApplySet, Errors) {
  YAML::Node root = YAML::Load("a: 1\nlist: [x]\n");
  EXPECT_THROW(apply_set(root, "novalue"), InputError);
  EXPECT_THROW(apply_set(root, "a.b=2"), InputError);
  EXPECT_THROW(apply_set(root, "list.5=2"), InputError);
  EXPECT_THROW(apply_set(root, "x..y=2"), InputError);
  EXPECT_THROW(apply_set(root, "v=[1, 2"), InputError);
}
