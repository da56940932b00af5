// The DORA pack (blueprints/dora, from Port's DORA guide, seed 003): service and team
// aggregations and the guide's tier calculations verbatim, at and around every threshold.
//
//   deploy frequency  >= 7 Elite, >= 1 High, >= 0.25 Medium, else Low (0 deployments: Low)
//   lead time (h)     <= 24 Elite, <= 168 High, <= 720 Medium, else Low (none: Low)
//   CFR (%)           floor(i / (d + i) * 100): <= 5 Elite, <= 20 High, <= 30 Medium, else Low
//   MTTR (min)        <= 60 Elite, <= 1440 High, <= 43200 Medium, else Low
#include <gtest/gtest.h>

#include "tests/derive/derive_fixture.h"

namespace portolan::derive::testing {
namespace {

class DoraTest : public DeriveTest {
 protected:
  void SetUp() override {
    DeriveTest::SetUp();
    Status s = LoadDoraPack();
    ASSERT_TRUE(s.ok()) << s.message();
  }

  void Team(const std::string& id) { Put("_team", R"({"identifier": ")" + id + R"("})"); }
  void Service(const std::string& id, const std::string& team = "") {
    std::string rel = team.empty() ? "{}" : R"({"team": ")" + team + R"("})";
    Put("service", R"({"identifier": ")" + id + R"(", "relations": )" + rel + "}");
  }
  // A deployment as the guide maps it: createdAt = merge time (a schema property).
  void Deploy(const std::string& service, const std::string& id, const std::string& at,
              const std::string& status = "Success", const std::string& env = "Production",
              const std::string& pr = "") {
    std::string rel = R"({"service": ")" + service + R"(")" +
                      (pr.empty() ? "" : R"(, "pullRequest": ")" + pr + R"(")") + "}";
    Put("deployment", R"({"identifier": ")" + id + R"(", "properties": {"deploymentStatus": ")" +
                          status + R"(", "environment": ")" + env + R"(", "createdAt": ")" + at +
                          R"("}, "relations": )" + rel + "}");
  }
  // n deployments of a service, the first at `first`, then every `step` seconds.
  void Deploys(const std::string& service, int n, const char* first, double step) {
    double t0 = T(first);
    for (int i = 0; i < n; ++i) {
      Deploy(service, service + "-d" + std::to_string(i), FormatIsoTime(t0 + i * step));
    }
  }
  void Pr(const std::string& service, const std::string& id, double hours,
          const std::string& merged_at = "2024-03-01T00:00:00Z") {
    Put("githubPullRequest", R"({"identifier": ")" + id +
                                 R"(", "properties": {"cycle_time_hours": )" +
                                 json::FormatNumber(hours) + R"(, "mergedAt": ")" + merged_at +
                                 R"("}, "relations": {"service": ")" + service + R"("}})");
  }
  void Incident(const std::string& service, const std::string& id, std::optional<double> minutes) {
    std::string props =
        minutes ? R"({"recoveryTime": )" + json::FormatNumber(*minutes) + "}" : "{}";
    Put("pagerdutyIncident", R"({"identifier": ")" + id + R"(", "properties": )" + props +
                                 R"(, "relations": {"service": ")" + service + R"("}})");
  }
  std::string Tier(const std::string& bp, const std::string& id, const std::string& key) {
    json::Value v = D(bp, id, key);
    return v.is_string() ? v.as_string() : json::Write(v);
  }
};

constexpr double kHour = 3600, kDay = 86400;

