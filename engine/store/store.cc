#include "engine/store/store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "engine/query/query.h"

namespace portolan::store {

namespace {

// Heterogeneous lookup for string-keyed hash maps.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

std::string EdgeKey(std::string_view blueprint, std::string_view identifier) {
  std::string k;
  k.reserve(blueprint.size() + identifier.size() + 1);
  k.append(blueprint);
  k.push_back('\x1f');
  k.append(identifier);
  return k;
}

Status PortError(StatusCode code, std::string port_error, std::string message) {
  Status s(code, std::move(message));
  s.set_port_error(std::move(port_error));
  return s;
}
Status BadRequest(std::string m) {
  return PortError(StatusCode::kInvalidArgument, "bad_request", std::move(m));
}
Status SchemaMismatch(std::string m) {
  return PortError(StatusCode::kInvalidArgument, "blueprint_schema_mismatch", std::move(m));
}
Status NotFoundError(std::string m) {
  return PortError(StatusCode::kNotFound, "not_found", std::move(m));
}

bool IsSearchQuery(const json::Value& v) { return v.is_object() && v.Has("rules"); }

// Persisted form of an entity (internal; numbers for timestamps to keep full precision).
json::Value EntityToDoc(const Entity& e) {
  json::Value d = json::Value::MakeObject();
  d.Set("title", e.title);
  d.Set("icon", e.icon);
  d.Set("team", e.team);
  d.Set("properties", e.properties);
  d.Set("relations", e.relations);
  d.Set("derived", e.derived);
  d.Set("createdAt", e.created_at);
  d.Set("updatedAt", e.updated_at);
  if (!e.datasource.empty()) d.Set("datasource", e.datasource);
  if (e.barebones) d.Set("barebones", true);
  return d;
}

Entity EntityFromDoc(std::string blueprint, std::string identifier, const json::Value& d) {
  Entity e;
  e.blueprint = std::move(blueprint);
  e.identifier = std::move(identifier);
  e.title = d.Get("title");
  e.icon = d.Get("icon");
  e.team = d.Get("team").is_array() ? d.Get("team") : json::Value::MakeArray();
  e.properties = d.Get("properties").is_object() ? d.Get("properties") : json::Value::MakeObject();
  e.relations = d.Get("relations").is_object() ? d.Get("relations") : json::Value::MakeObject();
  e.derived = d.Get("derived").is_object() ? d.Get("derived") : json::Value::MakeObject();
  e.created_at = d.Get("createdAt").is_number() ? d.Get("createdAt").as_number() : 0;
  e.updated_at = d.Get("updatedAt").is_number() ? d.Get("updatedAt").as_number() : 0;
  e.datasource = d.Get("datasource").is_string() ? d.Get("datasource").as_string() : "";
  e.barebones = d.Get("barebones").is_bool() && d.Get("barebones").as_bool();
  return e;
}

// Same user-visible content (ignores updatedAt and derived values).
bool SameContent(const Entity& a, const Entity& b) {
  return a.title == b.title && a.icon == b.icon && a.team == b.team &&
         a.properties == b.properties && a.relations == b.relations &&
         a.barebones == b.barebones;
}

// An entity as the store owns it, with what the current transaction recorded about it. A full
// recompute calls SetDerived once per entity; the marks let it record the undo of a derived
// value without looking the entity up by key or copying it.
struct StoredEntity : Entity {
  static constexpr uint32_t kImage = UINT32_MAX;
  uint64_t tx = 0;         // serial of the transaction the mark belongs to (0: none)
  uint32_t undo = kImage;  // with tx current: index in Impl::derived_undo, or kImage when the
                           // transaction holds its whole before-image (and writes it)
  uint32_t slot = 0;       // position in its Bucket::dense
};

// The entities of one blueprint: by identifier, and densely for scans. A full recompute scans
// every blueprint; walking the hash table's nodes costs a cache miss per entity, the vector
// none until the entity itself is read.
struct Bucket {
  StringMap<std::unique_ptr<StoredEntity>> by_id;
  std::vector<StoredEntity*> dense;
};

// The derived values an entity had before the transaction first replaced them, when nothing
// else of it changed. `entity` is null once a full before-image supersedes the record.
struct DerivedUndo {
  StoredEntity* entity;
  json::Value before;
};

}  // namespace

std::string DatabasePath(const std::string& workspace) {
  return (std::filesystem::path(workspace) / "portolan.db").string();
}

// ---------------------------------------------------------------------------------------------

struct Store::Impl {
  sqlite3* db = nullptr;
  StringMap<Bucket> entities;                  // by blueprint
  StringMap<std::vector<Referrer>> referrers;  // EdgeKey(target) -> edges
  std::set<std::string> relation_names;        // interned relation keys
  // Transaction state. An entity written by the transaction gets a whole before-image in
  // `undo` (its keys are the entities to write at commit); one whose derived values alone
  // change (the engine's writes, up to every entity in a full recompute) gets a DerivedUndo
  // record, a fraction of the size.
  uint64_t tx = 0;                                  // serial of the current/last transaction
  std::map<EntityKey, std::optional<Entity>> undo;  // first-touch before-images
  std::vector<DerivedUndo> derived_undo;            // derived-only changes, to write at commit
  std::map<EntityKey, std::optional<Entity>> changes;  // since TakeChanges
  std::optional<model::Catalog> catalog_before;
  std::vector<std::string> dirty_blueprints;
  std::map<std::string, std::string, std::less<>> meta;
  std::set<std::string, std::less<>> dirty_meta;
  std::map<std::string, std::optional<std::string>, std::less<>> meta_undo;
  // Documents by (kind, identifier), with the transaction's first-touch before-images.
  using DocKey = std::pair<std::string, std::string>;
  std::map<DocKey, std::string> documents;
  std::map<DocKey, std::optional<std::string>> document_undo;

  // The savepoint, when one is set: entities, documents and meta as they were when it was set
  // (recorded at first touch after it), and the pending changes then.
  bool sp_active = false;
  std::map<EntityKey, std::optional<Entity>> sp_undo;
  std::map<DocKey, std::optional<std::string>> sp_document_undo;
  std::map<std::string, std::optional<std::string>, std::less<>> sp_meta_undo;
  std::map<EntityKey, std::optional<Entity>> sp_changes;

