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
  if (fresh_now_ != now) {
    ws_->SetNow(now);
    PORTOLAN_RETURN_IF_ERROR(ws_->Refresh());
    fresh_now_ = now;
  }
  // Readers run under the exclusive lock this once; the next ones share it.
  return fn(*ws_);
}

Status CatalogService::Write(const std::function<Status(workspace::Workspace&)>& fn) {
  const double now = CurrentNow();
  std::unique_lock lock(mu_);
  if (fresh_now_ != now) {
    ws_->SetNow(now);
    PORTOLAN_RETURN_IF_ERROR(ws_->Refresh());
    fresh_now_ = now;
  }
  Status s = fn(*ws_);
  // A failed write can leave the engine cold (every later write would rebuild the aggregations
  // it reaches from all their targets): warm it again while we hold the lock.
  if (!ws_->engine().warm()) {
    Status w = ws_->Warm();
    if (!w.ok()) spdlog::error("recomputing derived values after a failed write: {}", w.message());
  }
  return s;
}

Status CatalogService::Warm() {
  std::unique_lock lock(mu_);
  ws_->SetNow(CurrentNow());
  PORTOLAN_RETURN_IF_ERROR(ws_->Warm());
  fresh_now_ = CurrentNow();
  return Status::Ok();
}

}  // namespace portolan::server
