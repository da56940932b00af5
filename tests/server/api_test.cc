// End-to-end tests of `portolan serve`'s routes over real HTTP on loopback: Port's REST API with
// the shapes its clients rely on, the token exchange, custom webhooks (signatures, duplicates,
// the durable queue), Datadog's DORA API, and every error status with nothing written.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "engine/base/json.h"
#include "server/auth.h"
#include "server/crypto.h"
#include "server/server.h"
#include "workspace/webhook.h"
#include "workspace/workspace.h"

namespace portolan::json {
// Readable values in test failures.
inline void PrintTo(const Value& v, std::ostream* os) { *os << Write(v); }
}  // namespace portolan::json

namespace portolan::server {
namespace {

namespace fs = std::filesystem;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

struct Reply {
  int status = 0;
  std::string body;
  json::Value json;
};

// 2026-12-01T00:00:00Z: the fixed clock of these tests.
constexpr double kNow = 1796083200;

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("portolan-api-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    ws_path_ = (dir_ / "ws").string();
    {
      workspace::OpenOptions oo;
      oo.create = true;
      oo.now = kNow;
      auto ws = workspace::Workspace::Open(ws_path_, oo);
      ASSERT_TRUE(ws.ok()) << ws.status().message();
      auto bps = workspace::LoadBlueprintFiles({std::string(PORTOLAN_SOURCE_DIR) +
                                                "/blueprints/dora"});
      ASSERT_TRUE(bps.ok()) << bps.status().message();
      ASSERT_TRUE((*ws)->ApplyBlueprints(std::move(*bps)).ok());
      auto hooks = workspace::ApplyWebhookFiles(
          **ws, {std::string(PORTOLAN_SOURCE_DIR) + "/blueprints/dora/webhooks"}, NewWebhookKey);
      ASSERT_TRUE(hooks.ok()) << hooks.status().message();
      auto cred = CreateCredential(**ws, "test");
      ASSERT_TRUE(cred.ok());
      cred_ = *cred;
    }
    ServeOptions o;
    o.workspace = ws_path_;
    o.listen = "127.0.0.1:0";
    o.clock.fixed_now = kNow;
    o.threads = 2;
    auto s = Server::Start(o);
    ASSERT_TRUE(s.ok()) << s.status().message();
    server_ = std::move(*s);
    port_ = server_->http().port();
    Reply t = Call("POST", "/v1/auth/access_token",
                   R"({"clientId":")" + cred_.client_id + R"(","clientSecret":")" +
                       cred_.client_secret + R"("})",
                   {}, false);
    ASSERT_EQ(t.status, 200) << t.body;
    token_ = t.json.Get("accessToken").as_string();
  }
  void TearDown() override {
    if (server_) server_->Stop();
    server_.reset();
    fs::remove_all(dir_);
  }

  Reply Call(const std::string& method, const std::string& target, const std::string& body = "",
             std::vector<std::pair<std::string, std::string>> headers = {}, bool auth = true) {
    boost::asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port_));
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    req.set(http::field::host, "127.0.0.1:" + std::to_string(port_));
    if (auth) req.set(http::field::authorization, "Bearer " + token_);
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(stream, buf, res);
    Reply r;
    r.status = static_cast<int>(res.result_int());
    r.body = res.body();
    auto j = json::Parse(r.body);
    if (j.ok()) r.json = std::move(*j);
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    return r;
  }

  json::Value Entity(const std::string& bp, const std::string& id) {
    Reply r = Call("GET", "/v1/blueprints/" + bp + "/entities/" + id);
    return r.status == 200 ? r.json.Get("entity") : json::Value();
  }
  size_t Count(const std::string& bp) {
    Reply r = Call("GET", "/v1/blueprints/" + bp + "/entities-count");
    return static_cast<size_t>(r.json.Get("count").as_number());
  }
  // Processes what the intake queued, and checks that nothing failed.
  void DrainIntake() {
    auto n = server_->intake().ProcessQueued();
    ASSERT_TRUE(n.ok()) << n.status().message();
    Status s = server_->catalog().Read([](const workspace::Workspace& ws) {
      for (const auto& [id, doc] : ws.store().ListDocuments("intake_failed")) {
        ADD_FAILURE() << "intake event " << id << " failed: " << doc;
      }
      return Status::Ok();
    });
    ASSERT_TRUE(s.ok());
  }
  void Service(const std::string& id, const std::string& team = "") {
    std::string rel = team.empty() ? "" : R"(,"relations":{"team":")" + team + R"("})";
    if (!team.empty()) {
      ASSERT_EQ(Call("POST", "/v1/blueprints/_team/entities?upsert=true",
                     R"({"identifier":")" + team + R"("})").status,
                201);
    }
    Reply r = Call("POST", "/v1/blueprints/service/entities?upsert=true",
                   R"({"identifier":")" + id + R"(","title":")" + id + R"(")" + rel + "}");
    ASSERT_EQ(r.status, 201) << r.body;
  }

  fs::path dir_;
  std::string ws_path_;
  NewCredential cred_;
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
  std::string token_;
};

