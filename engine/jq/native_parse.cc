// The front end of the native jq evaluator: a lexer and a recursive-descent parser for the jq
// 1.6 grammar restricted to the native subset (engine/jq/README.md, "Native evaluator").
//
// Anything the parser does not know is refused (the program then runs on libjq), so it need
// not reproduce jq's syntax errors, only never accept a program libjq would read differently.
// Points where jq 1.6's grammar is easy to get wrong, mirrored here:
//   - precedence, lowest first: `|` (right), `,`, `//` (right), `or`, `and`, comparisons (non-
//     associative), `+ -`, `* / %`; unary minus takes a `* / %` operand (`-1 + 2` is 1,
//     `-0 % 5` is -(0 % 5));
//   - `Term as $x | body` binds to the term before `as` (`1 + 2 as $x | $x` is 1 + (2 as ...))
//     and the body runs to the end of the enclosing expression;
//   - `.a?`, `.[e]?`, `.[]?`, `.[a:b]?` make only that step optional (INDEX_OPT/EACH_OPT); any
//     other `E?` is `try E`, and nothing may follow it but another `?`;
//   - object values are `Term`, `-ExpD` or `ExpD | ExpD` only (`{a: 1 + 2}` is a syntax error);
//   - `if` needs `else` (RewriteDialect adds it) and is not a term (no `.a` after `end`);
//   - number literals are folded: `1 / 0` is a compile error ("Division by zero?"), `0 / 0` is
//     NaN, while `. as $z | 1 / $z` is a runtime error; `-1` is not a literal but `1 | -.`.
#include <cmath>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/jq/internal/lex.h"
#include "engine/jq/internal/native_ast.h"

