// Mirror properties (spec §3) and calculation properties (spec §4): values, the calculation's
// input document, and incremental recomputation after writes.
#include <gtest/gtest.h>

#include "tests/derive/derive_fixture.h"

namespace portolan::derive::testing {
namespace {

const char* kMirrorBlueprints = R"([
  {"identifier": "org", "title": "Org", "schema": {"properties": {"name": {"type": "string"}}}},
  {"identifier": "team", "title": "Team",
   "schema": {"properties": {"size": {"type": "number"}}},
   "relations": {"org": {"target": "org", "many": false, "required": false}}},
  {"identifier": "service", "title": "Service",
   "schema": {"properties": {"lang": {"type": "string"}}},
   "relations": {"team": {"target": "team", "many": false, "required": false},
                 "deps": {"target": "service", "many": true, "required": false}}},
  {"identifier": "deployment", "title": "Deployment", "schema": {"properties": {}},
   "relations": {"service": {"target": "service", "many": false, "required": false}},
   "mirrorProperties": {
     "svc_lang": {"title": "Lang", "path": "service.lang"},
     "team_size": {"title": "Team size", "path": "service.team.size"},
     "org_name": {"title": "Org", "path": "service.team.org.name"},
     "team_title": {"title": "Team", "path": "service.team.$title"},
     "svc_id": {"title": "Service id", "path": "service.$identifier"},
     "dep_langs": {"title": "Dependency languages", "path": "service.deps.lang"},
     "dep_dep_ids": {"title": "Second-level deps", "path": "service.deps.deps.$identifier"}}}
])";

class MirrorTest : public DeriveTest {
 protected:
  void SetUp() override {
    DeriveTest::SetUp();
    ASSERT_TRUE(LoadBlueprints(kMirrorBlueprints).ok());
    Put("org", R"({"identifier": "acme", "properties": {"name": "ACME"}})");
    Put("team", R"({"identifier": "pay", "title": "Payments", "properties": {"size": 7},
                    "relations": {"org": "acme"}})");
    Put("service", R"({"identifier": "lib1", "properties": {"lang": "cpp"}})");
    Put("service", R"({"identifier": "lib2", "properties": {"lang": "go"},
                       "relations": {"deps": ["lib1"]}})");
    Put("service", R"({"identifier": "api", "properties": {"lang": "go"},
                       "relations": {"team": "pay", "deps": ["lib2", "lib1", "lib2"]}})");
    Put("deployment", R"({"identifier": "d1", "relations": {"service": "api"}})");
  }
};

TEST_F(MirrorTest, SingleAndMultiHop) {
  EXPECT_EQ(D("deployment", "d1", "svc_lang"), json::Value("go"));
  EXPECT_EQ(D("deployment", "d1", "team_size"), json::Value(7));
  EXPECT_EQ(D("deployment", "d1", "org_name"), json::Value("ACME"));
}

TEST_F(MirrorTest, MetaLeaf) {
  EXPECT_EQ(D("deployment", "d1", "team_title"), json::Value("Payments"));
  EXPECT_EQ(D("deployment", "d1", "svc_id"), json::Value("api"));
}

TEST_F(MirrorTest, ManyRelationsGiveFlattenedArraysInRelationOrderWithoutDedup) {
  // api.deps = [lib2, lib1, lib2] -> langs [go, cpp, go].
  EXPECT_EQ(D("deployment", "d1", "dep_langs"), J(R"(["go", "cpp", "go"])"));
  // deps of deps: lib2 -> [lib1]; lib1 -> []; lib2 -> [lib1]  => [lib1, lib1].
  EXPECT_EQ(D("deployment", "d1", "dep_dep_ids"), J(R"(["lib1", "lib1"])"));
}

