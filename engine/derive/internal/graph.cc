#include "engine/derive/internal/graph.h"

#include <algorithm>

namespace portolan::derive::internal {

namespace {

// Calls fn(identifier) for each identifier of a relation value (string or array of strings).
template <typename Fn>
void ForEachId(const json::Value* v, Fn&& fn) {
  if (!v) return;
  if (v->is_string()) {
    fn(v->as_string());
  } else if (v->is_array()) {
    for (const auto& e : v->as_array()) {
      if (e.is_string()) fn(e.as_string());
    }
  }
}

bool HasTeam(const store::Entity& e, const std::string& team) {
  if (!e.team.is_array()) return false;
  for (const auto& t : e.team.as_array()) {
    if (t.is_string() && t.as_string() == team) return true;
  }
  return false;
}

}  // namespace

// ---- PtrSet ----------------------------------------------------------------------------------

bool PtrSet::Insert(const store::Entity* e) {
  if (items_.size() < kLinear) {
    if (std::find(items_.begin(), items_.end(), e) != items_.end()) return false;
    items_.push_back(e);
    if (items_.size() == kLinear) index_.insert(items_.begin(), items_.end());
    return true;
  }
  if (!index_.insert(e).second) return false;
  items_.push_back(e);
  return true;
}

bool PtrSet::Contains(const store::Entity* e) const {
  if (items_.size() < kLinear) return std::find(items_.begin(), items_.end(), e) != items_.end();
  return index_.count(e) > 0;
}

void PtrSet::Clear() {
  items_.clear();
  if (!index_.empty()) index_.clear();
}

// ---- Overlay ---------------------------------------------------------------------------------

std::string Overlay::Key(std::string_view blueprint, std::string_view identifier) {
  std::string k;
  k.reserve(blueprint.size() + identifier.size() + 1);
  k.append(blueprint);
  k.push_back('\x1f');
  k.append(identifier);
  return k;
}

Overlay::Overlay(const store::Store& store, const std::vector<store::Change>& changes)
    : changes_(changes) {
  for (const store::Change& c : changes) {
    before_[Key(c.key.blueprint, c.key.identifier)] = &c.before;
    if (const store::Entity* live = store.Find(c.key.blueprint, c.key.identifier)) {
      changed_live_.insert(live);
    }
    if (!c.before) continue;
    const model::Blueprint* bp = store.catalog().Find(c.key.blueprint);
    if (!bp || !c.before->relations.is_object()) continue;
    for (const model::RelationDef& rel : bp->relations) {
      ForEachId(c.before->relations.Find(rel.key), [&](const std::string& id) {
        old_edges_[Key(rel.target, id)].push_back({&*c.before, &rel.key});
      });
    }
  }
}

const std::optional<store::Entity>* Overlay::Before(std::string_view blueprint,
                                                    std::string_view identifier) const {
  auto it = before_.find(Key(blueprint, identifier));
  return it == before_.end() ? nullptr : it->second;
}

const std::vector<std::pair<const store::Entity*, const std::string*>>* Overlay::OldEdgesTo(
    std::string_view blueprint, std::string_view identifier) const {
  auto it = old_edges_.find(Key(blueprint, identifier));
  return it == old_edges_.end() ? nullptr : &it->second;
}

void Overlay::ForEachBefore(std::string_view blueprint,
                            const std::function<void(const store::Entity&)>& fn) const {
  for (const store::Change& c : changes_) {
    if (c.before && c.key.blueprint == blueprint) fn(*c.before);
  }
}

// ---- View ------------------------------------------------------------------------------------

const store::Entity* View::Find(std::string_view blueprint, std::string_view identifier) const {
  if (old_) {
    if (const std::optional<store::Entity>* b = old_->Before(blueprint, identifier)) {
      return b->has_value() ? &**b : nullptr;
    }
  }
  return store_.Find(blueprint, identifier);
}

void View::Forward(const store::Entity& e, const Hop& hop,
                   std::vector<const store::Entity*>* out) const {
  if (hop.relation == "$team") {
    ForEachId(&e.team, [&](const std::string& id) {
      if (const store::Entity* t = Find(hop.to, id)) out->push_back(t);
    });
    return;
  }
  ForEachId(e.relations.Find(hop.relation), [&](const std::string& id) {
    if (const store::Entity* t = Find(hop.to, id)) out->push_back(t);
  });
}

void View::ForEachForward(
    const store::Entity& e,
    const std::function<void(const RelInfo&, const store::Entity&)>& fn) const {
  auto it = relations_.find(e.blueprint);
  if (it == relations_.end()) return;
  for (const RelInfo& rel : it->second) {
    ForEachId(e.relations.Find(rel.key), [&](const std::string& id) {
      if (const store::Entity* t = Find(rel.target, id)) fn(rel, *t);
    });
  }
}

void View::ForEachReferrer(
    const store::Entity& e, const Hop* hop,
    const std::function<void(const store::Entity&, const std::string&)>& fn) const {
  if (hop && hop->relation == "$team") {
    // Team membership has no reverse index: scan the blueprint that holds it.
    store_.ForEach(hop->from, [&](const store::Entity& src) {
      if (old_ && old_->IsChangedLive(&src)) return;
      if (HasTeam(src, e.identifier)) fn(src, hop->relation);
    });
    if (old_) {
      old_->ForEachBefore(hop->from, [&](const store::Entity& src) {
        if (HasTeam(src, e.identifier)) fn(src, hop->relation);
      });
    }
    return;
  }
  for (const store::Referrer& r : store_.Referrers(e.blueprint, e.identifier)) {
    if (hop && (*r.relation != hop->relation || r.source->blueprint != hop->from)) continue;
    if (old_ && old_->IsChangedLive(r.source)) continue;
    fn(*r.source, *r.relation);
  }
  if (old_) {
    if (const auto* edges = old_->OldEdgesTo(e.blueprint, e.identifier)) {
      for (const auto& [src, rel] : *edges) {
        if (hop && (*rel != hop->relation || src->blueprint != hop->from)) continue;
        fn(*src, *rel);
      }
    }
  }
}

// ---- Walks -----------------------------------------------------------------------------------

const store::Entity* WalkOne(const View& view, const store::Entity& start,
                             const std::vector<Hop>& hops, size_t begin, size_t end) {
  const store::Entity* cur = &start;
  for (size_t i = begin; i < end && cur; ++i) {
    const json::Value* v = cur->relations.Find(hops[i].relation);
    if (v && v->is_string()) {
      cur = view.Find(hops[i].to, v->as_string());
    } else if (v && v->is_array() && v->as_array().size() == 1 && v->as_array()[0].is_string()) {
      cur = view.Find(hops[i].to, v->as_array()[0].as_string());
    } else {
      cur = nullptr;
    }
  }
  return cur;
}

void WalkForward(const View& view, const store::Entity& start, const std::vector<Hop>& hops,
                 size_t begin, size_t end, bool dedup, std::vector<const store::Entity*>* out) {
  // Single-valued hops (the common case) need no frontier.
  bool single = true;
  for (size_t i = begin; i < end && single; ++i) single = !hops[i].many;
  if (single) {
    if (const store::Entity* reached = WalkOne(view, start, hops, begin, end)) {
      out->push_back(reached);
    }
    return;
  }
  std::vector<const store::Entity*> frontier{&start};
  std::vector<const store::Entity*> next;
  for (size_t i = begin; i < end && !frontier.empty(); ++i) {
    next.clear();
    for (const store::Entity* e : frontier) view.Forward(*e, hops[i], &next);
    if (dedup && next.size() > 1) {
      PtrSet seen;
      size_t w = 0;
      for (const store::Entity* e : next) {
        if (seen.Insert(e)) next[w++] = e;
      }
      next.resize(w);
    }
    frontier.swap(next);
  }
  out->insert(out->end(), frontier.begin(), frontier.end());
}

void WalkBackward(const View& view, const store::Entity& start, const std::vector<Hop>& hops,
                  size_t begin, size_t end, std::vector<const store::Entity*>* out) {
  std::vector<const store::Entity*> frontier{&start};
  for (size_t i = end; i > begin && !frontier.empty(); --i) {
    const Hop& hop = hops[i - 1];
    PtrSet next;
    for (const store::Entity* e : frontier) {
      view.ForEachReferrer(
          *e, &hop, [&](const store::Entity& src, const std::string&) { next.Insert(&src); });
    }
    frontier = next.items();
  }
  out->insert(out->end(), frontier.begin(), frontier.end());
}

Reach ComputeReach(const RelTable& relations, const std::string& want) {
  Reach r;
  r.want = want;
  // Forward adjacency and its reverse, at blueprint level.
  std::unordered_map<std::string, std::vector<std::string>> fwd, rev;
  for (const auto& [bp, rels] : relations) {
    for (const RelInfo& rel : rels) {
      fwd[bp].push_back(rel.target);
      rev[rel.target].push_back(bp);
    }
  }
  auto bfs = [](const std::string& from,
                const std::unordered_map<std::string, std::vector<std::string>>& adj,
                std::unordered_set<std::string>* seen) {
    std::vector<std::string> stack{from};
    seen->insert(from);
    while (!stack.empty()) {
      std::string cur = stack.back();
      stack.pop_back();
      auto it = adj.find(cur);
      if (it == adj.end()) continue;
      for (const std::string& n : it->second) {
        if (seen->insert(n).second) stack.push_back(n);
      }
    }
  };
  bfs(want, rev, &r.up_ok);
  bfs(want, fwd, &r.down_ok);
  for (const auto& [bp, rels] : relations) {
    for (const RelInfo& rel : rels) {
      if (r.up_ok.count(rel.target)) r.up_rels[bp].push_back(&rel);
      if (r.down_ok.count(bp)) r.down_from.insert(rel.target);
    }
  }
  return r;
}

void Closure(const View& view, const store::Entity& start, const Reach& reach,
             std::vector<const store::Entity*>* out) {
  // Reused per thread: a full recompute calls this once per target entity.
  thread_local PtrSet result;
  thread_local PtrSet seen;
  thread_local std::vector<const store::Entity*> stack;
  result.Clear();
  // Upstream: follow relations forward, only toward blueprints that can still reach `want`.
  {
    seen.Clear();
    seen.Insert(&start);
    stack.assign(1, &start);
    while (!stack.empty()) {
      const store::Entity* e = stack.back();
      stack.pop_back();
      auto it = reach.up_rels.find(e->blueprint);
      if (it == reach.up_rels.end()) continue;
      for (const RelInfo* rel : it->second) {
        ForEachId(e->relations.Find(rel->key), [&](const std::string& id) {
          const store::Entity* t = view.Find(rel->target, id);
          if (!t || !seen.Insert(t)) return;
          if (t->blueprint == reach.want) result.Insert(t);
          stack.push_back(t);
        });
      }
    }
  }
  // Downstream: follow relations backward, only from blueprints `want` can reach.
  if (reach.down_from.count(start.blueprint)) {
    seen.Clear();
    seen.Insert(&start);
    stack.assign(1, &start);
    while (!stack.empty()) {
      const store::Entity* e = stack.back();
      stack.pop_back();
      if (!reach.down_from.count(e->blueprint)) continue;
      view.ForEachReferrer(*e, nullptr, [&](const store::Entity& src, const std::string&) {
        if (!reach.down_ok.count(src.blueprint) || !seen.Insert(&src)) return;
        if (src.blueprint == reach.want) result.Insert(&src);
        stack.push_back(&src);
      });
    }
  }
  out->insert(out->end(), result.items().begin(), result.items().end());
}

std::vector<int> FindCycle(const std::vector<std::vector<int>>& deps) {
  enum : char { kWhite, kGrey, kBlack };
  std::vector<char> color(deps.size(), kWhite);
  std::vector<int> stack;
  std::vector<int> cycle;
  std::function<bool(int)> visit = [&](int v) {
    color[static_cast<size_t>(v)] = kGrey;
    stack.push_back(v);
    for (int d : deps[static_cast<size_t>(v)]) {
      if (color[static_cast<size_t>(d)] == kGrey) {
        cycle.assign(std::find(stack.begin(), stack.end(), d), stack.end());
        cycle.push_back(d);
        return true;
      }
      if (color[static_cast<size_t>(d)] == kWhite && visit(d)) return true;
    }
    stack.pop_back();
    color[static_cast<size_t>(v)] = kBlack;
    return false;
  };
  for (size_t v = 0; v < deps.size(); ++v) {
    if (color[v] == kWhite && visit(static_cast<int>(v))) return cycle;
  }
  return {};
}

}  // namespace portolan::derive::internal
