#include "workspace/workspace.h"

#include <cstdlib>
#include <filesystem>

namespace portolan::workspace {

std::string ResolvePath(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("PORTOLAN_WORKSPACE"); env && *env) return env;
  return ".portolan";
}

Result<std::unique_ptr<Workspace>> Workspace::Open(const std::string& path,
                                                   const OpenOptions& options) {
  std::unique_ptr<Workspace> ws(new Workspace());
  if (options.now) {
    ws->clock_.Set(*options.now);
    ws->meta_clock_.Set(*options.now);
  }
  ws->path_ = path;
  if (!options.create && !std::filesystem::exists(store::DatabasePath(path))) {
    return NotFound("no workspace at " + path +
                    " (create one with `portolan apply -f BLUEPRINTS`, or pass --workspace)");
  }
  PORTOLAN_ASSIGN_OR_RETURN(ws->store_, store::Store::Open(path, &ws->meta_clock_));
  ws->engine_ = std::make_unique<derive::Engine>(ws->store_.get(), options.derive);
  PORTOLAN_RETURN_IF_ERROR(ws->engine_->Bind());
  return ws;
}

Status Workspace::Write(const std::function<Status()>& fn) {
  if (in_batch_) {
    if (batch_broken_) return Internal("an earlier write of this batch failed");
    PORTOLAN_RETURN_IF_ERROR(store_->SetSavepoint());
    Status s = fn();
    if (s.ok()) {
      s = engine_->Apply(store_->TakeChanges(), now());
      // The engine's state now holds part of this write: the whole batch must be redone.
      if (!s.ok()) batch_broken_ = true;
    }
    if (!s.ok()) {
      store_->RollbackToSavepoint();
      return s;
    }
    store_->ReleaseSavepoint();
    return Status::Ok();
  }
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

Status Workspace::BeginBatch() {
  if (in_batch_) return Internal("nested batch");
  PORTOLAN_RETURN_IF_ERROR(store_->Begin());
  in_batch_ = true;
  batch_broken_ = false;
  return Status::Ok();
}

Status Workspace::EndBatch() {
  if (!in_batch_) return Internal("no batch to end");
  if (batch_broken_) {
    AbortBatch();
    return Internal("a write of the batch failed; the batch was rolled back");
  }
  in_batch_ = false;
  return store_->Commit();
}

void Workspace::AbortBatch() {
  if (!in_batch_) return;
  store_->Rollback();
  in_batch_ = false;
  batch_broken_ = false;
}

Status Workspace::Validate(const std::function<Status()>& fn) {
  if (in_batch_) {
    PORTOLAN_RETURN_IF_ERROR(store_->SetSavepoint());
    Status s = fn();
    store_->RollbackToSavepoint();
    return s;
  }
  PORTOLAN_RETURN_IF_ERROR(store_->Begin());
  Status s = fn();
  store_->Rollback();
  return s;
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

Status Workspace::ApplyBlueprints(std::vector<model::Blueprint> blueprints) {
  Status s = Write([&]() -> Status {
    PORTOLAN_RETURN_IF_ERROR(store_->ApplyBlueprints(std::move(blueprints)));
    PORTOLAN_RETURN_IF_ERROR(engine_->Bind());
    // Instant backfill: every derived value is computed from the data already stored.
    return engine_->RecomputeAll(now());
  });
  // A rolled-back catalog change leaves the engine bound to definitions that are gone.
  if (!s.ok()) engine_->Bind().IgnoreError();
  return s;
}

Status Workspace::DeleteBlueprint(const std::string& identifier) {
  Status s = Write([&]() -> Status {
    PORTOLAN_RETURN_IF_ERROR(store_->DeleteBlueprint(identifier));
    return engine_->Bind();
  });
  if (!s.ok()) engine_->Bind().IgnoreError();
  return s;
}

Result<std::vector<store::EntityKey>> Workspace::DeleteEntity(const std::string& blueprint,
                                                               const std::string& identifier,
                                                               bool dependents) {
  std::vector<store::EntityKey> deleted;
  PORTOLAN_RETURN_IF_ERROR(Write([&]() -> Status {
    PORTOLAN_ASSIGN_OR_RETURN(deleted, store_->Delete(blueprint, identifier, dependents));
    return Status::Ok();
  }));
  return deleted;
}

Status Workspace::RecomputeAll() {
  return Write([&] { return engine_->RecomputeAll(now()); });
}

Status Workspace::Warm() {
  if (engine_->warm()) return Status::Ok();
  return RecomputeAll();
}

Result<std::vector<model::Blueprint>> LoadBlueprintFiles(const std::vector<std::string>& paths) {
  std::vector<model::Blueprint> bps;
  std::vector<std::string> errors;
  for (const auto& path : paths) {
    auto docs = model::LoadBlueprintDocs(path);
    if (!docs.ok()) {
      errors.push_back(docs.status().message());
      continue;
    }
    for (const auto& d : *docs) {
      auto bp = model::ParseBlueprint(d.doc, d.source, d.pointer);
      if (!bp.ok()) {
        errors.push_back(bp.status().message());
      } else {
        bps.push_back(std::move(*bp));
      }
    }
  }
  if (!errors.empty()) {
    std::string msg;
    for (size_t i = 0; i < errors.size(); ++i) msg += (i ? "\n" : "") + errors[i];
    return InvalidArgument(msg);
  }
  return bps;
}

}  // namespace portolan::workspace
