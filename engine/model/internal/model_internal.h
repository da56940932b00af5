// Helpers shared by the files of engine/model/: the keyword tables of Port's blueprint schema,
// an error collector that formats "<source>: <pointer>: <rule>", value previews, and a cached
// ECMAScript regex compiler. Not part of the public interface.
#ifndef PORTOLAN_ENGINE_MODEL_INTERNAL_MODEL_INTERNAL_H_
#define PORTOLAN_ENGINE_MODEL_INTERNAL_MODEL_INTERNAL_H_

#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/json.h"
#include "engine/base/status.h"
#include "engine/model/blueprint.h"

namespace portolan::model::internal {

// True when `s` is one of the entries of `list`.
bool OneOf(std::string_view s, const std::vector<std::string_view>& list);
// "a, b, c".
std::string JoinList(const std::vector<std::string_view>& list);

const std::vector<std::string_view>& PropertyTypes();       // string number boolean object array
const std::vector<std::string_view>& PropertyFormats();     // §2.2
const std::vector<std::string_view>& CalculationFormats();  // §4.1
const std::vector<std::string_view>& PropertySpecs();       // open-api embedded-url async-api
const std::vector<std::string_view>& Colors();              // union of enum and calculation colors
const std::vector<std::string_view>& QueryOperators();      // §6.2

// Number of Unicode code points in valid UTF-8 (JSON Schema counts lengths this way).
size_t CodePointLength(std::string_view utf8);

// A short JSON rendering of a value for error messages (truncated past ~80 characters).
std::string Preview(const json::Value& v);
// "\"a b\"" for strings.
std::string Quote(std::string_view s);

// A pointer token appended to a pointer: Child("/relations", "a/b") == "/relations/a~1b".
std::string Child(const std::string& pointer, std::string_view token);
std::string Child(const std::string& pointer, size_t index);

// Compiles an ECMAScript regex once per pattern and thread; nullptr when it does not compile
// (`error` receives the reason).
std::shared_ptr<const std::regex> CompileRegex(const std::string& pattern, std::string* error);

// True for an integral, non-negative JSON number.
bool IsNonNegativeInteger(const json::Value& v);

// Collects errors as "<source>: <pointer>: <rule>" lines.
class Errors {
 public:
  explicit Errors(std::string source) : source_(std::move(source)) {}

  void Add(const std::string& pointer, const std::string& rule);
  bool empty() const { return lines_.empty(); }
  size_t size() const { return lines_.size(); }
  const std::vector<std::string>& lines() const { return lines_; }
  void Append(const Errors& other);

  // The collected lines joined by newlines, as a Status with `code`; OK when empty.
  Status ToStatus(StatusCode code = StatusCode::kInvalidArgument) const;

 private:
  std::string source_;
  std::vector<std::string> lines_;
};

// Checks the structure of a Port entities query (spec §6.1): {combinator: and|or, rules: [...]},
// each rule a nested group or {property|relation|propertySchema|scorecard, operator, value?}
// ({operator: relatedTo, blueprint, value} for relatedTo).
void CheckQueryShape(const json::Value& query, const std::string& pointer, Errors* errors);

// The names a query refers to, for the cross-blueprint checks.
struct QueryRef {
  enum class Kind { kProperty, kRelation, kBlueprint };
  Kind kind;
  std::string name;
  std::string pointer;  // of the rule member naming it
};
void CollectQueryRefs(const json::Value& query, const std::string& pointer,
                      std::vector<QueryRef>* out);

// Keys must be unique across schema, mirror, calculation and aggregation properties: they share
// the entity's `properties` object.
void CheckKeyCollisions(const Blueprint& bp, Errors* errors);

// True when a property of this type may hold `v` ("integer" included; unknown types: true).
bool TypeMatches(std::string_view type, const json::Value& v);

// Formats one error line; `source` "" renders as "<builtin>", pointer "" as "(root)".
std::string FormatError(const std::string& source, const std::string& pointer,
                        const std::string& rule);

}  // namespace portolan::model::internal

#endif  // PORTOLAN_ENGINE_MODEL_INTERNAL_MODEL_INTERNAL_H_
