// Internal: the regular expressions of the native jq evaluator (test, sub, gsub).
//
// jq 1.6 matches with Oniguruma (UTF-8, Perl_NT syntax, ONIG_OPTION_CAPTURE_GROUP; `^` is the
// start of the string and `$` its end or just before a final newline, because the Perl syntax
// sets ONIG_OPTION_SINGLELINE). This is a small backtracking matcher for the part of that
// syntax whose meaning is certain, with leftmost-first (Perl) semantics:
//
//   literal ASCII characters and escaped punctuation (`\.`), `\n \t \r \f`, `.` (any code point
//   but newline), `^`, `$`, `\d \w \s \D \W \S`, classes `[a-z_]`, `[^...]` (ranges, escapes,
//   the shorthands), groups `( )` and `(?: )`, `|`, and the quantifiers `* + ? {n} {n,} {n,m}`,
//   greedy or lazy (`*?`).
//
// Everything else (named groups, lookaround, backreferences, Unicode properties, possessive
// quantifiers, nested or POSIX classes, non-ASCII pattern text, a repeated subexpression that
// can match the empty string) is refused at Compile, and the program goes to libjq. At match
// time a subject with non-ASCII text is refused when the pattern ignores case or uses a
// shorthand class (Unicode case folding and Unicode \w differ from ASCII there), and so is a
// match that backtracks more than a fixed budget (Oniguruma would give up with an error).
#ifndef PORTOLAN_ENGINE_JQ_INTERNAL_NATIVE_REGEX_H_
#define PORTOLAN_ENGINE_JQ_INTERNAL_NATIVE_REGEX_H_

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace portolan::jq::native::internal {

// jq's regex modifiers the native matcher handles: "g" and "i", in any order and number.
struct RegexFlags {
  bool global = false;
  bool icase = false;
};
// False for other modifier letters (jq knows x n s p l, or errors): the caller falls back.
bool ParseRegexFlags(std::string_view text, RegexFlags* flags);

class Regex {
 public:
  // nullptr when the pattern is outside the subset.
  static std::unique_ptr<Regex> Compile(std::string_view pattern, bool icase);

  enum class Result { kMatch, kNoMatch, kUnsupported };
  // The leftmost match that starts at or after byte `start` (a code point boundary) of
  // `subject`; `^` and `$` refer to the whole subject. Sets [*begin, *end) in bytes.
  Result Search(std::string_view subject, size_t start, size_t* begin, size_t* end) const;

  struct Inst;
  ~Regex();

 private:
  Regex() = default;
  bool Usable(std::string_view subject) const;
  std::vector<Inst> prog_;
  std::vector<std::vector<bool>> classes_;  // 128 ASCII bits; [128] non-ASCII; [129] negated
  bool icase_ = false;
  bool unicode_sensitive_ = false;  // shorthand classes: \w and friends are Unicode-aware
  bool anchored_ = false;           // starts with `^`
};

}  // namespace portolan::jq::native::internal

#endif  // PORTOLAN_ENGINE_JQ_INTERNAL_NATIVE_REGEX_H_
