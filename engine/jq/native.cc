// The native jq evaluator (engine/jq/native.h): evaluation of the tree native_parse.cc builds.
//
// Generators are continuations: Run(node, input, sink) calls the sink once per output, in jq's
// backtracking order, and the sink's status travels back up (kStop ends everything at the first
// output of the program). Most nodes have at most one output; those (Node::single) are also
// evaluated directly by One(), without continuations, which is the fast path of paths,
// concatenations and comparisons.
//
// Evaluation orders follow the bytecode libjq 1.6 generates, which is what decides the order of
// several outputs and which of two errors comes first:
//   - `a op b` (arithmetic, comparisons, C builtins with arguments): the LAST operand is the
//     outer loop (`[(1,2) + (10,20)]` is [11,12,21,22]);
//   - builtins defined in jq with `$params` (join, ltrimstr, test/1, sub, limit, ...): the
//     first parameter is the outer loop;
//   - `.[k]` evaluates k (on the same input) before the indexed term; `.[a:b]`: a, b, term;
//   - `and`, `or`, `//`, `,`, `if`, object construction: left to right;
//   - string interpolation is a chain of `+`: the last interpolation is the outer loop.
// Errors: jq 1.6's `//` does not catch errors (only false/null/no output fall through);
// `error(null)` behaves as `empty`; `E?` (try) catches errors raised in E and everything
// downstream of E's outputs until the try's scope is left, breaks included (label/break is an
// error in 1.6): this falls out of the continuations. Any error that reaches the top is
// kFallback: libjq reruns the program and supplies jq's message.
#include "engine/jq/native.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "engine/jq/internal/document_impl.h"
#include "engine/jq/internal/native_ast.h"

namespace portolan::jq::native {

using internal::Ast;
using internal::Bin;
using internal::Fn;
using internal::Kind;
using internal::Node;
using internal::Op;
using internal::Val;

struct Program::Impl {
  Ast ast;
};

namespace {

using internal::HArr;
using internal::HObj;
using internal::HStr;

enum class St : uint8_t {
  kOk,        // done (or: go on)
  kStop,      // the program's first output is in: unwind
  kError,     // a jq error (catchable by try)
  kBreak,     // a label break (first/1, limit): an error to try in jq 1.6
  kFallback,  // outside the subset at run time: unwind, libjq takes over
};

// A non-owning callable `St(Val&&)`.
class Sink {
 public:
  template <typename F>
  static Sink Of(F& f) {
    Sink s;
    s.ctx_ = &f;
    s.fn_ = [](void* c, Val&& v) { return (*static_cast<F*>(c))(std::move(v)); };
    return s;
  }
  St operator()(Val&& v) const { return fn_(ctx_, std::move(v)); }

 private:
  void* ctx_ = nullptr;
  St (*fn_)(void*, Val&&) = nullptr;
};

// Work budget of generators that could run without end (`range(0; infinite)` inside `[...]`).
constexpr long kMaxRangeSteps = 10'000'000;
// Repeated strings (`"ab" * n`) larger than this are left to libjq.
constexpr double kMaxRepeatBytes = 1 << 20;
// Regex matches per call of sub/gsub before giving up.
constexpr size_t kMaxMatches = 1'000'000;

// ---- Small helpers ---------------------------------------------------------------------------

// C's (intmax_t)d on x86-64: out of range and NaN give INTMAX_MIN (cvttsd2si).
int64_t CastIntmax(double d) {
  if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return INT64_MIN;
  return static_cast<int64_t>(d);
}

// (int)d when it is defined; false otherwise (the caller falls back).
bool CastInt(double d, int* out) {
  if (!(d > static_cast<double>(INT_MIN) - 1.0 && d < static_cast<double>(INT_MAX) + 1.0)) {
    return false;
  }
  *out = static_cast<int>(d);
  return true;
}

Val NewArray(std::vector<Val>&& items) {
  auto* h = new HArr();
  h->items = std::move(items);
  return Val::FromHeap(h);
}

Val NewObject(std::vector<std::pair<Val, Val>>&& members) {
  auto* h = new HObj();
  h->members = std::move(members);
  return Val::FromHeap(h);
}

// jv_object_set: replaces the value in place, or appends.
void ObjectSet(std::vector<std::pair<Val, Val>>* members, Val key, Val value) {
  std::string_view k = key.str();
  for (auto& m : *members) {
    if (m.first.str() == k) {
      m.second = std::move(value);
      return;
    }
  }
  members->emplace_back(std::move(key), std::move(value));
}

// The members of an object value, to build a new object from.
std::vector<std::pair<Val, Val>> MembersOf(Val o) {
  if (o.unique_heap()) return std::move(o.mutable_hobj().members);
  std::vector<std::pair<Val, Val>> out;
  internal::ForEachMember(o, [&out](const Val& k, Val&& v) {
    out.emplace_back(k, std::move(v));
    return true;
  });
  return out;
}

std::vector<Val> ElementsOf(Val a) {
  if (a.unique_heap()) return std::move(a.mutable_harr().items);
  std::vector<Val> out;
  out.reserve(internal::ArrayLength(a));
  internal::ForEachElement(a, [&out](Val&& v) {
    out.push_back(std::move(v));
    return true;
  });
  return out;
}

// A substring [b, e) (bytes) of a string value; views stay views.
Val SubString(const Val& s, size_t b, size_t e) {
  std::string_view text = s.str();
  if (b == 0 && e == text.size()) return s;
  if (!s.is_heap() && text.size() > Val::kSmallMax) return Val::View(text.substr(b, e - b));
  return Val::String(text.substr(b, e - b));
}

// Byte offset of code point `cp` in a valid UTF-8 string (its size when past the end).
size_t ByteOffset(std::string_view s, size_t cp) {
  size_t i = 0;
  while (i < s.size() && cp > 0) {
    ++i;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xc0) == 0x80) ++i;
    --cp;
  }
  return i;
}

Val Dump(const Val& v, St* st) {
  std::string out;
  if (!internal::AppendJson(v, &out)) *st = St::kFallback;
  return Val::String(std::move(out));
}

bool ContainsNaN(const Val& v, int depth = 0) {
  if (depth > 100) return true;
  if (v.is_number()) return std::isnan(v.num());
  if (!v.is_heap()) return false;  // payload values have no NaN
  bool nan = false;
  if (v.is_array()) {
    internal::ForEachElement(v, [&](Val&& e) { return !(nan = ContainsNaN(e, depth + 1)); });
  } else if (v.is_object()) {
    internal::ForEachMember(v, [&](const Val&, Val&& e) {
      return !(nan = ContainsNaN(e, depth + 1));
    });
  }
  return nan;
}

// Whether jq's parser certainly reads no number from `s` (tonumber then errors): blank text,
// or a character no number literal or "nan"/"infinity" spelling can contain. Other odd
// spellings ("01", " 1", ".5", "nan") are left to libjq.
bool NotANumber(std::string_view s) {
  bool blank = true;
  for (char c : s) {
    if (c == '\0') return false;  // libjq reads up to the NUL
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    blank = false;
    if ((c >= '0' && c <= '9') || c == '.' || c == '+' || c == '-') continue;
    char l = static_cast<char>(c | 0x20);
    if (l >= 'a' && l <= 'z') {
      if (std::string_view("naifty" "e").find(l) == std::string_view::npos) return true;
      continue;
    }
    return true;
  }
  return blank;
}

// ---- jq's operators --------------------------------------------------------------------------

// jv_object_merge_recursive.
Val DeepMerge(Val a, const Val& b) {
  std::vector<std::pair<Val, Val>> members = MembersOf(std::move(a));
  internal::ForEachMember(b, [&members](const Val& k, Val&& v) {
    for (auto& m : members) {
      if (m.first.str() == k.str()) {
        if (m.second.is_object() && v.is_object()) {
          m.second = DeepMerge(std::move(m.second), v);
        } else {
          m.second = std::move(v);
        }
        return true;
      }
    }
    members.emplace_back(k, std::move(v));
    return true;
  });
  return NewObject(std::move(members));
}

