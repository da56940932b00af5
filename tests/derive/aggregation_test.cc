// Aggregation properties (spec §7, DESIGN §2) through the engine: every function and option,
// empty sets, null skipping, the spec's worked example, path filters with and without
// fromBlueprint, multi-hop paths, the no-pathFilter closure, incremental updates.
#include <gtest/gtest.h>

#include "engine/derive/internal/graph.h"
#include "tests/derive/derive_fixture.h"

namespace portolan::derive::testing {
namespace {

// Aggregations on `service` over its deployments (pathFilter fromBlueprint deployment).
const char* kFunctionBlueprints = R"json([
  {"identifier": "service", "title": "Service", "schema": {"properties": {}},
   "aggregationProperties": {
     "n": {"title": "n", "target": "deployment",
           "pathFilter": [{"fromBlueprint": "deployment", "path": ["service"]}],
           "calculationSpec": {"func": "count", "calculationBy": "entities"}},
     "ok": {"title": "ok", "target": "deployment",
            "pathFilter": [{"fromBlueprint": "deployment", "path": ["service"]}],
            "query": {"combinator": "and", "rules": [
              {"property": "status", "operator": "=", "value": "Success"}]},
            "calculationSpec": {"func": "count", "calculationBy": "entities"}},
     "sum": {"title": "sum", "target": "deployment",
             "pathFilter": [{"fromBlueprint": "deployment", "path": ["service"]}],
             "calculationSpec": {"func": "sum", "calculationBy": "property", "property": "lead"}},
     "avg": {"title": "avg", "target": "deployment",
             "pathFilter": [{"fromBlueprint": "deployment", "path": ["service"]}],
             "calculationSpec": {"func": "average", "calculationBy": "property",
                                 "property": "lead", "averageOf": "total"}},
     "min": {"title": "min", "target": "deployment",
             "pathFilter": [{"fromBlueprint": "deployment", "path": ["service"]}],
             "calculationSpec": {"func": "min", "calculationBy": "property", "property": "lead"}},
     "max": {"title": "max", "target": "deployment",
             "pathFilter": [{"fromBlueprint": "deployment", "path": ["service"]}],
             "calculationSpec": {"func": "max", "calculationBy": "property", "property": "lead"}},
     "median": {"title": "median", "target": "deployment",
                "pathFilter": [{"fromBlueprint": "deployment", "path": ["service"]}],
                "calculationSpec": {"func": "median", "calculationBy": "property",
                                    "property": "lead"}},
     "per_hour": {"title": "h", "target": "deployment",
                  "pathFilter": [{"fromBlueprint": "deployment", "path": ["service"]}],
                  "calculationSpec": {"func": "average", "calculationBy": "entities",
                                      "averageOf": "hour"}},
     "per_day": {"title": "d", "target": "deployment",
                 "pathFilter": [{"fromBlueprint": "deployment", "path": ["service"]}],
                 "calculationSpec": {"func": "average", "calculationBy": "entities",
                                     "averageOf": "day", "measureTimeBy": "$createdAt"}},
     "per_week": {"title": "w", "target": "deployment",
                  "pathFilter": [{"fromBlueprint": "deployment", "path": ["service"]}],
                  "calculationSpec": {"func": "average", "calculationBy": "entities",
                                      "averageOf": "week"}},
     "per_month": {"title": "m", "target": "deployment",
                   "pathFilter": [{"fromBlueprint": "deployment", "path": ["service"]}],
                   "calculationSpec": {"func": "average", "calculationBy": "entities",
                                       "averageOf": "month"}},
     "per_total": {"title": "t", "target": "deployment",
                   "pathFilter": [{"fromBlueprint": "deployment", "path": ["service"]}],
                   "calculationSpec": {"func": "average", "calculationBy": "entities",
                                       "averageOf": "total"}},
     "lead_per_day": {"title": "ld", "target": "deployment",
                      "pathFilter": [{"fromBlueprint": "deployment", "path": ["service"]}],
                      "calculationSpec": {"func": "average", "calculationBy": "property",
                                          "property": "lead", "averageOf": "day"}},
     "by_at_week": {"title": "aw", "target": "deployment",
                    "pathFilter": [{"fromBlueprint": "deployment", "path": ["service"]}],
                    "calculationSpec": {"func": "average", "calculationBy": "entities",
                                        "averageOf": "week", "measureTimeBy": "at"}},
     "lenient": {"title": "count with averageOf", "target": "deployment",
                 "pathFilter": [{"fromBlueprint": "deployment", "path": ["service"]}],
                 "calculationSpec": {"func": "count", "calculationBy": "entities",
                                     "averageOf": "week", "measureTimeBy": "$createdAt"}}}},
  {"identifier": "deployment", "title": "Deployment",
   "schema": {"properties": {"lead": {"type": "number"}, "status": {"type": "string"},
                             "at": {"type": "string", "format": "date-time"}}},
   "relations": {"service": {"target": "service", "many": false, "required": false}}}
])json";

