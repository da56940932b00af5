// Shared pieces of the example-data generators (gen_dora_data, gen_github_prs): a deterministic
// random source, a small streaming JSON writer, GitHub-style timestamps and builders for GitHub
// and PagerDuty API payloads.
//
// Determinism: std::mt19937_64's output sequence is fixed by the standard, but the standard
// library distributions are not (libstdc++ and libc++ differ), so every distribution here is
// computed from the raw 64-bit output. Timestamps are whole seconds.
#ifndef PORTOLAN_TOOLS_GEN_GEN_COMMON_H_
#define PORTOLAN_TOOLS_GEN_GEN_COMMON_H_

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/time.h"

namespace portolan::gen {

// ---------------------------------------------------------------------------------------------
// Random numbers.

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}

  uint64_t Next() { return engine_(); }
  // Uniform in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Uniform integer in [0, n). n > 0. (Multiply-shift; the bias is below 2^-32 for our n.)
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }
  int64_t Between(int64_t lo, int64_t hi) {  // inclusive
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo + 1)));
  }
  bool Chance(double p) { return Uniform() < p; }
  double Exponential(double mean) { return -mean * std::log1p(-Uniform()); }
  // Standard normal by Box-Muller (one value per call; the twin is dropped for simplicity).
  double Normal() {
    double u1 = Uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    const double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  double LogNormal(double median, double sigma) { return median * std::exp(sigma * Normal()); }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Below(v.size())];
  }
  // Lowercase hex string of n characters (git shas, node ids).
  std::string Hex(int n) {
    static const char* kDigits = "0123456789abcdef";
    std::string s;
    s.reserve(n);
    for (int i = 0; i < n; ++i) s.push_back(kDigits[Below(16)]);
    return s;
  }
  // Uppercase alphanumeric id (PagerDuty style), first character given.
  std::string PagerDutyId(char first, int n) {
    static const char* kChars = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
    std::string s(1, first);
    for (int i = 1; i < n; ++i) s.push_back(kChars[Below(34)]);
    return s;
  }
  std::string Base64ish(int n) {
    static const char* kChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string s;
    for (int i = 0; i < n; ++i) s.push_back(kChars[Below(62)]);
    return s;
  }

 private:
  std::mt19937_64 engine_;
};

// ---------------------------------------------------------------------------------------------
// Time: whole seconds since the epoch, printed the way GitHub and PagerDuty print them.

inline std::string GhTime(int64_t t) {
  int64_t days = t / 86400;
  int64_t secs = t % 86400;
  if (secs < 0) {
    secs += 86400;
    --days;
  }
  long y;
  unsigned m, d;
  CivilFromDays(static_cast<long>(days), &y, &m, &d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04ld-%02u-%02uT%02d:%02d:%02dZ", y, m, d,
                static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                static_cast<int>(secs % 60));
  return buf;
}

// 0 = Monday ... 6 = Sunday (1970-01-01 was a Thursday).
inline int Weekday(int64_t t) {
  int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
  return static_cast<int>(((days % 7) + 7 + 3) % 7);
}

inline int HourOfDay(int64_t t) { return static_cast<int>(((t % 86400) + 86400) % 86400 / 3600); }

// Relative activity of engineers at time t: weekday working hours (09-18 UTC) 1, weekday
// evenings/nights 0.15, weekends 0.08. Used to thin Poisson processes.
inline double WorkWeight(int64_t t) {
  const int wd = Weekday(t);
  if (wd >= 5) return 0.08;
  const int h = HourOfDay(t);
  return (h >= 9 && h < 18) ? 1.0 : 0.15;
}
// Mean of WorkWeight over a week: (5 * (9 * 1 + 15 * 0.15) + 2 * 24 * 0.08) / (7 * 24).
inline constexpr double kMeanWorkWeight = (5 * (9 * 1.0 + 15 * 0.15) + 2 * 24 * 0.08) / (7 * 24);

