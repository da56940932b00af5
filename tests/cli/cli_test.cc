// End-to-end tests of the `portolan` binary: the DORA pack on a hand-computed fixture and on the
// bundled example data, resync semantics, and one test per class of bad input (clear message,
// exit 1, nothing written).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/base/json.h"

namespace portolan {
namespace {

namespace fs = std::filesystem;

struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("portolan-cli-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ws_ = (dir_ / "ws").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs portolan with the test's workspace; args are passed through the shell unquoted, so
  // keep them free of spaces.
  RunResult Run(const std::string& args) {
    std::string errfile = (dir_ / "stderr.txt").string();
    std::string cmd = std::string(PORTOLAN_BINARY_DIR) + "/bin/portolan -w " + ws_ + " " + args +
                      " 2>" + errfile;
    RunResult r;
    FILE* p = popen(cmd.c_str(), "r");
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    int status = pclose(p);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream e(errfile);
    std::stringstream ss;
    ss << e.rdbuf();
    r.err = ss.str();
    return r;
  }

  std::string Write(const std::string& name, const std::string& content) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  json::Value Json(const RunResult& r) {
    auto v = json::Parse(r.out);
    EXPECT_TRUE(v.ok()) << r.out << r.err;
    return v.ok() ? *v : json::Value();
  }

  size_t CountEntities(const std::string& blueprint) {
    RunResult r = Run("-o json get " + blueprint);
    EXPECT_EQ(r.code, 0) << r.err;
    return Json(r).size();
  }

  void ApplyDoraPack() {
    RunResult r = Run("apply -f blueprints/dora");
    ASSERT_EQ(r.code, 0) << r.err;
  }

  void SyncSmallFixture() {
    const std::string m = "blueprints/dora/mappings/", d = "tests/cli/testdata/dora_small/";
    for (const auto& [mapping, data] : std::vector<std::pair<std::string, std::string>>{
             {"github-teams.yaml", "teams.json"},
             {"github-repositories.yaml", "repositories.json"},
             {"github-pull-requests.yaml", "pull_requests.json"},
             {"github-pr-deployments.yaml", "pull_requests.json"},
             {"pagerduty-incidents.yaml", "incidents.json"}}) {
      RunResult r = Run(kNow + " sync -m " + m + mapping + " " + d + data);
      ASSERT_EQ(r.code, 0) << mapping << ": " << r.err;
    }
  }

  // A mapping of GitHub-team-like payloads ({slug, name}) to `_team`, after `top` (flags).
  std::string TeamsMapping(const std::string& top = "") {
    return Write("teams.yaml", top + R"(resources:
  - kind: team
    selector:
      query: 'true'
    port:
      entity:
        mappings:
          identifier: .slug
          title: .name
          blueprint: '"_team"'
)");
  }

  const std::string kNow = "--now=2026-11-01T00:00:00Z";
  fs::path dir_;
  std::string ws_;
};

const json::Value* FindRow(const json::Value& rows, const std::string& id) {
  for (const auto& r : rows.as_array()) {
    if (r.Get("identifier").as_string() == id) return &r;
  }
  return nullptr;
}

// The DORA pack end to end on a fixture small enough to compute by hand (now = 2026-11-01).
TEST_F(CliTest, DoraPackOnHandComputedFixture) {
  ApplyDoraPack();
  SyncSmallFixture();
  RunResult r = Run(kNow + " -o json dora");
  ASSERT_EQ(r.code, 0) << r.err;
  json::Value v = Json(r);
  const json::Value* a = FindRow(v.Get("services"), "svc-a");
  const json::Value* b = FindRow(v.Get("services"), "svc-b");
  const json::Value* t = FindRow(v.Get("teams"), "t1");
  ASSERT_TRUE(a && b && t) << r.out;

  // svc-a: deployments at 10-20T12, 10-22T00, 10-28T00 (merge times): span 7.5 days ->
  // ceil(7.5 / 7) = 2 weeks -> 3 / 2 = 1.5 per week -> High (>= 1).
  EXPECT_EQ(a->Get("total_deployments").as_number(), 3);
  EXPECT_DOUBLE_EQ(a->Get("deployment_frequency").as_number(), 1.5);
  EXPECT_EQ(a->Get("deploy_freq_tier").as_string(), "High");
  // Lead time: cycle times 12 h, 24 h, 72 h -> mean 36 h -> High (<= 168).
  EXPECT_DOUBLE_EQ(a->Get("lead_time_for_changes").as_number(), 36);
  EXPECT_EQ(a->Get("lead_time_tier").as_string(), "High");
  // CFR: 1 incident / (3 deployments + 1) = 25 % -> Medium (<= 30). MTTR: 30 min -> Elite.
  EXPECT_EQ(a->Get("cfr_tier").as_string(), "Medium");
  EXPECT_EQ(a->Get("mttr_tier").as_string(), "Elite");

  // svc-b: one deployment (periods = 1) -> 1 per week -> High; lead time 240 h -> Medium;
  // no incident: CFR 0 % -> Elite, MTTR tier null (the guide's calculation).
  EXPECT_DOUBLE_EQ(b->Get("deployment_frequency").as_number(), 1);
  EXPECT_EQ(b->Get("deploy_freq_tier").as_string(), "High");
  EXPECT_DOUBLE_EQ(b->Get("lead_time_for_changes").as_number(), 240);
  EXPECT_EQ(b->Get("lead_time_tier").as_string(), "Medium");
  EXPECT_EQ(b->Get("cfr_tier").as_string(), "Elite");
  EXPECT_TRUE(b->Get("mttr_tier").is_null());

  // Team t1: 4 deployments from 10-11T00 to 10-28T00 (17 days -> 3 weeks) -> 4 / 3 per week,
  // / 2 services = 0.667 -> Medium (>= 0.25); lead time (12+24+72+240)/4 = 87 h -> High;
  // CFR 1 / (4 + 1) = 20 % -> High (<= 20); MTTR 30 min -> Elite.
  EXPECT_NEAR(t->Get("deployment_frequency_per_service").as_number(), 4.0 / 3 / 2, 1e-9);
  EXPECT_EQ(t->Get("deploy_freq_tier").as_string(), "Medium");
  EXPECT_DOUBLE_EQ(t->Get("lead_time_for_changes").as_number(), 87);
  EXPECT_EQ(t->Get("lead_time_tier").as_string(), "High");
  EXPECT_EQ(t->Get("cfr_tier").as_string(), "High");
  EXPECT_EQ(t->Get("mttr_tier").as_string(), "Elite");

  // Every number is explained: the team frequency's periods and inputs.
  RunResult ex = Run(kNow + " -o json explain _team t1 deployment_frequency");
  ASSERT_EQ(ex.code, 0) << ex.err;
  EXPECT_NE(ex.out.find("periods"), std::string::npos) << ex.out;
}

// The bundled example data gives the values tools/gen/dora_oracle.py computes independently
// (examples/dora/README.md).
TEST_F(CliTest, DoraPackOnExampleDataMatchesOracle) {
  ApplyDoraPack();
  const std::string m = "blueprints/dora/mappings/", d = "examples/dora/data/";
  for (const auto& [mapping, data] : std::vector<std::pair<std::string, std::string>>{
           {"github-teams.yaml", "teams.json"},
           {"github-repositories.yaml", "repositories.json"},
           {"github-pull-requests.yaml", "pull_requests.json"},
           {"github-pr-deployments.yaml", "pull_requests.json"},
           {"pagerduty-incidents.yaml", "incidents.json"}}) {
    RunResult r = Run(kNow + " -q sync -m " + m + mapping + " " + d + data);
    ASSERT_EQ(r.code, 0) << mapping << ": " << r.err;
  }
  json::Value v = Json(Run(kNow + " -o json dora"));
  struct Expect {
    const char* id;
    double df, lt;
    const char* tiers[4];
  };
  const Expect teams[] = {
      {"storefront", 9.04, 5.68, {"Elite", "Elite", "Elite", "Elite"}},
      {"payments", 3.44, 43.87, {"High", "High", "High", "High"}},
      {"data-platform", 0.69, 332.58, {"Medium", "Medium", "Low", "Medium"}},
  };
  for (const auto& e : teams) {
    const json::Value* row = FindRow(v.Get("teams"), e.id);
    ASSERT_NE(row, nullptr) << e.id;
    EXPECT_NEAR(row->Get("deployment_frequency_per_service").as_number(), e.df, 0.005) << e.id;
    EXPECT_NEAR(row->Get("lead_time_for_changes").as_number(), e.lt, 0.005) << e.id;
    const char* keys[] = {"deploy_freq_tier", "lead_time_tier", "cfr_tier", "mttr_tier"};
    for (int i = 0; i < 4; ++i) EXPECT_EQ(row->Get(keys[i]).as_string(), e.tiers[i]) << e.id;
  }
  const json::Value* etl = FindRow(v.Get("services"), "reporting-etl");
  ASSERT_NE(etl, nullptr);
  EXPECT_NEAR(etl->Get("deployment_frequency").as_number(), 1.20, 0.005);
  EXPECT_EQ(etl->Get("deploy_freq_tier").as_string(), "High");
  EXPECT_EQ(etl->Get("total_deployments").as_number(), 12);
}

TEST_F(CliTest, MapIsADryRunInOceansShape) {
  std::string payload = Write("prs.json", R"([
    {"id": 7, "number": 3, "state": "closed", "title": "Fix", "merged_at": "2026-10-01T00:00:00Z",
     "base": {"ref": "main"}, "head": {"repo": {"name": "svc"}}},
    {"id": 8, "number": 4, "state": "open", "title": "WIP", "merged_at": null,
     "base": {"ref": "main"}, "head": {"repo": {"name": "svc"}}}])");
  RunResult r = Run("map -m blueprints/dora/mappings/github-pr-deployments.yaml " + payload);
  ASSERT_EQ(r.code, 0) << r.err;
  json::Value v = Json(r);
  EXPECT_EQ(json::Write(v.Get("entities")),
            R"([{"identifier":"svc-deploy-3","title":"Deploy: Fix","blueprint":"deployment",)"
            R"("properties":{"environment":"Production","deploymentStatus":"Success",)"
            R"("createdAt":"2026-10-01T00:00:00Z"},"relations":{"service":"svc",)"
            R"("pullRequest":"svc7"}}])");
  EXPECT_EQ(v.Get("skipped").as_number(), 1);
  EXPECT_EQ(v.Get("errors").size(), 0u);
  EXPECT_FALSE(fs::exists(ws_));  // no workspace needed or created
}

// The streamed, threaded path end to end: 3,000 items in 15 batches, native programs with
// runtime fallbacks to libjq (which compiles lazily on the worker threads), a program outside
// the native subset, and a batch error that abandons a resource halfway (mapped sequentially
// again after the error): the same output on both engines, on one thread and on two.
TEST_F(CliTest, MapIsTheSameOnEveryEngineAndThreadCount) {
  std::string items;
  for (int i = 0; i < 3000; ++i) {
    const std::string v = i % 7 == 0 ? "\"text\"" : std::to_string(i);
    items += "{\"id\": " + std::to_string(i) + ", \"name\": \"n" + std::to_string(i) +
             "\", \"v\": " + v + "}\n";
  }
  const std::string payload = Write("items.jsonl", items);
  const std::string mapping = Write("items.yaml", R"(resources:
  - kind: item
    selector:
      query: .id % 5 != 3
    port:
      entity:
        mappings:
          identifier: '"x" + (.id | tostring)'
          title: .name + "-" + (.v | tostring)
          blueprint: '"thing"'
          properties:
            plus: .v + 1
            keys: '[paths] | length'
  - kind: item
    selector:
      query: 'true'
    port:
      entity:
        mappings:
          identifier: .name
          blueprint: '"other"'
          icon: 'if .id == 1700 then ["x"] else "Github" end'
)");
  std::string first;
  for (const char* engine : {"libjq", "auto"}) {
    for (const char* threads : {"1", "2"}) {
      RunResult r = Run(std::string("-q map --engine ") + engine + " -j " + threads + " -m " +
                        mapping + " " + payload);
      ASSERT_EQ(r.code, 0) << engine << " -j " << threads << ": " << r.err;
      if (first.empty()) {
        first = r.out;
        json::Value v = Json(r);
        size_t things = 0, others = 0, nulls = 0;
        for (const auto& e : v.Get("entities").as_array()) {
          if (e.Get("blueprint").as_string() == "thing") {
            ++things;
            nulls += e.Get("properties").Get("plus").is_null();
            EXPECT_EQ(e.Get("properties").Get("keys").as_number(), 3);
          } else {
            ++others;
          }
        }
        EXPECT_EQ(things, 2400u);  // 3,000 less the 600 with id % 5 == 3
        // `.v + 1` fails on the strings: the 429 ids with id % 7 == 0, less the 85 of them the
        // selector drops (id % 35 == 28: 28, 63, ..., 2968).
        EXPECT_EQ(nulls, 344u);
        // The icon error is in the batch of items 1,600-1,799: the resource's entities of that
        // batch are dropped and it is not mapped again.
        EXPECT_EQ(others, 1600u);
        EXPECT_NE(json::Write(v.Get("errors")).find("icon"), std::string::npos) << r.out;
      } else {
        EXPECT_EQ(r.out, first) << engine << " -j " << threads;
      }
    }
  }
}

TEST_F(CliTest, SyncDeletesWhatTheMappingNoLongerProducesWithinThreshold) {
  ApplyDoraPack();
  std::string mapping = TeamsMapping("entityDeletionThreshold: 0.5\n");
  std::string four = Write("four.json",
                           R"([{"slug":"a"},{"slug":"b"},{"slug":"c"},{"slug":"d"}])");
  std::string three = Write("three.json", R"([{"slug":"a"},{"slug":"b"},{"slug":"c"}])");
  std::string one = Write("one.json", R"([{"slug":"a"}])");
  ASSERT_EQ(Run(kNow + " sync -m " + mapping + " " + four).code, 0);
  EXPECT_EQ(CountEntities("_team"), 4u);
  // 1 of 4 missing (25 %) <= 0.5: deleted.
  RunResult r = Run(kNow + " sync -m " + mapping + " " + three);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(CountEntities("_team"), 3u);
  // 2 of 3 missing (67 %) > 0.5: the delete phase is skipped, and says why.
  r = Run(kNow + " sync -m " + mapping + " " + one);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("skipping delete phase"), std::string::npos) << r.err;
  EXPECT_EQ(CountEntities("_team"), 3u);
  // `ingest` never deletes.
  ASSERT_EQ(Run(kNow + " ingest -m " + mapping + " " + one).code, 0);
  EXPECT_EQ(CountEntities("_team"), 3u);
}

