// The blueprint set of a workspace and its cross-blueprint rules (spec §2.3, §3, §7):
//
//   relations        target exists (self-relations allowed)
//   mirrors          every hop is a relation of the blueprint reached so far; the leaf is a
//                    schema property, an aggregation property or a meta property of the last one
//                    (mirror of mirror and mirror of calculation rejected)
//   aggregations     target exists; pathFilter walks declared relations and ends at the target
//                    (or, with fromBlueprint, starts there and ends at the declaring blueprint);
//                    calculationSpec.property is a number on the target; measureTimeBy is a
//                    date-time property of the target or $createdAt/$updatedAt; query rules name
//                    existing properties, relations and blueprints
//   ownership        an Inherited path walks declared relations
//   derived graph    no cycle between mirror, aggregation and calculation properties
//
// Apply() builds the candidate set first and swaps it in only when every rule holds.
#include <algorithm>
#include <cassert>
#include <functional>
#include <set>

#include "engine/model/blueprint.h"
#include "engine/model/internal/model_internal.h"

namespace portolan::model {
namespace {

using internal::Child;
using internal::FormatError;
using internal::Quote;
using BlueprintMap = std::map<std::string, Blueprint, std::less<>>;

// Port creates these in every account. Kept minimal: the keys Port documents and that other
// blueprints and mappings commonly rely on.
constexpr char kUserBlueprint[] = R"json({
  "identifier": "_user",
  "title": "User",
  "icon": "User",
  "schema": {
    "properties": {
      "port_role": {"title": "Port Role", "type": "string"},
      "port_type": {"title": "User Type", "type": "string"},
      "status": {"title": "Status", "type": "string"},
      "moderated_blueprints": {
        "title": "Moderated Blueprints", "type": "array",
        "items": {"type": "string", "format": "blueprints"}
      }
    },
    "required": []
  },
  "relations": {
    "teams": {"title": "Teams", "target": "_team", "many": true, "required": false}
  }
})json";

constexpr char kTeamBlueprint[] = R"json({
  "identifier": "_team",
  "title": "Team",
  "icon": "Team",
  "schema": {
    "properties": {
      "description": {"title": "Description", "type": "string"}
    },
    "required": []
  }
})json";

const BlueprintMap& Builtins() {
  static const BlueprintMap* builtins = [] {
    auto* m = new BlueprintMap;
    for (const char* text : {kUserBlueprint, kTeamBlueprint}) {
      auto doc = json::Parse(text);
      assert(doc.ok());
      auto bp = ParseBlueprint(*doc, "");
      assert(bp.ok());
      m->emplace(bp->identifier, std::move(bp).value());
    }
    return m;
  }();
  return *builtins;
}

template <typename T>
void MergeByKey(std::vector<T>* into, const std::vector<T>& from) {
  for (const T& item : from) {
    auto it =
        std::find_if(into->begin(), into->end(), [&](const T& x) { return x.key == item.key; });
    if (it != into->end()) {
      *it = item;
    } else {
      into->push_back(item);
    }
  }
}

json::Value& ObjectMember(json::Value* obj, std::string_view key) {
  json::Value* v = obj->Find(key);
  if (v == nullptr || !v->is_object()) return obj->Set(key, json::Value::MakeObject());
  return *v;
}

// The raw document of a system blueprint extended by `ext`: the maps are merged key by key,
// schema.required is the union, other top-level keys of `ext` win.
json::Value MergeRaw(const json::Value& base, const json::Value& ext) {
  json::Value out = base;
  if (!ext.is_object()) return out;
  for (const auto& [k, v] : ext.as_object()) {
    if (k == "identifier") continue;
    if ((k == "relations" || k == "mirrorProperties" || k == "calculationProperties" ||
         k == "aggregationProperties") &&
        v.is_object()) {
      json::Value& target = ObjectMember(&out, k);
      for (const auto& [mk, mv] : v.as_object()) target.Set(mk, mv);
    } else if (k == "schema" && v.is_object()) {
      json::Value& schema = ObjectMember(&out, k);
      if (v.Get("properties").is_object()) {
        json::Value& props = ObjectMember(&schema, "properties");
        for (const auto& [pk, pv] : v.Get("properties").as_object()) props.Set(pk, pv);
      }
      if (v.Get("required").is_array()) {
        json::Value* req = schema.Find("required");
        if (req == nullptr || !req->is_array())
          req = &schema.Set("required", json::Value::MakeArray());
        for (const json::Value& r : v.Get("required").as_array()) {
          const json::Array& have = req->as_array();
          if (std::find(have.begin(), have.end(), r) == have.end()) req->Push(r);
        }
      }
    } else {
      out.Set(k, v);
    }
  }
  return out;
}