TEST_F(ApiTest, TokenExchangeAndAuthentication) {
  // Ocean and Terraform read these fields.
  Reply ok = Call("POST", "/v1/auth/access_token",
                  R"({"clientId":")" + cred_.client_id + R"(","clientSecret":")" +
                      cred_.client_secret + R"("})",
                  {}, false);
  EXPECT_EQ(ok.json.Get("ok"), json::Value(true));
  EXPECT_EQ(ok.json.Get("tokenType"), json::Value("Bearer"));
  EXPECT_EQ(ok.json.Get("expiresIn"), json::Value(3600));
  EXPECT_FALSE(ok.json.Get("accessToken").as_string().empty());

  Reply bad = Call("POST", "/v1/auth/access_token",
                   R"({"clientId":")" + cred_.client_id + R"(","clientSecret":"nope"})", {},
                   false);
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(bad.json.Get("ok"), json::Value(false));
  EXPECT_EQ(Call("POST", "/v1/auth/access_token", R"({"clientId":"x"})", {}, false).status, 422);
  EXPECT_EQ(Call("POST", "/v1/auth/access_token", "{not json", {}, false).status, 400);

  // Every /v1 route needs a valid token.
  EXPECT_EQ(Call("GET", "/v1/blueprints", "", {}, false).status, 401);
  EXPECT_EQ(Call("GET", "/v1/blueprints", "", {{"Authorization", "Bearer abc.def.ghi"}}, false)
                .status,
            401);
  std::string tampered = token_;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(Call("GET", "/v1/blueprints", "", {{"Authorization", "Bearer " + tampered}}, false)
                .status,
            401);
  EXPECT_EQ(Call("GET", "/v1/blueprints").status, 200);
}

TEST_F(ApiTest, RevokedCredentialStopsWorking) {
  {
    workspace::OpenOptions oo;
    auto ws = workspace::Workspace::Open(ws_path_, oo);
    ASSERT_TRUE(ws.ok());
    ASSERT_TRUE(RevokeCredential(**ws, cred_.client_id).ok());
  }
  // Another process revoked it: the server rereads credentials within kReloadSeconds.
  std::this_thread::sleep_for(std::chrono::milliseconds(
      static_cast<int>(kReloadSeconds * 1000) + 200));
  EXPECT_EQ(Call("GET", "/v1/blueprints").status, 401);
}

TEST_F(ApiTest, Seed003CustomApiDeploymentMovesAggregations) {
  Service("your-service-identifier", "payments");
  // Seed 003's "Custom API" snippet, verbatim body.
  Reply r = Call("POST", "/v1/blueprints/deployment/entities?upsert=true&merge=true", R"({
    "identifier": "custom-deployment-1234",
    "title": "Custom Deployment 1234",
    "properties": {
      "environment": "Production",
      "createdAt": "2026-11-20T12:00:00Z",
      "deploymentStatus": "Success"
    },
    "relations": {
      "service": "your-service-identifier"
    }
  })");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.json.Get("ok"), json::Value(true));
  EXPECT_EQ(r.json.Get("entity").Get("identifier"), json::Value("custom-deployment-1234"));
  // Read-your-writes: the service's and the team's aggregations moved when the write answered.
  json::Value svc = Entity("service", "your-service-identifier");
  EXPECT_EQ(svc.Get("properties").Get("total_deployments"), json::Value(1));
  json::Value team = Entity("_team", "payments");
  EXPECT_FALSE(team.Get("properties").Get("deployment_frequency_per_service").is_null())
      << json::Write(team);
}

TEST_F(ApiTest, SearchRelationAndIdsUrlEncoded) {
  // Identifiers may hold '+', '/', ':' and '@': encodeURIComponent and Ocean's quote_plus send
  // them percent-encoded; a raw '+' stays a '+' (no valid identifier has a space).
  Service("team:a+b/c@d");
  EXPECT_EQ(Call("GET", "/v1/blueprints/service/entities/team%3Aa%2Bb%2Fc%40d").status, 200);
  EXPECT_EQ(Call("GET", "/v1/blueprints/service/entities/team:a+b%2Fc@d").status, 200);
  EXPECT_EQ(Call("DELETE", "/v1/blueprints/service/entities/team%3Aa%2Bb%2Fc%40d").status, 200);
  ASSERT_EQ(Call("POST", "/v1/blueprints/service/entities",
                 R"({"identifier":"checkout-api","title":"Checkout API"})").status,
            201);
  // Seed 004's Octopus snippet: the service found by a search relation on $title.
  Reply r = Call("POST", "/v1/blueprints/deployment/entities?upsert=true&merge=true", R"({
    "identifier": "octopus-77", "title": "Deployment for Octopus 77",
    "properties": {"environment": "Production", "createdAt": "2026-11-30T10:00:00Z",
                   "deploymentStatus": "Success"},
    "relations": {"service": {"combinator": "and",
                              "rules": [{"property": "$title", "operator": "=",
                                         "value": "Checkout API"}]}}})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.json.Get("entity").Get("relations").Get("service"), json::Value("checkout-api"));
  // A search identifier ("map by property"): the entity it finds is updated.
  Reply by_title = Call("POST", "/v1/blueprints/service/entities?upsert=true&merge=true", R"({
    "identifier": {"combinator": "and",
                   "rules": [{"property": "$title", "operator": "=", "value": "Checkout API"}]},
    "properties": {"language": "Go"}})");
  ASSERT_EQ(by_title.status, 201) << by_title.body;
  EXPECT_EQ(Entity("service", "checkout-api").Get("properties").Get("language"), json::Value("Go"));
  EXPECT_EQ(Count("service"), 1u);
}

