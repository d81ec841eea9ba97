// Fat-tree sizing: explicit parameters or the smallest full-bisection tree of radix-K switches.
#include "platform/topology.hpp"

#include <fmt/format.h>

namespace whatif::platform {

long FatTreeShape::leaves() const {
  long n = 1;
  for (unsigned d : down)
    n *= d;
  return n;
}

FatTreeShape fat_tree_shape(const NetworkSpec& net, long leaves) {
  FatTreeShape s;
  auto u = [](long v) { return static_cast<unsigned>(v); };
  if (net.topology == Topology::star) {
    s.levels = 1;
    s.down = {u(leaves)};
    s.up = {1};
    s.parallel = {1};
    return s;
  }
  if (net.switch_radix == 0) {
    s.levels = net.levels;
    for (int d : net.down)
      s.down.push_back(u(d));
    for (int d : net.up)
      s.up.push_back(u(d));
    for (int d : net.parallel)
      s.parallel.push_back(u(d));
    return s;
  }
  long k = net.switch_radix, half = k / 2;
  auto ceil_div = [](long a, long b) { return (a + b - 1) / b; };
  if (leaves <= k) {
    s = {1, {u(leaves)}, {1}, {1}};
  } else if (ceil_div(leaves, half) <= k) {
    s = {2, {u(half), u(ceil_div(leaves, half))}, {1, u(half)}, {1, 1}};
  } else {
    long pods = ceil_div(leaves, half * half);
    if (pods > k)
      throw core::InputError(net.location,
                             fmt::format("network: fat tree of {}-port switches cannot hold {} nodes in "
                                         "3 levels; give an explicit tree",
                                         k, leaves));
    s = {3, {u(half), u(half), u(pods)}, {1, u(half), u(half)}, {1, 1, 1}};
  }
  return s;
}

}  // namespace whatif::platform