TEST_F(CliTest, SelectorErrorsSkipTheDeletePhase) {
  ApplyDoraPack();
  std::string mapping = Write("teams.yaml", R"(resources:
  - kind: team
    selector:
      query: .keep
    port:
      entity:
        mappings:
          identifier: .slug
          blueprint: '"_team"'
)");
  ASSERT_EQ(Run(kNow + " sync -m " + mapping + " " +
                Write("a.json", R"([{"slug":"a","keep":true},{"slug":"b","keep":true}])"))
                .code,
            0);
  // Item 1's selector is not a boolean: item error, exit 1, the good item is written, and
  // nothing is deleted even though "b" is missing.
  RunResult r = Run(kNow + " sync -m " + mapping + " " +
                    Write("b.json", R"([{"slug":"a","keep":true},{"slug":"c","keep":"yes"}])"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("Expected boolean value"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("skipping delete phase"), std::string::npos) << r.err;
  EXPECT_EQ(CountEntities("_team"), 2u);
}

TEST_F(CliTest, DuplicateIdentifiersInOneBatchLastWins) {
  ApplyDoraPack();
  std::string mapping = TeamsMapping();
  ASSERT_EQ(Run(kNow + " ingest -m " + mapping + " " +
                Write("d.json", R"([{"slug":"a","name":"First"},{"slug":"a","name":"Last"}])"))
                .code,
            0);
  json::Value e = Json(Run("-o json get _team a"));
  EXPECT_EQ(e.Get("title").as_string(), "Last");
}

// ---- Bad input: a clear error naming the source, exit 1, nothing written. -------------------

class BadInputTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    ApplyDoraPack();
    SyncSmallFixture();
    before_ = Run("-o json get githubPullRequest").out + Run("-o json get service").out;
  }
  void ExpectNothingWritten() {
    EXPECT_EQ(Run("-o json get githubPullRequest").out + Run("-o json get service").out, before_);
  }
  void ExpectError(const RunResult& r, std::initializer_list<const char*> parts) {
    EXPECT_EQ(r.code, 1) << r.err;
    for (const char* p : parts) EXPECT_NE(r.err.find(p), std::string::npos) << p << "\n" << r.err;
    ExpectNothingWritten();
  }
  std::string Mapping(const std::string& extra_properties) {
    return Write("m.yaml", R"(resources:
  - kind: repository
    selector:
      query: 'true'
    port:
      entity:
        mappings:
          identifier: .name
          blueprint: '"service"'
          properties:
)" + extra_properties);
  }
  std::string before_;
};

