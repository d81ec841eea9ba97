// Formatting and collection of input diagnostics, with "did you mean" suggestions.
#include "core/diagnostics.hpp"

#include <fmt/format.h>
#include <algorithm>

namespace whatif::core {

std::string Diagnostic::format() const {
  std::string out;
  if (!location.file.empty()) {
    out += location.file;
    if (location.line > 0) out += fmt::format(":{}:{}", location.line, location.column);
    out += ": ";
  }
  out += warning ? "warning: " : "error: ";
  if (!entity.empty()) out += name.empty() ? entity + ": " : fmt::format("{} '{}': ", entity, name);
  if (!field.empty()) out += fmt::format("'{}': ", field);
  out += message;
  return out;
}

void Diagnostics::error(Location loc, std::string entity, std::string name, std::string field,
                        std::string message) {
  items_.push_back(
      {std::move(loc), false, std::move(entity), std::move(name), std::move(field), std::move(message)});
}

void Diagnostics::warning(Location loc, std::string entity, std::string name, std::string field,
                          std::string message) {
  items_.push_back(
      {std::move(loc), true, std::move(entity), std::move(name), std::move(field), std::move(message)});
}

bool Diagnostics::has_errors() const {
  return error_count() > 0;
}

size_t Diagnostics::error_count() const {
  return std::count_if(items_.begin(), items_.end(), [](const Diagnostic& d) { return !d.warning; });
}

std::vector<Diagnostic> Diagnostics::warnings() const {
  std::vector<Diagnostic> out;
  for (const auto& d : items_)
    if (d.warning) out.push_back(d);
  return out;
}

void Diagnostics::throw_if_errors() const {
  if (has_errors()) throw InputError(items_);
}

InputError::InputError(std::vector<Diagnostic> diagnostics) : diagnostics_(std::move(diagnostics)) {
  for (const auto& d : diagnostics_) {
    if (!text_.empty()) text_ += '\n';
    text_ += d.format();
  }
}

InputError::InputError(std::string message) : InputError(Location{}, std::move(message)) {}

InputError::InputError(Location loc, std::string message)
    : InputError(std::vector<Diagnostic>{{std::move(loc), false, "", "", "", std::move(message)}}) {}

namespace {
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                            std::tolower(static_cast<unsigned char>(b[j - 1]))
                        ? 0
                        : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  std::string match = closest_match(word, candidates);
  return match.empty() ? "" : fmt::format(", did you mean '{}'?", match);
}

}  // namespace whatif::core
