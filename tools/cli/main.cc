// portolan: the command-line interface. Subcommands parse their arguments here and run in
// tools/cli/commands.cc and tools/cli/mapping_commands.cc.
#include <CLI/CLI.hpp>

#include <iostream>

#include "tools/cli/commands.h"

using portolan::Status;
using namespace portolan::cli;  // NOLINT(google-build-using-namespace)

int main(int argc, char** argv) {
  CLI::App app{
      "portolan: Port's catalog model, self-hosted. Loads Port blueprints, replays Ocean "
      "mappings, stores entities and computes mirror, calculation and aggregation properties "
      "(DORA metrics included)."};
  app.require_subcommand(1);
  // Global options are accepted before or after the subcommand (kubectl, gh, docker do so):
  // a subcommand hands options it does not know to its parent.
  app.fallthrough();
  app.set_version_flag("--version", "portolan 0.1.0");

  GlobalOptions g;
  app.add_option("--workspace,-w", g.workspace,
                 "Workspace directory (default $PORTOLAN_WORKSPACE or ./.portolan)");
  app.add_option("--now", g.now, "The clock, as ISO 8601 (default: the current time)");
  app.add_option("-o,--output", g.output, "Output format: table, json or yaml "
                                          "(default: table on a terminal, json otherwise)");
  app.add_flag("-q,--quiet", g.quiet, "No progress or summary messages on stderr");

  Status status;
  auto run = [&status](Status s) { status = std::move(s); };

  // map
  MapArgs map_args;
  auto add_engine_options = [](CLI::App* c, MapArgs* a) {
    c->add_option("--engine", a->engine,
                  "jq engine: auto (native evaluator where the program allows, libjq otherwise), "
                  "native (fail on a program outside the native subset) or libjq")
        ->check(CLI::IsMember({"auto", "native", "libjq"}));
    c->add_option("--threads,-j", a->threads,
                  "Mapping threads (default: one per core, at most 4, for inputs of 16 MB or "
                  "more; one otherwise); output stays in input order")
        ->check(CLI::Range(0, 64));
  };
  auto* map = app.add_subcommand(
      "map", "Dry run: map payloads with an Ocean mapping and print the entities, errors and "
             "misconfigured fields as JSON (no workspace needed)");
  map->add_option("--mapping,-m", map_args.mapping, "Port app config YAML")->required();
  map->add_option("--kind,-k", map_args.kind, "Resource kind (default: every resource)");
  map->add_option("--items-path", map_args.items_path,
                  "Dotted key of the item array inside a payload object (e.g. items)");
  map->add_option("payloads", map_args.payloads,
                  "Payload files: a JSON array, an object, or JSON Lines; - for stdin")
      ->required();
  add_engine_options(map, &map_args);
  map->callback([&] { run(RunMap(g, map_args)); });

  // ingest / sync
  MapArgs ingest_args;
  auto add_ingest = [&](const char* name, const char* help, bool full) {
    auto* c = app.add_subcommand(name, help);
    c->add_option("--mapping,-m", ingest_args.mapping, "Port app config YAML")->required();
    c->add_option("--kind,-k", ingest_args.kind, "Resource kind (default: every resource)");
    c->add_option("--items-path", ingest_args.items_path,
                  "Dotted key of the item array inside a payload object (e.g. items)");
    c->add_option("payloads", ingest_args.payloads, "Payload files; - for stdin")->required();
    add_engine_options(c, &ingest_args);
    c->callback([&, full] { run(RunIngest(g, ingest_args, full)); });
  };
  add_ingest("ingest", "Map payloads and upsert the entities (one transaction)", false);
  add_ingest("sync",
             "Full resync of a kind: upsert, then delete the entities this mapping produced "
             "before and no longer produces (within entityDeletionThreshold, only when no item "
             "failed)",
             true);

  // apply
  ApplyArgs apply_args;
  auto* apply = app.add_subcommand("apply", "Create or update blueprints from Port blueprint JSON");
  apply->add_option("-f,--file", apply_args.files,
                    "Blueprint file (object or array) or directory of *.json files")
      ->required();
  apply->callback([&] { run(RunApply(g, apply_args)); });

  // blueprints
  auto* bps = app.add_subcommand("blueprints", "List the workspace's blueprints");
  bps->callback([&] { run(RunBlueprints(g)); });

  // get
  GetArgs get_args;
  auto* get = app.add_subcommand("get", "Show one entity, or list a blueprint's entities");
  get->add_option("blueprint", get_args.blueprint, "Blueprint identifier")->required();
  get->add_option("identifier", get_args.identifier, "Entity identifier");
  get->add_flag("--raw", get_args.raw, "Without mirror, calculation and aggregation values");
  get->callback([&] { run(RunGet(g, get_args)); });

  // delete
  DeleteArgs del_args;
  auto* del = app.add_subcommand("delete", "Delete an entity");
  del->add_option("blueprint", del_args.blueprint, "Blueprint identifier")->required();
  del->add_option("identifier", del_args.identifier, "Entity identifier")->required();
  del->add_flag("--dependents", del_args.dependents,
                "Also delete entities that hold a required relation to it");
  del->callback([&] { run(RunDelete(g, del_args)); });

  // recompute
  auto* rec = app.add_subcommand("recompute", "Recompute every derived property from scratch");
  rec->callback([&] { run(RunRecompute(g)); });

  // explain
  ExplainArgs ex_args;
  auto* ex = app.add_subcommand("explain", "Show how a derived property value was obtained");
  ex->add_option("blueprint", ex_args.blueprint, "Blueprint identifier")->required();
  ex->add_option("identifier", ex_args.identifier, "Entity identifier")->required();
  ex->add_option("property", ex_args.property, "Derived property key")->required();
  ex->callback([&] { run(RunExplain(g, ex_args)); });

  // dora
  DoraArgs dora_args;
  auto* dora = app.add_subcommand("dora", "Print the team and service DORA tables with tiers");
  dora->add_option("--service-blueprint", dora_args.service_blueprint, "Service blueprint");
  dora->add_option("--team-blueprint", dora_args.team_blueprint, "Team blueprint");
  dora->callback([&] { run(RunDora(g, dora_args)); });

  // serve
  ServeArgs serve_args;
  auto* serve = app.add_subcommand(
      "serve", "Serve the workspace over HTTP(S): Port's REST API (/v1), Datadog's DORA API "
               "(/api/v2/dora) and webhook intake (/ingest/KEY)");
  serve->add_option("--listen", serve_args.listen, "HOST:PORT to listen on (port 0: any free)")
      ->capture_default_str();
  serve->add_option("--tls-cert", serve_args.tls_cert, "PEM certificate chain: serve HTTPS");
  serve->add_option("--tls-key", serve_args.tls_key, "PEM private key of --tls-cert");
  serve->add_option("--log-level", serve_args.log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  serve->add_option("--log-format", serve_args.log_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  serve->add_option("--clock-step", serve_args.clock_step,
                    "Seconds: time-dependent values are computed for the wall clock rounded "
                    "down to this step (ignored with --now)")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  serve->add_option("--threads", serve_args.threads, "HTTP worker threads (default: 4 per core, at least 8)")
      ->check(CLI::Range(0, 256));
  serve->callback([&] { run(RunServe(g, serve_args)); });

  // credentials
  CredentialsArgs cred_args;
  auto* cred = app.add_subcommand("credentials", "Manage API credentials (clientId/clientSecret)");
  cred->require_subcommand(1);
  auto* cred_create = cred->add_subcommand(
      "create", "Create a credential; prints {\"clientId\", \"clientSecret\"} once");
  cred_create->add_option("--name", cred_args.name, "A label for the credential");
  cred_create->callback([&] {
    cred_args.action = "create";
    run(RunCredentials(g, cred_args));
  });
  auto* cred_list = cred->add_subcommand("list", "List credentials (never their secrets)");
  cred_list->callback([&] {
    cred_args.action = "list";
    run(RunCredentials(g, cred_args));
  });
  auto* cred_revoke = cred->add_subcommand("revoke", "Revoke a credential and its tokens");
  cred_revoke->add_option("client_id", cred_args.client_id, "The clientId")->required();
  cred_revoke->callback([&] {
    cred_args.action = "revoke";
    run(RunCredentials(g, cred_args));
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "portolan: internal error: " << e.what() << "\n";
    return 2;
  }
  if (!status.ok()) {
    std::cerr << "portolan: " << status.message() << "\n";
    return ExitCode(status);
  }
  return 0;
}