// jv_string_split: by bytes; an empty separator splits into code points; an empty string
// gives [].
Val Split(const Val& s, const Val& sep) {
  std::string_view str = s.str(), by = sep.str();
  std::vector<Val> parts;
  if (by.empty()) {
    size_t i = 0;
    while (i < str.size()) {
      size_t j = i + 1;
      while (j < str.size() && (static_cast<unsigned char>(str[j]) & 0xc0) == 0x80) ++j;
      parts.push_back(SubString(s, i, j));
      i = j;
    }
  } else {
    size_t p = 0;
    while (p < str.size()) {
      size_t f = str.find(by, p);
      if (f == std::string_view::npos) f = str.size();
      parts.push_back(SubString(s, p, f));
      if (f + by.size() == str.size()) parts.push_back(Val::View(std::string_view()));
      p = f + by.size();
    }
  }
  return NewArray(std::move(parts));
}

St Arith(Bin op, Val a, Val b, Val* out) {
  const bool nums = a.is_number() && b.is_number();
  switch (op) {
    case Bin::kAdd:
      if (a.is_null()) {
        *out = std::move(b);
        return St::kOk;
      }
      if (b.is_null()) {
        *out = std::move(a);
        return St::kOk;
      }
      if (nums) {
        *out = Val::NumberFrom(a.num() + b.num(), a, b);
        return St::kOk;
      }
      if (a.is_string() && b.is_string()) {
        if (a.unique_heap()) {
          a.mutable_hstr().s.append(b.str());
          *out = std::move(a);
          return St::kOk;
        }
        std::string_view x = a.str(), y = b.str();
        std::string s;
        s.reserve(x.size() + y.size());
        s.append(x).append(y);
        *out = Val::String(std::move(s));
        return St::kOk;
      }
      if (a.is_array() && b.is_array()) {
        std::vector<Val> items = ElementsOf(std::move(a));
        internal::ForEachElement(b, [&items](Val&& v) {
          items.push_back(std::move(v));
          return true;
        });
        *out = NewArray(std::move(items));
        return St::kOk;
      }
      if (a.is_object() && b.is_object()) {
        std::vector<std::pair<Val, Val>> members = MembersOf(std::move(a));
        internal::ForEachMember(b, [&members](const Val& k, Val&& v) {
          ObjectSet(&members, k, std::move(v));
          return true;
        });
        *out = NewObject(std::move(members));
        return St::kOk;
      }
      return St::kError;
    case Bin::kSub:
      if (nums) {
        *out = Val::NumberFrom(a.num() - b.num(), a, b);
        return St::kOk;
      }
      if (a.is_array() && b.is_array()) {
        std::vector<Val> drop = ElementsOf(std::move(b));
        std::vector<Val> keep;
        internal::ForEachElement(a, [&](Val&& v) {
          for (const Val& d : drop) {
            if (internal::Equal(v, d)) return true;
          }
          keep.push_back(std::move(v));
          return true;
        });
        *out = NewArray(std::move(keep));
        return St::kOk;
      }
      return St::kError;
    case Bin::kMul: {
      if (nums) {
        *out = Val::NumberFrom(a.num() * b.num(), a, b);
        return St::kOk;
      }
      const Val* str = a.is_string() && b.is_number() ? &a : nullptr;
      const Val* num = str ? &b : nullptr;
      if (a.is_number() && b.is_string()) str = &b, num = &a;
      if (str != nullptr) {
        // jq 1.6: n = (int)(x - 1) more copies; n < 0 gives null ("a" * 0.5 is "a").
        double x = num->num();
        if (std::isnan(x) || x <= 0) {
          *out = Val();
          return St::kOk;
        }
        double copies = std::trunc(x - 1) + 1;
        if (copies * static_cast<double>(str->str().size()) > kMaxRepeatBytes ||
            copies > kMaxRepeatBytes) {
          return St::kFallback;
        }
        std::string s;
        std::string_view piece = str->str();
        s.reserve(piece.size() * static_cast<size_t>(copies));
        for (long i = 0; i < static_cast<long>(copies); ++i) s.append(piece);
        *out = Val::String(std::move(s));
        return St::kOk;
      }
      if (a.is_object() && b.is_object()) {
        *out = DeepMerge(std::move(a), b);
        return St::kOk;
      }
      return St::kError;
    }
    case Bin::kDiv:
      if (nums) {
        if (b.num() == 0.0) return St::kError;
        *out = Val::NumberFrom(a.num() / b.num(), a, b);
        return St::kOk;
      }
      if (a.is_string() && b.is_string()) {
        *out = Split(a, b);
        return St::kOk;
      }
      return St::kError;
    case Bin::kMod: {
      if (!nums) return St::kError;
      int64_t x = CastIntmax(a.num()), y = CastIntmax(b.num());
      if (y == 0) return St::kError;
      if (y == -1 && x == INT64_MIN) return St::kFallback;  // SIGFPE in jq
      *out = Val::Number(static_cast<double>(x % y));
      return St::kOk;
    }
    case Bin::kEq: *out = Val::Bool(internal::Equal(a, b)); return St::kOk;
    case Bin::kNe: *out = Val::Bool(!internal::Equal(a, b)); return St::kOk;
    case Bin::kLt: *out = Val::Bool(internal::Compare(a, b) < 0); return St::kOk;
    case Bin::kLe: *out = Val::Bool(internal::Compare(a, b) <= 0); return St::kOk;
    case Bin::kGt: *out = Val::Bool(internal::Compare(a, b) > 0); return St::kOk;
    case Bin::kGe: *out = Val::Bool(internal::Compare(a, b) >= 0); return St::kOk;
  }
  return St::kFallback;
}

// ---- Indexing (jv_get) -----------------------------------------------------------------------

// `.key` on t.
St Field(const Val& t, std::string_view key, Val* out) {
  if (t.is_object()) {
    if (!internal::ObjectGet(t, key, out)) *out = Val();
    return St::kOk;
  }
  if (t.is_null()) {
    *out = Val();
    return St::kOk;
  }
  return St::kError;
}

St Index(const Val& t, const Val& k, Val* out) {
  if (k.is_string()) return Field(t, k.str(), out);
  if (t.is_array() && k.is_number()) {
    // jv_is_integer: NaN, fractions and numbers past int give null.
    double d = k.num();
    int idx;
    if (!CastInt(d, &idx) || static_cast<double>(idx) != d) {
      *out = Val();
      return St::kOk;
    }
    long i = idx;
    if (i < 0) i += static_cast<long>(internal::ArrayLength(t));
    *out = internal::ArrayAt(t, i);
    return St::kOk;
  }
  if (t.is_null() && (k.is_number() || k.is_object())) {
    *out = Val();
    return St::kOk;
  }
  if ((t.is_array() || t.is_string()) && (k.is_object() || k.is_array())) {
    return St::kFallback;  // slices by object, indices by array: rare
  }
  return St::kError;
}

// parse_slice + jv_array_slice / jv_string_slice (code points).
St Slice(const Val& t, const Val& from, const Val& to, Val* out) {
  if (t.is_null()) {
    *out = Val();
    return St::kOk;
  }
  if (!t.is_array() && !t.is_string()) return St::kError;
  const size_t len = t.is_array() ? internal::ArrayLength(t) : internal::CodePoints(t.str());
  if ((!from.is_null() && !from.is_number()) || (!to.is_null() && !to.is_number())) {
    return St::kError;
  }
  double ds = from.is_null() ? 0 : from.num();
  double de = to.is_null() ? static_cast<double>(len) : to.num();
  if (std::isnan(ds) || std::isnan(de)) return St::kFallback;
  const double dlen = static_cast<double>(len);
  if (ds < 0) ds += dlen;
  if (de < 0) de += dlen;
  if (ds < 0) ds = 0;
  if (ds > dlen) ds = dlen;
  if (de > dlen) de = dlen;
  if (de < ds) de = ds;
  size_t start = static_cast<size_t>(ds);
  size_t end = de > std::floor(de) ? static_cast<size_t>(de) + 1 : static_cast<size_t>(de);
  if (end > len) end = len;  // jv_array_slice / jv_string_slice clamp as well
  if (t.is_string()) {
    std::string_view s = t.str();
    size_t b = internal::CodePoints(s) == s.size() ? start : ByteOffset(s, start);
    size_t e = internal::CodePoints(s) == s.size() ? end : ByteOffset(s, end);
    *out = SubString(t, b, e);
    return St::kOk;
  }
  std::vector<Val> items;
  items.reserve(end - start);
  size_t i = 0;
  internal::ForEachElement(t, [&](Val&& v) {
    if (i >= start && i < end) items.push_back(std::move(v));
    return ++i < end;
  });
  *out = NewArray(std::move(items));
  return St::kOk;
}

