// Internal: the Port-dialect front end behind RewriteDialect(). Besides the rewritten text it
// reports what the program refers to, so Program::Compile can prepend only the prelude
// definitions the program needs (every definition lengthens libjq's compile).
#ifndef PORTOLAN_ENGINE_JQ_INTERNAL_DIALECT_H_
#define PORTOLAN_ENGINE_JQ_INTERNAL_DIALECT_H_

#include <set>
#include <string>
#include <string_view>

namespace portolan::jq::internal {

struct DialectResult {
  std::string text;  // standard jq that libjq 1.6 accepts
  // Bare identifiers (function calls, and harmlessly also object keys) and `@format` names
  // (without the '@') the program mentions, interpolations included.
  std::set<std::string, std::less<>> names;
  std::set<std::string, std::less<>> formats;
  bool has_code = false;      // false for an empty program (only whitespace and comments)
  bool uses_modules = false;  // an `import` or `include` directive
};

DialectResult Rewrite(std::string_view source);

}  // namespace portolan::jq::internal

#endif  // PORTOLAN_ENGINE_JQ_INTERNAL_DIALECT_H_
