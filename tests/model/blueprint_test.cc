// ParseBlueprint and LoadBlueprintDocs: the guide blueprints load unchanged, and each rule class
// rejects a bad document with "<file>: <pointer>: <rule>".
#include "engine/model/blueprint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/model/test_util.h"

namespace portolan::model {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::MustParse;
using testing::MustParseJson;
using testing::ParseText;
using testing::TestdataPath;

// A blueprint document with the given schema properties and extra top-level members.
std::string Doc(const std::string& properties, const std::string& extra = "") {
  return R"({"identifier": "svc", "title": "Service", "schema": {"properties": {)" + properties +
         "}}" + (extra.empty() ? "" : ", " + extra) + "}";
}

// ----- The seed blueprints load unchanged --------------------------------------------------------

TEST(BlueprintLoadTest, DoraGuideBlueprintsParse) {
  auto bps = LoadBlueprints(TestdataPath("dora_guide"));
  ASSERT_TRUE(bps.ok()) << bps.status().message();
  std::vector<std::string> ids;
  for (const Blueprint& bp : *bps) ids.push_back(bp.identifier);
  // Directory order: file names sorted.
  EXPECT_THAT(
      ids, ElementsAre("_team", "deployment", "githubPullRequest", "pagerdutyIncident", "service"));

  const Blueprint& deployment = (*bps)[1];
  EXPECT_EQ(deployment.title, "Deployment");
  EXPECT_EQ(deployment.source, TestdataPath("dora_guide") + "/deployment.json");
  ASSERT_EQ(deployment.properties.size(), 3u);
  EXPECT_EQ(deployment.properties[0].key, "deploymentStatus");
  EXPECT_EQ(deployment.properties[2].format, "date-time");
  ASSERT_EQ(deployment.mirrors.size(), 1u);
  EXPECT_EQ(deployment.mirrors[0].path, "pullRequest.cycle_time_hours");
  EXPECT_THAT(deployment.mirrors[0].hops, ElementsAre("pullRequest"));
  EXPECT_EQ(deployment.mirrors[0].leaf, "cycle_time_hours");
  ASSERT_EQ(deployment.relations.size(), 2u);
  EXPECT_EQ(deployment.FindRelation("pullRequest")->target, "githubPullRequest");
  // raw is the document exactly as written.
  auto file = json::ParseFile(deployment.source);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(deployment.raw, *file);

  const Blueprint& service = (*bps)[4];
  EXPECT_EQ(service.aggregations.size(), 5u);
  EXPECT_EQ(service.calculations.size(), 5u);
  const AggregationDef* freq = service.FindAggregation("deployment_frequency");
  ASSERT_NE(freq, nullptr);
  EXPECT_EQ(freq->spec.calculation_by, "entities");
  EXPECT_EQ(freq->spec.func, "average");
  EXPECT_EQ(freq->spec.average_of, "week");
  EXPECT_EQ(freq->spec.measure_time_by, "createdAt");
  EXPECT_TRUE(freq->query.is_object());
  const AggregationDef* mttr = service.FindAggregation("mean_time_to_recovery");
  ASSERT_NE(mttr, nullptr);
  EXPECT_EQ(mttr->spec.property, "recoveryTime");
  ASSERT_TRUE(mttr->path_filter.has_value());
  EXPECT_EQ(mttr->path_filter->from_blueprint, "pagerdutyIncident");
  EXPECT_THAT(mttr->path_filter->path, ElementsAre("service"));
  const CalculationDef* cfr = service.FindCalculation("cfr_tier");
  ASSERT_NE(cfr, nullptr);
  EXPECT_EQ(cfr->type, "string");
  EXPECT_THAT(cfr->calculation, HasSubstr("floor"));
  EXPECT_TRUE(cfr->definition.Get("colorized").as_bool());

  const Blueprint& team = (*bps)[0];
  EXPECT_EQ(team.aggregations.size(), 6u);
  EXPECT_EQ(team.calculations.size(), 6u);
  const AggregationDef* lead = team.FindAggregation("lead_time_for_changes");
  ASSERT_NE(lead, nullptr);
  EXPECT_THAT(lead->path_filter->path, ElementsAre("service", "team"));
}

TEST(BlueprintLoadTest, DoraGuideV1BlueprintsParseIncludingLenientCount) {
  auto bps = LoadBlueprints(TestdataPath("dora_guide_v1"));
  ASSERT_TRUE(bps.ok()) << bps.status().message();
  ASSERT_EQ(bps->size(), 4u);
  const Blueprint& service = (*bps)[3];
  ASSERT_EQ(service.identifier, "service");
  // "total_incidents": count with averageOf/measureTimeBy attached — accepted, extras ignored.
  const AggregationDef* incidents = service.FindAggregation("total_incidents");
  ASSERT_NE(incidents, nullptr);
  EXPECT_EQ(incidents->spec.func, "count");
  EXPECT_EQ(incidents->spec.average_of, "");
  EXPECT_EQ(incidents->spec.measure_time_by, "$createdAt");
  // The raw document still carries them (echoed back unchanged).
  EXPECT_EQ(service.raw.Get("aggregationProperties")
                .Get("total_incidents")
                .Get("calculationSpec")
                .Get("averageOf"),
            json::Value("month"));
  const AggregationDef* mttr = service.FindAggregation("mean_time_to_recovery");
  ASSERT_NE(mttr, nullptr);
  EXPECT_EQ(mttr->spec.measure_time_by, "resolvedAt");
  EXPECT_EQ(service.FindAggregation("lead_time_for_change")->spec.property, "leadTimeHours");
  EXPECT_EQ((*bps)[0].mirrors[0].leaf, "leadTimeHours");
}

// ----- LoadBlueprintDocs -------------------------------------------------------------------------

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("portolan_model_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& content) const {
    std::filesystem::path p = path_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << content;
    return p.string();
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

TEST(LoadBlueprintDocsTest, ArrayFileGivesPointerPerElement) {
  TempDir dir;
  std::string file = dir.Write("all.json", "[" + Doc("") + R"(, {"identifier": "b"}])");
  auto docs = LoadBlueprintDocs(file);
  ASSERT_TRUE(docs.ok()) << docs.status().message();
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[0].pointer, "/0");
  EXPECT_EQ((*docs)[1].pointer, "/1");
  EXPECT_EQ((*docs)[1].source, file);
  // The second element has no title: the error names the file and the element's pointer.
  auto bps = LoadBlueprints(file);
  EXPECT_ERROR_HAS(bps.status(), "all.json: /1/title: \"title\" is required");
}

TEST(LoadBlueprintDocsTest, DirectoryIsSortedAndNotRecursive) {
  TempDir dir;
  dir.Write("b.json", R"({"identifier": "b"})");
  dir.Write("a.json", R"({"identifier": "a"})");
  dir.Write("notes.txt", "not json");
  dir.Write("sub/c.json", R"({"identifier": "c"})");
  auto docs = LoadBlueprintDocs(dir.path());
  ASSERT_TRUE(docs.ok()) << docs.status().message();
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[0].doc.Get("identifier"), json::Value("a"));
  EXPECT_EQ((*docs)[1].doc.Get("identifier"), json::Value("b"));
  EXPECT_EQ((*docs)[0].pointer, "");
}

