// The native jq evaluator (engine/jq/native.h) against libjq: every program of the tables is
// run by jq::Program (libjq 1.6 with the prelude) and natively, on a jq::Document and on a
// json::Value, and the results must be the same; a native kFallback must be a libjq error (or,
// where a test says so, a documented case the native evaluator leaves to libjq). The mapping
// test reads blueprints/ and tests/golden/: run from the repository root.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/json.h"
#include "engine/jq/document.h"
#include "engine/jq/expr.h"
#include "engine/jq/jq.h"
#include "engine/jq/native.h"
#include "tests/jq/render.h"
#include "tools/gen/jq_fuzz_gen.h"

namespace portolan::jq {
namespace {

// A payload with something of every kind, duplicate keys and non-ASCII text.
constexpr std::string_view kDoc = R"({
  "a": 1, "b": "two", "c": [1, 2, 3],
  "d": {"e": null, "f": false, "g": [{"h": "x"}, {"h": "y", "i": 2}]},
  "s": "Hello, World", "u": "aé日b", "n": null, "t": true, "z": 0, "neg": -3.5,
  "big": 1e300, "tiny": 1e-7, "frac": 0.1, "arr": ["x", "y", "z"], "nums": [3, 1.5, 2, -1],
  "dup": {"k": 1, "j": 3, "k": 2}, "date": "2015-03-05T23:51:47Z",
  "ms": "2024-01-02T03:04:05.678Z", "empty": "", "obj": {"b": 2, "a": 1},
  "mixed": [null, 1, "a", true, false, [1], {"x": 1}], "ws": " a b ",
  "head": {"ref": "feature", "repo": {"name": "checkout", "id": 7}},
  "base": {"ref": "main"}, "state": "closed", "merged_at": "2024-05-01T10:00:00Z",
  "number": 128, "id": 1934719822, "title": "Fix it", "long": "abcdefghijklmnopqrstuvwxyz"
})";

std::string NativeText(native::Program::Outcome o, const json::Value& v) {
  switch (o) {
    case native::Program::Outcome::kValue: return json::Write(v);
    case native::Program::Outcome::kEmpty: return "<empty>";
    case native::Program::Outcome::kFallback: return "<fallback>";
  }
  return "?";
}

struct Runs {
  std::string libjq;       // testing::Render of jq::Program's output
  std::string native_doc;  // on a Document
  std::string native_json; // on a json::Value
  bool parsed = false;
};

// A payload in the three forms the evaluators take.
struct Payload {
  std::string text;
  json::Value value;
  Input input;
};

Payload MakePayload(std::string_view text) {
  auto value = json::Parse(text);
  EXPECT_TRUE(value.ok()) << text;
  // libjq 1.6 leaks on some error paths (an object key per error raised inside `.[]`), which
  // would be charged to this parse: LeakSanitizer ignores libjq's side, as in the fuzzer.
  gen::jqfuzz::IgnoreLeaks ignore;
  auto input = Input::FromText(text);
  EXPECT_TRUE(input.ok()) << text;
  return Payload{std::string(text), value.ok() ? *value : json::Value(),
                 input.ok() ? *input : Input(json::Value())};
}

void Evaluate(Program& program, const native::Program* native, const Payload& payload,
              Runs* r) {
  {
    gen::jqfuzz::IgnoreLeaks ignore;
    r->libjq = testing::Render(program.Evaluate(payload.input));
  }
  r->parsed = native != nullptr;
  if (!native) return;
  DocParser parser;
  auto doc = parser.Parse(std::string_view(payload.text));
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  json::Value out;
  r->native_doc = NativeText(native->Evaluate(**doc, &out), out);
  out = json::Value();
  r->native_json = NativeText(native->Evaluate(payload.value, &out), out);
}

::testing::AssertionResult RunBoth(std::string_view program, std::string_view input, Runs* r) {
  auto compiled = Program::Compile(program);
  if (!compiled.ok()) {
    return ::testing::AssertionFailure() << "libjq: " << compiled.status().message();
  }
  std::unique_ptr<native::Program> native = native::Program::Parse((*compiled)->rewritten());
  Evaluate(**compiled, native.get(), MakePayload(input), r);
  return ::testing::AssertionSuccess();
}

// Native and libjq agree: same value or both no output, or native fell back on an error.
bool Agrees(const std::string& native, const std::string& libjq, bool fallback_ok) {
  if (native == "<fallback>") return fallback_ok || libjq.rfind("<error", 0) == 0;
  return native == libjq;
}

