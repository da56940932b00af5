// Catalog: system blueprints, all-or-nothing Apply, cross-blueprint references, Remove.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/model/blueprint.h"
#include "tests/model/test_util.h"

namespace portolan::model {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::MustParse;
using testing::TestdataPath;

std::vector<Blueprint> LoadDir(const std::string& dir) {
  auto bps = LoadBlueprints(TestdataPath(dir));
  EXPECT_TRUE(bps.ok()) << bps.status().message();
  return bps.ok() ? *bps : std::vector<Blueprint>{};
}

// A small blueprint: `id`, string property `name`, plus the given top-level members.
Blueprint Bp(const std::string& id, const std::string& extra = "",
             const std::string& properties = R"("name": {"type": "string"})") {
  return MustParse(R"({"identifier": ")" + id + R"(", "title": ")" + id +
                       R"(", "schema": {"properties": {)" + properties + "}}" +
                       (extra.empty() ? "" : ", " + extra) + "}",
                   "blueprints/" + id + ".json");
}

std::vector<std::string> Ids(const Catalog& c) {
  std::vector<std::string> ids;
  for (const auto& [id, bp] : c.blueprints()) ids.push_back(id);
  return ids;
}

TEST(CatalogTest, HoldsSystemBlueprints) {
  Catalog c;
  EXPECT_THAT(Ids(c), ElementsAre("_team", "_user"));
  ASSERT_NE(c.Find("_team"), nullptr);
  EXPECT_EQ(c.Find("_team")->title, "Team");
  EXPECT_NE(c.Find("_team")->FindProperty("description"), nullptr);
  EXPECT_EQ(c.Find("_user")->title, "User");
  EXPECT_EQ(c.Find("_user")->FindRelation("teams")->target, "_team");
  EXPECT_EQ(c.Find("svc"), nullptr);
  EXPECT_TRUE(c.Validate().ok());
}

TEST(CatalogTest, DoraGuideAppliesAndExtendsTeam) {
  Catalog c;
  Status s = c.Apply(LoadDir("dora_guide"));
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_THAT(Ids(c), ElementsAre("_team", "_user", "deployment", "githubPullRequest",
                                  "pagerdutyIncident", "service"));
  const Blueprint* team = c.Find("_team");
  // Built-in keys kept, the guide's keys merged in.
  EXPECT_NE(team->FindProperty("description"), nullptr);
  EXPECT_EQ(team->title, "Team");
  EXPECT_NE(team->FindAggregation("services_count"), nullptr);
  EXPECT_NE(team->FindAggregation("mean_time_to_recovery"), nullptr);
  EXPECT_NE(team->FindCalculation("deployment_frequency_per_service"), nullptr);
  EXPECT_TRUE(team->raw.Get("schema").Get("properties").Has("description"));
  EXPECT_TRUE(team->raw.Get("aggregationProperties").Has("services_count"));
  EXPECT_THAT(team->source, HasSubstr("_team.json"));
  EXPECT_TRUE(c.Validate().ok());
}

TEST(CatalogTest, DoraGuideV1Applies) {
  Catalog c;
  Status s = c.Apply(LoadDir("dora_guide_v1"));
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_NE(c.Find("service")->FindAggregation("total_incidents"), nullptr);
}

TEST(CatalogTest, BatchOrderDoesNotMatter) {
  std::vector<Blueprint> bps = LoadDir("dora_guide");
  std::reverse(bps.begin(), bps.end());
  Catalog c;
  Status s = c.Apply(bps);
  ASSERT_TRUE(s.ok()) << s.message();
  // Two batches work as well, as long as the references exist after each.
  Catalog d;
  ASSERT_TRUE(d.Apply({Bp("a", R"("relations": {"b": {"target": "b"}})"),
                       Bp("b", R"("relations": {"a": {"target": "a"}})")})
                  .ok());
}

TEST(CatalogTest, UnknownTargetRejectsTheWholeBatch) {
  Catalog c;
  Status s =
      c.Apply({Bp("ok"), Bp("deployment", R"("relations": {"service": {"target": "svc"}})")});
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_ERROR_HAS(s,
                   "blueprints/deployment.json: /relations/service/target: blueprint 'svc' "
                   "does not exist");
  EXPECT_EQ(c.Find("ok"), nullptr);
  EXPECT_EQ(c.Find("deployment"), nullptr);
  EXPECT_THAT(Ids(c), ElementsAre("_team", "_user"));
}