// A system blueprint extended by a document of the same identifier. Always merged onto the
// pristine built-in, so applying a new version of the extension replaces the old one.
Blueprint MergeSystem(const Blueprint& base, const Blueprint& ext) {
  Blueprint out = base;
  if (!ext.title.empty()) out.title = ext.title;
  if (!ext.icon.empty()) out.icon = ext.icon;
  if (!ext.description.empty()) out.description = ext.description;
  MergeByKey(&out.properties, ext.properties);
  MergeByKey(&out.relations, ext.relations);
  MergeByKey(&out.mirrors, ext.mirrors);
  MergeByKey(&out.calculations, ext.calculations);
  MergeByKey(&out.aggregations, ext.aggregations);
  for (const std::string& r : ext.required) {
    if (!out.IsRequired(r)) out.required.push_back(r);
  }
  if (!ext.ownership.type.empty()) out.ownership = ext.ownership;
  out.raw = MergeRaw(base.raw, ext.raw);
  out.source = ext.source;
  out.pointer = ext.pointer;
  out.warnings = ext.warnings;
  return out;
}


std::string JoinPath(const std::vector<std::string>& hops) {
  std::string out;
  for (const std::string& h : hops) out += (out.empty() ? "" : ".") + h;
  return out;
}

class SetValidator {
 public:
  explicit SetValidator(const BlueprintMap& set) : set_(set) {}

  std::vector<std::string> Run() {
    for (const auto& [id, bp] : set_) {
      internal::Errors collisions(bp.source);
      internal::CheckKeyCollisions(bp, &collisions);
      lines_.insert(lines_.end(), collisions.lines().begin(), collisions.lines().end());
      CheckRelations(bp);
      CheckMirrors(bp);
      for (const AggregationDef& agg : bp.aggregations) CheckAggregation(bp, agg);
      CheckOwnership(bp);
    }
    CheckCycles();
    return std::move(lines_);
  }

 private:
  const Blueprint* Find(std::string_view id) const {
    auto it = set_.find(id);
    return it == set_.end() ? nullptr : &it->second;
  }

  void Add(const Blueprint& bp, const std::string& pointer, const std::string& rule) {
    lines_.push_back(FormatError(bp.source, pointer, rule));
  }

  // One step along a relation key ("$team" follows ownership to _team). nullptr when the key is
  // not a relation (`why` says so) or its target is missing (reported with the relation).
  const Blueprint* Step(const Blueprint& from, const std::string& hop, std::string* why) const {
    if (hop == "$team") {
      if (from.ownership.type.empty()) {
        *why = "blueprint '" + from.identifier +
               "' has no ownership, so \"$team\" cannot be "
               "followed";
        return nullptr;
      }
      return Find("_team");
    }
    const RelationDef* rel = from.FindRelation(hop);
    if (rel == nullptr) {
      *why = Quote(hop) + " is not a relation of blueprint '" + from.identifier + "'";
      return nullptr;
    }
    return Find(rel->target);
  }

  // Walks `hops` from `start`, reporting the first unknown relation at pointer_of(i).
  const Blueprint* Walk(const Blueprint& owner, const Blueprint& start,
                        const std::vector<std::string>& hops,
                        const std::function<std::string(size_t)>& pointer_of) {
    const Blueprint* cur = &start;
    for (size_t i = 0; i < hops.size() && cur != nullptr; ++i) {
      std::string why;
      cur = Step(*cur, hops[i], &why);
      if (cur == nullptr && !why.empty()) Add(owner, pointer_of(i), why);
    }
    return cur;
  }