namespace portolan::jq::native::internal {

namespace {

constexpr int kMaxDepth = 200;  // nesting of the program itself

// ---- Tokens ----------------------------------------------------------------------------------

enum class Tok { kEnd, kField, kDot, kVar, kNumber, kString, kIdent, kKeyword, kOp };

struct Token;
struct StringPart {
  std::string text;            // a literal run (escapes decoded)
  std::vector<Token>* interp;  // or an interpolation's tokens (owned by the lexer's pool)
};

struct Token {
  Tok kind = Tok::kEnd;
  std::string_view text;  // field/var/ident/keyword name, operator
  double number = 0;
  std::vector<StringPart> parts;  // kString
};

using ::portolan::jq::internal::IsDigit;
using ::portolan::jq::internal::IsIdentChar;
using ::portolan::jq::internal::IsIdentStart;
using ::portolan::jq::internal::IsKeyword;
using ::portolan::jq::internal::ReadUnicodeEscape;

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    uint32_t cp = c & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
    for (size_t k = 1; k < len; ++k) {
      unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) {
      return false;
    }
    i += len;
  }
  return true;
}

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  // The whole program; false on anything unsupported.
  bool Run(std::vector<Token>* out) {
    if (!Tokens(out, /*in_interp=*/false)) return false;
    return i_ == s_.size();
  }

 private:
  // Until the end of the text or, inside an interpolation, its closing parenthesis (consumed).
  bool Tokens(std::vector<Token>* out, bool in_interp) {
    int parens = 0;
    while (true) {
      while (i_ < s_.size()) {
        char c = s_[i_];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
          ++i_;
        } else if (c == '#') {
          while (i_ < s_.size() && s_[i_] != '\n') ++i_;
        } else {
          break;
        }
      }
      if (i_ >= s_.size()) {
        if (in_interp) return false;
        out->push_back(Token());
        return true;
      }
      char c = s_[i_];
      if (in_interp && c == ')' && parens == 0) {
        ++i_;
        out->push_back(Token());
        return true;
      }
      Token t;
      if (c == '.') {
        if (i_ + 1 < s_.size() && IsIdentStart(s_[i_ + 1])) {
          size_t j = i_ + 1;
          while (j < s_.size() && IsIdentChar(s_[j])) ++j;
          if (j < s_.size() && s_[j] == ':' && j + 1 < s_.size() && s_[j + 1] == ':') {
            return false;
          }
          t.kind = Tok::kField;
          t.text = s_.substr(i_ + 1, j - i_ - 1);
          i_ = j;
        } else if (i_ + 1 < s_.size() && s_[i_ + 1] == '.') {
          return false;  // `..`
        } else if (i_ + 1 < s_.size() && IsDigit(s_[i_ + 1])) {
          if (!Number(&t)) return false;
        } else {
          t.kind = Tok::kDot;
          ++i_;
        }
      } else if (c == '$') {
        size_t j = i_ + 1;
        if (j >= s_.size() || !IsIdentStart(s_[j])) return false;
        while (j < s_.size() && IsIdentChar(s_[j])) ++j;
        if (j < s_.size() && s_[j] == ':') return false;
        t.kind = Tok::kVar;
        t.text = s_.substr(i_ + 1, j - i_ - 1);
        i_ = j;
      } else if (IsDigit(c)) {
        if (!Number(&t)) return false;
      } else if (c == '"') {
        if (!String(&t)) return false;
      } else if (IsIdentStart(c)) {
        size_t j = i_;
        while (j < s_.size() && IsIdentChar(s_[j])) ++j;
        if (j < s_.size() && s_[j] == ':' && j + 1 < s_.size() && s_[j + 1] == ':') return false;
        t.text = s_.substr(i_, j - i_);
        t.kind = IsKeyword(t.text) ? Tok::kKeyword : Tok::kIdent;
        i_ = j;
      } else {
        // Multi-character operators first; assignments, `?//` and `..` are refused by the
        // parser (it never accepts them).
        static constexpr std::string_view kOps[] = {
            "?//", "//=", "|=", "+=", "-=", "*=", "/=", "%=", "==", "!=", "<=", ">=", "//",
            "|",   ",",   "+",  "-",  "*",  "/",  "%",  "<",  ">",  "=",  "(",  ")",  "[",
            "]",   "{",   "}",  "?",  ":",  ";"};
        bool matched = false;
        for (std::string_view op : kOps) {
          if (s_.substr(i_, op.size()) == op) {
            t.kind = Tok::kOp;
            t.text = op;
            i_ += op.size();
            matched = true;
            break;
          }
        }
        if (!matched) return false;  // `@format`, stray characters
        if (in_interp && t.text == "(") ++parens;
        if (in_interp && t.text == ")") --parens;
      }
      out->push_back(std::move(t));
    }
  }

  // jq's number syntax: ([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?
  bool Number(Token* t) {
    size_t j = i_;
    while (j < s_.size() && IsDigit(s_[j])) ++j;
    if (j < s_.size() && s_[j] == '.') {
      ++j;
      while (j < s_.size() && IsDigit(s_[j])) ++j;
    }
    if (j < s_.size() && (s_[j] == 'e' || s_[j] == 'E')) {
      size_t k = j + 1;
      if (k < s_.size() && (s_[k] == '+' || s_[k] == '-')) ++k;
      if (k < s_.size() && IsDigit(s_[k])) {
        while (k < s_.size() && IsDigit(s_[k])) ++k;
        j = k;
      }
    }
    if (j < s_.size() && (IsIdentChar(s_[j]) || s_[j] == '.')) return false;
    std::string text(s_.substr(i_, j - i_));
    t->kind = Tok::kNumber;
    t->number = std::strtod(text.c_str(), nullptr);
    i_ = j;
    return true;
  }

  bool String(Token* t) {
    t->kind = Tok::kString;
    t->parts.push_back({std::string(), nullptr});
    ++i_;  // "
    while (true) {
      if (i_ >= s_.size()) return false;
      char d = s_[i_];
      if (d == '"') {
        ++i_;
        return true;
      }
      if (d != '\\') {
        t->parts.back().text.push_back(d);
        ++i_;
        continue;
      }
      if (i_ + 1 >= s_.size()) return false;
      char e = s_[i_ + 1];
      i_ += 2;
      std::string& text = t->parts.back().text;
      switch (e) {
        case '"': text.push_back('"'); break;
        case '\\': text.push_back('\\'); break;
        case '/': text.push_back('/'); break;
        case 'b': text.push_back('\b'); break;
        case 'f': text.push_back('\f'); break;
        case 'n': text.push_back('\n'); break;
        case 'r': text.push_back('\r'); break;
        case 't': text.push_back('\t'); break;
        case 'u':
          if (!ReadUnicodeEscape(s_, &i_, &text)) return false;
          break;
        case '(': {
          if (++interp_depth_ > kMaxDepth) return false;
          pool_.emplace_back(std::make_unique<std::vector<Token>>());
          std::vector<Token>* inner = pool_.back().get();
          if (!Tokens(inner, /*in_interp=*/true)) return false;
          --interp_depth_;
          if (inner->size() < 2) return false;  // `\()`
          t->parts.push_back({std::string(), inner});
          t->parts.push_back({std::string(), nullptr});
          break;
        }
        default:
          return false;
      }
    }
  }

  std::string_view s_;
  size_t i_ = 0;
  int interp_depth_ = 0;

 public:
  std::vector<std::unique_ptr<std::vector<Token>>> pool_;
};

