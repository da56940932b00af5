// Timing of the derive engine on the DORA pack at the scale (skipped unless
// PORTOLAN_DERIVE_BENCH is set; its value scales the entity counts, 1 = full scale):
//
//   1k services, 100 teams, 1M deployments, 200k PRs, 50k incidents
//   - RecomputeAll in one transaction, as `portolan recompute` runs it (target: < 2 s), and
//     the heap its undo log takes
//   - the same aggregates as SQL GROUP BY queries in an in-memory SQLite database, for
//     comparison (load and query times apart; every value checked against the engine's)
//   - Apply() for one deployment upsert (target: median < 50 µs)
//
//   PORTOLAN_DERIVE_BENCH=1 ./build-rel/bin/derive_test --gtest_filter='DeriveBench.*'
//
// With PORTOLAN_DERIVE_BENCH_WORKSPACE=DIR (a new directory) the data set is written to a
// workspace there instead, derived values not computed, and the test stops: time
// `portolan -w DIR --now 2024-03-06T12:00:00Z recompute` on it.
//
// The same pattern times the engine anywhere: load entities, then
//   t0; engine.RecomputeAll(now); t1                       (full recompute)
//   store.Begin(); store.Upsert(...); auto c = store.TakeChanges();
//   t0; engine.Apply(c, now); t1; store.Commit();           (one change)
#include <gtest/gtest.h>
#include <malloc.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "tests/derive/derive_fixture.h"

namespace portolan::derive::testing {
namespace {

using Clock_ = std::chrono::steady_clock;

double Ms(Clock_::time_point a, Clock_::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// The heap in use (glibc's count of allocated bytes, every arena) and the resident set with
// its peak, in MB. The heap figure is the one to compare: glibc keeps freed memory resident.
struct Memory {
  double heap_mb = 0;
  double rss_mb = 0;
  double peak_mb = 0;
};

Memory ReadMemory() {
  Memory m;
  struct mallinfo2 mi = mallinfo2();
  m.heap_mb = static_cast<double>(mi.uordblks + mi.hblkhd) / (1024 * 1024);
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    auto kb = [&](const char* field) {
      return line.rfind(field, 0) == 0 ? std::atof(line.c_str() + std::strlen(field)) / 1024 : -1;
    };
    if (double v = kb("VmRSS:"); v >= 0) m.rss_mb = v;
    if (double v = kb("VmHWM:"); v >= 0) m.peak_mb = v;
  }
  return m;
}

// The DORA pack's aggregates in SQLite: the entities of the store as rows (times as epoch
// seconds, as a DBA would store them), the indexes that serve the GROUP BY queries, and the
// queries themselves. Values land in `values` keyed "blueprint/identifier/property".
class SqlBaseline {
 public:
  SqlBaseline() { sqlite3_open(":memory:", &db_); }
  ~SqlBaseline() { sqlite3_close(db_); }

  void Exec(const char* sql) {
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db_, sql, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "") << sql;
  }

