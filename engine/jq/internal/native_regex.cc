// A backtracking matcher for the regex subset described in native_regex.h: the pattern is
// parsed into a tree, checked, and compiled to a small instruction list run by a backtracking
// machine (Split tries its first branch first, as Oniguruma does).
#include "engine/jq/internal/native_regex.h"

#include <utility>

namespace portolan::jq::native::internal {

namespace {

// Instruction budget of one compiled pattern (counted repetitions are unrolled) and work budget
// of one Search(); past them the caller falls back to libjq.
constexpr size_t kMaxInsts = 20000;
constexpr long kMaxSteps = 2000000;
constexpr int kMaxRepeat = 1000;
constexpr int kMaxNesting = 100;

struct Node {
  enum class Kind { kChar, kAny, kClass, kBegin, kEnd, kGroup, kConcat, kAlt, kRepeat };
  Kind kind;
  char c = 0;
  int cls = -1;
  int min = 0, max = 0;  // kRepeat; max -1 = unbounded
  bool greedy = true;
  std::vector<Node> kids;
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
char SwapCase(char c) {
  if (c >= 'A' && c <= 'Z') return static_cast<char>(c + 32);
  if (c >= 'a' && c <= 'z') return static_cast<char>(c - 32);
  return c;
}

class PatternParser {
 public:
  PatternParser(std::string_view p, std::vector<std::vector<bool>>* classes)
      : p_(p), classes_(classes) {}

  bool Parse(Node* out) {
    for (char c : p_) {
      if (static_cast<unsigned char>(c) >= 0x80 || c == '\0') return false;
    }
    if (!Alt(out, 0)) return false;
    return i_ == p_.size();
  }
  bool unicode_sensitive() const { return unicode_sensitive_; }

 private:
  bool Alt(Node* out, int depth) {
    if (depth > kMaxNesting) return false;
    Node first;
    if (!Concat(&first, depth)) return false;
    if (i_ >= p_.size() || p_[i_] != '|') {
      *out = std::move(first);
      return true;
    }
    out->kind = Node::Kind::kAlt;
    out->kids.push_back(std::move(first));
    while (i_ < p_.size() && p_[i_] == '|') {
      ++i_;
      Node next;
      if (!Concat(&next, depth)) return false;
      out->kids.push_back(std::move(next));
    }
    return true;
  }

  bool Concat(Node* out, int depth) {
    out->kind = Node::Kind::kConcat;
    while (i_ < p_.size() && p_[i_] != '|' && p_[i_] != ')') {
      Node atom;
      if (!Atom(&atom, depth)) return false;
      if (!Quantifiers(&atom)) return false;
      out->kids.push_back(std::move(atom));
    }
    return true;
  }

  // {n}, {n,}, {n,m}: false when the text at i_ is not one (Oniguruma would then read the brace
  // literally, which is left to it).
  bool Interval(int* min, int* max) {
    size_t j = i_ + 1;
    auto number = [&](int* v) {
      size_t start = j;
      long n = 0;
      while (j < p_.size() && IsDigit(p_[j])) {
        n = n * 10 + (p_[j] - '0');
        if (n > kMaxRepeat) return false;
        ++j;
      }
      *v = static_cast<int>(n);
      return j > start;
    };
    if (!number(min)) return false;
    if (j < p_.size() && p_[j] == '}') {
      *max = *min;
    } else if (j < p_.size() && p_[j] == ',') {
      ++j;
      if (j < p_.size() && p_[j] == '}') {
        *max = -1;
      } else if (!number(max) || j >= p_.size() || p_[j] != '}' || *max < *min) {
        return false;
      }
    } else {
      return false;
    }
    i_ = j + 1;
    return true;
  }

  bool Quantifiers(Node* atom) {
    bool quantified = false;
    while (i_ < p_.size()) {
      char c = p_[i_];
      int min, max;
      if (c == '*') {
        min = 0, max = -1, ++i_;
      } else if (c == '+') {
        min = 1, max = -1, ++i_;
      } else if (c == '?') {
        min = 0, max = 1, ++i_;
      } else if (c == '{') {
        if (!Interval(&min, &max)) return false;
      } else {
        return true;
      }
      // Stacked quantifiers (`a**`, possessive `a*+`) mean different things in each syntax.
      if (quantified) return false;
      quantified = true;
      if (atom->kind == Node::Kind::kBegin || atom->kind == Node::Kind::kEnd) return false;
      bool greedy = true;
      if (i_ < p_.size() && p_[i_] == '?') {
        greedy = false;
        ++i_;
      }
      if (i_ < p_.size() && p_[i_] == '+') return false;  // possessive
      Node rep;
      rep.kind = Node::Kind::kRepeat;
      rep.min = min;
      rep.max = max;
      rep.greedy = greedy;
      rep.kids.push_back(std::move(*atom));
      *atom = std::move(rep);
    }
    return true;
  }

