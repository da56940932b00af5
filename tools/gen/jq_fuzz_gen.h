// Differential testing of the native jq evaluator (engine/jq/native.h) against libjq 1.6
// (jq::Program): a deterministic generator of jq programs in the native subset and of JSON
// payloads, and the comparison both tests/jq/native_diff_test.cc (bounded) and tools/gen/jq_fuzz.cc
// (long runs) use. One copy of the rules:
//
//   libjq value   native value (same json::Write)  ok      other value / kEmpty  FAILURE
//   libjq empty   native kEmpty                    ok      kValue                FAILURE
//   libjq error   native kFallback                 ok      kValue / kEmpty       FAILURE
//   libjq value or empty, native kFallback: allowed, counted as a fallback.
//
// Every program is evaluated natively on the jq::Document of the payload text and on the
// json::Value from json::Parse of the same text, and by libjq on its own parse of the text.
//
// libjq cost: a jq::Program compile takes ~20 ms (libjq re-parses its builtins every time), so
// programs are compiled in batches: `def _fz0: (P0); def _fz1: (P1); ...` and a dispatch on the
// input `[i, payload]` that runs `.[1] | _fz<i>`. Evaluate() still calls jq_next once, so the
// result is exactly that of P_i compiled alone (same first output, same errors); one program of
// every (Options::harness_every-th) batch is also compiled alone and compared, to keep the
// harness honest. Programs libjq rejects are found by bisecting the batch.
//
// libjq 1.6 crashes the process on a few inputs (engine/jq/README.md, "Differential testing");
// the generator keeps away from them (EpochSource, Regex(nonempty), ModOperand, SmallOperand).
//
// Determinism: everything follows from the seed (gen::Rng draws from std::mt19937_64 only).
#ifndef PORTOLAN_TOOLS_GEN_JQ_FUZZ_GEN_H_
#define PORTOLAN_TOOLS_GEN_JQ_FUZZ_GEN_H_

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/base/json.h"
#include "engine/jq/document.h"
#include "engine/jq/jq.h"
#include "engine/jq/native.h"
#include "tools/gen/gen_common.h"

// LeakSanitizer's interface, present only in sanitizer builds (null otherwise).
extern "C" __attribute__((weak)) void __lsan_disable();
extern "C" __attribute__((weak)) void __lsan_enable();

namespace portolan::gen::jqfuzz {

// The oracle's own leaks are not the subject here: libjq 1.6 leaks on some error paths (one
// object key per error raised while `.[]` iterates an object: `.[] | error` on {"a":1}), and
// the parser on some syntax errors. LeakSanitizer ignores what is allocated in this scope
// (libjq compiles, inputs and evaluations); native evaluations stay checked.
class IgnoreLeaks {
 public:
  IgnoreLeaks() {
    if (__lsan_disable != nullptr) __lsan_disable();
  }
  ~IgnoreLeaks() {
    if (__lsan_enable != nullptr) __lsan_enable();
  }
  IgnoreLeaks(const IgnoreLeaks&) = delete;
  IgnoreLeaks& operator=(const IgnoreLeaks&) = delete;
};

// ---------------------------------------------------------------------------------------------
// The payload schema: a fixed key vocabulary, so generated paths usually hit. Payloads follow
// it loosely (keys go missing, values change type); programs are generated from it.

enum class Kind { kAny, kNull, kBool, kNum, kStr, kArr, kObj };

// What a field usually holds.
enum class Flavor {
  kNone,
  kName,      // words, mixed case, unicode
  kStatus,    // "open", "Merged", ...
  kId,        // "PR-12", "abc"
  kDate,      // "2024-03-05T10:20:30Z" (mostly valid)
  kDateFrac,  // "2024-03-05T10:20:30.123Z" or a plain date
  kNumStr,    // "12", " 3", "1e3", "abc", "nan"
  kUnicode,   // escapes, emoji, NUL
  kSmall,     // small integers (safe as a string-repeat count)
  kFrac,      // 1.5, 0.1, -0.5
  kBig,       // 1e17, 12345678901234567890, 1.7976931348623157e308
  kNeg,       // -3, -0, -1.5
  kEpoch,     // seconds since the epoch, some fractional or out of range
};

struct Node {
  Kind kind = Kind::kAny;
  Flavor flavor = Flavor::kNone;
  std::vector<std::pair<std::string, const Node*>> fields;  // kObj
  const Node* elem = nullptr;                                // kArr
};

class Schema {
 public:
  static const Schema& Get() {
    static const Schema schema;
    return schema;
  }
  const Node* root() const { return root_; }
  const Node* Leaf(Kind k) const {
    switch (k) {
      case Kind::kNull: return null_;
      case Kind::kBool: return bool_;
      case Kind::kNum: return num_;
      case Kind::kStr: return str_;
      case Kind::kArr: return any_arr_;
      default: return nullptr;
    }
  }
  const Node* str_array() const { return str_arr_; }
  const Node* num_array() const { return num_arr_; }
  // Numbers the program computed (any size): never `todate` input.
  const Node* computed_num_array() const { return computed_num_arr_; }
  const Node* date() const { return date_; }

 private:
  Schema() {
    null_ = Make(Kind::kNull);
    bool_ = Make(Kind::kBool);
    num_ = Make(Kind::kNum, Flavor::kSmall);
    str_ = Make(Kind::kStr, Flavor::kName);
    date_ = Make(Kind::kStr, Flavor::kDate);
    any_arr_ = Make(Kind::kArr);
    str_arr_ = Arr(Make(Kind::kStr, Flavor::kStatus));
    num_arr_ = Arr(Make(Kind::kNum, Flavor::kSmall));
    computed_num_arr_ = Arr(num_);
    const Node* labels = Obj({{"env", Make(Kind::kStr, Flavor::kStatus)},
                              {"team", Make(Kind::kStr, Flavor::kName)}});
    const Node* sub = Obj({{"x", Make(Kind::kNum, Flavor::kFrac)},
                           {"y", Make(Kind::kStr, Flavor::kId)}});
    const Node* item = Obj({{"id", Make(Kind::kNum, Flavor::kSmall)},
                            {"name", Make(Kind::kStr, Flavor::kName)},
                            {"n", Make(Kind::kNum, Flavor::kFrac)},
                            {"tags", str_arr_},
                            {"created", Make(Kind::kStr, Flavor::kDate)},
                            {"ok", bool_},
                            {"sub", sub}});
    const Node* meta = Obj({{"status", Make(Kind::kStr, Flavor::kStatus)},
                            {"a", Make(Kind::kNum, Flavor::kSmall)},
                            {"b", Make(Kind::kStr, Flavor::kName)},
                            {"created", Make(Kind::kStr, Flavor::kDateFrac)},
                            {"k-1", Make(Kind::kStr, Flavor::kId)},
                            {"with space", Make(Kind::kStr, Flavor::kUnicode)},
                            {"labels", labels},
                            {"list", any_arr_}});
    root_ = Obj({{"id", Make(Kind::kStr, Flavor::kId)},
                 {"name", Make(Kind::kStr, Flavor::kName)},
                 {"title", Make(Kind::kStr, Flavor::kName)},
                 {"status", Make(Kind::kStr, Flavor::kStatus)},
                 {"n", Make(Kind::kNum, Flavor::kSmall)},
                 {"count", Make(Kind::kNum, Flavor::kSmall)},
                 {"price", Make(Kind::kNum, Flavor::kFrac)},
                 {"big", Make(Kind::kNum, Flavor::kBig)},
                 {"neg", Make(Kind::kNum, Flavor::kNeg)},
                 {"ts", Make(Kind::kNum, Flavor::kEpoch)},
                 {"flag", bool_},
                 {"nil", null_},
                 {"created", Make(Kind::kStr, Flavor::kDate)},
                 {"updated", Make(Kind::kStr, Flavor::kDateFrac)},
                 {"text", Make(Kind::kStr, Flavor::kUnicode)},
                 {"numstr", Make(Kind::kStr, Flavor::kNumStr)},
                 {"tags", str_arr_},
                 {"nums", num_arr_},
                 {"items", Arr(item)},
                 {"meta", meta},
                 {"matrix", Arr(num_arr_)}});
  }
  const Node* Make(Kind k, Flavor f = Flavor::kNone) {
    nodes_.push_back(std::make_unique<Node>());
    nodes_.back()->kind = k;
    nodes_.back()->flavor = f;
    return nodes_.back().get();
  }
  const Node* Arr(const Node* elem) {
    nodes_.push_back(std::make_unique<Node>());
    nodes_.back()->kind = Kind::kArr;
    nodes_.back()->elem = elem;
    return nodes_.back().get();
  }
  const Node* Obj(std::vector<std::pair<std::string, const Node*>> fields) {
    nodes_.push_back(std::make_unique<Node>());
    nodes_.back()->kind = Kind::kObj;
    nodes_.back()->fields = std::move(fields);
    return nodes_.back().get();
  }

