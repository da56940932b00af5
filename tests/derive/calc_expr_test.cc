// The native calculation evaluator against libjq: for every program the native parser accepts,
// on a range of documents, the first output (value, no output or error) must be the same as
// libjq's. Curated expressions (the DORA guide's calculations among them) and random ones.
#include "engine/derive/internal/calc_expr.h"

#include <gtest/gtest.h>

#include <random>
#include <unordered_set>

#include "engine/base/time.h"
#include "engine/jq/jq.h"

namespace portolan::derive::internal {
namespace {

json::Value J(const char* text) {
  auto v = json::Parse(text);
  EXPECT_TRUE(v.ok()) << text;
  return v.ok() ? *v : json::Value();
}

// The document the engine gives calculations (engine/derive CalcDocument).
json::Value Document(const store::Entity& e, const std::unordered_set<std::string>& calc_keys) {
  json::Value doc = json::Value::MakeObject();
  doc.Set("identifier", e.identifier);
  doc.Set("title", e.title);
  doc.Set("icon", e.icon);
  doc.Set("blueprint", e.blueprint);
  doc.Set("team", e.team.is_array() ? e.team : json::Value::MakeArray());
  json::Value props = e.properties;
  for (const auto& [k, v] : e.derived.as_object()) {
    if (!calc_keys.count(k)) props.Set(k, v);
  }
  doc.Set("properties", props);
  doc.Set("relations", e.relations);
  doc.Set("createdAt", FormatIsoTime(e.created_at));
  doc.Set("updatedAt", FormatIsoTime(e.updated_at));
  return doc;
}

std::vector<store::Entity> Entities() {
  const char* props[] = {
      R"({"a": 3, "b": 4.5, "s": "go", "t": "", "n": null, "z": 0, "neg": -7.25,
          "arr": [1, 2], "obj": {"x": 1}, "f": false, "yes": true, "num_s": "42"})",
      R"({"a": -1, "b": 0, "s": "Go", "t": "abc", "z": 0, "arr": [], "obj": {}, "f": true,
          "num_s": "x1"})",
      R"({"a": 1e300, "b": 1e-300, "s": "ünï", "n": 5})",
      R"({})",
      R"({"a": null, "b": null, "s": null, "obj": null, "arr": null})",
      R"({"a": 2, "b": 2, "s": "2", "t": "2", "z": 2, "num_s": "-3.5"})",
  };
  const char* derived[] = {
      R"({"total_deployments": 10, "deployment_frequency": 7.5, "calc": "hidden",
          "total_incidents": 1, "mean_time_to_recovery": 60, "lead_time_for_changes": 24,
          "services_count": 2})",
      R"({"total_deployments": 0, "deployment_frequency": null, "calc": 1,
          "total_incidents": 0, "mean_time_to_recovery": null, "lead_time_for_changes": 168.5,
          "services_count": 0})",
      R"({"total_deployments": 19, "deployment_frequency": 0.25, "calc": 1,
          "total_incidents": 1, "mean_time_to_recovery": 43201, "lead_time_for_changes": null,
          "services_count": null})",
      R"({"calc": null})",
      R"({"total_deployments": null, "total_incidents": 3, "mean_time_to_recovery": 1440,
          "calc": 2})",
      R"({"total_deployments": 7, "total_incidents": 4, "deployment_frequency": 1,
          "services_count": 7, "calc": 3})",
  };
  std::vector<store::Entity> out;
  for (size_t i = 0; i < std::size(props); ++i) {
    store::Entity e;
    e.blueprint = "service";
    e.identifier = "svc-" + std::to_string(i);
    e.title = i % 2 ? json::Value("Title " + std::to_string(i)) : json::Value();
    e.icon = json::Value("Icon");
    e.team = i % 3 ? J(R"(["payments"])") : json::Value::MakeArray();
    e.properties = J(props[i]);
    e.relations = i % 2 ? J(R"({"team": "t1", "deps": ["a", "b"]})") : J(R"({"team": null})");
    e.derived = J(derived[i]);
    e.created_at = 1709726400.0 + static_cast<double>(i) * 3600.5;
    e.updated_at = e.created_at + 10;
    out.push_back(std::move(e));
  }
  return out;
}

