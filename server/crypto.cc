#include "server/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <vector>

namespace portolan::server {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kBase64UrlAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// A non-null pointer for OpenSSL even when the view is empty (a default string_view has none).
const unsigned char* Bytes(std::string_view s) {
  static const unsigned char kEmpty = 0;
  return s.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}

std::string Hmac(const EVP_MD* md, std::string_view key, std::string_view data) {
  if (key.size() > static_cast<size_t>(INT_MAX)) return "";
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  if (HMAC(md, Bytes(key), static_cast<int>(key.size()), Bytes(data), data.size(), out, &out_len) ==
      nullptr) {
    return "";
  }
  return std::string(reinterpret_cast<const char*>(out), out_len);
}

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (AsciiLower(s[i]) != AsciiLower(prefix[i])) return false;
  }
  return true;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> SplitCommas(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t comma = s.find(',', start);
    parts.push_back(
        TrimSpaces(s.substr(start, comma == std::string_view::npos ? comma : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return parts;
}

// -1 for characters outside the base64url alphabet.
int Base64UrlValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

Status Malformed(std::string_view why) {
  return InvalidArgument("malformed token: " + std::string(why));
}

}  // namespace

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n == 0) return out;
  // RAND_bytes takes an int count; fill in slices for (absurdly) large requests.
  size_t done = 0;
  while (done < n) {
    int chunk = static_cast<int>(std::min<size_t>(n - done, 1 << 20));
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data() + done), chunk) != 1) return "";
    done += static_cast<size_t>(chunk);
  }
  return out;
}

std::string HexEncode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHexDigits[c >> 4]);
    out.push_back(kHexDigits[c & 0x0f]);
  }
  return out;
}

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16) |
                 (static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8) |
                 static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 2]));
    out.push_back(kBase64UrlAlphabet[(v >> 18) & 63]);
    out.push_back(kBase64UrlAlphabet[(v >> 12) & 63]);
    out.push_back(kBase64UrlAlphabet[(v >> 6) & 63]);
    out.push_back(kBase64UrlAlphabet[v & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    out.push_back(kBase64UrlAlphabet[(v >> 18) & 63]);
    out.push_back(kBase64UrlAlphabet[(v >> 12) & 63]);
  } else if (rest == 2) {
    uint32_t v = (static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16) |
                 (static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8);
    out.push_back(kBase64UrlAlphabet[(v >> 18) & 63]);
    out.push_back(kBase64UrlAlphabet[(v >> 12) & 63]);
    out.push_back(kBase64UrlAlphabet[(v >> 6) & 63]);
  }
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  // Optional padding: only to a multiple of 4, and at most two '='.
  if (!text.empty() && text.back() == '=') {
    if (text.size() % 4 != 0) return std::nullopt;
    text.remove_suffix(1);
    if (!text.empty() && text.back() == '=') text.remove_suffix(1);
  }
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = Base64UrlValue(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // Leftover bits (2 or 4) must be zero in a canonical encoding.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string Sha256(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  if (EVP_Digest(Bytes(data), data.size(), out, &out_len, EVP_sha256(), nullptr) != 1) return "";
  return std::string(reinterpret_cast<const char*>(out), out_len);
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  return Hmac(EVP_sha256(), key, data);
}

std::string HmacSha1(std::string_view key, std::string_view data) {
  return Hmac(EVP_sha1(), key, data);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool VerifySignature(std::string_view algorithm, std::string_view secret, std::string_view prefix,
                     std::string_view header_value, std::string_view raw_body) {
  if (secret.empty() || TrimSpaces(header_value).empty()) return false;
  const std::string algo = AsciiLower(algorithm);
  if (algo == "plain") {
    const std::string expected = std::string(prefix) + std::string(secret);
    // The whole value first (a secret may itself contain a comma), then each listed value.
    bool match = ConstantTimeEquals(TrimSpaces(header_value), expected);
    for (std::string_view part : SplitCommas(header_value)) {
      match |= ConstantTimeEquals(part, expected);
    }
    return match;
  }
  std::string mac;
  if (algo == "sha256") {
    mac = HmacSha256(secret, raw_body);
  } else if (algo == "sha1") {
    mac = HmacSha1(secret, raw_body);
  } else {
    return false;
  }
  if (mac.empty()) return false;
  const std::string expected = HexEncode(mac);
  bool match = false;
  for (std::string_view part : SplitCommas(header_value)) {
    if (!StartsWithIgnoreCase(part, prefix)) continue;
    // Every candidate is compared (no early exit), so timing does not reveal which one matched.
    match |= ConstantTimeEquals(AsciiLower(part.substr(prefix.size())), expected);
  }
  return match;
}

std::string SignJwt(std::string_view key, const json::Value& claims) {
  std::string signing_input = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})");
  signing_input.push_back('.');
  signing_input += Base64UrlEncode(json::Write(claims));
  const std::string signature = Base64UrlEncode(HmacSha256(key, signing_input));
  return signing_input + "." + signature;
}

Result<json::Value> VerifyJwt(std::string_view key, std::string_view token, double now_seconds) {
  const size_t dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return Malformed("expected three dot-separated parts");
  const size_t dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Malformed("expected three dot-separated parts");
  }
  const std::string_view header_b64 = token.substr(0, dot1);
  const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature_b64 = token.substr(dot2 + 1);
  if (header_b64.empty() || payload_b64.empty() || signature_b64.empty()) {
    return Malformed("empty part");
  }

  std::optional<std::string> header_text = Base64UrlDecode(header_b64);
  if (!header_text) return Malformed("header is not base64url");
  Result<json::Value> header = json::Parse(*header_text);
  if (!header.ok() || !header->is_object()) return Malformed("header is not a JSON object");
  const json::Value& alg = header->Get("alg");
  if (!alg.is_string() || alg.as_string() != "HS256") {
    return InvalidArgument("unsupported token algorithm (only HS256 is accepted)");
  }

  std::optional<std::string> signature = Base64UrlDecode(signature_b64);
  if (!signature) return Malformed("signature is not base64url");
  const std::string expected = HmacSha256(key, token.substr(0, dot2));
  if (expected.empty() || !ConstantTimeEquals(*signature, expected)) {
    return InvalidArgument("bad token signature");
  }

  std::optional<std::string> payload_text = Base64UrlDecode(payload_b64);
  if (!payload_text) return Malformed("payload is not base64url");
  Result<json::Value> claims = json::Parse(*payload_text);
  if (!claims.ok() || !claims->is_object()) return Malformed("payload is not a JSON object");
  const json::Value& exp = claims->Get("exp");
  if (!exp.is_number()) return Malformed("missing numeric \"exp\" claim");
  if (!(exp.as_number() > now_seconds)) return InvalidArgument("token expired");
  const json::Value& nbf = claims->Get("nbf");
  if (!nbf.is_null()) {
    if (!nbf.is_number()) return Malformed("\"nbf\" claim is not a number");
    if (nbf.as_number() > now_seconds) return InvalidArgument("token not yet valid");
  }
  return claims;
}

}  // namespace portolan::server