::testing::AssertionResult Same(std::string_view program, std::string_view input = kDoc,
                                bool must_parse = true, bool fallback_ok = false) {
  Runs r;
  auto ok = RunBoth(program, input, &r);
  if (!ok) return ok << " in `" << program << "`";
  if (!r.parsed) {
    if (!must_parse) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "not parsed natively: `" << program << "`";
  }
  if (Agrees(r.native_doc, r.libjq, fallback_ok) && Agrees(r.native_json, r.libjq, fallback_ok)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "`" << program << "` on " << input.substr(0, 60)
                                       << ": libjq " << r.libjq << ", native (document) "
                                       << r.native_doc << ", native (json) " << r.native_json;
}

bool ParsesNatively(std::string_view program) {
  return native::Program::Parse(RewriteDialect(program)) != nullptr;
}

// ---- The subset ------------------------------------------------------------------------------

TEST(NativeJqTest, Paths) {
  for (const char* p : {
           ".", ".a", ".d.e", ".d.g[0].h", ".d.g[1]", ".d.g[-1].h", ".d.g[5]", ".d.g[-5]",
           ".c[1.5]", ".c[nan]", ".c[1e300]", ".[\"a\"]", ".\"b\"", ".d.\"g\"", ".d.\"g\"[0]",
           ". \"a\"", ".missing", ".missing.deeper.still", ".n.x", ".n[0]", ".n[1:2]",
           ".a.x", ".b.x", ".c.x", ".t.x", ".c[\"x\"]", ".d[0]", ".b[0]", ".a?", ".a.x?", ".b.x?",
           ".c.x?", "[.c[]]", "[.d[]]", "[.obj[]]", "[.dup[]]", ".dup", ".dup.k", "[.b[]?]",
           "[.a[]?]", ".a[]", ".n[]", "[.c[]?]", ".c[1:]", ".c[:2]", ".c[-2:]", ".c[1:-1]",
           ".c[5:]", ".c[-9:1]", ".c[2:1]", ".c[0.5:1.5]", ".c[null:2]",
           ".c[\"a\":]", ".s[1:4]", ".u[1:3]", ".u[-2:]", ".u[:-1]", ".empty[0:]", ".d[1:2]",
           ".d[1:2]?", ".a[1:2]", ".b[0:1].x", ".[.b]", ".[\"d\"][\"e\"]", ".c[.a]",
           ".c[.c[0]]", ".c[.missing]", ".d.g[].h", "[.d.g[].h]", "[.d.g[]?.i]", ".d.g[0].h.x",
           "[.c[] as $x | .c[$x - 1]]", ".\"\\(.b)\"", ".[\"\\(.b)x\"]", "{} | .a.b",
           "[] | .[0]", "\"abc\" | .[1:]", "null | .[1:2]", "null | .[\"a\"]", "null | .[0]",
           "null | .[null]", "{\"a\":1} | .[1:2]", "[1,2,3] | .[\"a\"]", "[.[]?]", ".[]?",
       }) {
    EXPECT_TRUE(Same(p));
  }
  for (const char* input : {"null", "true", "1", "\"str\"", "[]", "{}", "[1,[2]]"}) {
    for (const char* p : {".", ".a", ".[0]", ".[]", "[.[]?]", ".a?", ".[1:]", ".[-1]", ".[0]?"}) {
      EXPECT_TRUE(Same(p, input));
    }
  }
}

TEST(NativeJqTest, Literals) {
  for (const char* p : {
           "1", "1.5", "-1", "1e3", "1E-2", ".5", "1.", "100000000000000000000", "1e1000",
           "-1e1000", "0.1", "\"\"", "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", "\"\\u00e9\\u65e5\"",
           "\"\\ud83d\\ude00\"", "\"é\"", "true", "false", "null", "[]", "{}", "[1, \"a\", null]",
           "{\"a\": 1, b: 2, \"c d\": 3}", "0 / 0", "1e17", "123456789012", "3.0", "1e-5",
           "1.7976931348623157e308", "5e-324", "[1, 2] | length", "# comment\n.a",
       }) {
    EXPECT_TRUE(Same(p));
  }
}

TEST(NativeJqTest, NumberFormatting) {
  for (const char* p : {
           "1.1 | tostring", "1e1000 | tostring", "-1e1000 | tostring",
           "100000000000000000000 | tostring", "-0 | tostring", "0.1 + 0.2 | tostring",
           "1e17 | tostring", "1e16 | tostring", "1e15 | tostring", "12345e12 | tostring",
           "1e-5 | tostring", "0.0001 | tostring", "0.00001 | tostring", "123.456 | tostring",
           "1/3 | tostring", "2/3 | tostring", "-2/3 | tostring", "1e300 * 10 | tostring",
           "5e-324 | tostring", "2.2250738585072014e-308 | tostring", "[1.5, -0, 1e100] | tojson",
           "nan | tostring", "[nan] | tostring", "infinite | tostring", ".big | tostring",
           ".tiny | tostring", ".frac | tostring", ".neg | tostring", ".id | tostring",
           "9007199254740993 | tostring", "123456789.123456789 | tostring", "1e22 | tostring",
           "1e21 | tostring", "4.35 | tostring", "0.000123 | tostring", "-0.5 | tostring",
           "\"\\(1.1) \\(1e1000) \\(-0) \\(0.1 + 0.2)\"", "[.[] | numbers | select(. != 0) | tostring]",
           "-0", "[-0]", "nan", "[nan]", "infinite", "-infinite", "{a: nan}",
       }) {
    EXPECT_TRUE(Same(p));
  }
  // "-0" in a payload: both payload parsers read the integer 0, jq keeps -0; printing it is
  // left to libjq, everything else is exact.
  EXPECT_TRUE(Same(".a | tostring", R"({"a": -0})", true, /*fallback_ok=*/true));
  EXPECT_TRUE(Same("[.a, -.a, .a * 1, .a == 0]", R"({"a": -0})"));
  EXPECT_TRUE(Same(".a | tostring", R"({"a": -0.0})", true, /*fallback_ok=*/true));
  // Many doubles, shortest round trip against jvp_dtoa.
  std::string many = "[";
  double x = 1.0 / 7;
  for (int i = 0; i < 300; ++i) {
    char buf[40];
    snprintf(buf, sizeof buf, "%.17g", x);
    many += std::string(i ? "," : "") + buf;
    x = x * -3.7 + (i % 5) * 1e-3;
    if (std::abs(x) > 1e200 || std::abs(x) < 1e-200) x = 1.0 / (i + 3);
  }
  many += "]";
  EXPECT_TRUE(Same("map(tostring)", many));
  EXPECT_TRUE(Same("tojson", many));
}

TEST(NativeJqTest, Arithmetic) {
  for (const char* p : {
           ".a + 1", ".a - 1", ".a * 3", ".a / 4", ".a % 2", "7 % 3", "-7 % 3", "7 % -3",
           "5.5 % 2", "5 % 0.5", "5 % 0", "1e19 % 7", "5 % 1e19", "nan % 5", "5 % nan",
           "-0 % 5", ".a / 0", ". as $z | 0 / 0 * $z.a", ".z as $z | 1 / $z", "null + .a",
           ".a + null", "null + null", ".b + \"!\"", ".b + 1", "1 + .b", ".c + [4]", ".c + .arr",
           ".obj + {c: 3}", ".obj + {a: 9}", ".obj + .dup", "{} + {}", ".c - [2]",
           ".mixed - [null, [1]]", ".c - 1", "[] + {}", ".obj * {a: {x: 1}}",
           "{\"a\":{\"b\":1,\"c\":2}} * {\"a\":{\"b\":3}}", "{a:1} * {a:{b:2}}", ".b * 3",
           "3 * .b", ".b * 0", ".b * -1", ".b * 0.5", ".b * 1.5", ".b * 2.5", ".b * nan",
           ".empty * 5", ".empty * 0", ".b * -infinite", ".c * 2", ".s / \", \"", ".s / \"\"",
           ".u / \"\"", ".empty / \",\"", "\"a,b,\" / \",\"", "\",\" / \",\"", ".s / 1",
           "-.a", "-.b", "-(1, 2)", "[-(1,2) * 3]", "-1 + 2", "-0 % 5", "1 - -1", "2 * -1",
           "-.a * 2", "[(1,2) + (10,20)]", "[(1,2) * (3,4) - (5,6)]", "1 + 2 * 3 - 4 / 2",
           "(1 + 2) * 3", "10 / 3", "1e308 * 10", "-1e308 * 10", "0.1 + 0.2", ".big * .big",
           "\"x\" + \"é\"", ".obj * .obj", ".d * {g: 1}", ".c - .c", "[] - [1]",
           ".nums - [1.5]", "\"a\" - \"a\"", "{} - {}", "null - null", "true + true",
           "[.a, .b] | .[0] + .[1]",
       }) {
    EXPECT_TRUE(Same(p));
  }
}

TEST(NativeJqTest, Comparisons) {
  for (const char* p : {
           ".a == 1", ".a == 1.0", ".a != 1", ".b == \"two\"", ".c == [1,2,3]",
           ".obj == {a: 1, b: 2}", ".dup == {k: 2, j: 3}", ".n == null", ".missing == null",
           ".a < 2", ".a <= 1", ".a > 0", ".a >= 2", "null < false", "false < true",
           "true < 0", "0 < \"\"", "\"\" < []", "[] < {}", "\"a\" < \"b\"", "\"ab\" < \"a\"",
           "\"é\" > \"z\"", "[1,2] < [1,3]", "[1,2] < [1,2,0]", "{\"a\":1} < {\"b\":0}",
           "{\"b\":1} < {\"a\":1,\"b\":0}", "{\"a\":1} < {\"a\":2}", ".obj < .dup",
           "[nan < 1, 1 < nan, nan > 1, 1 > nan, nan <= 1, nan >= 1, nan < nan, nan == nan]",
           "[[nan] < [1], [1] < [nan], [nan] == [nan]]", "[(1,2) < (2,1)]", ".mixed == .mixed",
           ".d == .d", ".nums | . == [3, 1.5, 2, -1]",
       }) {
    EXPECT_TRUE(Same(p));
  }
}

TEST(NativeJqTest, Logic) {
  for (const char* p : {
           ".t and .a", ".t and .n", ".f and error(\"x\")", ".n or .a", ".n or .f",
           ".a or error(\"x\")", "(true, false) and (true, false)", "[(true, false) or (true, false)]",
           "[(null, 1) and (2, false)]", ".a | not", ".n | not", "[.mixed[] | not]",
           ".missing // 5", ".f // \"d\"", ".a // 5", "[(1, null, 2) // 3]",
           "[(null, false) // (3, 4)]", "[empty // 1]", "(error(\"x\")) // 1",
           "(1, error(\"x\"), 2) // 3", "(null, error(\"x\"), 2) // 3", "error(null) // 1",
           ".a.b // 1", "[.d.g[].h // \"none\"]", ".x // .y // .a", ".n // .f // null",
           "if .a then \"yes\" else \"no\" end", "if .n then 1 elif .f then 2 else 3 end",
           "if .n then 1 elif .t then 2 else 3 end", "[if (true, false) then 1 else 2 end]",
           "if .a == 1 then .b end", "[.c[] | if . == 2 then \"two\" end]",
           "if .x then 1 else error(\"e\") end", "[if empty then 1 else 2 end]",
           "if .a then .b elif error(\"x\") then 1 else 2 end",
       }) {
    EXPECT_TRUE(Same(p));
  }
}

TEST(NativeJqTest, PipesCommasVariables) {
  for (const char* p : {
           ".a | . + 1", ".c | .[0]", "[.c[] | . * 2]", ".a, .b", "[.a, .b, .c[]]",
           "(.a, .b) | tostring", "[.c[] | select(. > 1)]", ".a as $x | $x + 1",
           ".a as $x | .b as $y | [$x, $y]", "[.c[] as $x | $x * 10]", ". as $d | $d.a",
           "1 + 2 as $x | $x * 10", "[.c[] as $x | .c[] as $y | [$x, $y]]",
           ".a as $x | ($x, $x + 1) | . * 2", "[(.a as $x | $x, $x) + (1 as $y | $y)]",
           "[(. as $x | 1) + (. as $y | ($y.a, $y.a))]", ". as $x | $x | .a as $x | $x",
           "[.c[] | . as $v | [$v]]", "[empty]", "[.c[], empty, .a]", "empty", ".a | empty",
           "[.c[] | if . > 1 then empty else . end]", "first(.c[])", "first(empty)",
           "[first(.c[], error(\"x\"))]", "first(error(\"x\"))", "[limit(2; .c[])]",
           "[limit(0; .c[])]", "[limit(-1; .c[])]", "[limit(5; .c[])]", "[limit(1; 1, error(\"x\"))]",
           "[limit(\"a\"; .c[])]", "last(.c[])", "[last(empty)]", "[range(3)]", "[range(1; 4)]",
           "[range(2.5)]", "[range(-1)]", "[range(\"a\")]", "first(range(0; infinite))",
           "[range(0,1; 3,4)]", "first(range(nan))",
       }) {
    EXPECT_TRUE(Same(p));
  }
}

TEST(NativeJqTest, Try) {
  for (const char* p : {
           "[(1, error(\"x\"), 2)?]", "[.a? | error(\"y\")]", "(.a?) | error(\"y\")",
           "[(.a)? | error(\"y\")]", "[.[]? | tonumber?]", "[(1,2)? | if . == 1 then error(\"z\") else . end]",
           "[.b?, 3 | error(\"q\")]", "[(.a? | tostring), error(\"q\")]", "[.a.x?]", "(.a.x)?",
           "[(.b | tonumber)?]", "[.c[] | (. / 0)?]", "[(.c[] | . / 0)?]", "[.c[]?]", ".a??",
           "[3, ((1,2)? | error(\"z\")), 4]", "[((\"a\")? + 1)]", "[first((1,2)?)]",
           "[limit(2; (1,2,3)?)]", "[limit(1; (1,2) | (., 3)?)]", "[.[] | (.x)?]",
           "[(error(\"x\"))?, 1]", "[.c[] | select((. > 1)?)]",
       }) {
    EXPECT_TRUE(Same(p));
  }
}

TEST(NativeJqTest, Construction) {
  for (const char* p : {
           "{a: .a, b: .b}", "{a, b}", "{\"a\", b}", "{(.b): 1}", "{(.a): 1}", "{(.n): 1}",
           "{a: (1,2), b: (3,4)}", "[{a: (1,2), b: (3,4)}]",
           "[{(\"x\",\"y\"): (1,2)}]", "{a: 1, a: 2}", "{a: 1, b: 2, a: 3}", "{\"\\(.b)\": 1}",
           "{a: .c[]}", "[{a: .c[]}]", ".a as $v | {$v}", ".a as $v | {$v, w: $v}",
           "{a: -1}", "{a: - .a}", "{a: .c | length}", "{if: 1}", "{a: .b?}", "{(.a): empty}",
           "[{(.a): error(\"x\")}]", "{a: 1,}", "[.c[] | {v: .}]", "[]", "[.c]", "[.c[], .a]",
           "[[.c[]]]", "{} | .a = 1", "{(.d.g[].h): 1}", "[{(.d.g[].h): .c[]}]",
       }) {
    EXPECT_TRUE(Same(p, kDoc, /*must_parse=*/std::string_view(p) != "{} | .a = 1"));
  }
}

TEST(NativeJqTest, Interpolation) {
  for (const char* p : {
           "\"a\\(.a)b\"", "\"\\(.b)\"", "\"\\(.c)\"", "\"\\(.obj)-\\(.n)-\\(.t)\"",
           "\"\\(1,2)-\\(3,4)\"", "[\"\\(1,2)-\\(3,4)\"]", "\"\\(.s | ascii_upcase) \\(.u)\"",
           "\"x\\(\"in\\(.a)ner\")y\"", "\"\\(empty)\"", "\"\\(error(\"x\"))\\(empty)\"",
           "\"\\(.dup)\"", "\"\\(.mixed)\"", "\"\\(\"\\u0000\\u001f\\u007f\\\"\\\\é\")\"",
           "\"\\(\"\\u0000\\u001f\\u007f\\\"\\\\é\" | tojson)\"",
       }) {
    EXPECT_TRUE(Same(p));
  }
}

TEST(NativeJqTest, Builtins) {
  for (const char* p : {
           "[.[] | length]", ".n | length", ".t | length", ".neg | length", ".u | length",
           ".dup | length", ".s | utf8bytelength", ".u | utf8bytelength", ".a | utf8bytelength",
           "[.mixed[] | tostring]", "[.mixed[] | tojson]", ".b | tostring", ".dup | tostring",
           ".obj | tojson", "\"12\" | tonumber", "\"-1.5e3\" | tonumber", "\"abc\" | tonumber",
           "\"1 2\" | tonumber", ".a | tonumber", ".n | tonumber", "\"-0\" | tonumber",
           "[.mixed[] | type]", ".s | ascii_downcase", ".s | ascii_upcase", ".u | ascii_upcase",
           ".a | ascii_downcase", ".c | keys", ".obj | keys", ".dup | keys", ".obj | keys_unsorted",
           ".b | keys", ".n | keys", ".neg | floor", ".neg | ceil", ".neg | round", ".neg | fabs",
           ".a | sqrt", ".neg | sqrt", "2 | sqrt", ".b | floor", ".c | first", ".c | last",
           ".arr | first", ".empty | first", "[] | first", ".n | first", ".obj | first",
           ".c | add", ".arr | add", ".mixed | add", "[] | add", ".obj | add", ".n | add",
           "[[1],[2]] | add", ".c | any", ".c | all", "[null, false] | any", "[] | all",
           "[1, null] | all", ".obj | any", ".n | any", ".c | reverse", ".n | reverse",
           "\"\" | reverse", "\"ab\" | reverse", "{} | reverse", "0 | reverse", "3 | reverse",
           "[.mixed[] | values]", "[.mixed[] | nulls]", "[.mixed[] | booleans]",
           "[.mixed[] | numbers]", "[.mixed[] | strings]", "[.mixed[] | arrays]",
           "[.mixed[] | objects]", "[.mixed[] | iterables]", "[.mixed[] | scalars]",
           ".obj | to_entries", ".c | to_entries", ".dup | to_entries", ".n | to_entries",
           ".nums | sort", ".mixed | sort", ".nums | min", ".nums | max", "[] | min",
           ".mixed | max", "[1, 1.0, \"a\", \"a\", [1], [1]] | unique", ".obj | sort",
           ".neg | abs", ".a | abs", ".b | abs", "-0 | abs", ".c | toarray", ".a | toarray",
           ".obj | has(\"a\")", ".obj | has(\"z\")", ".c | has(0)", ".c | has(3)", ".c | has(-1)",
           ".c | has(1.5)", ".n | has(\"a\")", ".c | has(\"a\")", ".obj | has(0)",
           ".dup | has(\"k\")", ".s | startswith(\"Hell\")", ".s | startswith(\"x\")",
           ".s | endswith(\"World\")", ".s | endswith(\"\")", ".a | startswith(\"1\")",
           ".s | startswith(1)", ".s | split(\", \")", ".s | split(\"\")", ".u | split(\"\")",
           ".empty | split(\",\")", "\"a,,b,\" | split(\",\")", ".a | split(\",\")",
           ".arr | join(\", \")", ".mixed[:5] | join(\"-\")", ".c | join(\"\")",
           ".arr | join(null)", "[\"a\"] | join(1)", "[\"a\",\"b\"] | join(1)", "[] | join(\",\")",
           ".obj | join(\"-\")", "[[1]] | join(\",\")", "[{}] | join(\",\")", ".n | join(\",\")",
           ".arr | join(\",\", \";\")", "[\"a\", false, null, 1.5] | join(\"/\")",
           ".s | ltrimstr(\"Hello\")", ".s | ltrimstr(\"x\")", ".s | rtrimstr(\"World\")",
           ".s | rtrimstr(\"\")", ".a | ltrimstr(\"1\")", ".s | ltrimstr(1)", ".u | ltrimstr(\"a\")",
           ".u | rtrimstr(\"b\")", "[.s | ltrimstr(\"H\", \"He\")]", ".s | ltrimstr(.s)",
           "infinite", "-infinite | tostring", "[nan] | .[0] | type", ".c | map(. + 1)",
           ".obj | map(. * 2)", ".n | map(.)", ".c | map(select(. != 2))", ".c | map(empty)",
           "[.c[] | select(. >= 2)]", "[.mixed[] | select(type == \"number\")]",
           "[.c[] | select((true, true))]", "error", "null | error", "error(null)",
           "[error(null)]", "error(\"x\")", "[.c[] | error(null)]", "error(null, \"x\")",
           "{} | error", "[.a | error(null)]", "tojson | fromjson",
       }) {
    EXPECT_TRUE(Same(p, kDoc, /*must_parse=*/std::string_view(p) != "tojson | fromjson"));
  }
}

TEST(NativeJqTest, Regex) {
  for (const char* p : {
           ".s | test(\"World\")", ".s | test(\"world\")", ".s | test(\"world\"; \"i\")",
           ".s | test(\"^Hello\")", ".s | test(\"^World\")", ".s | test(\"World$\")",
           ".s | test(\"o, W\")", ".s | test(\"l+\")", ".s | test(\"x*\")", ".s | test(\"[A-Z]\\\\w+\")",
           ".s | test(\"\\\\d\")", ".s | test(\"\\\\s\")", ".s | test(\"^[^,]*,\")",
           ".s | test(\"(Hello|Bye), (World|You)\")", ".s | test(\"H.l{2}o\")",
           ".s | test(\"l{3}\")", ".s | test(\"l{2,}\")", ".s | test(\"l{1,2}o\")",
           ".s | test(\"(?:ab)?Hello\")", ".s | test(\"deploy|CD\"; \"i\")",
           ".s | test(\"Production\"; \"i\")", ".s | test(\"\\\\.\")", ".b | test(\"t.o\")",
           ".a | test(\"1\")", ".s | test(1)", ".s | test(\"a\"; \"q\")", ".s | test(\"a\"; 1)",
           ".s | test(\"a\"; null)", ".s | test(\"LLO\"; \"gi\")", ".s | test([\"w\", \"i\"])",
           ".s | test([\"W\"])", ".s | test([])", ".s | test({})", "[.s | test(\"x\", \"W\")]",
           "[.s | test(\"x\", \"w\"; \"\", \"i\")]", ".u | test(\"é\")", ".u | test(\"a.日\")",
           ".u | test(\"[^a]b\")", ".u | test(\"a..b\")", "\"a\\nb\" | test(\"a$\")",
           "\"ab\\n\" | test(\"b$\")", "\"x\\nab\" | test(\"^a\")", "\"a\\nb\" | test(\"a.b\")",
           ".s | test(\"[a-z]+, [A-Z]\")", ".s | test(\"[-,]\")", ".s | test(\"[a\\\\-]\")",
           ".s | test(\"o\\\\b\")", ".ms | sub(\"\\\\..*Z$\"; \"Z\")", ".date | sub(\"\\\\..*Z$\"; \"Z\")",
           "\"group/proj!42\" | gsub(\"!.+\"; \"\")", "\"a b  c \" | gsub(\" \"; \"\")",
           ".s | sub(\"o\"; \"0\")", ".s | gsub(\"o\"; \"0\")", ".s | gsub(\"O\"; \"0\"; \"i\")",
           ".s | sub(\"l+\"; \"L\")", ".s | gsub(\"l+\"; \"L\")", ".s | gsub(\"\"; \"-\")",
           ".s | gsub(\"x*\"; \"-\")", ".s | gsub(\"l*\"; \"-\")", ".s | sub(\"$\"; \"!\")",
           ".s | gsub(\"^\"; \">\")", "\"ab\\n\" | gsub(\"$\"; \"!\")", ".empty | gsub(\"\"; \"-\")",
           ".empty | sub(\"^$\"; \"-\")", ".s | sub(\"o\"; \"1\", \"2\")",
           "[.s | gsub(\"o\"; \"1\", \"2\")]", ".s | gsub(\"o\"; empty)", ".s | sub(\"x\"; \"y\")",
           ".s | sub(\"o\"; 1)", ".s | gsub(\"o\"; null)", ".s | sub(\"o\"; \"\\(.)\")",
           ".s | sub(\"(o)\"; \"[\\(.)]\")", ".a | sub(\"1\"; \"2\")", ".s | sub(1; \"2\")",
           ".s | sub(\"o\"; \"0\"; \"g\")", ".s | sub(\"o\"; \"0\"; null)", ".s | gsub(\"o\"; \"0\"; null)",
           ".s | gsub(\"o\"; \"0\"; 1)", "[.s | sub(\"o\", \"l\"; \"0\")]", "[.s | gsub(\"o\"; \"0\"; \"\", \"i\")]",
           ".u | gsub(\"é\"; \"e\")", ".u | sub(\"日\"; \"ri\")", ".u | gsub(\"[^a-z]\"; \"?\")",
".long | gsub(\"[aeiou]\"; \"\")", ".s | gsub(\"(l)(o)\"; \"x\")",
           ".s | sub(\"l*?\"; \"-\")", ".s | gsub(\"l*?\"; \"-\")", ".s | gsub(\"l+?\"; \"-\")",
           ".s | gsub(\"\\\\w+\"; \"w\")", ".s | gsub(\"\\\\W\"; \"_\")", ".s | gsub(\"\\\\S+\"; \"s\")",
           ".s | gsub(\"[[:alpha:]]\"; \"a\")", ".s | gsub(\"(?<x>l)\"; \"L\")",
           "\"aaa\" | gsub(\"a{2}\"; \"b\")", "\"abcabc\" | gsub(\"(a|b)+\"; \"-\")",
           "\"mississippi\" | gsub(\"(ss|i)\"; \"_\")", ".ws | gsub(\"^\\\\s+|\\\\s+$\"; \"\")",
       }) {
    EXPECT_TRUE(Same(p, kDoc, /*must_parse=*/false));
  }
  // The DORA patterns parse natively.
  for (const char* p : {"sub(\"\\\\..*Z$\"; \"Z\")", "gsub(\"!.+\"; \"\")",
                        "test(\"deploy|CD\"; \"i\")", "test(\"Production\"; \"i\")",
                        "gsub(\" \"; \"\")"}) {
    EXPECT_TRUE(ParsesNatively(p)) << p;
  }
  // Outside the regex subset: left to libjq when the pattern is a literal.
  for (const char* p : {"test(\"(?<x>a)\")", "test(\"a(?=b)\")", "test(\"\\\\p{L}\")",
                        "test(\"(a)\\\\1\")", "test(\"a*+\")", "test(\"[[:alpha:]]\")",
                        "test(\"é\")", "test(\"a\"; \"x\")", "gsub(\"(a*)*\"; \"\")",
                        "test(\"a{,2}\")", "test(\"\\\\bx\")"}) {
    EXPECT_FALSE(ParsesNatively(p)) << p;
  }
}

TEST(NativeJqTest, RegexNonAscii) {
  // Case folding and \w on non-ASCII subjects are Oniguruma's (Unicode): left to libjq.
  for (const char* p : {".u | test(\"A\"; \"i\")", ".u | test(\"\\\\w+$\")",
                        "\"ſ\" | test(\"s\"; \"i\")"}) {
    EXPECT_TRUE(Same(p, kDoc, /*must_parse=*/true, /*fallback_ok=*/true));
  }
}

TEST(NativeJqTest, Dates) {
  for (const char* p : {
           ".date | strptime(\"%Y-%m-%dT%H:%M:%SZ\")", ".date | strptime(\"%Y-%m-%dT%H:%M:%SZ\") | mktime",
           ".date | fromdateiso8601", ".date | fromdate", ".ms | fromdate", ".b | fromdate",
           ".a | fromdate", "\"2015-03-05T23:51:47Z \" | strptime(\"%Y-%m-%dT%H:%M:%SZ\")",
           "\"2015-02-31T23:51:47Z\" | strptime(\"%Y-%m-%dT%H:%M:%SZ\")",
           "\"2016-02-29T00:00:00Z\" | fromdate", "\"1969-12-31T23:59:59Z\" | fromdate", "\"1969-12-31T23:59:58Z\" | fromdate",
           "\"1900-01-01T00:00:00Z\" | fromdate", "\"2015-03-05\" | strptime(\"%Y-%m-%d\")",
           "\"2015-03-05T23:51:47Z\" | strptime(1)",
           "[2015,2,5,23,51,47] | mktime", "[2015,2,5,23,51,47.9,0,0] | mktime", ".c | mktime",
           "\"x\" | mktime", "[2015,\"2\",5,23,51,47,0,0] | mktime", "1425599507.9 | todate",
           "1425599507 | todateiso8601", "-1.5 | gmtime", "1425599507 | gmtime",
           "1425599507 | gmtime | todate", "1425599507 | gmtime | mktime", ".b | todate",
           "1425599507 | strftime(\"%A, %B %d, %Y\")", "[2015,2,5,23,51,47,4,63] | todate",
           ".date | fromdate | todate",
           "[.ms, .date] | map(sub(\"\\\\..*Z$\"; \"Z\") | fromdate)",
       }) {
    EXPECT_TRUE(Same(p));
  }
}

// Programs outside the subset: Parse() refuses them (libjq runs them).
TEST(NativeJqTest, OutsideTheSubset) {
  for (const char* p : {
           "def f: 1; f", "reduce .[] as $x (0; . + $x)", "foreach .[] as $x (0; . + $x)",
           "try error(\"x\") catch .", "try .a", "..", ".. | numbers", ". as [$a] | $a",
           ". as {a: $a} | $a", ".[] as [$a] ?// $a | $a", "@base64",
           "@text \"\\(.a)\"", "now", "env", "$ENV", "input", "inputs", "path(.a)", ".a = 1",
           ".a |= 1", ".a += 1", ".a //= 1", "label $f | 1", "splits(\",\")", "split(\",\"; null)",
           "ascii", "implode", "explode", "getpath([\"a\"])", "paths", "tostream",
           "to_entries | from_entries", "with_entries(.)", "$x", "not_a_builtin",
           "length(1)", "a::b", ".a.[0]x", "1 == 2 == 3", "{a: 1 + 2}", "{(1,2)}",
           "if . then 1 end | 2 end", "1 / 0", "(1 + 2) / 0", "1e1000 / 1", "\"\\x\"",
           "\"\\ud800\"", "halt", "halt_error", "input_line_number", "$__prog_args", "min_by(.a)",
           "sort_by(.a)", "group_by(.a)", "unique_by(.a)", "contains(\"a\")", "inside(\"a\")",
           "indices(\",\")", "index(\",\")", "splits(\"a\")", "capture(\"a\")", "match(\"a\")",
           "scan(\"a\")", "ltrimstr", "test", "isvalid(.a)", "limit(1)", "range(1;2;3)",
           "(.a)?.b", "(.a)? as $x | $x", "getpath([])", "tojson(1)",
           "ascii_downcase(1)", "@json", ".a as $x | $y", "{$x}", "{a: .b as $x | $x}",
       }) {
    EXPECT_FALSE(ParsesNatively(p)) << p;
  }
}

// Deep programs are refused rather than evaluated recursively without bound.
TEST(NativeJqTest, DeepPrograms) {
  std::string sum = "1";
  for (int i = 0; i < 50; ++i) sum += " + 1";
  EXPECT_TRUE(ParsesNatively(sum));
  EXPECT_TRUE(Same(sum));
  std::string long_sum = "1";
  for (int i = 0; i < 5000; ++i) long_sum += " + .a";
  EXPECT_FALSE(ParsesNatively(long_sum));
  EXPECT_FALSE(ParsesNatively(std::string(5000, '-') + "1"));
  EXPECT_FALSE(ParsesNatively(std::string(5000, '(') + "1" + std::string(5000, ')')));
  std::string nested = "1";
  for (int i = 0; i < 3000; ++i) nested = "\"\\(" + nested + ")\"";
  EXPECT_FALSE(ParsesNatively(nested));
}

// Runtime cases the native evaluator leaves to libjq although libjq gives a value.
TEST(NativeJqTest, RuntimeFallbacks) {
  for (const char* p : {
           "\"01\" | tonumber", "\" 12 \" | tonumber", "\"nan\" | tonumber", "\".5\" | tonumber",
           "\"x\" * 1e7", "[nan, 1] | sort", ".z | tostring", "\"\\(.z)\"", "[.z] | tojson",
           ".z * -1 | tostring", ".c[:nan]", "[1] | .[[1]]",
           "\"abc\" | .[{\"start\": 1}]", "\"10:30\" | strptime(\"%H:%M\")",
       }) {
    EXPECT_TRUE(Same(p, kDoc, /*must_parse=*/true, /*fallback_ok=*/true));
    Runs r;
    ASSERT_TRUE(RunBoth(p, kDoc, &r));
    EXPECT_EQ(r.native_doc, "<fallback>") << p;
  }
}

TEST(NativeJqTest, DialectRewrites) {
  // Port's dialect arrives rewritten: optional else, single quotes, .a.[0], {$k: v}.
  for (const char* p : {"if .a == 1 then 'one' end", ".c.[1]", "'x' as $k | {$k: .a}",
                        ".obj | if .a then .b end", "{a: if .t then 1 end}",
                        ".base.ref == 'main' and .state == 'closed'"}) {
    EXPECT_TRUE(ParsesNatively(p)) << p;
    EXPECT_TRUE(Same(p));
  }
}

// ---- The mappings of the repository ----------------------------------------------------------

void CollectPrograms(const YAML::Node& node, const std::string& path,
                     std::vector<std::pair<std::string, std::string>>* out) {
  if (node.IsScalar()) {
    out->emplace_back(path, node.Scalar());
  } else if (node.IsMap()) {
    for (const auto& kv : node) {
      CollectPrograms(kv.second, path + "." + kv.first.as<std::string>(), out);
    }
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      CollectPrograms(node[i], path + "[" + std::to_string(i) + "]", out);
    }
  }
}

