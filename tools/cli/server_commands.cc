// `portolan serve` and `portolan credentials`: thin shells over server/ and its credentials.
#include <iostream>

#include "engine/base/time.h"
#include "server/auth.h"
#include "server/log.h"
#include "server/server.h"
#include "tools/cli/commands.h"
#include "tools/cli/output.h"

namespace portolan::cli {

Status RunServe(const GlobalOptions& g, const ServeArgs& a) {
  PORTOLAN_RETURN_IF_ERROR(server::ConfigureLogging(a.log_level, a.log_format));
  server::ServeOptions o;
  o.workspace = ResolveWorkspace(g);
  o.listen = a.listen;
  o.tls_cert = a.tls_cert;
  o.tls_key = a.tls_key;
  o.threads = a.threads;
  o.clock.step_seconds = a.clock_step;
  if (!g.now.empty()) {
    PORTOLAN_ASSIGN_OR_RETURN(Clock clock, MakeClock(g));
    o.clock.fixed_now = clock.Now();
  }
  PORTOLAN_ASSIGN_OR_RETURN(auto srv, server::Server::Start(o));
  std::cerr << "listening on " << srv->url() << " (workspace " << o.workspace << ")"
            << std::endl;
  server::StopOnSignal(srv->http());
  srv->Stop();
  if (!g.quiet) std::cerr << "stopped" << std::endl;
  return Status::Ok();
}

Status RunCredentials(const GlobalOptions& g, const CredentialsArgs& a) {
  PORTOLAN_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g, /*create=*/false));
  if (a.action == "create") {
    PORTOLAN_ASSIGN_OR_RETURN(server::NewCredential c, server::CreateCredential(*ws, a.name));
    json::Value v = json::Value::MakeObject();
    v.Set("clientId", c.client_id);
    v.Set("clientSecret", c.client_secret);
    std::cout << json::Write(v) << "\n";
    if (!g.quiet) {
      std::cerr << "the clientSecret is shown once: store it now (it is kept only as a hash)\n";
    }
    return Status::Ok();
  }
  if (a.action == "list") {
    Format f;
    if (!ParseFormat(g.output, &f)) return InvalidArgument("-o: \"" + g.output + "\" is unknown");
    json::Value list = server::ListCredentials(*ws);
    if (f != Format::kTable) {
      Print(list, f);
      return Status::Ok();
    }
    Table t;
    t.header = {"CLIENT ID", "NAME", "CREATED"};
    for (const auto& c : list.as_array()) {
      t.rows.push_back({c.Get("clientId").as_string(), Cell(c.Get("name")),
                        Cell(c.Get("createdAt"))});
    }
    std::cout << RenderTable(t);
    return Status::Ok();
  }
  // revoke
  PORTOLAN_RETURN_IF_ERROR(server::RevokeCredential(*ws, a.client_id));
  if (!g.quiet) std::cerr << "revoked " << a.client_id << "\n";
  return Status::Ok();
}

}  // namespace portolan::cli