  // Prepared statements of the write path, by SQL text (prepared once per connection).
  std::map<std::string, sqlite3_stmt*, std::less<>> statements;

  ~Impl() {
    for (auto& [sql, st] : statements) sqlite3_finalize(st);
    if (db) sqlite3_close(db);
  }

  // The cached statement for `sql`, reset and unbound; nullptr when it does not prepare.
  sqlite3_stmt* Statement(const char* sql) {
    auto it = statements.find(sql);
    if (it == statements.end()) {
      sqlite3_stmt* st = nullptr;
      if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr) != SQLITE_OK) {
        sqlite3_finalize(st);
        return nullptr;
      }
      it = statements.emplace(sql, st).first;
    }
    sqlite3_reset(it->second);
    sqlite3_clear_bindings(it->second);
    return it->second;
  }

  // Runs a cached statement without parameters (BEGIN, COMMIT).
  Status Step(const char* sql) {
    if (!db) return Status::Ok();
    sqlite3_stmt* st = Statement(sql);
    int rc = st ? sqlite3_step(st) : SQLITE_ERROR;
    if (st) sqlite3_reset(st);
    if (rc != SQLITE_DONE) return Internal(std::string("database: ") + sqlite3_errmsg(db));
    return Status::Ok();
  }

  Status Exec(const char* sql) {
    if (!db) return Status::Ok();
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string m = err ? err : "unknown error";
      sqlite3_free(err);
      return Internal(std::string("database: ") + m);
    }
    return Status::Ok();
  }

  const std::string* Intern(const std::string& relation) {
    return &*relation_names.insert(relation).first;
  }

  StoredEntity* FindMutable(std::string_view bp, std::string_view id) {
    auto it = entities.find(bp);
    if (it == entities.end()) return nullptr;
    auto jt = it->second.by_id.find(id);
    return jt == it->second.by_id.end() ? nullptr : jt->second.get();
  }

  void AddEdges(const Entity& e) {
    for (const auto& [rel, v] : e.relations.as_object()) {
      (void)v;
      const std::string* name = Intern(rel);
      for (const auto& target : e.RelationTargets(rel)) {
        // The target blueprint comes from the relation definition; stored as-is per relation.
        referrers[EdgeKey(TargetOf(e.blueprint, rel), target)].push_back({&e, name});
      }
    }
  }

  void RemoveEdges(const Entity& e) {
    for (const auto& [rel, v] : e.relations.as_object()) {
      (void)v;
      for (const auto& target : e.RelationTargets(rel)) {
        auto it = referrers.find(EdgeKey(TargetOf(e.blueprint, rel), target));
        if (it == referrers.end()) continue;
        auto& vec = it->second;
        vec.erase(std::remove_if(vec.begin(), vec.end(),
                                 [&](const Referrer& r) { return r.source == &e; }),
                  vec.end());
        if (vec.empty()) referrers.erase(it);
      }
    }
  }

  const model::Catalog* catalog = nullptr;
  std::string TargetOf(const std::string& blueprint, const std::string& relation) const {
    const model::Blueprint* bp = catalog->Find(blueprint);
    if (!bp) return "";
    const model::RelationDef* rel = bp->FindRelation(relation);
    return rel ? rel->target : "";
  }

  // Records a write of `key` (created, replaced or deleted right after): its before-image for
  // rollback (its key: what to write at commit) and, for a user change (not a datasource-only
  // update), for TakeChanges.
  void RecordTouch(const EntityKey& key, bool user_change) {
    StoredEntity* cur = FindMutable(key.blueprint, key.identifier);
    if (sp_active) {
      if (auto [it, fresh] = sp_undo.try_emplace(key); fresh && cur) {
        it->second.emplace(static_cast<const Entity&>(*cur));
      }
    }
    json::Value* derived_before = nullptr;
    if (cur && cur->tx == tx && cur->undo != StoredEntity::kImage) {
      // Only its derived values were recorded so far: the whole image takes over.
      DerivedUndo& d = derived_undo[cur->undo];
      d.entity = nullptr;
      derived_before = &d.before;
    }
    if (auto [it, fresh] = undo.try_emplace(key); fresh && cur) {
      it->second.emplace(static_cast<const Entity&>(*cur));
      if (derived_before) it->second->derived = std::move(*derived_before);
    }
    if (cur) {
      cur->tx = tx;
      cur->undo = StoredEntity::kImage;
    }
    if (user_change) {
      auto [it, fresh] = changes.try_emplace(key);
      if (fresh && cur) it->second.emplace(static_cast<const Entity&>(*cur));
    }
  }

  // Replaces (or inserts, or removes when e is nullopt) an entity, keeping the indexes right.
  void Put(const EntityKey& key, std::optional<Entity> e) {
    Bucket& bucket = entities[key.blueprint];
    auto it = bucket.by_id.find(key.identifier);
    if (it != bucket.by_id.end()) {
      RemoveEdges(*it->second);
      if (e) {
        static_cast<Entity&>(*it->second) = std::move(*e);
        AddEdges(*it->second);
      } else {
        StoredEntity* last = bucket.dense.back();
        bucket.dense[it->second->slot] = last;
        last->slot = it->second->slot;
        bucket.dense.pop_back();
        bucket.by_id.erase(it);
      }
      return;
    }
    if (!e) return;
    auto owned = std::make_unique<StoredEntity>();
    static_cast<Entity&>(*owned) = std::move(*e);
    // Created by the current transaction (its key is in `undo`, which removes it).
    owned->tx = tx;
    owned->undo = StoredEntity::kImage;
    owned->slot = static_cast<uint32_t>(bucket.dense.size());
    StoredEntity* raw = owned.get();
    bucket.dense.push_back(raw);
    bucket.by_id.emplace(key.identifier, std::move(owned));
    AddEdges(*raw);
  }

  // Ends a transaction's derived records; a full recompute's capacity (tens of MB) is released,
  // a small one kept for the next transaction.
  void ClearDerivedUndo() {
    if (derived_undo.capacity() > 4096) {
      std::vector<DerivedUndo>().swap(derived_undo);
    } else {
      derived_undo.clear();
    }
  }

  // Rebuilds the reverse index (after blueprint relation targets change).
  void RebuildEdges() {
    referrers.clear();
    for (auto& [bp, bucket] : entities) {
      for (const StoredEntity* e : bucket.dense) AddEdges(*e);
    }
  }
};

