// `portolan map`, `ingest` and `sync`: payloads through an Ocean mapping, then (for ingest and
// sync) into the workspace in one transaction.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <thread>
#include <algorithm>

#include "engine/base/pipeline.h"
#include "engine/jq/expr.h"
#include "mapping/payload.h"
#include "mapping/payload_stream.h"
#include "mapping/processor.h"
#include "mapping/sync.h"
#include "tools/cli/commands.h"

namespace portolan::cli {

namespace {

// Progress on stderr for long replays, only when stderr is a terminal.
class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled && isatty(STDERR_FILENO)) {}
  void Tick(size_t items) {
    if (!enabled_ || items - last_ < 5000) return;
    last_ = items;
    double secs = Elapsed();
    std::fprintf(stderr, "\r  %zu items mapped (%.0f/s)", items, secs > 0 ? items / secs : 0.0);
    std::fflush(stderr);
  }
  void Done() {
    if (enabled_ && last_ > 0) std::fprintf(stderr, "\n");
  }

 private:
  double Elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  bool enabled_;
  size_t last_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// Compile problems of the mapping, one line each (field path, jq text, jq's message).
std::vector<std::string> CompileProblems(const mapping::Mapper& m) {
  std::vector<std::string> out;
  for (const auto& p : m.config().CompileProblems()) out.push_back(m.config().Describe(p));
  return out;
}

json::Value ErrorJson(const mapping::ItemError& e) {
  json::Value v = json::Value::MakeObject();
  v.Set("kind", e.kind);
  v.Set("index", static_cast<double>(e.index));
  if (e.element) v.Set("element", static_cast<double>(*e.element));
  v.Set("message", e.message);
  return v;
}

Status CheckKind(const mapping::Mapper& m, const std::string& kind) {
  if (!kind.empty() && m.ResourcesFor(kind).empty()) {
    std::string kinds;
    for (const auto& r : m.config().resources) kinds += (kinds.empty() ? "" : ", ") + r.kind;
    return InvalidArgument("--kind " + kind + ": the mapping " + m.config().name() +
                           " has no resource of that kind (it has: " + kinds + ")");
  }
  return Status::Ok();
}

// Loads the mapping with the requested jq engine.
Result<mapping::Mapper> LoadMapper(const MapArgs& a) {
  mapping::LoadOptions options;
  PORTOLAN_ASSIGN_OR_RETURN(options.engine, jq::ParseEngine(a.engine));
  return mapping::Mapper::Load(a.mapping, options);
}

// Mapping threads: as asked, else one per core (at most 4) for inputs large enough to repay a
// compile of the mapping per thread, one otherwise.
size_t MappingThreads(const MapArgs& a) {
  if (a.threads > 0) return static_cast<size_t>(a.threads);
  uintmax_t bytes = 0;
  for (const auto& p : a.payloads) {
    std::error_code ec;
    uintmax_t size = p == "-" ? 0 : std::filesystem::file_size(p, ec);
    bytes += p == "-" || ec ? (64u << 20) : size;
  }
  if (bytes < (16u << 20)) return 1;
  return std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4);
}

// One batch of item texts, mapped on a worker.
struct MappedBatch {
  mapping::ItemBatch batch;  // kept for a re-map (below) and for error locations
  mapping::MapResult result;
  Status status;  // an item that is not valid JSON or not an object ends the run here
};