  std::vector<std::unique_ptr<Node>> nodes_;
  const Node *root_, *null_, *bool_, *num_, *str_, *date_, *any_arr_, *str_arr_, *num_arr_,
      *computed_num_arr_;
};

// ---------------------------------------------------------------------------------------------
// Value pools shared by payloads and program literals (UTF-8).

inline const std::vector<std::string>& StringPool(Flavor f) {
  static const std::vector<std::string> kName = {
      "Alice Smith", "bob",  "O'Brien", "MiXeD CaSe", "A-b_c", "", "  spaced  ", "Ünïcödé Näme",
      "alice",       "ALICE", "Zoë",    "a,b,c",      "x"};
  static const std::vector<std::string> kStatus = {"open", "closed", "merged", "Open",
                                                   "IN_PROGRESS", "done", "", "a"};
  static const std::vector<std::string> kId = {"PR-123", "abc", "x1", "123", "A", "-", "id 7"};
  static const std::vector<std::string> kNumStr = {"12",  "1.5",  "-3",     "1e3", " 42", "0x1A",
                                                   "abc", "",     "nan",    "007", "-0",  "1e1000",
                                                   "3.0", "1e17", "9007199254740993"};
  static const std::vector<std::string> kUnicode = {
      "héllo wörld", "日本語テキスト", "emoji 😀 ok", "tab\there", "quote\"d",
      "back\\slash", "new\nline",     "ÀÉÎ",        "straße",   "İstanbul",
      "ｆｕｌｌ",    std::string("nul\0byte", 8), "ctl\x1f", "a/b", "ǅ", "del\x7f",
      "line\u2028sep", "\xef\xbb\xbf" "bom"};
  switch (f) {
    case Flavor::kStatus: return kStatus;
    case Flavor::kId: return kId;
    case Flavor::kNumStr: return kNumStr;
    case Flavor::kUnicode: return kUnicode;
    default: return kName;
  }
}

// Numbers as spelled in JSON payloads and in programs.
inline const std::vector<std::string>& NumberPool(Flavor f) {
  static const std::vector<std::string> kSmall = {"0", "1", "2", "3", "5", "7", "10", "12", "20",
                                                  "3.0", "1e1", "-0", "4"};
  static const std::vector<std::string> kFrac = {"1.5",   "0.1",  "2.25",  "-0.5",
                                                 "3.0",   "1e-7", "0.30000000000000004",
                                                 "99.99", "15e-1", "0.5",  "2.5", "1E2"};
  static const std::vector<std::string> kBig = {
      "1e17",       "100000000000000000",    "12345678901234567890", "9007199254740993",
      "1.7976931348623157e308", "-9223372036854775808", "4294967296", "2147483648",
      "1e300",      "123456789012345678901234567890", "2147483647", "-2147483649",
      "0e5",        "1E+2", "-0e0", "4.9e-324", "1e-320"};
  static const std::vector<std::string> kNeg = {"-1.5", "-3", "-0", "-0.0", "-100", "-1e-3",
                                                "-2", "-7", "-2.5"};
  static const std::vector<std::string> kEpoch = {
      "1709634030", "0", "-86400", "1709634030.5", "253402300800", "-62135596800",
      "951782400",  "1709634030.999", "86399.5", "-1", "4102444800"};
  switch (f) {
    case Flavor::kFrac: return kFrac;
    case Flavor::kBig: return kBig;
    case Flavor::kNeg: return kNeg;
    case Flavor::kEpoch: return kEpoch;
    default: return kSmall;
  }
}

inline std::string IsoDate(Rng& rng, bool frac) {
  // 1900..2200, leap days, the epoch, and some impossible dates glibc strptime accepts anyway.
  static const std::vector<std::string> kFixed = {
      "1970-01-01T00:00:00Z", "2024-02-29T23:59:59Z", "1969-12-31T23:59:59Z",
      "2000-01-01T00:00:00Z", "2024-02-30T10:00:00Z", "2038-01-19T03:14:08Z",
      "1900-03-01T12:00:00Z", "2199-12-31T00:00:00Z", "2024-03-05T10:20:60Z"};
  std::string s;
  if (rng.Chance(0.3)) {
    s = kFixed[rng.Below(kFixed.size())];
  } else {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ",
                  static_cast<int>(rng.Between(1950, 2100)), static_cast<int>(rng.Between(1, 12)),
                  static_cast<int>(rng.Between(1, 28)), static_cast<int>(rng.Between(0, 23)),
                  static_cast<int>(rng.Between(0, 59)), static_cast<int>(rng.Between(0, 59)));
    s = buf;
  }
  if (frac) {
    static const std::vector<std::string> kFrac = {".5", ".123", ".000", ".999999", ".1"};
    s.insert(s.size() - 1, kFrac[rng.Below(kFrac.size())]);
  }
  return s;
}

inline std::string BadDate(Rng& rng) {
  static const std::vector<std::string> kBad = {
      "2024-03-05",       "2024-03-05T10:20:30+01:00", "2024-13-01T00:00:00Z",
      "not a date",       "2024-03-05 10:20:30Z",      "",
      "2024-03-05T10:20:30z", "99999-01-01T00:00:00Z", "2024-3-5T1:2:3Z"};
  return kBad[rng.Below(kBad.size())];
}

// ---------------------------------------------------------------------------------------------
// Payloads: JSON text written directly, so number spellings (-0, 1E2, 12345678901234567890) and
// string escapes (\u00e9, surrogate pairs, \/) vary.

class PayloadGen {
 public:
  explicit PayloadGen(uint64_t seed) : rng_(seed) {}

  std::string Next() {
    std::string out;
    if (rng_.Chance(0.04)) {
      Random(2, false, &out);  // not an object: `.a` errors
    } else {
      Value(Schema::Get().root(), 0, false, &out);
    }
    return out;
  }

 private:
  void Ws(std::string* out) {
    if (rng_.Chance(0.03)) out->append(rng_.Chance(0.5) ? "\n  " : " ");
  }

  void Str(std::string_view s, std::string* out) {
    out->push_back('"');
    size_t i = 0;
    while (i < s.size()) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c == '"') {
        out->append("\\\"");
      } else if (c == '\\') {
        out->append("\\\\");
      } else if (c == '\n' && rng_.Chance(0.7)) {
        out->append("\\n");
      } else if (c == '\t' && rng_.Chance(0.7)) {
        out->append("\\t");
      } else if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out->append(buf);
      } else if (c == '/' && rng_.Chance(0.5)) {
        out->append("\\/");
      } else if (c >= 0x80) {
        const int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (rng_.Chance(0.7)) {  // raw UTF-8
          out->append(s.substr(i, len));
          i += len;
          continue;
        }
        // One code point as \u escapes (a surrogate pair above U+FFFF).
        uint32_t cp = c & (len == 4 ? 0x07 : len == 3 ? 0x0F : 0x1F);
        for (int k = 1; k < len && i + k < s.size(); ++k) {
          cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
        }
        char buf[16];
        if (cp >= 0x10000) {
          cp -= 0x10000;
          std::snprintf(buf, sizeof buf, "\\u%04X\\u%04x", 0xD800 + (cp >> 10),
                        0xDC00 + (cp & 0x3FF));
        } else {
          std::snprintf(buf, sizeof buf, rng_.Chance(0.5) ? "\\u%04x" : "\\u%04X", cp);
        }
        out->append(buf);
        i += len;
        continue;
      } else if (c < 0x80 && c >= 'a' && c <= 'z' && rng_.Chance(0.02)) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out->append(buf);
      } else {
        out->push_back(static_cast<char>(c));
      }
      ++i;
    }
    out->push_back('"');
  }

  void Scalar(Kind k, Flavor f, std::string* out) {
    switch (k) {
      case Kind::kNull: out->append("null"); return;
      case Kind::kBool: out->append(rng_.Chance(0.5) ? "true" : "false"); return;
      case Kind::kNum: {
        const auto& pool = NumberPool(f);
        out->append(pool[rng_.Below(pool.size())]);
        return;
      }
      case Kind::kStr:
        if (f == Flavor::kDate || f == Flavor::kDateFrac) {
          const double r = rng_.Uniform();
          if (r < 0.08) {
            Str(BadDate(rng_), out);
          } else {
            Str(IsoDate(rng_, f == Flavor::kDateFrac ? r < 0.6 : r < 0.12), out);
          }
          return;
        }
        {
          const auto& pool = StringPool(f);
          Str(pool[rng_.Below(pool.size())], out);
        }
        return;
      default: out->append("null"); return;
    }
  }

  // Any value; `small_only` keeps numbers small and strings out (string-repeat counts).
  void Random(int depth, bool small_only, std::string* out) {
    const int choice = static_cast<int>(rng_.Below(depth > 0 ? 9 : 7));
    switch (choice) {
      case 0: out->append("null"); return;
      case 1: Scalar(Kind::kBool, Flavor::kNone, out); return;
      case 2: Scalar(Kind::kNum, Flavor::kSmall, out); return;
      case 3: Scalar(Kind::kNum, small_only ? Flavor::kSmall : Flavor::kFrac, out); return;
      case 4:
        if (small_only) {
          out->append("[]");
        } else {
          Scalar(Kind::kStr, rng_.Chance(0.5) ? Flavor::kName : Flavor::kNumStr, out);
        }
        return;
      case 5: out->append(rng_.Chance(0.5) ? "[]" : "{}"); return;
      case 6:
        if (small_only) {
          out->append("false");
        } else {
          Scalar(Kind::kStr, Flavor::kDate, out);
        }
        return;
      case 7: {
        out->push_back('[');
        const int n = static_cast<int>(rng_.Below(4));
        for (int i = 0; i < n; ++i) {
          if (i > 0) out->push_back(',');
          Random(depth - 1, small_only, out);
        }
        out->push_back(']');
        return;
      }
      default: {
        static const std::vector<std::string> kKeys = {"a", "b", "name", "n", "x", "A", ""};
        out->push_back('{');
        const int n = static_cast<int>(rng_.Below(3));
        for (int i = 0; i < n; ++i) {
          if (i > 0) out->push_back(',');
          Str(kKeys[rng_.Below(kKeys.size())], out);
          out->push_back(':');
          Random(depth - 1, small_only, out);
        }
        out->push_back('}');
        return;
      }
    }
  }

  void Value(const Node* n, int depth, bool small_only, std::string* out) {
    // Sometimes a value of another type (type errors), small ones for repeat counts.
    if (depth > 0 && rng_.Chance(0.1)) {
      Random(2, small_only || n->flavor == Flavor::kSmall, out);
      return;
    }
    if (depth > 0 && rng_.Chance(0.03)) {
      out->append("null");
      return;
    }
    switch (n->kind) {
      case Kind::kObj: {
        out->push_back('{');
        std::vector<size_t> order(n->fields.size());
        for (size_t i = 0; i < order.size(); ++i) order[i] = i;
        if (rng_.Chance(0.2)) {
          for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng_.Below(i)]);
        }
        bool first = true;
        auto member = [&](std::string_view key, const std::function<void()>& value) {
          if (!first) out->push_back(',');
          first = false;
          Ws(out);
          Str(key, out);
          out->push_back(':');
          Ws(out);
          value();
        };
        for (size_t i : order) {
          if (rng_.Chance(0.08)) continue;  // missing key
          const auto& [key, child] = n->fields[i];
          member(key, [&] { Value(child, depth + 1, small_only, out); });
        }
        if (rng_.Chance(0.1)) member("extra", [&] { Random(1, false, out); });
        if (rng_.Chance(0.015) && !n->fields.empty()) {  // duplicate key: jq keeps the last value
          const auto& [key, child] = n->fields[rng_.Below(n->fields.size())];
          member(key, [&] { Value(child, depth + 1, small_only, out); });
        }
        Ws(out);
        out->push_back('}');
        return;
      }
      case Kind::kArr: {
        out->push_back('[');
        const int len = rng_.Chance(0.15) ? 0 : static_cast<int>(rng_.Between(1, 4));
        for (int i = 0; i < len; ++i) {
          if (i > 0) out->push_back(',');
          if (n->elem != nullptr) {
            Value(n->elem, depth + 1, small_only, out);
          } else {
            Random(2, false, out);
          }
        }
        out->push_back(']');
        return;
      }
      case Kind::kAny: Random(2, small_only, out); return;
      default: Scalar(n->kind, n->flavor, out); return;
    }
  }

  Rng rng_;
};

