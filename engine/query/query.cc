#include "engine/query/query.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <unordered_set>

#include "engine/base/time.h"
#include "engine/model/blueprint.h"
#include "engine/store/store.h"

namespace portolan::query {

namespace {

constexpr double kDay = 86400.0;

const json::Value& NullValue() {
  static const json::Value kNull;
  return kNull;
}

enum class Op {
  kUnknown,
  kEq,
  kNe,
  kGt,
  kGe,
  kLt,
  kLe,
  kBetween,
  kNotBetween,
  kContains,
  kDoesNotContain,
  kBeginsWith,
  kDoesNotBeginWith,
  kEndsWith,
  kDoesNotEndWith,
  kIn,
  kNotIn,
  kContainsAny,
  kIsEmpty,
  kIsNotEmpty,
  kIsExpired,
  kIsNotExpired,
  kRelatedTo,
};

Op ParseOp(std::string_view s) {
  static const std::pair<std::string_view, Op> kOps[] = {
      {"=", Op::kEq},
      {"!=", Op::kNe},
      {">", Op::kGt},
      {">=", Op::kGe},
      {"<", Op::kLt},
      {"<=", Op::kLe},
      {"between", Op::kBetween},
      {"notBetween", Op::kNotBetween},
      {"contains", Op::kContains},
      {"doesNotContains", Op::kDoesNotContain},
      {"beginsWith", Op::kBeginsWith},
      {"doesNotBeginsWith", Op::kDoesNotBeginWith},
      {"endsWith", Op::kEndsWith},
      {"doesNotEndsWith", Op::kDoesNotEndWith},
      {"in", Op::kIn},
      {"notIn", Op::kNotIn},
      {"containsAny", Op::kContainsAny},
      {"isEmpty", Op::kIsEmpty},
      {"isNotEmpty", Op::kIsNotEmpty},
      {"isExpired", Op::kIsExpired},
      {"isNotExpired", Op::kIsNotExpired},
      {"relatedTo", Op::kRelatedTo},
  };
  for (const auto& [name, op] : kOps) {
    if (name == s) return op;
  }
  return Op::kUnknown;
}

bool IsGroup(const json::Value& rule) {
  return rule.is_object() && (rule.Has("combinator") || rule.Has("rules"));
}

bool IsScalar(const json::Value& v) {
  return v.is_null() || v.is_bool() || v.is_number() || v.is_string();
}

bool IsStringArray(const json::Value& v) {
  if (!v.is_array()) return false;
  for (const auto& e : v.as_array()) {
    if (!e.is_string()) return false;
  }
  return true;
}

std::optional<double> StringTime(const json::Value& v) {
  if (!v.is_string()) return std::nullopt;
  return ParseIsoTime(v.as_string());
}

bool IsEmptyValue(const json::Value& v) {
  switch (v.type()) {
    case json::Type::kNull:
      return true;
    case json::Type::kString:
      return v.as_string().empty();
    case json::Type::kArray:
      return v.as_array().empty();
    case json::Type::kObject:
      return v.as_object().empty();
    default:
      return false;
  }
}

// Scalar equality: JSON equality, or the same instant for two ISO date-time strings.
bool ScalarEquals(const json::Value& a, const json::Value& b) {
  if (a == b) return true;
  if (a.is_string() && b.is_string()) {
    auto ta = StringTime(a);
    if (!ta) return false;
    auto tb = StringTime(b);
    return tb && *ta == *tb;
  }
  return false;
}

// `=` semantics: equality, or for an array property (e.g. $team) membership of the operand.
bool Equals(const json::Value& prop, const json::Value& operand) {
  if (ScalarEquals(prop, operand)) return true;
  if (prop.is_array() && !operand.is_array()) {
    for (const auto& e : prop.as_array()) {
      if (ScalarEquals(e, operand)) return true;
    }
  }
  return false;
}

// Ordering for > >= < <=: numbers numerically, ISO date-time strings chronologically.
// False when the two cannot be ordered.
bool Order(const json::Value& prop, const json::Value& operand, int* cmp) {
  if (prop.is_number() && operand.is_number()) {
    double a = prop.as_number(), b = operand.as_number();
    *cmp = a < b ? -1 : (a > b ? 1 : 0);
    return true;
  }
  auto ta = StringTime(prop);
  if (!ta) return false;
  auto tb = StringTime(operand);
  if (!tb) return false;
  *cmp = *ta < *tb ? -1 : (*ta > *tb ? 1 : 0);
  return true;
}

bool StringTest(const json::Value& prop, const json::Value& operand, Op op) {
  auto one = [&](const std::string& s, const std::string& needle) {
    switch (op) {
      case Op::kContains:
        return s.find(needle) != std::string::npos;
      case Op::kBeginsWith:
        return s.compare(0, needle.size(), needle) == 0;
      case Op::kEndsWith:
        return s.size() >= needle.size() &&
               s.compare(s.size() - needle.size(), needle.size(), needle) == 0;
      default:
        return false;
    }
  };
  auto any_needle = [&](const std::string& s) {
    if (operand.is_string()) return one(s, operand.as_string());
    if (operand.is_array()) {
      for (const auto& n : operand.as_array()) {
        if (n.is_string() && one(s, n.as_string())) return true;
      }
    }
    return false;
  };
  if (prop.is_string()) return any_needle(prop.as_string());
  if (prop.is_array()) {
    for (const auto& e : prop.as_array()) {
      if (!e.is_string()) continue;
      // On arrays, contains tests elements (equality); begins/ends test each element's text.
      if (op == Op::kContains) {
        if (operand.is_string() && e.as_string() == operand.as_string()) return true;
        if (operand.is_array()) {
          for (const auto& n : operand.as_array()) {
            if (n.is_string() && n.as_string() == e.as_string()) return true;
          }
        }
      } else if (any_needle(e.as_string())) {
        return true;
      }
    }
  }
  return false;
}

bool InList(const json::Value& prop, const json::Value& list) {
  if (!list.is_array()) return false;
  for (const auto& want : list.as_array()) {
    if (Equals(prop, want)) return true;
  }
  return false;
}

// Window of a between/notBetween operand; false if unresolvable.
bool Window(const json::Value& operand, double now, double* from, double* to) {
  if (!operand.is_object()) return false;
  const json::Value& preset = operand.Get("preset");
  if (preset.is_string()) return ResolvePreset(preset.as_string(), now, from, to);
  auto f = StringTime(operand.Get("from"));
  auto t = StringTime(operand.Get("to"));
  if (!f || !t) return false;
  *from = *f;
  *to = *t;
  return true;
}

// ---- relatedTo -----------------------------------------------------------------------------

// Forward (upstream) walk from `start`; calls `visit` for every entity reached (not start
// itself) until it returns true. `required`: -1 any relation, 0 non-required only, 1 required.
bool WalkUpstream(const store::Store& store, const store::Entity& start, int required,
                  const std::function<bool(const store::Entity&)>& visit) {
  std::unordered_set<const store::Entity*> seen{&start};
  std::vector<const store::Entity*> stack{&start};
  while (!stack.empty()) {
    const store::Entity* e = stack.back();
    stack.pop_back();
    const model::Blueprint* bp = store.catalog().Find(e->blueprint);
    if (!bp) continue;
    for (const model::RelationDef& rel : bp->relations) {
      if (required >= 0 && rel.required != (required == 1)) continue;
      for (const std::string& id : e->RelationTargets(rel.key)) {
        const store::Entity* t = store.Find(rel.target, id);
        if (!t || !seen.insert(t).second) continue;
        if (visit(*t)) return true;
        stack.push_back(t);
      }
    }
  }
  return false;
}

bool RelatedTo(const json::Value& rule, const store::Entity& entity, const Context& ctx) {
  if (!ctx.store) return false;
  const std::string& blueprint = rule.Get("blueprint").as_string();
  std::vector<const store::Entity*> given;
  const json::Value& value = rule.Get("value");
  auto add = [&](const json::Value& id) {
    if (!id.is_string()) return;
    if (const store::Entity* g = ctx.store->Find(blueprint, id.as_string())) given.push_back(g);
  };
  if (value.is_array()) {
    for (const auto& id : value.as_array()) add(id);
  } else {
    add(value);
  }
  if (given.empty()) return false;
  const json::Value& req = rule.Get("required");
  int required = req.is_bool() ? (req.as_bool() ? 1 : 0) : -1;
  const json::Value& dir = rule.Get("direction");
  bool up = !dir.is_string() || dir.as_string() == "upstream";
  bool down = !dir.is_string() || dir.as_string() == "downstream";
  auto is_given = [&](const store::Entity& e) {
    return std::find(given.begin(), given.end(), &e) != given.end();
  };
  // Downstream of a given entity = entities whose forward walk reaches it.
  if (down && WalkUpstream(*ctx.store, entity, required, is_given)) return true;
  // Upstream of a given entity = entities its forward walk reaches.
  if (up) {
    for (const store::Entity* g : given) {
      if (g == &entity) continue;
      if (WalkUpstream(*ctx.store, *g, required,
                       [&](const store::Entity& e) { return &e == &entity; })) {
        return true;
      }
    }
  }
  return false;
}

// ---- Validation ----------------------------------------------------------------------------

std::string Ptr(const std::string& base, std::string_view token) {
  return base + "/" + json::PointerEscape(token);
}

Status Error(const std::string& pointer, const std::string& message) {
  return InvalidArgument((pointer.empty() ? std::string("/") : pointer) + ": " + message);
}

bool KnownPreset(const std::string& p) {
  double a, b;
  return ResolvePreset(p, 0, &a, &b);
}

Status ValidateRule(const json::Value& rule, const std::string& pointer);

Status ValidateGroup(const json::Value& q, const std::string& pointer) {
  if (!q.is_object()) return Error(pointer, "a query must be an object {combinator, rules}");
  const json::Value* comb = q.Find("combinator");
  if (!comb) return Error(pointer, "missing 'combinator' (and | or)");
  if (!comb->is_string() || (comb->as_string() != "and" && comb->as_string() != "or")) {
    return Error(Ptr(pointer, "combinator"), "combinator must be \"and\" or \"or\"");
  }
  const json::Value* rules = q.Find("rules");
  if (!rules) return Error(pointer, "missing 'rules' (an array)");
  if (!rules->is_array()) return Error(Ptr(pointer, "rules"), "rules must be an array");
  const auto& arr = rules->as_array();
  for (size_t i = 0; i < arr.size(); ++i) {
    std::string p = Ptr(Ptr(pointer, "rules"), std::to_string(i));
    if (IsGroup(arr[i])) {
      PORTOLAN_RETURN_IF_ERROR(ValidateGroup(arr[i], p));
    } else {
      PORTOLAN_RETURN_IF_ERROR(ValidateRule(arr[i], p));
    }
  }
  return Status::Ok();
}

Status ValidateRule(const json::Value& rule, const std::string& pointer) {
  if (!rule.is_object()) return Error(pointer, "a rule must be an object");
  const json::Value* opv = rule.Find("operator");
  if (!opv) {
    if (rule.Has("relation") || rule.Has("propertySchema") || rule.Has("scorecard")) {
      return Error(pointer, "relation, propertySchema and scorecard rules are not supported");
    }
    return Error(pointer, "missing 'operator'");
  }
  if (!opv->is_string()) return Error(Ptr(pointer, "operator"), "operator must be a string");
  Op op = ParseOp(opv->as_string());
  if (op == Op::kUnknown) {
    return Error(Ptr(pointer, "operator"), "unknown operator '" + opv->as_string() + "'");
  }
  const std::string vptr = Ptr(pointer, "value");
  const json::Value* value = rule.Find("value");
  if (op == Op::kRelatedTo) {
    const json::Value& bp = rule.Get("blueprint");
    if (!bp.is_string() || bp.as_string().empty()) {
      return Error(Ptr(pointer, "blueprint"), "relatedTo needs a 'blueprint' (string)");
    }
    if (!value || !(value->is_string() || (IsStringArray(*value) && value->size() > 0))) {
      return Error(vptr, "relatedTo needs a 'value': an identifier or a non-empty array of them");
    }
    const json::Value* dir = rule.Find("direction");
    if (dir && !(dir->is_string() &&
                 (dir->as_string() == "upstream" || dir->as_string() == "downstream"))) {
      return Error(Ptr(pointer, "direction"), "direction must be \"upstream\" or \"downstream\"");
    }
    const json::Value* req = rule.Find("required");
    if (req && !req->is_bool()) return Error(Ptr(pointer, "required"), "required must be boolean");
    return Status::Ok();
  }
  const json::Value* prop = rule.Find("property");
  if (!prop) return Error(pointer, "missing 'property'");
  if (prop->is_object()) {
    return Error(Ptr(pointer, "property"),
                 "path properties (matchAny) and context values are "
                 "not supported");
  }
  if (!prop->is_string() || prop->as_string().empty()) {
    return Error(Ptr(pointer, "property"), "property must be a non-empty string");
  }
  switch (op) {
    case Op::kEq:
    case Op::kNe:
      if (!value) return Error(pointer, "missing 'value'");
      if (value->is_object()) return Error(vptr, "context values are not supported");
      if (!IsScalar(*value)) return Error(vptr, "value must be a string, number, boolean or null");
      break;
    case Op::kGt:
    case Op::kGe:
    case Op::kLt:
    case Op::kLe:
      if (!value) return Error(pointer, "missing 'value'");
      if (value->is_number()) break;
      if (!value->is_string() || !StringTime(*value)) {
        return Error(vptr, "value must be a number or an ISO 8601 date-time");
      }
      break;
    case Op::kBetween:
    case Op::kNotBetween: {
      if (!value) return Error(pointer, "missing 'value'");
      if (!value->is_object()) {
        return Error(vptr, "value must be {\"preset\": ...} or {\"from\": ..., \"to\": ...}");
      }
      if (const json::Value* preset = value->Find("preset")) {
        if (!preset->is_string() || !KnownPreset(preset->as_string())) {
          return Error(Ptr(vptr, "preset"), "unknown date preset " + json::Write(*preset));
        }
        break;
      }
      for (const char* k : {"from", "to"}) {
        const json::Value* b = value->Find(k);
        if (!b) return Error(vptr, std::string("missing '") + k + "'");
        if (!StringTime(*b)) return Error(Ptr(vptr, k), "must be an ISO 8601 date-time");
      }
      break;
    }
    case Op::kContains:
    case Op::kDoesNotContain:
      if (!value) return Error(pointer, "missing 'value'");
      if (!value->is_string() && !IsStringArray(*value) && !value->is_null()) {
        return Error(vptr, "value must be a string or an array of strings");
      }
      break;
    case Op::kBeginsWith:
    case Op::kDoesNotBeginWith:
    case Op::kEndsWith:
    case Op::kDoesNotEndWith:
      if (!value) return Error(pointer, "missing 'value'");
      if (!value->is_string()) return Error(vptr, "value must be a string");
      break;
    case Op::kIn:
    case Op::kNotIn:
    case Op::kContainsAny:
      if (!value) return Error(pointer, "missing 'value'");
      if (!value->is_array()) return Error(vptr, "value must be an array");
      for (size_t i = 0; i < value->as_array().size(); ++i) {
        if (!IsScalar(value->as_array()[i])) {
          return Error(Ptr(vptr, std::to_string(i)), "must be a string, number or boolean");
        }
      }
      break;
    default:
      break;
  }
  return Status::Ok();
}

// ---- Evaluation ----------------------------------------------------------------------------

// The error for a query that failed a structural check during evaluation.
Status Malformed(Status s) { return s.ok() ? InvalidArgument("malformed query") : s; }

struct Evaluator {
  const store::Entity& entity;
  const Context& ctx;
  json::Value* failure;  // may be null

