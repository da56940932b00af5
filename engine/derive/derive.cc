// The derived-property engine. Outline:
//
//   Bind          one Node per (blueprint, derived key); aggregations sharing (source, target,
//                 path) share a Group (how targets map to sources); levels = longest dependency
//                 path, so a node only reads nodes of lower levels.
//   RecomputeAll  level by level: mirrors per entity; aggregations in one pass over the target
//                 entities pushing contributions to their sources; calculations per entity.
//   Apply         level by level, only what the change set reaches:
//                 - mirrors: the changed entities and those whose path walks through a changed
//                   hop or leaf (walked back from it);
//                 - aggregations: the delta of each changed target (old contribution from the
//                   before-image or the pre-pass derived values, new from the entity now) is
//                   applied to its sources; a changed intermediate hop ("structural" change,
//                   e.g. a service moved to another team) sends the sources it can affect
//                   (found in both the old and the new graph) to a full per-source recompute;
//                 - calculations: entities whose raw or derived values changed.
//   Time          nodes that depend on now (date presets in a query, `now` in jq, span_end_now)
//                 are recomputed in full when now moves (EnsureFresh, or Apply with a new now).
//
// Derived objects are written in a canonical key order: mirrors, aggregations, calculations,
// each in blueprint order.
#include "engine/derive/derive.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <queue>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "engine/base/time.h"
#include "engine/derive/aggregate.h"
#include "engine/derive/internal/calc_expr.h"
#include "engine/derive/internal/graph.h"
#include "engine/jq/jq.h"
#include "engine/model/blueprint.h"
#include "engine/query/query.h"

namespace portolan::derive {

using internal::Hop;
using internal::Overlay;
using internal::PtrSet;
using internal::RelInfo;
using internal::View;
using store::Entity;

namespace {

constexpr char kNowKey[] = "derived_now";
constexpr char kEpochKey[] = "derived_epoch";
constexpr char kCatalogKey[] = "derived_catalog";  // fingerprint of the bound definitions
// Prepended to calculations that call `now`; the document carries the engine's now.
constexpr char kNowField[] = "__portolan_now";
constexpr char kNowPrelude[] =
    ".__portolan_now as $__portolan_now | del(.__portolan_now) | "
    "def now: $__portolan_now; ";

enum class Kind { kMirror, kCalculation, kAggregation };
enum class MapKind { kClosure, kFromTarget, kFromSource };

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kMirror:
      return "mirror";
    case Kind::kCalculation:
      return "calculation";
    case Kind::kAggregation:
      return "aggregation";
  }
  return "?";
}


// True if the jq text calls the `now` builtin (not `.now`, `$now` or a string "now").
bool UsesNow(std::string_view text) {
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    if (c == '#') {  // comment to end of line
      while (i < text.size() && text[i] != '\n') ++i;
      continue;
    }
    if (text.compare(i, 3, "now") != 0) continue;
    bool start_ok = i == 0 || (!model::IsPropertyKeyChar(text[i - 1]) && text[i - 1] != '.' &&
                               text[i - 1] != '$');
    bool end_ok = i + 3 >= text.size() || !model::IsPropertyKeyChar(text[i + 3]);
    if (start_ok && end_ok) return true;
  }
  return false;
}

// Relation values are equal as target lists (null, missing and [] are all empty).
bool SameTargets(const json::Value* a, const json::Value* b) {
  static const json::Value kNull;
  const json::Value& x = a ? *a : kNull;
  const json::Value& y = b ? *b : kNull;
  auto size = [](const json::Value& v) -> size_t {
    return v.is_string() ? 1 : v.is_array() ? v.as_array().size() : 0;
  };
  auto at = [](const json::Value& v, size_t i) -> const json::Value& {
    return v.is_string() ? v : v.as_array()[i];
  };
  size_t n = size(x);
  if (n != size(y)) return false;
  for (size_t i = 0; i < n; ++i) {
    if (!(at(x, i) == at(y, i))) return false;
  }
  return true;
}

// True if relation `rel` ("$team" for teams) differs between two versions of an entity (null
// pointers: the entity does not exist in that version).
bool RelationChanged(const Entity* before, const Entity* after, const std::string& rel) {
  auto value = [&](const Entity* e) -> const json::Value* {
    if (!e) return nullptr;
    if (rel == "$team") return &e->team;
    return e->relations.Find(rel);
  };
  return !SameTargets(value(before), value(after));
}

std::string FormatNow(double now) { return json::FormatNumber(now); }

struct MirrorNode {
  std::vector<Hop> hops;
  std::string leaf;
  bool many = false;
};

struct CalcNode {
  std::string text;
  // Native evaluation when the program is in internal::CalcExpr's subset; libjq otherwise, and
  // for the rare runtime case the native evaluator leaves to it (compiled on first use then).
  std::unique_ptr<internal::CalcExpr> native;
  std::unique_ptr<jq::Program> program;
  std::string jq_source;  // what libjq compiles (with the `now` prelude when needed)
  bool uses_now = false;
  bool reads_all = true;           // re-evaluate on any change of the entity
  std::vector<std::string> reads;  // else: only when one of these properties changed
};

struct AggNode {
  std::string target;
  json::Value query;  // null when absent
  bool query_now = false;
  bool query_related = false;
  AggSpec spec;
  int query_id = -1;  // index of the distinct query (identical queries share one)
  std::vector<std::pair<std::string, std::string>> time_rules;  // query_now: its preset rules
  int group = -1;
  int index_in_group = -1;
  std::vector<std::string> reads;  // target keys read (query, property, measureTimeBy)
};

struct Node {
  Kind kind;
  std::string blueprint;
  std::string key;
  int slot = -1;  // position in the blueprint's derived keys
  int level = 0;
  std::vector<int> hard_deps;  // nodes read for certain
  std::vector<int> deps;       // ordering edges (hard + calc-after-same-entity)
  MirrorNode mirror;
  CalcNode calc;
  AggNode agg;
  std::string Name() const { return blueprint + "." + key; }
};

// Per source entity: one AggState per aggregation of the group.
using SourceStates = std::vector<AggState>;

struct Group {
  MapKind kind = MapKind::kClosure;
  std::string source_bp;
  std::string target_bp;
  std::string from_blueprint;  // as written
  std::vector<std::string> path;
  std::vector<Hop> hops;          // kFromTarget: T -> ... -> B; kFromSource: B -> ... -> T
  internal::Reach reach_sources;  // closure: walks collecting sources
  internal::Reach reach_targets;  // closure: walks collecting targets
  std::set<std::pair<std::string, std::string>> relevant;  // closure: (blueprint, relation)
  std::vector<int> aggs;  // node ids, index = AggNode::index_in_group
  std::unordered_map<std::string, SourceStates> states;  // by source identifier
  // Per aggregation (by index in the group): every source has a state. Otherwise ("cold",
  // after a restart or a rollback) the stored values are used and the sources a change
  // reaches are rebuilt from their targets.
  std::vector<char> complete;

  // Time windows (DESIGN §4: recompute when the clock passes a window edge). For the
  // aggregations whose query depends on now: the rules, and per target the next now at which
  // its match may change, in a min-heap (entries not equal to next_check are stale).
  std::vector<std::pair<std::string, std::string>> time_rules;  // (property, preset)
  std::unordered_map<std::string, double> next_check;           // target identifier -> now
  std::priority_queue<std::pair<double, std::string>, std::vector<std::pair<double, std::string>>,
                      std::greater<>>
      checks;

  json::Value Describe() const {
    json::Value d = json::Value::MakeObject();
    switch (kind) {
      case MapKind::kClosure:
        d.Set("walk", "all related " + target_bp +
                          " entities: upstream closure ∪ downstream closure (no pathFilter)");
        break;
      case MapKind::kFromTarget:
        d.Set("walk", "from each " + target_bp + " along the path, ending at this entity");
        break;
      case MapKind::kFromSource:
        d.Set("walk", "from this entity along the path to " + target_bp + " entities");
        break;
    }
    if (!path.empty()) {
      json::Value p = json::Value::MakeArray();
      for (const auto& s : path) p.Push(s);
      d.Set("path", std::move(p));
    }
    if (!from_blueprint.empty()) d.Set("fromBlueprint", from_blueprint);
    return d;
  }
};

struct BlueprintInfo {
  std::vector<std::string> keys;  // canonical derived key order
  std::vector<int> slot_node;     // slot -> node id
  std::vector<int> calc_nodes;
  std::unordered_set<std::string> calc_keys;
};

}  // namespace

// ---------------------------------------------------------------------------------------------

struct Engine::Impl {
  store::Store* store;
  Options options;

  bool bound = false;
  std::vector<Node> nodes;
  std::vector<Group> groups;
  std::vector<json::Value> queries;  // distinct aggregation queries
  std::vector<std::vector<int>> levels;
  std::unordered_map<std::string, int> node_index;  // "bp\x1fkey"
  std::unordered_map<std::string, BlueprintInfo> bp_info;
  internal::RelTable relations;
  std::string catalog_fingerprint;

  Engine::Stats stats;

  // Incremental state.
  bool state_valid = false;
  double state_now = 0;
  std::string epoch_prefix;
  uint64_t epoch_counter = 0;
  std::string epoch;

  Impl(store::Store* s, Options o) : store(s), options(o) {
    char buf[64];
    std::snprintf(
        buf, sizeof buf, "%p-%lld-", static_cast<void*>(this),
        static_cast<long long>(std::chrono::steady_clock::now().time_since_epoch().count()));
    epoch_prefix = buf;
  }

  // ---- Per-pass bookkeeping ------------------------------------------------------------------

  struct RawChange {
    const Entity* before = nullptr;  // null: created
    const Entity* live = nullptr;    // null: deleted
  };
  struct DerivedChange {
    json::Value old_derived;
    std::vector<int> nodes;
  };
  struct Pass {
    Pass(const store::Store& s, const internal::RelTable& rels,
         const std::vector<store::Change>& changes)
        : overlay(s, changes), now_view(s, rels, nullptr), old_view(s, rels, &overlay) {}
    Overlay overlay;
    View now_view;
    View old_view;
    double now = 0;
    double old_now = 0;  // the now the current values were computed for
    bool full = false;   // RecomputeAll: no change tracking
    bool time_moved = false;
    bool any_relation_change = false;
    std::unordered_map<std::string, std::vector<RawChange>> raw_by_bp;
    std::unordered_map<const Entity*, DerivedChange> dchanged;
    std::unordered_map<std::string, std::vector<const Entity*>> dchanged_by_bp;
    std::unordered_map<const Entity*, std::vector<std::pair<int, json::Value>>> pending;
    // Targets whose time-window match may have changed since old_now, per group (taken from
    // the group's heap once per pass).
    std::unordered_map<const void*, std::vector<std::string>> due;
  };

  // ---- Helpers -------------------------------------------------------------------------------

