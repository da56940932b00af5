// gen_dora_data: deterministic example data for the DORA pack (blueprints/dora).
//
// Writes raw third-party API payloads, as the integrations would fetch them:
//   teams.json          GitHub teams                (kind team         -> _team)
//   repositories.json   GitHub repositories         (kind repository   -> service)
//   pull_requests.json  GitHub pull requests        (kind pull-request -> githubPullRequest,
//                                                    and deployment via the PR-merge strategy)
//   workflow_runs.json  GitHub Actions workflow runs (kind workflow-run -> deployment)
//   incidents.json      PagerDuty incidents         (kind incidents    -> pagerdutyIncident)
// Each file is one JSON array with one payload per line.
//
// Teams get different delivery profiles (cycled: Elite, High, Medium, Low) so the DORA tiers
// differ across teams. Services are dealt to teams round-robin (in reverse team order). Everything derives from --seed.
//
// Usage: gen_dora_data --out DIR [--teams N] [--services N] [--days N] [--end ISO] [--seed N]
//                      [--org NAME] [--summary]

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "engine/base/time.h"
#include "tools/gen/gen_common.h"

namespace portolan::gen {
namespace {

struct Profile {
  const char* name;             // expected tier
  double deploys_per_week;      // merged PRs into main per service
  double cycle_median_hours;    // PR creation -> merge
  double cycle_sigma;
  double incident_ratio;        // incidents / (deployments + incidents)
  double recovery_median_min;   // incident trigger -> resolve
  double recovery_sigma;
  double deploy_failure_prob;   // failed "Deploy to production" workflow runs
  bool force_recent_merge;      // make sure a PR merged in the last 30 days exists
};

// Thresholds (seed 003): DF/service/week Elite >= 7, High >= 1, Medium >= 0.25; lead time h
// Elite <= 24, High <= 168, Medium <= 720; CFR % Elite <= 5, High <= 20, Medium <= 30;
// MTTR min Elite <= 60, High <= 1440, Medium <= 43200.
const Profile kProfiles[] = {
    {"Elite", 9.5, 5.0, 0.8, 0.025, 20.0, 0.4, 0.02, true},
    {"High", 3.0, 40.0, 0.7, 0.12, 200.0, 0.6, 0.06, true},
    // Medium delivery, but a Low change failure rate tier (about a third of changes fail).
    {"Medium", 0.6, 220.0, 0.5, 0.35, 2400.0, 0.6, 0.12, true},
    {"Low", 0.15, 900.0, 0.4, 0.45, 48000.0, 0.3, 0.2, false},
};

struct TeamDef {
  const char* name;
  const char* description;
};
const TeamDef kTeams[] = {
    {"Storefront", "Customer-facing web and checkout experience"},
    {"Payments", "Payment processing, billing and ledgers"},
    {"Data Platform", "Pipelines, reporting and the data warehouse"},
    {"Identity", "Authentication, sessions and user profiles"},
    {"Search", "Search, ranking and recommendations"},
    {"Mobile", "iOS and Android apps and their backend-for-frontend"},
};

struct ServiceDef {
  const char* name;
  const char* language;
  const char* description;
};
// Dealt to teams in reverse round-robin order (service s goes to team T-1 - s % T), so with
// the default 3 teams and 8 services: Data Platform 3, Payments 3, Storefront 2 services.
const ServiceDef kServices[] = {
    {"reporting-etl", "Python", "Nightly and hourly reporting pipelines"},
    {"payments-service", "Java", "Card and wallet payment processing"},
    {"checkout-api", "Go", "Checkout and order placement API"},
    {"events-ingest", "Scala", "Event ingestion into the warehouse"},
    {"billing-engine", "Kotlin", "Invoices, subscriptions and dunning"},
    {"web-storefront", "TypeScript", "Next.js storefront"},
    {"metrics-exporter", "Go", "Business metrics export to the warehouse"},
    {"ledger", "Java", "Double-entry ledger"},
    {"auth-service", "Rust", "OAuth2 / OIDC provider"},
    {"search-api", "Python", "Search API and ranking"},
    {"mobile-bff", "TypeScript", "Backend for the mobile apps"},
    {"notification-worker", "Go", "Email, SMS and push delivery"},
};

const char* kFirstNames[] = {"Alice", "Bruno", "Chen", "Dana", "Emeka", "Farah", "Gus", "Hana",
                             "Ivan", "Jules", "Kofi", "Lena", "Mateo", "Nora", "Omar", "Priya",
                             "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wei", "Yara"};
const char* kLastNames[] = {"Martin", "Silva", "Wang", "Cohen", "Okafor", "Haddad", "Berg",
                            "Sato", "Petrov", "Laurent", "Mensah", "Novak", "Garcia", "Kim",
                            "Aziz", "Iyer", "Walsh", "Ortiz", "Lund", "Reddy", "Malik", "Costa",
                            "Zhou", "Nasser"};

struct Person {
  GhUser gh;
  std::string pd_id;  // PagerDuty user id
};

struct Team {
  std::string name, slug, description;
  int64_t gh_id = 0;
  const Profile* profile = nullptr;
  std::vector<int> members;   // indices into people
  std::vector<int> services;  // indices into services
  std::string pd_policy_id, pd_team_id;
};

struct Service {
  GhRepo repo;
  int team = 0;
  std::string pd_service_id;
  int64_t deploy_workflow_id = 0, ci_workflow_id = 0, staging_workflow_id = 0;
};

struct Incident {
  std::string id;
  int64_t number = 0;
  std::string title;
  int service = 0;
  int64_t created_at = 0;
  int64_t resolved_at = 0;  // 0 -> unresolved
  std::string status;
  std::string urgency;
  std::string priority;  // empty -> null
  int assignee = 0;      // person index
  std::string key;
  std::string log_entry_id;
  std::string source;  // monitoring tool that triggered it
};

struct Options {
  std::string out;
  int teams = 3;
  int services = 8;
  int days = 90;
  std::string end = "2026-11-01T00:00:00Z";
  uint64_t seed = 20261101;
  std::string org = "acme";
  bool summary = false;
};

[[noreturn]] void Usage(int code) {
  std::fprintf(code ? stderr : stdout,
               "Usage: gen_dora_data --out DIR [--teams N] [--services N] [--days N]\n"
               "                     [--end ISO] [--seed N] [--org NAME] [--summary]\n"
               "\n"
               "Writes teams.json, repositories.json, pull_requests.json, workflow_runs.json and\n"
               "incidents.json (GitHub and PagerDuty API payloads, one JSON array each) to DIR.\n"
               "  --teams N     teams (default 3); profiles cycle Elite, High, Medium, Low\n"
               "  --services N  services = repositories (default 8), dealt to teams round-robin\n"
               "                (last team first, so the Elite team owns the fewest)\n"
               "  --days N      history length in days (default 90)\n"
               "  --end ISO     every timestamp is before this (default 2026-11-01T00:00:00Z)\n"
               "  --seed N      random seed (default 20261101)\n"
               "  --org NAME    GitHub organization / PagerDuty subdomain (default acme)\n"
               "  --summary     print per-service counts and DORA inputs to stderr\n");
  std::exit(code);
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto need = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "gen_dora_data: %s needs a value\n", a.c_str());
        Usage(1);
      }
      return argv[++i];
    };
    auto num = [&](const std::string& v) -> long long {
      char* e = nullptr;
      long long n = std::strtoll(v.c_str(), &e, 10);
      if (v.empty() || *e != '\0' || n < 0) {
        std::fprintf(stderr, "gen_dora_data: %s: not a non-negative integer: %s\n", a.c_str(),
                     v.c_str());
        std::exit(1);
      }
      return n;
    };
    if (a == "--help" || a == "-h") Usage(0);
    else if (a == "--out") o.out = need();
    else if (a == "--teams") o.teams = static_cast<int>(num(need()));
    else if (a == "--services") o.services = static_cast<int>(num(need()));
    else if (a == "--days") o.days = static_cast<int>(num(need()));
    else if (a == "--end") o.end = need();
    else if (a == "--seed") o.seed = static_cast<uint64_t>(num(need()));
    else if (a == "--org") o.org = need();
    else if (a == "--summary") o.summary = true;
    else {
      std::fprintf(stderr, "gen_dora_data: unknown option %s\n", a.c_str());
      Usage(1);
    }
  }
  if (o.out.empty()) {
    std::fprintf(stderr, "gen_dora_data: --out DIR is required\n");
    Usage(1);
  }
  if (o.teams < 1 || o.services < 1 || o.days < 1) {
    std::fprintf(stderr, "gen_dora_data: --teams, --services and --days must be at least 1\n");
    std::exit(1);
  }
  return o;
}