TEST_F(DoraTest, DeploymentFrequencyTiers) {
  // 7 in one week (Mon..Sun, span 6 d): 7 / 1 = 7 -> Elite (at the threshold).
  Service("s7");
  Deploys("s7", 7, "2024-03-04T00:00:00Z", kDay);
  // 6 in one week: 6 -> High.
  Service("s6");
  Deploys("s6", 6, "2024-03-04T00:00:00Z", kDay);
  // 13, every 16 h: span 192 h = 8 d -> 2 weeks: 13 / 2 = 6.5 -> High.
  Service("s65");
  Deploys("s65", 13, "2024-02-20T00:00:00Z", 16 * kHour);
  // 1 deployment: one period -> 1 -> High (at the threshold).
  Service("s1");
  Deploys("s1", 1, "2024-03-01T00:00:00Z", 0);
  // 2 over 50 d: ceil(50 / 7) = 8 weeks -> 0.25 -> Medium (at the threshold).
  Service("s025");
  Deploys("s025", 2, "2024-01-01T00:00:00Z", 50 * kDay);
  // 2 over 60 d: ceil(60 / 7) = 9 -> 0.222 -> Low.
  Service("s022");
  Deploys("s022", 2, "2024-01-01T00:00:00Z", 60 * kDay);
  // No deployments; only failed or staging ones: total 0 -> Low.
  Service("none");
  Service("failed");
  Deploy("failed", "f1", "2024-03-01T00:00:00Z", "Failed");
  Deploy("failed", "f2", "2024-03-01T00:00:00Z", "Success", "Staging");

  EXPECT_EQ(D("service", "s7", "deployment_frequency"), json::Value(7));
  EXPECT_EQ(Tier("service", "s7", "deploy_freq_tier"), "Elite");
  EXPECT_EQ(D("service", "s6", "deployment_frequency"), json::Value(6));
  EXPECT_EQ(Tier("service", "s6", "deploy_freq_tier"), "High");
  EXPECT_EQ(D("service", "s65", "deployment_frequency"), json::Value(6.5));
  EXPECT_EQ(Tier("service", "s65", "deploy_freq_tier"), "High");
  EXPECT_EQ(Tier("service", "s1", "deploy_freq_tier"), "High");
  EXPECT_EQ(D("service", "s025", "deployment_frequency"), json::Value(0.25));
  EXPECT_EQ(Tier("service", "s025", "deploy_freq_tier"), "Medium");
  EXPECT_EQ(N("service", "s022", "deployment_frequency"), 2.0 / 9);
  EXPECT_EQ(Tier("service", "s022", "deploy_freq_tier"), "Low");
  EXPECT_EQ(D("service", "none", "total_deployments"), json::Value(0));
  EXPECT_TRUE(D("service", "none", "deployment_frequency").is_null());
  EXPECT_EQ(Tier("service", "none", "deploy_freq_tier"), "Low");
  EXPECT_EQ(D("service", "failed", "total_deployments"), json::Value(0));
  EXPECT_EQ(Tier("service", "failed", "deploy_freq_tier"), "Low");
  // One more deployment moves s6 to 7 -> Elite.
  Deploy("s6", "s6-extra", "2024-03-05T12:00:00Z");
  EXPECT_EQ(Tier("service", "s6", "deploy_freq_tier"), "Elite");
  ExpectConsistent();
}

TEST_F(DoraTest, LeadTimeTiers) {
  // Average cycle_time_hours of PRs merged in the last 30 days (now = 2024-03-06T12:00Z).
  struct Case {
    const char* service;
    double hours;
    const char* tier;
  };
  const Case cases[] = {{"e24", 24, "Elite"},      {"h24", 24.5, "High"},   {"h168", 168, "High"},
                        {"m168", 168.5, "Medium"}, {"m720", 720, "Medium"}, {"l721", 721, "Low"}};
  for (const Case& c : cases) {
    Service(c.service);
    Pr(c.service, std::string(c.service) + "-pr", c.hours);
  }
  Service("nopr");
  Service("old");
  Pr("old", "old-pr", 1, "2024-01-15T00:00:00Z");  // merged 51 days ago: outside lastMonth
  for (const Case& c : cases) {
    EXPECT_EQ(D("service", c.service, "lead_time_for_changes"), json::Value(c.hours)) << c.service;
    EXPECT_EQ(Tier("service", c.service, "lead_time_tier"), c.tier) << c.service;
  }
  EXPECT_TRUE(D("service", "nopr", "lead_time_for_changes").is_null());
  EXPECT_EQ(Tier("service", "nopr", "lead_time_tier"), "Low");
  EXPECT_TRUE(D("service", "old", "lead_time_for_changes").is_null());
  EXPECT_EQ(Tier("service", "old", "lead_time_tier"), "Low");
  // Two PRs average: (20 + 30) / 2 = 25 -> High.
  Pr("e24", "e24-pr2", 26);
  EXPECT_EQ(D("service", "e24", "lead_time_for_changes"), json::Value(25));
  EXPECT_EQ(Tier("service", "e24", "lead_time_tier"), "High");
  // The deployment's mirror reads its PR's cycle time.
  Deploy("e24", "dep", "2024-03-02T00:00:00Z", "Success", "Production", "e24-pr2");
  EXPECT_EQ(D("deployment", "dep", "lead_time_for_changes_hours"), json::Value(26));
  ExpectConsistent();
}

