// Credentials and bearer tokens (Port's client-credentials flow, Datadog's API key).
//
// A credential is a (clientId, clientSecret) pair. The secret is shown once, at creation, and
// stored only as its SHA-256 (secrets are 32 random bytes, so a plain hash is enough: nothing to
// brute-force). Tokens are HS256 JWTs {sub: clientId, iat, exp} signed with a key kept in the
// workspace, so they survive a restart; a token of a revoked credential stops working at once in
// the process that revoked it and within kReloadSeconds in a running server (which rereads the
// credentials from the database when it meets an unknown or revoked one). A clientSecret is also
// accepted as Datadog's DD-API-KEY.
//
// Storage: workspace documents of kind "credential" (id = clientId) and "server" ("token_key").
#ifndef PORTOLAN_SERVER_AUTH_H_
#define PORTOLAN_SERVER_AUTH_H_

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/json.h"
#include "engine/base/status.h"
#include "workspace/workspace.h"

namespace portolan::server {

inline constexpr double kTokenLifetimeSeconds = 3600;
inline constexpr double kReloadSeconds = 2;

struct NewCredential {
  std::string client_id;
  std::string client_secret;
};

// `portolan credentials create/list/revoke`: writes through the workspace (one transaction).
Result<NewCredential> CreateCredential(workspace::Workspace& ws, const std::string& name);
// [{clientId, name, createdAt}] in clientId order; never the secret or its hash.
json::Value ListCredentials(const workspace::Workspace& ws);
Status RevokeCredential(workspace::Workspace& ws, const std::string& client_id);
// Creates the token signing key if the workspace has none yet.
Status EnsureTokenKey(workspace::Workspace& ws);

class Authenticator {
 public:
  // Reads the credentials and the signing key of the workspace (EnsureTokenKey first).
  explicit Authenticator(const workspace::Workspace& ws);

  // POST /v1/auth/access_token: the token for a valid pair; kNotFound-free by design: any
  // mismatch is the same error (no telling which half was wrong).
  Result<std::string> IssueToken(const std::string& client_id, const std::string& client_secret,
                                 double now);
  // The clientId of a valid "Bearer <token>" Authorization value; an error saying why not.
  Result<std::string> CheckBearer(const std::string* authorization, double now);
  // The clientId whose secret is `api_key` (DD-API-KEY), or an error.
  Result<std::string> CheckApiKey(const std::string* api_key);

 private:
  struct Credential {
    std::string client_id;
    std::string secret_hash;  // raw SHA-256
  };
  void MaybeReload();
  const Credential* FindById(const std::string& id);

  std::string workspace_path_;
  std::string key_;
  std::mutex mu_;
  std::map<std::string, Credential> by_id_;
  double last_reload_ = 0;
};

}  // namespace portolan::server

#endif  // PORTOLAN_SERVER_AUTH_H_