  // Copies deployments, pull requests, incidents and services out of the store.
  void Load(const store::Store& store) {
    Exec(
        "CREATE TABLE service (id TEXT PRIMARY KEY, team TEXT);"
        "CREATE TABLE deployment (id TEXT PRIMARY KEY, service TEXT, pull_request TEXT, "
        "  status TEXT, environment TEXT, created_at REAL);"
        "CREATE TABLE pull_request (id TEXT PRIMARY KEY, service TEXT, cycle_time_hours REAL, "
        "  merged_at REAL);"
        "CREATE TABLE incident (id TEXT PRIMARY KEY, service TEXT, recovery_time REAL);"
        "BEGIN;");
    auto text = [](sqlite3_stmt* st, int i, const json::Value& v) {
      if (v.is_string()) {
        sqlite3_bind_text(st, i, v.as_string().data(), static_cast<int>(v.as_string().size()),
                          SQLITE_STATIC);
      } else {
        sqlite3_bind_null(st, i);
      }
    };
    auto number = [](sqlite3_stmt* st, int i, const json::Value& v) {
      if (v.is_number()) {
        sqlite3_bind_double(st, i, v.as_number());
      } else {
        sqlite3_bind_null(st, i);
      }
    };
    auto time = [](sqlite3_stmt* st, int i, const json::Value& v) {
      std::optional<double> t = v.is_string() ? ParseIsoTime(v.as_string()) : std::nullopt;
      if (t) {
        sqlite3_bind_double(st, i, *t);
      } else {
        sqlite3_bind_null(st, i);
      }
    };
    auto insert = [&](const char* bp, const char* sql, auto bind) {
      sqlite3_stmt* st = nullptr;
      ASSERT_EQ(sqlite3_prepare_v2(db_, sql, -1, &st, nullptr), SQLITE_OK) << sql;
      store.ForEach(bp, [&](const store::Entity& e) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, e.identifier.data(), static_cast<int>(e.identifier.size()),
                          SQLITE_STATIC);
        bind(st, e);
        EXPECT_EQ(sqlite3_step(st), SQLITE_DONE) << sqlite3_errmsg(db_);
      });
      sqlite3_finalize(st);
    };
    insert("service", "INSERT INTO service VALUES (?, ?)",
           [&](sqlite3_stmt* st, const store::Entity& e) {
             text(st, 2, e.relations.Get("team"));
           });
    insert("deployment", "INSERT INTO deployment VALUES (?, ?, ?, ?, ?, ?)",
           [&](sqlite3_stmt* st, const store::Entity& e) {
             text(st, 2, e.relations.Get("service"));
             text(st, 3, e.relations.Get("pullRequest"));
             text(st, 4, e.properties.Get("deploymentStatus"));
             text(st, 5, e.properties.Get("environment"));
             time(st, 6, e.properties.Get("createdAt"));
           });
    insert("githubPullRequest", "INSERT INTO pull_request VALUES (?, ?, ?, ?)",
           [&](sqlite3_stmt* st, const store::Entity& e) {
             text(st, 2, e.relations.Get("service"));
             number(st, 3, e.properties.Get("cycle_time_hours"));
             time(st, 4, e.properties.Get("mergedAt"));
           });
    insert("pagerdutyIncident", "INSERT INTO incident VALUES (?, ?, ?)",
           [&](sqlite3_stmt* st, const store::Entity& e) {
             text(st, 2, e.relations.Get("service"));
             number(st, 3, e.properties.Get("recoveryTime"));
           });
    Exec("COMMIT;");
  }

  // Covering indexes: an equality seek on the query's filter, rows in group order.
  void Index() {
    Exec(
        "CREATE INDEX deployment_ok ON deployment (status, environment, service, created_at);"
        "CREATE INDEX pull_request_merged ON pull_request (service, merged_at, "
        "  cycle_time_hours);"
        "CREATE INDEX incident_service ON incident (service, recovery_time);"
        "CREATE INDEX service_team ON service (team, id);"
        "ANALYZE;");
  }

  // The aggregates of the pack: per service and per team, the successful production
  // deployments (count, per week over their span: periods = max(1, ceil(span / week))), the
  // average cycle time of the pull requests merged in the last 30 days (`lastMonth`: [now -
  // 30 d, now]), the incidents (count, average recovery time), and services per team.
  void Query(double now) {
    // ceil() of a non-negative x without the optional math functions.
    const std::string periods =
        "MAX(1, CAST(span / 604800.0 AS INTEGER) + (span / 604800.0 > "
        "CAST(span / 604800.0 AS INTEGER)))";
    const std::string window =
        "merged_at BETWEEN " + json::FormatNumber(now - 30 * 86400.0) + " AND " +
        json::FormatNumber(now);
    Run("service", "SELECT service, n, n * 1.0 / " + periods +
                       " FROM (SELECT service, COUNT(*) AS n, "
                       "ROUND((MAX(created_at) - MIN(created_at)) * 1000) / 1000 AS span "
                       "FROM deployment WHERE status = 'Success' AND environment = 'Production' "
                       "GROUP BY service)",
        {"total_deployments", "deployment_frequency"});
    Run("_team", "SELECT team, n, n * 1.0 / " + periods +
                     " FROM (SELECT s.team, COUNT(*) AS n, "
                     "ROUND((MAX(d.created_at) - MIN(d.created_at)) * 1000) / 1000 AS span "
                     "FROM deployment d JOIN service s ON s.id = d.service "
                     "WHERE d.status = 'Success' AND d.environment = 'Production' "
                     "GROUP BY s.team)",
        {"total_deployments", "deployment_frequency"});
    Run("service", "SELECT service, AVG(cycle_time_hours) FROM pull_request WHERE " + window +
                       " GROUP BY service",
        {"lead_time_for_changes"});
    Run("_team", "SELECT s.team, AVG(p.cycle_time_hours) FROM pull_request p "
                 "JOIN service s ON s.id = p.service WHERE p." + window + " GROUP BY s.team",
        {"lead_time_for_changes"});
    Run("service", "SELECT service, COUNT(*), AVG(recovery_time) FROM incident GROUP BY service",
        {"total_incidents", "mean_time_to_recovery"});
    Run("_team", "SELECT s.team, COUNT(*), AVG(i.recovery_time) FROM incident i "
                 "JOIN service s ON s.id = i.service GROUP BY s.team",
        {"total_incidents", "mean_time_to_recovery"});
    Run("_team", "SELECT team, COUNT(*) FROM service GROUP BY team", {"services_count"});
  }

  // The mirror deployment.lead_time_for_changes_hours as a join, every row stepped through.
  int64_t MirrorJoin() {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db_,
                       "SELECT d.id, p.cycle_time_hours FROM deployment d "
                       "LEFT JOIN pull_request p ON p.id = d.pull_request",
                       -1, &st, nullptr);
    int64_t rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) ++rows;
    sqlite3_finalize(st);
    return rows;
  }

  const std::map<std::string, double>& values() const { return values_; }

 private:
  void Run(const std::string& bp, const std::string& sql, std::vector<std::string> columns) {
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_) << "\n" << sql;
    while (sqlite3_step(st) == SQLITE_ROW) {
      if (sqlite3_column_type(st, 0) == SQLITE_NULL) continue;
      std::string id = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
      for (size_t c = 0; c < columns.size(); ++c) {
        int col = static_cast<int>(c) + 1;
        if (sqlite3_column_type(st, col) == SQLITE_NULL) continue;
        values_[bp + "/" + id + "/" + columns[c]] = sqlite3_column_double(st, col);
      }
    }
    sqlite3_finalize(st);
  }

  sqlite3* db_ = nullptr;
  std::map<std::string, double> values_;
};