TEST_F(DoraTest, LeadTimeWindowMovesWithNow) {
  Service("api");
  Pr("api", "recent", 10, "2024-03-01T00:00:00Z");
  Pr("api", "older", 30, "2024-02-10T00:00:00Z");                            // 25.5 days before now
  EXPECT_EQ(D("service", "api", "lead_time_for_changes"), json::Value(20));  // (10 + 30) / 2
  // now + 5 days: "older" is 30.5 days old -> out: 10 -> Elite.
  now_ = T("2024-03-11T12:00:00Z");
  ASSERT_TRUE(engine_->EnsureFresh(now_).ok());
  EXPECT_EQ(D("service", "api", "lead_time_for_changes"), json::Value(10));
  EXPECT_EQ(Tier("service", "api", "lead_time_tier"), "Elite");
  ExpectConsistent("now moved forward");
  // now + 40 days: nothing in the window -> null -> Low.
  now_ = T("2024-04-15T00:00:00Z");
  ASSERT_TRUE(engine_->EnsureFresh(now_).ok());
  EXPECT_TRUE(D("service", "api", "lead_time_for_changes").is_null());
  EXPECT_EQ(Tier("service", "api", "lead_time_tier"), "Low");
  // Back to the first now: the original values.
  now_ = kNow;
  ASSERT_TRUE(engine_->EnsureFresh(now_).ok());
  EXPECT_EQ(D("service", "api", "lead_time_for_changes"), json::Value(20));
  ExpectConsistent("now moved back");
}

TEST_F(DoraTest, ChangeFailureRateTiersWithFloor) {
  struct Case {
    const char* service;
    int incidents;
    int deployments;
    double cfr;  // floor(i / (d + i) * 100)
    const char* tier;
  };
  const Case cases[] = {
      {"c5", 1, 19, 5, "Elite"},      // 1/20 = 5%
      {"c526", 1, 18, 5, "Elite"},    // 5.26% -> floor 5
      {"c625", 1, 15, 6, "High"},     // 6.25% -> 6
      {"c20", 1, 4, 20, "High"},      // 20%
      {"c25", 1, 3, 25, "Medium"},    // 25%
      {"c30", 3, 7, 30, "Medium"},    // 30%
      {"c3077", 4, 9, 30, "Medium"},  // 30.77% -> 30
      {"c33", 1, 2, 33, "Low"},       // 33.3% -> 33
  };
  for (const Case& c : cases) {
    Service(c.service);
    Deploys(c.service, c.deployments, "2024-03-01T00:00:00Z", kHour);
    for (int i = 0; i < c.incidents; ++i) {
      Incident(c.service, std::string(c.service) + "-i" + std::to_string(i), 30);
    }
  }
  Service("nodeploy");
  Incident("nodeploy", "nd-i", 30);
  for (const Case& c : cases) {
    EXPECT_EQ(D("service", c.service, "total_incidents"), json::Value(c.incidents));
    EXPECT_EQ(D("service", c.service, "total_deployments"), json::Value(c.deployments));
    EXPECT_EQ(D("service", c.service, "change_failure_rate"), json::Value(c.cfr)) << c.service;
    EXPECT_EQ(Tier("service", c.service, "cfr_tier"), c.tier) << c.service;
  }
  EXPECT_TRUE(D("service", "nodeploy", "change_failure_rate").is_null());
  EXPECT_TRUE(D("service", "nodeploy", "cfr_tier").is_null());
  ExpectConsistent();
}

TEST_F(DoraTest, MttrTiers) {
  struct Case {
    const char* service;
    double minutes;
    const char* tier;
  };
  const Case cases[] = {{"m60", 60, "Elite"},        {"m61", 61, "High"},
                        {"m1440", 1440, "High"},     {"m1441", 1441, "Medium"},
                        {"m43200", 43200, "Medium"}, {"m43201", 43201, "Low"}};
  for (const Case& c : cases) {
    Service(c.service);
    Incident(c.service, std::string(c.service) + "-i", c.minutes);
  }
  // Average of two: (50 + 80) / 2 = 65 -> High.
  Service("avg");
  Incident("avg", "avg-1", 50);
  Incident("avg", "avg-2", 80);
  // Incidents without recoveryTime: mean null -> "Elite" per the guide; none at all -> null.
  Service("unresolved");
  Incident("unresolved", "u-1", std::nullopt);
  Service("quiet");
  for (const Case& c : cases) {
    EXPECT_EQ(D("service", c.service, "mean_time_to_recovery"), json::Value(c.minutes));
    EXPECT_EQ(Tier("service", c.service, "mttr_tier"), c.tier) << c.service;
  }
  EXPECT_EQ(D("service", "avg", "mean_time_to_recovery"), json::Value(65));
  EXPECT_EQ(Tier("service", "avg", "mttr_tier"), "High");
  EXPECT_TRUE(D("service", "unresolved", "mean_time_to_recovery").is_null());
  EXPECT_EQ(Tier("service", "unresolved", "mttr_tier"), "Elite");
  EXPECT_TRUE(D("service", "quiet", "mttr_tier").is_null());
  ExpectConsistent();
}