class FunctionsTest : public DeriveTest {
 protected:
  void SetUp() override {
    DeriveTest::SetUp();
    Status s = LoadBlueprints(kFunctionBlueprints);
    ASSERT_TRUE(s.ok()) << s.message();
    Put("service", R"({"identifier": "s1"})");
    Put("service", R"({"identifier": "empty"})");
    // s1: four deployments from Mon 10:00 to Wed 12:00 (span 2 d 2 h = 50 h).
    Put("deployment", R"({"identifier": "d1", "properties": {"lead": 10, "status": "Success",
        "at": "2024-03-04T10:00:00Z"}, "relations": {"service": "s1"}})",
        T("2024-03-04T10:00:00Z"));
    Put("deployment", R"({"identifier": "d2", "properties": {"lead": 20, "status": "Failed",
        "at": "2024-03-20T10:00:00Z"}, "relations": {"service": "s1"}})",
        T("2024-03-04T13:00:00Z"));
    Put("deployment", R"({"identifier": "d3", "properties": {"status": "Success"},
        "relations": {"service": "s1"}})",
        T("2024-03-05T10:00:00Z"));
    Put("deployment", R"({"identifier": "d4", "properties": {"lead": 60, "status": "Success"},
        "relations": {"service": "s1"}})",
        T("2024-03-06T12:00:00Z"));
  }
};

TEST_F(FunctionsTest, CountSumMinMaxMedian) {
  EXPECT_EQ(D("service", "s1", "n"), json::Value(4));
  EXPECT_EQ(D("service", "s1", "ok"), json::Value(3));    // d1, d3, d4
  EXPECT_EQ(D("service", "s1", "sum"), json::Value(90));  // 10 + 20 + 60 (d3 has no lead)
  EXPECT_EQ(D("service", "s1", "min"), json::Value(10));
  EXPECT_EQ(D("service", "s1", "max"), json::Value(60));
  EXPECT_EQ(D("service", "s1", "median"), json::Value(20));  // odd: 10 [20] 60
  Put("deployment", R"({"identifier": "d5", "properties": {"lead": 40},
      "relations": {"service": "s1"}})",
      T("2024-03-06T12:00:00Z"));
  EXPECT_EQ(D("service", "s1", "median"), json::Value(30));  // even: 10 20 40 60 -> (20+40)/2
  ExpectConsistent();
}

TEST_F(FunctionsTest, AverageTotalSkipsNulls) {
  // Σ lead / number of numeric values = 90 / 3 = 30 (d3's null is skipped, not counted as 0).
  EXPECT_EQ(D("service", "s1", "avg"), json::Value(30));
  // By entities with averageOf total: |M| = 4.
  EXPECT_EQ(D("service", "s1", "per_total"), json::Value(4));
}

