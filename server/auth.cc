#include "server/auth.h"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "engine/base/time.h"

#include "server/crypto.h"

namespace portolan::server {

namespace {

constexpr char kCredentialKind[] = "credential";
constexpr char kServerKind[] = "server";
constexpr char kTokenKeyId[] = "token_key";

double WallNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The raw bytes of lower-case hex (as HexEncode writes it).
std::string HexDecode(const std::string& hex) {
  std::string raw;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    raw.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return raw;
}

// Credentials by clientId from (clientId, document) pairs; unreadable documents are skipped.
template <typename Credential>
std::map<std::string, Credential> ParseCredentials(
    const std::vector<std::pair<std::string, std::string>>& docs) {
  std::map<std::string, Credential> out;
  for (const auto& [id, text] : docs) {
    auto doc = json::Parse(text);
    if (!doc.ok() || !doc->Get("secretSha256").is_string()) continue;
    out[id] = {id, HexDecode(doc->Get("secretSha256").as_string())};
  }
  return out;
}

Status Unauthorized(std::string message) {
  return Status(InvalidArgument(std::move(message))).set_port_error("unauthorized");
}

}  // namespace

Status EnsureTokenKey(workspace::Workspace& ws) {
  if (ws.store().GetDocument(kServerKind, kTokenKeyId)) return Status::Ok();
  return ws.Write([&] {
    return ws.store().PutDocument(kServerKind, kTokenKeyId, HexEncode(RandomBytes(32)));
  });
}

Result<NewCredential> CreateCredential(workspace::Workspace& ws, const std::string& name) {
  PORTOLAN_RETURN_IF_ERROR(EnsureTokenKey(ws));
  NewCredential c;
  c.client_id = HexEncode(RandomBytes(16));
  c.client_secret = HexEncode(RandomBytes(32));
  json::Value doc = json::Value::MakeObject();
  doc.Set("clientId", c.client_id);
  doc.Set("name", name);
  doc.Set("secretSha256", HexEncode(Sha256(c.client_secret)));
  doc.Set("createdAt", FormatIsoTime(WallNow()));
  PORTOLAN_RETURN_IF_ERROR(ws.Write(
      [&] { return ws.store().PutDocument(kCredentialKind, c.client_id, json::Write(doc)); }));
  return c;
}

json::Value ListCredentials(const workspace::Workspace& ws) {
  json::Value out = json::Value::MakeArray();
  for (const auto& [id, text] : ws.store().ListDocuments(kCredentialKind)) {
    auto doc = json::Parse(text);
    if (!doc.ok()) continue;
    json::Value v = json::Value::MakeObject();
    v.Set("clientId", id);
    v.Set("name", doc->Get("name"));
    v.Set("createdAt", doc->Get("createdAt"));
    out.Push(std::move(v));
  }
  return out;
}

Status RevokeCredential(workspace::Workspace& ws, const std::string& client_id) {
  bool found = false;
  PORTOLAN_RETURN_IF_ERROR(ws.Write([&]() -> Status {
    PORTOLAN_ASSIGN_OR_RETURN(found, ws.store().DeleteDocument(kCredentialKind, client_id));
    return Status::Ok();
  }));
  if (!found) return NotFound("no credential with clientId " + client_id);
  return Status::Ok();
}

Authenticator::Authenticator(const workspace::Workspace& ws) : workspace_path_(ws.path()) {
  key_ = ws.store().GetDocument(kServerKind, kTokenKeyId).value_or("");
  by_id_ = ParseCredentials<Credential>(ws.store().ListDocuments(kCredentialKind));
  last_reload_ = WallNow();
}

void Authenticator::MaybeReload() {
  // Credentials created or revoked by another process (the CLI) while serving.
  const double now = WallNow();
  if (now - last_reload_ < kReloadSeconds || workspace_path_.empty()) return;
  last_reload_ = now;
  auto docs = store::ReadDocuments(workspace_path_, kCredentialKind);
  if (docs.ok()) by_id_ = ParseCredentials<Credential>(*docs);
}

const Authenticator::Credential* Authenticator::FindById(const std::string& id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) {
    MaybeReload();
    it = by_id_.find(id);
  }
  return it == by_id_.end() ? nullptr : &it->second;
}

Result<std::string> Authenticator::IssueToken(const std::string& client_id,
                                              const std::string& client_secret, double now) {
  std::lock_guard lock(mu_);
  const Credential* c = FindById(client_id);
  // The hash is compared even for an unknown id, so that timing does not tell ids apart.
  const std::string given = Sha256(client_secret);
  const bool match = ConstantTimeEquals(given, c ? c->secret_hash : std::string(32, '\0'));
  if (!c || !match) return Unauthorized("invalid clientId or clientSecret");
  json::Value claims = json::Value::MakeObject();
  claims.Set("sub", client_id);
  claims.Set("iat", static_cast<int64_t>(now));
  claims.Set("exp", static_cast<int64_t>(now + kTokenLifetimeSeconds));
  return SignJwt(key_, claims);
}

Result<std::string> Authenticator::CheckBearer(const std::string* authorization, double now) {
  if (!authorization || authorization->empty()) {
    return Unauthorized("missing Authorization header (Bearer token from "
                        "POST /v1/auth/access_token)");
  }
  std::string_view v = *authorization;
  constexpr std::string_view kBearer = "bearer ";
  if (v.size() <= kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), v.begin(),
                  [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); })) {
    return Unauthorized("the Authorization header must be \"Bearer <token>\"");
  }
  v.remove_prefix(kBearer.size());
  auto claims = VerifyJwt(key_, v, now);
  if (!claims.ok()) return Unauthorized("invalid token: " + claims.status().message());
  const json::Value& sub = claims->Get("sub");
  if (!sub.is_string()) return Unauthorized("invalid token: no subject");
  std::lock_guard lock(mu_);
  MaybeReload();  // revocations by another process
  if (!FindById(sub.as_string())) return Unauthorized("the token's credential was revoked");
  return sub.as_string();
}

Result<std::string> Authenticator::CheckApiKey(const std::string* api_key) {
  if (!api_key || api_key->empty()) return Unauthorized("missing DD-API-KEY header");
  const std::string hash = Sha256(*api_key);
  std::lock_guard lock(mu_);
  for (int attempt = 0; attempt < 2; ++attempt) {
    for (const auto& [id, c] : by_id_) {
      if (ConstantTimeEquals(hash, c.secret_hash)) return id;
    }
    if (attempt == 0) MaybeReload();
  }
  return Unauthorized("invalid API key");
}

}  // namespace portolan::server
