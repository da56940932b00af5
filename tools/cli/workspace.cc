#include "tools/cli/workspace.h"

#include <cstdlib>
#include <filesystem>

namespace portolan::cli {

std::string ResolveWorkspace(const GlobalOptions& options) {
  if (!options.workspace.empty()) return options.workspace;
  if (const char* env = std::getenv("PORTOLAN_WORKSPACE"); env && *env) return env;
  return ".portolan";
}

Result<Clock> MakeClock(const GlobalOptions& options) {
  if (options.now.empty()) return Clock();
  auto t = ParseIsoTime(options.now);
  if (!t) return InvalidArgument("--now: \"" + options.now + "\" is not an ISO 8601 time");
  return Clock(*t);
}

Result<std::unique_ptr<Workspace>> Workspace::Open(const GlobalOptions& options, bool create) {
  std::unique_ptr<Workspace> ws(new Workspace());
  PORTOLAN_ASSIGN_OR_RETURN(ws->clock_, MakeClock(options));
  ws->path_ = ResolveWorkspace(options);
  if (!create && !std::filesystem::exists(store::DatabasePath(ws->path_))) {
    return NotFound("no workspace at " + ws->path_ +
                    " (create one with `portolan apply -f BLUEPRINTS`, or pass --workspace)");
  }
  PORTOLAN_ASSIGN_OR_RETURN(ws->store_, store::Store::Open(ws->path_, &ws->clock_));
  ws->engine_ = std::make_unique<derive::Engine>(ws->store_.get());
  PORTOLAN_RETURN_IF_ERROR(ws->engine_->Bind());
  return ws;
}

Status Workspace::Write(const std::function<Status()>& fn) {
  PORTOLAN_RETURN_IF_ERROR(store_->Begin());
  Status s = fn();
  // Apply also brings clock-dependent values to `now`.
  if (s.ok()) s = engine_->Apply(store_->TakeChanges(), now());
  if (!s.ok()) {
    store_->Rollback();
    return s;
  }
  return store_->Commit();
}

Status Workspace::Refresh() {
  PORTOLAN_RETURN_IF_ERROR(store_->Begin());
  Status s = engine_->EnsureFresh(now());
  if (!s.ok()) {
    store_->Rollback();
    return s;
  }
  return store_->Commit();
}

int ExitCode(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk: return 0;
    case StatusCode::kInternal: return 2;
    default: return 1;
  }
}

}  // namespace portolan::cli
