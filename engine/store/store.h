// The entity store: blueprints and entities in memory, indexed by (blueprint, identifier) with
// forward and reverse relation indexes, made durable in a workspace's SQLite database (WAL).
//
// Writes happen inside a transaction (Begin ... Commit/Rollback): all or nothing, in memory and
// on disk. Every write records a Change so that derived properties can be recomputed for what it
// reaches (engine/derive). Port semantics (spec/port-data-model.md §5): create, upsert (override)
// and upsert+merge; validation with Port's error codes in Status::port_error().
//
// Thread-safety: not thread-safe; one writer at a time per workspace (SQLite locks the file).
#ifndef PORTOLAN_ENGINE_STORE_STORE_H_
#define PORTOLAN_ENGINE_STORE_STORE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/base/json.h"
#include "engine/base/status.h"
#include "engine/base/time.h"
#include "engine/model/blueprint.h"
#include "engine/store/entity.h"

struct sqlite3;

namespace portolan::store {

struct UpsertOptions {
  bool upsert = true;                   // false: create only (409 identifier_taken if present)
  bool merge = false;                   // with upsert: per-field merge instead of override
  bool create_missing_related = false;  // create barebones relation targets
  bool validation_only = false;         // validate, write nothing
  std::string datasource;               // recorded on the entity (resync ownership)
};

struct WriteOutcome {
  EntityKey key;
  bool created = false;
  bool changed = false;  // false when the upsert left the entity as it was
  std::vector<EntityKey> created_related;  // barebones entities created for relations
};

// One change to an entity within a transaction, with the entity as it was before the
// transaction first touched it (nullopt if it did not exist).
struct Change {
  EntityKey key;
  std::optional<Entity> before;
};

// A relation edge seen from its target: `source` points at the target through `relation`.
struct Referrer {
  const Entity* source;
  const std::string* relation;  // relation key declared on source's blueprint
};

class Store {
 public:
  // Opens (creating if needed) the workspace directory and its database, and loads every
  // blueprint and entity into memory. An empty `workspace` gives a purely in-memory store.
  static Result<std::unique_ptr<Store>> Open(const std::string& workspace, const Clock* clock);
  // Opens a workspace for a quick read of single entities: blueprints and metadata are loaded,
  // entities are not (use ReadEntity). Nothing may be written through such a store.
  static Result<std::unique_ptr<Store>> OpenForLookup(const std::string& workspace,
                                                      const Clock* clock);
  // Reads one entity straight from the database (nullopt when absent), derived values as last
  // computed. For stores opened with OpenForLookup.
  Result<std::optional<Entity>> ReadEntity(std::string_view blueprint,
                                           std::string_view identifier) const;
  ~Store();

  const model::Catalog& catalog() const { return catalog_; }
  const Clock& clock() const { return *clock_; }
  const std::string& workspace() const { return workspace_; }

  // Applies blueprints (all or nothing) and persists them. Within a transaction if one is open.
  Status ApplyBlueprints(std::vector<model::Blueprint> blueprints);
  // Deletes a blueprint; fails if it has entities or is referenced.
  Status DeleteBlueprint(std::string_view id);

  // ---- Reads. Pointers stay valid until the entity is deleted or the transaction rolls back.
  const Entity* Find(std::string_view blueprint, std::string_view identifier) const;
  // Entities of a blueprint in identifier order.
  std::vector<const Entity*> List(std::string_view blueprint) const;
  size_t Count(std::string_view blueprint) const;
  // Calls fn for each entity of a blueprint (unordered; fast).
  void ForEach(std::string_view blueprint, const std::function<void(const Entity&)>& fn) const;
  // Entities pointing at (blueprint, identifier), through any relation.
  const std::vector<Referrer>& Referrers(std::string_view blueprint,
                                         std::string_view identifier) const;

  // ---- Writes (inside Begin/Commit).
  // Creates or upserts an entity from a Port request body. The body's identifier may be a search
  // query ("map by property"); relation values may be search queries. Errors carry Port's code
  // in port_error(): bad_request, not_found, identifier_taken, blueprint_schema_mismatch,
  // required_relation, relation_many_violation, team_inheritance_enabled.
  Result<WriteOutcome> Upsert(std::string_view blueprint, const json::Value& body,
                              const UpsertOptions& options);
  // Deletes an entity. Without delete_dependents, fails (required_relation) when another entity
  // holds a required relation to it; other relations pointing at it are cleared. With it,
  // entities that point at it through required relations are deleted too (transitively).
  // Returns the deleted keys.
  Result<std::vector<EntityKey>> Delete(std::string_view blueprint, std::string_view identifier,
                                        bool delete_dependents);
  // Engine-owned: replaces the derived values of an entity (not a user change: updatedAt stays).
  // `entity` must be this store's own (from Find, List, ForEach or Referrers), not a copy: it is
  // written through without a lookup, so that a full recompute can call this once per entity.
  // In a transaction only the previous derived values are kept for rollback (unless the entity
  // itself was written in it), not a copy of the entity.
  void SetDerived(const Entity& entity, json::Value derived);

  // Entities whose datasource equals `datasource`.
  std::vector<EntityKey> KeysByDatasource(std::string_view datasource) const;

  // ---- Documents: JSON texts the catalog keeps beside its entities (pages, webhook
  // configurations, credentials, the intake queue), by (kind, identifier). Loaded at open;
  // written inside a transaction, all or nothing with everything else.
  std::optional<std::string> GetDocument(std::string_view kind, std::string_view identifier) const;
  // (identifier, document) of a kind, in identifier order.
  std::vector<std::pair<std::string, std::string>> ListDocuments(std::string_view kind) const;
  Status PutDocument(std::string_view kind, std::string_view identifier, std::string doc);
  // False when there was no such document.
  Result<bool> DeleteDocument(std::string_view kind, std::string_view identifier);

  // ---- Transactions.
  Status Begin();
  Status Commit();
  void Rollback();
  bool in_transaction() const { return in_tx_; }

  // One savepoint inside a transaction (not nested): RollbackToSavepoint undoes every entity,
  // document and meta change made since SetSavepoint, in memory (the transaction writes only at
  // Commit), and restores the pending changes as they were; ReleaseSavepoint keeps them. Lets
  // several writes share one commit, each all or nothing. Blueprint changes are refused under a
  // savepoint.
  Status SetSavepoint();
  void RollbackToSavepoint();
  void ReleaseSavepoint();

  // Changes since the last TakeChanges() (each key once, with its before-image).
  std::vector<Change> TakeChanges();

  // Workspace metadata (persisted key/value), e.g. the "now" derived values were computed for.
  std::optional<std::string> GetMeta(std::string_view key) const;
  void SetMeta(std::string_view key, std::string value);

 private:
  Store(std::string workspace, const Clock* clock);
  static Result<std::unique_ptr<Store>> OpenImpl(const std::string& workspace, const Clock* clock,
                                                 bool load_entities);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  model::Catalog catalog_;
  std::string workspace_;
  const Clock* clock_;
  bool in_tx_ = false;
};

// Reads the documents of a kind straight from a workspace's database, on a connection of its
// own (what another process committed since a Store was opened). (identifier, document) pairs.
Result<std::vector<std::pair<std::string, std::string>>> ReadDocuments(
    const std::string& workspace, std::string_view kind);

// The database file inside a workspace directory.
std::string DatabasePath(const std::string& workspace);

}  // namespace portolan::store

#endif  // PORTOLAN_ENGINE_STORE_STORE_H_
