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

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/base/json.h"
#include "engine/base/status.h"
#include "engine/store/store.h"

namespace portolan::derive {

struct Options {
  // Time averages (averageOf hour/day/week/month): span end is the latest matched time (default,
  // DESIGN §2) or "now".
  bool span_end_now = false;
  // Threads for the read-only part of a full recompute (walks, queries, contributions);
  // 0 = the hardware's concurrency. Writes to the store stay on the calling thread.
  int threads = 0;
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

  // What the last RecomputeAll / Apply / EnsureFresh did, for benchmarks and diagnostics.
  struct Stats {
    bool full = false;               // a full recompute (RecomputeAll, or state rebuilt)
    double seconds = 0;              // wall time of the call
    int64_t values_computed = 0;     // mirror, calculation and aggregation values computed
    int64_t calculations = 0;        // jq evaluations
    int64_t targets_visited = 0;     // aggregation target contributions evaluated
    int64_t sources_rebuilt = 0;     // sources recomputed from scratch (structural changes)
    int64_t full_aggregations = 0;   // aggregations recomputed in full (now moved, relatedTo)
    // Time per step ("mirror deployment.x", "aggregations service <- deployment [closure]",
    // "calculations service"), in execution order.
    std::vector<std::pair<std::string, double>> steps;
  };
  const Stats& last_stats() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace portolan::derive

#endif  // PORTOLAN_ENGINE_DERIVE_DERIVE_H_
