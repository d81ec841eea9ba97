// Helpers the Pilgrim reader's two files share (pilgrim.cpp, pilgrim_timing.cpp); not part of the API.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>

#include "core/diagnostics.hpp"

namespace whatif::mpi::detail {

constexpr std::uint64_t kSaturated = std::uint64_t{1} << 63;
constexpr std::uint32_t kZstdMagic = 0xFD2FB528u;  // first bytes of every zstd frame

inline std::uint64_t sat_add(std::uint64_t a, std::uint64_t b) {
  return a >= kSaturated - std::min(b, kSaturated) ? kSaturated : a + b;
}
inline std::uint64_t sat_mul(std::uint64_t a, std::uint64_t b) {
  if (a == 0 || b == 0) return 0;
  return a > kSaturated / b ? kSaturated : std::min(a * b, kSaturated);
}

inline core::InputError error_at(const std::string& file, std::uint64_t offset, const std::string& message) {
  return core::InputError(core::Location{file, 0, 0}, fmt::format("byte {}: {}", offset, message));
}

inline std::uint64_t file_size_or(const std::filesystem::path& path, std::uint64_t fallback) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  return ec ? fallback : static_cast<std::uint64_t>(size);
}

}  // namespace whatif::mpi::detail