// ---- Builtins --------------------------------------------------------------------------------

struct BuiltinDef {
  std::string_view name;
  int arity;
  Fn fn;
};

constexpr BuiltinDef kBuiltins[] = {
    {"empty", 0, Fn::kEmpty},
    {"error", 0, Fn::kError0},
    {"not", 0, Fn::kNot},
    {"length", 0, Fn::kLength},
    {"utf8bytelength", 0, Fn::kUtf8ByteLength},
    {"tostring", 0, Fn::kToString},
    {"tojson", 0, Fn::kToJson},
    {"tonumber", 0, Fn::kToNumber},
    {"type", 0, Fn::kType},
    {"keys", 0, Fn::kKeys},
    {"keys_unsorted", 0, Fn::kKeysUnsorted},
    {"ascii_downcase", 0, Fn::kAsciiDowncase},
    {"ascii_upcase", 0, Fn::kAsciiUpcase},
    {"floor", 0, Fn::kFloor},
    {"ceil", 0, Fn::kCeil},
    {"round", 0, Fn::kRound},
    {"sqrt", 0, Fn::kSqrt},
    {"fabs", 0, Fn::kFabs},
    {"first", 0, Fn::kFirst0},
    {"last", 0, Fn::kLast0},
    {"add", 0, Fn::kAdd},
    {"any", 0, Fn::kAny},
    {"all", 0, Fn::kAll},
    {"reverse", 0, Fn::kReverse},
    {"values", 0, Fn::kValues},
    {"nulls", 0, Fn::kNulls},
    {"booleans", 0, Fn::kBooleans},
    {"numbers", 0, Fn::kNumbers},
    {"strings", 0, Fn::kStrings},
    {"arrays", 0, Fn::kArrays},
    {"objects", 0, Fn::kObjects},
    {"iterables", 0, Fn::kIterables},
    {"scalars", 0, Fn::kScalars},
    {"to_entries", 0, Fn::kToEntries},
    {"infinite", 0, Fn::kInfinite},
    {"nan", 0, Fn::kNan},
    {"mktime", 0, Fn::kMktime},
    {"gmtime", 0, Fn::kGmtime},
    {"fromdateiso8601", 0, Fn::kFromDate},
    {"fromdate", 0, Fn::kFromDate},
    {"todateiso8601", 0, Fn::kToDate},
    {"todate", 0, Fn::kToDate},
    {"sort", 0, Fn::kSort},
    {"min", 0, Fn::kMin},
    {"max", 0, Fn::kMax},
    {"unique", 0, Fn::kUnique},
    {"abs", 0, Fn::kAbs},
    {"toarray", 0, Fn::kToArray},
    {"select", 1, Fn::kSelect},
    {"map", 1, Fn::kMap},
    {"error", 1, Fn::kError1},
    {"has", 1, Fn::kHas},
    {"startswith", 1, Fn::kStartsWith},
    {"endswith", 1, Fn::kEndsWith},
    {"split", 1, Fn::kSplit},
    {"join", 1, Fn::kJoin},
    {"ltrimstr", 1, Fn::kLtrimstr},
    {"rtrimstr", 1, Fn::kRtrimstr},
    {"test", 1, Fn::kTest1},
    {"strptime", 1, Fn::kStrptime},
    {"strftime", 1, Fn::kStrftime},
    {"first", 1, Fn::kFirst1},
    {"last", 1, Fn::kLast1},
    {"range", 1, Fn::kRange1},
    {"test", 2, Fn::kTest2},
    {"sub", 2, Fn::kSub2},
    {"gsub", 2, Fn::kGsub2},
    {"limit", 2, Fn::kLimit},
    {"range", 2, Fn::kRange2},
    {"sub", 3, Fn::kSub3},
    {"gsub", 3, Fn::kGsub3},
};

// Builtins that may give several outputs whatever their arguments do.
bool IsGenerator(Fn fn) { return fn == Fn::kRange1 || fn == Fn::kRange2 || fn == Fn::kLimit; }

// ---- Parser ----------------------------------------------------------------------------------

using NodePtr = std::unique_ptr<Node>;

class Parser {
 public:
  Parser(const std::vector<Token>* tokens, Ast* ast) : t_(tokens), ast_(ast) {}

  NodePtr Program() {
    NodePtr n = Pipe();
    if (!n || Peek().kind != Tok::kEnd) return nullptr;
    return n;
  }
  int max_slots() const { return max_slots_; }

