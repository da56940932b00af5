// The blueprint model: Port blueprint JSON loaded unchanged, validated, and indexed.
//
// Loading is two-phase: ParseBlueprint() checks one document on its own (identifiers, property
// types, formats, JSON-Schema keywords, relation shape, derived-property definitions, jq compile),
// and Catalog::Apply() checks the references across blueprints (relation targets, mirror paths,
// aggregation targets, path filters, referenced properties). Errors name the source file, the
// JSON pointer and the rule: "deployment.json: /relations/service/target: blueprint 'svc' does
// not exist".
#ifndef PORTOLAN_ENGINE_MODEL_BLUEPRINT_H_
#define PORTOLAN_ENGINE_MODEL_BLUEPRINT_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/json.h"
#include "engine/base/status.h"

namespace portolan::model {

struct PropertyDef {
  std::string key;
  std::string title;
  std::string type;    // string | number | boolean | object | array
  std::string format;  // "" when absent
  json::Value schema;  // the property definition as written (JSON-Schema keywords)
};

struct RelationDef {
  std::string key;
  std::string title;
  std::string target;
  bool many = false;
  bool required = false;
};

struct MirrorDef {
  std::string key;
  std::string title;
  std::string path;               // "pullRequest.cycle_time_hours"
  std::vector<std::string> hops;  // relation keys: {"pullRequest"}
  std::string leaf;               // property key or meta property ("$title")
};

struct CalculationDef {
  std::string key;
  std::string title;
  std::string type;
  std::string format;
  std::string calculation;  // jq text (Port dialect)
  json::Value definition;   // as written (colorized, colors, items, ...)
};

struct PathFilter {
  std::vector<std::string> path;
  std::string from_blueprint;  // "" when absent
};

struct CalculationSpec {
  std::string calculation_by;   // entities | property
  std::string func;             // count | sum | average | min | max | median
  std::string average_of;       // hour | day | week | month | total | "" (absent)
  std::string measure_time_by;  // default "$createdAt"
  std::string property;         // calculationBy == property
};

struct AggregationDef {
  std::string key;
  std::string title;
  std::string target;
  json::Value query;  // null when absent
  std::optional<PathFilter> path_filter;
  CalculationSpec spec;
};

struct Ownership {
  std::string type;  // "" (none) | Direct | Inherited
  std::string path;  // Inherited only
};

struct Blueprint {
  std::string identifier;
  std::string title;
  std::string icon;
  std::string description;
  std::vector<PropertyDef> properties;  // in document order
  std::vector<std::string> required;    // schema.required
  std::vector<RelationDef> relations;
  std::vector<MirrorDef> mirrors;
  std::vector<CalculationDef> calculations;
  std::vector<AggregationDef> aggregations;
  Ownership ownership;
  json::Value raw;      // the document as loaded (echoed by `portolan blueprints -o json`)
  std::string source;   // file it came from ("" for built-ins)
  std::string pointer;  // JSON pointer of the document within `source` ("" or "/3")
  // Non-fatal findings, e.g. an identifier that breaks Port's legacy (30-character) rule.
  std::vector<std::string> warnings;

