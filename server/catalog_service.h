// The workspace as the server shares it: many readers at once, one writer at a time, and a clock
// that moves in steps so that derived values are computed once per step, not per request.
//
// Every read sees derived values valid for the current step's "now" (a read that finds the
// clock moved first refreshes them, under the write lock). Every write runs in one transaction
// of the workspace (workspace/workspace.h) and its derived values are current when it returns:
// a response sent after Write() shows them (read-your-writes).
#ifndef PORTOLAN_SERVER_CATALOG_SERVICE_H_
#define PORTOLAN_SERVER_CATALOG_SERVICE_H_

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>

#include "engine/base/status.h"
#include "workspace/workspace.h"

namespace portolan::server {

struct ClockOptions {
  std::optional<double> fixed_now;  // --now: the clock never moves
  double step_seconds = 60;         // the wall clock is read rounded down to this step
};

class CatalogService {
 public:
  CatalogService(std::unique_ptr<workspace::Workspace> ws, ClockOptions clock);

  // The "now" of the current step.
  double CurrentNow() const;

  // Runs `fn` with shared access; derived values are valid for CurrentNow(). `fn` must not
  // write. Errors: a failed refresh.
  Status Read(const std::function<Status(const workspace::Workspace&)>& fn);
  // Runs `fn` with exclusive access, the clock at CurrentNow(). `fn` usually calls
  // Workspace::Write (one transaction); it may also only read.
  Status Write(const std::function<Status(workspace::Workspace&)>& fn);

  // Builds the derived-value engine's incremental state (Workspace::Warm), so that each write
  // costs what it changes. Done once at start; again after a write that left it cold.
  Status Warm();

  // For tests and shutdown: the workspace, without locking.
  workspace::Workspace& unsafe_workspace() { return *ws_; }

 private:
  std::unique_ptr<workspace::Workspace> ws_;
  ClockOptions clock_;
  std::shared_mutex mu_;
  double fresh_now_ = -1;  // the now derived values were last made valid for (under mu_)
};

}  // namespace portolan::server

#endif  // PORTOLAN_SERVER_CATALOG_SERVICE_H_
