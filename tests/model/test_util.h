// Helpers for the engine/model tests.
#ifndef PORTOLAN_TESTS_MODEL_TEST_UTIL_H_
#define PORTOLAN_TESTS_MODEL_TEST_UTIL_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "engine/base/json.h"
#include "engine/model/blueprint.h"

namespace portolan::model::testing {

inline json::Value MustParseJson(const std::string& text) {
  auto v = json::Parse(text);
  EXPECT_TRUE(v.ok()) << v.status().message() << "\n" << text;
  return v.ok() ? *v : json::Value();
}

// Parses a blueprint document given as JSON text, as if it came from `source`.
inline Result<Blueprint> ParseText(const std::string& text,
                                   const std::string& source = "blueprints/bad.json") {
  return ParseBlueprint(MustParseJson(text), source);
}

inline Blueprint MustParse(const std::string& text, const std::string& source = "test.json") {
  auto bp = ParseText(text, source);
  EXPECT_TRUE(bp.ok()) << bp.status().message();
  return bp.ok() ? *bp : Blueprint();
}

inline std::string TestdataPath(const std::string& rel) {
  return std::string(PORTOLAN_SOURCE_DIR) + "/tests/model/testdata/" + rel;
}

}  // namespace portolan::model::testing

// Asserts a failed Result/Status whose message contains every given substring.
#define EXPECT_ERROR_HAS(status_expr, ...)                   \
  do {                                                       \
    const ::portolan::Status _s = (status_expr);             \
    EXPECT_FALSE(_s.ok()) << "expected an error";            \
    for (const char* _sub : {__VA_ARGS__}) {                 \
      EXPECT_THAT(_s.message(), ::testing::HasSubstr(_sub)); \
    }                                                        \
  } while (0)

#endif  // PORTOLAN_TESTS_MODEL_TEST_UTIL_H_