  using SteadyClock = std::chrono::steady_clock;
  static double Since(SteadyClock::time_point t0) {
    return std::chrono::duration<double>(SteadyClock::now() - t0).count();
  }
  void Step(std::string name, SteadyClock::time_point t0) {
    stats.steps.emplace_back(std::move(name), Since(t0));
  }
  std::string GroupName(const Group& g) const {
    std::string kind = g.kind == MapKind::kClosure      ? "closure"
                       : g.kind == MapKind::kFromTarget ? "from target"
                                                        : "from source";
    std::string path;
    for (const auto& h : g.path) path += (path.empty() ? "" : ".") + h;
    return "aggregations " + g.source_bp + " <- " + g.target_bp + " [" + kind +
           (path.empty() ? "" : " " + path) + "]";
  }

  static std::string NodeKey(std::string_view bp, std::string_view key) {
    std::string k(bp);
    k.push_back('\x1f');
    k.append(key);
    return k;
  }

  int FindNode(std::string_view bp, std::string_view key) const {
    auto it = node_index.find(NodeKey(bp, key));
    return it == node_index.end() ? -1 : it->second;
  }

  bool HasNowDependents() const {
    for (const Node& n : nodes) {
      if (NodeDependsOnNow(n)) return true;
    }
    return false;
  }

  bool NodeDependsOnNow(const Node& n) const {
    switch (n.kind) {
      case Kind::kCalculation:
        return n.calc.uses_now;
      case Kind::kAggregation:
        return n.agg.query_now || (options.span_end_now && n.agg.spec.time_average());
      case Kind::kMirror:
        return false;
    }
    return false;
  }

  void NewEpoch() {
    epoch = epoch_prefix + std::to_string(++epoch_counter);
    store->SetMeta(kEpochKey, epoch);
  }

  bool EpochMatches() const {
    auto m = store->GetMeta(kEpochKey);
    return m && *m == epoch;
  }

  // Queues a derived value; flushed at the end of the level.
  void Queue(Pass& p, const Entity& e, int slot, json::Value v) {
    ++stats.values_computed;
    p.pending[&e].emplace_back(slot, std::move(v));
  }

  // Values of one entity: written at once in a full pass (nothing of this level reads them),
  // queued in an incremental one.
  void Emit(Pass& p, const Entity& e, std::vector<std::pair<int, json::Value>>& updates) {
    if (p.full) {
      stats.values_computed += static_cast<int64_t>(updates.size());
      WriteValues(p, e, updates);
      return;
    }
    for (auto& [slot, v] : updates) Queue(p, e, slot, std::move(v));
  }

  const AggNode& Agg(int id) const { return nodes[static_cast<size_t>(id)].agg; }

  // Writes queued values entity by entity (one SetDerived each), recording what changed.
  void Flush(Pass& p) {
    for (auto& [e, updates] : p.pending) WriteValues(p, *e, updates);
    p.pending.clear();
  }

  // The derived object of `e` with `updates` applied, in canonical key order; false when
  // nothing would change. Reads only (safe on worker threads). `changed_nodes` (optional)
  // receives the nodes whose value differs.
  bool BuildDerived(const Entity& e, std::vector<std::pair<int, json::Value>>& updates,
                    json::Value* next, std::vector<int>* changed_nodes) const {
    auto it = bp_info.find(e.blueprint);
    if (it == bp_info.end()) return false;
    const BlueprintInfo& info = it->second;
    const json::Value& cur = e.derived;
    bool canonical = cur.is_object() && cur.as_object().size() == info.keys.size();
    if (canonical) {
      const auto& obj = cur.as_object();
      for (size_t i = 0; i < obj.size(); ++i) {
        if (obj[i].first != info.keys[i]) {
          canonical = false;
          break;
        }
      }
    }
    bool changed = false;
    for (auto& [slot, v] : updates) {
      const json::Value* old = canonical ? &cur.as_object()[static_cast<size_t>(slot)].second
                                         : cur.Find(info.keys[static_cast<size_t>(slot)]);
      if (!old || !(*old == v)) {
        changed = true;
        if (changed_nodes) changed_nodes->push_back(info.slot_node[static_cast<size_t>(slot)]);
      }
    }
    if (!changed && canonical) return false;
    if (canonical) {
      *next = cur;
      auto& obj = next->as_object();
      for (auto& [slot, v] : updates) obj[static_cast<size_t>(slot)].second = std::move(v);
    } else {
      json::Object obj;
      obj.reserve(info.keys.size());
      for (size_t i = 0; i < info.keys.size(); ++i) {
        json::Value v = cur.Get(info.keys[i]);
        obj.emplace_back(info.keys[i], std::move(v));
      }
      for (auto& [slot, v] : updates) obj[static_cast<size_t>(slot)].second = std::move(v);
      *next = json::Value(std::move(obj));
    }
    return true;
  }

  // Stores a built derived object, recording what changed (incremental passes).
  void CommitDerived(Pass& p, const Entity& e, json::Value next,
                     const std::vector<int>& changed_nodes) {
    if (!p.full && !changed_nodes.empty()) {
      auto [dc, inserted] = p.dchanged.try_emplace(&e);
      if (inserted) {
        dc->second.old_derived = e.derived;
        p.dchanged_by_bp[e.blueprint].push_back(&e);
      }
      for (int n : changed_nodes) dc->second.nodes.push_back(n);
    }
    store->SetDerived(e, std::move(next));
  }

  void WriteValues(Pass& p, const Entity& e, std::vector<std::pair<int, json::Value>>& updates) {
    json::Value next;
    std::vector<int> changed;
    if (BuildDerived(e, updates, &next, &changed)) CommitDerived(p, e, std::move(next), changed);
  }

  // The entity as it was before the pass: (entity, derived values) or (nullptr, nullptr).
  std::pair<const Entity*, const json::Value*> OldOf(Pass& p, const std::string& bp,
                                                     const std::string& id,
                                                     const Entity* live) const {
    if (const std::optional<Entity>* b = p.overlay.Before(bp, id)) {
      if (!b->has_value()) return {nullptr, nullptr};
      return {&**b, &(*b)->derived};
    }
    if (!live) return {nullptr, nullptr};
    auto it = p.dchanged.find(live);
    if (it != p.dchanged.end()) return {live, &it->second.old_derived};
    return {live, &live->derived};
  }

  // Live entity of a pointer from either view.
  const Entity* LiveOf(Pass& p, const Entity* e) const {
    if (!e) return nullptr;
    if (p.overlay.Before(e->blueprint, e->identifier)) {
      return store->Find(e->blueprint, e->identifier);
    }
    return e;
  }

  // ---- Bind ----------------------------------------------------------------------------------

  Status Bind() {
    bound = false;
    state_valid = false;
    nodes.clear();
    groups.clear();
    queries.clear();
    levels.clear();
    node_index.clear();
    bp_info.clear();
    relations.clear();
    const model::Catalog& catalog = store->catalog();
    for (const auto& [id, bp] : catalog.blueprints()) {
      auto& rels = relations[id];
      for (const model::RelationDef& r : bp.relations) {
        rels.push_back({r.key, r.target, r.many, r.required});
      }
    }
    // Nodes in canonical order: per blueprint mirrors, aggregations, calculations.
    for (const auto& [id, bp] : catalog.blueprints()) {
      BlueprintInfo& info = bp_info[id];
      auto add = [&](Kind kind, const std::string& key) -> Node& {
        Node n;
        n.kind = kind;
        n.blueprint = id;
        n.key = key;
        n.slot = static_cast<int>(info.keys.size());
        info.keys.push_back(key);
        info.slot_node.push_back(static_cast<int>(nodes.size()));
        node_index[NodeKey(id, key)] = static_cast<int>(nodes.size());
        nodes.push_back(std::move(n));
        return nodes.back();
      };
      for (const model::MirrorDef& m : bp.mirrors) add(Kind::kMirror, m.key);
      for (const model::AggregationDef& a : bp.aggregations) add(Kind::kAggregation, a.key);
      for (const model::CalculationDef& c : bp.calculations) {
        add(Kind::kCalculation, c.key);
        info.calc_nodes.push_back(static_cast<int>(nodes.size()) - 1);
        info.calc_keys.insert(c.key);
      }
    }
    for (const auto& [id, bp] : catalog.blueprints()) {
      for (const model::MirrorDef& m : bp.mirrors) {
        PORTOLAN_RETURN_IF_ERROR(BindMirror(catalog, bp, m));
      }
      for (const model::AggregationDef& a : bp.aggregations) {
        PORTOLAN_RETURN_IF_ERROR(BindAggregation(catalog, bp, a));
      }
      for (const model::CalculationDef& c : bp.calculations) {
        PORTOLAN_RETURN_IF_ERROR(BindCalculation(bp, c));
      }
    }
    PORTOLAN_RETURN_IF_ERROR(Order());
    std::string all;
    for (const auto& [id, bp] : catalog.blueprints()) all += id + "\n" + json::Write(bp.raw) + "\n";
    catalog_fingerprint =
        std::to_string(std::hash<std::string>()(all)) + "-" + std::to_string(all.size());
    bound = true;
    return Status::Ok();
  }

  Status ResolveHops(const model::Catalog& catalog, const std::string& start,
                     const std::vector<std::string>& path, const std::string& what,
                     std::vector<Hop>* hops) {
    std::string cur = start;
    for (const std::string& rel : path) {
      Hop h;
      h.relation = rel;
      h.from = cur;
      if (rel == "$team") {
        h.to = "_team";
        h.many = true;
      } else {
        const model::Blueprint* bp = catalog.Find(cur);
        const model::RelationDef* r = bp ? bp->FindRelation(rel) : nullptr;
        if (!r) {
          return FailedPrecondition(what + ": '" + rel + "' is not a relation of blueprint '" +
                                    cur + "'");
        }
        h.to = r->target;
        h.many = r->many;
      }
      cur = h.to;
      hops->push_back(std::move(h));
    }
    return Status::Ok();
  }

  Status BindMirror(const model::Catalog& catalog, const model::Blueprint& bp,
                    const model::MirrorDef& m) {
    Node& n = nodes[static_cast<size_t>(FindNode(bp.identifier, m.key))];
    std::string what = "mirror " + n.Name() + " (path '" + m.path + "')";
    if (m.hops.empty()) return FailedPrecondition(what + ": the path has no relation hop");
    PORTOLAN_RETURN_IF_ERROR(ResolveHops(catalog, bp.identifier, m.hops, what, &n.mirror.hops));
    n.mirror.leaf = m.leaf;
    for (const Hop& h : n.mirror.hops) n.mirror.many = n.mirror.many || h.many;
    int dep = FindNode(n.mirror.hops.back().to, m.leaf);
    if (dep >= 0) n.hard_deps.push_back(dep);
    return Status::Ok();
  }

