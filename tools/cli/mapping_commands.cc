// `portolan map`, `ingest` and `sync`: thin shells over mapping/replay.h (the dry run) and
// workspace/ingest.h (the ingest session).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>

#include "engine/jq/expr.h"
#include "mapping/processor.h"
#include "mapping/replay.h"
#include "tools/cli/commands.h"
#include "workspace/ingest.h"

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

json::Value ErrorJson(const mapping::ItemError& e) {
  json::Value v = json::Value::MakeObject();
  v.Set("kind", e.kind);
  v.Set("index", static_cast<double>(e.index));
  if (e.element) v.Set("element", static_cast<double>(*e.element));
  v.Set("message", e.message);
  return v;
}

// Loads the mapping with the requested jq engine.
Result<mapping::Mapper> LoadMapper(const MapArgs& a) {
  mapping::LoadOptions options;
  PORTOLAN_ASSIGN_OR_RETURN(options.engine, jq::ParseEngine(a.engine));
  return mapping::Mapper::Load(a.mapping, options);
}

// The replay options of the arguments, with a progress display on a terminal.
mapping::ReplayOptions ReplayOptionsOf(const MapArgs& a, Progress* progress) {
  mapping::ReplayOptions ro;
  ro.kind = a.kind;
  ro.items_path = a.items_path;
  ro.threads = static_cast<size_t>(a.threads);
  ro.on_progress = [progress](size_t items) { progress->Tick(items); };
  return ro;
}

}  // namespace

Status RunMap(const GlobalOptions& g, const MapArgs& a) {
  PORTOLAN_ASSIGN_OR_RETURN(mapping::Mapper mapper, LoadMapper(a));
  PORTOLAN_RETURN_IF_ERROR(mapping::CheckKind(mapper, a.kind));
  for (const auto& w : mapper.config().warnings) std::cerr << "warning: " << w << "\n";
  std::vector<std::string> problems = mapping::CompileProblems(mapper);

  // Entities are streamed to stdout as they are mapped, in input order per resource.
  std::string out = "{\"entities\": [";
  bool first = true;
  json::Value errors = json::Value::MakeArray();
  json::Value warnings = json::Value::MakeArray();
  std::map<std::string, std::string> misconfigured;
  size_t skipped = 0;
  Progress progress(!g.quiet);
  Status s = mapping::ReplayFiles(&mapper, a.payloads, ReplayOptionsOf(a, &progress),
                                  [&](mapping::MapResult r) -> Status {
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
  progress.Done();
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
  PORTOLAN_RETURN_IF_ERROR(mapping::CheckKind(mapper, a.kind));
  for (const auto& w : mapper.config().warnings) std::cerr << "warning: " << w << "\n";
  PORTOLAN_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g, /*create=*/false));

  Progress progress(!g.quiet);
  workspace::IngestOptions io;
  io.kind = a.kind;
  io.full_resync = full_resync;
  io.source = std::filesystem::path(a.mapping).filename().string();
  io.items_path = a.items_path;
  io.threads = static_cast<size_t>(a.threads);
  io.on_progress = [&progress](size_t items) { progress.Tick(items); };
  workspace::IngestSession session(ws.get(), &mapper, io);
  auto report = session.RunFiles(a.payloads);
  progress.Done();
  if (!report.ok()) return report.status();

  if (!g.quiet) {
    std::cerr << verb << ": " << report->Summary(full_resync) << "\n";
    if (!report->delete_note.empty()) std::cerr << verb << ": " << report->delete_note << "\n";
  }
  if (!report->item_errors.empty()) {
    const auto& errors = report->item_errors;
    std::string msg = std::to_string(errors.size()) +
                      " item error(s); the other entities were written:";
    for (size_t i = 0; i < errors.size() && i < 20; ++i) msg += "\n  " + errors[i];
    return InvalidArgument(msg);
  }
  return Status::Ok();
}

}  // namespace portolan::cli
