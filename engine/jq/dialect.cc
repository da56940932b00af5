// Port's jq dialect -> jq that libjq 1.6 compiles.
//
// A small lexer splits the program into tokens (strings and their `\(...)` interpolations are
// lexed recursively), then one pass over the tokens of each code segment applies the rewrites:
//
//   'text'              -> "text"           single-quoted literals, wherever they appear
//   if c then x end     -> (if c then x else . end)          jq 1.7 optional else
//   reduce/foreach/if   -> wrapped in parentheses, because 1.7 made them terms (usable as
//                          object values, before `[...]`, `as`, `?`); 1.6 did not
//   .a.[0]   .a.[]      -> .a[0]   .a[]     1.7 "dot before a bracket"
//   {$k: v}             -> {($k): v}        1.7 variable as object key
//   $__loc__            -> {"file":"<top-level>","line":N}   N counted in the text as written,
//                          because the prelude Program::Compile prepends shifts libjq's lines
//
// A token-level rewrite never looks inside strings or comments, so `"rock 'n' roll"`, `# it's`
// and `"if x then"` stay as they are.
#include "engine/jq/internal/dialect.h"

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "engine/jq/internal/lex.h"
#include "engine/jq/jq.h"

namespace portolan::jq {
namespace internal {
namespace {

enum class Kind {
  kIdent,    // name, also module-qualified (a::b)
  kKeyword,  // if then elif else end as def reduce foreach try catch label import include ...
  kField,    // .name
  kVar,      // $name
  kString,   // "..." (single-quoted ones already converted)
  kFormat,   // @name
  kNumber,
  kPunct,  // operators and brackets, multi-character operators as one token
  kOther,  // anything libjq will reject; kept as written
};

struct Token {
  Kind kind;
  std::string text;    // what is emitted for the token
  std::string trivia;  // whitespace and comments before it, verbatim
  std::string before;  // inserted between trivia and text
  std::string after;   // inserted after text
  bool drop = false;
};

Token MakeToken(Kind kind, std::string text) {
  Token t;
  t.kind = kind;
  t.text = std::move(text);
  return t;
}


// Longest first, so that `?//` is not read as `?` `//`.
constexpr std::string_view kOperators[] = {
    "?//", "//=", "|=", "+=", "-=", "*=", "/=", "%=", "==", "!=", "<=", ">=", "//", ".."};

class Lexer {
 public:
  Lexer(std::string_view src, DialectResult* acc) : src_(src), acc_(acc) {}

  // Rewrites code from the current position to the end of the text or, in an interpolation,
  // up to (not including) the ')' that closes it.
  std::string RewriteCode(bool interpolation) {
    std::vector<Token> tokens;
    std::string trivia;
    int depth = 0;
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        trivia.push_back(c);
        ++pos_;
        continue;
      }
      if (c == '#') {
        size_t end = src_.find('\n', pos_);
        if (end == std::string_view::npos) end = src_.size();
        trivia.append(src_.substr(pos_, end - pos_));
        pos_ = end;
        continue;
      }
      if (interpolation && c == ')' && depth == 0) break;
      Token t = Lex();
      if (t.kind == Kind::kPunct) {
        if (t.text == "(") ++depth;
        if (t.text == ")") --depth;
      }
      t.trivia = std::move(trivia);
      trivia.clear();
      tokens.push_back(std::move(t));
    }
    if (!interpolation && !tokens.empty()) acc_->has_code = true;
    Transform(tokens);
    std::string out;
    for (const Token& t : tokens) {
      out += t.trivia;
      out += t.before;
      if (!t.drop) out += t.text;
      out += t.after;
    }
    out += trivia;
    return out;
  }

 private:
  char Peek(size_t ahead) const { return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : '\0'; }

  Token Lex() {
    const size_t start = pos_;
    const char c = src_[pos_];
    if (c == '"') return MakeToken(Kind::kString, LexDoubleQuoted());
    if (c == '\'') return MakeToken(Kind::kString, LexSingleQuoted());
    if (c == '.' && IsIdentStart(Peek(1))) {
      pos_ += 2;
      while (pos_ < src_.size() && IsIdentChar(src_[pos_])) ++pos_;
      return MakeToken(Kind::kField, std::string(src_.substr(start, pos_ - start)));
    }
    if (IsDigit(c) || (c == '.' && IsDigit(Peek(1)))) {
      LexNumber();
      return MakeToken(Kind::kNumber, std::string(src_.substr(start, pos_ - start)));
    }
    if (IsIdentStart(c)) {
      LexName();
      std::string name(src_.substr(start, pos_ - start));
      Kind kind = IsKeyword(name) ? Kind::kKeyword : Kind::kIdent;
      return MakeToken(kind, std::move(name));
    }
    if (c == '$' && IsIdentStart(Peek(1))) {
      ++pos_;
      LexName();
      std::string var(src_.substr(start, pos_ - start));
      if (var == "$__loc__") {
        int line = 1;
        for (size_t i = 0; i < start; ++i) line += src_[i] == '\n';
        var = "{\"file\":\"<top-level>\",\"line\":" + std::to_string(line) + "}";
      }
      return MakeToken(Kind::kVar, std::move(var));
    }
    if (c == '@' && IsIdentChar(Peek(1))) {
      ++pos_;
      while (pos_ < src_.size() && IsIdentChar(src_[pos_])) ++pos_;
      return MakeToken(Kind::kFormat, std::string(src_.substr(start, pos_ - start)));
    }
    for (std::string_view op : kOperators) {
      if (src_.substr(pos_, op.size()) == op) {
        pos_ += op.size();
        return MakeToken(Kind::kPunct, std::string(op));
      }
    }
    ++pos_;
    if (c != '\0' && std::strchr(".[]{}(),:;|+-*/%<>=?", c) != nullptr) {
      return MakeToken(Kind::kPunct, std::string(1, c));
    }
    return MakeToken(Kind::kOther, std::string(1, c));
  }

