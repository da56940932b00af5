// Random sequences of upserts, deletes, relation moves, multi-entity transactions and clock
// moves; after every step the incrementally maintained values must equal a fresh full
// recompute (DESIGN §4: "A full recompute must give identical values").
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

#include "tests/derive/derive_fixture.h"

namespace portolan::derive::testing {
namespace {

const char* kBlueprints =
    R"json([
  {"identifier": "team", "title": "Team", "schema": {"properties": {"size": {"type": "number"}}},
   "relations": {"parent": {"target": "team", "many": false, "required": false}},
   "aggregationProperties": {
     "deploys_path": {"title": "t", "target": "deployment",
       "pathFilter": [{"fromBlueprint": "deployment", "path": ["service", "team"]}],
       "query": {"combinator": "and", "rules": [
         {"property": "status", "operator": "=", "value": "Success"}]},
       "calculationSpec": {"func": "count", "calculationBy": "entities"}},
     "lead_median": {"title": "t", "target": "deployment",
       "pathFilter": [{"fromBlueprint": "deployment", "path": ["service", "team"]}],
       "calculationSpec": {"func": "median", "calculationBy": "property", "property": "lead"}},
     "lead_min": {"title": "t", "target": "deployment",
       "pathFilter": [{"fromBlueprint": "deployment", "path": ["service", "team"]}],
       "calculationSpec": {"func": "min", "calculationBy": "property", "property": "lead"}},
     "lead_sum": {"title": "t", "target": "deployment",
       "pathFilter": [{"fromBlueprint": "deployment", "path": ["service", "team"]}],
       "calculationSpec": {"func": "sum", "calculationBy": "property", "property": "lead"}},
     "per_day": {"title": "t", "target": "deployment",
       "pathFilter": [{"fromBlueprint": "deployment", "path": ["service", "team"]}],
       "calculationSpec": {"func": "average", "calculationBy": "entities", "averageOf": "day"}},
     "all_deploys": {"title": "t", "target": "deployment",
       "calculationSpec": {"func": "count", "calculationBy": "entities"}},
     "recent_prs": {"title": "t", "target": "pr",
       "pathFilter": [{"fromBlueprint": "pr", "path": ["service", "team"]}],
       "query": {"combinator": "and", "rules": [
         {"property": "mergedAt", "operator": "between", "value": {"preset": "lastMonth"}}]},
       "calculationSpec": {"func": "count", "calculationBy": "entities"}},
     "subteams": {"title": "t", "target": "team",
       "calculationSpec": {"func": "count", "calculationBy": "entities"}},
     "slow": {"title": "t", "target": "deployment",
       "pathFilter": [{"fromBlueprint": "deployment", "path": ["service", "team"]}],
       "query": {"combinator": "and", "rules": [
         {"property": "is_slow", "operator": "=", "value": true}]},
       "calculationSpec": {"func": "count", "calculationBy": "entities"}}},
   "calculationProperties": {
     "slow_share": {"title": "t", "type": "number",
        "calculation": )json"
    "\"if (.properties.deploys_path // 0) == 0 then null else "
    "((.properties.slow // 0) / .properties.deploys_path * 100 | floor) end\""
    R"json(}}},
  {"identifier": "service", "title": "Service",
   "schema": {"properties": {"lang": {"type": "string"}}},
   "relations": {"team": {"target": "team", "many": false, "required": false},
                 "deps": {"target": "service", "many": true, "required": false}},
   "mirrorProperties": {"team_size": {"title": "t", "path": "team.size"},
                        "parent_team": {"title": "t", "path": "team.parent.$identifier"}},
   "aggregationProperties": {
     "deploys": {"title": "s", "target": "deployment",
       "calculationSpec": {"func": "count", "calculationBy": "entities"}},
     "weekly": {"title": "s", "target": "deployment",
       "calculationSpec": {"func": "average", "calculationBy": "entities", "averageOf": "week",
                           "measureTimeBy": "at"}},
     "lead_avg": {"title": "s", "target": "deployment",
       "calculationSpec": {"func": "average", "calculationBy": "property", "property": "lead",
                           "averageOf": "total"}},
     "pr_hours_week": {"title": "s", "target": "pr",
       "query": {"combinator": "and", "rules": [
         {"property": "mergedAt", "operator": "between", "value": {"preset": "lastWeek"}}]},
       "calculationSpec": {"func": "average", "calculationBy": "property", "property": "hours",
                           "averageOf": "total"}},
     "related": {"title": "s", "target": "service",
       "calculationSpec": {"func": "count", "calculationBy": "entities"}},
     "incident_max": {"title": "s", "target": "incident",
       "pathFilter": [{"fromBlueprint": "incident", "path": ["service"]}],
       "calculationSpec": {"func": "max", "calculationBy": "property", "property": "minutes"}}},
   "calculationProperties": {
     "tier": {"title": "t", "type": "string",
        "calculation": )json"
    "\"if (.properties.deploys // 0) >= 3 then \\\"busy\\\" elif .properties.team_size == "
    "null then \\\"orphan\\\" else \\\"quiet\\\" end\""
    R"json(},
     "stamp": {"title": "t", "type": "number", "calculation": "now - (now | floor)"}}},
  {"identifier": "pr", "title": "PR",
   "schema": {"properties": {"hours": {"type": "number"},
                             "mergedAt": {"type": "string", "format": "date-time"}}},
   "relations": {"service": {"target": "service", "many": false, "required": false}}},
  {"identifier": "deployment", "title": "Deployment",
   "schema": {"properties": {"status": {"type": "string"}, "lead": {"type": "number"},
                             "at": {"type": "string", "format": "date-time"}}},
   "relations": {"service": {"target": "service", "many": false, "required": false},
                 "pr": {"target": "pr", "many": false, "required": false}},
   "mirrorProperties": {"pr_hours": {"title": "d", "path": "pr.hours"}},
   "calculationProperties": {"is_slow": {"title": "d", "type": "boolean",
       "calculation": "(.properties.pr_hours // 0) > 20"}}},
  {"identifier": "incident", "title": "Incident",
   "schema": {"properties": {"minutes": {"type": "number"}}},
   "relations": {"service": {"target": "service", "many": false, "required": false}}},
  {"identifier": "cluster", "title": "Cluster", "schema": {"properties": {}},
   "relations": {"deployments": {"target": "deployment", "many": true, "required": false}},
   "aggregationProperties": {
     "n": {"title": "c", "target": "deployment", "pathFilter": [{"path": ["deployments"]}],
           "calculationSpec": {"func": "count", "calculationBy": "entities"}},
     "lead_max": {"title": "c", "target": "deployment", "pathFilter": [{"path": ["deployments"]}],
           "calculationSpec": {"func": "max", "calculationBy": "property", "property": "lead"}},
     "per_team": {"title": "c", "target": "team",
           "pathFilter": [{"path": ["deployments", "service", "team"]}],
           "calculationSpec": {"func": "count", "calculationBy": "entities"}}}}
])json";

class IncrementalTest : public DeriveTest {
 protected:
  // `steps` transactions of random writes at random clock times, each applied and committed.
  void RandomHistory(int steps = 150) {
    for (int step = 0; step < steps; ++step) {
      clock_.Set(now_ - static_cast<double>(rng_() % 100000));
      ASSERT_TRUE(store_->Begin().ok());
      RandomWrite();
      ASSERT_NO_FATAL_FAILURE(ApplyAndCommit());
    }
  }

