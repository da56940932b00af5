// Port custom webhooks (spec/port-api.md §1 "Pages and webhooks"): a configuration of mappings
// that turn one HTTP request into entity writes, run by the same mapping engine as Ocean
// mappings.
//
// A webhook mapping {blueprint, operation, filter, itemsToParse, entity} becomes one resource of
// an Ocean configuration: selector.query = filter (default true), port.itemsToParse, and the
// entity's fields as the mappings (blueprint as a jq string literal). The jq input is the
// request {body, headers (lower-case keys), queryParams} (plus .item under itemsToParse).
// "create" upserts with merge (a later event updates the fields it maps and keeps the others);
// "delete" (or {type: "delete", deleteDependents}) deletes the entities mapped.
// Missing related entities are created as barebones entities, as Ocean does by default.
#ifndef PORTOLAN_WORKSPACE_WEBHOOK_H_
#define PORTOLAN_WORKSPACE_WEBHOOK_H_

#include <functional>
#include <string>

#include "engine/base/json.h"
#include "engine/base/status.h"
#include "mapping/processor.h"
#include "workspace/ingest.h"
#include "workspace/workspace.h"

namespace portolan::workspace {

// The document kinds webhook configurations and pages (Port page JSON) are stored under.
inline constexpr char kWebhookKind[] = "webhook";
inline constexpr char kPageKind[] = "page";

// Checks a webhook configuration and fills its defaults: identifier required; title defaults to
// it; enabled true; mappings an array whose every jq compiles (errors name
// "mappings[1].entity.properties.env"); security an object with known algorithms. `webhookKey`
// is kept from `existing`, else taken from the config, else made by `new_key`.
Result<json::Value> NormalizeWebhook(json::Value config, const json::Value* existing,
                                     const std::function<std::string()>& new_key);

// The mapper of a (normalized) configuration, and which of its resources delete.
struct WebhookProgram {
  mapping::Mapper mapper;
  std::set<size_t> delete_resources;
  bool delete_dependents = false;
};
Result<WebhookProgram> CompileWebhook(const json::Value& config);

// Runs one request ({body, headers, queryParams}) through a compiled webhook, in one
// transaction; `also` runs inside that transaction (the server removes the queued event there).
Result<IngestReport> RunWebhook(Workspace& ws, WebhookProgram& program,
                                const std::string& webhook_id, const json::Value& request,
                                const std::function<Status()>& also = nullptr);

// Applies webhook configuration files (a JSON object or array per file, or a directory of
// *.json) to the workspace, creating or replacing by identifier, in one transaction.
Result<std::vector<std::string>> ApplyWebhookFiles(Workspace& ws,
                                                   const std::vector<std::string>& paths,
                                                   const std::function<std::string()>& new_key);

// Pages (Port page JSON, e.g. a pack's dashboard) from files, arrays or directories of *.json,
// created or replaced by identifier, in one transaction.
Result<std::vector<std::string>> ApplyPageFiles(Workspace& ws,
                                                const std::vector<std::string>& paths);

// The JSON documents of files (an object, or an array of them) and directories of *.json (in
// file name order).
Result<std::vector<json::Value>> LoadJsonDocuments(const std::vector<std::string>& paths);

}  // namespace portolan::workspace

#endif  // PORTOLAN_WORKSPACE_WEBHOOK_H_