  void Fail(const std::string& pointer, const json::Value& rule, const json::Value& value) {
    if (!failure) return;
    json::Value f = json::Value::MakeObject();
    f.Set("pointer", pointer.empty() ? std::string("") : pointer);
    f.Set("rule", rule);
    f.Set("value", value);
    *failure = std::move(f);
  }

  Result<bool> Group(const json::Value& q, const std::string* pointer) {
    if (!q.is_object()) return Malformed(Validate(q, pointer ? *pointer : ""));
    const json::Value& comb = q.Get("combinator");
    const json::Value& rules = q.Get("rules");
    if (!comb.is_string() || !rules.is_array())
      return Malformed(Validate(q, pointer ? *pointer : ""));
    bool is_and;
    if (comb.as_string() == "and") {
      is_and = true;
    } else if (comb.as_string() == "or") {
      is_and = false;
    } else {
      return Malformed(Validate(q, pointer ? *pointer : ""));
    }
    const auto& arr = rules.as_array();
    for (size_t i = 0; i < arr.size(); ++i) {
      std::string child;
      if (failure && pointer) child = *pointer + "/rules/" + std::to_string(i);
      const std::string* cp = failure && pointer ? &child : nullptr;
      Result<bool> r = IsGroup(arr[i]) ? Group(arr[i], cp) : Rule(arr[i], cp);
      if (!r.ok()) return r;
      if (is_and && !*r) return false;
      if (!is_and && *r) return true;
    }
    if (!is_and && !arr.empty()) {
      if (failure && pointer) {
        json::Value f = json::Value::MakeObject();
        f.Set("pointer", *pointer);
        f.Set("rule", q);
        f.Set("reason", "no rule matched");
        *failure = std::move(f);
      }
      return false;
    }
    return true;  // "and" with every rule true; empty rules match everything
  }