  int NewClass() {
    classes_->emplace_back(130, false);
    return static_cast<int>(classes_->size() - 1);
  }

  // \d \w \s (and negated) into `bits`.
  bool Shorthand(char c, std::vector<bool>* bits) {
    bool negated = c == 'D' || c == 'W' || c == 'S';
    char base = Lower(c);
    if (base != 'd' && base != 'w' && base != 's') return false;
    unicode_sensitive_ = true;
    for (int b = 0; b < 128; ++b) {
      char ch = static_cast<char>(b);
      bool in = base == 'd'   ? IsDigit(ch)
                : base == 'w' ? (IsAlnum(ch) || ch == '_')
                              : (ch == ' ' || (b >= 9 && b <= 13));
      if (in != negated) (*bits)[static_cast<size_t>(b)] = true;
    }
    if (negated) (*bits)[128] = true;
    return true;
  }

  // An escaped character that stands for itself (or a control escape); false otherwise.
  static bool EscapedLiteral(char e, char* out) {
    switch (e) {
      case 'n': *out = '\n'; return true;
      case 't': *out = '\t'; return true;
      case 'r': *out = '\r'; return true;
      case 'f': *out = '\f'; return true;
      default: break;
    }
    if (IsAlnum(e) || e == '_' || static_cast<unsigned char>(e) < 0x20) return false;
    *out = e;
    return true;
  }

  bool Class(Node* out) {
    ++i_;  // [
    int idx = NewClass();
    std::vector<bool> bits(130, false);
    bool negated = false;
    if (i_ < p_.size() && p_[i_] == '^') {
      negated = true;
      ++i_;
    }
    if (i_ < p_.size() && p_[i_] == ']') return false;  // `[]a]`: a literal ] in Oniguruma
    bool any = false;
    while (true) {
      if (i_ >= p_.size()) return false;
      char c = p_[i_];
      if (c == ']') {
        ++i_;
        break;
      }
      if (c == '[') return false;                                      // nested / POSIX
      if (c == '&' && i_ + 1 < p_.size() && p_[i_ + 1] == '&') return false;  // intersection
      char lo;
      if (c == '\\') {
        if (i_ + 1 >= p_.size()) return false;
        char e = p_[i_ + 1];
        i_ += 2;
        if (Shorthand(e, &bits)) {
          any = true;
          if (i_ < p_.size() && p_[i_] == '-' && i_ + 1 < p_.size() && p_[i_ + 1] != ']') {
            return false;  // a range from a shorthand
          }
          continue;
        }
        if (!EscapedLiteral(e, &lo)) return false;
      } else {
        lo = c;
        ++i_;
      }
      char hi = lo;
      if (i_ + 1 < p_.size() && p_[i_] == '-' && p_[i_ + 1] != ']') {
        char d = p_[i_ + 1];
        if (d == '[') return false;
        if (d == '\\') {
          if (i_ + 2 >= p_.size()) return false;
          if (!EscapedLiteral(p_[i_ + 2], &hi)) return false;
          i_ += 3;
        } else {
          hi = d;
          i_ += 2;
        }
        if (hi < lo) return false;
      }
      for (int b = static_cast<unsigned char>(lo); b <= static_cast<unsigned char>(hi); ++b) {
        bits[static_cast<size_t>(b)] = true;
      }
      any = true;
    }
    if (!any) return false;
    // Negation applies after case folding (`[^a-z]` with "i" excludes A-Z too).
    bits[129] = negated;
    (*classes_)[static_cast<size_t>(idx)] = std::move(bits);
    out->kind = Node::Kind::kClass;
    out->cls = idx;
    return true;
  }

