// Internal: character classes and keywords of jq's lexer, shared by the dialect rewriter
// (dialect.cc) and the native parser (native_parse.cc).
#ifndef PORTOLAN_ENGINE_JQ_INTERNAL_LEX_H_
#define PORTOLAN_ENGINE_JQ_INTERNAL_LEX_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace portolan::jq::internal {

inline bool IsIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c); }

// jq 1.6's reserved words: never a field name after '.', a function or an object key.
inline bool IsKeyword(std::string_view s) {
  static constexpr std::string_view kKeywords[] = {
      "if",  "then",  "elif",  "else",   "end",     "as",  "def", "reduce", "foreach",
      "try", "catch", "label", "import", "include", "and", "or",  "__loc__"};
  for (std::string_view k : kKeywords) {
    if (k == s) return true;
  }
  return false;
}

inline void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

// The four hex digits of a `\uXXXX` escape at s[at].
inline bool Hex4(std::string_view s, size_t at, uint32_t* cp) {
  if (at + 4 > s.size()) return false;
  uint32_t v = 0;
  for (size_t k = at; k < at + 4; ++k) {
    const char h = s[k];
    v <<= 4;
    if (h >= '0' && h <= '9') {
      v |= static_cast<uint32_t>(h - '0');
    } else if (h >= 'a' && h <= 'f') {
      v |= static_cast<uint32_t>(h - 'a' + 10);
    } else if (h >= 'A' && h <= 'F') {
      v |= static_cast<uint32_t>(h - 'A' + 10);
    } else {
      return false;
    }
  }
  *cp = v;
  return true;
}

// A `\u` escape of a string literal, `*at` just after the `\u`: appends the character as UTF-8
// (a surrogate pair as one) and moves `*at` past it. False for bad hex digits or a lone
// surrogate (libjq's handling of those is its own).
inline bool ReadUnicodeEscape(std::string_view s, size_t* at, std::string* out) {
  uint32_t cp;
  if (!Hex4(s, *at, &cp)) return false;
  *at += 4;
  if (cp >= 0xd800 && cp < 0xdc00) {
    uint32_t lo;
    if (!(*at + 1 < s.size() && s[*at] == '\\' && s[*at + 1] == 'u' && Hex4(s, *at + 2, &lo) &&
          lo >= 0xdc00 && lo < 0xe000)) {
      return false;
    }
    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    *at += 6;
  } else if (cp >= 0xdc00 && cp < 0xe000) {
    return false;
  }
  AppendUtf8(cp, out);
  return true;
}

}  // namespace portolan::jq::internal

#endif  // PORTOLAN_ENGINE_JQ_INTERNAL_LEX_H_