class DeriveBench : public DeriveTest {
 protected:
  void SetUp() override {
    const char* env = std::getenv("PORTOLAN_DERIVE_BENCH");
    if (!env) GTEST_SKIP() << "set PORTOLAN_DERIVE_BENCH=<scale> to run";
    scale_ = std::atof(env);
    if (scale_ <= 0) scale_ = 1;
    DeriveTest::SetUp();
    if (const char* ws = std::getenv("PORTOLAN_DERIVE_BENCH_WORKSPACE")) {
      workspace_ = ws;
      ASSERT_FALSE(std::filesystem::exists(store::DatabasePath(workspace_)))
          << workspace_ << " already holds a workspace";
      auto s = store::Store::Open(workspace_, &clock_);
      ASSERT_TRUE(s.ok()) << s.status().message();
      store_ = std::move(*s);
    }
  }
  double scale_ = 1;
  std::string workspace_;
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
  if (!workspace_.empty()) {
    std::printf("workspace written to %s (derived values not computed)\n", workspace_.c_str());
    return;
  }

  // The first recompute, as `portolan recompute` (or `apply` with changed definitions) runs
  // it: in a transaction, every value changing, each change recorded for rollback.
  Memory m0 = ReadMemory();
  ASSERT_TRUE(store_->Begin().ok());
  auto t0 = Clock_::now();
  ASSERT_TRUE(engine_->RecomputeAll(now_).ok());
  auto t1 = Clock_::now();
  Memory m1 = ReadMemory();
  auto c0 = Clock_::now();
  ASSERT_TRUE(store_->Commit().ok());
  auto c1 = Clock_::now();
  Memory m2 = ReadMemory();
  const double recompute_ms = Ms(t0, t1);
  std::printf("RecomputeAll, first run, in a transaction: %.0f ms (commit, in memory: %.0f ms)\n",
              recompute_ms, Ms(c0, c1));
  for (const auto& [step, secs] : engine_->last_stats().steps) {
    if (secs > 0.001) std::printf("  %-70s %8.1f ms\n", step.c_str(), secs * 1000);
  }
  std::printf(
      "heap in use: %.0f MB before, %.0f MB before commit, %.0f MB after: the undo log held "
      "%.0f MB (RSS %.0f MB, peak %.0f MB)\n",
      m0.heap_mb, m1.heap_mb, m2.heap_mb, m1.heap_mb - m2.heap_mb, m1.rss_mb, m1.peak_mb);
  RecordProperty("recompute_all_ms", static_cast<int>(recompute_ms));