TEST_F(FunctionsTest, TimeAverages) {
  // Span Mon 10:00 -> Wed 12:00 = 50 h.
  // hour: periods = ceil(50 / 1) = 50 -> 4 / 50 = 0.08
  EXPECT_EQ(D("service", "s1", "per_hour"), json::Value(0.08));
  // day: ceil(50 / 24) = ceil(2.083) = 3 -> 4 / 3
  EXPECT_EQ(N("service", "s1", "per_day"), 4.0 / 3);
  // week: max(1, ceil(50 / 168)) = 1 -> 4
  EXPECT_EQ(D("service", "s1", "per_week"), json::Value(4));
  // month (30 d): 1 -> 4
  EXPECT_EQ(D("service", "s1", "per_month"), json::Value(4));
  // By property over days: entities with a lead (d1, d2, d4) span Mon 10:00 -> Wed 12:00,
  // 3 periods: (10 + 20 + 60) / 3 = 30.
  EXPECT_EQ(D("service", "s1", "lead_per_day"), json::Value(30));
  // measureTimeBy a date-time property: only d1 (Mar 4) and d2 (Mar 20) have "at"; d3, d4 are
  // left out entirely. Span 16 d -> ceil(16 / 7) = 3 weeks -> 2 / 3.
  EXPECT_EQ(N("service", "s1", "by_at_week"), 2.0 / 3);
  // Lenient count: averageOf on count is ignored.
  EXPECT_EQ(D("service", "s1", "lenient"), json::Value(4));
}

TEST_F(FunctionsTest, EmptySets) {
  EXPECT_EQ(D("service", "empty", "n"), json::Value(0));
  EXPECT_EQ(D("service", "empty", "sum"), json::Value(0));
  for (const char* k : {"avg", "min", "max", "median", "per_hour", "per_day", "per_week",
                        "per_month", "per_total", "lead_per_day", "by_at_week"}) {
    EXPECT_TRUE(D("service", "empty", k).is_null()) << k;
  }
}

TEST_F(FunctionsTest, IncrementalUpdatesAndMoves) {
  // Change a value: sum 90 -> 100, max 60 -> 70.
  Put("deployment", R"({"identifier": "d4", "properties": {"lead": 70, "status": "Success"},
      "relations": {"service": "s1"}})");
  EXPECT_EQ(D("service", "s1", "sum"), json::Value(100));
  EXPECT_EQ(D("service", "s1", "max"), json::Value(70));
  // Query membership flips: d2 becomes Success -> ok 4.
  Put("deployment", R"({"identifier": "d2", "properties": {"lead": 20, "status": "Success"},
      "relations": {"service": "s1"}})");
  EXPECT_EQ(D("service", "s1", "ok"), json::Value(4));
  // Move d1 to the other service.
  Put("deployment", R"({"identifier": "d1", "properties": {"lead": 10, "status": "Success"},
      "relations": {"service": "empty"}})");
  EXPECT_EQ(D("service", "s1", "n"), json::Value(3));
  EXPECT_EQ(D("service", "empty", "n"), json::Value(1));
  EXPECT_EQ(D("service", "empty", "sum"), json::Value(10));
  EXPECT_EQ(D("service", "s1", "min"), json::Value(20));
  // d1 kept its $createdAt (Mon 10:00); s1 now spans Mon 13:00 -> Wed 12:00 = 47 h -> 2 days.
  EXPECT_EQ(D("service", "s1", "per_day"), json::Value(1.5));  // 3 / 2
  Delete("deployment", "d4");
  EXPECT_EQ(D("service", "s1", "n"), json::Value(2));
  EXPECT_EQ(D("service", "s1", "max"), json::Value(20));
  Delete("service", "empty");  // d1's relation is cleared
  EXPECT_TRUE(store_->Find("deployment", "d1")->relations.Get("service").is_null());
  ExpectConsistent();
}

// ---- The spec's worked example -----------------------------------------------------------------

