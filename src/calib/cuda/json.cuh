// A small ordered JSON value and writer: enough for the measurement files, no external library.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace calib {

class Json {
 public:
  enum class Type { null, boolean, integer, number, string, array, object };

  Json() = default;
  Json(bool b) : type_(Type::boolean), int_(b ? 1 : 0) {}
  Json(int v) : type_(Type::integer), int_(v) {}
  Json(long v) : type_(Type::integer), int_(v) {}
  Json(long long v) : type_(Type::integer), int_(v) {}
  Json(unsigned v) : type_(Type::integer), int_(static_cast<long long>(v)) {}
  Json(unsigned long v) : type_(Type::integer), int_(static_cast<long long>(v)) {}
  Json(unsigned long long v) : type_(Type::integer), int_(static_cast<long long>(v)) {}
  Json(double v) : type_(Type::number), num_(v) {}
  Json(const char* s) : type_(Type::string), str_(s) {}
  Json(std::string s) : type_(Type::string), str_(std::move(s)) {}

  static Json array() {
    Json j;
    j.type_ = Type::array;
    return j;
  }
  static Json object() {
    Json j;
    j.type_ = Type::object;
    return j;
  }

  // Objects keep insertion order (the files read better that way); setting a key again replaces its value.
  Json& set(const std::string& key, Json value) {
    if (type_ == Type::null) type_ = Type::object;
    for (auto& kv : members_)
      if (kv.first == key) {
        kv.second = std::move(value);
        return *this;
      }
    members_.emplace_back(key, std::move(value));
    return *this;
  }
  Json& push(Json value) {
    if (type_ == Type::null) type_ = Type::array;
    items_.push_back(std::move(value));
    return *this;
  }
  std::size_t size() const { return type_ == Type::array ? items_.size() : members_.size(); }

  std::string dump() const {
    std::string out;
    write(out, 0);
    out += '\n';
    return out;
  }

 private:
  bool scalar() const { return type_ != Type::array && type_ != Type::object; }

  // Containers of scalars go on one line (time_s, params), everything else is indented by two spaces.
  bool flat() const {
    if (scalar()) return true;
    if (type_ == Type::array) {
      for (const auto& v : items_)
        if (!v.scalar()) return false;
      return items_.size() <= 8;
    }
    for (const auto& kv : members_)
      if (!kv.second.scalar()) return false;
    return true;
  }

  static void quote(std::string& out, const std::string& s) {
    out += '"';
    for (unsigned char c : s) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\r':
          out += "\\r";
          break;
        default:
          if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
          } else {
            out += static_cast<char>(c);
          }
      }
    }
    out += '"';
  }

  void write(std::string& out, int indent) const {
    char buf[64];
    switch (type_) {
      case Type::null:
        out += "null";
        return;
      case Type::boolean:
        out += int_ ? "true" : "false";
        return;
      case Type::integer:
        std::snprintf(buf, sizeof buf, "%lld", int_);
        out += buf;
        return;
      case Type::number:
        if (!std::isfinite(num_)) {  // JSON has no inf/nan
          out += "null";
          return;
        }
        std::snprintf(buf, sizeof buf, "%.12g", num_);
        out += buf;
        return;
      case Type::string:
        quote(out, str_);
        return;
      case Type::array:
      case Type::object:
        break;
    }
    const bool is_array = type_ == Type::array;
    const std::size_t n = size();
    out += is_array ? '[' : '{';
    if (n == 0) {
      out += is_array ? ']' : '}';
      return;
    }
    const bool one_line = flat();
    const std::string pad(static_cast<std::size_t>(indent + 2), ' ');
    for (std::size_t i = 0; i < n; ++i) {
      if (i) out += one_line ? ", " : ",";
      if (!one_line) {
        out += '\n';
        out += pad;
      }
      if (is_array) {
        items_[i].write(out, indent + 2);
      } else {
        quote(out, members_[i].first);
        out += ": ";
        members_[i].second.write(out, indent + 2);
      }
    }
    if (!one_line) {
      out += '\n';
      out += std::string(static_cast<std::size_t>(indent), ' ');
    }
    out += is_array ? ']' : '}';
  }

  Type type_ = Type::null;
  long long int_ = 0;
  double num_ = 0;
  std::string str_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> members_;
};

}  // namespace calib
