// jq 1.7/1.8 builtins for libjq 1.6, written in jq.
//
// Each entry is prepended only to programs that mention one of its triggers, because libjq
// compiles every definition it is given. A definition the program also defines itself is
// shadowed by the program's (later) one, as in jq. Helpers are prefixed `_portolan_`.
//
// What differs from jq 1.6 and why each entry exists:
//   limit      1.6 `limit(0; f)` yields f's first output; 1.7 yields nothing, 1.8 errors on < 0
//   skip, add(f), toarray, trim/ltrim/rtrim, trimstr, toboolean, have_decnum,
//   have_literal_numbers, pick, debug(msg), scan($re; $flags), abs, ascii
//              not in 1.6
//   nth        1.6 `nth(5; 1, 2)` yields 2; 1.7 yields nothing
//   last(f)    1.6 `last(empty)` yields null; 1.8 yields nothing
//   sub, gsub  1.6 loops forever on an empty match (`gsub(""; "-")`) and multiplies outputs
//              (`gsub("a"; "1", "2")`); these are 1.7's definitions
//   indices, index, rindex
//              1.6 returns byte offsets into strings (wrong slices after non-ASCII text),
//              skips overlapping matches and loops forever on `indices("")`; 1.8 counts code
//              points
//   @base32, @base32d, @urid, @uri
//              the first three are missing from Debian's 1.6; @uri leaves !*'() unescaped
//              where 1.7 follows RFC 3986. format/1 is redefined for the formats a program uses
//              (a definition for all of them adds ~9 ms to the compile)
//   halt, halt_error
//              libjq 1.6 frees the halt message again on every later jq_start/jq_teardown (a
//              double free), so a halted state can be neither reused nor destroyed; these make
//              `halt` end without output and `halt_error` an error carrying its input
//   ltrimstr, rtrimstr
//              same results as 1.6, whose C versions leak an error value on non-string input
//   modulemeta, stderr
//              no file reads or stderr noise from mapping programs
#include "engine/jq/internal/prelude.h"

#include <string>
#include <string_view>

