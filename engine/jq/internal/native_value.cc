// Values of the native jq evaluator: containers, jq's order, printing and conversion.
#include "engine/jq/internal/native_value.h"

#include <algorithm>
#include <cfloat>
#include <charconv>
#include <cmath>

namespace portolan::jq::native::internal {

namespace {

// Deeper values are left to libjq (jq.cc refuses outputs deeper than 1000 levels itself).
constexpr int kMaxOutputDepth = 1000;
// Printing and comparing recurse; values this deep only come from payloads simdjson would not
// parse (its depth limit is 1024) or from json::Value inputs.
constexpr int kMaxDepth = 4000;

}  // namespace

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kNull: return "null";
    case Kind::kFalse:
    case Kind::kTrue: return "boolean";
    case Kind::kNumber: return "number";
    case Kind::kString: return "string";
    case Kind::kArray: return "array";
    case Kind::kObject: return "object";
  }
  return "null";
}

void Val::Release() {
  Heap* h = u_.heap;
  if (--h->rc != 0) return;
  switch (h->kind) {
    case Kind::kString: delete static_cast<HStr*>(h); break;
    case Kind::kArray: delete static_cast<HArr*>(h); break;
    case Kind::kObject: delete static_cast<HObj*>(h); break;
    default: break;
  }
}

// ---- Containers ------------------------------------------------------------------------------

namespace detail {

bool DomObjectHasDuplicates(simdjson::dom::object o) {
  const size_t n = o.size();
  if (n < 2) return false;
  if (n <= 16) {
    std::string_view keys[16];
    size_t i = 0;
    for (auto field : o) {
      for (size_t j = 0; j < i; ++j) {
        if (keys[j] == field.key) return true;
      }
      keys[i++] = field.key;
    }
    return false;
  }
  std::vector<std::string_view> keys;
  keys.reserve(n);
  for (auto field : o) keys.push_back(field.key);
  std::sort(keys.begin(), keys.end());
  return std::adjacent_find(keys.begin(), keys.end()) != keys.end();
}

bool JsonObjectHasDuplicates(const json::Object& o) {
  const size_t n = o.size();
  if (n < 2) return false;
  if (n <= 16) {
    for (size_t i = 1; i < n; ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (o[j].first == o[i].first) return true;
      }
    }
    return false;
  }
  std::vector<std::string_view> keys;
  keys.reserve(n);
  for (const auto& m : o) keys.push_back(m.first);
  std::sort(keys.begin(), keys.end());
  return std::adjacent_find(keys.begin(), keys.end()) != keys.end();
}

std::vector<std::pair<Val, Val>> MergedMembers(const Val& o) {
  std::vector<std::pair<Val, Val>> out;
  auto add = [&out](std::string_view key, Val value) {
    for (auto& m : out) {
      if (m.first.str() == key) {
        m.second = std::move(value);
        return;
      }
    }
    out.emplace_back(Val::View(key), std::move(value));
  };
  if (o.is_dom()) {
    simdjson::dom::object obj;
    if (o.dom().get_object().get(obj) == simdjson::SUCCESS) {
      for (auto field : obj) add(field.key, Val::Dom(field.value));
    }
  } else if (o.is_json()) {
    for (const auto& [k, v] : o.json().as_object()) add(k, Val::Json(v));
  }
  return out;
}

}  // namespace detail

size_t ArrayLength(const Val& a) {
  if (a.is_dom()) {
    simdjson::dom::array arr;
    if (a.dom().get_array().get(arr) != simdjson::SUCCESS) return 0;
    return arr.size();
  }
  if (a.is_json()) return a.json().as_array().size();
  if (a.is_heap()) return a.harr().items.size();
  return 0;
}

Val ArrayAt(const Val& a, long i) {
  if (i < 0) return Val();
  if (a.is_dom()) {
    simdjson::dom::array arr;
    if (a.dom().get_array().get(arr) != simdjson::SUCCESS) return Val();
    simdjson::dom::element e;
    if (arr.at(static_cast<size_t>(i)).get(e) != simdjson::SUCCESS) return Val();
    return Val::Dom(e);
  }
  if (a.is_json()) {
    const json::Array& arr = a.json().as_array();
    return static_cast<size_t>(i) < arr.size() ? Val::Json(arr[static_cast<size_t>(i)]) : Val();
  }
  if (a.is_heap()) {
    const auto& items = a.harr().items;
    return static_cast<size_t>(i) < items.size() ? items[static_cast<size_t>(i)] : Val();
  }
  return Val();
}