class Generator {
 public:
  Generator(const Options& o, int64_t end) : o_(o), rng_(o.seed), end_(end) {
    start_ = end_ - static_cast<int64_t>(o.days) * 86400;
  }

  void Run() {
    MakeTeamsAndPeople();
    MakeServices();
    MakePulls();
    MakeRuns();
    MakeIncidents();
    std::filesystem::create_directories(o_.out);
    WriteTeams();
    WriteRepositories();
    WriteArray("pull_requests.json", pulls_.size(),
               [&](JsonWriter& w, size_t i) { WriteGhPull(w, pulls_[i]); });
    WriteArray("workflow_runs.json", runs_.size(),
               [&](JsonWriter& w, size_t i) { WriteGhRun(w, runs_[i]); });
    WriteArray("incidents.json", incidents_.size(),
               [&](JsonWriter& w, size_t i) { WriteIncident(w, incidents_[i]); });
    if (o_.summary) PrintSummary();
  }

 private:
  // --- entities ------------------------------------------------------------------------------

  void MakeTeamsAndPeople() {
    const int nteams = o_.teams;
    int person = 0;
    for (int t = 0; t < nteams; ++t) {
      Team team;
      const TeamDef& def = kTeams[t % std::size(kTeams)];
      team.name = def.name;
      if (t >= static_cast<int>(std::size(kTeams))) team.name += " " + std::to_string(t / 6 + 1);
      team.slug = Slugify(team.name);
      team.description = def.description;
      team.gh_id = 8'100'000 + 1'000 * t + static_cast<int64_t>(rng_.Below(900));
      team.profile = &kProfiles[t % std::size(kProfiles)];
      team.pd_policy_id = rng_.PagerDutyId('P', 7);
      team.pd_team_id = rng_.PagerDutyId('P', 7);
      const int members = 4 + static_cast<int>(rng_.Below(3));
      for (int m = 0; m < members; ++m, ++person) {
        Person p;
        const char* first = kFirstNames[person % std::size(kFirstNames)];
        const char* last = kLastNames[(person * 7 + 3) % std::size(kLastNames)];
        std::string login = Slugify(std::string(first)) + "-" + Slugify(std::string(last));
        if (person >= static_cast<int>(std::size(kFirstNames))) login += std::to_string(person);
        p.gh.login = login;
        p.gh.id = 10'000'000 + static_cast<int64_t>(rng_.Below(140'000'000));
        p.gh.name = std::string(first) + " " + last;
        p.gh.email = Slugify(std::string(first)) + "." + Slugify(std::string(last)) +
                     (person >= static_cast<int>(std::size(kFirstNames))
                          ? std::to_string(person) : std::string()) +
                     "@example.com";
        p.pd_id = rng_.PagerDutyId('P', 7);
        team.members.push_back(static_cast<int>(people_.size()));
        people_.push_back(std::move(p));
      }
      teams_.push_back(std::move(team));
    }
    dependabot_.login = "dependabot[bot]";
    dependabot_.id = 49699333;
    dependabot_.bot = true;
    dependabot_.name = "dependabot[bot]";
    dependabot_.email = "49699333+dependabot[bot]@users.noreply.github.com";
    org_id_ = 90'000'000 + static_cast<int64_t>(rng_.Below(9'000'000));
  }

