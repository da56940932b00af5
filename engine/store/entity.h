// An entity as the store holds it: Port's entity fields, raw and derived properties apart.
#ifndef PORTOLAN_ENGINE_STORE_ENTITY_H_
#define PORTOLAN_ENGINE_STORE_ENTITY_H_

#include <string>
#include <string_view>
#include <utility>

#include "engine/base/json.h"

namespace portolan::store {

struct EntityKey {
  std::string blueprint;
  std::string identifier;

  bool operator==(const EntityKey& o) const {
    return blueprint == o.blueprint && identifier == o.identifier;
  }
  bool operator<(const EntityKey& o) const {
    return blueprint != o.blueprint ? blueprint < o.blueprint : identifier < o.identifier;
  }
  std::string ToString() const { return blueprint + "/" + identifier; }
};

struct EntityKeyHash {
  size_t operator()(const EntityKey& k) const {
    return std::hash<std::string>()(k.blueprint) * 31 + std::hash<std::string>()(k.identifier);
  }
};

struct Entity {
  std::string blueprint;
  std::string identifier;
  json::Value title;       // string or null
  json::Value icon;        // string or null
  json::Value team;        // array of team identifiers (empty array when none)
  json::Value properties;  // object: raw (schema) property values
  json::Value relations;   // object: relation key -> identifier | [identifiers] | null
  json::Value derived;     // object: mirror, aggregation and calculation values (engine-owned)
  double created_at = 0;   // epoch seconds, from the clock
  double updated_at = 0;
  std::string datasource;  // who wrote it last: "" (API/CLI) or "mapping:<name>/<kind>"
  bool barebones = false;  // created as a missing relation target; never upserted itself

  EntityKey key() const { return {blueprint, identifier}; }

  // Port's shape: identifier, title, icon, blueprint, team, properties (raw, then derived values
  // when include_derived), relations, createdAt, updatedAt.
  json::Value ToJson(bool include_derived = true) const;

  // Value of a property or meta property as queries, mirrors and aggregations read it:
  // "$identifier", "$title", "$team", "$icon", "$blueprint", "$createdAt", "$updatedAt", a raw
  // property key, or a derived key. Null when absent.
  json::Value Lookup(std::string_view property) const;

  // Targets of one relation as a list (empty for null or absent).
  std::vector<std::string> RelationTargets(std::string_view relation) const;
};

}  // namespace portolan::store

#endif  // PORTOLAN_ENGINE_STORE_ENTITY_H_
