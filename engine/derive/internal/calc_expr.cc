#include "engine/derive/internal/calc_expr.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "engine/base/time.h"
#include "engine/jq/internal/lex.h"
#include "engine/jq/jq.h"

namespace portolan::derive::internal {

namespace {

// ---- Tokens ----------------------------------------------------------------------------------

enum class Tok { kEnd, kField, kDot, kVar, kNumber, kString, kIdent, kOp, kUnsupported };

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;  // field/var/ident name, operator, or string value
  double number = 0;
};

using jq::internal::IsDigit;
using jq::internal::IsIdentChar;
using jq::internal::IsIdentStart;
using jq::internal::ReadUnicodeEscape;

// Tokenizes the whole program; a kUnsupported token stops the parse.
std::vector<Token> Lex(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  auto unsupported = [&]() {
    out.push_back({Tok::kUnsupported, "", 0});
    return out;
  };
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
      continue;
    }
    if (c == '#') {
      while (i < s.size() && s[i] != '\n') ++i;
      continue;
    }
    if (c == '.') {
      if (i + 1 < s.size() && IsIdentStart(s[i + 1])) {
        size_t j = i + 1;
        while (j < s.size() && IsIdentChar(s[j])) ++j;
        out.push_back({Tok::kField, std::string(s.substr(i + 1, j - i - 1)), 0});
        i = j;
        continue;
      }
      if (i + 1 < s.size() && (s[i + 1] == '.' || IsDigit(s[i + 1]))) return unsupported();
      out.push_back({Tok::kDot, ".", 0});
      ++i;
      continue;
    }
    if (c == '$') {
      size_t j = i + 1;
      if (j >= s.size() || !IsIdentStart(s[j])) return unsupported();
      while (j < s.size() && IsIdentChar(s[j])) ++j;
      if (j < s.size() && s[j] == ':') return unsupported();
      out.push_back({Tok::kVar, std::string(s.substr(i + 1, j - i - 1)), 0});
      i = j;
      continue;
    }
    if (IsDigit(c)) {
      size_t j = i;
      while (j < s.size() && IsDigit(s[j])) ++j;
      if (j < s.size() && s[j] == '.') {
        ++j;
        while (j < s.size() && IsDigit(s[j])) ++j;
      }
      if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
        size_t k = j + 1;
        if (k < s.size() && (s[k] == '+' || s[k] == '-')) ++k;
        if (k >= s.size() || !IsDigit(s[k])) return unsupported();
        while (k < s.size() && IsDigit(s[k])) ++k;
        j = k;
      }
      if (j < s.size() && (IsIdentStart(s[j]) || s[j] == '.')) return unsupported();
      std::string text(s.substr(i, j - i));
      double v = std::strtod(text.c_str(), nullptr);
      if (!std::isfinite(v)) return unsupported();
      out.push_back({Tok::kNumber, text, v});
      i = j;
      continue;
    }
    if (c == '"') {
      std::string value;
      size_t j = i + 1;
      bool closed = false;
      while (j < s.size()) {
        char d = s[j];
        if (d == '"') {
          closed = true;
          ++j;
          break;
        }
        if (d != '\\') {
          value.push_back(d);
          ++j;
          continue;
        }
        if (j + 1 >= s.size()) return unsupported();
        char e = s[j + 1];
        j += 2;
        switch (e) {
          case '"':
            value.push_back('"');
            break;
          case '\\':
            value.push_back('\\');
            break;
          case '/':
            value.push_back('/');
            break;
          case 'b':
            value.push_back('\b');
            break;
          case 'f':
            value.push_back('\f');
            break;
          case 'n':
            value.push_back('\n');
            break;
          case 'r':
            value.push_back('\r');
            break;
          case 't':
            value.push_back('\t');
            break;
          case 'u':
            if (!ReadUnicodeEscape(s, &j, &value)) return unsupported();
            break;
          default:
            return unsupported();  // includes \( interpolation
        }
      }
      if (!closed) return unsupported();
      out.push_back({Tok::kString, value, 0});
      i = j;
      continue;
    }
    if (IsIdentStart(c)) {
      size_t j = i;
      while (j < s.size() && IsIdentChar(s[j])) ++j;
      if (j < s.size() && s[j] == ':') return unsupported();  // module::name
      out.push_back({Tok::kIdent, std::string(s.substr(i, j - i)), 0});
      i = j;
      continue;
    }
    static const char* kOps[] = {"//=", "?//", "|=", "+=", "-=", "*=", "/=", "%=", "==", "!=", "<=",
                                 ">=",  "//",  "|",  ",",  "+",  "-",  "*",  "/",  "%",  "<",  ">",
                                 "=",   "(",   ")",  "[",  "]",  "{",  "}",  "?",  ":",  ";",  "@"};
    bool matched = false;
    for (const char* op : kOps) {
      std::string_view o(op);
      if (s.substr(i, o.size()) == o) {
        out.push_back({Tok::kOp, std::string(o), 0});
        i += o.size();
        matched = true;
        break;
      }
    }
    if (!matched) return unsupported();
  }
  out.push_back({Tok::kEnd, "", 0});
  return out;
}

