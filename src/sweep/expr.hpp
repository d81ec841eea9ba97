// The constraint language of sweep files: arithmetic, comparisons and logic over parameter values, e.g.
// `tensor * pipeline * data == 8 and micro_batches >= pipeline` or `algorithm != 'tree' or size <= 1048576`.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace whatif::sweep {

// A value is a number or a text; comparisons and logic give 1 or 0.
using Value = std::variant<double, std::string>;

struct ExprNode;

class Expr {
 public:
  // Throws std::invalid_argument with the column of the problem ("column 9: expected a value").
  static Expr parse(const std::string& text);
  // `lookup` returns a name's value, or nullopt when the name is unknown (an error naming it).
  // Throws std::invalid_argument for type errors and unknown names.
  Value evaluate(const std::function<std::optional<Value>(const std::string&)>& lookup) const;
  bool holds(const std::function<std::optional<Value>(const std::string&)>& lookup) const;
  // Every name the expression reads, in order of appearance.
  const std::vector<std::string>& names() const { return names_; }
  const std::string& text() const { return text_; }

 private:
  std::shared_ptr<const ExprNode> root_;
  std::vector<std::string> names_;
  std::string text_;
};

// A parameter's text as a value: a number when the whole text is one (1e6, 0x10 is text), else the text.
Value value_of(const std::string& text);

}  // namespace whatif::sweep
