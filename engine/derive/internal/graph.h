// Relation walks for engine/derive over two views of the entity graph: the current one (the
// store) and the one before a change set (the store overlaid with the changes' before-images).
// Not part of the public interface.
//
// In either view every entity key resolves to one canonical pointer (a live entity, or the
// before-image of a changed one), so pointer identity is entity identity within a view.
#ifndef PORTOLAN_ENGINE_DERIVE_INTERNAL_GRAPH_H_
#define PORTOLAN_ENGINE_DERIVE_INTERNAL_GRAPH_H_

#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/store/entity.h"
#include "engine/store/store.h"

namespace portolan::derive::internal {

struct RelInfo {
  std::string key;
  std::string target;
  bool many = false;
  bool required = false;
};

// Blueprint -> its relations (plus the "$team" pseudo-relation to _team when it has ownership).
using RelTable = std::unordered_map<std::string, std::vector<RelInfo>>;

// One step of a relation path: `relation` declared on `from`, pointing at `to`.
struct Hop {
  std::string relation;  // a relation key, or "$team" (the entity's teams)
  std::string from;
  std::string to;
  bool many = false;
};

// A set of entity pointers; linear while small.
class PtrSet {
 public:
  bool Insert(const store::Entity* e);
  bool Contains(const store::Entity* e) const;
  const std::vector<const store::Entity*>& items() const { return items_; }
  size_t size() const { return items_.size(); }
  void Clear();

 private:
  std::vector<const store::Entity*> items_;
  std::unordered_set<const store::Entity*> index_;  // used past kLinear items
  static constexpr size_t kLinear = 24;
};

// The graph before a change set.
class Overlay {
 public:
  Overlay(const store::Store& store, const std::vector<store::Change>& changes);

  // The before-image slot of a changed key (nullopt inside: did not exist), or nullptr when the
  // key is not in the change set.
  const std::optional<store::Entity>* Before(std::string_view blueprint,
                                             std::string_view identifier) const;
  // True if this live entity is in the change set.
  bool IsChangedLive(const store::Entity* live) const { return changed_live_.count(live) > 0; }
  // Before-images that pointed at (blueprint, identifier): (source, relation key).
  const std::vector<std::pair<const store::Entity*, const std::string*>>* OldEdgesTo(
      std::string_view blueprint, std::string_view identifier) const;
  // Before-images of a blueprint (for scans).
  void ForEachBefore(std::string_view blueprint,
                     const std::function<void(const store::Entity&)>& fn) const;

  const std::vector<store::Change>& changes() const { return changes_; }

 private:
  static std::string Key(std::string_view blueprint, std::string_view identifier);
  const std::vector<store::Change>& changes_;
  std::unordered_map<std::string, const std::optional<store::Entity>*> before_;
  std::unordered_set<const store::Entity*> changed_live_;
  std::unordered_map<std::string, std::vector<std::pair<const store::Entity*, const std::string*>>>
      old_edges_;
};

class View {
 public:
  View(const store::Store& store, const RelTable& relations, const Overlay* old)
      : store_(store), relations_(relations), old_(old) {}

  bool is_old() const { return old_ != nullptr; }
  const store::Store& store() const { return store_; }
  const RelTable& relations() const { return relations_; }

  // The canonical entity of a key in this view, or nullptr.
  const store::Entity* Find(std::string_view blueprint, std::string_view identifier) const;
  // Targets of `e` through `hop`, in relation-array order, missing ones dropped.
  void Forward(const store::Entity& e, const Hop& hop,
               std::vector<const store::Entity*>* out) const;
  // Every forward edge of `e`: fn(relation, target).
  void ForEachForward(const store::Entity& e,
                      const std::function<void(const RelInfo&, const store::Entity&)>& fn) const;
  // Entities pointing at `e`: fn(source, relation key). With `hop`, only edges of that hop
  // (relation `hop.relation` declared on `hop.from`).
  void ForEachReferrer(
      const store::Entity& e, const Hop* hop,
      const std::function<void(const store::Entity&, const std::string&)>& fn) const;

 private:
  const store::Store& store_;
  const RelTable& relations_;
  const Overlay* old_;
};

// Entities reached from `start` along hops[begin..end), de-duplicated per step when `dedup`
// (aggregations), else in relation-array order with repeats (mirrors).
void WalkForward(const View& view, const store::Entity& start, const std::vector<Hop>& hops,
                 size_t begin, size_t end, bool dedup, std::vector<const store::Entity*>* out);

// The entity reached through single-valued hops[begin..end) (none may be many), or nullptr.
const store::Entity* WalkOne(const View& view, const store::Entity& start,
                             const std::vector<Hop>& hops, size_t begin, size_t end);

// Entities from which hops[begin..end) lead to `start` (walking the hops backwards from
// hops[end-1] down to hops[begin]), de-duplicated.
void WalkBackward(const View& view, const store::Entity& start, const std::vector<Hop>& hops,
                  size_t begin, size_t end, std::vector<const store::Entity*>* out);

// Blueprint-level reachability used to prune closure walks toward entities of one blueprint.
struct Reach {
  std::string want;                         // blueprint collected
  std::unordered_set<std::string> up_ok;    // blueprints from which `want` is reachable forward
  std::unordered_set<std::string> down_ok;  // blueprints reachable forward from `want`
  // Per blueprint, the relations an upstream walk follows (their target is in up_ok).
  std::unordered_map<std::string, std::vector<const RelInfo*>> up_rels;
  // Blueprints that a relation of a down_ok blueprint points at (others have no referrer a
  // downstream walk could follow).
  std::unordered_set<std::string> down_from;
};
// `relations` must outlive the result (it keeps pointers into it).
Reach ComputeReach(const RelTable& relations, const std::string& want);

// Entities of reach.want in the upstream closure of `start` (forward, transitively) or its
// downstream closure (backward, transitively) — never mixing directions — without `start`,
// de-duplicated, cycles guarded.
void Closure(const View& view, const store::Entity& start, const Reach& reach,
             std::vector<const store::Entity*>* out);

// A dependency cycle in a graph given as adjacency lists (node -> nodes it reads): the nodes
// of the first cycle found, in edge order, the first repeated at the end ({a, b, a}); empty
// when the graph is acyclic.
std::vector<int> FindCycle(const std::vector<std::vector<int>>& deps);

}  // namespace portolan::derive::internal

#endif  // PORTOLAN_ENGINE_DERIVE_INTERNAL_GRAPH_H_