enum class Op { kAlt, kOr, kAnd, kEq, kNe, kLt, kLe, kGt, kGe, kAdd, kSub, kMul, kDiv, kMod };

enum class Builtin {
  kNot,
  kEmpty,
  kNow,
  kFloor,
  kCeil,
  kRound,
  kSqrt,
  kFabs,
  kLength,
  kToString,
  kToNumber,
  kType,
};

bool BuiltinByName(const std::string& name, Builtin* b) {
  static const std::pair<const char*, Builtin> kTable[] = {
      {"not", Builtin::kNot},           {"empty", Builtin::kEmpty},
      {"now", Builtin::kNow},           {"floor", Builtin::kFloor},
      {"ceil", Builtin::kCeil},         {"round", Builtin::kRound},
      {"sqrt", Builtin::kSqrt},         {"fabs", Builtin::kFabs},
      {"length", Builtin::kLength},     {"tostring", Builtin::kToString},
      {"tonumber", Builtin::kToNumber}, {"type", Builtin::kType},
  };
  for (const auto& [n, v] : kTable) {
    if (name == n) {
      *b = v;
      return true;
    }
  }
  return false;
}

}  // namespace

struct CalcExpr::Node {
  enum class Kind { kLiteral, kPath, kVar, kField, kPipe, kAs, kIf, kBinary, kNeg, kCall };
  Kind kind = Kind::kLiteral;
  json::Value literal;
  std::vector<std::string> keys;  // kPath: fields applied to the input; kField: to kids[0]
  int slot = -1;                  // kVar, kAs
  Op op = Op::kAdd;
  Builtin builtin = Builtin::kNot;
  // kField: {term}; kPipe: {lhs, rhs}; kAs: {source, body}; kIf: {c1, t1, c2, t2, ...[, else]};
  // kBinary: {lhs, rhs}; kNeg: {operand}.
  std::vector<std::unique_ptr<Node>> kids;
  bool has_else = false;
};

namespace {

using Node = CalcExpr::Node;
using NodePtr = std::unique_ptr<Node>;
using Outcome = CalcExpr::Outcome;

// ---- Parser ----------------------------------------------------------------------------------

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : t_(std::move(tokens)) {}

  NodePtr Program() {
    NodePtr n = Pipe();
    if (!n || Peek().kind != Tok::kEnd) return nullptr;
    return n;
  }
  int max_slots() const { return max_slots_; }

 private:
  const Token& Peek(size_t ahead = 0) const {
    size_t i = std::min(pos_ + ahead, t_.size() - 1);
    return t_[i];
  }
  bool IsOp(const char* op, size_t ahead = 0) const {
    const Token& t = Peek(ahead);
    return t.kind == Tok::kOp && t.text == op;
  }
  bool IsIdent(const char* name) const { return Peek().kind == Tok::kIdent && Peek().text == name; }
  void Next() { ++pos_; }

  static NodePtr Make(Node::Kind k) {
    auto n = std::make_unique<Node>();
    n->kind = k;
    return n;
  }

