#include "tools/cli/workspace.h"

namespace portolan::cli {

std::string ResolveWorkspace(const GlobalOptions& options) {
  return workspace::ResolvePath(options.workspace);
}

Result<Clock> MakeClock(const GlobalOptions& options) {
  if (options.now.empty()) return Clock();
  auto t = ParseIsoTime(options.now);
  if (!t) return InvalidArgument("--now: \"" + options.now + "\" is not an ISO 8601 time");
  return Clock(*t);
}

Result<std::unique_ptr<Workspace>> OpenWorkspace(const GlobalOptions& options, bool create) {
  PORTOLAN_ASSIGN_OR_RETURN(Clock clock, MakeClock(options));
  workspace::OpenOptions o;
  o.create = create;
  if (clock.fixed()) o.now = clock.Now();
  return Workspace::Open(ResolveWorkspace(options), o);
}

int ExitCode(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk: return 0;
    case StatusCode::kInternal: return 2;
    default: return 1;
  }
}

}  // namespace portolan::cli