  void LexName() {
    // jq names may be module-qualified: mod::name.
    while (true) {
      while (pos_ < src_.size() && IsIdentChar(src_[pos_])) ++pos_;
      if (Peek(0) == ':' && Peek(1) == ':' && IsIdentStart(Peek(2))) {
        pos_ += 2;
        continue;
      }
      return;
    }
  }

  void LexNumber() {
    while (IsDigit(Peek(0))) ++pos_;
    if (Peek(0) == '.') {
      ++pos_;
      while (IsDigit(Peek(0))) ++pos_;
    }
    if ((Peek(0) == 'e' || Peek(0) == 'E') &&
        (IsDigit(Peek(1)) || ((Peek(1) == '+' || Peek(1) == '-') && IsDigit(Peek(2))))) {
      pos_ += 2;
      while (IsDigit(Peek(0))) ++pos_;
    }
  }

  // After `\(`: the rewritten interpolated code and its closing ')' when present.
  std::string LexInterpolation() {
    if (nesting_ >= kMaxNesting) {
      // Deeper than any real program: copy the rest unchanged rather than recurse further,
      // and let libjq's parser judge it.
      std::string rest(src_.substr(pos_));
      pos_ = src_.size();
      return rest;
    }
    ++nesting_;
    std::string code = RewriteCode(/*interpolation=*/true);
    --nesting_;
    if (pos_ < src_.size()) {  // at the closing ')'
      code.push_back(')');
      ++pos_;
    }
    return code;
  }

  std::string LexDoubleQuoted() {
    std::string out = "\"";
    ++pos_;
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (c == '"') {
        ++pos_;
        out.push_back('"');
        return out;
      }
      if (c == '\\' && Peek(1) == '(') {
        pos_ += 2;
        out += "\\(";
        out += LexInterpolation();
        continue;
      }
      if (c == '\\' && pos_ + 1 < src_.size()) {
        out.append(src_.substr(pos_, 2));
        pos_ += 2;
        continue;
      }
      out.push_back(c);
      ++pos_;
    }
    return out;  // unterminated: libjq reports it
  }