TEST_F(DoraTest, TeamLevel) {
  Team("core");
  Team("edge");
  Service("a", "core");
  Service("b", "core");
  Service("c", "edge");
  // core: a has 8, b has 6 deployments in the same week -> 14 per week over 2 services = 7.
  Deploys("a", 8, "2024-03-04T00:00:00Z", 12 * kHour);
  Deploys("b", 6, "2024-03-04T06:00:00Z", 12 * kHour);
  // edge: c has 2 deployments 3 weeks apart (exactly 21 d: 3 periods) -> 2 / 3 per service.
  Deploys("c", 2, "2024-02-01T00:00:00Z", 21 * kDay);
  Pr("a", "pr-a", 10);
  Pr("b", "pr-b", 40);
  Pr("c", "pr-c", 200);
  Incident("a", "i-a", 30);
  Incident("c", "i-c1", 100);
  Incident("c", "i-c2", 2000);

  EXPECT_EQ(D("_team", "core", "services_count"), json::Value(2));
  EXPECT_EQ(D("_team", "core", "total_deployments"), json::Value(14));
  EXPECT_EQ(D("_team", "core", "deployment_frequency"), json::Value(14));
  EXPECT_EQ(D("_team", "core", "deployment_frequency_per_service"), json::Value(7));
  EXPECT_EQ(Tier("_team", "core", "deploy_freq_tier"), "Elite");
  EXPECT_EQ(D("_team", "core", "lead_time_for_changes"), json::Value(25));  // (10 + 40) / 2
  EXPECT_EQ(Tier("_team", "core", "lead_time_tier"), "High");
  // CFR: 1 / (14 + 1) = 6.67% -> 6 -> High.
  EXPECT_EQ(D("_team", "core", "change_failure_rate"), json::Value(6));
  EXPECT_EQ(Tier("_team", "core", "cfr_tier"), "High");
  EXPECT_EQ(D("_team", "core", "mean_time_to_recovery"), json::Value(30));
  EXPECT_EQ(Tier("_team", "core", "mttr_tier"), "Elite");

  EXPECT_EQ(N("_team", "edge", "deployment_frequency_per_service"), 2.0 / 3);
  EXPECT_EQ(Tier("_team", "edge", "deploy_freq_tier"), "Medium");
  EXPECT_EQ(Tier("_team", "edge", "lead_time_tier"), "Medium");  // 200 h
  // CFR: 2 / (2 + 2) = 50% -> Low.
  EXPECT_EQ(D("_team", "edge", "change_failure_rate"), json::Value(50));
  EXPECT_EQ(Tier("_team", "edge", "cfr_tier"), "Low");
  EXPECT_EQ(D("_team", "edge", "mean_time_to_recovery"), json::Value(1050));  // (100+2000)/2
  EXPECT_EQ(Tier("_team", "edge", "mttr_tier"), "High");

  // Service b moves to edge: every team metric follows.
  Service("b", "edge");
  EXPECT_EQ(D("_team", "core", "services_count"), json::Value(1));
  EXPECT_EQ(D("_team", "core", "total_deployments"), json::Value(8));
  EXPECT_EQ(D("_team", "edge", "total_deployments"), json::Value(8));
  EXPECT_EQ(D("_team", "edge", "lead_time_for_changes"), json::Value(120));  // (40 + 200) / 2
  ExpectConsistent("after moving b");
  auto ex = engine_->Explain("_team", "edge", "deployment_frequency", now_);
  ASSERT_TRUE(ex.ok()) << ex.status().message();
  // edge now: c's 2 (Feb 1, Feb 22) + b's 6 (Mar 4 06:00 .. Mar 6 18:00): span 34 d 18 h
  // -> ceil(4.96) = 5 weeks -> 8 / 5 = 1.6.
  EXPECT_EQ(ex->Get("arithmetic").Get("periods"), json::Value(5));
  EXPECT_EQ(ex->Get("value"), json::Value(1.6));
  EXPECT_EQ(ex->Get("stored"), json::Value(1.6));
}

}  // namespace
}  // namespace portolan::derive::testing
