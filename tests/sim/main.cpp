// sim_tests entry point: creates the process's only SimGrid engine, then runs the selected test cases.
#include <gtest/gtest.h>

#include "test_platform.hpp"

namespace {
whatif::sim::SimEngine* the_engine = nullptr;
}

whatif::sim::SimEngine& whatif::sim::test::engine() {
  return *the_engine;
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  whatif::sim::SimEngine engine;
  the_engine = &engine;
  return RUN_ALL_TESTS();
}
