#include "mapping/processor.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace portolan::mapping {
namespace {

json::Value J(const std::string& text) {
  auto v = json::Parse(text);
  EXPECT_TRUE(v.ok()) << v.status().message();
  return v.ok() ? *v : json::Value();
}

std::vector<json::Value> Items(const std::string& array) { return J(array).as_array(); }

Mapper MustLoad(const std::string& yaml) {
  auto m = Mapper::LoadText(yaml, "mapping.yaml");
  EXPECT_TRUE(m.ok()) << m.status().message();
  return std::move(m).value();
}

std::string Resource(const std::string& kind, const std::string& query,
                     const std::string& mapping_lines, const std::string& port_lines = "") {
  return "- kind: " + kind + "\n  selector:\n    query: " + query + "\n  port:\n" + port_lines +
         "    entity:\n      mappings:\n" + mapping_lines;
}

const std::string kBasic = "        identifier: .id\n        blueprint: '\"svc\"'\n";

TEST(MapperTest, KeepsInputOrderAndRecordsOrigins) {
  Mapper m = MustLoad(Resource("svc", "'true'", kBasic));
  MapResult r = m.Map("svc", Items(R"([{"id":"c"},{"id":"a"},{"id":null},{"id":"b"}])"));
  ASSERT_EQ(r.entities.size(), 3u);
  EXPECT_EQ(r.entities[0], J(R"({"identifier":"c","blueprint":"svc"})"));
  EXPECT_EQ(r.entities[1].Get("identifier"), json::Value("a"));
  EXPECT_EQ(r.entities[2].Get("identifier"), json::Value("b"));
  ASSERT_EQ(r.origins.size(), 3u);
  EXPECT_EQ(r.origins[2].index, 3u);
  EXPECT_FALSE(r.origins[2].element);
  EXPECT_EQ(r.skipped, 1u);
  EXPECT_EQ(r.filtered, 0u);
  EXPECT_FALSE(r.failed());
}

TEST(MapperTest, EntityKeysComeInBodyOrder) {
  Mapper m = MustLoad(Resource("svc", "'true'",
                               "        relations: {r: .id}\n"
                               "        properties: {p: .id}\n"
                               "        team: .id\n"
                               "        icon: .id\n"
                               "        blueprint: '\"svc\"'\n"
                               "        title: .id\n"
                               "        identifier: .id\n"));
  MapResult r = m.Map("svc", Items(R"([{"id":"x"}])"));
  ASSERT_EQ(r.entities.size(), 1u);
  EXPECT_EQ(json::Write(r.entities[0]),
            R"({"identifier":"x","title":"x","blueprint":"svc","icon":"x","team":"x",)"
            R"("properties":{"p":"x"},"relations":{"r":"x"}})");
}

TEST(MapperTest, SelectorErrorMessagesFollowOcean) {
  Mapper m = MustLoad(Resource("svc", ".flag", kBasic));
  MapResult r = m.Map("svc", Items(R"([{"id":"a","flag":"yes"},{"id":"b","flag":2.5},
                                       {"id":"c","flag":[1,"x"]},{"id":"d"}])"));
  ASSERT_EQ(r.errors.size(), 4u);
  EXPECT_EQ(r.errors[0].message,
            "Expected boolean value for pattern '.flag', got value:yes of type: <class 'str'> "
            "instead");
  EXPECT_EQ(r.errors[1].message,
            "Expected boolean value for pattern '.flag', got value:2.5 of type: <class 'float'> "
            "instead");
  EXPECT_EQ(r.errors[2].message,
            "Expected boolean value for pattern '.flag', got value:[1, 'x'] of type: <class "
            "'list'> instead");
  EXPECT_EQ(r.errors[3].message,
            "Expected boolean value for pattern '.flag', got value:None of type: <class "
            "'NoneType'> instead");
  EXPECT_EQ(r.errors[3].index, 3u);
  EXPECT_EQ(r.errors[3].scope, ItemError::Scope::kItem);
  EXPECT_EQ(r.errors[3].ToString(), "resources[0] (svc) item 3: " + r.errors[3].message);
  EXPECT_TRUE(r.failed());
  EXPECT_TRUE(r.entities.empty());

  Mapper empty = MustLoad(Resource("svc", "empty", kBasic));
  MapResult e = empty.Map("svc", Items(R"([{"id":"a"}])"));
  ASSERT_EQ(e.errors.size(), 1u);
  EXPECT_EQ(e.errors[0].message,
            "Selector query failed for pattern 'empty': StopIteration (the selector produced no "
            "output)");

  Mapper raising = MustLoad(Resource("svc", "'error(\"nope\")'", kBasic));
  MapResult x = raising.Map("svc", Items(R"([{"id":"a"}])"));
  ASSERT_EQ(x.errors.size(), 1u);
  EXPECT_EQ(x.errors[0].message.rfind("Selector query failed for pattern 'error(\"nope\")': ", 0),
            0u)
      << x.errors[0].message;
  EXPECT_NE(x.errors[0].message.find("nope"), std::string::npos);
}

TEST(MapperTest, SelectorThatDoesNotCompileFailsEveryItem) {
  Mapper m = MustLoad(Resource("svc", ".a ==", kBasic));
  MapResult r = m.Map("svc", Items(R"([{"id":"a"},{"id":"b"},{"id":"c"}])"));
  EXPECT_TRUE(r.entities.empty());
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[2].message.rfind("Selector query failed for pattern '.a ==': ", 0), 0u);
}