TEST_F(DeriveTest, WorkedExampleNineDeploysMondayToWednesday) {
  ASSERT_TRUE(LoadBlueprints(R"([
    {"identifier": "service", "title": "Service", "schema": {"properties": {}},
     "aggregationProperties": {
       "per_day": {"title": "d", "target": "deployment",
                   "calculationSpec": {"func": "average", "calculationBy": "entities",
                                       "averageOf": "day", "measureTimeBy": "$createdAt"}},
       "per_week": {"title": "w", "target": "deployment",
                    "calculationSpec": {"func": "average", "calculationBy": "entities",
                                        "averageOf": "week", "measureTimeBy": "$createdAt"}}}},
    {"identifier": "deployment", "title": "Deployment", "schema": {"properties": {}},
     "relations": {"service": {"target": "service", "many": false, "required": false}}}])")
                  .ok());
  Put("service", R"({"identifier": "api"})");
  // 9 deployments, $createdAt Mon 2024-03-04T10:00Z ... Wed 2024-03-06T12:00Z every 6 h 15 min.
  const double mon10 = T("2024-03-04T10:00:00Z");
  for (int i = 0; i < 9; ++i) {
    Put("deployment",
        R"({"identifier": "d)" + std::to_string(i) + R"(", "relations": {"service": "api"}})",
        mon10 + i * 22500.0);
  }
  // Span 2 d 2 h: day -> periods ceil(2.083) = 3 -> 9 / 3 = 3; week -> 1 period -> 9.
  EXPECT_EQ(D("service", "api", "per_day"), json::Value(3));
  EXPECT_EQ(D("service", "api", "per_week"), json::Value(9));
  auto ex = engine_->Explain("service", "api", "per_day", now_);
  ASSERT_TRUE(ex.ok()) << ex.status().message();
  EXPECT_EQ(ex->Get("arithmetic").Get("periods"), json::Value(3));
  EXPECT_EQ(ex->Get("arithmetic").Get("numerator"), json::Value(9));
  EXPECT_EQ(ex->Get("arithmetic").Get("span").Get("seconds"), json::Value(180000));
  EXPECT_EQ(ex->Get("matchedCount"), json::Value(9));
}

TEST_F(DeriveTest, SpanEndNowOption) {
  Options o;
  o.span_end_now = true;
  options_for_check_ = o;
  ASSERT_TRUE(LoadBlueprints(R"([
    {"identifier": "service", "title": "Service", "schema": {"properties": {}},
     "aggregationProperties": {
       "per_week": {"title": "w", "target": "deployment",
                    "calculationSpec": {"func": "average", "calculationBy": "entities",
                                        "averageOf": "week"}}}},
    {"identifier": "deployment", "title": "Deployment", "schema": {"properties": {}},
     "relations": {"service": {"target": "service", "many": false, "required": false}}}])",
                             o)
                  .ok());
  Put("service", R"({"identifier": "api"})");
  Put("deployment", R"({"identifier": "a", "relations": {"service": "api"}})",
      T("2024-02-20T12:00:00Z"));
  Put("deployment", R"({"identifier": "b", "relations": {"service": "api"}})",
      T("2024-02-21T12:00:00Z"));
  // now = 2024-03-06T12:00Z: span = now - min = 15 d -> ceil(15 / 7) = 3 weeks -> 2 / 3.
  EXPECT_EQ(N("service", "api", "per_week"), 2.0 / 3);
  // 6 more days: 21 d -> exactly 3 weeks still; 21 d + 1 ms -> 4 weeks -> 0.5.
  ASSERT_TRUE(engine_->EnsureFresh(T("2024-03-12T12:00:00Z")).ok());
  EXPECT_EQ(N("service", "api", "per_week"), 2.0 / 3);
  now_ = T("2024-03-12T12:00:00.001Z");
  ASSERT_TRUE(engine_->EnsureFresh(now_).ok());
  EXPECT_EQ(D("service", "api", "per_week"), json::Value(0.5));
  ExpectConsistent();
}

// ---- Path filters and the closure ------------------------------------------------------------