Store::Store(std::string workspace, const Clock* clock)
    : impl_(std::make_unique<Impl>()), workspace_(std::move(workspace)), clock_(clock) {
  impl_->catalog = &catalog_;
}

Store::~Store() {
  if (in_tx_) Rollback();
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& workspace, const Clock* clock) {
  return OpenImpl(workspace, clock, /*load_entities=*/true);
}

Result<std::unique_ptr<Store>> Store::OpenForLookup(const std::string& workspace,
                                                    const Clock* clock) {
  return OpenImpl(workspace, clock, /*load_entities=*/false);
}

Result<std::optional<Entity>> Store::ReadEntity(std::string_view blueprint,
                                                std::string_view identifier) const {
  if (const Entity* e = Find(blueprint, identifier)) return std::optional<Entity>(*e);
  sqlite3* db = impl_->db;
  if (!db) return std::optional<Entity>();
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT doc FROM entities WHERE blueprint = ? AND identifier = ?", -1,
                     &st, nullptr);
  sqlite3_bind_text(st, 1, blueprint.data(), static_cast<int>(blueprint.size()), SQLITE_STATIC);
  sqlite3_bind_text(st, 2, identifier.data(), static_cast<int>(identifier.size()),
                    SQLITE_STATIC);
  std::optional<Entity> out;
  Status status;
  if (sqlite3_step(st) == SQLITE_ROW) {
    auto doc = json::Parse(std::string_view(
        reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
        static_cast<size_t>(sqlite3_column_bytes(st, 0))));
    if (doc.ok()) {
      out = EntityFromDoc(std::string(blueprint), std::string(identifier), *doc);
    } else {
      status = Internal("stored entity '" + std::string(blueprint) + "/" +
                        std::string(identifier) + "' is corrupt");
    }
  }
  sqlite3_finalize(st);
  if (!status.ok()) return status;
  return out;
}

Result<std::unique_ptr<Store>> Store::OpenImpl(const std::string& workspace, const Clock* clock,
                                               bool load_entities) {
  std::unique_ptr<Store> store(new Store(workspace, clock));
  if (workspace.empty()) return store;
  std::error_code ec;
  std::filesystem::create_directories(workspace, ec);
  if (ec) return InvalidArgument(workspace + ": cannot create workspace: " + ec.message());
  Impl& im = *store->impl_;
  std::string path = DatabasePath(workspace);
  if (sqlite3_open_v2(path.c_str(), &im.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                      nullptr) != SQLITE_OK) {
    return InvalidArgument(path + ": cannot open database: " +
                           (im.db ? sqlite3_errmsg(im.db) : "out of memory"));
  }
  sqlite3_busy_timeout(im.db, 5000);
  PORTOLAN_RETURN_IF_ERROR(im.Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"));
  PORTOLAN_RETURN_IF_ERROR(im.Exec(
      "CREATE TABLE IF NOT EXISTS blueprints (identifier TEXT PRIMARY KEY, doc TEXT NOT NULL, "
      "  source TEXT, seq INTEGER NOT NULL);"
      "CREATE TABLE IF NOT EXISTS entities (blueprint TEXT NOT NULL, identifier TEXT NOT NULL, "
      "  doc TEXT NOT NULL, PRIMARY KEY (blueprint, identifier)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS documents (kind TEXT NOT NULL, identifier TEXT NOT NULL, "
      "  doc TEXT NOT NULL, PRIMARY KEY (kind, identifier)) WITHOUT ROWID;"));

  // Blueprints, in the order they were first applied.
  std::vector<model::Blueprint> bps;
  {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(im.db, "SELECT identifier, doc, source FROM blueprints ORDER BY seq", -1,
                       &st, nullptr);
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::string id = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
      std::string doc = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
      const unsigned char* src = sqlite3_column_text(st, 2);
      auto v = json::Parse(doc);
      if (!v.ok()) {
        sqlite3_finalize(st);
        return Internal(path + ": stored blueprint '" + id + "' is corrupt");
      }
      // Checked when applied; skip the jq compile check (~15 ms per calculation) on reload.
      model::ParseOptions po;
      po.check_jq = false;
      auto bp = model::ParseBlueprint(*v, src ? reinterpret_cast<const char*>(src) : "", "", po);
      if (!bp.ok()) {
        sqlite3_finalize(st);
        return bp.status().WithContext(path + ": stored blueprint '" + id + "': ");
      }
      bps.push_back(std::move(*bp));
    }
    sqlite3_finalize(st);
  }
  if (!bps.empty()) PORTOLAN_RETURN_IF_ERROR(store->catalog_.Apply(std::move(bps)));

  if (load_entities) {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(im.db, "SELECT blueprint, identifier, doc FROM entities", -1, &st,
                       nullptr);
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::string bp = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
      std::string id = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
      auto doc = json::Parse(std::string_view(
          reinterpret_cast<const char*>(sqlite3_column_text(st, 2)),
          static_cast<size_t>(sqlite3_column_bytes(st, 2))));
      if (!doc.ok()) {
        sqlite3_finalize(st);
        return Internal(path + ": stored entity '" + bp + "/" + id + "' is corrupt");
      }
      EntityKey key{bp, id};
      im.Put(key, EntityFromDoc(std::move(bp), std::move(id), *doc));
    }
    sqlite3_finalize(st);
  }
  {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(im.db, "SELECT key, value FROM meta", -1, &st, nullptr);
    while (sqlite3_step(st) == SQLITE_ROW) {
      im.meta[reinterpret_cast<const char*>(sqlite3_column_text(st, 0))] =
          reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
  }
  {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(im.db, "SELECT kind, identifier, doc FROM documents", -1, &st, nullptr);
    while (sqlite3_step(st) == SQLITE_ROW) {
      auto text = [&](int i) {
        return std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, i)),
                           static_cast<size_t>(sqlite3_column_bytes(st, i)));
      };
      im.documents[{text(0), text(1)}] = text(2);
    }
    sqlite3_finalize(st);
  }
  return store;
}

