// Derived properties: mirror (§3), calculation (§4) and aggregation (§7) values over relation
// paths, computed into Entity::derived in dependency order, incrementally after each write.
//
// The dependency graph has one node per (blueprint, derived property); it is built by Bind()
// from the store's catalog, and a cycle is an error naming the properties. After a write, only
// the entities the change set reaches are recomputed; RecomputeAll() gives identical values.
//
// Usage (one write): store.Begin(); store.Upsert(...)...; engine.Apply(store.TakeChanges(),
// now); store.Commit(). Apply() handles a moved now too; EnsureFresh() alone serves reads.
// Bookkeeping lives in the store's meta (persisted with the values): derived_now (the now of the
// stored values), derived_epoch (detects a rolled-back Apply), derived_catalog (the definitions
// the values were computed with). A new engine, or one whose Apply was rolled back, starts
// "cold" from the stored values when they match its definitions; otherwise it recomputes all.
// After blueprint changes: Bind() then RecomputeAll().
//
// Semantics chosen where Port is silent (DESIGN §2; see engine/derive/README.md):
// - mirror: forward hops only; a many hop gives an array in relation-array order, repeats kept,
//   nulls left out; null when a hop reaches nothing.
// - aggregation: no pathFilter = upstream ∪ downstream closure, never mixed, without the source
//   itself; each target counted once; count/sum of nothing -> 0, others -> null; median of an
//   even count = mean of the two middle values; by-property functions skip non-numbers;
//   averageOf total by entities = |M|; time averages: periods = max(1, ceil(span / unit)) with
//   month = 30 d, span = max - min of measureTimeBy (or now - min with span_end_now), rounded to
//   milliseconds; entities without a parseable measureTimeBy are left out of the average
//   entirely (numerator and span); count with averageOf = count. Sums are exact (order-free).
// - calculation: input {identifier, title, icon, blueprint, team, properties (raw + mirror +
//   aggregation), relations, createdAt, updatedAt}; first output; error or none -> null; `now`
//   is the engine's now.
//
// Thread-safety: not thread-safe; owned by the single writer of a Store. A full recompute uses
// worker threads internally for reads only.
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
  // Entities of one blueprint below which a full pass stays on the calling thread.
  size_t parallel_threshold = 20000;
  // Calculations in the native jq subset run natively (results identical to libjq's, see
  // internal/calc_expr.h); false runs every calculation on libjq.
  bool native_calculations = true;
};

class Engine {
 public:
  Engine(store::Store* store, Options options = {});
  ~Engine();

  // Builds the dependency graph from the store's catalog and compiles calculation jq (programs
  // in the natively evaluated subset are compiled by libjq only if ever needed).
  // Errors: kFailedPrecondition for a cycle ("cycle between derived properties: service.a ->
  // _team.b -> service.a") or a path the catalog cannot walk; kInvalidArgument for a
  // calculation that does not compile or an invalid aggregation spec/query.
  Status Bind();

  // Recomputes every derived value of every entity for `now`, from the store as it is (pending
  // store changes are covered, and taken).
  Status RecomputeAll(double now);

  // Recomputes what `changes` reach (the entities changed, the entities mirroring or aggregating
  // over them, transitively), for `now`; if now moved since the last call, also the values that
  // depend on it. Errors: query evaluation errors (malformed queries; prevented by Bind()).
  Status Apply(const std::vector<store::Change>& changes, double now);

  // Makes every derived value valid for `now` and for the store as it is: pending store changes
  // are taken and applied; values that depend on "now" (date presets in an aggregation query,
  // `now` in a calculation, span_end_now) and were computed for another now are recomputed,
  // with everything that depends on them. Cheap when nothing changed.
  Status EnsureFresh(double now);

  // How a derived value was obtained (for `portolan explain`): the kind, the relation path
  // walked, the targets that matched and why others were excluded, the function, its inputs and
  // periods, or the calculation jq with its input document.
  Result<json::Value> Explain(std::string_view blueprint, std::string_view identifier,
                              std::string_view property, double now);

  // True when every aggregation has its incremental state (after RecomputeAll in this process,
  // and no failed Apply since): a write then costs the targets it changes. A cold engine (fresh
  // from the stored values, or after a failed Apply) rebuilds each source a write reaches from
  // all its targets; a long-running writer (the server) warms it with RecomputeAll.
  bool warm() const;

  // What the last RecomputeAll / Apply / EnsureFresh did, for benchmarks and diagnostics.
  struct Stats {
    bool full = false;              // a full recompute (RecomputeAll, or no trusted values)
    double seconds = 0;             // wall time of the call
    int64_t values_computed = 0;    // mirror, calculation and aggregation values computed
    int64_t calculations = 0;       // calculation evaluations (native or libjq)
    int64_t targets_visited = 0;    // aggregation target contributions evaluated
    int64_t sources_rebuilt = 0;    // sources recomputed from their targets (structural, cold)
    int64_t full_aggregations = 0;  // aggregations recomputed in full (now moved back, relatedTo)
    // Seconds per step ("pass over deployment", "  evaluate deployment (2 threads)",
    // "aggregations service <- deployment [closure]", "calculations service", "write"), in
    // execution order.
    std::vector<std::pair<std::string, double>> steps;
  };
  const Stats& last_stats() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace portolan::derive

#endif  // PORTOLAN_ENGINE_DERIVE_DERIVE_H_