TEST_F(ApiTest, EntityLifecycleAndErrors) {
  Service("svc");
  // Create-only: a second create is 409.
  const std::string body = R"({"identifier":"d1","properties":{"environment":"Staging"},
                              "relations":{"service":"svc"}})";
  EXPECT_EQ(Call("POST", "/v1/blueprints/deployment/entities", body).status, 201);
  Reply dup = Call("POST", "/v1/blueprints/deployment/entities", body);
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(dup.json.Get("error"), json::Value("identifier_taken"));
  // PATCH merges; PUT replaces.
  Reply p = Call("PATCH", "/v1/blueprints/deployment/entities/d1",
                 R"({"properties":{"deploymentStatus":"Failed"}})");
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(p.json.Get("entity").Get("properties").Get("environment"), json::Value("Staging"));
  EXPECT_EQ(p.json.Get("entity").Get("properties").Get("deploymentStatus"), json::Value("Failed"));
  Reply put = Call("PUT", "/v1/blueprints/deployment/entities/d1",
                   R"({"properties":{"environment":"Production"}})");
  ASSERT_EQ(put.status, 200);
  EXPECT_TRUE(put.json.Get("entity").Get("properties").Get("deploymentStatus").is_null());
  // include/exclude.
  Reply inc = Call("GET", "/v1/blueprints/deployment/entities/d1?include=identifier&include="
                          "properties.environment");
  EXPECT_EQ(json::Write(inc.json.Get("entity")),
            R"({"identifier":"d1","properties":{"environment":"Production"}})");
  // Schema violation: 422 naming the property, nothing written.
  Reply bad = Call("POST", "/v1/blueprints/deployment/entities?upsert=true",
                   R"({"identifier":"d2","properties":{"environment":"Mars"}})");
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.json.Get("message").as_string().find("environment"), std::string::npos);
  EXPECT_EQ(Call("GET", "/v1/blueprints/deployment/entities/d2").status, 404);
  // Unknown property key: 422 blueprint_schema_mismatch.
  Reply unknown = Call("POST", "/v1/blueprints/deployment/entities?upsert=true",
                       R"({"identifier":"d3","properties":{"nope":1}})");
  EXPECT_EQ(unknown.status, 422);
  EXPECT_EQ(unknown.json.Get("error"), json::Value("blueprint_schema_mismatch"));
  // Missing related entity: 404 not_found (Ocean reads it so) unless created.
  Reply missing = Call("POST", "/v1/blueprints/deployment/entities?upsert=true",
                       R"({"identifier":"d4","relations":{"service":"ghost"}})");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.json.Get("error"), json::Value("not_found"));
  EXPECT_EQ(Call("POST",
                 "/v1/blueprints/deployment/entities?upsert=true&create_missing_related_entities="
                 "true&ocean_info_resync_id=abc",
                 R"({"identifier":"d4","relations":{"service":"ghost"}})")
                .status,
            201);
  EXPECT_EQ(Call("GET", "/v1/blueprints/service/entities/ghost").status, 200);
  // validation_only writes nothing.
  EXPECT_EQ(Call("POST", "/v1/blueprints/deployment/entities?validation_only=true",
                 R"({"identifier":"d5","properties":{"environment":"Production"}})")
                .status,
            200);
  EXPECT_EQ(Call("GET", "/v1/blueprints/deployment/entities/d5").status, 404);
  // Unknown blueprint, bad JSON, not an object.
  EXPECT_EQ(Call("POST", "/v1/blueprints/nope/entities", R"({"identifier":"x"})").status, 404);
  EXPECT_EQ(Call("POST", "/v1/blueprints/deployment/entities", "{oops").status, 400);
  EXPECT_EQ(Call("POST", "/v1/blueprints/deployment/entities", "[1]").status, 400);
  // Deeply nested JSON is refused, and the server lives on.
  Reply deep = Call("POST", "/v1/blueprints/deployment/entities", std::string(100000, '['));
  EXPECT_EQ(deep.status, 400);
  EXPECT_NE(deep.json.Get("message").as_string().find("nested deeper than 512"),
            std::string::npos);
  // Delete, then 404.
  EXPECT_EQ(Call("DELETE", "/v1/blueprints/deployment/entities/d1").status, 200);
  EXPECT_EQ(Call("DELETE", "/v1/blueprints/deployment/entities/d1").status, 404);
  // A required relation protects its target unless delete_dependents.
  EXPECT_EQ(Count("deployment"), 1u);
}

