// Strict YAML reading: positions for every error, unknown keys rejected with a suggestion, ${param}
// substitution.
#pragma once

#include <yaml-cpp/yaml.h>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/diagnostics.hpp"
#include "core/units.hpp"

namespace whatif::core {

// Reads and parses a YAML file; on failure records an error and returns nullopt. Binary files, empty
// files and syntax errors are all reported with the file name (and position where yaml-cpp has one).
std::optional<YAML::Node> load_yaml_file(const std::string& path, Diagnostics& diag);
// Reads a whole text file; on failure records an error naming the file and returns nullopt.
std::optional<std::string> read_text_file(const std::string& path, Diagnostics& diag);
std::optional<YAML::Node> parse_yaml_text(const std::string& text, const std::string& display_name,
                                          Diagnostics& diag);

Location location_of(const std::string& file, const YAML::Node& node);

// Values substituted for "${name}" scalars (platform parameters).
using Parameters = std::map<std::string, std::string, std::less<>>;

// Where a reader is: the file and the entity whose fields it reads, for error messages.
struct Scope {
  std::string file;
  std::string entity;
  std::string name;
  Diagnostics* diag = nullptr;
  const Parameters* params = nullptr;
  Scope child(std::string child_entity, std::string child_name) const {
    return {file, std::move(child_entity), std::move(child_name), diag, params};
  }
};

enum class Sign { any, non_negative, positive };

// A value from a catalog with the source that vouches for it.
struct Sourced {
  double value = 0;
  std::string source;
};

// Reads the fields of one YAML mapping. Every getter marks its key as known; finish() reports the rest.
class MapReader {
 public:
  MapReader(const YAML::Node& node, Scope scope);
  bool valid() const { return valid_; }
  const Scope& scope() const { return scope_; }
  Location location() const;
  Location location(std::string_view key) const;

  bool has(std::string_view key) const;
  // The raw node (marks the key known). Undefined node when absent.
  YAML::Node node(std::string_view key);

  std::optional<std::string> string(std::string_view key, bool required = false);
  std::optional<double> quantity(std::string_view key, Dimension dim, Sign sign = Sign::positive,
                                 bool required = false);
  std::optional<long long> integer(std::string_view key, long long min, long long max, bool required = false);
  std::optional<double> number(std::string_view key, double min, double max, bool required = false);
  std::optional<bool> boolean(std::string_view key, bool required = false);
  // `key: {value: <quantity>, source: <text>}`
  std::optional<Sourced> sourced(std::string_view key, Dimension dim, bool required = false);
  std::optional<Sourced> sourced_integer(std::string_view key, long long min, long long max,
                                         bool required = false);
  // One of `choices`, with a suggestion when it is a near miss.
  std::optional<std::string> choice(std::string_view key, const std::vector<std::string>& choices,
                                    bool required = false);

  // Reads the required 'format' key; false (with an error) unless it is `expected`.
  bool format(const std::string& expected);

  void error(std::string_view key, const std::string& message);
  void error_here(const std::string& message);
  // Reports every key that no getter asked for, with "did you mean".
  void finish();

 private:
  std::optional<std::string> scalar(std::string_view key, bool required, std::string_view what);

  YAML::Node node_;
  Scope scope_;
  bool valid_ = false;
  std::vector<std::string> known_;
};

// The text of a scalar node after ${param} substitution; records an error and returns nullopt when the
// node is not a scalar or names an unknown parameter.
std::optional<std::string> scalar_text(const YAML::Node& node, const Scope& scope, std::string_view field);

// The node itself when it is a list, else an empty list: lets a reader that already reported "expected a
// list" go on without iterating a mapping as if it were one.
inline YAML::Node items_of(const YAML::Node& node) {
  return node.IsSequence() ? node : YAML::Node(YAML::NodeType::Sequence);
}

// Parsers shared by readers of lists and maps that do not go through MapReader.
std::optional<long long> parse_integer(std::string_view text);
std::optional<double> parse_number(std::string_view text);

}  // namespace whatif::core