// ---- Blueprints ------------------------------------------------------------------------------

Status Store::ApplyBlueprints(std::vector<model::Blueprint> blueprints) {
  if (impl_->sp_active) return Internal("blueprint changes cannot run under a savepoint");
  bool own_tx = !in_tx_;
  if (own_tx) PORTOLAN_RETURN_IF_ERROR(Begin());
  if (!impl_->catalog_before) impl_->catalog_before = catalog_;
  std::vector<std::string> ids;
  for (const auto& bp : blueprints) ids.push_back(bp.identifier);
  Status s = catalog_.Apply(std::move(blueprints));
  if (!s.ok()) {
    if (own_tx) Rollback();
    return s;
  }
  for (auto& id : ids) impl_->dirty_blueprints.push_back(id);
  impl_->RebuildEdges();
  if (own_tx) return Commit();
  return Status::Ok();
}

Status Store::DeleteBlueprint(std::string_view id) {
  if (impl_->sp_active) return Internal("blueprint changes cannot run under a savepoint");
  if (Count(id) > 0) {
    return FailedPrecondition("blueprint '" + std::string(id) + "' still has " +
                              std::to_string(Count(id)) + " entities");
  }
  bool own_tx = !in_tx_;
  if (own_tx) PORTOLAN_RETURN_IF_ERROR(Begin());
  if (!impl_->catalog_before) impl_->catalog_before = catalog_;
  Status s = catalog_.Remove(id);
  if (!s.ok()) {
    if (own_tx) Rollback();
    return s;
  }
  impl_->dirty_blueprints.emplace_back(id);
  if (own_tx) return Commit();
  return Status::Ok();
}

// ---- Reads -----------------------------------------------------------------------------------

const Entity* Store::Find(std::string_view blueprint, std::string_view identifier) const {
  return impl_->FindMutable(blueprint, identifier);
}

std::vector<const Entity*> Store::List(std::string_view blueprint) const {
  std::vector<const Entity*> out;
  auto it = impl_->entities.find(blueprint);
  if (it == impl_->entities.end()) return out;
  out.assign(it->second.dense.begin(), it->second.dense.end());
  std::sort(out.begin(), out.end(),
            [](const Entity* a, const Entity* b) { return a->identifier < b->identifier; });
  return out;
}

size_t Store::Count(std::string_view blueprint) const {
  auto it = impl_->entities.find(blueprint);
  return it == impl_->entities.end() ? 0 : it->second.dense.size();
}

void Store::ForEach(std::string_view blueprint,
                    const std::function<void(const Entity&)>& fn) const {
  auto it = impl_->entities.find(blueprint);
  if (it == impl_->entities.end()) return;
  const std::vector<StoredEntity*>& dense = it->second.dense;
  for (size_t i = 0; i < dense.size(); ++i) {
    // Entities are scattered in memory: fetch a few ahead of the one `fn` reads.
    if (i + 8 < dense.size()) __builtin_prefetch(dense[i + 8]);
    fn(*dense[i]);
  }
}

const std::vector<Referrer>& Store::Referrers(std::string_view blueprint,
                                              std::string_view identifier) const {
  static const std::vector<Referrer> kEmpty;
  auto it = impl_->referrers.find(EdgeKey(blueprint, identifier));
  return it == impl_->referrers.end() ? kEmpty : it->second;
}

