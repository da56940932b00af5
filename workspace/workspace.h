// The library's front door: a workspace (a directory holding the catalog's database), opened
// with its store, its derived-property engine and its clock. Every shell (the CLI, the server,
// tests) writes through Workspace::Write and reads after Workspace::Refresh, so that derived
// values are current for the workspace's "now" whenever a write is acknowledged.
//
// Thread-safety: a Workspace is not thread-safe. The server serializes writers and lets readers
// share it between writes (server/catalog_service.h).
#ifndef PORTOLAN_WORKSPACE_WORKSPACE_H_
#define PORTOLAN_WORKSPACE_WORKSPACE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/status.h"
#include "engine/base/time.h"
#include "engine/derive/derive.h"
#include "engine/model/blueprint.h"
#include "engine/store/store.h"

namespace portolan::workspace {

struct OpenOptions {
  // Create the workspace (directory and database) when it does not exist; otherwise a missing
  // workspace is kNotFound with a hint.
  bool create = false;
  // A fixed clock (epoch seconds); nullopt = the wall clock, read at each now().
  std::optional<double> now;
  derive::Options derive;
};

// The workspace directory: `flag` when given, else $PORTOLAN_WORKSPACE, else ./.portolan.
std::string ResolvePath(const std::string& flag);

class Workspace {
 public:
  // Opens the workspace at `path` and binds its derived properties.
  static Result<std::unique_ptr<Workspace>> Open(const std::string& path,
                                                 const OpenOptions& options = {});

  store::Store& store() { return *store_; }
  const store::Store& store() const { return *store_; }
  derive::Engine& engine() { return *engine_; }
  const model::Catalog& catalog() const { return store_->catalog(); }
  const std::string& path() const { return path_; }

  // The clock every derived value is computed for.
  double now() const { return clock_.Now(); }
  // Fixes the derived values' clock at `t` (the server moves it in steps); the next Write or
  // Refresh brings the values that depend on it to the new now. Entity timestamps
  // (createdAt/updatedAt) keep following the wall clock unless the workspace was opened with a
  // fixed now.
  void SetNow(double t) { clock_.Set(t); }

  // Runs `fn` in one transaction, recomputes the derived values its changes reach, and commits;
  // on any error rolls everything back (nothing half-written).
  Status Write(const std::function<Status()>& fn);

  // Makes derived values valid for now (recomputing time-dependent ones) and persists them.
  Status Refresh();

  // Group commit: between BeginBatch and EndBatch, each Write runs under a savepoint of one
  // shared transaction (all or nothing on its own; its derived values applied at once) and
  // EndBatch commits them together: one database commit for many writes. A write whose
  // derived-value pass fails breaks the batch (batch_broken()): AbortBatch then rolls every write
  // of it back, to be redone one by one. Blueprint changes cannot run in a batch.
  Status BeginBatch();
  Status EndBatch();
  void AbortBatch();
  bool in_batch() const { return in_batch_; }
  bool batch_broken() const { return batch_broken_; }

  // Runs `fn` (which validates by writing) and undoes what it wrote.
  Status Validate(const std::function<Status()>& fn);

  // Creates or updates blueprints (all or nothing) and backfills every derived value from the
  // data already stored. Errors name the blueprint and property; nothing is applied on error.
  Status ApplyBlueprints(std::vector<model::Blueprint> blueprints);
  // Deletes a blueprint that has no entities and that nothing references.
  Status DeleteBlueprint(const std::string& identifier);
  // Deletes an entity (and, with `dependents`, what holds a required relation to it); returns
  // the deleted keys.
  Result<std::vector<store::EntityKey>> DeleteEntity(const std::string& blueprint,
                                                     const std::string& identifier,
                                                     bool dependents);
  // Recomputes every derived value from scratch.
  Status RecomputeAll();
  // Makes later writes incremental (derive::Engine::warm): recomputes everything once if the
  // engine is cold. For long-running writers; a one-shot CLI command does not need it.
  Status Warm();

 private:
  Workspace() = default;
  Clock clock_;        // derived values' now
  Clock meta_clock_;   // entity timestamps
  std::string path_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<derive::Engine> engine_;
  bool in_batch_ = false;
  bool batch_broken_ = false;
};

// Parses Port blueprint JSON files, arrays or directories into blueprints. Every file's errors
// are collected (one line each, naming the file and JSON pointer) before failing.
Result<std::vector<model::Blueprint>> LoadBlueprintFiles(const std::vector<std::string>& paths);

}  // namespace portolan::workspace

#endif  // PORTOLAN_WORKSPACE_WORKSPACE_H_