  Status BindAggregation(const model::Catalog& catalog, const model::Blueprint& bp,
                         const model::AggregationDef& a) {
    int id = FindNode(bp.identifier, a.key);
    Node& n = nodes[static_cast<size_t>(id)];
    std::string what = "aggregation " + n.Name();
    AggNode& agg = n.agg;
    agg.target = a.target;
    if (!catalog.Find(a.target)) {
      return FailedPrecondition(what + ": target blueprint '" + a.target + "' does not exist");
    }
    auto spec = ResolveSpec(a.spec);
    if (!spec.ok()) return spec.status().WithContext(what + ": ");
    agg.spec = *spec;
    if (!a.query.is_null()) {
      PORTOLAN_RETURN_IF_ERROR(query::Validate(a.query, "/aggregationProperties/" +
                                                            json::PointerEscape(a.key) + "/query")
                                   .WithContext(what + ": "));
      agg.query = a.query;
      for (size_t q = 0; q < queries.size() && agg.query_id < 0; ++q) {
        if (json::Write(queries[q]) == json::Write(a.query)) agg.query_id = static_cast<int>(q);
      }
      if (agg.query_id < 0) {
        agg.query_id = static_cast<int>(queries.size());
        queries.push_back(a.query);
      }
      agg.query_now = query::DependsOnNow(a.query);
      if (agg.query_now) agg.time_rules = query::TimeRules(a.query);
      agg.query_related = query::UsesRelatedTo(a.query);
      agg.reads = query::PropertiesRead(a.query);
    }
    if (agg.spec.needs_value()) agg.reads.push_back(agg.spec.property);
    if (agg.spec.needs_time()) agg.reads.push_back(agg.spec.measure_time_by);
    for (const std::string& k : agg.reads) {
      int dep = FindNode(a.target, k);
      if (dep >= 0) n.hard_deps.push_back(dep);
    }
    // The group: how targets map to sources.
    Group g;
    g.source_bp = bp.identifier;
    g.target_bp = a.target;
    if (a.path_filter && !a.path_filter->path.empty()) {
      g.path = a.path_filter->path;
      g.from_blueprint = a.path_filter->from_blueprint;
      if (g.from_blueprint.empty() ||
          (g.from_blueprint == bp.identifier && g.from_blueprint != a.target)) {
        g.kind = MapKind::kFromSource;
        PORTOLAN_RETURN_IF_ERROR(ResolveHops(catalog, bp.identifier, g.path, what, &g.hops));
        if (g.hops.back().to != a.target) {
          return FailedPrecondition(what + ": pathFilter ends at blueprint '" + g.hops.back().to +
                                    "', not at the target '" + a.target + "'");
        }
      } else if (g.from_blueprint == a.target) {
        g.kind = MapKind::kFromTarget;
        PORTOLAN_RETURN_IF_ERROR(ResolveHops(catalog, a.target, g.path, what, &g.hops));
        if (g.hops.back().to != bp.identifier) {
          return FailedPrecondition(what + ": pathFilter from '" + a.target +
                                    "' ends at blueprint '" + g.hops.back().to + "', not at '" +
                                    bp.identifier + "'");
        }
      } else {
        return FailedPrecondition(what + ": pathFilter fromBlueprint '" + g.from_blueprint +
                                  "' must be the target blueprint '" + a.target + "'");
      }
    } else {
      g.kind = MapKind::kClosure;
    }
    // Share the group with an earlier aggregation of the same mapping.
    int gi = -1;
    for (size_t i = 0; i < groups.size(); ++i) {
      const Group& o = groups[i];
      if (o.kind == g.kind && o.source_bp == g.source_bp && o.target_bp == g.target_bp &&
          o.path == g.path && o.from_blueprint == g.from_blueprint) {
        gi = static_cast<int>(i);
        break;
      }
    }
    if (gi < 0) {
      if (g.kind == MapKind::kClosure) {
        g.reach_sources = internal::ComputeReach(relations, g.source_bp);
        g.reach_targets = internal::ComputeReach(relations, g.target_bp);
        // An edge bp -rel-> t can lie on a path between a source and a target iff it is on an
        // upstream path (B ⇝ bp, t ⇝ T) or a downstream one (T ⇝ bp, t ⇝ B).
        for (const auto& [rbp, rels] : relations) {
          for (const RelInfo& r : rels) {
            bool up = g.reach_sources.down_ok.count(rbp) && g.reach_targets.up_ok.count(r.target);
            bool down = g.reach_targets.down_ok.count(rbp) && g.reach_sources.up_ok.count(r.target);
            if (up || down) g.relevant.insert({rbp, r.key});
          }
        }
      }
      gi = static_cast<int>(groups.size());
      groups.push_back(std::move(g));
    }
    agg.group = gi;
    for (const auto& r : agg.time_rules) {
      auto& rules = groups[static_cast<size_t>(gi)].time_rules;
      if (std::find(rules.begin(), rules.end(), r) == rules.end()) rules.push_back(r);
    }
    agg.index_in_group = static_cast<int>(groups[static_cast<size_t>(gi)].aggs.size());
    groups[static_cast<size_t>(gi)].aggs.push_back(id);
    groups[static_cast<size_t>(gi)].complete.push_back(0);
    return Status::Ok();
  }

  Status BindCalculation(const model::Blueprint& bp, const model::CalculationDef& c) {
    Node& n = nodes[static_cast<size_t>(FindNode(bp.identifier, c.key))];
    n.calc.text = c.calculation;
    if (options.native_calculations) n.calc.native = internal::CalcExpr::Parse(c.calculation);
    if (n.calc.native) {
      n.calc.uses_now = n.calc.native->uses_now();
      n.calc.reads_all = n.calc.native->reads_all();
      n.calc.reads = n.calc.native->property_reads();
    } else {
      n.calc.uses_now = UsesNow(c.calculation);
    }
    // jq's `now` reads the wall clock; the engine's now (DESIGN §4: reproducible with --now)
    // comes in with the input document and shadows the builtin.
    n.calc.jq_source = n.calc.uses_now ? std::string(kNowPrelude) + c.calculation : c.calculation;
    if (!n.calc.native) {
      auto program = jq::Program::Compile(n.calc.jq_source);
      if (!program.ok()) {
        return InvalidArgument("calculation " + n.Name() + ": " + program.status().message());
      }
      n.calc.program = std::move(*program);
    }
    const BlueprintInfo& info = bp_info[bp.identifier];
    for (size_t s = 0; s < info.keys.size(); ++s) {
      int other = info.slot_node[s];
      const Node& o = nodes[static_cast<size_t>(other)];
      if (o.kind == Kind::kCalculation) continue;
      if (model::ContainsKeyToken(c.calculation, o.key)) n.hard_deps.push_back(other);
    }
    return Status::Ok();
  }

  // Cycle check on the hard edges, then levels (with calculations after every mirror and
  // aggregation of their blueprint when that adds no cycle).
  Status Order() {
    std::vector<std::vector<int>> deps;
    deps.reserve(nodes.size());
    for (const Node& n : nodes) deps.push_back(n.hard_deps);
    std::vector<int> cycle = internal::FindCycle(deps);
    if (!cycle.empty()) {
      std::string names;
      for (int v : cycle) {
        names += (names.empty() ? "" : " -> ") + nodes[static_cast<size_t>(v)].Name();
      }
      return FailedPrecondition("cycle between derived properties: " + names);
    }
    // Soft edges: calculations read the whole entity.
    for (Node& n : nodes) {
      n.deps = n.hard_deps;
      if (n.kind != Kind::kCalculation) continue;
      const BlueprintInfo& info = bp_info[n.blueprint];
      for (int other : info.slot_node) {
        if (nodes[static_cast<size_t>(other)].kind != Kind::kCalculation) {
          n.deps.push_back(other);
        }
      }
    }
    if (!ComputeLevels(/*soft=*/true)) ComputeLevels(/*soft=*/false);
    return Status::Ok();
  }

  bool ComputeLevels(bool soft) {
    size_t count = nodes.size();
    std::vector<int> level(count, -1), state(count, 0);
    bool cyclic = false;
    std::function<int(int)> depth = [&](int v) -> int {
      size_t i = static_cast<size_t>(v);
      if (state[i] == 2) return level[i];
      if (state[i] == 1) {
        cyclic = true;
        return 0;
      }
      state[i] = 1;
      int l = 0;
      for (int d : soft ? nodes[i].deps : nodes[i].hard_deps) l = std::max(l, depth(d) + 1);
      state[i] = 2;
      level[i] = l;
      return l;
    };
    for (size_t v = 0; v < count; ++v) depth(static_cast<int>(v));
    if (cyclic) return false;
    levels.clear();
    for (size_t v = 0; v < count; ++v) {
      nodes[v].level = level[v];
      if (levels.size() <= static_cast<size_t>(level[v])) {
        levels.resize(static_cast<size_t>(level[v]) + 1);
      }
      levels[static_cast<size_t>(level[v])].push_back(static_cast<int>(v));
    }
    return true;
  }

  // ---- Values --------------------------------------------------------------------------------

  json::Value MirrorValue(const View& view, const Node& n, const Entity& e,
                          json::Value* trace = nullptr) const {
    const MirrorNode& m = n.mirror;
    if (!m.many && !trace) {
      // Single-valued path: follow one pointer.
      const Entity* reached = internal::WalkOne(view, e, m.hops, 0, m.hops.size());
      if (!reached) return json::Value();
      json::Value scratch;
      return query::PropertyValue(*reached, m.leaf, nullptr, &scratch);
    }
    std::vector<const Entity*> frontier{&e};
    std::vector<const Entity*> next;
    for (const Hop& hop : m.hops) {
      next.clear();
      for (const Entity* x : frontier) view.Forward(*x, hop, &next);
      frontier.swap(next);
      if (trace) {
        json::Value step = json::Value::MakeObject();
        step.Set("relation", hop.relation);
        step.Set("blueprint", hop.to);
        json::Value ids = json::Value::MakeArray();
        for (const Entity* x : frontier) ids.Push(x->identifier);
        step.Set("reached", std::move(ids));
        trace->Push(std::move(step));
      }
      if (frontier.empty()) return json::Value();
    }
    json::Value scratch;
    if (!m.many) {
      return query::PropertyValue(*frontier.front(), m.leaf, nullptr, &scratch);
    }
    json::Value out = json::Value::MakeArray();
    for (const Entity* x : frontier) {
      const json::Value& v = query::PropertyValue(*x, m.leaf, nullptr, &scratch);
      if (!v.is_null()) out.Push(v);
    }
    return out;
  }