const char* kPathBlueprints = R"json([
  {"identifier": "team", "title": "Team", "schema": {"properties": {}},
   "aggregationProperties": {
     "deploys_path": {"title": "via service.team", "target": "deployment",
        "pathFilter": [{"fromBlueprint": "deployment", "path": ["service", "team"]}],
        "calculationSpec": {"func": "count", "calculationBy": "entities"}},
     "deploys_any": {"title": "all related", "target": "deployment",
        "calculationSpec": {"func": "count", "calculationBy": "entities"}},
     "lead_sum": {"title": "lead", "target": "deployment",
        "pathFilter": [{"fromBlueprint": "deployment", "path": ["service", "team"]}],
        "calculationSpec": {"func": "sum", "calculationBy": "property", "property": "lead"}},
     "services": {"title": "services", "target": "service",
        "pathFilter": [{"fromBlueprint": "service", "path": ["team"]}],
        "calculationSpec": {"func": "count", "calculationBy": "entities"}}}},
  {"identifier": "service", "title": "Service", "schema": {"properties": {}},
   "relations": {"team": {"target": "team", "many": false, "required": false},
                 "deps": {"target": "service", "many": true, "required": false}},
   "aggregationProperties": {
     "related_services": {"title": "closure", "target": "service",
        "calculationSpec": {"func": "count", "calculationBy": "entities"}},
     "related_teams": {"title": "teams", "target": "team",
        "calculationSpec": {"func": "count", "calculationBy": "entities"}}}},
  {"identifier": "pr", "title": "PR", "schema": {"properties": {}},
   "relations": {"service": {"target": "service", "many": false, "required": false}}},
  {"identifier": "deployment", "title": "Deployment",
   "schema": {"properties": {"lead": {"type": "number"}}},
   "relations": {"service": {"target": "service", "many": false, "required": false},
                 "pr": {"target": "pr", "many": false, "required": false}}},
  {"identifier": "cluster", "title": "Cluster", "schema": {"properties": {}},
   "relations": {"deployments": {"target": "deployment", "many": true, "required": false}},
   "aggregationProperties": {
     "direct": {"title": "direct deployments", "target": "deployment",
        "pathFilter": [{"path": ["deployments"]}],
        "calculationSpec": {"func": "count", "calculationBy": "entities"}},
     "lead_max": {"title": "max lead", "target": "deployment",
        "pathFilter": [{"path": ["deployments"]}],
        "calculationSpec": {"func": "max", "calculationBy": "property", "property": "lead"}}}},
  {"identifier": "platform", "title": "Platform", "schema": {"properties": {}},
   "relations": {"clusters": {"target": "cluster", "many": true, "required": false}},
   "aggregationProperties": {
     "deploys": {"title": "two hops", "target": "deployment",
        "pathFilter": [{"path": ["clusters", "deployments"]}],
        "calculationSpec": {"func": "count", "calculationBy": "entities"}}}}
])json";

class PathTest : public DeriveTest {
 protected:
  void SetUp() override {
    DeriveTest::SetUp();
    Status s = LoadBlueprints(kPathBlueprints);
    ASSERT_TRUE(s.ok()) << s.message();
    Put("team", R"({"identifier": "t1"})");
    Put("team", R"({"identifier": "t2"})");
    Put("service", R"({"identifier": "a", "relations": {"team": "t1"}})");
    Put("service", R"({"identifier": "b", "relations": {"team": "t1", "deps": ["a"]}})");
    Put("service", R"({"identifier": "c", "relations": {"team": "t2", "deps": ["b"]}})");
    Put("pr", R"({"identifier": "p1", "relations": {"service": "a"}})");
    Put("deployment", R"({"identifier": "d1", "properties": {"lead": 5},
                          "relations": {"service": "a"}})");
    Put("deployment", R"({"identifier": "d2", "properties": {"lead": 7},
                          "relations": {"service": "b"}})");
    Put("deployment", R"({"identifier": "d3", "properties": {"lead": 11},
                          "relations": {"service": "c"}})");
    // d4 has no service but its PR belongs to a: related to t1 only through the PR.
    Put("deployment", R"({"identifier": "d4", "properties": {"lead": 13},
                          "relations": {"pr": "p1"}})");
    Put("cluster", R"({"identifier": "k1", "relations": {"deployments": ["d1", "d2", "d1"]}})");
    Put("cluster", R"({"identifier": "k2", "relations": {"deployments": ["d2", "d3"]}})");
    Put("platform", R"({"identifier": "plat", "relations": {"clusters": ["k1", "k2"]}})");
  }
};