std::vector<EntityKey> Store::KeysByDatasource(std::string_view datasource) const {
  std::vector<EntityKey> out;
  for (const auto& [bp, bucket] : impl_->entities) {
    for (const StoredEntity* e : bucket.dense) {
      if (e->datasource == datasource) out.push_back(e->key());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// ---- Writes ----------------------------------------------------------------------------------

namespace {

// Finds the entities of `blueprint` matching a search query.
Result<std::vector<std::string>> Search(const Store& store, std::string_view blueprint,
                                        const json::Value& q, double now) {
  PORTOLAN_RETURN_IF_ERROR(query::Validate(q));
  std::vector<std::string> ids;
  Status err;
  query::Context ctx{now, &store};
  store.ForEach(blueprint, [&](const Entity& e) {
    if (!err.ok()) return;
    auto m = query::Matches(q, e, ctx);
    if (!m.ok()) {
      err = m.status();
      return;
    }
    if (*m) ids.push_back(e.identifier);
  });
  if (!err.ok()) return err;
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace

Result<WriteOutcome> Store::Upsert(std::string_view blueprint_id, const json::Value& body,
                                   const UpsertOptions& options) {
  if (!in_tx_ && !options.validation_only) {
    return Internal("Store::Upsert outside a transaction");
  }
  const model::Blueprint* bp = catalog_.Find(blueprint_id);
  if (!bp) return NotFoundError("blueprint '" + std::string(blueprint_id) + "' does not exist");
  if (!body.is_object()) return BadRequest("entity must be a JSON object");
  const double now = clock_->Now();

  // Identifier: a string, or a search query that must match exactly one existing entity.
  const json::Value& idv = body.Get("identifier");
  std::string identifier;
  bool by_search = false;
  if (idv.is_string()) {
    identifier = idv.as_string();
    if (!model::IsValidEntityIdentifier(identifier)) {
      return BadRequest("/identifier: \"" + identifier +
                        "\" does not match ^(?!\\.{1,2}$)[\\p{L}0-9@_.+:\\\\/=-]+$ (max 1000)");
    }
  } else if (IsSearchQuery(idv)) {
    PORTOLAN_ASSIGN_OR_RETURN(auto ids, Search(*this, blueprint_id, idv, now));
    if (ids.size() != 1) {
      Status s = ids.empty() ? NotFoundError("/identifier: the search query matches no entity "
                                             "of blueprint '" + std::string(blueprint_id) + "'")
                             : BadRequest("/identifier: the search query matches " +
                                          std::to_string(ids.size()) +
                                          " entities; it must match exactly one");
      return s;
    }
    identifier = ids[0];
    by_search = true;
  } else if (idv.is_null()) {
    return BadRequest("/identifier: required");
  } else {
    return BadRequest(std::string("/identifier: must be a string, not ") +
                      json::TypeName(idv.type()));
  }

  for (const auto& [key, v] : body.as_object()) {
    (void)v;
    static const std::set<std::string, std::less<>> kKnown = {
        "identifier", "title", "icon", "team", "properties", "relations", "blueprint"};
    if (!kKnown.count(key)) return BadRequest("/" + key + ": unknown entity field");
  }
  if (const json::Value* b = body.Find("blueprint");
      b && !(b->is_string() && b->as_string() == blueprint_id)) {
    return BadRequest("/blueprint: does not match the blueprint '" + std::string(blueprint_id) +
                      "'");
  }

  const Entity* existing = Find(blueprint_id, identifier);
  if (existing && !existing->barebones && !options.upsert) {
    return PortError(StatusCode::kAlreadyExists, "identifier_taken",
                     "entity '" + std::string(blueprint_id) + "/" + identifier +
                         "' already exists");
  }
  (void)by_search;

  Entity next;
  bool merge = existing && options.upsert && options.merge;
  if (merge) {
    next = *existing;
  } else {
    next.blueprint = std::string(blueprint_id);
    next.identifier = identifier;
    next.title = json::Value();
    next.icon = json::Value();
    next.team = json::Value::MakeArray();
    next.properties = json::Value::MakeObject();
    next.relations = json::Value::MakeObject();
    next.derived = existing ? existing->derived : json::Value::MakeObject();
    next.created_at = existing ? existing->created_at : now;
    next.updated_at = existing ? existing->updated_at : now;
  }
  next.barebones = false;

  // Top-level fields.
  if (const json::Value* t = body.Find("title")) {
    if (!t->is_string() && !t->is_null()) return BadRequest("/title: must be a string");
    next.title = *t;
  }
  if (const json::Value* i = body.Find("icon")) {
    if (!i->is_string() && !i->is_null()) return BadRequest("/icon: must be a string");
    next.icon = *i;
  }
  if (const json::Value* t = body.Find("team")) {
    if (bp->ownership.type == "Inherited") {
      return PortError(StatusCode::kInvalidArgument, "team_inheritance_enabled",
                       "/team: blueprint '" + bp->identifier +
                           "' inherits its team; the team cannot be set");
    }
    json::Value teams = json::Value::MakeArray();
    if (t->is_string()) {
      teams.Push(*t);
    } else if (t->is_array()) {
      for (const auto& x : t->as_array()) {
        if (!x.is_string()) return BadRequest("/team: must be a string or an array of strings");
        teams.Push(x);
      }
    } else if (IsSearchQuery(*t)) {
      PORTOLAN_ASSIGN_OR_RETURN(auto ids, Search(*this, "_team", *t, now));
      for (auto& id : ids) teams.Push(id);
    } else if (!t->is_null()) {
      return BadRequest("/team: must be a string, an array of strings or a search query");
    }
    next.team = std::move(teams);
  }

  // Properties: schema keys only; values checked against the schema.
  if (const json::Value* props = body.Find("properties")) {
    if (!props->is_object() && !props->is_null()) {
      return BadRequest("/properties: must be an object");
    }
    if (props->is_object()) {
      for (const auto& [key, value] : props->as_object()) {
        const model::PropertyDef* def = bp->FindProperty(key);
        if (!def) {
          std::string what = bp->FindMirror(key)        ? "a mirror property"
                             : bp->FindCalculation(key) ? "a calculation property"
                             : bp->FindAggregation(key) ? "an aggregation property"
                                                        : "";
          return SchemaMismatch("/properties/" + json::PointerEscape(key) + ": " +
                                (what.empty() ? "unknown property of blueprint '" +
                                                    bp->identifier + "'"
                                              : "is " + what + " of blueprint '" +
                                                    bp->identifier + "' and cannot be written"));
        }
        Status s = model::ValidatePropertyValue(*def, value);
        if (!s.ok()) {
          return SchemaMismatch("/properties/" + json::PointerEscape(key) + ": " + s.message());
        }
        if (value.is_null()) {
          next.properties.Erase(key);
        } else {
          next.properties.Set(key, value);
        }
      }
    }
  }
  if (!merge) {
    for (const auto& def : bp->properties) {
      const json::Value* dflt = def.schema.Find("default");
      if (dflt && !dflt->is_null() && !next.properties.Has(def.key)) {
        next.properties.Set(def.key, *dflt);
      }
    }
  }

  // Relations: declared keys; single vs many; targets must exist (or are created barebones).
  WriteOutcome outcome;
  std::vector<EntityKey> to_create;
  if (const json::Value* rels = body.Find("relations")) {
    if (!rels->is_object() && !rels->is_null()) return BadRequest("/relations: must be an object");
    if (rels->is_object()) {
      for (const auto& [key, value] : rels->as_object()) {
        std::string ptr = "/relations/" + json::PointerEscape(key);
        const model::RelationDef* rel = bp->FindRelation(key);
        if (!rel) {
          return SchemaMismatch(ptr + ": unknown relation of blueprint '" + bp->identifier + "'");
        }
        json::Value resolved;
        if (value.is_null()) {
          resolved = rel->many ? json::Value::MakeArray() : json::Value();
        } else if (value.is_string()) {
          resolved = rel->many ? json::Value(json::Array{value}) : value;
        } else if (value.is_array()) {
          if (!rel->many) {
            return PortError(StatusCode::kInvalidArgument, "relation_many_violation",
                             ptr + ": relation '" + key +
                                 "' is not \"many\" and takes one identifier, not an array");
          }
          for (const auto& x : value.as_array()) {
            if (!x.is_string()) return BadRequest(ptr + ": identifiers must be strings");
          }
          resolved = value;
        } else if (IsSearchQuery(value)) {
          auto ids = Search(*this, rel->target, value, now);
          if (!ids.ok()) return ids.status().WithContext(ptr + ": ");
          if (rel->many) {
            if (ids->size() > 100) ids->resize(100);
            json::Value arr = json::Value::MakeArray();
            for (auto& id : *ids) arr.Push(id);
            resolved = std::move(arr);
          } else if (ids->size() == 1) {
            resolved = (*ids)[0];
          } else {
            return NotFoundError(ptr + ": the search query matches " +
                                 std::to_string(ids->size()) + " entities of blueprint '" +
                                 rel->target + "'; a single relation needs exactly one");
          }
        } else {
          return BadRequest(ptr + ": must be an identifier, an array, null or a search query");
        }
        // Targets must exist.
        std::vector<std::string> targets;
        if (resolved.is_string()) targets.push_back(resolved.as_string());
        if (resolved.is_array()) {
          for (const auto& x : resolved.as_array()) targets.push_back(x.as_string());
        }
        for (const auto& t : targets) {
          if (!model::IsValidEntityIdentifier(t)) {
            return BadRequest(ptr + ": \"" + t + "\" is not a valid identifier");
          }
          bool exists = Find(rel->target, t) != nullptr ||
                        (rel->target == blueprint_id && t == identifier);
          bool pending = std::find(to_create.begin(), to_create.end(),
                                   EntityKey{rel->target, t}) != to_create.end();
          if (exists || pending) continue;
          if (!options.create_missing_related || rel->target == "_team" ||
              rel->target == "_user") {
            return NotFoundError(ptr + ": related entity '" + rel->target + "/" + t +
                                 "' does not exist");
          }
          to_create.push_back({rel->target, t});
        }
        next.relations.Set(key, std::move(resolved));
      }
    }
  }

  // Required properties and relations (barebones entities are exempt until upserted).
  for (const auto& req : bp->required) {
    if (next.properties.Get(req).is_null()) {
      return SchemaMismatch("/properties/" + json::PointerEscape(req) +
                            ": required property of blueprint '" + bp->identifier +
                            "' is missing");
    }
  }
  for (const auto& rel : bp->relations) {
    if (rel.required && next.relations.Get(rel.key).is_null()) {
      return PortError(StatusCode::kInvalidArgument, "required_relation",
                       "/relations/" + json::PointerEscape(rel.key) +
                           ": required relation of blueprint '" + bp->identifier +
                           "' is missing");
    }
  }

  outcome.key = {std::string(blueprint_id), identifier};
  outcome.created = existing == nullptr;
  outcome.changed = !existing || existing->barebones || !SameContent(*existing, next);
  outcome.created_related = to_create;
  if (options.validation_only) return outcome;

  for (const auto& k : to_create) {
    Entity bare;
    bare.blueprint = k.blueprint;
    bare.identifier = k.identifier;
    bare.team = json::Value::MakeArray();
    bare.properties = json::Value::MakeObject();
    bare.relations = json::Value::MakeObject();
    bare.derived = json::Value::MakeObject();
    bare.created_at = bare.updated_at = now;
    bare.barebones = true;
    impl_->RecordTouch(k, true);
    impl_->Put(k, std::move(bare));
  }
  if (outcome.changed) next.updated_at = now;
  if (!options.datasource.empty()) next.datasource = options.datasource;
  if (outcome.changed || next.datasource != (existing ? existing->datasource : "")) {
    impl_->RecordTouch(outcome.key, outcome.changed);
    impl_->Put(outcome.key, std::move(next));
  }
  return outcome;
}

Result<std::vector<EntityKey>> Store::Delete(std::string_view blueprint,
                                             std::string_view identifier,
                                             bool delete_dependents) {
  if (!in_tx_) return Internal("Store::Delete outside a transaction");
  if (!Find(blueprint, identifier)) {
    return NotFoundError("entity '" + std::string(blueprint) + "/" + std::string(identifier) +
                         "' does not exist");
  }
  // Collect the entities to delete: the entity, plus (with dependents) every entity holding a
  // required relation to one being deleted, transitively.
  std::vector<EntityKey> order;
  std::set<EntityKey> seen;
  std::vector<EntityKey> stack{{std::string(blueprint), std::string(identifier)}};
  while (!stack.empty()) {
    EntityKey k = stack.back();
    stack.pop_back();
    if (!seen.insert(k).second) continue;
    order.push_back(k);
    for (const Referrer& r : Referrers(k.blueprint, k.identifier)) {
      const model::Blueprint* sbp = catalog_.Find(r.source->blueprint);
      const model::RelationDef* rel = sbp ? sbp->FindRelation(*r.relation) : nullptr;
      if (!rel || !rel->required) continue;
      if (!delete_dependents) {
        return PortError(StatusCode::kFailedPrecondition, "required_relation",
                         "entity '" + k.ToString() + "' is the target of the required relation '" +
                             *r.relation + "' of '" + r.source->key().ToString() +
                             "'; delete with dependents to remove both");
      }
      stack.push_back(r.source->key());
    }
  }
  const double now = clock_->Now();
  for (const auto& k : order) {
    // Clear relations of surviving entities that point at it.
    std::vector<Referrer> refs = Referrers(k.blueprint, k.identifier);
    for (const Referrer& r : refs) {
      EntityKey src = r.source->key();
      if (seen.count(src)) continue;
      Entity copy = *r.source;
      json::Value* v = copy.relations.Find(*r.relation);
      if (!v) continue;
      if (v->is_string()) {
        *v = json::Value();
      } else if (v->is_array()) {
        auto& arr = v->as_array();
        arr.erase(std::remove_if(arr.begin(), arr.end(),
                                 [&](const json::Value& x) {
                                   return x.is_string() && x.as_string() == k.identifier;
                                 }),
                  arr.end());
      }
      copy.updated_at = now;
      impl_->RecordTouch(src, true);
      impl_->Put(src, std::move(copy));
    }
    impl_->RecordTouch(k, true);
    impl_->Put(k, std::nullopt);
  }
  return order;
}

void Store::SetDerived(const Entity& entity, json::Value derived) {
  if (entity.derived == derived) return;
  // The store's own entity (the contract): no lookup by key.
  assert(impl_->FindMutable(entity.blueprint, entity.identifier) == &entity);
  auto& e = static_cast<StoredEntity&>(const_cast<Entity&>(entity));
  Impl& im = *impl_;
  if (in_tx_ && e.tx != im.tx) {
    e.tx = im.tx;
    e.undo = static_cast<uint32_t>(im.derived_undo.size());
    im.derived_undo.push_back({&e, std::move(e.derived)});
  }
  e.derived = std::move(derived);
}

// ---- Transactions ----------------------------------------------------------------------------

Status Store::Begin() {
  if (in_tx_) return Internal("nested transaction");
  PORTOLAN_RETURN_IF_ERROR(impl_->Step("BEGIN IMMEDIATE"));
  ++impl_->tx;
  in_tx_ = true;
  return Status::Ok();
}

Status Store::Commit() {
  if (!in_tx_) return Internal("commit without a transaction");
  ReleaseSavepoint();
  Impl& im = *impl_;
  if (im.db) {
    sqlite3_stmt* put = im.Statement(
        "INSERT OR REPLACE INTO entities (blueprint, identifier, doc) VALUES (?, ?, ?)");
    sqlite3_stmt* del =
        im.Statement("DELETE FROM entities WHERE blueprint = ? AND identifier = ?");
    if (!put || !del) {
      std::string err = sqlite3_errmsg(im.db);
      Rollback();
      return Internal("database write failed: " + err);
    }
    std::string doc;
    // Writes the entity (blueprint, identifier), or deletes its row when e is null.
    auto write = [&](const std::string& blueprint, const std::string& identifier,
                     const Entity* e) {
      sqlite3_stmt* st = e ? put : del;
      sqlite3_reset(st);
      sqlite3_bind_text(st, 1, blueprint.data(), static_cast<int>(blueprint.size()),
                        SQLITE_STATIC);
      sqlite3_bind_text(st, 2, identifier.data(), static_cast<int>(identifier.size()),
                        SQLITE_STATIC);
      if (e) {
        doc.clear();
        json::WriteTo(EntityToDoc(*e), &doc);
        sqlite3_bind_text(st, 3, doc.data(), static_cast<int>(doc.size()), SQLITE_TRANSIENT);
      }
      return sqlite3_step(st) == SQLITE_DONE;
    };
    bool ok = true;
    for (const auto& [k, before] : im.undo) {
      ok = write(k.blueprint, k.identifier, Find(k.blueprint, k.identifier));
      if (!ok) break;
    }
    // Entities whose derived values alone changed, in the engine's order (for a full recompute,
    // address order: after Open, nearly the table's key order, which keeps the B-tree writes
    // local).
    for (size_t i = 0; ok && i < im.derived_undo.size(); ++i) {
      const StoredEntity* e = im.derived_undo[i].entity;
      if (e) ok = write(e->blueprint, e->identifier, e);
    }
    sqlite3_reset(put);
    sqlite3_reset(del);
    if (ok && !im.dirty_blueprints.empty()) {
      sqlite3_stmt* bput = nullptr;
      sqlite3_stmt* bdel = nullptr;
      sqlite3_prepare_v2(im.db,
                         "INSERT INTO blueprints (identifier, doc, source, seq) VALUES (?, ?, ?, "
                         "(SELECT COALESCE(MAX(seq), 0) + 1 FROM blueprints)) "
                         "ON CONFLICT(identifier) DO UPDATE SET doc = excluded.doc, "
                         "source = excluded.source", -1, &bput, nullptr);
      sqlite3_prepare_v2(im.db, "DELETE FROM blueprints WHERE identifier = ?", -1, &bdel,
                         nullptr);
      for (const auto& id : im.dirty_blueprints) {
        const model::Blueprint* bp = catalog_.Find(id);
        // System blueprints are stored as the user's extension document.
        sqlite3_stmt* st = bp ? bput : bdel;
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
        std::string doc;
        if (bp) {
          doc = json::Write(bp->raw);
          sqlite3_bind_text(st, 2, doc.data(), static_cast<int>(doc.size()), SQLITE_TRANSIENT);
          sqlite3_bind_text(st, 3, bp->source.data(), static_cast<int>(bp->source.size()),
                            SQLITE_TRANSIENT);
        }
        if (sqlite3_step(st) != SQLITE_DONE) {
          ok = false;
          break;
        }
      }
      sqlite3_finalize(bput);
      sqlite3_finalize(bdel);
    }
    if (ok && !im.dirty_meta.empty()) {
      sqlite3_stmt* st = im.Statement("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
      ok = st != nullptr;
      for (const auto& k : im.dirty_meta) {
        if (!ok) break;
        sqlite3_reset(st);
        const std::string& v = im.meta[k];
        sqlite3_bind_text(st, 1, k.data(), static_cast<int>(k.size()), SQLITE_STATIC);
        sqlite3_bind_text(st, 2, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
          ok = false;
          break;
        }
      }
      if (st) sqlite3_reset(st);
    }
    if (ok && !im.document_undo.empty()) {
      sqlite3_stmt* put =
          im.Statement("INSERT OR REPLACE INTO documents (kind, identifier, doc) VALUES (?, ?, ?)");
      sqlite3_stmt* del = im.Statement("DELETE FROM documents WHERE kind = ? AND identifier = ?");
      ok = put && del;
      for (const auto& [key, before] : im.document_undo) {
        if (!ok) break;
        auto it = im.documents.find(key);
        sqlite3_stmt* st = it == im.documents.end() ? del : put;
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, key.first.data(), static_cast<int>(key.first.size()),
                          SQLITE_STATIC);
        sqlite3_bind_text(st, 2, key.second.data(), static_cast<int>(key.second.size()),
                          SQLITE_STATIC);
        if (st == put) {
          sqlite3_bind_text(st, 3, it->second.data(), static_cast<int>(it->second.size()),
                            SQLITE_STATIC);
        }
        if (sqlite3_step(st) != SQLITE_DONE) {
          ok = false;
          break;
        }
      }
      if (put) sqlite3_reset(put);
      if (del) sqlite3_reset(del);
    }
    if (!ok) {
      std::string err = sqlite3_errmsg(im.db);
      Rollback();
      return Internal("database write failed: " + err);
    }
    Status s = im.Step("COMMIT");
    if (!s.ok()) {
      Rollback();
      return s;
    }
  }
  im.undo.clear();
  im.ClearDerivedUndo();
  im.dirty_blueprints.clear();
  im.dirty_meta.clear();
  im.meta_undo.clear();
  im.document_undo.clear();
  im.catalog_before.reset();
  in_tx_ = false;
  return Status::Ok();
}

void Store::Rollback() {
  if (!in_tx_) return;
  ReleaseSavepoint();
  Impl& im = *impl_;
  im.Step("ROLLBACK").IgnoreError();
  if (im.catalog_before) {
    catalog_ = std::move(*im.catalog_before);
    im.catalog_before.reset();
  }
  // Derived values first: the entities of superseded records (null) may be gone, and the whole
  // images restored next include the derived values they had.
  for (DerivedUndo& d : im.derived_undo) {
    if (d.entity) d.entity->derived = std::move(d.before);
  }
  im.ClearDerivedUndo();
  for (auto& [key, before] : im.undo) im.Put(key, std::move(before));
  if (!im.dirty_blueprints.empty()) im.RebuildEdges();
  for (auto& [k, v] : im.meta_undo) {
    if (v) {
      im.meta[k] = *v;
    } else {
      im.meta.erase(k);
    }
  }
  im.meta_undo.clear();
  for (auto& [k, v] : im.document_undo) {
    if (v) {
      im.documents[k] = std::move(*v);
    } else {
      im.documents.erase(k);
    }
  }
  im.document_undo.clear();
  im.undo.clear();
  im.changes.clear();
  im.dirty_blueprints.clear();
  im.dirty_meta.clear();
  in_tx_ = false;
}

Status Store::SetSavepoint() {
  Impl& im = *impl_;
  if (!in_tx_) return Internal("savepoint outside a transaction");
  if (im.sp_active) return Internal("nested savepoint");
  im.sp_active = true;
  im.sp_changes = im.changes;
  return Status::Ok();
}

void Store::ReleaseSavepoint() {
  Impl& im = *impl_;
  im.sp_active = false;
  im.sp_undo.clear();
  im.sp_document_undo.clear();
  im.sp_meta_undo.clear();
  im.sp_changes.clear();
}

void Store::RollbackToSavepoint() {
  Impl& im = *impl_;
  if (!im.sp_active) return;
  for (auto& [key, before] : im.sp_undo) im.Put(key, std::move(before));
  for (auto& [key, before] : im.sp_document_undo) {
    if (before) {
      im.documents[key] = std::move(*before);
    } else {
      im.documents.erase(key);
    }
  }
  for (auto& [key, before] : im.sp_meta_undo) {
    if (before) {
      im.meta[key] = std::move(*before);
    } else {
      im.meta.erase(key);
    }
  }
  im.changes = std::move(im.sp_changes);
  ReleaseSavepoint();
}

std::vector<Change> Store::TakeChanges() {
  std::vector<Change> out;
  out.reserve(impl_->changes.size());
  for (auto& [k, before] : impl_->changes) out.push_back({k, std::move(before)});
  impl_->changes.clear();
  return out;
}

std::optional<std::string> Store::GetMeta(std::string_view key) const {
  auto it = impl_->meta.find(key);
  if (it == impl_->meta.end()) return std::nullopt;
  return it->second;
}

void Store::SetMeta(std::string_view key, std::string value) {
  if (in_tx_ && !impl_->meta_undo.count(key)) impl_->meta_undo[std::string(key)] = GetMeta(key);
  if (impl_->sp_active && !impl_->sp_meta_undo.count(key)) {
    impl_->sp_meta_undo[std::string(key)] = GetMeta(key);
  }
  impl_->meta[std::string(key)] = std::move(value);
  impl_->dirty_meta.insert(std::string(key));
}

Result<std::vector<std::pair<std::string, std::string>>> ReadDocuments(
    const std::string& workspace, std::string_view kind) {
  const std::string path = DatabasePath(workspace);
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::string err = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Internal(path + ": cannot open database: " + err);
  }
  sqlite3_busy_timeout(db, 5000);
  std::vector<std::pair<std::string, std::string>> out;
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(db, "SELECT identifier, doc FROM documents WHERE kind = ? "
                              "ORDER BY identifier", -1, &st, nullptr);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(st, 1, kind.data(), static_cast<int>(kind.size()), SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      out.emplace_back(
          std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
                      static_cast<size_t>(sqlite3_column_bytes(st, 0))),
          std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)),
                      static_cast<size_t>(sqlite3_column_bytes(st, 1))));
    }
  }
  std::string err = rc == SQLITE_DONE ? "" : sqlite3_errmsg(db);
  sqlite3_finalize(st);
  sqlite3_close(db);
  if (!err.empty()) return Internal(path + ": reading documents: " + err);
  return out;
}