TEST(LoadBlueprintDocsTest, MalformedJsonNamesFileLineAndColumn) {
  TempDir dir;
  std::string file = dir.Write("broken.json", "{\n  \"identifier\": \"a\"\n  \"title\": \"A\"\n}");
  auto docs = LoadBlueprintDocs(file);
  EXPECT_ERROR_HAS(docs.status(), "broken.json", "line 3, column 3");
}

TEST(LoadBlueprintDocsTest, ScalarDocumentAndMissingPathAreErrors) {
  TempDir dir;
  std::string file = dir.Write("scalar.json", "42");
  EXPECT_ERROR_HAS(LoadBlueprintDocs(file).status(), "scalar.json",
                   "expected a blueprint object or an array");
  auto missing = LoadBlueprintDocs(dir.path() + "/nope.json");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_ERROR_HAS(missing.status(), "nope.json: no such file or directory");
}

// ----- Identifiers and top-level keys ------------------------------------------------------------

TEST(IdentifierTest, BlueprintIdentifierRule) {
  EXPECT_TRUE(IsValidBlueprintIdentifier("githubPullRequest"));
  EXPECT_TRUE(IsValidBlueprintIdentifier("_team"));
  EXPECT_TRUE(IsValidBlueprintIdentifier("a@b_c.d+e:f\\g/h-i9"));
  EXPECT_TRUE(IsValidBlueprintIdentifier("café"));
  EXPECT_TRUE(IsValidBlueprintIdentifier("服务"));
  EXPECT_TRUE(IsValidBlueprintIdentifier("שירות"));
  EXPECT_TRUE(IsValidBlueprintIdentifier("..."));
  EXPECT_FALSE(IsValidBlueprintIdentifier("."));
  EXPECT_FALSE(IsValidBlueprintIdentifier(".."));
  EXPECT_FALSE(IsValidBlueprintIdentifier(""));
  EXPECT_FALSE(IsValidBlueprintIdentifier("my service"));
  EXPECT_FALSE(IsValidBlueprintIdentifier("a=b"));
  EXPECT_FALSE(IsValidBlueprintIdentifier("a,b"));
  EXPECT_FALSE(
      IsValidBlueprintIdentifier("a\xc2\xa0"
                                 "b"));  // no-break space
  EXPECT_FALSE(
      IsValidBlueprintIdentifier("a\xe2\x80\x94"
                                 "b"));                          // em dash
  EXPECT_FALSE(IsValidBlueprintIdentifier("\xf0\x9f\x9a\x80"));  // rocket emoji
  EXPECT_FALSE(IsValidBlueprintIdentifier("\xd9\xa3"));          // Arabic-Indic digit three
  EXPECT_TRUE(IsValidBlueprintIdentifier(std::string(100, 'a')));
  EXPECT_FALSE(IsValidBlueprintIdentifier(std::string(101, 'a')));
  EXPECT_TRUE(IsValidEntityIdentifier("a=b"));
  EXPECT_TRUE(IsValidEntityIdentifier(std::string(1000, 'a')));
  EXPECT_FALSE(IsValidEntityIdentifier(std::string(1001, 'a')));
  EXPECT_FALSE(IsValidEntityIdentifier(".."));
  EXPECT_TRUE(IsValidPropertyKey("cycle_time_hours"));
  EXPECT_TRUE(IsValidPropertyKey("a=b-c@d"));
  EXPECT_FALSE(IsValidPropertyKey("a.b"));
  EXPECT_FALSE(IsValidPropertyKey("$title"));
  EXPECT_FALSE(IsValidPropertyKey("café"));
  EXPECT_FALSE(IsValidPropertyKey(std::string(101, 'a')));
}