  NodePtr Pipe() {
    NodePtr lhs;
    if (IsOp("-")) {
      lhs = Binary(1, nullptr);
    } else {
      NodePtr term = Postfix();
      if (!term) return nullptr;
      if (IsIdent("as")) {
        Next();
        if (Peek().kind != Tok::kVar) return nullptr;  // destructuring patterns
        std::string name = Peek().text;
        if (name == "__loc__" || name == "ENV") return nullptr;
        Next();
        if (!IsOp("|")) return nullptr;
        Next();
        auto as = Make(Node::Kind::kAs);
        as->slot = static_cast<int>(scope_.size());
        scope_.push_back(name);
        max_slots_ = std::max(max_slots_, static_cast<int>(scope_.size()));
        NodePtr body = Pipe();
        scope_.pop_back();
        if (!body) return nullptr;
        as->kids.push_back(std::move(term));
        as->kids.push_back(std::move(body));
        return as;
      }
      lhs = Binary(1, std::move(term));
    }
    if (!lhs) return nullptr;
    if (IsOp(",")) return nullptr;  // several outputs
    if (IsOp("|")) {
      Next();
      NodePtr rhs = Pipe();
      if (!rhs) return nullptr;
      auto p = Make(Node::Kind::kPipe);
      p->kids.push_back(std::move(lhs));
      p->kids.push_back(std::move(rhs));
      return p;
    }
    return lhs;
  }

  // Binary operator at the cursor: precedence (0 = none) and right associativity.
  int Precedence(Op* op, bool* right) const {
    const Token& t = Peek();
    *right = false;
    if (t.kind == Tok::kIdent) {
      if (t.text == "or") {
        *op = Op::kOr;
        return 2;
      }
      if (t.text == "and") {
        *op = Op::kAnd;
        return 3;
      }
      return 0;
    }
    if (t.kind != Tok::kOp) return 0;
    static const struct {
      const char* text;
      Op op;
      int prec;
    } kTable[] = {{"//", Op::kAlt, 1}, {"==", Op::kEq, 4}, {"!=", Op::kNe, 4}, {"<", Op::kLt, 4},
                  {"<=", Op::kLe, 4},  {">", Op::kGt, 4},  {">=", Op::kGe, 4}, {"+", Op::kAdd, 5},
                  {"-", Op::kSub, 5},  {"*", Op::kMul, 6}, {"/", Op::kDiv, 6}, {"%", Op::kMod, 6}};
    for (const auto& e : kTable) {
      if (t.text == e.text) {
        *op = e.op;
        *right = e.op == Op::kAlt;
        return e.prec;
      }
    }
    return 0;
  }

  NodePtr Operand() {
    if (IsOp("-")) {
      Next();
      NodePtr x = Binary(6, nullptr);  // binds tighter than + -, looser than * / %
      if (!x) return nullptr;
      auto n = Make(Node::Kind::kNeg);
      n->kids.push_back(std::move(x));
      return n;
    }
    return Postfix();
  }

  NodePtr Binary(int min_prec, NodePtr lhs) {
    if (!lhs) lhs = Operand();
    if (!lhs) return nullptr;
    while (true) {
      Op op;
      bool right;
      int prec = Precedence(&op, &right);
      if (prec == 0 || prec < min_prec) break;
      Next();
      NodePtr rhs = Binary(right ? prec : prec + 1, nullptr);
      if (!rhs) return nullptr;
      // libjq folds constant arithmetic at compile time and rejects a constant division by
      // zero ("Division by zero?"): leave that to it so the compile error surfaces.
      if ((op == Op::kDiv || op == Op::kMod) && lhs->kind == Node::Kind::kLiteral &&
          rhs->kind == Node::Kind::kLiteral && rhs->literal.is_number() &&
          lhs->literal.is_number() && rhs->literal.as_number() == 0) {
        return nullptr;
      }
      auto b = Make(Node::Kind::kBinary);
      b->op = op;
      b->kids.push_back(std::move(lhs));
      b->kids.push_back(std::move(rhs));
      lhs = std::move(b);
      if (prec == 4) {  // comparisons do not chain
        Op next;
        bool r;
        if (Precedence(&next, &r) == 4) return nullptr;
      }
    }
    // Assignment operators and anything else binary are outside the subset.
    if (IsOp("=") || IsOp("|=") || IsOp("+=") || IsOp("-=") || IsOp("*=") || IsOp("/=") ||
        IsOp("%=") || IsOp("//=") || IsOp("?//")) {
      return nullptr;
    }
    return lhs;
  }