TEST_F(MirrorTest, NullWhenAHopIsEmpty) {
  Put("deployment", R"({"identifier": "d2"})");
  EXPECT_TRUE(D("deployment", "d2", "svc_lang").is_null());
  EXPECT_TRUE(D("deployment", "d2", "dep_langs").is_null());
  Put("service", R"({"identifier": "solo", "properties": {"lang": "rust"}})");
  Put("deployment", R"({"identifier": "d3", "relations": {"service": "solo"}})");
  EXPECT_EQ(D("deployment", "d3", "svc_lang"), json::Value("rust"));
  EXPECT_TRUE(D("deployment", "d3", "team_size").is_null());  // solo has no team
  EXPECT_TRUE(D("deployment", "d3", "org_name").is_null());
  EXPECT_TRUE(D("deployment", "d3", "dep_langs").is_null());  // no deps
  ExpectConsistent();
}

TEST_F(MirrorTest, LeafChangePropagatesThroughHops) {
  Put("org", R"({"identifier": "acme", "properties": {"name": "ACME Corp"}})");
  EXPECT_EQ(D("deployment", "d1", "org_name"), json::Value("ACME Corp"));
  Put("team", R"({"identifier": "pay", "title": "Payments Team", "properties": {"size": 9},
                  "relations": {"org": "acme"}})");
  EXPECT_EQ(D("deployment", "d1", "team_size"), json::Value(9));
  EXPECT_EQ(D("deployment", "d1", "team_title"), json::Value("Payments Team"));
  Put("service", R"({"identifier": "lib1", "properties": {"lang": "c"}})");
  EXPECT_EQ(D("deployment", "d1", "dep_langs"), J(R"(["go", "c", "go"])"));
  ExpectConsistent();
}

TEST_F(MirrorTest, IntermediateRelationChange) {
  Put("org", R"({"identifier": "globex", "properties": {"name": "Globex"}})");
  Put("team", R"({"identifier": "pay", "title": "Payments", "properties": {"size": 7},
                  "relations": {"org": "globex"}})");
  EXPECT_EQ(D("deployment", "d1", "org_name"), json::Value("Globex"));
  Put("team", R"({"identifier": "infra", "properties": {"size": 3}})");
  Put("service", R"({"identifier": "api", "properties": {"lang": "go"},
                     "relations": {"team": "infra", "deps": []}})");
  EXPECT_EQ(D("deployment", "d1", "team_size"), json::Value(3));
  EXPECT_TRUE(D("deployment", "d1", "org_name").is_null());
  EXPECT_TRUE(D("deployment", "d1", "dep_langs").is_null());
  ExpectConsistent();
}

TEST_F(MirrorTest, DeletingAHopClearsTheValue) {
  Delete("team", "pay");
  EXPECT_TRUE(D("deployment", "d1", "team_size").is_null());
  EXPECT_TRUE(D("deployment", "d1", "org_name").is_null());
  EXPECT_EQ(D("deployment", "d1", "svc_lang"), json::Value("go"));
  ExpectConsistent();
}

// ---- Calculations ------------------------------------------------------------------------------

const char* kCalcBlueprints = R"json([
  {"identifier": "team", "title": "Team", "schema": {"properties": {"size": {"type": "number"}}}},
  {"identifier": "service", "title": "Service", "icon": "Microservice",
   "ownership": {"type": "Direct"},
   "schema": {"properties": {"memMb": {"type": "number"}, "lang": {"type": "string"},
                             "tags": {"type": "array"}}},
   "relations": {"team": {"target": "team", "many": false, "required": false}},
   "mirrorProperties": {"team_size": {"title": "Team size", "path": "team.size"}},
   "aggregationProperties": {
     "deploys": {"title": "Deploys", "target": "deployment",
                 "calculationSpec": {"func": "count", "calculationBy": "entities"}}},
   "calculationProperties": {
     "doc": {"title": "Input", "type": "object", "calculation": "."},
     "memGb": {"title": "Memory GB", "type": "number", "calculation": ".properties.memMb / 1024"},
     "url": {"title": "URL", "type": "string",
             "calculation": "'https://grafana.example/d/' + .identifier"},
     "first_tag": {"title": "First tag", "type": "string", "calculation": ".properties.tags[]"},
     "none": {"title": "No output", "type": "string", "calculation": "empty"},
     "boom": {"title": "Error", "type": "number", "calculation": ".properties.lang + 1"},
     "per_member": {"title": "Deploys per member", "type": "number",
                    "calculation": "(.properties.deploys // 0) / (.properties.team_size // 1)"},
     "sees_calc": {"title": "Sees other calculation", "type": "boolean",
                   "calculation": ".properties | has(\"memGb\")"}}},
  {"identifier": "deployment", "title": "Deployment", "schema": {"properties": {}},
   "relations": {"service": {"target": "service", "many": false, "required": false}}}
])json";