  const Blueprint* WalkQuiet(const Blueprint& start, const std::vector<std::string>& hops) const {
    const Blueprint* cur = &start;
    for (size_t i = 0; i < hops.size() && cur != nullptr; ++i) {
      std::string why;
      cur = Step(*cur, hops[i], &why);
    }
    return cur;
  }

  void CheckRelations(const Blueprint& bp) {
    for (const RelationDef& rel : bp.relations) {
      if (!rel.target.empty() && Find(rel.target) == nullptr) {
        Add(bp, Child(Child(Child(bp.pointer, "relations"), rel.key), "target"),
            "blueprint '" + rel.target + "' does not exist");
      }
    }
  }

  void CheckMirrors(const Blueprint& bp) {
    for (const MirrorDef& m : bp.mirrors) {
      if (m.hops.empty()) continue;  // malformed path, reported by ParseBlueprint
      std::string pp = Child(Child(Child(bp.pointer, "mirrorProperties"), m.key), "path");
      const Blueprint* last = Walk(bp, bp, m.hops, [&](size_t) { return pp; });
      if (last == nullptr) continue;
      const std::string& leaf = m.leaf;
      if (IsMetaProperty(leaf) || last->FindProperty(leaf) || last->FindAggregation(leaf)) {
        continue;
      }
      if (last->FindMirror(leaf)) {
        Add(bp, pp,
            Quote(leaf) + " is a mirror property of blueprint '" + last->identifier +
                "': a mirror of a mirror is not supported");
      } else if (last->FindCalculation(leaf)) {
        Add(bp, pp,
            Quote(leaf) + " is a calculation property of blueprint '" + last->identifier +
                "': mirroring calculations is not supported");
      } else {
        Add(bp, pp, Quote(leaf) + " is not a property of blueprint '" + last->identifier + "'");
      }
    }
  }

  // "" when `name` on `bp` holds numbers, else why not.
  std::string NotNumeric(const Blueprint& bp, const std::string& name) const {
    if (const PropertyDef* p = bp.FindProperty(name)) {
      return p->type == "number" ? "" : "is a " + p->type + " property";
    }
    if (const CalculationDef* c = bp.FindCalculation(name)) {
      return c->type == "number" ? "" : "is a " + c->type + " calculation property";
    }
    if (bp.FindAggregation(name)) return "";
    if (const MirrorDef* m = bp.FindMirror(name)) {
      const Blueprint* last = WalkQuiet(bp, m->hops);
      if (last == nullptr || last->FindAggregation(m->leaf)) return "";
      if (const PropertyDef* p = last->FindProperty(m->leaf)) {
        return p->type == "number" ? "" : "mirrors a " + p->type + " property";
      }
      return IsMetaProperty(m->leaf) ? "mirrors meta property " + m->leaf : "";
    }
    return "is a meta property";
  }

  static bool IsDateTimeMeta(std::string_view name) {
    return name == "$createdAt" || name == "$updatedAt";
  }

  bool IsDateTime(const Blueprint& bp, const std::string& name) const {
    if (name.starts_with("$")) return IsDateTimeMeta(name);
    if (const PropertyDef* p = bp.FindProperty(name)) {
      return p->type == "string" && p->format == "date-time";
    }
    if (const CalculationDef* c = bp.FindCalculation(name)) return c->format == "date-time";
    if (const MirrorDef* m = bp.FindMirror(name)) {
      const Blueprint* last = WalkQuiet(bp, m->hops);
      if (last == nullptr) return true;  // broken path, reported elsewhere
      if (IsDateTimeMeta(m->leaf)) return true;
      const PropertyDef* p = last->FindProperty(m->leaf);
      return p != nullptr && p->type == "string" && p->format == "date-time";
    }
    return false;
  }