  NodePtr Postfix() {
    NodePtr n = Primary();
    if (!n) return nullptr;
    while (true) {
      std::string key;
      if (Peek().kind == Tok::kField) {
        key = Peek().text;
        Next();
      } else if (Peek().kind == Tok::kDot && Peek(1).kind == Tok::kString) {
        key = Peek(1).text;
        Next();
        Next();
      } else {
        break;
      }
      if (n->kind == Node::Kind::kPath || n->kind == Node::Kind::kField) {
        n->keys.push_back(std::move(key));
      } else {
        auto f = Make(Node::Kind::kField);
        f->keys.push_back(std::move(key));
        f->kids.push_back(std::move(n));
        n = std::move(f);
      }
    }
    if (IsOp("[") || IsOp("?") || IsOp("{") || Peek().kind == Tok::kDot) return nullptr;
    return n;
  }

  NodePtr Primary() {
    const Token& t = Peek();
    switch (t.kind) {
      case Tok::kField: {
        auto n = Make(Node::Kind::kPath);
        n->keys.push_back(t.text);
        Next();
        return n;
      }
      case Tok::kDot: {
        Next();
        auto n = Make(Node::Kind::kPath);
        if (Peek().kind == Tok::kString) {
          n->keys.push_back(Peek().text);
          Next();
        }
        return n;
      }
      case Tok::kNumber: {
        auto n = Make(Node::Kind::kLiteral);
        n->literal = t.number;
        Next();
        return n;
      }
      case Tok::kString: {
        auto n = Make(Node::Kind::kLiteral);
        n->literal = t.text;
        Next();
        return n;
      }
      case Tok::kVar: {
        for (size_t i = scope_.size(); i > 0; --i) {
          if (scope_[i - 1] == t.text) {
            auto n = Make(Node::Kind::kVar);
            n->slot = static_cast<int>(i - 1);
            Next();
            return n;
          }
        }
        return nullptr;  // $ENV, $__loc__, or undefined (a compile error for libjq)
      }
      case Tok::kOp:
        if (t.text == "(") {
          Next();
          NodePtr inner = Pipe();
          if (!inner || !IsOp(")")) return nullptr;
          Next();
          return inner;
        }
        return nullptr;
      case Tok::kIdent: {
        if (t.text == "if") return If();
        if (IsOp("(", 1)) return nullptr;  // calls with arguments
        auto lit = [&](json::Value v) {
          auto n = Make(Node::Kind::kLiteral);
          n->literal = std::move(v);
          Next();
          return n;
        };
        if (t.text == "null") return lit(json::Value());
        if (t.text == "true") return lit(json::Value(true));
        if (t.text == "false") return lit(json::Value(false));
        Builtin b;
        if (!BuiltinByName(t.text, &b)) return nullptr;
        auto n = Make(Node::Kind::kCall);
        n->builtin = b;
        Next();
        return n;
      }
      default:
        return nullptr;
    }
  }

  NodePtr If() {
    Next();  // if
    auto n = Make(Node::Kind::kIf);
    while (true) {
      NodePtr cond = Pipe();
      if (!cond || !IsIdent("then")) return nullptr;
      Next();
      NodePtr then = Pipe();
      if (!then) return nullptr;
      n->kids.push_back(std::move(cond));
      n->kids.push_back(std::move(then));
      if (IsIdent("elif")) {
        Next();
        continue;
      }
      break;
    }
    if (IsIdent("else")) {
      Next();
      NodePtr e = Pipe();
      if (!e) return nullptr;
      n->kids.push_back(std::move(e));
      n->has_else = true;
    }
    if (!IsIdent("end")) return nullptr;
    Next();
    return n;
  }

