// Structure of Port's entities query as used by aggregation properties (spec §6):
//
//   query := { "combinator": "and" | "or", "rules": [ rule | query, ... ] }
//   rule  := { "property": key | {...}, "operator": op, "value"?: ... }
//          | { "relation": key, "targetProperty"?: ..., "operator": op, "value"?: ... }
//          | { "propertySchema": {...}, "operator": op, "value": ... }
//          | { "scorecard": id, "scorecardRule"?: id, "operator": op, "value": ... }
//          | { "operator": "relatedTo", "blueprint": id, "value": id | [id], "direction"?: ... }
//
// Only the shape is checked here; whether the names exist is Catalog's business.
#include "engine/model/internal/model_internal.h"

namespace portolan::model::internal {
namespace {

constexpr int kMaxDepth = 32;

const std::vector<std::string_view>& NoValueOperators() {
  static const std::vector<std::string_view> kOps = {"isEmpty", "isNotEmpty", "isExpired",
                                                     "isNotExpired"};
  return kOps;
}

const std::vector<std::string_view>& DatePresets() {
  static const std::vector<std::string_view> kPresets = {
      "today",      "yesterday",   "tomorrow",    "lastDay",     "lastWeek",
      "last2Weeks", "lastMonth",   "last3Months", "last6Months", "last12Months",
      "last2Years", "last3Years",  "nextDay",     "nextWeek",    "next2Weeks",
      "nextMonth",  "next3Months", "next6Months", "next12Months"};
  return kPresets;
}

void CheckRule(const json::Value& rule, const std::string& ptr, Errors* errors) {
  const json::Value& op = rule.Get("operator");
  if (!op.is_string()) {
    errors->Add(Child(ptr, "operator"), op.is_null() ? "a query rule needs an \"operator\""
                                                     : "\"operator\" must be a string");
    return;
  }
  const std::string& o = op.as_string();
  if (!OneOf(o, QueryOperators())) {
    errors->Add(Child(ptr, "operator"),
                "unknown operator " + Quote(o) + " (one of " + JoinList(QueryOperators()) + ")");
    return;
  }
  if (o == "relatedTo") {
    if (!rule.Get("blueprint").is_string()) {
      errors->Add(Child(ptr, "blueprint"), "a relatedTo rule needs a \"blueprint\" string");
    }
  } else if (const json::Value* p = rule.Find("property")) {
    if (!p->is_string() && !p->is_object()) {
      errors->Add(Child(ptr, "property"), "\"property\" must be a string or an object");
    } else if (p->is_string() && p->as_string().empty()) {
      errors->Add(Child(ptr, "property"), "\"property\" must not be empty");
    }
  } else if (const json::Value* r = rule.Find("relation")) {
    if (!r->is_string()) errors->Add(Child(ptr, "relation"), "\"relation\" must be a string");
  } else if (const json::Value* s = rule.Find("propertySchema")) {
    if (!s->is_object()) {
      errors->Add(Child(ptr, "propertySchema"), "\"propertySchema\" must be an object");
    }
  } else if (const json::Value* sc = rule.Find("scorecard")) {
    if (!sc->is_string()) errors->Add(Child(ptr, "scorecard"), "\"scorecard\" must be a string");
  } else {
    errors->Add(ptr,
                "a query rule needs \"property\" (or \"relation\", \"propertySchema\", "
                "\"scorecard\", or operator \"relatedTo\" with \"blueprint\")");
    return;
  }
  const json::Value* value = rule.Find("value");
  if (!OneOf(o, NoValueOperators()) && value == nullptr) {
    errors->Add(Child(ptr, "value"), "operator " + Quote(o) + " needs a \"value\"");
    return;
  }
  if ((o == "between" || o == "notBetween") && value != nullptr) {
    if (!value->is_object()) {
      errors->Add(
          Child(ptr, "value"),
          "operator " + Quote(o) + " needs {\"preset\": ...} or {\"from\": ..., \"to\": ...}");
    } else if (const json::Value* preset = value->Find("preset")) {
      if (!preset->is_string() || !OneOf(preset->as_string(), DatePresets())) {
        errors->Add(Child(Child(ptr, "value"), "preset"), "unknown date preset " +
                                                              Preview(*preset) + " (one of " +
                                                              JoinList(DatePresets()) + ")");
      }
    } else if (!value->Has("from") && !value->Has("to")) {
      errors->Add(
          Child(ptr, "value"),
          "operator " + Quote(o) + " needs {\"preset\": ...} or {\"from\": ..., \"to\": ...}");
    }
  }
}

void CheckGroup(const json::Value& q, const std::string& ptr, Errors* errors, int depth) {
  if (!q.is_object()) {
    errors->Add(ptr, "a query must be an object {\"combinator\": ..., \"rules\": [...]}");
    return;
  }
  if (depth > kMaxDepth) {
    errors->Add(ptr, "query groups are nested too deeply");
    return;
  }
  const json::Value& comb = q.Get("combinator");
  if (!comb.is_string() || (comb.as_string() != "and" && comb.as_string() != "or")) {
    errors->Add(Child(ptr, "combinator"), comb.is_null()
                                              ? "\"combinator\" is required (and, or)"
                                              : "\"combinator\" must be \"and\" or \"or\"");
  }
  const json::Value& rules = q.Get("rules");
  if (!rules.is_array()) {
    errors->Add(Child(ptr, "rules"), rules.is_null() ? "\"rules\" is required (an array)"
                                                     : "\"rules\" must be an array");
    return;
  }
  for (size_t i = 0; i < rules.as_array().size(); ++i) {
    const json::Value& rule = rules.as_array()[i];
    std::string rp = Child(Child(ptr, "rules"), i);
    if (!rule.is_object()) {
      errors->Add(rp, "a query rule must be an object");
    } else if (rule.Has("combinator")) {
      CheckGroup(rule, rp, errors, depth + 1);
    } else {
      CheckRule(rule, rp, errors);
    }
  }
}

void Collect(const json::Value& q, const std::string& ptr, std::vector<QueryRef>* out, int depth) {
  if (!q.is_object() || depth > kMaxDepth) return;
  const json::Value& rules = q.Get("rules");
  if (!rules.is_array()) return;
  for (size_t i = 0; i < rules.as_array().size(); ++i) {
    const json::Value& rule = rules.as_array()[i];
    std::string rp = Child(Child(ptr, "rules"), i);
    if (!rule.is_object()) continue;
    if (rule.Has("combinator")) {
      Collect(rule, rp, out, depth + 1);
      continue;
    }
    const json::Value& op = rule.Get("operator");
    if (op.is_string() && op.as_string() == "relatedTo") {
      if (rule.Get("blueprint").is_string()) {
        out->push_back({QueryRef::Kind::kBlueprint, rule.Get("blueprint").as_string(),
                        Child(rp, "blueprint")});
      }
    } else if (rule.Get("property").is_string()) {
      out->push_back(
          {QueryRef::Kind::kProperty, rule.Get("property").as_string(), Child(rp, "property")});
    } else if (rule.Get("relation").is_string()) {
      out->push_back(
          {QueryRef::Kind::kRelation, rule.Get("relation").as_string(), Child(rp, "relation")});
    }
  }
}

}  // namespace

void CheckQueryShape(const json::Value& query, const std::string& pointer, Errors* errors) {
  CheckGroup(query, pointer, errors, 0);
}

void CollectQueryRefs(const json::Value& query, const std::string& pointer,
                      std::vector<QueryRef>* out) {
  Collect(query, pointer, out, 0);
}

}  // namespace portolan::model::internal
