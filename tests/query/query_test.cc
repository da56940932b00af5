// Query rules (spec §6): every operator, presets at their boundaries with a fixed now,
// validation errors with JSON pointers, relatedTo over a small store.
#include "engine/query/query.h"

#include <gtest/gtest.h>

#include "engine/base/time.h"
#include "engine/model/blueprint.h"
#include "engine/store/store.h"

namespace portolan::query {
namespace {

json::Value J(const char* text) {
  auto v = json::Parse(text);
  EXPECT_TRUE(v.ok()) << text;
  return v.ok() ? *v : json::Value();
}

double T(const char* iso) {
  auto t = ParseIsoTime(iso);
  EXPECT_TRUE(t.has_value()) << iso;
  return t.value_or(0);
}

// now = Wednesday 2024-03-06T12:00:00Z for every time-dependent rule below.
const double kNow = 1709726400;

store::Entity MakeEntity() {
  store::Entity e;
  e.blueprint = "deployment";
  e.identifier = "deploy-42";
  e.title = "Deploy: Fix Bug";
  e.icon = "Deployment";
  e.team = J(R"(["payments", "infra"])");
  e.properties = J(R"({
    "env": "Production", "status": "Success", "count": 7, "ratio": 0.5, "flag": false,
    "tags": ["blue", "green"], "empty_s": "", "empty_a": [], "empty_o": {}, "nothing": null,
    "deployedAt": "2024-03-01T10:00:00.000Z", "zero": 0, "notes": "Rolled back twice"})");
  e.relations = J(R"({"service": "checkout"})");
  e.derived = J(R"({"lead_hours": 12.5})");
  e.created_at = T("2024-03-06T09:30:00Z");
  e.updated_at = T("2024-03-06T11:00:00Z");
  return e;
}

class QueryTest : public ::testing::Test {
 protected:
  // One rule in an "and" group.
  bool Rule(const char* rule_json, double now = kNow) {
    json::Value q = json::Value::MakeObject();
    q.Set("combinator", "and");
    json::Value rules = json::Value::MakeArray();
    rules.Push(J(rule_json));
    q.Set("rules", std::move(rules));
    Status v = Validate(q);
    EXPECT_TRUE(v.ok()) << v.message() << " for " << rule_json;
    Context ctx{now, nullptr, nullptr};
    auto r = Matches(q, entity_, ctx);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() && *r;
  }
  bool Q(const char* query_json, double now = kNow) {
    json::Value q = J(query_json);
    EXPECT_TRUE(Validate(q).ok()) << Validate(q).message();
    auto r = Matches(q, entity_, Context{now, nullptr, nullptr});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() && *r;
  }
  std::string Error(const char* query_json) {
    Status s = Validate(J(query_json));
    EXPECT_FALSE(s.ok()) << query_json;
    return s.message();
  }
  store::Entity entity_ = MakeEntity();
};

TEST_F(QueryTest, EqualsIsExactAndCaseSensitive) {
  EXPECT_TRUE(Rule(R"({"property": "env", "operator": "=", "value": "Production"})"));
  EXPECT_FALSE(Rule(R"({"property": "env", "operator": "=", "value": "production"})"));
  EXPECT_TRUE(Rule(R"({"property": "count", "operator": "=", "value": 7})"));
  EXPECT_TRUE(Rule(R"({"property": "count", "operator": "=", "value": 7.0})"));
  EXPECT_FALSE(Rule(R"({"property": "count", "operator": "=", "value": "7"})"));
  EXPECT_TRUE(Rule(R"({"property": "flag", "operator": "=", "value": false})"));
  EXPECT_TRUE(Rule(R"({"property": "nothing", "operator": "=", "value": null})"));
  EXPECT_TRUE(Rule(R"({"property": "missing", "operator": "=", "value": null})"));
  // An array property equals a scalar it contains (as $team = "payments").
  EXPECT_TRUE(Rule(R"({"property": "$team", "operator": "=", "value": "payments"})"));
  // ISO date-times equal as instants: 10:00Z == 12:00+02:00.
  EXPECT_TRUE(
      Rule(R"({"property": "deployedAt", "operator": "=", "value": "2024-03-01T12:00:00+02:00"})"));
}

TEST_F(QueryTest, NotEqualsIsTheComplement) {
  EXPECT_FALSE(Rule(R"({"property": "env", "operator": "!=", "value": "Production"})"));
  EXPECT_TRUE(Rule(R"({"property": "env", "operator": "!=", "value": "Staging"})"));
  EXPECT_TRUE(Rule(R"({"property": "missing", "operator": "!=", "value": "x"})"));
  EXPECT_FALSE(Rule(R"({"property": "missing", "operator": "!=", "value": null})"));
}

TEST_F(QueryTest, OrderingNumbersAndDates) {
  EXPECT_TRUE(Rule(R"({"property": "count", "operator": ">", "value": 6})"));
  EXPECT_FALSE(Rule(R"({"property": "count", "operator": ">", "value": 7})"));
  EXPECT_TRUE(Rule(R"({"property": "count", "operator": ">=", "value": 7})"));
  EXPECT_TRUE(Rule(R"({"property": "count", "operator": "<", "value": 7.5})"));
  EXPECT_TRUE(Rule(R"({"property": "count", "operator": "<=", "value": 7})"));
  EXPECT_FALSE(Rule(R"({"property": "count", "operator": "<", "value": 7})"));
  // Chronological, not lexicographic: 2024-03-01T10:00Z is after 2024-03-01T11:00+02:00 (09:00Z).
  EXPECT_TRUE(
      Rule(R"({"property": "deployedAt", "operator": ">", "value": "2024-03-01T11:00:00+02:00"})"));
  EXPECT_TRUE(
      Rule(R"({"property": "deployedAt", "operator": "<=", "value": "2024-03-01T10:00:00Z"})"));
  EXPECT_FALSE(
      Rule(R"({"property": "deployedAt", "operator": "<", "value": "2024-03-01T10:00:00Z"})"));
  // Meta timestamps compare as dates too.
  EXPECT_TRUE(
      Rule(R"({"property": "$createdAt", "operator": "<", "value": "2024-03-06T10:00:00Z"})"));
  // Missing or non-comparable values never match.
  EXPECT_FALSE(Rule(R"({"property": "missing", "operator": ">", "value": 0})"));
  EXPECT_FALSE(Rule(R"({"property": "env", "operator": ">", "value": 0})"));
}

TEST_F(QueryTest, BetweenFromToIsInclusive) {
  EXPECT_TRUE(Rule(R"({"property": "deployedAt", "operator": "between",
      "value": {"from": "2024-03-01T10:00:00Z", "to": "2024-03-02T00:00:00Z"}})"));
  EXPECT_TRUE(Rule(R"({"property": "deployedAt", "operator": "between",
      "value": {"from": "2024-02-01T00:00:00Z", "to": "2024-03-01T10:00:00Z"}})"));
  EXPECT_FALSE(Rule(R"({"property": "deployedAt", "operator": "between",
      "value": {"from": "2024-03-01T10:00:00.001Z", "to": "2024-03-02T00:00:00Z"}})"));
  EXPECT_TRUE(Rule(R"({"property": "deployedAt", "operator": "notBetween",
      "value": {"from": "2024-03-01T10:00:00.001Z", "to": "2024-03-02T00:00:00Z"}})"));
  // A null or missing date matches neither between nor notBetween.
  EXPECT_FALSE(Rule(R"({"property": "nothing", "operator": "between",
      "value": {"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}})"));
  EXPECT_FALSE(Rule(R"({"property": "nothing", "operator": "notBetween",
      "value": {"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}})"));
  EXPECT_FALSE(Rule(R"({"property": "env", "operator": "notBetween",
      "value": {"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}})"));
}

TEST_F(QueryTest, RollingPresetsAtTheirBoundaries) {
  const char* rule = R"({"property": "deployedAt", "operator": "between",
                          "value": {"preset": "lastWeek"}})";
  double t = T("2024-03-01T10:00:00Z");
  // lastWeek = [now - 7 d, now]: in when now is t (window end) ... t + 7 d (window start).
  EXPECT_TRUE(Rule(rule, t));
  EXPECT_FALSE(Rule(rule, t - 0.001));     // t is 1 ms in the future
  EXPECT_TRUE(Rule(rule, t + 7 * 86400));  // exactly 7 days old: inclusive
  EXPECT_FALSE(Rule(rule, t + 7 * 86400 + 0.001));
  // lastMonth is 30 days, not a calendar month.
  const char* month = R"({"property": "deployedAt", "operator": "between",
                           "value": {"preset": "lastMonth"}})";
  EXPECT_TRUE(Rule(month, t + 30 * 86400));
  EXPECT_FALSE(Rule(month, t + 30 * 86400 + 0.001));
  const char* not_month = R"({"property": "deployedAt", "operator": "notBetween",
                               "value": {"preset": "lastMonth"}})";
  EXPECT_FALSE(Rule(not_month, t + 30 * 86400));
  EXPECT_TRUE(Rule(not_month, t + 31 * 86400));
  // lastDay = 24 h.
  const char* day = R"({"property": "$createdAt", "operator": "between",
                         "value": {"preset": "lastDay"}})";
  EXPECT_TRUE(Rule(day, T("2024-03-07T09:30:00Z")));
  EXPECT_FALSE(Rule(day, T("2024-03-07T09:30:00.001Z")));
}