  std::vector<Token> t_;
  size_t pos_ = 0;
  std::vector<std::string> scope_;
  int max_slots_ = 0;
};

// ---- Analysis --------------------------------------------------------------------------------

bool IsIdentity(const Node& n) { return n.kind == Node::Kind::kPath && n.keys.empty(); }

bool BuiltinReadsInput(Builtin b) { return b != Builtin::kEmpty && b != Builtin::kNow; }

void Analyze(const Node& n, bool root, std::vector<std::string>* reads, bool* all, bool* uses_now) {
  switch (n.kind) {
    case Node::Kind::kLiteral:
    case Node::Kind::kVar:
      return;
    case Node::Kind::kPath:
      if (!root) return;
      if (n.keys.empty() || (n.keys[0] == "properties" && n.keys.size() == 1)) {
        *all = true;
      } else if (n.keys[0] == "properties") {
        if (std::find(reads->begin(), reads->end(), n.keys[1]) == reads->end()) {
          reads->push_back(n.keys[1]);
        }
      }
      return;
    case Node::Kind::kPipe:
      Analyze(*n.kids[0], root, reads, all, uses_now);
      Analyze(*n.kids[1], root && IsIdentity(*n.kids[0]), reads, all, uses_now);
      return;
    case Node::Kind::kIf:
      if (!n.has_else && root) *all = true;  // the implicit else outputs the input
      for (const auto& k : n.kids) Analyze(*k, root, reads, all, uses_now);
      return;
    case Node::Kind::kCall:
      if (n.builtin == Builtin::kNow) *uses_now = true;
      if (root && BuiltinReadsInput(n.builtin)) *all = true;
      return;
    default:
      for (const auto& k : n.kids) Analyze(*k, root, reads, all, uses_now);
      return;
  }
}

// ---- Evaluation ------------------------------------------------------------------------------

struct Input {
  bool root;                 // the lazy document
  const json::Value* value;  // otherwise
};

struct Ctx {
  const CalcExpr::Doc& doc;
  std::vector<json::Value> vars;
};

bool Truthy(const json::Value& v) { return !(v.is_null() || (v.is_bool() && !v.as_bool())); }

// jq's `.key` on a value.
Outcome Field(const json::Value& v, const std::string& key, json::Value* out) {
  if (v.is_null()) {
    *out = json::Value();
    return Outcome::kValue;
  }
  if (!v.is_object()) return Outcome::kError;
  *out = v.Get(key);
  return Outcome::kValue;
}

Outcome Fields(json::Value v, const std::vector<std::string>& keys, size_t from, json::Value* out) {
  for (size_t i = from; i < keys.size(); ++i) {
    json::Value next;
    Outcome o = Field(v, keys[i], &next);
    if (o != Outcome::kValue) return o;
    v = std::move(next);
  }
  *out = std::move(v);
  return Outcome::kValue;
}

Outcome Root(const Ctx& c, const std::vector<std::string>& keys, json::Value* out) {
  const store::Entity& e = *c.doc.entity;
  if (keys.empty()) {
    if (!c.doc.materialize) return Outcome::kUnsupported;
    *out = c.doc.materialize();
    return Outcome::kValue;
  }
  const std::string& k0 = keys[0];
  json::Value v;
  if (k0 == "properties") {
    if (keys.size() == 1) {
      if (!c.doc.materialize) return Outcome::kUnsupported;
      return Fields(c.doc.materialize(), keys, 0, out);
    }
    const std::string& k1 = keys[1];
    if (const json::Value* raw = e.properties.Find(k1)) {
      v = *raw;
    } else if (!c.doc.calc_keys || !c.doc.calc_keys->count(k1)) {
      v = e.derived.Get(k1);
    }
    return Fields(std::move(v), keys, 2, out);
  }
  if (k0 == "identifier") {
    v = e.identifier;
  } else if (k0 == "title") {
    v = e.title;
  } else if (k0 == "icon") {
    v = e.icon;
  } else if (k0 == "blueprint") {
    v = e.blueprint;
  } else if (k0 == "team") {
    v = e.team.is_array() ? e.team : json::Value::MakeArray();
  } else if (k0 == "relations") {
    v = e.relations.is_object() ? e.relations : json::Value::MakeObject();
  } else if (k0 == "createdAt") {
    v = FormatIsoTime(e.created_at);
  } else if (k0 == "updatedAt") {
    v = FormatIsoTime(e.updated_at);
  }
  return Fields(std::move(v), keys, 1, out);
}