// ---------------------------------------------------------------------------------------------
// Programs.

// Precedence of a generated expression, to know when it needs parentheses.
enum Prec : int {
  kPipe = 0,  // `|`, `as`, `if` (not a term in 1.6)
  kComma = 1,
  kAlt = 2,  // `//`
  kOr = 3,
  kAnd = 4,
  kCmp = 5,  // non-associative
  kAdd = 6,  // also unary minus
  kMul = 7,
  kTry = 8,   // `E?` on anything but a path: an Exp in jq 1.6, not a Term
  kCall = 9,  // function calls, string literals, numbers: terms, but no postfix here
  kTerm = 10,  // paths, variables, (...), [...], {...}: postfix `.a`, `[0]` allowed
};

struct Ex {
  std::string s;
  const Node* shape = nullptr;  // what it produces, when known
  int prec = kTerm;
};

class ProgramGen {
 public:
  explicit ProgramGen(uint64_t seed) : rng_(seed) {}

  std::string Next() {
    vars_.clear();
    outside_ = rng_.Chance(0.04);
    const int depth = static_cast<int>(rng_.Chance(0.1) ? rng_.Between(5, 6) : rng_.Between(1, 4));
    Ex e = Gen(Schema::Get().root(), Kind::kAny, depth);
    return e.s;
  }