// Maps every payload item; `on_batch` receives each batch result, in input order.
//
// Payloads are streamed (mapping/payload_stream.h) in batches of item texts, which worker
// threads map with their own copy of the mapper; results are consumed in order. Ocean's batch
// rule (a batch error abandons the resource for the rest of the run) is sequential: a batch
// mapped in parallel after such an error is mapped again here with the run's state.
Status MapPayloads(mapping::Mapper* mapper, const MapArgs& a, bool quiet,
                   const std::function<Status(mapping::MapResult)>& on_batch) {
  Progress progress(!quiet);
  size_t items = 0;
  mapping::PayloadOptions po;
  po.items_path = a.items_path;
  if (!mapping::CanStream(po)) {
    // --items-path: the files are parsed whole to find the path.
    mapping::MapStream stream(mapper, a.kind, on_batch);
    Status s = mapper->config().options().engine == jq::Engine::kLibjq
                   ? mapping::ReadPayloadInputs(a.payloads, po,
                                                [&](jq::Input item, const mapping::ItemSource&) {
                                                  progress.Tick(++items);
                                                  return stream.Add(std::move(item));
                                                })
                   : mapping::ReadPayloads(a.payloads, po,
                                           [&](json::Value item, const mapping::ItemSource&) {
                                             progress.Tick(++items);
                                             return stream.Add(std::move(item));
                                           });
    if (s.ok()) s = stream.Finish();
    progress.Done();
    return s;
  }

  const size_t threads = MappingThreads(a);
  std::vector<std::unique_ptr<mapping::Mapper>> clones;
  std::vector<mapping::Mapper*> states;
  if (threads == 1) {
    states.push_back(mapper);
  } else {
    for (size_t i = 0; i < threads; ++i) {
      PORTOLAN_ASSIGN_OR_RETURN(mapping::Mapper clone, mapper->Clone());
      clones.push_back(std::make_unique<mapping::Mapper>(std::move(clone)));
      states.push_back(clones.back().get());
    }
  }
  const std::string kind = a.kind;
  auto map_batch = [&kind](mapping::Mapper* m, mapping::ItemBatch batch,
                           mapping::RunState* run) -> MappedBatch {
    std::vector<std::string_view> texts;
    texts.reserve(batch.items.size());
    for (const auto& item : batch.items) texts.push_back(item.text);
    MappedBatch out;
    std::optional<mapping::Mapper::TextFailure> failure;
    static_assert(mapping::kItemPadding >= jq::DocParser::kPadding);
    out.result = m->MapTexts(kind, texts, run, &failure);
    if (failure) out.status = mapping::ItemParseError(batch.items[failure->position], failure->status);
    out.batch = std::move(batch);
    return out;
  };

  mapping::RunState run;  // the sequential run: which resources a batch error abandoned
  // One thread: the pipeline runs the work inline and in order, so it maps on `run` itself.
  const bool inline_run = states.size() == 1;
  OrderedPipeline<mapping::ItemBatch, MappedBatch, mapping::Mapper*> pipeline(
      states,
      [&](mapping::Mapper*& m, mapping::ItemBatch batch) -> Result<MappedBatch> {
        if (inline_run) {
          run.next_index = batch.first_index;
          return map_batch(m, std::move(batch), &run);
        }
        mapping::RunState local;
        local.next_index = batch.first_index;
        return map_batch(m, std::move(batch), &local);
      },
      [&](MappedBatch mapped) -> Status {
        if (!inline_run) {  // (inline, the work mapped on `run` itself)
          if (!run.abandoned.empty()) {
            // A batch error abandoned a resource: map again in order on `mapper` (only here
            // can it be used: the workers have clones of it).
            run.next_index = mapped.batch.first_index;
            mapped = map_batch(mapper, std::move(mapped.batch), &run);
          } else {
            for (const auto& e : mapped.result.errors) {
              if (e.scope == mapping::ItemError::Scope::kBatch) run.abandoned.insert(e.resource);
            }
          }
        }
        items += mapped.batch.items.size();
        progress.Tick(items);
        PORTOLAN_RETURN_IF_ERROR(on_batch(std::move(mapped.result)));
        return mapped.status;
      });
  mapping::StreamOptions so;
  so.batch_size = mapping::MapStream::kDefaultBatchSize;
  Status s = mapping::StreamPayloads(a.payloads, so, [&](mapping::ItemBatch batch) {
    return pipeline.Submit(std::move(batch));
  });
  // An error of the pipeline belongs to an earlier item than one the reader found.
  Status finished = pipeline.Finish();
  if (!finished.ok()) s = finished;
  progress.Done();
  return s;
}

}  // namespace