  const PropertyDef* FindProperty(std::string_view key) const;
  const RelationDef* FindRelation(std::string_view key) const;
  const MirrorDef* FindMirror(std::string_view key) const;
  const CalculationDef* FindCalculation(std::string_view key) const;
  const AggregationDef* FindAggregation(std::string_view key) const;
  // True for schema, mirror, calculation and aggregation keys.
  bool HasAnyProperty(std::string_view key) const;
  bool IsRequired(std::string_view key) const;
};

// Meta properties usable in mirror paths, queries and measureTimeBy.
bool IsMetaProperty(std::string_view name);  // $identifier, $title, $team, $icon, $createdAt, ...

// `_user` and `_team`: always present, cannot be removed, extended by documents of that name.
bool IsSystemBlueprint(std::string_view id);

// Port's naming rules (spec §1). Letters are Unicode letters (\p{L}, approximated: every
// non-ASCII code point outside the common punctuation, symbol, digit and space blocks).
// Blueprint identifier: ^(?!\.{1,2}$)[\p{L}0-9@_.+:\\/-]+$, at most 100 code points.
bool IsValidBlueprintIdentifier(std::string_view id);
// Entity identifier / relation value: the blueprint set plus '=', at most 1000 code points.
bool IsValidEntityIdentifier(std::string_view id);
// Property, relation, mirror, calculation and aggregation keys: ^[A-Za-z0-9@_=\-]+$, <= 100.
bool IsValidPropertyKey(std::string_view key);
// A character of a property key (^[A-Za-z0-9@_=\-]$).
bool IsPropertyKeyChar(char c);
// True when `key` occurs in jq `text` as a whole token (how a calculation reads
// .properties.<key>): the dependency rule of the catalog and the derive engine.
bool ContainsKeyToken(std::string_view text, std::string_view key);

// Checks one blueprint document on its own. `source` names the file in errors. kInvalidArgument
// with one "<source>: <pointer>: <rule>" line per problem found.
struct ParseOptions {
  // Compile every calculation's jq (~15 ms each on libjq 1.6). Off only for documents that were
  // checked when applied (the store reloading its own blueprints).
  bool check_jq = true;
};
Result<Blueprint> ParseBlueprint(const json::Value& doc, const std::string& source,
                                 const std::string& pointer_prefix = "",
                                 const ParseOptions& options = {});

// Loads blueprint documents from a file (one object or an array) or a directory (every *.json,
// sorted by name). Each returned document keeps the file it came from.
struct BlueprintDoc {
  json::Value doc;
  std::string source;   // file path
  std::string pointer;  // "" or "/3" for the 4th element of an array file
};
Result<std::vector<BlueprintDoc>> LoadBlueprintDocs(const std::string& path);

// LoadBlueprintDocs() + ParseBlueprint() on every document; the errors of all documents are
// collected (one line each) before failing.
Result<std::vector<Blueprint>> LoadBlueprints(const std::string& path);

// The set of blueprints of a workspace. Always holds the system blueprints `_user` and `_team`.
// Thread-safety: const methods may run concurrently; Apply() and Remove() need exclusive access.
// Pointers from Find() and blueprints() stay valid until the next Apply() or Remove().
class Catalog {
 public:
  Catalog();

  const Blueprint* Find(std::string_view id) const;
  const std::map<std::string, Blueprint, std::less<>>& blueprints() const { return blueprints_; }

  // Adds or replaces the given blueprints, all or nothing: the cross-blueprint references of
  // the resulting set are checked (targets exist, mirror paths walk declared relations,
  // aggregation path filters and properties exist, no cycle between derived properties).
  // A blueprint named like a system blueprint extends it (its keys are merged in).
  // Errors: kInvalidArgument for an identifier given twice in the batch, kFailedPrecondition
  // for broken references (one "<file>: <pointer>: <rule>" line each); nothing is applied then.
  Status Apply(std::vector<Blueprint> blueprints);

  // Removes a blueprint; kFailedPrecondition when another blueprint still references it or it is
  // a system blueprint, kNotFound when absent.
  Status Remove(std::string_view id);

  // Checks the cross-blueprint references of the whole set.
  Status Validate() const;

 private:
  std::map<std::string, Blueprint, std::less<>> blueprints_;
};

// Validates an entity's raw property values against the blueprint schema (type, format, enum,
// min/max, lengths, pattern, items, uniqueItems). Errors name the property:
// "property 'environment': value \"Prod\" is not one of [\"Production\", ...]".
Status ValidatePropertyValue(const PropertyDef& prop, const json::Value& value);

}  // namespace portolan::model

#endif  // PORTOLAN_ENGINE_MODEL_BLUEPRINT_H_