// Event times of a Poisson process with `per_day` events a day on average over [start, end),
// shaped by WorkWeight (the average rate is kept).
inline std::vector<int64_t> WorkTimeEvents(Rng& rng, double per_day, int64_t start, int64_t end) {
  std::vector<int64_t> out;
  if (per_day <= 0) return out;
  const double candidate_mean_gap = 86400.0 * kMeanWorkWeight / per_day;
  double t = static_cast<double>(start);
  while (true) {
    t += rng.Exponential(candidate_mean_gap);
    if (t >= static_cast<double>(end)) break;
    const auto ti = static_cast<int64_t>(t);
    if (rng.Uniform() < WorkWeight(ti)) out.push_back(ti);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Streaming JSON writer. Keys and values are written in call order; commas are automatic.

class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  JsonWriter& BeginObject() {
    Sep();
    out_->push_back('{');
    first_.push_back(true);
    return *this;
  }
  JsonWriter& EndObject() {
    out_->push_back('}');
    first_.pop_back();
    return *this;
  }
  JsonWriter& BeginArray() {
    Sep();
    out_->push_back('[');
    first_.push_back(true);
    return *this;
  }
  JsonWriter& EndArray() {
    out_->push_back(']');
    first_.pop_back();
    return *this;
  }
  JsonWriter& Key(std::string_view k) {
    Sep();
    WriteString(k);
    out_->push_back(':');
    after_key_ = true;
    return *this;
  }
  JsonWriter& Str(std::string_view s) {
    Sep();
    WriteString(s);
    return *this;
  }
  JsonWriter& Int(int64_t v) {
    Sep();
    out_->append(std::to_string(v));
    return *this;
  }
  JsonWriter& Num(double v) {
    Sep();
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    out_->append(buf);
    return *this;
  }
  JsonWriter& Bool(bool b) {
    Sep();
    out_->append(b ? "true" : "false");
    return *this;
  }
  JsonWriter& Null() {
    Sep();
    out_->append("null");
    return *this;
  }
  // Raw, already-serialized JSON (a pre-built sub-object).
  JsonWriter& Raw(std::string_view json) {
    Sep();
    out_->append(json);
    return *this;
  }
  // Convenience: "key": value.
  JsonWriter& KStr(std::string_view k, std::string_view v) { return Key(k).Str(v); }
  JsonWriter& KInt(std::string_view k, int64_t v) { return Key(k).Int(v); }
  JsonWriter& KBool(std::string_view k, bool v) { return Key(k).Bool(v); }
  JsonWriter& KNull(std::string_view k) { return Key(k).Null(); }
  JsonWriter& KRaw(std::string_view k, std::string_view v) { return Key(k).Raw(v); }
  JsonWriter& KStrOrNull(std::string_view k, const std::string& v) {
    return v.empty() ? KNull(k) : KStr(k, v);
  }

 private:
  void Sep() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_.empty()) {
      if (!first_.back()) out_->push_back(',');
      first_.back() = false;
    }
  }
  void WriteString(std::string_view s) {
    out_->push_back('"');
    for (char c : s) {
      switch (c) {
        case '"': out_->append("\\\""); break;
        case '\\': out_->append("\\\\"); break;
        case '\n': out_->append("\\n"); break;
        case '\r': out_->append("\\r"); break;
        case '\t': out_->append("\\t"); break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out_->append(buf);
          } else {
            out_->push_back(c);
          }
      }
    }
    out_->push_back('"');
  }

  std::string* out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

// ---------------------------------------------------------------------------------------------
// GitHub objects.

inline constexpr const char* kApi = "https://api.github.com";
inline constexpr const char* kWeb = "https://github.com";

struct GhUser {
  std::string login;
  int64_t id = 0;
  bool bot = false;
  std::string name;   // display name, "First Last"
  std::string email;  // first.last@example.com
};

