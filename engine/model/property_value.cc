// Entity property values checked against a property definition: the JSON Schema subset Port
// documents (spec §2.2) — type, enum, format, minimum/maximum (+ exclusive), minLength/maxLength,
// pattern, items, minItems/maxItems/uniqueItems, and object properties/required/
// additionalProperties. null always passes: it clears the value.
#include <arpa/inet.h>

#include <cmath>
#include <string>

#include "engine/base/time.h"
#include "engine/model/blueprint.h"
#include "engine/model/internal/model_internal.h"

namespace portolan::model {
namespace {

using internal::CodePointLength;
using internal::CompileRegex;
using internal::Preview;
using internal::Quote;
using internal::TypeMatches;

bool HasWhitespace(std::string_view s) {
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') return true;
  }
  return false;
}

bool LooksLikeUrl(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
  if (!alpha(s[0])) return false;
  for (size_t i = 1; i < colon; ++i) {
    char c = s[i];
    if (!alpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.') return false;
  }
  return colon + 1 < s.size() && !HasWhitespace(s);
}

bool LooksLikeEmail(std::string_view s) {
  size_t at = s.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= s.size()) return false;
  return !HasWhitespace(s) && s.substr(at + 1).find('@') == std::string_view::npos;
}

bool IsIpAddress(const std::string& s, int family) {
  unsigned char buf[16];
  return inet_pton(family, s.c_str(), buf) == 1;
}

std::string EnumList(const json::Array& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ", ";
    if (i == 10) {
      out += "...";
      break;
    }
    out += json::Write(values[i]);
  }
  return out + "]";
}

const char* Article(std::string_view type) {
  return (type == "object" || type == "array" || type == "integer") ? "an" : "a";
}

class ValueChecker {
 public:
  // Returns "" when `value` satisfies `schema`, else the reason (without the property prefix).
  std::string Check(const json::Value& schema, const json::Value& value, std::string* where) {
    if (value.is_null()) return "";
    const std::string type = schema.Get("type").is_string() ? schema.Get("type").as_string() : "";
    if (!type.empty() && !TypeMatches(type, value)) {
      return "value " + Preview(value) + " is not " + Article(type) + " " + type;
    }
    if (const json::Value* e = schema.Find("enum"); e != nullptr && e->is_array()) {
      bool found = false;
      for (const json::Value& option : e->as_array()) {
        if (option == value) {
          found = true;
          break;
        }
      }
      if (!found) {
        return "value " + Preview(value) + " is not one of " + EnumList(e->as_array());
      }
    }
    if (value.is_string()) return CheckString(schema, value);
    if (value.is_number()) return CheckNumber(schema, value);
    if (value.is_array()) return CheckArray(schema, value, where);
    if (value.is_object()) return CheckObject(schema, value, where);
    return "";
  }

 private:
  std::string CheckString(const json::Value& schema, const json::Value& value) {
    const std::string& s = value.as_string();
    const json::Value& format = schema.Get("format");
    if (format.is_string()) {
      const std::string& f = format.as_string();
      if ((f == "date-time" || f == "timer") && !ParseIsoTime(s).has_value()) {
        return "value " + Preview(value) + " is not an ISO 8601 date-time";
      }
      if (f == "url" && !LooksLikeUrl(s)) return "value " + Preview(value) + " is not a URL";
      if ((f == "email" || f == "idn-email") && !LooksLikeEmail(s)) {
        return "value " + Preview(value) + " is not an email address";
      }
      if (f == "ipv4" && !IsIpAddress(s, AF_INET)) {
        return "value " + Preview(value) + " is not an IPv4 address";
      }
      if (f == "ipv6" && !IsIpAddress(s, AF_INET6)) {
        return "value " + Preview(value) + " is not an IPv6 address";
      }
    }
    size_t len = CodePointLength(s);
    if (const json::Value& m = schema.Get("minLength"); m.is_number() && len < m.as_number()) {
      return "value " + Preview(value) + " is shorter than minLength " +
             json::FormatNumber(m.as_number());
    }
    if (const json::Value& m = schema.Get("maxLength"); m.is_number() && len > m.as_number()) {
      return "value " + Preview(value) + " is longer than maxLength " +
             json::FormatNumber(m.as_number());
    }
    if (const json::Value& p = schema.Get("pattern"); p.is_string()) {
      auto re = CompileRegex(p.as_string(), nullptr);
      if (re && !std::regex_search(s, *re)) {
        return "value " + Preview(value) + " does not match pattern " + Quote(p.as_string());
      }
    }
    return "";
  }