  Result<bool> Rule(const json::Value& rule, const std::string* pointer) {
    if (!rule.is_object()) return Malformed(ValidateRule(rule, pointer ? *pointer : ""));
    const json::Value& opv = rule.Get("operator");
    Op op = opv.is_string() ? ParseOp(opv.as_string()) : Op::kUnknown;
    if (op == Op::kUnknown) return Malformed(ValidateRule(rule, pointer ? *pointer : ""));
    bool ok = false;
    json::Value scratch;
    const json::Value* prop_value = &NullValue();
    if (op == Op::kRelatedTo) {
      if (!rule.Get("blueprint").is_string())
        return Malformed(ValidateRule(rule, pointer ? *pointer : ""));
      ok = RelatedTo(rule, entity, ctx);
    } else {
      const json::Value& prop = rule.Get("property");
      if (!prop.is_string()) return Malformed(ValidateRule(rule, pointer ? *pointer : ""));
      const json::Value& operand = rule.Get("value");
      prop_value = &PropertyValue(entity, prop.as_string(), ctx.derived, &scratch);
      const json::Value& v = *prop_value;
      switch (op) {
        case Op::kEq:
          ok = Equals(v, operand);
          break;
        case Op::kNe:
          ok = !Equals(v, operand);
          break;
        case Op::kGt:
        case Op::kGe:
        case Op::kLt:
        case Op::kLe: {
          int c;
          if (!Order(v, operand, &c)) {
            ok = false;
            break;
          }
          ok = op == Op::kGt ? c > 0 : op == Op::kGe ? c >= 0 : op == Op::kLt ? c < 0 : c <= 0;
          break;
        }
        case Op::kBetween:
        case Op::kNotBetween: {
          double from, to;
          if (!Window(operand, ctx.now, &from, &to)) {
            return Malformed(ValidateRule(rule, pointer ? *pointer : ""));
          }
          auto t = PropertyTime(entity, prop.as_string(), ctx.derived);
          if (!t) {
            ok = false;  // a missing date matches neither between nor notBetween
            break;
          }
          bool inside = *t >= from && *t <= to;
          ok = op == Op::kBetween ? inside : !inside;
          break;
        }
        case Op::kContains:
          ok = StringTest(v, operand, Op::kContains);
          break;
        case Op::kDoesNotContain:
          ok = !StringTest(v, operand, Op::kContains);
          break;
        case Op::kBeginsWith:
          ok = StringTest(v, operand, Op::kBeginsWith);
          break;
        case Op::kDoesNotBeginWith:
          ok = !StringTest(v, operand, Op::kBeginsWith);
          break;
        case Op::kEndsWith:
          ok = StringTest(v, operand, Op::kEndsWith);
          break;
        case Op::kDoesNotEndWith:
          ok = !StringTest(v, operand, Op::kEndsWith);
          break;
        case Op::kIn:
        case Op::kContainsAny:
          if (!operand.is_array()) return Malformed(ValidateRule(rule, pointer ? *pointer : ""));
          ok = InList(v, operand);
          break;
        case Op::kNotIn:
          if (!operand.is_array()) return Malformed(ValidateRule(rule, pointer ? *pointer : ""));
          ok = !InList(v, operand);
          break;
        case Op::kIsEmpty:
          ok = IsEmptyValue(v);
          break;
        case Op::kIsNotEmpty:
          ok = !IsEmptyValue(v);
          break;
        case Op::kIsExpired:
        case Op::kIsNotExpired: {
          auto t = PropertyTime(entity, prop.as_string(), ctx.derived);
          if (!t) {
            ok = false;
            break;
          }
          ok = op == Op::kIsExpired ? *t < ctx.now : *t >= ctx.now;
          break;
        }
        default:
          break;
      }
    }
    if (!ok && failure && pointer) Fail(*pointer, rule, *prop_value);
    return ok;
  }
};

void CollectProperties(const json::Value& q, std::vector<std::string>* out) {
  const json::Value& rules = q.Get("rules");
  if (!rules.is_array()) return;
  for (const auto& r : rules.as_array()) {
    if (IsGroup(r)) {
      CollectProperties(r, out);
      continue;
    }
    const json::Value& p = r.Get("property");
    if (p.is_string() && std::find(out->begin(), out->end(), p.as_string()) == out->end()) {
      out->push_back(p.as_string());
    }
  }
}

bool AnyRule(const json::Value& q, const std::function<bool(const json::Value&)>& pred) {
  const json::Value& rules = q.Get("rules");
  if (!rules.is_array()) return false;
  for (const auto& r : rules.as_array()) {
    if (IsGroup(r) ? AnyRule(r, pred) : pred(r)) return true;
  }
  return false;
}

}  // namespace

Status Validate(const json::Value& query, const std::string& pointer) {
  return ValidateGroup(query, pointer);
}

Result<bool> Matches(const json::Value& query, const store::Entity& entity, const Context& ctx) {
  Evaluator ev{entity, ctx, nullptr};
  return ev.Group(query, nullptr);
}

Result<bool> Matches(const json::Value& query, const store::Entity& entity, const Context& ctx,
                     json::Value* failure) {
  Evaluator ev{entity, ctx, failure};
  std::string root;
  return ev.Group(query, &root);
}

bool DependsOnNow(const json::Value& query) {
  return AnyRule(query, [](const json::Value& r) {
    const json::Value& op = r.Get("operator");
    if (!op.is_string()) return false;
    Op o = ParseOp(op.as_string());
    if (o == Op::kIsExpired || o == Op::kIsNotExpired) return true;
    if (o == Op::kBetween || o == Op::kNotBetween) return r.Get("value").Has("preset");
    return false;
  });
}

bool UsesRelatedTo(const json::Value& query) {
  return AnyRule(query, [](const json::Value& r) {
    const json::Value& op = r.Get("operator");
    return op.is_string() && op.as_string() == "relatedTo";
  });
}

std::vector<std::string> PropertiesRead(const json::Value& query) {
  std::vector<std::string> out;
  CollectProperties(query, &out);
  return out;
}

bool ResolvePreset(const std::string& preset, double now, double* from, double* to) {
  struct Rolling {
    std::string_view name;
    double days;
    bool future;
  };
  static const Rolling kRolling[] = {
      {"lastDay", 1, false},        {"lastWeek", 7, false},     {"last2Weeks", 14, false},
      {"lastMonth", 30, false},     {"last3Months", 90, false}, {"last6Months", 180, false},
      {"last12Months", 365, false}, {"last2Years", 730, false}, {"last3Years", 1095, false},
      {"nextDay", 1, true},         {"nextWeek", 7, true},      {"next2Weeks", 14, true},
      {"nextMonth", 30, true},      {"next3Months", 90, true},  {"next6Months", 180, true},
      {"next12Months", 365, true},
  };
  for (const auto& r : kRolling) {
    if (r.name != preset) continue;
    if (r.future) {
      *from = now;
      *to = now + r.days * kDay;
    } else {
      *from = now - r.days * kDay;
      *to = now;
    }
    return true;
  }
  int offset;
  if (preset == "today") {
    offset = 0;
  } else if (preset == "yesterday") {
    offset = -1;
  } else if (preset == "tomorrow") {
    offset = 1;
  } else {
    return false;
  }
  double day_start = (std::floor(now / kDay) + offset) * kDay;
  *from = day_start;
  *to = day_start + kDay - 0.001;  // the last millisecond of the day (times keep milliseconds)
  return true;
}

std::vector<std::pair<std::string, std::string>> TimeRules(const json::Value& query) {
  std::vector<std::pair<std::string, std::string>> out;
  AnyRule(query, [&](const json::Value& r) {
    const json::Value& op = r.Get("operator");
    const json::Value& prop = r.Get("property");
    if (!op.is_string() || !prop.is_string()) return false;
    Op o = ParseOp(op.as_string());
    std::pair<std::string, std::string> rule;
    if (o == Op::kIsExpired || o == Op::kIsNotExpired) {
      rule = {prop.as_string(), "isExpired"};
    } else if ((o == Op::kBetween || o == Op::kNotBetween) &&
               r.Get("value").Get("preset").is_string()) {
      rule = {prop.as_string(), r.Get("value").Get("preset").as_string()};
    } else {
      return false;
    }
    if (std::find(out.begin(), out.end(), rule) == out.end()) out.push_back(rule);
    return false;
  });
  return out;
}

void CriticalNows(const std::string& rule, double t, std::vector<double>* out) {
  constexpr double kHalfMs = 0.0005;
  if (rule == "isExpired") {  // t < now: flips once now passes t
    out->push_back(t + kHalfMs);
    return;
  }
  double from, to;
  if (!ResolvePreset(rule, 0, &from, &to)) return;
  if (rule == "today" || rule == "yesterday" || rule == "tomorrow") {
    // The day of now is fixed: now in [D, D + 1 d) with D the matching day's start.
    double day = std::floor(t / kDay) * kDay;
    double start = day + (rule == "today" ? 0 : rule == "yesterday" ? kDay : -kDay);
    out->push_back(start - kHalfMs);
    out->push_back(start + kDay - kHalfMs);
    return;
  }
  // between is inclusive: [now - N, now] contains t iff now in [t, t + N]; for next*,
  // [now, now + N] contains t iff now in [t - N, t].
  double length = to - from;
  double a = to == 0 ? t : t - length;
  double b = to == 0 ? t + length : t;
  out->push_back(a - kHalfMs);
  out->push_back(b - kHalfMs);
  out->push_back(b + kHalfMs);
}

const json::Value& PropertyValue(const store::Entity& entity, std::string_view property,
                                 const json::Value* derived, json::Value* scratch) {
  if (!property.empty() && property[0] == '$') {
    std::string_view meta = property.substr(1);
    if (meta == "identifier") return *scratch = json::Value(entity.identifier);
    if (meta == "title") return entity.title;
    if (meta == "icon") return entity.icon;
    if (meta == "blueprint") return *scratch = json::Value(entity.blueprint);
    if (meta == "team") {
      if (entity.team.is_array()) return entity.team;
      return *scratch = json::Value::MakeArray();
    }
    if (meta == "createdAt") return *scratch = json::Value(FormatIsoTime(entity.created_at));
    if (meta == "updatedAt") return *scratch = json::Value(FormatIsoTime(entity.updated_at));
    return NullValue();
  }
  if (const json::Value* v = entity.properties.Find(property)) return *v;
  const json::Value& d = derived ? *derived : entity.derived;
  if (const json::Value* v = d.Find(property)) return *v;
  return NullValue();
}

std::optional<double> PropertyTime(const store::Entity& entity, std::string_view property,
                                   const json::Value* derived) {
  if (property == "$createdAt") return entity.created_at;
  if (property == "$updatedAt") return entity.updated_at;
  json::Value scratch;
  const json::Value& v = PropertyValue(entity, property, derived, &scratch);
  return StringTime(v);
}

}  // namespace portolan::query