TEST_F(ApiTest, BulkWith207AndPerIndexErrors) {
  Service("svc");
  Reply r = Call("POST", "/v1/blueprints/deployment/entities/bulk?upsert=true", R"({"entities":[
      {"identifier":"b1","properties":{"environment":"Production","deploymentStatus":"Success"},
       "relations":{"service":"svc"}},
      {"identifier":"b2","properties":{"environment":"Moon"}},
      {"identifier":"b3","properties":{"environment":"Production","deploymentStatus":"Success"},
       "relations":{"service":"svc"}}]})");
  ASSERT_EQ(r.status, 207) << r.body;
  ASSERT_EQ(r.json.Get("entities").size(), 2u);
  EXPECT_EQ(r.json.Get("entities").as_array()[1].Get("index"), json::Value(2));
  EXPECT_EQ(r.json.Get("entities").as_array()[0].Get("created"), json::Value(true));
  ASSERT_EQ(r.json.Get("errors").size(), 1u);
  const json::Value& e = r.json.Get("errors").as_array()[0];
  EXPECT_EQ(e.Get("index"), json::Value(1));
  EXPECT_EQ(e.Get("identifier"), json::Value("b2"));
  EXPECT_EQ(e.Get("statusCode"), json::Value(422));
  EXPECT_EQ(Count("deployment"), 2u);
  EXPECT_EQ(Entity("service", "svc").Get("properties").Get("total_deployments"), json::Value(2));

  Reply all_ok = Call("POST", "/v1/blueprints/deployment/entities/bulk?upsert=true",
                      R"({"entities":[{"identifier":"b4"}]})");
  EXPECT_EQ(all_ok.status, 200);
  // Bulk delete and count.
  Reply del = Call("POST", "/v1/blueprints/deployment/bulk/entities/delete",
                   R"({"entities":["b1","b3","nope"]})");
  ASSERT_EQ(del.status, 200) << del.body;
  EXPECT_EQ(json::Write(del.json.Get("deletedEntities")), R"(["b1","b3"])");
  EXPECT_EQ(Count("deployment"), 1u);
  EXPECT_EQ(Entity("service", "svc").Get("properties").Get("total_deployments"), json::Value(0));
  // Delete all.
  Reply all = Call("DELETE", "/v1/blueprints/deployment/all-entities");
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(Call("GET", "/v1/migrations/" + all.json.Get("migrationId").as_string())
                .json.Get("migration")
                .Get("status"),
            json::Value("COMPLETE"));
  EXPECT_EQ(Count("deployment"), 0u);
}

TEST_F(ApiTest, SearchAndPaging) {
  for (int i = 0; i < 5; ++i) Service("s" + std::to_string(i));
  Reply all = Call("POST", "/v1/entities/search",
                   R"({"combinator":"and","rules":[{"property":"$blueprint","operator":"=",
                       "value":"service"}]})");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(all.json.Get("entities").size(), 5u);
  Reply page1 = Call("POST", "/v1/blueprints/service/entities/search",
                     R"({"query":{"combinator":"and","rules":[]},"limit":2,
                         "include":["identifier"]})");
  ASSERT_EQ(page1.status, 200) << page1.body;
  EXPECT_EQ(json::Write(page1.json.Get("entities")),
            R"([{"identifier":"s0"},{"identifier":"s1"}])");
  EXPECT_EQ(page1.json.Get("next"), json::Value("s2"));
  Reply page3 = Call("POST", "/v1/blueprints/service/entities/search",
                     R"({"limit":2,"from":"s4","include":["identifier"]})");
  EXPECT_EQ(json::Write(page3.json.Get("entities")), R"([{"identifier":"s4"}])");
  EXPECT_TRUE(page3.json.Get("next").is_null());
  Reply bad = Call("POST", "/v1/entities/search", R"({"combinator":"xor","rules":[]})");
  EXPECT_EQ(bad.status, 422);
}