TEST(CatalogTest, SelfRelationAllowed) {
  Catalog c;
  Status s = c.Apply({Bp("node", R"("relations": {"parent": {"target": "node"}},
      "mirrorProperties": {"parentName": {"path": "parent.name"}})")});
  ASSERT_TRUE(s.ok()) << s.message();
  Status team = c.Apply({Bp("_team", R"("relations": {"parent_team": {"target": "_team"}})")});
  ASSERT_TRUE(team.ok()) << team.message();
  EXPECT_NE(c.Find("_team")->FindRelation("parent_team"), nullptr);
}

TEST(CatalogTest, TeamExtensionIsReplacedByTheNextExtension) {
  Catalog c;
  ASSERT_TRUE(c.Apply({Bp("_team", R"("calculationProperties": {"slug": {"type": "string",
                                         "calculation": ".identifier"}})",
                          R"("slack": {"type": "string", "format": "url"})")})
                  .ok());
  EXPECT_NE(c.Find("_team")->FindCalculation("slug"), nullptr);
  EXPECT_NE(c.Find("_team")->FindProperty("slack"), nullptr);
  EXPECT_NE(c.Find("_team")->FindProperty("description"), nullptr);
  ASSERT_TRUE(c.Apply({Bp("_team")}).ok());
  EXPECT_EQ(c.Find("_team")->FindCalculation("slug"), nullptr);
  EXPECT_NE(c.Find("_team")->FindProperty("description"), nullptr);
}

TEST(CatalogTest, DuplicateIdentifierInOneBatch) {
  Catalog c;
  Status s = c.Apply({Bp("a"), Bp("a")});
  EXPECT_ERROR_HAS(s, "blueprints/a.json: /identifier: blueprint 'a' is defined twice");
  EXPECT_EQ(c.Find("a"), nullptr);
}

TEST(CatalogTest, ReplacingABlueprintCannotBreakOthers) {
  Catalog c;
  ASSERT_TRUE(c.Apply({Bp("pr", "", R"("hours": {"type": "number"})"),
                       Bp("deploy", R"("relations": {"pr": {"target": "pr"}},
                                       "mirrorProperties": {"h": {"path": "pr.hours"}})")})
                  .ok());
  Status s = c.Apply({Bp("pr")});  // drops "hours"
  EXPECT_ERROR_HAS(s,
                   "blueprints/deploy.json: /mirrorProperties/h/path: \"hours\" is not a "
                   "property of blueprint 'pr'");
  EXPECT_NE(c.Find("pr")->FindProperty("hours"), nullptr);
}

// ----- Mirrors -----------------------------------------------------------------------------------

class MirrorCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(
        catalog_
            .Apply({Bp("cluster", R"("mirrorProperties": {"m": {"path": "region.name"}},
                              "calculationProperties": {"c": {"type": "string",
                                                              "calculation": ".identifier"}},
                              "aggregationProperties": {"n": {"title": "N", "target": "svc",
                                "calculationSpec": {"calculationBy": "entities", "func": "count"}}},
                              "relations": {"region": {"target": "region"}})"),
                    Bp("region"), Bp("svc", R"("relations": {"runsIn": {"target": "cluster"}})")})
            .ok());
  }
  Status Mirror(const std::string& path) {
    return catalog_.Apply({Bp("svc", R"("relations": {"runsIn": {"target": "cluster"}},
        "mirrorProperties": {"x": {"path": ")" +
                                         path + R"("}})")});
  }
  Catalog catalog_;
};

TEST_F(MirrorCatalogTest, LeafKinds) {
  EXPECT_TRUE(Mirror("runsIn.name").ok());
  EXPECT_TRUE(Mirror("runsIn.$title").ok());
  EXPECT_TRUE(Mirror("runsIn.region.name").ok());
  Status s = Mirror("runsIn.n");  // aggregation: allowed
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_ERROR_HAS(Mirror("runsIn.m"),
                   "blueprints/svc.json: /mirrorProperties/x/path: \"m\" is a "
                   "mirror property of blueprint 'cluster': a mirror of a "
                   "mirror is not supported");
  EXPECT_ERROR_HAS(Mirror("runsIn.c"),
                   "/mirrorProperties/x/path: \"c\" is a calculation property "
                   "of blueprint 'cluster'");
  EXPECT_ERROR_HAS(Mirror("runsIn.size"),
                   "/mirrorProperties/x/path: \"size\" is not a property of blueprint 'cluster'");
  EXPECT_ERROR_HAS(Mirror("runsIn.$owner"), "\"$owner\" is not a property of blueprint");
}

TEST_F(MirrorCatalogTest, HopsMustBeRelationsOfEachBlueprint) {
  EXPECT_ERROR_HAS(Mirror("cluster.name"),
                   "blueprints/svc.json: /mirrorProperties/x/path: "
                   "\"cluster\" is not a relation of blueprint 'svc'");
  EXPECT_ERROR_HAS(Mirror("runsIn.zone.name"),
                   "/mirrorProperties/x/path: \"zone\" is not a relation of blueprint 'cluster'");
  EXPECT_ERROR_HAS(Mirror("runsIn.$team.name"),
                   "blueprint 'cluster' has no ownership, so \"$team\" cannot be followed");
}

// ----- Aggregations ------------------------------------------------------------------------------

class AggregationCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status s = catalog_.Apply(LoadDir("dora_guide"));
    ASSERT_TRUE(s.ok()) << s.message();
  }
  // Applies a service blueprint (relation `team` -> _team) with one aggregation.
  Status Agg(const std::string& body) {
    return catalog_.Apply({Bp("svc2", R"("relations": {"team": {"target": "_team"}},
        "aggregationProperties": {"agg": )" +
                                          body + "}")});
  }
  Catalog catalog_;
};

