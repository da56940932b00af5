#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "mapping/config.h"

namespace portolan::mapping {
namespace {

// The examples of ocean-mapping §4.2, plus the edges of each step of the heuristic.
TEST(DeletionPathTest, SpecExamples) {
  EXPECT_EQ(DeletionPath(".fields.comments | map(select(.public))"), ".fields.comments");
  EXPECT_EQ(DeletionPath(". as $a | .file.content // {}"), ".file.content");
  EXPECT_EQ(DeletionPath(".[0].key"), ".[0].key");
  EXPECT_EQ(DeletionPath(".items[]"), ".items");
}

TEST(DeletionPathTest, SimplePaths) {
  EXPECT_EQ(DeletionPath(".fields.comments"), ".fields.comments");
  EXPECT_EQ(DeletionPath("  .items  "), ".items");
  EXPECT_EQ(DeletionPath(".a[0].b"), ".a[0].b");
  EXPECT_EQ(DeletionPath(".a.[\"x\"].b"), ".a.[\"x\"].b");
  EXPECT_EQ(DeletionPath(".a_b1.c2"), ".a_b1.c2");
  EXPECT_EQ(DeletionPath(".a-b"), ".a");                // '-' is not a word character
  EXPECT_EQ(DeletionPath(".data.ключ"), ".data.ключ");  // Unicode \w
}

TEST(DeletionPathTest, NoPathGivesNone) {
  EXPECT_EQ(DeletionPath("[.a[], .b[]]"), std::nullopt);
  EXPECT_EQ(DeletionPath("map(.x)"), std::nullopt);
  EXPECT_EQ(DeletionPath("to_entries"), std::nullopt);
  EXPECT_EQ(DeletionPath("if .a then .b else .c end"), std::nullopt);
  EXPECT_EQ(DeletionPath("."), std::nullopt);
  EXPECT_EQ(DeletionPath(".[]"), std::nullopt);  // `[^\]]+` needs a character
  EXPECT_EQ(DeletionPath(""), std::nullopt);
  EXPECT_EQ(DeletionPath("$__loc__"), std::nullopt);
}

TEST(DeletionPathTest, FirstPathOnlyForExpressions) {
  EXPECT_EQ(DeletionPath(".a + .b"), ".a");
  EXPECT_EQ(DeletionPath("(.x + .y)"), ".x");
  EXPECT_EQ(DeletionPath(".a // []"), ".a");
}

TEST(DeletionPathTest, SkipsBindingsIdentityAndVariables) {
  EXPECT_EQ(DeletionPath(". as $root | $root.items | .[0] "), ".[0]");
  EXPECT_EQ(DeletionPath(". | .items"), ".items");
  EXPECT_EQ(DeletionPath("$x | .items"), ".items");
  // The first segment that is not skipped but does not start with a path is passed over too.
  EXPECT_EQ(DeletionPath("map(.x) | .items"), ".items");
}

TEST(DeletionPathTest, ParenthesesKeepTextUpToTheFirstCloser) {
  EXPECT_EQ(DeletionPath("(.a | map(.b)) | .c"), ".a");
  EXPECT_EQ(DeletionPath("(map(.b)) | .c"), std::nullopt);  // chain is "map(.b"
  EXPECT_EQ(DeletionPath("(.a"), std::nullopt);             // no ')'
  EXPECT_EQ(DeletionPath("( .a )"), ".a");
}

TEST(DeletionPathTest, BracketsAreNaive) {
  // `\[[^\]]+\]` stops at the first ']', even inside a string.
  EXPECT_EQ(DeletionPath(".a[\"x]y\"]"), ".a[\"x]");
  // Pipes are split naively, even inside strings.
  EXPECT_EQ(DeletionPath(".a[\"x|y\"]"), ".a");
}

}  // namespace
}  // namespace portolan::mapping
