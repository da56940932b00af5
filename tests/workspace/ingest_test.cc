// The library's front door without the binary: a workspace opened in a temp directory, ingest
// and full resync sessions over in-memory items and files, and what a reopen finds.
#include "workspace/ingest.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "workspace/workspace.h"

namespace portolan::workspace {
namespace {

namespace fs = std::filesystem;

constexpr char kMapping[] = R"(
createMissingRelatedEntities: true
entityDeletionThreshold: 0.5
resources:
  - kind: team
    selector:
      query: '.active != false'
    port:
      entity:
        mappings:
          identifier: .slug
          title: .name
          blueprint: '"_team"'
          properties:
            type: '"team"'
)";

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("portolan-ingest-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    OpenOptions o;
    o.create = true;
    o.now = 1796083200;
    auto ws = Workspace::Open(dir_.string(), o);
    ASSERT_TRUE(ws.ok()) << ws.status().message();
    ws_ = std::move(*ws);
    auto bps = LoadBlueprintFiles({std::string(PORTOLAN_SOURCE_DIR) + "/blueprints/dora"});
    ASSERT_TRUE(bps.ok()) << bps.status().message();
    ASSERT_TRUE(ws_->ApplyBlueprints(std::move(*bps)).ok());
    auto m = mapping::Mapper::LoadText(kMapping, "teams.yaml");
    ASSERT_TRUE(m.ok()) << m.status().message();
    mapper_ = std::make_unique<mapping::Mapper>(std::move(*m));
  }
  void TearDown() override {
    ws_.reset();
    fs::remove_all(dir_);
  }

  std::vector<json::Value> Teams(std::initializer_list<const char*> slugs) {
    std::vector<json::Value> out;
    for (const char* s : slugs) {
      json::Value v = json::Value::MakeObject();
      v.Set("slug", s);
      v.Set("name", std::string("Team ") + s);
      out.push_back(std::move(v));
    }
    return out;
  }
  Result<IngestReport> Run(const std::vector<json::Value>& items, bool full) {
    IngestOptions o;
    o.kind = "team";
    o.full_resync = full;
    o.source = "teams.yaml";
    IngestSession session(ws_.get(), mapper_.get(), o);
    return session.RunItems(items);
  }

  fs::path dir_;
  std::unique_ptr<Workspace> ws_;
  std::unique_ptr<mapping::Mapper> mapper_;
};

TEST_F(IngestTest, IngestThenResyncDeletesWhatIsGone) {
  auto r = Run(Teams({"a", "b", "c", "d"}), false);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->upserted, 4u);
  EXPECT_EQ(r->written.size(), 4u);
  EXPECT_EQ(r->written[0], (store::EntityKey{"_team", "a"}));
  EXPECT_EQ(ws_->store().Count("_team"), 4u);

  // Same items again: unchanged.
  r = Run(Teams({"a", "b", "c", "d"}), true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->unchanged, 4u);
  EXPECT_EQ(r->deleted, 0u);

  // c and d are gone: 50% <= threshold 0.5, deleted.
  r = Run(Teams({"a", "b"}), true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->deleted, 2u);
  EXPECT_EQ(r->Summary(true), "0 upserted, 2 unchanged, 0 skipped, 2 deleted");
  EXPECT_EQ(ws_->store().Count("_team"), 2u);

  // Only a left: 50% again, but an entity written by the API (no datasource) is not the
  // mapping's to delete.
  ASSERT_TRUE(ws_->Write([&]() -> Status {
                  json::Value body = json::Value::MakeObject();
                  body.Set("identifier", "api-team");
                  store::UpsertOptions o;
                  return ws_->store().Upsert("_team", body, o).status();
                }).ok());
  r = Run(Teams({"a"}), true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->deleted, 1u);
  EXPECT_NE(ws_->store().Find("_team", "api-team"), nullptr);

  // Nothing at all: 100% > 0.5, the delete phase is skipped and says why.
  r = Run({}, true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->deleted, 0u);
  EXPECT_NE(r->delete_note.find("exceeds entityDeletionThreshold 0.5"), std::string::npos)
      << r->delete_note;

  // What a reopen finds is what the sessions committed.
  ws_.reset();
  auto again = Workspace::Open(dir_.string());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->store().Count("_team"), 2u);
  EXPECT_EQ((*again)->store().Find("_team", "a")->datasource, "teams.yaml#team");
}

TEST_F(IngestTest, AnItemErrorSkipsTheDeletePhase) {
  ASSERT_TRUE(Run(Teams({"a", "b"}), false).ok());
  // `.active != false` on a string is true; on an item whose `.active` errors... use a selector
  // error instead: an item that is an array makes `.active` fail.
  std::vector<json::Value> items = Teams({"a"});
  items.push_back(json::Value::MakeArray());
  auto r = Run(items, true);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->item_errors.size(), 1u);
  EXPECT_EQ(r->deleted, 0u);  // b is missing, but a run with an item error deletes nothing
  EXPECT_NE(r->delete_note.find("item error"), std::string::npos) << r->delete_note;
  EXPECT_EQ(ws_->store().Count("_team"), 2u);
}

TEST_F(IngestTest, AnEntityThatCannotBeWrittenWritesNothing) {
  auto m = mapping::Mapper::LoadText(R"(
resources:
  - kind: team
    selector:
      query: 'true'
    port:
      entity:
        mappings:
          identifier: .slug
          blueprint: '"_team"'
          properties:
            type: '.type'
)", "bad.yaml");
  ASSERT_TRUE(m.ok());
  std::vector<json::Value> items = Teams({"a", "b"});
  items[1].Set("type", 42);  // _team.type is a string
  IngestOptions o;
  o.source = "bad.yaml";
  IngestSession session(ws_.get(), &*m, o);
  auto r = session.RunItems(items);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nothing written"), std::string::npos);
  EXPECT_EQ(ws_->store().Count("_team"), 0u);
}

TEST_F(IngestTest, FilesAreStreamedThroughTheSameSession) {
  const std::string path = (dir_ / "teams.jsonl").string();
  std::ofstream(path) << R"({"slug":"x","name":"X"})" << "\n"
                      << R"({"slug":"y","name":"Y","active":false})" << "\n";
  IngestOptions o;
  o.source = "teams.yaml";
  IngestSession session(ws_.get(), mapper_.get(), o);
  auto r = session.RunFiles({path});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->upserted, 1u);
  EXPECT_EQ(r->skipped, 1u);
  EXPECT_EQ(ws_->store().Find("_team", "x")->title, json::Value("X"));
}

}  // namespace
}  // namespace portolan::workspace
