// Derived properties: mirror (§3), calculation (§4) and aggregation (§7) values over relation
// paths, computed into Entity::derived in dependency order, incrementally after each write.
//
// The dependency graph has one node per (blueprint, derived property); it is built by Bind()
// from the store's catalog, and a cycle is an error naming the properties. After a write, only
// the entities the change set reaches are recomputed; RecomputeAll() gives identical values.
//
// Thread-safety: none; owned by the single writer of a Store.
#ifndef PORTOLAN_ENGINE_DERIVE_DERIVE_H_
#define PORTOLAN_ENGINE_DERIVE_DERIVE_H_

#include <memory>
#include <string>
#include <vector>

#include "engine/base/json.h"
#include "engine/base/status.h"
#include "engine/store/store.h"

namespace portolan::derive {

struct Options {
  // Time averages (averageOf hour/day/week/month): span end is the latest matched time (default,
  // DESIGN §2) or "now".
  bool span_end_now = false;
};

class Engine {
 public:
  Engine(store::Store* store, Options options = {});
  ~Engine();

  // Builds the dependency graph from the store's catalog and compiles calculation jq.
  // Errors: a cycle (naming the properties), a calculation that does not compile.
  Status Bind();

  // Recomputes every derived value of every entity for `now`.
  Status RecomputeAll(double now);

  // Recomputes what `changes` reach (the entities changed, the entities mirroring or aggregating
  // over them, transitively), for `now`.
  Status Apply(const std::vector<store::Change>& changes, double now);

  // Makes every derived value valid for `now`: values that depend on "now" (date presets in an
  // aggregation query, `now` in a calculation) and were computed for another "now" are
  // recomputed, with everything that depends on them.
  Status EnsureFresh(double now);

  // How a derived value was obtained (for `portolan explain`): the kind, the relation path
  // walked, the targets that matched and why others were excluded, the function, its inputs and
  // periods, or the calculation jq with its input document.
  Result<json::Value> Explain(std::string_view blueprint, std::string_view identifier,
                              std::string_view property, double now);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace portolan::derive

#endif  // PORTOLAN_ENGINE_DERIVE_DERIVE_H_