TEST_F(QueryTest, CalendarDayPresetsUtc) {
  // $createdAt = 2024-03-06T09:30Z.
  const char* today = R"({"property": "$createdAt", "operator": "between",
                           "value": {"preset": "today"}})";
  const char* yesterday = R"({"property": "$createdAt", "operator": "between",
                               "value": {"preset": "yesterday"}})";
  const char* tomorrow = R"({"property": "$createdAt", "operator": "between",
                              "value": {"preset": "tomorrow"}})";
  EXPECT_TRUE(Rule(today, T("2024-03-06T00:00:00Z")));
  EXPECT_TRUE(Rule(today, T("2024-03-06T23:59:59.999Z")));
  EXPECT_FALSE(Rule(today, T("2024-03-07T00:00:00Z")));
  EXPECT_FALSE(Rule(today, T("2024-03-05T23:59:59.999Z")));
  EXPECT_TRUE(Rule(yesterday, T("2024-03-07T00:00:00Z")));
  EXPECT_TRUE(Rule(yesterday, T("2024-03-07T23:59:59.999Z")));
  EXPECT_FALSE(Rule(yesterday, T("2024-03-06T23:59:59Z")));
  EXPECT_TRUE(Rule(tomorrow, T("2024-03-05T00:00:00Z")));
  EXPECT_FALSE(Rule(tomorrow, T("2024-03-06T00:00:00Z")));
}

