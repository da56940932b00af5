// The workspace as the server shares it: many readers at once, one writer at a time, and a clock
// that moves in steps so that derived values are computed once per step, not per request.
//
// Every read sees derived values valid for the current step's "now" (a read that finds the
// clock moved first refreshes them, under the write lock). Every write runs in one transaction
// of the workspace (workspace/workspace.h) and its derived values are current when it returns:
// a response sent after Write() shows them (read-your-writes).
#ifndef PORTOLAN_SERVER_CATALOG_SERVICE_H_
#define PORTOLAN_SERVER_CATALOG_SERVICE_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <vector>

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
  // Workspace::Write (all or nothing); it may also only read. Returns once what `fn` wrote is
  // committed.
  //
  // Group commit: writes that arrive while another batch runs are run together, one after the
  // other, each under a savepoint of one transaction (Workspace::BeginBatch), and committed once.
  // If the batch cannot commit, each of its writes is run again alone, so `fn` must be safe to
  // run twice (it must not consume its inputs) and may only talk to the outside after Write
  // returns.
  Status Write(const std::function<Status(workspace::Workspace&)>& fn);
  // The same, always in a transaction of its own (blueprint changes, which a batch cannot hold).
  Status WriteAlone(const std::function<Status(workspace::Workspace&)>& fn);

  // Builds the derived-value engine's incremental state (Workspace::Warm), so that each write
  // costs what it changes. Done once at start; again after a write that left it cold.
  Status Warm();

  // For tests and shutdown: the workspace, without locking.
  workspace::Workspace& unsafe_workspace() { return *ws_; }

 private:
  struct Job {
    const std::function<Status(workspace::Workspace&)>* fn;
    bool alone = false;
    Status result;
    bool done = false;
  };
  Status Submit(const std::function<Status(workspace::Workspace&)>& fn, bool alone);
  // Runs jobs under the exclusive lock: as one batch when they can share a commit.
  void RunJobs(const std::vector<Job*>& jobs);
  Status RefreshLocked();  // under mu_, exclusive

  std::unique_ptr<workspace::Workspace> ws_;
  ClockOptions clock_;
  std::shared_mutex mu_;
  double fresh_now_ = -1;  // the now derived values were last made valid for (under mu_)

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Job*> queue_;  // writes waiting for the next batch
  bool leader_ = false;     // a thread is running a batch
};

}  // namespace portolan::server

#endif  // PORTOLAN_SERVER_CATALOG_SERVICE_H_
