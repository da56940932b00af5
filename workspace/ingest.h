// The ingest session: payloads through an Ocean mapping into the workspace, in one transaction.
// `ingest` upserts; a full resync (`sync`) then deletes what this mapping produced before and no
// longer produces, within entityDeletionThreshold and only when no item failed (mapping/sync.h).
//
// Entities are recorded with the datasource "<source>#<kind>", so a later resync of the same
// mapping knows what it owns. Items that fail to map are reported and the others written (as
// Ocean does); an entity that cannot be written (schema violation, unknown relation target)
// fails the whole session and nothing is written.
#ifndef PORTOLAN_WORKSPACE_INGEST_H_
#define PORTOLAN_WORKSPACE_INGEST_H_

#include <cstddef>
#include <functional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "engine/base/json.h"
#include "engine/base/status.h"
#include "mapping/processor.h"
#include "mapping/replay.h"
#include "workspace/workspace.h"

namespace portolan::workspace {

struct IngestOptions {
  std::string kind;  // "" = every resource of the mapping
  bool full_resync = false;
  // Names the datasource the entities are recorded with ("<source>#<kind>"): the mapping
  // file's name for the CLI, "webhook:<identifier>" for a webhook.
  std::string source;
  std::string items_path;  // payload files only
  size_t threads = 0;      // payload files only; 0 = by input size
  std::function<void(size_t items)> on_progress;
  // Resources whose entities are deleted instead of upserted (a webhook mapping's "delete"
  // operation), with their dependents when `delete_dependents`. Missing entities are no error.
  std::set<size_t> delete_resources;
  bool delete_dependents = false;
  // More writes of the caller's, run inside the session's transaction after the entities'.
  std::function<Status()> also;
};

struct IngestReport {
  size_t upserted = 0;   // created or changed
  size_t unchanged = 0;  // upserted to the same values
  size_t skipped = 0;    // filtered out by a selector
  size_t deleted = 0;    // by the resync (dependents included)
  size_t related_created = 0;  // barebones relation targets
  std::string delete_note;     // why the resync skipped its delete phase, if it did
  std::vector<std::string> item_errors;  // items that failed to map (the others were written)
  std::vector<store::EntityKey> written;  // every entity upserted, in order

  // "12 upserted, 0 unchanged, 1 skipped[, 2 related entities created][, 3 deleted]"
  std::string Summary(bool full_resync) const;
};

class IngestSession {
 public:
  IngestSession(Workspace* workspace, mapping::Mapper* mapper, IngestOptions options);

  // Maps payload files (streamed, threaded: mapping/replay.h) and writes the result.
  Result<IngestReport> RunFiles(const std::vector<std::string>& payloads);
  // Maps items held in memory and writes the result.
  Result<IngestReport> RunItems(std::span<const json::Value> items);

 private:
  using Producer = std::function<Status(const std::function<Status(mapping::MapResult)>&)>;
  Result<IngestReport> Run(const Producer& produce);

  Workspace* ws_;
  mapping::Mapper* mapper_;
  IngestOptions options_;
};

}  // namespace portolan::workspace

#endif  // PORTOLAN_WORKSPACE_INGEST_H_