// The jq programs of a mapping file: selector queries, itemsToParse and entity mappings.
std::vector<std::pair<std::string, std::string>> MappingPrograms(const std::string& file) {
  std::vector<std::pair<std::string, std::string>> out;
  YAML::Node root;
  try {
    root = YAML::LoadFile(file);
  } catch (const YAML::Exception&) {
    return out;  // the malformed-config goldens
  }
  YAML::Node resources = root.IsMap() && root["resources"] ? root["resources"] : root;
  if (resources.IsMap()) {
    YAML::Node list;
    list.push_back(resources);
    resources = list;
  }
  if (!resources.IsSequence()) return out;
  for (const auto& r : resources) {
    if (!r.IsMap()) continue;
    if (r["selector"] && r["selector"]["query"]) {
      CollectPrograms(r["selector"]["query"], "selector.query", &out);
    }
    if (r["port"] && r["port"]["itemsToParse"]) {
      CollectPrograms(r["port"]["itemsToParse"], "port.itemsToParse", &out);
    }
    if (r["port"] && r["port"]["entity"] && r["port"]["entity"]["mappings"]) {
      CollectPrograms(r["port"]["entity"]["mappings"], "mappings", &out);
    }
  }
  return out;
}

std::vector<std::string> Payloads(const std::string& file) {
  std::vector<std::string> out;
  auto text = json::ReadFile(file);
  if (!text.ok()) return out;
  (void)json::ParseSequence(*text, [&out](json::Value v, int) {
    if (v.is_array()) {
      for (const auto& e : v.as_array()) out.push_back(json::Write(e));
    }
    out.push_back(json::Write(v));
    return Status();
  });
  return out;
}