size_t ObjectLength(const Val& o) {
  if (o.is_heap()) return o.hobj().members.size();
  if (o.is_dom()) {
    simdjson::dom::object obj;
    if (o.dom().get_object().get(obj) != simdjson::SUCCESS) return 0;
    if (!detail::DomObjectHasDuplicates(obj)) return obj.size();
    return detail::MergedMembers(o).size();
  }
  if (o.is_json()) {
    const json::Object& obj = o.json().as_object();
    if (!detail::JsonObjectHasDuplicates(obj)) return obj.size();
    return detail::MergedMembers(o).size();
  }
  return 0;
}

namespace {

// Lookups walk the simdjson 3.0 tape directly (what dom::object's iterator does, with the
// tape and string buffers in registers): every lookup scans the whole object, so this loop is
// most of the cost of a path expression. An element is exactly a tape_ref (document, index).
static_assert(simdjson::SIMDJSON_VERSION_MAJOR == 3);
static_assert(sizeof(simdjson::internal::tape_ref) == sizeof(simdjson::dom::element));
static_assert(std::is_trivially_copyable_v<simdjson::internal::tape_ref>);

bool DomObjectGet(simdjson::dom::element e, std::string_view key, Val* out) {
  simdjson::internal::tape_ref ref;
  std::memcpy(static_cast<void*>(&ref), static_cast<const void*>(&e), sizeof(ref));
  const uint64_t* tape = ref.doc->tape.get();
  const uint8_t* strings = ref.doc->string_buf.get();
  const size_t close = static_cast<uint32_t>(tape[ref.json_index]) - 1;  // the '}'
  const size_t n = key.size();
  if (n > 0xffffffffu) return false;
  // A string is stored as its 32-bit length and its bytes: one 8-byte load compares the length
  // and up to 4 first bytes (simdjson pads the string buffer, so the load stays inside it).
  const size_t head = n < 4 ? n : 4;
  uint64_t pattern = static_cast<uint32_t>(n);
  for (size_t b = 0; b < head; ++b) {
    pattern |= static_cast<uint64_t>(static_cast<uint8_t>(key[b])) << (32 + 8 * b);
  }
  const uint64_t mask = head == 4 ? ~uint64_t{0} : (uint64_t{1} << (32 + 8 * head)) - 1;
  size_t found = 0;
  for (size_t i = ref.json_index + 1; i < close;) {
    const uint8_t* k = strings + (tape[i] & simdjson::internal::JSON_VALUE_MASK);
    uint64_t word;
    std::memcpy(&word, k, sizeof(word));
    // The last match wins (jq's duplicate keys).
    if ((word & mask) == pattern && (n <= 4 || std::memcmp(k + 8, key.data() + 4, n - 4) == 0)) {
      found = i + 1;
    }
    // Past the value: containers hold the index after their end, 64-bit numbers take two
    // words. A branch per type on purpose: with the next index predicted, the loads of the
    // following members run ahead (computing it from the loaded type is twice as slow).
    const uint64_t v = tape[i + 1];
    switch (static_cast<char>(v >> 56)) {
      case '[':
      case '{': i = static_cast<uint32_t>(v); break;
      case 'l':
      case 'u':
      case 'd': i += 3; break;
      default: i += 2; break;
    }
  }
  if (found == 0) return false;
  simdjson::internal::tape_ref value(ref.doc, found);
  simdjson::dom::element result;
  std::memcpy(static_cast<void*>(&result), static_cast<const void*>(&value), sizeof(result));
  *out = Val::Dom(result);
  return true;
}

}  // namespace

bool ObjectGet(const Val& o, std::string_view key, Val* out) {
  if (o.is_dom()) return DomObjectGet(o.dom(), key, out);
  if (o.is_json()) {
    const json::Value* last = nullptr;
    const char first = key.empty() ? '\0' : key[0];
    for (const auto& [k, v] : o.json().as_object()) {
      if (k.size() == key.size() && (key.empty() || (k[0] == first && k == key))) last = &v;
    }
    if (last != nullptr) *out = Val::Json(*last);
    return last != nullptr;
  }
  if (o.is_heap()) {
    for (const auto& [k, v] : o.hobj().members) {
      if (k.str() == key) {
        *out = v;
        return true;
      }
    }
  }
  return false;
}

std::vector<Val> SortedKeys(const Val& o) {
  std::vector<Val> keys;
  ForEachMember(o, [&keys](const Val& k, Val&&) {
    keys.push_back(k);
    return true;
  });
  std::sort(keys.begin(), keys.end(),
            [](const Val& a, const Val& b) { return a.str() < b.str(); });
  return keys;
}

// ---- Order -----------------------------------------------------------------------------------

