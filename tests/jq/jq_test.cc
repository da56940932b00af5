#include "engine/jq/jq.h"
#include "tests/jq/render.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

// Under -DPORTOLAN_SANITIZE=ON: libjq 1.6's parser leaks a token on some syntax errors (inside
// jq_parse; once per failed compile, never per evaluation). LeakSanitizer can only attribute
// it with the slow unwinder, since libjq is built without frame pointers.
extern "C" const char* __asan_default_options() {
  return "fast_unwind_on_malloc=0:malloc_context_size=10";
}
extern "C" const char* __lsan_default_suppressions() { return "leak:jq_parse\n"; }

namespace portolan::jq {
namespace {

json::Value ParseJson(std::string_view text) {
  auto v = json::Parse(text);
  EXPECT_TRUE(v.ok()) << v.status().message();
  return v.ok() ? *v : json::Value();
}

// Compiles `program` (which must compile) and evaluates it on the JSON `input`.
Output RunJq(std::string_view program, std::string_view input = "null",
             const CompileOptions& options = {}) {
  auto compiled = Program::Compile(program, options);
  EXPECT_TRUE(compiled.ok()) << compiled.status().message();
  if (!compiled.ok()) return Output{Output::Kind::kError, {}, compiled.status().message()};
  return (*compiled)->Evaluate(ParseJson(input));
}

// The first output as compact JSON, "<empty>", or "<error: message>".
std::string Eval(std::string_view program, std::string_view input = "null",
                 const CompileOptions& options = {}) {
  Output out = RunJq(program, input, options);
  return testing::Render(out);
}

TEST(JqProgramTest, EvaluatesPathsAndLiterals) {
  EXPECT_EQ(Eval(".a.b", R"({"a":{"b":[1,"x",null,true]}})"), R"([1,"x",null,true])");
  EXPECT_EQ(Eval("{id: .id, n: (.items | length)}", R"({"id":"x","items":[1,2]})"),
            R"({"id":"x","n":2})");
  EXPECT_EQ(Eval("."), "null");
}

TEST(JqProgramTest, FirstOutputOnly) {
  EXPECT_EQ(Eval(".tags[]", R"({"tags":["a","b","c"]})"), R"("a")");
  EXPECT_EQ(Eval("[.tags[]]", R"({"tags":["a","b","c"]})"), R"(["a","b","c"])");
  // Ocean selector rule: only the first output counts.
  EXPECT_EQ(Eval(R"(.tags[] == "prod")", R"({"tags":["dev","prod"]})"), "false");
}

TEST(JqProgramTest, ErrorAfterFirstOutputIsNeverSeen) {
  EXPECT_EQ(Eval(R"(1, error("late"))"), "1");
  EXPECT_EQ(Eval(".[] | .x", R"([{"x":1},"not an object"])"), "1");
  // The same error before the first output is an error.
  EXPECT_EQ(Eval(R"(error("early"), 1)"), "<error: early>");
}

TEST(JqProgramTest, NoOutputIsEmpty) {
  EXPECT_EQ(Eval("empty"), "<empty>");
  EXPECT_EQ(Eval(".[] | select(. > 5)", "[1,2]"), "<empty>");
  Output out = RunJq("empty");
  EXPECT_FALSE(out.has_value());
  EXPECT_TRUE(out.ValueOrNull().is_null());
}

TEST(JqProgramTest, ErrorsCarryLibjqMessage) {
  EXPECT_EQ(Eval(R"(error("x"))"), "<error: x>");
  EXPECT_EQ(Eval(".x", R"("a string")"), R"(<error: Cannot index string with string "x">)");
  EXPECT_EQ(Eval(R"(error({"code": 1}))"), R"(<error: {"code":1} (not a string)>)");
  Output out = RunJq(".x", "[1]");
  EXPECT_EQ(out.kind, Output::Kind::kError);
  EXPECT_TRUE(out.ValueOrNull().is_null());
  // An error on the left of // is not suppressed (spec/ocean-mapping.md §2.1).
  EXPECT_EQ(Eval(".fields.comments // []", R"({"fields":"str"})"),
            R"(<error: Cannot index string with string "comments">)");
}

TEST(JqProgramTest, ErrorNullBehavesAsNoOutput) {
  // libjq 1.6 cannot tell error(null) from the end of the outputs.
  EXPECT_EQ(Eval("error(null)"), "<empty>");
}

TEST(JqProgramTest, HaltAndHaltError) {
  auto p = Program::Compile(R"(if . == "stop" then "bye\n" | halt_error else . end)");
  ASSERT_TRUE(p.ok()) << p.status().message();
  Output out = (*p)->Evaluate(json::Value("stop"));
  EXPECT_EQ(out.kind, Output::Kind::kError);
  EXPECT_EQ(out.error, "bye\n");
  // The state is usable again afterwards.
  out = (*p)->Evaluate(json::Value("go"));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out.value, json::Value("go"));
  EXPECT_EQ(Eval("halt"), "<empty>");
}

TEST(JqProgramTest, IntegralNumbersComeOutIntegral) {
  Output out = RunJq("3 * 1.0");
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out.value.as_number(), 3.0);
  EXPECT_EQ(json::Write(out.value), "3");
  EXPECT_EQ(Eval("1e3"), "1000");
  EXPECT_EQ(Eval(".a / 2", R"({"a":5})"), "2.5");
  EXPECT_EQ(Eval("[.[] | floor]", "[1.7, -1.2]"), "[1,-2]");
  EXPECT_EQ(Eval("-0"), "0");
}