TEST_F(PathTest, FromBlueprintMultiHop) {
  // deployment.service.team: t1 <- a (d1), b (d2); t2 <- c (d3). d4 has no service.
  EXPECT_EQ(D("team", "t1", "deploys_path"), json::Value(2));
  EXPECT_EQ(D("team", "t2", "deploys_path"), json::Value(1));
  EXPECT_EQ(D("team", "t1", "lead_sum"), json::Value(12));  // 5 + 7
  EXPECT_EQ(D("team", "t1", "services"), json::Value(2));
}

TEST_F(PathTest, PathWithoutFromBlueprintWalksFromTheSource) {
  // k1.deployments = [d1, d2, d1]: each target once -> 2.
  EXPECT_EQ(D("cluster", "k1", "direct"), json::Value(2));
  EXPECT_EQ(D("cluster", "k2", "direct"), json::Value(2));
  EXPECT_EQ(D("cluster", "k1", "lead_max"), json::Value(7));
  EXPECT_EQ(D("cluster", "k2", "lead_max"), json::Value(11));
  // Two hops, de-duplicated: plat -> {k1, k2} -> {d1, d2, d3}.
  EXPECT_EQ(D("platform", "plat", "deploys"), json::Value(3));
}

TEST_F(PathTest, NoPathFilterIsUpstreamOrDownstreamClosure) {
  // Downstream of t1: services a, b; deployments d1 (a), d2 (b), d4 (pr p1 -> a); and, through
  // c.deps -> b, service c and its deployment d3 (c points at b, which points at t1).
  EXPECT_EQ(D("team", "t1", "deploys_any"), json::Value(4));
  // t2: c, d3 only.
  EXPECT_EQ(D("team", "t2", "deploys_any"), json::Value(1));
  // Service b: upstream a (deps), t1; downstream c (deps). Related services: a, c.
  EXPECT_EQ(D("service", "b", "related_services"), json::Value(2));
  // Service a: downstream b, and c (c -> b -> a). Upstream: none.
  EXPECT_EQ(D("service", "a", "related_services"), json::Value(2));
  // Service c: upstream b, a (via deps); never b's siblings through a common team.
  EXPECT_EQ(D("service", "c", "related_services"), json::Value(2));
  // Teams related to c: t2 (its own), t1 (c -> b -> t1 upstream). Mixed walks excluded.
  EXPECT_EQ(D("service", "c", "related_teams"), json::Value(2));
  EXPECT_EQ(D("service", "a", "related_teams"), json::Value(1));
}

TEST_F(PathTest, StructuralChangesRecomputeTheAffectedSources) {
  // Move service b from t1 to t2: d2 moves along (deploys_path t1 2 -> 1, t2 1 -> 2).
  Put("service", R"({"identifier": "b", "relations": {"team": "t2", "deps": ["a"]}})");
  EXPECT_EQ(D("team", "t1", "deploys_path"), json::Value(1));
  EXPECT_EQ(D("team", "t2", "deploys_path"), json::Value(2));
  EXPECT_EQ(D("team", "t1", "lead_sum"), json::Value(5));
  EXPECT_EQ(D("team", "t2", "lead_sum"), json::Value(18));  // 7 + 11
  EXPECT_EQ(D("team", "t1", "services"), json::Value(1));
  ExpectConsistent("after moving b");
  // The PR moves to service c: d4 leaves t1's closure for t2's.
  Put("pr", R"({"identifier": "p1", "relations": {"service": "c"}})");
  ExpectConsistent("after moving p1");
  // A cluster drops a deployment; a platform drops a cluster.
  Put("cluster", R"({"identifier": "k2", "relations": {"deployments": ["d3"]}})");
  EXPECT_EQ(D("platform", "plat", "deploys"), json::Value(3));
  Put("platform", R"({"identifier": "plat", "relations": {"clusters": ["k2"]}})");
  EXPECT_EQ(D("platform", "plat", "deploys"), json::Value(1));
  EXPECT_EQ(D("cluster", "k2", "lead_max"), json::Value(11));
  Delete("service", "a");
  EXPECT_EQ(D("team", "t1", "services"), json::Value(0));
  EXPECT_EQ(D("team", "t1", "deploys_path"), json::Value(0));
  ExpectConsistent("after deleting a");
  Delete("team", "t2");
  ExpectConsistent("after deleting t2");
}

