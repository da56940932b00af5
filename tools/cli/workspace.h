// A workspace opened for one CLI command: the store, the derived-property engine and the clock.
#ifndef PORTOLAN_TOOLS_CLI_WORKSPACE_H_
#define PORTOLAN_TOOLS_CLI_WORKSPACE_H_

#include <functional>
#include <memory>
#include <string>

#include "engine/base/status.h"
#include "engine/base/time.h"
#include "engine/derive/derive.h"
#include "engine/store/store.h"

namespace portolan::cli {

struct GlobalOptions {
  std::string workspace;  // --workspace; else $PORTOLAN_WORKSPACE; else ./.portolan
  std::string now;        // --now ISO 8601; else the wall clock
  std::string output;     // -o table|json|yaml
  bool quiet = false;
};

// The workspace directory the options resolve to.
std::string ResolveWorkspace(const GlobalOptions& options);
// The clock the options ask for. Errors on a malformed --now.
Result<Clock> MakeClock(const GlobalOptions& options);

class Workspace {
 public:
  // Opens the workspace (creating it when `create`), binds derived properties.
  static Result<std::unique_ptr<Workspace>> Open(const GlobalOptions& options, bool create);

  store::Store& store() { return *store_; }
  derive::Engine& engine() { return *engine_; }
  double now() const { return clock_.Now(); }
  const std::string& path() const { return path_; }

  // Runs `fn` in one transaction, recomputes the derived values its changes reach, and commits;
  // on any error rolls everything back (nothing half-written).
  Status Write(const std::function<Status()>& fn);

  // Makes derived values valid for now (recomputing time-dependent ones) and persists them.
  Status Refresh();

 private:
  Workspace() = default;
  Clock clock_;
  std::string path_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<derive::Engine> engine_;
};

// Exit code for a status: 0 ok, 1 user error, 2 internal error.
int ExitCode(const Status& s);

}  // namespace portolan::cli

#endif  // PORTOLAN_TOOLS_CLI_WORKSPACE_H_
