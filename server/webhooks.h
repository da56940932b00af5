// Intake: Port custom webhooks (POST /ingest/{webhookKey}), Datadog's DORA API
// (/api/v2/dora/deployment, /failure, legacy /incident) and Datadog's PagerDuty path
// (/api/v2/webhook/). Every event is written to the workspace's queue (documents of kind
// "intake") before it is acknowledged with 202, then processed by one worker thread through the
// webhook's mappings (workspace/webhook.h); the event leaves the queue in the transaction that
// writes its entities, so a crash at any point loses nothing and applies nothing twice. An event
// whose entities cannot be written (schema violation) moves to "intake_failed" with the reason.
//
// Datadog's events run through webhook configurations of the workspace (the DORA pack ships
// them in blueprints/dora/webhooks/, editable): `datadog-dora-deployment`,
// `datadog-dora-failure` and `datadog-pagerduty`.
#ifndef PORTOLAN_SERVER_WEBHOOKS_H_
#define PORTOLAN_SERVER_WEBHOOKS_H_

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "engine/base/json.h"
#include "engine/jq/expr.h"
#include "server/catalog_service.h"
#include "server/http.h"
#include "workspace/webhook.h"

namespace portolan::server {

// A new random webhook key (the secret part of a webhook's intake URL).
std::string NewWebhookKey();

class WebhookIntake {
 public:
  explicit WebhookIntake(CatalogService* catalog);
  ~WebhookIntake();

  // Checks and completes a configuration for storage (workspace::NormalizeWebhook).
  Result<json::Value> Normalize(json::Value config, const json::Value* existing);
  // The configuration as the API answers it: with `url` (from the request's Host) and the
  // security secret hidden.
  json::Value Present(json::Value config, const HttpRequest& r) const;

  // POST /ingest/{webhookKey}.
  HttpResponse Receive(const HttpRequest& r, const std::string& webhook_key);
  // POST /api/v2/dora/{deployment,failure,incident} and /api/v2/webhook (the caller checked
  // DD-API-KEY).
  HttpResponse Datadog(const HttpRequest& r, const std::string& what);

  // POST /api/v2/webhook/: PagerDuty v3 webhooks sent to Datadog's intake (the caller checked
  // DD-API-KEY). The incident is matched to a service or team of the catalog as Datadog does
  // (seed 002: service URL, service name, team name, service name as a team name); the match
  // is handed to the `datadog-pagerduty` webhook's mappings as `.match` {service, team, rule}.
  HttpResponse DatadogPagerDuty(const HttpRequest& r);

  // Starts the worker (which first processes what a previous run left queued).
  void Start();
  // Stops the worker after the event in progress; queued events stay queued.
  void Stop();
  // Processes every queued event now, on the calling thread. Returns how many were processed.
  Result<size_t> ProcessQueued();

 private:
  // Queues an event for webhook `id`; answers 202 (or 200 for a duplicate) once it is durable.
  HttpResponse Enqueue(const json::Value& config, const json::Value& request,
                       json::Value answer);
  Status ProcessOne(const std::string& event_id, const json::Value& event);
  // The value of jq `path` (requestIdentifierPath) on the request as a dedup key; "" when it
  // yields nothing usable.
  std::string RequestIdentifier(const std::string& path, const json::Value& request);
  void Run();

  CatalogService* catalog_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool pending_ = false;
  std::thread worker_;
  uint64_t seq_ = 0;
  std::map<std::string, std::unique_ptr<jq::Expr>> request_id_programs_;  // under mu_
  // Compiled webhooks by identifier, with the configuration text they were compiled from.
  std::map<std::string, std::pair<std::string, std::unique_ptr<workspace::WebhookProgram>>> cache_;
};

}  // namespace portolan::server

#endif  // PORTOLAN_SERVER_WEBHOOKS_H_