TEST(BlueprintParseTest, RejectsBadIdentifier) {
  auto bp =
      ParseText(R"({"identifier": "my service", "title": "S", "schema": {"properties": {}}})");
  EXPECT_ERROR_HAS(bp.status(), "blueprints/bad.json: /identifier: \"my service\" does not match",
                   "\\p{L}");
  EXPECT_EQ(bp.status().code(), StatusCode::kInvalidArgument);
  EXPECT_ERROR_HAS(
      ParseText(R"({"identifier": "..", "title": "S", "schema": {"properties": {}}})").status(),
      "/identifier: \"..\" does not match");
  EXPECT_ERROR_HAS(ParseText(R"({"title": "S", "schema": {"properties": {}}})").status(),
                   "blueprints/bad.json: /identifier: \"identifier\" is required");
  EXPECT_ERROR_HAS(ParseText(R"({"identifier": ")" + std::string(101, 'x') +
                             R"(", "title": "S", "schema": {"properties": {}}})")
                       .status(),
                   "/identifier: \"identifier\" must be at most 100 characters");
}

TEST(BlueprintParseTest, LegacyIdentifierRuleOnlyWarns) {
  Blueprint bp = MustParse(R"({"identifier": "a_very_long_identifier_over_thirty_chars",
                               "title": "T", "schema": {"properties": {}}})");
  ASSERT_EQ(bp.warnings.size(), 1u);
  EXPECT_THAT(bp.warnings[0], HasSubstr("/identifier"));
  EXPECT_THAT(bp.warnings[0], HasSubstr("legacy rule"));
  EXPECT_TRUE(MustParse(Doc("")).warnings.empty());
}

TEST(BlueprintParseTest, TitleAndDescriptionRules) {
  EXPECT_ERROR_HAS(ParseText(R"({"identifier": "a", "schema": {"properties": {}}})").status(),
                   "blueprints/bad.json: /title: \"title\" is required");
  EXPECT_ERROR_HAS(
      ParseText(R"({"identifier": "a", "title": "", "schema": {"properties": {}}})").status(),
      "/title: \"title\" must not be empty");
  EXPECT_ERROR_HAS(ParseText(R"({"identifier": "a", "title": ")" + std::string(101, 't') +
                             R"(", "schema": {"properties": {}}})")
                       .status(),
                   "/title: \"title\" must be at most 100 characters");
  EXPECT_ERROR_HAS(ParseText(R"({"identifier": "a", "title": "A", "description": ")" +
                             std::string(201, 'd') + R"(", "schema": {"properties": {}}})")
                       .status(),
                   "/description: \"description\" must be at most 200 characters");
  EXPECT_ERROR_HAS(
      ParseText(R"({"identifier": "a", "title": 7, "schema": {"properties": {}}})").status(),
      "/title: \"title\" must be a string");
}

TEST(BlueprintParseTest, SchemaPropertiesRequired) {
  EXPECT_ERROR_HAS(ParseText(R"({"identifier": "a", "title": "A"})").status(),
                   "blueprints/bad.json: /schema: \"schema\" is required");
  EXPECT_ERROR_HAS(ParseText(R"({"identifier": "a", "title": "A", "schema": {}})").status(),
                   "blueprints/bad.json: /schema/properties: \"schema.properties\" is required");
  EXPECT_ERROR_HAS(
      ParseText(R"({"identifier": "a", "title": "A", "schema": {"properties": []}})").status(),
      "/schema/properties: \"schema.properties\" must be an object");
}