TEST_F(ApiTest, BlueprintsCrud) {
  const size_t pack = Call("GET", "/v1/blueprints").json.Get("blueprints").size();
  Reply created = Call("POST", "/v1/blueprints",
                       R"({"identifier":"env","title":"Environment","schema":{"properties":
                           {"region":{"type":"string"}}}})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.json.Get("blueprint").Get("identifier"), json::Value("env"));
  EXPECT_EQ(Call("POST", "/v1/blueprints", R"({"identifier":"env","schema":{}})").status, 409);
  Reply patched = Call("PATCH", "/v1/blueprints/env", R"({"title":"Env"})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.json.Get("blueprint").Get("title"), json::Value("Env"));
  EXPECT_TRUE(patched.json.Get("blueprint").Get("schema").Get("properties").Has("region"));
  // A broken blueprint is rejected naming the field; the catalog is unchanged.
  Reply bad = Call("PUT", "/v1/blueprints/env",
                   R"({"schema":{"properties":{"region":{"type":"colour"}}}})");
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_EQ(Call("GET", "/v1/blueprints/env").json.Get("blueprint").Get("title"),
            json::Value("Env"));
  EXPECT_EQ(Call("DELETE", "/v1/blueprints/env").status, 200);
  EXPECT_EQ(Call("GET", "/v1/blueprints/env").status, 404);
  EXPECT_EQ(Call("GET", "/v1/blueprints").json.Get("blueprints").size(), pack);
}

TEST_F(ApiTest, PagesCrudWithTheSeedDashboard) {
  auto page = json::ParseFile(std::string(PORTOLAN_SOURCE_DIR) +
                              "/blueprints/dora/pages/dashboard.json");
  ASSERT_TRUE(page.ok());
  Reply r = Call("POST", "/v1/pages", json::Write(*page));
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = page->Get("identifier").as_string();
  EXPECT_EQ(Call("POST", "/v1/pages", json::Write(*page)).status, 409);
  EXPECT_EQ(Call("GET", "/v1/pages/" + id).json.Get("page").Get("widgets"), page->Get("widgets"));
  EXPECT_EQ(Call("PATCH", "/v1/pages/" + id, R"({"title":"DORA"})").json.Get("page").Get("title"),
            json::Value("DORA"));
  EXPECT_EQ(Call("GET", "/v1/pages").json.Get("pages").size(), 1u);
  EXPECT_EQ(Call("DELETE", "/v1/pages/" + id).status, 200);
  EXPECT_EQ(Call("GET", "/v1/pages/" + id).status, 404);
  EXPECT_EQ(Call("POST", "/v1/pages", R"({"title":"no id"})").status, 400);
}

// A GitHub-style webhook: HMAC-SHA256 of the raw body in X-Hub-Signature-256, deliveries
// deduplicated by X-GitHub-Delivery.
TEST_F(ApiTest, CustomWebhookSignedDeliveriesAndDuplicates) {
  Service("checkout-api");
  Reply created = Call("POST", "/v1/webhooks", R"({
    "identifier": "github-deployments", "title": "GitHub deployments",
    "security": {"secret": "It's a Secret to Everybody",
                 "signatureHeaderName": "X-Hub-Signature-256",
                 "signatureAlgorithm": "sha256", "signaturePrefix": "sha256=",
                 "requestIdentifierPath": ".headers['x-github-delivery']"},
    "mappings": [{
      "blueprint": "deployment",
      "filter": ".headers['x-github-event'] == \"deployment_status\"",
      "entity": {
        "identifier": ".body.deployment_status.id | tostring",
        "title": ".body.deployment.description",
        "properties": {
          "environment": "if .body.deployment.environment == \"production\" then \"Production\" else \"Staging\" end",
          "deploymentStatus": "if .body.deployment_status.state == \"success\" then \"Success\" else \"Failed\" end",
          "createdAt": ".body.deployment_status.created_at"
        },
        "relations": {"service": ".body.repository.name"}
      }
    }, {
      "blueprint": "deployment", "operation": "delete",
      "filter": ".headers['x-github-event'] == \"deployment_deleted\"",
      "entity": {"identifier": ".body.id | tostring"}
    }]})");
  ASSERT_EQ(created.status, 201) << created.body;
  const json::Value& hook = created.json.Get("integration");
  const std::string key = hook.Get("webhookKey").as_string();
  EXPECT_EQ(hook.Get("url").as_string(),
            "http://127.0.0.1:" + std::to_string(port_) + "/ingest/" + key);
  EXPECT_EQ(hook.Get("security").Get("secret"), json::Value("********"));

  const std::string body = R"({"deployment_status":{"id":991,"state":"success",
      "created_at":"2026-11-30T09:00:00Z"},"deployment":{"environment":"production",
      "description":"ship it"},"repository":{"name":"checkout-api"}})";
  const std::string sig = "sha256=" + HexEncode(HmacSha256("It's a Secret to Everybody", body));
  auto deliver = [&](const std::string& signature, const std::string& delivery,
                     const std::string& event = "deployment_status",
                     const std::string& payload = "") {
    return Call("POST", "/ingest/" + key, payload.empty() ? body : payload,
                {{"X-Hub-Signature-256", signature},
                 {"X-GitHub-Event", event},
                 {"X-GitHub-Delivery", delivery}},
                false);
  };
  // Bad signature, wrong secret, missing header: 401, nothing queued or written.
  EXPECT_EQ(deliver("sha256=" + std::string(64, '0'), "g1").status, 401);
  EXPECT_EQ(Call("POST", "/ingest/" + key, body, {{"X-GitHub-Event", "deployment_status"}}, false)
                .status,
            401);
  EXPECT_EQ(Call("POST", "/ingest/nope", body, {}, false).status, 404);
  DrainIntake();
  EXPECT_EQ(Count("deployment"), 0u);

  Reply ok = deliver(sig, "g2");
  EXPECT_EQ(ok.status, 202) << ok.body;
  Reply again = deliver(sig, "g2");  // GitHub redelivers the same delivery id
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.json.Get("duplicate"), json::Value(true));
  DrainIntake();
  json::Value d = Entity("deployment", "991");
  EXPECT_EQ(d.Get("title"), json::Value("ship it"));
  EXPECT_EQ(d.Get("properties").Get("environment"), json::Value("Production"));
  EXPECT_EQ(d.Get("relations").Get("service"), json::Value("checkout-api"));
  EXPECT_EQ(Entity("service", "checkout-api").Get("properties").Get("total_deployments"),
            json::Value(1));

  // The delete operation.
  const std::string del = R"({"id":991})";
  Reply gone = deliver("sha256=" + HexEncode(HmacSha256("It's a Secret to Everybody", del)), "g3",
                       "deployment_deleted", del);
  EXPECT_EQ(gone.status, 202);
  DrainIntake();
  EXPECT_EQ(Count("deployment"), 0u);
}

