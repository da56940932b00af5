#include "tools/cli/commands.h"

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "engine/model/blueprint.h"
#include "engine/query/query.h"
#include "server/webhooks.h"
#include "tools/cli/output.h"
#include "workspace/webhook.h"

namespace portolan::cli {

namespace {

Result<Format> OutputFormat(const GlobalOptions& g) {
  Format f;
  if (!ParseFormat(g.output, &f)) {
    return InvalidArgument("-o: \"" + g.output + "\" is not one of table, json, yaml");
  }
  return f;
}

// The display title of a property key of a blueprint (falls back to the key).
std::string PropertyTitle(const model::Blueprint& bp, const std::string& key) {
  if (key == "$title") return "Title";
  if (key == "$identifier") return "Identifier";
  if (key == "$team") return "Team";
  auto pick = [&](const std::string& title) { return title.empty() ? key : title; };
  if (auto* p = bp.FindProperty(key)) return pick(p->title);
  if (auto* p = bp.FindMirror(key)) return pick(p->title);
  if (auto* p = bp.FindAggregation(key)) return pick(p->title);
  if (auto* p = bp.FindCalculation(key)) return pick(p->title);
  if (auto* p = bp.FindRelation(key)) return pick(p->title);
  return key;
}

// A column value: relations by key, meta properties, raw and derived properties.
json::Value ColumnValue(const model::Blueprint& bp, const store::Entity& e,
                        const std::string& key) {
  if (bp.FindRelation(key)) return e.relations.Get(key);
  if (key == "team" && !bp.HasAnyProperty(key)) return e.Lookup("$team");
  if (key == "$title" && e.title.is_null()) return e.identifier;
  return e.Lookup(key);
}

// Every property key of a blueprint in display order: schema, mirror, aggregation, calculation.
std::vector<std::string> AllPropertyKeys(const model::Blueprint& bp) {
  std::vector<std::string> keys;
  for (const auto& p : bp.properties) keys.push_back(p.key);
  for (const auto& p : bp.mirrors) keys.push_back(p.key);
  for (const auto& p : bp.aggregations) keys.push_back(p.key);
  for (const auto& p : bp.calculations) keys.push_back(p.key);
  return keys;
}

// Conservatively, whether a derived value of `bp` can change when only the clock moves: a date
// preset in one of its aggregation queries, `now` in a calculation, or a mirror or aggregation
// reading derived values of another blueprint (which may themselves depend on the clock).
bool MayDependOnNow(const model::Catalog& catalog, const model::Blueprint& bp) {
  for (const auto& c : bp.calculations) {
    if (c.calculation.find("now") != std::string::npos) return true;
  }
  for (const auto& a : bp.aggregations) {
    if (!a.query.is_null() && query::DependsOnNow(a.query)) return true;
    const model::Blueprint* target = catalog.Find(a.target);
    if (!target || (!a.spec.property.empty() && !target->FindProperty(a.spec.property))) {
      return true;
    }
  }
  for (const auto& m : bp.mirrors) {
    if (!m.leaf.empty() && m.leaf[0] != '$') {
      // The leaf's blueprint is at the end of the hops; a derived leaf is conservative.
      const model::Blueprint* at = &bp;
      for (const auto& hop : m.hops) {
        const model::RelationDef* rel = at ? at->FindRelation(hop) : nullptr;
        at = rel ? catalog.Find(rel->target) : nullptr;
      }
      if (!at || !at->FindProperty(m.leaf)) return true;
    }
  }
  return false;
}

// `get BLUEPRINT IDENTIFIER` without loading the workspace: the stored row is served when its
// derived values are valid for now. Returns false when the full path is needed.
Result<bool> QuickGet(const GlobalOptions& g, const GetArgs& a, Format f) {
  if (a.identifier.empty() || f == Format::kTable) return false;
  PORTOLAN_ASSIGN_OR_RETURN(Clock clock, MakeClock(g));
  std::string path = ResolveWorkspace(g);
  if (!std::filesystem::exists(store::DatabasePath(path))) return false;
  PORTOLAN_ASSIGN_OR_RETURN(auto st, store::Store::OpenForLookup(path, &clock));
  const model::Blueprint* bp = st->catalog().Find(a.blueprint);
  if (!bp) return false;
  if (!a.raw && MayDependOnNow(st->catalog(), *bp)) {
    auto computed = st->GetMeta("derived_now");
    if (!computed || *computed != json::FormatNumber(clock.Now())) return false;
  }
  PORTOLAN_ASSIGN_OR_RETURN(auto e, st->ReadEntity(a.blueprint, a.identifier));
  if (!e) return NotFound("entity '" + a.blueprint + "/" + a.identifier + "' does not exist");
  Print(e->ToJson(!a.raw), f);
  return true;
}

}  // namespace

Status RunApply(const GlobalOptions& g, const ApplyArgs& a) {
  if (a.files.empty()) return InvalidArgument("apply: give at least one -f PATH");
  auto bps = workspace::LoadBlueprintFiles(a.files);
  if (!bps.ok()) return InvalidArgument(bps.status().message() + "\nnothing applied");
  PORTOLAN_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g, /*create=*/true));
  std::vector<std::string> ids;
  for (const auto& bp : *bps) ids.push_back(bp.identifier);
  Status s = ws->ApplyBlueprints(std::move(*bps));
  if (!s.ok()) {
    return s.code() == StatusCode::kInternal ? s
                                             : InvalidArgument(s.message() + "\nnothing applied");
  }
  if (!g.quiet) {
    std::cerr << "applied " << ids.size() << " blueprint" << (ids.size() == 1 ? "" : "s") << ": ";
    for (size_t i = 0; i < ids.size(); ++i) std::cerr << (i ? ", " : "") << ids[i];
    std::cerr << " (workspace " << ws->path() << ")\n";
  }
  // A pack directory's webhooks/ and pages/ folders: webhook configurations (Datadog's DORA
  // intake) and pages (the dashboard), stored with the blueprints.
  std::vector<std::string> webhook_dirs, page_dirs;
  for (const auto& f : a.files) {
    const std::filesystem::path dir(f);
    if (std::filesystem::is_directory(dir / "webhooks")) webhook_dirs.push_back(dir / "webhooks");
    if (std::filesystem::is_directory(dir / "pages")) page_dirs.push_back(dir / "pages");
  }
  if (!webhook_dirs.empty()) {
    auto hooks = workspace::ApplyWebhookFiles(*ws, webhook_dirs, server::NewWebhookKey);
    if (!hooks.ok()) return InvalidArgument(hooks.status().message());
    if (!g.quiet) {
      std::cerr << "applied " << hooks->size() << " webhook configuration"
                << (hooks->size() == 1 ? "" : "s") << " from " << webhook_dirs[0] << "\n";
    }
  }
  if (!page_dirs.empty()) {
    auto pages = workspace::ApplyPageFiles(*ws, page_dirs);
    if (!pages.ok()) return InvalidArgument(pages.status().message());
    if (!g.quiet) {
      std::cerr << "applied " << pages->size() << " page" << (pages->size() == 1 ? "" : "s")
                << " from " << page_dirs[0] << "\n";
    }
  }
  return Status::Ok();
}