  // The jq input of a calculation: Port's entity shape; properties hold raw, mirror and
  // aggregation values, never calculation values.
  json::Value CalcDocument(const Entity& e) const {
    json::Value doc = json::Value::MakeObject();
    doc.Set("identifier", e.identifier);
    doc.Set("title", e.title);
    doc.Set("icon", e.icon);
    doc.Set("blueprint", e.blueprint);
    doc.Set("team", e.team.is_array() ? e.team : json::Value::MakeArray());
    json::Value props = e.properties.is_object() ? e.properties : json::Value::MakeObject();
    auto it = bp_info.find(e.blueprint);
    if (it != bp_info.end() && e.derived.is_object()) {
      for (const auto& [k, v] : e.derived.as_object()) {
        if (!it->second.calc_keys.count(k)) props.Set(k, v);
      }
    }
    doc.Set("properties", std::move(props));
    doc.Set("relations", e.relations.is_object() ? e.relations : json::Value::MakeObject());
    doc.Set("createdAt", FormatIsoTime(e.created_at));
    doc.Set("updatedAt", FormatIsoTime(e.updated_at));
    return doc;
  }

  static json::Value WithNow(const json::Value& doc, double now) {
    json::Value d = doc;
    d.Set(kNowField, now);
    return d;
  }

  Result<bool> Match(const AggNode& a, const Entity& e, const json::Value* derived,
                     double now) const {
    if (a.query.is_null()) return true;
    query::Context ctx{now, store, derived};
    return query::Matches(a.query, e, ctx);
  }

  Result<Contribution> Contribute(const AggNode& a, const Entity& e, const json::Value* derived,
                                  double now) const {
    auto m = Match(a, e, derived, now);
    if (!m.ok()) return m.status();
    return ContributionOf(a, e, derived, *m);
  }

  // Times of one entity already parsed (measureTimeBy key -> time), shared by aggregations.
  using TimeCache = std::vector<std::pair<const std::string*, std::optional<double>>>;

  Contribution ContributionOf(const AggNode& a, const Entity& e, const json::Value* derived,
                              bool matched, TimeCache* times = nullptr) const {
    if (!matched) return Contribution{};
    json::Value scratch;
    const json::Value& value = a.spec.needs_value()
                                   ? query::PropertyValue(e, a.spec.property, derived, &scratch)
                                   : scratch;
    std::optional<double> time;
    if (a.spec.needs_time()) {
      const std::string& key = a.spec.measure_time_by;
      bool cached = false;
      if (times) {
        for (const auto& [k, t] : *times) {
          if (*k == key) {
            time = t;
            cached = true;
            break;
          }
        }
      }
      if (!cached) {
        time = query::PropertyTime(e, key, derived);
        if (times) times->emplace_back(&key, time);
      }
    }
    return derive::Contribute(a.spec, true, value, time);
  }

  void Sources(const Group& g, const View& view, const Entity& t,
               std::vector<const Entity*>* out) const {
    switch (g.kind) {
      case MapKind::kFromTarget:
        internal::WalkForward(view, t, g.hops, 0, g.hops.size(), true, out);
        break;
      case MapKind::kFromSource:
        internal::WalkBackward(view, t, g.hops, 0, g.hops.size(), out);
        break;
      case MapKind::kClosure:
        internal::Closure(view, t, g.reach_sources, out);
        break;
    }
  }

  void Targets(const Group& g, const View& view, const Entity& s,
               std::vector<const Entity*>* out) const {
    switch (g.kind) {
      case MapKind::kFromTarget:
        internal::WalkBackward(view, s, g.hops, 0, g.hops.size(), out);
        break;
      case MapKind::kFromSource:
        internal::WalkForward(view, s, g.hops, 0, g.hops.size(), true, out);
        break;
      case MapKind::kClosure:
        internal::Closure(view, s, g.reach_targets, out);
        break;
    }
  }

  // ---- Passes --------------------------------------------------------------------------------

  void CollectRaw(Pass& p) {
    for (const store::Change& c : p.overlay.changes()) {
      RawChange r;
      r.before = c.before ? &*c.before : nullptr;
      r.live = store->Find(c.key.blueprint, c.key.identifier);
      if (!r.before && !r.live) continue;
      p.raw_by_bp[c.key.blueprint].push_back(r);
      const Entity* any = r.live ? r.live : r.before;
      auto it = relations.find(any->blueprint);
      if (it != relations.end()) {
        for (const RelInfo& rel : it->second) {
          if (RelationChanged(r.before, r.live, rel.key)) {
            p.any_relation_change = true;
            break;
          }
        }
      }
      if (RelationChanged(r.before, r.live, "$team")) p.any_relation_change = true;
    }
  }

  Status RunLevels(Pass& p) {
    if (p.full) return RunLevelsFull(p);
    for (const std::vector<int>& level : levels) {
      // Mirrors one by one; aggregations per group; calculations per blueprint.
      std::map<int, std::vector<int>> by_group;
      std::map<std::string, std::vector<int>> calcs_by_bp;
      for (int id : level) {
        const Node& n = nodes[static_cast<size_t>(id)];
        switch (n.kind) {
          case Kind::kMirror: {
            auto t0 = SteadyClock::now();
            RunMirror(p, n);
            Step("mirror " + n.Name(), t0);
            break;
          }
          case Kind::kAggregation:
            by_group[n.agg.group].push_back(id);
            break;
          case Kind::kCalculation:
            calcs_by_bp[n.blueprint].push_back(id);
            break;
        }
      }
      for (auto& [g, ids] : by_group) {
        auto t0 = SteadyClock::now();
        PORTOLAN_RETURN_IF_ERROR(RunGroup(p, groups[static_cast<size_t>(g)], ids));
        Step(GroupName(groups[static_cast<size_t>(g)]), t0);
      }
      for (auto& [bp, ids] : calcs_by_bp) {
        auto t0 = SteadyClock::now();
        RunCalculations(p, bp, ids);
        Step("calculations " + bp, t0);
      }
      auto t0 = SteadyClock::now();
      Flush(p);
      Step("write", t0);
    }
    return Status::Ok();
  }

  // Full recompute: per level, one pass over each blueprint that has mirrors or is the target
  // of aggregations at this level, then the calculations.
  Status RunLevelsFull(Pass& p) {
    for (const std::vector<int>& level : levels) {
      std::map<std::string, std::vector<const Node*>> mirrors_by_bp;
      std::map<int, std::vector<int>> by_group;
      std::map<std::string, std::vector<int>> calcs_by_bp;
      for (int id : level) {
        const Node& n = nodes[static_cast<size_t>(id)];
        switch (n.kind) {
          case Kind::kMirror:
            mirrors_by_bp[n.blueprint].push_back(&n);
            break;
          case Kind::kAggregation:
            by_group[n.agg.group].push_back(id);
            break;
          case Kind::kCalculation:
            calcs_by_bp[n.blueprint].push_back(id);
            break;
        }
      }
      std::map<std::string, std::vector<GroupWork>> works_by_bp;
      for (auto& [g, ids] : by_group) {
        Group& group = groups[static_cast<size_t>(g)];
        GroupWork w;
        w.g = &group;
        w.ids = ids;
        works_by_bp[group.target_bp].push_back(std::move(w));
      }
      std::set<std::string> passes;
      for (const auto& [bp, m] : mirrors_by_bp) passes.insert(bp);
      for (const auto& [bp, w] : works_by_bp) passes.insert(bp);
      for (const std::string& bp : passes) {
        auto t0 = SteadyClock::now();
        std::vector<GroupWork> none;
        auto wit = works_by_bp.find(bp);
        auto mit = mirrors_by_bp.find(bp);
        PORTOLAN_RETURN_IF_ERROR(
            FullPass(p, bp, mit == mirrors_by_bp.end() ? std::vector<const Node*>{} : mit->second,
                     wit == works_by_bp.end() ? none : wit->second));
        Step("pass over " + bp, t0);
      }
      for (auto& [bp, ids] : calcs_by_bp) {
        auto t0 = SteadyClock::now();
        RunCalculations(p, bp, ids);
        Step("calculations " + bp, t0);
      }
    }
    return Status::Ok();
  }

  // -- Mirrors --

  void RunMirror(Pass& p, const Node& n) {
    const MirrorNode& m = n.mirror;
    if (p.full) {
      store->ForEach(n.blueprint,
                     [&](const Entity& e) { Queue(p, e, n.slot, MirrorValue(p.now_view, n, e)); });
      return;
    }
    PtrSet affected;
    if (auto it = p.raw_by_bp.find(n.blueprint); it != p.raw_by_bp.end()) {
      for (const RawChange& r : it->second) {
        if (r.live) affected.Insert(r.live);
      }
    }
    size_t k = m.hops.size();
    int leaf_node = FindNode(m.hops.back().to, m.leaf);
    auto walk_back = [&](const Entity* before, const Entity* live, size_t i) {
      std::vector<const Entity*> found;
      if (live) internal::WalkBackward(p.now_view, *live, m.hops, 0, i, &found);
      if (before) internal::WalkBackward(p.old_view, *before, m.hops, 0, i, &found);
      for (const Entity* s : found) {
        if (const Entity* l = LiveOf(p, s)) affected.Insert(l);
      }
    };
    for (size_t i = 1; i <= k; ++i) {
      const std::string& bp = m.hops[i - 1].to;
      if (auto it = p.raw_by_bp.find(bp); it != p.raw_by_bp.end()) {
        for (const RawChange& r : it->second) {
          bool relevant;
          if (!r.before || !r.live) {
            relevant = true;
          } else if (i < k) {
            relevant = RelationChanged(r.before, r.live, m.hops[i].relation);
          } else {
            json::Value s1, s2;
            relevant = !(query::PropertyValue(*r.before, m.leaf, nullptr, &s1) ==
                         query::PropertyValue(*r.live, m.leaf, nullptr, &s2));
          }
          if (relevant) walk_back(r.before, r.live, i);
        }
      }
      if (i == k && leaf_node >= 0) {
        if (auto it = p.dchanged_by_bp.find(bp); it != p.dchanged_by_bp.end()) {
          for (const Entity* e : it->second) {
            const auto& ns = p.dchanged[e].nodes;
            if (std::find(ns.begin(), ns.end(), leaf_node) != ns.end()) {
              walk_back(nullptr, e, i);
            }
          }
        }
      }
    }
    for (const Entity* e : affected.items()) {
      Queue(p, *e, n.slot, MirrorValue(p.now_view, n, *e));
    }
  }

  // -- Calculations --

  // Evaluates one calculation: natively when possible, else with libjq on the document
  // (`doc` is built on first need and shared by the calculations of the entity).
  json::Value EvalCalc(Node& n, const Entity& e, double now, std::optional<json::Value>* doc) {
    ++stats.calculations;
    auto document = [&]() -> const json::Value& {
      if (!*doc) doc->emplace(CalcDocument(e));
      return **doc;
    };
    CalcNode& c = n.calc;
    if (c.native) {
      auto info = bp_info.find(e.blueprint);
      internal::CalcExpr::Doc d{&e, info == bp_info.end() ? nullptr : &info->second.calc_keys, now,
                                [&] { return document(); }};
      json::Value out;
      switch (c.native->Evaluate(d, &out)) {
        case internal::CalcExpr::Outcome::kValue:
          return out;
        case internal::CalcExpr::Outcome::kEmpty:
        case internal::CalcExpr::Outcome::kError:
          return json::Value();
        case internal::CalcExpr::Outcome::kUnsupported:
          break;
      }
      if (!c.program) {
        auto program = jq::Program::Compile(c.jq_source);
        if (!program.ok()) return json::Value();  // valid by construction; null as jq errors
        c.program = std::move(*program);
      }
    }
    const json::Value& input = document();
    return c.program->Evaluate(jq::Input(c.uses_now ? WithNow(input, now) : input)).ValueOrNull();
  }

