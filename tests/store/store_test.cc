#include "engine/store/store.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace portolan::store {
namespace {

const char* kBlueprints = R"([
  {"identifier": "_team_like", "title": "Group", "schema": {"properties": {}}},
  {"identifier": "service", "title": "Service",
   "schema": {"properties": {
       "lang": {"type": "string", "enum": ["go", "cpp"]},
       "tier": {"type": "number", "minimum": 0, "default": 3},
       "tags": {"type": "array", "items": {"type": "string"}}},
     "required": ["lang"]},
   "relations": {"group": {"target": "_team_like", "many": false, "required": false}}},
  {"identifier": "deployment", "title": "Deployment",
   "schema": {"properties": {"env": {"type": "string"}}},
   "relations": {
     "service": {"target": "service", "many": false, "required": true},
     "libs": {"target": "service", "many": true, "required": false}}}
])";

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(""); }

  void Reopen(const std::string& dir) {
    store_.reset();
    auto s = Store::Open(dir, &clock_);
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
    if (store_->catalog().Find("service")) return;
    auto docs = json::Parse(kBlueprints);
    ASSERT_TRUE(docs.ok());
    std::vector<model::Blueprint> bps;
    for (const auto& d : docs->as_array()) {
      auto bp = model::ParseBlueprint(d, "test.json");
      ASSERT_TRUE(bp.ok()) << bp.status().message();
      bps.push_back(std::move(*bp));
    }
    ASSERT_TRUE(store_->ApplyBlueprints(std::move(bps)).ok());
  }

  Result<WriteOutcome> Upsert(const std::string& bp, const std::string& body,
                              UpsertOptions o = {}) {
    auto v = json::Parse(body);
    EXPECT_TRUE(v.ok()) << body;
    EXPECT_TRUE(store_->Begin().ok());
    auto r = store_->Upsert(bp, *v, o);
    if (r.ok()) {
      EXPECT_TRUE(store_->Commit().ok());
    } else {
      store_->Rollback();
    }
    return r;
  }

  json::Value Props(const std::string& bp, const std::string& id) {
    const Entity* e = store_->Find(bp, id);
    return e ? e->properties : json::Value();
  }

  Clock clock_{1700000000.0};
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, CreateAppliesDefaultsAndTimestamps) {
  auto r = Upsert("service", R"({"identifier": "svc-a", "title": "A", "properties": {"lang": "go"}})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->created);
  const Entity* e = store_->Find("service", "svc-a");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(json::Write(e->properties), R"({"lang":"go","tier":3})");
  EXPECT_EQ(e->created_at, 1700000000.0);
  json::Value j = e->ToJson();
  EXPECT_EQ(j.Get("createdAt").as_string(), "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(j.Get("blueprint").as_string(), "service");
}

TEST_F(StoreTest, CreateWithoutUpsertOnExistingIsIdentifierTaken) {
  ASSERT_TRUE(Upsert("service", R"({"identifier": "a", "properties": {"lang": "go"}})").ok());
  UpsertOptions create_only;
  create_only.upsert = false;
  auto r = Upsert("service", R"({"identifier": "a", "properties": {"lang": "go"}})", create_only);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().port_error(), "identifier_taken");
}

// Port's table (§5.2): upsert alone replaces the entity; upsert+merge replaces per field.
TEST_F(StoreTest, UpsertOverridesWholeEntity) {
  ASSERT_TRUE(Upsert("service", R"({"identifier": "a", "title": "A",
      "properties": {"lang": "go", "tier": 1, "tags": ["x"]}})").ok());
  clock_.Set(1700000100.0);
  ASSERT_TRUE(Upsert("service", R"({"identifier": "a", "properties": {"lang": "cpp"}})").ok());
  const Entity* e = store_->Find("service", "a");
  EXPECT_TRUE(e->title.is_null());                                    // not provided: gone
  EXPECT_EQ(json::Write(e->properties), R"({"lang":"cpp","tier":3})");  // default re-applied
  EXPECT_EQ(e->created_at, 1700000000.0);                             // kept
  EXPECT_EQ(e->updated_at, 1700000100.0);
}

TEST_F(StoreTest, UpsertMergeReplacesPerKeyAndNullClears) {
  ASSERT_TRUE(Upsert("service", R"({"identifier": "a", "title": "A",
      "properties": {"lang": "go", "tier": 1, "tags": ["x", "y"]}})").ok());
  UpsertOptions merge;
  merge.merge = true;
  ASSERT_TRUE(Upsert("service", R"({"identifier": "a",
      "properties": {"tags": ["z"], "tier": null}})", merge).ok());
  const Entity* e = store_->Find("service", "a");
  EXPECT_EQ(e->title.as_string(), "A");
  // Arrays are replaced, not appended; null clears the key.
  EXPECT_EQ(json::Write(e->properties), R"({"lang":"go","tags":["z"]})");
}

TEST_F(StoreTest, MergeReplacesWholeRelationValue) {
  ASSERT_TRUE(Upsert("service", R"({"identifier": "s1", "properties": {"lang": "go"}})").ok());
  ASSERT_TRUE(Upsert("service", R"({"identifier": "s2", "properties": {"lang": "go"}})").ok());
  ASSERT_TRUE(Upsert("deployment", R"({"identifier": "d", "properties": {"env": "prod"},
      "relations": {"service": "s1", "libs": ["s1", "s2"]}})").ok());
  UpsertOptions merge;
  merge.merge = true;
  ASSERT_TRUE(Upsert("deployment", R"({"identifier": "d", "relations": {"libs": ["s2"]}})", merge)
                  .ok());
  const Entity* e = store_->Find("deployment", "d");
  EXPECT_EQ(json::Write(e->relations), R"({"service":"s1","libs":["s2"]})");
  EXPECT_EQ(e->properties.Get("env").as_string(), "prod");
  // Reverse index follows.
  EXPECT_EQ(store_->Referrers("service", "s2").size(), 1u);
  EXPECT_EQ(store_->Referrers("service", "s1").size(), 1u);  // only through "service"
}

TEST_F(StoreTest, SchemaViolationsAreBlueprintSchemaMismatch) {
  auto r = Upsert("service", R"({"identifier": "a", "properties": {"lang": "rust"}})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().port_error(), "blueprint_schema_mismatch");
  EXPECT_NE(r.status().message().find("/properties/lang"), std::string::npos)
      << r.status().message();

  r = Upsert("service", R"({"identifier": "a", "properties": {"lang": "go", "color": "red"}})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().port_error(), "blueprint_schema_mismatch");
  EXPECT_NE(r.status().message().find("unknown property"), std::string::npos);

  r = Upsert("service", R"({"identifier": "a", "properties": {}})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("required property"), std::string::npos);
  EXPECT_EQ(store_->Find("service", "a"), nullptr);  // nothing written
}

TEST_F(StoreTest, BadIdentifierIsBadRequest) {
  auto r = Upsert("service", R"({"identifier": "has space", "properties": {"lang": "go"}})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().port_error(), "bad_request");
  r = Upsert("service", R"({"identifier": "..", "properties": {"lang": "go"}})");
  EXPECT_FALSE(r.ok());
  r = Upsert("service", R"({"identifier": "café-1", "properties": {"lang": "go"}})");
  EXPECT_TRUE(r.ok()) << r.status().message();
}

TEST_F(StoreTest, RelationRules) {
  ASSERT_TRUE(Upsert("service", R"({"identifier": "s1", "properties": {"lang": "go"}})").ok());
  auto r = Upsert("deployment", R"({"identifier": "d", "relations": {"service": ["s1"]}})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().port_error(), "relation_many_violation");

  r = Upsert("deployment", R"({"identifier": "d", "relations": {}})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().port_error(), "required_relation");

  r = Upsert("deployment", R"({"identifier": "d", "relations": {"service": "nope"}})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().port_error(), "not_found");

  r = Upsert("deployment", R"({"identifier": "d", "relations": {"service": "s1", "x": "s1"}})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unknown relation"), std::string::npos);
}

TEST_F(StoreTest, CreateMissingRelatedMakesBarebonesEntities) {
  UpsertOptions o;
  o.create_missing_related = true;
  auto r = Upsert("deployment", R"({"identifier": "d", "relations": {"service": "ghost"}})", o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->created_related.size(), 1u);
  const Entity* bare = store_->Find("service", "ghost");
  ASSERT_NE(bare, nullptr);
  EXPECT_TRUE(bare->barebones);  // required "lang" not enforced on barebones entities
  // Upserting it for real enforces the schema and clears the flag.
  EXPECT_FALSE(Upsert("service", R"({"identifier": "ghost"})").ok());
  ASSERT_TRUE(Upsert("service", R"({"identifier": "ghost", "properties": {"lang": "go"}})").ok());
  EXPECT_FALSE(store_->Find("service", "ghost")->barebones);
}

TEST_F(StoreTest, SearchIdentifierAndSearchRelation) {
  ASSERT_TRUE(Upsert("service", R"({"identifier": "s1", "title": "Checkout",
      "properties": {"lang": "go"}})").ok());
  ASSERT_TRUE(Upsert("service", R"({"identifier": "s2", "title": "Billing",
      "properties": {"lang": "cpp"}})").ok());
  auto r = Upsert("deployment", R"({"identifier": "d", "relations": {"service":
      {"combinator": "and", "rules": [{"property": "$title", "operator": "=", "value": "Billing"}]}}})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(store_->Find("deployment", "d")->relations.Get("service").as_string(), "s2");

  UpsertOptions merge;
  merge.merge = true;
  r = Upsert("service", R"({"identifier": {"combinator": "and",
      "rules": [{"property": "lang", "operator": "=", "value": "go"}]}, "title": "Checkout v2"})",
             merge);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->key.identifier, "s1");
  EXPECT_EQ(store_->Find("service", "s1")->title.as_string(), "Checkout v2");

  // No match never creates.
  r = Upsert("service", R"({"identifier": {"combinator": "and",
      "rules": [{"property": "lang", "operator": "=", "value": "zig"}]}})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().port_error(), "not_found");
}