  void CheckAggregation(const Blueprint& bp, const AggregationDef& agg) {
    std::string ap = Child(Child(bp.pointer, "aggregationProperties"), agg.key);
    const Blueprint* target = Find(agg.target);
    if (target == nullptr) {
      if (!agg.target.empty()) {
        Add(bp, Child(ap, "target"), "blueprint '" + agg.target + "' does not exist");
      }
      return;
    }
    if (agg.path_filter.has_value() && !agg.path_filter->path.empty()) {
      const PathFilter& pf = *agg.path_filter;
      std::string pp = Child(Child(ap, "pathFilter"), size_t{0});
      const Blueprint* start = &bp;
      const Blueprint* expected = target;
      if (!pf.from_blueprint.empty()) {
        start = Find(pf.from_blueprint);
        expected = &bp;
        if (start == nullptr) {
          Add(bp, Child(pp, "fromBlueprint"),
              "blueprint '" + pf.from_blueprint + "' does not exist");
        }
      }
      if (start != nullptr) {
        const Blueprint* end =
            Walk(bp, *start, pf.path, [&](size_t i) { return Child(Child(pp, "path"), i); });
        if (end != nullptr && end != expected) {
          Add(bp, Child(pp, "path"),
              "path " + Quote(JoinPath(pf.path)) + " from blueprint '" + start->identifier +
                  "' ends at blueprint '" + end->identifier + "', not at " +
                  (pf.from_blueprint.empty() ? "the target '" + target->identifier + "'"
                                             : "this blueprint '" + bp.identifier + "'"));
        }
      }
    }
    std::string sp = Child(ap, "calculationSpec");
    const CalculationSpec& spec = agg.spec;
    if (spec.calculation_by == "property" && !spec.property.empty()) {
      if (!target->HasAnyProperty(spec.property)) {
        Add(bp, Child(sp, "property"),
            Quote(spec.property) + " is not a property of target blueprint '" + target->identifier +
                "'");
      } else if (std::string why = NotNumeric(*target, spec.property); !why.empty()) {
        Add(bp, Child(sp, "property"),
            Quote(spec.property) + " of blueprint '" + target->identifier + "' " + why +
                ", not a number");
      }
    }
    if (spec.func == "average" && !spec.measure_time_by.empty() &&
        !IsDateTime(*target, spec.measure_time_by)) {
      Add(bp, Child(sp, "measureTimeBy"),
          Quote(spec.measure_time_by) + " is not a date-time property of target blueprint '" +
              target->identifier + "' (nor $createdAt, $updatedAt)");
    }
    if (!agg.query.is_null()) {
      std::vector<internal::QueryRef> refs;
      internal::CollectQueryRefs(agg.query, Child(ap, "query"), &refs);
      for (const internal::QueryRef& ref : refs) {
        switch (ref.kind) {
          case internal::QueryRef::Kind::kProperty:
            if (!IsMetaProperty(ref.name) && !target->HasAnyProperty(ref.name)) {
              Add(bp, ref.pointer,
                  Quote(ref.name) + " is not a property of target blueprint '" +
                      target->identifier + "'");
            }
            break;
          case internal::QueryRef::Kind::kRelation:
            if (target->FindRelation(ref.name) == nullptr) {
              Add(bp, ref.pointer,
                  Quote(ref.name) + " is not a relation of target blueprint '" +
                      target->identifier + "'");
            }
            break;
          case internal::QueryRef::Kind::kBlueprint:
            if (Find(ref.name) == nullptr) {
              Add(bp, ref.pointer, "blueprint '" + ref.name + "' does not exist");
            }
            break;
        }
      }
    }
  }