TEST(JqProgramTest, NonFiniteNumbersAsJqPy) {
  EXPECT_EQ(Eval("nan"), "null");
  EXPECT_EQ(Eval("[nan]"), "[null]");
  Output inf = RunJq("infinite");
  ASSERT_TRUE(inf.has_value());
  EXPECT_EQ(inf.value.as_number(), DBL_MAX);
  Output neg = RunJq("-infinite");
  ASSERT_TRUE(neg.has_value());
  EXPECT_EQ(neg.value.as_number(), -DBL_MAX);
}

TEST(JqProgramTest, KeepsObjectKeyOrder) {
  EXPECT_EQ(Eval("{z: 1, a: 2, m: 3}"), R"({"z":1,"a":2,"m":3})");
  EXPECT_EQ(Eval(". + {b: 9}", R"({"c":1,"a":2})"), R"({"c":1,"a":2,"b":9})");
}

TEST(JqProgramTest, CompileErrorNamesMessageAndProgram) {
  auto p = Program::Compile(".foo | bar(");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  const std::string& m = p.status().message();
  EXPECT_NE(m.find("syntax error"), std::string::npos) << m;
  EXPECT_NE(m.find("syntax error, unexpected $end at line 1"), std::string::npos) << m;
  EXPECT_EQ(m.find("shell quoting"), std::string::npos) << m;
  EXPECT_NE(m.find("`.foo | bar(`"), std::string::npos) << m;
  EXPECT_EQ(m.find("jq: 1 compile error"), std::string::npos) << m;

  auto undefined = Program::Compile(".a |\n  nosuchfn");
  ASSERT_FALSE(undefined.ok());
  const std::string& u = undefined.status().message();
  // The prelude line libjq saw is not counted: the call is on line 2 as written.
  EXPECT_NE(u.find("nosuchfn/0 is not defined at line 2"), std::string::npos) << u;
  EXPECT_EQ(u.find("$ENV"), std::string::npos) << u;
}

TEST(JqProgramTest, CompileErrorShowsRewrite) {
  auto p = Program::Compile(".a == 'x' | nosuchfn");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find(R"(rewritten as `.a == "x" | nosuchfn`)"), std::string::npos)
      << p.status().message();
}

TEST(JqProgramTest, RejectsNulBytes) {
  auto p = Program::Compile(std::string_view(".a\0 | error", 12));
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("NUL"), std::string::npos) << p.status().message();
}

TEST(JqProgramTest, EmptyProgramIsIdentity) {
  EXPECT_EQ(Eval("", R"({"a":1})"), R"({"a":1})");
  EXPECT_EQ(Eval("  # only a comment\n", "[1]"), "[1]");
}

TEST(JqProgramTest, ModulesAreRejected) {
  auto p = Program::Compile(R"(import "foo" as foo; .)");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("modules"), std::string::npos) << p.status().message();
  EXPECT_EQ(Eval(R"("x" | try modulemeta catch "blocked")"), R"("blocked")");
}

TEST(JqProgramTest, EnvDisabledByDefault) {
  setenv("PORTOLAN_JQ_TEST_SECRET", "s3cret", 1);
  EXPECT_EQ(Eval("env.PORTOLAN_JQ_TEST_SECRET"), "null");
  EXPECT_EQ(Eval("$ENV.PORTOLAN_JQ_TEST_SECRET"), "null");
  EXPECT_EQ(Eval("env"), "{}");
  EXPECT_EQ(Eval("[$ENV, env]"), "[{},{}]");
  auto p = Program::Compile("env.PORTOLAN_JQ_TEST_SECRET");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)->rewritten(), "env.PORTOLAN_JQ_TEST_SECRET");
  EXPECT_NE((*p)->compiled().find("def env: {}; {} as $ENV |"), std::string::npos);
}

