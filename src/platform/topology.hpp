// Inter-node network shapes: fat-tree sizing from a switch radix, leaf counts of each topology.
#pragma once

#include <vector>

#include "platform/spec.hpp"

namespace whatif::platform {

struct FatTreeShape {
  int levels = 1;
  std::vector<unsigned> down, up, parallel;
  long leaves() const;
};

// The fat tree a network spec describes for `leaves` leaves: the explicit one, or for `switch_radix` K the
// smallest tree of K-port switches (half the ports down, half up) with room for them; a star is one switch.
FatTreeShape fat_tree_shape(const NetworkSpec& net, long leaves);

}  // namespace whatif::platform