  std::string Pick(const char* prefix, int n) {
    return std::string(prefix) + std::to_string(rng_() % static_cast<uint64_t>(n));
  }
  bool Chance(int percent) { return static_cast<int>(rng_() % 100) < percent; }
  std::string Time(int days_spread) {
    double t =
        now_ - static_cast<double>(rng_() % static_cast<uint64_t>(days_spread * 24)) * 3600.0;
    return FormatIsoTime(t);
  }
  bool Exists(const std::string& bp, const std::string& id) {
    return store_->Find(bp, id) != nullptr;
  }
  // A relation value to an existing entity of the pool, or null.
  std::string Ref(const char* bp, const char* prefix, int n) {
    std::string id = Pick(prefix, n);
    return Exists(bp, id) ? "\"" + id + "\"" : "null";
  }

  // One random write inside the open transaction; returns a description.
  std::string RandomWrite() {
    store::UpsertOptions o;
    o.create_missing_related = false;
    int kind = static_cast<int>(rng_() % 100);
    std::string bp, body;
    if (kind < 35) {
      bp = "deployment";
      body = R"({"identifier": ")" + Pick("d", 30) + R"(", "properties": {"status": ")" +
             (Chance(70) ? "Success" : "Failed") + "\"" +
             (Chance(80) ? ", \"lead\": " + std::to_string(rng_() % 50) : "") +
             (Chance(85) ? ", \"at\": \"" + Time(40) + "\"" : "") +
             R"(}, "relations": {"service": )" + Ref("service", "s", 8) + R"(, "pr": )" +
             Ref("pr", "p", 12) + "}}";
    } else if (kind < 50) {
      bp = "pr";
      body = R"({"identifier": ")" + Pick("p", 12) + R"(", "properties": {"hours": )" +
             std::to_string(rng_() % 40) + R"(, "mergedAt": ")" + Time(45) +
             R"("}, "relations": {"service": )" + Ref("service", "s", 8) + "}}";
    } else if (kind < 65) {
      bp = "service";
      std::string deps = "[";
      for (int i = 0; i < 3; ++i) {
        std::string d = Pick("s", 8);
        if (Chance(50) && Exists("service", d))
          deps += (deps.size() > 1 ? ", \"" : "\"") + d + "\"";
      }
      deps += "]";
      body = R"({"identifier": ")" + Pick("s", 8) + R"(", "relations": {"team": )" +
             Ref("team", "t", 4) + R"(, "deps": )" + deps + "}}";
    } else if (kind < 73) {
      bp = "team";
      body = R"({"identifier": ")" + Pick("t", 4) + R"(", "properties": {"size": )" +
             std::to_string(rng_() % 10) + R"(}, "relations": {"parent": )" + Ref("team", "t", 4) +
             "}}";
    } else if (kind < 80) {
      bp = "incident";
      body = R"({"identifier": ")" + Pick("i", 10) + R"(", "properties": {"minutes": )" +
             std::to_string(rng_() % 500) + R"(}, "relations": {"service": )" +
             Ref("service", "s", 8) + "}}";
    } else if (kind < 87) {
      bp = "cluster";
      std::string ds = "[";
      for (int i = 0; i < 4; ++i) {
        std::string d = Pick("d", 30);
        if (Exists("deployment", d)) ds += (ds.size() > 1 ? ", \"" : "\"") + d + "\"";
      }
      ds += "]";
      body =
          R"({"identifier": ")" + Pick("c", 3) + R"(", "relations": {"deployments": )" + ds + "}}";
    } else {
      static const std::pair<const char*, std::pair<const char*, int>> kPools[] = {
          {"deployment", {"d", 30}}, {"pr", {"p", 12}},       {"service", {"s", 8}},
          {"team", {"t", 4}},        {"incident", {"i", 10}}, {"cluster", {"c", 3}}};
      const auto& pool = kPools[rng_() % std::size(kPools)];
      std::string id = Pick(pool.second.first, pool.second.second);
      if (!Exists(pool.first, id)) return "skip";
      auto r = store_->Delete(pool.first, id, false);
      EXPECT_TRUE(r.ok()) << r.status().message();
      return std::string("delete ") + pool.first + "/" + id;
    }
    auto r = store_->Upsert(bp, J(body), o);
    EXPECT_TRUE(r.ok()) << bp << " " << body << ": " << r.status().message();
    return "upsert " + bp + " " + body;
  }

  std::mt19937_64 rng_{12345};
};