bool ContainsZero(const json::Value& v) {
  switch (v.type()) {
    case json::Type::kNumber: return v.as_number() == 0;
    case json::Type::kArray:
      for (const auto& e : v.as_array()) {
        if (ContainsZero(e)) return true;
      }
      return false;
    case json::Type::kObject:
      for (const auto& [k, e] : v.as_object()) {
        if (ContainsZero(e)) return true;
      }
      return false;
    default: return false;
  }
}

// Mapping expressions natively out of the subset, and why (engine/jq/README.md lists them).
const std::set<std::string, std::less<>> kMappingFallbacks = {
    "env.HOME",             // env: the process environment (locked down to {})
    "$ENV.PATH",            // $ENV: likewise
};

TEST(NativeJqTest, MappingExpressions) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const char* dir : {"blueprints/dora/mappings", "tests/golden/mapping"}) {
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (e.path().extension() == ".yaml") files.push_back(e.path().string());
    }
  }
  ASSERT_GT(files.size(), 30u);
  std::vector<std::string> payloads;
  for (const auto& e : fs::recursive_directory_iterator("tests/golden/mapping")) {
    if (e.path().filename() == "payload.json") {
      for (std::string& p : Payloads(e.path().string())) payloads.push_back(std::move(p));
    }
  }
  payloads.push_back(std::string(kDoc));
  payloads.push_back("null");
  payloads.push_back("{}");
  ASSERT_GT(payloads.size(), 50u);
  std::vector<Payload> parsed;
  for (const std::string& p : payloads) parsed.push_back(MakePayload(p));

  std::map<std::string, std::string> programs;  // text -> where
  for (const std::string& f : files) {
    for (auto& [path, text] : MappingPrograms(f)) programs.emplace(text, f + ": " + path);
  }
  int native = 0, compiled = 0, evaluations = 0, zero_fallbacks = 0;
  std::vector<std::string> fallbacks;
  for (const auto& [text, where] : programs) {
    auto program = Program::Compile(text);
    if (!program.ok()) continue;  // a compile error is the mapping's (tested in mapping/)
    ++compiled;
    std::unique_ptr<native::Program> n = native::Program::Parse((*program)->rewritten());
    if (!n) {
      fallbacks.push_back(text);
      EXPECT_TRUE(kMappingFallbacks.count(text) > 0) << "not native: `" << text << "` (" << where
                                                     << ")";
      continue;
    }
    ++native;
    for (const Payload& payload : parsed) {
      Runs r;
      Evaluate(**program, n.get(), payload, &r);
      // A payload zero may have been "-0": printing it is left to libjq.
      const bool zero = ContainsZero(payload.value);
      zero_fallbacks += zero && (r.native_doc == "<fallback>" || r.native_json == "<fallback>") &&
                        r.libjq.rfind("<error", 0) != 0;
      EXPECT_TRUE(Agrees(r.native_doc, r.libjq, zero) && Agrees(r.native_json, r.libjq, zero))
          << "`" << text << "` (" << where << ") on " << payload.text << ": libjq " << r.libjq
          << ", native " << r.native_doc << " / " << r.native_json;
      ++evaluations;
    }
  }
  EXPECT_GT(native, 100);
  std::cout << "[ mappings ] " << compiled << " programs compile, " << native
            << " native, " << evaluations << " differential evaluations (" << zero_fallbacks
            << " fell back on a payload zero); not native:";
  for (const auto& f : fallbacks) std::cout << " `" << f << "`";
  std::cout << "\n";
}

