// Internal: the parsed form of a native jq program (native_parse.cc builds it, native.cc
// evaluates it).
#ifndef PORTOLAN_ENGINE_JQ_INTERNAL_NATIVE_AST_H_
#define PORTOLAN_ENGINE_JQ_INTERNAL_NATIVE_AST_H_

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/jq/internal/native_regex.h"
#include "engine/jq/internal/native_value.h"

namespace portolan::jq::native::internal {

enum class Op : uint8_t {
  kIdentity,  // .
  kLiteral,   // number, string, true, false, null (literal)
  kVar,       // $name (slot)
  kField,     // kids[0] | .[key]   (key: constant string), opt for `.a?`
  kIndex,     // kids[0][kids[1]]   (key evaluated on the input, outer loop), opt
  kSlice,     // kids[0][kids[1]:kids[2]] (a null kid: bound omitted), opt
  kEach,      // kids[0][], opt
  kPipe,      // kids[0] | kids[1]
  kComma,     // kids[0], kids[1]
  kAs,        // kids[0] as $slot | kids[1]
  kIf,        // if kids[0] then kids[1] elif kids[2] then kids[3] ... else kids.back() end
  kAnd,
  kOr,
  kAlt,       // //
  kNeg,       // -kids[0]
  kTry,       // kids[0]?  (on anything but an index: catches errors and breaks downstream too)
  kArray,     // [kids[0]] or [] (no kids)
  kObject,    // {kids[0]: kids[1], kids[2]: kids[3], ...}
  kFormat,    // "a\(x)b": kids are literal parts and interpolated expressions
  kBinary,    // kids[0] <bin> kids[1]
  kAddChain,  // kids[0] + kids[1] + ... (left-assoc; every kid single-output)
  kCall,      // builtin fn with kids as arguments
};

enum class Bin : uint8_t { kAdd, kSub, kMul, kDiv, kMod, kEq, kNe, kLt, kLe, kGt, kGe };

enum class Fn : uint8_t {
  // no arguments
  kEmpty, kError0, kNot, kLength, kUtf8ByteLength, kToString, kToJson, kToNumber, kType, kKeys,
  kKeysUnsorted, kAsciiDowncase, kAsciiUpcase, kFloor, kCeil, kRound, kSqrt, kFabs, kFirst0,
  kLast0, kAdd, kAny, kAll, kReverse, kValues, kNulls, kBooleans, kNumbers, kStrings, kArrays,
  kObjects, kIterables, kScalars, kToEntries, kInfinite, kNan, kMktime, kGmtime, kFromDate,
  kToDate, kSort, kMin, kMax, kUnique, kAbs, kToArray,
  // one argument
  kSelect, kMap, kError1, kHas, kStartsWith, kEndsWith, kSplit, kJoin, kLtrimstr, kRtrimstr,
  kTest1, kStrptime, kStrftime, kFirst1, kLast1, kRange1,
  // two arguments
  kTest2, kSub2, kGsub2, kLimit, kRange2,
  // three arguments
  kSub3, kGsub3,
};

struct Node {
  Op op = Op::kIdentity;
  Bin bin = Bin::kAdd;
  Fn fn = Fn::kEmpty;
  bool opt = false;     // kField, kIndex, kSlice, kEach: errors of this step give no output
  bool single = false;  // at most one output, always (enables the direct evaluation path)
  int slot = -1;        // kVar, kAs
  Val literal;          // kLiteral (never a heap value: programs are shared across threads)
  std::string_view key;  // kField
  std::vector<std::unique_ptr<Node>> kids;
  // kCall of test/sub/gsub with a constant pattern and constant flags: compiled once.
  std::unique_ptr<Regex> regex;
  bool regex_global = false;
};

struct Ast {
  std::unique_ptr<Node> root;
  int slots = 0;                   // variables
  std::deque<std::string> strings;  // storage of the program's string literals and keys
};

// Parses standard jq 1.6 text; false when it is outside the subset (or not jq).
bool ParseProgram(std::string_view text, Ast* ast);

}  // namespace portolan::jq::native::internal

#endif  // PORTOLAN_ENGINE_JQ_INTERNAL_NATIVE_AST_H_
