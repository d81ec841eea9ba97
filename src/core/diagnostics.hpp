// Input diagnostics: positions, collected errors and the InputError exception main turns into exit code 2.
#pragma once

#include <exception>
#include <string>
#include <string_view>
#include <vector>

namespace whatif::core {

struct Location {
  std::string file;
  int line = 0;  // 1-based; 0 when unknown
  int column = 0;
};

struct Diagnostic {
  Location location;
  bool warning = false;
  std::string entity;  // "node type", "gpu", ... (may be empty)
  std::string name;    // the entity's name (may be empty)
  std::string field;   // the offending key (may be empty)
  std::string message;

  // FILE:LINE:COL: error: <entity> '<name>': '<field>': <problem>
  std::string format() const;
};

// Collects every problem of an input before anything is built, so users see all of them at once.
class Diagnostics {
 public:
  void error(Location loc, std::string entity, std::string name, std::string field, std::string message);
  void warning(Location loc, std::string entity, std::string name, std::string field, std::string message);
  void add(Diagnostic d) { items_.push_back(std::move(d)); }
  bool has_errors() const;
  size_t error_count() const;
  const std::vector<Diagnostic>& items() const { return items_; }
  std::vector<Diagnostic> warnings() const;
  // Throws InputError holding every diagnostic when at least one is an error.
  void throw_if_errors() const;

 private:
  std::vector<Diagnostic> items_;
};

class InputError : public std::exception {
 public:
  explicit InputError(std::vector<Diagnostic> diagnostics);
  // A single error without a file position (command-line usage and the like).
  explicit InputError(std::string message);
  InputError(Location loc, std::string message);
  const char* what() const noexcept override { return text_.c_str(); }
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
  std::string text_;
};

// The candidate closest to `word` by edit distance, or "" when none is close enough to be a likely typo.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

// ", did you mean 'x'?" or "" (for appending to messages).
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace whatif::core
