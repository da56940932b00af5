// The delete decision of a full resync (ocean-mapping spec §6.2, §6.3), as a pure function:
// which entities that an earlier run of this datasource produced must now be deleted, or why
// the delete phase is skipped.
//
//   deleted = keys(before) - keys(after);  rate = |deleted| / |before|
//   delete iff the run recorded no error and rate <= entityDeletionThreshold
//
// rate == threshold deletes; threshold 0 never deletes once something is missing; 0.9 refuses a
// 100% wipe. Relation targets of kept entities (Ocean's safe delete, applied only when
// createMissingRelatedEntities is on) can be passed as `protected_keys`: they are kept, after
// the rate check, as Ocean does.
#ifndef PORTOLAN_MAPPING_SYNC_H_
#define PORTOLAN_MAPPING_SYNC_H_

#include <set>
#include <span>
#include <string>
#include <vector>

#include "engine/base/json.h"
#include "engine/store/entity.h"

namespace portolan::mapping {

// An entity's identity for reconciliation: the store's key (blueprint, normalized identifier).
using store::EntityKey;

// Ocean's normalize(): the string itself for strings, str() for numbers and booleans ("123",
// "True"), sorted-key compact JSON for objects (search identifiers) and arrays.
std::string NormalizeIdentifier(const json::Value& identifier);
// The key of an entity body ({identifier, blueprint, ...}); a non-string blueprint is
// normalized the same way.
EntityKey KeyOf(const json::Value& entity);

struct DeletePlan {
  bool skip = false;
  std::string reason;                     // "skipping delete phase: ..." when `skip`
  std::vector<EntityKey> to_delete;       // sorted; empty when skipped
  std::vector<EntityKey> protected_kept;  // missing but kept as relation targets
  size_t before = 0;                      // distinct keys in `before`
  size_t missing = 0;                     // distinct keys of `before` absent from `after`
  double rate = 0;                        // missing / before (0 when before is empty)
};

// `errors`: how many errors the run recorded (ItemError count, extract failures, ...).
// Reasons: "skipping delete phase: 3 item errors",
// "skipping delete phase: deleting 10 of 10 entities (100%) exceeds entityDeletionThreshold 0.9".
DeletePlan PlanDeletion(std::span<const EntityKey> before, std::span<const EntityKey> after,
                        size_t errors, double threshold,
                        const std::set<EntityKey>& protected_keys = {});

}  // namespace portolan::mapping

#endif  // PORTOLAN_MAPPING_SYNC_H_