TEST_F(QueryTest, ResolvePresetTable) {
  double from, to;
  struct Case {
    const char* preset;
    double from_offset_days;
    double to_offset_days;
  };
  const Case cases[] = {
      {"lastDay", -1, 0},        {"lastWeek", -7, 0},     {"last2Weeks", -14, 0},
      {"lastMonth", -30, 0},     {"last3Months", -90, 0}, {"last6Months", -180, 0},
      {"last12Months", -365, 0}, {"last2Years", -730, 0}, {"last3Years", -1095, 0},
      {"nextDay", 0, 1},         {"nextWeek", 0, 7},      {"next2Weeks", 0, 14},
      {"nextMonth", 0, 30},      {"next3Months", 0, 90},  {"next6Months", 0, 180},
      {"next12Months", 0, 365},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(ResolvePreset(c.preset, kNow, &from, &to)) << c.preset;
    EXPECT_EQ(from, kNow + c.from_offset_days * 86400) << c.preset;
    EXPECT_EQ(to, kNow + c.to_offset_days * 86400) << c.preset;
  }
  ASSERT_TRUE(ResolvePreset("today", kNow, &from, &to));
  EXPECT_EQ(FormatIsoTime(from), "2024-03-06T00:00:00.000Z");
  EXPECT_EQ(FormatIsoTime(to), "2024-03-06T23:59:59.999Z");
  ASSERT_TRUE(ResolvePreset("yesterday", kNow, &from, &to));
  EXPECT_EQ(FormatIsoTime(from), "2024-03-05T00:00:00.000Z");
  ASSERT_TRUE(ResolvePreset("tomorrow", kNow, &from, &to));
  EXPECT_EQ(FormatIsoTime(from), "2024-03-07T00:00:00.000Z");
  EXPECT_FALSE(ResolvePreset("lastFortnight", kNow, &from, &to));
}

