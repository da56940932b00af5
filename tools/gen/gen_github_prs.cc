// gen_github_prs: N realistic GitHub pull request payloads (~5 KB each, the shape of
// GET /repos/{owner}/{repo}/pulls items) on stdout, for mapping benchmarks. Deterministic.
//
// Usage: gen_github_prs --count N [--seed S] [--format jsonl|array]
//
// Mix: about 70% merged into main, 8% merged into develop/release branches, 12% closed without
// merging, 10% open; 5% authored by dependabot. Timestamps fall in the year before
// 2026-11-01T00:00:00Z; ids grow with creation time; identifiers (repo name + id) are unique.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tools/gen/gen_common.h"

namespace portolan::gen {
namespace {

[[noreturn]] void Usage(int code) {
  std::fprintf(code ? stderr : stdout,
               "Usage: gen_github_prs --count N [--seed S] [--format jsonl|array]\n"
               "Writes N GitHub pull request payloads to stdout: one per line (jsonl, default)\n"
               "or one JSON array (array).\n");
  std::exit(code);
}

int Main(int argc, char** argv) {
  long long count = -1;
  uint64_t seed = 42;
  std::string format = "jsonl";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto need = [&]() -> std::string {
      if (i + 1 >= argc) Usage(1);
      return argv[++i];
    };
    if (a == "--help" || a == "-h") Usage(0);
    else if (a == "--count") {
      const std::string v = need();
      char* e = nullptr;
      count = std::strtoll(v.c_str(), &e, 10);
      if (v.empty() || *e || count < 0) Usage(1);
    } else if (a == "--seed") {
      const std::string v = need();
      char* e = nullptr;
      seed = std::strtoull(v.c_str(), &e, 10);
      if (v.empty() || *e) Usage(1);
    } else if (a == "--format") {
      format = need();
      if (format != "jsonl" && format != "array") Usage(1);
    } else {
      std::fprintf(stderr, "gen_github_prs: unknown option %s\n", a.c_str());
      Usage(1);
    }
  }
  if (count < 0) {
    std::fprintf(stderr, "gen_github_prs: --count N is required\n");
    Usage(1);
  }

  Rng rng(seed);
  const int64_t end = 1'793'491'200;  // 2026-11-01T00:00:00Z
  const int64_t start = end - 365LL * 86400;