// ---- Dates (the C library calls jq 1.6 makes, with its checks) -------------------------------

// Fields of jq's broken-down time: [year, month, mday, hours, minutes, seconds, wday, yday].
Val TmToVal(const struct tm& tm, double frac_seconds = 0) {
  std::vector<Val> f;
  f.reserve(8);
  f.push_back(Val::Number(tm.tm_year + 1900.0));
  f.push_back(Val::Number(tm.tm_mon));
  f.push_back(Val::Number(tm.tm_mday));
  f.push_back(Val::Number(tm.tm_hour));
  f.push_back(Val::Number(tm.tm_min));
  f.push_back(Val::Number(tm.tm_sec + frac_seconds));
  f.push_back(Val::Number(tm.tm_wday));
  f.push_back(Val::Number(tm.tm_yday));
  return NewArray(std::move(f));
}

// jv2tm: the first eight elements must be numbers (kError otherwise), truncated to int.
St ValToTm(const Val& a, struct tm* tm) {
  std::memset(tm, 0, sizeof(*tm));
  int* fields[] = {&tm->tm_year, &tm->tm_mon, &tm->tm_min,  &tm->tm_hour,
                   &tm->tm_min,  &tm->tm_sec, &tm->tm_wday, &tm->tm_yday};
  fields[2] = &tm->tm_mday;
  for (int i = 0; i < 8; ++i) {
    Val v = internal::ArrayAt(a, i);
    if (!v.is_number()) return St::kError;
    if (!CastInt(v.num(), fields[i])) return St::kFallback;
  }
  tm->tm_year -= 1900;
  return St::kOk;
}

St Strptime(const Val& in, const Val& fmt, Val* out) {
  if (!in.is_string() || !fmt.is_string()) return St::kError;
  // C strings, as jq passes them: cut at a NUL.
  std::string input(in.str().substr(0, in.str().find('\0')));
  std::string format(fmt.str().substr(0, fmt.str().find('\0')));
  struct tm tm;
  std::memset(&tm, 0, sizeof(tm));
  tm.tm_wday = 8;    // jq's sentinels
  tm.tm_yday = 367;
  const char* end = strptime(input.c_str(), format.c_str(), &tm);
  if (end == nullptr) return St::kError;
  if (*end != '\0') {
    if (static_cast<unsigned char>(*end) >= 0x80) return St::kFallback;
    if (!std::isspace(static_cast<unsigned char>(*end))) return St::kError;
  }
  // glibc fills the day of week and year when the format has a date; jq versions differ in
  // how they compute them otherwise.
  if (tm.tm_wday == 8 || tm.tm_yday == 367) return St::kFallback;
  Val r = TmToVal(tm);
  if (*end != '\0') r.mutable_harr().items.push_back(Val::String(std::string_view(end)));
  *out = std::move(r);
  return St::kOk;
}

St Mktime(const Val& in, Val* out) {
  if (!in.is_array() || internal::ArrayLength(in) < 6) return St::kError;
  struct tm tm;
  St st = ValToTm(in, &tm);
  if (st != St::kOk) return st;
  time_t t = timegm(&tm);
  // jq reads -1 as timegm's failure ("invalid gmtime representation") and -2 as its own
  // "mktime not supported on this platform": both are errors for those two seconds of 1969.
  if (t == static_cast<time_t>(-1) || t == static_cast<time_t>(-2)) return St::kError;
  *out = Val::Number(static_cast<double>(t));
  return St::kOk;
}

St Gmtime(const Val& in, Val* out) {
  if (!in.is_number()) return St::kError;
  double fsecs = in.num();
  if (!(std::fabs(fsecs) < 1e15)) return St::kFallback;
  time_t secs = static_cast<time_t>(fsecs);
  struct tm tm;
  if (gmtime_r(&secs, &tm) == nullptr) return St::kFallback;
  *out = TmToVal(tm, fsecs - std::floor(fsecs));
  return St::kOk;
}

St Strftime(const Val& in, const Val& fmt, Val* out) {
  Val broken = in;
  if (in.is_number()) {
    if (!fmt.is_string()) return St::kFallback;  // jq asserts
    St st = Gmtime(in, &broken);
    if (st != St::kOk) return st;
  } else if (!in.is_array() || !fmt.is_string()) {
    return St::kError;
  }
  struct tm tm;
  St st = ValToTm(broken, &tm);
  if (st != St::kOk) return st;
  std::string format(fmt.str().substr(0, fmt.str().find('\0')));
  std::string buf(format.size() + 100, '\0');
  size_t n = strftime(buf.data(), buf.size(), format.c_str(), &tm);
  if (n == 0 && !format.empty()) return St::kError;
  buf.resize(std::strlen(buf.c_str()));
  *out = Val::String(std::move(buf));
  return St::kOk;
}

// ---- Regular expressions ---------------------------------------------------------------------

struct Match {
  size_t begin, end;  // bytes
};

// f_match's loop in jq 1.6: after an empty match the search goes on one BYTE after where the
// previous search started (not after the match), and never from the end of the string.
St Matches(const internal::Regex& re, std::string_view s, bool global, bool first_only,
           std::vector<Match>* out) {
  size_t start = 0;
  do {
    size_t b, e;
    auto r = re.Search(s, start, &b, &e);
    if (r == internal::Regex::Result::kUnsupported) return St::kFallback;
    if (r == internal::Regex::Result::kNoMatch) break;
    out->push_back({b, e});
    if (first_only || out->size() > kMaxMatches) return first_only ? St::kOk : St::kFallback;
    if (b == e) {
      start += 1;
      if (start < s.size() && (static_cast<unsigned char>(s[start]) & 0xc0) == 0x80) {
        return St::kFallback;  // mid-character: Oniguruma's own business
      }
    } else {
      start = e;
    }
  } while (global && start != s.size());
  return St::kOk;
}

// The regex of test/sub/gsub: compiled with the program, or now.
St RegexFor(const Node& n, const Val& re, const Val& flags, std::unique_ptr<internal::Regex>* own,
            const internal::Regex** regex, bool* global) {
  if (!re.is_string()) return St::kError;
  if (!flags.is_null() && !flags.is_string()) return St::kError;
  if (n.regex) {
    *regex = n.regex.get();
    *global = n.regex_global;
    return St::kOk;
  }
  internal::RegexFlags f;
  if (!internal::ParseRegexFlags(flags.is_null() ? std::string_view() : flags.str(), &f)) {
    return St::kFallback;
  }
  *own = internal::Regex::Compile(re.str(), f.icase);
  if (!*own) return St::kFallback;
  *regex = own->get();
  *global = f.global;
  return St::kOk;
}

// _match_impl(re; flags; true).
St Test(const Node& n, const Val& in, const Val& re, const Val& flags, Val* out) {
  if (!in.is_string()) return St::kError;
  std::unique_ptr<internal::Regex> own;
  const internal::Regex* regex;
  bool global;
  St st = RegexFor(n, re, flags, &own, &regex, &global);
  if (st != St::kOk) return st;
  std::vector<Match> m;
  st = Matches(*regex, in.str(), false, true, &m);
  if (st != St::kOk) return st;
  *out = Val::Bool(!m.empty());
  return St::kOk;
}

// ---- The evaluator ---------------------------------------------------------------------------

// C builtins take their arguments with the last one as the outer loop.
bool LastArgOuter(Fn fn) {
  switch (fn) {
    case Fn::kHas:
    case Fn::kStartsWith:
    case Fn::kEndsWith:
    case Fn::kSplit:
    case Fn::kError1:
    case Fn::kStrptime:
    case Fn::kStrftime:
    case Fn::kTest2:
      return true;
    default:
      return false;
  }
}