Status RunBlueprints(const GlobalOptions& g) {
  PORTOLAN_ASSIGN_OR_RETURN(Format f, OutputFormat(g));
  PORTOLAN_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g, /*create=*/false));
  const auto& all = ws->store().catalog().blueprints();
  if (f != Format::kTable) {
    json::Value arr = json::Value::MakeArray();
    for (const auto& [id, bp] : all) {
      json::Value v = bp.raw.is_object() ? bp.raw : json::Value::MakeObject();
      if (!v.Has("identifier")) v.Set("identifier", id);
      if (!v.Has("title")) v.Set("title", bp.title);
      arr.Push(std::move(v));
    }
    Print(arr, f);
    return Status::Ok();
  }
  Table t;
  t.header = {"IDENTIFIER", "TITLE", "PROPERTIES", "RELATIONS", "MIRROR", "AGGREGATION",
              "CALCULATION", "ENTITIES"};
  for (const auto& [id, bp] : all) {
    t.rows.push_back({id, bp.title, std::to_string(bp.properties.size()),
                      std::to_string(bp.relations.size()), std::to_string(bp.mirrors.size()),
                      std::to_string(bp.aggregations.size()),
                      std::to_string(bp.calculations.size()),
                      std::to_string(ws->store().Count(id))});
  }
  std::cout << RenderTable(t);
  return Status::Ok();
}