class CalculationTest : public DeriveTest {
 protected:
  void SetUp() override {
    DeriveTest::SetUp();
    Status s = LoadBlueprints(kCalcBlueprints);
    ASSERT_TRUE(s.ok()) << s.message();
    Put("team", R"({"identifier": "pay", "properties": {"size": 4}})", T("2024-01-01T00:00:00Z"));
    Put("service", R"({"identifier": "checkout", "title": "Checkout", "icon": "Cart",
                       "team": [],
                       "properties": {"memMb": 2048, "lang": "go", "tags": ["a", "b"]},
                       "relations": {"team": "pay"}})",
        T("2024-01-02T03:04:05Z"));
    Put("deployment", R"({"identifier": "d1", "relations": {"service": "checkout"}})");
    Put("deployment", R"({"identifier": "d2", "relations": {"service": "checkout"}})");
  }
};

TEST_F(CalculationTest, InputDocumentShape) {
  // The document: identifier, title, icon, blueprint, team, properties (raw + mirror +
  // aggregation, never calculations), relations, createdAt, updatedAt (ISO strings).
  json::Value doc = D("service", "checkout", "doc");
  EXPECT_EQ(json::Write(doc), json::Write(J(R"({
    "identifier": "checkout", "title": "Checkout", "icon": "Cart", "blueprint": "service",
    "team": [],
    "properties": {"memMb": 2048, "lang": "go", "tags": ["a", "b"],
                   "team_size": 4, "deploys": 2},
    "relations": {"team": "pay"},
    "createdAt": "2024-01-02T03:04:05.000Z", "updatedAt": "2024-01-02T03:04:05.000Z"})")));
  EXPECT_EQ(D("service", "checkout", "sees_calc"), json::Value(false));
}

TEST_F(CalculationTest, ValuesFirstOutputErrorsAndEmpty) {
  EXPECT_EQ(D("service", "checkout", "memGb"), json::Value(2));  // 2048 / 1024
  // Port's single-quoted dialect.
  EXPECT_EQ(D("service", "checkout", "url"), json::Value("https://grafana.example/d/checkout"));
  // Several outputs: the first one.
  EXPECT_EQ(D("service", "checkout", "first_tag"), json::Value("a"));
  // No output and runtime errors are null.
  EXPECT_TRUE(D("service", "checkout", "none").is_null());
  EXPECT_TRUE(D("service", "checkout", "boom").is_null());
  // Reads mirror and aggregation values: 2 deploys / team of 4 = 0.5.
  EXPECT_EQ(D("service", "checkout", "per_member"), json::Value(0.5));
}

TEST_F(CalculationTest, RecomputedWhenInputsChange) {
  Put("deployment", R"({"identifier": "d3", "relations": {"service": "checkout"}})");
  EXPECT_EQ(D("service", "checkout", "per_member"), json::Value(0.75));  // 3 / 4
  Put("team", R"({"identifier": "pay", "properties": {"size": 6}})");
  EXPECT_EQ(D("service", "checkout", "per_member"), json::Value(0.5));  // 3 / 6
  Delete("deployment", "d1");
  EXPECT_EQ(N("service", "checkout", "per_member"), 2.0 / 6);
  Put("service", R"({"identifier": "checkout", "properties": {"memMb": 512},
                     "relations": {"team": "pay"}})");
  EXPECT_EQ(D("service", "checkout", "memGb"), json::Value(0.5));
  ExpectConsistent();
}