// The "simple user" object GitHub embeds in pull requests, runs and repositories.
inline void WriteGhUser(JsonWriter& w, const GhUser& u) {
  const std::string url = std::string(kApi) + "/users/" + u.login;
  w.BeginObject()
      .KStr("login", u.login)
      .KInt("id", u.id)
      .KStr("node_id", (u.bot ? "BOT_kgDO" : "MDQ6VXNlcj") + std::to_string(u.id))
      .KStr("avatar_url", "https://avatars.githubusercontent.com/u/" + std::to_string(u.id) + "?v=4")
      .KStr("gravatar_id", "")
      .KStr("url", url)
      .KStr("html_url", std::string(kWeb) + "/" + u.login)
      .KStr("type", u.bot ? "Bot" : "User")
      .KBool("site_admin", false)
      .EndObject();
}

struct GhRepo {
  int64_t id = 0;
  std::string org;
  int64_t org_id = 0;
  std::string name;
  std::string description;
  std::string language;
  std::string default_branch = "main";
  std::string visibility = "private";
  std::string team_slug;  // custom property "team"
  std::vector<std::string> topics;
  int64_t created_at = 0;
  int64_t pushed_at = 0;
  int64_t size_kb = 0;
  int64_t open_issues = 0;
};

inline std::string FullName(const GhRepo& r) { return r.org + "/" + r.name; }

// The repository object embedded in pull request head/base (and the repository list when
// `full` adds the fields the list endpoint returns on top).
inline void WriteGhRepo(JsonWriter& w, const GhRepo& r, bool full) {
  const std::string api = std::string(kApi) + "/repos/" + FullName(r);
  const std::string web = std::string(kWeb) + "/" + FullName(r);
  GhUser owner{r.org, r.org_id, false, "", ""};
  w.BeginObject()
      .KInt("id", r.id)
      .KStr("node_id", "R_kgDO" + std::to_string(r.id))
      .KStr("name", r.name)
      .KStr("full_name", FullName(r))
      .KBool("private", r.visibility != "public");
  w.Key("owner");
  // Organization owners have type "Organization".
  {
    const std::string url = std::string(kApi) + "/users/" + r.org;
    w.BeginObject()
        .KStr("login", r.org)
        .KInt("id", r.org_id)
        .KStr("node_id", "O_kgDO" + std::to_string(r.org_id))
        .KStr("avatar_url",
              "https://avatars.githubusercontent.com/u/" + std::to_string(r.org_id) + "?v=4")
        .KStr("url", url)
        .KStr("html_url", std::string(kWeb) + "/" + r.org)
        .KStr("type", "Organization")
        .KBool("site_admin", false)
        .EndObject();
  }
  (void)owner;
  w.KStr("html_url", web)
      .KStr("description", r.description)
      .KBool("fork", false)
      .KStr("url", api)
      .KStr("ssh_url", "git@github.com:" + FullName(r) + ".git")
      .KStr("clone_url", web + ".git")
      .KStr("created_at", GhTime(r.created_at))
      .KStr("updated_at", GhTime(r.pushed_at))
      .KStr("pushed_at", GhTime(r.pushed_at))
      .KNull("homepage")
      .KInt("size", r.size_kb)
      .KInt("stargazers_count", 0)
      .KInt("watchers_count", 0)
      .KStr("language", r.language)
      .KBool("has_issues", true)
      .KBool("has_projects", false)
      .KBool("has_wiki", false)
      .KBool("archived", false)
      .KBool("disabled", false)
      .KInt("forks_count", 0)
      .KInt("open_issues_count", r.open_issues);
  w.Key("license").Null();
  w.KBool("allow_forking", false).KBool("is_template", false);
  w.Key("topics").BeginArray();
  for (const auto& t : r.topics) w.Str(t);
  w.EndArray();
  w.KStr("visibility", r.visibility).KStr("default_branch", r.default_branch);
  if (full) {
    w.Key("permissions")
        .BeginObject()
        .KBool("admin", false)
        .KBool("maintain", false)
        .KBool("push", true)
        .KBool("triage", true)
        .KBool("pull", true)
        .EndObject();
    w.Key("custom_properties").BeginObject().KStr("team", r.team_slug).EndObject();
  }
  w.EndObject();
}