TEST_F(PathTest, NewSourcesAndTargets) {
  Put("team", R"({"identifier": "t3"})");
  EXPECT_EQ(D("team", "t3", "deploys_path"), json::Value(0));
  Put("service", R"({"identifier": "e", "relations": {"team": "t3"}})");
  Put("deployment", R"({"identifier": "d9", "properties": {"lead": 1},
                        "relations": {"service": "e"}})");
  EXPECT_EQ(D("team", "t3", "deploys_path"), json::Value(1));
  EXPECT_EQ(D("team", "t3", "deploys_any"), json::Value(1));
  // A deployment created with a missing service creates the service barebones.
  Put("deployment", R"({"identifier": "d10", "relations": {"service": "ghost"}})", -1, true);
  ExpectConsistent();
}

// ---- Reading derived values of targets -----------------------------------------------------

TEST_F(DeriveTest, AggregationOverMirrorAndCalculatedTargetValues) {
  ASSERT_TRUE(LoadBlueprints(R"json([
    {"identifier": "pr", "title": "PR", "schema": {"properties": {"hours": {"type": "number"}}}},
    {"identifier": "service", "title": "Service", "schema": {"properties": {}},
     "aggregationProperties": {
       "lead": {"title": "lead", "target": "deployment",
                "pathFilter": [{"fromBlueprint": "deployment", "path": ["service"]}],
                "calculationSpec": {"func": "average", "calculationBy": "property",
                                    "property": "lead_hours", "averageOf": "total"}},
       "slow": {"title": "slow", "target": "deployment",
                "pathFilter": [{"fromBlueprint": "deployment", "path": ["service"]}],
                "query": {"combinator": "and", "rules": [
                  {"property": "is_slow", "operator": "=", "value": true}]},
                "calculationSpec": {"func": "count", "calculationBy": "entities"}}}},
    {"identifier": "deployment", "title": "Deployment", "schema": {"properties": {}},
     "relations": {"service": {"target": "service", "many": false, "required": false},
                   "pr": {"target": "pr", "many": false, "required": false}},
     "mirrorProperties": {"lead_hours": {"title": "lead", "path": "pr.hours"}},
     "calculationProperties": {"is_slow": {"title": "slow", "type": "boolean",
        "calculation": "(.properties.lead_hours // 0) > 24"}}}])json")
                  .ok());
  Put("service", R"({"identifier": "api"})");
  Put("pr", R"({"identifier": "p1", "properties": {"hours": 10}})");
  Put("pr", R"({"identifier": "p2", "properties": {"hours": 30}})");
  Put("deployment", R"({"identifier": "d1", "relations": {"service": "api", "pr": "p1"}})");
  Put("deployment", R"({"identifier": "d2", "relations": {"service": "api", "pr": "p2"}})");
  EXPECT_EQ(D("service", "api", "lead"), json::Value(20));  // (10 + 30) / 2
  EXPECT_EQ(D("service", "api", "slow"), json::Value(1));   // d2 (30 > 24)
  // A PR change flows through the mirror and the calculation into both aggregations.
  Put("pr", R"({"identifier": "p1", "properties": {"hours": 50}})");
  EXPECT_EQ(D("service", "api", "lead"), json::Value(40));  // (50 + 30) / 2
  EXPECT_EQ(D("service", "api", "slow"), json::Value(2));
  ExpectConsistent();
}

// ---- Cycles -------------------------------------------------------------------------------------