TEST_F(QueryTest, CriticalNowsAreTheWindowEdges) {
  std::vector<double> out;
  // lastWeek contains t while t <= now <= t + 7 d: checks half a millisecond before each edge
  // and just after the closed upper edge.
  CriticalNows("lastWeek", 1000, &out);
  EXPECT_EQ(out,
            (std::vector<double>{999.9995, 1000 + 7 * 86400 - 0.0005, 1000 + 7 * 86400 + 0.0005}));
  out.clear();
  CriticalNows("nextDay", 100000, &out);  // in while 100000 - 1 d <= now <= 100000
  EXPECT_EQ(out, (std::vector<double>{100000 - 86400 - 0.0005, 100000 - 0.0005, 100000 + 0.0005}));
  out.clear();
  CriticalNows("yesterday", 86400 * 3 + 5, &out);  // now on day 4
  EXPECT_EQ(out, (std::vector<double>{86400 * 4 - 0.0005, 86400 * 5 - 0.0005}));
  out.clear();
  CriticalNows("isExpired", 50, &out);
  EXPECT_EQ(out, (std::vector<double>{50.0005}));
  EXPECT_EQ(
      TimeRules(J(R"({"combinator": "or", "rules": [
      {"property": "d", "operator": "between", "value": {"preset": "lastMonth"}},
      {"combinator": "and", "rules": [
        {"property": "d", "operator": "notBetween", "value": {"preset": "lastMonth"}},
        {"property": "due", "operator": "isNotExpired"},
        {"property": "x", "operator": "between",
         "value": {"from": "2024-01-01T00:00:00Z", "to": "2024-02-01T00:00:00Z"}}]}]})")),
      (std::vector<std::pair<std::string, std::string>>{{"d", "lastMonth"}, {"due", "isExpired"}}));
}

TEST_F(QueryTest, ContainsOnStringsAndArrays) {
  EXPECT_TRUE(Rule(R"({"property": "notes", "operator": "contains", "value": "back"})"));
  EXPECT_FALSE(Rule(R"({"property": "notes", "operator": "contains", "value": "Back"})"));
  EXPECT_TRUE(Rule(R"({"property": "tags", "operator": "contains", "value": "green"})"));
  EXPECT_FALSE(Rule(R"({"property": "tags", "operator": "contains", "value": "gree"})"));
  EXPECT_TRUE(Rule(R"({"property": "notes", "operator": "contains", "value": ["zzz", "twice"]})"));
  EXPECT_FALSE(Rule(R"({"property": "count", "operator": "contains", "value": "7"})"));
  EXPECT_FALSE(Rule(R"({"property": "notes", "operator": "doesNotContains", "value": "back"})"));
  EXPECT_TRUE(Rule(R"({"property": "tags", "operator": "doesNotContains", "value": "red"})"));
  EXPECT_TRUE(Rule(R"({"property": "missing", "operator": "doesNotContains", "value": "x"})"));
}

