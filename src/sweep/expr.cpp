// Recursive-descent parser and tree evaluator of sweep constraints.
#include "sweep/expr.hpp"

#include "core/yaml.hpp"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace whatif::sweep {

struct ExprNode {
  enum class Kind { number, text, name, unary, binary, call } kind = Kind::number;
  double number = 0;
  std::string text;  // text literal, name, operator or function name
  std::vector<std::shared_ptr<const ExprNode>> args;
};

namespace {

using NodePtr = std::shared_ptr<const ExprNode>;

class Parser {
 public:
  Parser(const std::string& s, std::vector<std::string>& names) : s_(s), names_(names) {}

  NodePtr parse() {
    NodePtr n = disjunction();
    skip();
    if (pos_ < s_.size()) fail(fmt::format("unexpected '{}'", s_.substr(pos_, 1)));
    return n;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::invalid_argument(fmt::format("column {}: {}", pos_ + 1, what));
  }
  void skip() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_])))
      ++pos_;
  }
  bool word_at(const char* w) const {
    std::size_t n = std::char_traits<char>::length(w);
    if (s_.compare(pos_, n, w) != 0) return false;
    return pos_ + n >= s_.size() ||
           !(std::isalnum(static_cast<unsigned char>(s_[pos_ + n])) || s_[pos_ + n] == '_');
  }
  // Consumes `symbol` or, when given, the keyword `word`.
  bool take(const char* symbol, const char* word = nullptr) {
    skip();
    if (s_.compare(pos_, std::char_traits<char>::length(symbol), symbol) == 0) {
      pos_ += std::char_traits<char>::length(symbol);
      return true;
    }
    if (word && word_at(word)) {
      pos_ += std::char_traits<char>::length(word);
      return true;
    }
    return false;
  }
  static NodePtr make(ExprNode::Kind kind, std::string op, std::vector<NodePtr> args) {
    auto n = std::make_shared<ExprNode>();
    n->kind = kind;
    n->text = std::move(op);
    n->args = std::move(args);
    return n;
  }

  NodePtr disjunction() {
    NodePtr left = conjunction();
    while (take("||", "or"))
      left = make(ExprNode::Kind::binary, "or", {left, conjunction()});
    return left;
  }
  NodePtr conjunction() {
    NodePtr left = negation();
    while (take("&&", "and"))
      left = make(ExprNode::Kind::binary, "and", {left, negation()});
    return left;
  }
  NodePtr negation() {
    skip();
    if (s_.compare(pos_, 2, "!=") != 0 && take("!", "not"))
      return make(ExprNode::Kind::unary, "not", {negation()});
    return comparison();
  }
  NodePtr comparison() {
    NodePtr left = sum();
    for (const char* op : {"==", "!=", "<=", ">=", "<", ">"})
      if (take(op)) return make(ExprNode::Kind::binary, op, {left, sum()});
    return left;
  }
  NodePtr sum() {
    NodePtr left = product();
    for (;;) {
      if (take("+"))
        left = make(ExprNode::Kind::binary, "+", {left, product()});
      else if (take("-"))
        left = make(ExprNode::Kind::binary, "-", {left, product()});
      else
        return left;
    }
  }
  NodePtr product() {
    NodePtr left = sign();
    for (;;) {
      skip();
      if (s_.compare(pos_, 2, "**") == 0) return left;  // handled by power()
      if (take("*"))
        left = make(ExprNode::Kind::binary, "*", {left, sign()});
      else if (take("/"))
        left = make(ExprNode::Kind::binary, "/", {left, sign()});
      else if (take("%"))
        left = make(ExprNode::Kind::binary, "%", {left, sign()});
      else
        return left;
    }
  }
  NodePtr sign() {
    if (take("-")) return make(ExprNode::Kind::unary, "-", {sign()});
    if (take("+")) return sign();
    return power();
  }
  NodePtr power() {
    NodePtr base = primary();
    if (take("**")) return make(ExprNode::Kind::binary, "**", {base, sign()});
    return base;
  }
  NodePtr primary() {
    skip();
    if (pos_ >= s_.size()) fail("expected a value, found the end");
    char c = s_[pos_];
    if (take("(")) {
      NodePtr inner = disjunction();
      if (!take(")")) fail("expected ')'");
      return inner;
    }
    if (c == '\'' || c == '"') {
      std::size_t end = s_.find(c, pos_ + 1);
      if (end == std::string::npos) fail("text without its closing quote");
      auto n = std::make_shared<ExprNode>();
      n->kind = ExprNode::Kind::text;
      n->text = s_.substr(pos_ + 1, end - pos_ - 1);
      pos_ = end + 1;
      return n;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      double v = 0;
      auto [ptr, ec] = std::from_chars(s_.data() + pos_, s_.data() + s_.size(), v);
      if (ec != std::errc()) fail("expected a number");
      auto n = std::make_shared<ExprNode>();
      n->number = v;
      pos_ = static_cast<std::size_t>(ptr - s_.data());
      return n;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      std::size_t start = pos_;
      while (pos_ < s_.size() &&
             (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_' || s_[pos_] == '.'))
        ++pos_;
      std::string name = s_.substr(start, pos_ - start);
      if (take("(")) {
        static const std::vector<std::string> functions = {"min", "max", "abs", "log2", "floor", "ceil"};
        if (std::find(functions.begin(), functions.end(), name) == functions.end()) {
          pos_ = start;
          fail(fmt::format("unknown function '{}' (known: min, max, abs, log2, floor, ceil)", name));
        }
        std::vector<NodePtr> args;
        if (!take(")")) {
          do
            args.push_back(disjunction());
          while (take(","));
          if (!take(")")) fail("expected ')' after the arguments");
        }
        bool two = name == "min" || name == "max";
        if (args.size() != (two ? 2u : 1u))
          fail(fmt::format("{}() takes {} argument{}", name, two ? 2 : 1, two ? "s" : ""));
        return make(ExprNode::Kind::call, name, std::move(args));
      }
      if (name == "true" || name == "false") {
        auto n = std::make_shared<ExprNode>();
        n->number = name == "true" ? 1 : 0;
        return n;
      }
      if (std::find(names_.begin(), names_.end(), name) == names_.end()) names_.push_back(name);
      auto n = std::make_shared<ExprNode>();
      n->kind = ExprNode::Kind::name;
      n->text = std::move(name);
      return n;
    }
    fail(fmt::format("expected a value, found '{}'", c));
  }

  const std::string& s_;
  std::vector<std::string>& names_;
  std::size_t pos_ = 0;
};

std::string show(const Value& v) {
  return std::holds_alternative<double>(v) ? fmt::format("{}", std::get<double>(v))
                                           : fmt::format("'{}'", std::get<std::string>(v));
}

double number(const Value& v, const std::string& op) {
  if (const double* d = std::get_if<double>(&v)) return *d;
  throw std::invalid_argument(fmt::format("'{}' needs numbers, got the text {}", op, show(v)));
}

bool truth(const Value& v) {
  if (const double* d = std::get_if<double>(&v)) return *d != 0;
  return !std::get<std::string>(v).empty();
}

Value eval(const ExprNode& n, const std::function<std::optional<Value>(const std::string&)>& lookup) {
  using K = ExprNode::Kind;
  switch (n.kind) {
    case K::number:
      return n.number;
    case K::text:
      return n.text;
    case K::name: {
      auto v = lookup(n.text);
      if (!v) throw std::invalid_argument(fmt::format("unknown name '{}'", n.text));
      return *v;
    }
    case K::unary: {
      Value a = eval(*n.args[0], lookup);
      if (n.text == "not") return truth(a) ? 0.0 : 1.0;
      return -number(a, "-");
    }
    case K::call: {
      double a = number(eval(*n.args[0], lookup), n.text);
      if (n.text == "min") return std::min(a, number(eval(*n.args[1], lookup), n.text));
      if (n.text == "max") return std::max(a, number(eval(*n.args[1], lookup), n.text));
      if (n.text == "abs") return std::abs(a);
      if (n.text == "log2") return std::log2(a);
      if (n.text == "floor") return std::floor(a);
      return std::ceil(a);
    }
    case K::binary:
      break;
  }
  const std::string& op = n.text;
  if (op == "and") return truth(eval(*n.args[0], lookup)) && truth(eval(*n.args[1], lookup)) ? 1.0 : 0.0;
  if (op == "or") return truth(eval(*n.args[0], lookup)) || truth(eval(*n.args[1], lookup)) ? 1.0 : 0.0;
  Value a = eval(*n.args[0], lookup), b = eval(*n.args[1], lookup);
  if (op == "==" || op == "!=" || op == "<" || op == "<=" || op == ">" || op == ">=") {
    if (a.index() != b.index())
      throw std::invalid_argument(fmt::format("'{}' compares {} with {}", op, show(a), show(b)));
    bool r = op == "=="   ? a == b
             : op == "!=" ? a != b
             : op == "<"  ? a < b
             : op == "<=" ? a <= b
             : op == ">"  ? a > b
                          : a >= b;
    return r ? 1.0 : 0.0;
  }
  double x = number(a, op), y = number(b, op);
  if (op == "+") return x + y;
  if (op == "-") return x - y;
  if (op == "*") return x * y;
  if (op == "/") return y == 0 ? throw std::invalid_argument("division by zero") : x / y;
  if (op == "%") return y == 0 ? throw std::invalid_argument("modulo by zero") : std::fmod(x, y);
  return std::pow(x, y);
}

}  // namespace

Expr Expr::parse(const std::string& text) {
  Expr e;
  e.text_ = text;
  Parser p(text, e.names_);
  e.root_ = p.parse();
  return e;
}

Value Expr::evaluate(const std::function<std::optional<Value>(const std::string&)>& lookup) const {
  return eval(*root_, lookup);
}

bool Expr::holds(const std::function<std::optional<Value>(const std::string&)>& lookup) const {
  return truth(evaluate(lookup));
}

Value value_of(const std::string& text) {
  if (auto v = core::parse_number(!text.empty() && text[0] == '+' ? std::string_view(text).substr(1) : text))
    return *v;
  return text;
}

}  // namespace whatif::sweep