TEST_F(AggregationCatalogTest, TargetMustExist) {
  EXPECT_ERROR_HAS(Agg(R"({"title": "A", "target": "incident",
                           "calculationSpec": {"calculationBy": "entities", "func": "count"}})"),
                   "blueprints/svc2.json: /aggregationProperties/agg/target: blueprint 'incident' "
                   "does not exist");
}

TEST_F(AggregationCatalogTest, PathFilterWithoutFromBlueprintEndsAtTarget) {
  EXPECT_TRUE(Agg(R"({"title": "A", "target": "_team", "pathFilter": [{"path": ["team"]}],
                      "calculationSpec": {"calculationBy": "entities", "func": "count"}})")
                  .ok());
  EXPECT_ERROR_HAS(Agg(R"({"title": "A", "target": "deployment", "pathFilter": [{"path": ["team"]}],
                           "calculationSpec": {"calculationBy": "entities", "func": "count"}})"),
                   "blueprints/svc2.json: /aggregationProperties/agg/pathFilter/0/path: path "
                   "\"team\" from blueprint 'svc2' ends at blueprint '_team', not at the target "
                   "'deployment'");
  EXPECT_ERROR_HAS(Agg(R"({"title": "A", "target": "_team", "pathFilter": [{"path": ["owner"]}],
                           "calculationSpec": {"calculationBy": "entities", "func": "count"}})"),
                   "/aggregationProperties/agg/pathFilter/0/path/0: \"owner\" is not a relation "
                   "of blueprint 'svc2'");
}

TEST_F(AggregationCatalogTest, PathFilterFromBlueprintEndsAtThisBlueprint) {
  Status ok = catalog_.Apply({Bp("_team", R"("aggregationProperties": {"d": {"title": "D",
      "target": "deployment", "pathFilter": [{"fromBlueprint": "deployment",
                                              "path": ["service", "team"]}],
      "calculationSpec": {"calculationBy": "entities", "func": "count"}}})")});
  EXPECT_TRUE(ok.ok()) << ok.message();
  EXPECT_ERROR_HAS(catalog_.Apply({Bp("_team", R"("aggregationProperties": {"d": {"title": "D",
      "target": "deployment", "pathFilter": [{"fromBlueprint": "deployment", "path": ["service"]}],
      "calculationSpec": {"calculationBy": "entities", "func": "count"}}})")}),
                   "blueprints/_team.json: /aggregationProperties/d/pathFilter/0/path: path "
                   "\"service\" from blueprint 'deployment' ends at blueprint 'service', not at "
                   "this blueprint '_team'");
  EXPECT_ERROR_HAS(catalog_.Apply({Bp("_team", R"("aggregationProperties": {"d": {"title": "D",
      "target": "deployment", "pathFilter": [{"fromBlueprint": "deploy", "path": ["service"]}],
      "calculationSpec": {"calculationBy": "entities", "func": "count"}}})")}),
                   "/aggregationProperties/d/pathFilter/0/fromBlueprint: blueprint 'deploy' does "
                   "not exist");
  EXPECT_ERROR_HAS(catalog_.Apply({Bp("_team", R"("aggregationProperties": {"d": {"title": "D",
      "target": "deployment", "pathFilter": [{"fromBlueprint": "deployment",
                                              "path": ["service", "owner"]}],
      "calculationSpec": {"calculationBy": "entities", "func": "count"}}})")}),
                   "/aggregationProperties/d/pathFilter/0/path/1: \"owner\" is not a relation of "
                   "blueprint 'service'");
}

