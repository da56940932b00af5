#include "engine/model/internal/model_internal.h"

#include <cmath>
#include <map>

namespace portolan::model::internal {

bool OneOf(std::string_view s, const std::vector<std::string_view>& list) {
  for (std::string_view e : list) {
    if (e == s) return true;
  }
  return false;
}

std::string JoinList(const std::vector<std::string_view>& list) {
  std::string out;
  for (std::string_view e : list) {
    if (!out.empty()) out += ", ";
    out += e;
  }
  return out;
}

const std::vector<std::string_view>& PropertyTypes() {
  static const std::vector<std::string_view> kTypes = {"string", "number", "boolean", "object",
                                                       "array"};
  return kTypes;
}

const std::vector<std::string_view>& PropertyFormats() {
  static const std::vector<std::string_view> kFormats = {
      "date-time", "url",  "email",      "idn-email", "ipv4",  "ipv6",  "markdown",
      "yaml",      "user", "blueprints", "team",      "timer", "proto", "labeled-url"};
  return kFormats;
}

const std::vector<std::string_view>& CalculationFormats() {
  static const std::vector<std::string_view> kFormats = {
      "date-time", "url",  "email", "idn-email", "ipv4",  "ipv6",
      "markdown",  "yaml", "user",  "team",      "proto", "labeled-url"};
  return kFormats;
}

const std::vector<std::string_view>& PropertySpecs() {
  static const std::vector<std::string_view> kSpecs = {"open-api", "embedded-url", "async-api"};
  return kSpecs;
}

const std::vector<std::string_view>& Colors() {
  static const std::vector<std::string_view> kColors = {
      "blue",   "turquoise", "orange",   "purple",    "pink",   "yellow",
      "green",  "red",       "darkGray", "lightGray", "bronze", "gold",
      "silver", "paleBlue",  "lime",     "olive",     "brown"};
  return kColors;
}

const std::vector<std::string_view>& QueryOperators() {
  static const std::vector<std::string_view> kOperators = {"=",
                                                           "!=",
                                                           ">",
                                                           ">=",
                                                           "<",
                                                           "<=",
                                                           "between",
                                                           "notBetween",
                                                           "contains",
                                                           "doesNotContains",
                                                           "containsAny",
                                                           "beginsWith",
                                                           "doesNotBeginsWith",
                                                           "endsWith",
                                                           "doesNotEndsWith",
                                                           "in",
                                                           "notIn",
                                                           "isEmpty",
                                                           "isNotEmpty",
                                                           "isExpired",
                                                           "isNotExpired",
                                                           "relatedTo",
                                                           "matchAny"};
  return kOperators;
}

size_t CodePointLength(std::string_view utf8) {
  size_t n = 0;
  for (unsigned char c : utf8) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string Preview(const json::Value& v) {
  std::string s = json::Write(v);
  if (CodePointLength(s) > 80) {
    // Cut on a code point boundary.
    size_t cut = 77;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    s = s.substr(0, cut) + "...";
  }
  return s;
}

std::string Quote(std::string_view s) { return json::Write(json::Value(s)); }

std::string Child(const std::string& pointer, std::string_view token) {
  return pointer + "/" + json::PointerEscape(token);
}

std::string Child(const std::string& pointer, size_t index) {
  return pointer + "/" + std::to_string(index);
}

std::shared_ptr<const std::regex> CompileRegex(const std::string& pattern, std::string* error) {
  struct Entry {
    std::shared_ptr<const std::regex> re;
    std::string error;
  };
  thread_local std::map<std::string, Entry> cache;
  auto it = cache.find(pattern);
  if (it == cache.end()) {
    Entry e;
    try {
      e.re = std::make_shared<const std::regex>(pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& ex) {
      e.error = ex.what();
    }
    if (cache.size() > 4096) cache.clear();  // bound memory on adversarial inputs
    it = cache.emplace(pattern, std::move(e)).first;
  }
  if (!it->second.re && error != nullptr) *error = it->second.error;
  return it->second.re;
}

bool TypeMatches(std::string_view type, const json::Value& v) {
  if (type == "string") return v.is_string();
  if (type == "number") return v.is_number();
  if (type == "integer") return v.is_number() && std::floor(v.as_number()) == v.as_number();
  if (type == "boolean") return v.is_bool();
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  return true;  // unknown or absent: no constraint
}

void CheckKeyCollisions(const Blueprint& bp, Errors* errors) {
  std::map<std::string, std::string, std::less<>> owner;  // key -> map it was first declared in
  for (const PropertyDef& p : bp.properties) owner.emplace(p.key, "schema.properties");
  auto check = [&](const std::string& key, const char* map_name) {
    auto [it, inserted] = owner.emplace(key, map_name);
    if (!inserted) {
      errors->Add(Child(Child(bp.pointer, map_name), key),
                  "key " + Quote(key) + " is already declared in " + it->second);
    }
  };
  for (const MirrorDef& m : bp.mirrors) check(m.key, "mirrorProperties");
  for (const CalculationDef& c : bp.calculations) check(c.key, "calculationProperties");
  for (const AggregationDef& a : bp.aggregations) check(a.key, "aggregationProperties");
}

bool IsNonNegativeInteger(const json::Value& v) {
  if (!v.is_number()) return false;
  double d = v.as_number();
  return d >= 0 && d == static_cast<double>(static_cast<long long>(d));
}

std::string FormatError(const std::string& source, const std::string& pointer,
                        const std::string& rule) {
  std::string out = source.empty() ? "<builtin>" : source;
  out += ": ";
  out += pointer.empty() ? "(root)" : pointer;
  out += ": ";
  out += rule;
  return out;
}

void Errors::Add(const std::string& pointer, const std::string& rule) {
  lines_.push_back(FormatError(source_, pointer, rule));
}

void Errors::Append(const Errors& other) {
  lines_.insert(lines_.end(), other.lines_.begin(), other.lines_.end());
}

Status Errors::ToStatus(StatusCode code) const {
  if (lines_.empty()) return Status::Ok();
  std::string msg;
  for (const std::string& line : lines_) {
    if (!msg.empty()) msg += "\n";
    msg += line;
  }
  return Status(code, msg);
}

}  // namespace portolan::model::internal
