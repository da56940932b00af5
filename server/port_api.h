// Port's REST API (/v1), with the shapes Port's clients (Ocean, Terraform, Port's GitHub action,
// curl snippets in Port's guides) rely on: blueprints, entities (create/upsert/merge, bulk with
// 207, one entity, list, count, bulk delete, delete all), search, pages and custom webhooks.
// Every success carries `ok: true`; errors are {ok: false, error, message} (api_support.h).
// Authentication is checked by the caller (server.cc) before these routes run.
#ifndef PORTOLAN_SERVER_PORT_API_H_
#define PORTOLAN_SERVER_PORT_API_H_

#include <optional>
#include <string>
#include <vector>

#include "server/catalog_service.h"
#include "server/http.h"

namespace portolan::server {

class WebhookIntake;

class PortApi {
 public:
  PortApi(CatalogService* catalog, WebhookIntake* intake) : catalog_(catalog), intake_(intake) {}

  // The response for a /v1 route (segments without "v1"); nullopt when no route matches.
  std::optional<HttpResponse> Handle(const HttpRequest& r, const std::vector<std::string>& seg);

 private:
  HttpResponse ListBlueprints();
  HttpResponse GetBlueprint(const std::string& id);
  HttpResponse PutBlueprint(const HttpRequest& r, const std::string* id, bool patch);
  HttpResponse DeleteBlueprint(const std::string& id);

  HttpResponse CreateEntity(const HttpRequest& r, const std::string& bp);
  HttpResponse BulkCreate(const HttpRequest& r, const std::string& bp);
  HttpResponse WriteEntity(const HttpRequest& r, const std::string& bp, const std::string& id,
                           bool patch);
  HttpResponse GetEntity(const HttpRequest& r, const std::string& bp, const std::string& id);
  HttpResponse DeleteEntity(const HttpRequest& r, const std::string& bp, const std::string& id);
  HttpResponse ListEntities(const HttpRequest& r, const std::string& bp);
  HttpResponse CountEntities(const std::string& bp);
  HttpResponse BulkDelete(const HttpRequest& r, const std::string& bp);
  HttpResponse DeleteAll(const HttpRequest& r, const std::string& bp);
  HttpResponse Search(const HttpRequest& r, const std::string* bp);

  HttpResponse Documents(const HttpRequest& r, const std::string& kind, const std::string* id);

  CatalogService* catalog_;
  WebhookIntake* intake_;
};

}  // namespace portolan::server

#endif  // PORTOLAN_SERVER_PORT_API_H_
