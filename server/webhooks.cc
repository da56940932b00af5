#include "server/webhooks.h"

#include <chrono>
#include <cstdio>

#include <spdlog/spdlog.h>

#include "engine/base/time.h"
#include "engine/jq/expr.h"
#include "server/api_support.h"
#include "server/crypto.h"

namespace portolan::server {

namespace {

using workspace::Workspace;

constexpr char kQueueKind[] = "intake";
constexpr char kFailedKind[] = "intake_failed";
constexpr char kSeenKind[] = "intake_seen";

// Datadog's JSON:API error answer.
HttpResponse DatadogError(int status, const std::string& detail) {
  json::Value err = json::Value::MakeObject();
  err.Set("status", std::to_string(status));
  err.Set("title", status == 400 ? "Bad Request" : "Error");
  err.Set("detail", detail);
  json::Value errors = json::Value::MakeArray();
  errors.Push(std::move(err));
  json::Value v = json::Value::MakeObject();
  v.Set("errors", std::move(errors));
  HttpResponse r;
  r.status = status;
  r.body = json::Write(v);
  return r;
}

// The jq input of a request: {body, headers (lower-case), queryParams}.
json::Value RequestJson(const HttpRequest& r, json::Value body) {
  json::Value headers = json::Value::MakeObject();
  for (const auto& [k, v] : r.headers) {
    if (k == "authorization" || k == "dd-api-key" || k == "cookie") continue;  // never stored
    if (!headers.Has(k)) headers.Set(k, v);
  }
  json::Value query = json::Value::MakeObject();
  for (const auto& [k, v] : r.query) {
    if (!query.Has(k)) query.Set(k, v);
  }
  json::Value out = json::Value::MakeObject();
  out.Set("body", std::move(body));
  out.Set("headers", std::move(headers));
  out.Set("queryParams", std::move(query));
  return out;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Whether an entity's identifier or title names `name` (case-insensitive).
bool Names(const store::Entity& e, const std::string& lower_name) {
  if (lower_name.empty()) return false;
  if (Lower(e.identifier) == lower_name) return true;
  return e.title.is_string() && Lower(e.title.as_string()) == lower_name;
}

// Datadog's PagerDuty service matching (seed 002), against the catalog's `service` and `_team`
// entities: (1) the incident's service URL equals a string property of services (one match: that
// service; several: their team when they share one); (2) the PagerDuty service name names a
// service; (3) a PagerDuty team name names a team; (4) the service name names a team.
// {service, team, rule}; nulls when nothing matches.
json::Value MatchPagerDuty(const workspace::Workspace& ws, const json::Value& data) {
  const store::Store& st = ws.store();
  json::Value match = json::Value::MakeObject();
  match.Set("service", nullptr);
  match.Set("team", nullptr);
  match.Set("rule", nullptr);
  auto team_of = [&](const store::Entity& e) -> json::Value {
    std::vector<std::string> t = e.RelationTargets("team");
    return t.size() == 1 ? json::Value(t[0]) : json::Value();
  };
  const json::Value& svc = data.Get("service");
  const bool have_services = ws.catalog().Find("service") != nullptr;
  if (have_services && svc.Get("html_url").is_string()) {
    const std::string& url = svc.Get("html_url").as_string();
    std::vector<const store::Entity*> hits;
    st.ForEach("service", [&](const store::Entity& e) {
      if (!e.properties.is_object()) return;
      for (const auto& [k, v] : e.properties.as_object()) {
        if (v.is_string() && v.as_string() == url) {
          hits.push_back(&e);
          return;
        }
      }
    });
    if (hits.size() == 1) {
      match.Set("service", hits[0]->identifier);
      match.Set("team", team_of(*hits[0]));
      match.Set("rule", "service-url");
      return match;
    }
    if (hits.size() > 1) {
      json::Value team = team_of(*hits[0]);
      for (const auto* e : hits) {
        if (team_of(*e) != team) team = json::Value();
      }
      if (!team.is_null()) {
        match.Set("team", team);
        match.Set("rule", "service-url");
        return match;
      }
    }
  }
  const std::string service_name =
      svc.Get("summary").is_string() ? Lower(svc.Get("summary").as_string()) : "";
  if (have_services && !service_name.empty()) {
    const store::Entity* hit = nullptr;
    st.ForEach("service", [&](const store::Entity& e) {
      if (!hit && Names(e, service_name)) hit = &e;
    });
    if (hit) {
      match.Set("service", hit->identifier);
      match.Set("team", team_of(*hit));
      match.Set("rule", "service-name");
      return match;
    }
  }
  if (!ws.catalog().Find("_team")) return match;
  auto find_team = [&](const std::string& lower_name) -> const store::Entity* {
    const store::Entity* hit = nullptr;
    st.ForEach("_team", [&](const store::Entity& e) {
      if (!hit && Names(e, lower_name)) hit = &e;
    });
    return hit;
  };
  if (data.Get("teams").is_array()) {
    for (const auto& t : data.Get("teams").as_array()) {
      if (!t.Get("summary").is_string()) continue;
      if (const store::Entity* team = find_team(Lower(t.Get("summary").as_string()))) {
        match.Set("team", team->identifier);
        match.Set("rule", "team-name");
        return match;
      }
    }
  }
  if (const store::Entity* team = find_team(service_name)) {
    match.Set("team", team->identifier);
    match.Set("rule", "service-name-as-team");
  }
  return match;
}

// The stored configuration of one of the DORA pack's webhooks (Datadog's intake runs through
// them); kFailedPrecondition with the command that applies them when it is missing.
Result<json::Value> PackWebhook(const Workspace& ws, const std::string& webhook) {
  auto text = ws.store().GetDocument(workspace::kWebhookKind, webhook);
  if (!text) {
    return FailedPrecondition("the workspace has no webhook configuration '" + webhook +
                              "' (apply the DORA pack: portolan apply -f blueprints/dora)");
  }
  return json::Parse(*text);
}

// The entity of `relation`'s target blueprint (of `blueprint`) one of whose string properties is
// `sha` (case-insensitive): the pull request a deployment of that commit comes from. Null when
// none or several.
json::Value MatchCommit(const workspace::Workspace& ws, const std::string& blueprint,
                        const std::string& relation, const std::string& sha) {
  const model::Blueprint* bp = ws.catalog().Find(blueprint);
  const model::RelationDef* rel = bp ? bp->FindRelation(relation) : nullptr;
  if (!rel || sha.size() < 7) return json::Value();
  const std::string want = Lower(sha);
  json::Value hit;
  int hits = 0;
  ws.store().ForEach(rel->target, [&](const store::Entity& e) {
    if (!e.properties.is_object()) return;
    for (const auto& [k, v] : e.properties.as_object()) {
      if (v.is_string() && v.as_string().size() == want.size() && Lower(v.as_string()) == want) {
        hit = e.identifier;
        ++hits;
        return;
      }
    }
  });
  return hits == 1 ? hit : json::Value();
}

}  // namespace

std::string NewWebhookKey() { return HexEncode(RandomBytes(16)); }

WebhookIntake::WebhookIntake(CatalogService* catalog) : catalog_(catalog) {}

WebhookIntake::~WebhookIntake() { Stop(); }

Result<json::Value> WebhookIntake::Normalize(json::Value config, const json::Value* existing) {
  return workspace::NormalizeWebhook(std::move(config), existing, NewWebhookKey);
}

json::Value WebhookIntake::Present(json::Value config, const HttpRequest& r) const {
  const std::string* host = r.Header("host");
  const std::string* proto = r.Header("x-forwarded-proto");
  std::string scheme = proto ? *proto : "http";
  if (config.Get("webhookKey").is_string()) {
    config.Set("url", scheme + "://" + (host ? *host : std::string("127.0.0.1")) + "/ingest/" +
                          config.Get("webhookKey").as_string());
  }
  if (json::Value* sec = config.Find("security"); sec && sec->is_object() && sec->Has("secret")) {
    sec->Set("secret", "********");
  }
  return config;
}

HttpResponse WebhookIntake::Receive(const HttpRequest& r, const std::string& webhook_key) {
  json::Value config;
  Status s = catalog_->Read([&](const Workspace& ws) -> Status {
    for (const auto& [id, text] : ws.store().ListDocuments(workspace::kWebhookKind)) {
      auto doc = json::Parse(text);
      if (doc.ok() && doc->Get("webhookKey").is_string() &&
          ConstantTimeEquals(doc->Get("webhookKey").as_string(), webhook_key)) {
        config = std::move(*doc);
        return Status::Ok();
      }
    }
    return Status(NotFound("no webhook has this key")).set_port_error("not_found");
  });
  if (!s.ok()) return StatusResponse(s);
  if (config.Get("enabled").is_bool() && !config.Get("enabled").as_bool()) {
    return ErrorResponse(404, "not_found", "the webhook is disabled");
  }
  const json::Value& sec = config.Get("security");
  if (sec.is_object() && sec.Get("secret").is_string() && !sec.Get("secret").as_string().empty() &&
      sec.Get("signatureHeaderName").is_string()) {
    std::string header_name = sec.Get("signatureHeaderName").as_string();
    for (auto& c : header_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string* sig = r.Header(header_name);
    const std::string alg = sec.Get("signatureAlgorithm").is_string()
                                ? sec.Get("signatureAlgorithm").as_string()
                                : "sha256";
    const std::string prefix =
        sec.Get("signaturePrefix").is_string() ? sec.Get("signaturePrefix").as_string() : "";
    if (!sig || !VerifySignature(alg, sec.Get("secret").as_string(), prefix, *sig, r.body)) {
      spdlog::warn("webhook {}: rejected a request with {} signature",
                   config.Get("identifier").as_string(), sig ? "a bad" : "no");
      return ErrorResponse(401, "invalid_signature",
                           sig ? "the request's signature does not match"
                               : "the request has no " + header_name + " signature header");
    }
  }
  json::Value body = json::Value::MakeObject();
  if (!r.body.empty()) {
    auto parsed = json::Parse(r.body);
    if (!parsed.ok()) {
      return ErrorResponse(400, "bad_request", "the body is not valid JSON: " +
                                                   parsed.status().message());
    }
    body = std::move(*parsed);
  }
  json::Value answer = json::Value::MakeObject();
  answer.Set("ok", true);
  return Enqueue(config, RequestJson(r, std::move(body)), std::move(answer));
}

HttpResponse WebhookIntake::Datadog(const HttpRequest& r, const std::string& what) {
  auto parsed = json::Parse(r.body);
  if (!parsed.ok()) return DatadogError(400, "the body is not valid JSON");
  const json::Value& attrs = parsed->Get("data").Get("attributes");
  if (!attrs.is_object()) return DatadogError(400, "data.attributes is required");
  auto need = [&](const char* key, bool (json::Value::*is)() const) -> std::string {
    const json::Value& v = attrs.Get(key);
    return (v.*is)() ? "" : std::string("data.attributes.") + key + " is required";
  };
  std::string webhook, type;
  if (what == "deployment") {
    for (const auto& [k, is] : {std::pair{"service", &json::Value::is_string},
                                {"started_at", &json::Value::is_number},
                                {"finished_at", &json::Value::is_number}}) {
      if (std::string e = need(k, is); !e.empty()) return DatadogError(400, e);
    }
    webhook = "datadog-dora-deployment";
    type = "dora_deployment";
  } else {
    if (std::string e = need("started_at", &json::Value::is_number); !e.empty()) {
      return DatadogError(400, e);
    }
    const json::Value& services = attrs.Get("services");
    if (!(services.is_array() && services.size() > 0) && !attrs.Get("team").is_string()) {
      return DatadogError(400, "data.attributes.services or data.attributes.team is required");
    }
    webhook = "datadog-dora-failure";
    type = what == "incident" ? "dora_incident" : "dora_failure";
  }
  json::Value config;
  json::Value request = RequestJson(r, *parsed);
  Status s = catalog_->Read([&](const Workspace& ws) -> Status {
    PORTOLAN_ASSIGN_OR_RETURN(config, PackWebhook(ws, webhook));
    // The pull request whose merge commit was deployed, when the catalog knows it: lead time
    // then flows to the deployment (its mirror) and the service.
    json::Value match = json::Value::MakeObject();
    const json::Value& sha = attrs.Get("git").Get("commit_sha");
    match.Set("pullRequest", what == "deployment" && sha.is_string()
                                 ? MatchCommit(ws, "deployment", "pullRequest", sha.as_string())
                                 : json::Value());
    request.Set("match", std::move(match));
    return Status::Ok();
  });
  if (!s.ok()) return DatadogError(s.code() == StatusCode::kInternal ? 500 : 409, s.message());
  json::Value answer = json::Value::MakeObject();
  json::Value data = json::Value::MakeObject();
  data.Set("type", type);
  answer.Set("data", std::move(data));
  return Enqueue(config, request, std::move(answer));
}

HttpResponse WebhookIntake::DatadogPagerDuty(const HttpRequest& r) {
  auto parsed = json::Parse(r.body);
  if (!parsed.ok() || !parsed->is_object()) {
    return DatadogError(400, "the body is not a JSON object");
  }
  const std::string webhook = "datadog-pagerduty";
  json::Value config;
  json::Value request = RequestJson(r, *parsed);
  Status s = catalog_->Read([&](const Workspace& ws) -> Status {
    PORTOLAN_ASSIGN_OR_RETURN(config, PackWebhook(ws, webhook));
    request.Set("match", MatchPagerDuty(ws, parsed->Get("event").Get("data")));
    return Status::Ok();
  });
  if (!s.ok()) return DatadogError(s.code() == StatusCode::kInternal ? 500 : 409, s.message());
  json::Value answer = json::Value::MakeObject();
  answer.Set("status", "ok");
  return Enqueue(config, request, std::move(answer));
}

std::string WebhookIntake::RequestIdentifier(const std::string& path,
                                             const json::Value& request) {
  // Compiled once per path (a libjq compile costs milliseconds); evaluated under the lock, as a
  // jq program is not thread-safe.
  std::lock_guard lock(mu_);
  auto& expr = request_id_programs_[path];
  if (!expr) {
    auto compiled = jq::Expr::Compile(path);
    if (!compiled.ok()) return "";
    expr = std::move(*compiled);
  }
  jq::Output out = expr->Evaluate(jq::Input(request));
  if (!out.has_value() || out.value.is_null()) return "";
  return out.value.is_string() ? out.value.as_string() : json::Write(out.value);
}

HttpResponse WebhookIntake::Enqueue(const json::Value& config, const json::Value& request,
                                    json::Value answer) {
  const std::string webhook = config.Get("identifier").as_string();
  const json::Value& sec = config.Get("security");
  std::string request_id;
  if (sec.is_object() && sec.Get("requestIdentifierPath").is_string()) {
    request_id = RequestIdentifier(sec.Get("requestIdentifierPath").as_string(), request);
  }
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  char id[64];
  {
    std::lock_guard lock(mu_);
    std::snprintf(id, sizeof id, "%020lld-%06llu", static_cast<long long>(nanos),
                  static_cast<unsigned long long>(++seq_ % 1000000));
  }
  bool duplicate = false;
  Status s = catalog_->Write([&](Workspace& ws) -> Status {
    const std::string seen_key = webhook + "\n" + request_id;
    if (!request_id.empty() && ws.store().GetDocument(kSeenKind, seen_key)) {
      duplicate = true;
      return Status::Ok();
    }
    json::Value event = json::Value::MakeObject();
    event.Set("webhook", webhook);
    event.Set("request", request);
    event.Set("receivedAt", FormatIsoTime(ws.now()));
    if (!request_id.empty()) event.Set("requestId", request_id);
    return ws.Write([&]() -> Status {
      PORTOLAN_RETURN_IF_ERROR(ws.store().PutDocument(kQueueKind, id, json::Write(event)));
      if (!request_id.empty()) {
        PORTOLAN_RETURN_IF_ERROR(ws.store().PutDocument(kSeenKind, seen_key, id));
      }
      return Status::Ok();
    });
  });
  if (!s.ok()) return StatusResponse(s);
  if (json::Value* data = answer.Find("data"); data && data->is_object()) data->Set("id", id);
  const bool port_shape = answer.Has("ok");  // Datadog's answers are {data: {id, type}}
  if (duplicate) {
    if (port_shape) answer.Set("duplicate", true);
    return JsonResponse(std::move(answer), 200, port_shape);
  }
  {
    std::lock_guard lock(mu_);
    pending_ = true;
  }
  cv_.notify_one();
  return JsonResponse(std::move(answer), 202, port_shape);
}

Status WebhookIntake::ProcessOne(const std::string& event_id, const json::Value& event) {
  const std::string webhook = event.Get("webhook").is_string() ? event.Get("webhook").as_string()
                                                               : "";
  return catalog_->Write([&](Workspace& ws) -> Status {
    auto fail = [&](const std::string& reason) {
      spdlog::warn("intake event {} (webhook {}): {}", event_id, webhook, reason);
      json::Value failed = event;
      failed.Set("error", reason);
      return ws.Write([&]() -> Status {
        PORTOLAN_RETURN_IF_ERROR(ws.store().DeleteDocument(kQueueKind, event_id).status());
        return ws.store().PutDocument(kFailedKind, event_id, json::Write(failed));
      });
    };
    auto text = ws.store().GetDocument(workspace::kWebhookKind, webhook);
    if (!text) return fail("the webhook no longer exists");
    auto& slot = cache_[webhook];
    if (!slot.second || slot.first != *text) {
      auto config = json::Parse(*text);
      if (!config.ok()) return fail("stored configuration is not JSON");
      auto program = workspace::CompileWebhook(*config);
      if (!program.ok()) return fail(program.status().message());
      slot = {*text, std::make_unique<workspace::WebhookProgram>(std::move(*program))};
    }
    auto report = workspace::RunWebhook(ws, *slot.second, webhook, event.Get("request"), [&] {
      return ws.store().DeleteDocument(kQueueKind, event_id).status();
    });
    if (!report.ok()) return fail(report.status().message());
    for (const auto& e : report->item_errors) {
      spdlog::warn("intake event {} (webhook {}): {}", event_id, webhook, e);
    }
    spdlog::debug("intake event {} (webhook {}): {}", event_id, webhook,
                  report->Summary(false));
    return Status::Ok();
  });
}

Result<size_t> WebhookIntake::ProcessQueued() {
  std::vector<std::pair<std::string, std::string>> queued;
  PORTOLAN_RETURN_IF_ERROR(catalog_->Read([&](const Workspace& ws) {
    queued = ws.store().ListDocuments(kQueueKind);
    return Status::Ok();
  }));
  size_t n = 0;
  for (const auto& [id, text] : queued) {
    auto event = json::Parse(text);
    if (!event.ok()) continue;
    PORTOLAN_RETURN_IF_ERROR(ProcessOne(id, *event));
    ++n;
  }
  return n;
}

void WebhookIntake::Start() {
  {
    std::lock_guard lock(mu_);
    stop_ = false;
    pending_ = true;  // what a previous run left queued
  }
  worker_ = std::thread([this] { Run(); });
}

void WebhookIntake::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void WebhookIntake::Run() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || pending_; });
      if (stop_) return;
      pending_ = false;
    }
    auto n = ProcessQueued();
    if (!n.ok()) {
      spdlog::error("intake: {}", n.status().message());
      // Retried at the next event, or after a pause.
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(5), [&] { return stop_; });
      pending_ = true;
    }
  }
}

}  // namespace portolan::server