Status RunGet(const GlobalOptions& g, const GetArgs& a) {
  PORTOLAN_ASSIGN_OR_RETURN(Format f, OutputFormat(g));
  PORTOLAN_ASSIGN_OR_RETURN(bool served, QuickGet(g, a, f));
  if (served) return Status::Ok();
  PORTOLAN_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g, /*create=*/false));
  const model::Blueprint* bp = ws->store().catalog().Find(a.blueprint);
  if (!bp) return NotFound("blueprint '" + a.blueprint + "' does not exist");
  if (!a.raw) PORTOLAN_RETURN_IF_ERROR(ws->Refresh());
  if (!a.identifier.empty()) {
    const store::Entity* e = ws->store().Find(a.blueprint, a.identifier);
    if (!e) return NotFound("entity '" + a.blueprint + "/" + a.identifier + "' does not exist");
    json::Value v = e->ToJson(!a.raw);
    if (f != Format::kTable) {
      Print(v, f);
      return Status::Ok();
    }
    Table t;
    t.header = {"FIELD", "VALUE"};
    t.rows.push_back({"identifier", e->identifier});
    t.rows.push_back({"title", Cell(e->title)});
    t.rows.push_back({"team", Cell(e->team)});
    for (const auto& key : AllPropertyKeys(*bp)) {
      if (a.raw && !bp->FindProperty(key)) continue;
      t.rows.push_back({PropertyTitle(*bp, key) + " (" + key + ")", Cell(e->Lookup(key))});
    }
    for (const auto& rel : bp->relations) {
      t.rows.push_back({"relations." + rel.key, Cell(e->relations.Get(rel.key))});
    }
    t.rows.push_back({"createdAt", Cell(e->Lookup("$createdAt"))});
    t.rows.push_back({"updatedAt", Cell(e->Lookup("$updatedAt"))});
    std::cout << RenderTable(t);
    return Status::Ok();
  }
  auto list = ws->store().List(a.blueprint);
  if (f != Format::kTable) {
    json::Value arr = json::Value::MakeArray();
    for (const auto* e : list) arr.Push(e->ToJson(!a.raw));
    Print(arr, f);
    return Status::Ok();
  }
  Table t;
  t.header = {"IDENTIFIER", "TITLE"};
  std::vector<std::string> keys;
  for (const auto& key : AllPropertyKeys(*bp)) {
    if (a.raw && !bp->FindProperty(key)) continue;
    keys.push_back(key);
  }
  for (const auto& rel : bp->relations) keys.push_back(rel.key);
  for (const auto& k : keys) t.header.push_back(k);
  for (const auto* e : list) {
    std::vector<std::string> row = {e->identifier, Cell(e->title)};
    for (const auto& k : keys) row.push_back(Cell(ColumnValue(*bp, *e, k)));
    t.rows.push_back(std::move(row));
  }
  std::cout << RenderTable(t);
  std::cerr << list.size() << " " << a.blueprint << " entit" << (list.size() == 1 ? "y" : "ies")
            << "\n";
  return Status::Ok();
}

Status RunDelete(const GlobalOptions& g, const DeleteArgs& a) {
  PORTOLAN_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g, /*create=*/false));
  PORTOLAN_ASSIGN_OR_RETURN(auto deleted, ws->DeleteEntity(a.blueprint, a.identifier,
                                                            a.dependents));
  if (!g.quiet) {
    for (const auto& k : deleted) std::cerr << "deleted " << k.ToString() << "\n";
  }
  return Status::Ok();
}

Status RunRecompute(const GlobalOptions& g) {
  PORTOLAN_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g, /*create=*/false));
  PORTOLAN_RETURN_IF_ERROR(ws->RecomputeAll());
  if (!g.quiet) std::cerr << "recomputed every derived property\n";
  return Status::Ok();
}

Status RunExplain(const GlobalOptions& g, const ExplainArgs& a) {
  PORTOLAN_ASSIGN_OR_RETURN(Format f, OutputFormat(g));
  PORTOLAN_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g, /*create=*/false));
  PORTOLAN_RETURN_IF_ERROR(ws->Refresh());
  PORTOLAN_ASSIGN_OR_RETURN(json::Value v,
                            ws->engine().Explain(a.blueprint, a.identifier, a.property, ws->now()));
  Print(v, f == Format::kTable ? Format::kYaml : f);
  return Status::Ok();
}