 private:
  // --- helpers -------------------------------------------------------------------------------
  int Weighted(std::initializer_list<double> weights) {
    double total = 0;
    for (double w : weights) total += w;
    double r = rng_.Uniform() * total;
    int i = 0;
    for (double w : weights) {
      if (r < w) return i;
      r -= w;
      ++i;
    }
    return i - 1;
  }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[rng_.Below(v.size())];
  }

  static std::string Quote(std::string_view s) {  // a jq string literal
    std::string out = "\"";
    for (unsigned char c : s) {
      if (c == '"' || c == '\\') {
        out.push_back('\\');
        out.push_back(static_cast<char>(c));
      } else if (c == '\n') {
        out.append("\\n");
      } else if (c == '\t') {
        out.append("\\t");
      } else if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out.append(buf);
      } else {
        out.push_back(static_cast<char>(c));
      }
    }
    out.push_back('"');
    return out;
  }

  // `e` as an operand that needs precedence `p` or tighter. Sometimes the parentheses are left
  // out on purpose (binary operators only, never around comparisons, which do not associate):
  // the parse then differs from the generator's intent, which both engines must agree on.
  std::string Wrap(const Ex& e, int p) {
    if (e.prec >= p) return e.s;
    if ((e.prec == kOr || e.prec == kAnd || e.prec == kAdd || e.prec == kMul) && p != kTerm &&
        p != kCall && p != kTry && p != kCmp + 1 && rng_.Chance(0.15)) {
      return e.s;
    }
    return "(" + e.s + ")";
  }
  Ex Bin(const Ex& a, std::string_view op, const Ex& b, int prec, const Node* shape) {
    return {Wrap(a, prec + 1) + " " + std::string(op) + " " + Wrap(b, prec + 1), shape, prec};
  }
  Ex Pipe(const Ex& a, const std::string& f, const Node* shape) {
    return {a.s + " | " + f, shape, kPipe};
  }
  const Node* LeafOf(Kind k) { return Schema::Get().Leaf(k); }
  static bool Matches(const Node* n, Kind want) {
    return want == Kind::kAny || (n != nullptr && n->kind == want);
  }

  Kind RandomKind() {
    static constexpr Kind kKinds[] = {Kind::kNum, Kind::kStr, Kind::kBool,
                                      Kind::kArr, Kind::kObj, Kind::kNull};
    return kKinds[Weighted({3, 3.5, 2, 1.5, 1.5, 0.3})];
  }

  // --- literals ------------------------------------------------------------------------------
  std::string StrLit() {
    static const std::vector<std::string> kLits = {
        R"("a")",   R"("")",      R"("Hello World")", R"("é")",   R"("\u00e9")",  R"("a\"b")",
        R"("\\")",  R"("tab\t")", R"("\n")",          R"("😀")",  R"("\ud83d\ude00")",
        R"("open")", R"(",")",    R"(" ")",           R"("-")",   R"("2024-03-05T10:20:30Z")",
        R"("12")",  R"("1.5")",   R"("T")",           R"("Z")",   R"("\/")",      R"("Alice")",
        R"("ALICE")", R"("x")",   R"("ß")",           R"("ab")",  R"("10")",      R"("\u0000")"};
    if (rng_.Chance(0.03)) return "'single'";  // Port's dialect, rewritten to "single"
    if (rng_.Chance(0.25)) {
      const auto& pool = StringPool(static_cast<Flavor>(rng_.Between(1, 8)));
      return Quote(pool[rng_.Below(pool.size())]);
    }
    return Pick(kLits);
  }
  // A string argument likely to occur in payload strings.
  std::string Needle() {
    static const std::vector<std::string> kNeedles = {
        R"("a")",  R"("A")",  R"("Al")", R"("open")", R"("2024")", R"("Z")",   R"(" ")",
        R"("-")",  R"("é")",  R"("")",   R"(",")",    R"("x")",    R"("ice")", R"("T")",
        R"("PR-")", R"("o")", R"("😀")", R"("\\")"};
    if (rng_.Chance(0.04)) return Pick(std::vector<std::string>{"1", "null", "[\"a\"]"});
    return Pick(kNeedles);
  }
  Ex NumLit() {
    static const std::vector<std::string> kLits = {
        "0", "1", "2", "3", "10", "100", "1.5", "0.1", "2.5", "1e3", "1E-2", "1e17",
        "12345678901234567890", "9007199254740993", "0.30000000000000004", "1e300", "3.0",
        "0.5", "7", "1000000", "1e-5", "4294967296"};
    if (rng_.Chance(0.1)) {
      static const std::vector<std::string> kNeg = {"-1", "-2.5", "-0", "-100", "-1e17"};
      return {Pick(kNeg), LeafOf(Kind::kNum), kAdd};
    }
    if (rng_.Chance(0.02)) return {".5", LeafOf(Kind::kNum), kCall};
    return {Pick(kLits), LeafOf(Kind::kNum), kCall};
  }
  // Safe right operand for `%`: libjq 1.6 computes (intmax_t)a % (intmax_t)b, which traps for
  // a divisor of -1 with a = INT64_MIN; and may fold two constants at compile time.
  std::string ModOperand() {
    static const std::vector<std::string> kMods = {"2", "3", "7", "10", "1.5", "2.5",
                                                   "-2", "-3", "100", "1e17"};
    if (rng_.Chance(0.1)) {
      Ex p = PathTo(Schema::Get().root(), Kind::kNum, false, 1);
      if (p.shape != nullptr && p.shape->flavor == Flavor::kSmall) {
        return "(" + p.s + " - " + p.s + ")";  // a zero divisor (or a type error)
      }
    }
    return Pick(kMods);
  }
  // Count for string repetition and friends: never large (libjq would build the string).
  std::string SmallOperand(const Node* ctx) {
    if (rng_.Chance(0.2) && ctx == Schema::Get().root()) {
      return Pick(std::vector<std::string>{".n", ".count", ".meta.a"});
    }
    return Pick(std::vector<std::string>{"0", "1", "2", "3", "0.5", "1.5", "-1", "null", "10"});
  }

  // Input for `todate`. libjq 1.6 aborts the process (an assertion in jv_array_get) when
  // gmtime fails, i.e. for |t| above ~6.7e16 seconds, NaN or infinity: only fields and literals
  // that never hold such numbers.
  Ex EpochSource(const Node* ctx) {
    // `.` only when it is a payload field (the generic number leaf may be computed, huge).
    if (ctx != nullptr && ctx->kind == Kind::kNum && ctx->flavor != Flavor::kBig &&
        ctx != LeafOf(Kind::kNum) && rng_.Chance(0.5)) {
      return {".", ctx, kTerm};
    }
    if (ctx == Schema::Get().root() && rng_.Chance(0.7)) {
      return {Pick(std::vector<std::string>{".ts", ".ts", ".ts", ".n", ".price", ".neg", ".count",
                                            ".meta.a", ".items[0].id", ".items[].n", ".nums[0]",
                                            "(.created | fromdateiso8601)", ".flag", ".name"}),
              nullptr, kPipe};
    }
    return {Pick(std::vector<std::string>{"0", "1709634030", "-1", "1.5", "1e9", "253402300799",
                                          "-62135596800", "951782400.25", "-0.5", "null", "\"x\""}),
            nullptr, kCall};
  }

  // A regular expression from the documented subset, as a jq string literal. `nonempty`: it
  // cannot match the empty string. libjq 1.6's global match (gsub, sub with "g", split/2)
  // crashes (SIGSEGV in f_match) on an empty match in a string with non-ASCII text.
  std::string Regex(bool nonempty = false) {
    static const std::vector<std::string> kAtoms = {
        "a", "e", "o", "A", "l", "-", ":", "T", "Z", "0", "2", " ", "x", "é", ".", ".",
        "[a-z]", "[0-9]", "[^a-z]", "[A-Z]", "[aeiou]", "[^ ]", "\\d", "\\s", "\\w", "\\.", "\\-"};
    std::string re;
    const int alts = rng_.Chance(0.15) ? 2 : 1;
    for (int a = 0; a < alts; ++a) {
      if (a > 0) re += "|";
      if (rng_.Chance(0.15)) re += "^";
      const int pieces = static_cast<int>(rng_.Between(1, 3));
      const int solid = static_cast<int>(rng_.Below(pieces));  // keeps `nonempty`
      for (int i = 0; i < pieces; ++i) {
        if (rng_.Chance(0.05)) {
          // Outside the common subset (groups, counted repetition, POSIX and Unicode classes,
          // inline options, word boundaries, lazy quantifiers): native must reject these or
          // get them right. Zero-width ones never stand in for the piece that keeps `nonempty`.
          static const std::vector<std::string> kSolid = {
              "(ab|c)", "a{2}", "[a-z]{1,2}", "[[:alpha:]]", "\\p{L}", "[a-]", "(?:x|e)",
              "(?i)a", "[]a]", "\\u00e9"};
          static const std::vector<std::string> kZeroWidth = {"\\b", ".*?", "a{0,2}", "(?=a)"};
          re += nonempty && i == solid ? Pick(kSolid)
                                       : (rng_.Chance(0.6) ? Pick(kSolid) : Pick(kZeroWidth));
          continue;
        }
        re += Pick(kAtoms);
        switch (nonempty && i == solid ? Weighted({7, 0, 1, 0}) : Weighted({7, 1, 1, 1})) {
          case 1: re += "*"; break;
          case 2: re += "+"; break;
          case 3: re += "?"; break;
          default: break;
        }
      }
      if (rng_.Chance(0.15)) re += "$";
    }
    return Quote(re);
  }
  std::string Flags() {
    static const std::vector<std::string> kFlags = {R"("")", R"("g")", R"("i")", R"("gi")"};
    // Other Oniguruma flags (extended, single line, no empty matches, ...), rarely.
    static const std::vector<std::string> kOther = {R"("x")", R"("gx")", R"("s")", R"("n")",
                                                    R"("l")", R"("ig")", R"("p")"};
    return rng_.Chance(0.05) ? Pick(kOther) : Pick(kFlags);
  }

  // --- paths ---------------------------------------------------------------------------------
  struct Cand {
    std::string text;
    const Node* node;
  };
  static bool IsIdent(std::string_view k) {
    if (k.empty() || !(std::isalpha(static_cast<unsigned char>(k[0])) || k[0] == '_')) {
      return false;
    }
    for (char c : k) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
    }
    return true;
  }
  std::string KeyStep(const std::string& prefix, std::string_view key) {
    const double r = rng_.Uniform();
    if (IsIdent(key) && r < 0.88) return "." + std::string(key);
    if (r < 0.97 || !IsIdent(key)) return "." + Quote(key);
    return (prefix.empty() ? "." : "") + ("[" + Quote(key) + "]");
  }
  std::string IndexStep(const std::string& prefix) {
    static const std::vector<std::string> kIdx = {"0", "0", "1", "-1", "2", "5", "-5", "1.5",
                                                  "-0", "1e9"};
    std::string s = "[" + Pick(kIdx) + "]";
    return prefix.empty() ? "." + s : s;
  }
  std::string SliceStep(const std::string& prefix) {
    static const std::vector<std::string> kSlices = {"1:", ":2", "-2:", "1:3", ":-1", "0:1",
                                                     "2:1", "1.5:", ":1.5", "-10:10", "5:"};
    std::string s = "[" + Pick(kSlices) + "]";
    return prefix.empty() ? "." + s : s;
  }
  std::string Maybe(std::string s) {
    if (rng_.Chance(0.04)) s += "?";
    return s;
  }

  void Collect(const Node* n, const std::string& prefix, int steps, Kind want, bool iter,
               std::vector<Cand>* out) {
    if (n == nullptr) return;
    if (Matches(n, want)) out->push_back({prefix.empty() ? "." : prefix, n});
    if (steps == 0) return;
    if (n->kind == Kind::kObj) {
      for (const auto& [key, child] : n->fields) {
        Collect(child, Maybe(prefix + KeyStep(prefix, key)), steps - 1, want, iter, out);
      }
    } else if (n->kind == Kind::kArr) {
      Collect(n->elem, Maybe(prefix + IndexStep(prefix)), steps - 1, want, iter, out);
      if (iter) Collect(n->elem, Maybe(prefix + (prefix.empty() ? ".[]" : "[]")), steps - 1, want, iter, out);
      if (steps >= 2 && rng_.Chance(0.3)) {
        Collect(n, prefix + SliceStep(prefix), steps - 2, want, iter, out);
      }
    }
  }

  // A path from `ctx` to a value of kind `want` (the first candidate found by a random
  // choice); sometimes a missing key instead.
  Ex PathTo(const Node* ctx, Kind want, bool iter, int max_steps = 3) {
    std::vector<Cand> cands;
    Collect(ctx, "", max_steps, want, iter, &cands);
    if (cands.empty() || rng_.Chance(0.06)) {
      static const std::vector<std::string> kMissing = {".nope", ".Name", ".a.b", ".[\"\"]", ".x?",
                                                        ".items[9]", ".meta.zzz"};
      if (!cands.empty() && rng_.Chance(0.5)) {
        const Cand& c = Pick(cands);
        std::string t = c.text == "." ? ".missing" : c.text + ".missing";
        return {t, nullptr, kTerm};
      }
      return {Pick(kMissing), nullptr, kTerm};
    }
    const Cand& c = Pick(cands);
    return {c.text, c.node, kTerm};
  }

  static bool IsConstant(const std::string& s) {
    if (s == "null" || s == "true" || s == "false" || s.empty()) return true;
    const char* begin = s.c_str();
    if (*begin == '-') ++begin;
    char* end = nullptr;
    std::strtod(begin, &end);
    return end != begin && *end == '\0';
  }

  Ex Var(Kind want) {
    std::vector<size_t> ok;
    for (size_t i = 0; i < vars_.size(); ++i) {
      if (Matches(vars_[i].second, want)) ok.push_back(i);
    }
    if (ok.empty()) return {};
    const auto& [name, shape] = vars_[ok[rng_.Below(ok.size())]];
    return {"$" + name, shape, kTerm};
  }

  // --- expressions ---------------------------------------------------------------------------
  Ex Gen(const Node* ctx, Kind want, int d) {
    if (want != Kind::kAny && rng_.Chance(0.07)) want = Kind::kAny;  // type confusion
    if (want == Kind::kAny) want = RandomKind();
    if (d > 0 && rng_.Chance(d >= 2 ? 0.3 : 0.15)) return Control(ctx, want, d);
    if (d > 0 && rng_.Chance(0.3)) return Convert(ctx, want, d);
    if (!vars_.empty() && rng_.Chance(0.12)) {
      Ex v = Var(want);
      if (!v.s.empty()) return v;
    }
    switch (want) {
      case Kind::kNum: return Num(ctx, d);
      case Kind::kStr: return Str(ctx, d);
      case Kind::kBool: return Bool(ctx, d);
      case Kind::kArr: return Arr(ctx, d);
      case Kind::kObj: return Obj(ctx, d);
      default:
        switch (Weighted({1, 1, 1})) {
          case 0: return {"null", LeafOf(Kind::kNull), kCall};
          case 1: return PathTo(ctx, Kind::kNull, false);
          default: return {".nope", nullptr, kTerm};
        }
    }
  }

  Ex Num(const Node* ctx, int d) {
    switch (Weighted({4, 2, d > 0 ? 3.0 : 0.0, 1, d > 0 ? 0.7 : 0.0})) {
      case 0: return PathTo(ctx, Kind::kNum, rng_.Chance(0.3));
      case 1: return NumLit();
      case 2: {
        const Ex a = Gen(ctx, Kind::kNum, d - 1);
        switch (Weighted({3, 2, 1.5, 1.5, 1})) {
          case 0: return Bin(a, "+", Gen(ctx, Kind::kNum, d - 1), kAdd, LeafOf(Kind::kNum));
          case 1: return Bin(a, "-", Gen(ctx, Kind::kNum, d - 1), kAdd, LeafOf(Kind::kNum));
          case 2:
            return Bin(a, "*", {SmallOperand(ctx), nullptr, kCall}, kMul, LeafOf(Kind::kNum));
          case 3: return Bin(a, "/", Gen(ctx, Kind::kNum, d - 1), kMul, LeafOf(Kind::kNum));
          default: return Bin(a, "%", {ModOperand(), nullptr, kCall}, kMul, LeafOf(Kind::kNum));
        }
      }
      case 3: {
        Ex v = Var(Kind::kNum);
        return v.s.empty() ? NumLit() : v;
      }
      default: {
        const Ex a = Gen(ctx, Kind::kNum, d - 1);
        return {"-" + Wrap(a, kTerm), LeafOf(Kind::kNum), kAdd};
      }
    }
  }

  Ex Str(const Node* ctx, int d) {
    switch (Weighted({4, 2, d > 0 ? 1.5 : 0.0, d > 0 ? 1.0 : 0.0, d > 0 ? 0.4 : 0.0})) {
      case 0: return PathTo(ctx, Kind::kStr, rng_.Chance(0.3));
      case 1: return {StrLit(), LeafOf(Kind::kStr), kCall};
      case 2: {  // interpolation
        std::string s = "\"";
        const int parts = static_cast<int>(rng_.Between(1, 2));
        static const std::vector<std::string> kText = {"", "x", "id=", " - ", "é", "\\\"", "\\n",
                                                       ": "};
        for (int i = 0; i < parts; ++i) {
          s += Pick(kText);
          s += "\\(" + Gen(ctx, Kind::kAny, d - 1).s + ")";
        }
        s += Pick(kText) + "\"";
        return {s, LeafOf(Kind::kStr), kCall};
      }
      case 3:
        return Bin(Gen(ctx, Kind::kStr, d - 1), "+", Gen(ctx, Kind::kStr, d - 1), kAdd,
                   LeafOf(Kind::kStr));
      default:
        return Bin(Gen(ctx, Kind::kStr, d - 1), "*", {SmallOperand(ctx), nullptr, kCall}, kMul,
                   LeafOf(Kind::kStr));
    }
  }

  Ex Bool(const Node* ctx, int d) {
    switch (Weighted({d > 0 ? 4.0 : 0.0, d > 0 ? 1.5 : 0.0, 1, 1.5})) {
      case 0: {
        static const std::vector<std::string> kOps = {"==", "!=", "<", "<=", ">", ">="};
        const Kind k = rng_.Chance(0.8) ? Pick(std::vector<Kind>{Kind::kNum, Kind::kNum, Kind::kStr,
                                                                 Kind::kStr, Kind::kNull,
                                                                 Kind::kArr, Kind::kObj, Kind::kBool})
                                        : Kind::kAny;
        const Ex a = Gen(ctx, k, d - 1);
        const Ex b = Gen(ctx, k == Kind::kAny ? Kind::kAny : k, d - 1);
        return Bin(a, Pick(kOps), b, kCmp, LeafOf(Kind::kBool));
      }
      case 1: {
        const bool is_and = rng_.Chance(0.5);
        return Bin(Gen(ctx, Kind::kBool, d - 1), is_and ? "and" : "or", Gen(ctx, Kind::kBool, d - 1),
                   is_and ? kAnd : kOr, LeafOf(Kind::kBool));
      }
      case 2: return {rng_.Chance(0.5) ? "true" : "false", LeafOf(Kind::kBool), kCall};
      default: return PathTo(ctx, Kind::kBool, rng_.Chance(0.3));
    }
  }

  Ex Arr(const Node* ctx, int d) {
    switch (Weighted({3, d > 0 ? 2.0 : 0.3, d > 0 ? 1.5 : 0.0, d > 0 ? 1.0 : 0.0})) {
      case 0: return PathTo(ctx, Kind::kArr, rng_.Chance(0.2));
      case 1: {
        const int n = d > 0 ? static_cast<int>(rng_.Below(4)) : 0;
        std::string s = "[";
        const Kind k = rng_.Chance(0.6) ? RandomKind() : Kind::kAny;
        for (int i = 0; i < n; ++i) {
          if (i > 0) s += ", ";
          s += Wrap(Gen(ctx, k, d - 1), kComma + 1);
        }
        s += "]";
        return {s, k == Kind::kStr   ? Schema::Get().str_array()
                   : k == Kind::kNum ? Schema::Get().computed_num_array()
                                     : LeafOf(Kind::kArr),
                kTerm};
      }
      case 2: {  // [ generator ]
        Ex src = PathTo(ctx, Kind::kArr, false);
        const Node* elem = src.shape != nullptr ? src.shape->elem : nullptr;
        std::string body = src.s == "." ? ".[]" : src.s + "[]";
        if (rng_.Chance(0.7)) body += " | " + Gen(elem, Kind::kAny, d - 1).s;
        return {"[" + body + "]", LeafOf(Kind::kArr), kTerm};
      }
      default: {
        const bool plus = rng_.Chance(0.6);
        return Bin(Gen(ctx, Kind::kArr, d - 1), plus ? "+" : "-", Gen(ctx, Kind::kArr, d - 1),
                   kAdd, LeafOf(Kind::kArr));
      }
    }
  }

  Ex Obj(const Node* ctx, int d) {
    switch (Weighted({1.5, d > 0 ? 3.0 : 0.3, d > 0 ? 1.0 : 0.0})) {
      case 0: return PathTo(ctx, Kind::kObj, false);
      case 1: {
        const int n = d > 0 ? static_cast<int>(rng_.Between(1, 3)) : 0;
        std::string s = "{";
        static const std::vector<std::string> kKeys = {"a", "name", "id", "n", "x", "status"};
        for (int i = 0; i < n; ++i) {
          if (i > 0) s += ", ";
          switch (Weighted({4, 1.5, 1, 1, vars_.empty() ? 0.0 : 0.7})) {
            case 0: s += Pick(kKeys); break;
            case 1: s += Quote(Pick(std::vector<std::string>{"with space", "k-1", "é", "", "a"})); break;
            case 2: {
              // libjq rejects a constant key that is not a string at compile time.
              std::string key = Gen(ctx, Kind::kStr, d - 1).s;
              if (IsConstant(key) || (key[0] != '"' && key.find_first_of(".$") == std::string::npos) ||
                  key[0] == '{' || key[0] == '[') {
                key = ".name";
              }
              s += "(" + key + ")";
              break;
            }
            case 3:  // {name}: shorthand for name: .name
              s += Pick(std::vector<std::string>{"name", "id", "tags", "n", "zzz"});
              continue;
            default: s += Var(Kind::kAny).s; continue;  // {$v}
          }
          s += ": " + Wrap(Gen(ctx, Kind::kAny, d - 1), kCall);
        }
        s += "}";
        return {s, nullptr, kTerm};
      }
      default: {
        const bool plus = rng_.Chance(0.6);
        return Bin(Gen(ctx, Kind::kObj, d - 1), plus ? "+" : "*", Gen(ctx, Kind::kObj, d - 1),
                   plus ? kAdd : kMul, nullptr);
      }
    }
  }

  // `src | f` for an f that turns a value of kind `from` into kind `to`.
  Ex Convert(const Node* ctx, Kind to, int d) {
    struct T {
      Kind from;
      int id;
    };
    static const std::map<Kind, std::vector<T>> kByTarget = {
        {Kind::kStr,
         {{Kind::kNum, 0}, {Kind::kNum, 1}, {Kind::kStr, 2}, {Kind::kStr, 3}, {Kind::kStr, 4},
          {Kind::kStr, 5}, {Kind::kStr, 6}, {Kind::kArr, 7}, {Kind::kAny, 8}, {Kind::kArr, 9},
          {Kind::kStr, 6}, {Kind::kNum, 1}}},
        {Kind::kNum,
         {{Kind::kStr, 20}, {Kind::kAny, 21}, {Kind::kStr, 22}, {Kind::kStr, 23},
          {Kind::kArr, 24}, {Kind::kNum, 25}, {Kind::kStr, 22}, {Kind::kArr, 26}}},
        {Kind::kBool,
         {{Kind::kStr, 40}, {Kind::kStr, 41}, {Kind::kAny, 42}, {Kind::kAny, 43}, {Kind::kNum, 44},
          {Kind::kStr, 40}}},
        {Kind::kArr,
         {{Kind::kStr, 60}, {Kind::kStr, 61}, {Kind::kArr, 62}, {Kind::kArr, 63}, {Kind::kStr, 64},
          {Kind::kArr, 62}, {Kind::kObj, 65}}},
        {Kind::kObj, {{Kind::kObj, 80}, {Kind::kAny, 81}}},
        {Kind::kNull, {{Kind::kAny, 100}}},
    };
    const auto it = kByTarget.find(to);
    if (it == kByTarget.end()) return Gen(ctx, to, d - 1);
    const T t = Pick(it->second);
    Ex src;
    std::string bare;  // the filter applied to `.`
    const Node* src_shape;
    if (t.id == 1) {
      src = EpochSource(ctx);
    } else if (Matches(ctx, t.from) && t.from != Kind::kAny && rng_.Chance(0.35)) {
      src = {".", ctx, kTerm};
    } else if (t.from == Kind::kStr && rng_.Chance(0.5) && (t.id == 22 || t.id == 23 || t.id == 64)) {
      src = PathTo(ctx, Kind::kStr, false);
      if (ctx == Schema::Get().root() && rng_.Chance(0.8)) {
        src = {Pick(std::vector<std::string>{".created", ".updated", ".meta.created",
                                             ".items[0].created", ".items[].created"}),
               Schema::Get().date(), kTerm};
      }
    } else {
      src = Gen(ctx, t.from, d - 1);
    }
    src_shape = src.shape;
    const Node* elem = src_shape != nullptr && src_shape->kind == Kind::kArr ? src_shape->elem : nullptr;
    const Node* out = LeafOf(to);
    static const std::string kFmt = R"("%Y-%m-%dT%H:%M:%SZ")";
    if (outside_ && rng_.Chance(0.25)) {
      bare = Pick(std::vector<std::string>{"keys", "type", "tojson", "has(\"a\")", "to_entries",
                                           "add", "sort", "floor", "@base64", "first(.[])",
                                           "reverse", "min", "unique", "utf8bytelength",
                                           "[splits(\"a\")]", "tostream", "[paths]",
                                           "explode", "@json", "infinite", "nan",
                                           "reduce .[] as $q (0; . + 1)", "limit(1; .[])",
                                           "getpath([\"a\"])", "with_entries(.)", "any", "all",
                                           "env", "$ENV", "input_line_number", "splits(\", \")",
                                           "index(\"a\")", "ltrimstr(\"a\") | rtrimstr(\"b\")"});
      return Pipe(src, bare, nullptr);
    }
    switch (t.id) {
      case 0: bare = "tostring"; break;
      case 1: bare = "todate"; break;
      case 2:
        if (rng_.Chance(0.15)) {  // a date string round trip through broken-down time
          bare = "strptime(" + kFmt + ") | todate";
          break;
        }
        bare = rng_.Chance(0.5) ? "ascii_downcase" : "ascii_upcase";
        break;
      case 3: bare = (rng_.Chance(0.5) ? "ltrimstr(" : "rtrimstr(") + Needle() + ")"; break;
      case 4: {
        const bool g = rng_.Chance(0.5);
        static const std::vector<std::string> kRepl = {R"("")", R"("-")", R"("X")", R"("\\")",
                                                       R"("é")", R"("<\(.)>")", R"("$1")"};
        std::string repl = Pick(kRepl);
        if (!vars_.empty() && rng_.Chance(0.1)) repl = "\"[\\(" + Var(Kind::kAny).s + ")]\"";
        const std::string flags = rng_.Chance(0.4) ? Flags() : "";
        const bool global = g || flags.find('g') != std::string::npos;
        std::string re = Regex(global);
        if (rng_.Chance(0.1)) {  // named captures, used by the replacement
          re = Quote(Pick(std::vector<std::string>{"(?<x>[a-z]+)", "(?<x>\\d)(?<y>.)",
                                                   "(?<x>a)|(?<y>o)", "(?<x>[A-Z])"}));
          repl = Pick(std::vector<std::string>{R"j("<\(.x)>")j", R"j("\(.y)\(.x)")j",
                                               R"j("\(.x | ascii_upcase)")j", R"j("\(.)")j"});
        }
        bare = std::string(g ? "gsub(" : "sub(") + re + "; " + repl +
               (flags.empty() ? "" : "; " + flags) + ")";
        break;
      }
      case 5: bare = "." + SliceStep("").substr(1); break;
      case 6: bare = ". + " + Wrap({StrLit(), nullptr, kCall}, kAdd + 1); break;
      case 7: bare = "join(" + Needle() + ")"; break;
      case 8: bare = "tostring"; break;
      case 9: bare = ".[0]"; out = elem; break;
      case 20: bare = "tonumber"; break;
      case 21: bare = "length"; break;
      case 22: bare = "fromdateiso8601"; break;
      case 23: bare = "strptime(" + kFmt + ") | mktime"; break;
      case 24: bare = rng_.Chance(0.5) ? "length" : ".[0]"; break;
      case 26: {  // mktime on broken-down times as written by hand
        static const std::vector<std::string> kTimes = {
            "[2024,2,5,10,20,30,2,64]", "[2024,2,5,10,20,30.5,0,0]", "[2024,13,40,25,61,61.5,0,0]",
            "[1e17,0,1,0,0,0,0,0]",     "[1969,11,31,23,59,59,0,0]", "[2024,1,2,3,4,5]",
            "[1970,0,1,0,0,0,0,0,9]",   "[\"2024\",0,1,0,0,0,0,0]", "[-1,0,1,0,0,0,0,0]",
            "[2000,0,1,0,0,-1.5,0,0]"};
        return Pipe({Pick(kTimes), nullptr, kTerm}, "mktime", LeafOf(Kind::kNum));
      }
      case 25:
        bare = Pick(std::vector<std::string>{". + 1", ". * 2", ". % " + ModOperand(), "-.",
                                             ". / 3", ". - 0.5", "length", "tostring | tonumber"});
        break;
      case 40:
        bare = rng_.Chance(0.7) ? "test(" + Regex() + (rng_.Chance(0.3) ? "; " + Flags() : "") + ")"
                                : "test(" + Needle() + ")";
        break;
      case 41: bare = (rng_.Chance(0.5) ? "startswith(" : "endswith(") + Needle() + ")"; break;
      case 42: bare = rng_.Chance(0.5) ? "not" : ". == null"; break;
      case 43: bare = "select(" + Gen(src_shape, Kind::kBool, d - 1).s + ") | true"; break;
      case 44: bare = ". > " + NumLit().s; break;
      case 60: bare = "split(" + Needle() + ")"; out = Schema::Get().str_array(); break;
      case 61:
        bare = rng_.Chance(0.7) ? "strptime(" + kFmt + ")"
                                : "split(" + Regex(true) + "; " + Flags() + ")";
        break;
      case 62: {
        const Ex f = Gen(elem, Kind::kAny, d - 1);
        bare = rng_.Chance(0.25) ? "map(select(" + Gen(elem, Kind::kBool, d - 1).s + "))"
                                 : "map(" + f.s + ")";
        break;
      }
      case 63: bare = "." + SliceStep("").substr(1); out = src_shape; break;
      case 64: bare = "strptime(" + kFmt + ")"; out = Schema::Get().computed_num_array(); break;
      case 65: bare = "map(" + Gen(nullptr, Kind::kAny, d - 1).s + ")"; break;
      case 80:
        bare = (rng_.Chance(0.6) ? ". + " : ". * ") + Obj(nullptr, d > 1 ? 1 : 0).s;
        break;
      case 81: bare = "{v: ., s: tostring}"; out = nullptr; break;
      default: bare = "null"; break;
    }
    if (src.s == "." && rng_.Chance(0.8)) return {bare, out, bare.find('|') == std::string::npos &&
                                                                  bare.find(' ') == std::string::npos
                                                              ? kCall
                                                              : kPipe};
    return Pipe(src, bare, out);
  }

  // Control flow and generators around an expression of kind `want`.
  Ex Control(const Node* ctx, Kind want, int d) {
    switch (Weighted({4, 1, 1.5, 1.5, 1.5, 1, 0.6, 0.6})) {
      case 0: {  // pipe into a sub-value
        Ex src = PathTo(ctx, Kind::kAny, rng_.Chance(0.35), 2);
        if (src.shape == nullptr && rng_.Chance(0.5)) src = Gen(ctx, Kind::kAny, d - 1);
        return Pipe(src, Gen(src.shape, want, d - 1).s, nullptr);
      }
      case 1:
        return Bin(Gen(ctx, want, d - 1), ",", Gen(ctx, want, d - 1), kComma, nullptr);
      case 2: {  // as $v
        static const std::vector<std::string> kNames = {"x", "y", "v", "n", "s"};
        const Ex bound = Gen(ctx, Kind::kAny, d - 1);
        const std::string name = Pick(kNames);
        vars_.emplace_back(name, bound.shape);
        const Ex body = Gen(ctx, want, d - 1);
        vars_.pop_back();
        return {Wrap(bound, kTerm) + " as $" + name + " | " + body.s, nullptr, kPipe};
      }
      case 3: {  // if
        std::string s = "if " + Gen(ctx, Kind::kBool, d - 1).s + " then " + Gen(ctx, want, d - 1).s;
        if (rng_.Chance(0.25)) {
          s += " elif " + Gen(ctx, Kind::kBool, d - 1).s + " then " + Gen(ctx, want, d - 1).s;
        }
        if (rng_.Chance(0.9)) s += " else " + Gen(ctx, want, d - 1).s;  // else: 1.7 syntax
        return {s + " end", nullptr, kPipe};
      }
      case 4: {  // alternative
        Ex a = rng_.Chance(0.6) ? PathTo(ctx, want, false) : Gen(ctx, want, d - 1);
        return {Wrap(a, kAlt + 1) + " // " + Wrap(Gen(ctx, want, d - 1), kAlt), nullptr, kAlt};
      }
      case 5: {  // select
        Ex src = rng_.Chance(0.6) ? PathTo(ctx, want, rng_.Chance(0.5)) : Gen(ctx, want, d - 1);
        return Pipe(src, "select(" + Gen(src.shape, Kind::kBool, d - 1).s + ")", src.shape);
      }
      case 6: {
        static const std::vector<std::string> kErr = {
            "empty", "error", R"(error("boom"))", "error(null)", R"(error({"a": 1}))",
            "error(.nope)"};
        const std::string e = Pick(kErr);
        if (rng_.Chance(0.5)) return {e, nullptr, kCall};
        return Bin(Gen(ctx, want, d - 1), ",", {e, nullptr, kCall}, kComma, nullptr);
      }
      default: {  // postfix ?
        const Ex e = Gen(ctx, want, d - 1);
        return {Wrap(e, kTerm) + "?", e.shape, kTry};
      }
    }
  }

  Rng rng_;
  bool outside_ = false;  // may use one builtin outside the native subset
  std::vector<std::pair<std::string, const Node*>> vars_;
};

