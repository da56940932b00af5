// portolan::json::Value: the one JSON value type used across Portolan (entities, payloads,
// blueprints, query rules). Objects keep insertion order, as jq and Port do.
// Parsing goes through RapidJSON (UTF-8 validated, errors with line and column).
// Thread-safety: a Value is a plain value type; concurrent const access is safe.
#ifndef PORTOLAN_ENGINE_BASE_JSON_H_
#define PORTOLAN_ENGINE_BASE_JSON_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "engine/base/status.h"

namespace portolan::json {

enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

const char* TypeName(Type t);  // "null", "boolean", "number", "string", "array", "object"

class Value;
using Array = std::vector<Value>;
using Member = std::pair<std::string, Value>;
using Object = std::vector<Member>;

class Value {
 public:
  Value() = default;
  Value(std::nullptr_t) {}                                  // NOLINT
  Value(bool b) : v_(b) {}                                  // NOLINT
  Value(double d) : v_(d) {}                                // NOLINT
  Value(int i) : v_(static_cast<double>(i)) {}              // NOLINT
  Value(int64_t i) : v_(static_cast<double>(i)) {}          // NOLINT
  Value(uint64_t i) : v_(static_cast<double>(i)) {}         // NOLINT
  Value(std::string s) : v_(std::move(s)) {}                // NOLINT
  Value(std::string_view s) : v_(std::string(s)) {}         // NOLINT
  Value(const char* s) : v_(std::string(s)) {}              // NOLINT
  Value(Array a) : v_(std::move(a)) {}                      // NOLINT
  Value(Object o) : v_(std::move(o)) {}                     // NOLINT

  static Value MakeObject() { return Value(Object{}); }
  static Value MakeArray() { return Value(Array{}); }

  Type type() const { return static_cast<Type>(v_.index()); }
  bool is_null() const { return type() == Type::kNull; }
  bool is_bool() const { return type() == Type::kBool; }
  bool is_number() const { return type() == Type::kNumber; }
  bool is_string() const { return type() == Type::kString; }
  bool is_array() const { return type() == Type::kArray; }
  bool is_object() const { return type() == Type::kObject; }

  // Accessors assert the type (programmer error otherwise).
  bool as_bool() const { return std::get<bool>(v_); }
  double as_number() const { return std::get<double>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  std::string& as_string() { return std::get<std::string>(v_); }
  const Array& as_array() const { return std::get<Array>(v_); }
  Array& as_array() { return std::get<Array>(v_); }
  const Object& as_object() const { return std::get<Object>(v_); }
  Object& as_object() { return std::get<Object>(v_); }

  // Object helpers. Find returns nullptr when absent or when this is not an object.
  const Value* Find(std::string_view key) const;
  Value* Find(std::string_view key);
  bool Has(std::string_view key) const { return Find(key) != nullptr; }
  // Returns the member or a static null when absent.
  const Value& Get(std::string_view key) const;
  // Sets (replacing in place, or appending). Turns a null into an object first.
  Value& Set(std::string_view key, Value v);
  bool Erase(std::string_view key);
  // Array append. Turns a null into an array first.
  void Push(Value v);
  size_t size() const;  // members or elements; 0 otherwise

  // Python truthiness as Ocean applies it: null, false, 0, "", [] and {} are falsy.
  bool Truthy() const;

  bool operator==(const Value& o) const;
  bool operator!=(const Value& o) const { return !(*this == o); }

 private:
  std::variant<std::nullptr_t, bool, double, std::string, Array, Object> v_;
};

// jq's total order: null < false < true < numbers < strings < arrays < objects.
int Compare(const Value& a, const Value& b);

struct WriteOptions {
  bool pretty = false;
  int indent = 2;
  bool sort_keys = false;
};
std::string Write(const Value& v, const WriteOptions& options = {});
void WriteTo(const Value& v, std::string* out, const WriteOptions& options = {});
// Numbers as Portolan prints them: integral values without a fraction ("3", not "3.0");
// others in the shortest form that round-trips.
std::string FormatNumber(double d);

// The deepest nesting of arrays and objects a parse accepts (libjq's own parser stops at 256);
// deeper input is an error naming the line and column, never a stack overflow.
inline constexpr size_t kMaxDepth = 512;

// Parses exactly one JSON document (whitespace around it allowed). Errors name the line and
// column ("line 3, column 7: Missing a comma or '}' after an object member.").
Result<Value> Parse(std::string_view text);

// Parses a sequence of whitespace-separated JSON values (JSON Lines, or concatenated JSON).
// `on_value` receives each value with its 1-based line; returning a non-OK status stops.
Status ParseSequence(std::string_view text, const std::function<Status(Value, int)>& on_value);

// The error status for a RapidJSON parse error (`code` is a rapidjson::ParseErrorCode) at a
// byte offset of `text`: "line L, column C: <message>", noting input that is not UTF-8.
Status ParseErrorStatus(std::string_view text, size_t offset, int code);

// Reads a whole file. Errors name the path.
Result<std::string> ReadFile(const std::string& path);
// Reads and parses; errors are prefixed with the path.
Result<Value> ParseFile(const std::string& path);

// RFC 6901 pointer token escaping ("a/b" -> "a~1b").
std::string PointerEscape(std::string_view token);

// Line/column (1-based) of a byte offset in text.
std::pair<int, int> LineColumn(std::string_view text, size_t offset);

}  // namespace portolan::json

#endif  // PORTOLAN_ENGINE_BASE_JSON_H_
