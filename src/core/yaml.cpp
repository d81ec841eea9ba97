// Strict YAML helpers: file loading with positions, typed field access, unknown-key detection.
#include "core/yaml.hpp"

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace whatif::core {

Location location_of(const std::string& file, const YAML::Node& node) {
  if (!node.IsDefined()) return {file, 0, 0};
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return {file, 0, 0};
  return {file, mark.line + 1, mark.column + 1};
}

std::optional<YAML::Node> parse_yaml_text(const std::string& text, const std::string& display_name,
                                          Diagnostics& diag) {
  if (text.find('\0') != std::string::npos) {
    diag.error({display_name, 0, 0}, "", "", "", "not a YAML text file (it contains NUL bytes)");
    return std::nullopt;
  }
  try {
    YAML::Node root = YAML::Load(text);
    if (!root.IsDefined() || root.IsNull()) {
      diag.error({display_name, 0, 0}, "", "", "",
                 "the file is empty (expected a YAML mapping with 'format:')");
      return std::nullopt;
    }
    return root;
  } catch (const YAML::DeepRecursion& e) {
    diag.error({display_name, e.mark.line + 1, e.mark.column + 1}, "", "", "",
               "invalid YAML: nesting is too deep for a whatif input");
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    Location loc{display_name, 0, 0};
    if (!e.mark.is_null()) loc = {display_name, e.mark.line + 1, e.mark.column + 1};
    diag.error(loc, "", "", "", fmt::format("invalid YAML: {}", e.msg));
    return std::nullopt;
  } catch (const std::exception& e) {
    diag.error({display_name, 0, 0}, "", "", "", fmt::format("invalid YAML: {}", e.what()));
    return std::nullopt;
  }
}

std::optional<YAML::Node> load_yaml_file(const std::string& path, Diagnostics& diag) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    diag.error({path, 0, 0}, "", "", "", "is a directory, not a YAML file");
    return std::nullopt;
  }
  auto text = read_text_file(path, diag);
  if (!text) return std::nullopt;
  return parse_yaml_text(*text, path, diag);
}

std::optional<std::string> read_text_file(const std::string& path, Diagnostics& diag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    diag.error({path, 0, 0}, "", "", "", "cannot open file");
    return std::nullopt;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    diag.error({path, 0, 0}, "", "", "", "cannot read file");
    return std::nullopt;
  }
  return buffer.str();
}