// The input as a value (materializing the document when it is the root).
Outcome InputValue(const Ctx& c, const Input& in, json::Value* out) {
  if (!in.root) {
    *out = *in.value;
    return Outcome::kValue;
  }
  return Root(c, {}, out);
}

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char ch : s) {
    if ((ch & 0xc0) != 0x80) ++n;
  }
  return n;
}

Outcome Finite(double d, json::Value* out) {
  if (!std::isfinite(d)) return Outcome::kUnsupported;  // jq prints these specially
  *out = d;
  return Outcome::kValue;
}

Outcome CallBuiltin(Builtin b, const json::Value& v, json::Value* out) {
  switch (b) {
    case Builtin::kNot:
      *out = !Truthy(v);
      return Outcome::kValue;
    case Builtin::kFloor:
    case Builtin::kCeil:
    case Builtin::kRound:
    case Builtin::kSqrt:
    case Builtin::kFabs: {
      if (!v.is_number()) return Outcome::kError;
      double x = v.as_number();
      double r = b == Builtin::kFloor   ? std::floor(x)
                 : b == Builtin::kCeil  ? std::ceil(x)
                 : b == Builtin::kRound ? std::round(x)
                 : b == Builtin::kSqrt  ? std::sqrt(x)
                                        : std::fabs(x);
      return Finite(r, out);
    }
    case Builtin::kLength:
      switch (v.type()) {
        case json::Type::kNull:
          *out = 0;
          return Outcome::kValue;
        case json::Type::kBool:
          return Outcome::kError;
        case json::Type::kNumber:
          return Finite(std::fabs(v.as_number()), out);
        case json::Type::kString:
          *out = static_cast<double>(CodePoints(v.as_string()));
          return Outcome::kValue;
        case json::Type::kArray:
        case json::Type::kObject:
          *out = static_cast<double>(v.size());
          return Outcome::kValue;
      }
      return Outcome::kUnsupported;
    case Builtin::kToString:
      if (v.is_string()) {
        *out = v;
        return Outcome::kValue;
      }
      if (v.is_null() || v.is_bool()) {
        *out = json::Write(v);
        return Outcome::kValue;
      }
      if (v.is_number()) {
        double x = v.as_number();
        // jq prints integers plainly; other numbers use its own shortest-form printer.
        if (x == std::floor(x) && std::fabs(x) < 1e15 && !(x == 0 && std::signbit(x))) {
          *out = json::FormatNumber(x);
          return Outcome::kValue;
        }
      }
      return Outcome::kUnsupported;
    case Builtin::kToNumber: {
      if (v.is_number()) {
        *out = v;
        return Outcome::kValue;
      }
      if (!v.is_string()) return Outcome::kError;
      const std::string& s = v.as_string();
      // Plain decimal numbers only; anything else is left to libjq.
      size_t i = 0;
      if (i < s.size() && s[i] == '-') ++i;
      size_t digits = 0;
      while (i < s.size() && IsDigit(s[i])) ++i, ++digits;
      if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && IsDigit(s[i])) ++i, ++digits;
      }
      if (digits == 0 || i != s.size()) return Outcome::kUnsupported;
      return Finite(std::strtod(s.c_str(), nullptr), out);
    }
    case Builtin::kType:
      *out = json::TypeName(v.type());
      return Outcome::kValue;
    case Builtin::kEmpty:
    case Builtin::kNow:
      break;
  }
  return Outcome::kUnsupported;
}