TEST_F(QueryTest, BeginsAndEndsWith) {
  EXPECT_TRUE(Rule(R"({"property": "$identifier", "operator": "beginsWith", "value": "deploy-"})"));
  EXPECT_FALSE(Rule(R"({"property": "$identifier", "operator": "beginsWith", "value": "Deploy"})"));
  EXPECT_TRUE(Rule(R"({"property": "$identifier", "operator": "endsWith", "value": "-42"})"));
  EXPECT_FALSE(Rule(R"({"property": "$identifier", "operator": "endsWith", "value": "4"})"));
  EXPECT_TRUE(Rule(R"({"property": "$title", "operator": "doesNotBeginsWith", "value": "Fix"})"));
  EXPECT_FALSE(Rule(R"({"property": "$title", "operator": "doesNotEndsWith", "value": "Bug"})"));
  EXPECT_TRUE(Rule(R"({"property": "missing", "operator": "doesNotEndsWith", "value": "x"})"));
  EXPECT_FALSE(Rule(R"({"property": "missing", "operator": "beginsWith", "value": ""})"));
}

TEST_F(QueryTest, InNotInContainsAny) {
  EXPECT_TRUE(Rule(R"({"property": "env", "operator": "in", "value": ["Staging", "Production"]})"));
  EXPECT_FALSE(Rule(R"({"property": "env", "operator": "in", "value": ["Staging"]})"));
  EXPECT_TRUE(Rule(R"({"property": "env", "operator": "notIn", "value": ["Staging"]})"));
  EXPECT_FALSE(Rule(R"({"property": "env", "operator": "notIn", "value": ["Production"]})"));
  EXPECT_TRUE(Rule(R"({"property": "count", "operator": "in", "value": [1, 7]})"));
  EXPECT_TRUE(Rule(R"({"property": "$team", "operator": "containsAny", "value": ["x", "infra"]})"));
  EXPECT_FALSE(Rule(R"({"property": "$team", "operator": "containsAny", "value": ["x", "y"]})"));
  EXPECT_TRUE(Rule(R"({"property": "tags", "operator": "in", "value": ["green"]})"));
  EXPECT_TRUE(Rule(R"({"property": "missing", "operator": "notIn", "value": ["a"]})"));
}

TEST_F(QueryTest, EmptinessCoversNullMissingAndEmptyContainers) {
  for (const char* p : {"empty_s", "empty_a", "empty_o", "nothing", "missing"}) {
    std::string rule = std::string(R"({"property": ")") + p + R"(", "operator": "isEmpty"})";
    EXPECT_TRUE(Rule(rule.c_str())) << p;
    rule = std::string(R"({"property": ")") + p + R"(", "operator": "isNotEmpty"})";
    EXPECT_FALSE(Rule(rule.c_str())) << p;
  }
  for (const char* p : {"zero", "flag", "env", "tags", "$team", "$title"}) {
    std::string rule = std::string(R"({"property": ")") + p + R"(", "operator": "isNotEmpty"})";
    EXPECT_TRUE(Rule(rule.c_str())) << p;
  }
}

TEST_F(QueryTest, MetaPropertiesAndDerivedValues) {
  EXPECT_TRUE(Rule(R"({"property": "$identifier", "operator": "=", "value": "deploy-42"})"));
  EXPECT_TRUE(Rule(R"({"property": "$title", "operator": "=", "value": "Deploy: Fix Bug"})"));
  EXPECT_TRUE(Rule(R"({"property": "$blueprint", "operator": "=", "value": "deployment"})"));
  EXPECT_TRUE(Rule(R"({"property": "$icon", "operator": "=", "value": "Deployment"})"));
  EXPECT_TRUE(Rule(R"({"property": "$createdAt", "operator": "=",
                       "value": "2024-03-06T09:30:00.000Z"})"));
  EXPECT_TRUE(
      Rule(R"({"property": "$updatedAt", "operator": ">", "value": "2024-03-06T10:59:59Z"})"));
  // Derived values (mirror/aggregation/calculation) are readable like properties.
  EXPECT_TRUE(Rule(R"({"property": "lead_hours", "operator": "<", "value": 24})"));
  // ...and can be overridden (engine/derive evaluates "as it was" this way).
  json::Value old = J(R"({"lead_hours": 48})");
  auto r = Matches(J(R"({"combinator": "and", "rules": [
                         {"property": "lead_hours", "operator": "<", "value": 24}]})"),
                   entity_, Context{kNow, nullptr, &old});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  json::Value scratch;
  EXPECT_EQ(PropertyValue(entity_, "$team", nullptr, &scratch), J(R"(["payments", "infra"])"));
  EXPECT_EQ(PropertyTime(entity_, "$createdAt", nullptr), T("2024-03-06T09:30:00Z"));
  EXPECT_EQ(PropertyTime(entity_, "deployedAt", nullptr), T("2024-03-01T10:00:00Z"));
  EXPECT_FALSE(PropertyTime(entity_, "env", nullptr).has_value());
}

TEST_F(QueryTest, CombinatorsAndNesting) {
  EXPECT_TRUE(Q(R"({"combinator": "and", "rules": []})"));
  EXPECT_TRUE(Q(R"({"combinator": "or", "rules": []})"));
  EXPECT_TRUE(Q(R"({"combinator": "or", "rules": [
      {"property": "env", "operator": "=", "value": "Staging"},
      {"property": "status", "operator": "=", "value": "Success"}]})"));
  EXPECT_FALSE(Q(R"({"combinator": "and", "rules": [
      {"property": "env", "operator": "=", "value": "Staging"},
      {"property": "status", "operator": "=", "value": "Success"}]})"));
  EXPECT_TRUE(Q(R"({"combinator": "and", "rules": [
      {"property": "status", "operator": "=", "value": "Success"},
      {"combinator": "or", "rules": [
        {"property": "env", "operator": "=", "value": "Staging"},
        {"combinator": "and", "rules": [
          {"property": "env", "operator": "=", "value": "Production"},
          {"property": "count", "operator": ">", "value": 5}]}]}]})"));
}

