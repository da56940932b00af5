// Port's query rules (spec/port-data-model.md §6): {combinator, rules} groups evaluated against
// stored entities. Used by aggregation queries, search relations and search identifiers.
//
// Semantics (decisions where Port is silent are in engine/query/README.md): string comparisons
// are case-sensitive; ISO date-time strings compare chronologically; `isEmpty` treats null,
// missing, "", [] and {} as empty; between/notBetween bounds are inclusive and an entity without
// a parseable date matches neither; negated operators (!=, doesNotContains, notIn, ...) are the
// complement of their positive form; relatedTo is transitive along one direction, never mixed.
//
// Thread-safety: all functions are pure (they read the entity and the store in `ctx`).
#ifndef PORTOLAN_ENGINE_QUERY_QUERY_H_
#define PORTOLAN_ENGINE_QUERY_QUERY_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/json.h"
#include "engine/base/status.h"
#include "engine/store/entity.h"

namespace portolan::store {
class Store;
}

namespace portolan::query {

struct Context {
  double now = 0;                       // for date presets (§6.3)
  const store::Store* store = nullptr;  // for relatedTo; may be null when unused
  // When set, derived keys (mirror, calculation, aggregation values) are read from this object
  // instead of entity.derived (engine/derive evaluates entities "as they were" this way).
  const json::Value* derived = nullptr;
};

// Checks the structure of a query: combinator and|or, rules array, known operators with the
// operand shapes they need. Errors name the JSON pointer below `pointer`.
Status Validate(const json::Value& query, const std::string& pointer = "");

// True if the entity satisfies the query. Errors only for malformed queries.
Result<bool> Matches(const json::Value& query, const store::Entity& entity, const Context& ctx);

// Like Matches; when the entity does not match and `failure` is not null, stores the first rule
// that failed: {"pointer": "/rules/1", "rule": {...}, "value": <the entity's value>} (for an
// "or" group where nothing matched, the group itself with "reason": "no rule matched").
Result<bool> Matches(const json::Value& query, const store::Entity& entity, const Context& ctx,
                     json::Value* failure);

// True if the query's result can change with "now": a date preset in between/notBetween, or
// isExpired/isNotExpired. (between with fixed from/to does not depend on now.)
bool DependsOnNow(const json::Value& query);

// True if the query contains a relatedTo rule (its result depends on other entities).
bool UsesRelatedTo(const json::Value& query);

// Property keys the query reads (rule "property" values, meta keys included), de-duplicated in
// order of appearance.
std::vector<std::string> PropertiesRead(const json::Value& query);

// Resolves a date preset ("lastMonth", ...) to [from, to] for the given now; false if unknown.
// Rolling presets end (or start, for next*) at now; today/yesterday/tomorrow are UTC calendar
// days, `to` being the last millisecond of the day.
bool ResolvePreset(const std::string& preset, double now, double* from, double* to);

// The now-dependent rules of a query: (property, preset) for between/notBetween with a preset,
// (property, "isExpired") for isExpired/isNotExpired; de-duplicated, in order of appearance.
std::vector<std::pair<std::string, std::string>> TimeRules(const json::Value& query);

// Values of `now` from which the result of a time rule (a preset as in TimeRules, or
// "isExpired") may differ, for an entity whose date value is `t`: the window edges, each taken
// half a millisecond early (times and nows carry milliseconds), plus one just after a closed
// upper edge. Between two consecutive values the rule's result is constant. Appends to out.
void CriticalNows(const std::string& rule, double t, std::vector<double>* out);

// The value of a property as queries read it: meta properties ($identifier, $title, $team,
// $icon, $blueprint, $createdAt, $updatedAt), raw properties, then derived values (from
// `derived` when not null, else entity.derived). Returns a pointer into the entity, or into
// `scratch` for meta properties; never null (a static null when absent).
const json::Value& PropertyValue(const store::Entity& entity, std::string_view property,
                                 const json::Value* derived, json::Value* scratch);

// The time of a date-time property (meta $createdAt/$updatedAt read exactly; strings parsed as
// ISO 8601); nullopt when absent or unparseable.
std::optional<double> PropertyTime(const store::Entity& entity, std::string_view property,
                                   const json::Value* derived);

}  // namespace portolan::query

#endif  // PORTOLAN_ENGINE_QUERY_QUERY_H_