  void RunCalculations(Pass& p, const std::string& bp, const std::vector<int>& ids) {
    bool any_now = false;
    for (int id : ids) any_now = any_now || nodes[static_cast<size_t>(id)].calc.uses_now;
    // `all_calcs`: every calculation of the entity; else only those whose inputs changed.
    auto eval = [&](const Entity& e, bool all_calcs) {
      std::optional<json::Value> doc;
      std::vector<std::pair<int, json::Value>> updates;
      const DerivedChange* dc = nullptr;
      if (!all_calcs) {
        auto it = p.dchanged.find(&e);
        if (it != p.dchanged.end()) dc = &it->second;
      }
      for (int id : ids) {
        Node& n = nodes[static_cast<size_t>(id)];
        bool needed = all_calcs || n.calc.reads_all || (p.time_moved && n.calc.uses_now);
        if (!needed && dc) {
          for (int changed : dc->nodes) {
            const std::string& key = nodes[static_cast<size_t>(changed)].key;
            if (std::find(n.calc.reads.begin(), n.calc.reads.end(), key) != n.calc.reads.end()) {
              needed = true;
              break;
            }
          }
        }
        if (needed) updates.emplace_back(n.slot, EvalCalc(n, e, p.now, &doc));
      }
      if (!updates.empty()) Emit(p, e, updates);
    };
    if (p.full) {
      store->ForEach(bp, [&](const Entity& e) { eval(e, true); });
      return;
    }
    PtrSet raw;
    if (auto it = p.raw_by_bp.find(bp); it != p.raw_by_bp.end()) {
      for (const RawChange& r : it->second) {
        if (r.live) raw.Insert(r.live);
      }
    }
    if (p.time_moved && any_now) {
      store->ForEach(bp, [&](const Entity& e) { eval(e, raw.Contains(&e)); });
      return;
    }
    for (const Entity* e : raw.items()) eval(*e, true);
    if (auto it = p.dchanged_by_bp.find(bp); it != p.dchanged_by_bp.end()) {
      for (const Entity* e : it->second) {
        if (!raw.Contains(e)) eval(*e, false);
      }
    }
  }

  // -- Aggregations --

  SourceStates& StatesOf(Group& g, const std::string& source_id) {
    SourceStates& s = g.states[source_id];
    if (s.size() != g.aggs.size()) s.resize(g.aggs.size());
    return s;
  }

  void FinalizeInto(Pass& p, Group& g, const Entity& source, const std::vector<int>& ids) {
    SourceStates& st = StatesOf(g, source.identifier);
    std::vector<std::pair<int, json::Value>> updates;
    for (int id : ids) {
      const Node& n = nodes[static_cast<size_t>(id)];
      const AggState& s = st[static_cast<size_t>(n.agg.index_in_group)];
      updates.emplace_back(n.slot, s.Finalize(n.agg.spec, p.now, options.span_end_now));
    }
    Emit(p, source, updates);
  }

  // The aggregations `ids` of group `g`, for a full pass over the target blueprint.
  struct GroupWork {
    Group* g;
    std::vector<int> ids;
    std::vector<const Entity*> sources;               // every source entity
    std::unordered_map<const Entity*, size_t> index;  // source -> position in `sources`
    std::vector<SourceStates*> states;                // the group's states, by position
  };

  // Resets the states of `w`'s aggregations for every source entity.
  void ResetStates(GroupWork& w) {
    Group& g = *w.g;
    store->ForEach(g.source_bp, [&](const Entity& s) {
      SourceStates& st = StatesOf(g, s.identifier);
      for (int id : w.ids) st[static_cast<size_t>(Agg(id).index_in_group)] = {};
      w.index[&s] = w.sources.size();
      w.sources.push_back(&s);
    });
    // Drop states of sources that no longer exist (the map may rehash: take pointers after).
    for (auto it = g.states.begin(); it != g.states.end();) {
      if (!store->Find(g.source_bp, it->first)) {
        it = g.states.erase(it);
      } else {
        ++it;
      }
    }
    for (const Entity* s : w.sources) w.states.push_back(&StatesOf(g, s->identifier));
  }

  static void PrefetchJson(const Entity& e) {
    for (const json::Value* v : {&e.properties, &e.relations, &e.derived}) {
      if (v->is_object() && !v->as_object().empty()) {
        const auto* data = v->as_object().data();
        __builtin_prefetch(data);
        __builtin_prefetch(reinterpret_cast<const char*>(data) + 64);
        __builtin_prefetch(reinterpret_cast<const char*>(data) + 128);
      }
    }
  }

  int ThreadCount(size_t items) const {
    if (items < std::max<size_t>(options.parallel_threshold, 1)) return 1;
    int n = options.threads > 0 ? options.threads
                                : static_cast<int>(std::thread::hardware_concurrency());
    return std::clamp(n, 1, 16);
  }