Outcome Arith(Op op, const json::Value& a, const json::Value& b, json::Value* out) {
  bool nums = a.is_number() && b.is_number();
  auto other = [&](const json::Value& v) { return v.is_string() || v.is_array() || v.is_object(); };
  switch (op) {
    case Op::kAdd:
      if (a.is_null()) {
        *out = b;
        return Outcome::kValue;
      }
      if (b.is_null()) {
        *out = a;
        return Outcome::kValue;
      }
      if (nums) return Finite(a.as_number() + b.as_number(), out);
      if (a.is_string() && b.is_string()) {
        *out = a.as_string() + b.as_string();
        return Outcome::kValue;
      }
      if (a.is_array() && b.is_array()) {
        json::Array arr = a.as_array();
        arr.insert(arr.end(), b.as_array().begin(), b.as_array().end());
        *out = std::move(arr);
        return Outcome::kValue;
      }
      if (a.is_object() && b.is_object()) return Outcome::kUnsupported;
      return Outcome::kError;
    case Op::kSub:
      if (nums) return Finite(a.as_number() - b.as_number(), out);
      if (a.is_array() && b.is_array()) return Outcome::kUnsupported;
      return Outcome::kError;
    case Op::kMul:
      if (nums) return Finite(a.as_number() * b.as_number(), out);
      if (other(a) || other(b)) return Outcome::kUnsupported;
      return Outcome::kError;
    case Op::kDiv:
      if (nums) {
        if (b.as_number() == 0.0) return Outcome::kError;
        return Finite(a.as_number() / b.as_number(), out);
      }
      if (a.is_string() && b.is_string()) return Outcome::kUnsupported;
      return Outcome::kError;
    case Op::kMod: {
      if (!nums) return Outcome::kError;
      double x = a.as_number(), y = b.as_number();
      if (!(std::fabs(x) < 9e18) || !(std::fabs(y) < 9e18)) return Outcome::kUnsupported;
      auto xi = static_cast<intmax_t>(x), yi = static_cast<intmax_t>(y);
      if (yi == 0) return Outcome::kError;
      if (yi == -1) {
        *out = 0.0;  // avoids INTMAX_MIN % -1; x % -1 is 0 for every other x too
        return Outcome::kValue;
      }
      *out = static_cast<double>(xi % yi);
      return Outcome::kValue;
    }
    default:
      break;
  }
  return Outcome::kUnsupported;
}

Outcome Compare(Op op, const json::Value& a, const json::Value& b, json::Value* out) {
  if (op == Op::kEq || op == Op::kNe) {
    bool eq = a == b;
    *out = op == Op::kEq ? eq : !eq;
    return Outcome::kValue;
  }
  if (a.type() == b.type() && (a.is_array() || a.is_object())) return Outcome::kUnsupported;
  int c = json::Compare(a, b);
  bool r = op == Op::kLt ? c < 0 : op == Op::kLe ? c <= 0 : op == Op::kGt ? c > 0 : c >= 0;
  *out = r;
  return Outcome::kValue;
}

Outcome Eval(const Node& n, const Input& in, Ctx& c, json::Value* out);