class Evaluator {
 public:
  explicit Evaluator(Val* vars) : vars_(vars) {}

  St Run(const Node& n, const Val& in, Sink k) {
    if (n.single) {
      Val v;
      bool has = false;
      St st = One(n, in, &v, &has);
      if (st != St::kOk || !has) return st;
      return k(std::move(v));
    }
    return Gen(n, in, k);
  }

  template <typename F>
  St RunWith(const Node& n, const Val& in, F&& f) {
    return Run(n, in, Sink::Of(f));
  }

  // Direct evaluation of a single-output node: *has tells whether there was an output.
  St One(const Node& n, const Val& in, Val* out, bool* has);

 private:
  St Gen(const Node& n, const Val& in, Sink k);
  St Capture(const Node& n, const Val& in, Val* out, bool* has) {
    auto f = [&](Val&& v) {
      *out = std::move(v);
      *has = true;
      return St::kOk;
    };
    return Gen(n, in, Sink::Of(f));
  }
  St IfFrom(const Node& n, size_t branch, const Val& in, Sink k);
  St ObjectFrom(const Node& n, size_t pair, const Val& in,
                std::vector<std::pair<Val, Val>>* members, Sink k);
  St FormatFrom(const Node& n, size_t part, const Val& in, std::vector<Val>* parts, Sink k);
  St Call(const Node& n, const Val& in, Sink k);
  St CallArgs(const Node& n, const Val& in, int i, bool last_outer, Val* args, Sink k);
  St Apply(const Node& n, const Val& in, const Val* args, Val* out, bool* has);
  St Sub(const Node& n, const Val& in, const Val& re, const Val& flags, Sink k);
  St Each(const Val& t, bool opt, Sink k);
  St Label(const Node& f, const Val& in, const Val* limit, Sink k);
  St Range(const Val& from, const Val& upto, Sink k);

  uint32_t NewLabel() { return ++labels_; }

  Val* vars_;
  uint32_t labels_ = 0;
  uint32_t breaking_ = 0;  // the label a kBreak is unwinding to
  long range_steps_ = 0;
};

St Evaluator::Each(const Val& t, bool opt, Sink k) {
  St st = St::kOk;
  if (t.is_array()) {
    internal::ForEachElement(t, [&](Val&& v) {
      st = k(std::move(v));
      return st == St::kOk;
    });
    return st;
  }
  if (t.is_object()) {
    internal::ForEachMember(t, [&](const Val&, Val&& v) {
      st = k(std::move(v));
      return st == St::kOk;
    });
    return st;
  }
  return opt ? St::kOk : St::kError;
}

St Evaluator::One(const Node& n, const Val& in, Val* out, bool* has) {
  switch (n.op) {
    case Op::kIdentity:
      *out = in;
      *has = true;
      return St::kOk;
    case Op::kLiteral:
      *out = n.literal;
      *has = true;
      return St::kOk;
    case Op::kVar:
      *out = vars_[n.slot];
      *has = true;
      return St::kOk;
    case Op::kField: {
      const Node& base = *n.kids[0];
      St st;
      if (base.op == Op::kIdentity) {
        st = Field(in, n.key, out);
      } else {
        Val t;
        bool got = false;
        st = One(base, in, &t, &got);
        if (st != St::kOk || !got) return st;
        st = Field(t, n.key, out);
      }
      if (st == St::kOk) {
        *has = true;
        return st;
      }
      return n.opt && st == St::kError ? St::kOk : st;
    }
    case Op::kIndex: {
      Val key, t;
      bool got = false;
      St st = One(*n.kids[1], in, &key, &got);
      if (st != St::kOk || !got) return st;
      got = false;
      st = One(*n.kids[0], in, &t, &got);
      if (st != St::kOk || !got) return st;
      st = Index(t, key, out);
      if (st == St::kOk) {
        *has = true;
        return st;
      }
      return n.opt && st == St::kError ? St::kOk : st;
    }
    case Op::kSlice: {
      Val from, to, t;
      bool got = true;
      St st;
      if (n.kids[1]) {
        got = false;
        st = One(*n.kids[1], in, &from, &got);
        if (st != St::kOk || !got) return st;
      }
      if (n.kids[2]) {
        got = false;
        st = One(*n.kids[2], in, &to, &got);
        if (st != St::kOk || !got) return st;
      }
      got = false;
      st = One(*n.kids[0], in, &t, &got);
      if (st != St::kOk || !got) return st;
      st = Slice(t, from, to, out);
      if (st == St::kOk) {
        *has = true;
        return st;
      }
      return n.opt && st == St::kError ? St::kOk : st;
    }
    case Op::kPipe: {
      Val v;
      bool got = false;
      St st = One(*n.kids[0], in, &v, &got);
      if (st != St::kOk || !got) return st;
      return One(*n.kids[1], v, out, has);
    }
    case Op::kAs: {
      Val v;
      bool got = false;
      St st = One(*n.kids[0], in, &v, &got);
      if (st != St::kOk || !got) return st;
      vars_[n.slot] = std::move(v);
      return One(*n.kids[1], in, out, has);
    }
    case Op::kIf: {
      size_t i = 0;
      for (; i + 1 < n.kids.size(); i += 2) {
        Val c;
        bool got = false;
        St st = One(*n.kids[i], in, &c, &got);
        if (st != St::kOk || !got) return st;
        if (c.truthy()) return One(*n.kids[i + 1], in, out, has);
      }
      return One(*n.kids[i], in, out, has);
    }
    case Op::kAnd:
    case Op::kOr: {
      Val a;
      bool got = false;
      St st = One(*n.kids[0], in, &a, &got);
      if (st != St::kOk || !got) return st;
      if (a.truthy() == (n.op == Op::kOr)) {
        *out = Val::Bool(n.op == Op::kOr);
        *has = true;
        return St::kOk;
      }
      Val b;
      got = false;
      st = One(*n.kids[1], in, &b, &got);
      if (st != St::kOk || !got) return st;
      *out = Val::Bool(b.truthy());
      *has = true;
      return St::kOk;
    }
    case Op::kAlt: {
      Val a;
      bool got = false;
      St st = One(*n.kids[0], in, &a, &got);
      if (st != St::kOk) return st;
      if (got && a.truthy()) {
        *out = std::move(a);
        *has = true;
        return St::kOk;
      }
      return One(*n.kids[1], in, out, has);
    }
    case Op::kNeg: {
      Val a;
      bool got = false;
      St st = One(*n.kids[0], in, &a, &got);
      if (st != St::kOk || !got) return st;
      if (!a.is_number()) return St::kError;
      *out = Val::NumberFrom(-a.num(), a, a);
      *has = true;
      return St::kOk;
    }
    case Op::kArray: {
      std::vector<Val> items;
      if (!n.kids.empty()) {
        St st = RunWith(*n.kids[0], in, [&items](Val&& v) {
          items.push_back(std::move(v));
          return St::kOk;
        });
        if (st != St::kOk) return st;
      }
      *out = NewArray(std::move(items));
      *has = true;
      return St::kOk;
    }
    case Op::kObject: {
      std::vector<std::pair<Val, Val>> members;
      members.reserve(n.kids.size() / 2);
      for (size_t i = 0; i < n.kids.size(); i += 2) {
        Val k, v;
        bool got = false;
        St st = One(*n.kids[i], in, &k, &got);
        if (st != St::kOk || !got) return st;
        got = false;
        st = One(*n.kids[i + 1], in, &v, &got);
        if (st != St::kOk || !got) return st;
        if (!k.is_string()) return St::kError;
        ObjectSet(&members, std::move(k), std::move(v));
      }
      *out = NewObject(std::move(members));
      *has = true;
      return St::kOk;
    }
    case Op::kFormat: {
      std::array<Val, 8> small;
      std::vector<Val> big;
      Val* parts = small.data();
      if (n.kids.size() > small.size()) {
        big.resize(n.kids.size());
        parts = big.data();
      }
      size_t total = 0;
      for (size_t i = n.kids.size(); i-- > 0;) {  // last interpolation first
        bool got = false;
        St st = One(*n.kids[i], in, &parts[i], &got);
        if (st != St::kOk || !got) return st;
        total += parts[i].str().size();
      }
      std::string s;
      s.reserve(total);
      for (size_t i = 0; i < n.kids.size(); ++i) s.append(parts[i].str());
      *out = Val::String(std::move(s));
      *has = true;
      return St::kOk;
    }
    case Op::kBinary: {
      Val a, b;
      bool got = false;
      St st = One(*n.kids[1], in, &b, &got);  // the right operand first, as jq
      if (st != St::kOk || !got) return st;
      got = false;
      st = One(*n.kids[0], in, &a, &got);
      if (st != St::kOk || !got) return st;
      st = Arith(n.bin, std::move(a), std::move(b), out);
      *has = st == St::kOk;
      return st;
    }
    case Op::kAddChain: {
      // Operands right to left (jq's order for `(a + b) + c`), then the sums left to right.
      std::array<Val, 8> small;
      std::vector<Val> big;
      Val* ops = small.data();
      const size_t count = n.kids.size();
      if (count > small.size()) {
        big.resize(count);
        ops = big.data();
      }
      bool strings = true;
      size_t total = 0;
      for (size_t i = count; i-- > 0;) {
        bool got = false;
        St st = One(*n.kids[i], in, &ops[i], &got);
        if (st != St::kOk || !got) return st;
        if (ops[i].is_string()) {
          total += ops[i].str().size();
        } else {
          strings = false;
        }
      }
      if (strings) {
        std::string s;
        s.reserve(total);
        for (size_t i = 0; i < count; ++i) s.append(ops[i].str());
        *out = Val::String(std::move(s));
        *has = true;
        return St::kOk;
      }
      Val acc = std::move(ops[0]);
      for (size_t i = 1; i < count; ++i) {
        Val next;
        St st = Arith(Bin::kAdd, std::move(acc), std::move(ops[i]), &next);
        if (st != St::kOk) return st;
        acc = std::move(next);
      }
      *out = std::move(acc);
      *has = true;
      return St::kOk;
    }
    case Op::kCall:
      switch (n.fn) {
        case Fn::kSelect:
        case Fn::kMap:
        case Fn::kFirst1:
        case Fn::kLast1:
        case Fn::kSub2:
        case Fn::kGsub2:
        case Fn::kSub3:
        case Fn::kGsub3:
          return Capture(n, in, out, has);
        default:
          break;
      }
      if (n.kids.empty()) return Apply(n, in, nullptr, out, has);
      {
        // Arguments are single here; the order still decides which error or empty comes first.
        Val args[3];
        const bool last_outer = LastArgOuter(n.fn);
        const size_t count = n.kids.size();
        for (size_t j = 0; j < count; ++j) {
          size_t i = last_outer ? count - 1 - j : j;
          bool got = false;
          St st = One(*n.kids[i], in, &args[i], &got);
          if (st != St::kOk || !got) return st;
        }
        return Apply(n, in, args, out, has);
      }
    default:
      return Capture(n, in, out, has);
  }
}