const std::unordered_set<std::string> kCalcKeys = {"calc"};
const double kNow = 1709800000.25;

// Checks every native-parseable expression against libjq on every entity. Expressions are run
// through libjq in batches: [([try (E) catch "\u0001error"]), ...] (one compile per batch).
void CheckAgainstLibjq(const std::vector<std::string>& exprs, int* native_count,
                       int* compared = nullptr) {
  std::vector<store::Entity> entities = Entities();
  std::vector<std::string> batch;
  std::vector<std::unique_ptr<CalcExpr>> parsed;
  auto run = [&]() {
    if (batch.empty()) return;
    std::string program = "[";
    for (size_t i = 0; i < batch.size(); ++i) {
      program +=
          (i ? ", " : "") + std::string("([try (") + batch[i] + "\n" + ") catch \"\\u0001error\"])";
    }
    program += "]";
    auto p = jq::Program::Compile("def now: " + json::FormatNumber(kNow) + "; " + program);
    ASSERT_TRUE(p.ok()) << p.status().message();
    for (const store::Entity& e : entities) {
      json::Value doc = Document(e, kCalcKeys);
      jq::Output o = (*p)->Evaluate(jq::Input(doc));
      ASSERT_TRUE(o.has_value()) << o.error;
      const json::Array& results = o.value.as_array();
      ASSERT_EQ(results.size(), batch.size());
      for (size_t i = 0; i < batch.size(); ++i) {
        CalcExpr::Doc d{&e, &kCalcKeys, kNow, [&] { return Document(e, kCalcKeys); }};
        json::Value native;
        CalcExpr::Outcome outcome = parsed[i]->Evaluate(d, &native);
        if (outcome == CalcExpr::Outcome::kUnsupported) continue;
        if (compared) ++*compared;
        const json::Array& want = results[i].as_array();
        std::string where = batch[i] + " on " + e.identifier;
        if (want.empty()) {
          EXPECT_EQ(outcome, CalcExpr::Outcome::kEmpty)
              << where << " native " << json::Write(native);
        } else if (want[0] == json::Value("\u0001error")) {
          EXPECT_EQ(outcome, CalcExpr::Outcome::kError)
              << where << " native " << json::Write(native);
        } else {
          EXPECT_EQ(outcome, CalcExpr::Outcome::kValue) << where;
          EXPECT_EQ(json::Write(native), json::Write(want[0])) << where;
        }
      }
    }
    batch.clear();
    parsed.clear();
  };
  for (const std::string& e : exprs) {
    auto c = CalcExpr::Parse(e);
    if (!c) continue;
    ++*native_count;
    batch.push_back(jq::RewriteDialect(e));
    parsed.push_back(std::move(c));
    if (batch.size() == 150) run();
  }
  run();
}