  // 'text' -> "text": a '"' inside gets escaped, \' becomes ' (jq has no \' escape), other
  // backslash escapes and \(...) interpolations keep their meaning.
  std::string LexSingleQuoted() {
    const size_t start = pos_;
    std::string out = "\"";
    ++pos_;
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (c == '\'' && Peek(1) == '\'' && pos_ > start + 1) {
        // 'it''s': two string literals in a row are never valid jq, so this is text, and
        // Ocean's regex keeps both apostrophes ("it''s").
        out += "''";
        pos_ += 2;
        continue;
      }
      if (c == '\'') {
        ++pos_;
        out.push_back('"');
        return out;
      }
      if (c == '"') {
        out += "\\\"";
        ++pos_;
        continue;
      }
      if (c == '\\' && Peek(1) == '(') {
        pos_ += 2;
        out += "\\(";
        out += LexInterpolation();
        continue;
      }
      if (c == '\\' && Peek(1) == '\'') {
        out.push_back('\'');
        pos_ += 2;
        continue;
      }
      if (c == '\\' && pos_ + 1 < src_.size()) {
        out.append(src_.substr(pos_, 2));
        pos_ += 2;
        continue;
      }
      out.push_back(c);
      ++pos_;
    }
    // Unterminated: keep the text as written, so libjq points at the stray quote.
    return std::string(src_.substr(start));
  }

  static bool Is(const Token& t, Kind kind, std::string_view text) {
    return t.kind == kind && t.text == text;
  }

  // Can `t` end a term, so that a following `.[` is the 1.7 "dot before bracket" suffix?
  static bool EndsTerm(const Token& t) {
    switch (t.kind) {
      case Kind::kField:
      case Kind::kVar:
      case Kind::kString:
      case Kind::kIdent:
        return true;
      case Kind::kKeyword:
        return t.text == "end";  // if ... end is wrapped in parentheses below
      case Kind::kPunct:
        return t.text == ")" || t.text == "]" || t.text == "}" || t.text == "?";
      default:
        return false;
    }
  }

  void Transform(std::vector<Token>& toks) {
    const size_t n = toks.size();
    auto punct = [&](size_t i, std::string_view s) {
      return i < n && Is(toks[i], Kind::kPunct, s);
    };

    // A keyword followed by ':' is an object key ({if: 1}, {end: 2}), not a keyword.
    for (size_t i = 0; i + 1 < n; ++i) {
      if (toks[i].kind == Kind::kKeyword && punct(i + 1, ":")) toks[i].kind = Kind::kIdent;
    }

    struct Open {
      enum Type { kParen, kBracket, kBrace, kIf, kReduce } type;
      size_t tok;
      bool pattern = false;   // a destructuring pattern: `as {…}` / `as […]`
      bool has_else = false;  // kIf
      bool after_as = false;  // kReduce: its `as` was seen, the next '(' opens its body
      size_t wraps = 0;       // kParen: 1 + index of the reduce/foreach this paren ends
    };
    std::vector<Open> stack;
    auto top = [&]() -> Open* { return stack.empty() ? nullptr : &stack.back(); };
    auto wrap = [&](size_t first, size_t last) {
      toks[first].before.insert(toks[first].before.begin(), '(');
      toks[last].after.push_back(')');
    };

    for (size_t i = 0; i < n; ++i) {
      Token& t = toks[i];
      const Token* prev = i > 0 ? &toks[i - 1] : nullptr;
      switch (t.kind) {
        case Kind::kIdent:
          acc_->names.insert(t.text);
          break;
        case Kind::kFormat:
          acc_->formats.insert(t.text.substr(1));
          break;
        case Kind::kKeyword:
          if (t.text == "if") {
            stack.push_back({Open::kIf, i});
          } else if (t.text == "else") {
            if (top() && top()->type == Open::kIf) top()->has_else = true;
          } else if (t.text == "end") {
            if (top() && top()->type == Open::kIf) {
              if (!top()->has_else) t.before += "else . ";
              wrap(top()->tok, i);
              stack.pop_back();
            }
          } else if (t.text == "reduce" || t.text == "foreach") {
            stack.push_back({Open::kReduce, i});
          } else if (t.text == "as") {
            if (top() && top()->type == Open::kReduce) top()->after_as = true;
          } else if (t.text == "import" || t.text == "include") {
            acc_->uses_modules = true;
          }
          break;
        case Kind::kVar:
          // {$k: v} (jq 1.7) -> {($k): v}. Not in patterns, where `{$k: p}` already means
          // "bind $k and destructure it with p" in 1.6.
          if (top() && top()->type == Open::kBrace && !top()->pattern && prev &&
              (Is(*prev, Kind::kPunct, "{") || Is(*prev, Kind::kPunct, ",")) && punct(i + 1, ":")) {
            t.before += "(";
            t.after += ")";
          }
          break;
        case Kind::kPunct: {
          if (t.text == "." && punct(i + 1, "[") && prev && EndsTerm(*prev)) {
            t.drop = true;
          } else if (t.text == "(") {
            Open open{Open::kParen, i};
            if (top() && top()->type == Open::kReduce && top()->after_as) {
              open.wraps = top()->tok + 1;
              stack.pop_back();
            }
            stack.push_back(open);
          } else if (t.text == "[" || t.text == "{") {
            Open open{t.text == "[" ? Open::kBracket : Open::kBrace, i};
            open.pattern =
                (prev && (Is(*prev, Kind::kKeyword, "as") || Is(*prev, Kind::kPunct, "?//"))) ||
                (top() && top()->pattern);
            stack.push_back(open);
          } else if (t.text == ")" || t.text == "]" || t.text == "}") {
            const Open::Type want = t.text == ")"   ? Open::kParen
                                    : t.text == "]" ? Open::kBracket
                                                    : Open::kBrace;
            size_t k = stack.size();
            while (k > 0 && stack[k - 1].type != want &&
                   (stack[k - 1].type == Open::kIf || stack[k - 1].type == Open::kReduce)) {
              --k;  // an unclosed if/reduce: a syntax error libjq will report
            }
            if (k > 0 && stack[k - 1].type == want) {
              if (stack[k - 1].wraps > 0) wrap(stack[k - 1].wraps - 1, i);
              stack.resize(k - 1);
            }
          }
          break;
        }
        default:
          break;
      }
    }
  }

  static constexpr int kMaxNesting = 200;  // string interpolations inside interpolations

  std::string_view src_;
  size_t pos_ = 0;
  int nesting_ = 0;
  DialectResult* acc_;
};

}  // namespace

DialectResult Rewrite(std::string_view source) {
  DialectResult result;
  Lexer lexer(source, &result);
  result.text = lexer.RewriteCode(/*interpolation=*/false);
  return result;
}

}  // namespace internal

std::string RewriteDialect(std::string_view source) { return internal::Rewrite(source).text; }

}  // namespace portolan::jq