TEST(BlueprintParseTest, NotAnObject) {
  EXPECT_ERROR_HAS(ParseText("[1]").status(),
                   "blueprints/bad.json: (root): a blueprint must be a "
                   "JSON object, not array");
  EXPECT_ERROR_HAS(ParseBlueprint(MustParseJson("3"), "x.json", "/2").status(),
                   "x.json: /2: a blueprint must be a JSON object");
}

TEST(BlueprintParseTest, UnknownTopLevelKeysAreIgnored) {
  Blueprint bp = MustParse(Doc(R"("a": {"type": "string"})",
                               R"("createdAt": "2024-01-01T00:00:00Z", "changelogDestination":
                                  {"type": "WEBHOOK"}, "somethingNew": [1, 2])"));
  EXPECT_EQ(bp.identifier, "svc");
  EXPECT_TRUE(bp.raw.Has("somethingNew"));
}

TEST(BlueprintParseTest, CollectsEveryErrorOfADocument) {
  auto bp = ParseText(R"({"identifier": "a b", "schema": {"properties": {"x": {"type": "str"}}}})");
  ASSERT_FALSE(bp.ok());
  EXPECT_THAT(bp.status().message(), HasSubstr("/identifier:"));
  EXPECT_THAT(bp.status().message(), HasSubstr("/title:"));
  EXPECT_THAT(bp.status().message(), HasSubstr("/schema/properties/x/type:"));
}

// ----- Keys --------------------------------------------------------------------------------------

TEST(BlueprintParseTest, RejectsBadKeysInEveryMap) {
  EXPECT_ERROR_HAS(ParseText(Doc(R"("my.prop": {"type": "string"})")).status(),
                   "blueprints/bad.json: /schema/properties/my.prop: property key \"my.prop\" "
                   "does not match ^[A-Za-z0-9@_=\\-]+$");
  EXPECT_ERROR_HAS(ParseText(Doc("", R"("relations": {"a b": {"target": "svc"}})")).status(),
                   "blueprints/bad.json: /relations/a b: relation key \"a b\" does not match");
  EXPECT_ERROR_HAS(ParseText(Doc("", R"("mirrorProperties": {"a/b": {"path": "r.x"}})")).status(),
                   "/mirrorProperties/a~1b: mirror property key \"a/b\" does not match");
  EXPECT_ERROR_HAS(ParseText(Doc("", R"("calculationProperties": {"$x": {"type": "string",
                                                              "calculation": "."}})"))
                       .status(),
                   "/calculationProperties/$x: calculation property key \"$x\" does not match");
  EXPECT_ERROR_HAS(ParseText(Doc("", R"("aggregationProperties": {"é": {}})")).status(),
                   "/aggregationProperties/é: aggregation property key \"é\" does not match");
}