TEST_F(CalculationTest, CompileErrorFailsBind) {
  auto s = store::Store::Open("", &clock_);
  ASSERT_TRUE(s.ok());
  store_ = std::move(*s);
  Status st = LoadBlueprints(R"([{"identifier": "x", "title": "X", "schema": {"properties": {}},
      "calculationProperties": {"bad": {"title": "Bad", "type": "number",
                                        "calculation": ".a | | .b"}}}])");
  EXPECT_FALSE(st.ok());
}

TEST_F(CalculationTest, NowIsFreshForEveryNow) {
  auto s = store::Store::Open("", &clock_);
  ASSERT_TRUE(s.ok());
  store_ = std::move(*s);
  ASSERT_TRUE(LoadBlueprints(R"([{"identifier": "timer", "title": "Timer",
      "schema": {"properties": {"due": {"type": "string", "format": "date-time"}}},
      "calculationProperties": {
        "overdue": {"title": "Overdue", "type": "boolean",
                    "calculation": "(.properties.due | fromdateiso8601) < now"},
        "static": {"title": "Static", "type": "string", "calculation": ".identifier"}}}])")
                  .ok());
  Put("timer", R"({"identifier": "t", "properties": {"due": "2024-03-07T00:00:00Z"}})");
  EXPECT_EQ(D("timer", "t", "overdue"), json::Value(false));  // now = 2024-03-06T12:00Z
  ASSERT_TRUE(engine_->EnsureFresh(T("2024-03-08T00:00:00Z")).ok());
  EXPECT_EQ(D("timer", "t", "overdue"), json::Value(true));
  ASSERT_TRUE(engine_->EnsureFresh(T("2024-03-06T00:00:00Z")).ok());
  EXPECT_EQ(D("timer", "t", "overdue"), json::Value(false));
  EXPECT_EQ(store_->GetMeta("derived_now"), json::FormatNumber(T("2024-03-06T00:00:00Z")));
}

}  // namespace
}  // namespace portolan::derive::testing

namespace portolan::derive::testing {
namespace {

TEST_F(MirrorTest, ExplainShowsTheHopsWalked) {
  auto ex = engine_->Explain("deployment", "d1", "dep_langs", now_);
  ASSERT_TRUE(ex.ok()) << ex.status().message();
  EXPECT_EQ(ex->Get("kind"), json::Value("mirror"));
  EXPECT_EQ(ex->Get("path"), json::Value("service.deps.lang"));
  EXPECT_EQ(json::Write(ex->Get("hops")),
            json::Write(J(R"([{"relation": "service", "blueprint": "service", "reached": ["api"]},
                              {"relation": "deps", "blueprint": "service",
                               "reached": ["lib2", "lib1", "lib2"]}])")));
  EXPECT_EQ(ex->Get("value"), J(R"(["go", "cpp", "go"])"));
  EXPECT_EQ(ex->Get("stored"), ex->Get("value"));
  EXPECT_EQ(engine_->Explain("deployment", "d1", "nope", now_).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(engine_->Explain("deployment", "nope", "svc_lang", now_).status().code(),
            StatusCode::kNotFound);
}

TEST_F(CalculationTest, ExplainShowsTheInputAndOutput) {
  auto ex = engine_->Explain("service", "checkout", "per_member", now_);
  ASSERT_TRUE(ex.ok()) << ex.status().message();
  EXPECT_EQ(ex->Get("kind"), json::Value("calculation"));
  EXPECT_EQ(ex->Get("calculation"),
            json::Value("(.properties.deploys // 0) / (.properties.team_size // 1)"));
  EXPECT_EQ(ex->Get("input").Get("properties").Get("deploys"), json::Value(2));
  EXPECT_EQ(ex->Get("reads"), J(R"(["deploys", "team_size"])"));
  EXPECT_EQ(ex->Get("evaluator"), json::Value("native (libjq subset)"));
  EXPECT_EQ(ex->Get("value"), json::Value(0.5));
  auto err = engine_->Explain("service", "checkout", "boom", now_);
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(err->Get("output"), json::Value("error (null)"));
  EXPECT_TRUE(err->Get("error").is_string());
  EXPECT_TRUE(err->Get("value").is_null());
}

}  // namespace
}  // namespace portolan::derive::testing
