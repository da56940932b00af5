// The CLI's global options and how they open a workspace (workspace/workspace.h).
#ifndef PORTOLAN_TOOLS_CLI_WORKSPACE_H_
#define PORTOLAN_TOOLS_CLI_WORKSPACE_H_

#include <memory>
#include <string>

#include "engine/base/status.h"
#include "engine/base/time.h"
#include "workspace/workspace.h"

namespace portolan::cli {

struct GlobalOptions {
  std::string workspace;  // --workspace; else $PORTOLAN_WORKSPACE; else ./.portolan
  std::string now;        // --now ISO 8601; else the wall clock
  std::string output;     // -o table|json|yaml
  bool quiet = false;
};

using workspace::Workspace;

// The workspace directory the options resolve to.
std::string ResolveWorkspace(const GlobalOptions& options);
// The clock the options ask for. Errors on a malformed --now.
Result<Clock> MakeClock(const GlobalOptions& options);
// Opens the workspace the options name (creating it when `create`).
Result<std::unique_ptr<Workspace>> OpenWorkspace(const GlobalOptions& options, bool create);

// Exit code for a status: 0 ok, 1 user error, 2 internal error.
int ExitCode(const Status& s);

}  // namespace portolan::cli

#endif  // PORTOLAN_TOOLS_CLI_WORKSPACE_H_