// ---- Expr::CompileAll: one libjq compile for the native programs of a configuration ----------

std::string RenderExpr(Expr& e, std::string_view payload) {
  DocParser parser;
  auto doc = parser.Parse(payload);
  EXPECT_TRUE(doc.ok());
  return testing::Render(e.Evaluate(**doc));
}

TEST(NativeJqTest, CompileAllMatchesCompileOneByOne) {
  const std::vector<std::string> sources = {
      ".a",                       // native
      ".b + \"!\"",                // native; libjq only on a fallback
      "[paths]",                  // outside the subset: compiled at once
      "1 +",                      // syntax error
      // Definitions only: with `env` allowed (no lockdown prefix) this compiles alone but not
      // as the body of a definition, so CompileAll falls back to compiling one by one.
      "def f: 1;",
      ".a | ltrimstr(\"x\") # a comment that must not swallow what follows",
      "$undefined",               // a compile error libjq finds after parsing
  };
  const std::string payload = R"({"a": "xy", "b": 3})";
  for (bool allow_env : {false, true}) {
    SCOPED_TRACE(allow_env ? "env allowed" : "env locked down");
    CompileOptions options;
    options.allow_env = allow_env;
    auto all = Expr::CompileAll(sources, options);
    ASSERT_EQ(all.size(), sources.size());
    for (size_t i = 0; i < sources.size(); ++i) {
      auto one = Expr::Compile(sources[i], options);
      ASSERT_EQ(all[i].ok(), one.ok()) << sources[i];
      if (!one.ok()) {
        EXPECT_EQ(all[i].status().message(), one.status().message());
        continue;
      }
      EXPECT_EQ((*all[i])->is_native(), (*one)->is_native()) << sources[i];
      EXPECT_EQ(RenderExpr(**all[i], payload), RenderExpr(**one, payload)) << sources[i];
    }
    EXPECT_FALSE(all[3].ok());
    EXPECT_FALSE(all[6].ok());
    EXPECT_EQ(all[4].ok(), allow_env);
  }
}

