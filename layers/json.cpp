#include "layers/json.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/error.h"

namespace facet::json {

const Value* Value::find(const std::string& key) const {
  for (const auto& [k, v] : members)
    if (k == key) return &v;
  return nullptr;
}

namespace {

class Parser {
 public:
  Parser(const std::string& text, const std::string& what) : s_(text), what_(what) {}

  Value document() {
    Value v = value(0);
    skip_space();
    if (pos_ != s_.size()) fail("the end of the JSON document");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& expected) const {
    throw Error("load", expected + " in " + what_, "malformed JSON at byte " + std::to_string(pos_));
  }

  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t')) ++pos_;
  }

  bool eat(char c) {
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  Value value(int depth) {
    if (depth > 64) fail("JSON nested at most 64 deep");
    skip_space();
    if (pos_ >= s_.size()) fail("a value");
    const char c = s_[pos_];
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') {
      Value v;
      v.kind = Value::Kind::String;
      v.text = string();
      return v;
    }
    return scalar();
  }

  Value object(int depth) {
    Value v;
    v.kind = Value::Kind::Object;
    ++pos_;
    if (eat('}')) return v;
    do {
      skip_space();
      if (pos_ >= s_.size() || s_[pos_] != '"') fail("a quoted key");
      std::string key = string();
      if (!eat(':')) fail("':' after a key");
      v.members.emplace_back(std::move(key), value(depth + 1));
    } while (eat(','));
    if (!eat('}')) fail("',' or '}' in an object");
    return v;
  }

  Value array(int depth) {
    Value v;
    v.kind = Value::Kind::Array;
    ++pos_;
    if (eat(']')) return v;
    do v.items.push_back(value(depth + 1));
    while (eat(','));
    if (!eat(']')) fail("',' or ']' in an array");
    return v;
  }

  std::string string() {
    ++pos_;  // the opening quote
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != '"') {
      char c = s_[pos_++];
      if (static_cast<unsigned char>(c) < 0x20) fail("no control characters inside a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) fail("an escape sequence");
      c = s_[pos_++];
      switch (c) {
        case '"': case '\\': case '/': out += c; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          if (pos_ + 4 > s_.size()) fail("four hex digits after \\u");
          for (size_t i = pos_; i < pos_ + 4; ++i)
            if (!std::isxdigit(static_cast<unsigned char>(s_[i]))) fail("four hex digits after \\u");
          const unsigned code = static_cast<unsigned>(std::stoul(s_.substr(pos_, 4), nullptr, 16));
          pos_ += 4;
          // Names here are ASCII in practice; encode the code point as UTF-8 (no surrogate pairs).
          if (code < 0x80) out += static_cast<char>(code);
          else if (code < 0x800) {
            out += static_cast<char>(0xC0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3F));
          } else {
            out += static_cast<char>(0xE0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
          }
          break;
        }
        default: fail("a valid escape sequence");
      }
    }
    if (pos_ >= s_.size()) fail("a closing quote");
    ++pos_;
    return out;
  }

  Value scalar() {
    const size_t start = pos_;
    while (pos_ < s_.size() && std::string(",]} \n\r\t").find(s_[pos_]) == std::string::npos) ++pos_;
    Value v;
    v.text = s_.substr(start, pos_ - start);
    if (v.text.empty()) fail("a value");
    bool integer = true;
    for (size_t i = 0; i < v.text.size(); ++i)
      integer = integer && (std::isdigit(static_cast<unsigned char>(v.text[i])) || (i == 0 && v.text[i] == '-'));
    if (integer && v.text != "-" && v.text.size() <= 18) {
      v.kind = Value::Kind::Integer;
      v.integer = std::stoll(v.text);
    } else if (v.text != "true" && v.text != "false" && v.text != "null") {
      char* end = nullptr;
      std::strtod(v.text.c_str(), &end);
      if (*end != '\0') {
        pos_ = start;
        fail("a number, true, false or null");
      }
    }
    return v;
  }

  const std::string& s_;
  const std::string& what_;
  size_t pos_ = 0;
};

}  // namespace

Value parse(const std::string& text, const std::string& what) { return Parser(text, what).document(); }

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace facet::json