St Evaluator::IfFrom(const Node& n, size_t branch, const Val& in, Sink k) {
  if (branch + 1 >= n.kids.size()) return Run(*n.kids[branch], in, k);
  return RunWith(*n.kids[branch], in, [&](Val&& c) {
    if (c.truthy()) return Run(*n.kids[branch + 1], in, k);
    return IfFrom(n, branch + 2, in, k);
  });
}

St Evaluator::ObjectFrom(const Node& n, size_t pair, const Val& in,
                         std::vector<std::pair<Val, Val>>* members, Sink k) {
  if (pair >= n.kids.size()) {
    std::vector<std::pair<Val, Val>> built;
    built.reserve(members->size());
    for (const auto& [key, value] : *members) ObjectSet(&built, key, value);
    return k(NewObject(std::move(built)));
  }
  return RunWith(*n.kids[pair], in, [&](Val&& key) {
    return RunWith(*n.kids[pair + 1], in, [&](Val&& value) {
      if (!key.is_string()) return St::kError;
      members->emplace_back(key, std::move(value));
      St st = ObjectFrom(n, pair + 2, in, members, k);
      members->pop_back();
      return st;
    });
  });
}

St Evaluator::FormatFrom(const Node& n, size_t part, const Val& in, std::vector<Val>* parts,
                         Sink k) {
  if (part == 0) {
    std::string s;
    for (const Val& p : *parts) s.append(p.str());
    return k(Val::String(std::move(s)));
  }
  return RunWith(*n.kids[part - 1], in, [&](Val&& v) {
    (*parts)[part - 1] = std::move(v);
    return FormatFrom(n, part - 1, in, parts, k);
  });
}

St Evaluator::Gen(const Node& n, const Val& in, Sink k) {
  switch (n.op) {
    case Op::kField:
      return RunWith(*n.kids[0], in, [&](Val&& t) {
        Val v;
        St st = Field(t, n.key, &v);
        if (st == St::kOk) return k(std::move(v));
        return n.opt && st == St::kError ? St::kOk : st;
      });
    case Op::kIndex:
      return RunWith(*n.kids[1], in, [&](Val&& key) {
        return RunWith(*n.kids[0], in, [&](Val&& t) {
          Val v;
          St st = Index(t, key, &v);
          if (st == St::kOk) return k(std::move(v));
          return n.opt && st == St::kError ? St::kOk : st;
        });
      });
    case Op::kSlice: {
      auto with_to = [&](const Val& from) {
        auto body = [&](const Val& to) {
          return RunWith(*n.kids[0], in, [&](Val&& t) {
            Val v;
            St st = Slice(t, from, to, &v);
            if (st == St::kOk) return k(std::move(v));
            return n.opt && st == St::kError ? St::kOk : st;
          });
        };
        if (!n.kids[2]) return body(Val());
        return RunWith(*n.kids[2], in, [&](Val&& to) { return body(to); });
      };
      if (!n.kids[1]) return with_to(Val());
      return RunWith(*n.kids[1], in, [&](Val&& from) { return with_to(from); });
    }
    case Op::kEach:
      return RunWith(*n.kids[0], in, [&](Val&& t) { return Each(t, n.opt, k); });
    case Op::kPipe:
      return RunWith(*n.kids[0], in, [&](Val&& v) { return Run(*n.kids[1], v, k); });
    case Op::kComma: {
      St st = Run(*n.kids[0], in, k);
      if (st != St::kOk) return st;
      return Run(*n.kids[1], in, k);
    }
    case Op::kAs:
      return RunWith(*n.kids[0], in, [&](Val&& v) {
        vars_[n.slot] = std::move(v);
        return Run(*n.kids[1], in, k);
      });
    case Op::kIf:
      return IfFrom(n, 0, in, k);
    case Op::kAnd:
    case Op::kOr: {
      const bool is_or = n.op == Op::kOr;
      return RunWith(*n.kids[0], in, [&](Val&& a) {
        if (a.truthy() == is_or) return k(Val::Bool(is_or));
        return RunWith(*n.kids[1], in, [&](Val&& b) { return k(Val::Bool(b.truthy())); });
      });
    }
    case Op::kAlt: {
      bool found = false;
      St st = RunWith(*n.kids[0], in, [&](Val&& v) {
        if (!v.truthy()) return St::kOk;
        found = true;
        return k(std::move(v));
      });
      if (st != St::kOk || found) return st;
      return Run(*n.kids[1], in, k);
    }
    case Op::kNeg:
      return RunWith(*n.kids[0], in, [&](Val&& v) {
        if (!v.is_number()) return St::kError;
        return k(Val::NumberFrom(-v.num(), v, v));
      });
    case Op::kTry: {
      St st = Run(*n.kids[0], in, k);
      if (st == St::kError || st == St::kBreak) {
        breaking_ = 0;
        return St::kOk;
      }
      return st;
    }
    case Op::kObject: {
      std::vector<std::pair<Val, Val>> members;
      return ObjectFrom(n, 0, in, &members, k);
    }
    case Op::kFormat: {
      std::vector<Val> parts(n.kids.size());
      return FormatFrom(n, n.kids.size(), in, &parts, k);
    }
    case Op::kBinary:
      return RunWith(*n.kids[1], in, [&](Val&& b) {
        return RunWith(*n.kids[0], in, [&](Val&& a) {
          Val r;
          St st = Arith(n.bin, std::move(a), b, &r);
          if (st != St::kOk) return st;
          return k(std::move(r));
        });
      });
    case Op::kCall:
      return Call(n, in, k);
    default: {
      // Single-output kinds reached with a multi-output child (kAddChain never is).
      Val v;
      bool has = false;
      St st = One(n, in, &v, &has);
      if (st != St::kOk || !has) return st;
      return k(std::move(v));
    }
  }
}