  void MakeServices() {
    for (int s = 0; s < o_.services; ++s) {
      Service svc;
      const ServiceDef& def = kServices[s % std::size(kServices)];
      GhRepo& r = svc.repo;
      r.id = 600'000'000 + 1'000'000 * s + static_cast<int64_t>(rng_.Below(900'000));
      r.org = o_.org;
      r.org_id = org_id_;
      r.name = def.name;
      if (s >= static_cast<int>(std::size(kServices))) r.name += "-" + std::to_string(s);
      r.description = def.description;
      r.language = def.language;
      svc.team = o_.teams - 1 - s % o_.teams;
      r.team_slug = teams_[svc.team].slug;
      r.topics = {teams_[svc.team].slug, "service"};
      r.created_at = start_ - static_cast<int64_t>(rng_.Uniform(200, 1500) * 86400);
      r.pushed_at = r.created_at;  // raised to the last merge in MakePulls
      r.size_kb = 2'000 + static_cast<int64_t>(rng_.Below(60'000));
      r.open_issues = static_cast<int64_t>(rng_.Below(40));
      svc.pd_service_id = rng_.PagerDutyId('P', 7);
      svc.deploy_workflow_id = 50'000'000 + 100 * s + 1;
      svc.ci_workflow_id = 50'000'000 + 100 * s + 2;
      svc.staging_workflow_id = 50'000'000 + 100 * s + 3;
      teams_[svc.team].services.push_back(s);
      services_.push_back(std::move(svc));
    }
  }

  const GhUser* Member(int team) {
    const Team& t = teams_[team];
    return &people_[t.members[rng_.Below(t.members.size())]].gh;
  }
  std::vector<const GhUser*> Reviewers(int team, const GhUser* author) {
    std::vector<const GhUser*> out;
    const int want = 1 + static_cast<int>(rng_.Below(2));
    for (int tries = 0; tries < 10 && static_cast<int>(out.size()) < want; ++tries) {
      const GhUser* u = Member(team);
      if (u == author || std::find(out.begin(), out.end(), u) != out.end()) continue;
      out.push_back(u);
    }
    return out;
  }

