// JSON text as whatif prints and writes it: indented, newline-terminated, invalid UTF-8 replaced, not fatal.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace whatif::report {

inline std::string json_text(const nlohmann::json& value) {
  return value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace whatif::report
