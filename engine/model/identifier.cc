// Port's identifier and key rules (spec §1), hand-rolled instead of a regex engine because
// std::regex has no \p{L}.
//
//   blueprint identifier  ^(?!\.{1,2}$)[\p{L}0-9@_.+:\\/-]+$    max 100 code points
//   entity identifier     ^(?!\.{1,2}$)[\p{L}0-9@_.+:\\/=-]+$   max 1000 code points
//   property keys         ^[A-Za-z0-9@_=\-]+$                   max 100 characters
//
// \p{L} is approximated: ASCII letters, plus every non-ASCII code point that is not in a block
// of punctuation, symbols, spaces, combining marks, non-ASCII digits, private use or emoji.
#include <cstdint>

#include "engine/model/blueprint.h"

namespace portolan::model {
namespace {

// Decodes one code point at `*i`, advancing it; returns -1 on malformed UTF-8.
int32_t DecodeUtf8(std::string_view s, size_t* i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(*i);
  int len;
  int32_t cp;
  if (c < 0x80) {
    ++*i;
    return c;
  } else if ((c & 0xE0) == 0xC0) {
    len = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    cp = c & 0x07;
  } else {
    return -1;
  }
  if (*i + len > s.size()) return -1;
  for (int k = 1; k < len; ++k) {
    unsigned char cc = byte(*i + k);
    if ((cc & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (cc & 0x3F);
  }
  *i += len;
  return cp;
}

struct Range {
  int32_t lo, hi;
};

// Non-ASCII ranges that are not letters (a deliberate approximation of \P{L}).
// clang-format off
constexpr Range kNonLetters[] = {
    {0x0080, 0x00A9},   // C1 controls, NBSP, Latin-1 punctuation and symbols
    {0x00AB, 0x00B4},   {0x00B6, 0x00B9}, {0x00BB, 0x00BF},
    {0x00D7, 0x00D7},   // ×
    {0x00F7, 0x00F7},   // ÷
    {0x02C2, 0x02C5},   {0x02D2, 0x02DF}, {0x02E5, 0x02EB}, {0x02ED, 0x02ED},
    {0x02EF, 0x02FF},   // modifier symbols
    {0x0300, 0x036F},   // combining diacritical marks
    {0x0375, 0x0375},   {0x037E, 0x037E}, {0x0384, 0x0385}, {0x0387, 0x0387},
    {0x0482, 0x0489},   // Cyrillic signs and combining marks
    {0x055A, 0x055F},   {0x0589, 0x058A},  // Armenian punctuation
    {0x0591, 0x05CF},   {0x05F3, 0x05F4},  // Hebrew points and punctuation
    {0x0600, 0x061F},   {0x064B, 0x066D}, {0x06D4, 0x06D4}, {0x06D6, 0x06ED},
    {0x06F0, 0x06F9},   // Arabic marks, punctuation and digits
    {0x0900, 0x0903},   {0x093A, 0x094F}, {0x0951, 0x0957}, {0x0962, 0x0970},
    {0x0E31, 0x0E31},   {0x0E34, 0x0E3F}, {0x0E47, 0x0E5B},  // Thai marks and digits
    {0x1680, 0x1680},   {0x180E, 0x180E},
    {0x2000, 0x2070},   // spaces, general punctuation, superscript zero
    {0x2072, 0x207E},   {0x2080, 0x208F}, {0x20A0, 0x20FF},  // sub/superscripts, currency
    {0x2100, 0x2101},   {0x2103, 0x2106}, {0x2108, 0x2109}, {0x2114, 0x2114},
    {0x2116, 0x2118},   {0x211E, 0x2123}, {0x2125, 0x2125}, {0x2127, 0x2127},
    {0x2129, 0x2129},   {0x212E, 0x212E}, {0x213A, 0x213B}, {0x2140, 0x2144},
    {0x214A, 0x214D},   {0x214F, 0x218F},  // letterlike symbols, number forms
    {0x2190, 0x2BFF},   // arrows, math, technical, box drawing, shapes, dingbats
    {0x2CE5, 0x2CEA},   {0x2CEF, 0x2CFF},
    {0x2E00, 0x2E7F},   // supplemental punctuation
    {0x2E80, 0x2FFF},   // CJK radicals, ideographic description
    {0x3000, 0x3004},   {0x3008, 0x3020}, {0x302A, 0x3030}, {0x3036, 0x303A},
    {0x303D, 0x303F},   // CJK symbols and punctuation
    {0x3099, 0x309C},   {0x30A0, 0x30A0}, {0x30FB, 0x30FB},
    {0x3190, 0x319F},   {0x31C0, 0x31EF}, {0x3200, 0x33FF},  // enclosed CJK, compatibility
    {0x4DC0, 0x4DFF},   // hexagrams
    {0xA490, 0xA4CF},   {0xA4FE, 0xA4FF}, {0xA60D, 0xA60F}, {0xA620, 0xA629},
    {0xA670, 0xA67E},   {0xA6F0, 0xA6F7}, {0xA700, 0xA716}, {0xA720, 0xA721},
    {0xA789, 0xA78A},   {0xA828, 0xA82F}, {0xA830, 0xA83F},
    {0xD800, 0xF8FF},   // surrogates, private use
    {0xFB29, 0xFB29},   {0xFD3E, 0xFD4F}, {0xFDFC, 0xFDFF},
    {0xFE00, 0xFE6F},   // variation selectors, vertical/compat/small forms
    {0xFEFF, 0xFEFF},   // BOM / zero-width no-break space
    {0xFF00, 0xFF20},   {0xFF3B, 0xFF40}, {0xFF5B, 0xFF65},  // fullwidth punctuation, digits
    {0xFFE0, 0xFFFF},   // fullwidth symbols, specials
    {0x10100, 0x1013F}, {0x1D000, 0x1D3FF},  // Aegean numbers, musical symbols
    {0x1F000, 0x1FBFF}, // mahjong ... emoji, symbols and pictographs
    {0xE0000, 0x10FFFF},  // tags, variation selectors supplement, private use planes
};
// clang-format on

bool IsLetter(int32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z');
  for (const Range& r : kNonLetters) {
    if (cp >= r.lo && cp <= r.hi) return false;
  }
  return true;
}

bool IsIdentifier(std::string_view id, bool allow_equals, size_t max_len) {
  if (id.empty() || id == "." || id == "..") return false;
  size_t i = 0;
  size_t count = 0;
  while (i < id.size()) {
    int32_t cp = DecodeUtf8(id, &i);
    if (cp < 0) return false;
    ++count;
    if (IsLetter(cp) || (cp >= '0' && cp <= '9')) continue;
    switch (cp) {
      case '@':
      case '_':
      case '.':
      case '+':
      case ':':
      case '\\':
      case '/':
      case '-':
        continue;
      case '=':
        if (allow_equals) continue;
        return false;
      default:
        return false;
    }
  }
  return count <= max_len;
}

}  // namespace

bool IsValidBlueprintIdentifier(std::string_view id) { return IsIdentifier(id, false, 100); }

bool IsValidEntityIdentifier(std::string_view id) { return IsIdentifier(id, true, 1000); }

bool IsValidPropertyKey(std::string_view key) {
  if (key.empty() || key.size() > 100) return false;
  for (char c : key) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '@' || c == '_' || c == '=' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace portolan::model
