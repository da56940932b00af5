// jq 1.7/1.8 behaviour on libjq 1.6 (engine/jq/prelude.cc and the dialect rewrite). Each
// expectation is what jq 1.7.1/1.8 outputs; comments note where 1.6 alone differs.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "engine/jq/internal/prelude.h"
#include "engine/jq/jq.h"
#include "tests/jq/render.h"

namespace portolan::jq {
namespace {

// The first output as compact JSON, "<empty>", or "<error: message>".
std::string Eval(std::string_view program, std::string_view input = "null") {
  auto compiled = Program::Compile(program);
  if (!compiled.ok()) return "<compile error: " + compiled.status().message() + ">";
  auto in = json::Parse(input);
  EXPECT_TRUE(in.ok()) << in.status().message();
  Output out = (*compiled)->Evaluate(in.ok() ? *in : json::Value());
  return testing::Render(out);
}

TEST(JqCompatTest, WholePreludeCompiles) {
  std::string prelude = internal::FullPrelude();
  EXPECT_EQ(prelude.find('\n'), std::string::npos);  // one line, see Program::Compile
  EXPECT_EQ(Eval(prelude + " [1, -2] | map(abs)"), "[1,2]");
}

TEST(JqCompatTest, IfWithoutElse) {
  EXPECT_EQ(Eval(R"([.[] | if . == 1 then "one" end])", "[1,2]"), R"(["one",2])");
  EXPECT_EQ(Eval(R"([.[] | if . == 1 then "one" elif . == 2 then "two" end])", "[1,2,3]"),
            R"(["one","two",3])");
  EXPECT_EQ(Eval(R"(if .a then (if .b then "ab" end) else "none" end)", R"({"a":1,"b":false})"),
            R"({"a":1,"b":false})");
  EXPECT_EQ(Eval(R"(.x | if . == "end" then "if" end)", R"({"x":"end"})"), R"("if")");
  EXPECT_EQ(Eval(R"j("\(if . then "yes" end)")j", "false"), R"("false")");
}

TEST(JqCompatTest, IfReduceForeachAsTerms) {
  EXPECT_EQ(Eval(R"({a: if . then 1 else 2 end})", "true"), R"({"a":1})");
  EXPECT_EQ(Eval("{sum: reduce .[] as $x (0; . + $x)}", "[1,2,3]"), R"({"sum":6})");
  EXPECT_EQ(Eval("if . then [1] else [2] end | .[0]", "false"), "2");
  EXPECT_EQ(Eval("[foreach .[] as $x (0; . + $x)][-1]", "[1,2,3]"), "6");
  EXPECT_EQ(Eval("reduce .[] as $x (0; if $x > 1 then . + $x end)", "[1,2,3]"), "5");
  EXPECT_EQ(Eval("try (if . then error(\"x\") end) catch 0", "true"), "0");
}

TEST(JqCompatTest, DotBeforeBracket) {
  EXPECT_EQ(Eval(R"(.a.["b"])", R"({"a":{"b":123}})"), "123");
  EXPECT_EQ(Eval(".a.[]", R"({"a":[7,8]})"), "7");
  EXPECT_EQ(Eval(".a.[1:]", R"({"a":[7,8]})"), "[8]");
}

TEST(JqCompatTest, VariableAsObjectKey) {
  EXPECT_EQ(Eval(R"("a" as $key | {$key: 123})"), R"({"a":123})");
  EXPECT_EQ(Eval(". as {$a: [$b]} | [$a, $b]", R"({"a":[5]})"), "[[5],5]");
}

TEST(JqCompatTest, Pick) {
  EXPECT_EQ(Eval("pick(.a, .b.c, .x)", R"({"a":1,"b":{"c":2,"d":3},"e":4})"),
            R"({"a":1,"b":{"c":2},"x":null})");
  EXPECT_EQ(Eval("pick(.[1])", "[1,2,3]"), "[null,2]");
  EXPECT_EQ(Eval(".labels | map(.name) | pick(.[0])", R"({"labels":[{"name":"x"}]})"), R"(["x"])");
}

TEST(JqCompatTest, Abs) {
  EXPECT_EQ(Eval("map(abs)", "[-1, 0, 2.5, -0.5]"), "[1,0,2.5,0.5]");
  EXPECT_EQ(Eval(R"("abc" | abs)"), R"(<error: string ("abc") has no absolute value>)");
  EXPECT_EQ(Eval(R"("a long string value" | abs)"),
            R"(<error: string ("a long str...) has no absolute value>)");
}

TEST(JqCompatTest, ToArray) {
  EXPECT_EQ(Eval("map(toarray)", R"([1, [2], null, {"a":1}])"), R"([[1],[2],[null],[{"a":1}]])");
}

TEST(JqCompatTest, TrimFamily) {
  EXPECT_EQ(Eval("trim", R"("  a b \n\t")"), R"("a b")");
  EXPECT_EQ(Eval("ltrim", R"("  a b  ")"), R"("a b  ")");
  EXPECT_EQ(Eval("rtrim", R"("  a b  ")"), R"("  a b")");
  EXPECT_EQ(Eval("trim", R"("\u00a0\u3000x\u2003")"), R"("x")");  // Unicode whitespace
  EXPECT_EQ(Eval("trim", R"("   ")"), R"("")");
  EXPECT_EQ(Eval("trim", R"("")"), R"("")");
  EXPECT_EQ(Eval("trim", "123"), "<error: trim input must be a string>");
  EXPECT_EQ(Eval(R"(trimstr("-"))", R"("-x-")"), R"("x")");
}

TEST(JqCompatTest, LtrimstrRtrimstrUnchanged) {
  // Same in 1.6 and 1.8: non-matching or non-string input comes back unchanged.
  EXPECT_EQ(Eval(R"([.[] | ltrimstr("a")])", R"(["ab", "ba", 1, null, "a"])"),
            R"(["b","ba",1,null,""])");
  EXPECT_EQ(Eval(R"([.[] | rtrimstr("a")])", R"(["ab", "ba", {}])"), R"(["ab","b",{}])");
  EXPECT_EQ(Eval("ltrimstr(1)", R"("1x")"), R"("1x")");
}

TEST(JqCompatTest, Limit) {
  EXPECT_EQ(Eval("[limit(0; 1, 2)]"), "[]");  // 1.6: [1]
  EXPECT_EQ(Eval("[limit(0; error)]"), "[]");
  EXPECT_EQ(Eval("[limit(2; .[])]", "[1,2,3]"), "[1,2]");
  EXPECT_EQ(Eval("try limit(-1; 1, 2) catch ."), R"("limit doesn't support negative count")");
}

TEST(JqCompatTest, SkipNthLastAdd) {
  EXPECT_EQ(Eval("[skip(1; .[])]", "[1,2,3]"), "[2,3]");
  EXPECT_EQ(Eval("[nth(5; 1, 2)]"), "[]");  // 1.6: [2]
  EXPECT_EQ(Eval("nth(1; 1, 2)"), "2");
  EXPECT_EQ(Eval("[last(empty)]"), "[]");  // 1.6: [null]
  EXPECT_EQ(Eval("last(.[])", "[1,2,3]"), "3");
  EXPECT_EQ(Eval("last", "[1,2,3]"), "3");
  EXPECT_EQ(Eval("add(.[].n)", R"([{"n":1},{"n":2}])"), "3");
  EXPECT_EQ(Eval("add", "[1,2]"), "3");
}

TEST(JqCompatTest, Splits) {
  // In 1.6 already; the flags argument may be null as in 1.8.
  EXPECT_EQ(Eval(R"([splits(", *")])", R"("a, b,c")"), R"(["a","b","c"])");
  EXPECT_EQ(Eval(R"([splits("a"; null)])", R"("bab")"), R"(["b","b"])");
}

TEST(JqCompatTest, Scan) {
  EXPECT_EQ(Eval(R"([scan("ab"; "i")])", R"("abAB")"), R"(["ab","AB"])");
  EXPECT_EQ(Eval(R"([scan("c")])", R"("acbc")"), R"(["c","c"])");
}

TEST(JqCompatTest, SubAndGsub) {
  EXPECT_EQ(Eval(R"(gsub(""; "-"))", R"("abc")"), R"("-a-b-c")");  // 1.6: never returns
  EXPECT_EQ(Eval(R"(gsub("x*"; "-"))", R"("abc")"), R"("-a-b-c")");
  EXPECT_EQ(Eval(R"([gsub("a"; "1", "2")])", R"("aba")"), R"(["1b1","2b2"])");
  EXPECT_EQ(Eval(R"j(gsub("(?<l>[A-Z])"; "_\(.l | ascii_downcase)"))j", R"("AbCd")"),
            R"("_ab_cd")");
  EXPECT_EQ(Eval(R"(sub("b"; "X"))", R"("abab")"), R"("aXab")");
  EXPECT_EQ(Eval(R"(gsub("é"; "e"))", R"("aébé")"), R"("aebe")");
  EXPECT_EQ(Eval(R"(gsub("B"; "x"; "i"))", R"("abAB")"), R"("axAx")");
  EXPECT_EQ(Eval(R"(gsub("q"; "x"))", R"("abc")"), R"("abc")");
}

TEST(JqCompatTest, IndicesCountCodePoints) {
  EXPECT_EQ(Eval(R"(index("é"), rindex("é"))", R"("aéxé")"), "1");
  EXPECT_EQ(Eval(R"(rindex("é"))", R"("aéxé")"), "3");  // 1.6: 4 (bytes)
  EXPECT_EQ(Eval(R"(.[:index(":")])", R"("déjà: vu")"), R"("déjà")");
  EXPECT_EQ(Eval(R"(indices("aa"))", R"("aaaa")"), "[0,1,2]");  // 1.6: [0,2]
  EXPECT_EQ(Eval(R"(indices(""))", R"("abc")"), "[]");          // 1.6: never returns
  EXPECT_EQ(Eval(R"(index(","))", R"("a,b")"), "1");
  EXPECT_EQ(Eval(R"(index("z"))", R"("abc")"), "null");
  EXPECT_EQ(Eval("indices(1)", "[0,1,1]"), "[1,2]");
  EXPECT_EQ(Eval("indices([1,2])", "[0,1,2,1,2]"), "[1,3]");
}

TEST(JqCompatTest, Formats) {
  EXPECT_EQ(Eval("@base32d", R"("MZXW6YTBOI======")"), R"("foobar")");
  EXPECT_EQ(Eval("@base32", R"("foobar")"), R"("MZXW6YTBOI======")");  // not in Debian's 1.6
  EXPECT_EQ(Eval("@base32 | @base32d", R"("héllo €")"), R"("héllo €")");
  EXPECT_EQ(Eval("@base32d", R"("!!")"), R"(<error: string ("!!") is not valid base32 data>)");
  EXPECT_EQ(Eval("@urid", R"("a%20b%E2%82%AC+%21")"), R"("a b€+!")");
  // RFC 3986 unreserved characters only, as jq 1.7 (1.6 leaves !*'() alone).
  EXPECT_EQ(Eval("@uri", R"("a b!*'()~é")"), R"("a%20b%21%2A%27%28%29~%C3%A9")");
  EXPECT_EQ(Eval(R"j(@uri "https://x/?q=\(.q)")j", R"({"q":"a&b"})"), R"("https://x/?q=a%26b")");
  EXPECT_EQ(Eval("@base64"), R"("bnVsbA==")");
  EXPECT_EQ(Eval("@base64d", R"("Zm9v")"), R"("foo")");
  EXPECT_EQ(Eval(R"(format("text"))", "1"), R"("1")");
}

TEST(JqCompatTest, NewSmallBuiltins) {
  EXPECT_EQ(Eval("[have_decnum, have_literal_numbers]"), "[false,false]");
  EXPECT_EQ(Eval("65 | ascii"), R"("A")");
  EXPECT_EQ(Eval(R"(map(toboolean))", R"([true, "false", "true"])"), "[true,false,true]");
  EXPECT_EQ(Eval(R"(1 | debug("msg") | . + 1)"), "2");
  EXPECT_EQ(Eval("8 | significand"), "1");  // in 1.6 already
}

TEST(JqCompatTest, GetpathEdgeCases) {
  // Same in 1.6 and 1.8: paths through null give null; through other scalars, an error.
  EXPECT_EQ(Eval(R"(getpath(["a", 0, "b"]))"), "null");
  EXPECT_EQ(Eval(R"(getpath(["a", "b"]))", R"({"a":null})"), "null");
  EXPECT_EQ(Eval(R"(try getpath(["a", "b"]) catch .)", R"({"a":1})"),
            R"("Cannot index number with string \"b\"")");
  EXPECT_EQ(Eval(R"(try getpath("a") catch .)", "{}"), R"("Path must be specified as an array")");
  EXPECT_EQ(Eval(R"([paths])", R"({"a":[1]})"), R"([["a"],["a",0]])");
}

TEST(JqCompatTest, UserDefinitionsShadowThePrelude) {
  EXPECT_EQ(Eval("def abs: 42; -1 | abs"), "42");
  EXPECT_EQ(Eval(R"(def trim: "mine"; " x " | trim)"), R"("mine")");
}

}  // namespace
}  // namespace portolan::jq