TEST_F(StoreTest, DeleteRespectsRequiredRelations) {
  ASSERT_TRUE(Upsert("service", R"({"identifier": "s1", "properties": {"lang": "go"}})").ok());
  ASSERT_TRUE(Upsert("service", R"({"identifier": "s2", "properties": {"lang": "go"}})").ok());
  ASSERT_TRUE(Upsert("deployment", R"({"identifier": "d",
      "relations": {"service": "s1", "libs": ["s2"]}})").ok());

  ASSERT_TRUE(store_->Begin().ok());
  auto r = store_->Delete("service", "s1", /*delete_dependents=*/false);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().port_error(), "required_relation");
  store_->Rollback();

  // A non-required relation is cleared on the survivor.
  ASSERT_TRUE(store_->Begin().ok());
  ASSERT_TRUE(store_->Delete("service", "s2", false).ok());
  ASSERT_TRUE(store_->Commit().ok());
  EXPECT_EQ(json::Write(store_->Find("deployment", "d")->relations.Get("libs")), "[]");

  ASSERT_TRUE(store_->Begin().ok());
  auto deleted = store_->Delete("service", "s1", /*delete_dependents=*/true);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->size(), 2u);
  ASSERT_TRUE(store_->Commit().ok());
  EXPECT_EQ(store_->Find("deployment", "d"), nullptr);
}