 private:
  const Token& Peek(size_t ahead = 0) const {
    size_t i = std::min(pos_ + ahead, t_->size() - 1);
    return (*t_)[i];
  }
  bool IsOp(std::string_view op, size_t ahead = 0) const {
    const Token& t = Peek(ahead);
    return t.kind == Tok::kOp && t.text == op;
  }
  bool IsKw(std::string_view kw) const {
    return Peek().kind == Tok::kKeyword && Peek().text == kw;
  }
  void Next() { ++pos_; }

  static NodePtr Make(Op op) {
    auto n = std::make_unique<Node>();
    n->op = op;
    return n;
  }
  static NodePtr Make(Op op, NodePtr a) {
    NodePtr n = Make(op);
    n->kids.push_back(std::move(a));
    return n;
  }
  static NodePtr Make(Op op, NodePtr a, NodePtr b) {
    NodePtr n = Make(op, std::move(a));
    n->kids.push_back(std::move(b));
    return n;
  }
  NodePtr Literal(Val v) {
    NodePtr n = Make(Op::kLiteral);
    n->literal = std::move(v);
    return n;
  }
  std::string_view Keep(std::string s) {
    ast_->strings.push_back(std::move(s));
    return ast_->strings.back();
  }

  struct DepthGuard {
    explicit DepthGuard(int* d) : d_(d) { ++*d_; }
    ~DepthGuard() { --*d_; }
    int* d_;
  };