  std::string CheckNumber(const json::Value& schema, const json::Value& value) {
    double d = value.as_number();
    const json::Value& min = schema.Get("minimum");
    const json::Value& max = schema.Get("maximum");
    const json::Value& xmin = schema.Get("exclusiveMinimum");
    const json::Value& xmax = schema.Get("exclusiveMaximum");
    // Draft-04 form: a boolean exclusiveMinimum/Maximum turns minimum/maximum exclusive.
    bool min_exclusive = xmin.is_bool() && xmin.as_bool();
    bool max_exclusive = xmax.is_bool() && xmax.as_bool();
    std::string v = Preview(value);
    if (min.is_number()) {
      if (min_exclusive ? d <= min.as_number() : d < min.as_number()) {
        return "value " + v +
               (min_exclusive ? " must be greater than " : " is less than minimum ") +
               json::FormatNumber(min.as_number());
      }
    }
    if (max.is_number()) {
      if (max_exclusive ? d >= max.as_number() : d > max.as_number()) {
        return "value " + v +
               (max_exclusive ? " must be less than " : " is greater than maximum ") +
               json::FormatNumber(max.as_number());
      }
    }
    if (xmin.is_number() && d <= xmin.as_number()) {
      return "value " + v + " must be greater than " + json::FormatNumber(xmin.as_number()) +
             " (exclusiveMinimum)";
    }
    if (xmax.is_number() && d >= xmax.as_number()) {
      return "value " + v + " must be less than " + json::FormatNumber(xmax.as_number()) +
             " (exclusiveMaximum)";
    }
    return "";
  }

  std::string CheckArray(const json::Value& schema, const json::Value& value, std::string* where) {
    const json::Array& a = value.as_array();
    if (const json::Value& m = schema.Get("minItems"); m.is_number() && a.size() < m.as_number()) {
      return "value " + Preview(value) + " has fewer than " + json::FormatNumber(m.as_number()) +
             " items (minItems)";
    }
    if (const json::Value& m = schema.Get("maxItems"); m.is_number() && a.size() > m.as_number()) {
      return "value " + Preview(value) + " has more than " + json::FormatNumber(m.as_number()) +
             " items (maxItems)";
    }
    if (const json::Value& u = schema.Get("uniqueItems"); u.is_bool() && u.as_bool()) {
      for (size_t i = 0; i < a.size(); ++i) {
        for (size_t j = i + 1; j < a.size(); ++j) {
          if (a[i] == a[j]) {
            return "value " + Preview(value) +
                   " has duplicate items (uniqueItems): " + Preview(a[i]);
          }
        }
      }
    }
    if (const json::Value& items = schema.Get("items"); items.is_object()) {
      for (size_t i = 0; i < a.size(); ++i) {
        // Port arrays hold values, not nulls; a null item is a type error when a type is given.
        if (a[i].is_null() && items.Get("type").is_string()) {
          *where = "[" + std::to_string(i) + "]" + *where;
          return "value null is not " + std::string(Article(items.Get("type").as_string())) + " " +
                 items.Get("type").as_string();
        }
        std::string err = Check(items, a[i], where);
        if (!err.empty()) {
          *where = "[" + std::to_string(i) + "]" + *where;
          return err;
        }
      }
    }
    return "";
  }

  std::string CheckObject(const json::Value& schema, const json::Value& value, std::string* where) {
    const json::Value& format = schema.Get("format");
    if (format.is_string() && format.as_string() == "labeled-url") {
      const json::Value& url = value.Get("url");
      if (!url.is_string() || !LooksLikeUrl(url.as_string())) {
        return "value " + Preview(value) +
               " is not a labeled URL ({\"url\": ..., "
               "\"displayText\"?})";
      }
    }
    if (const json::Value& req = schema.Get("required"); req.is_array()) {
      for (const json::Value& k : req.as_array()) {
        if (k.is_string() && !value.Has(k.as_string())) {
          return "value " + Preview(value) + " is missing required key " + Quote(k.as_string());
        }
      }
    }
    const json::Value& props = schema.Get("properties");
    const json::Value& additional = schema.Get("additionalProperties");
    for (const json::Member& m : value.as_object()) {
      const json::Value* sub = props.Find(m.first);
      if (sub == nullptr) {
        if (additional.is_bool() && !additional.as_bool()) {
          return "value " + Preview(value) + " has unexpected key " + Quote(m.first);
        }
        if (additional.is_object()) sub = &additional;
      }
      if (sub != nullptr && sub->is_object()) {
        std::string err = Check(*sub, m.second, where);
        if (!err.empty()) {
          *where = "." + m.first + *where;
          return err;
        }
      }
    }
    return "";
  }
};

}  // namespace

Status ValidatePropertyValue(const PropertyDef& prop, const json::Value& value) {
  if (value.is_null()) return Status::Ok();
  json::Value schema = prop.schema.is_object() ? prop.schema : json::Value::MakeObject();
  if (!schema.Get("type").is_string() && !prop.type.empty()) schema.Set("type", prop.type);
  if (!schema.Get("format").is_string() && !prop.format.empty()) schema.Set("format", prop.format);
  ValueChecker checker;
  std::string where;
  std::string err = checker.Check(schema, value, &where);
  if (err.empty()) return Status::Ok();
  return InvalidArgument("property '" + prop.key + where + "': " + err)
      .set_port_error("blueprint_schema_mismatch");
}

}  // namespace portolan::model