  bool Atom(Node* out, int depth) {
    char c = p_[i_];
    switch (c) {
      case '(': {
        ++i_;
        if (i_ < p_.size() && p_[i_] == '?') {
          if (i_ + 1 < p_.size() && p_[i_ + 1] == ':') {
            i_ += 2;
          } else {
            return false;  // named groups, lookaround, inline options, comments
          }
        }
        Node inner;
        if (!Alt(&inner, depth + 1)) return false;
        if (i_ >= p_.size() || p_[i_] != ')') return false;
        ++i_;
        out->kind = Node::Kind::kGroup;
        out->kids.push_back(std::move(inner));
        return true;
      }
      case '[': return Class(out);
      case '.': out->kind = Node::Kind::kAny; ++i_; return true;
      case '^': out->kind = Node::Kind::kBegin; ++i_; return true;
      case '$': out->kind = Node::Kind::kEnd; ++i_; return true;
      case '\\': {
        if (i_ + 1 >= p_.size()) return false;
        char e = p_[i_ + 1];
        i_ += 2;
        std::vector<bool> bits(130, false);
        if (Shorthand(e, &bits)) {
          int idx = NewClass();
          (*classes_)[static_cast<size_t>(idx)] = std::move(bits);
          out->kind = Node::Kind::kClass;
          out->cls = idx;
          return true;
        }
        char lit;
        if (!EscapedLiteral(e, &lit)) return false;
        out->kind = Node::Kind::kChar;
        out->c = lit;
        return true;
      }
      case '*': case '+': case '?': case '{': case '}': case ']': case ')': case '|':
        return false;
      default:
        out->kind = Node::Kind::kChar;
        out->c = c;
        ++i_;
        return true;
    }
  }