TEST(MapperTest, MisconfiguredRecordsTheFirstReasonPerPath) {
  Mapper m = MustLoad(Resource("svc", "'true'",
                               kBasic + "        title: .a |\n"
                                        "        properties:\n"
                                        "          n: .missing\n"
                                        "          e: .x.y\n"
                                        "          none: empty\n"));
  MapResult r = m.Map("svc", Items(R"([{"id":"a","x":"s"},{"id":"b","x":{"y":1}}])"));
  ASSERT_EQ(r.entities.size(), 2u);
  ASSERT_EQ(r.misconfigured.size(), 4u);  // sorted by path
  EXPECT_EQ(r.misconfigured[0].path, "properties.e");
  EXPECT_NE(r.misconfigured[0].reason.find("Cannot index string"), std::string::npos)
      << r.misconfigured[0].reason;
  EXPECT_EQ(r.misconfigured[1].path, "properties.n");
  EXPECT_EQ(r.misconfigured[1].reason, "null");
  EXPECT_EQ(r.misconfigured[2].path, "properties.none");
  EXPECT_EQ(r.misconfigured[2].reason, "no output");
  EXPECT_EQ(r.misconfigured[3].path, "title");
  EXPECT_EQ(r.misconfigured[3].jq, ".a |");
  EXPECT_FALSE(r.misconfigured[3].reason.empty());
  EXPECT_EQ(r.MisconfiguredOf(0).at("properties.n"), ".missing");
  EXPECT_TRUE(r.MisconfiguredOf(1).empty());
}

TEST(MapperTest, KindSelectsResources) {
  Mapper m = MustLoad(Resource("a", "'true'", kBasic) + Resource("b", "'true'", kBasic) +
                      Resource("a", "'true'",
                               "        identifier: .id + \"2\"\n"
                               "        blueprint: '\"svc\"'\n"));
  EXPECT_EQ(m.ResourcesFor("a"), (std::vector<size_t>{0, 2}));
  EXPECT_EQ(m.ResourcesFor(""), (std::vector<size_t>{0, 1, 2}));
  EXPECT_TRUE(m.ResourcesFor("c").empty());
  MapResult r = m.Map("a", Items(R"([{"id":"x"},{"id":"y"}])"));
  ASSERT_EQ(r.entities.size(), 4u);
  // Grouped by resource, as Ocean maps resource by resource.
  EXPECT_EQ(r.entities[0].Get("identifier"), json::Value("x"));
  EXPECT_EQ(r.entities[1].Get("identifier"), json::Value("y"));
  EXPECT_EQ(r.entities[2].Get("identifier"), json::Value("x2"));
  EXPECT_EQ(r.origins[2].resource, 2u);
  EXPECT_TRUE(m.Map("c", Items(R"([{"id":"x"}])")).entities.empty());
}

TEST(MapperTest, ItemsToParseReportsElementPositions) {
  Mapper m = MustLoad(Resource("issue", ".item.ok", kBasic, "    itemsToParse: .list\n"));
  MapResult r = m.Map("issue", Items(R"([{"id":"p0","list":[{"ok":true},{"ok":"x"}]},
                                        {"id":"p1","list":7},
                                        {"id":"p2","list":[{"ok":true}]}])"));
  ASSERT_EQ(r.entities.size(), 2u);
  EXPECT_EQ(r.origins[0].index, 0u);
  EXPECT_EQ(r.origins[0].element, 0u);
  EXPECT_EQ(r.origins[1].index, 2u);
  EXPECT_EQ(r.origins[1].element, 0u);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].index, 0u);
  EXPECT_EQ(r.errors[0].element, 1u);
  EXPECT_EQ(r.errors[0].ToString().rfind("resources[0] (issue) item 0 element 1: ", 0), 0u);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].index, 1u);
  EXPECT_EQ(r.warnings[0].message,
            "Failed to parse items for JQ expression '.list', Expected list but got int; "
            "skipping the item");
}

TEST(MapperTest, ItemsToParseNeedsObjectParents) {
  Mapper m =
      MustLoad(Resource("x", "'true'", "        identifier: .item\n        blueprint: '\"x\"'\n",
                        "    itemsToParse: .[0:1]\n"
                        "    itemsToParseTopLevelTransform: false\n"));
  MapResult r = m.Map("x", Items(R"([["a","b"]])"));
  EXPECT_TRUE(r.entities.empty());
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].message.find("not an object"), std::string::npos);
}

