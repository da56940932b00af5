#include "engine/base/json.h"

#include <gtest/gtest.h>

#include "engine/base/time.h"

namespace portolan {
namespace {

TEST(JsonTest, RoundTripsAndKeepsKeyOrder) {
  auto v = json::Parse(R"({"b":1,"a":[true,null,"x\n"],"c":{"d":1.5}})");
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(json::Write(*v), R"({"b":1,"a":[true,null,"x\n"],"c":{"d":1.5}})");
}

TEST(JsonTest, IntegralNumbersPrintWithoutFraction) {
  EXPECT_EQ(json::FormatNumber(3.0), "3");
  EXPECT_EQ(json::FormatNumber(1e3), "1000");
  EXPECT_EQ(json::FormatNumber(0.1), "0.1");
  EXPECT_EQ(json::FormatNumber(-2.5), "-2.5");
}

TEST(JsonTest, ErrorsNameLineAndColumn) {
  auto v = json::Parse("{\n  \"a\": 1\n  \"b\": 2\n}");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("line 3, column 3"), std::string::npos)
      << v.status().message();
}

TEST(JsonTest, RejectsInvalidUtf8) {
  std::string bad = "\"\xff\xfe\"";
  auto v = json::Parse(bad);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("not UTF-8"), std::string::npos) << v.status().message();
}

TEST(JsonTest, ParsesSequencesWithLines) {
  std::vector<int> lines;
  std::vector<std::string> out;
  Status s = json::ParseSequence("{\"a\":1}\n{\"a\":2}\n\n[3]\n", [&](json::Value v, int line) {
    lines.push_back(line);
    out.push_back(json::Write(v));
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(out, (std::vector<std::string>{"{\"a\":1}", "{\"a\":2}", "[3]"}));
  EXPECT_EQ(lines, (std::vector<int>{1, 2, 4}));
}

TEST(JsonTest, TruthinessFollowsPython) {
  EXPECT_FALSE(json::Value().Truthy());
  EXPECT_FALSE(json::Value(0).Truthy());
  EXPECT_FALSE(json::Value("").Truthy());
  EXPECT_FALSE(json::Value::MakeArray().Truthy());
  EXPECT_FALSE(json::Value::MakeObject().Truthy());
  EXPECT_TRUE(json::Value("0").Truthy());
  EXPECT_TRUE(json::Value(-1).Truthy());
}

TEST(TimeTest, ParsesAndFormatsIso8601) {
  auto t = ParseIsoTime("2024-03-01T10:00:00Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*t, 1709287200.0);
  EXPECT_EQ(FormatIsoTime(*t), "2024-03-01T10:00:00.000Z");
  EXPECT_EQ(*ParseIsoTime("2024-03-01T12:00:00+02:00"), 1709287200.0);
  EXPECT_EQ(*ParseIsoTime("2024-03-01T10:00:00.250Z"), 1709287200.25);
  EXPECT_EQ(*ParseIsoTime("1970-01-01"), 0.0);
  EXPECT_FALSE(ParseIsoTime("yesterday").has_value());
  EXPECT_FALSE(ParseIsoTime("2024-13-01").has_value());
}

}  // namespace
}  // namespace portolan

namespace portolan::json {
namespace {

TEST(JsonDepthTest, DeepNestingIsAnErrorNotACrash) {
  // 50,000 levels: a recursive parser would overflow the stack.
  std::string deep(50000, '[');
  auto v = Parse(deep);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message(),
            "line 1, column 513: arrays and objects nested deeper than 512 levels");
  std::string objects;
  for (int i = 0; i < 600; ++i) objects += "{\"a\":";
  EXPECT_FALSE(Parse(objects).ok());
  // Exactly the limit is fine.
  std::string ok = std::string(kMaxDepth, '[') + std::string(kMaxDepth, ']');
  EXPECT_TRUE(Parse(ok).ok());
  Status s = ParseSequence("[1]\n" + deep, [](Value, int) { return Status::Ok(); });
  EXPECT_NE(s.message().find("line 2, column 513: arrays and objects nested deeper"),
            std::string::npos)
      << s.message();
}

}  // namespace
}  // namespace portolan::json