  std::string_view p_;
  size_t i_ = 0;
  std::vector<std::vector<bool>>* classes_;
  bool unicode_sensitive_ = false;
};

bool Nullable(const Node& n) {
  switch (n.kind) {
    case Node::Kind::kChar:
    case Node::Kind::kAny:
    case Node::Kind::kClass: return false;
    case Node::Kind::kBegin:
    case Node::Kind::kEnd: return true;
    case Node::Kind::kGroup: return Nullable(n.kids[0]);
    case Node::Kind::kConcat:
      for (const Node& k : n.kids) {
        if (!Nullable(k)) return false;
      }
      return true;
    case Node::Kind::kAlt:
      for (const Node& k : n.kids) {
        if (Nullable(k)) return true;
      }
      return false;
    case Node::Kind::kRepeat: return n.min == 0 || Nullable(n.kids[0]);
  }
  return true;
}

// A loop over a body that can match empty is where engines differ (Oniguruma's empty-loop
// check): refused.
bool Checked(const Node& n) {
  if (n.kind == Node::Kind::kRepeat && (n.max == -1 || n.max > 1) && Nullable(n.kids[0])) {
    return false;
  }
  for (const Node& k : n.kids) {
    if (!Checked(k)) return false;
  }
  return true;
}

}  // namespace

struct Regex::Inst {
  enum class Op : uint8_t { kChar, kAny, kClass, kBegin, kEnd, kSplit, kJmp, kMatch };
  Op op;
  char c = 0;
  int x = 0, y = 0;  // kClass: x = class; kSplit: x first, y second; kJmp: x
};

namespace {

using Inst = Regex::Inst;

bool Emit(const Node& n, std::vector<Inst>* prog) {
  if (prog->size() > kMaxInsts) return false;
  switch (n.kind) {
    case Node::Kind::kChar: prog->push_back({Inst::Op::kChar, n.c}); return true;
    case Node::Kind::kAny: prog->push_back({Inst::Op::kAny}); return true;
    case Node::Kind::kClass: prog->push_back({Inst::Op::kClass, 0, n.cls}); return true;
    case Node::Kind::kBegin: prog->push_back({Inst::Op::kBegin}); return true;
    case Node::Kind::kEnd: prog->push_back({Inst::Op::kEnd}); return true;
    case Node::Kind::kGroup: return Emit(n.kids[0], prog);
    case Node::Kind::kConcat:
      for (const Node& k : n.kids) {
        if (!Emit(k, prog)) return false;
      }
      return true;
    case Node::Kind::kAlt: {
      // split L1, next; L1: a; jmp end; next: split L2, next2; ... last alternative
      std::vector<size_t> jumps;
      for (size_t i = 0; i < n.kids.size(); ++i) {
        size_t split = 0;
        bool last = i + 1 == n.kids.size();
        if (!last) {
          split = prog->size();
          prog->push_back({Inst::Op::kSplit, 0, static_cast<int>(split + 1), 0});
        }
        if (!Emit(n.kids[i], prog)) return false;
        if (!last) {
          jumps.push_back(prog->size());
          prog->push_back({Inst::Op::kJmp});
          (*prog)[split].y = static_cast<int>(prog->size());
        }
      }
      for (size_t j : jumps) (*prog)[j].x = static_cast<int>(prog->size());
      return true;
    }
    case Node::Kind::kRepeat: {
      const Node& body = n.kids[0];
      for (int i = 0; i < n.min; ++i) {
        if (!Emit(body, prog)) return false;
      }
      if (n.max == -1) {
        size_t loop = prog->size();
        prog->push_back({Inst::Op::kSplit});
        if (!Emit(body, prog)) return false;
        prog->push_back({Inst::Op::kJmp, 0, static_cast<int>(loop)});
        int in = static_cast<int>(loop + 1), out = static_cast<int>(prog->size());
        (*prog)[loop].x = n.greedy ? in : out;
        (*prog)[loop].y = n.greedy ? out : in;
        return true;
      }
      std::vector<size_t> splits;
      for (int i = n.min; i < n.max; ++i) {
        splits.push_back(prog->size());
        prog->push_back({Inst::Op::kSplit});
        if (!Emit(body, prog)) return false;
      }
      int out = static_cast<int>(prog->size());
      for (size_t s : splits) {
        int in = static_cast<int>(s + 1);
        (*prog)[s].x = n.greedy ? in : out;
        (*prog)[s].y = n.greedy ? out : in;
      }
      return true;
    }
  }
  return false;
}

}  // namespace

bool ParseRegexFlags(std::string_view text, RegexFlags* flags) {
  *flags = RegexFlags();
  for (char c : text) {
    if (c == 'g') {
      flags->global = true;
    } else if (c == 'i') {
      flags->icase = true;
    } else {
      return false;
    }
  }
  return true;
}

Regex::~Regex() = default;

std::unique_ptr<Regex> Regex::Compile(std::string_view pattern, bool icase) {
  std::unique_ptr<Regex> re(new Regex());
  Node root;
  PatternParser parser(pattern, &re->classes_);
  if (!parser.Parse(&root) || !Checked(root)) return nullptr;
  if (!Emit(root, &re->prog_) || re->prog_.size() > kMaxInsts) return nullptr;
  re->prog_.push_back({Inst::Op::kMatch});
  re->icase_ = icase;
  re->unicode_sensitive_ = parser.unicode_sensitive();
  re->anchored_ = re->prog_[0].op == Inst::Op::kBegin;
  return re;
}

bool Regex::Usable(std::string_view subject) const {
  if (!icase_ && !unicode_sensitive_) return true;
  for (char c : subject) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

Regex::Result Regex::Search(std::string_view s, size_t start, size_t* begin, size_t* end) const {
  if (!Usable(s)) return Result::kUnsupported;
  const size_t n = s.size();
  long steps = 0;
  struct Thread {
    int pc;
    size_t pos;
  };
  std::vector<Thread> stack;
  auto next_len = [&](size_t pos) -> size_t {  // bytes of the code point at pos
    unsigned char c = static_cast<unsigned char>(s[pos]);
    if (c < 0x80) return 1;
    size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    return pos + len <= n ? len : n - pos;
  };
  for (size_t from = start; from <= n;) {
    stack.clear();
    stack.push_back({0, from});
    while (!stack.empty()) {
      Thread t = stack.back();
      stack.pop_back();
      while (true) {
        if (++steps > kMaxSteps) return Result::kUnsupported;
        const Inst& in = prog_[static_cast<size_t>(t.pc)];
        bool ok = true;
        switch (in.op) {
          case Inst::Op::kChar:
            if (t.pos < n && (s[t.pos] == in.c || (icase_ && Lower(s[t.pos]) == Lower(in.c)))) {
              ++t.pos;
              ++t.pc;
            } else {
              ok = false;
            }
            break;
          case Inst::Op::kAny:
            if (t.pos < n && s[t.pos] != '\n') {
              t.pos += next_len(t.pos);
              ++t.pc;
            } else {
              ok = false;
            }
            break;
          case Inst::Op::kClass: {
            if (t.pos >= n) {
              ok = false;
              break;
            }
            const std::vector<bool>& bits = classes_[static_cast<size_t>(in.x)];
            unsigned char c = static_cast<unsigned char>(s[t.pos]);
            bool in = c >= 0x80 ? bits[128]
                                : (bits[c] || (icase_ && bits[static_cast<unsigned char>(
                                                             SwapCase(static_cast<char>(c)))]));
            if (in != bits[129]) {
              t.pos += next_len(t.pos);
              ++t.pc;
            } else {
              ok = false;
            }
            break;
          }
          case Inst::Op::kBegin:
            ok = t.pos == 0;
            ++t.pc;
            break;
          case Inst::Op::kEnd:
            ok = t.pos == n || (t.pos + 1 == n && s[t.pos] == '\n');
            ++t.pc;
            break;
          case Inst::Op::kSplit:
            stack.push_back({in.y, t.pos});
            t.pc = in.x;
            break;
          case Inst::Op::kJmp:
            t.pc = in.x;
            break;
          case Inst::Op::kMatch:
            *begin = from;
            *end = t.pos;
            return Result::kMatch;
        }
        if (!ok) break;
      }
    }
    if (anchored_ || from >= n) break;
    from += next_len(from);
  }
  return Result::kNoMatch;
}

}  // namespace portolan::jq::native::internal