Outcome Eval(const Node& n, const Input& in, Ctx& c, json::Value* out) {
  switch (n.kind) {
    case Node::Kind::kLiteral:
      *out = n.literal;
      return Outcome::kValue;
    case Node::Kind::kPath:
      if (in.root) return Root(c, n.keys, out);
      return Fields(*in.value, n.keys, 0, out);
    case Node::Kind::kVar:
      *out = c.vars[static_cast<size_t>(n.slot)];
      return Outcome::kValue;
    case Node::Kind::kField: {
      json::Value v;
      Outcome o = Eval(*n.kids[0], in, c, &v);
      if (o != Outcome::kValue) return o;
      return Fields(std::move(v), n.keys, 0, out);
    }
    case Node::Kind::kPipe: {
      if (IsIdentity(*n.kids[0])) return Eval(*n.kids[1], in, c, out);
      json::Value v;
      Outcome o = Eval(*n.kids[0], in, c, &v);
      if (o != Outcome::kValue) return o;
      return Eval(*n.kids[1], Input{false, &v}, c, out);
    }
    case Node::Kind::kAs: {
      json::Value v;
      Outcome o = Eval(*n.kids[0], in, c, &v);
      if (o != Outcome::kValue) return o;
      c.vars[static_cast<size_t>(n.slot)] = std::move(v);
      return Eval(*n.kids[1], in, c, out);
    }
    case Node::Kind::kIf: {
      size_t pairs = (n.kids.size() - (n.has_else ? 1 : 0)) / 2;
      for (size_t i = 0; i < pairs; ++i) {
        json::Value cond;
        Outcome o = Eval(*n.kids[2 * i], in, c, &cond);
        if (o != Outcome::kValue) return o;
        if (Truthy(cond)) return Eval(*n.kids[2 * i + 1], in, c, out);
      }
      if (n.has_else) return Eval(*n.kids.back(), in, c, out);
      return InputValue(c, in, out);
    }
    case Node::Kind::kNeg: {
      json::Value v;
      Outcome o = Eval(*n.kids[0], in, c, &v);
      if (o != Outcome::kValue) return o;
      if (!v.is_number()) return Outcome::kError;
      *out = -v.as_number();
      return Outcome::kValue;
    }
    case Node::Kind::kCall: {
      if (n.builtin == Builtin::kEmpty) return Outcome::kEmpty;
      if (n.builtin == Builtin::kNow) {
        *out = c.doc.now;
        return Outcome::kValue;
      }
      json::Value v;
      Outcome o = InputValue(c, in, &v);
      if (o != Outcome::kValue) return o;
      return CallBuiltin(n.builtin, v, out);
    }
    case Node::Kind::kBinary: {
      json::Value a, b;
      if (n.op == Op::kAnd || n.op == Op::kOr) {
        Outcome o = Eval(*n.kids[0], in, c, &a);
        if (o != Outcome::kValue) return o;
        bool t = Truthy(a);
        if (n.op == Op::kAnd && !t) {
          *out = false;
          return Outcome::kValue;
        }
        if (n.op == Op::kOr && t) {
          *out = true;
          return Outcome::kValue;
        }
        o = Eval(*n.kids[1], in, c, &b);
        if (o != Outcome::kValue) return o;
        *out = Truthy(b);
        return Outcome::kValue;
      }
      if (n.op == Op::kAlt) {
        Outcome o = Eval(*n.kids[0], in, c, &a);
        if (o == Outcome::kValue && Truthy(a)) {
          *out = std::move(a);
          return Outcome::kValue;
        }
        if (o == Outcome::kError || o == Outcome::kUnsupported) return o;
        return Eval(*n.kids[1], in, c, out);
      }
      // jq evaluates the right operand first.
      Outcome o = Eval(*n.kids[1], in, c, &b);
      if (o != Outcome::kValue) return o;
      o = Eval(*n.kids[0], in, c, &a);
      if (o != Outcome::kValue) return o;
      switch (n.op) {
        case Op::kEq:
        case Op::kNe:
        case Op::kLt:
        case Op::kLe:
        case Op::kGt:
        case Op::kGe:
          return Compare(n.op, a, b, out);
        default:
          return Arith(n.op, a, b, out);
      }
    }
  }
  return Outcome::kUnsupported;
}

}  // namespace

CalcExpr::~CalcExpr() = default;

std::unique_ptr<CalcExpr> CalcExpr::Parse(std::string_view source) {
  std::string text = jq::RewriteDialect(source);
  std::vector<Token> tokens = Lex(text);
  for (const Token& t : tokens) {
    if (t.kind == Tok::kUnsupported) return nullptr;
  }
  Parser parser(std::move(tokens));
  NodePtr root = parser.Program();
  if (!root) return nullptr;
  std::unique_ptr<CalcExpr> e(new CalcExpr());
  e->root_ = std::move(root);
  Analyze(*e->root_, true, &e->property_reads_, &e->reads_all_, &e->uses_now_);
  e->slots_ = parser.max_slots();
  return e;
}

CalcExpr::Outcome CalcExpr::Evaluate(const Doc& doc, json::Value* out) const {
  Ctx c{doc, std::vector<json::Value>(static_cast<size_t>(slots_))};
  return Eval(*root_, Input{true, nullptr}, c, out);
}

}  // namespace portolan::derive::internal