  // One pass over the entities of `bp`: the mirrors declared on it, and the contributions of
  // each entity to the aggregations of `works` (all targeting `bp`), pushed to its sources.
  // Identical queries are evaluated once per entity. The read-only part runs on worker
  // threads, each with its own states (merged after); store writes happen on this thread.
  Status FullPass(Pass& p, const std::string& bp, const std::vector<const Node*>& mirrors,
                  std::vector<GroupWork>& works) {
    auto t_reset = SteadyClock::now();
    for (GroupWork& w : works) {
      ResetStates(w);
      stats.full_aggregations += static_cast<int64_t>(w.ids.size());
    }
    Step("  reset " + bp, t_reset);
    std::vector<int> used_queries;
    for (GroupWork& w : works) {
      for (int id : w.ids) {
        int q = Agg(id).query_id;
        if (q >= 0 &&
            std::find(used_queries.begin(), used_queries.end(), q) == used_queries.end()) {
          used_queries.push_back(q);
        }
      }
    }
    auto t_collect = SteadyClock::now();
    std::vector<const Entity*> ents;
    ents.reserve(store->Count(bp));
    store->ForEach(bp, [&](const Entity& e) { ents.push_back(&e); });
    // Address order follows allocation order: entities and their JSON, allocated together, are
    // then read nearly sequentially (hash-table order would miss the cache on every entity).
    std::sort(ents.begin(), ents.end(), std::less<const Entity*>());
    const size_t n = ents.size();
    Step("  collect " + bp, t_collect);

    struct Built {
      json::Value next;
      std::vector<int> changed;
      bool write = false;
    };
    std::vector<Built> built(mirrors.empty() ? 0 : n);
    struct Local {
      std::vector<std::vector<SourceStates>> states;  // per work, per source position
      Status err;
      int64_t visited = 0;
    };
    const int threads = ThreadCount(n);
    std::vector<Local> locals(static_cast<size_t>(threads));

    for (Local& local : locals) {
      local.states.resize(works.size());
      for (size_t wi = 0; wi < works.size(); ++wi) {
        local.states[wi].assign(works[wi].sources.size(), SourceStates(works[wi].g->aggs.size()));
      }
    }
    auto work = [&](Local& local, size_t begin, size_t end) {
      if (!local.err.ok()) return;
      std::vector<int8_t> qcache(queries.size(), -1);
      TimeCache times;
      std::vector<Contribution> cs;
      std::vector<const Entity*> sources;
      std::vector<std::pair<int, json::Value>> updates;
      for (size_t i = begin; i < end; ++i) {
        // Memory latency dominates (every entity and its JSON is a cache miss): fetch the
        // entities ahead, then the arrays of their properties, relations and derived values.
        if (i + 16 < end) {
          const Entity* f = ents[i + 16];
          __builtin_prefetch(&f->properties);
          __builtin_prefetch(&f->relations);
          __builtin_prefetch(&f->derived);
        }
        if (i + 8 < end) PrefetchJson(*ents[i + 8]);
        const Entity& e = *ents[i];
        if (!mirrors.empty()) {
          updates.clear();
          for (const Node* m : mirrors)
            updates.emplace_back(m->slot, MirrorValue(p.now_view, *m, e));
          Built& b = built[i];
          b.write = BuildDerived(e, updates, &b.next, p.full ? nullptr : &b.changed);
        }
        if (works.empty()) continue;
        ++local.visited;
        for (int q : used_queries) qcache[static_cast<size_t>(q)] = -1;
        times.clear();
        for (size_t wi = 0; wi < works.size(); ++wi) {
          GroupWork& w = works[wi];
          cs.resize(w.ids.size());
          bool any = false;
          for (size_t k = 0; k < w.ids.size(); ++k) {
            const AggNode& a = Agg(w.ids[k]);
            bool matched = true;
            if (a.query_id >= 0) {
              int8_t& cached = qcache[static_cast<size_t>(a.query_id)];
              if (cached < 0) {
                auto m = Match(a, e, nullptr, p.now);
                if (!m.ok()) {
                  local.err = m.status();
                  return;
                }
                cached = *m ? 1 : 0;
              }
              matched = cached == 1;
            }
            cs[k] = ContributionOf(a, e, nullptr, matched, &times);
            any = any || cs[k].included;
          }
          if (!any) continue;
          sources.clear();
          Sources(*w.g, p.now_view, e, &sources);
          for (const Entity* s : sources) {
            auto it = w.index.find(s);
            if (it == w.index.end()) continue;
            SourceStates& st = local.states[wi][it->second];
            for (size_t k = 0; k < w.ids.size(); ++k) {
              const AggNode& a = Agg(w.ids[k]);
              st[static_cast<size_t>(a.index_in_group)].AddUnsorted(a.spec, cs[k]);
            }
          }
        }
      }
    };
    auto t_work = SteadyClock::now();
    // Writes of entities [begin, end), in entity order.
    auto write = [&](size_t begin, size_t end) {
      end = std::min(end, built.size());
      for (size_t i = begin; i < end; ++i) {
        // The store writes through to the entity: fetch it ahead (a cache miss each).
        if (i + 8 < end && built[i + 8].write) __builtin_prefetch(&ents[i + 8]->derived, 1);
        stats.values_computed += static_cast<int64_t>(mirrors.size());
        if (built[i].write) {
          CommitDerived(p, *ents[i], std::move(built[i].next), built[i].changed);
        }
      }
    };
    // Writing chunk k while workers evaluate later chunks is safe unless a worker could read
    // the derived values being replaced: a mirror of `bp` walking back into `bp`.
    bool pipeline = threads > 1 && !built.empty();
    for (const Node* m : mirrors) {
      for (const Hop& h : m->mirror.hops) pipeline = pipeline && h.to != bp;
    }
    double write_seconds = 0;
    if (threads == 1) {
      work(locals[0], 0, n);
    } else {
      const size_t kChunk = std::clamp<size_t>(n / (static_cast<size_t>(threads) * 4), 16, 8192);
      const size_t chunks = (n + kChunk - 1) / kChunk;
      std::atomic<size_t> next_chunk{0};
      std::vector<char> done(chunks, 0);
      std::mutex mu;
      std::condition_variable cv;
      auto worker = [&](Local& local) {
        for (size_t c = next_chunk++; c < chunks; c = next_chunk++) {
          work(local, c * kChunk, std::min(n, (c + 1) * kChunk));
          {
            std::lock_guard<std::mutex> lock(mu);
            done[c] = 1;
          }
          cv.notify_all();
        }
      };
      std::vector<std::thread> pool;
      for (int t = 0; t < threads; ++t) {
        pool.emplace_back(worker, std::ref(locals[static_cast<size_t>(t)]));
      }
      if (pipeline) {
        for (size_t c = 0; c < chunks; ++c) {
          {
            std::unique_lock<std::mutex> lock(mu);
            cv.wait(lock, [&] { return done[c] != 0; });
          }
          auto tw = SteadyClock::now();
          write(c * kChunk, (c + 1) * kChunk);
          write_seconds += Since(tw);
        }
      }
      for (auto& th : pool) th.join();
    }
    Step("  evaluate " + bp + " (" + std::to_string(threads) + " threads" +
             (pipeline ? ", writing alongside" : "") + ")",
         t_work);
    for (Local& local : locals) {
      if (!local.err.ok()) return local.err;
      stats.targets_visited += local.visited;
    }
    auto t_write = SteadyClock::now();
    if (!pipeline) write(0, built.size());
    stats.steps.emplace_back("  write " + bp, pipeline ? write_seconds : Since(t_write));
    auto t_merge = SteadyClock::now();
    for (size_t wi = 0; wi < works.size(); ++wi) {
      GroupWork& w = works[wi];
      for (size_t si = 0; si < w.sources.size(); ++si) {
        SourceStates& st = *w.states[si];
        for (int id : w.ids) {
          size_t k = static_cast<size_t>(Agg(id).index_in_group);
          for (Local& local : locals) st[k].Merge(local.states[wi][si][k]);
          st[k].Seal();
        }
        FinalizeInto(p, *w.g, *w.sources[si], w.ids);
      }
    }
    Step("  merge and finalize " + bp, t_merge);
    for (GroupWork& w : works) {
      for (int id : w.ids) w.g->complete[static_cast<size_t>(Agg(id).index_in_group)] = 1;
    }
    // Time-window index of the groups with now-dependent queries (groups with the same rules
    // share the computation).
    std::vector<double> next;
    const std::vector<std::pair<std::string, std::string>>* next_rules = nullptr;
    for (GroupWork& w : works) {
      bool now_dependent = false;
      for (int id : w.ids) now_dependent = now_dependent || Agg(id).query_now;
      if (!now_dependent || w.g->time_rules.empty()) continue;
      Group& g = *w.g;
      if (!next_rules || *next_rules != g.time_rules) {
        next.resize(n);
        for (size_t i = 0; i < n; ++i) next[i] = NextCheck(g, *ents[i], p.now);
        next_rules = &g.time_rules;
      }
      g.next_check.clear();
      g.next_check.reserve(n);
      std::vector<std::pair<double, std::string>> entries;
      entries.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        if (next[i] == std::numeric_limits<double>::infinity()) continue;
        g.next_check.emplace(ents[i]->identifier, next[i]);
        entries.emplace_back(next[i], ents[i]->identifier);
      }
      g.checks = decltype(g.checks)(std::greater<>(), std::move(entries));
    }
    return Status::Ok();
  }

  // The next now at which a target's time-window matches may change (infinity: never).
  double NextCheck(const Group& g, const Entity& e, double now) const {
    double next = std::numeric_limits<double>::infinity();
    std::vector<double> nows;
    for (const auto& [property, rule] : g.time_rules) {
      auto t = query::PropertyTime(e, property, nullptr);
      if (!t) continue;  // a missing date never matches, whatever now is
      nows.clear();
      query::CriticalNows(rule, *t, &nows);
      for (double x : nows) {
        if (x > now) next = std::min(next, x);
      }
    }
    return next;
  }

  void Track(Group& g, const Entity& e, double now) {
    if (g.time_rules.empty()) return;
    double x = NextCheck(g, e, now);
    if (x == std::numeric_limits<double>::infinity()) {
      g.next_check.erase(e.identifier);
      return;
    }
    auto [it, inserted] = g.next_check.try_emplace(e.identifier, x);
    if (!inserted) {
      if (it->second == x) return;
      it->second = x;
    }
    g.checks.emplace(x, e.identifier);
  }

  // Targets due for a re-check at p.now (once per pass and group).
  const std::vector<std::string>& Due(Pass& p, Group& g) {
    auto [it, inserted] = p.due.try_emplace(&g);
    if (!inserted || g.time_rules.empty()) return it->second;
    while (!g.checks.empty() && g.checks.top().first <= p.now) {
      auto [x, id] = g.checks.top();
      g.checks.pop();
      auto nc = g.next_check.find(id);
      if (nc == g.next_check.end() || nc->second != x) continue;  // stale entry
      g.next_check.erase(nc);
      it->second.push_back(std::move(id));
    }
    return it->second;
  }

  // One group's aggregations in full (incremental passes: now moved back, relatedTo).
  Status FullGroup(Pass& p, Group& g, const std::vector<int>& ids) {
    std::vector<GroupWork> works(1);
    works[0].g = &g;
    works[0].ids = ids;
    return FullPass(p, g.target_bp, {}, works);
  }

  // Recomputes the states of one source from its targets (after a structural change).
  Status RebuildSource(Pass& p, Group& g, const Entity& s, const std::vector<int>& ids) {
    SourceStates& st = StatesOf(g, s.identifier);
    for (int id : ids)
      st[static_cast<size_t>(nodes[static_cast<size_t>(id)].agg.index_in_group)] = {};
    ++stats.sources_rebuilt;
    std::vector<const Entity*> targets;
    Targets(g, p.now_view, s, &targets);
    stats.targets_visited += static_cast<int64_t>(targets.size());
    for (const Entity* t : targets) {
      for (int id : ids) {
        const AggNode& a = nodes[static_cast<size_t>(id)].agg;
        auto c = Contribute(a, *t, nullptr, p.now);
        if (!c.ok()) return c.status();
        st[static_cast<size_t>(a.index_in_group)].AddUnsorted(a.spec, *c);
      }
    }
    for (int id : ids)
      st[static_cast<size_t>(nodes[static_cast<size_t>(id)].agg.index_in_group)].Seal();
    return Status::Ok();
  }

  // Sources whose target set a change of relations may have changed beyond the membership of
  // the changed entity itself: they are rebuilt from scratch.
  void StructuralSources(Pass& p, const Group& g, std::unordered_set<std::string>* full) {
    auto add_all = [&](const std::vector<const Entity*>& found) {
      for (const Entity* s : found) full->insert(s->identifier);
    };
    auto has_referrer = [&](const View& view, const Entity* e, const Hop* hop) {
      if (!e) return false;
      bool any = false;
      view.ForEachReferrer(*e, hop, [&](const Entity&, const std::string&) { any = true; });
      return any;
    };
    for (auto& [bp, raws] : p.raw_by_bp) {
      for (const RawChange& r : raws) {
        bool created = !r.before;
        if (bp == g.source_bp && created && r.live) full->insert(r.live->identifier);
        const size_t k = g.hops.size();
        switch (g.kind) {
          case MapKind::kFromTarget:
            for (size_t i = 1; i < k; ++i) {
              if (g.hops[i].from != bp) continue;
              if (!RelationChanged(r.before, r.live, g.hops[i].relation)) continue;
              if (!has_referrer(p.now_view, r.live, &g.hops[i - 1]) &&
                  !has_referrer(p.old_view, r.before, &g.hops[i - 1])) {
                continue;  // no target reaches this entity: nothing moves
              }
              std::vector<const Entity*> found;
              if (r.live) internal::WalkForward(p.now_view, *r.live, g.hops, i, k, true, &found);
              if (r.before) {
                internal::WalkForward(p.old_view, *r.before, g.hops, i, k, true, &found);
              }
              add_all(found);
            }
            break;
          case MapKind::kFromSource:
            if (bp == g.source_bp && r.live &&
                RelationChanged(r.before, r.live, g.hops[0].relation)) {
              full->insert(r.live->identifier);
            }
            for (size_t i = 1; i < k; ++i) {
              if (g.hops[i].from != bp) continue;
              if (!RelationChanged(r.before, r.live, g.hops[i].relation)) continue;
              std::vector<const Entity*> found;
              if (r.live) internal::WalkBackward(p.now_view, *r.live, g.hops, 0, i, &found);
              if (r.before) internal::WalkBackward(p.old_view, *r.before, g.hops, 0, i, &found);
              add_all(found);
            }
            break;
          case MapKind::kClosure: {
            bool changed = false;
            auto rit = relations.find(bp);
            if (rit != relations.end()) {
              for (const RelInfo& rel : rit->second) {
                if (g.relevant.count({bp, rel.key}) && RelationChanged(r.before, r.live, rel.key)) {
                  changed = true;
                  break;
                }
              }
            }
            if (!changed) break;
            if (bp == g.source_bp && r.live) full->insert(r.live->identifier);
            auto relevant_referrer = [&](const View& view, const Entity* e) {
              if (!e) return false;
              bool any = false;
              view.ForEachReferrer(*e, nullptr, [&](const Entity& src, const std::string& rel) {
                if (g.relevant.count({src.blueprint, rel})) any = true;
              });
              return any;
            };
            // Without referrers the entity is a leaf: only its own membership changes.
            if (!relevant_referrer(p.now_view, r.live) &&
                !relevant_referrer(p.old_view, r.before)) {
              break;
            }
            std::vector<const Entity*> found;
            if (r.live) internal::Closure(p.now_view, *r.live, g.reach_sources, &found);
            if (r.before) internal::Closure(p.old_view, *r.before, g.reach_sources, &found);
            add_all(found);
            break;
          }
        }
      }
    }
  }

  // True if the relations that decide a target's own sources changed.
  bool TargetMoved(const Group& g, const RawChange* r) const {
    if (!r) return false;
    if (!r->before || !r->live) return true;
    switch (g.kind) {
      case MapKind::kFromTarget:
        return RelationChanged(r->before, r->live, g.hops[0].relation);
      case MapKind::kFromSource:
        return false;
      case MapKind::kClosure: {
        auto it = relations.find(g.target_bp);
        if (it == relations.end()) return false;
        for (const RelInfo& rel : it->second) {
          if (g.relevant.count({g.target_bp, rel.key}) &&
              RelationChanged(r->before, r->live, rel.key)) {
            return true;
          }
        }
        return false;
      }
    }
    return false;
  }

  // A target to re-evaluate: changed in the store (raw), or its derived values read by the
  // aggregations changed, or its time-window match may have flipped.
  struct Candidate {
    const RawChange* raw = nullptr;
    const Entity* live = nullptr;
    std::string id;
  };

  // The candidates of a group's aggregations `ids`; true when they include time-window checks.
  bool CollectCandidates(Pass& p, Group& g, const std::vector<int>& ids,
                         std::vector<Candidate>* out) {
    std::vector<Candidate>& candidates = *out;
    const std::vector<int>& inc_ids = ids;
    std::unordered_set<const Entity*> seen_live;
    if (auto it = p.raw_by_bp.find(g.target_bp); it != p.raw_by_bp.end()) {
      for (const RawChange& r : it->second) {
        candidates.push_back({&r, r.live, (r.live ? r.live : r.before)->identifier});
        if (r.live) seen_live.insert(r.live);
      }
    }
    if (auto it = p.dchanged_by_bp.find(g.target_bp); it != p.dchanged_by_bp.end()) {
      for (const Entity* e : it->second) {
        if (seen_live.count(e)) continue;
        bool reads = false;
        for (int n : p.dchanged[e].nodes) {
          for (int id : inc_ids) {
            const auto& rd = nodes[static_cast<size_t>(id)].agg.reads;
            if (std::find(rd.begin(), rd.end(), nodes[static_cast<size_t>(n)].key) != rd.end()) {
              reads = true;
            }
          }
        }
        if (reads) {
          candidates.push_back({nullptr, e, e->identifier});
          seen_live.insert(e);
        }
      }
    }
    bool time_inc = false;
    for (int id : inc_ids) time_inc = time_inc || Agg(id).query_now;
    if (time_inc && p.time_moved) {
      for (const std::string& id : Due(p, g)) {
        const Entity* e = store->Find(g.target_bp, id);
        if (e && seen_live.insert(e).second) candidates.push_back({nullptr, e, id});
      }
    }
    return time_inc;
  }

  // Aggregations without complete state: the sources a change reaches (and the structural
  // ones) are rebuilt from their targets; the others keep their stored values.
  Status ColdGroup(Pass& p, Group& g, const std::vector<int>& ids) {
    std::unordered_set<std::string> rebuild;
    StructuralSources(p, g, &rebuild);
    std::vector<Candidate> candidates;
    CollectCandidates(p, g, ids, &candidates);
    std::vector<const Entity*> found;
    for (const Candidate& cand : candidates) {
      ++stats.targets_visited;
      auto [old_e, old_d] = OldOf(p, g.target_bp, cand.id, cand.live);
      bool differs = TargetMoved(g, cand.raw);
      for (size_t i = 0; i < ids.size() && !differs; ++i) {
        Contribution c_old, c_new;
        if (old_e) {
          auto c = Contribute(Agg(ids[i]), *old_e, old_d, p.old_now);
          if (!c.ok()) return c.status();
          c_old = *c;
        }
        if (cand.live) {
          auto c = Contribute(Agg(ids[i]), *cand.live, nullptr, p.now);
          if (!c.ok()) return c.status();
          c_new = *c;
        }
        differs = c_old != c_new;
      }
      if (!differs) continue;
      found.clear();
      if (cand.live) Sources(g, p.now_view, *cand.live, &found);
      if (old_e) Sources(g, p.old_view, *old_e, &found);
      for (const Entity* s : found) rebuild.insert(s->identifier);
    }
    if (auto it = p.raw_by_bp.find(g.source_bp); it != p.raw_by_bp.end()) {
      for (const RawChange& r : it->second) {
        if (!r.live && r.before) g.states.erase(r.before->identifier);
      }
    }
    for (const std::string& id : rebuild) {
      const Entity* s = store->Find(g.source_bp, id);
      if (!s) continue;
      PORTOLAN_RETURN_IF_ERROR(RebuildSource(p, g, *s, ids));
      FinalizeInto(p, g, *s, ids);
    }
    return Status::Ok();
  }

  Status RunGroup(Pass& p, Group& g, const std::vector<int>& ids) {
    if (p.full) return FullGroup(p, g, ids);
    std::vector<int> full_ids, inc_ids, cold_ids;
    bool refinalize_all = false;
    for (int id : ids) {
      const AggNode& a = nodes[static_cast<size_t>(id)].agg;
      bool back = p.time_moved && p.now < p.old_now;
      bool refinalize = p.time_moved && options.span_end_now && a.spec.time_average();
      bool cold = !g.complete[static_cast<size_t>(a.index_in_group)];
      if ((back && a.query_now) || (a.query_related && p.any_relation_change) ||
          (cold && p.time_moved && (a.query_now || refinalize))) {
        full_ids.push_back(id);
      } else if (cold) {
        cold_ids.push_back(id);
      } else {
        inc_ids.push_back(id);
        refinalize_all = refinalize_all || refinalize;
      }
    }
    if (!full_ids.empty()) PORTOLAN_RETURN_IF_ERROR(FullGroup(p, g, full_ids));
    if (!cold_ids.empty()) PORTOLAN_RETURN_IF_ERROR(ColdGroup(p, g, cold_ids));
    if (inc_ids.empty()) return Status::Ok();

    std::unordered_set<std::string> full;
    StructuralSources(p, g, &full);
    PtrSet touched;

    std::vector<Candidate> candidates;
    bool time_inc = CollectCandidates(p, g, inc_ids, &candidates);
    std::vector<const Entity*> s_new, s_old;
    std::vector<Contribution> c_old(inc_ids.size()), c_new(inc_ids.size());
    for (const Candidate& cand : candidates) {
      ++stats.targets_visited;
      auto [old_e, old_d] = OldOf(p, g.target_bp, cand.id, cand.live);
      s_new.clear();
      s_old.clear();
      if (cand.live) Sources(g, p.now_view, *cand.live, &s_new);
      bool moved = TargetMoved(g, cand.raw);
      if (old_e && moved) Sources(g, p.old_view, *old_e, &s_old);
      const std::vector<const Entity*>& olds = moved ? s_old : s_new;
      bool any_diff = moved;
      for (size_t i = 0; i < inc_ids.size(); ++i) {
        const AggNode& a = nodes[static_cast<size_t>(inc_ids[i])].agg;
        c_old[i] = Contribution{};
        c_new[i] = Contribution{};
        if (old_e) {
          auto c = Contribute(a, *old_e, old_d, p.old_now);
          if (!c.ok()) return c.status();
          c_old[i] = *c;
        }
        if (cand.live) {
          auto c = Contribute(a, *cand.live, nullptr, p.now);
          if (!c.ok()) return c.status();
          c_new[i] = *c;
        }
        any_diff = any_diff || c_old[i] != c_new[i];
      }
      if (!any_diff) continue;
      for (const Entity* s : olds) {
        if (full.count(s->identifier)) continue;
        const Entity* live = moved ? LiveOf(p, s) : s;
        if (!live) continue;
        SourceStates& st = StatesOf(g, s->identifier);
        for (size_t i = 0; i < inc_ids.size(); ++i) {
          const AggNode& a = nodes[static_cast<size_t>(inc_ids[i])].agg;
          st[static_cast<size_t>(a.index_in_group)].Remove(a.spec, c_old[i]);
        }
        touched.Insert(live);
      }
      for (const Entity* s : s_new) {
        if (full.count(s->identifier)) continue;
        SourceStates& st = StatesOf(g, s->identifier);
        for (size_t i = 0; i < inc_ids.size(); ++i) {
          const AggNode& a = nodes[static_cast<size_t>(inc_ids[i])].agg;
          st[static_cast<size_t>(a.index_in_group)].Add(a.spec, c_new[i]);
        }
        touched.Insert(s);
      }
    }
    if (time_inc) {
      for (const Candidate& cand : candidates) {
        if (cand.live) {
          Track(g, *cand.live, p.now);
        } else {
          g.next_check.erase(cand.id);
        }
      }
    }
    for (const std::string& id : full) {
      const Entity* s = store->Find(g.source_bp, id);
      if (!s) continue;
      PORTOLAN_RETURN_IF_ERROR(RebuildSource(p, g, *s, inc_ids));
      touched.Insert(s);
    }
    // Deleted sources lose their state.
    if (auto it = p.raw_by_bp.find(g.source_bp); it != p.raw_by_bp.end()) {
      for (const RawChange& r : it->second) {
        if (!r.live && r.before) g.states.erase(r.before->identifier);
      }
    }
    if (refinalize_all) {
      store->ForEach(g.source_bp, [&](const Entity& s) { touched.Insert(&s); });
    }
    for (const Entity* s : touched.items()) FinalizeInto(p, g, *s, inc_ids);
    return Status::Ok();
  }

  // ---- Entry points --------------------------------------------------------------------------

  // Rewrites derived objects whose keys are not the canonical ones (new entities, blueprints
  // that changed), so every object has every key in order before values are computed.
  void Canonicalize() {
    // Blueprints with derived keys are rewritten canonically by the recompute itself.
    for (const auto& [bp, info] : bp_info) {
      if (!info.keys.empty()) continue;
      store->ForEach(bp, [&](const Entity& e) {
        const json::Value& cur = e.derived;
        bool ok = cur.is_object() && cur.as_object().size() == info.keys.size();
        for (size_t i = 0; ok && i < info.keys.size(); ++i) {
          ok = cur.as_object()[i].first == info.keys[i];
        }
        if (ok) return;
        json::Object obj;
        for (const std::string& k : info.keys) obj.emplace_back(k, cur.Get(k));
        store->SetDerived(e, json::Value(std::move(obj)));
      });
    }
  }

  Status RecomputeAll(double now) {
    if (!bound) PORTOLAN_RETURN_IF_ERROR(Bind());
    // The recompute reads the store as it is: pending changes are covered.
    store->TakeChanges();
    stats.full = true;
    state_valid = false;
    for (Group& g : groups) {
      g.states.clear();
      std::fill(g.complete.begin(), g.complete.end(), 0);
      g.next_check.clear();
      g.checks = {};
    }
    Canonicalize();
    std::vector<store::Change> none;
    Pass p(*store, relations, none);
    p.now = now;
    p.old_now = now;
    p.full = true;
    PORTOLAN_RETURN_IF_ERROR(RunLevels(p));
    state_now = now;
    state_valid = true;
    store->SetMeta(kNowKey, FormatNow(now));
    store->SetMeta(kCatalogKey, catalog_fingerprint);
    NewEpoch();
    return Status::Ok();
  }

  // The now the stored values were computed for, if the store holds values computed by an
  // engine bound to the same definitions.
  std::optional<double> StoredNow() const {
    auto now = store->GetMeta(kNowKey);
    auto catalog = store->GetMeta(kCatalogKey);
    if (!now || !catalog || *catalog != catalog_fingerprint || !store->GetMeta(kEpochKey)) {
      return std::nullopt;
    }
    char* end = nullptr;
    double t = std::strtod(now->c_str(), &end);
    if (end == now->c_str() || *end != '\0') return std::nullopt;
    return t;
  }

  // Starts from the stored values without aggregation state (after a restart or a rollback):
  // false when there are none to trust.
  bool ColdStart() {
    std::optional<double> stored = StoredNow();
    if (!stored) return false;
    for (Group& g : groups) {
      g.states.clear();
      std::fill(g.complete.begin(), g.complete.end(), 0);
      g.next_check.clear();
      g.checks = {};
    }
    state_now = *stored;
    state_valid = true;
    return true;
  }

  Status Apply(const std::vector<store::Change>& changes, double now) {
    if (!bound) PORTOLAN_RETURN_IF_ERROR(Bind());
    if ((!state_valid || !EpochMatches()) && !ColdStart()) return RecomputeAll(now);
    Pass p(*store, relations, changes);
    p.now = now;
    p.old_now = state_now;
    p.time_moved = now != state_now;
    CollectRaw(p);
    Status s = RunLevels(p);
    if (!s.ok()) {
      state_valid = false;  // partial state: the next call starts over
      return s;
    }
    state_now = now;
    if (p.time_moved) store->SetMeta(kNowKey, FormatNow(now));
    NewEpoch();
    return Status::Ok();
  }

  Status EnsureFresh(double now) {
    if (!bound) PORTOLAN_RETURN_IF_ERROR(Bind());
    // Pending changes are applied too: values are valid for the store as it is.
    std::vector<store::Change> pending = store->TakeChanges();
    if (!state_valid || !EpochMatches()) {
      std::optional<double> stored = StoredNow();
      if (pending.empty() && stored && (*stored == now || !HasNowDependents())) {
        return Status::Ok();  // the stored values are valid for this now
      }
      return Apply(pending, now);
    }
    if (pending.empty() && now == state_now) return Status::Ok();
    return Apply(pending, now);
  }

  // ---- Explain -------------------------------------------------------------------------------

  Result<json::Value> Explain(std::string_view bp, std::string_view id, std::string_view key,
                              double now) {
    if (!bound) PORTOLAN_RETURN_IF_ERROR(Bind());
    int ni = FindNode(bp, key);
    if (ni < 0) {
      return NotFound("'" + std::string(key) +
                      "' is not a mirror, calculation or aggregation "
                      "property of blueprint '" +
                      std::string(bp) + "'");
    }
    const Entity* e = store->Find(bp, id);
    if (!e) {
      return NotFound("entity '" + std::string(bp) + "/" + std::string(id) + "' does not exist");
    }
    const Node& n = nodes[static_cast<size_t>(ni)];
    json::Value out = json::Value::MakeObject();
    out.Set("blueprint", n.blueprint);
    out.Set("entity", e->identifier);
    out.Set("property", n.key);
    out.Set("kind", KindName(n.kind));
    out.Set("now", FormatIsoTime(now));
    out.Set("stored", e->derived.Get(n.key));
    View view(*store, relations, nullptr);
    switch (n.kind) {
      case Kind::kMirror: {
        std::string path;
        for (const Hop& h : n.mirror.hops) path += h.relation + ".";
        out.Set("path", path + n.mirror.leaf);
        out.Set("leaf", n.mirror.leaf);
        out.Set("many", n.mirror.many);
        json::Value hops = json::Value::MakeArray();
        out.Set("value", MirrorValue(view, n, *e, &hops));
        out.Set("hops", std::move(hops));
        break;
      }
      case Kind::kCalculation: {
        json::Value doc = CalcDocument(*e);
        out.Set("calculation", n.calc.text);
        out.Set("usesNow", n.calc.uses_now);
        out.Set("input", doc);
        if (n.calc.native) {
          json::Value reads = json::Value::MakeArray();
          for (const auto& r : n.calc.reads) reads.Push(r);
          out.Set("reads", n.calc.reads_all ? json::Value("the whole document") : reads);
        }
        // The explanation always runs libjq, so it shows jq's own error messages.
        Node& mn = nodes[static_cast<size_t>(ni)];
        if (!mn.calc.program) {
          auto program = jq::Program::Compile(mn.calc.jq_source);
          if (!program.ok()) return program.status();
          mn.calc.program = std::move(*program);
        }
        jq::Output o =
            mn.calc.program->Evaluate(jq::Input(n.calc.uses_now ? WithNow(doc, now) : doc));
        switch (o.kind) {
          case jq::Output::Kind::kValue:
            out.Set("output", "value");
            break;
          case jq::Output::Kind::kEmpty:
            out.Set("output", "no output (null)");
            break;
          case jq::Output::Kind::kError:
            out.Set("output", "error (null)");
            out.Set("error", o.error);
            break;
        }
        out.Set("evaluator", n.calc.native ? "native (libjq subset)" : "libjq");
        out.Set("value", o.ValueOrNull());
        break;
      }
      case Kind::kAggregation:
        PORTOLAN_RETURN_IF_ERROR(ExplainAggregation(n, *e, now, view, &out));
        break;
    }
    return out;
  }

  Status ExplainAggregation(const Node& n, const Entity& e, double now, const View& view,
                            json::Value* out) {
    const AggNode& a = n.agg;
    const Group& g = groups[static_cast<size_t>(a.group)];
    out->Set("target", a.target);
    out->Set("targets", g.Describe());
    out->Set("query", a.query);
    json::Value spec = json::Value::MakeObject();
    spec.Set("func", a.spec.FuncName());
    spec.Set("calculationBy", a.spec.by_property ? "property" : "entities");
    if (a.spec.by_property) spec.Set("property", a.spec.property);
    if (a.spec.func == AggSpec::Func::kAverage) spec.Set("averageOf", a.spec.average_of);
    if (a.spec.time_average()) {
      spec.Set("measureTimeBy", a.spec.measure_time_by);
      spec.Set("unitSeconds", a.spec.unit_seconds);
      spec.Set("spanEnd", options.span_end_now ? "now" : "latest matched time");
    }
    out->Set("function", std::move(spec));
    std::vector<const Entity*> targets;
    Targets(g, view, e, &targets);
    std::sort(targets.begin(), targets.end(),
              [](const Entity* x, const Entity* y) { return x->identifier < y->identifier; });
    json::Value matched = json::Value::MakeArray();
    json::Value excluded = json::Value::MakeArray();
    json::Value skipped = json::Value::MakeArray();
    AggState st;
    for (const Entity* t : targets) {
      json::Value failure;
      bool ok = true;
      if (!a.query.is_null()) {
        query::Context ctx{now, store, nullptr};
        auto m = query::Matches(a.query, *t, ctx, &failure);
        if (!m.ok()) return m.status();
        ok = *m;
      }
      if (!ok) {
        json::Value x = json::Value::MakeObject();
        x.Set("identifier", t->identifier);
        x.Set("failedRule", std::move(failure));
        excluded.Push(std::move(x));
        continue;
      }
      auto c = Contribute(a, *t, nullptr, now);
      if (!c.ok()) return c.status();
      json::Value x = json::Value::MakeObject();
      x.Set("identifier", t->identifier);
      json::Value scratch;
      if (a.spec.needs_value()) {
        x.Set("value", query::PropertyValue(*t, a.spec.property, nullptr, &scratch));
      }
      if (a.spec.needs_time()) {
        auto tt = query::PropertyTime(*t, a.spec.measure_time_by, nullptr);
        x.Set("time", tt ? json::Value(FormatIsoTime(*tt)) : json::Value());
      }
      if (!c->included) {
        x.Set("reason",
              a.spec.needs_value() &&
                      !query::PropertyValue(*t, a.spec.property, nullptr, &scratch).is_number()
                  ? "value is not a number"
                  : "no parseable " + a.spec.measure_time_by);
        skipped.Push(std::move(x));
        continue;
      }
      st.AddUnsorted(a.spec, *c);
      matched.Push(std::move(x));
    }
    st.Seal();
    Breakdown b;
    json::Value value = st.Finalize(a.spec, now, options.span_end_now, &b);
    out->Set("candidates", static_cast<double>(targets.size()));
    out->Set("matchedCount", static_cast<double>(matched.size()));
    out->Set("matched", std::move(matched));
    out->Set("excluded", std::move(excluded));
    out->Set("skipped", std::move(skipped));
    json::Value calc = json::Value::MakeObject();
    calc.Set("included", static_cast<double>(b.included));
    calc.Set("numerator", b.numerator);
    calc.Set("denominator", b.denominator);
    if (a.spec.time_average() && b.included > 0) {
      calc.Set("periods", static_cast<double>(b.periods));
      json::Value span = json::Value::MakeObject();
      span.Set("from", FormatIsoTime(b.span_from));
      span.Set("to", FormatIsoTime(b.span_to));
      span.Set("seconds", b.span_seconds);
      span.Set("units", b.span_seconds / a.spec.unit_seconds);
      calc.Set("span", std::move(span));
    }
    out->Set("arithmetic", std::move(calc));
    out->Set("value", std::move(value));
    return Status::Ok();
  }
};