// PagerDuty signs with v1=<hex>, several during key rotation.
TEST_F(ApiTest, PagerDutySignatureRotation) {
  Reply created = Call("POST", "/v1/webhooks", R"({
    "identifier": "pd", "security": {"secret": "new-secret",
      "signatureHeaderName": "X-PagerDuty-Signature", "signatureAlgorithm": "sha256",
      "signaturePrefix": "v1=", "requestIdentifierPath": ".body.event.id"},
    "mappings": [{"blueprint": "pagerdutyIncident",
      "filter": ".body.event.resource_type == \"incident\"",
      "entity": {"identifier": ".body.event.data.id", "title": ".body.event.data.title",
        "properties": {"status": ".body.event.data.status"}}}]})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string key = created.json.Get("integration").Get("webhookKey").as_string();
  const std::string body = R"({"event":{"id":"e1","event_type":"incident.triggered",
      "resource_type":"incident","data":{"id":"PD1","title":"down","status":"triggered"}}})";
  const std::string header = "v1=" + HexEncode(HmacSha256("old-secret", body)) + ", v1=" +
                             HexEncode(HmacSha256("new-secret", body));
  EXPECT_EQ(Call("POST", "/ingest/" + key, body, {{"X-PagerDuty-Signature", header}}, false).status,
            202);
  DrainIntake();
  EXPECT_EQ(Entity("pagerdutyIncident", "PD1").Get("properties").Get("status"),
            json::Value("triggered"));
}

TEST_F(ApiTest, WebhookConfigErrorsNameTheField) {
  Reply r = Call("POST", "/v1/webhooks", R"({"identifier":"w","mappings":[{"blueprint":"deployment",
      "entity":{"identifier":".body.id","properties":{"environment":".body | oops("}}}]})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.json.Get("message").as_string().find("properties.environment"), std::string::npos)
      << r.body;
  EXPECT_EQ(Call("GET", "/v1/webhooks/w").status, 404);
}

TEST_F(ApiTest, QueuedEventsSurviveARestart) {
  Service("svc");
  Reply created = Call("POST", "/v1/webhooks", R"({"identifier":"q","mappings":[{
      "blueprint":"deployment","entity":{"identifier":".body.id",
      "relations":{"service":".body.service"}}}]})");
  ASSERT_EQ(created.status, 201);
  const std::string key = created.json.Get("integration").Get("webhookKey").as_string();
  // Stop the worker so the event stays queued, as if the process died after answering 202.
  server_->intake().Stop();
  EXPECT_EQ(Call("POST", "/ingest/" + key, R"({"id":"q1","service":"svc"})", {}, false).status, 202);
  server_->Stop();
  server_.reset();
  // A new server processes what was queued.
  ServeOptions o;
  o.workspace = ws_path_;
  o.listen = "127.0.0.1:0";
  o.clock.fixed_now = kNow;
  auto s = Server::Start(o);
  ASSERT_TRUE(s.ok()) << s.status().message();
  server_ = std::move(*s);
  port_ = server_->http().port();
  for (int i = 0; i < 100 && Call("GET", "/v1/blueprints/deployment/entities/q1").status != 200;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(Entity("deployment", "q1").Get("relations").Get("service"), json::Value("svc"));
}