std::optional<long long> parse_integer(std::string_view text) {
  long long value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> parse_number(std::string_view text) {
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<std::string> scalar_text(const YAML::Node& node, const Scope& scope, std::string_view field) {
  Location loc = location_of(scope.file, node);
  if (!node.IsScalar()) {
    scope.diag->error(loc, scope.entity, scope.name, std::string(field),
                      node.IsNull()  ? "missing value"
                      : node.IsMap() ? "expected a value, got a mapping"
                                     : "expected a value, got a list");
    return std::nullopt;
  }
  std::string text = node.Scalar();
  if (text.size() > 3 && text.rfind("${", 0) == 0 && text.back() == '}') {
    std::string param = text.substr(2, text.size() - 3);
    if (scope.params != nullptr) {
      auto it = scope.params->find(param);
      if (it != scope.params->end()) return it->second;
      std::vector<std::string> names;
      for (const auto& [k, v] : *scope.params)
        names.push_back(k);
      scope.diag->error(loc, scope.entity, scope.name, std::string(field),
                        fmt::format("unknown parameter '{}'{}", param, did_you_mean(param, names)));
    } else {
      scope.diag->error(loc, scope.entity, scope.name, std::string(field),
                        fmt::format("parameter reference '{}' is not allowed here", text));
    }
    return std::nullopt;
  }
  return text;
}

MapReader::MapReader(const YAML::Node& node, Scope scope) : node_(node), scope_(std::move(scope)) {
  if (!node_.IsDefined() || !node_.IsMap()) {
    const char* got = !node_.IsDefined() || node_.IsNull() ? "nothing"
                      : node_.IsSequence()                 ? "a list"
                                                           : "a value";
    scope_.diag->error(location_of(scope_.file, node_), scope_.entity, scope_.name, "",
                       fmt::format("expected a mapping of fields, got {}", got));
    return;
  }
  valid_ = true;
}

Location MapReader::location() const {
  return location_of(scope_.file, node_);
}

Location MapReader::location(std::string_view key) const {
  if (valid_)
    for (auto it = node_.begin(); it != node_.end(); ++it)
      if (it->first.IsScalar() && it->first.Scalar() == key) return location_of(scope_.file, it->second);
  return location();
}

bool MapReader::has(std::string_view key) const {
  if (!valid_) return false;
  for (auto it = node_.begin(); it != node_.end(); ++it)
    if (it->first.IsScalar() && it->first.Scalar() == key) return !it->second.IsNull();
  return false;
}

YAML::Node MapReader::node(std::string_view key) {
  known_.emplace_back(key);
  if (!valid_) return YAML::Node(YAML::NodeType::Undefined);
  for (auto it = node_.begin(); it != node_.end(); ++it)
    if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
  return YAML::Node(YAML::NodeType::Undefined);
}

bool MapReader::format(const std::string& expected) {
  auto text = string("format", true);
  if (text && *text != expected) error("format", fmt::format("expected '{}', got '{}'", expected, *text));
  return text && *text == expected;
}

void MapReader::error(std::string_view key, const std::string& message) {
  scope_.diag->error(location(key), scope_.entity, scope_.name, std::string(key), message);
}

void MapReader::error_here(const std::string& message) {
  scope_.diag->error(location(), scope_.entity, scope_.name, "", message);
}

std::optional<std::string> MapReader::scalar(std::string_view key, bool required, std::string_view what) {
  YAML::Node n = node(key);
  if (!n.IsDefined() || (n.IsNull() && !required)) {
    if (required && valid_) error(key, fmt::format("missing required field ({})", what));
    return std::nullopt;
  }
  return scalar_text(n, scope_, key);
}

std::optional<std::string> MapReader::string(std::string_view key, bool required) {
  return scalar(key, required, "a text");
}

std::optional<double> MapReader::quantity(std::string_view key, Dimension dim, Sign sign, bool required) {
  auto text = scalar(key, required, unit_examples(dim));
  if (!text) return std::nullopt;
  try {
    double v = parse_quantity(*text, dim);
    if (sign == Sign::positive && !(v > 0)) {
      error(key, fmt::format("must be positive, got '{}'", *text));
      return std::nullopt;
    }
    if (sign == Sign::non_negative && v < 0) {
      error(key, fmt::format("must not be negative, got '{}'", *text));
      return std::nullopt;
    }
    return v;
  } catch (const UnitError& e) {
    error(key, e.what());
    return std::nullopt;
  }
}

std::optional<long long> MapReader::integer(std::string_view key, long long min, long long max,
                                            bool required) {
  auto text = scalar(key, required, "an integer");
  if (!text) return std::nullopt;
  auto v = parse_integer(*text);
  if (!v) {
    error(key, fmt::format("expected an integer, got '{}'", *text));
    return std::nullopt;
  }
  if (*v < min || *v > max) {
    error(key, fmt::format("{} is out of range [{}, {}]", *v, min, max));
    return std::nullopt;
  }
  return v;
}

std::optional<double> MapReader::number(std::string_view key, double min, double max, bool required) {
  auto text = scalar(key, required, "a number");
  if (!text) return std::nullopt;
  auto v = parse_number(*text);
  if (!v) {
    error(key, fmt::format("expected a number, got '{}'", *text));
    return std::nullopt;
  }
  if (*v < min || *v > max) {
    error(key, fmt::format("{} is out of range [{}, {}]", *v, min, max));
    return std::nullopt;
  }
  return v;
}

std::optional<bool> MapReader::boolean(std::string_view key, bool required) {
  auto text = scalar(key, required, "true or false");
  if (!text) return std::nullopt;
  if (*text == "true" || *text == "yes") return true;
  if (*text == "false" || *text == "no") return false;
  error(key, fmt::format("expected true or false, got '{}'", *text));
  return std::nullopt;
}

std::optional<std::string> MapReader::choice(std::string_view key, const std::vector<std::string>& choices,
                                             bool required) {
  auto text = scalar(key, required, fmt::format("one of {}", fmt::join(choices, ", ")));
  if (!text) return std::nullopt;
  if (std::find(choices.begin(), choices.end(), *text) != choices.end()) return text;
  error(key, fmt::format("unknown value '{}'{} (expected one of: {})", *text, did_you_mean(*text, choices),
                         fmt::join(choices, ", ")));
  return std::nullopt;
}

std::optional<Sourced> MapReader::sourced(std::string_view key, Dimension dim, bool required) {
  YAML::Node n = node(key);
  if (!n.IsDefined() || n.IsNull()) {
    if (required && valid_) error(key, "missing required field ({value: ..., source: ...})");
    return std::nullopt;
  }
  MapReader sub(n, scope_);
  if (!sub.valid()) return std::nullopt;
  auto value = sub.quantity("value", dim, Sign::positive, true);
  auto source = sub.string("source", true);
  sub.finish();
  if (source && source->empty()) sub.error("source", "must not be empty");
  if (!value || !source) return std::nullopt;
  return Sourced{*value, *source};
}

std::optional<Sourced> MapReader::sourced_integer(std::string_view key, long long min, long long max,
                                                  bool required) {
  YAML::Node n = node(key);
  if (!n.IsDefined() || n.IsNull()) {
    if (required && valid_) error(key, "missing required field ({value: ..., source: ...})");
    return std::nullopt;
  }
  MapReader sub(n, scope_);
  if (!sub.valid()) return std::nullopt;
  auto value = sub.integer("value", min, max, true);
  auto source = sub.string("source", true);
  sub.finish();
  if (!value || !source) return std::nullopt;
  return Sourced{static_cast<double>(*value), *source};
}

void MapReader::finish() {
  if (!valid_) return;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    if (!it->first.IsScalar()) {
      scope_.diag->error(location_of(scope_.file, it->first), scope_.entity, scope_.name, "",
                         "keys must be plain names");
      continue;
    }
    const std::string& key = it->first.Scalar();
    if (std::find(known_.begin(), known_.end(), key) == known_.end())
      scope_.diag->error(location_of(scope_.file, it->first), scope_.entity, scope_.name, key,
                         fmt::format("unknown field{}", did_you_mean(key, known_)));
  }
}

}  // namespace whatif::core