TEST(JqProgramTest, EnvEnabledByOption) {
  setenv("PORTOLAN_JQ_TEST_SECRET", "s3cret", 1);
  CompileOptions allow;
  allow.allow_env = true;
  EXPECT_EQ(Eval("env.PORTOLAN_JQ_TEST_SECRET", "null", allow), R"("s3cret")");
  EXPECT_EQ(Eval("$ENV.PORTOLAN_JQ_TEST_SECRET", "null", allow), R"("s3cret")");
  auto p = Program::Compile(".a", allow);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)->compiled(), ".a");  // nothing prepended
}

TEST(JqProgramTest, UserDefinitionsStillWorkWithLockdown) {
  EXPECT_EQ(Eval("def f: . * 2; .a | f", R"({"a":21})"), "42");
  EXPECT_EQ(Eval("def env: 5; env"), "5");
}

TEST(JqProgramTest, LocationCountsLinesAsWritten) {
  EXPECT_EQ(Eval("\n\n$__loc__"), R"({"file":"<top-level>","line":3})");
}

TEST(JqProgramTest, CloneCompilesTheSameProgram) {
  auto p = Program::Compile(".a + 'x'");
  ASSERT_TRUE(p.ok());
  auto c = (*p)->Clone();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->source(), ".a + 'x'");
  EXPECT_EQ((*c)->rewritten(), R"(.a + "x")");
  Output out = (*c)->Evaluate(ParseJson(R"({"a":"y"})"));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out.value, json::Value("yx"));
}

TEST(JqProgramTest, ProgramsOnSeparateThreads) {
  auto base =
      Program::Compile(R"([(.name | test("deploy"; "i")), (.n | tostring), (.t | fromdate)])");
  ASSERT_TRUE(base.ok()) << base.status().message();
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    auto clone = (*base)->Clone();
    ASSERT_TRUE(clone.ok());
    threads.emplace_back([t, &failures, p = std::move(*clone)]() {
      for (int i = 0; i < 200; ++i) {
        json::Value in = json::Value::MakeObject();
        in.Set("name", "Deploy " + std::to_string(i));
        in.Set("n", i * 1.5);
        in.Set("t", "2024-01-01T10:00:00Z");
        Input input(in);
        Output out = p->Evaluate(input);
        json::Array want{json::Value(true), json::Value(json::FormatNumber(i * 1.5)),
                         json::Value(1704103200)};
        if (!out.has_value() || out.value != json::Value(want)) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

// --- Input -------------------------------------------------------------------------------------

TEST(JqInputTest, SharedByManyPrograms) {
  Input input(ParseJson(R"({"a":1,"b":[1,2,3]})"));
  auto a = Program::Compile(".a");
  auto b = Program::Compile(".b | length");
  ASSERT_TRUE(a.ok() && b.ok());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ((*a)->Evaluate(input).value, json::Value(1));
    EXPECT_EQ((*b)->Evaluate(input).value, json::Value(3));
  }
  // Evaluation never modifies the shared input.
  auto set = Program::Compile(".a = 99 | .a");
  ASSERT_TRUE(set.ok());
  EXPECT_EQ((*set)->Evaluate(input).value, json::Value(99));
  EXPECT_EQ((*a)->Evaluate(input).value, json::Value(1));
}

TEST(JqInputTest, RoundTripsToJson) {
  json::Value v = ParseJson(R"({"s":"é\u0000x","n":-1.5,"i":7,"a":[true,false,null],"o":{}})");
  Input input(v);
  EXPECT_EQ(input.ToJson(), v);
  Input copy = input;
  EXPECT_EQ(copy.ToJson(), v);
  Input moved = std::move(copy);
  EXPECT_EQ(moved.ToJson(), v);
}

TEST(JqInputTest, FromTextParsesWithLibjq) {
  auto input = Input::FromText(R"( {"a": [1, 2.5, "x"]} )");
  ASSERT_TRUE(input.ok()) << input.status().message();
  EXPECT_EQ(json::Write(input->ToJson()), R"({"a":[1,2.5,"x"]})");
  auto p = Program::Compile(".a[1]");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)->Evaluate(*input).value, json::Value(2.5));
}

TEST(JqInputTest, FromTextErrors) {
  auto bad = Input::FromText("{\"a\": 1,\n \"b\" 2}");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("line 2"), std::string::npos) << bad.status().message();
  // libjq's own message, without the whole text appended.
  EXPECT_EQ(bad.status().message().find("while parsing"), std::string::npos);

  auto two = Input::FromText("1 2");
  ASSERT_FALSE(two.ok());
  EXPECT_NE(two.status().message().find("extra"), std::string::npos) << two.status().message();

  auto none = Input::FromText("   ");
  ASSERT_FALSE(none.ok());

  // The view need not be NUL-terminated.
  std::string text = R"({"a":1}garbage)";
  auto prefix = Input::FromText(std::string_view(text).substr(0, 7));
  ASSERT_TRUE(prefix.ok()) << prefix.status().message();
  EXPECT_EQ(json::Write(prefix->ToJson()), R"({"a":1})");
}