namespace portolan::jq::internal {
namespace {

struct Entry {
  std::string_view id;
  std::string_view triggers;  // space-separated names; `@x` for a format
  std::string_view deps;      // space-separated ids of entries it calls
  std::string_view text;      // may span lines; collapsed onto one line when emitted
  std::string_view format = {};       // a format it implements, for the generated format/1
  std::string_view format_impl = {};  // the expression format/1 runs for that format
};

// Dependencies come before their users: entries are emitted in this order.
constexpr Entry kEntries[] = {
    {"preview", "", "",
     // A value as jq's type errors quote it (jv_dump_string_trunc with a 15-byte buffer).
     R"(def _portolan_preview: tojson | if length > 14 then .[0:11] + "..." else . end;)"},
    {"limit", "limit", "",
     R"(def limit($n; f):
          if $n > 0 then label $out | foreach f as $item (0; . + 1;
            $item, if . >= $n then break $out else empty end)
          elif $n == 0 then empty
          else error("limit doesn't support negative count") end;)"},
    {"skip", "skip", "",
     R"(def skip($n; f):
          if $n > 0 then foreach f as $item ($n; . - 1; if . < 0 then $item else empty end)
          elif $n == 0 then f
          else error("skip doesn't support negative count") end;)"},
    {"nth", "nth", "",
     R"(def nth($n; f):
          if $n < 0 then error("nth doesn't support negative indices")
          else label $out | foreach f as $item ($n + 1; . - 1;
            if . <= 0 then $item, break $out else empty end) end;)"},
    {"last", "last", "", R"(def last(f): reduce f as $x ([]; [$x]) | .[];)"},
    {"add", "add", "", R"(def add(f): reduce f as $x (null; . + $x);)"},
    {"pick", "pick", "",
     R"(def pick(pathexps): . as $top
          | reduce path(pathexps) as $p (null; setpath($p; $top | getpath($p)));)"},
    {"debug", "debug", "", R"(def debug(msg): (msg | debug | empty), .;)"},
    {"scan", "scan", "",
     R"(def scan($re; $flags): match($re; "g" + $flags)
          | if (.captures | length > 0) then [.captures | .[] | .string] else .string end;)"},
    {"abs", "abs", "preview",
     R"(def abs: if type == "number" then (if . < 0 then - . else . end)
          else error("\(type) (\(_portolan_preview)) has no absolute value") end;)"},
    {"toarray", "toarray", "", R"(def toarray: if type == "array" then . else [.] end;)"},
    {"trim", "trim ltrim rtrim", "",
     // Unicode White_Space, as jq's jvp_codepoint_is_whitespace.
     R"(def _portolan_ws: (. >= 9 and . <= 13) or . == 32 or . == 133 or . == 160 or . == 5760
          or (. >= 8192 and . <= 8202) or . == 8232 or . == 8233 or . == 8239 or . == 8287
          or . == 12288;
        def _portolan_trimmable:
          if type == "string" then explode else error("trim input must be a string") end;
        def ltrim: _portolan_trimmable
          | (first(range(length) as $i | select(.[$i] | _portolan_ws | not) | $i) // length)
            as $s | .[$s:] | implode;
        def rtrim: _portolan_trimmable
          | (first(range(length - 1; -1; -1) as $i | select(.[$i] | _portolan_ws | not)
              | $i + 1) // 0) as $e | .[:$e] | implode;
        def trim: ltrim | rtrim;)"},
    {"trimstr_family", "ltrimstr rtrimstr trimstr", "",
     R"(def ltrimstr($x): if type == "string" and ($x | type) == "string" and startswith($x)
          then .[$x | length:] else . end;
        def rtrimstr($x): if type == "string" and ($x | type) == "string" and endswith($x)
          then .[:length - ($x | length)] else . end;
        def trimstr($x): ltrimstr($x) | rtrimstr($x);)"},
    {"toboolean", "toboolean", "preview",
     R"(def toboolean: if type == "boolean" then .
          elif . == "true" then true elif . == "false" then false
          else error("\(type) (\(_portolan_preview)) cannot be parsed as a boolean") end;)"},
    // libjq 1.6 keeps numbers as doubles: literals are not preserved.
    {"have_decnum", "have_decnum", "", R"(def have_decnum: false;)"},
    {"have_literal_numbers", "have_literal_numbers", "", R"(def have_literal_numbers: false;)"},
    {"ascii", "ascii", "",
     R"(def ascii: if type == "number" and . >= 0 and . <= 127 then [.] | implode
          else error("ascii only takes integers between 0 and 127") end;)"},
    {"sub", "sub gsub", "",
     R"(def sub($re; str; $flags): . as $in
          | (reduce match($re; $flags) as $edit ({result: [], previous: 0};
              $in[.previous: ($edit | .offset)] as $gap
              | [reduce ($edit | .captures | .[] | select(.name != null) | {(.name): .string})
                  as $pair ({}; . + $pair) | str] as $inserts
              | reduce range(0; $inserts | length) as $ix (.;
                  .result[$ix] += $gap + $inserts[$ix])
              | .previous = ($edit | .offset + .length))
            | .result[] + $in[.previous:])
          // $in;
        def sub($re; str): sub($re; str; "");
        def gsub($re; str; $flags): sub($re; str; $flags + "g");
        def gsub($re; str): sub($re; str; "g");)"},
    {"indices", "indices index rindex", "",
     R"(def _portolan_strindices($i):
          if ($i | length) == 0 then []
          elif ($i | length) == 1 and utf8bytelength == length then _strindices($i)
          else explode as $s | ($i | explode) as $t | ($t | length) as $m
            | [range(0; ($s | length) - $m + 1) as $k | select($s[$k:$k + $m] == $t) | $k] end;
        def indices($i):
          if type == "array" and ($i | type) == "array" then .[$i]
          elif type == "array" then .[[$i]]
          elif type == "string" and ($i | type) == "string" then _portolan_strindices($i)
          else .[$i] end;
        def index($i): indices($i) | .[0];
        def rindex($i): indices($i) | .[-1:][0];)"},
    // `@name` compiles to a call of format/1, so a format/1 defined after these entries, for
    // the formats the program uses (PreludeFor), adds formats. The builtin is captured first;
    // @base64d below still binds to it.
    {"format", "", "", R"(def _portolan_format($f): format($f);)"},
    {"bytes_to_string", "", "",
     R"(def _portolan_bytes_to_string:
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" as $a | . as $b
          | [range(0; $b | length; 3) as $i | $b[$i:$i + 3] as $g
              | ($g[0] * 65536 + ($g[1] // 0) * 256 + ($g[2] // 0)) as $v
              | $a[($v / 262144 | floor):][:1], $a[($v / 4096 | floor) % 64:][:1],
                (if ($g | length) > 1 then $a[($v / 64 | floor) % 64:][:1] else "=" end),
                (if ($g | length) > 2 then $a[$v % 64:][:1] else "=" end)]
          | join("") | @base64d;)"},
    {"base32", "@base32 format", "format",
     R"(def _portolan_base32: [explode[] | if . < 128 then .
            elif . < 2048 then 192 + (. / 64 | floor), 128 + . % 64
            elif . < 65536 then 224 + (. / 4096 | floor), 128 + (. / 64 | floor) % 64,
              128 + . % 64
            else 240 + (. / 262144 | floor), 128 + (. / 4096 | floor) % 64,
              128 + (. / 64 | floor) % 64, 128 + . % 64 end] as $b
          | ($b | length * 8) as $bits
          | [range(0; ($bits + 4) / 5 | floor) as $k
              | reduce range($k * 5; $k * 5 + 5) as $bit (0; . * 2 + (if $bit < $bits
                  then ($b[$bit / 8 | floor] / [128, 64, 32, 16, 8, 4, 2, 1][$bit % 8] | floor) % 2
                  else 0 end))
              | "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[.:. + 1]]
          | join("") | . + "=" * ((8 - length % 8) % 8);)",
     "base32", "tostring | _portolan_base32"},
    {"base32d", "@base32d format", "format bytes_to_string preview",
     R"(def _portolan_base32d: . as $in
          | [explode[] | select(. != 61)
              | if . >= 65 and . <= 90 then . - 65 elif . >= 50 and . <= 55 then . - 24
                else error("string (\($in | _portolan_preview)) is not valid base32 data") end]
            as $d
          | [range(0; ($d | length) * 5 / 8 | floor) as $k
              | reduce range($k * 8; $k * 8 + 8) as $bit (0;
                  . * 2 + (($d[$bit / 5 | floor] / [16, 8, 4, 2, 1][$bit % 5]) | floor) % 2)]
          | _portolan_bytes_to_string;)",
     "base32d", "tostring | _portolan_base32d"},
    {"urid", "@urid format", "format bytes_to_string preview",
     R"(def _portolan_urid: . as $in
          | [scan("(?:%[0-9A-Fa-f]{2})+|[^%]+|%")
              | if startswith("%") | not then .
                elif length < 3 then
                  error("string (\($in | _portolan_preview)) is not a valid uri encoding")
                else .[1:] | split("%")
                  | map(explode
                      | map(if . >= 97 then . - 87 elif . >= 65 then . - 55 else . - 48 end)
                      | .[0] * 16 + .[1])
                  | _portolan_bytes_to_string end]
          | join("");)",
     "urid", "tostring | _portolan_urid"},
    {"uri", "@uri format", "format",
     R"(def _portolan_uri: _portolan_format("uri") | explode
          | map(if . == 33 or (. >= 39 and . <= 42)
                then 37, 50, (. % 16 | if . < 10 then . + 48 else . + 55 end) else . end)
          | implode;)",
     "uri", "_portolan_uri"},
    {"modulemeta", "modulemeta", "",
     R"(def modulemeta: error("modulemeta is not available: jq modules are disabled");)"},
    {"stderr", "stderr", "", R"(def stderr: .;)"},
    {"halt", "halt halt_error", "",
     R"(def halt: error(null);
        def halt_error($code): error(if type == "string" then . else tojson end);
        def halt_error: halt_error(5);)"},
};

bool HasWord(std::string_view list, std::string_view word) {
  size_t pos = 0;
  while (pos < list.size()) {
    size_t end = list.find(' ', pos);
    if (end == std::string_view::npos) end = list.size();
    if (list.substr(pos, end - pos) == word) return true;
    pos = end + 1;
  }
  return false;
}

size_t IndexOf(std::string_view id) {
  for (size_t i = 0; i < std::size(kEntries); ++i) {
    if (kEntries[i].id == id) return i;
  }
  return std::size(kEntries);
}

void Select(size_t i, bool* selected) {
  if (i >= std::size(kEntries) || selected[i]) return;
  selected[i] = true;
  std::string_view deps = kEntries[i].deps;
  size_t pos = 0;
  while (pos < deps.size()) {
    size_t end = deps.find(' ', pos);
    if (end == std::string_view::npos) end = deps.size();
    Select(IndexOf(deps.substr(pos, end - pos)), selected);
    pos = end + 1;
  }
}

// One line: Program::Compile relies on the prelude adding exactly one line to the program.
void AppendCollapsed(std::string_view text, std::string* out) {
  if (!out->empty()) out->push_back(' ');
  bool in_break = false;
  for (char c : text) {
    if (c == '\n') {
      in_break = true;
      continue;
    }
    if (in_break && c == ' ') continue;
    if (in_break) out->push_back(' ');
    in_break = false;
    out->push_back(c);
  }
}

std::string Emit(const bool* selected) {
  std::string out;
  std::string format;  // the branches of the generated format/1
  for (size_t i = 0; i < std::size(kEntries); ++i) {
    if (!selected[i]) continue;
    AppendCollapsed(kEntries[i].text, &out);
    if (!kEntries[i].format.empty()) {
      format += format.empty() ? "if" : " elif";
      format += " $f == \"" + std::string(kEntries[i].format) + "\" then " +
                std::string(kEntries[i].format_impl);
    }
  }
  if (!format.empty()) out += " def format($f): " + format + " else _portolan_format($f) end;";
  return out;
}

}  // namespace

std::string PreludeFor(const DialectResult& program) {
  bool selected[std::size(kEntries)] = {};
  for (size_t i = 0; i < std::size(kEntries); ++i) {
    std::string_view triggers = kEntries[i].triggers;
    bool hit = false;
    for (const std::string& name : program.names) hit = hit || HasWord(triggers, name);
    for (const std::string& format : program.formats) {
      hit = hit || HasWord(triggers, "@" + format);
    }
    if (hit) Select(i, selected);
  }
  return Emit(selected);
}

std::string FullPrelude() {
  bool selected[std::size(kEntries)];
  for (bool& s : selected) s = true;
  return Emit(selected);
}

}  // namespace portolan::jq::internal