TEST(BlueprintParseTest, KeysAreUniqueAcrossPropertyMaps) {
  EXPECT_ERROR_HAS(ParseText(Doc(R"("x": {"type": "string"})",
                                 R"("relations": {"r": {"target": "svc"}},
                                    "mirrorProperties": {"x": {"path": "r.$title"}})"))
                       .status(),
                   "blueprints/bad.json: /mirrorProperties/x: key \"x\" is already declared in "
                   "schema.properties");
}

// ----- Property definitions ----------------------------------------------------------------------

TEST(PropertyDefTest, TypeIsRequiredAndKnown) {
  EXPECT_ERROR_HAS(ParseText(Doc(R"("lang": {"title": "Language"})")).status(),
                   "blueprints/bad.json: /schema/properties/lang/type: \"type\" is required");
  EXPECT_ERROR_HAS(ParseText(Doc(R"("lang": {"type": "integer"})")).status(),
                   "/schema/properties/lang/type: \"integer\" is not a property type (one of "
                   "string, number, boolean, object, array)");
}

TEST(PropertyDefTest, FormatAndSpecMustBeKnown) {
  EXPECT_ERROR_HAS(ParseText(Doc(R"("t": {"type": "string", "format": "datetime"})")).status(),
                   "blueprints/bad.json: /schema/properties/t/format: \"datetime\" is not a "
                   "property format");
  EXPECT_ERROR_HAS(
      ParseText(Doc(R"("s": {"type": "string", "format": "url", "spec": "graphql"})")).status(),
      "/schema/properties/s/spec: \"graphql\" is not a spec");
  Blueprint bp = MustParse(Doc(R"(
      "a": {"type": "string", "format": "url", "spec": "embedded-url"},
      "b": {"type": "object", "format": "labeled-url"},
      "c": {"type": "string", "format": "timer"},
      "d": {"type": "array", "items": {"type": "string", "format": "user"}})"));
  EXPECT_EQ(bp.FindProperty("a")->format, "url");
  EXPECT_EQ(bp.FindProperty("d")->type, "array");
}

TEST(PropertyDefTest, EnumValuesMatchTheType) {
  EXPECT_ERROR_HAS(ParseText(Doc(R"("e": {"type": "string", "enum": "a,b"})")).status(),
                   "/schema/properties/e/enum: \"enum\" must be an array");
  EXPECT_ERROR_HAS(ParseText(Doc(R"("n": {"type": "number", "enum": [1, "2"]})")).status(),
                   "blueprints/bad.json: /schema/properties/n/enum/1: enum value \"2\" is not "
                   "a number");
  MustParse(Doc(R"("n": {"type": "number", "enum": [1, 2.5], "enumColors": {"1": "red"}})"));
}

TEST(PropertyDefTest, EnumColorsNameEnumValuesAndKnownColors) {
  EXPECT_ERROR_HAS(ParseText(Doc(R"("e": {"type": "string", "enum": ["a"],
                                          "enumColors": {"b": "red"}})"))
                       .status(),
                   "blueprints/bad.json: /schema/properties/e/enumColors/b: \"b\" is not one "
                   "of the enum values");
  EXPECT_ERROR_HAS(ParseText(Doc(R"("e": {"type": "string", "enum": ["a"],
                                          "enumColors": {"a": "magenta"}})"))
                       .status(),
                   "/schema/properties/e/enumColors/a: \"magenta\" is not a color");
  EXPECT_ERROR_HAS(
      ParseText(Doc(R"("e": {"type": "string", "enumColors": {"a": "red"}})")).status(),
      "/schema/properties/e/enumColors: \"enumColors\" needs an \"enum\"");
  // Colors from the calculation palette are accepted too (the union of both lists).
  MustParse(Doc(R"("e": {"type": "string", "enum": ["a", "b"],
                         "enumColors": {"a": "lime", "b": "darkGray"}})"));
  // Array enums live in items.
  MustParse(Doc(R"("tags": {"type": "array", "items": {"type": "string", "enum": ["x"],
                                                        "enumColors": {"x": "blue"}}})"));
}

TEST(PropertyDefTest, NumericKeywordsAreWellFormed) {
  EXPECT_ERROR_HAS(ParseText(Doc(R"("m": {"type": "number", "minimum": "0"})")).status(),
                   "blueprints/bad.json: /schema/properties/m/minimum: \"minimum\" must be a "
                   "number");
  EXPECT_ERROR_HAS(ParseText(Doc(R"("s": {"type": "string", "minLength": -1})")).status(),
                   "/schema/properties/s/minLength: \"minLength\" must be a non-negative integer");
  EXPECT_ERROR_HAS(ParseText(Doc(R"("s": {"type": "string", "maxLength": 1.5})")).status(),
                   "/schema/properties/s/maxLength: \"maxLength\" must be a non-negative integer");
  EXPECT_ERROR_HAS(
      ParseText(Doc(R"("a": {"type": "array", "minItems": 3, "maxItems": 2})")).status(),
      "/schema/properties/a/minItems: minItems 3 is greater than maxItems 2");
  EXPECT_ERROR_HAS(ParseText(Doc(R"("a": {"type": "array", "uniqueItems": "yes"})")).status(),
                   "/schema/properties/a/uniqueItems: \"uniqueItems\" must be a boolean");
}

TEST(PropertyDefTest, PatternMustCompile) {
  EXPECT_ERROR_HAS(ParseText(Doc(R"("s": {"type": "string", "pattern": "([a-z"})")).status(),
                   "blueprints/bad.json: /schema/properties/s/pattern: pattern \"([a-z\" is not "
                   "a valid ECMAScript regex");
  MustParse(Doc(R"("s": {"type": "string", "pattern": "^[a-z]+(-[a-z]+)*$"})"));
}

TEST(PropertyDefTest, ItemsMustBeAnObjectWithAValidType) {
  EXPECT_ERROR_HAS(ParseText(Doc(R"("a": {"type": "array", "items": "string"})")).status(),
                   "blueprints/bad.json: /schema/properties/a/items: \"items\" must be an object");
  EXPECT_ERROR_HAS(ParseText(Doc(R"("a": {"type": "array", "items": {"type": "text"}})")).status(),
                   "/schema/properties/a/items/type: \"text\" is not a property type");
  EXPECT_ERROR_HAS(
      ParseText(Doc(R"("a": {"type": "array", "items": {"type": "string", "format": "uuid"}})"))
          .status(),
      "/schema/properties/a/items/format: \"uuid\" is not a property format");
  EXPECT_ERROR_HAS(ParseText(Doc(R"("a": {"type": "array",
                                          "items": {"type": "string", "pattern": "["}})"))
                       .status(),
                   "/schema/properties/a/items/pattern:");
}

TEST(PropertyDefTest, RequiredListsExistingProperties) {
  EXPECT_ERROR_HAS(
      ParseText(R"({"identifier": "a", "title": "A",
                   "schema": {"properties": {"x": {"type": "string"}}, "required": ["x", "y"]}})")
          .status(),
      "blueprints/bad.json: /schema/required/1: \"y\" is not a key of schema.properties");
  Blueprint bp = MustParse(R"({"identifier": "a", "title": "A",
      "schema": {"properties": {"x": {"type": "string"}}, "required": ["x"]}})");
  EXPECT_TRUE(bp.IsRequired("x"));
}

TEST(PropertyDefTest, DefaultMustSatisfyTheProperty) {
  EXPECT_ERROR_HAS(
      ParseText(Doc(R"("env": {"type": "string", "enum": ["Production"], "default": "Prod"})"))
          .status(),
      "blueprints/bad.json: /schema/properties/env/default: default does not fit: property "
      "'env': value \"Prod\" is not one of [\"Production\"]");
  EXPECT_ERROR_HAS(
      ParseText(Doc(R"("mem": {"type": "number", "minimum": 0, "default": -1})")).status(),
      "/schema/properties/mem/default:", "is less than minimum 0");
  MustParse(Doc(R"("mem": {"type": "number", "minimum": 0, "default": 512})"));
}

// ----- Relations ---------------------------------------------------------------------------------

TEST(RelationDefTest, ShapeRules) {
  EXPECT_ERROR_HAS(ParseText(Doc("", R"("relations": {"service": {"title": "S"}})")).status(),
                   "blueprints/bad.json: /relations/service/target: \"target\" is required");
  EXPECT_ERROR_HAS(
      ParseText(Doc("", R"("relations": {"service": {"target": "svc", "many": "no"}})")).status(),
      "/relations/service/many: \"many\" must be a boolean");
  EXPECT_ERROR_HAS(ParseText(Doc("", R"("relations": {"service": {"target": 3}})")).status(),
                   "/relations/service/target: \"target\" must be a string");
}

TEST(RelationDefTest, ManyAndRequiredCannotBothBeTrue) {
  auto bp = ParseText(Doc("", R"("relations": {"service": {"target": "service", "many": true,
                                                           "required": true}})"),
                      "blueprints/deployment.json");
  EXPECT_ERROR_HAS(bp.status(),
                   "blueprints/deployment.json: /relations/service: \"many\" and "
                   "\"required\" cannot both be true");
}