TEST(NativeJqTest, CompileAllDefersLibjqToTheFirstFallback) {
  const std::vector<std::string> sources = {".b + \"!\"", "[paths]"};
  auto all = Expr::CompileAll(sources);
  ASSERT_TRUE(all[0].ok() && all[1].ok());
  Expr& native = **all[0];
  ASSERT_TRUE(native.is_native());
  EXPECT_FALSE(native.program().is_compiled());
  EXPECT_FALSE((*all[1])->is_native());
  EXPECT_TRUE((*all[1])->program().is_compiled());

  EXPECT_EQ(RenderExpr(native, R"({"b": "x"})"), "\"x!\"");
  EXPECT_FALSE(native.program().is_compiled());
  EXPECT_EQ(native.fallbacks(), 0u);
  // An error: libjq compiles now and gives its message.
  EXPECT_EQ(RenderExpr(native, R"({"b": 1})"),
            "<error: number (1) and string (\"!\") cannot be added>");
  EXPECT_TRUE(native.program().is_compiled());
  EXPECT_EQ(native.fallbacks(), 1u);

  // A clone compiles on first use too, with the same results.
  auto clone = native.Clone();
  ASSERT_TRUE(clone.ok());
  EXPECT_FALSE((*clone)->program().is_compiled());
  EXPECT_EQ(RenderExpr(**clone, R"({"b": 1})"),
            "<error: number (1) and string (\"!\") cannot be added>");
}