TEST_F(BadInputTest, MalformedPayloadJson) {
  std::string p = Write("bad.json", "[{\"name\": \"svc-a\"},\n {\"name\": }]");
  ExpectError(Run(kNow + " ingest -m " + Mapping("            language: .language\n") + " " + p),
              {"bad.json", "line 2, column"});
}

TEST_F(BadInputTest, PayloadNotUtf8) {
  std::string p = Write("latin1.json", "[{\"name\": \"caf\xe9\"}]");
  ExpectError(Run(kNow + " ingest -m " + Mapping("            language: .language\n") + " " + p),
              {"latin1.json", "not UTF-8"});
}

TEST_F(BadInputTest, MalformedYaml) {
  std::string m = Write("broken.yaml", "resources:\n  - kind: repository\n   selector: [\n");
  ExpectError(Run(kNow + " ingest -m " + m + " tests/cli/testdata/dora_small/repositories.json"),
              {"broken.yaml:"});
}

TEST_F(BadInputTest, JqSyntaxErrorNamesFieldAndText) {
  ExpectError(Run(kNow + " ingest -m " + Mapping("            language: .language | (\n") +
                  " tests/cli/testdata/dora_small/repositories.json"),
              {"m.yaml:", "mappings.properties.language", ".language | ("});
}