  // Fills title, body, branch, author and people of a PR.
  void Decorate(GhPull& p, int s, bool allow_bot) {
    const int team = services_[s].team;
    if (allow_bot && rng_.Chance(0.05)) {
      static const std::vector<std::string> libs = {"axios", "lodash", "jackson-databind",
                                                    "golang.org/x/net", "requests", "serde",
                                                    "express", "log4j-core", "protobuf"};
      const std::string lib = rng_.Pick(libs);
      const int major = 1 + static_cast<int>(rng_.Below(5));
      const int minor = static_cast<int>(rng_.Below(20));
      const std::string from = std::to_string(major) + "." + std::to_string(minor) + ".0";
      const std::string to = std::to_string(major) + "." + std::to_string(minor + 1) + ".2";
      p.title = "Bump " + lib + " from " + from + " to " + to;
      p.head_ref = "dependabot/" + Slugify(lib) + "-" + to;
      p.author = &dependabot_;
      p.body = "Bumps " + lib + " from " + from + " to " + to +
               ".\n\n---\n\nDependabot will resolve any conflicts with this PR as long as you "
               "don't alter it yourself.\n";
      p.labels.push_back({4'100'000'001LL, "dependencies", "0366d6",
                          "Pull requests that update a dependency file"});
      p.reviewers = Reviewers(team, nullptr);
      return;
    }
    const std::string& verb = rng_.Pick(TitleVerbs());
    const std::string& object = rng_.Pick(TitleObjects());
    p.title = verb + " " + object;
    static const std::vector<std::string> prefixes = {"feature/", "fix/", "chore/", "feat/"};
    p.author = Member(team);
    p.head_ref = (verb == "Fix" ? std::string("fix/") : rng_.Pick(prefixes)) + Slugify(object);
    p.body = PullBody(rng_, p.title, 1000 + static_cast<int64_t>(rng_.Below(9000)));
    if (rng_.Chance(0.5)) p.assignees.push_back(p.author);
    p.reviewers = Reviewers(team, p.author);
    if (verb == "Fix" && rng_.Chance(0.6)) {
      p.labels.push_back({4'100'000'002LL, "bug", "d73a4a", "Something isn't working"});
    } else if (rng_.Chance(0.2)) {
      p.labels.push_back({4'100'000'003LL, "enhancement", "a2eeef", "New feature or request"});
    }
  }

  int64_t CycleSeconds(const Profile& pr) {
    double h = rng_.LogNormal(pr.cycle_median_hours, pr.cycle_sigma);
    h = std::clamp(h, 0.15, 24.0 * 120);
    return static_cast<int64_t>(h * 3600);
  }

  void MakePulls() {
    for (int s = 0; s < static_cast<int>(services_.size()); ++s) {
      const Profile& pr = *teams_[services_[s].team].profile;
      std::vector<GhPull> mine;
      // Merged into main: one deployment each (PR-merge strategy).
      std::vector<int64_t> merges = WorkTimeEvents(rng_, pr.deploys_per_week / 7.0, start_, end_);
      if (pr.force_recent_merge) {
        bool recent = false;
        for (int64_t m : merges) recent |= m >= end_ - 30 * 86400;
        if (!recent) {
          merges.push_back(end_ - static_cast<int64_t>(rng_.Uniform(2, 25) * 86400));
        }
      }
      // The Elite team's first service has just merged: its deploy run is still in progress.
      if (pr.deploys_per_week >= 7 && teams_[services_[s].team].services[0] == s) {
        merges.push_back(end_ - 120 - static_cast<int64_t>(rng_.Below(480)));
      }
      std::sort(merges.begin(), merges.end());
      for (int64_t m : merges) {
        GhPull p;
        p.repo = &services_[s].repo;
        Decorate(p, s, true);
        p.merged_at = m;
        p.closed_at = m;
        p.created_at = m - CycleSeconds(pr);
        mine.push_back(std::move(p));
      }
      const size_t n = merges.size();
      auto count = [&](double frac) {
        return std::max<size_t>(1, static_cast<size_t>(std::lround(frac * static_cast<double>(n))));
      };
      // Merged into another branch: not deployments (the selector wants base.ref == "main").
      for (size_t i = 0, k = count(0.05); i < k; ++i) {
        GhPull p;
        p.repo = &services_[s].repo;
        Decorate(p, s, false);
        p.base_ref = rng_.Chance(0.5) ? "develop" : "release/2026.10";
        p.merged_at = end_ - static_cast<int64_t>(rng_.Uniform(0.5, o_.days - 0.5) * 86400);
        p.closed_at = p.merged_at;
        p.created_at = p.merged_at - CycleSeconds(pr);
        mine.push_back(std::move(p));
      }
      // Closed without merging.
      for (size_t i = 0, k = count(0.07); i < k; ++i) {
        GhPull p;
        p.repo = &services_[s].repo;
        Decorate(p, s, true);
        p.created_at = start_ + static_cast<int64_t>(rng_.Uniform(0, o_.days - 3) * 86400);
        p.closed_at = p.created_at + static_cast<int64_t>(rng_.Exponential(48 * 3600.0)) + 600;
        if (p.closed_at >= end_) p.closed_at = end_ - 3600;
        mine.push_back(std::move(p));
      }
      // Still open (some drafts).
      for (size_t i = 0, k = count(0.04); i < k; ++i) {
        GhPull p;
        p.repo = &services_[s].repo;
        Decorate(p, s, true);
        const double window = std::max(3.0, 3 * pr.cycle_median_hours / 24.0);
        p.created_at = end_ - static_cast<int64_t>(rng_.Uniform(0.05, window) * 86400);
        p.draft = rng_.Chance(0.3);
        mine.push_back(std::move(p));
      }
      for (GhPull& p : mine) {
        const int64_t last = p.closed_at ? p.closed_at : p.created_at;
        p.updated_at = std::min<int64_t>(end_ - 1, last + static_cast<int64_t>(rng_.Below(900)));
        p.head_sha = rng_.Hex(40);
        p.base_sha = rng_.Hex(40);
        if (p.merged_at) p.merge_sha = rng_.Hex(40);
      }
      // Numbers follow creation order within the repository.
      std::sort(mine.begin(), mine.end(),
                [](const GhPull& a, const GhPull& b) { return a.created_at < b.created_at; });
      int64_t number = 40 + static_cast<int64_t>(rng_.Below(900));
      for (GhPull& p : mine) {
        p.number = number;
        number += 1 + (rng_.Chance(0.3) ? 1 : 0);  // issues share the numbering
        if (p.merged_at) {
          services_[s].repo.pushed_at = std::max(services_[s].repo.pushed_at, p.merged_at);
        }
      }
      for (GhPull& p : mine) pulls_.push_back(std::move(p));
    }
    // Ids grow with creation time across all repositories, as GitHub's do.
    std::stable_sort(pulls_.begin(), pulls_.end(),
                     [](const GhPull& a, const GhPull& b) { return a.created_at < b.created_at; });
    int64_t prev = 0;
    for (GhPull& p : pulls_) {
      int64_t id = 2'400'000'000LL + (p.created_at - start_) * 9 +
                   static_cast<int64_t>(rng_.Below(9));
      if (id <= prev) id = prev + 1 + static_cast<int64_t>(rng_.Below(5));
      p.id = id;
      prev = id;
    }
  }

  void MakeRuns() {
    struct Pending {
      GhRun run;
      int service;
      int kind;  // 0 deploy, 1 CI, 2 staging
    };
    std::vector<Pending> pend;
    for (const GhPull& p : pulls_) {
      const int s = static_cast<int>(&*std::find_if(
                        services_.begin(), services_.end(),
                        [&](const Service& x) { return &x.repo == p.repo; }) -
                    &services_[0]);
      const Profile& pr = *teams_[services_[s].team].profile;
      const std::string merge_msg = "Merge pull request #" + std::to_string(p.number) + " from " +
                                    p.repo->org + "/" + p.head_ref + "\n\n" + p.title;
      auto base_run = [&](const std::string& name, const std::string& path, int64_t wf,
                          const std::string& branch, int64_t created, const std::string& event,
                          const std::string& msg) {
        GhRun r;
        r.name = name;
        r.path = path;
        r.workflow_id = wf;
        r.head_branch = branch;
        r.head_sha = p.merge_sha.empty() ? p.head_sha : p.merge_sha;
        r.display_title = p.title;
        r.event = event;
        r.created_at = created;
        r.actor = p.author;
        r.repo = p.repo;
        r.commit_message = msg;
        return r;
      };
      if (p.merged_at && p.base_ref == "main") {
        // Deploy to production after every merge into main.
        GhRun r = base_run("Deploy to production", ".github/workflows/deploy.yml",
                           services_[s].deploy_workflow_id, "main",
                           p.merged_at + 20 + static_cast<int64_t>(rng_.Below(130)), "push",
                           merge_msg);
        const int64_t duration = 180 + static_cast<int64_t>(rng_.Below(720));
        if (r.created_at + duration >= end_ || p.merged_at >= end_ - 900) {
          r.status = "in_progress";
          r.updated_at = std::min(end_ - 1, r.created_at + 30);
        } else {
          r.conclusion = rng_.Chance(pr.deploy_failure_prob) ? "failure" : "success";
          r.updated_at = r.created_at + duration;
        }
        if (r.created_at < end_) pend.push_back({r, s, 0});
        // CI on main for some merges (filtered out by the deploy|CD name test).
        if (rng_.Chance(0.15)) {
          GhRun ci = base_run("CI", ".github/workflows/ci.yml", services_[s].ci_workflow_id, "main",
                              p.merged_at + 5 + static_cast<int64_t>(rng_.Below(60)), "push",
                              merge_msg);
          ci.conclusion = rng_.Chance(0.05) ? "failure" : "success";
          ci.updated_at = ci.created_at + 240 + static_cast<int64_t>(rng_.Below(600));
          if (ci.updated_at < end_) pend.push_back({ci, s, 1});
        }
      } else if (p.merged_at && p.base_ref == "develop") {
        GhRun r = base_run("Deploy to staging", ".github/workflows/deploy-staging.yml",
                           services_[s].staging_workflow_id, "develop",
                           p.merged_at + 20 + static_cast<int64_t>(rng_.Below(130)), "push",
                           merge_msg);
        r.conclusion = rng_.Chance(0.1) ? "failure" : "success";
        r.updated_at = r.created_at + 200 + static_cast<int64_t>(rng_.Below(500));
        if (r.updated_at < end_) pend.push_back({r, s, 2});
      }
      // CI on the PR branch for some pull requests.
      if (rng_.Chance(0.06)) {
        GhRun ci = base_run("CI", ".github/workflows/ci.yml", services_[s].ci_workflow_id,
                            p.head_ref, p.created_at + 30 + static_cast<int64_t>(rng_.Below(90)),
                            "pull_request", p.title);
        ci.head_sha = p.head_sha;
        ci.conclusion = rng_.Chance(0.15) ? "failure" : "success";
        ci.updated_at = ci.created_at + 240 + static_cast<int64_t>(rng_.Below(600));
        if (ci.updated_at < end_) pend.push_back({ci, s, 1});
      }
    }
    std::stable_sort(pend.begin(), pend.end(), [](const Pending& a, const Pending& b) {
      return a.run.created_at < b.run.created_at;
    });
    // run_number per (repository, workflow), in creation order; ids grow with time.
    std::map<int64_t, int64_t> next_number;
    int64_t prev = 0;
    for (Pending& x : pend) {
      auto it = next_number.find(x.run.workflow_id);
      if (it == next_number.end()) {
        it = next_number.emplace(x.run.workflow_id,
                                 100 + static_cast<int64_t>(rng_.Below(1500))).first;
      }
      x.run.run_number = it->second++;
      int64_t id = 11'000'000'000LL + (x.run.created_at - start_) * 40 +
                   static_cast<int64_t>(rng_.Below(40));
      if (id <= prev) id = prev + 1 + static_cast<int64_t>(rng_.Below(7));
      x.run.id = id;
      prev = id;
      runs_.push_back(std::move(x.run));
    }
  }

  void MakeIncidents() {
    static const std::vector<std::string> kTitles = {
        "High error rate on %s",
        "%s: p99 latency above SLO",
        "%s pods crash-looping after deploy",
        "5xx spike on %s",
        "%s: queue backlog growing",
        "%s health check failing in eu-west-1",
        "Elevated timeouts calling %s",
        "%s: database connection pool exhausted",
    };
    static const std::vector<std::string> kSources = {"Datadog", "Prometheus Alertmanager",
                                                      "AWS CloudWatch", "Sentry"};
    for (int s = 0; s < static_cast<int>(services_.size()); ++s) {
      const Team& team = teams_[services_[s].team];
      const Profile& pr = *team.profile;
      size_t deploys = 0;
      for (const GhPull& p : pulls_) {
        deploys += (p.repo == &services_[s].repo && p.merged_at && p.base_ref == "main") ? 1 : 0;
      }
      const double r = pr.incident_ratio;
      const auto n = static_cast<size_t>(std::lround(static_cast<double>(deploys) * r / (1 - r)));
      auto make = [&](int64_t created) {
        Incident inc;
        inc.service = s;
        inc.created_at = created;
        char buf[256];
        std::snprintf(buf, sizeof buf, rng_.Pick(kTitles).c_str(), services_[s].repo.name.c_str());
        inc.title = buf;
        inc.urgency = rng_.Chance(0.7) ? "high" : "low";
        const uint64_t pri = rng_.Below(5);
        inc.priority = pri < 3 ? "P" + std::to_string(pri + 1) : std::string();
        inc.assignee = team.members[rng_.Below(team.members.size())];
        inc.key = rng_.Hex(32);
        inc.id = rng_.PagerDutyId('Q', 14);
        inc.log_entry_id = rng_.PagerDutyId('R', 26);
        inc.source = rng_.Pick(kSources);
        return inc;
      };
      for (size_t i = 0; i < n; ++i) {
        Incident inc = make(start_ + static_cast<int64_t>(rng_.Uniform(1, o_.days - 1) * 86400));
        const double minutes = rng_.LogNormal(pr.recovery_median_min, pr.recovery_sigma);
        const int64_t resolved =
            inc.created_at + std::max<int64_t>(60, static_cast<int64_t>(minutes * 60));
        if (resolved < end_) {
          inc.resolved_at = resolved;
          inc.status = "resolved";
        } else {
          inc.status = "acknowledged";
        }
        incidents_.push_back(std::move(inc));
      }
      // The first service of every team has one incident still open at the end.
      if (!team.services.empty() && team.services[0] == s) {
        Incident inc = make(end_ - static_cast<int64_t>(rng_.Uniform(2, 30) * 3600));
        inc.status = rng_.Chance(0.5) ? "triggered" : "acknowledged";
        incidents_.push_back(std::move(inc));
      }
    }
    std::stable_sort(incidents_.begin(), incidents_.end(),
                     [](const Incident& a, const Incident& b) { return a.created_at < b.created_at; });
    int64_t number = 3000 + static_cast<int64_t>(rng_.Below(5000));
    for (Incident& inc : incidents_) inc.number = number++;
  }

  // --- writers -------------------------------------------------------------------------------

  template <typename F>
  void WriteArray(const std::string& file, size_t n, F&& item) {
    std::string out = "[\n";
    for (size_t i = 0; i < n; ++i) {
      JsonWriter w(&out);
      item(w, i);
      out += i + 1 < n ? ",\n" : "\n";
    }
    out += "]\n";
    const std::string path = (std::filesystem::path(o_.out) / file).string();
    std::ofstream f(path, std::ios::binary);
    f << out;
    if (!f) {
      std::fprintf(stderr, "gen_dora_data: cannot write %s\n", path.c_str());
      std::exit(2);
    }
    std::fprintf(stderr, "wrote %s (%zu items, %zu bytes)\n", path.c_str(), n, out.size());
  }

  void WriteTeams() {
    WriteArray("teams.json", teams_.size(), [&](JsonWriter& w, size_t i) {
      const Team& t = teams_[i];
      const std::string api =
          std::string(kApi) + "/organizations/" + std::to_string(org_id_) + "/team/" +
          std::to_string(t.gh_id);
      w.BeginObject()
          .KStr("name", t.name)
          .KInt("id", t.gh_id)
          .KStr("node_id", "T_kwDO" + std::to_string(t.gh_id))
          .KStr("slug", t.slug)
          .KStr("description", t.description)
          .KStr("privacy", "closed")
          .KStr("notification_setting", "notifications_enabled")
          .KStr("url", api)
          .KStr("html_url", std::string(kWeb) + "/orgs/" + o_.org + "/teams/" + t.slug)
          .KStr("members_url", api + "/members{/member}")
          .KStr("repositories_url", api + "/repos")
          .KStr("permission", "pull")
          .KNull("parent")
          .EndObject();
    });
  }

  void WriteRepositories() {
    WriteArray("repositories.json", services_.size(),
               [&](JsonWriter& w, size_t i) { WriteGhRepo(w, services_[i].repo, true); });
  }

  void WriteIncident(JsonWriter& w, const Incident& inc) {
    const Service& svc = services_[inc.service];
    const Team& team = teams_[svc.team];
    const Person& who = people_[inc.assignee];
    const std::string web = "https://" + o_.org + ".pagerduty.com";
    const std::string api = "https://api.pagerduty.com";
    const bool resolved = inc.status == "resolved";
    const int64_t updated = resolved ? inc.resolved_at
                            : inc.status == "acknowledged"
                                ? std::min(end_ - 1, inc.created_at + 240)
                                : inc.created_at;
    w.BeginObject()
        .KInt("incident_number", inc.number)
        .KStr("title", inc.title)
        .KStr("description", inc.title)
        .KStr("created_at", GhTime(inc.created_at))
        .KStr("updated_at", GhTime(updated))
        .KStr("status", inc.status)
        .KStr("incident_key", inc.key);
    w.Key("service")
        .BeginObject()
        .KStr("id", svc.pd_service_id)
        .KStr("type", "service_reference")
        .KStr("summary", svc.repo.name)
        .KStr("self", api + "/services/" + svc.pd_service_id)
        .KStr("html_url", web + "/service-directory/" + svc.pd_service_id)
        .EndObject();
    // PagerDuty empties assignments once an incident is resolved.
    w.Key("assignments").BeginArray();
    if (!resolved) {
      w.BeginObject().KStr("at", GhTime(inc.created_at + 5));
      w.Key("assignee")
          .BeginObject()
          .KStr("name", who.gh.name)
          .KStr("email", who.gh.email)
          .KStr("time_zone", "Europe/London")
          .KStr("color", "purple")
          .KStr("role", "user")
          .KStr("id", who.pd_id)
          .KStr("type", "user")
          .KStr("summary", who.gh.name)
          .KStr("self", api + "/users/" + who.pd_id)
          .KStr("html_url", web + "/users/" + who.pd_id)
          .EndObject();
      w.EndObject();
    }
    w.EndArray();
    w.KStr("assigned_via", "escalation_policy");
    w.KStr("last_status_change_at", GhTime(updated));
    if (resolved) w.KStr("resolved_at", GhTime(inc.resolved_at)); else w.KNull("resolved_at");
    w.Key("first_trigger_log_entry")
        .BeginObject()
        .KStr("id", inc.log_entry_id)
        .KStr("type", "trigger_log_entry")
        .KStr("summary", "Triggered through the API.")
        .KStr("self", api + "/log_entries/" + inc.log_entry_id)
        .KStr("html_url", web + "/incidents/" + inc.id + "/log_entries/" + inc.log_entry_id)
        .KStr("created_at", GhTime(inc.created_at));
    w.Key("agent")
        .BeginObject()
        .KStr("id", svc.pd_service_id.substr(0, 1) + "I" + svc.pd_service_id.substr(2))
        .KStr("type", "events_api_v2_inbound_integration_reference")
        .KStr("summary", inc.source)
        .EndObject();
    w.EndObject();
    w.Key("alert_counts")
        .BeginObject()
        .KInt("all", 1)
        .KInt("triggered", resolved ? 0 : 1)
        .KInt("resolved", resolved ? 1 : 0)
        .EndObject();
    w.Key("pending_actions").BeginArray().EndArray();
    w.KBool("is_mergeable", true);
    w.Key("escalation_policy")
        .BeginObject()
        .KStr("id", team.pd_policy_id)
        .KStr("type", "escalation_policy_reference")
        .KStr("summary", team.name + " On-call")
        .KStr("self", api + "/escalation_policies/" + team.pd_policy_id)
        .KStr("html_url", web + "/escalation_policies/" + team.pd_policy_id)
        .EndObject();
    w.Key("teams")
        .BeginArray()
        .BeginObject()
        .KStr("id", team.pd_team_id)
        .KStr("type", "team_reference")
        .KStr("summary", team.name)
        .KStr("self", api + "/teams/" + team.pd_team_id)
        .KStr("html_url", web + "/teams/" + team.pd_team_id)
        .EndObject()
        .EndArray();
    w.Key("priority");
    if (inc.priority.empty()) {
      w.Null();
    } else {
      const std::string pid = "PPRI" + inc.priority.substr(1) + "X0";
      w.BeginObject()
          .KStr("id", pid)
          .KStr("type", "priority")
          .KStr("summary", inc.priority)
          .KStr("self", api + "/priorities/" + pid)
          .KStr("name", inc.priority)
          .EndObject();
    }
    w.KStr("urgency", inc.urgency)
        .KStr("id", inc.id)
        .KStr("type", "incident")
        .KStr("summary", "[#" + std::to_string(inc.number) + "] " + inc.title)
        .KStr("self", api + "/incidents/" + inc.id)
        .KStr("html_url", web + "/incidents/" + inc.id)
        .KNull("resolve_reason")
        .KNull("conference_bridge");
    w.Key("incident_type").BeginObject().KStr("name", "incident_default").EndObject();
    w.EndObject();
  }

  // --- summary -------------------------------------------------------------------------------

  static double Median(std::vector<double> v) {
    if (v.empty()) return NAN;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  void PrintSummary() {
    std::fprintf(stderr,
                 "\nper service (now = --end; deployments = PRs merged into main; lead time = PRs "
                 "merged in the last 30 days, any base):\n");
    std::fprintf(stderr, "%-20s %-14s %-7s %6s %8s %7s %9s %9s %5s %5s %9s %9s\n", "service",
                 "team", "profile", "deploys", "per-week", "lt-prs", "lt-mean-h", "lt-med-h",
                 "inc", "open", "mttr-mean", "mttr-med");
    for (int s = 0; s < static_cast<int>(services_.size()); ++s) {
      size_t deploys = 0;
      int64_t first = 0, last = 0;
      std::vector<double> lt;
      for (const GhPull& p : pulls_) {
        if (p.repo != &services_[s].repo || !p.merged_at) continue;
        if (p.base_ref == "main") {
          if (deploys == 0 || p.merged_at < first) first = p.merged_at;
          if (deploys == 0 || p.merged_at > last) last = p.merged_at;
          ++deploys;
        }
        if (p.merged_at >= end_ - 30 * 86400) {
          lt.push_back(std::floor((p.merged_at - p.created_at) / 3600.0 * 100) / 100);
        }
      }
      const double weeks = deploys ? std::max(1.0, std::ceil((last - first) / (7 * 86400.0))) : 1;
      size_t inc = 0, open = 0;
      std::vector<double> rec;
      for (const Incident& i : incidents_) {
        if (i.service != s) continue;
        ++inc;
        if (i.resolved_at) rec.push_back((i.resolved_at - i.created_at) / 60.0);
        else ++open;
      }
      double lt_mean = NAN, rec_mean = NAN;
      if (!lt.empty()) { lt_mean = 0; for (double x : lt) lt_mean += x; lt_mean /= lt.size(); }
      if (!rec.empty()) { rec_mean = 0; for (double x : rec) rec_mean += x; rec_mean /= rec.size(); }
      const Team& t = teams_[services_[s].team];
      std::fprintf(stderr, "%-20s %-14s %-7s %6zu %8.2f %7zu %9.2f %9.2f %5zu %5zu %9.1f %9.1f\n",
                   services_[s].repo.name.c_str(), t.slug.c_str(), t.profile->name, deploys,
                   deploys / weeks, lt.size(), lt_mean, Median(lt), inc, open, rec_mean,
                   Median(rec));
    }
  }

  const Options& o_;
  Rng rng_;
  int64_t start_ = 0, end_ = 0;
  int64_t org_id_ = 0;
  std::vector<Person> people_;
  GhUser dependabot_;
  std::vector<Team> teams_;
  std::vector<Service> services_;
  std::vector<GhPull> pulls_;
  std::vector<GhRun> runs_;
  std::vector<Incident> incidents_;
};

}  // namespace
}  // namespace portolan::gen

int main(int argc, char** argv) {
  using namespace portolan::gen;
  const Options o = ParseArgs(argc, argv);
  const auto end = portolan::ParseIsoTime(o.end);
  if (!end) {
    std::fprintf(stderr, "gen_dora_data: --end: not an ISO 8601 time: %s\n", o.end.c_str());
    return 1;
  }
  Generator g(o, static_cast<int64_t>(std::floor(*end)));
  g.Run();
  return 0;
}