TEST_F(ApiTest, DatadogDoraDeploymentAndFailure) {
  Service("shopist");
  const std::string dd = cred_.client_secret;
  // The pull request merged as the deployed commit: its lead time reaches the deployment.
  Reply pr = Call("POST", "/v1/blueprints/githubPullRequest/entities?upsert=true", R"({
      "identifier":"shopist42","properties":{"status":"merged",
      "mergeCommitSha":"66adc9350f2cc9b250b69abddab733dd55e1a588",
      "createdAt":"2026-11-28T00:00:00Z","mergedAt":"2026-11-29T12:00:00Z",
      "cycle_time_hours":36},
      "relations":{"service":"shopist"}})");
  ASSERT_EQ(pr.status, 201) << pr.body;
  // datadog-ci's body: started_at/finished_at in nanoseconds.
  Reply r = Call("POST", "/api/v2/dora/deployment", R"({"data":{"attributes":{
      "service":"shopist","env":"prod","version":"v1.2.3",
      "started_at":1796000000000000000,"finished_at":1796000060000000000,
      "git":{"repository_url":"https://github.com/acme/shopist","commit_sha":"66adc9350f2cc9b250b69abddab733dd55e1a588"}}}})",
                 {{"DD-API-KEY", dd}}, false);
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.json.Get("data").Get("type"), json::Value("dora_deployment"));
  EXPECT_FALSE(r.json.Has("ok"));
  DrainIntake();
  json::Value d = Entity("deployment", "shopist-1796000000000000000");
  EXPECT_EQ(d.Get("properties").Get("environment"), json::Value("Production"));
  EXPECT_EQ(d.Get("properties").Get("deploymentStatus"), json::Value("Success"));
  EXPECT_EQ(d.Get("properties").Get("createdAt"), json::Value("2026-11-30T00:54:20Z"));
  EXPECT_EQ(d.Get("relations").Get("pullRequest"), json::Value("shopist42"));
  EXPECT_EQ(d.Get("properties").Get("lead_time_for_changes_hours"), json::Value(36));
  EXPECT_EQ(Entity("service", "shopist").Get("properties").Get("total_deployments"),
            json::Value(1));

  // Seed 002's incident (legacy path), then its resolution by a second event.
  Reply inc = Call("POST", "/api/v2/dora/incident", R"({"data":{"attributes":{
      "services":["shopist"],"team":"shopist-devs","started_at":1796000100000000000,
      "env":"prod","name":"Web server is down failing all requests","severity":"High"}}})",
                   {{"DD-API-KEY", dd}}, false);
  ASSERT_EQ(inc.status, 202) << inc.body;
  DrainIntake();
  const std::string id = "dd-prod-shopist-1796000100000000000";
  EXPECT_EQ(Entity("pagerdutyIncident", id).Get("properties").Get("status"),
            json::Value("triggered"));
  Reply res = Call("POST", "/api/v2/dora/failure", R"({"data":{"attributes":{
      "services":["shopist"],"started_at":1796000100000000000,"finished_at":1796001900000000000,
      "env":"prod","name":"Web server is down failing all requests"}}})",
                   {{"DD-API-KEY", dd}}, false);
  ASSERT_EQ(res.status, 202);
  DrainIntake();
  json::Value resolved = Entity("pagerdutyIncident", id);
  EXPECT_EQ(resolved.Get("properties").Get("status"), json::Value("resolved"));
  EXPECT_EQ(resolved.Get("properties").Get("recoveryTime"), json::Value(30));
  EXPECT_EQ(resolved.Get("relations").Get("service"), json::Value("shopist"));

  // 400 for what Datadog requires, 403 for a bad key; nothing written.
  Reply missing = Call("POST", "/api/v2/dora/deployment",
                       R"({"data":{"attributes":{"service":"shopist"}}})", {{"DD-API-KEY", dd}},
                       false);
  EXPECT_EQ(missing.status, 400);
  EXPECT_NE(missing.body.find("started_at"), std::string::npos);
  EXPECT_EQ(Call("POST", "/api/v2/dora/failure", R"({"data":{"attributes":{"started_at":1}}})",
                 {{"DD-API-KEY", dd}}, false)
                .status,
            400);
  EXPECT_EQ(Call("POST", "/api/v2/dora/deployment", "{}", {{"DD-API-KEY", "wrong"}}, false).status,
            403);
  EXPECT_EQ(Call("POST", "/api/v2/dora/deployment", "{}", {}, false).status, 403);
  DrainIntake();
  EXPECT_EQ(Count("deployment"), 1u);
}