TEST_F(AggregationCatalogTest, PropertyMustBeANumberOnTheTarget) {
  EXPECT_TRUE(Agg(R"({"title": "A", "target": "githubPullRequest", "calculationSpec":
                      {"calculationBy": "property", "func": "median",
                       "property": "cycle_time_hours"}})")
                  .ok());
  // A mirror of a number counts as a number.
  EXPECT_TRUE(Agg(R"({"title": "A", "target": "deployment", "calculationSpec":
                      {"calculationBy": "property", "func": "max",
                       "property": "lead_time_for_changes_hours"}})")
                  .ok());
  EXPECT_ERROR_HAS(Agg(R"({"title": "A", "target": "githubPullRequest", "calculationSpec":
                          {"calculationBy": "property", "func": "sum", "property": "cycle"}})"),
                   "blueprints/svc2.json: /aggregationProperties/agg/calculationSpec/property: "
                   "\"cycle\" is not a property of target blueprint 'githubPullRequest'");
  EXPECT_ERROR_HAS(Agg(R"({"title": "A", "target": "githubPullRequest", "calculationSpec":
                          {"calculationBy": "property", "func": "sum", "property": "mergedAt"}})"),
                   "/calculationSpec/property: \"mergedAt\" of blueprint 'githubPullRequest' is "
                   "a string property, not a number");
}

TEST_F(AggregationCatalogTest, MeasureTimeByIsADateTime) {
  for (const char* ok : {"$createdAt", "$updatedAt", "mergedAt"}) {
    Status s = Agg(std::string(R"({"title": "A", "target": "githubPullRequest", "calculationSpec":
        {"calculationBy": "entities", "func": "average", "averageOf": "day",
         "measureTimeBy": ")") +
                   ok + R"("}})");
    EXPECT_TRUE(s.ok()) << ok << ": " << s.message();
  }
  EXPECT_ERROR_HAS(Agg(R"({"title": "A", "target": "githubPullRequest", "calculationSpec":
      {"calculationBy": "entities", "func": "average", "averageOf": "day",
       "measureTimeBy": "cycle_time_hours"}})"),
                   "blueprints/svc2.json: /aggregationProperties/agg/calculationSpec/"
                   "measureTimeBy: \"cycle_time_hours\" is not a date-time property of target "
                   "blueprint 'githubPullRequest'");
  EXPECT_ERROR_HAS(Agg(R"({"title": "A", "target": "githubPullRequest", "calculationSpec":
      {"calculationBy": "entities", "func": "average", "averageOf": "day",
       "measureTimeBy": "$title"}})"),
                   "\"$title\" is not a date-time property");
}