TEST_F(StoreTest, RollbackRestoresMemory) {
  ASSERT_TRUE(Upsert("service", R"({"identifier": "a", "properties": {"lang": "go"}})").ok());
  ASSERT_TRUE(store_->Begin().ok());
  auto v = json::Parse(R"({"identifier": "a", "properties": {"lang": "cpp"}})");
  ASSERT_TRUE(store_->Upsert("service", *v, {}).ok());
  auto w = json::Parse(R"({"identifier": "b", "properties": {"lang": "cpp"}})");
  ASSERT_TRUE(store_->Upsert("service", *w, {}).ok());
  store_->Rollback();
  EXPECT_EQ(store_->Find("service", "a")->properties.Get("lang").as_string(), "go");
  EXPECT_EQ(store_->Find("service", "b"), nullptr);
}

TEST_F(StoreTest, PersistsAcrossReopenAndRollbackNeverReachesDisk) {
  auto dir = std::filesystem::temp_directory_path() /
             ("portolan-store-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  Reopen(dir.string());
  ASSERT_TRUE(Upsert("service", R"({"identifier": "a", "properties": {"lang": "go"}})").ok());
  ASSERT_TRUE(store_->Begin().ok());
  auto w = json::Parse(R"({"identifier": "b", "properties": {"lang": "cpp"}})");
  ASSERT_TRUE(store_->Upsert("service", *w, {}).ok());
  store_->Rollback();
  Reopen(dir.string());
  ASSERT_NE(store_->Find("service", "a"), nullptr);
  EXPECT_EQ(store_->Find("service", "a")->properties.Get("lang").as_string(), "go");
  EXPECT_EQ(store_->Find("service", "b"), nullptr);
  EXPECT_NE(store_->catalog().Find("deployment"), nullptr);
  store_.reset();
  std::filesystem::remove_all(dir);
}

// SetDerived keeps only the previous derived values for rollback; a later write of the same
// entity (upsert, delete) in the transaction must still roll back to the entity as it was.
TEST_F(StoreTest, RollbackRestoresDerivedValuesAcrossLaterWrites) {
  for (const char* id : {"a", "b", "c"}) {
    ASSERT_TRUE(Upsert("service", std::string(R"({"identifier": ")") + id +
                                      R"(", "properties": {"lang": "go"}})")
                    .ok());
  }
  ASSERT_TRUE(store_->Begin().ok());
  store_->SetDerived(*store_->Find("service", "a"), *json::Parse(R"({"x": 1})"));
  store_->SetDerived(*store_->Find("service", "b"), *json::Parse(R"({"x": 2})"));
  store_->SetDerived(*store_->Find("service", "c"), *json::Parse(R"({"x": 3})"));
  store_->TakeChanges();
  // a: upserted after its derived values changed, then changed again.
  ASSERT_TRUE(store_->Upsert("service", *json::Parse(R"({"identifier": "a",
      "properties": {"lang": "cpp"}})"), {}).ok());
  store_->SetDerived(*store_->Find("service", "a"), *json::Parse(R"({"x": 10})"));
  // b: deleted. d: created, given values, deleted, created again.
  ASSERT_TRUE(store_->Delete("service", "b", false).ok());
  ASSERT_TRUE(store_->Upsert("service", *json::Parse(R"({"identifier": "d",
      "properties": {"lang": "go"}})"), {}).ok());
  store_->SetDerived(*store_->Find("service", "d"), *json::Parse(R"({"x": 4})"));
  ASSERT_TRUE(store_->Delete("service", "d", false).ok());
  ASSERT_TRUE(store_->Upsert("service", *json::Parse(R"({"identifier": "d",
      "properties": {"lang": "go"}})"), {}).ok());
  // The changes' before-images are the entities as the engine left them (as before).
  auto changes = store_->TakeChanges();
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].key.identifier, "a");
  EXPECT_EQ(json::Write(changes[0].before->derived), R"({"x":1})");
  EXPECT_EQ(changes[1].key.identifier, "b");
  EXPECT_EQ(json::Write(changes[1].before->derived), R"({"x":2})");
  store_->Rollback();
  for (const char* id : {"a", "b", "c"}) {
    const Entity* e = store_->Find("service", id);
    ASSERT_NE(e, nullptr) << id;
    EXPECT_EQ(json::Write(e->derived), "{}") << id;
    EXPECT_EQ(e->properties.Get("lang").as_string(), "go") << id;
  }
  EXPECT_EQ(store_->Find("service", "d"), nullptr);
  EXPECT_EQ(store_->Referrers("service", "a").size(), 0u);
}

TEST_F(StoreTest, DerivedValuesPersistAtCommitOnly) {
  auto dir = std::filesystem::temp_directory_path() /
             ("portolan-store-derived-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  Reopen(dir.string());
  ASSERT_TRUE(Upsert("service", R"({"identifier": "a", "properties": {"lang": "go"}})").ok());
  ASSERT_TRUE(Upsert("service", R"({"identifier": "b", "properties": {"lang": "go"}})").ok());
  ASSERT_TRUE(store_->Begin().ok());
  store_->SetDerived(*store_->Find("service", "a"), *json::Parse(R"({"x": 1})"));
  ASSERT_TRUE(store_->Commit().ok());
  ASSERT_TRUE(store_->Begin().ok());
  store_->SetDerived(*store_->Find("service", "a"), *json::Parse(R"({"x": 2})"));
  store_->SetDerived(*store_->Find("service", "b"), *json::Parse(R"({"x": 3})"));
  store_->Rollback();
  EXPECT_EQ(json::Write(store_->Find("service", "a")->derived), R"({"x":1})");
  EXPECT_EQ(json::Write(store_->Find("service", "b")->derived), "{}");
  Reopen(dir.string());
  EXPECT_EQ(json::Write(store_->Find("service", "a")->derived), R"({"x":1})");
  EXPECT_EQ(json::Write(store_->Find("service", "b")->derived), "{}");
  store_.reset();
  std::filesystem::remove_all(dir);
}

TEST_F(StoreTest, ChangesCarryBeforeImages) {
  ASSERT_TRUE(Upsert("service", R"({"identifier": "a", "properties": {"lang": "go"}})").ok());
  store_->TakeChanges();
  ASSERT_TRUE(Upsert("service", R"({"identifier": "a", "properties": {"lang": "cpp"}})").ok());
  auto changes = store_->TakeChanges();
  ASSERT_EQ(changes.size(), 1u);
  ASSERT_TRUE(changes[0].before.has_value());
  EXPECT_EQ(changes[0].before->properties.Get("lang").as_string(), "go");
  // An identical upsert is not a change.
  ASSERT_TRUE(Upsert("service", R"({"identifier": "a", "properties": {"lang": "cpp"}})").ok());
  EXPECT_TRUE(store_->TakeChanges().empty());
}

}  // namespace
}  // namespace portolan::store