// A compact repository object, as embedded in workflow runs ("minimal repository").
inline void WriteGhMinimalRepo(JsonWriter& w, const GhRepo& r) {
  const std::string api = std::string(kApi) + "/repos/" + FullName(r);
  w.BeginObject()
      .KInt("id", r.id)
      .KStr("node_id", "R_kgDO" + std::to_string(r.id))
      .KStr("name", r.name)
      .KStr("full_name", FullName(r))
      .KBool("private", r.visibility != "public");
  w.Key("owner")
      .BeginObject()
      .KStr("login", r.org)
      .KInt("id", r.org_id)
      .KStr("type", "Organization")
      .EndObject();
  w.KStr("html_url", std::string(kWeb) + "/" + FullName(r))
      .KStr("description", r.description)
      .KBool("fork", false)
      .KStr("url", api)
      .KStr("deployments_url", api + "/deployments")
      .EndObject();
}

struct GhLabel {
  int64_t id;
  std::string name;
  std::string color;
  std::string description;
};

struct GhPull {
  int64_t id = 0;
  int64_t number = 0;
  std::string title;
  std::string body;
  const GhUser* author = nullptr;
  std::vector<const GhUser*> assignees;
  std::vector<const GhUser*> reviewers;
  std::vector<GhLabel> labels;
  std::string head_ref;
  std::string base_ref = "main";
  std::string head_sha;
  std::string base_sha;
  std::string merge_sha;  // empty -> null
  int64_t created_at = 0;
  int64_t updated_at = 0;
  int64_t closed_at = 0;  // 0 -> null
  int64_t merged_at = 0;  // 0 -> null
  bool draft = false;
  const GhRepo* repo = nullptr;
};

inline void WriteGhPull(JsonWriter& w, const GhPull& p) {
  const GhRepo& r = *p.repo;
  const std::string api = std::string(kApi) + "/repos/" + FullName(r);
  const std::string web = std::string(kWeb) + "/" + FullName(r);
  const std::string n = std::to_string(p.number);
  const std::string self = api + "/pulls/" + n;
  w.BeginObject()
      .KStr("url", self)
      .KInt("id", p.id)
      .KStr("node_id", "PR_kwDO" + std::to_string(p.id))
      .KStr("html_url", web + "/pull/" + n)
      .KStr("diff_url", web + "/pull/" + n + ".diff")
      .KStr("patch_url", web + "/pull/" + n + ".patch")
      .KStr("issue_url", api + "/issues/" + n)
      .KInt("number", p.number)
      .KStr("state", p.closed_at != 0 ? "closed" : "open")
      .KBool("locked", false)
      .KStr("title", p.title);
  w.Key("user");
  WriteGhUser(w, *p.author);
  w.KStr("body", p.body)
      .KStr("created_at", GhTime(p.created_at))
      .KStr("updated_at", GhTime(p.updated_at));
  if (p.closed_at) w.KStr("closed_at", GhTime(p.closed_at)); else w.KNull("closed_at");
  if (p.merged_at) w.KStr("merged_at", GhTime(p.merged_at)); else w.KNull("merged_at");
  w.KStrOrNull("merge_commit_sha", p.merge_sha);
  w.Key("assignee");
  if (p.assignees.empty()) w.Null(); else WriteGhUser(w, *p.assignees[0]);
  w.Key("assignees").BeginArray();
  for (const GhUser* u : p.assignees) WriteGhUser(w, *u);
  w.EndArray();
  w.Key("requested_reviewers").BeginArray();
  // Reviewers who already reviewed drop off requested_reviewers once the PR is closed.
  if (p.closed_at == 0) {
    for (const GhUser* u : p.reviewers) WriteGhUser(w, *u);
  }
  w.EndArray();
  w.Key("requested_teams").BeginArray().EndArray();
  w.Key("labels").BeginArray();
  for (const GhLabel& l : p.labels) {
    w.BeginObject()
        .KInt("id", l.id)
        .KStr("node_id", "LA_kwDO" + std::to_string(l.id))
        .KStr("url", api + "/labels/" + l.name)
        .KStr("name", l.name)
        .KStr("color", l.color)
        .KBool("default", false)
        .KStr("description", l.description)
        .EndObject();
  }
  w.EndArray();
  w.KNull("milestone").KBool("draft", p.draft);
  w.KStr("commits_url", self + "/commits")
      .KStr("review_comments_url", self + "/comments")
      .KStr("review_comment_url", api + "/pulls/comments{/number}")
      .KStr("comments_url", api + "/issues/" + n + "/comments")
      .KStr("statuses_url", api + "/statuses/" + p.head_sha);
  w.Key("head")
      .BeginObject()
      .KStr("label", r.org + ":" + p.head_ref)
      .KStr("ref", p.head_ref)
      .KStr("sha", p.head_sha);
  w.Key("user");
  WriteGhUser(w, *p.author);
  w.Key("repo");
  WriteGhRepo(w, r, false);
  w.EndObject();
  w.Key("base")
      .BeginObject()
      .KStr("label", r.org + ":" + p.base_ref)
      .KStr("ref", p.base_ref)
      .KStr("sha", p.base_sha);
  w.Key("repo");
  WriteGhRepo(w, r, false);
  w.EndObject();
  w.Key("_links")
      .BeginObject()
      .Key("self").BeginObject().KStr("href", self).EndObject()
      .Key("html").BeginObject().KStr("href", web + "/pull/" + n).EndObject()
      .Key("issue").BeginObject().KStr("href", api + "/issues/" + n).EndObject()
      .Key("comments").BeginObject().KStr("href", api + "/issues/" + n + "/comments").EndObject()
      .Key("commits").BeginObject().KStr("href", self + "/commits").EndObject()
      .Key("statuses").BeginObject().KStr("href", api + "/statuses/" + p.head_sha).EndObject()
      .EndObject();
  w.KStr("author_association", p.author->bot ? "CONTRIBUTOR" : "MEMBER")
      .KNull("auto_merge")
      .KNull("active_lock_reason")
      .EndObject();
}