// ---------------------------------------------------------------------------------------------
// The oracle: libjq through jq::Program, compiled in batches.

inline std::string IntText(long v) { return std::to_string(v); }

// `def _fz0: (P0); ...` and a binary dispatch on the input `[i, payload]`.
inline std::string BatchText(const std::vector<const std::string*>& programs) {
  std::string s;
  for (size_t i = 0; i < programs.size(); ++i) {
    s += "def _fz" + IntText(static_cast<long>(i)) + ": (" + *programs[i] + "\n);\n";
  }
  std::function<std::string(size_t, size_t)> dispatch = [&](size_t lo, size_t hi) -> std::string {
    if (hi - lo == 1) return "_fz" + IntText(static_cast<long>(lo));
    const size_t mid = (lo + hi) / 2;
    return "if $_fzi < " + IntText(static_cast<long>(mid)) + " then " + dispatch(lo, mid) +
           " else " + dispatch(mid, hi) + " end";
  };
  s += ".[0] as $_fzi | .[1] | " + dispatch(0, programs.size());
  return s;
}

inline std::string ShellQuote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

inline std::string RenderLibjq(const jq::Output& o) {
  switch (o.kind) {
    case jq::Output::Kind::kValue: return "value " + json::Write(o.value);
    case jq::Output::Kind::kEmpty: return "empty";
    case jq::Output::Kind::kError: return "error: " + o.error;
  }
  return "?";
}