TEST_F(DeriveTest, CycleIsAnErrorNamingTheProperties) {
  Status s = LoadBlueprints(R"json([
    {"identifier": "team", "title": "Team", "schema": {"properties": {}},
     "aggregationProperties": {
       "b": {"title": "b", "target": "service",
             "pathFilter": [{"fromBlueprint": "service", "path": ["team"]}],
             "calculationSpec": {"func": "sum", "calculationBy": "property", "property": "a"}}}},
    {"identifier": "service", "title": "Service", "schema": {"properties": {}},
     "relations": {"team": {"target": "team", "many": false, "required": false}},
     "mirrorProperties": {"a": {"title": "a", "path": "team.b"}}}])json");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cycle"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("service.a"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("team.b"), std::string::npos) << s.message();
}

TEST_F(DeriveTest, NoCycleWhenOnlyTheBlueprintsAlternate) {
  // service.x reads team.y, team.z reads service.w: no property cycle.
  Status s = LoadBlueprints(R"json([
    {"identifier": "team", "title": "Team", "schema": {"properties": {"y": {"type": "number"}}},
     "aggregationProperties": {
       "z": {"title": "z", "target": "service",
             "pathFilter": [{"fromBlueprint": "service", "path": ["team"]}],
             "calculationSpec": {"func": "sum", "calculationBy": "property", "property": "w"}}}},
    {"identifier": "service", "title": "Service",
     "schema": {"properties": {"w": {"type": "number"}}},
     "relations": {"team": {"target": "team", "many": false, "required": false}},
     "mirrorProperties": {"x": {"title": "x", "path": "team.y"}}}])json");
  EXPECT_TRUE(s.ok()) << s.message();
}

}  // namespace
}  // namespace portolan::derive::testing

namespace portolan::derive::testing {
namespace {

TEST_F(FunctionsTest, ExplainAccountsForEveryNumber) {
  auto ex = engine_->Explain("service", "s1", "ok", now_);
  ASSERT_TRUE(ex.ok()) << ex.status().message();
  EXPECT_EQ(ex->Get("kind"), json::Value("aggregation"));
  EXPECT_EQ(ex->Get("candidates"), json::Value(4));
  EXPECT_EQ(ex->Get("matchedCount"), json::Value(3));
  // d2 is excluded by the query's first rule (status = Success; d2 is Failed).
  const json::Value& excluded = ex->Get("excluded");
  ASSERT_EQ(excluded.size(), 1u);
  EXPECT_EQ(excluded.as_array()[0].Get("identifier"), json::Value("d2"));
  EXPECT_EQ(excluded.as_array()[0].Get("failedRule").Get("pointer"), json::Value("/rules/0"));
  EXPECT_EQ(excluded.as_array()[0].Get("failedRule").Get("value"), json::Value("Failed"));
  EXPECT_EQ(ex->Get("value"), json::Value(3));
  // avg: 90 / 3 numeric values, d3 skipped for having no lead.
  auto avg = engine_->Explain("service", "s1", "avg", now_);
  ASSERT_TRUE(avg.ok());
  EXPECT_EQ(avg->Get("arithmetic").Get("numerator"), json::Value(90));
  EXPECT_EQ(avg->Get("arithmetic").Get("denominator"), json::Value(3));
  ASSERT_EQ(avg->Get("skipped").size(), 1u);
  EXPECT_EQ(avg->Get("skipped").as_array()[0].Get("identifier"), json::Value("d3"));
  EXPECT_EQ(avg->Get("value"), json::Value(30));
  EXPECT_EQ(avg->Get("stored"), json::Value(30));
}

TEST(FindCycleTest, ReportsTheCycleInReadOrder) {
  // 0 reads 1, 1 reads 2, 2 reads 0; 3 reads 0.
  EXPECT_EQ(internal::FindCycle({{1}, {2}, {0}, {0}}), (std::vector<int>{0, 1, 2, 0}));
  EXPECT_TRUE(internal::FindCycle({{1, 2}, {2}, {}, {0}}).empty());
  EXPECT_EQ(internal::FindCycle({{0}}), (std::vector<int>{0, 0}));
}

}  // namespace
}  // namespace portolan::derive::testing