TEST_F(QueryTest, FailureNamesTheFirstFailingRule) {
  json::Value failure;
  auto r = Matches(J(R"({"combinator": "and", "rules": [
      {"property": "status", "operator": "=", "value": "Success"},
      {"combinator": "and", "rules": [
        {"property": "count", "operator": ">", "value": 1},
        {"property": "env", "operator": "=", "value": "Staging"}]}]})"),
                   entity_, Context{kNow, nullptr, nullptr}, &failure);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  EXPECT_EQ(failure.Get("pointer"), json::Value("/rules/1/rules/1"));
  EXPECT_EQ(failure.Get("value"), json::Value("Production"));
  EXPECT_EQ(failure.Get("rule").Get("value"), json::Value("Staging"));
}

TEST_F(QueryTest, ValidateNamesJsonPointers) {
  EXPECT_EQ(Error(R"({"rules": []})"), "/: missing 'combinator' (and | or)");
  EXPECT_EQ(Error(R"({"combinator": "xor", "rules": []})"),
            "/combinator: combinator must be \"and\" or \"or\"");
  EXPECT_EQ(Error(R"({"combinator": "and", "rules": {}})"), "/rules: rules must be an array");
  EXPECT_EQ(Error(R"({"combinator": "and", "rules": [
      {"property": "a", "operator": "=", "value": 1},
      {"property": "a", "operator": "~", "value": 1}]})"),
            "/rules/1/operator: unknown operator '~'");
  EXPECT_EQ(Error(R"({"combinator": "and", "rules": [{"combinator": "or", "rules": [
      {"property": "a", "operator": "between", "value": {"preset": "lastDecade"}}]}]})"),
            "/rules/0/rules/0/value/preset: unknown date preset \"lastDecade\"");
  EXPECT_EQ(Error(R"({"combinator": "and", "rules": [
      {"property": "a", "operator": "in", "value": "x"}]})"),
            "/rules/0/value: value must be an array");
  EXPECT_EQ(Error(R"({"combinator": "and", "rules": [{"operator": "isEmpty"}]})"),
            "/rules/0: missing 'property'");
  EXPECT_EQ(Error(R"({"combinator": "and", "rules": [
      {"property": "a", "operator": ">", "value": "yesterday"}]})"),
            "/rules/0/value: value must be a number or an ISO 8601 date-time");
  EXPECT_EQ(Error(R"({"combinator": "and", "rules": [
      {"operator": "relatedTo", "value": "x"}]})"),
            "/rules/0/blueprint: relatedTo needs a 'blueprint' (string)");
  EXPECT_EQ(Error(R"({"combinator": "and", "rules": [
      {"property": "a", "operator": "between", "value": {"from": "2024-01-01"}}]})"),
            "/rules/0/value: missing 'to'");
  Status s = Validate(J(R"({"combinator": "and", "rules": [{"operator": "~"}]})"),
                      "/aggregationProperties/x/query");
  EXPECT_EQ(s.message(), "/aggregationProperties/x/query/rules/0/operator: unknown operator '~'");
  // Matches() reports malformed queries as errors too.
  auto r = Matches(J(R"({"combinator": "nand", "rules": []})"), entity_, Context{});
  EXPECT_FALSE(r.ok());
}

