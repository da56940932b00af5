// ValidatePropertyValue: entity values against property definitions.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/model/blueprint.h"
#include "tests/model/test_util.h"

namespace portolan::model {
namespace {

using testing::MustParse;
using testing::MustParseJson;

// The property `p` of a blueprint whose schema.properties.p is `definition`.
PropertyDef Prop(const std::string& definition) {
  Blueprint bp = MustParse(R"({"identifier": "b", "title": "B", "schema": {"properties": {"p": )" +
                           definition + "}}}");
  return bp.properties.empty() ? PropertyDef() : bp.properties[0];
}

Status Check(const std::string& definition, const std::string& value_json) {
  return ValidatePropertyValue(Prop(definition), MustParseJson(value_json));
}

TEST(PropertyValueTest, NullAlwaysPasses) {
  EXPECT_TRUE(Check(R"({"type": "number", "minimum": 3})", "null").ok());
  EXPECT_TRUE(Check(R"({"type": "string", "enum": ["a"]})", "null").ok());
}

TEST(PropertyValueTest, TypeMismatchNamesPropertyAndValue) {
  Status s = Check(R"({"type": "number"})", R"("5")");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.port_error(), "blueprint_schema_mismatch");
  EXPECT_EQ(s.message(), "property 'p': value \"5\" is not a number");
  EXPECT_TRUE(Check(R"({"type": "number"})", "5").ok());
  EXPECT_TRUE(Check(R"({"type": "number"})", "2.5").ok());
  EXPECT_ERROR_HAS(Check(R"({"type": "string"})", "5"), "property 'p': value 5 is not a string");
  EXPECT_ERROR_HAS(Check(R"({"type": "boolean"})", R"("true")"), "is not a boolean");
  EXPECT_ERROR_HAS(Check(R"({"type": "object"})", "[]"), "value [] is not an object");
  EXPECT_ERROR_HAS(Check(R"({"type": "array"})", "{}"), "value {} is not an array");
  EXPECT_TRUE(Check(R"({"type": "boolean"})", "false").ok());
}

TEST(PropertyValueTest, Enum) {
  PropertyDef env = Prop(R"({"type": "string", "enum": ["Production", "Staging", "Development"]})");
  env.key = "environment";
  EXPECT_TRUE(ValidatePropertyValue(env, json::Value("Staging")).ok());
  Status s = ValidatePropertyValue(env, json::Value("Prod"));
  EXPECT_EQ(s.message(),
            "property 'environment': value \"Prod\" is not one of [\"Production\", "
            "\"Staging\", \"Development\"]");
  EXPECT_ERROR_HAS(Check(R"({"type": "number", "enum": [1, 2]})", "3"),
                   "value 3 is not one of [1, 2]");
}

TEST(PropertyValueTest, Formats) {
  const char* dt = R"({"type": "string", "format": "date-time"})";
  EXPECT_TRUE(Check(dt, R"("2024-03-01T10:00:00.000Z")").ok());
  EXPECT_TRUE(Check(dt, R"("2024-03-01T10:00:00+02:00")").ok());
  EXPECT_ERROR_HAS(Check(dt, R"("yesterday")"),
                   "property 'p': value \"yesterday\" is not an ISO 8601 date-time");
  const char* url = R"({"type": "string", "format": "url"})";
  EXPECT_TRUE(Check(url, R"("https://github.com/org/repo")").ok());
  EXPECT_ERROR_HAS(Check(url, R"("github dot com")"), "value \"github dot com\" is not a URL");
  const char* email = R"({"type": "string", "format": "email"})";
  EXPECT_TRUE(Check(email, R"("dev@example.com")").ok());
  EXPECT_ERROR_HAS(Check(email, R"("dev.example.com")"), "is not an email address");
  EXPECT_TRUE(Check(R"({"type": "string", "format": "ipv4"})", R"("10.0.0.1")").ok());
  EXPECT_ERROR_HAS(Check(R"({"type": "string", "format": "ipv4"})", R"("10.0.0.256")"),
                   "is not an IPv4 address");
  EXPECT_TRUE(Check(R"({"type": "string", "format": "ipv6"})", R"("::1")").ok());
  const char* labeled = R"({"type": "object", "format": "labeled-url"})";
  EXPECT_TRUE(Check(labeled, R"({"url": "https://x.io", "displayText": "X"})").ok());
  EXPECT_TRUE(Check(labeled, R"({"url": "https://x.io", "label": "X"})").ok());
  EXPECT_ERROR_HAS(Check(labeled, R"({"displayText": "X"})"), "is not a labeled URL");
  EXPECT_TRUE(Check(R"({"type": "string", "format": "markdown"})", R"("# hi")").ok());
}

TEST(PropertyValueTest, NumberBounds) {
  EXPECT_ERROR_HAS(Check(R"({"type": "number", "minimum": 0})", "-1"),
                   "property 'p': value -1 is less than minimum 0");
  EXPECT_ERROR_HAS(Check(R"({"type": "number", "maximum": 10})", "10.5"),
                   "value 10.5 is greater than maximum 10");
  EXPECT_TRUE(Check(R"({"type": "number", "minimum": 0, "maximum": 10})", "10").ok());
  EXPECT_ERROR_HAS(Check(R"({"type": "number", "exclusiveMinimum": 0})", "0"),
                   "value 0 must be greater than 0");
  EXPECT_ERROR_HAS(Check(R"({"type": "number", "exclusiveMaximum": 5})", "5"),
                   "value 5 must be less than 5");
  // Draft-04 boolean form.
  EXPECT_ERROR_HAS(Check(R"({"type": "number", "minimum": 1, "exclusiveMinimum": true})", "1"),
                   "value 1 must be greater than 1");
}

TEST(PropertyValueTest, StringLengthAndPattern) {
  EXPECT_ERROR_HAS(Check(R"({"type": "string", "minLength": 3})", R"("ab")"),
                   "value \"ab\" is shorter than minLength 3");
  EXPECT_ERROR_HAS(Check(R"({"type": "string", "maxLength": 2})", R"("abc")"),
                   "value \"abc\" is longer than maxLength 2");
  // Lengths count code points, not bytes.
  EXPECT_TRUE(Check(R"({"type": "string", "maxLength": 4})", R"("café")").ok());
  EXPECT_ERROR_HAS(Check(R"({"type": "string", "pattern": "^[a-z]+$"})", R"("Abc")"),
                   "value \"Abc\" does not match pattern \"^[a-z]+$\"");
  // JSON Schema patterns are not anchored.
  EXPECT_TRUE(Check(R"({"type": "string", "pattern": "[0-9]"})", R"("v1.2")").ok());
}

TEST(PropertyValueTest, ArraysAndItems) {
  const char* tags = R"({"type": "array", "items": {"type": "string", "enum": ["a", "b"]},
                          "minItems": 1, "maxItems": 3, "uniqueItems": true})";
  EXPECT_TRUE(Check(tags, R"(["a", "b"])").ok());
  EXPECT_ERROR_HAS(Check(tags, "[]"), "value [] has fewer than 1 items (minItems)");
  EXPECT_ERROR_HAS(Check(tags, R"(["a", "b", "a", "b"])"), "has more than 3 items (maxItems)");
  EXPECT_ERROR_HAS(Check(tags, R"(["a", "a"])"), "has duplicate items (uniqueItems): \"a\"");
  EXPECT_ERROR_HAS(Check(tags, R"(["a", 3])"), "property 'p[1]': value 3 is not a string");
  EXPECT_ERROR_HAS(Check(tags, R"(["a", "c"])"), "property 'p[1]': value \"c\" is not one of");
  EXPECT_ERROR_HAS(Check(R"({"type": "array", "items": {"type": "string", "format": "date-time"}})",
                         R"(["2024-01-01T00:00:00Z", "soon"])"),
                   "property 'p[1]': value \"soon\" is not an ISO 8601 date-time");
  EXPECT_ERROR_HAS(Check(R"({"type": "array", "items": {"type": "number"}})", "[1, null]"),
                   "property 'p[1]': value null is not a number");
}

TEST(PropertyValueTest, Objects) {
  const char* obj = R"({"type": "object", "properties": {"port": {"type": "number"}},
                         "required": ["port"], "additionalProperties": false})";
  EXPECT_TRUE(Check(obj, R"({"port": 80})").ok());
  EXPECT_ERROR_HAS(Check(obj, R"({"port": "80"})"),
                   "property 'p.port': value \"80\" is not a "
                   "number");
  EXPECT_ERROR_HAS(Check(obj, "{}"), "is missing required key \"port\"");
  EXPECT_ERROR_HAS(Check(obj, R"({"port": 1, "host": "x"})"), "has unexpected key \"host\"");
  EXPECT_TRUE(Check(R"({"type": "object"})", R"({"any": [1, {"x": null}]})").ok());
}

TEST(PropertyValueTest, LongValuesAreTruncatedInMessages) {
  std::string long_value = "\"" + std::string(300, 'x') + "\"";
  Status s = Check(R"({"type": "number"})", long_value);
  EXPECT_LT(s.message().size(), 150u);
  EXPECT_THAT(s.message(), ::testing::HasSubstr("xxx... is not a number"));
}

TEST(PropertyValueTest, DefinitionWithoutSchemaUsesTypeAndFormat) {
  PropertyDef p;
  p.key = "when";
  p.type = "string";
  p.format = "date-time";
  EXPECT_ERROR_HAS(ValidatePropertyValue(p, json::Value("x")),
                   "property 'when': value \"x\" is not an ISO 8601 date-time");
  EXPECT_ERROR_HAS(ValidatePropertyValue(p, json::Value(1)), "value 1 is not a string");
}

}  // namespace
}  // namespace portolan::model
