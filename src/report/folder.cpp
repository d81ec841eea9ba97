// Writing of results files; each file is written whole to a temporary name, then renamed into place.
#include "report/folder.hpp"

#include <fmt/format.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/diagnostics.hpp"
#include "report/json.hpp"

namespace whatif::report {

namespace fs = std::filesystem;

ResultsFolder::ResultsFolder(std::string dir) : dir_(std::move(dir)) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec || !fs::is_directory(dir_))
    throw core::InputError(
        fmt::format("cannot create results folder '{}': {}", dir_, ec ? ec.message() : "not a folder"));
}

void ResultsFolder::write_text(const std::string& name, const std::string& content) const {
  fs::path final_path = fs::path(dir_) / name;
  fs::path tmp = final_path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) throw core::InputError(fmt::format("cannot write '{}'", tmp.string()));
  }
  std::error_code ec;
  fs::rename(tmp, final_path, ec);
  if (ec) throw core::InputError(fmt::format("cannot write '{}': {}", final_path.string(), ec.message()));
}

void ResultsFolder::write_json(const std::string& name, const nlohmann::json& value) const {
  write_text(name, json_text(value));
}

void ResultsFolder::write_csv(const std::string& name, const Table& table) const {
  write_text(name, table.to_csv());
}

}  // namespace whatif::report