inline std::string RenderNative(jq::native::Program::Outcome o, const json::Value& v) {
  switch (o) {
    case jq::native::Program::Outcome::kValue: return "value " + json::Write(v);
    case jq::native::Program::Outcome::kEmpty: return "empty";
    case jq::native::Program::Outcome::kFallback: return "fallback";
  }
  return "?";
}

enum class Verdict { kAgree, kFallback, kFallbackOnError, kFailure };

inline Verdict Judge(const jq::Output& lib, jq::native::Program::Outcome o, const json::Value& v) {
  using O = jq::native::Program::Outcome;
  switch (lib.kind) {
    case jq::Output::Kind::kValue:
      if (o == O::kFallback) return Verdict::kFallback;
      return o == O::kValue && json::Write(v) == json::Write(lib.value) ? Verdict::kAgree
                                                                        : Verdict::kFailure;
    case jq::Output::Kind::kEmpty:
      if (o == O::kFallback) return Verdict::kFallback;
      return o == O::kEmpty ? Verdict::kAgree : Verdict::kFailure;
    case jq::Output::Kind::kError:
      return o == O::kFallback ? Verdict::kFallbackOnError : Verdict::kFailure;
  }
  return Verdict::kFailure;
}

struct Mismatch {
  uint64_t seed = 0;
  long index = -1;          // program number in the run
  std::string program;
  std::string payload;
  std::string path;         // "document", "value" or "harness"
  std::string native;
  std::string libjq;

