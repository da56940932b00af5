#include "mapping/sync.h"

#include <cstdio>

#include "mapping/internal/python.h"

namespace portolan::mapping {

std::string NormalizeIdentifier(const json::Value& identifier) {
  if (identifier.is_string()) return identifier.as_string();
  if (identifier.is_array() || identifier.is_object()) {
    json::WriteOptions options;
    options.sort_keys = true;
    return json::Write(identifier, options);
  }
  return internal::PythonStr(identifier);
}

EntityKey KeyOf(const json::Value& entity) {
  return {NormalizeIdentifier(entity.Get("blueprint")),
          NormalizeIdentifier(entity.Get("identifier"))};
}

namespace {

std::string Percent(double rate) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", rate * 100);
  std::string s = buf;
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  return s + "%";
}

}  // namespace

DeletePlan PlanDeletion(std::span<const EntityKey> before, std::span<const EntityKey> after,
                        size_t errors, double threshold,
                        const std::set<EntityKey>& protected_keys) {
  DeletePlan plan;
  std::set<EntityKey> previous(before.begin(), before.end());
  std::set<EntityKey> current(after.begin(), after.end());
  std::vector<EntityKey> missing;
  for (const auto& key : previous) {
    if (!current.count(key)) missing.push_back(key);
  }
  plan.before = previous.size();
  plan.missing = missing.size();
  plan.rate = previous.empty()
                  ? 0
                  : static_cast<double>(missing.size()) / static_cast<double>(previous.size());
  if (errors > 0) {
    plan.skip = true;
    plan.reason = "skipping delete phase: " + std::to_string(errors) +
                  (errors == 1 ? " item error" : " item errors");
    return plan;
  }
  if (missing.empty()) return plan;
  if (!(plan.rate <= threshold)) {
    plan.skip = true;
    plan.reason = "skipping delete phase: deleting " + std::to_string(missing.size()) + " of " +
                  std::to_string(previous.size()) + " entities (" + Percent(plan.rate) +
                  ") exceeds entityDeletionThreshold " + json::FormatNumber(threshold);
    return plan;
  }
  for (auto& key : missing) {
    (protected_keys.count(key) ? plan.protected_kept : plan.to_delete).push_back(std::move(key));
  }
  return plan;
}

}  // namespace portolan::mapping
