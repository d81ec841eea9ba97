// Test platforms with round numbers, so expected simulated times can be worked out by hand.
#pragma once

#include "sim/collectives.hpp"
#include "sim/comm.hpp"
#include "sim/engine.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace whatif::sim::test {

// Star: each host has a split-duplex link (latency kAlpha/2, bandwidth kBeta) to one router, with explicit
// routes, so any pair of hosts sees latency kAlpha and bandwidth kBeta, and a host sending to one peer while
// receiving from another shares nothing.
inline constexpr double kAlpha = 1e-6;  // s
inline constexpr double kBeta = 1e9;    // B/s
inline constexpr int kStarHosts = 64;

// Two levels: kNodes nodes of kGpusPerNode GPUs. Each GPU has a split-duplex link (kGpuAlpha/2, kGpuBeta) to
// its node's switch; each node switch has one (kNodeAlpha/2, kNodeBeta) to the core. So a pair on one node
// sees kGpuAlpha and kGpuBeta; a pair on two nodes sees latency kGpuAlpha + kNodeAlpha and shares its node's
// uplink (kNodeBeta) with the other GPUs of the node talking across at the same time.
inline constexpr double kGpuAlpha = 1e-6;
inline constexpr double kGpuBeta = 1e11;
inline constexpr double kNodeAlpha = 4e-6;
inline constexpr double kNodeBeta = 1e10;
inline constexpr int kNodes = 4;
inline constexpr int kGpusPerNode = 4;

// The process's engine, created by the test main.
SimEngine& engine();

// Both platforms live in one zone, built on first use (a process can build only one platform).
std::vector<simgrid::s4u::Host*> star_hosts(int n);
// A communicator over the first `n` star hosts, each rank its own node.
Communicator star_comm(int n);
// A communicator over GPUs 0..gpus-1 of nodes 0..nodes-1, node-major (rank = node * gpus + gpu).
Communicator two_level_comm(int nodes, int gpus);

// Spawns actors with `spawn`, runs the engine, and returns the simulated time that run took.
double timed_run(const std::function<void()>& spawn);
double time_collective(CollectiveOp op, Communicator& comm, std::uint64_t bytes,
                       const CollectiveOptions& options);

// Whether a platform was built in this process (the engine benchmark needs a process without one).
bool platform_built();

}  // namespace whatif::sim::test