namespace {

int CompareDepth(const Val& a, const Val& b, int depth);

int CompareNumbers(double a, double b) {
  // As jq: NaN sorts below every number, itself included (it compares as null would).
  if (std::isnan(a)) return -1;
  if (std::isnan(b)) return 1;
  return a < b ? -1 : (a == b ? 0 : 1);
}

int CompareStrings(std::string_view a, std::string_view b) {
  int r = a.compare(b);
  return r < 0 ? -1 : (r > 0 ? 1 : 0);
}

int CompareArrays(const Val& a, const Val& b, int depth) {
  // Element by element; a prefix sorts first.
  std::vector<Val> xs;
  xs.reserve(ArrayLength(a));
  ForEachElement(a, [&xs](Val&& v) {
    xs.push_back(std::move(v));
    return true;
  });
  size_t i = 0;
  int r = 0;
  bool stopped = !ForEachElement(b, [&](Val&& v) {
    if (i >= xs.size()) {
      r = -1;
      return false;
    }
    r = CompareDepth(xs[i++], v, depth + 1);
    return r == 0;
  });
  if (stopped) return r;
  return i < xs.size() ? 1 : 0;
}

int CompareObjects(const Val& a, const Val& b, int depth) {
  std::vector<Val> ka = SortedKeys(a);
  std::vector<Val> kb = SortedKeys(b);
  for (size_t i = 0; i < ka.size() && i < kb.size(); ++i) {
    int r = CompareStrings(ka[i].str(), kb[i].str());
    if (r != 0) return r;
  }
  if (ka.size() != kb.size()) return ka.size() < kb.size() ? -1 : 1;
  for (const Val& k : ka) {
    Val va, vb;
    ObjectGet(a, k.str(), &va);
    ObjectGet(b, k.str(), &vb);
    int r = CompareDepth(va, vb, depth + 1);
    if (r != 0) return r;
  }
  return 0;
}

int CompareDepth(const Val& a, const Val& b, int depth) {
  if (a.kind() != b.kind()) return a.kind() < b.kind() ? -1 : 1;
  if (depth > kMaxDepth) return 0;
  switch (a.kind()) {
    case Kind::kNumber: return CompareNumbers(a.num(), b.num());
    case Kind::kString: return CompareStrings(a.str(), b.str());
    case Kind::kArray: return CompareArrays(a, b, depth);
    case Kind::kObject: return CompareObjects(a, b, depth);
    default: return 0;
  }
}

}  // namespace

int Compare(const Val& a, const Val& b) { return CompareDepth(a, b, 0); }

bool Equal(const Val& a, const Val& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::kNumber: return CompareNumbers(a.num(), b.num()) == 0;
    case Kind::kString: return a.str() == b.str();
    case Kind::kArray:
      if (ArrayLength(a) != ArrayLength(b)) return false;
      return Compare(a, b) == 0;
    case Kind::kObject: return Compare(a, b) == 0;
    default: return true;
  }
}

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

// ---- Printing --------------------------------------------------------------------------------

void AppendNumber(double d, std::string* out) {
  if (std::isnan(d)) {
    out->append("null");
    return;
  }
  if (d > DBL_MAX) d = DBL_MAX;
  if (d < -DBL_MAX) d = -DBL_MAX;
  // Integers below 1e15 print plainly in jvp_dtoa_fmt (at most 15 digits before the point);
  // -0 keeps its sign there.
  if (std::fabs(d) < 1e15 && d == std::trunc(d) && !(d == 0 && std::signbit(d))) {
    char buf[24];
    auto res = std::to_chars(buf, buf + sizeof(buf), static_cast<int64_t>(d));
    out->append(buf, static_cast<size_t>(res.ptr - buf));
    return;
  }
  // The shortest digits that round-trip (what dtoa mode 0 computes), then jvp_dtoa_fmt's layout.
  char sci[40];
  auto res = std::to_chars(sci, sci + sizeof(sci), d, std::chars_format::scientific);
  std::string_view text(sci, static_cast<size_t>(res.ptr - sci));
  bool negative = false;
  if (!text.empty() && text[0] == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  char digits[24];
  int ndigits = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] != 'e'; ++i) {
    if (text[i] != '.') digits[ndigits++] = text[i];
  }
  int exp10 = 0;
  if (i < text.size()) {
    std::from_chars(text.data() + i + 1 + (text[i + 1] == '+' ? 1 : 0), text.data() + text.size(),
                    exp10);
  }
  while (ndigits > 1 && digits[ndigits - 1] == '0') --ndigits;
  int decpt = exp10 + 1;
  if (ndigits == 1 && digits[0] == '0') decpt = 1;  // zero

  if (negative) out->push_back('-');
  if (decpt <= -4 || decpt > ndigits + 15) {
    out->push_back(digits[0]);
    if (ndigits > 1) {
      out->push_back('.');
      out->append(digits + 1, static_cast<size_t>(ndigits - 1));
    }
    out->push_back('e');
    int e = decpt - 1;
    if (e < 0) {
      out->push_back('-');
      e = -e;
    } else {
      out->push_back('+');
    }
    if (e < 10) out->push_back('0');
    out->append(std::to_string(e));
  } else if (decpt <= 0) {
    out->append("0.");
    out->append(static_cast<size_t>(-decpt), '0');
    out->append(digits, static_cast<size_t>(ndigits));
  } else {
    for (int k = 0; k < ndigits; ++k) {
      out->push_back(digits[k]);
      if (k + 1 == decpt && k + 1 < ndigits) out->push_back('.');
    }
    if (decpt > ndigits) out->append(static_cast<size_t>(decpt - ndigits), '0');
  }
}