TEST(CalcExprTest, DoraGuideCalculationsAreNative) {
  const char* dora[] = {
      "if (.properties.total_deployments == null or .properties.total_deployments == 0) then "
      "\"Low\" else if (.properties.deployment_frequency // 0) >= 7 then \"Elite\" elif "
      "(.properties.deployment_frequency // 0) >= 1 then \"High\" elif "
      "(.properties.deployment_frequency // 0) >= 0.25 then \"Medium\" else \"Low\" end end",
      "if (.properties.lead_time_for_changes == null) then \"Low\" elif "
      ".properties.lead_time_for_changes <= 24 then \"Elite\" elif "
      ".properties.lead_time_for_changes <= 168 then \"High\" elif "
      ".properties.lead_time_for_changes <= 720 then \"Medium\" else \"Low\" end",
      "if (.properties.total_deployments == null or .properties.total_deployments == 0) then "
      "null else ((.properties.total_incidents // 0) / (.properties.total_deployments + "
      "(.properties.total_incidents // 0)) * 100 | floor) end",
      ".properties.total_incidents as $i | .properties.total_deployments as $d | if ($d == null "
      "or $d == 0) then null else ((($i // 0) / ($d + ($i // 0)) * 100) | floor) as $cfr | if "
      "$cfr <= 5 then \"Elite\" elif $cfr <= 20 then \"High\" elif $cfr <= 30 then \"Medium\" "
      "else \"Low\" end end",
      "if (.properties.total_incidents == null or .properties.total_incidents == 0) then null "
      "elif (.properties.mean_time_to_recovery == null) then \"Elite\" elif "
      ".properties.mean_time_to_recovery <= 60 then \"Elite\" elif "
      ".properties.mean_time_to_recovery <= 1440 then \"High\" elif "
      ".properties.mean_time_to_recovery <= 43200 then \"Medium\" else \"Low\" end",
      "if (.properties.services_count != null and .properties.services_count != 0) then "
      "((.properties.deployment_frequency // 0) / .properties.services_count) else 0 end",
      "if (.properties.total_deployments == null or .properties.total_deployments == 0) then "
      "\"Low\" else (if (.properties.services_count != null and .properties.services_count != 0) "
      "then ((.properties.deployment_frequency // 0) / .properties.services_count) else 0 end) "
      "as $dpf | if $dpf >= 7 then \"Elite\" elif $dpf >= 1 then \"High\" elif $dpf >= 0.25 then "
      "\"Medium\" else \"Low\" end end",
  };
  std::vector<std::string> exprs(std::begin(dora), std::end(dora));
  for (const auto& e : exprs) {
    auto c = CalcExpr::Parse(e);
    ASSERT_NE(c, nullptr) << e;
    EXPECT_FALSE(c->reads_all()) << e;
  }
  auto cfr = CalcExpr::Parse(dora[3]);
  EXPECT_EQ(cfr->property_reads(),
            (std::vector<std::string>{"total_incidents", "total_deployments"}));
  int native = 0;
  CheckAgainstLibjq(exprs, &native);
  EXPECT_EQ(native, static_cast<int>(exprs.size()));
}

