#include "mapping/config.h"

#include <gtest/gtest.h>

#include <string>

namespace portolan::mapping {
namespace {

Result<MappingConfig> Load(const std::string& yaml) {
  return MappingConfig::LoadText(yaml, "mapping.yaml");
}

// A minimal valid resource, indented by `indent` spaces, with extra mapping lines.
std::string Resource(const std::string& mapping_lines = "") {
  return "- kind: service\n"
         "  selector:\n"
         "    query: 'true'\n"
         "  port:\n"
         "    entity:\n"
         "      mappings:\n"
         "        identifier: .name\n"
         "        blueprint: '\"service\"'\n" +
         mapping_lines;
}

const JqExpr& Leaf(const ResourceConfig& r, const std::string& key) {
  const FieldNode* node = r.FindField(key);
  EXPECT_NE(node, nullptr) << key;
  EXPECT_EQ(node->kind, FieldNode::Kind::kLeaf) << key;
  return node->leaf;
}

const FieldNode& Member(const FieldNode& node, const std::string& key) {
  for (const auto& [k, child] : node.members) {
    if (k == key) return child;
  }
  ADD_FAILURE() << "no member " << key;
  return node;
}

TEST(ConfigTest, FullFormWithDefaults) {
  auto c = Load(
      "resources:\n"
      "  - kind: service\n"
      "    selector:\n"
      "      query: 'true'\n"
      "    port:\n"
      "      entity:\n"
      "        mappings:\n"
      "          identifier: .name\n"
      "          blueprint: '\"service\"'\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->delete_dependent_entities);
  EXPECT_TRUE(c->create_missing_related_entities);
  EXPECT_TRUE(c->enable_merge_entity);
  EXPECT_DOUBLE_EQ(c->entity_deletion_threshold, 0.9);
  ASSERT_EQ(c->resources.size(), 1u);
  const ResourceConfig& r = c->resources[0];
  EXPECT_EQ(r.kind, "service");
  EXPECT_EQ(r.selector.text, "true");
  EXPECT_EQ(r.selector.path, "selector.query");
  EXPECT_TRUE(r.selector.compiled());
  EXPECT_FALSE(r.items_to_parse);
  EXPECT_EQ(r.items_to_parse_name, "item");
  EXPECT_TRUE(r.items_to_parse_top_level_transform);
  EXPECT_EQ(Leaf(r, "identifier").text, ".name");
  EXPECT_EQ(Leaf(r, "blueprint").text, "\"service\"");
  EXPECT_EQ(r.FindField("title"), nullptr);
  EXPECT_TRUE(c->warnings.empty());
  EXPECT_TRUE(c->CompileProblems().empty());
}

TEST(ConfigTest, TopLevelFlags) {
  auto c = Load(
      "deleteDependentEntities: false\n"
      "createMissingRelatedEntities: false\n"
      "enableMergeEntity: false\n"
      "entityDeletionThreshold: 0.25\n"
      "someIntegrationFlag: 3\n"
      "resources: []\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_FALSE(c->delete_dependent_entities);
  EXPECT_FALSE(c->create_missing_related_entities);
  EXPECT_FALSE(c->enable_merge_entity);
  EXPECT_DOUBLE_EQ(c->entity_deletion_threshold, 0.25);
  EXPECT_TRUE(c->resources.empty());
}

TEST(ConfigTest, ThresholdAcceptsIntegersAndNumericStringsWithinRange) {
  auto one = Load("entityDeletionThreshold: 1\nresources: []\n");
  ASSERT_TRUE(one.ok());
  EXPECT_DOUBLE_EQ(one->entity_deletion_threshold, 1.0);
  auto zero = Load("entityDeletionThreshold: '0'\nresources: []\n");
  ASSERT_TRUE(zero.ok());
  EXPECT_DOUBLE_EQ(zero->entity_deletion_threshold, 0.0);

  auto high = Load("entityDeletionThreshold: 1.5\nresources: []\n");
  ASSERT_FALSE(high.ok());
  EXPECT_EQ(high.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(high.status().message(),
            "mapping.yaml:1:26: entityDeletionThreshold: must be between 0 and 1 (got 1.5)");
  EXPECT_FALSE(Load("entityDeletionThreshold: -0.1\nresources: []\n").ok());
  EXPECT_FALSE(Load("entityDeletionThreshold: lots\nresources: []\n").ok());
}

TEST(ConfigTest, FlagsAcceptPydanticBooleans) {
  auto c = Load("enableMergeEntity: 'no'\ndeleteDependentEntities: 0\nresources: []\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_FALSE(c->enable_merge_entity);
  EXPECT_FALSE(c->delete_dependent_entities);
  auto bad = Load("enableMergeEntity: maybe\nresources: []\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "mapping.yaml:1:20: enableMergeEntity: must be a boolean");
}

TEST(ConfigTest, ListOfResourcesAndSingleResourceForms) {
  auto list = Load(Resource() + Resource());
  ASSERT_TRUE(list.ok()) << list.status().message();
  EXPECT_EQ(list->resources.size(), 2u);
  EXPECT_EQ(list->resources[1].index, 1u);
  EXPECT_DOUBLE_EQ(list->entity_deletion_threshold, 0.9);

  auto single = Load(
      "kind: service\n"
      "selector:\n"
      "  query: 'true'\n"
      "port:\n"
      "  entity:\n"
      "    mappings:\n"
      "      identifier: .name\n"
      "      blueprint: '\"service\"'\n");
  ASSERT_TRUE(single.ok()) << single.status().message();
  ASSERT_EQ(single->resources.size(), 1u);
  EXPECT_EQ(single->resources[0].kind, "service");
}

TEST(ConfigTest, RejectsEmptyAndScalarDocuments) {
  auto empty = Load("# nothing\n");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message(), "mapping.yaml: empty mapping config");
  EXPECT_FALSE(Load("just text\n").ok());
  auto other = Load("foo: 1\n");
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("expected 'resources'"), std::string::npos);
}

TEST(ConfigTest, MappingsListIsAnErrorWithPosition) {
  auto c = Load(
      "resources:\n"
      "  - kind: service\n"
      "    selector:\n"
      "      query: 'true'\n"
      "    port:\n"
      "      entity:\n"
      "        mappings:\n"
      "          - identifier: .name\n"
      "            blueprint: '\"service\"'\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(),
            "mapping.yaml:8:11: resources[0].port.entity.mappings: must be a single object, "
            "not a list");
}

TEST(ConfigTest, RequiredFields) {
  auto no_kind = Load("- selector: {query: 'true'}\n");
  ASSERT_FALSE(no_kind.ok());
  EXPECT_EQ(no_kind.status().message(),
            "mapping.yaml:1:3: resources[0].kind: required field is missing");

  auto no_query = Load("- kind: a\n  selector: {jql: 'project = X'}\n");
  ASSERT_FALSE(no_query.ok());
  EXPECT_EQ(no_query.status().message(),
            "mapping.yaml:2:13: resources[0].selector.query: required field is missing");

  auto no_port = Load("- kind: a\n  selector: {query: 'true'}\n");
  ASSERT_FALSE(no_port.ok());
  EXPECT_NE(no_port.status().message().find("resources[0].port: required field is missing"),
            std::string::npos);

  auto no_blueprint = Load(
      "- kind: a\n"
      "  selector: {query: 'true'}\n"
      "  port:\n"
      "    entity:\n"
      "      mappings:\n"
      "        identifier: .id\n");
  ASSERT_FALSE(no_blueprint.ok());
  EXPECT_EQ(no_blueprint.status().message(),
            "mapping.yaml:6:9: resources[0].port.entity.mappings.blueprint: required field is "
            "missing");

  auto null_query = Load("- kind: a\n  selector: {query: null}\n");
  ASSERT_FALSE(null_query.ok());
  EXPECT_NE(null_query.status().message().find("selector.query: must be a jq string, not null"),
            std::string::npos);
}

TEST(ConfigTest, PropertyValuesMustBeJqStrings) {
  auto null_value =
      Load(Resource("        properties:\n"
                    "          owner: null\n"));
  ASSERT_FALSE(null_value.ok());
  EXPECT_EQ(null_value.status().message(),
            "mapping.yaml:10:18: resources[0].port.entity.mappings.properties.owner: must be a "
            "jq string, not null");

  auto nested =
      Load(Resource("        properties:\n"
                    "          owner:\n"
                    "            name: .owner\n"));
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.status().message().find("properties.owner: must be a jq string; nested "
                                           "objects are not allowed"),
            std::string::npos);

  auto list =
      Load(Resource("        properties:\n"
                    "          - .a\n"));
  ASSERT_FALSE(list.ok());
  EXPECT_NE(list.status().message().find("properties: must be an object, not a list"),
            std::string::npos);

  auto null_block = Load(Resource("        relations:\n"));
  ASSERT_FALSE(null_block.ok());
  EXPECT_NE(null_block.status().message().find("relations: must be an object, not null"),
            std::string::npos);

  auto null_relation =
      Load(Resource("        relations:\n"
                    "          service: null\n"));
  ASSERT_FALSE(null_relation.ok());

  auto list_identifier = Load(
      "- kind: a\n"
      "  selector: {query: 'true'}\n"
      "  port: {entity: {mappings: {identifier: [.a], blueprint: .b}}}\n");
  ASSERT_FALSE(list_identifier.ok());
  EXPECT_NE(list_identifier.status().message().find(
                "identifier: must be a jq string or a search query, not a list"),
            std::string::npos);
}

TEST(ConfigTest, ScalarCoercionsFollowPydanticStr) {
  auto c =
      Load(Resource("        title: 42\n"
                    "        icon: null\n"
                    "        team: 5\n"
                    "        properties:\n"
                    "          a: true\n"
                    "          b: 1.5\n"
                    "          c: 1e3\n"
                    "          d: 0x1F\n"
                    "          e: '42'\n"
                    "          f: 007\n"
                    "          g: False\n"
                    "          h: .inf\n"
                    "          i: yes\n"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  const ResourceConfig& r = c->resources[0];
  EXPECT_EQ(Leaf(r, "title").text, "42");
  EXPECT_TRUE(Leaf(r, "icon").is_null);
  EXPECT_FALSE(Leaf(r, "icon").compiled());
  EXPECT_EQ(Leaf(r, "team").text, "5");
  const FieldNode& props = *r.FindField("properties");
  EXPECT_EQ(Member(props, "a").leaf.text, "True");
  EXPECT_FALSE(Member(props, "a").leaf.compiled());
  EXPECT_EQ(Member(props, "b").leaf.text, "1.5");
  EXPECT_EQ(Member(props, "c").leaf.text, "1000.0");
  EXPECT_EQ(Member(props, "d").leaf.text, "31");
  EXPECT_EQ(Member(props, "e").leaf.text, "42");
  EXPECT_EQ(Member(props, "f").leaf.text, "7");
  EXPECT_EQ(Member(props, "g").leaf.text, "False");
  EXPECT_EQ(Member(props, "h").leaf.text, "inf");
  EXPECT_EQ(Member(props, "i").leaf.text, "yes");  // YAML 1.2: a string
  EXPECT_EQ(Member(props, "e").leaf.path, "properties.e");
}

TEST(ConfigTest, FieldsComeOutInEntityOrder) {
  auto c = Load(
      "- kind: a\n"
      "  selector: {query: 'true'}\n"
      "  port:\n"
      "    entity:\n"
      "      mappings:\n"
      "        relations: {}\n"
      "        properties: {}\n"
      "        team: .t\n"
      "        icon: .i\n"
      "        blueprint: .b\n"
      "        title: .title\n"
      "        identifier: .id\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  std::vector<std::string> keys;
  for (const auto& [k, node] : c->resources[0].mappings.members) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"identifier", "title", "blueprint", "icon", "team",
                                            "properties", "relations"}));
  EXPECT_TRUE(c->resources[0].FindField("properties")->members.empty());
}

TEST(ConfigTest, SearchQueriesAreTreesOfJqLeaves) {
  auto c = Load(
      "- kind: a\n"
      "  selector: {query: 'true'}\n"
      "  port:\n"
      "    entity:\n"
      "      mappings:\n"
      "        identifier:\n"
      "          combinator: '\"and\"'\n"
      "          rules:\n"
      "            - property: '\"email\"'\n"
      "              operator: '\"=\"'\n"
      "              value: .email\n"
      "              note: ignored\n"
      "            - combinator: '\"or\"'\n"
      "              rules:\n"
      "                - {property: '\"x\"', operator: '\"in\"', value: '[.a]'}\n"
      "        blueprint: '\"_user\"'\n"
      "        team:\n"
      "          combinator: and\n"
      "          rules: []\n"
      "        relations:\n"
      "          owner:\n"
      "            combinator: '\"and\"'\n"
      "            rules:\n"
      "              - {property: '\"$title\"', operator: '\"=\"', value: .owner}\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  const ResourceConfig& r = c->resources[0];
  const FieldNode& id = *r.FindField("identifier");
  ASSERT_EQ(id.kind, FieldNode::Kind::kObject);
  EXPECT_EQ(Member(id, "combinator").leaf.path, "identifier.combinator");
  const FieldNode& rules = Member(id, "rules");
  ASSERT_EQ(rules.kind, FieldNode::Kind::kList);
  ASSERT_EQ(rules.elements.size(), 2u);
  ASSERT_EQ(rules.elements[0].members.size(), 3u);  // `note` is not part of a rule
  EXPECT_EQ(Member(rules.elements[0], "value").leaf.path, "identifier.rules.value");
  const FieldNode& nested = Member(rules.elements[1], "rules");
  EXPECT_EQ(Member(nested.elements[0], "operator").leaf.path, "identifier.rules.rules.operator");
  const FieldNode& team = *r.FindField("team");
  EXPECT_FALSE(Member(team, "combinator").leaf.compiled());  // bare `and`
  const FieldNode& owner = Member(*r.FindField("relations"), "owner");
  EXPECT_EQ(Member(owner.members[1].node.elements[0], "value").leaf.path,
            "relations.owner.rules.value");
}

TEST(ConfigTest, BadSearchQueries) {
  auto no_rules =
      Load(Resource("        relations:\n"
                    "          owner: {combinator: '\"and\"'}\n"));
  ASSERT_FALSE(no_rules.ok());
  EXPECT_NE(no_rules.status().message().find("relations.owner: search query: missing 'rules'"),
            std::string::npos);
  auto scalar_rule =
      Load(Resource("        relations:\n"
                    "          owner: {combinator: '\"and\"', rules: [.a]}\n"));
  ASSERT_FALSE(scalar_rule.ok());
  EXPECT_NE(scalar_rule.status().message().find("relations.owner.rules[0]: must be an object"),
            std::string::npos);
  auto half_rule =
      Load(Resource("        relations:\n"
                    "          owner: {combinator: '\"and\"', rules: [{property: .a}]}\n"));
  ASSERT_FALSE(half_rule.ok());
  EXPECT_NE(half_rule.status().message().find("search rule: missing 'operator'"),
            std::string::npos);
}

TEST(ConfigTest, CompileErrorsAreKeptNotFatal) {
  auto c =
      Load(Resource("        title: .name |\n"
                    "        properties:\n"
                    "          ok: .ok\n"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  auto problems = c->CompileProblems();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].expr->path, "title");
  EXPECT_EQ(problems[0].expr->text, ".name |");
  EXPECT_FALSE(problems[0].expr->compile_error.empty());
  std::string described = c->Describe(problems[0]);
  EXPECT_EQ(described.rfind("mapping.yaml:9:16: resources[0].port.entity.mappings.title: jq "
                            "'.name |' does not compile (the field evaluates to null): ",
                            0),
            0u)
      << described;
}

TEST(ConfigTest, SelectorCompileErrorIsKept) {
  auto c = Load(
      "- kind: a\n"
      "  selector: {query: .a ==}\n"
      "  port: {entity: {mappings: {identifier: .id, blueprint: .b}}}\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_FALSE(c->resources[0].selector.compiled());
  auto problems = c->CompileProblems();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(c->Describe(problems[0])
                .find("resources[0].selector.query: jq '.a ==' does not "
                      "compile (every item of this resource fails)"),
            std::string::npos);
}

TEST(ConfigTest, EachDistinctProgramIsCompiledOnce) {
  auto c =
      Load(Resource("        properties:\n"
                    "          a: .name\n"
                    "          b: '\"service\"'\n"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  const ResourceConfig& r = c->resources[0];
  const FieldNode& props = *r.FindField("properties");
  EXPECT_EQ(Member(props, "a").leaf.program, Leaf(r, "identifier").program);
  EXPECT_EQ(Member(props, "b").leaf.program, Leaf(r, "blueprint").program);
  EXPECT_NE(Leaf(r, "identifier").program, Leaf(r, "blueprint").program);
}

TEST(ConfigTest, ItemsToParseSettings) {
  auto c = Load(
      "- kind: issue\n"
      "  selector: {query: 'true'}\n"
      "  port:\n"
      "    itemsToParse: .fields.comments | map(select(.public))\n"
      "    itemsToParseName: comment\n"
      "    entity: {mappings: {identifier: .comment.id, blueprint: '\"c\"'}}\n"
      "- kind: issue\n"
      "  selector: {query: 'true'}\n"
      "  port:\n"
      "    itemsToParse: .items\n"
      "    itemsToParseTopLevelTransform: false\n"
      "    entity: {mappings: {identifier: .item.id, blueprint: '\"c\"'}}\n"
      "- kind: issue\n"
      "  selector: {query: 'true'}\n"
      "  port:\n"
      "    itemsToParse: ''\n"
      "    entity: {mappings: {identifier: .id, blueprint: '\"c\"'}}\n"
      "- kind: issue\n"
      "  selector: {query: 'true'}\n"
      "  port:\n"
      "    itemsToParse: to_entries\n"
      "    entity: {mappings: {identifier: .id, blueprint: '\"c\"'}}\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  const auto& rs = c->resources;
  ASSERT_TRUE(rs[0].items_to_parse);
  EXPECT_EQ(rs[0].items_to_parse_name, "comment");
  ASSERT_TRUE(rs[0].top_level_transform);
  EXPECT_EQ(rs[0].top_level_transform->text, ". | del(.fields.comments)");
  EXPECT_TRUE(rs[0].top_level_transform->compiled());
  EXPECT_TRUE(rs[1].items_to_parse);
  EXPECT_FALSE(rs[1].items_to_parse_top_level_transform);
  EXPECT_FALSE(rs[1].top_level_transform);
  EXPECT_FALSE(rs[2].items_to_parse);  // "" is falsy: no fan-out
  ASSERT_TRUE(rs[3].top_level_transform);
  EXPECT_EQ(rs[3].top_level_transform->text, ". | del(.)");

  auto null_name = Load(
      "- kind: issue\n"
      "  selector: {query: 'true'}\n"
      "  port:\n"
      "    itemsToParse: .a\n"
      "    itemsToParseName: null\n"
      "    entity: {mappings: {identifier: .id, blueprint: '\"c\"'}}\n");
  ASSERT_FALSE(null_name.ok());
  EXPECT_NE(null_name.status().message().find("port.itemsToParseName: must be a string, not null"),
            std::string::npos);
}

TEST(ConfigTest, UnknownKeysAreIgnoredWithWarningsWhereTyposAreLikely) {
  auto c = Load(
      "- kind: a\n"
      "  selector:\n"
      "    query: 'true'\n"
      "    includedFiles: [README.md]\n"
      "  extra: 1\n"
      "  port:\n"
      "    entity:\n"
      "      mappings:\n"
      "        identifier: .id\n"
      "        blueprint: .b\n"
      "        Title: .t\n"
      "      relations:\n"
      "        service: .s\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->resources[0].FindField("relations"), nullptr);
  ASSERT_EQ(c->warnings.size(), 2u);
  EXPECT_EQ(c->warnings[0],
            "mapping.yaml:12:7: resources[0].port.entity.relations: unknown key, ignored (as "
            "Ocean does); did you mean port.entity.mappings.relations?");
  EXPECT_EQ(c->warnings[1],
            "mapping.yaml:11:9: resources[0].port.entity.mappings.Title: unknown key, ignored "
            "(as Ocean does)");
}

TEST(ConfigTest, DuplicateKeysAreAnError) {
  auto c =
      Load(Resource("        title: .a\n"
                    "        title: .b\n"));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "mapping.yaml:10:9: resources[0].port.entity.mappings.title: duplicate key");
}

TEST(ConfigTest, MalformedYamlNamesLineAndColumn) {
  auto c = Load("resources:\n  - kind: [a\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message().rfind("mapping.yaml:", 0), 0u) << c.status().message();
  EXPECT_NE(c.status().message().find(":3:"), std::string::npos) << c.status().message();
}

TEST(ConfigTest, LoadFileErrors) {
  auto missing = MappingConfig::LoadFile("tests/golden/mapping/no-such-case/mapping.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  const std::string path =
      std::string(PORTOLAN_SOURCE_DIR) + "/tests/golden/mapping/selector_bool/mapping.yaml";
  auto golden = MappingConfig::LoadFile(path);
  ASSERT_TRUE(golden.ok()) << golden.status().message();
  EXPECT_EQ(golden->name(), path);
  EXPECT_EQ(golden->resources.size(), 1u);
}

TEST(ConfigTest, KeysAreCoercedToStrings) {
  auto c =
      Load(Resource("        properties:\n"
                    "          42: .a\n"
                    "          true: .b\n"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  const FieldNode& props = *c->resources[0].FindField("properties");
  EXPECT_EQ(props.members[0].key, "42");
  EXPECT_EQ(props.members[1].key, "True");
}

}  // namespace
}  // namespace portolan::mapping
