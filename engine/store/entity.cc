#include "engine/store/entity.h"

#include "engine/base/time.h"

namespace portolan::store {

json::Value Entity::ToJson(bool include_derived) const {
  json::Value out = json::Value::MakeObject();
  out.Set("identifier", identifier);
  out.Set("title", title);
  out.Set("icon", icon);
  out.Set("blueprint", blueprint);
  out.Set("team", team.is_null() ? json::Value::MakeArray() : team);
  json::Value props = properties.is_object() ? properties : json::Value::MakeObject();
  if (include_derived && derived.is_object()) {
    for (const auto& [k, v] : derived.as_object()) props.Set(k, v);
  }
  out.Set("properties", std::move(props));
  out.Set("relations", relations.is_object() ? relations : json::Value::MakeObject());
  out.Set("createdAt", FormatIsoTime(created_at));
  out.Set("updatedAt", FormatIsoTime(updated_at));
  return out;
}

json::Value Entity::Lookup(std::string_view property) const {
  if (!property.empty() && property[0] == '$') {
    std::string_view meta = property.substr(1);
    if (meta == "identifier") return identifier;
    if (meta == "title") return title;
    if (meta == "icon") return icon;
    if (meta == "blueprint") return blueprint;
    if (meta == "team") return team.is_null() ? json::Value::MakeArray() : team;
    if (meta == "createdAt") return FormatIsoTime(created_at);
    if (meta == "updatedAt") return FormatIsoTime(updated_at);
    return json::Value();
  }
  if (const json::Value* v = properties.Find(property)) return *v;
  if (const json::Value* v = derived.Find(property)) return *v;
  return json::Value();
}

std::vector<std::string> Entity::RelationTargets(std::string_view relation) const {
  std::vector<std::string> out;
  const json::Value* v = relations.Find(relation);
  if (!v) return out;
  if (v->is_string()) {
    out.push_back(v->as_string());
  } else if (v->is_array()) {
    for (const auto& e : v->as_array()) {
      if (e.is_string()) out.push_back(e.as_string());
    }
  }
  return out;
}

}  // namespace portolan::store
