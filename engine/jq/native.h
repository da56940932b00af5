// A native evaluator for the subset of jq that mappings and calculations use, reading payloads
// in place (jq::Document) instead of converting them to libjq values. The subset: paths (`.a.b`,
// `.a?`, `."k"`, `.[n]`, `.[n:m]`, `.[]`), literals, string interpolation, arithmetic with jq's
// rules for every type, comparisons, `and`/`or`/`not`, `//`, `|`, `,`, `as $v`,
// `if`/`elif`/`else`/`end`, `select`, `empty`, object and array construction, `map`,
// `tostring`, `tonumber`, `length`, `ascii_downcase`, `ascii_upcase`, `test`, `sub`, `gsub`
// (regular expressions in a documented subset), `startswith`, `endswith`, `ltrimstr`,
// `rtrimstr`, `split`, `join`, and the date functions `strptime`, `mktime`, `fromdateiso8601`,
// `todate` (see engine/jq/README.md for the exact list).
//
// Contract: for a program Parse() accepts, Evaluate() gives exactly what libjq 1.6 gives with
// first-output semantics (the same value, or no output), or kFallback when the evaluation
// raised an error or reached a case outside the subset; the caller then runs the program on
// libjq, which also supplies jq's exact error message. tests/jq/native_diff_test.cc checks this
// on random programs and payloads.
//
// Thread-safety: a parsed Program is immutable; Evaluate() may run on several threads at once.
#ifndef PORTOLAN_ENGINE_JQ_NATIVE_H_
#define PORTOLAN_ENGINE_JQ_NATIVE_H_

#include <memory>
#include <string_view>

#include "engine/base/json.h"
#include "engine/jq/document.h"

namespace portolan::jq::native {

class Program {
 public:
  // Parses standard jq 1.6 text (Port's dialect already rewritten by jq::RewriteDialect);
  // nullptr when the program uses anything outside the subset, or does not parse.
  static std::unique_ptr<Program> Parse(std::string_view jq_text);
  ~Program();

  enum class Outcome { kValue, kEmpty, kFallback };
  Outcome Evaluate(const Document& input, json::Value* out) const;
  Outcome Evaluate(const json::Value& input, json::Value* out) const;

  struct Impl;

 private:
  Program();
  std::unique_ptr<Impl> impl_;
};

}  // namespace portolan::jq::native

#endif  // PORTOLAN_ENGINE_JQ_NATIVE_H_