// ---------------------------------------------------------------------------------------------

Engine::Engine(store::Store* store, Options options)
    : impl_(std::make_unique<Impl>(store, options)) {}

Engine::~Engine() = default;

Status Engine::Bind() { return impl_->Bind(); }

namespace {
// Resets the stats of a public call and records its wall time.
class StatsScope {
 public:
  explicit StatsScope(Engine::Stats* s) : s_(s), t0_(std::chrono::steady_clock::now()) {
    *s_ = Engine::Stats();
  }
  ~StatsScope() {
    s_->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }

 private:
  Engine::Stats* s_;
  std::chrono::steady_clock::time_point t0_;
};
}  // namespace

Status Engine::RecomputeAll(double now) {
  StatsScope scope(&impl_->stats);
  return impl_->RecomputeAll(now);
}

Status Engine::Apply(const std::vector<store::Change>& changes, double now) {
  StatsScope scope(&impl_->stats);
  return impl_->Apply(changes, now);
}

Status Engine::EnsureFresh(double now) {
  StatsScope scope(&impl_->stats);
  return impl_->EnsureFresh(now);
}

const Engine::Stats& Engine::last_stats() const { return impl_->stats; }

bool Engine::warm() const {
  const Impl& im = *impl_;
  if (!im.bound || !im.state_valid || !im.EpochMatches()) return false;
  for (const auto& g : im.groups) {
    for (char c : g.complete) {
      if (!c) return false;
    }
  }
  return true;
}

Result<json::Value> Engine::Explain(std::string_view blueprint, std::string_view identifier,
                                    std::string_view property, double now) {
  return impl_->Explain(blueprint, identifier, property, now);
}

}  // namespace portolan::derive