class RandomIncrementalTest : public IncrementalTest,
                              public ::testing::WithParamInterface<uint64_t> {};

TEST_P(RandomIncrementalTest, RandomSequencesMatchFullRecompute) {
  rng_.seed(GetParam());
  Status s = LoadBlueprints(kBlueprints);
  ASSERT_TRUE(s.ok()) << s.message();
  std::vector<std::string> log;
  for (int step = 0; step < 400; ++step) {
    int what = static_cast<int>(rng_() % 100);
    if (what < 4) {
      // A new process: the engine starts cold from the stored values.
      engine_ = std::make_unique<Engine>(store_.get());
      ASSERT_TRUE(engine_->Bind().ok());
      log.push_back("restart");
      if (Chance(50)) {
        ASSERT_TRUE(engine_->EnsureFresh(now_).ok());
      }
    } else if (what < 10) {
      // The clock moves: mostly forward by up to 10 days, sometimes back.
      double delta = static_cast<double>(rng_() % (10 * 24)) * 3600.0 + 0.25;
      now_ += Chance(80) ? delta : -delta;
      log.push_back("now = " + FormatIsoTime(now_));
      if (Chance(50)) {
        ASSERT_TRUE(engine_->EnsureFresh(now_).ok());
      } else {
        ASSERT_TRUE(store_->Begin().ok());
        ASSERT_TRUE(engine_->Apply(store_->TakeChanges(), now_).ok());
        ASSERT_TRUE(store_->Commit().ok());
      }
    } else {
      clock_.Set(now_ - static_cast<double>(rng_() % 100000));
      ASSERT_TRUE(store_->Begin().ok());
      int writes = 1 + static_cast<int>(rng_() % (Chance(20) ? 4 : 1));
      std::string entry;
      for (int w = 0; w < writes; ++w) entry += RandomWrite() + "; ";
      ASSERT_TRUE(engine_->Apply(store_->TakeChanges(), now_).ok());
      if (Chance(8)) {
        store_->Rollback();  // the engine must notice on its next call
        entry += "(rolled back)";
      } else {
        ASSERT_TRUE(store_->Commit().ok());
      }
      log.push_back(entry);
    }
    ExpectConsistent("step " + std::to_string(step) + ": " + log.back());
    if (HasFailure()) {
      for (size_t i = log.size() > 8 ? log.size() - 8 : 0; i < log.size(); ++i) {
        ADD_FAILURE() << "log[" << i << "] " << log[i];
      }
      return;
    }
  }
  // The run must have exercised the incremental path, not only full recomputes.
  EXPECT_FALSE(engine_->last_stats().full);
}