// ----- Mirror properties -------------------------------------------------------------------------

TEST(MirrorDefTest, PathRule) {
  Blueprint bp = MustParse(Doc("", R"("mirrorProperties": {
      "a": {"path": "runsIn.region"}, "b": {"path": "system.domain.$title"}})"));
  EXPECT_THAT(bp.FindMirror("b")->hops, ElementsAre("system", "domain"));
  EXPECT_EQ(bp.FindMirror("b")->leaf, "$title");
  for (const char* bad : {"region", "a..b", ".a", "a.", "a b.c"}) {
    auto r =
        ParseText(Doc("", std::string(R"("mirrorProperties": {"m": {"path": ")") + bad + R"("}})"));
    EXPECT_ERROR_HAS(r.status(),
                     "blueprints/bad.json: /mirrorProperties/m/path:", "is not a mirror path");
  }
  EXPECT_ERROR_HAS(ParseText(Doc("", R"("mirrorProperties": {"m": {"title": "M"}})")).status(),
                   "/mirrorProperties/m/path: \"path\" is required");
}

// ----- Calculation properties --------------------------------------------------------------------

TEST(CalculationDefTest, CalculationAndTypeRequired) {
  EXPECT_ERROR_HAS(
      ParseText(Doc("", R"("calculationProperties": {"c": {"type": "string"}})")).status(),
      "blueprints/bad.json: /calculationProperties/c/calculation: \"calculation\" is required");
  EXPECT_ERROR_HAS(
      ParseText(Doc("", R"("calculationProperties": {"c": {"calculation": ".identifier"}})"))
          .status(),
      "/calculationProperties/c/type: \"type\" is required");
  EXPECT_ERROR_HAS(ParseText(Doc("", R"("calculationProperties": {"c": {"type": "string",
      "calculation": ".identifier", "format": "timer"}})"))
                       .status(),
                   "/calculationProperties/c/format: \"timer\" is not a calculation format");
  EXPECT_ERROR_HAS(ParseText(Doc("", R"("calculationProperties": {"c": {"type": "string",
      "calculation": ".identifier", "colorized": true, "colors": {"HIGH": "crimson"}}})"))
                       .status(),
                   "/calculationProperties/c/colors/HIGH: \"crimson\" is not a color");
}

TEST(CalculationDefTest, JqMustCompile) {
  auto bp = ParseText(Doc("", R"("calculationProperties": {"c": {"type": "string",
                                 "calculation": "if .properties.x then"}})"));
  EXPECT_ERROR_HAS(bp.status(),
                   "blueprints/bad.json: /calculationProperties/c/calculation: jq "
                   "does not compile");
  // Port's dialect (single-quoted strings) compiles.
  Blueprint ok = MustParse(Doc("", R"("calculationProperties": {"url": {"type": "string",
      "format": "url", "calculation": "'https://grafana.example/d/' + .identifier"}})"));
  EXPECT_EQ(ok.calculations[0].format, "url");
}

