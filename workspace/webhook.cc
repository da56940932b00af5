#include "workspace/webhook.h"

#include <filesystem>
#include <set>

namespace portolan::workspace {

namespace {

Status ConfigError(const std::string& pointer, const std::string& message) {
  return Status(InvalidArgument("webhook " + pointer + ": " + message))
      .set_port_error("invalid_request");
}

// The Ocean configuration (as JSON, which the YAML loader reads) of a webhook's mappings.
json::Value OceanConfig(const json::Value& config) {
  json::Value resources = json::Value::MakeArray();
  for (const auto& m : config.Get("mappings").as_array()) {
    json::Value resource = json::Value::MakeObject();
    resource.Set("kind", "webhook");
    json::Value selector = json::Value::MakeObject();
    selector.Set("query", m.Get("filter").is_string() ? m.Get("filter") : json::Value("true"));
    resource.Set("selector", std::move(selector));
    json::Value port = json::Value::MakeObject();
    if (m.Get("itemsToParse").is_string()) {
      port.Set("itemsToParse", m.Get("itemsToParse"));
      port.Set("itemsToParseTopLevelTransform", false);
    }
    json::Value mappings = m.Get("entity").is_object() ? m.Get("entity") : json::Value::MakeObject();
    mappings.Set("blueprint", json::Write(m.Get("blueprint")));  // a jq string literal
    json::Value entity = json::Value::MakeObject();
    entity.Set("mappings", std::move(mappings));
    port.Set("entity", std::move(entity));
    resource.Set("port", std::move(port));
    resources.Push(std::move(resource));
  }
  json::Value out = json::Value::MakeObject();
  out.Set("createMissingRelatedEntities", true);
  out.Set("enableMergeEntity", true);
  out.Set("deleteDependentEntities", false);
  out.Set("resources", std::move(resources));
  return out;
}

// "delete" | {type: "delete", deleteDependents} -> true, deleteDependents.
bool IsDelete(const json::Value& op, bool* dependents) {
  if (op.is_string()) return op.as_string() == "delete";
  if (op.is_object() && op.Get("type").is_string() && op.Get("type").as_string() == "delete") {
    *dependents = op.Get("deleteDependents").is_bool() && op.Get("deleteDependents").as_bool();
    return true;
  }
  return false;
}

}  // namespace

Result<json::Value> NormalizeWebhook(json::Value config, const json::Value* existing,
                                     const std::function<std::string()>& new_key) {
  if (!config.is_object()) return ConfigError("", "a webhook configuration must be an object");
  const json::Value& id = config.Get("identifier");
  if (!id.is_string() || id.as_string().empty()) {
    return ConfigError("/identifier", "a non-empty string is required");
  }
  if (!config.Get("title").is_string()) config.Set("title", id.as_string());
  if (!config.Get("enabled").is_bool()) config.Set("enabled", true);
  const json::Value& mappings = config.Get("mappings");
  if (mappings.is_null()) config.Set("mappings", json::Value::MakeArray());
  if (!config.Get("mappings").is_array()) return ConfigError("/mappings", "must be an array");
  size_t i = 0;
  for (const auto& m : config.Get("mappings").as_array()) {
    const std::string at = "/mappings/" + std::to_string(i++);
    if (!m.is_object()) return ConfigError(at, "must be an object");
    if (!m.Get("blueprint").is_string()) return ConfigError(at + "/blueprint", "a string is required");
    const json::Value& op = m.Get("operation");
    bool deps = false;
    if (!op.is_null() && !(op.is_string() && op.as_string() == "create") && !IsDelete(op, &deps)) {
      return ConfigError(at + "/operation", "must be \"create\", \"delete\" or {\"type\": \"delete\"}");
    }
    if (!m.Get("entity").is_object()) return ConfigError(at + "/entity", "an object is required");
    if (!m.Get("entity").Get("identifier").is_string() &&
        !m.Get("entity").Get("identifier").is_object()) {
      return ConfigError(at + "/entity/identifier", "a jq string or a search query is required");
    }
  }
  const json::Value& security = config.Get("security");
  if (!security.is_null()) {
    if (!security.is_object()) return ConfigError("/security", "must be an object");
    const json::Value& alg = security.Get("signatureAlgorithm");
    if (!alg.is_null() &&
        !(alg.is_string() && (alg.as_string() == "sha1" || alg.as_string() == "sha256" ||
                              alg.as_string() == "plain"))) {
      return ConfigError("/security/signatureAlgorithm", "must be sha1, sha256 or plain");
    }
  }
  if (existing && existing->Get("webhookKey").is_string()) {
    config.Set("webhookKey", existing->Get("webhookKey"));
  } else if (!config.Get("webhookKey").is_string() || config.Get("webhookKey").as_string().empty()) {
    config.Set("webhookKey", new_key());
  }
  // Every jq must compile: a typo must not silently null a field.
  PORTOLAN_ASSIGN_OR_RETURN(WebhookProgram program, CompileWebhook(config));
  return config;
}

Result<WebhookProgram> CompileWebhook(const json::Value& config) {
  const std::string id = config.Get("identifier").is_string()
                             ? config.Get("identifier").as_string()
                             : std::string("webhook");
  auto mapper = mapping::Mapper::LoadText(json::Write(OceanConfig(config)), "webhook " + id);
  if (!mapper.ok()) return ConfigError("/mappings", mapper.status().message());
  std::vector<std::string> problems;
  for (const auto& p : mapper->config().CompileProblems()) {
    problems.push_back(mapper->config().Describe(p));
  }
  if (!problems.empty()) {
    std::string msg = "jq that does not compile (resources[N] is mappings[N]):";
    for (const auto& p : problems) msg += "\n  " + p;
    return ConfigError("/mappings", msg);
  }
  WebhookProgram program{std::move(*mapper), {}, false};
  size_t i = 0;
  for (const auto& m : config.Get("mappings").as_array()) {
    bool deps = false;
    if (IsDelete(m.Get("operation"), &deps)) {
      program.delete_resources.insert(i);
      program.delete_dependents = program.delete_dependents || deps;
    }
    ++i;
  }
  return program;
}

Result<IngestReport> RunWebhook(Workspace& ws, WebhookProgram& program,
                                const std::string& webhook_id, const json::Value& request,
                                const std::function<Status()>& also) {
  IngestOptions io;
  io.source = "webhook:" + webhook_id;
  io.delete_resources = program.delete_resources;
  io.delete_dependents = program.delete_dependents;
  io.also = also;
  IngestSession session(&ws, &program.mapper, io);
  return session.RunItems(std::span<const json::Value>(&request, 1));
}

Result<std::vector<json::Value>> LoadJsonDocuments(const std::vector<std::string>& paths) {
  std::vector<json::Value> docs;
  for (const auto& path : paths) {
    std::vector<std::string> files;
    if (std::filesystem::is_directory(path)) {
      for (const auto& e : std::filesystem::directory_iterator(path)) {
        if (e.path().extension() == ".json") files.push_back(e.path().string());
      }
      std::sort(files.begin(), files.end());
    } else {
      files.push_back(path);
    }
    for (const auto& f : files) {
      PORTOLAN_ASSIGN_OR_RETURN(json::Value doc, json::ParseFile(f));
      if (doc.is_array()) {
        for (auto& c : doc.as_array()) docs.push_back(std::move(c));
      } else {
        docs.push_back(std::move(doc));
      }
    }
  }
  return docs;
}

Result<std::vector<std::string>> ApplyWebhookFiles(Workspace& ws,
                                                   const std::vector<std::string>& paths,
                                                   const std::function<std::string()>& new_key) {
  PORTOLAN_ASSIGN_OR_RETURN(std::vector<json::Value> configs, LoadJsonDocuments(paths));
  std::vector<std::string> ids;
  PORTOLAN_RETURN_IF_ERROR(ws.Write([&]() -> Status {
    for (auto& c : configs) {
      std::optional<json::Value> existing;
      if (c.Get("identifier").is_string()) {
        if (auto text = ws.store().GetDocument(kWebhookKind, c.Get("identifier").as_string())) {
          PORTOLAN_ASSIGN_OR_RETURN(existing, json::Parse(*text));
        }
      }
      PORTOLAN_ASSIGN_OR_RETURN(json::Value doc,
                                NormalizeWebhook(std::move(c), existing ? &*existing : nullptr,
                                                 new_key));
      const std::string id = doc.Get("identifier").as_string();
      PORTOLAN_RETURN_IF_ERROR(ws.store().PutDocument(kWebhookKind, id, json::Write(doc)));
      ids.push_back(id);
    }
    return Status::Ok();
  }));
  return ids;
}

Result<std::vector<std::string>> ApplyPageFiles(Workspace& ws,
                                                const std::vector<std::string>& paths) {
  PORTOLAN_ASSIGN_OR_RETURN(std::vector<json::Value> pages, LoadJsonDocuments(paths));
  std::vector<std::string> ids;
  PORTOLAN_RETURN_IF_ERROR(ws.Write([&]() -> Status {
    for (const auto& page : pages) {
      const json::Value& id = page.Get("identifier");
      if (!page.is_object() || !id.is_string() || id.as_string().empty()) {
        return InvalidArgument("a page needs an \"identifier\" (a non-empty string)");
      }
      PORTOLAN_RETURN_IF_ERROR(ws.store().PutDocument(kPageKind, id.as_string(), json::Write(page)));
      ids.push_back(id.as_string());
    }
    return Status::Ok();
  }));
  return ids;
}

}  // namespace portolan::workspace