TEST(JqInputTest, DeepOutputIsAnError) {
  Output out = RunJq("reduce range(20000) as $i (0; [.])");
  EXPECT_EQ(out.kind, Output::Kind::kError);
  EXPECT_NE(out.error.find("nested"), std::string::npos) << out.error;
}

// --- Expressions from the seed documents (shared/seeds) ---------------------------------------

TEST(JqSeedTest, CapitalizedConclusion) {
  EXPECT_EQ(Eval("(.conclusion | ascii_upcase[0:1] + .[1:])", R"({"conclusion":"success"})"),
            R"("Success")");
}

TEST(JqSeedTest, PagerDutyRecoveryTimeInMinutes) {
  const char* kRecoveryTime = R"((.created_at as $createdAt | .resolved_at as $resolvedAt |
    if $resolvedAt == null then null else
    ( ($resolvedAt | strptime("%Y-%m-%dT%H:%M:%SZ") | mktime) -
    ($createdAt | strptime("%Y-%m-%dT%H:%M:%SZ") | mktime) ) / 60 end))";
  EXPECT_EQ(Eval(kRecoveryTime,
                 R"({"created_at":"2024-01-01T10:00:00Z","resolved_at":"2024-01-01T11:30:00Z"})"),
            "90");
  EXPECT_EQ(Eval(kRecoveryTime, R"({"created_at":"2024-01-01T10:00:00Z","resolved_at":null})"),
            "null");
}

TEST(JqSeedTest, GitLabServiceFromReference) {
  EXPECT_EQ(Eval(R"(.references.full | gsub("!.+"; ""))",
                 R"({"references":{"full":"group/project!42"}})"),
            R"("group/project")");
  EXPECT_EQ(Eval(R"(.__project.path_with_namespace | gsub(" "; ""))",
                 R"({"__project":{"path_with_namespace":"my group / my project"}})"),
            R"("mygroup/myproject")");
}

TEST(JqSeedTest, WorkflowNameSelector) {
  const char* kSelector = R"((.name | test("deploy|CD"; "i")))";
  EXPECT_EQ(Eval(kSelector, R"({"name":"Production Deploy"})"), "true");
  EXPECT_EQ(Eval(kSelector, R"({"name":"cd-pipeline"})"), "true");
  EXPECT_EQ(Eval(kSelector, R"({"name":"unit tests"})"), "false");
  EXPECT_EQ(Eval(R"((.target_commitish == "main") and (.name | test("Production"; "i")))",
                 R"({"target_commitish":"main","name":"production v1"})"),
            "true");
}

TEST(JqSeedTest, SingleQuotedMappingFields) {
  const char* kPr =
      R"({"base":{"ref":"main"},"state":"closed","id":7,"head":{"repo":{"name":"api"}},
          "path":"service-A/x"})";
  EXPECT_EQ(Eval(".base.ref == 'main' and .state == 'closed'", kPr), "true");
  EXPECT_EQ(Eval(".head.repo.name + '-' + (.id|tostring)", kPr), R"("api-7")");
  // Ocean's regex breaks these two (a quote next to a parenthesis); the tokenizer does not.
  EXPECT_EQ(Eval(".path | split('/')[0]", kPr), R"("service-A")");
  EXPECT_EQ(Eval(".path | startswith('service-A/')", kPr), "true");
}