// ----- Aggregation properties --------------------------------------------------------------------

std::string Agg(const std::string& body) {
  return Doc("", R"("aggregationProperties": {"agg": )" + body + "}");
}

TEST(AggregationDefTest, TitleTargetAndSpecRequired) {
  EXPECT_ERROR_HAS(ParseText(Agg(R"({"target": "deployment",
                                     "calculationSpec": {"calculationBy": "entities",
                                                         "func": "count"}})"))
                       .status(),
                   "blueprints/bad.json: /aggregationProperties/agg/title: \"title\" is required");
  EXPECT_ERROR_HAS(ParseText(Agg(R"({"title": "A", "calculationSpec": {"calculationBy":
                                     "entities", "func": "count"}})"))
                       .status(),
                   "/aggregationProperties/agg/target: \"target\" is required");
  EXPECT_ERROR_HAS(ParseText(Agg(R"({"title": "A", "target": "deployment"})")).status(),
                   "/aggregationProperties/agg/calculationSpec: \"calculationSpec\" is required");
  EXPECT_ERROR_HAS(ParseText(Agg(R"({"title": "A", "target": "deployment", "type": "string",
      "calculationSpec": {"calculationBy": "entities", "func": "count"}})"))
                       .status(),
                   "/aggregationProperties/agg/type: an aggregation property has type \"number\"");
}

TEST(AggregationDefTest, CalculationSpecRules) {
  auto spec = [](const std::string& s) {
    return ParseText(Agg(R"({"title": "A", "target": "t", "calculationSpec": )" + s + "}"))
        .status();
  };
  EXPECT_ERROR_HAS(spec(R"({"func": "count"})"),
                   "blueprints/bad.json: /aggregationProperties/agg/calculationSpec/"
                   "calculationBy: \"calculationBy\" is required");
  EXPECT_ERROR_HAS(spec(R"({"calculationBy": "entity", "func": "count"})"),
                   "/calculationSpec/calculationBy: \"entity\" is not a calculationBy");
  EXPECT_ERROR_HAS(spec(R"({"calculationBy": "entities", "func": "sum"})"),
                   "/calculationSpec/func: \"sum\" is not allowed with calculationBy "
                   "\"entities\" (one of count, average)");
  EXPECT_ERROR_HAS(spec(R"({"calculationBy": "property", "func": "count", "property": "x"})"),
                   "/calculationSpec/func: \"count\" is not allowed with calculationBy "
                   "\"property\"");
  EXPECT_ERROR_HAS(spec(R"({"calculationBy": "entities", "func": "average"})"),
                   "/calculationSpec/averageOf: \"averageOf\" is required");
  EXPECT_ERROR_HAS(spec(R"({"calculationBy": "entities", "func": "average", "averageOf": "year"})"),
                   "/calculationSpec/averageOf: \"year\" is not an averageOf (one of hour, day, "
                   "week, month, total)");
  EXPECT_ERROR_HAS(spec(R"({"calculationBy": "property", "func": "sum"})"),
                   "/calculationSpec/property: \"property\" is required");
}

TEST(AggregationDefTest, MeasureTimeByDefaultsToCreatedAt) {
  Blueprint bp = MustParse(Agg(R"({"title": "A", "target": "t", "calculationSpec":
      {"calculationBy": "entities", "func": "average", "averageOf": "week"}})"));
  EXPECT_EQ(bp.aggregations[0].spec.measure_time_by, "$createdAt");
  EXPECT_EQ(bp.aggregations[0].spec.average_of, "week");
  EXPECT_TRUE(bp.aggregations[0].query.is_null());
  EXPECT_FALSE(bp.aggregations[0].path_filter.has_value());
}

TEST(AggregationDefTest, CountIgnoresAverageKeys) {
  Blueprint bp = MustParse(Agg(R"({"title": "A", "target": "t", "calculationSpec":
      {"calculationBy": "entities", "func": "count", "averageOf": "month",
       "measureTimeBy": "$createdAt"}})"));
  EXPECT_EQ(bp.aggregations[0].spec.func, "count");
  EXPECT_EQ(bp.aggregations[0].spec.average_of, "");
}