// ---- Documents -------------------------------------------------------------------------------

std::optional<std::string> Store::GetDocument(std::string_view kind,
                                              std::string_view identifier) const {
  auto it = impl_->documents.find({std::string(kind), std::string(identifier)});
  if (it == impl_->documents.end()) return std::nullopt;
  return it->second;
}

std::vector<std::pair<std::string, std::string>> Store::ListDocuments(
    std::string_view kind) const {
  std::vector<std::pair<std::string, std::string>> out;
  const std::string k(kind);
  for (auto it = impl_->documents.lower_bound({k, ""});
       it != impl_->documents.end() && it->first.first == k; ++it) {
    out.emplace_back(it->first.second, it->second);
  }
  return out;
}

Status Store::PutDocument(std::string_view kind, std::string_view identifier, std::string doc) {
  if (!in_tx_) return Internal("PutDocument outside a transaction");
  Impl::DocKey key{std::string(kind), std::string(identifier)};
  auto it = impl_->documents.find(key);
  if (!impl_->document_undo.count(key)) {
    impl_->document_undo[key] =
        it == impl_->documents.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  if (impl_->sp_active && !impl_->sp_document_undo.count(key)) {
    impl_->sp_document_undo[key] =
        it == impl_->documents.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  impl_->documents[key] = std::move(doc);
  return Status::Ok();
}

Result<bool> Store::DeleteDocument(std::string_view kind, std::string_view identifier) {
  if (!in_tx_) return Internal("DeleteDocument outside a transaction");
  Impl::DocKey key{std::string(kind), std::string(identifier)};
  auto it = impl_->documents.find(key);
  if (it == impl_->documents.end()) return false;
  if (!impl_->document_undo.count(key)) impl_->document_undo[key] = it->second;
  if (impl_->sp_active && !impl_->sp_document_undo.count(key)) {
    impl_->sp_document_undo[key] = it->second;
  }
  impl_->documents.erase(it);
  return true;
}

}  // namespace portolan::store