// Arguments in jq's order (`last_outer`: C builtins, the last argument is the outer loop;
// otherwise jq-defined `$param` builtins, the first one is), then Apply per combination.
St Evaluator::CallArgs(const Node& n, const Val& in, int i, bool last_outer, Val* args, Sink k) {
  const int count = static_cast<int>(n.kids.size());
  if (i == count) {
    Val out;
    bool has = false;
    St st = Apply(n, in, args, &out, &has);
    if (st != St::kOk || !has) return st;
    return k(std::move(out));
  }
  const int index = last_outer ? count - 1 - i : i;
  return RunWith(*n.kids[index], in, [&](Val&& v) {
    args[index] = std::move(v);
    return CallArgs(n, in, i + 1, last_outer, args, k);
  });
}

// first(f) and limit($n; f): `label $out | f | ..., break $out`. A break unwinds as an error
// (jq 1.6 implements it so: a `try` inside f swallows it) until this label catches it.
// With `limit`, the count is compared (jq's order) with *limit after each output.
St Evaluator::Label(const Node& f, const Val& in, const Val* limit, Sink k) {
  const uint32_t label = NewLabel();
  Val count = Val::Number(0);
  St st = RunWith(f, in, [&](Val&& item) {
    if (limit != nullptr) count = Val::Number(count.num() + 1);
    St s = k(std::move(item));
    if (s != St::kOk) return s;
    if (limit == nullptr || internal::Compare(count, *limit) >= 0) {
      breaking_ = label;
      return St::kBreak;
    }
    return St::kOk;
  });
  if (st == St::kBreak && breaking_ == label) {
    breaking_ = 0;
    return St::kOk;
  }
  return st;
}

St Evaluator::Call(const Node& n, const Val& in, Sink k) {
  switch (n.fn) {
    case Fn::kSelect:  // if f then . else empty end
      return RunWith(*n.kids[0], in, [&](Val&& c) { return c.truthy() ? k(Val(in)) : St::kOk; });
    case Fn::kMap: {  // [.[] | f]
      std::vector<Val> items;
      auto push = [&items](Val&& v) {
        items.push_back(std::move(v));
        return St::kOk;
      };
      auto each = [&](Val&& e) { return RunWith(*n.kids[0], e, push); };
      St st = Each(in, false, Sink::Of(each));
      if (st != St::kOk) return st;
      return k(NewArray(std::move(items)));
    }
    case Fn::kFirst1:
      return Label(*n.kids[0], in, nullptr, k);
    case Fn::kLast1: {  // reduce f as $x ([]; [$x]) | .[]
      Val last;
      bool has = false;
      St st = RunWith(*n.kids[0], in, [&](Val&& v) {
        last = std::move(v);
        has = true;
        return St::kOk;
      });
      if (st != St::kOk || !has) return st;
      return k(std::move(last));
    }
    case Fn::kLimit:  // the prelude's: $n > 0: first $n outputs; $n == 0: none; else error
      return RunWith(*n.kids[0], in, [&](Val&& count) {
        if (internal::Compare(count, Val::Number(0)) > 0) return Label(*n.kids[1], in, &count, k);
        if (internal::Equal(count, Val::Number(0))) return St::kOk;
        return St::kError;
      });
    case Fn::kRange1:  // def range($x): range(0; $x)
      return RunWith(*n.kids[0], in, [&](Val&& upto) { return Range(Val::Number(0), upto, k); });
    case Fn::kRange2:
      return RunWith(*n.kids[0], in, [&](Val&& from) {
        return RunWith(*n.kids[1], in, [&](Val&& upto) { return Range(from, upto, k); });
      });
    case Fn::kSub2:
    case Fn::kGsub2: {
      Val flags = Val::View(n.fn == Fn::kGsub2 ? "g" : "");
      return RunWith(*n.kids[0], in, [&](Val&& re) { return Sub(n, in, re, flags, k); });
    }
    case Fn::kSub3:
    case Fn::kGsub3:
      return RunWith(*n.kids[0], in, [&](Val&& re) {
        return RunWith(*n.kids[2], in, [&](Val&& flags) {
          if (n.fn == Fn::kSub3) return Sub(n, in, re, flags, k);
          Val with_g;  // gsub($re; str; $flags): sub($re; str; $flags + "g")
          St st = Arith(Bin::kAdd, flags, Val::View("g"), &with_g);
          if (st != St::kOk) return st;
          return Sub(n, in, re, with_g, k);
        });
      });
    default: {
      Val args[3];
      return CallArgs(n, in, 0, LastArgOuter(n.fn), args, k);
    }
  }
}

// range($from; $upto) (libjq's RANGE opcode: stops once the counter is >= the bound).
St Evaluator::Range(const Val& from, const Val& upto, Sink k) {
  if (!from.is_number() || !upto.is_number()) return St::kError;
  const double bound = upto.num();
  for (double v = from.num(); !(v >= bound); v += 1) {
    if (++range_steps_ > kMaxRangeSteps) return St::kFallback;
    St st = k(Val::Number(v));
    if (st != St::kOk) return st;
  }
  return St::kOk;
}

// The prelude's sub/gsub (jq 1.7's definition):
//   def sub($re; str; $flags): . as $in
//     | (reduce match($re; $flags) as $edit ({result: [], previous: 0};
//         $in[.previous: ($edit | .offset)] as $gap
//         | [<named captures of $edit as an object> | str] as $inserts
//         | reduce range(0; $inserts | length) as $ix (.; .result[$ix] += $gap + $inserts[$ix])
//         | .previous = ($edit | .offset + .length))
//       | .result[] + $in[.previous:])
//     // $in;
// Patterns with named groups are outside the regex subset, so `str` always sees {}.
St Evaluator::Sub(const Node& n, const Val& in, const Val& re, const Val& flags, Sink k) {
  if (!in.is_string()) return St::kError;
  std::unique_ptr<internal::Regex> own;
  const internal::Regex* regex;
  bool global;
  St st = RegexFor(n, re, flags, &own, &regex, &global);
  if (st != St::kOk) return st;
  std::string_view s = in.str();
  std::vector<Match> matches;
  st = Matches(*regex, s, global, false, &matches);
  if (st != St::kOk) return st;

  std::vector<Val> result;
  size_t previous = 0;  // bytes; the code point offsets of jq cut the same places
  const Val captures = NewObject({});
  for (const Match& m : matches) {
    Val gap = m.begin > previous ? SubString(in, previous, m.begin) : Val::View("");
    std::vector<Val> inserts;
    st = RunWith(*n.kids[1], captures, [&inserts](Val&& v) {
      inserts.push_back(std::move(v));
      return St::kOk;
    });
    if (st != St::kOk) return st;
    for (size_t ix = 0; ix < inserts.size(); ++ix) {
      Val piece;
      st = Arith(Bin::kAdd, gap, std::move(inserts[ix]), &piece);
      if (st != St::kOk) return st;
      if (ix >= result.size()) result.resize(ix + 1);
      Val sum;
      st = Arith(Bin::kAdd, std::move(result[ix]), std::move(piece), &sum);
      if (st != St::kOk) return st;
      result[ix] = std::move(sum);
    }
    previous = m.end;
  }
  bool found = false;
  Val tail = previous < s.size() ? SubString(in, previous, s.size()) : Val::View("");
  for (Val& r : result) {
    Val o;
    st = Arith(Bin::kAdd, std::move(r), tail, &o);
    if (st != St::kOk) return st;
    if (!o.truthy()) continue;
    found = true;
    st = k(std::move(o));
    if (st != St::kOk) return st;
  }
  return found ? St::kOk : k(Val(in));
}