TEST(MapperTest, IconListFailsTheResourceBatchAndLaterBatches) {
  Mapper m = MustLoad(Resource("svc", "'true'", kBasic + "        icon: .icon\n") +
                      Resource("svc", "'true'", kBasic));
  RunState run;
  MapResult first =
      m.Map("svc", Items(R"([{"id":"a","icon":"x"},{"id":"b","icon":{"k":1}}])"), &run);
  ASSERT_EQ(first.errors.size(), 1u);
  EXPECT_EQ(first.errors[0].scope, ItemError::Scope::kBatch);
  EXPECT_EQ(first.errors[0].index, 1u);
  EXPECT_EQ(first.errors[0].message.rfind("icon: str type expected, got dict {'k': 1}", 0), 0u)
      << first.errors[0].message;
  ASSERT_EQ(first.entities.size(), 2u);  // resource 1 only
  EXPECT_EQ(first.origins[0].resource, 1u);
  EXPECT_TRUE(run.abandoned.count(0));
  EXPECT_EQ(run.next_index, 2u);

  MapResult second = m.Map("svc", Items(R"([{"id":"c","icon":"x"}])"), &run);
  EXPECT_TRUE(second.errors.empty());
  ASSERT_EQ(second.entities.size(), 1u);
  EXPECT_EQ(second.origins[0].resource, 1u);
  EXPECT_EQ(second.origins[0].index, 2u);
}

TEST(MapStreamTest, BatchesGiveTheSameResultAsOneMap) {
  const std::string yaml = Resource("svc", ".keep", kBasic + "        title: .title\n");
  std::vector<json::Value> items;
  for (int i = 0; i < 25; ++i) {
    json::Value item = json::Value::MakeObject();
    item.Set("id", "id-" + std::to_string(i));
    item.Set("keep", i % 3 != 0);
    if (i % 5 == 0) item.Set("title", "t" + std::to_string(i));
    items.push_back(item);
  }
  Mapper one = MustLoad(yaml);
  MapResult whole = one.Map("svc", items);

  Mapper streamed = MustLoad(yaml);
  MapResult merged;
  int batches = 0;
  MapStream stream(
      &streamed, "svc",
      [&](MapResult batch) {
        ++batches;
        merged.Merge(std::move(batch));
        return Status::Ok();
      },
      4);
  for (const auto& item : items) ASSERT_TRUE(stream.Add(item).ok());
  ASSERT_TRUE(stream.Finish().ok());
  EXPECT_EQ(batches, 7);
  EXPECT_EQ(stream.run().next_index, 25u);
  EXPECT_EQ(merged.entities, whole.entities);
  ASSERT_EQ(merged.origins.size(), whole.origins.size());
  EXPECT_EQ(merged.origins.back().index, whole.origins.back().index);
  EXPECT_EQ(merged.skipped, whole.skipped);
  EXPECT_EQ(merged.filtered, 9u);
  ASSERT_EQ(merged.misconfigured.size(), 1u);
  EXPECT_EQ(merged.misconfigured[0].path, "title");
}

TEST(MapStreamTest, SinkErrorStopsTheStream) {
  Mapper m = MustLoad(Resource("svc", "'true'", kBasic));
  MapStream stream(
      &m, "svc", [](MapResult) { return Internal("disk full"); }, 2);
  EXPECT_TRUE(stream.Add(J(R"({"id":"a"})")).ok());
  Status s = stream.Add(J(R"({"id":"b"})"));
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_TRUE(stream.Finish().ok());  // nothing buffered
}

TEST(MapperTest, CloneMapsTheSame) {
  Mapper m = MustLoad(Resource("svc", "'true'", kBasic));
  auto clone = m.Clone();
  ASSERT_TRUE(clone.ok()) << clone.status().message();
  auto items = Items(R"([{"id":"a"}])");
  EXPECT_EQ(clone->Map("svc", items).entities, m.Map("svc", items).entities);
}

TEST(MapperTest, EnvIsDisabledUnlessAllowed) {
  const std::string yaml = Resource("svc", "'true'", kBasic + "        title: $ENV.PATH\n");
  Mapper locked = MustLoad(yaml);
  EXPECT_TRUE(locked.Map("svc", Items(R"([{"id":"a"}])")).entities[0].Get("title").is_null());
  LoadOptions options;
  options.allow_env = true;
  auto open = Mapper::LoadText(yaml, "mapping.yaml", options);
  ASSERT_TRUE(open.ok());
  EXPECT_TRUE(open->Map("svc", Items(R"([{"id":"a"}])")).entities[0].Get("title").is_string());
}

}  // namespace
}  // namespace portolan::mapping