namespace {

// jvp_dump_string: `"` and `\` escaped, control characters and DEL as \b \t \r \n \f or
// \u00xx (lowercase hex), everything else as is.
void AppendQuoted(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run = 0;  // start of the pending unescaped run
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != 0x7f && c != '"' && c != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\b': out->append("\\b"); break;
      case '\t': out->append("\\t"); break;
      case '\r': out->append("\\r"); break;
      case '\n': out->append("\\n"); break;
      case '\f': out->append("\\f"); break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

}  // namespace

bool AppendJson(const Val& v, std::string* out, int depth) {
  if (depth > kMaxDepth) return false;
  switch (v.kind()) {
    case Kind::kNull: out->append("null"); return true;
    case Kind::kFalse: out->append("false"); return true;
    case Kind::kTrue: out->append("true"); return true;
    case Kind::kNumber:
      if (v.uncertain_zero()) return false;
      AppendNumber(v.num(), out);
      return true;
    case Kind::kString: AppendQuoted(v.str(), out); return true;
    case Kind::kArray: {
      out->push_back('[');
      bool first = true, ok = true;
      ForEachElement(v, [&](Val&& e) {
        if (!first) out->push_back(',');
        first = false;
        ok = AppendJson(e, out, depth + 1);
        return ok;
      });
      out->push_back(']');
      return ok;
    }
    case Kind::kObject: {
      out->push_back('{');
      bool first = true, ok = true;
      ForEachMember(v, [&](const Val& k, Val&& e) {
        if (!first) out->push_back(',');
        first = false;
        AppendQuoted(k.str(), out);
        out->push_back(':');
        ok = AppendJson(e, out, depth + 1);
        return ok;
      });
      out->push_back('}');
      return ok;
    }
  }
  return true;
}

// ---- Conversion ------------------------------------------------------------------------------

namespace {

json::Value NumberOf(double d) {
  if (std::isnan(d)) return json::Value();
  if (std::isinf(d)) return json::Value(d > 0 ? DBL_MAX : -DBL_MAX);
  if (d == 0) return json::Value(0.0);
  return json::Value(d);
}

}  // namespace

bool ToJson(const Val& v, json::Value* out, int depth) {
  if (depth > kMaxOutputDepth) return false;
  switch (v.kind()) {
    case Kind::kNull: *out = json::Value(); return true;
    case Kind::kFalse: *out = json::Value(false); return true;
    case Kind::kTrue: *out = json::Value(true); return true;
    case Kind::kNumber: *out = NumberOf(v.num()); return true;
    case Kind::kString: *out = json::Value(std::string(v.str())); return true;
    case Kind::kArray: {
      json::Array a;
      a.reserve(ArrayLength(v));
      bool ok = ForEachElement(v, [&](Val&& e) {
        a.emplace_back();
        return ToJson(e, &a.back(), depth + 1);
      });
      if (!ok) return false;
      *out = json::Value(std::move(a));
      return true;
    }
    case Kind::kObject: {
      json::Object o;
      bool ok = ForEachMember(v, [&](const Val& k, Val&& e) {
        o.emplace_back(std::string(k.str()), json::Value());
        return ToJson(e, &o.back().second, depth + 1);
      });
      if (!ok) return false;
      *out = json::Value(std::move(o));
      return true;
    }
  }
  return true;
}

bool ToJson(Val&& v, json::Value* out) {
  if (v.is_string() && v.unique_heap()) {
    *out = json::Value(std::move(v.mutable_hstr().s));
    return true;
  }
  return ToJson(static_cast<const Val&>(v), out, 0);
}

}  // namespace portolan::jq::native::internal