TEST_F(QueryTest, StaticAnalysis) {
  json::Value q = J(R"({"combinator": "and", "rules": [
      {"property": "env", "operator": "=", "value": "x"},
      {"combinator": "or", "rules": [
        {"property": "mergedAt", "operator": "between", "value": {"preset": "lastMonth"}},
        {"property": "env", "operator": "isEmpty"}]}]})");
  EXPECT_TRUE(DependsOnNow(q));
  EXPECT_FALSE(UsesRelatedTo(q));
  EXPECT_EQ(PropertiesRead(q), (std::vector<std::string>{"env", "mergedAt"}));
  EXPECT_FALSE(DependsOnNow(J(R"({"combinator": "and", "rules": [
      {"property": "d", "operator": "between",
       "value": {"from": "2024-01-01T00:00:00Z", "to": "2024-02-01T00:00:00Z"}}]})")));
  EXPECT_TRUE(UsesRelatedTo(J(R"({"combinator": "and", "rules": [
      {"operator": "relatedTo", "blueprint": "service", "value": "a"}]})")));
}

// ---- relatedTo over a store --------------------------------------------------------------------

class RelatedToTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::Store::Open("", &clock_);
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
    auto docs = json::Parse(R"([
      {"identifier": "org", "title": "Org", "schema": {"properties": {}}},
      {"identifier": "team", "title": "Team", "schema": {"properties": {}},
       "relations": {"org": {"target": "org", "many": false, "required": false}}},
      {"identifier": "service", "title": "Service", "schema": {"properties": {}},
       "relations": {"team": {"target": "team", "many": false, "required": true},
                     "uses": {"target": "service", "many": true, "required": false}}},
      {"identifier": "deployment", "title": "Deployment", "schema": {"properties": {}},
       "relations": {"service": {"target": "service", "many": false, "required": false}}}])");
    ASSERT_TRUE(docs.ok());
    std::vector<model::Blueprint> bps;
    for (const auto& d : docs->as_array()) {
      auto bp = model::ParseBlueprint(d, "test.json");
      ASSERT_TRUE(bp.ok()) << bp.status().message();
      bps.push_back(std::move(*bp));
    }
    ASSERT_TRUE(store_->ApplyBlueprints(std::move(bps)).ok());
    ASSERT_TRUE(store_->Begin().ok());
    Put("org", R"({"identifier": "acme"})");
    Put("team", R"({"identifier": "t1", "relations": {"org": "acme"}})");
    Put("team", R"({"identifier": "t2", "relations": {"org": "acme"}})");
    Put("service", R"({"identifier": "api", "relations": {"team": "t1"}})");
    Put("service", R"({"identifier": "db", "relations": {"team": "t2"}})");
    Put("service", R"({"identifier": "web", "relations": {"team": "t1", "uses": ["api"]}})");
    Put("deployment", R"({"identifier": "d1", "relations": {"service": "api"}})");
    Put("deployment", R"({"identifier": "d2", "relations": {"service": "db"}})");
    ASSERT_TRUE(store_->Commit().ok());
  }
  void Put(const char* bp, const char* body) {
    auto r = store_->Upsert(bp, J(body), {});
    ASSERT_TRUE(r.ok()) << r.status().message();
  }
  bool Related(const char* bp, const char* id, const char* rule) {
    json::Value q = json::Value::MakeObject();
    q.Set("combinator", "and");
    json::Value rules = json::Value::MakeArray();
    rules.Push(J(rule));
    q.Set("rules", std::move(rules));
    EXPECT_TRUE(Validate(q).ok()) << Validate(q).message();
    const store::Entity* e = store_->Find(bp, id);
    EXPECT_NE(e, nullptr);
    auto r = Matches(q, *e, Context{kNow, store_.get(), nullptr});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() && *r;
  }
  Clock clock_{kNow};
  std::unique_ptr<store::Store> store_;
};

