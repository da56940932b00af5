#include "mapping/internal/python.h"

#include <gtest/gtest.h>

namespace portolan::mapping::internal {
namespace {

TEST(PythonTest, FloatReprMatchesPython) {
  EXPECT_EQ(PythonFloatRepr(1.5), "1.5");
  EXPECT_EQ(PythonFloatRepr(1.0), "1.0");
  EXPECT_EQ(PythonFloatRepr(1000.0), "1000.0");
  EXPECT_EQ(PythonFloatRepr(0.1), "0.1");
  EXPECT_EQ(PythonFloatRepr(1e16), "1e+16");
  EXPECT_EQ(PythonFloatRepr(1e15), "1000000000000000.0");
  EXPECT_EQ(PythonFloatRepr(0.0001), "0.0001");
  EXPECT_EQ(PythonFloatRepr(0.00001), "1e-05");
  EXPECT_EQ(PythonFloatRepr(1.5e-7), "1.5e-07");
  EXPECT_EQ(PythonFloatRepr(-2.25), "-2.25");
  EXPECT_EQ(PythonFloatRepr(-0.0), "-0.0");
  EXPECT_EQ(PythonFloatRepr(0.0), "0.0");
  EXPECT_EQ(PythonFloatRepr(123456.789), "123456.789");
  EXPECT_EQ(PythonFloatRepr(1.7976931348623157e308), "1.7976931348623157e+308");
}

TEST(PythonTest, StrOfJqValuesTreatsIntegralNumbersAsInts) {
  EXPECT_EQ(PythonStr(json::Value(7.0)), "7");
  EXPECT_EQ(PythonStr(json::Value(1.5)), "1.5");
  EXPECT_EQ(PythonStr(json::Value(1e20)), "100000000000000000000");
  EXPECT_EQ(PythonStr(json::Value(true)), "True");
  EXPECT_EQ(PythonStr(json::Value(false)), "False");
  EXPECT_EQ(PythonStr(json::Value()), "None");
  EXPECT_EQ(PythonStr(json::Value("true")), "true");
  auto obj = json::Parse(R"({"a": [1, "x", null, true], "it's": 2.5})");
  ASSERT_TRUE(obj.ok());
  EXPECT_EQ(PythonStr(*obj), R"({'a': [1, 'x', None, True], "it's": 2.5})");
}

TEST(PythonTest, ReprQuotesLikePython) {
  EXPECT_EQ(PythonReprString("abc"), "'abc'");
  EXPECT_EQ(PythonReprString("it's"), "\"it's\"");
  EXPECT_EQ(PythonReprString("say \"hi\" it's"), "'say \"hi\" it\\'s'");
  EXPECT_EQ(PythonReprString("a\nb\\"), "'a\\nb\\\\'");
  EXPECT_EQ(PythonReprString(std::string("\x01", 1)), "'\\x01'");
}

TEST(PythonTest, TypeNames) {
  EXPECT_EQ(PythonTypeName(json::Value()), "NoneType");
  EXPECT_EQ(PythonTypeName(json::Value(1.0)), "int");
  EXPECT_EQ(PythonTypeName(json::Value(1.25)), "float");
  EXPECT_EQ(PythonTypeName(json::Value("s")), "str");
  EXPECT_EQ(PythonTypeName(json::Value(false)), "bool");
  EXPECT_EQ(PythonTypeName(json::Value::MakeArray()), "list");
  EXPECT_EQ(PythonTypeName(json::Value::MakeObject()), "dict");
}

TEST(PythonTest, StripUsesPythonWhitespace) {
  EXPECT_EQ(PythonStrip("  .a \n\t"), ".a");
  EXPECT_EQ(PythonStrip("\xC2\xA0.a\xE3\x80\x80"), ".a");  // NBSP, ideographic space
  EXPECT_EQ(PythonStrip("\x1c.a\x1f"), ".a");
  EXPECT_EQ(PythonStrip("   "), "");
  EXPECT_EQ(PythonStrip(""), "");
}

TEST(PythonTest, WordCharacters) {
  EXPECT_TRUE(IsPythonWordChar('a'));
  EXPECT_TRUE(IsPythonWordChar('_'));
  EXPECT_TRUE(IsPythonWordChar('7'));
  EXPECT_FALSE(IsPythonWordChar('-'));
  EXPECT_FALSE(IsPythonWordChar('$'));
  EXPECT_TRUE(IsPythonWordChar(U'é'));
  EXPECT_TRUE(IsPythonWordChar(U'ж'));
  EXPECT_FALSE(IsPythonWordChar(U'…'));
  EXPECT_FALSE(IsPythonWordChar(0xa0));
}

}  // namespace
}  // namespace portolan::mapping::internal