INSTANTIATE_TEST_SUITE_P(Seeds, RandomIncrementalTest,
                         ::testing::Values(12345u, 7u, 99u, 2024u, 31337u, 4242u));

// Full passes on worker threads (with the writer alongside) give the single-threaded values.
TEST_F(IncrementalTest, ThreadedFullRecomputeMatches) {
  ASSERT_TRUE(LoadBlueprints(kBlueprints).ok());
  ASSERT_NO_FATAL_FAILURE(RandomHistory());
  auto single = Snapshot();
  for (int threads : {2, 3, 5}) {
    Options o;
    o.threads = threads;
    o.parallel_threshold = 1;
    Engine threaded(store_.get(), o);
    ASSERT_TRUE(threaded.RecomputeAll(now_).ok());
    EXPECT_GT(threaded.last_stats().steps.size(), 0u);
    auto got = Snapshot();
    for (const auto& [k, v] : single) {
      EXPECT_EQ(json::Write(got[k]), json::Write(v)) << threads << " threads: " << k;
    }
  }
}

// A full recompute in a transaction keeps only the previous derived values for rollback (not
// copies of the entities); writes around it in the same transaction, rolled back with it, must
// still leave every entity as it was.
TEST_F(IncrementalTest, RolledBackRecomputeRestoresEveryEntity) {
  ASSERT_TRUE(LoadBlueprints(kBlueprints).ok());
  ASSERT_NO_FATAL_FAILURE(RandomHistory());
  auto entities = [&] {
    std::map<std::string, std::string> out;
    for (const auto& [bp, def] : store_->catalog().blueprints()) {
      for (const store::Entity* e : store_->List(bp)) {
        out[bp + "/" + e->identifier] = json::Write(e->ToJson()) + json::Write(e->derived);
      }
    }
    return out;
  };
  auto before = entities();
  Options o;
  o.threads = 2;
  o.parallel_threshold = 1;  // the writer alongside the workers
  Engine threaded(store_.get(), o);
  ASSERT_TRUE(threaded.Bind().ok());
  ASSERT_TRUE(store_->Begin().ok());
  for (int i = 0; i < 5; ++i) RandomWrite();
  ASSERT_TRUE(threaded.RecomputeAll(now_ + 20 * 86400.0).ok());
  for (int i = 0; i < 5; ++i) RandomWrite();
  ASSERT_TRUE(threaded.Apply(store_->TakeChanges(), now_ + 20 * 86400.0).ok());
  ASSERT_NE(entities(), before);
  store_->Rollback();
  EXPECT_EQ(entities(), before);
  ExpectConsistent();
}

TEST_F(IncrementalTest, RollbackIsDetected) {
  ASSERT_TRUE(LoadBlueprints(kBlueprints).ok());
  Put("team", R"({"identifier": "t0"})");
  Put("service", R"({"identifier": "s0", "relations": {"team": "t0"}})");
  Put("deployment", R"({"identifier": "d0", "properties": {"status": "Success"},
                        "relations": {"service": "s0"}})");
  EXPECT_EQ(D("team", "t0", "deploys_path"), json::Value(1));
  // Apply inside a transaction that is then rolled back: the store's values revert, and the
  // engine notices (its bookkeeping meta reverted too) and rebuilds on the next call.
  ASSERT_TRUE(store_->Begin().ok());
  ASSERT_TRUE(store_
                  ->Upsert("deployment", J(R"({"identifier": "d1",
      "properties": {"status": "Success"}, "relations": {"service": "s0"}})"),
                           {})
                  .ok());
  ASSERT_TRUE(engine_->Apply(store_->TakeChanges(), now_).ok());
  EXPECT_EQ(D("team", "t0", "deploys_path"), json::Value(2));
  store_->Rollback();
  EXPECT_EQ(D("team", "t0", "deploys_path"), json::Value(1));
  Put("deployment", R"({"identifier": "d2", "properties": {"status": "Success"},
                        "relations": {"service": "s0"}})");
  EXPECT_EQ(D("team", "t0", "deploys_path"), json::Value(2));
  // A cold start from the stored values: only what d2 reaches was rebuilt.
  EXPECT_FALSE(engine_->last_stats().full);
  EXPECT_GT(engine_->last_stats().sources_rebuilt, 0);
  ExpectConsistent();
}

}  // namespace
}  // namespace portolan::derive::testing