TEST_F(AggregationCatalogTest, QueryRulesNameTargetProperties) {
  Status ok = Agg(R"({"title": "A", "target": "deployment", "query": {"combinator": "and",
      "rules": [{"property": "environment", "operator": "=", "value": "Production"},
                {"property": "$createdAt", "operator": "between", "value": {"preset": "lastWeek"}},
                {"combinator": "or", "rules": [
                  {"property": "lead_time_for_changes_hours", "operator": ">", "value": 1}]}]},
      "calculationSpec": {"calculationBy": "entities", "func": "count"}})");
  EXPECT_TRUE(ok.ok()) << ok.message();
  EXPECT_ERROR_HAS(Agg(R"({"title": "A", "target": "deployment", "query": {"combinator": "and",
      "rules": [{"combinator": "or", "rules": [
                  {"property": "env", "operator": "=", "value": "Production"}]}]},
      "calculationSpec": {"calculationBy": "entities", "func": "count"}})"),
                   "blueprints/svc2.json: /aggregationProperties/agg/query/rules/0/rules/0/"
                   "property: \"env\" is not a property of target blueprint 'deployment'");
  EXPECT_ERROR_HAS(Agg(R"({"title": "A", "target": "deployment", "query": {"combinator": "and",
      "rules": [{"operator": "relatedTo", "blueprint": "repo", "value": "x"}]},
      "calculationSpec": {"calculationBy": "entities", "func": "count"}})"),
                   "/query/rules/0/blueprint: blueprint 'repo' does not exist");
}

TEST(CatalogCycleTest, DerivedPropertyCycleRejected) {
  Catalog c;
  // a.x aggregates b.y (a calculation reading b.z), b.z aggregates a.w, a.w reads a.x.
  Status s = c.Apply(
      {Bp("a", R"("relations": {"b": {"target": "b"}},
          "aggregationProperties": {"x": {"title": "X", "target": "b", "calculationSpec":
              {"calculationBy": "property", "func": "sum", "property": "y"}}},
          "calculationProperties": {"w": {"type": "number", "calculation": ".properties.x"}})"),
       Bp("b", R"("aggregationProperties": {"z": {"title": "Z", "target": "a", "calculationSpec":
              {"calculationBy": "property", "func": "sum", "property": "w"}}},
          "calculationProperties": {"y": {"type": "number",
                                          "calculation": ".properties.z + 1"}})")});
  EXPECT_ERROR_HAS(s, "derived properties form a cycle: a.w -> a.x -> b.y -> b.z -> a.w");
  EXPECT_EQ(c.Find("a"), nullptr);
}

TEST(CatalogOwnershipTest, InheritedPathWalksRelations) {
  Catalog c;
  EXPECT_TRUE(c.Apply({Bp("system", R"("ownership": {"type": "Direct"})"),
                       Bp("svc", R"("ownership": {"type": "Inherited", "path": "system"},
                                    "relations": {"system": {"target": "system"}})")})
                  .ok());
  EXPECT_ERROR_HAS(c.Apply({Bp("svc2", R"("ownership": {"type": "Inherited", "path": "sys"})")}),
                   "blueprints/svc2.json: /ownership/path: \"sys\" is not a relation of "
                   "blueprint 'svc2'");
}

// ----- Remove ------------------------------------------------------------------------------------

TEST(CatalogRemoveTest, RefusedWhileReferenced) {
  Catalog c;
  ASSERT_TRUE(c.Apply(LoadDir("dora_guide")).ok());
  Status s = c.Remove("service");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_ERROR_HAS(s, "blueprint 'service' is still referenced by", "deployment.relations.service",
                   "pagerdutyIncident.relations.service");
  EXPECT_NE(c.Find("service"), nullptr);
  EXPECT_ERROR_HAS(c.Remove("_team"), "'_team' is a system blueprint and cannot be removed");
  EXPECT_EQ(c.Remove("nope").code(), StatusCode::kNotFound);
}

TEST(CatalogRemoveTest, RemovesUnreferencedAndSelfReferencedBlueprints) {
  Catalog c;
  ASSERT_TRUE(c.Apply({Bp("node", R"("relations": {"parent": {"target": "node"}})"), Bp("target"),
                       Bp("agg", R"("aggregationProperties": {"n": {"title": "N",
                           "target": "target", "calculationSpec":
                           {"calculationBy": "entities", "func": "count"}}})")})
                  .ok());
  EXPECT_TRUE(c.Remove("node").ok());
  EXPECT_EQ(c.Find("node"), nullptr);
  EXPECT_ERROR_HAS(c.Remove("target"), "agg.aggregationProperties.n");
  EXPECT_TRUE(c.Remove("agg").ok());
  EXPECT_TRUE(c.Remove("target").ok());
  EXPECT_THAT(Ids(c), ElementsAre("_team", "_user"));
}

}  // namespace
}  // namespace portolan::model
