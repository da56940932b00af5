// The `portolan` subcommands. Each returns a Status; main() turns it into a message on stderr and
// an exit code (0 ok, 1 user error, 2 internal error). Data goes to stdout.
#ifndef PORTOLAN_TOOLS_CLI_COMMANDS_H_
#define PORTOLAN_TOOLS_CLI_COMMANDS_H_

#include <string>
#include <vector>

#include "engine/base/status.h"
#include "tools/cli/workspace.h"

namespace portolan::cli {

struct ApplyArgs {
  std::vector<std::string> files;
};
Status RunApply(const GlobalOptions& g, const ApplyArgs& a);

Status RunBlueprints(const GlobalOptions& g);

struct GetArgs {
  std::string blueprint;
  std::string identifier;  // "" lists the blueprint
  bool raw = false;        // without derived values
};
Status RunGet(const GlobalOptions& g, const GetArgs& a);

struct DeleteArgs {
  std::string blueprint;
  std::string identifier;
  bool dependents = false;
};
Status RunDelete(const GlobalOptions& g, const DeleteArgs& a);

Status RunRecompute(const GlobalOptions& g);

struct ExplainArgs {
  std::string blueprint, identifier, property;
};
Status RunExplain(const GlobalOptions& g, const ExplainArgs& a);

struct DoraArgs {
  std::string service_blueprint = "service";
  std::string team_blueprint = "_team";
};
Status RunDora(const GlobalOptions& g, const DoraArgs& a);

// Mapping commands (tools/cli/mapping_commands.cc).
struct MapArgs {
  std::string mapping;
  std::string kind;                   // "" = every resource
  std::vector<std::string> payloads;  // files, "-" for stdin
  std::string items_path;             // "items" for {"items": [...]}
  std::string engine = "auto";        // jq engine: auto, native or libjq (engine/jq/expr.h)
  int threads = 0;                    // mapping threads; 0 = by input size (MappingThreads)
};
Status RunMap(const GlobalOptions& g, const MapArgs& a);
// `ingest` upserts only; `sync` is a full resync of the kind (deletes what it no longer produces,
// within entityDeletionThreshold and only when no item failed).
Status RunIngest(const GlobalOptions& g, const MapArgs& a, bool full_resync);

// Server commands (tools/cli/server_commands.cc).
struct ServeArgs {
  std::string listen = "127.0.0.1:7070";
  std::string tls_cert, tls_key;
  std::string log_level = "info";
  std::string log_format = "text";
  double clock_step = 60;  // seconds; the wall clock is read rounded down to this step
  int threads = 0;
};
Status RunServe(const GlobalOptions& g, const ServeArgs& a);

struct CredentialsArgs {
  std::string action;  // create | list | revoke
  std::string name;
  std::string client_id;
};
Status RunCredentials(const GlobalOptions& g, const CredentialsArgs& a);

}  // namespace portolan::cli

#endif  // PORTOLAN_TOOLS_CLI_COMMANDS_H_