TEST(AggregationDefTest, PathFilterShape) {
  auto pf = [](const std::string& s) {
    return ParseText(Agg(R"({"title": "A", "target": "t", "pathFilter": )" + s +
                         R"(, "calculationSpec": {"calculationBy": "entities", "func": "count"}})"))
        .status();
  };
  EXPECT_ERROR_HAS(pf(R"([{"path": ["a"]}, {"path": ["b"]}])"),
                   "blueprints/bad.json: /aggregationProperties/agg/pathFilter: \"pathFilter\" "
                   "may hold at most 1 item, not 2");
  EXPECT_ERROR_HAS(pf(R"([{"path": []}])"),
                   "/aggregationProperties/agg/pathFilter/0/path: \"path\" must be a non-empty "
                   "array");
  EXPECT_ERROR_HAS(pf(R"([{"fromBlueprint": "t"}])"),
                   "/aggregationProperties/agg/pathFilter/0/path: \"path\" is required");
  EXPECT_ERROR_HAS(pf(R"([{"path": ["a", 3]}])"),
                   "/aggregationProperties/agg/pathFilter/0/path/1: 3 is not a relation key");
  EXPECT_ERROR_HAS(pf(R"({"path": ["a"]})"),
                   "/aggregationProperties/agg/pathFilter: \"pathFilter\" must be an array");
}

TEST(AggregationDefTest, QueryShape) {
  auto q = [](const std::string& s) {
    return ParseText(Agg(R"({"title": "A", "target": "t", "query": )" + s +
                         R"(, "calculationSpec": {"calculationBy": "entities", "func": "count"}})"))
        .status();
  };
  EXPECT_ERROR_HAS(q(R"({"combinator": "xor", "rules": []})"),
                   "blueprints/bad.json: /aggregationProperties/agg/query/combinator: "
                   "\"combinator\" must be \"and\" or \"or\"");
  EXPECT_ERROR_HAS(q(R"({"combinator": "and"})"),
                   "/aggregationProperties/agg/query/rules: \"rules\" is required");
  EXPECT_ERROR_HAS(q(R"({"combinator": "and", "rules": [{"property": "x", "value": 1}]})"),
                   "/aggregationProperties/agg/query/rules/0/operator: a query rule needs an "
                   "\"operator\"");
  EXPECT_ERROR_HAS(q(R"({"combinator": "and", "rules": [{"property": "x", "operator": "~",
                                                         "value": 1}]})"),
                   "/query/rules/0/operator: unknown operator \"~\"");
  EXPECT_ERROR_HAS(q(R"({"combinator": "and", "rules": [{"operator": "=", "value": 1}]})"),
                   "/query/rules/0: a query rule needs \"property\"");
  EXPECT_ERROR_HAS(q(R"({"combinator": "and", "rules": [{"combinator": "or", "rules": [
                          {"property": "x", "operator": "between", "value": "lastMonth"}]}]})"),
                   "/query/rules/0/rules/0/value: operator \"between\" needs {\"preset\"");
  EXPECT_ERROR_HAS(q(R"({"combinator": "and", "rules": [{"property": "x", "operator": "between",
                                                         "value": {"preset": "lastFortnight"}}]})"),
                   "/query/rules/0/value/preset: unknown date preset \"lastFortnight\"");
  EXPECT_ERROR_HAS(q(R"({"combinator": "and", "rules": [{"operator": "relatedTo",
                                                         "value": "x"}]})"),
                   "/query/rules/0/blueprint: a relatedTo rule needs a \"blueprint\" string");
  EXPECT_ERROR_HAS(q("[]"), "/aggregationProperties/agg/query: a query must be an object");
}

// ----- Ownership ---------------------------------------------------------------------------------

TEST(OwnershipTest, TypeAndPath) {
  EXPECT_EQ(MustParse(Doc("", R"("ownership": {"type": "Direct"})")).ownership.type, "Direct");
  Blueprint inherited = MustParse(Doc("", R"("ownership": {"type": "Inherited", "path": "a.b"})"));
  EXPECT_EQ(inherited.ownership.path, "a.b");
  EXPECT_ERROR_HAS(ParseText(Doc("", R"("ownership": {"type": "Team"})")).status(),
                   "blueprints/bad.json: /ownership/type: \"Team\" is not an ownership type "
                   "(Direct, Inherited)");
  EXPECT_ERROR_HAS(ParseText(Doc("", R"("ownership": {"type": "Inherited"})")).status(),
                   "/ownership/path: \"path\" is required");
  Blueprint legacy = MustParse(Doc("", R"("teamInheritance": {"path": "system"})"));
  EXPECT_EQ(legacy.ownership.type, "Inherited");
  EXPECT_EQ(legacy.ownership.path, "system");
}

TEST(SystemBlueprintDocTest, ExtensionMayOmitTitleAndSchema) {
  Blueprint bp = MustParse(R"({"identifier": "_team", "calculationProperties": {
      "slug": {"type": "string", "calculation": ".identifier"}}})");
  EXPECT_EQ(bp.calculations.size(), 1u);
  EXPECT_ERROR_HAS(ParseText(R"({"identifier": "team"})").status(),
                   "/title: \"title\" is "
                   "required");
}

}  // namespace
}  // namespace portolan::model