TEST(CalcExprTest, CuratedExpressions) {
  std::vector<std::string> exprs = {
      ".",
      ".identifier",
      ".title",
      ".icon",
      ".blueprint",
      ".team",
      ".relations",
      ".relations.team",
      ".relations.deps",
      ".createdAt",
      ".updatedAt",
      ".properties",
      ".properties.a",
      ".properties.calc",
      ".properties.total_deployments",
      ".missing",
      ".properties.obj.x",
      ".properties.a.x",
      ".properties.s.x",
      ".properties.n.x.y",
      ".properties.\"a\"",
      ".properties.'s'",
      "'https://x/' + .identifier",
      ".properties.a + .properties.b",
      ".properties.a - .properties.b",
      ".properties.a * .properties.b",
      ".properties.a / .properties.b",
      ".properties.a % .properties.b",
      ".properties.a / .properties.z",
      ".properties.a % .properties.z",
      ".properties.s + .properties.t",
      ".properties.n + .properties.a",
      ".properties.a + .properties.n",
      ".properties.arr + .properties.arr",
      ".properties.s + 1",
      ".properties.f + 1",
      ".properties.s * 2",
      "null + null",
      "-.properties.a",
      "-.properties.s",
      "- 3 - 2",
      "-1 * 2 + 1",
      "1 + 2 * 3 - 4 / 8",
      "7 % 3",
      "-7 % 3",
      "7.9 % 2.1",
      "5 % -1",
      ".properties.a == .properties.b",
      ".properties.a != 3",
      ".properties.s < .properties.t",
      ".properties.n < 0",
      "null < false",
      "false < true",
      "true < 0",
      "0 < \"\"",
      "\"a\" < \"b\"",
      "\"B\" < \"a\"",
      ".properties.arr < .properties.arr",
      ".properties.arr == [1,2]",
      ".properties.obj == .properties.obj",
      ".properties.a >= 3",
      ".properties.a <= 3",
      ".properties.a > .properties.missing",
      ".properties.n // 5",
      ".properties.f // \"alt\"",
      ".properties.z // 1",
      ".properties.a // 1",
      "empty // 2",
      ".properties.a.x // 1",
      "(.properties.a | floor) // 9",
      ".properties.yes and .properties.f",
      ".properties.yes or .properties.f",
      ".properties.n and (.properties.a.x)",
      ".properties.a or (.properties.a.x)",
      ".properties.f and empty",
      ".properties.yes and empty",
      "empty or true",
      ".properties.a | floor",
      ".properties.b | ceil",
      ".properties.b | round",
      ".properties.neg | round",
      ".properties.neg | fabs",
      ".properties.a | sqrt",
      ".properties.neg | sqrt",
      ".properties.s | floor",
      ".properties.n | floor",
      ".properties.s | length",
      ".properties.arr | length",
      ".properties.obj | length",
      ".properties.n | length",
      ".properties.neg | length",
      ".properties.f | length",
      "length",
      ".properties | length",
      ".properties.a | not",
      ".properties.n | not",
      "not",
      ".properties.a | tostring",
      ".properties.b | tostring",
      ".properties.s | tostring",
      ".properties.n | tostring",
      ".properties.f | tostring",
      ".properties.num_s | tonumber",
      ".properties.s | tonumber",
      ".properties.a | tonumber",
      ".properties.n | tonumber",
      ".properties.a | type",
      ".properties.n | type",
      ".properties.arr | type",
      "type",
      "now",
      "now | floor",
      "empty",
      ".properties.a | empty",
      "if empty then 1 else 2 end",
      "if .properties.a then 1 end",
      "if .properties.n then 1 end",
      "if .properties.a > 2 then \"big\" elif .properties.a > 0 then \"small\" else \"neg\" end",
      "if (.properties.a.x) then 1 else 2 end",
      ".properties.a as $x | $x + 1",
      ".properties.a as $x | .properties.b as $y | $x * $y",
      ".properties.obj as $o | $o.x",
      ". as $d | $d.identifier",
      ". as $d | $d.properties.a",
      ".properties.a as $x | empty",
      "(.properties.a.x) as $x | 1",
      "(.properties.a + 1) | . * 2",
      ".properties | .a",
      ".properties.obj | .x",
      ".properties.a | . as $v | $v",
      "(.properties.a.x) + empty",
      "empty + (.properties.a.x)",
      "(.properties.a.x) == empty",
      ".properties.s | .x",
      "\"\\u00e9\\n\\t\\\"\" + \"x\"",
      "1e3 + .5e1",
      "1.5e-3",
      "$__loc__",
      ".[0]",
      ".a?",
      "[1]",
      "{}",
      "1, 2",
      "def f: 1; f",
      "reduce .[] as $x (0; . + $x)",
      "try .a catch 1",
      "error(\"x\")",
      ".a | test(\"x\")",
      "$ENV",
      "env",
      "abs",
      "1 as [$a] | $a",
      "\"\\(1)\"",
      "# comment\n.properties.a # trailing",
      "1 / 0",
      "1 as $x | $x / 0",
  };
  int native = 0;
  CheckAgainstLibjq(exprs, &native);
  EXPECT_GT(native, 130);
}

