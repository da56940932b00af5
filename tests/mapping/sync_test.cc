#include "mapping/sync.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace portolan::mapping {
namespace {

std::vector<EntityKey> Keys(int from, int to, const std::string& blueprint = "deployment") {
  std::vector<EntityKey> keys;
  for (int i = from; i < to; ++i) keys.push_back({blueprint, "d" + std::to_string(i)});
  return keys;
}

TEST(SyncTest, DeletesWhatIsMissingWithinTheThreshold) {
  DeletePlan p = PlanDeletion(Keys(0, 10), Keys(0, 8), 0, 0.9);
  EXPECT_FALSE(p.skip);
  EXPECT_EQ(p.to_delete, (std::vector<EntityKey>{{"deployment", "d8"}, {"deployment", "d9"}}));
  EXPECT_EQ(p.before, 10u);
  EXPECT_EQ(p.missing, 2u);
  EXPECT_DOUBLE_EQ(p.rate, 0.2);
}

TEST(SyncTest, RateEqualToThresholdDeletes) {
  DeletePlan p = PlanDeletion(Keys(0, 10), Keys(0, 1), 0, 0.9);
  EXPECT_FALSE(p.skip);
  EXPECT_EQ(p.to_delete.size(), 9u);
  DeletePlan half = PlanDeletion(Keys(0, 4), Keys(0, 2), 0, 0.5);
  EXPECT_FALSE(half.skip);
  EXPECT_EQ(half.to_delete.size(), 2u);
}

TEST(SyncTest, RefusesAFullWipeAtTheDefaultThreshold) {
  DeletePlan p = PlanDeletion(Keys(0, 10), {}, 0, 0.9);
  EXPECT_TRUE(p.skip);
  EXPECT_TRUE(p.to_delete.empty());
  EXPECT_EQ(p.reason,
            "skipping delete phase: deleting 10 of 10 entities (100%) exceeds "
            "entityDeletionThreshold 0.9");
  DeletePlan third = PlanDeletion(Keys(0, 3), Keys(0, 2), 0, 0.25);
  EXPECT_EQ(third.reason,
            "skipping delete phase: deleting 1 of 3 entities (33.3%) exceeds "
            "entityDeletionThreshold 0.25");
}

TEST(SyncTest, ThresholdZeroNeverDeletesOnceSomethingIsMissing) {
  DeletePlan p = PlanDeletion(Keys(0, 1000), Keys(0, 999), 0, 0.0);
  EXPECT_TRUE(p.skip);
  EXPECT_EQ(p.reason,
            "skipping delete phase: deleting 1 of 1000 entities (0.1%) exceeds "
            "entityDeletionThreshold 0");
  DeletePlan nothing_missing = PlanDeletion(Keys(0, 5), Keys(0, 6), 0, 0.0);
  EXPECT_FALSE(nothing_missing.skip);
  EXPECT_TRUE(nothing_missing.to_delete.empty());
}

TEST(SyncTest, ThresholdOneAllowsAFullWipe) {
  DeletePlan p = PlanDeletion(Keys(0, 3), {}, 0, 1.0);
  EXPECT_FALSE(p.skip);
  EXPECT_EQ(p.to_delete.size(), 3u);
}

TEST(SyncTest, AnyErrorSkipsTheDeletePhase) {
  DeletePlan p = PlanDeletion(Keys(0, 10), Keys(0, 9), 3, 0.9);
  EXPECT_TRUE(p.skip);
  EXPECT_EQ(p.reason, "skipping delete phase: 3 item errors");
  EXPECT_TRUE(p.to_delete.empty());
  EXPECT_EQ(PlanDeletion(Keys(0, 1), {}, 1, 1.0).reason, "skipping delete phase: 1 item error");
}

TEST(SyncTest, EmptyBeforeDeletesNothing) {
  DeletePlan p = PlanDeletion({}, Keys(0, 3), 0, 0.9);
  EXPECT_FALSE(p.skip);
  EXPECT_TRUE(p.to_delete.empty());
  EXPECT_EQ(p.rate, 0);
}

TEST(SyncTest, KeysIncludeTheBlueprintAndAreDeduplicated) {
  std::vector<EntityKey> before = {{"service", "a"}, {"deployment", "a"}, {"service", "a"}};
  std::vector<EntityKey> after = {{"service", "a"}};
  DeletePlan p = PlanDeletion(before, after, 0, 0.5);
  EXPECT_EQ(p.before, 2u);
  EXPECT_EQ(p.to_delete, (std::vector<EntityKey>{{"deployment", "a"}}));
}

TEST(SyncTest, ProtectedRelationTargetsAreKeptAfterTheRateCheck) {
  DeletePlan p = PlanDeletion(Keys(0, 4), Keys(0, 2), 0, 0.5, {{"deployment", "d3"}});
  EXPECT_FALSE(p.skip);
  EXPECT_EQ(p.to_delete, (std::vector<EntityKey>{{"deployment", "d2"}}));
  EXPECT_EQ(p.protected_kept, (std::vector<EntityKey>{{"deployment", "d3"}}));
}

TEST(SyncTest, NormalizesIdentifiersLikeOcean) {
  EXPECT_EQ(NormalizeIdentifier(json::Value("svc")), "svc");
  EXPECT_EQ(NormalizeIdentifier(json::Value(123.0)), "123");
  EXPECT_EQ(NormalizeIdentifier(json::Value(1.5)), "1.5");
  EXPECT_EQ(NormalizeIdentifier(json::Value(true)), "True");
  auto query = json::Parse(R"({"rules":[{"value":"x","property":"p"}],"combinator":"and"})");
  ASSERT_TRUE(query.ok());
  EXPECT_EQ(NormalizeIdentifier(*query),
            R"({"combinator":"and","rules":[{"property":"p","value":"x"}]})");
  auto entity = json::Parse(R"({"identifier":42,"blueprint":"deployment","title":"t"})");
  ASSERT_TRUE(entity.ok());
  EXPECT_EQ(KeyOf(*entity), (EntityKey{"deployment", "42"}));
}

}  // namespace
}  // namespace portolan::mapping
