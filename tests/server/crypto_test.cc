#include "server/crypto.h"

#include <gtest/gtest.h>

#include <string>

#include "engine/base/json.h"

namespace portolan::server {
namespace {

// GitHub's published example for X-Hub-Signature-256 ("Validating webhook deliveries").
constexpr char kGitHubSecret[] = "It's a Secret to Everybody";
constexpr char kGitHubBody[] = "Hello, World!";
constexpr char kGitHubHex[] = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

std::string Upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

TEST(CryptoTest, HexEncodeIsLowerCase) {
  EXPECT_EQ(HexEncode(std::string("\x00\x01\xab\xff", 4)), "0001abff");
  EXPECT_EQ(HexEncode(""), "");
}

TEST(CryptoTest, Sha256KnownVectors) {
  EXPECT_EQ(HexEncode(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(CryptoTest, HmacKnownVectors) {
  EXPECT_EQ(HexEncode(HmacSha256(kGitHubSecret, kGitHubBody)), kGitHubHex);
  // RFC 4231 test case 2 and RFC 2202 test case 2.
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(HexEncode(HmacSha1("Jefe", "what do ya want for nothing?")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  EXPECT_EQ(HmacSha256("", "").size(), 32u);
  EXPECT_EQ(HmacSha1("k", "").size(), 20u);
}

TEST(CryptoTest, RandomBytes) {
  const std::string a = RandomBytes(32);
  const std::string b = RandomBytes(32);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(b.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_EQ(RandomBytes(0), "");
}

TEST(CryptoTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
}

TEST(CryptoTest, Base64UrlRfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64UrlEncode(plain), encoded);
    auto decoded = Base64UrlDecode(encoded);
    ASSERT_TRUE(decoded.has_value()) << encoded;
    EXPECT_EQ(*decoded, plain);
  }
  // Padding is tolerated on input.
  EXPECT_EQ(Base64UrlDecode("Zg==").value_or("?"), "f");
  EXPECT_EQ(Base64UrlDecode("Zm8=").value_or("?"), "fo");
}

TEST(CryptoTest, Base64UrlUsesTheUrlAlphabetAndRoundTripsBinary) {
  EXPECT_EQ(Base64UrlEncode(std::string("\xfb\xff", 2)), "-_8");
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t n = 0; n <= all.size(); n += 37) {
    const std::string bytes = all.substr(0, n) + all.substr(256 - n % 7);
    const std::string encoded = Base64UrlEncode(bytes);
    EXPECT_EQ(encoded.find_first_of("+/="), std::string::npos) << encoded;
    auto decoded = Base64UrlDecode(encoded);
    ASSERT_TRUE(decoded.has_value()) << encoded;
    EXPECT_EQ(*decoded, bytes);
  }
  const std::string random = RandomBytes(1000);
  EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(random)).value_or(""), random);
}

TEST(CryptoTest, Base64UrlRejectsInvalidInput) {
  EXPECT_FALSE(Base64UrlDecode("Zm9v+g").has_value());  // standard alphabet
  EXPECT_FALSE(Base64UrlDecode("Zm9v/g").has_value());
  EXPECT_FALSE(Base64UrlDecode("Zm9vY").has_value());  // impossible length
  EXPECT_FALSE(Base64UrlDecode("Zm 9v").has_value());
  EXPECT_FALSE(Base64UrlDecode("Zh").has_value());   // non-zero trailing bits
  EXPECT_FALSE(Base64UrlDecode("Zg=").has_value());  // bad padding
  EXPECT_FALSE(Base64UrlDecode("Zg===").has_value());
  EXPECT_FALSE(Base64UrlDecode("Z===").has_value());
}

TEST(CryptoTest, VerifySignatureGitHubSha256) {
  const std::string header = std::string("sha256=") + kGitHubHex;
  EXPECT_TRUE(VerifySignature("sha256", kGitHubSecret, "sha256=", header, kGitHubBody));
  // Hex digits and the prefix compare case-insensitively.
  EXPECT_TRUE(VerifySignature("sha256", kGitHubSecret,
                              "sha256=", std::string("sha256=") + Upper(kGitHubHex), kGitHubBody));
  EXPECT_TRUE(VerifySignature("SHA256", kGitHubSecret,
                              "sha256=", std::string("SHA256=") + kGitHubHex, kGitHubBody));

  std::string flipped = header;
  flipped.back() = flipped.back() == '7' ? '8' : '7';
  EXPECT_FALSE(VerifySignature("sha256", kGitHubSecret, "sha256=", flipped, kGitHubBody));
  EXPECT_FALSE(VerifySignature("sha256", "wrong secret", "sha256=", header, kGitHubBody));
  EXPECT_FALSE(VerifySignature("sha256", kGitHubSecret, "sha256=", kGitHubHex, kGitHubBody))
      << "the prefix is required";
  EXPECT_FALSE(VerifySignature("sha256", kGitHubSecret, "sha256=", header, "Hello, World"));
  EXPECT_FALSE(VerifySignature("sha256", kGitHubSecret, "sha256=", "", kGitHubBody));
  EXPECT_FALSE(VerifySignature("sha256", kGitHubSecret, "sha256=", "sha256=", kGitHubBody));
  EXPECT_FALSE(VerifySignature("md5", kGitHubSecret, "sha256=", header, kGitHubBody));
  // Without a prefix, the bare hex matches.
  EXPECT_TRUE(VerifySignature("sha256", kGitHubSecret, "", kGitHubHex, kGitHubBody));
}

TEST(CryptoTest, VerifySignatureAcceptsAnyOfSeveral) {
  // PagerDuty key rotation: "v1=<old>,v1=<new>", possibly with spaces.
  const std::string good = std::string("v1=") + kGitHubHex;
  const std::string other = "v1=" + HexEncode(HmacSha256("old secret", kGitHubBody));
  EXPECT_TRUE(VerifySignature("sha256", kGitHubSecret, "v1=", other + "," + good, kGitHubBody));
  EXPECT_TRUE(
      VerifySignature("sha256", kGitHubSecret, "v1=", other + ", " + good + " ", kGitHubBody));
  EXPECT_TRUE(VerifySignature("sha256", kGitHubSecret, "v1=", good + "," + other, kGitHubBody));
  EXPECT_FALSE(VerifySignature("sha256", kGitHubSecret, "v1=", other + "," + other, kGitHubBody));
  EXPECT_FALSE(VerifySignature("sha256", kGitHubSecret, "v1=", ",,", kGitHubBody));
}

TEST(CryptoTest, VerifySignatureSha1) {
  const std::string hex = HexEncode(HmacSha1(kGitHubSecret, kGitHubBody));
  EXPECT_EQ(hex.size(), 40u);
  EXPECT_TRUE(VerifySignature("sha1", kGitHubSecret, "sha1=", "sha1=" + hex, kGitHubBody));
  EXPECT_FALSE(VerifySignature("sha1", kGitHubSecret, "sha1=", std::string("sha1=") + kGitHubHex,
                               kGitHubBody));
  EXPECT_FALSE(VerifySignature("sha256", kGitHubSecret, "sha1=", "sha1=" + hex, kGitHubBody));
}

TEST(CryptoTest, VerifySignaturePlain) {
  EXPECT_TRUE(VerifySignature("plain", "s3cret", "", "s3cret", "any body"));
  EXPECT_TRUE(VerifySignature("plain", "s3cret", "Bearer ", "Bearer s3cret", "any body"));
  EXPECT_TRUE(VerifySignature("plain", "s3cret", "", "old, s3cret", "any body"));
  EXPECT_TRUE(VerifySignature("plain", "a,b", "", "a,b", "any body"));
  EXPECT_FALSE(VerifySignature("plain", "s3cret", "", "s3cret2", "any body"));
  EXPECT_FALSE(VerifySignature("plain", "s3cret", "Bearer ", "s3cret", "any body"));
  EXPECT_FALSE(VerifySignature("plain", "s3cret", "", "S3CRET", "any body"));
  // An empty secret never verifies, whatever the header.
  EXPECT_FALSE(VerifySignature("plain", "", "", "", "any body"));
  EXPECT_FALSE(VerifySignature("plain", "", "x", "x", "any body"));
  EXPECT_FALSE(VerifySignature("sha256", "", "", HexEncode(HmacSha256("", "b")), "b"));
}

json::Value Claims(double exp) {
  json::Value claims = json::Value::MakeObject();
  claims.Set("sub", "ci-bot");
  claims.Set("scope", "write");
  claims.Set("exp", exp);
  return claims;
}

TEST(CryptoTest, JwtMatchesAPublishedToken) {
  // The jwt.io HS256 example.
  json::Value claims = json::Value::MakeObject();
  claims.Set("sub", "1234567890");
  claims.Set("name", "John Doe");
  claims.Set("iat", 1516239022);
  EXPECT_EQ(SignJwt("your-256-bit-secret", claims),
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4g"
            "RG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c");
}

TEST(CryptoTest, JwtRoundTrip) {
  const std::string token = SignJwt("key", Claims(2000));
  auto claims = VerifyJwt("key", token, 1000);
  ASSERT_TRUE(claims.ok()) << claims.status().message();
  EXPECT_EQ(claims->Get("sub").as_string(), "ci-bot");
  EXPECT_EQ(claims->Get("scope").as_string(), "write");
  EXPECT_EQ(claims->Get("exp").as_number(), 2000);
}

TEST(CryptoTest, JwtRejectsTamperingWrongKeyAndExpiry) {
  const std::string token = SignJwt("key", Claims(2000));
  const size_t dot1 = token.find('.');
  const size_t dot2 = token.rfind('.');

  json::Value forged = Claims(2000);
  forged.Set("scope", "admin");
  const std::string tampered =
      token.substr(0, dot1 + 1) + Base64UrlEncode(json::Write(forged)) + token.substr(dot2);
  auto r = VerifyJwt("key", tampered, 1000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "bad token signature");

  r = VerifyJwt("other key", token, 1000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "bad token signature");

  std::string bad_sig = token;
  bad_sig[dot2 + 1] = bad_sig[dot2 + 1] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(VerifyJwt("key", bad_sig, 1000).ok());

  r = VerifyJwt("key", token, 2000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "token expired");
  EXPECT_TRUE(VerifyJwt("key", token, 1999.5).ok());

  json::Value not_yet = Claims(2000);
  not_yet.Set("nbf", 1500);
  r = VerifyJwt("key", SignJwt("key", not_yet), 1000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "token not yet valid");
  EXPECT_TRUE(VerifyJwt("key", SignJwt("key", not_yet), 1500).ok());
}

TEST(CryptoTest, JwtRejectsMalformedTokens) {
  const std::string token = SignJwt("key", Claims(2000));
  for (const std::string& bad :
       {std::string("a.b"), std::string(""), std::string("a.b.c.d"), std::string(".."),
        std::string("a*b.c.d"), token + ".x", token.substr(0, token.rfind('.') + 1)}) {
    auto r = VerifyJwt("key", bad, 1000);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().message().rfind("malformed token", 0), 0u)
        << bad << ": " << r.status().message();
  }
  // A signature with characters outside base64url.
  auto r = VerifyJwt("key", token.substr(0, token.rfind('.') + 1) + "sig+nature", 1000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("malformed token", 0), 0u) << r.status().message();

  // Correctly signed, but the payload is not an object / has no exp.
  const std::string header = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})");
  auto sign = [](const std::string& input) {
    return input + "." + Base64UrlEncode(HmacSha256("key", input));
  };
  r = VerifyJwt("key", sign(header + "." + Base64UrlEncode("[1,2]")), 1000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("malformed token", 0), 0u) << r.status().message();
  r = VerifyJwt("key", sign(header + "." + Base64UrlEncode(R"({"sub":"x"})")), 1000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("malformed token", 0), 0u) << r.status().message();
  r = VerifyJwt("key", sign(header + "." + Base64UrlEncode(R"({"exp":"2000"})")), 1000);
  ASSERT_FALSE(r.ok());
}

TEST(CryptoTest, JwtRejectsOtherAlgorithms) {
  const std::string payload = Base64UrlEncode(json::Write(Claims(2000)));
  // alg "none" with an empty signature, and with a signature.
  const std::string none = Base64UrlEncode(R"({"alg":"none","typ":"JWT"})") + "." + payload;
  EXPECT_FALSE(VerifyJwt("key", none + ".", 1000).ok());
  auto r = VerifyJwt("key", none + "." + Base64UrlEncode(HmacSha256("key", none)), 1000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("unsupported token algorithm", 0), 0u);
  const std::string hs512 = Base64UrlEncode(R"({"alg":"HS512"})") + "." + payload;
  EXPECT_FALSE(
      VerifyJwt("key", hs512 + "." + Base64UrlEncode(HmacSha256("key", hs512)), 1000).ok());
}

}  // namespace
}  // namespace portolan::server