TEST_F(RelatedToTest, DownstreamIsTransitiveBackward) {
  // Downstream of team t1: services api, web (team), deployment d1 (via api).
  const char* rule = R"({"operator": "relatedTo", "blueprint": "team", "value": "t1",
                         "direction": "downstream"})";
  EXPECT_TRUE(Related("service", "api", rule));
  EXPECT_TRUE(Related("service", "web", rule));
  EXPECT_TRUE(Related("deployment", "d1", rule));
  EXPECT_FALSE(Related("deployment", "d2", rule));
  EXPECT_FALSE(Related("org", "acme", rule));  // upstream of t1, not downstream
}

TEST_F(RelatedToTest, UpstreamIsTransitiveForward) {
  // Upstream of d1: service api, team t1, org acme.
  const char* rule = R"({"operator": "relatedTo", "blueprint": "deployment", "value": "d1",
                         "direction": "upstream"})";
  EXPECT_TRUE(Related("service", "api", rule));
  EXPECT_TRUE(Related("team", "t1", rule));
  EXPECT_TRUE(Related("org", "acme", rule));
  EXPECT_FALSE(Related("team", "t2", rule));
  EXPECT_FALSE(Related("service", "web", rule));  // web -> api, i.e. downstream of api
}

TEST_F(RelatedToTest, NoDirectionIsEitherButNeverMixed) {
  const char* rule = R"({"operator": "relatedTo", "blueprint": "service", "value": "api"})";
  EXPECT_TRUE(Related("team", "t1", rule));        // upstream
  EXPECT_TRUE(Related("deployment", "d1", rule));  // downstream
  EXPECT_TRUE(Related("service", "web", rule));    // downstream (web uses api)
  // db shares org acme with api, but only through up-then-down: not related.
  EXPECT_FALSE(Related("service", "db", rule));
  EXPECT_FALSE(Related("team", "t2", rule));
  EXPECT_FALSE(Related("service", "api", rule));  // not related to itself
}

TEST_F(RelatedToTest, ValueListAndRequiredFlag) {
  EXPECT_TRUE(Related("deployment", "d2", R"({"operator": "relatedTo", "blueprint": "service",
                                              "value": ["zzz", "db"]})"));
  // service.team is required, team.org is not: with required: true the walk from api stops at t1.
  EXPECT_TRUE(Related("team", "t1", R"({"operator": "relatedTo", "blueprint": "service",
      "value": "api", "direction": "upstream", "required": true})"));
  EXPECT_FALSE(Related("org", "acme", R"({"operator": "relatedTo", "blueprint": "service",
      "value": "api", "direction": "upstream", "required": true})"));
  EXPECT_TRUE(Related("org", "acme", R"({"operator": "relatedTo", "blueprint": "team",
      "value": "t1", "direction": "upstream", "required": false})"));
  EXPECT_FALSE(Related("deployment", "d1", R"({"operator": "relatedTo", "blueprint": "service",
      "value": "missing"})"));
}

}  // namespace
}  // namespace portolan::query
