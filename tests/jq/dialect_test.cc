#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "engine/jq/jq.h"

namespace portolan::jq {
namespace {

struct Case {
  std::string_view in;
  std::string_view out;
};

void ExpectRewrites(const std::vector<Case>& cases) {
  for (const Case& c : cases) EXPECT_EQ(RewriteDialect(c.in), c.out) << "input: " << c.in;
}

TEST(DialectTest, OceanSpecCases) {
  // spec/ocean-mapping.md §2.2: what Ocean's regex handles, and what it breaks.
  ExpectRewrites({
      {".issueType == 'Bug'", R"(.issueType == "Bug")"},
      {".a + '/' + .b", R"(.a + "/" + .b)"},
      {"'/' + .a", R"("/" + .a)"},
      {".a + '/'", R"(.a + "/")"},
      {"select(.x == 'Bug')", R"(select(.x == "Bug"))"},
      {".a + ' - ' + .b", R"(.a + " - " + .b)"},
      {R"("rock 'n' roll")", R"("rock 'n' roll")"},
      {R"(.a + "'" + .b)", R"(.a + "'" + .b)"},
      {R"("'" + 'x' + "'")", R"("'" + "x" + "'")"},
  });
}

TEST(DialectTest, SingleQuotedLiteralsEverywhere) {
  ExpectRewrites({
      {".properties.'a-b'", R"(.properties."a-b")"},
      {".properties.'prop-with-special-char' // 0", R"(.properties."prop-with-special-char" // 0)"},
      {"'https://datadog.com/' + .identifier", R"("https://datadog.com/" + .identifier)"},
      {"''", R"("")"},
      {".a+'x'+.b", R"(.a+"x"+.b)"},
      {"['a','b']", R"(["a","b"])"},
      {"{'k': 'v'}", R"({"k": "v"})"},
      {"'#not a comment'", R"("#not a comment")"},
      {"test('^v[0-9]+'; 'i')", R"(test("^v[0-9]+"; "i"))"},
      {".a.'b-c'.d", R"(.a."b-c".d)"},
      {R"("# not a comment" + 'x')", R"("# not a comment" + "x")"},
      {"# don't \"quote\" me\n.a == 'x'", "# don't \"quote\" me\n.a == \"x\""},
  });
}

TEST(DialectTest, EscapesInsideSingleQuotes) {
  ExpectRewrites({
      {R"('say "hi"')", R"("say \"hi\"")"},
      {R"('it\'s')", R"("it's")"},
      {R"('a\nb\t\\c')", R"("a\nb\t\\c")"},
      {R"('\u00e9')", R"("\u00e9")"},
      // Doubled apostrophes are text, as Ocean's regex leaves them.
      {"'it''s'", R"("it''s")"},
      {"'' + .a", R"("" + .a)"},
      {R"('already \"escaped\"')", R"("already \"escaped\"")"},
  });
}

TEST(DialectTest, ApostrophesInStringsAndCommentsStay) {
  ExpectRewrites({
      {R"("rock 'n' roll")", R"("rock 'n' roll")"},
      {R"("can't stop")", R"("can't stop")"},
      {R"(.a == "it's" and .b == 'x')", R"(.a == "it's" and .b == "x")"},
      {"# it's a comment\n.a", "# it's a comment\n.a"},
      {".a # 'quoted' in a comment", ".a # 'quoted' in a comment"},
      {R"("escaped \" quote 'x'")", R"("escaped \" quote 'x'")"},
  });
}

TEST(DialectTest, InterpolationsAreRewrittenInside) {
  ExpectRewrites({
      {R"j("\(.a + 'x')")j", R"j("\(.a + "x")")j"},
      {R"j('\(.name)-\(.id)')j", R"j("\(.name)-\(.id)")j"},
      {R"j("x \("it's") y")j", R"j("x \("it's") y")j"},
      {R"j("a \(.b | "c \('d') e") f")j", R"j("a \(.b | "c \("d") e") f")j"},
      {R"j("\((1, 2) | tostring) 'q'")j", R"j("\((1, 2) | tostring) 'q'")j"},
      {R"j(@base64 "x\('y')z")j", R"j(@base64 "x\("y")z")j"},
  });
}

TEST(DialectTest, UnterminatedLiteralsAreLeftForLibjq) {
  ExpectRewrites({
      {".a == 'Bug", ".a == 'Bug"},
      {R"(.a == "Bug)", R"(.a == "Bug)"},
  });
  auto p = Program::Compile(".a == 'Bug");
  EXPECT_FALSE(p.ok());
}

TEST(DialectTest, IfWithoutElse) {
  ExpectRewrites({
      {R"(if . == 1 then "one" end)", R"((if . == 1 then "one" else . end))"},
      {"if a then b elif c then d end", "(if a then b elif c then d else . end)"},
      {"if a then b else c end", "(if a then b else c end)"},
      {"if a then if b then c end else d end", "(if a then (if b then c else . end) else d end)"},
      {"if a then b elif c then (if d then e end) end",
       "(if a then b elif c then ((if d then e else . end)) else . end)"},
      // Keywords inside strings, fields and object keys are not keywords.
      {R"(if .a == "end" then "if x then" end)", R"((if .a == "end" then "if x then" else . end))"},
      {"if .end then .if end", "(if .end then .if else . end)"},
      {"{if: 1, then: 2, end: 3}", "{if: 1, then: 2, end: 3}"},
      {"if .x then {end: 1} end", "(if .x then {end: 1} else . end)"},
      {R"j("\(if . then 1 end)")j", R"j("\((if . then 1 else . end))")j"},
      {"if . then 1 # end\nend", "(if . then 1 # end\nelse . end)"},
  });
}

TEST(DialectTest, ReduceAndForeachBecomeTerms) {
  ExpectRewrites({
      {"{a: reduce .[] as $x (0; . + $x)}", "{a: (reduce .[] as $x (0; . + $x))}"},
      {"reduce .[] as [$a, $b] (0; . + $a)", "(reduce .[] as [$a, $b] (0; . + $a))"},
      {"[foreach .[] as $x (0; . + 1; [$x, .])]", "[(foreach .[] as $x (0; . + 1; [$x, .]))]"},
      {"reduce (.[] as $y | $y) as $x (0; .)", "(reduce (.[] as $y | $y) as $x (0; .))"},
  });
}

TEST(DialectTest, DotBeforeBracket) {
  ExpectRewrites({
      {R"(.a.["b"])", R"(.a["b"])"},
      {".a.[]", ".a[]"},
      {".a.[0].b", ".a[0].b"},
      {"$x.[1]", "$x[1]"},
      {".a?.[0]", ".a?[0]"},
      {".[0]", ".[0]"},
      {".a | .[0]", ".a | .[0]"},
      {"[.[] | .x]", "[.[] | .x]"},
      {"map(.[0])", "map(.[0])"},
      {"if . then .[0] else .[1] end", "(if . then .[0] else .[1] end)"},
      {"reduce .[] as $x (0; .)", "(reduce .[] as $x (0; .))"},
      {".a, .[0]", ".a, .[0]"},
  });
}

TEST(DialectTest, VariableAsObjectKey) {
  ExpectRewrites({
      {R"("a" as $k | {$k: 1})", R"("a" as $k | {($k): 1})"},
      {"{a: 1, $k: 2}", "{a: 1, ($k): 2}"},
      {"{$k}", "{$k}"},
      // In a destructuring pattern `{$a: [$b]}` already binds both in jq 1.6.
      {". as {$a: [$b]} | $b", ". as {$a: [$b]} | $b"},
      {".[] as [{$a: $b}] ?// $c | $a", ".[] as [{$a: $b}] ?// $c | $a"},
  });
}

TEST(DialectTest, PlainJqIsUnchanged) {
  for (std::string_view program : {
           ".a.b",
           R"(.name | test("deploy|CD"; "i"))",
           "(.conclusion | ascii_upcase[0:1] + .[1:])",
           R"(.references.full | gsub("!.+"; ""))",
           "def f(g): [g]; f(.a, .b) | length",
           ".a as [$x, $y] | {x: $x, $y}",
           "[.[] | {name, id: .id | tostring}]",
           "try error(\"x\") catch .",
           "label $out | 1, break $out",
           ".. | numbers",
           ".a //= 1 | .b |= . + 1",
           "@csv",
           ".x as $v | $v ?// 0",
       }) {
    EXPECT_EQ(RewriteDialect(program), program);
  }
}

// --- Equivalence with Ocean's regex -----------------------------------------------------------

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Ocean's rewrite, re.sub(r"(^|\s)'(?!\s|\")|(?<!\s|\")'(\s|$)", r'\1"\2', text), emulated
// over ASCII whitespace. Python's `$` also matches before a final newline.
std::string OceanRewrite(std::string_view s) {
  std::string out;
  const size_t n = s.size();
  size_t i = 0;
  auto at_end = [&](size_t k) { return k == n || (k == n - 1 && s[k] == '\n'); };
  while (i < n) {
    // Alternative 1: (^|\s)'(?!\s|")
    if (i == 0 && s[0] == '\'' && !(n > 1 && (IsSpace(s[1]) || s[1] == '"'))) {
      out += '"';
      i = 1;
      continue;
    }
    if (IsSpace(s[i]) && i + 1 < n && s[i + 1] == '\'' &&
        !(i + 2 < n && (IsSpace(s[i + 2]) || s[i + 2] == '"'))) {
      out += s[i];
      out += '"';
      i += 2;
      continue;
    }
    // Alternative 2: (?<!\s|")'(\s|$)
    if (s[i] == '\'' && !(i > 0 && (IsSpace(s[i - 1]) || s[i - 1] == '"'))) {
      if (i + 1 < n && IsSpace(s[i + 1])) {
        out += '"';
        out += s[i + 1];
        i += 2;
        continue;
      }
      if (at_end(i + 1)) {
        out += '"';
        i += 1;
        continue;
      }
    }
    out += s[i];
    ++i;
  }
  return out;
}

TEST(DialectTest, OceanRegexEmulation) {
  EXPECT_EQ(OceanRewrite(".a == 'Bug'"), R"(.a == "Bug")");
  EXPECT_EQ(OceanRewrite("select(.x == 'Bug')"), R"(select(.x == "Bug'))");
  EXPECT_EQ(OceanRewrite(".a + ' - ' + .b"), ".a + ' - ' + .b");
  EXPECT_EQ(OceanRewrite(R"("rock 'n' roll")"), R"("rock "n" roll")");
}

// Whenever Ocean's rewrite compiles, ours must compute the same thing. (Deliberate exception:
// Ocean also rewrites apostrophes inside double-quoted strings, so `"a 'or' b"` compiles there
// as `"a " or " b"`; here it stays the string it is.)
TEST(DialectTest, AgreesWithOceanWhereverOceanCompiles) {
  const std::vector<std::string_view> programs = {
      ".issueType == 'Bug'",
      ".a + '/' + .b",
      "'/' + .a",
      ".a + '/'",
      "'x'",
      ".a + '' + .b",
      ".a == 'it''s'",
      "'a b c' + .a",
      "[.a, 'b c', .b]",
      ".a + 'x y'\n",
      "'Hello \\(.a)!'",
      ".a # 'x' comment\n",
      R"(.a + "'" + 'q')",
      ".a | test('^b'; 'i')",
      "if .a == 'b' then 'yes' else 'no' end",
      ".a + '/' + (.b | tostring)",
  };
  const char* kInput = R"({"a":"b","b":2})";
  auto input = json::Parse(kInput);
  ASSERT_TRUE(input.ok());
  int compared = 0;
  for (std::string_view program : programs) {
    std::string ocean = OceanRewrite(program);
    CompileOptions options;
    // Compile Ocean's text as plain jq: it has no single quotes left where it compiles.
    // Ocean's text must be plain jq: our front end may not need to touch its quotes.
    auto count = [](std::string_view t) { return std::count(t.begin(), t.end(), '\''); };
    if (count(RewriteDialect(ocean)) != count(ocean)) continue;
    auto theirs = Program::Compile(ocean, options);
    if (!theirs.ok()) continue;
    auto ours = Program::Compile(program, options);
    ASSERT_TRUE(ours.ok()) << program << ": " << ours.status().message();
    Output a = (*theirs)->Evaluate(*input);
    Output b = (*ours)->Evaluate(*input);
    EXPECT_EQ(a.kind, b.kind) << program;
    EXPECT_EQ(a.value, b.value) << program;
    ++compared;
  }
  EXPECT_GE(compared, 10);
}

TEST(DialectTest, DeepInterpolationDoesNotRecurseForever) {
  std::string program;
  for (int i = 0; i < 100000; ++i) program += "\"\\(";
  std::string out = RewriteDialect(program);
  EXPECT_EQ(out.size(), program.size());
}

TEST(DialectTest, LocationLines) {
  EXPECT_EQ(RewriteDialect("1,\n$__loc__"), "1,\n{\"file\":\"<top-level>\",\"line\":2}");
}

}  // namespace
}  // namespace portolan::jq
