// Blueprint documents: one Port blueprint JSON checked on its own (spec §1–§4.1, §7.1) and
// loaded from files. Cross-blueprint references are checked by Catalog (catalog.cc).
//
// Every error is one line "<source>: <JSON pointer>: <rule>"; all the errors of a document are
// collected before failing. Unknown keys are ignored at every level (Port's live API is more
// lenient than its published schema, and a blueprint that works there must load here).
#include "engine/model/blueprint.h"

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <unordered_map>

#include "engine/jq/jq.h"
#include "engine/model/internal/model_internal.h"

namespace portolan::model {

using internal::Child;
using internal::CodePointLength;
using internal::Errors;
using internal::JoinList;
using internal::OneOf;
using internal::Preview;
using internal::Quote;

namespace {

template <typename T>
const T* FindByKey(const std::vector<T>& items, std::string_view key) {
  for (const T& item : items) {
    if (item.key == key) return &item;
  }
  return nullptr;
}

constexpr std::string_view kIdentifierRule = "^(?!\\.{1,2}$)[\\p{L}0-9@_.+:\\\\/-]+$";
constexpr std::string_view kKeyRule = "^[A-Za-z0-9@_=\\-]+$";

// Port's legacy identifier rule (archived API pages): warn, don't fail.
bool MatchesLegacyIdentifierRule(std::string_view id) {
  if (id.size() > 30) return false;
  for (char c : id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              std::string_view("@_.:\\/=-").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// The string form an enum value takes as an enumColors key ("1" for the number 1).
std::string EnumKey(const json::Value& v) {
  if (v.is_string()) return v.as_string();
  if (v.is_number()) return json::FormatNumber(v.as_number());
  if (v.is_bool()) return v.as_bool() ? "true" : "false";
  return json::Write(v);
}

std::vector<std::string> SplitDots(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    out.emplace_back(s.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}

// Port's mirror path rule ^(?:[A-Za-z0-9@_=\-$]+\.)+?(\w|\$|@|-)*?[^\.]+$: at least one hop
// made of key characters (or '$'), then a non-empty last segment without dots.
bool SplitMirrorPath(std::string_view path, std::vector<std::string>* hops, std::string* leaf) {
  std::vector<std::string> parts = SplitDots(path);
  if (parts.size() < 2 || parts.back().empty()) return false;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const std::string& hop = parts[i];
    if (hop.empty()) return false;
    for (char c : hop) {
      bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '@' || c == '_' || c == '=' || c == '-' || c == '$';
      if (!ok) return false;
    }
  }
  *leaf = parts.back();
  parts.pop_back();
  *hops = std::move(parts);
  return true;
}

// "" when `program` compiles, else jq's message. Compiling costs ~15 ms on libjq 1.6 and guides
// repeat the same calculations on several blueprints, so outcomes are remembered per text.
std::string JqCompileError(const std::string& program) {
  static std::mutex mu;
  static std::unordered_map<std::string, std::string> outcomes;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = outcomes.find(program);
    if (it != outcomes.end()) return it->second;
  }
  auto compiled = jq::Program::Compile(program);
  std::string err = compiled.ok() ? "" : compiled.status().message();
  std::lock_guard<std::mutex> lock(mu);
  if (outcomes.size() > 10000) outcomes.clear();  // bound memory
  outcomes.emplace(program, err);
  return err;
}

class BlueprintParser {
 public:
  BlueprintParser(const std::string& source, const std::string& prefix,
                  const ParseOptions& options)
      : source_(source), errors_(source), prefix_(prefix), options_(options) {}

  Result<Blueprint> Parse(const json::Value& doc);

 private:
  std::string Ptr(std::string_view key) const { return Child(prefix_, key); }

  // Optional string member: absent or null -> false; wrong type or too long -> error.
  bool OptString(const json::Value& obj, std::string_view key, const std::string& ptr,
                 std::string* out, size_t max_len = 0);
  // Required string member.
  bool ReqString(const json::Value& obj, std::string_view key, const std::string& ptr,
                 std::string* out, size_t max_len = 0);
  // Optional boolean member (default false).
  bool OptBool(const json::Value& obj, std::string_view key, const std::string& ptr);
  // Optional map member: absent or null -> nullptr.
  const json::Object* OptMap(const json::Value& obj, std::string_view key, const std::string& ptr);
  bool CheckKey(std::string_view kind, std::string_view key, const std::string& ptr);

  void ParseIdentity(const json::Value& doc, Blueprint* bp);
  void ParseSchema(const json::Value& doc, bool system, Blueprint* bp);
  void ParseProperty(const std::string& key, const json::Value& def, const std::string& ptr,
                     Blueprint* bp);
  void CheckKeywords(const json::Value& def, const std::string& ptr, std::string_view type,
                     bool in_items);
  void CheckEnumColors(const json::Value& def, const std::string& ptr, std::string_view type);
  void ParseRelation(const std::string& key, const json::Value& def, const std::string& ptr,
                     Blueprint* bp);
  void ParseMirror(const std::string& key, const json::Value& def, const std::string& ptr,
                   Blueprint* bp);
  void ParseCalculation(const std::string& key, const json::Value& def, const std::string& ptr,
                        Blueprint* bp);
  void ParseAggregation(const std::string& key, const json::Value& def, const std::string& ptr,
                        Blueprint* bp);
  void ParsePathFilter(const json::Value& pf, const std::string& ptr, AggregationDef* agg);
  void ParseCalculationSpec(const json::Value& spec, const std::string& ptr, CalculationSpec* out);
  void ParseOwnership(const json::Value& doc, Blueprint* bp);

  std::string source_;
  Errors errors_;
  std::string prefix_;
  ParseOptions options_;
};

bool BlueprintParser::OptString(const json::Value& obj, std::string_view key,
                                const std::string& ptr, std::string* out, size_t max_len) {
  const json::Value* v = obj.Find(key);
  if (v == nullptr || v->is_null()) return false;
  if (!v->is_string()) {
    errors_.Add(Child(ptr, key), Quote(key) + " must be a string, not " + Preview(*v));
    return false;
  }
  if (max_len > 0 && CodePointLength(v->as_string()) > max_len) {
    errors_.Add(Child(ptr, key),
                Quote(key) + " must be at most " + std::to_string(max_len) + " characters");
    return false;
  }
  if (out != nullptr) *out = v->as_string();
  return true;
}

bool BlueprintParser::ReqString(const json::Value& obj, std::string_view key,
                                const std::string& ptr, std::string* out, size_t max_len) {
  const json::Value* v = obj.Find(key);
  if (v == nullptr || v->is_null()) {
    errors_.Add(Child(ptr, key), Quote(key) + " is required");
    return false;
  }
  if (!OptString(obj, key, ptr, out, max_len)) return false;
  if (v->as_string().empty()) {
    errors_.Add(Child(ptr, key), Quote(key) + " must not be empty");
    return false;
  }
  return true;
}

bool BlueprintParser::OptBool(const json::Value& obj, std::string_view key,
                              const std::string& ptr) {
  const json::Value* v = obj.Find(key);
  if (v == nullptr || v->is_null()) return false;
  if (!v->is_bool()) {
    errors_.Add(Child(ptr, key), Quote(key) + " must be a boolean, not " + Preview(*v));
    return false;
  }
  return v->as_bool();
}

const json::Object* BlueprintParser::OptMap(const json::Value& obj, std::string_view key,
                                            const std::string& ptr) {
  const json::Value* v = obj.Find(key);
  if (v == nullptr || v->is_null()) return nullptr;
  if (!v->is_object()) {
    errors_.Add(Child(ptr, key), Quote(key) + " must be an object, not " + Preview(*v));
    return nullptr;
  }
  return &v->as_object();
}

bool BlueprintParser::CheckKey(std::string_view kind, std::string_view key,
                               const std::string& ptr) {
  if (IsValidPropertyKey(key)) return true;
  errors_.Add(ptr, std::string(kind) + " key " + Quote(key) + " does not match " +
                       std::string(kKeyRule) + " (at most 100 characters)");
  return false;
}

Result<Blueprint> BlueprintParser::Parse(const json::Value& doc) {
  if (!doc.is_object()) {
    errors_.Add(prefix_, std::string("a blueprint must be a JSON object, not ") +
                             json::TypeName(doc.type()));
    return errors_.ToStatus();
  }
  Blueprint bp;
  bp.raw = doc;
  bp.source = source_;
  bp.pointer = prefix_;
  ParseIdentity(doc, &bp);
  bool system = IsSystemBlueprint(bp.identifier);
  ParseSchema(doc, system, &bp);
  if (const json::Object* rels = OptMap(doc, "relations", prefix_)) {
    for (const auto& [key, def] : *rels) {
      ParseRelation(key, def, Child(Ptr("relations"), key), &bp);
    }
  }
  if (const json::Object* mirrors = OptMap(doc, "mirrorProperties", prefix_)) {
    for (const auto& [key, def] : *mirrors) {
      ParseMirror(key, def, Child(Ptr("mirrorProperties"), key), &bp);
    }
  }
  if (const json::Object* calcs = OptMap(doc, "calculationProperties", prefix_)) {
    for (const auto& [key, def] : *calcs) {
      ParseCalculation(key, def, Child(Ptr("calculationProperties"), key), &bp);
    }
  }
  if (const json::Object* aggs = OptMap(doc, "aggregationProperties", prefix_)) {
    for (const auto& [key, def] : *aggs) {
      ParseAggregation(key, def, Child(Ptr("aggregationProperties"), key), &bp);
    }
  }
  ParseOwnership(doc, &bp);
  internal::CheckKeyCollisions(bp, &errors_);
  if (!errors_.empty()) return errors_.ToStatus();
  return bp;
}

void BlueprintParser::ParseIdentity(const json::Value& doc, Blueprint* bp) {
  const json::Value& id = doc.Get("identifier");
  if (id.is_null()) {
    errors_.Add(Ptr("identifier"), "\"identifier\" is required");
  } else if (!id.is_string()) {
    errors_.Add(Ptr("identifier"), "\"identifier\" must be a string, not " + Preview(id));
  } else {
    bp->identifier = id.as_string();
    if (CodePointLength(bp->identifier) > 100) {
      errors_.Add(Ptr("identifier"), "\"identifier\" must be at most 100 characters");
    } else if (!IsValidBlueprintIdentifier(bp->identifier)) {
      errors_.Add(Ptr("identifier"),
                  Quote(bp->identifier) + " does not match " + std::string(kIdentifierRule));
    } else if (!MatchesLegacyIdentifierRule(bp->identifier)) {
      bp->warnings.push_back(internal::FormatError(
          source_, Ptr("identifier"),
          Quote(bp->identifier) +
              " breaks Port's legacy rule ^[A-Za-z0-9@_.:\\\\/=-]+$, at most 30 characters"));
    }
  }
  bool system = IsSystemBlueprint(bp->identifier);
  const json::Value* title = doc.Find("title");
  if (title == nullptr || title->is_null()) {
    // A document extending a system blueprint may leave out what the built-in already has.
    if (!system) errors_.Add(Ptr("title"), "\"title\" is required");
  } else if (OptString(doc, "title", prefix_, &bp->title, 100) && bp->title.empty()) {
    errors_.Add(Ptr("title"), "\"title\" must not be empty");
  }
  OptString(doc, "description", prefix_, &bp->description, 200);
  OptString(doc, "icon", prefix_, &bp->icon);
}

void BlueprintParser::ParseSchema(const json::Value& doc, bool system, Blueprint* bp) {
  const json::Value* schema = doc.Find("schema");
  std::string sp = Ptr("schema");
  if (schema == nullptr || schema->is_null()) {
    if (!system) errors_.Add(sp, "\"schema\" is required ({\"properties\": {...}})");
    return;
  }
  if (!schema->is_object()) {
    errors_.Add(sp, "\"schema\" must be an object, not " + Preview(*schema));
    return;
  }
  const json::Value* props = schema->Find("properties");
  if (props == nullptr || props->is_null()) {
    if (!system) errors_.Add(Child(sp, "properties"), "\"schema.properties\" is required");
  } else if (!props->is_object()) {
    errors_.Add(Child(sp, "properties"),
                "\"schema.properties\" must be an object, not " + Preview(*props));
  } else {
    for (const auto& [key, def] : props->as_object()) {
      ParseProperty(key, def, Child(Child(sp, "properties"), key), bp);
    }
  }
  const json::Value* required = schema->Find("required");
  if (required == nullptr || required->is_null()) return;
  std::string rp = Child(sp, "required");
  if (!required->is_array()) {
    errors_.Add(rp, "\"schema.required\" must be an array of property keys");
    return;
  }
  for (size_t i = 0; i < required->as_array().size(); ++i) {
    const json::Value& k = required->as_array()[i];
    if (!k.is_string()) {
      errors_.Add(Child(rp, i), "a required entry must be a property key, not " + Preview(k));
    } else if (bp->FindProperty(k.as_string()) == nullptr) {
      errors_.Add(Child(rp, i), Quote(k.as_string()) + " is not a key of schema.properties");
    } else if (!bp->IsRequired(k.as_string())) {
      bp->required.push_back(k.as_string());
    }
  }
}

void BlueprintParser::ParseProperty(const std::string& key, const json::Value& def,
                                    const std::string& ptr, Blueprint* bp) {
  if (!CheckKey("property", key, ptr)) return;
  if (!def.is_object()) {
    errors_.Add(ptr, "a property definition must be an object, not " + Preview(def));
    return;
  }
  size_t errors_before = errors_.size();
  PropertyDef p;
  p.key = key;
  p.schema = def;
  const json::Value& type = def.Get("type");
  if (type.is_null()) {
    errors_.Add(Child(ptr, "type"),
                "\"type\" is required (one of " + JoinList(internal::PropertyTypes()) + ")");
  } else if (!type.is_string() || !OneOf(type.as_string(), internal::PropertyTypes())) {
    errors_.Add(Child(ptr, "type"), Preview(type) + " is not a property type (one of " +
                                        JoinList(internal::PropertyTypes()) + ")");
  } else {
    p.type = type.as_string();
  }
  OptString(def, "title", ptr, &p.title, 100);
  OptString(def, "description", ptr, nullptr);
  OptString(def, "icon", ptr, nullptr);
  if (def.Get("format").is_string()) p.format = def.Get("format").as_string();
  CheckKeywords(def, ptr, p.type, /*in_items=*/false);
  if (errors_.size() == errors_before) {
    // The default is only meaningful once the definition itself is sound.
    if (const json::Value* d = def.Find("default")) {
      Status s = ValidatePropertyValue(p, *d);
      if (!s.ok()) errors_.Add(Child(ptr, "default"), "default does not fit: " + s.message());
    }
  }
  bp->properties.push_back(std::move(p));
}

void BlueprintParser::CheckKeywords(const json::Value& def, const std::string& ptr,
                                    std::string_view type, bool in_items) {
  std::string format;
  if (OptString(def, "format", ptr, &format) && !OneOf(format, internal::PropertyFormats())) {
    errors_.Add(Child(ptr, "format"), Quote(format) + " is not a property format (one of " +
                                          JoinList(internal::PropertyFormats()) + ")");
  }
  std::string spec;
  if (!in_items && OptString(def, "spec", ptr, &spec) && !OneOf(spec, internal::PropertySpecs())) {
    errors_.Add(Child(ptr, "spec"), Quote(spec) + " is not a spec (one of " +
                                        JoinList(internal::PropertySpecs()) + ")");
  }
  if (const json::Value* e = def.Find("enum"); e != nullptr && !e->is_null()) {
    if (!e->is_array()) {
      errors_.Add(Child(ptr, "enum"), "\"enum\" must be an array, not " + Preview(*e));
    } else {
      for (size_t i = 0; i < e->as_array().size(); ++i) {
        const json::Value& option = e->as_array()[i];
        if (!option.is_null() && !internal::TypeMatches(type, option)) {
          errors_.Add(Child(Child(ptr, "enum"), i),
                      "enum value " + Preview(option) + " is not a " + std::string(type));
        }
      }
    }
  }
  CheckEnumColors(def, ptr, type);
  for (const char* k : {"minimum", "maximum"}) {
    const json::Value* v = def.Find(k);
    if (v != nullptr && !v->is_number()) {
      errors_.Add(Child(ptr, k), Quote(k) + " must be a number, not " + Preview(*v));
    }
  }
  for (const char* k : {"exclusiveMinimum", "exclusiveMaximum"}) {
    const json::Value* v = def.Find(k);
    if (v != nullptr && !v->is_number() && !v->is_bool()) {
      errors_.Add(Child(ptr, k), Quote(k) + " must be a number, not " + Preview(*v));
    }
  }
  for (const char* k :
       {"minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"}) {
    const json::Value* v = def.Find(k);
    if (v != nullptr && !internal::IsNonNegativeInteger(*v)) {
      errors_.Add(Child(ptr, k), Quote(k) + " must be a non-negative integer, not " + Preview(*v));
    }
  }
  for (auto [lo, hi] :
       {std::pair{"minimum", "maximum"}, std::pair{"minLength", "maxLength"},
        std::pair{"minItems", "maxItems"}, std::pair{"minProperties", "maxProperties"}}) {
    const json::Value& a = def.Get(lo);
    const json::Value& b = def.Get(hi);
    if (a.is_number() && b.is_number() && a.as_number() > b.as_number()) {
      errors_.Add(Child(ptr, lo), std::string(lo) + " " + json::FormatNumber(a.as_number()) +
                                      " is greater than " + hi + " " +
                                      json::FormatNumber(b.as_number()));
    }
  }
  std::string pattern;
  if (OptString(def, "pattern", ptr, &pattern)) {
    std::string err;
    if (!internal::CompileRegex(pattern, &err)) {
      errors_.Add(Child(ptr, "pattern"),
                  "pattern " + Quote(pattern) + " is not a valid ECMAScript regex: " + err);
    }
  }
  if (const json::Value* u = def.Find("uniqueItems"); u != nullptr && !u->is_bool()) {
    errors_.Add(Child(ptr, "uniqueItems"), "\"uniqueItems\" must be a boolean");
  }
  if (const json::Value* items = def.Find("items"); items != nullptr && !items->is_null()) {
    std::string ip = Child(ptr, "items");
    if (!items->is_object()) {
      errors_.Add(ip, "\"items\" must be an object ({\"type\": ...}), not " + Preview(*items));
    } else {
      const json::Value& it = items->Get("type");
      std::string item_type;
      if (!it.is_null()) {
        if (!it.is_string() || !OneOf(it.as_string(), internal::PropertyTypes())) {
          errors_.Add(Child(ip, "type"), Preview(it) + " is not a property type (one of " +
                                             JoinList(internal::PropertyTypes()) + ")");
        } else {
          item_type = it.as_string();
        }
      }
      CheckKeywords(*items, ip, item_type, /*in_items=*/true);
    }
  }
  if (const json::Value* props = def.Find("properties"); props != nullptr && !props->is_null()) {
    if (!props->is_object()) {
      errors_.Add(Child(ptr, "properties"), "\"properties\" must be an object");
    } else {
      for (const auto& [k, v] : props->as_object()) {
        if (!v.is_object() && !v.is_bool()) {
          errors_.Add(Child(Child(ptr, "properties"), k), "a sub-schema must be an object");
        }
      }
    }
  }
  if (const json::Value* ap = def.Find("additionalProperties");
      ap != nullptr && !ap->is_bool() && !ap->is_object()) {
    errors_.Add(Child(ptr, "additionalProperties"),
                "\"additionalProperties\" must be a boolean or an object");
  }
  if (const json::Value* pp = def.Find("patternProperties"); pp != nullptr && !pp->is_null()) {
    if (!pp->is_object()) {
      errors_.Add(Child(ptr, "patternProperties"), "\"patternProperties\" must be an object");
    } else {
      for (const auto& [k, v] : pp->as_object()) {
        std::string err;
        if (!internal::CompileRegex(k, &err)) {
          errors_.Add(Child(Child(ptr, "patternProperties"), k),
                      "pattern " + Quote(k) + " is not a valid ECMAScript regex: " + err);
        }
      }
    }
  }
}

void BlueprintParser::CheckEnumColors(const json::Value& def, const std::string& ptr,
                                      std::string_view type) {
  const json::Value* colors = def.Find("enumColors");
  if (colors == nullptr || colors->is_null()) return;
  std::string cp = Child(ptr, "enumColors");
  if (!colors->is_object()) {
    errors_.Add(cp, "\"enumColors\" must be an object (enum value -> color)");
    return;
  }
  // Array properties keep their enum in `items`; accept colors declared next to either.
  const json::Value* e = def.Find("enum");
  if ((e == nullptr || !e->is_array()) && type == "array") e = def.Get("items").Find("enum");
  if (e == nullptr || !e->is_array()) {
    errors_.Add(cp, "\"enumColors\" needs an \"enum\"");
    return;
  }
  for (const auto& [k, color] : colors->as_object()) {
    bool known = std::any_of(e->as_array().begin(), e->as_array().end(),
                             [&](const json::Value& v) { return EnumKey(v) == k; });
    if (!known) errors_.Add(Child(cp, k), Quote(k) + " is not one of the enum values");
    if (!color.is_string() || !OneOf(color.as_string(), internal::Colors())) {
      errors_.Add(Child(cp, k),
                  Preview(color) + " is not a color (one of " + JoinList(internal::Colors()) + ")");
    }
  }
}

void BlueprintParser::ParseRelation(const std::string& key, const json::Value& def,
                                    const std::string& ptr, Blueprint* bp) {
  if (!CheckKey("relation", key, ptr)) return;
  if (!def.is_object()) {
    errors_.Add(ptr, "a relation definition must be an object, not " + Preview(def));
    return;
  }
  RelationDef r;
  r.key = key;
  OptString(def, "title", ptr, &r.title, 100);
  OptString(def, "description", ptr, nullptr);
  if (ReqString(def, "target", ptr, &r.target) && !IsValidBlueprintIdentifier(r.target)) {
    errors_.Add(Child(ptr, "target"), Quote(r.target) + " is not a blueprint identifier");
  }
  r.many = OptBool(def, "many", ptr);
  r.required = OptBool(def, "required", ptr);
  if (r.many && r.required) {
    errors_.Add(ptr, "\"many\" and \"required\" cannot both be true");
  }
  bp->relations.push_back(std::move(r));
}

void BlueprintParser::ParseMirror(const std::string& key, const json::Value& def,
                                  const std::string& ptr, Blueprint* bp) {
  if (!CheckKey("mirror property", key, ptr)) return;
  if (!def.is_object()) {
    errors_.Add(ptr, "a mirror property definition must be an object, not " + Preview(def));
    return;
  }
  MirrorDef m;
  m.key = key;
  OptString(def, "title", ptr, &m.title, 100);
  if (ReqString(def, "path", ptr, &m.path) && !SplitMirrorPath(m.path, &m.hops, &m.leaf)) {
    errors_.Add(Child(ptr, "path"),
                Quote(m.path) + " is not a mirror path (relation[.relation...].property)");
  }
  bp->mirrors.push_back(std::move(m));
}

void BlueprintParser::ParseCalculation(const std::string& key, const json::Value& def,
                                       const std::string& ptr, Blueprint* bp) {
  if (!CheckKey("calculation property", key, ptr)) return;
  if (!def.is_object()) {
    errors_.Add(ptr, "a calculation property definition must be an object, not " + Preview(def));
    return;
  }
  CalculationDef c;
  c.key = key;
  c.definition = def;
  OptString(def, "title", ptr, &c.title, 100);
  OptString(def, "description", ptr, nullptr);
  OptString(def, "icon", ptr, nullptr);
  const json::Value& type = def.Get("type");
  if (type.is_null()) {
    errors_.Add(Child(ptr, "type"),
                "\"type\" is required (one of " + JoinList(internal::PropertyTypes()) + ")");
  } else if (!type.is_string() || !OneOf(type.as_string(), internal::PropertyTypes())) {
    errors_.Add(Child(ptr, "type"), Preview(type) + " is not a property type (one of " +
                                        JoinList(internal::PropertyTypes()) + ")");
  } else {
    c.type = type.as_string();
  }
  if (OptString(def, "format", ptr, &c.format) &&
      !OneOf(c.format, internal::CalculationFormats())) {
    errors_.Add(Child(ptr, "format"), Quote(c.format) + " is not a calculation format (one of " +
                                          JoinList(internal::CalculationFormats()) + ")");
  }
  std::string spec;
  if (OptString(def, "spec", ptr, &spec) && !OneOf(spec, internal::PropertySpecs())) {
    errors_.Add(Child(ptr, "spec"), Quote(spec) + " is not a spec (one of " +
                                        JoinList(internal::PropertySpecs()) + ")");
  }
  if (const json::Value* items = def.Find("items"); items != nullptr && !items->is_null()) {
    std::string ip = Child(ptr, "items");
    if (!items->is_object()) {
      errors_.Add(ip, "\"items\" must be an object ({\"type\": ...})");
    } else {
      const json::Value& it = items->Get("type");
      if (!it.is_null() && (!it.is_string() || !OneOf(it.as_string(), internal::PropertyTypes()))) {
        errors_.Add(Child(ip, "type"), Preview(it) + " is not a property type (one of " +
                                           JoinList(internal::PropertyTypes()) + ")");
      }
      std::string f;
      if (OptString(*items, "format", ip, &f) && !OneOf(f, internal::CalculationFormats())) {
        errors_.Add(Child(ip, "format"), Quote(f) + " is not a calculation format");
      }
    }
  }
  OptBool(def, "colorized", ptr);
  if (const json::Value* colors = def.Find("colors"); colors != nullptr && !colors->is_null()) {
    if (!colors->is_object()) {
      errors_.Add(Child(ptr, "colors"), "\"colors\" must be an object (value -> color)");
    } else {
      for (const auto& [k, color] : colors->as_object()) {
        if (!color.is_string() || !OneOf(color.as_string(), internal::Colors())) {
          errors_.Add(Child(Child(ptr, "colors"), k), Preview(color) + " is not a color (one of " +
                                                          JoinList(internal::Colors()) + ")");
        }
      }
    }
  }
  const json::Value& calc = def.Get("calculation");
  if (calc.is_null()) {
    errors_.Add(Child(ptr, "calculation"), "\"calculation\" is required (jq text)");
  } else if (!calc.is_string()) {
    errors_.Add(Child(ptr, "calculation"), "\"calculation\" must be a jq string");
  } else {
    c.calculation = calc.as_string();
    if (std::string err = options_.check_jq ? JqCompileError(c.calculation) : "";
        !err.empty()) {
      errors_.Add(Child(ptr, "calculation"), "jq does not compile: " + err);
    }
  }
  bp->calculations.push_back(std::move(c));
}

void BlueprintParser::ParseAggregation(const std::string& key, const json::Value& def,
                                       const std::string& ptr, Blueprint* bp) {
  if (!CheckKey("aggregation property", key, ptr)) return;
  if (!def.is_object()) {
    errors_.Add(ptr, "an aggregation property definition must be an object, not " + Preview(def));
    return;
  }
  AggregationDef a;
  a.key = key;
  ReqString(def, "title", ptr, &a.title, 100);
  OptString(def, "description", ptr, nullptr);
  OptString(def, "icon", ptr, nullptr);
  std::string type;
  if (OptString(def, "type", ptr, &type) && type != "number") {
    errors_.Add(Child(ptr, "type"),
                "an aggregation property has type \"number\", not " + Quote(type));
  }
  if (ReqString(def, "target", ptr, &a.target) && !IsValidBlueprintIdentifier(a.target)) {
    errors_.Add(Child(ptr, "target"), Quote(a.target) + " is not a blueprint identifier");
  }
  if (const json::Value* q = def.Find("query"); q != nullptr && !q->is_null()) {
    internal::CheckQueryShape(*q, Child(ptr, "query"), &errors_);
    a.query = *q;
  }
  if (const json::Value* pf = def.Find("pathFilter"); pf != nullptr && !pf->is_null()) {
    ParsePathFilter(*pf, Child(ptr, "pathFilter"), &a);
  }
  const json::Value& spec = def.Get("calculationSpec");
  if (spec.is_null()) {
    errors_.Add(Child(ptr, "calculationSpec"), "\"calculationSpec\" is required");
  } else if (!spec.is_object()) {
    errors_.Add(Child(ptr, "calculationSpec"), "\"calculationSpec\" must be an object");
  } else {
    ParseCalculationSpec(spec, Child(ptr, "calculationSpec"), &a.spec);
  }
  bp->aggregations.push_back(std::move(a));
}

void BlueprintParser::ParsePathFilter(const json::Value& pf, const std::string& ptr,
                                      AggregationDef* agg) {
  if (!pf.is_array()) {
    errors_.Add(ptr, "\"pathFilter\" must be an array of {\"path\": [...], \"fromBlueprint\"?}");
    return;
  }
  if (pf.as_array().size() > 1) {
    errors_.Add(
        ptr, "\"pathFilter\" may hold at most 1 item, not " + std::to_string(pf.as_array().size()));
    return;
  }
  if (pf.as_array().empty()) return;
  const json::Value& item = pf.as_array()[0];
  std::string ip = Child(ptr, size_t{0});
  if (!item.is_object()) {
    errors_.Add(ip, "a path filter must be an object {\"path\": [...], \"fromBlueprint\"?}");
    return;
  }
  PathFilter filter;
  const json::Value& path = item.Get("path");
  std::string pp = Child(ip, "path");
  if (path.is_null()) {
    errors_.Add(pp, "\"path\" is required (an array of relation keys)");
  } else if (!path.is_array() || path.as_array().empty()) {
    errors_.Add(pp, "\"path\" must be a non-empty array of relation keys");
  } else {
    for (size_t i = 0; i < path.as_array().size(); ++i) {
      const json::Value& hop = path.as_array()[i];
      if (!hop.is_string() || !IsValidPropertyKey(hop.as_string())) {
        errors_.Add(Child(pp, i), Preview(hop) + " is not a relation key");
      } else {
        filter.path.push_back(hop.as_string());
      }
    }
  }
  if (OptString(item, "fromBlueprint", ip, &filter.from_blueprint) &&
      !IsValidBlueprintIdentifier(filter.from_blueprint)) {
    errors_.Add(Child(ip, "fromBlueprint"),
                Quote(filter.from_blueprint) + " is not a blueprint identifier");
  }
  agg->path_filter = std::move(filter);
}

// calculationSpec (spec §7.1), as lenient as Port's live API: keys that a function does not use
// (averageOf/measureTimeBy on count, sum, min, max, median) are accepted and ignored.
void BlueprintParser::ParseCalculationSpec(const json::Value& spec, const std::string& ptr,
                                           CalculationSpec* out) {
  static const std::vector<std::string_view> kBy = {"entities", "property"};
  static const std::vector<std::string_view> kEntityFuncs = {"count", "average"};
  static const std::vector<std::string_view> kPropertyFuncs = {"sum", "min", "max", "median",
                                                               "average"};
  static const std::vector<std::string_view> kAverageOf = {"hour", "day", "week", "month", "total"};
  std::string by;
  if (ReqString(spec, "calculationBy", ptr, &by) && !OneOf(by, kBy)) {
    errors_.Add(Child(ptr, "calculationBy"),
                Quote(by) + " is not a calculationBy (one of entities, property)");
    by.clear();
  }
  std::string func;
  if (ReqString(spec, "func", ptr, &func) && !by.empty()) {
    const auto& funcs = by == "entities" ? kEntityFuncs : kPropertyFuncs;
    if (!OneOf(func, funcs)) {
      errors_.Add(Child(ptr, "func"), Quote(func) + " is not allowed with calculationBy " +
                                          Quote(by) + " (one of " + JoinList(funcs) + ")");
    }
  }
  out->calculation_by = by;
  out->func = func;
  out->measure_time_by = "$createdAt";
  if (by == "property") ReqString(spec, "property", ptr, &out->property);
  if (func == "average") {
    std::string average_of;
    if (ReqString(spec, "averageOf", ptr, &average_of)) {
      if (!OneOf(average_of, kAverageOf)) {
        errors_.Add(Child(ptr, "averageOf"), Quote(average_of) + " is not an averageOf (one of " +
                                                 JoinList(kAverageOf) + ")");
      } else {
        out->average_of = average_of;
      }
    }
    OptString(spec, "measureTimeBy", ptr, &out->measure_time_by);
  }
}

void BlueprintParser::ParseOwnership(const json::Value& doc, Blueprint* bp) {
  std::string op = Ptr("ownership");
  if (const json::Value* own = doc.Find("ownership"); own != nullptr && !own->is_null()) {
    if (!own->is_object()) {
      errors_.Add(op, "\"ownership\" must be an object {\"type\": \"Direct\" | \"Inherited\"}");
      return;
    }
    OptString(*own, "title", op, nullptr, 100);
    if (!ReqString(*own, "type", op, &bp->ownership.type)) return;
    if (bp->ownership.type == "Inherited") {
      ReqString(*own, "path", op, &bp->ownership.path);
    } else if (bp->ownership.type != "Direct") {
      errors_.Add(Child(op, "type"),
                  Quote(bp->ownership.type) + " is not an ownership type (Direct, Inherited)");
      bp->ownership.type.clear();
    }
    return;
  }
  // Legacy form, replaced by ownership: Inherited in Port's migration.
  if (const json::Value* ti = doc.Find("teamInheritance"); ti != nullptr && !ti->is_null()) {
    std::string tp = Ptr("teamInheritance");
    if (!ti->is_object()) {
      errors_.Add(tp, "\"teamInheritance\" must be an object {\"path\": ...}");
    } else if (ReqString(*ti, "path", tp, &bp->ownership.path)) {
      bp->ownership.type = "Inherited";
    }
  }
}

}  // namespace

const PropertyDef* Blueprint::FindProperty(std::string_view key) const {
  return FindByKey(properties, key);
}
const RelationDef* Blueprint::FindRelation(std::string_view key) const {
  return FindByKey(relations, key);
}
const MirrorDef* Blueprint::FindMirror(std::string_view key) const {
  return FindByKey(mirrors, key);
}
const CalculationDef* Blueprint::FindCalculation(std::string_view key) const {
  return FindByKey(calculations, key);
}
const AggregationDef* Blueprint::FindAggregation(std::string_view key) const {
  return FindByKey(aggregations, key);
}

bool Blueprint::HasAnyProperty(std::string_view key) const {
  return FindProperty(key) != nullptr || FindMirror(key) != nullptr ||
         FindCalculation(key) != nullptr || FindAggregation(key) != nullptr;
}

bool Blueprint::IsRequired(std::string_view key) const {
  return std::find(required.begin(), required.end(), key) != required.end();
}

bool IsMetaProperty(std::string_view name) {
  static const std::vector<std::string_view> kMeta = {"$identifier", "$title",     "$team",
                                                      "$icon",       "$createdAt", "$updatedAt",
                                                      "$createdBy",  "$updatedBy", "$blueprint"};
  return OneOf(name, kMeta);
}

bool IsSystemBlueprint(std::string_view id) { return id == "_user" || id == "_team"; }

Result<Blueprint> ParseBlueprint(const json::Value& doc, const std::string& source,
                                 const std::string& pointer_prefix, const ParseOptions& options) {
  return BlueprintParser(source, pointer_prefix, options).Parse(doc);
}

Result<std::vector<BlueprintDoc>> LoadBlueprintDocs(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return NotFound(path + ": no such file or directory");
  std::vector<std::string> files;
  if (fs::is_directory(st)) {
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->path().extension() == ".json" && it->is_regular_file()) {
        files.push_back(it->path().string());
      }
    }
    if (ec) return Internal(path + ": " + ec.message());
    // Same directory for all, so sorting the paths sorts by file name.
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(path);
  }
  std::vector<BlueprintDoc> docs;
  std::vector<std::string> errors;
  for (const std::string& file : files) {
    auto parsed = json::ParseFile(file);
    if (!parsed.ok()) {
      errors.push_back(parsed.status().message());
      continue;
    }
    json::Value v = std::move(parsed).value();
    if (v.is_object()) {
      docs.push_back({std::move(v), file, ""});
    } else if (v.is_array()) {
      json::Array& elements = v.as_array();
      for (size_t i = 0; i < elements.size(); ++i) {
        docs.push_back({std::move(elements[i]), file, "/" + std::to_string(i)});
      }
    } else {
      errors.push_back(internal::FormatError(
          file, "",
          std::string("expected a blueprint object or an array of them, not ") +
              json::TypeName(v.type())));
    }
  }
  if (!errors.empty()) {
    std::string msg;
    for (const std::string& e : errors) msg += (msg.empty() ? "" : "\n") + e;
    return InvalidArgument(msg);
  }
  return docs;
}

Result<std::vector<Blueprint>> LoadBlueprints(const std::string& path) {
  PORTOLAN_ASSIGN_OR_RETURN(std::vector<BlueprintDoc> docs, LoadBlueprintDocs(path));
  std::vector<Blueprint> out;
  std::string errors;
  for (const BlueprintDoc& d : docs) {
    auto bp = ParseBlueprint(d.doc, d.source, d.pointer);
    if (!bp.ok()) {
      errors += (errors.empty() ? "" : "\n") + bp.status().message();
    } else {
      out.push_back(std::move(bp).value());
    }
  }
  if (!errors.empty()) return InvalidArgument(errors);
  return out;
}

}  // namespace portolan::model