  std::string Describe() const {
    std::string s = "MISMATCH (seed " + std::to_string(seed) + ", program #" +
                    std::to_string(index) + ", native input: " + path + ")\n";
    s += "  program: " + program + "\n";
    s += "  payload: " + payload + "\n";
    s += "  native:  " + native + "\n";
    s += "  libjq:   " + libjq + "\n";
    s += "  reproduce: build-fuzz/bin/jq_fuzz --program " + ShellQuote(program) + " --input " +
         ShellQuote(payload) + "\n";
    return s;
  }
};

struct Stats {
  long programs = 0;            // generated
  long libjq_rejected = 0;      // jq::Program::Compile failed (not compared)
  long native_accepted = 0;     // of the programs libjq compiles
  long native_rejected = 0;
  long native_accepts_invalid = 0;  // native parses what libjq rejects
  long payloads = 0;
  long payloads_skipped = 0;    // libjq rejected the text (not compared)
  long payload_disagreements = 0;  // libjq parses it, DocParser or json::Parse does not (notes())
  long cases = 0;               // (program, payload) pairs libjq evaluated
  long lib_value = 0, lib_empty = 0, lib_error = 0;
  long compared = 0;            // native evaluations compared (two input paths per case)
  long agree = 0;
  long fallback = 0;            // libjq value/empty, native fallback
  long fallback_on_error = 0;   // libjq error, native fallback (expected)
  long failures = 0;
  long harness_checks = 0;
  long compiles = 0;            // libjq compiles (batches, bisection, harness checks)

  double AcceptRate() const {
    const long n = native_accepted + native_rejected;
    return n == 0 ? 0 : static_cast<double>(native_accepted) / static_cast<double>(n);
  }
  // Of the native evaluations where libjq had a value or no output, the share that fell back.
  double FallbackRate() const {
    const long n = agree + fallback + failures;
    return n == 0 ? 0 : static_cast<double>(fallback) / static_cast<double>(n);
  }
  std::string Summary() const {
    char buf[1024];
    std::snprintf(
        buf, sizeof buf,
        "programs %ld (libjq rejected %ld), native accepted %ld/%ld (%.1f%%), native accepts "
        "invalid %ld; payloads %ld (skipped %ld, parsers disagree %ld); cases %ld (libjq value %ld, empty %ld, error "
        "%ld); native evaluations %ld: agree %ld, fallback %ld (%.2f%% of value/empty), "
        "fallback on error %ld, FAILURES %ld; harness checks %ld; libjq compiles %ld",
        programs, libjq_rejected, native_accepted, native_accepted + native_rejected,
        100 * AcceptRate(), native_accepts_invalid, payloads, payloads_skipped,
        payload_disagreements, cases, lib_value,
        lib_empty, lib_error, compared, agree, fallback, 100 * FallbackRate(), fallback_on_error,
        failures, harness_checks, compiles);
    return buf;
  }
};

struct Options {
  uint64_t seed = 1;
  int payloads = 3;      // fresh payloads per batch
  int batch = 150;       // programs per libjq compile
  int harness_every = 1;  // compile one program of every n-th batch alone and compare (0: never)
  // Called before and after every libjq evaluation (debugging aids: naming the case when
  // libjq crashes, a leak check per program).
  std::function<void(const std::string& program, const std::string& payload)> before_libjq;
  std::function<void(const std::string& program, const std::string& payload)> after_libjq;
};

class Fuzzer {
 public:
  explicit Fuzzer(const Options& options)
      : options_(options),
        programs_(options.seed),
        payloads_(options.seed ^ 0x9E3779B97F4A7C15ull),
        pick_(options.seed + 17),
        trace_(std::getenv("JQ_FUZZ_TRACE") != nullptr) {}

  const Stats& stats() const { return stats_; }

  // Generates `n` programs and checks them on options.payloads fresh payloads. Mismatches are
  // appended to `out`.
  void RunBatch(int n, std::vector<Mismatch>* out) {
    std::vector<std::string> progs;
    progs.reserve(n);
    for (int i = 0; i < n; ++i) progs.push_back(programs_.Next());
    std::vector<std::string> texts;
    for (int i = 0; i < options_.payloads; ++i) texts.push_back(payloads_.Next());
    Check(progs, texts, out);
  }