  // 40 repositories, 120 people.
  static const char* kWords[] = {"checkout", "payments", "ledger", "search", "catalog", "auth",
                                 "billing", "cart", "events", "reporting", "notifications",
                                 "inventory", "pricing", "shipping", "profile", "gateway",
                                 "recommendations", "media", "analytics", "scheduler"};
  static const char* kKinds[] = {"api", "service", "worker", "web"};
  static const char* kLangs[] = {"Go", "Java", "Python", "TypeScript", "Kotlin", "Rust"};
  std::vector<GhRepo> repos;
  for (int i = 0; i < 40; ++i) {
    GhRepo r;
    r.id = 600'000'000 + 1'000'000 * i + static_cast<int64_t>(rng.Below(900'000));
    r.org = "acme";
    r.org_id = 91'234'567;
    r.name = std::string(kWords[i % 20]) + "-" + kKinds[(i / 20 + i) % 4];
    r.description = "The " + r.name + " service";
    r.language = kLangs[i % 6];
    r.team_slug = "team-" + std::to_string(i % 8);
    r.topics = {r.team_slug, "service"};
    r.created_at = start - static_cast<int64_t>(rng.Uniform(100, 1500) * 86400);
    r.pushed_at = end - static_cast<int64_t>(rng.Uniform(0, 3) * 86400);
    r.size_kb = 1'000 + static_cast<int64_t>(rng.Below(80'000));
    r.open_issues = static_cast<int64_t>(rng.Below(50));
    repos.push_back(std::move(r));
  }
  std::vector<GhUser> people;
  for (int i = 0; i < 120; ++i) {
    GhUser u;
    u.login = "dev-" + rng.Base64ish(6);
    std::transform(u.login.begin(), u.login.end(), u.login.begin(),
                   [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
    u.id = 10'000'000 + static_cast<int64_t>(rng.Below(140'000'000));
    u.name = "Developer " + std::to_string(i);
    u.email = u.login + "@example.com";
    people.push_back(std::move(u));
  }
  GhUser bot{"dependabot[bot]", 49699333, true, "dependabot[bot]",
             "49699333+dependabot[bot]@users.noreply.github.com"};

  // Creation times are spread evenly so ids can grow with them without sorting.
  const double step = count > 0 ? static_cast<double>(end - start - 30 * 86400) / count : 0;
  std::vector<int64_t> next_number(repos.size(), 0);
  for (auto& n : next_number) n = 1 + static_cast<int64_t>(rng.Below(500));

  std::string out;
  out.reserve(1 << 22);
  if (format == "array") out += "[\n";
  int64_t prev_id = 0;
  for (long long i = 0; i < count; ++i) {
    GhPull p;
    const size_t ri = rng.Below(repos.size());
    p.repo = &repos[ri];
    p.created_at = start + static_cast<int64_t>(step * static_cast<double>(i) + rng.Uniform(0, step));
    int64_t id = 2'000'000'000LL + (p.created_at - start) * 40 + static_cast<int64_t>(rng.Below(40));
    if (id <= prev_id) id = prev_id + 1;
    p.id = prev_id = id;
    p.number = next_number[ri];
    next_number[ri] += 1 + static_cast<int64_t>(rng.Below(2));
    if (rng.Chance(0.05)) {
      p.author = &bot;
      p.title = "Bump lodash from 4.17." + std::to_string(rng.Below(20)) + " to 4.17.21";
      p.head_ref = "dependabot/npm_and_yarn/lodash-4.17.21";
      p.body = "Bumps lodash to 4.17.21.\n\n---\n\nDependabot will resolve any conflicts with "
               "this PR as long as you don't alter it yourself.\n";
      p.labels.push_back({4'100'000'001LL, "dependencies", "0366d6",
                          "Pull requests that update a dependency file"});
    } else {
      p.author = &people[rng.Below(people.size())];
      const std::string& verb = rng.Pick(TitleVerbs());
      const std::string& object = rng.Pick(TitleObjects());
      p.title = verb + " " + object;
      p.head_ref = (verb == "Fix" ? "fix/" : "feature/") + Slugify(object);
      p.body = PullBody(rng, p.title, 1000 + static_cast<int64_t>(rng.Below(9000)));
      if (rng.Chance(0.5)) p.assignees.push_back(p.author);
      if (verb == "Fix" && rng.Chance(0.6)) {
        p.labels.push_back({4'100'000'002LL, "bug", "d73a4a", "Something isn't working"});
      }
    }
    for (int k = 0, want = 1 + static_cast<int>(rng.Below(2)); k < want; ++k) {
      const GhUser* r = &people[rng.Below(people.size())];
      if (r != p.author) p.reviewers.push_back(r);
    }
    const double kind = rng.Uniform();
    const int64_t cycle = static_cast<int64_t>(rng.LogNormal(20.0, 1.2) * 3600) + 300;
    if (kind < 0.78) {
      p.merged_at = p.closed_at = std::min(end - 60, p.created_at + cycle);
      if (kind >= 0.70) p.base_ref = rng.Chance(0.5) ? "develop" : "release/2026.10";
    } else if (kind < 0.90) {
      p.closed_at = std::min(end - 60, p.created_at + cycle);
    } else {
      p.draft = rng.Chance(0.3);
    }
    p.updated_at = std::min(end - 1, (p.closed_at ? p.closed_at : p.created_at) +
                                         static_cast<int64_t>(rng.Below(900)));
    p.head_sha = rng.Hex(40);
    p.base_sha = rng.Hex(40);
    if (p.merged_at) p.merge_sha = rng.Hex(40);

    JsonWriter w(&out);
    WriteGhPull(w, p);
    if (format == "array") out += i + 1 < count ? ",\n" : "\n";
    else out += '\n';
    if (out.size() > (1 << 22) - 16384) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  if (format == "array") out += "]\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 2;
}

}  // namespace
}  // namespace portolan::gen

int main(int argc, char** argv) { return portolan::gen::Main(argc, argv); }
