#pragma once
// The small JSON subset a safetensors header uses: objects, arrays, strings and integers (plus
// true/false/null and decimals, parsed and kept as text, for metadata we only pass through).
// Malformed input is a facet::Error naming the byte where parsing stopped.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace facet::json {

struct Value {
  enum class Kind { Object, Array, String, Integer, Other };
  Kind kind = Kind::Other;
  std::string text;                                      // String: the decoded string; Other: the raw token
  int64_t integer = 0;                                   // Integer
  std::vector<Value> items;                              // Array
  std::vector<std::pair<std::string, Value>> members;    // Object, in file order

  const Value* find(const std::string& key) const;
};

// `what` names the document in error messages ("the header of net.safetensors").
Value parse(const std::string& text, const std::string& what);
// A JSON string literal (quoted, escaped) for `s`.
std::string quote(const std::string& s);

}  // namespace facet::json