  void CheckOwnership(const Blueprint& bp) {
    if (bp.ownership.type != "Inherited" || bp.ownership.path.empty()) return;
    std::vector<std::string> hops;
    size_t start = 0;
    const std::string& path = bp.ownership.path;
    while (start <= path.size()) {
      size_t dot = path.find('.', start);
      std::string hop = path.substr(start, dot == std::string::npos ? dot : dot - start);
      if (hop.starts_with("$") && hop != "$team") break;  // a trailing meta segment
      hops.push_back(hop);
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    std::string pp = Child(Child(bp.pointer, "ownership"), "path");
    Walk(bp, bp, hops, [&](size_t) { return pp; });
  }

  // The derived-property graph: mirror -> aggregation it mirrors; aggregation -> derived
  // properties of the target it reads; calculation -> mirror/aggregation keys its jq names.
  void CheckCycles() {
    struct NodeInfo {
      const Blueprint* bp;
      std::string pointer;
      std::vector<std::string> deps;
    };
    std::map<std::string, NodeInfo> nodes;
    auto id_of = [](const Blueprint& bp, const std::string& key) {
      return bp.identifier + "." + key;
    };
    auto is_derived = [](const Blueprint& bp, const std::string& key) {
      return bp.FindMirror(key) || bp.FindCalculation(key) || bp.FindAggregation(key);
    };
    for (const auto& [id, bp] : set_) {
      for (const MirrorDef& m : bp.mirrors) {
        NodeInfo& n = nodes[id_of(bp, m.key)];
        n.bp = &bp;
        n.pointer = Child(Child(bp.pointer, "mirrorProperties"), m.key);
        const Blueprint* last = m.hops.empty() ? nullptr : WalkQuiet(bp, m.hops);
        if (last != nullptr && last->FindAggregation(m.leaf)) {
          n.deps.push_back(id_of(*last, m.leaf));
        }
      }
      for (const AggregationDef& a : bp.aggregations) {
        NodeInfo& n = nodes[id_of(bp, a.key)];
        n.bp = &bp;
        n.pointer = Child(Child(bp.pointer, "aggregationProperties"), a.key);
        const Blueprint* target = Find(a.target);
        if (target == nullptr) continue;
        std::vector<std::string> names;
        if (a.spec.calculation_by == "property") names.push_back(a.spec.property);
        if (a.spec.func == "average") names.push_back(a.spec.measure_time_by);
        std::vector<internal::QueryRef> refs;
        internal::CollectQueryRefs(a.query, "", &refs);
        for (const auto& r : refs) {
          if (r.kind == internal::QueryRef::Kind::kProperty) names.push_back(r.name);
        }
        for (const std::string& name : names) {
          if (is_derived(*target, name)) n.deps.push_back(id_of(*target, name));
        }
      }
      for (const CalculationDef& c : bp.calculations) {
        NodeInfo& n = nodes[id_of(bp, c.key)];
        n.bp = &bp;
        n.pointer = Child(Child(bp.pointer, "calculationProperties"), c.key);
        for (const MirrorDef& m : bp.mirrors) {
          if (ContainsKeyToken(c.calculation, m.key)) n.deps.push_back(id_of(bp, m.key));
        }
        for (const AggregationDef& a : bp.aggregations) {
          if (ContainsKeyToken(c.calculation, a.key)) n.deps.push_back(id_of(bp, a.key));
        }
      }
    }
    enum class Color { kWhite, kGrey, kBlack };
    std::map<std::string, Color> color;
    std::vector<std::string> stack;
    bool reported = false;
    std::function<void(const std::string&)> visit = [&](const std::string& node) {
      color[node] = Color::kGrey;
      stack.push_back(node);
      auto it = nodes.find(node);
      if (it != nodes.end()) {
        for (const std::string& dep : it->second.deps) {
          if (reported) break;
          Color c = color.count(dep) ? color[dep] : Color::kWhite;
          if (c == Color::kGrey) {
            auto from = std::find(stack.begin(), stack.end(), dep);
            std::string cycle;
            for (auto s = from; s != stack.end(); ++s) cycle += *s + " -> ";
            cycle += dep;
            const NodeInfo& start = nodes.at(dep);
            Add(*start.bp, start.pointer, "derived properties form a cycle: " + cycle);
            reported = true;
          } else if (c == Color::kWhite) {
            visit(dep);
          }
        }
      }
      stack.pop_back();
      color[node] = Color::kBlack;
    };
    for (const auto& [node, info] : nodes) {
      if (reported) break;
      if (!color.count(node)) visit(node);
    }
  }

  const BlueprintMap& set_;
  std::vector<std::string> lines_;
};

std::string JoinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += (out.empty() ? "" : "\n") + l;
  return out;
}

}  // namespace

bool IsPropertyKeyChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '@' ||
         c == '_' || c == '=' || c == '-';
}

