// A store + derive engine for tests: blueprints from JSON text or files, writes in one
// transaction each with the engine applied to the change set before commit (as the CLI does),
// and a consistency check that a fresh full recompute gives the values the incremental path
// produced.
#ifndef PORTOLAN_TESTS_DERIVE_DERIVE_FIXTURE_H_
#define PORTOLAN_TESTS_DERIVE_DERIVE_FIXTURE_H_

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/json.h"
#include "engine/base/time.h"
#include "engine/derive/derive.h"
#include "engine/model/blueprint.h"
#include "engine/store/store.h"

namespace portolan::json {
// Values print as JSON in test failures.
inline void PrintTo(const Value& v, std::ostream* os) { *os << Write(v); }
}  // namespace portolan::json

namespace portolan::derive::testing {

inline json::Value J(std::string_view text) {
  auto v = json::Parse(text);
  EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.status().message()) << "\n" << text;
  return v.ok() ? *v : json::Value();
}

inline double T(const char* iso) {
  auto t = ParseIsoTime(iso);
  EXPECT_TRUE(t.has_value()) << iso;
  return t.value_or(0);
}

class DeriveTest : public ::testing::Test {
 protected:
  // 2024-03-06T12:00:00Z (a Wednesday) unless a test moves it.
  static constexpr double kNow = 1709726400;

  void SetUp() override {
    auto s = store::Store::Open("", &clock_);
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
  }

  // Applies blueprint documents (a JSON array) and binds a new engine; returns Bind's status.
  Status LoadBlueprints(std::string_view docs_json, Options options = {}) {
    json::Value docs = J(docs_json);
    std::vector<json::Value> list;
    for (const auto& d : docs.as_array()) list.push_back(d);
    return LoadDocs(list, options);
  }

  Status LoadDocs(const std::vector<json::Value>& docs, Options options = {}) {
    std::vector<model::Blueprint> bps;
    for (const auto& d : docs) {
      auto bp = model::ParseBlueprint(d, "test.json");
      if (!bp.ok()) return bp.status();
      bps.push_back(std::move(*bp));
    }
    PORTOLAN_RETURN_IF_ERROR(store_->ApplyBlueprints(std::move(bps)));
    engine_ = std::make_unique<Engine>(store_.get(), options);
    PORTOLAN_RETURN_IF_ERROR(engine_->Bind());
    return engine_->RecomputeAll(now_);
  }

  // The DORA pack's blueprints (blueprints/dora), loaded from the source tree.
  Status LoadDoraPack(Options options = {}) {
    std::vector<json::Value> docs;
    for (const char* f :
         {"githubPullRequest", "pagerdutyIncident", "service", "_team", "deployment"}) {
      auto d =
          json::ParseFile(std::string(PORTOLAN_SOURCE_DIR) + "/blueprints/dora/" + f + ".json");
      if (!d.ok()) return d.status();
      docs.push_back(std::move(*d));
    }
    return LoadDocs(docs, options);
  }

  // Upserts (override) in one transaction; `at` sets the clock first (the entity's
  // $createdAt/$updatedAt). The engine applies the change set before commit.
  void Put(const std::string& bp, std::string_view body, double at = -1,
           bool create_missing = false) {
    if (at >= 0) clock_.Set(at);
    ASSERT_TRUE(store_->Begin().ok());
    store::UpsertOptions o;
    o.create_missing_related = create_missing;
    auto r = store_->Upsert(bp, J(body), o);
    if (!r.ok()) {
      store_->Rollback();
      FAIL() << "upsert " << bp << " " << body << ": " << r.status().message();
    }
    ApplyAndCommit();
  }

  void Delete(const std::string& bp, const std::string& id, bool dependents = false) {
    ASSERT_TRUE(store_->Begin().ok());
    auto r = store_->Delete(bp, id, dependents);
    if (!r.ok()) {
      store_->Rollback();
      FAIL() << "delete " << bp << "/" << id << ": " << r.status().message();
    }
    ApplyAndCommit();
  }

  void ApplyAndCommit() {
    std::vector<store::Change> changes = store_->TakeChanges();
    Status s = engine_->Apply(changes, now_);
    if (!s.ok()) {
      store_->Rollback();
      FAIL() << "apply: " << s.message();
    }
    ASSERT_TRUE(store_->Commit().ok());
  }

  // The derived value of an entity (null when absent).
  json::Value D(const std::string& bp, const std::string& id, const std::string& key) {
    const store::Entity* e = store_->Find(bp, id);
    EXPECT_NE(e, nullptr) << bp << "/" << id;
    return e ? e->derived.Get(key) : json::Value();
  }
  double N(const std::string& bp, const std::string& id, const std::string& key) {
    json::Value v = D(bp, id, key);
    EXPECT_TRUE(v.is_number()) << bp << "/" << id << "." << key << " = " << json::Write(v);
    return v.is_number() ? v.as_number() : -1;
  }

  // Every derived value of every entity, for comparisons.
  std::map<std::string, json::Value> Snapshot() {
    std::map<std::string, json::Value> out;
    for (const auto& [bp, def] : store_->catalog().blueprints()) {
      for (const store::Entity* e : store_->List(bp)) out[bp + "/" + e->identifier] = e->derived;
    }
    return out;
  }

  // A fresh engine's full recompute must not change any value the incremental path produced.
  // The live engine keeps its incremental state (the store's bookkeeping meta is restored).
  void ExpectConsistent(const std::string& context = "") {
    auto before = Snapshot();
    auto epoch = store_->GetMeta("derived_epoch");
    auto now = store_->GetMeta("derived_now");
    Engine fresh(store_.get(), options_for_check_);
    ASSERT_TRUE(fresh.Bind().ok());
    ASSERT_TRUE(fresh.RecomputeAll(now_).ok());
    auto after = Snapshot();
    for (const auto& [k, v] : after) {
      auto it = before.find(k);
      ASSERT_TRUE(it != before.end()) << context << " " << k;
      EXPECT_EQ(json::Write(it->second), json::Write(v)) << context << " entity " << k;
    }
    if (epoch) store_->SetMeta("derived_epoch", *epoch);
    if (now) store_->SetMeta("derived_now", *now);
  }

  Clock clock_{kNow};
  double now_ = kNow;
  Options options_for_check_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Engine> engine_;
};

}  // namespace portolan::derive::testing

#endif  // PORTOLAN_TESTS_DERIVE_DERIVE_FIXTURE_H_
