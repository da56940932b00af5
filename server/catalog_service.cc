#include "server/catalog_service.h"

#include <chrono>
#include <cmath>

#include <spdlog/spdlog.h>

namespace portolan::server {

CatalogService::CatalogService(std::unique_ptr<workspace::Workspace> ws, ClockOptions clock)
    : ws_(std::move(ws)), clock_(clock) {}

double CatalogService::CurrentNow() const {
  if (clock_.fixed_now) return *clock_.fixed_now;
  double wall = std::chrono::duration<double>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  if (clock_.step_seconds <= 0) return std::floor(wall * 1000) / 1000;
  return std::floor(wall / clock_.step_seconds) * clock_.step_seconds;
}

Status CatalogService::Read(const std::function<Status(const workspace::Workspace&)>& fn) {
  const double now = CurrentNow();
  {
    std::shared_lock lock(mu_);
    if (fresh_now_ == now) return fn(*ws_);
  }
  std::unique_lock lock(mu_);
  PORTOLAN_RETURN_IF_ERROR(RefreshLocked());
  // Readers run under the exclusive lock this once; the next ones share it.
  return fn(*ws_);
}

Status CatalogService::Write(const std::function<Status(workspace::Workspace&)>& fn) {
  return Submit(fn, /*alone=*/false);
}

Status CatalogService::WriteAlone(const std::function<Status(workspace::Workspace&)>& fn) {
  return Submit(fn, /*alone=*/true);
}

Status CatalogService::Submit(const std::function<Status(workspace::Workspace&)>& fn,
                              bool alone) {
  constexpr size_t kMaxBatch = 256;
  Job job{&fn, alone, Status::Ok(), false};
  std::unique_lock ql(queue_mu_);
  queue_.push_back(&job);
  while (!job.done) {
    if (leader_) {
      queue_cv_.wait(ql);
      continue;
    }
    // This thread runs the next batch: what is queued now (its own job among them, unless more
    // than kMaxBatch wait before it).
    leader_ = true;
    std::vector<Job*> jobs;
    while (!queue_.empty() && jobs.size() < kMaxBatch) {
      jobs.push_back(queue_.front());
      queue_.pop_front();
    }
    ql.unlock();
    RunJobs(jobs);
    ql.lock();
    for (Job* j : jobs) j->done = true;
    leader_ = false;
    queue_cv_.notify_all();
  }
  return job.result;
}

Status CatalogService::RefreshLocked() {
  const double now = CurrentNow();
  if (fresh_now_ != now) {
    ws_->SetNow(now);
    PORTOLAN_RETURN_IF_ERROR(ws_->Refresh());
    fresh_now_ = now;
  }
  return Status::Ok();
}

void CatalogService::RunJobs(const std::vector<Job*>& jobs) {
  std::unique_lock lock(mu_);
  if (Status s = RefreshLocked(); !s.ok()) {
    for (Job* j : jobs) j->result = s;
    return;
  }
  bool batch = jobs.size() > 1;
  for (Job* j : jobs) batch = batch && !j->alone;
  bool done = false;
  if (batch && ws_->BeginBatch().ok()) {
    for (Job* j : jobs) j->result = (*j->fn)(*ws_);
    if (ws_->batch_broken()) {
      ws_->AbortBatch();
    } else if (Status c = ws_->EndBatch(); c.ok()) {
      done = true;
    } else {
      spdlog::warn("a group commit of {} writes failed ({}); running them one by one",
                   jobs.size(), c.message());
    }
    // The rolled-back batch left the engine cold: warm it before the writes run again.
    if (!done && !ws_->engine().warm()) ws_->Warm().IgnoreError();
  }
  if (!done) {
    for (Job* j : jobs) {
      j->result = (*j->fn)(*ws_);
      if (!ws_->engine().warm()) {
        // A failed write can leave the engine cold (every later write would rebuild the
        // aggregations it reaches from all their targets): warm it again.
        Status w = ws_->Warm();
        if (!w.ok()) spdlog::error("recomputing derived values after a failed write: {}",
                                   w.message());
      }
    }
  }
}

Status CatalogService::Warm() {
  std::unique_lock lock(mu_);
  ws_->SetNow(CurrentNow());
  PORTOLAN_RETURN_IF_ERROR(ws_->Warm());
  fresh_now_ = CurrentNow();
  return Status::Ok();
}

}  // namespace portolan::server
