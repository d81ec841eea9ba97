// Platform validation: catalog resolution and the consistency checks that need the whole file read.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/diagnostics.hpp"
#include "platform/spec.hpp"

namespace whatif::platform {

inline constexpr long kMaxNodes = 1000000;
inline constexpr int kMaxDevicesPerNode = 1024;

// A link model defined in a platform file, with where it was defined.
struct LocalLink {
  LinkModel model;
  core::Location location;
};

// The index N of a device named "<prefix>N" ("gpu3" -> 3), or nullopt.
std::optional<int> device_index(const std::string& name, const char* prefix);

// Loads the catalogs, resolves every model the platform names into `spec`, and checks node types (NVLink
// maps, PCIe trees, NICs), groups, networks and WAN links. Problems go to `diag`.
void validate_platform(PlatformSpec& spec, const std::vector<LocalLink>& local_links,
                       core::Diagnostics& diag);

}  // namespace whatif::platform