// ---- Timing (not a test of speed: prints ns/eval when PORTOLAN_NATIVE_BENCH is set) ----------

TEST(NativeJqTest, Timing) {
  const char* payload_file = std::getenv("PORTOLAN_NATIVE_BENCH");
  if (payload_file == nullptr) GTEST_SKIP() << "set PORTOLAN_NATIVE_BENCH=<payload.json>";
  auto text = json::ReadFile(payload_file);
  ASSERT_TRUE(text.ok());
  std::string line = text->substr(0, text->find('\n'));
  DocParser parser;
  auto doc = parser.Parse(std::string_view(line));
  ASSERT_TRUE(doc.ok());
  auto value = json::Parse(line);
  ASSERT_TRUE(value.ok());
  for (const char* p : {
           ".head.repo.name + \"-deploy-\" + (.number | tostring)",
           ".base.ref == \"main\" and .state == \"closed\" and .merged_at != null",
           "1", ".number", ".head.repo.name", ".number | tostring", ".title",
           "\"Deploy: \" + .title", ".head.repo.name + (.id|tostring)",
           "(.created_at as $c | $c | sub(\"\\\\..*Z$\"; \"Z\") | fromdateiso8601)",
       }) {
    auto native = native::Program::Parse(p);
    ASSERT_NE(native, nullptr) << p;
    json::Value out;
    constexpr int kIters = 200000;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kIters; ++i) native->Evaluate(**doc, &out);
    auto t1 = std::chrono::steady_clock::now();
    for (int i = 0; i < kIters; ++i) native->Evaluate(*value, &out);
    auto t2 = std::chrono::steady_clock::now();
    auto program = Program::Compile(p);
    Input input(*value);
    constexpr int kJqIters = 20000;
    auto t3 = std::chrono::steady_clock::now();
    for (int i = 0; i < kJqIters; ++i) (*program)->Evaluate(input);
    auto t4 = std::chrono::steady_clock::now();
    auto ns = [](auto d, int n) {
      return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count() / n;
    };
    std::cout << "[ timing ] " << ns(t1 - t0, kIters) << " ns/eval (Document), "
              << ns(t2 - t1, kIters) << " ns/eval (json::Value), " << ns(t4 - t3, kJqIters)
              << " ns/eval (libjq, converted input): " << p << " -> " << json::Write(out) << "\n";
  }
}

}  // namespace
}  // namespace portolan::jq