// Realistic titles, branches and bodies.
inline const std::vector<std::string>& TitleVerbs() {
  static const std::vector<std::string> v = {"Add", "Fix", "Refactor", "Remove", "Improve",
                                             "Update", "Handle", "Cache", "Validate", "Migrate",
                                             "Speed up", "Simplify", "Document", "Retry"};
  return v;
}
inline const std::vector<std::string>& TitleObjects() {
  static const std::vector<std::string> v = {
      "order totals rounding",    "retry on 503 from upstream", "pagination of list endpoint",
      "feature flag for new flow", "stale cache entries",       "health check timeout",
      "metrics for queue depth",  "null currency in refunds",   "idempotency keys",
      "connection pool sizing",   "OpenAPI spec",               "flaky integration test",
      "structured logging",       "rate limiter config",        "locale fallback",
      "webhook signature check",  "batch size for exports",     "expired session handling",
      "dead letter queue",        "search ranking weights",     "db index on created_at",
      "graceful shutdown",        "CSV export encoding",        "timeouts in HTTP client"};
  return v;
}

inline std::string Slugify(const std::string& s) {
  std::string out;
  for (char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) out.push_back(c);
    else if (c >= 'A' && c <= 'Z') out.push_back(static_cast<char>(c - 'A' + 'a'));
    else if (!out.empty() && out.back() != '-') out.push_back('-');
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

inline std::string PullBody(Rng& rng, const std::string& title, int64_t ticket) {
  static const std::vector<std::string> whys = {
      "Customers reported intermittent failures under load; this makes the behaviour explicit "
      "and covered by tests.",
      "Follow-up from the last incident review: the previous behaviour hid errors from our "
      "dashboards and delayed the page.",
      "This was the main source of noise in the on-call channel last week.",
      "Needed for the upcoming launch; the old code path stays behind the flag until rollout "
      "completes.",
      "Small cleanup while touching this area; no behaviour change intended."};
  static const std::vector<std::string> tests = {
      "- [x] Unit tests\n- [x] Integration tests\n- [ ] Load test",
      "- [x] Unit tests\n- [x] Tested on staging",
      "- [x] Added regression test\n- [x] Manually verified locally",
      "- [x] CI green\n- [ ] Docs updated"};
  std::string b = "## What\n" + title + ".\n\n## Why\n" + rng.Pick(whys) +
                  "\n\nCloses ENG-" + std::to_string(ticket) + "\n\n## Testing\n" +
                  rng.Pick(tests) + "\n";
  return b;
}

// ---------------------------------------------------------------------------------------------
// GitHub workflow runs.

struct GhRun {
  int64_t id = 0;
  std::string name;          // workflow name: "Deploy to production", "CI", ...
  std::string path;          // .github/workflows/deploy.yml
  int64_t workflow_id = 0;
  std::string head_branch;
  std::string head_sha;
  std::string display_title;
  std::string event = "push";
  std::string status = "completed";
  std::string conclusion;    // empty -> null
  int64_t run_number = 0;
  int64_t run_attempt = 1;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  const GhUser* actor = nullptr;
  const GhRepo* repo = nullptr;
  std::string commit_message;
};

inline void WriteGhRun(JsonWriter& w, const GhRun& r) {
  const GhRepo& repo = *r.repo;
  const std::string api = std::string(kApi) + "/repos/" + FullName(repo);
  const std::string self = api + "/actions/runs/" + std::to_string(r.id);
  w.BeginObject()
      .KInt("id", r.id)
      .KStr("name", r.name)
      .KStr("node_id", "WFR_kwLO" + std::to_string(r.id))
      .KStr("head_branch", r.head_branch)
      .KStr("head_sha", r.head_sha)
      .KStr("path", r.path)
      .KStr("display_title", r.display_title)
      .KInt("run_number", r.run_number)
      .KStr("event", r.event)
      .KStr("status", r.status);
  w.KStrOrNull("conclusion", r.conclusion);
  w.KInt("workflow_id", r.workflow_id)
      .KInt("check_suite_id", r.id * 3 + 17)
      .KStr("check_suite_node_id", "CS_kwDO" + std::to_string(r.id * 3 + 17))
      .KStr("url", self)
      .KStr("html_url", std::string(kWeb) + "/" + FullName(repo) + "/actions/runs/" +
                            std::to_string(r.id));
  w.Key("pull_requests").BeginArray().EndArray();
  w.KStr("created_at", GhTime(r.created_at)).KStr("updated_at", GhTime(r.updated_at));
  w.Key("actor");
  WriteGhUser(w, *r.actor);
  w.KInt("run_attempt", r.run_attempt);
  w.Key("referenced_workflows").BeginArray().EndArray();
  w.KStr("run_started_at", GhTime(r.created_at));
  w.Key("triggering_actor");
  WriteGhUser(w, *r.actor);
  w.KStr("jobs_url", self + "/jobs")
      .KStr("logs_url", self + "/logs")
      .KStr("artifacts_url", self + "/artifacts")
      .KNull("previous_attempt_url")
      .KStr("workflow_url", api + "/actions/workflows/" + std::to_string(r.workflow_id));
  w.Key("head_commit")
      .BeginObject()
      .KStr("id", r.head_sha)
      .KStr("tree_id", r.head_sha.substr(20) + r.head_sha.substr(0, 20))
      .KStr("message", r.commit_message)
      .KStr("timestamp", GhTime(r.created_at - 20));
  w.Key("author").BeginObject().KStr("name", r.actor->name).KStr("email", r.actor->email).EndObject();
  w.Key("committer").BeginObject().KStr("name", "GitHub").KStr("email", "noreply@github.com").EndObject();
  w.EndObject();
  w.Key("repository");
  WriteGhMinimalRepo(w, repo);
  w.Key("head_repository");
  WriteGhMinimalRepo(w, repo);
  w.EndObject();
}

}  // namespace portolan::gen

#endif  // PORTOLAN_TOOLS_GEN_GEN_COMMON_H_
