#include "server/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "server/api_support.h"

namespace portolan::server {

Status ParseListen(const std::string& text, std::string* host, uint16_t* port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) {
    return InvalidArgument("--listen " + text + ": expected HOST:PORT (e.g. 127.0.0.1:7070)");
  }
  std::string h = text.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty()) h = "127.0.0.1";
  const std::string p = text.substr(colon + 1);
  if (p.find_first_not_of("0123456789") != std::string::npos || p.size() > 5 ||
      std::stoul(p) > 65535) {
    return InvalidArgument("--listen " + text + ": the port must be a number from 0 to 65535");
  }
  *host = h;
  *port = static_cast<uint16_t>(std::stoul(p));
  return Status::Ok();
}

Result<std::unique_ptr<Server>> Server::Start(const ServeOptions& options) {
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return InvalidArgument("--tls-cert and --tls-key go together");
  }
  std::unique_ptr<Server> s(new Server());
  HttpOptions ho;
  PORTOLAN_RETURN_IF_ERROR(ParseListen(options.listen, &ho.host, &ho.port));
  ho.tls_cert = options.tls_cert;
  ho.tls_key = options.tls_key;
  // Handlers block (a write waits for its group commit): more threads than cores keep requests
  // being read and queued while a batch commits, so batches grow with the load.
  ho.threads = options.threads > 0
                   ? options.threads
                   : static_cast<int>(std::max(8u, 4 * std::thread::hardware_concurrency()));
  ho.body_limit = [](std::string_view path) {
    return path.starts_with("/ingest/") || path.starts_with("/api/v2/webhook")
               ? kWebhookBodyLimit
               : kApiBodyLimit;
  };

  workspace::OpenOptions oo;
  oo.now = options.clock.fixed_now;
  PORTOLAN_ASSIGN_OR_RETURN(auto ws, workspace::Workspace::Open(options.workspace, oo));
  PORTOLAN_RETURN_IF_ERROR(EnsureTokenKey(*ws));
  s->auth_ = std::make_unique<Authenticator>(*ws);
  s->catalog_ = std::make_unique<CatalogService>(std::move(ws), options.clock);
  {
    auto t0 = std::chrono::steady_clock::now();
    PORTOLAN_RETURN_IF_ERROR(s->catalog_->Warm());
    spdlog::info("derived values ready in {:.0f} ms",
                 std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                     .count());
  }
  s->intake_ = std::make_unique<WebhookIntake>(s->catalog_.get());
  s->api_ = std::make_unique<PortApi>(s->catalog_.get(), s->intake_.get());
  s->intake_->Start();
  Server* self = s.get();
  PORTOLAN_ASSIGN_OR_RETURN(s->http_, HttpServer::Start(ho, [self](const HttpRequest& r) {
                              return self->Handle(r);
                            }));
  s->url_ = s->http_->url();
  return s;
}

Server::~Server() { Stop(); }

void Server::Stop() {
  if (http_) http_->Stop();
  if (intake_) intake_->Stop();
}

HttpResponse Server::Handle(const HttpRequest& r) {
  const std::vector<std::string> seg = PathSegments(r.path);
  const double now = catalog_->CurrentNow();
  auto unauthorized = [](const Status& s) {
    return ErrorResponse(401, "unauthorized", s.message());
  };
  if (seg.size() == 1 && seg[0] == "healthz") return JsonResponse(json::Value::MakeObject());
  if (seg.size() >= 1 && seg[0] == "v1") {
    if (seg.size() == 3 && seg[1] == "auth" && seg[2] == "access_token") {
      if (r.method != "POST") return ErrorResponse(405, "method_not_allowed", "use POST");
      auto body = BodyObject(r);
      if (!body.ok()) return StatusResponse(body.status());
      const json::Value& id = body->Get("clientId");
      const json::Value& secret = body->Get("clientSecret");
      if (!id.is_string() || !secret.is_string()) {
        return ErrorResponse(422, "invalid_request",
                             "the body must be {\"clientId\": string, \"clientSecret\": string}");
      }
      auto token = auth_->IssueToken(id.as_string(), secret.as_string(), now);
      if (!token.ok()) return unauthorized(token.status());
      json::Value v = json::Value::MakeObject();
      v.Set("ok", true);
      v.Set("accessToken", *token);
      v.Set("expiresIn", static_cast<int64_t>(kTokenLifetimeSeconds));
      v.Set("tokenType", "Bearer");
      return JsonResponse(std::move(v));
    }
    auto who = auth_->CheckBearer(r.Header("authorization"), now);
    if (!who.ok()) return unauthorized(who.status());
    std::vector<std::string> rest(seg.begin() + 1, seg.end());
    if (auto resp = api_->Handle(r, rest)) return std::move(*resp);
    return ErrorResponse(404, "not_found", "no route " + r.method + " " + r.path);
  }
  if (seg.size() == 2 && seg[0] == "ingest") {
    if (r.method != "POST") return ErrorResponse(405, "method_not_allowed", "use POST");
    return intake_->Receive(r, seg[1]);
  }
  if (seg.size() >= 3 && seg[0] == "api" && seg[1] == "v2") {
    auto key = auth_->CheckApiKey(r.Header("dd-api-key"));
    if (!key.ok()) {
      HttpResponse resp;
      resp.status = 403;
      resp.body = "{\"errors\":[\"Forbidden\"]}";
      return resp;
    }
    if (r.method != "POST") return ErrorResponse(405, "method_not_allowed", "use POST");
    if (seg.size() == 4 && seg[2] == "dora" &&
        (seg[3] == "deployment" || seg[3] == "failure" || seg[3] == "incident")) {
      return intake_->Datadog(r, seg[3]);
    }
    if (seg.size() == 3 && seg[2] == "webhook") return intake_->DatadogPagerDuty(r);
  }
  return ErrorResponse(404, "not_found", "no route " + r.method + " " + r.path);
}

}  // namespace portolan::server