// Builtins that are functions of their input and argument values.
St Evaluator::Apply(const Node& n, const Val& in, const Val* args, Val* out, bool* has) {
  auto give = [&](Val v) {
    *out = std::move(v);
    *has = true;
    return St::kOk;
  };
  auto math = [&](double (*f)(double)) {
    if (!in.is_number()) return St::kError;
    return give(f == static_cast<double (*)(double)>(std::fabs) ? Val::Number(f(in.num()))
                                                               : Val::NumberFrom(f(in.num()), in, in));
  };
  auto select = [&](bool keep) { return keep ? give(in) : St::kOk; };
  switch (n.fn) {
    case Fn::kEmpty: return St::kOk;
    case Fn::kError0: return in.is_null() ? St::kOk : St::kError;  // error(null) is empty in 1.6
    case Fn::kError1: return args[0].is_null() ? St::kOk : St::kError;
    case Fn::kNot: return give(Val::Bool(!in.truthy()));
    case Fn::kLength:
      switch (in.kind()) {
        case Kind::kNull: return give(Val::Number(0));
        case Kind::kFalse:
        case Kind::kTrue: return St::kError;
        case Kind::kNumber: return give(Val::Number(std::fabs(in.num())));
        case Kind::kString: return give(Val::Number(internal::CodePoints(in.str())));
        case Kind::kArray: return give(Val::Number(internal::ArrayLength(in)));
        case Kind::kObject: return give(Val::Number(internal::ObjectLength(in)));
      }
      return St::kFallback;
    case Fn::kUtf8ByteLength:
      if (!in.is_string()) return St::kError;
      return give(Val::Number(in.str().size()));
    case Fn::kToString:
      if (in.is_string()) return give(in);
      [[fallthrough]];
    case Fn::kToJson: {
      St st = St::kOk;
      Val v = Dump(in, &st);
      return st == St::kOk ? give(std::move(v)) : st;
    }
    case Fn::kToNumber: {
      if (in.is_number()) return give(in);
      if (!in.is_string()) return St::kError;
      // Plain JSON numbers only; jq's lenient parser ("01", " 1", "nan") is left to libjq.
      std::string_view s = in.str();
      size_t i = 0;
      auto digits = [&] {
        size_t b = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
        return i - b;
      };
      if (i < s.size() && s[i] == '-') ++i;
      size_t lead = i, nd = digits();
      bool plain = nd > 0 && !(nd > 1 && s[lead] == '0');
      if (plain && i < s.size() && s[i] == '.') {
        ++i;
        plain = digits() > 0;
      }
      if (plain && i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
        plain = digits() > 0;
      }
      if (plain && i == s.size()) return give(Val::Number(std::strtod(std::string(s).c_str(), nullptr)));
      return NotANumber(s) ? St::kError : St::kFallback;
    }
    case Fn::kType: return give(Val::View(internal::KindName(in.kind())));
    case Fn::kKeys:
    case Fn::kKeysUnsorted: {
      if (in.is_object()) {
        if (n.fn == Fn::kKeys) return give(NewArray(internal::SortedKeys(in)));
        std::vector<Val> keys;
        internal::ForEachMember(in, [&keys](const Val& key, Val&&) {
          keys.push_back(key);
          return true;
        });
        return give(NewArray(std::move(keys)));
      }
      if (in.is_array()) {
        std::vector<Val> keys;
        const size_t len = internal::ArrayLength(in);
        keys.reserve(len);
        for (size_t i = 0; i < len; ++i) keys.push_back(Val::Number(static_cast<double>(i)));
        return give(NewArray(std::move(keys)));
      }
      return St::kError;
    }
    case Fn::kAsciiDowncase:
    case Fn::kAsciiUpcase: {
      if (!in.is_string()) return St::kError;
      std::string s(in.str());
      const bool down = n.fn == Fn::kAsciiDowncase;
      for (char& c : s) {
        if (down && c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
        if (!down && c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
      }
      return give(Val::String(std::move(s)));
    }
    case Fn::kFloor: return math(std::floor);
    case Fn::kCeil: return math(std::ceil);
    case Fn::kRound: return math(std::round);
    case Fn::kSqrt: return math(std::sqrt);
    case Fn::kFabs: return math(std::fabs);
    case Fn::kFirst0:
    case Fn::kLast0: {
      Val v;
      St st = Index(in, Val::Number(n.fn == Fn::kFirst0 ? 0 : -1), &v);
      return st == St::kOk ? give(std::move(v)) : st;
    }
    case Fn::kAdd: {  // reduce .[] as $x (null; . + $x)
      Val acc;
      St st = St::kOk;
      auto add = [&](Val&& x) {
        Val next;
        st = Arith(Bin::kAdd, std::move(acc), std::move(x), &next);
        acc = std::move(next);
        return st;
      };
      St each = Each(in, false, Sink::Of(add));
      if (each != St::kOk) return each;
      return give(std::move(acc));
    }
    case Fn::kAny:
    case Fn::kAll: {
      const bool any = n.fn == Fn::kAny;
      bool decided = false;
      auto test = [&](Val&& x) {
        if (x.truthy() == any) {
          decided = true;
          return St::kStop;  // local: caught just below
        }
        return St::kOk;
      };
      St st = Each(in, false, Sink::Of(test));
      if (st != St::kOk && st != St::kStop) return st;
      return give(Val::Bool(decided == any));
    }
    case Fn::kReverse: {  // [.[length - 1 - range(0; length)]]
      if (in.is_array()) {
        std::vector<Val> items = ElementsOf(in);
        std::reverse(items.begin(), items.end());
        return give(NewArray(std::move(items)));
      }
      if (in.is_null() || (in.is_string() && in.str().empty()) ||
          (in.is_number() && in.num() == 0) ||
          (in.is_object() && internal::ObjectLength(in) == 0)) {
        return give(NewArray({}));
      }
      return St::kError;  // `.[n]` on a non-empty string, number or object
    }
    case Fn::kValues: return select(!in.is_null());
    case Fn::kNulls: return select(in.is_null());
    case Fn::kBooleans: return select(in.kind() == Kind::kTrue || in.kind() == Kind::kFalse);
    case Fn::kNumbers: return select(in.is_number());
    case Fn::kStrings: return select(in.is_string());
    case Fn::kArrays: return select(in.is_array());
    case Fn::kObjects: return select(in.is_object());
    case Fn::kIterables: return select(in.is_array() || in.is_object());
    case Fn::kScalars: return select(!in.is_array() && !in.is_object());
    case Fn::kToEntries: {  // [keys_unsorted[] as $k | {key: $k, value: .[$k]}]
      std::vector<Val> entries;
      auto entry = [&entries](Val key, Val value) {
        std::vector<std::pair<Val, Val>> m;
        m.emplace_back(Val::View("key"), std::move(key));
        m.emplace_back(Val::View("value"), std::move(value));
        entries.push_back(NewObject(std::move(m)));
      };
      if (in.is_object()) {
        internal::ForEachMember(in, [&](const Val& key, Val&& v) {
          entry(key, std::move(v));
          return true;
        });
      } else if (in.is_array()) {
        double i = 0;
        internal::ForEachElement(in, [&](Val&& v) {
          entry(Val::Number(i++), std::move(v));
          return true;
        });
      } else {
        return St::kError;
      }
      return give(NewArray(std::move(entries)));
    }
    case Fn::kInfinite: return give(Val::Number(INFINITY));
    case Fn::kNan: return give(Val::Number(NAN));
    case Fn::kMktime: {
      Val v;
      St st = Mktime(in, &v);
      return st == St::kOk ? give(std::move(v)) : st;
    }
    case Fn::kGmtime: {
      Val v;
      St st = Gmtime(in, &v);
      return st == St::kOk ? give(std::move(v)) : st;
    }
    case Fn::kFromDate: {  // strptime("%Y-%m-%dT%H:%M:%SZ") | mktime
      Val broken, v;
      St st = Strptime(in, Val::View("%Y-%m-%dT%H:%M:%SZ"), &broken);
      if (st == St::kOk) st = Mktime(broken, &v);
      return st == St::kOk ? give(std::move(v)) : st;
    }
    case Fn::kToDate: {  // strftime("%Y-%m-%dT%H:%M:%SZ")
      Val v;
      St st = Strftime(in, Val::View("%Y-%m-%dT%H:%M:%SZ"), &v);
      return st == St::kOk ? give(std::move(v)) : st;
    }
    case Fn::kStrptime: {
      Val v;
      St st = Strptime(in, args[0], &v);
      return st == St::kOk ? give(std::move(v)) : st;
    }
    case Fn::kStrftime: {
      Val v;
      St st = Strftime(in, args[0], &v);
      return st == St::kOk ? give(std::move(v)) : st;
    }
    case Fn::kSort:
    case Fn::kUnique: {
      if (!in.is_array()) return St::kError;
      std::vector<Val> items = ElementsOf(in);
      for (const Val& v : items) {
        if (ContainsNaN(v)) return St::kFallback;  // jq's qsort and NaN's order: left alone
      }
      std::stable_sort(items.begin(), items.end(), [](const Val& a, const Val& b) {
        return internal::Compare(a, b) < 0;
      });
      if (n.fn == Fn::kUnique) {
        std::vector<Val> unique;
        for (Val& v : items) {
          if (unique.empty() || !internal::Equal(unique.back(), v)) unique.push_back(std::move(v));
        }
        items = std::move(unique);
      }
      return give(NewArray(std::move(items)));
    }
    case Fn::kMin:
    case Fn::kMax: {
      if (!in.is_array()) return St::kError;
      Val best;
      bool first = true;
      const bool min = n.fn == Fn::kMin;
      internal::ForEachElement(in, [&](Val&& v) {
        // minmax_by: the first minimum, the last maximum.
        if (first || (internal::Compare(v, best) < 0) == min) best = std::move(v);
        first = false;
        return true;
      });
      return give(std::move(best));
    }
    case Fn::kAbs:  // the prelude's: if . < 0 then - . else . end, numbers only
      if (!in.is_number()) return St::kError;
      return give(internal::Compare(in, Val::Number(0)) < 0 ? Val::NumberFrom(-in.num(), in, in)
                                                            : in);
    case Fn::kToArray:
      if (in.is_array()) return give(in);
      return give(NewArray({in}));
    case Fn::kHas: {  // jv_has
      const Val& key = args[0];
      if (in.is_null()) return give(Val::Bool(false));
      if (in.is_object() && key.is_string()) {
        Val ignored;
        return give(Val::Bool(internal::ObjectGet(in, key.str(), &ignored)));
      }
      if (in.is_array() && key.is_number()) {
        int i;
        if (!CastInt(key.num(), &i)) return St::kFallback;
        return give(Val::Bool(i >= 0 && static_cast<size_t>(i) < internal::ArrayLength(in)));
      }
      return St::kError;
    }
    case Fn::kStartsWith:
    case Fn::kEndsWith: {
      if (!in.is_string() || !args[0].is_string()) return St::kError;
      std::string_view s = in.str(), x = args[0].str();
      bool r = x.size() <= s.size() &&
               (n.fn == Fn::kStartsWith ? s.substr(0, x.size()) == x
                                        : s.substr(s.size() - x.size()) == x);
      return give(Val::Bool(r));
    }
    case Fn::kSplit:
      if (!in.is_string() || !args[0].is_string()) return St::kError;
      return give(Split(in, args[0]));
    case Fn::kJoin: {
      // def join($x): reduce .[] as $i (null; (if .==null then "" else .+$x end) +
      //   ($i | if type=="boolean" or type=="number" then tostring else .//"" end)) // "";
      Val acc;
      St st = St::kOk;
      auto step = [&](Val&& item) {
        Val left;
        if (acc.is_null()) {
          left = Val::View("");
        } else {
          st = Arith(Bin::kAdd, std::move(acc), args[0], &left);
          if (st != St::kOk) return st;
        }
        Val right;
        if (item.is_number() || item.kind() == Kind::kTrue || item.kind() == Kind::kFalse) {
          right = Dump(item, &st);
          if (st != St::kOk) return st;
        } else if (!item.truthy()) {
          right = Val::View("");
        } else {
          right = std::move(item);
        }
        st = Arith(Bin::kAdd, std::move(left), std::move(right), &acc);
        return st;
      };
      St each = Each(in, false, Sink::Of(step));
      if (each != St::kOk) return each;
      return give(acc.truthy() ? std::move(acc) : Val::View(""));
    }
    case Fn::kLtrimstr:
    case Fn::kRtrimstr: {
      // if type == "string" and ($x|type) == "string" and startswith($x)
      // then .[$x | length:] else . end    (rtrimstr: endswith, .[:length - ($x | length)])
      if (!in.is_string() || !args[0].is_string()) return give(in);
      std::string_view s = in.str(), x = args[0].str();
      if (x.size() > s.size()) return give(in);
      if (n.fn == Fn::kLtrimstr) {
        if (s.substr(0, x.size()) != x) return give(in);
        return give(SubString(in, x.size(), s.size()));
      }
      if (s.substr(s.size() - x.size()) != x) return give(in);
      return give(SubString(in, 0, s.size() - x.size()));
    }
    case Fn::kTest1: {
      // def test($val): ($val|type) as $vt | if $vt == "string" then test($val; null)
      //   elif $vt == "array" and ($val | length) > 1 then test($val[0]; $val[1])
      //   elif $vt == "array" and ($val | length) > 0 then test($val[0]; null) else error
      const Val& v = args[0];
      Val r;
      St st;
      if (v.is_string()) {
        st = Test(n, in, v, Val(), &r);
      } else if (v.is_array() && internal::ArrayLength(v) > 1) {
        st = Test(n, in, internal::ArrayAt(v, 0), internal::ArrayAt(v, 1), &r);
      } else if (v.is_array() && internal::ArrayLength(v) > 0) {
        st = Test(n, in, internal::ArrayAt(v, 0), Val(), &r);
      } else {
        return St::kError;
      }
      return st == St::kOk ? give(std::move(r)) : st;
    }
    case Fn::kTest2: {
      Val r;
      St st = Test(n, in, args[0], args[1], &r);
      return st == St::kOk ? give(std::move(r)) : st;
    }
    default:
      return St::kFallback;
  }
}

}  // namespace

// ---- Program ---------------------------------------------------------------------------------

Program::Program() : impl_(std::make_unique<Impl>()) {}
Program::~Program() = default;

std::unique_ptr<Program> Program::Parse(std::string_view jq_text) {
  std::unique_ptr<Program> p(new Program());
  if (!internal::ParseProgram(jq_text, &p->impl_->ast)) return nullptr;
  return p;
}

namespace {

Program::Outcome Evaluate(const Ast& ast, const Val& input, json::Value* out) {
  std::array<Val, 8> small;
  std::vector<Val> big;
  Val* vars = small.data();
  if (ast.slots > static_cast<int>(small.size())) {
    big.resize(static_cast<size_t>(ast.slots));
    vars = big.data();
  }
  Evaluator ev(vars);
  Val result;
  bool has = false;
  St st;
  if (ast.root->single) {
    st = ev.One(*ast.root, input, &result, &has);
  } else {
    st = ev.RunWith(*ast.root, input, [&](Val&& v) {
      result = std::move(v);
      has = true;
      return St::kStop;
    });
  }
  if (has) {
    return internal::ToJson(std::move(result), out) ? Program::Outcome::kValue
                                                    : Program::Outcome::kFallback;
  }
  return st == St::kOk ? Program::Outcome::kEmpty : Program::Outcome::kFallback;
}

}  // namespace

Program::Outcome Program::Evaluate(const Document& input, json::Value* out) const {
  return native::Evaluate(impl_->ast, Val::Dom(input.impl().root), out);
}

Program::Outcome Program::Evaluate(const json::Value& input, json::Value* out) const {
  return native::Evaluate(impl_->ast, Val::Json(input), out);
}

}  // namespace portolan::jq::native