  // Again, values unchanged (PORTOLAN_DERIVE_BENCH_REPEAT=n: n times, for profiling).
  const char* repeat = std::getenv("PORTOLAN_DERIVE_BENCH_REPEAT");
  for (int i = 0; i < std::max(1, repeat ? std::atoi(repeat) : 1); ++i) {
    ASSERT_TRUE(store_->Begin().ok());
    auto r0 = Clock_::now();
    ASSERT_TRUE(engine_->RecomputeAll(now_).ok());
    auto r1 = Clock_::now();
    ASSERT_TRUE(store_->Commit().ok());
    std::printf("RecomputeAll, again (values unchanged): %.0f ms\n", Ms(r0, r1));
  }

  // The same aggregates with SQL GROUP BY, on the same data.
  {
    SqlBaseline sql;
    auto s0 = Clock_::now();
    sql.Load(*store_);
    auto s1 = Clock_::now();
    sql.Index();
    auto s2 = Clock_::now();
    sql.Query(now_);
    auto s3 = Clock_::now();
    int64_t rows = sql.MirrorJoin();
    auto s4 = Clock_::now();
    // Every aggregate of every service and team against the engine's value.
    int64_t compared = 0, mismatched = 0;
    for (const char* bp : {"service", "_team"}) {
      for (const store::Entity* e : store_->List(bp)) {
        for (const char* key :
             {"total_deployments", "deployment_frequency", "lead_time_for_changes",
              "total_incidents", "mean_time_to_recovery", "services_count"}) {
          if (std::string_view(bp) == "service" && std::string_view(key) == "services_count") {
            continue;
          }
          json::Value engine = e->derived.Get(key);
          auto it = sql.values().find(std::string(bp) + "/" + e->identifier + "/" + key);
          // Counts of nothing are 0 in the engine and no row in SQL; averages null in both.
          double want = it != sql.values().end() ? it->second : 0;
          bool same = engine.is_null()
                          ? it == sql.values().end()
                          : engine.is_number() &&
                                std::abs(engine.as_number() - want) <=
                                    1e-9 * std::max(1.0, std::abs(want));
          ++compared;
          if (!same) {
            ++mismatched;
            if (mismatched <= 5) {
              ADD_FAILURE() << bp << "/" << e->identifier << "." << key << ": engine "
                            << json::Write(engine) << ", SQL "
                            << (it == sql.values().end() ? "no row" : std::to_string(want));
            }
          }
        }
      }
    }
    EXPECT_EQ(mismatched, 0);
    const double query_ms = Ms(s2, s3);
    const double load_ms = Ms(s0, s2);
    std::printf(
        "SQLite (in memory, one thread): load %.0f ms (rows %.0f ms, indexes %.0f ms), GROUP BY "
        "queries %.0f ms; mirror as a join: %.0f ms (%lld rows)\n",
        load_ms, Ms(s0, s1), Ms(s1, s2), query_ms, Ms(s3, s4), static_cast<long long>(rows));
    std::printf("  %lld aggregate values compared with the engine's, %lld differ\n",
                static_cast<long long>(compared), static_cast<long long>(mismatched));
    std::printf(
        "  engine RecomputeAll / SQL queries: %.2fx; / SQL queries + mirror join: %.2fx; "
        "/ SQL load + queries: %.2fx\n",
        recompute_ms / query_ms, recompute_ms / (query_ms + Ms(s3, s4)),
        recompute_ms / (load_ms + query_ms));
  }

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