// PagerDuty v3 webhooks sent to Datadog's intake path, matched to the catalog as Datadog does.
TEST_F(ApiTest, PagerDutyThroughDatadogIsMatchedToServices) {
  Service("checkout-api", "payments");
  ASSERT_EQ(Call("POST", "/v1/blueprints/service/entities?upsert=true",
                 R"({"identifier":"search-api","title":"Search API",
                     "properties":{"url":"https://acme.pagerduty.com/service-directory/PSRCH"}})")
                .status,
            201);
  auto event = [](const std::string& id, const std::string& type, const std::string& status,
                  const std::string& service, const std::string& url,
                  const std::string& occurred) {
    return R"({"event":{"id":")" + id + R"(","event_type":")" + type +
           R"(","resource_type":"incident","occurred_at":")" + occurred +
           R"(","data":{"id":"Q1)" + service.substr(0, 1) + R"(","type":"incident","title":"down",
           "status":")" + status + R"(","urgency":"high","created_at":"2026-11-30T10:00:00Z",
           "html_url":"https://acme.pagerduty.com/incidents/Q1",
           "service":{"id":"PX","summary":")" + service + R"(","html_url":")" + url + R"("},
           "teams":[{"summary":"Payments"}]}}})";
  };
  const std::string dd = cred_.client_secret;
  // (2) the service name, case-insensitively.
  Reply r = Call("POST", "/api/v2/webhook/",
                 event("ev1", "incident.triggered", "triggered", "Checkout-API",
                       "https://acme.pagerduty.com/service-directory/PNONE", "2026-11-30T10:00:00Z"),
                 {{"DD-API-KEY", dd}}, false);
  ASSERT_EQ(r.status, 202) << r.body;
  DrainIntake();
  json::Value inc = Entity("pagerdutyIncident", "Q1C");
  EXPECT_EQ(inc.Get("relations").Get("service"), json::Value("checkout-api")) << json::Write(inc);
  EXPECT_EQ(inc.Get("properties").Get("status"), json::Value("triggered"));
  // Resolved 45 minutes later: recovery time and the service's incident count.
  r = Call("POST", "/api/v2/webhook",
           event("ev2", "incident.resolved", "resolved", "Checkout-API", "", "2026-11-30T10:45:00Z"),
           {{"DD-API-KEY", dd}}, false);
  ASSERT_EQ(r.status, 202);
  DrainIntake();
  inc = Entity("pagerdutyIncident", "Q1C");
  EXPECT_EQ(inc.Get("properties").Get("recoveryTime"), json::Value(45));
  EXPECT_EQ(inc.Get("properties").Get("resolvedAt"), json::Value("2026-11-30T10:45:00Z"));
  // A redelivery (same event id) is dropped.
  EXPECT_EQ(Call("POST", "/api/v2/webhook",
                 event("ev2", "incident.resolved", "resolved", "Checkout-API", "",
                       "2026-11-30T10:45:00Z"),
                 {{"DD-API-KEY", dd}}, false)
                .status,
            200);
  // (1) the service URL wins over a name that matches nothing.
  r = Call("POST", "/api/v2/webhook",
           event("ev3", "incident.triggered", "triggered", "Search (prod)",
                 "https://acme.pagerduty.com/service-directory/PSRCH", "2026-11-30T11:00:00Z"),
           {{"DD-API-KEY", dd}}, false);
  ASSERT_EQ(r.status, 202);
  DrainIntake();
  EXPECT_EQ(Entity("pagerdutyIncident", "Q1S").Get("relations").Get("service"),
            json::Value("search-api"));
  // (3) only the team matches: the incident is kept, without a service.
  r = Call("POST", "/api/v2/webhook",
           event("ev4", "incident.triggered", "triggered", "Unknown", "", "2026-11-30T12:00:00Z"),
           {{"DD-API-KEY", dd}}, false);
  ASSERT_EQ(r.status, 202);
  DrainIntake();
  EXPECT_TRUE(Entity("pagerdutyIncident", "Q1U").Get("relations").Get("service").is_null());
  EXPECT_EQ(Call("POST", "/api/v2/webhook", "{}", {{"DD-API-KEY", "nope"}}, false).status, 403);
}

TEST_F(ApiTest, OversizedBodiesAre413WithNothingWritten) {
  Service("svc");
  std::string big(kApiBodyLimit + 10, ' ');
  big = R"({"identifier":"big","title":")" + std::string(kApiBodyLimit, 'x') + R"("})";
  Reply r = Call("POST", "/v1/blueprints/service/entities?upsert=true", big);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(Call("GET", "/v1/blueprints/service/entities/big").status, 404);
  Reply created = Call("POST", "/v1/webhooks", R"({"identifier":"w","mappings":[{
      "blueprint":"service","entity":{"identifier":".body.id"}}]})");
  const std::string key = created.json.Get("integration").Get("webhookKey").as_string();
  std::string hook_body = R"({"id":"w1","pad":")" + std::string(kWebhookBodyLimit, 'x') + R"("})";
  EXPECT_EQ(Call("POST", "/ingest/" + key, hook_body, {}, false).status, 413);
  DrainIntake();
  EXPECT_EQ(Call("GET", "/v1/blueprints/service/entities/w1").status, 404);
}

}  // namespace
}  // namespace portolan::server