TEST(JqSeedTest, DeploymentFrequencyTier) {
  const char* kTier =
      "if (.properties.total_deployments == null or .properties.total_deployments == 0) then "
      "\"Low\" else if (.properties.deployment_frequency // 0) >= 7 then \"Elite\" elif "
      "(.properties.deployment_frequency // 0) >= 1 then \"High\" elif "
      "(.properties.deployment_frequency // 0) >= 0.25 then \"Medium\" else \"Low\" end end";
  EXPECT_EQ(Eval(kTier, R"({"properties":{"total_deployments":0}})"), R"("Low")");
  EXPECT_EQ(Eval(kTier, R"({"properties":{"total_deployments":9,"deployment_frequency":8}})"),
            R"("Elite")");
  EXPECT_EQ(Eval(kTier, R"({"properties":{"total_deployments":9,"deployment_frequency":2}})"),
            R"("High")");
  EXPECT_EQ(Eval(kTier, R"({"properties":{"total_deployments":9,"deployment_frequency":0.5}})"),
            R"("Medium")");
  EXPECT_EQ(Eval(kTier, R"({"properties":{"total_deployments":9}})"), R"("Low")");
}

TEST(JqSeedTest, TeamDeploymentFrequencyTierWithBinding) {
  const char* kTier =
      "if (.properties.total_deployments == null or .properties.total_deployments == 0) then "
      "\"Low\" else (if (.properties.services_count != null and .properties.services_count != "
      "0) then ((.properties.deployment_frequency // 0) / .properties.services_count) else 0 "
      "end) as $dpf | if $dpf >= 7 then \"Elite\" elif $dpf >= 1 then \"High\" elif $dpf >= "
      "0.25 then \"Medium\" else \"Low\" end end";
  EXPECT_EQ(Eval(kTier, R"({"properties":{"total_deployments":5,"deployment_frequency":8,
                            "services_count":2}})"),
            R"("High")");
  EXPECT_EQ(Eval(kTier, R"({"properties":{"total_deployments":5,"deployment_frequency":1,
                            "services_count":2}})"),
            R"("Medium")");
  EXPECT_EQ(Eval(kTier, R"({"properties":{"total_deployments":5,"deployment_frequency":1,
                            "services_count":0}})"),
            R"("Low")");
}

TEST(JqSeedTest, ChangeFailureRateTier) {
  const char* kRate =
      "if (.properties.total_deployments == null or .properties.total_deployments == 0) then "
      "null else ((.properties.total_incidents // 0) / (.properties.total_deployments + "
      "(.properties.total_incidents // 0)) * 100 | floor) end";
  const char* kTier =
      ".properties.total_incidents as $i | .properties.total_deployments as $d | if ($d == "
      "null or $d == 0) then null else ((($i // 0) / ($d + ($i // 0)) * 100) | floor) as $cfr "
      "| if $cfr <= 5 then \"Elite\" elif $cfr <= 20 then \"High\" elif $cfr <= 30 then "
      "\"Medium\" else \"Low\" end end";
  EXPECT_EQ(Eval(kRate, R"({"properties":{"total_deployments":9,"total_incidents":1}})"), "10");
  EXPECT_EQ(Eval(kTier, R"({"properties":{"total_deployments":9,"total_incidents":1}})"),
            R"("High")");
  EXPECT_EQ(Eval(kTier, R"({"properties":{"total_deployments":20}})"), R"("Elite")");
  EXPECT_EQ(Eval(kTier, R"({"properties":{"total_deployments":1,"total_incidents":1}})"),
            R"("Low")");
  EXPECT_EQ(Eval(kTier, R"({"properties":{"total_incidents":3}})"), "null");
}

// Compile cost matters (DESIGN §3: compile once per program, never per payload). Reported,
// not asserted: the machine decides the figure.
TEST(JqProgramTest, CompileCostIsReported) {
  const char* kPrograms[] = {
      ".id | tostring",
      ".title",
      R"(.name | test("deploy|CD"; "i"))",
      ".labels | map(.name) | toarray | pick(.[0])",
      R"(.title | trim | ascii_downcase | gsub(" "; "-"))",
  };
  for (const char* program : kPrograms) {
    auto start = std::chrono::steady_clock::now();
    constexpr int kRounds = 20;
    for (int i = 0; i < kRounds; ++i) {
      auto p = Program::Compile(program);
      ASSERT_TRUE(p.ok()) << p.status().message();
    }
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                    .count() /
                kRounds;
    std::printf("compile %-50s %.2f ms\n", program, ms);
  }
}

}  // namespace
}  // namespace portolan::jq
