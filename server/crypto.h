// OpenSSL helpers for the server: random bytes, hex and base64url, SHA-256, HMAC, constant-time
// comparison, webhook signature checks and HS256 bearer tokens (compact JWT).
//
// Contract:
//  - Every function is thread-safe and never throws. Binary values are carried in std::string
//    (raw bytes, not NUL-terminated text).
//  - Secrets and signatures are compared in constant time (CRYPTO_memcmp); only their lengths may
//    leak through timing.
//  - Built on OpenSSL 3 (EVP digests, one-shot HMAC, RAND_bytes); no deprecated low-level calls.
#ifndef PORTOLAN_SERVER_CRYPTO_H_
#define PORTOLAN_SERVER_CRYPTO_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "engine/base/json.h"
#include "engine/base/status.h"

namespace portolan::server {

// `n` cryptographically secure random bytes (RAND_bytes). Returns "" only if OpenSSL's random
// generator cannot be seeded, which does not happen on a working Linux system.
std::string RandomBytes(size_t n);

// Lower-case hexadecimal ("\x01\xab" -> "01ab").
std::string HexEncode(std::string_view bytes);

// Base64url (RFC 4648 section 5) without '=' padding.
std::string Base64UrlEncode(std::string_view bytes);
// Decodes base64url. Accepts text with or without '=' padding; rejects (nullopt) characters
// outside the alphabet (including '+' and '/'), impossible lengths and non-zero trailing bits.
std::optional<std::string> Base64UrlDecode(std::string_view text);

// SHA-256 of `data`: the raw 32-byte digest.
std::string Sha256(std::string_view data);
// HMAC-SHA256 / HMAC-SHA1 of `data` with `key`: the raw 32- / 20-byte MAC.
std::string HmacSha256(std::string_view key, std::string_view data);
std::string HmacSha1(std::string_view key, std::string_view data);

// True when a and b hold the same bytes. Constant time for equal lengths (CRYPTO_memcmp); a length
// mismatch returns false at once (leaking only the length).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Webhook signature check (Port custom webhook "security" block).
//  - algorithm "sha1" | "sha256" (case-insensitive): the expected signature is
//    prefix + hex(HMAC(secret, raw_body)); the prefix is matched case-insensitively (e.g.
//    "sha256=" for GitHub's X-Hub-Signature-256, "v1=" for PagerDuty's X-PagerDuty-Signature)
//    and the hex digits case-insensitively.
//  - algorithm "plain": the header value equals prefix + secret exactly.
// `header_value` may hold several comma-separated signatures, with optional spaces around each
// (PagerDuty key rotation: "v1=abc, v1=def"); the check passes when any one matches.
// Fails (false) for an unknown algorithm, an empty secret (fail closed: an unset secret must not
// make every request verify) or an empty header. Comparisons are constant time.
bool VerifySignature(std::string_view algorithm, std::string_view secret, std::string_view prefix,
                     std::string_view header_value, std::string_view raw_body);

// Compact JWT signed with HMAC-SHA256: base64url(header) "." base64url(claims) "."
// base64url(signature), with the header {"alg":"HS256","typ":"JWT"}.
std::string SignJwt(std::string_view key, const json::Value& claims);

// Verifies a token made by SignJwt (or any HS256 JWT): three base64url parts, a JSON object header
// with "alg" == "HS256" (anything else, "none" included, is rejected), a signature matching `key`
// (constant-time), a JSON object payload with a numeric "exp" (seconds since the epoch) greater
// than `now_seconds` and, when present, a numeric "nbf" not after `now_seconds`. Tokens without
// "exp" are rejected. Returns the claims, or InvalidArgument whose message starts with
// "malformed token", "unsupported token algorithm", "bad token signature", "token expired" or
// "token not yet valid". The signature is checked before the payload is parsed.
Result<json::Value> VerifyJwt(std::string_view key, std::string_view token, double now_seconds);

}  // namespace portolan::server

#endif  // PORTOLAN_SERVER_CRYPTO_H_
