#include "mapping/payload.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace portolan::mapping {
namespace {

struct Collected {
  std::vector<std::string> items;  // compact JSON
  std::vector<ItemSource> sources;
};

Result<Collected> Parse(const std::string& text, const std::string& items_path = "") {
  Collected c;
  PayloadOptions options;
  options.items_path = items_path;
  Status s = ParsePayload(text, "payload.json", options, [&](json::Value v, const ItemSource& src) {
    c.items.push_back(json::Write(v));
    c.sources.push_back(src);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return c;
}

TEST(PayloadTest, ArrayObjectJsonLinesAndConcatenated) {
  auto array = Parse(R"([{"a":1},{"a":2}])");
  ASSERT_TRUE(array.ok()) << array.status().message();
  EXPECT_EQ(array->items, (std::vector<std::string>{R"({"a":1})", R"({"a":2})"}));

  auto single = Parse(R"({"a":1})");
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->items.size(), 1u);

  auto lines = Parse("{\"a\":1}\n{\"a\":2}\n\n{\"a\":3}\n");
  ASSERT_TRUE(lines.ok());
  ASSERT_EQ(lines->items.size(), 3u);
  EXPECT_EQ(lines->sources[2].line, 4);
  EXPECT_EQ(lines->sources[2].position, 2u);
  EXPECT_EQ(lines->sources[2].file, "payload.json");

  auto concatenated = Parse(R"({"a":1}{"a":2} {"a":3})");
  ASSERT_TRUE(concatenated.ok());
  EXPECT_EQ(concatenated->items.size(), 3u);
}

TEST(PayloadTest, JsonLinesOfArraysConcatenateTheirElements) {
  auto c = Parse("[{\"a\":1},{\"a\":2}]\n[{\"a\":3}]\n{\"a\":4}\n[]\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->items.size(), 4u);
  EXPECT_EQ(c->sources[2].line, 2);
}

TEST(PayloadTest, ItemsPath) {
  auto c = Parse(R"({"data":{"items":[{"a":1},{"a":2}]},"next":null}
{"data":{"items":[{"a":3}]}})",
                 "data.items");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->items.size(), 3u);
  EXPECT_EQ(c->sources[2].line, 2);

  auto dotted = Parse(R"({"items":[{"a":1}]})", ".items");
  ASSERT_TRUE(dotted.ok());
  EXPECT_EQ(dotted->items.size(), 1u);

  auto one = Parse(R"({"item":{"a":1}})", "item");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->items.size(), 1u);

  auto missing = Parse(R"({"data":{}})", "data.items");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            "payload.json:1: items path 'data.items' not found (no key 'items' in an object)");

  auto scalar = Parse(R"({"items":3})", "items");
  ASSERT_FALSE(scalar.ok());
  EXPECT_EQ(scalar.status().message(),
            "payload.json:1: items path 'items' holds a number, not an array of objects");
}

TEST(PayloadTest, ItemsMustBeObjects) {
  auto scalar = Parse("{\"a\":1}\n\"text\"\n");
  ASSERT_FALSE(scalar.ok());
  EXPECT_EQ(scalar.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(scalar.status().message(),
            "payload.json:2: items must be JSON objects, the value is a string");
  auto element = Parse("[{\"a\":1}, 5]");
  ASSERT_FALSE(element.ok());
  EXPECT_EQ(element.status().message(),
            "payload.json:1: items must be JSON objects, element 1 of the array is a number");
}

TEST(PayloadTest, BadJsonNamesFileLineAndColumn) {
  auto c = Parse("{\"a\":1}\n{\"a\" 2}\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message().rfind("payload.json: line 2, column 6: ", 0), 0u)
      << c.status().message();
}

TEST(PayloadTest, RejectsInvalidUtf8) {
  auto c = Parse("[{\"a\":\"caf\xE9\"}]");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("payload.json: line 1, column"), std::string::npos)
      << c.status().message();
  EXPECT_NE(c.status().message().find("not UTF-8"), std::string::npos) << c.status().message();
}

TEST(PayloadTest, SkipsAByteOrderMark) {
  auto c = Parse("\xEF\xBB\xBF[{\"a\":1}]");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->items.size(), 1u);
}

TEST(PayloadTest, CallbackErrorsPassThroughUnchanged) {
  Status s = ParsePayload("[{\"a\":1}]", "p.json", {},
                          [](json::Value, const ItemSource&) { return Internal("sink failed"); });
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_EQ(s.message(), "sink failed");
}

TEST(PayloadTest, ReadsSeveralFiles) {
  namespace fs = std::filesystem;
  fs::path dir =
      fs::temp_directory_path() / ("portolan_payload_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "a.json") << R"([{"n":1},{"n":2}])";
  std::ofstream(dir / "b.jsonl") << "{\"n\":3}\n{\"n\":4}\n";
  std::vector<std::string> files;
  std::vector<size_t> positions;
  Status s = ReadPayloads({(dir / "a.json").string(), (dir / "b.jsonl").string()}, {},
                          [&](json::Value, const ItemSource& src) {
                            files.push_back(fs::path(src.file).filename().string());
                            positions.push_back(src.position);
                            return Status::Ok();
                          });
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(files, (std::vector<std::string>{"a.json", "a.json", "b.jsonl", "b.jsonl"}));
  EXPECT_EQ(positions, (std::vector<size_t>{0, 1, 0, 1}));

  auto all = ReadPayloadItems({(dir / "a.json").string(), (dir / "b.jsonl").string()});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 4u);

  auto missing = ReadPayloadItems({(dir / "nope.json").string()});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace portolan::mapping