// Random programs from the subset's grammar.
class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}
  std::string Expr(int depth) {
    int choice = static_cast<int>(rng_() % (depth <= 0 ? 3 : 11));
    switch (choice) {
      case 0:
        return Leaf();
      case 1:
        return Path();
      case 2:
        return vars_ > 0 ? "$v" + std::to_string(rng_() % static_cast<uint64_t>(vars_)) : Leaf();
      case 3:
      case 4:
      case 5: {
        static const char* kOps[] = {
            "+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "//", "and", "or"};
        return "(" + Expr(depth - 1) + " " + kOps[rng_() % std::size(kOps)] + " " +
               Expr(depth - 1) + ")";
      }
      case 6: {
        static const char* kCalls[] = {"floor", "ceil",     "round",    "fabs", "sqrt", "length",
                                       "not",   "tostring", "tonumber", "type", "empty"};
        return "(" + Expr(depth - 1) + " | " + kCalls[rng_() % std::size(kCalls)] + ")";
      }
      case 7: {
        std::string s = "(if " + Expr(depth - 1) + " then " + Expr(depth - 1);
        if (rng_() % 2) s += " elif " + Expr(depth - 1) + " then " + Expr(depth - 1);
        if (rng_() % 3) s += " else " + Expr(depth - 1);
        return s + " end)";
      }
      case 8: {
        std::string src = Expr(depth - 1);
        std::string name = "$v" + std::to_string(vars_);
        ++vars_;
        std::string body = Expr(depth - 1);
        --vars_;
        return "(" + src + " as " + name + " | " + body + ")";
      }
      case 9:
        return "(-" + Expr(depth - 1) + ")";
      default:
        return "(" + Expr(depth - 1) + " | " + Path() + ")";
    }
  }

 private:
  std::string Leaf() {
    static const char* kLeaves[] = {"0",    "1",      "2.5",  "-3",   "100",   "0.25", "\"a\"",
                                    "\"\"", "\"go\"", "null", "true", "false", "."};
    return kLeaves[rng_() % std::size(kLeaves)];
  }
  std::string Path() {
    static const char* kPaths[] = {".properties.a",
                                   ".properties.b",
                                   ".properties.s",
                                   ".properties.t",
                                   ".properties.n",
                                   ".properties.z",
                                   ".properties.neg",
                                   ".properties.arr",
                                   ".properties.obj",
                                   ".properties.obj.x",
                                   ".properties.f",
                                   ".properties.yes",
                                   ".properties.missing",
                                   ".properties.total_deployments",
                                   ".properties.deployment_frequency",
                                   ".properties.calc",
                                   ".identifier",
                                   ".title",
                                   ".relations.team",
                                   ".team",
                                   ".x"};
    return kPaths[rng_() % std::size(kPaths)];
  }
  std::mt19937_64 rng_;
  int vars_ = 0;
};

TEST(CalcExprTest, RandomProgramsMatchLibjq) {
  Generator gen(20240306);
  std::vector<std::string> exprs;
  for (int i = 0; i < 1500; ++i) exprs.push_back(gen.Expr(1 + i % 4));
  int native = 0, compared = 0;
  CheckAgainstLibjq(exprs, &native, &compared);
  EXPECT_GT(native, 1400);
  // 6 documents each; a few runtime cases (number formatting, object merge) go to libjq.
  EXPECT_GT(compared, native * 6 * 9 / 10);
  std::printf("random programs: %d native, %d evaluations compared\n", native, compared);
}

TEST(CalcExprTest, ReadSets) {
  auto a = CalcExpr::Parse(".properties.x + (.properties.y // 0) | . * 2");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->property_reads(), (std::vector<std::string>{"x", "y"}));
  EXPECT_FALSE(a->reads_all());
  EXPECT_FALSE(a->uses_now());
  auto b = CalcExpr::Parse(".properties | length");
  ASSERT_NE(b, nullptr);
  EXPECT_TRUE(b->reads_all());
  auto c = CalcExpr::Parse(". as $e | $e.properties.x");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->reads_all());
  auto d = CalcExpr::Parse("now - 5");
  ASSERT_NE(d, nullptr);
  EXPECT_TRUE(d->uses_now());
  EXPECT_EQ(CalcExpr::Parse(".a | test(\"x\")"), nullptr);
}

}  // namespace
}  // namespace portolan::derive::internal
