// `portolan serve`: the HTTP(S) front of a workspace. Routes:
//   POST /v1/auth/access_token                 token exchange (no token needed)
//   /v1/...                                    Port's REST API (port_api.h), Bearer token
//   POST /ingest/{webhookKey}                  Port custom webhook intake (signature, if set)
//   POST /api/v2/dora/{deployment,failure,incident}, /api/v2/webhook   Datadog, DD-API-KEY
//   GET  /healthz                              liveness (no token)
// Bodies: 1 MiB for the API, 512 KiB for webhook intake (413 beyond, nothing written).
#ifndef PORTOLAN_SERVER_SERVER_H_
#define PORTOLAN_SERVER_SERVER_H_

#include <memory>
#include <optional>
#include <string>

#include "engine/base/status.h"
#include "server/auth.h"
#include "server/catalog_service.h"
#include "server/http.h"
#include "server/port_api.h"
#include "server/webhooks.h"

namespace portolan::server {

inline constexpr size_t kApiBodyLimit = 1 << 20;
inline constexpr size_t kWebhookBodyLimit = 512 << 10;

struct ServeOptions {
  std::string workspace;
  std::string listen = "127.0.0.1:7070";  // HOST:PORT; port 0 = any free port
  std::string tls_cert, tls_key;
  ClockOptions clock;
  int threads = 0;
};

// The whole server: the workspace shared by the routes, the intake worker, the HTTP listener.
class Server {
 public:
  static Result<std::unique_ptr<Server>> Start(const ServeOptions& options);
  ~Server();
  const std::string& url() const { return url_; }
  HttpServer& http() { return *http_; }
  CatalogService& catalog() { return *catalog_; }
  WebhookIntake& intake() { return *intake_; }
  // Stops accepting, drains requests, stops the intake worker.
  void Stop();

  // Every request goes through here (public for tests that skip the network).
  HttpResponse Handle(const HttpRequest& r);

 private:
  Server() = default;
  std::unique_ptr<CatalogService> catalog_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<WebhookIntake> intake_;
  std::unique_ptr<PortApi> api_;
  std::unique_ptr<HttpServer> http_;
  std::string url_;
};

// Splits "HOST:PORT" ("[::1]:8080" for IPv6). Errors name the text.
Status ParseListen(const std::string& text, std::string* host, uint16_t* port);

}  // namespace portolan::server

#endif  // PORTOLAN_SERVER_SERVER_H_