Status RunDora(const GlobalOptions& g, const DoraArgs& a) {
  PORTOLAN_ASSIGN_OR_RETURN(Format f, OutputFormat(g));
  PORTOLAN_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g, /*create=*/false));
  PORTOLAN_RETURN_IF_ERROR(ws->Refresh());
  const model::Blueprint* svc = ws->store().catalog().Find(a.service_blueprint);
  const model::Blueprint* team = ws->store().catalog().Find(a.team_blueprint);
  if (!svc || !svc->FindAggregation("deployment_frequency")) {
    return FailedPrecondition("blueprint '" + a.service_blueprint +
                              "' has no DORA properties; apply blueprints/dora/ first");
  }
  // The columns and order of the DORA guide's dashboard tables (blueprints/dora/pages/dashboard.json).
  const std::vector<std::string> svc_cols = {
      "$title", "team", "deploy_freq_tier", "deployment_frequency", "lead_time_tier",
      "lead_time_for_changes", "cfr_tier", "mttr_tier", "total_deployments"};
  const std::vector<std::string> team_cols = {
      "$title", "deploy_freq_tier", "deployment_frequency_per_service", "lead_time_tier",
      "lead_time_for_changes", "cfr_tier", "mttr_tier"};

  auto rows = [&](const model::Blueprint& bp, const std::string& group_by,
                  const std::string& sort_by) {
    auto list = ws->store().List(bp.identifier);
    std::stable_sort(list.begin(), list.end(), [&](const store::Entity* x, const store::Entity* y) {
      if (!group_by.empty()) {
        int c = json::Compare(ColumnValue(bp, *x, group_by), ColumnValue(bp, *y, group_by));
        if (c) return c < 0;
      }
      return json::Compare(x->Lookup(sort_by), y->Lookup(sort_by)) > 0;  // desc
    });
    return list;
  };
  auto svc_list = rows(*svc, "team", "deployment_frequency");
  std::vector<const store::Entity*> team_list;
  if (team && team->FindCalculation("deployment_frequency_per_service")) {
    team_list = rows(*team, "", "deployment_frequency_per_service");
  }

  if (f != Format::kTable) {
    auto to_json = [&](const model::Blueprint& bp, const std::vector<std::string>& cols,
                       const std::vector<const store::Entity*>& list) {
      json::Value arr = json::Value::MakeArray();
      for (const auto* e : list) {
        json::Value row = json::Value::MakeObject();
        row.Set("identifier", e->identifier);
        for (const auto& c : cols) row.Set(c, ColumnValue(bp, *e, c));
        arr.Push(std::move(row));
      }
      return arr;
    };
    json::Value out = json::Value::MakeObject();
    out.Set("now", FormatIsoTime(ws->now()));
    if (team) out.Set("teams", to_json(*team, team_cols, team_list));
    out.Set("services", to_json(*svc, svc_cols, svc_list));
    Print(out, f);
    return Status::Ok();
  }
  auto render = [&](const model::Blueprint& bp, const std::vector<std::string>& cols,
                    const std::vector<const store::Entity*>& list, const std::string& title) {
    Table t;
    t.title = title;
    for (const auto& c : cols) t.header.push_back(PropertyTitle(bp, c));
    for (const auto* e : list) {
      std::vector<std::string> row;
      for (const auto& c : cols) row.push_back(Cell(ColumnValue(bp, *e, c)));
      t.rows.push_back(std::move(row));
    }
    return RenderTable(t);
  };
  std::cout << "DORA metrics as of " << FormatIsoTime(ws->now()) << "\n\n";
  if (team) {
    std::cout << render(*team, team_cols, team_list, "Team - DORA Metrics") << "\n";
  }
  std::cout << render(*svc, svc_cols, svc_list, "Service - DORA Metrics");
  std::cout << "\nTiers: Elite / High / Medium / Low per the DORA guide's thresholds. "
               "`portolan explain BLUEPRINT IDENTIFIER PROPERTY` shows how any number was "
               "obtained.\n";
  return Status::Ok();
}

}  // namespace portolan::cli