TEST_F(BadInputTest, UnknownBlueprint) {
  std::string m = Write("u.yaml", R"(resources:
  - kind: repository
    selector:
      query: 'true'
    port:
      entity:
        mappings:
          identifier: .name
          blueprint: '"microservice"'
)");
  ExpectError(Run(kNow + " ingest -m " + m + " tests/cli/testdata/dora_small/repositories.json"),
              {"blueprint 'microservice' does not exist"});
}

TEST_F(BadInputTest, UnknownRelation) {
  std::string m = Write("r.yaml", R"(resources:
  - kind: repository
    selector:
      query: 'true'
    port:
      entity:
        mappings:
          identifier: .name
          blueprint: '"service"'
          relations:
            owner: '"t1"'
)");
  ExpectError(Run(kNow + " ingest -m " + m + " tests/cli/testdata/dora_small/repositories.json"),
              {"/relations/owner", "unknown relation"});
}

TEST_F(BadInputTest, SchemaViolation) {
  ExpectError(Run(kNow + " ingest -m " + Mapping("            language: 42\n") +
                  " tests/cli/testdata/dora_small/repositories.json"),
              {"/properties/language", "not a string"});
}

TEST_F(BadInputTest, NonArrayItemsToParse) {
  std::string m = Write("itp.yaml", R"(resources:
  - kind: repository
    selector:
      query: 'true'
    port:
      itemsToParse: .name
      entity:
        mappings:
          identifier: .item
          blueprint: '"service"'
)");
  ExpectError(Run(kNow + " ingest -m " + m + " tests/cli/testdata/dora_small/repositories.json"),
              {"Expected list"});
}

TEST_F(BadInputTest, BadBlueprintFileNamesPointerAndRule) {
  std::string bp = Write("bp.json", R"({"identifier": "x", "title": "X",
    "schema": {"properties": {}},
    "relations": {"r": {"target": "service", "many": true, "required": true}}})");
  RunResult r = Run("apply -f " + bp);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("bp.json"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/relations/r"), std::string::npos) << r.err;
  EXPECT_EQ(Run("-o json blueprints").out.find("\"x\""), std::string::npos);
}

TEST_F(BadInputTest, BadClockAndUnknownEntity) {
  EXPECT_EQ(Run("--now=yesterday dora").code, 1);
  RunResult r = Run("get service nope");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("service/nope"), std::string::npos);
}

}  // namespace
}  // namespace portolan