  // Checks the given programs on the given payloads (the programs get numbers from the run).
  void Check(const std::vector<std::string>& progs, const std::vector<std::string>& texts,
             std::vector<Mismatch>* out) {
    const long first = stats_.programs;
    stats_.programs += static_cast<long>(progs.size());

    // Native parses (of the text as the engine would hand it over: after RewriteDialect).
    std::vector<std::unique_ptr<jq::native::Program>> natives(progs.size());
    for (size_t i = 0; i < progs.size(); ++i) {
      natives[i] = jq::native::Program::Parse(jq::RewriteDialect(progs[i]));
    }

    // libjq: batch compile, bisecting out what it rejects.
    std::vector<size_t> all(progs.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    std::vector<bool> rejected(progs.size(), false);
    std::unique_ptr<jq::Program> batch = CompileBatch(progs, all);
    std::vector<size_t> good = all;
    if (batch == nullptr) {
      FindRejects(progs, all, true, &rejected);
      good.clear();
      for (size_t i : all) {
        if (!rejected[i]) good.push_back(i);
      }
      batch = good.empty() ? nullptr : CompileBatch(progs, good);
    }
    // A batch that compiles only program by program (never seen; kept for safety).
    std::vector<std::unique_ptr<jq::Program>> singles;
    std::vector<long> slot(progs.size(), -1);  // position in the batch, or -2 - single index
    if (batch == nullptr && !good.empty()) {
      for (size_t i : good) {
        std::vector<size_t> one = {i};
        singles.push_back(CompileBatch(progs, one));
        slot[i] = singles.back() == nullptr ? -1 : -2 - static_cast<long>(singles.size() - 1);
        if (singles.back() == nullptr) rejected[i] = true;
      }
    } else {
      for (size_t k = 0; k < good.size(); ++k) slot[good[k]] = static_cast<long>(k);
    }
    for (size_t i = 0; i < progs.size(); ++i) {
      if (rejected[i]) {
        ++stats_.libjq_rejected;
        rejects_.push_back(progs[i]);
        if (natives[i] != nullptr) ++stats_.native_accepts_invalid;
      } else if (natives[i] != nullptr) {
        ++stats_.native_accepted;
      } else {
        ++stats_.native_rejected;
      }
    }

    // One program checked alone against the batch, to keep the batching honest.
    long check = -1;
    std::unique_ptr<jq::Program> alone;
    if (options_.harness_every > 0 && batches_++ % options_.harness_every == 0 && !good.empty() &&
        batch != nullptr) {
      check = static_cast<long>(good[pick_.Below(good.size())]);
      IgnoreLeaks ignore;
      auto compiled = jq::Program::Compile(progs[check]);
      ++stats_.compiles;
      if (compiled.ok()) alone = std::move(*compiled);
    }

    jq::DocParser doc_parser;
    for (const std::string& text : texts) {
      ++stats_.payloads;
      Result<jq::Input> lib_input = [&] {
        IgnoreLeaks ignore;
        return jq::Input::FromText(text);
      }();
      auto doc = doc_parser.Parse(std::string_view(text));
      auto value = json::Parse(text);
      if (!lib_input.ok() || !doc.ok() || !value.ok()) {
        if (!lib_input.ok()) ++stats_.payloads_skipped;
        if (lib_input.ok() != doc.ok() || lib_input.ok() != value.ok()) {
          ++stats_.payload_disagreements;
          Mismatch m;
          m.seed = options_.seed;
          m.path = "payload parse";
          m.payload = text;
          m.libjq = lib_input.ok() ? "parses" : "error: " + lib_input.status().message();
          m.native = std::string("Document ") +
                     (doc.ok() ? "parses" : "error: " + doc.status().message()) +
                     "; json::Parse " +
                     (value.ok() ? "parses" : "error: " + value.status().message());
          notes_.push_back(m);
        }
        if (!lib_input.ok()) continue;
      }
      for (size_t i = 0; i < progs.size(); ++i) {
        if (rejected[i] || slot[i] == -1) continue;
        if (trace_) std::fprintf(stderr, "trace: %s\n  on %s\n", progs[i].c_str(), text.c_str());
        if (options_.before_libjq) options_.before_libjq(progs[i], text);
        jq::Output lib;
        {
          IgnoreLeaks ignore;
          if (slot[i] >= 0) {
            auto input = jq::Input::FromText("[" + IntText(slot[i]) + "," + text + "]");
            lib = batch->Evaluate(*input);
          } else {
            lib = singles[static_cast<size_t>(-2 - slot[i])]->Evaluate(*lib_input);
          }
        }
        if (options_.after_libjq) options_.after_libjq(progs[i], text);
        ++stats_.cases;
        switch (lib.kind) {
          case jq::Output::Kind::kValue: ++stats_.lib_value; break;
          case jq::Output::Kind::kEmpty: ++stats_.lib_empty; break;
          case jq::Output::Kind::kError: ++stats_.lib_error; break;
        }
        auto fail = [&](const std::string& path, const std::string& native,
                        const std::string& libjq) {
          Mismatch m;
          m.seed = options_.seed;
          m.index = first + static_cast<long>(i);
          m.program = progs[i];
          m.payload = text;
          m.path = path;
          m.native = native;
          m.libjq = libjq;
          out->push_back(std::move(m));
        };
        if (static_cast<long>(i) == check && alone != nullptr) {
          ++stats_.harness_checks;
          jq::Output ref;
          {
            IgnoreLeaks ignore;
            ref = alone->Evaluate(*lib_input);
          }
          if (RenderLibjq(ref) != RenderLibjq(lib)) {
            ++stats_.failures;
            fail("harness (batched libjq vs libjq alone)", "batched: " + RenderLibjq(lib),
                 RenderLibjq(ref));
          }
        }
        if (natives[i] == nullptr) continue;
        const jq::native::Program& np = *natives[i];
        std::vector<std::pair<std::string, std::string>> failed;  // path, native result
        for (int path = 0; path < 2; ++path) {
          if (path == 0 ? !doc.ok() : !value.ok()) continue;  // a payload-parse note instead
          json::Value v;
          const auto o = path == 0 ? np.Evaluate(**doc, &v) : np.Evaluate(*value, &v);
          ++stats_.compared;
          switch (Judge(lib, o, v)) {
            case Verdict::kAgree: ++stats_.agree; break;
            case Verdict::kFallback:
              ++stats_.fallback;
              if (fallbacks_.size() < 1000) {
                Mismatch f;
                f.seed = options_.seed;
                f.index = first + static_cast<long>(i);
                f.program = progs[i];
                f.payload = text;
                f.path = path == 0 ? "document" : "value";
                f.native = "fallback";
                f.libjq = RenderLibjq(lib);
                fallbacks_.push_back(std::move(f));
              }
              break;
            case Verdict::kFallbackOnError: ++stats_.fallback_on_error; break;
            case Verdict::kFailure:
              ++stats_.failures;
              failed.emplace_back(path == 0 ? "document" : "value", RenderNative(o, v));
              break;
          }
        }
        if (failed.size() == 2 && failed[0].second == failed[1].second) {
          fail("document, value", failed[0].second, RenderLibjq(lib));
        } else {
          for (const auto& [path, native] : failed) fail(path, native, RenderLibjq(lib));
        }
      }
    }
  }

  // The first evaluations where native fell back although libjq had a value or no output.
  const std::vector<Mismatch>& fallbacks() const { return fallbacks_; }
  // Programs libjq rejected (the generator should rarely produce them).
  const std::vector<std::string>& rejects() const { return rejects_; }
  // Payloads that one parser accepts and another rejects (not failures of the evaluator).
  const std::vector<Mismatch>& notes() const { return notes_; }

 private:
  std::unique_ptr<jq::Program> CompileBatch(const std::vector<std::string>& progs,
                                            const std::vector<size_t>& which) {
    std::vector<const std::string*> ptrs;
    ptrs.reserve(which.size());
    for (size_t i : which) ptrs.push_back(&progs[i]);
    ++stats_.compiles;
    IgnoreLeaks ignore;
    auto compiled = jq::Program::Compile(BatchText(ptrs));
    if (!compiled.ok()) return nullptr;
    return std::move(*compiled);
  }

  void FindRejects(const std::vector<std::string>& progs, const std::vector<size_t>& which,
                   bool known_bad, std::vector<bool>* rejected) {
    if (!known_bad && CompileBatch(progs, which) != nullptr) return;
    if (which.size() == 1) {
      (*rejected)[which[0]] = true;
      return;
    }
    const size_t mid = which.size() / 2;
    const std::vector<size_t> left(which.begin(), which.begin() + static_cast<long>(mid));
    const std::vector<size_t> right(which.begin() + static_cast<long>(mid), which.end());
    const bool left_ok = CompileBatch(progs, left) != nullptr;
    if (!left_ok) FindRejects(progs, left, true, rejected);
    // Both halves compiling means the combination failed: test the right half anyway.
    FindRejects(progs, right, false, rejected);
  }

  Options options_;
  ProgramGen programs_;
  PayloadGen payloads_;
  Rng pick_;
  Stats stats_;
  std::vector<Mismatch> notes_;
  std::vector<std::string> rejects_;
  std::vector<Mismatch> fallbacks_;
  long batches_ = 0;
  bool trace_ = false;  // JQ_FUZZ_TRACE set: every evaluation on stderr
};

// What kind of mismatch this is, to group them: the two outcomes, and libjq's error message
// with the values in it left out ("null (null) and number (1) cannot be multiplied" ->
// "null (_) and number (_) cannot be multiplied").
inline std::string Signature(const Mismatch& m) {
  auto head = [](const std::string& s) { return s.substr(0, s.find_first_of(" :")); };
  std::string sig = m.path + ": native " + head(m.native) + ", libjq " + head(m.libjq);
  if (m.libjq.rfind("error: ", 0) == 0) {
    sig += ": ";
    int depth = 0;
    bool quoted = false;
    for (size_t i = 7; i < m.libjq.size(); ++i) {
      const char c = m.libjq[i];
      if (quoted) {
        if (c == '\\') ++i;
        if (c == '"') quoted = false;
        continue;
      }
      if (c == '"' && depth == 0) {
        quoted = true;
        sig += "\"_\"";
        continue;
      }
      if (c == '(') {
        if (depth++ == 0) sig += "(_";
        continue;
      }
      if (c == ')' && depth > 0) {
        if (--depth == 0) sig += ")";
        continue;
      }
      if (depth > 0) continue;
      static const char* kTypes[] = {"null", "boolean", "number", "string", "array", "object"};
      bool type_word = false;
      for (const char* t : kTypes) {
        const size_t n = std::strlen(t);
        if (m.libjq.compare(i, n, t) == 0 && (i + n == m.libjq.size() || m.libjq[i + n] == ' ') &&
            (i == 7 || m.libjq[i - 1] == ' ')) {
          sig += "T";
          i += n - 1;
          type_word = true;
          break;
        }
      }
      if (type_word) continue;
      if (std::isdigit(static_cast<unsigned char>(c))) {
        if (sig.back() != '#') sig += "#";
        continue;
      }
      sig.push_back(c);
    }
  }
  return sig;
}

// One program on one payload, libjq compiled alone: the reproduction of a mismatch. Compiled
// programs are cached (by text), so trying many payloads on one program is cheap.
class Reproducer {
 public:
  // The mismatches (none when both engines agree; both input paths failing alike give one);
  // `report` receives both results.
  std::vector<Mismatch> Check(const std::string& program, const std::string& payload,
                              std::string* report = nullptr) {
    std::vector<Mismatch> out;
    Compiled& c = Get(program);
    if (c.lib == nullptr) {
      if (report) {
        *report = "libjq rejects the program: " + c.error + "\nnative " +
                  (jq::native::Program::Parse(jq::RewriteDialect(program)) != nullptr
                       ? "accepts it (harmless: jq::Expr compiles with libjq first)\n"
                       : "rejects it too\n");
      }
      return out;
    }
    jq::Output lib;
    {
      IgnoreLeaks ignore;
      auto lib_input = jq::Input::FromText(payload);
      if (!lib_input.ok()) {
        if (report) *report = "libjq rejects the payload: " + lib_input.status().message() + "\n";
        return out;
      }
      lib = c.lib->Evaluate(*lib_input);
    }
    std::string r = "libjq:             " + RenderLibjq(lib) + "\n";
    if (c.native == nullptr) {
      r += "native:            rejects the program (outside the subset)\n";
      if (report) *report = r;
      return out;
    }
    auto doc = parser_.Parse(std::string_view(payload));
    auto value = json::Parse(payload);
    std::vector<std::pair<std::string, std::string>> failed;  // path, native result
    for (int path = 0; path < 2; ++path) {
      const char* name = path == 0 ? "document" : "value";
      if (path == 0 ? !doc.ok() : !value.ok()) {
        r += std::string("native (") + name + "): payload rejected: " +
             (path == 0 ? doc.status().message() : value.status().message()) + "\n";
        continue;
      }
      json::Value v;
      const auto o = path == 0 ? c.native->Evaluate(**doc, &v) : c.native->Evaluate(*value, &v);
      r += std::string("native (") + name + "):" + (path == 0 ? " " : "    ") +
           RenderNative(o, v) + "\n";
      if (Judge(lib, o, v) == Verdict::kFailure) failed.emplace_back(name, RenderNative(o, v));
    }
    for (size_t k = 0; k < failed.size(); ++k) {
      Mismatch m;
      m.program = program;
      m.payload = payload;
      m.path = failed[k].first;
      m.native = failed[k].second;
      m.libjq = RenderLibjq(lib);
      if (failed.size() == 2 && failed[0].second == failed[1].second) {
        m.path = "document, value";
        out.push_back(std::move(m));
        break;
      }
      out.push_back(std::move(m));
    }
    if (report) *report = r;
    return out;
  }

 private:
  struct Compiled {
    std::unique_ptr<jq::Program> lib;
    std::unique_ptr<jq::native::Program> native;
    std::string error;
  };
  Compiled& Get(const std::string& program) {
    auto it = cache_.find(program);
    if (it != cache_.end()) return it->second;
    if (cache_.size() > 64) cache_.clear();
    Compiled& c = cache_[program];
    IgnoreLeaks ignore;
    auto compiled = jq::Program::Compile(program);
    if (compiled.ok()) {
      c.lib = std::move(*compiled);
      c.native = jq::native::Program::Parse(jq::RewriteDialect(program));
    } else {
      c.error = compiled.status().message();
    }
    return c;
  }

  std::map<std::string, Compiled> cache_;
  jq::DocParser parser_;
};

inline std::vector<Mismatch> CheckOne(const std::string& program, const std::string& payload,
                                      std::string* report) {
  Reproducer r;
  return r.Check(program, payload, report);
}

}  // namespace portolan::gen::jqfuzz

#endif  // PORTOLAN_TOOLS_GEN_JQ_FUZZ_GEN_H_
