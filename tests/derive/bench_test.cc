// Timing of the derive engine on the DORA pack at the scale (skipped unless
// PORTOLAN_DERIVE_BENCH is set; its value scales the entity counts, 1 = full scale):
//
//   1k services, 100 teams, 1M deployments, 200k PRs, 50k incidents
//   - RecomputeAll (target: < 2 s)
//   - Apply() for one deployment upsert (target: median < 50 µs)
//
//   PORTOLAN_DERIVE_BENCH=1 ./build-rel/bin/derive_test --gtest_filter='DeriveBench.*'
//
// The same pattern times the engine anywhere: load entities, then
//   t0; engine.RecomputeAll(now); t1                       (full recompute)
//   store.Begin(); store.Upsert(...); auto c = store.TakeChanges();
//   t0; engine.Apply(c, now); t1; store.Commit();           (one change)
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>

#include "tests/derive/derive_fixture.h"

namespace portolan::derive::testing {
namespace {

using Clock_ = std::chrono::steady_clock;

double Ms(Clock_::time_point a, Clock_::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

class DeriveBench : public DeriveTest {
 protected:
  void SetUp() override {
    const char* env = std::getenv("PORTOLAN_DERIVE_BENCH");
    if (!env) GTEST_SKIP() << "set PORTOLAN_DERIVE_BENCH=<scale> to run";
    scale_ = std::atof(env);
    if (scale_ <= 0) scale_ = 1;
    DeriveTest::SetUp();
  }
  double scale_ = 1;
};

TEST_F(DeriveBench, DoraPackAtScale) {
  ASSERT_TRUE(LoadDoraPack().ok());
  const int teams = std::max(1, static_cast<int>(100 * scale_));
  const int services = std::max(1, static_cast<int>(1000 * scale_));
  const int prs_per_service = 200;
  const int deploys_per_service = 1000;
  const int incidents_per_service = 50;
  std::mt19937_64 rng(7);
  auto t_load = Clock_::now();
  ASSERT_TRUE(store_->Begin().ok());
  store::UpsertOptions o;
  auto put = [&](const char* bp, const json::Value& body) {
    auto r = store_->Upsert(bp, body, o);
    ASSERT_TRUE(r.ok()) << r.status().message();
  };
  for (int t = 0; t < teams; ++t) {
    json::Value b = json::Value::MakeObject();
    b.Set("identifier", "team-" + std::to_string(t));
    put("_team", b);
  }
  const double month = 30 * 86400.0;
  for (int s = 0; s < services; ++s) {
    std::string sid = "svc-" + std::to_string(s);
    json::Value b = json::Value::MakeObject();
    b.Set("identifier", sid);
    json::Value rel = json::Value::MakeObject();
    rel.Set("team", "team-" + std::to_string(s % teams));
    b.Set("relations", rel);
    put("service", b);
    for (int p = 0; p < prs_per_service; ++p) {
      json::Value pr = json::Value::MakeObject();
      pr.Set("identifier", sid + "-pr-" + std::to_string(p));
      json::Value props = json::Value::MakeObject();
      props.Set("cycle_time_hours", static_cast<double>(rng() % 2000) / 10);
      props.Set("mergedAt", FormatIsoTime(kNow - static_cast<double>(rng() % 90) * 86400));
      pr.Set("properties", props);
      json::Value r = json::Value::MakeObject();
      r.Set("service", sid);
      pr.Set("relations", r);
      put("githubPullRequest", pr);
    }
    for (int d = 0; d < deploys_per_service; ++d) {
      json::Value dep = json::Value::MakeObject();
      dep.Set("identifier", sid + "-d-" + std::to_string(d));
      json::Value props = json::Value::MakeObject();
      props.Set("deploymentStatus", rng() % 10 ? "Success" : "Failed");
      props.Set("environment", "Production");
      props.Set("createdAt", FormatIsoTime(kNow - 3 * month + static_cast<double>(d) * 7000));
      dep.Set("properties", props);
      json::Value r = json::Value::MakeObject();
      r.Set("service", sid);
      r.Set("pullRequest", sid + "-pr-" + std::to_string(rng() % prs_per_service));
      dep.Set("relations", r);
      put("deployment", dep);
    }
    for (int i = 0; i < incidents_per_service; ++i) {
      json::Value inc = json::Value::MakeObject();
      inc.Set("identifier", sid + "-inc-" + std::to_string(i));
      json::Value props = json::Value::MakeObject();
      props.Set("recoveryTime", static_cast<double>(rng() % 3000));
      inc.Set("properties", props);
      json::Value r = json::Value::MakeObject();
      r.Set("service", sid);
      inc.Set("relations", r);
      put("pagerdutyIncident", inc);
    }
  }
  store_->TakeChanges();
  ASSERT_TRUE(store_->Commit().ok());
  auto t_loaded = Clock_::now();

  std::printf("load: %.0f ms (%d services, %d deployments)\n", Ms(t_load, t_loaded), services,
              services * deploys_per_service);

  // PORTOLAN_DERIVE_BENCH_REPEAT=n repeats the full recompute (for profiling).
  const char* repeat = std::getenv("PORTOLAN_DERIVE_BENCH_REPEAT");
  for (int i = 1; repeat && i < std::atoi(repeat); ++i) {
    ASSERT_TRUE(engine_->RecomputeAll(now_).ok());
  }
  auto t0 = Clock_::now();
  ASSERT_TRUE(engine_->RecomputeAll(now_).ok());
  auto t1 = Clock_::now();
  std::printf("RecomputeAll: %.0f ms\n", Ms(t0, t1));
  for (const auto& [step, secs] : engine_->last_stats().steps) {
    if (secs > 0.001) std::printf("  %-70s %8.1f ms\n", step.c_str(), secs * 1000);
  }
  RecordProperty("recompute_all_ms", static_cast<int>(Ms(t0, t1)));

  // One new deployment per transaction.
  std::vector<double> apply_us;
  const int iterations = 2000;
  for (int i = 0; i < iterations; ++i) {
    std::string sid = "svc-" + std::to_string(rng() % static_cast<uint64_t>(services));
    json::Value dep = json::Value::MakeObject();
    dep.Set("identifier", "new-" + std::to_string(i));
    json::Value props = json::Value::MakeObject();
    props.Set("deploymentStatus", "Success");
    props.Set("environment", "Production");
    props.Set("createdAt", FormatIsoTime(kNow - static_cast<double>(rng() % 1000)));
    dep.Set("properties", props);
    json::Value r = json::Value::MakeObject();
    r.Set("service", sid);
    r.Set("pullRequest", sid + "-pr-" + std::to_string(rng() % prs_per_service));
    dep.Set("relations", r);
    ASSERT_TRUE(store_->Begin().ok());
    put("deployment", dep);
    auto changes = store_->TakeChanges();
    auto a0 = Clock_::now();
    ASSERT_TRUE(engine_->Apply(changes, now_).ok());
    auto a1 = Clock_::now();
    ASSERT_TRUE(store_->Commit().ok());
    apply_us.push_back(Ms(a0, a1) * 1000);
  }
  std::printf("last Apply: %lld values, %lld calculations, %lld targets visited\n",
              static_cast<long long>(engine_->last_stats().values_computed),
              static_cast<long long>(engine_->last_stats().calculations),
              static_cast<long long>(engine_->last_stats().targets_visited));
  for (const auto& [step, secs] : engine_->last_stats().steps) {
    std::printf("  %-70s %8.1f us\n", step.c_str(), secs * 1e6);
  }
  std::sort(apply_us.begin(), apply_us.end());
  // The same with a wall clock: now moves 1 s per upsert, so time windows (lastMonth) are
  // re-checked for the targets crossing an edge.
  std::vector<double> moving_us;
  double moving_now = now_;
  for (int i = 0; i < iterations; ++i) {
    moving_now += 1;
    std::string sid = "svc-" + std::to_string(rng() % static_cast<uint64_t>(services));
    json::Value dep = json::Value::MakeObject();
    dep.Set("identifier", "moving-" + std::to_string(i));
    json::Value props = json::Value::MakeObject();
    props.Set("deploymentStatus", "Success");
    props.Set("environment", "Production");
    props.Set("createdAt", FormatIsoTime(moving_now));
    dep.Set("properties", props);
    json::Value r = json::Value::MakeObject();
    r.Set("service", sid);
    dep.Set("relations", r);
    ASSERT_TRUE(store_->Begin().ok());
    put("deployment", dep);
    auto changes = store_->TakeChanges();
    auto a0 = Clock_::now();
    ASSERT_TRUE(engine_->Apply(changes, moving_now).ok());
    auto a1 = Clock_::now();
    ASSERT_TRUE(store_->Commit().ok());
    moving_us.push_back(Ms(a0, a1) * 1000);
  }
  std::sort(moving_us.begin(), moving_us.end());
  std::printf("Apply with now moving 1 s per upsert: median %.1f us, p90 %.1f us\n",
              moving_us[moving_us.size() / 2], moving_us[moving_us.size() * 9 / 10]);
  auto f0 = Clock_::now();
  ASSERT_TRUE(engine_->EnsureFresh(moving_now + 86400).ok());
  auto f1 = Clock_::now();
  std::printf("EnsureFresh(now + 1 day): %.1f ms (%lld targets re-checked)\n", Ms(f0, f1),
              static_cast<long long>(engine_->last_stats().targets_visited));
  {
    // A new process (the CLI): the engine starts cold from the stored values.
    Engine cold(store_.get());
    ASSERT_TRUE(cold.Bind().ok());
    json::Value dep = json::Value::MakeObject();
    dep.Set("identifier", "cold-1");
    json::Value props = json::Value::MakeObject();
    props.Set("deploymentStatus", "Success");
    props.Set("environment", "Production");
    props.Set("createdAt", FormatIsoTime(moving_now));
    dep.Set("properties", props);
    json::Value r = json::Value::MakeObject();
    r.Set("service", "svc-0");
    dep.Set("relations", r);
    ASSERT_TRUE(store_->Begin().ok());
    put("deployment", dep);
    auto changes = store_->TakeChanges();
    auto c0 = Clock_::now();
    ASSERT_TRUE(cold.Apply(changes, moving_now + 86400).ok());
    auto c1 = Clock_::now();
    ASSERT_TRUE(store_->Commit().ok());
    std::printf("cold start + one upsert, now + 1 day: %.1f ms (full: %d, %lld sources rebuilt)\n",
                Ms(c0, c1), cold.last_stats().full ? 1 : 0,
                static_cast<long long>(cold.last_stats().sources_rebuilt));
  }
  double median = apply_us[apply_us.size() / 2];
  double p90 = apply_us[apply_us.size() * 9 / 10];
  std::printf("Apply (one deployment upsert): median %.1f us, p90 %.1f us, max %.1f us\n", median,
              p90, apply_us.back());
  RecordProperty("apply_median_us", static_cast<int>(median));
}

}  // namespace
}  // namespace portolan::derive::testing