Status RunMap(const GlobalOptions& g, const MapArgs& a) {
  PORTOLAN_ASSIGN_OR_RETURN(mapping::Mapper mapper, LoadMapper(a));
  PORTOLAN_RETURN_IF_ERROR(CheckKind(mapper, a.kind));
  for (const auto& w : mapper.config().warnings) std::cerr << "warning: " << w << "\n";
  std::vector<std::string> problems = CompileProblems(mapper);

  // Entities are streamed to stdout as they are mapped, in input order per resource.
  std::string out = "{\"entities\": [";
  bool first = true;
  json::Value errors = json::Value::MakeArray();
  json::Value warnings = json::Value::MakeArray();
  std::map<std::string, std::string> misconfigured;
  size_t skipped = 0;
  Status s = MapPayloads(&mapper, a, g.quiet, [&](mapping::MapResult r) -> Status {
    for (const auto& e : r.entities) {
      out += first ? "\n  " : ",\n  ";
      first = false;
      json::WriteTo(e, &out);
    }
    for (const auto& e : r.errors) errors.Push(ErrorJson(e));
    for (const auto& w : r.warnings) warnings.Push(w.ToString());
    for (const auto& m : r.misconfigured) misconfigured.emplace(m.path, m.jq);
    skipped += r.skipped;
    if (out.size() > (1 << 20)) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  json::Value mis = json::Value::MakeObject();
  for (const auto& [k, v] : misconfigured) mis.Set(k, v);
  out += first ? "],\n" : "\n],\n";
  out += "\"errors\": " + json::Write(errors) + ",\n";
  out += "\"misconfigured\": " + json::Write(mis) + ",\n";
  if (warnings.size() > 0) out += "\"warnings\": " + json::Write(warnings) + ",\n";
  out += "\"skipped\": " + std::to_string(skipped) + "}\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);

  if (!problems.empty()) {
    std::string msg = "the mapping has jq that does not compile (those fields map to null):";
    for (const auto& p : problems) msg += "\n  " + p;
    return InvalidArgument(msg);
  }
  return Status::Ok();
}

Status RunIngest(const GlobalOptions& g, const MapArgs& a, bool full_resync) {
  const char* verb = full_resync ? "sync" : "ingest";
  PORTOLAN_ASSIGN_OR_RETURN(mapping::Mapper mapper, LoadMapper(a));
  PORTOLAN_RETURN_IF_ERROR(CheckKind(mapper, a.kind));
  for (const auto& w : mapper.config().warnings) std::cerr << "warning: " << w << "\n";
  // A write must not silently null a field because of a typo in jq: refuse up front.
  std::vector<std::string> problems = CompileProblems(mapper);
  if (!problems.empty()) {
    std::string msg = "the mapping has jq that does not compile:";
    for (const auto& p : problems) msg += "\n  " + p;
    return InvalidArgument(msg + "\nnothing written (`portolan map` shows what Ocean would send)");
  }
  PORTOLAN_ASSIGN_OR_RETURN(auto ws, Workspace::Open(g, /*create=*/false));
  const mapping::MappingConfig& cfg = mapper.config();
  const std::string base = std::filesystem::path(a.mapping).filename().string();
  auto datasource = [&](size_t resource) { return base + "#" + cfg.resources[resource].kind; };

  store::UpsertOptions uo;
  uo.upsert = true;
  uo.merge = cfg.enable_merge_entity;
  uo.create_missing_related = cfg.create_missing_related_entities;

  // Entities this mapping produced before (the resync's "before" set), per datasource.
  std::vector<mapping::EntityKey> before;
  std::set<std::string> datasources;
  for (size_t r : mapper.ResourcesFor(a.kind)) datasources.insert(datasource(r));
  if (full_resync) {
    for (const auto& ds : datasources) {
      for (const auto& k : ws->store().KeysByDatasource(ds)) {
        before.push_back({k.identifier, k.blueprint});
      }
    }
  }

  std::vector<mapping::EntityKey> after;
  std::set<mapping::EntityKey> relation_targets;
  std::vector<std::string> item_errors;
  std::vector<std::string> write_errors;
  std::vector<std::string> itp_problems;
  size_t upserted = 0, unchanged = 0, skipped = 0, deleted = 0, barebones = 0;
  std::string delete_note;

  Status s = ws->Write([&]() -> Status {
    PORTOLAN_RETURN_IF_ERROR(MapPayloads(&mapper, a, g.quiet, [&](mapping::MapResult r) -> Status {
      skipped += r.skipped;
      for (const auto& e : r.errors) item_errors.push_back(e.ToString());
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
        store::UpsertOptions o = uo;
        o.datasource = datasource(r.origins[i].resource);
        json::Value entity = body;
        entity.Erase("blueprint");
        auto w = ws->store().Upsert(bpv.as_string(), entity, o);
        if (!w.ok()) {
          write_errors.push_back("item " + std::to_string(r.origins[i].index) + " (" +
                                 bpv.as_string() + "/" +
                                 mapping::NormalizeIdentifier(body.Get("identifier")) +
                                 "): " + w.status().message());
          continue;
        }
        (w->changed ? upserted : unchanged) += 1;
        barebones += w->created_related.size();
        // Relation targets of kept entities are protected from the resync delete (safe delete).
        if (const model::Blueprint* bp = ws->store().catalog().Find(bpv.as_string())) {
          const store::Entity* stored = ws->store().Find(bp->identifier, w->key.identifier);
          for (const auto& rel : bp->relations) {
            for (const auto& t : stored->RelationTargets(rel.key)) {
              relation_targets.insert({t, rel.target});
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
    if (!full_resync) return Status::Ok();
    std::set<mapping::EntityKey> protect;
    if (cfg.create_missing_related_entities) protect = relation_targets;
    mapping::DeletePlan plan = mapping::PlanDeletion(before, after, item_errors.size(),
                                                     cfg.entity_deletion_threshold, protect);
    if (plan.skip) {
      delete_note = plan.reason;
      return Status::Ok();
    }
    for (const auto& k : plan.to_delete) {
      if (!ws->store().Find(k.blueprint, k.identifier)) continue;  // gone as a dependent
      PORTOLAN_ASSIGN_OR_RETURN(auto gone, ws->store().Delete(k.blueprint, k.identifier,
                                                              cfg.delete_dependent_entities));
      deleted += gone.size();
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;

  if (!g.quiet) {
    std::cerr << verb << ": " << upserted << " upserted, " << unchanged << " unchanged, "
              << skipped << " skipped";
    if (barebones) std::cerr << ", " << barebones << " related entities created";
    if (full_resync) std::cerr << ", " << deleted << " deleted";
    std::cerr << "\n";
    if (!delete_note.empty()) std::cerr << verb << ": " << delete_note << "\n";
  }
  if (!item_errors.empty()) {
    std::string msg = std::to_string(item_errors.size()) +
                      " item error(s); the other entities were written:";
    for (size_t i = 0; i < item_errors.size() && i < 20; ++i) msg += "\n  " + item_errors[i];
    return InvalidArgument(msg);
  }
  return Status::Ok();
}

}  // namespace portolan::cli
