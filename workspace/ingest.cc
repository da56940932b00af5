#include "workspace/ingest.h"

#include <set>
#include <utility>

#include "mapping/sync.h"

namespace portolan::workspace {

std::string IngestReport::Summary(bool full_resync) const {
  std::string s = std::to_string(upserted) + " upserted, " + std::to_string(unchanged) +
                  " unchanged, " + std::to_string(skipped) + " skipped";
  if (related_created) s += ", " + std::to_string(related_created) + " related entities created";
  if (full_resync) s += ", " + std::to_string(deleted) + " deleted";
  return s;
}

IngestSession::IngestSession(Workspace* workspace, mapping::Mapper* mapper, IngestOptions options)
    : ws_(workspace), mapper_(mapper), options_(std::move(options)) {}

Result<IngestReport> IngestSession::RunFiles(const std::vector<std::string>& payloads) {
  mapping::ReplayOptions ro;
  ro.kind = options_.kind;
  ro.items_path = options_.items_path;
  ro.threads = options_.threads;
  ro.on_progress = options_.on_progress;
  return Run([&](const std::function<Status(mapping::MapResult)>& sink) {
    return mapping::ReplayFiles(mapper_, payloads, ro, sink);
  });
}

Result<IngestReport> IngestSession::RunItems(std::span<const json::Value> items) {
  return Run([&](const std::function<Status(mapping::MapResult)>& sink) {
    mapping::MapStream stream(mapper_, options_.kind, sink);
    for (const auto& item : items) PORTOLAN_RETURN_IF_ERROR(stream.Add(item));
    return stream.Finish();
  });
}

Result<IngestReport> IngestSession::Run(const Producer& produce) {
  PORTOLAN_RETURN_IF_ERROR(mapping::CheckKind(*mapper_, options_.kind));
  // A write must not silently null a field because of a typo in jq: refuse up front.
  std::vector<std::string> problems = mapping::CompileProblems(*mapper_);
  if (!problems.empty()) {
    std::string msg = "the mapping has jq that does not compile:";
    for (const auto& p : problems) msg += "\n  " + p;
    return InvalidArgument(msg + "\nnothing written (`portolan map` shows what Ocean would send)");
  }
  const mapping::MappingConfig& cfg = mapper_->config();
  auto datasource = [&](size_t resource) {
    return options_.source + "#" + cfg.resources[resource].kind;
  };
  store::Store& st = ws_->store();

  store::UpsertOptions uo;
  uo.upsert = true;
  uo.merge = cfg.enable_merge_entity;
  uo.create_missing_related = cfg.create_missing_related_entities;

  // Entities this mapping produced before (the resync's "before" set), per datasource.
  std::vector<store::EntityKey> before;
  if (options_.full_resync) {
    std::set<std::string> datasources;
    for (size_t r : mapper_->ResourcesFor(options_.kind)) datasources.insert(datasource(r));
    for (const auto& ds : datasources) {
      for (auto& k : st.KeysByDatasource(ds)) before.push_back(std::move(k));
    }
  }

  IngestReport report;
  std::vector<store::EntityKey> after;
  std::set<store::EntityKey> relation_targets;
  std::vector<std::string> write_errors;
  std::vector<std::string> itp_problems;

  Status s = ws_->Write([&]() -> Status {
    PORTOLAN_RETURN_IF_ERROR(produce([&](mapping::MapResult r) -> Status {
      report.skipped += r.skipped;
      for (const auto& e : r.errors) report.item_errors.push_back(e.ToString());
      for (const auto& w : r.warnings) itp_problems.push_back(w.ToString());
      for (size_t i = 0; i < r.entities.size(); ++i) {
        const json::Value& body = r.entities[i];
        const json::Value& bpv = body.Get("blueprint");
        after.push_back(mapping::KeyOf(body));
        if (!bpv.is_string()) {
          write_errors.push_back("item " + std::to_string(r.origins[i].index) +
                                 ": blueprint must be a string, got " + json::Write(bpv));
          continue;
        }
        if (options_.delete_resources.count(r.origins[i].resource)) {
          const std::string id = mapping::NormalizeIdentifier(body.Get("identifier"));
          if (!st.Find(bpv.as_string(), id)) continue;
          auto gone = st.Delete(bpv.as_string(), id, options_.delete_dependents);
          if (!gone.ok()) {
            write_errors.push_back("item " + std::to_string(r.origins[i].index) + " (" +
                                   bpv.as_string() + "/" + id + "): " + gone.status().message());
          } else {
            report.deleted += gone->size();
          }
          continue;
        }
        store::UpsertOptions o = uo;
        o.datasource = datasource(r.origins[i].resource);
        json::Value entity = body;
        entity.Erase("blueprint");
        auto w = st.Upsert(bpv.as_string(), entity, o);
        if (!w.ok()) {
          write_errors.push_back("item " + std::to_string(r.origins[i].index) + " (" +
                                 bpv.as_string() + "/" +
                                 mapping::NormalizeIdentifier(body.Get("identifier")) +
                                 "): " + w.status().message());
          continue;
        }
        (w->changed ? report.upserted : report.unchanged) += 1;
        report.related_created += w->created_related.size();
        report.written.push_back(w->key);
        // Relation targets of kept entities are protected from the resync delete (safe delete).
        if (const model::Blueprint* bp = st.catalog().Find(bpv.as_string())) {
          const store::Entity* stored = st.Find(bp->identifier, w->key.identifier);
          for (const auto& rel : bp->relations) {
            for (const auto& t : stored->RelationTargets(rel.key)) {
              relation_targets.insert({rel.target, t});
            }
          }
        }
      }
      return Status::Ok();
    }));
    if (!write_errors.empty() || !itp_problems.empty()) {
      std::string msg;
      size_t shown = 0;
      for (const auto* list : {&write_errors, &itp_problems}) {
        for (const auto& e : *list) {
          if (shown++ < 20) msg += "\n  " + e;
        }
      }
      if (shown > 20) msg += "\n  ... and " + std::to_string(shown - 20) + " more";
      return InvalidArgument(std::to_string(write_errors.size() + itp_problems.size()) +
                             " item(s) could not be written:" + msg + "\nnothing written");
    }
    if (options_.also) PORTOLAN_RETURN_IF_ERROR(options_.also());
    if (!options_.full_resync) return Status::Ok();
    std::set<store::EntityKey> protect;
    if (cfg.create_missing_related_entities) protect = relation_targets;
    mapping::DeletePlan plan =
        mapping::PlanDeletion(before, after, report.item_errors.size(),
                              cfg.entity_deletion_threshold, protect);
    if (plan.skip) {
      report.delete_note = plan.reason;
      return Status::Ok();
    }
    for (const auto& k : plan.to_delete) {
      if (!st.Find(k.blueprint, k.identifier)) continue;  // gone as a dependent
      PORTOLAN_ASSIGN_OR_RETURN(auto gone,
                                st.Delete(k.blueprint, k.identifier, cfg.delete_dependent_entities));
      report.deleted += gone.size();
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return report;
}

}  // namespace portolan::workspace
