// Aggregation functions and their incremental state, in isolation (no store, no jq).
#include "engine/derive/aggregate.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "gtest/gtest.h"

namespace portolan::derive {
namespace {

AggSpec Spec(std::string func, std::string by = "property", std::string average_of = "",
             std::string property = "v") {
  model::CalculationSpec s;
  s.func = std::move(func);
  s.calculation_by = std::move(by);
  s.average_of = std::move(average_of);
  s.property = std::move(property);
  s.measure_time_by = "$createdAt";
  auto r = ResolveSpec(s);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : AggSpec{};
}

Contribution Val(double v) { return {true, v, 0}; }
Contribution Time(double t) { return {true, 0, t}; }

json::Value Agg(const AggSpec& spec, const std::vector<Contribution>& cs, double now = 0,
                bool span_end_now = false, Breakdown* b = nullptr) {
  AggState st;
  for (const auto& c : cs) st.Add(spec, c);
  return st.Finalize(spec, now, span_end_now, b);
}

TEST(ExactSumTest, OrderIndependentAndCorrectlyRounded) {
  ExactSum a;
  a.Add(0.1);
  a.Add(0.2);
  // The exact sum of the doubles 0.1 and 0.2 is 0.30000000000000001665..., exactly halfway
  // between 0.29999999999999998890 and 0.30000000000000004441; ties go to even, which is the
  // latter (what one correctly rounded IEEE addition gives too).
  EXPECT_EQ(a.Value(), 0.30000000000000004441);
  ExactSum d;
  d.Add(1e16);
  d.Add(1.0);
  d.Add(1.0);
  d.Subtract(1e16);
  EXPECT_EQ(d.Value(), 2.0);  // naive left-to-right: 1e16 + 1 + 1 = 1e16, minus 1e16 = 0
  ExactSum b;
  b.Add(1e308);
  b.Add(1.0);
  b.Subtract(1e308);
  EXPECT_EQ(b.Value(), 1.0);  // naive: 0
  ExactSum c;
  c.Add(-2.5);
  c.Add(1.25);
  EXPECT_EQ(c.Value(), -1.25);
  ExactSum z;
  z.Add(5e-324);  // the smallest subnormal
  z.Add(5e-324);
  EXPECT_EQ(z.Value(), 1e-323);
  z.Subtract(1e-323);
  EXPECT_EQ(z.Value(), 0.0);
}

TEST(ExactSumTest, RandomAddRemoveMatchesFreshSum) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> mag(-1e6, 1e6);
  std::vector<double> live;
  ExactSum inc;
  for (int step = 0; step < 5000; ++step) {
    if (!live.empty() && rng() % 3 == 0) {
      size_t i = rng() % live.size();
      inc.Subtract(live[i]);
      live.erase(live.begin() + static_cast<long>(i));
    } else {
      double v = mag(rng) * std::pow(10.0, static_cast<double>(rng() % 20) - 10);
      inc.Add(v);
      live.push_back(v);
    }
  }
  ExactSum fresh;
  std::vector<double> shuffled = live;
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  for (double v : shuffled) fresh.Add(v);
  EXPECT_EQ(inc.Value(), fresh.Value());
}

TEST(AggSpecTest, LenientCountAndErrors) {
  // Port's DORA guide: {"func": "count", "averageOf": "week", "measureTimeBy": ...} = count.
  AggSpec s = Spec("count", "entities", "week");
  EXPECT_EQ(s.func, AggSpec::Func::kCount);
  EXPECT_FALSE(s.time_average());
  model::CalculationSpec bad;
  bad.func = "mode";
  EXPECT_FALSE(ResolveSpec(bad).ok());
  bad.func = "average";
  bad.calculation_by = "entities";
  bad.average_of = "fortnight";
  EXPECT_FALSE(ResolveSpec(bad).ok());
  bad.func = "sum";
  bad.calculation_by = "property";
  bad.property = "";
  EXPECT_FALSE(ResolveSpec(bad).ok());
}

TEST(AggStateTest, CountAndSum) {
  // count of 3 matched = 3; sum 1.5 + 2 + 4 = 7.5
  EXPECT_EQ(Agg(Spec("count", "entities"), {Val(0), Val(0), Val(0)}), json::Value(3));
  EXPECT_EQ(Agg(Spec("sum"), {Val(1.5), Val(2), Val(4)}), json::Value(7.5));
  // Empty sets: count -> 0, sum -> 0.
  EXPECT_EQ(Agg(Spec("count", "entities"), {}), json::Value(0));
  EXPECT_EQ(Agg(Spec("sum"), {}), json::Value(0));
}

TEST(AggStateTest, AverageTotal) {
  // by property: (10 + 20 + 60) / 3 = 30
  EXPECT_EQ(Agg(Spec("average", "property", "total"), {Val(10), Val(20), Val(60)}),
            json::Value(30));
  // by entities with total: |M| = 4 (count ÷ 1 period)
  EXPECT_EQ(Agg(Spec("average", "entities", "total"), {Val(0), Val(0), Val(0), Val(0)}),
            json::Value(4));
  EXPECT_TRUE(Agg(Spec("average", "property", "total"), {}).is_null());
  EXPECT_TRUE(Agg(Spec("average", "entities", "total"), {}).is_null());
}

TEST(AggStateTest, MinMaxMedian) {
  std::vector<Contribution> odd = {Val(5), Val(1), Val(9), Val(3), Val(7)};
  EXPECT_EQ(Agg(Spec("min"), odd), json::Value(1));
  EXPECT_EQ(Agg(Spec("max"), odd), json::Value(9));
  // sorted 1 3 5 7 9 -> middle 5
  EXPECT_EQ(Agg(Spec("median"), odd), json::Value(5));
  // sorted 1 3 7 9 -> (3 + 7) / 2 = 5
  EXPECT_EQ(Agg(Spec("median"), {Val(9), Val(1), Val(7), Val(3)}), json::Value(5));
  // sorted 1 2 -> 1.5
  EXPECT_EQ(Agg(Spec("median"), {Val(2), Val(1)}), json::Value(1.5));
  EXPECT_TRUE(Agg(Spec("min"), {}).is_null());
  EXPECT_TRUE(Agg(Spec("max"), {}).is_null());
  EXPECT_TRUE(Agg(Spec("median"), {}).is_null());
}

TEST(AggStateTest, TimeAverageWorkedExample) {
  // Spec §7.3: 9 deployments from Mon 10:00 to Wed 12:00 (span 2 d 2 h = 180000 s).
  const double mon10 = 1709546400;  // 2024-03-04T10:00:00Z, a Monday
  std::vector<Contribution> cs;
  for (int i = 0; i < 9; ++i) cs.push_back(Time(mon10 + 180000.0 * i / 8));
  Breakdown b;
  // day: periods = ceil(180000 / 86400) = ceil(2.083) = 3 -> 9 / 3 = 3
  EXPECT_EQ(Agg(Spec("average", "entities", "day"), cs, 0, false, &b), json::Value(3));
  EXPECT_EQ(b.periods, 3);
  EXPECT_EQ(b.span_seconds, 180000);
  // week: periods = max(1, ceil(180000 / 604800)) = 1 -> 9
  EXPECT_EQ(Agg(Spec("average", "entities", "week"), cs), json::Value(9));
  // hour: ceil(180000 / 3600) = 50 -> 9 / 50 = 0.18
  EXPECT_EQ(Agg(Spec("average", "entities", "hour"), cs), json::Value(0.18));
  // month (30 d): 1 period -> 9
  EXPECT_EQ(Agg(Spec("average", "entities", "month"), cs), json::Value(9));
}

TEST(AggStateTest, TimeAverageEdges) {
  // Port's example: data spanning 2 h 20 min, averageOf hour -> divided by 3.
  std::vector<Contribution> cs = {Time(0), Time(3600), Time(8400)};
  EXPECT_EQ(Agg(Spec("average", "entities", "hour"), cs), json::Value(1));  // 3 / 3
  // A single entity (zero span) is one period.
  EXPECT_EQ(Agg(Spec("average", "entities", "week"), {Time(100)}), json::Value(1));
  // Exactly one week of span is one period: ceil(604800 / 604800) = 1 -> 2 / 1.
  EXPECT_EQ(Agg(Spec("average", "entities", "week"), {Time(0), Time(604800)}), json::Value(2));
  // One millisecond more is two periods -> 2 / 2 = 1.
  EXPECT_EQ(Agg(Spec("average", "entities", "week"), {Time(0), Time(604800.001)}), json::Value(1));
  // By property: sum of values over periods: (10 + 20 + 30) over ceil(2 d / 1 d) = 2 -> 30.
  AggSpec by_prop = Spec("average", "property", "day");
  std::vector<Contribution> pv = {{true, 10, 0}, {true, 20, 86400}, {true, 30, 172800}};
  EXPECT_EQ(Agg(by_prop, pv), json::Value(30));
  // span_end_now: span = now - min = 10 d -> ceil(10 / 7) = 2 weeks -> 2 entities / 2 = 1.
  EXPECT_EQ(Agg(Spec("average", "entities", "week"), {Time(0), Time(86400)}, 864000, true),
            json::Value(1));
  EXPECT_TRUE(Agg(Spec("average", "entities", "week"), {}).is_null());
}

TEST(AggStateTest, ContributeSkipsNullsAndMissingTimes) {
  AggSpec sum = Spec("sum");
  EXPECT_FALSE(Contribute(sum, true, json::Value(), std::nullopt).included);
  EXPECT_FALSE(Contribute(sum, true, json::Value("3"), std::nullopt).included);
  EXPECT_FALSE(Contribute(sum, false, json::Value(3), std::nullopt).included);
  EXPECT_TRUE(Contribute(sum, true, json::Value(3), std::nullopt).included);
  AggSpec weekly = Spec("average", "entities", "week");
  EXPECT_FALSE(Contribute(weekly, true, json::Value(), std::nullopt).included);
  EXPECT_TRUE(Contribute(weekly, true, json::Value(), 5.0).included);
  AggSpec count = Spec("count", "entities");
  EXPECT_TRUE(Contribute(count, true, json::Value(), std::nullopt).included);
}

TEST(AggStateTest, RemoveRestoresValues) {
  AggSpec med = Spec("median");
  AggState st;
  st.Add(med, Val(4));
  st.Add(med, Val(8));
  st.Add(med, Val(6));
  EXPECT_EQ(st.Finalize(med, 0, false), json::Value(6));
  st.Remove(med, Val(6));
  EXPECT_EQ(st.Finalize(med, 0, false), json::Value(6));  // (4 + 8) / 2
  st.Remove(med, Val(4));
  EXPECT_EQ(st.Finalize(med, 0, false), json::Value(8));
  st.Remove(med, Val(8));
  EXPECT_TRUE(st.Finalize(med, 0, false).is_null());
}

}  // namespace
}  // namespace portolan::derive
