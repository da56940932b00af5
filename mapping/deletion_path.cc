// DeletionPath(): Ocean's extract_jq_deletion_path_revised, reproduced step by step, regexes
// included (port_ocean/core/integrations/mixins/utils.py):
//   expr = expr.strip()
//   if expr.startswith('('): m = re.match(r'\((.*?)\)', expr, re.DOTALL); chain = m.group(1)
//                            .strip() if m else return None
//   for segment in chain.split('|'):
//     segment = segment.strip()
//     if re.match(r'^\.\s+as\s+\$\w+', segment): continue
//     if segment == '.' or segment.startswith('$'): continue
//     m = re.match(r'(\.[\w]+|\.\[[^\]]+\])(\.[\w]+|\[[^\]]+\]|\.\[[^\]]+\])*', segment)
//     if m: return m.group(0).strip()
//   return None
// `\s` and `\w` are Python's Unicode classes (mapping/internal/python.h).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mapping/config.h"
#include "mapping/internal/python.h"

namespace portolan::mapping {

namespace {

using internal::IsPythonSpace;
using internal::IsPythonWordChar;
using internal::NextCodePoint;

// Length of `\w+` at `pos` (0 when none).
size_t MatchWord(std::string_view s, size_t pos) {
  size_t end = pos;
  while (end < s.size()) {
    size_t next = end;
    if (!IsPythonWordChar(NextCodePoint(s, &next))) break;
    end = next;
  }
  return end - pos;
}

// Length of `\[[^\]]+\]` at `pos` (0 when none).
size_t MatchBracket(std::string_view s, size_t pos) {
  if (pos >= s.size() || s[pos] != '[') return 0;
  size_t close = s.find(']', pos + 1);
  if (close == std::string_view::npos || close == pos + 1) return 0;
  return close + 1 - pos;
}

// Length of `\.[\w]+` or `\.\[[^\]]+\]` at `pos` (the first component's alternatives).
size_t MatchDotComponent(std::string_view s, size_t pos) {
  if (pos >= s.size() || s[pos] != '.') return 0;
  if (size_t w = MatchWord(s, pos + 1)) return 1 + w;
  if (size_t b = MatchBracket(s, pos + 1)) return 1 + b;
  return 0;
}

// `^\.\s+as\s+\$\w+`
bool IsAsBinding(std::string_view s) {
  size_t pos = 0;
  if (s.empty() || s[0] != '.') return false;
  pos = 1;
  auto spaces = [&]() {
    size_t start = pos;
    while (pos < s.size()) {
      size_t next = pos;
      if (!IsPythonSpace(NextCodePoint(s, &next))) break;
      pos = next;
    }
    return pos > start;
  };
  if (!spaces()) return false;
  if (s.substr(pos, 2) != "as") return false;
  pos += 2;
  if (!spaces()) return false;
  if (pos >= s.size() || s[pos] != '$') return false;
  return MatchWord(s, pos + 1) > 0;
}

}  // namespace

std::optional<std::string> DeletionPath(std::string_view expr) {
  std::string_view e = internal::PythonStrip(expr);
  std::string_view chain = e;
  if (!e.empty() && e[0] == '(') {
    size_t close = e.find(')', 1);
    if (close == std::string_view::npos) return std::nullopt;
    chain = internal::PythonStrip(e.substr(1, close - 1));
  }
  size_t start = 0;
  while (true) {
    size_t bar = chain.find('|', start);
    std::string_view segment = internal::PythonStrip(
        chain.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start));
    bool skip = IsAsBinding(segment) || segment == "." || (!segment.empty() && segment[0] == '$');
    if (!skip) {
      size_t len = MatchDotComponent(segment, 0);
      if (len > 0) {
        while (true) {
          size_t more = MatchDotComponent(segment, len);
          if (more == 0) more = MatchBracket(segment, len);
          if (more == 0) break;
          len += more;
        }
        return std::string(internal::PythonStrip(segment.substr(0, len)));
      }
    }
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  return std::nullopt;
}

}  // namespace portolan::mapping