  NodePtr Pipe() {
    DepthGuard guard(&depth_);
    if (depth_ > kMaxDepth) return nullptr;
    NodePtr lhs = Binary(2);
    if (!lhs) return nullptr;
    if (IsOp("|")) {
      Next();
      NodePtr rhs = Pipe();
      if (!rhs) return nullptr;
      return Make(Op::kPipe, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  // Binary operator at the cursor: precedence level (0 = none).
  int Level(Op* op, Bin* bin) const {
    const Token& t = Peek();
    if (t.kind == Tok::kKeyword) {
      if (t.text == "or") return *op = Op::kOr, 5;
      if (t.text == "and") return *op = Op::kAnd, 6;
      return 0;
    }
    if (t.kind != Tok::kOp) return 0;
    static constexpr struct {
      std::string_view text;
      Op op;
      Bin bin;
      int level;
    } kTable[] = {
        {",", Op::kComma, Bin::kAdd, 2},  {"//", Op::kAlt, Bin::kAdd, 3},
        {"==", Op::kBinary, Bin::kEq, 7}, {"!=", Op::kBinary, Bin::kNe, 7},
        {"<", Op::kBinary, Bin::kLt, 7},  {"<=", Op::kBinary, Bin::kLe, 7},
        {">", Op::kBinary, Bin::kGt, 7},  {">=", Op::kBinary, Bin::kGe, 7},
        {"+", Op::kBinary, Bin::kAdd, 8}, {"-", Op::kBinary, Bin::kSub, 8},
        {"*", Op::kBinary, Bin::kMul, 9}, {"/", Op::kBinary, Bin::kDiv, 9},
        {"%", Op::kBinary, Bin::kMod, 9},
    };
    for (const auto& e : kTable) {
      if (t.text == e.text) {
        *op = e.op;
        *bin = e.bin;
        return e.level;
      }
    }
    return 0;
  }

  // jq 1.6 folds arithmetic on two number literals at compile time (constant_fold); a division
  // folded to an infinity is the compile error "Division by zero?".
  bool Fold(NodePtr* n) {
    Node& b = **n;
    if (b.op != Op::kBinary || b.kids[0]->op != Op::kLiteral || b.kids[1]->op != Op::kLiteral ||
        !b.kids[0]->literal.is_number() || !b.kids[1]->literal.is_number()) {
      return true;
    }
    double x = b.kids[0]->literal.num(), y = b.kids[1]->literal.num(), r;
    switch (b.bin) {
      case Bin::kAdd: r = x + y; break;
      case Bin::kSub: r = x - y; break;
      case Bin::kMul: r = x * y; break;
      case Bin::kDiv:
        r = x / y;
        if (std::isinf(r)) return false;
        break;
      default: return true;
    }
    *n = Literal(Val::Number(r));
    return true;
  }

  NodePtr Binary(int min_level) {
    NodePtr lhs = Unary();
    if (!lhs) return nullptr;
    while (true) {
      Op op;
      Bin bin = Bin::kAdd;
      int level = Level(&op, &bin);
      if (level == 0 || level < min_level) return lhs;
      Next();
      // `//` is right-associative, comparisons non-associative, the rest left-associative.
      NodePtr rhs = Binary(level == 3 ? level : level + 1);
      if (!rhs) return nullptr;
      NodePtr n = Make(op, std::move(lhs), std::move(rhs));
      n->bin = bin;
      if (!Fold(&n)) return nullptr;
      lhs = std::move(n);
      if (level == 7) {
        Op next;
        Bin nb;
        if (Level(&next, &nb) == 7) return nullptr;  // `a == b == c`
      }
    }
  }

  NodePtr Unary() {
    DepthGuard guard(&depth_);
    if (depth_ > kMaxDepth) return nullptr;
    if (IsOp("-")) {
      Next();
      NodePtr operand = Binary(9);
      if (!operand) return nullptr;
      return Make(Op::kNeg, std::move(operand));
    }
    return Postfix(/*allow_as=*/true, /*allow_try=*/true);
  }

  NodePtr IndexSuffix(NodePtr term) {
    Next();  // [
    if (IsOp("]")) {
      Next();
      return Make(Op::kEach, std::move(term));
    }
    NodePtr from, to;
    if (!IsOp(":")) {
      from = Pipe();
      if (!from) return nullptr;
    }
    if (IsOp(":")) {
      Next();
      if (!IsOp("]")) {
        to = Pipe();
        if (!to) return nullptr;
      }
      if (!from && !to) return nullptr;  // `.[:]`
      if (!IsOp("]")) return nullptr;
      Next();
      NodePtr n = Make(Op::kSlice, std::move(term));
      n->kids.push_back(std::move(from));
      n->kids.push_back(std::move(to));
      return n;
    }
    if (!IsOp("]")) return nullptr;
    Next();
    return Make(Op::kIndex, std::move(term), std::move(from));
  }

  NodePtr StringKey(NodePtr term, const Token& s) {
    NodePtr key = StringNode(s);
    if (!key) return nullptr;
    if (key->op == Op::kLiteral) {
      NodePtr n = Make(Op::kField, std::move(term));
      n->key = key->literal.str();
      return n;
    }
    return Make(Op::kIndex, std::move(term), std::move(key));
  }

  NodePtr Postfix(bool allow_as, bool allow_try) {
    bool is_term = true;
    const bool step = Peek().kind == Tok::kField ||
                      (Peek().kind == Tok::kDot && Peek(1).kind == Tok::kString);
    NodePtr n = Primary(&is_term);
    if (!n) return nullptr;
    // `.a?` and `."a"?` as the first step are optional steps too.
    if ((n->op == Op::kField || n->op == Op::kIndex) && n->kids[0]->op == Op::kIdentity &&
        IsOp("?") && step) {
      n->opt = true;
      Next();
    }
    while (is_term) {
      const Token& t = Peek();
      if (t.kind == Tok::kField) {
        NodePtr f = Make(Op::kField, std::move(n));
        f->key = t.text;
        Next();
        n = std::move(f);
      } else if (t.kind == Tok::kDot && Peek(1).kind == Tok::kString) {
        Next();
        const Token& s = Peek();
        Next();
        n = StringKey(std::move(n), s);
        if (!n) return nullptr;
      } else if (IsOp("[")) {
        n = IndexSuffix(std::move(n));
        if (!n) return nullptr;
      } else {
        break;
      }
      if (IsOp("?")) {
        n->opt = true;
        Next();
      }
    }
    if (is_term && allow_as && IsKw("as")) return As(std::move(n));
    // `E?` on anything else is `try E`; only another `?` may follow.
    bool tried = false;
    while (IsOp("?")) {
      if (!allow_try) return nullptr;
      Next();
      n = Make(Op::kTry, std::move(n));
      tried = true;
    }
    if (tried || !is_term) {
      const Token& t = Peek();
      if (t.kind == Tok::kField || t.kind == Tok::kDot || IsOp("[") || IsKw("as")) return nullptr;
    }
    return n;
  }

  NodePtr As(NodePtr source) {
    Next();  // as
    if (Peek().kind != Tok::kVar) return nullptr;  // destructuring patterns
    std::string_view name = Peek().text;
    Next();
    if (!IsOp("|")) return nullptr;  // also `?//`
    Next();
    // One slot per binding, not per scope depth: with continuations, a sibling binding runs
    // while this one's body is still suspended (`(. as $x | $x, $x) + (1 as $y | $y)`).
    NodePtr n = Make(Op::kAs, std::move(source));
    n->slot = max_slots_++;
    scope_.push_back({name, n->slot});
    NodePtr body = Pipe();
    scope_.pop_back();
    if (!body) return nullptr;
    n->kids.push_back(std::move(body));
    return n;
  }

  // A string literal, possibly with interpolations (each one `tostring`ed).
  NodePtr StringNode(const Token& s) {
    if (s.parts.size() == 1) return Literal(Val::View(Keep(s.parts[0].text)));
    NodePtr n = Make(Op::kFormat);
    for (const StringPart& p : s.parts) {
      if (p.interp == nullptr) {
        if (!p.text.empty()) n->kids.push_back(Literal(Val::View(Keep(p.text))));
        continue;
      }
      const std::vector<Token>* saved = t_;
      size_t saved_pos = pos_;
      t_ = p.interp;
      pos_ = 0;
      NodePtr e = Pipe();
      bool ok = e && Peek().kind == Tok::kEnd;
      t_ = saved;
      pos_ = saved_pos;
      if (!ok) return nullptr;
      NodePtr ts = Make(Op::kCall);  // `e | tostring`
      ts->fn = Fn::kToString;
      n->kids.push_back(Make(Op::kPipe, std::move(e), std::move(ts)));
    }
    return n;
  }

  NodePtr Primary(bool* is_term) {
    const Token& t = Peek();
    switch (t.kind) {
      case Tok::kField: {
        NodePtr n = Make(Op::kField, Make(Op::kIdentity));
        n->key = t.text;
        Next();
        return n;
      }
      case Tok::kDot:
        Next();
        if (Peek().kind == Tok::kString) {
          const Token& s = Peek();
          Next();
          return StringKey(Make(Op::kIdentity), s);
        }
        return Make(Op::kIdentity);
      case Tok::kNumber: {
        double d = t.number;
        Next();
        return Literal(Val::Number(d));
      }
      case Tok::kString: {
        const Token& s = t;
        Next();
        return StringNode(s);
      }
      case Tok::kVar:
        for (size_t i = scope_.size(); i > 0; --i) {
          if (scope_[i - 1].first == t.text) {
            NodePtr n = Make(Op::kVar);
            n->slot = scope_[i - 1].second;
            Next();
            return n;
          }
        }
        return nullptr;  // $ENV, $__prog_args, or undefined
      case Tok::kOp:
        if (t.text == "(") {
          Next();
          NodePtr inner = Pipe();
          if (!inner || !IsOp(")")) return nullptr;
          Next();
          return inner;
        }
        if (t.text == "[") {
          Next();
          if (IsOp("]")) {
            Next();
            return Make(Op::kArray);
          }
          NodePtr inner = Pipe();
          if (!inner || !IsOp("]")) return nullptr;
          Next();
          return Make(Op::kArray, std::move(inner));
        }
        if (t.text == "{") return Object();
        return nullptr;
      case Tok::kKeyword:
        if (t.text == "if") {
          *is_term = false;
          return If();
        }
        return nullptr;  // reduce, foreach, try, label, def, ...
      case Tok::kIdent:
        return Call();
      default:
        return nullptr;
    }
  }

  NodePtr Call() {
    std::string_view name = Peek().text;
    Next();
    std::vector<NodePtr> args;
    if (IsOp("(")) {
      Next();
      while (true) {
        NodePtr a = Pipe();
        if (!a) return nullptr;
        args.push_back(std::move(a));
        if (IsOp(";")) {
          Next();
          continue;
        }
        if (!IsOp(")")) return nullptr;
        Next();
        break;
      }
    }
    if (args.empty()) {
      if (name == "null") return Literal(Val::Null());
      if (name == "true") return Literal(Val::Bool(true));
      if (name == "false") return Literal(Val::Bool(false));
    }
    for (const BuiltinDef& b : kBuiltins) {
      if (b.name == name && b.arity == static_cast<int>(args.size())) {
        NodePtr n = Make(Op::kCall);
        n->fn = b.fn;
        n->kids = std::move(args);
        if (!PrepareRegex(n.get())) return nullptr;
        return n;
      }
    }
    return nullptr;
  }

  // test/sub/gsub with a literal pattern (and literal flags): compiled here, and a pattern
  // outside the regex subset leaves the whole program to libjq.
  static bool PrepareRegex(Node* n) {
    const Node* re = nullptr;
    const Node* flags = nullptr;
    std::string_view extra;  // flags the builtin adds ("g" for gsub)
    switch (n->fn) {
      case Fn::kTest1: re = n->kids[0].get(); break;
      case Fn::kTest2: re = n->kids[0].get(), flags = n->kids[1].get(); break;
      case Fn::kSub2: re = n->kids[0].get(); break;
      case Fn::kGsub2: re = n->kids[0].get(), extra = "g"; break;
      case Fn::kSub3: re = n->kids[0].get(), flags = n->kids[2].get(); break;
      case Fn::kGsub3: re = n->kids[0].get(), flags = n->kids[2].get(), extra = "g"; break;
      default: return true;
    }
    if (re->op != Op::kLiteral || !re->literal.is_string()) return true;
    std::string flag_text(extra);
    if (flags != nullptr) {
      if (flags->op != Op::kLiteral) return true;
      if (flags->literal.is_string()) {
        flag_text = std::string(flags->literal.str()) + flag_text;
      } else if (!flags->literal.is_null() || n->fn == Fn::kGsub3) {
        return true;  // an error at run time (or null + "g"): left to the evaluator
      }
    }
    RegexFlags f;
    if (!ParseRegexFlags(flag_text, &f)) return false;
    n->regex = Regex::Compile(re->literal.str(), f.icase);
    n->regex_global = f.global;
    return n->regex != nullptr;
  }

  NodePtr If() {
    Next();  // if
    NodePtr n = Make(Op::kIf);
    while (true) {
      NodePtr cond = Pipe();
      if (!cond || !IsKw("then")) return nullptr;
      Next();
      NodePtr then = Pipe();
      if (!then) return nullptr;
      n->kids.push_back(std::move(cond));
      n->kids.push_back(std::move(then));
      if (IsKw("elif")) {
        Next();
        continue;
      }
      break;
    }
    if (!IsKw("else")) return nullptr;  // jq 1.6 requires it (RewriteDialect adds `else .`)
    Next();
    NodePtr e = Pipe();
    if (!e || !IsKw("end")) return nullptr;
    Next();
    n->kids.push_back(std::move(e));
    return n;
  }

  // ExpD: `ExpD | ExpD`, `-ExpD` or a term: what an object value may be in jq 1.6.
  NodePtr ObjectValue() {
    NodePtr lhs;
    if (IsOp("-")) {
      Next();
      NodePtr operand = ObjectValueUnary();
      if (!operand) return nullptr;
      lhs = Make(Op::kNeg, std::move(operand));
    } else {
      lhs = Postfix(/*allow_as=*/false, /*allow_try=*/false);
    }
    if (!lhs) return nullptr;
    if (IsOp("|")) {
      Next();
      NodePtr rhs = ObjectValue();
      if (!rhs) return nullptr;
      return Make(Op::kPipe, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }
  NodePtr ObjectValueUnary() {
    DepthGuard guard(&depth_);
    if (depth_ > kMaxDepth) return nullptr;
    if (IsOp("-")) {
      Next();
      NodePtr operand = ObjectValueUnary();
      if (!operand) return nullptr;
      return Make(Op::kNeg, std::move(operand));
    }
    return Postfix(/*allow_as=*/false, /*allow_try=*/false);
  }

  NodePtr Object() {
    Next();  // {
    NodePtr n = Make(Op::kObject);
    while (!IsOp("}")) {
      const Token& t = Peek();
      NodePtr key, value;
      if (t.kind == Tok::kIdent || t.kind == Tok::kKeyword) {
        std::string_view name = t.text;
        Next();
        key = Literal(Val::View(name));
        if (!IsOp(":")) {
          if (t.kind == Tok::kKeyword) return nullptr;
          value = Make(Op::kField, Make(Op::kIdentity));  // {a} is {a: .a}
          value->key = name;
        }
      } else if (t.kind == Tok::kVar) {
        std::string_view name = t.text;
        NodePtr var;
        for (size_t i = scope_.size(); i > 0 && !var; --i) {
          if (scope_[i - 1].first == name) {
            var = Make(Op::kVar);
            var->slot = scope_[i - 1].second;
          }
        }
        if (!var) return nullptr;
        Next();
        if (IsOp(":")) return nullptr;
        key = Literal(Val::View(name));
        value = std::move(var);
      } else if (t.kind == Tok::kString) {
        const Token& s = t;
        Next();
        key = StringNode(s);
        if (!key) return nullptr;
        if (!IsOp(":")) {
          if (key->op != Op::kLiteral) return nullptr;
          value = Make(Op::kField, Make(Op::kIdentity));  // {"a"} is {"a": .a}
          value->key = key->literal.str();
        }
      } else if (IsOp("(")) {
        Next();
        key = Pipe();
        if (!key || !IsOp(")")) return nullptr;
        Next();
        if (!IsOp(":")) return nullptr;
      } else {
        return nullptr;
      }
      if (!value) {
        Next();  // :
        value = ObjectValue();
        if (!value) return nullptr;
      }
      n->kids.push_back(std::move(key));
      n->kids.push_back(std::move(value));
      if (IsOp(",")) {
        Next();
        continue;
      }
      if (!IsOp("}")) return nullptr;
    }
    Next();  // }
    return n;
  }

  const std::vector<Token>* t_;
  size_t pos_ = 0;
  Ast* ast_;
  std::vector<std::pair<std::string_view, int>> scope_;  // name, slot
  int max_slots_ = 0;
  int depth_ = 0;
};

// ---- Analysis --------------------------------------------------------------------------------

// Whether a `try` (`E?` on anything but an index step) in the subtree can see what happens
// downstream of the node. jq 1.6's try catches every error raised while its fork point is on
// the stack, including errors raised downstream of its outputs (`(.a)? | error("x")` gives no
// output); only constructs that collect all outputs before going on (`[...]`, `map`, `last`,
// the replacement of sub/gsub) close it.
bool LiveTry(const Node& n) {
  if (n.op == Op::kTry) return true;
  if (n.op == Op::kArray) return false;
  if (n.op == Op::kCall) {
    switch (n.fn) {
      case Fn::kMap:
      case Fn::kLast1: return false;
      case Fn::kSub2:
      case Fn::kGsub2:
      case Fn::kSub3:
      case Fn::kGsub3: {
        bool live = LiveTry(*n.kids[0]);
        if (n.kids.size() > 2) live = live || LiveTry(*n.kids[2]);
        return live;
      }
      default: break;
    }
  }
  for (const auto& k : n.kids) {
    if (k && LiveTry(*k)) return true;
  }
  return false;
}

bool AllSingle(const Node& n) {
  for (const auto& k : n.kids) {
    if (k && !k->single) return false;
  }
  return true;
}

// Marks the nodes evaluated directly (no continuation): at most one output, and no `try` that
// must see downstream errors. Bottom-up.
void MarkSingle(Node* n) {
  for (auto& k : n->kids) {
    if (k) MarkSingle(k.get());
  }
  bool single;
  switch (n->op) {
    case Op::kIdentity:
    case Op::kLiteral:
    case Op::kVar:
    case Op::kArray:
      single = true;
      break;
    case Op::kEach:
    case Op::kComma:
    case Op::kTry:
      single = false;
      break;
    case Op::kCall:
      switch (n->fn) {
        case Fn::kMap:
        case Fn::kLast1:
          single = true;
          break;
        case Fn::kFirst1:
          single = !LiveTry(*n);
          break;
        default:
          single = !IsGenerator(n->fn) && AllSingle(*n);
      }
      break;
    default:
      single = AllSingle(*n);
  }
  n->single = single && (n->op == Op::kArray || !LiveTry(*n));
}

// The tree is evaluated recursively: long operator chains (`1 + 1 + ... + 1`) nest deeply
// although the parser's own recursion stays shallow. False when deeper than `limit`.
bool WithinDepth(const Node& n, int limit) {
  if (limit == 0) return false;
  for (const auto& k : n.kids) {
    if (k && !WithinDepth(*k, limit - 1)) return false;
  }
  return true;
}

// `a + b + c` with single-output operands: evaluated in one go (one allocation for strings).
void MakeAddChains(Node* n) {
  for (auto& k : n->kids) {
    if (k) MakeAddChains(k.get());
  }
  if (n->op != Op::kBinary || n->bin != Bin::kAdd || !n->single) return;
  std::vector<NodePtr> operands;
  Node* left = n->kids[0].get();
  if (left->op == Op::kAddChain) {
    operands = std::move(left->kids);
  } else {
    operands.push_back(std::move(n->kids[0]));
  }
  operands.push_back(std::move(n->kids[1]));
  n->op = Op::kAddChain;
  n->kids = std::move(operands);
}

}  // namespace

bool ParseProgram(std::string_view text, Ast* ast) {
  if (!ValidUtf8(text) || text.find('\0') != std::string_view::npos) return false;
  // Names and keys are views into the program text: it is kept with the program.
  ast->strings.emplace_back(text);
  Lexer lexer(ast->strings.back());
  std::vector<Token> tokens;
  if (!lexer.Run(&tokens)) return false;
  if (tokens.size() == 1) {
    ast->root = std::make_unique<Node>();  // empty program: `.`
  } else {
    Parser parser(&tokens, ast);
    ast->root = parser.Program();
    if (!ast->root) return false;
    ast->slots = parser.max_slots();
  }
  if (!WithinDepth(*ast->root, 2 * kMaxDepth)) return false;
  MarkSingle(ast->root.get());
  MakeAddChains(ast->root.get());
  return true;
}

}  // namespace portolan::jq::native::internal