// True when `key` occurs in `text` as a whole token (how a jq program reads .properties.<key>).
bool ContainsKeyToken(std::string_view text, std::string_view key) {
  for (size_t pos = text.find(key); pos != std::string_view::npos; pos = text.find(key, pos + 1)) {
    bool start_ok = pos == 0 || !IsPropertyKeyChar(text[pos - 1]);
    size_t end = pos + key.size();
    bool end_ok = end == text.size() || !IsPropertyKeyChar(text[end]);
    if (start_ok && end_ok) return true;
  }
  return false;
}

Catalog::Catalog() : blueprints_(Builtins()) {}

const Blueprint* Catalog::Find(std::string_view id) const {
  auto it = blueprints_.find(id);
  return it == blueprints_.end() ? nullptr : &it->second;
}

Status Catalog::Apply(std::vector<Blueprint> blueprints) {
  std::map<std::string, const Blueprint*, std::less<>> seen;
  std::vector<std::string> dupes;
  for (const Blueprint& bp : blueprints) {
    auto [it, inserted] = seen.emplace(bp.identifier, &bp);
    if (!inserted) {
      const Blueprint& first = *it->second;
      dupes.push_back(FormatError(bp.source, Child(bp.pointer, "identifier"),
                                  "blueprint '" + bp.identifier + "' is defined twice (also in " +
                                      (first.source.empty() ? "<builtin>" : first.source) +
                                      (first.pointer.empty() ? "" : " at " + first.pointer) + ")"));
    }
  }
  if (!dupes.empty()) return InvalidArgument(JoinLines(dupes));

  BlueprintMap candidate = blueprints_;
  for (Blueprint& bp : blueprints) {
    std::string id = bp.identifier;
    if (IsSystemBlueprint(id)) {
      candidate[id] = MergeSystem(Builtins().at(id), bp);
    } else {
      candidate[id] = std::move(bp);
    }
  }
  std::vector<std::string> lines = SetValidator(candidate).Run();
  if (!lines.empty()) return FailedPrecondition(JoinLines(lines));
  blueprints_ = std::move(candidate);
  return Status::Ok();
}

Status Catalog::Remove(std::string_view id) {
  auto it = blueprints_.find(id);
  if (it == blueprints_.end()) {
    return NotFound("blueprint '" + std::string(id) + "' does not exist");
  }
  if (IsSystemBlueprint(id)) {
    return FailedPrecondition("blueprint '" + std::string(id) +
                              "' is a system blueprint and cannot be removed");
  }
  std::vector<std::string> refs;
  for (const auto& [other_id, other] : blueprints_) {
    if (other_id == id) continue;
    for (const RelationDef& r : other.relations) {
      if (r.target == id) refs.push_back(other_id + ".relations." + r.key);
    }
    for (const AggregationDef& a : other.aggregations) {
      bool uses =
          a.target == id || (a.path_filter.has_value() && a.path_filter->from_blueprint == id);
      std::vector<internal::QueryRef> qrefs;
      internal::CollectQueryRefs(a.query, "", &qrefs);
      for (const auto& q : qrefs) {
        uses |= q.kind == internal::QueryRef::Kind::kBlueprint && q.name == id;
      }
      if (uses) refs.push_back(other_id + ".aggregationProperties." + a.key);
    }
  }
  if (!refs.empty()) {
    std::string msg = "blueprint '" + std::string(id) + "' is still referenced by ";
    for (size_t i = 0; i < refs.size(); ++i) msg += (i ? ", " : "") + refs[i];
    return FailedPrecondition(msg);
  }
  BlueprintMap candidate = blueprints_;
  candidate.erase(candidate.find(id));
  std::vector<std::string> lines = SetValidator(candidate).Run();
  if (!lines.empty()) return FailedPrecondition(JoinLines(lines));
  blueprints_ = std::move(candidate);
  return Status::Ok();
}

Status Catalog::Validate() const {
  std::vector<std::string> lines = SetValidator(blueprints_).Run();
  if (!lines.empty()) return FailedPrecondition(JoinLines(lines));
  return Status::Ok();
}

}  // namespace portolan::model
