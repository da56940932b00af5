// Internal: the values of the native jq evaluator (engine/jq/native.h).
//
// A Val is 24 bytes and mostly borrows: strings, arrays and objects of the payload stay where
// they are (a simdjson DOM element or a json::Value) and strings of the program are views into
// the parsed program, so a path expression copies nothing. Values the program builds are
// reference-counted heap nodes (not atomically: a Val never leaves the thread evaluating it, and
// a parsed program holds no heap values, only numbers and views). Strings up to 16 bytes are
// stored inline (`tostring` of an id, a short literal concatenation).
//
// Objects follow jq's rule for duplicate keys in the payload (simdjson and json::Value keep
// every member): one member per key, at the first key's position, with the last key's value.
#ifndef PORTOLAN_ENGINE_JQ_INTERNAL_NATIVE_VALUE_H_
#define PORTOLAN_ENGINE_JQ_INTERNAL_NATIVE_VALUE_H_

#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/base/json.h"

namespace portolan::jq::native::internal {

// jq's kinds, in jq's order (jv_cmp sorts by kind first).
enum class Kind : uint8_t { kNull, kFalse, kTrue, kNumber, kString, kArray, kObject };

const char* KindName(Kind k);  // jq's `type`: "null", "boolean", "number", ...

class Val;

struct Heap {
  uint32_t rc = 1;
  Kind kind;
  explicit Heap(Kind k) : kind(k) {}
};
struct HStr : Heap {
  HStr() : Heap(Kind::kString) {}
  std::string s;
};
struct HArr : Heap {
  HArr() : Heap(Kind::kArray) {}
  std::vector<Val> items;
};
struct HObj : Heap {
  HObj() : Heap(Kind::kObject) {}
  std::vector<std::pair<Val, Val>> members;  // keys are strings, unique, in jq order
};

class Val {
 public:
  Val() : kind_(Kind::kNull), rep_(Rep::kImm), small_(0) { u_.num = 0; }
  ~Val() {
    if (rep_ == Rep::kHeap) Release();
  }
  Val(const Val& o) : kind_(o.kind_), rep_(o.rep_), small_(o.small_), u_(o.u_) {
    if (rep_ == Rep::kHeap) ++u_.heap->rc;
  }
  Val(Val&& o) noexcept : kind_(o.kind_), rep_(o.rep_), small_(o.small_), u_(o.u_) {
    o.rep_ = Rep::kImm;
    o.kind_ = Kind::kNull;
  }
  Val& operator=(const Val& o) {
    if (this != &o) {
      if (o.rep_ == Rep::kHeap) ++o.u_.heap->rc;
      if (rep_ == Rep::kHeap) Release();
      kind_ = o.kind_;
      rep_ = o.rep_;
      small_ = o.small_;
      u_ = o.u_;
    }
    return *this;
  }
  Val& operator=(Val&& o) noexcept {
    if (this != &o) {
      if (rep_ == Rep::kHeap) Release();
      kind_ = o.kind_;
      rep_ = o.rep_;
      small_ = o.small_;
      u_ = o.u_;
      o.rep_ = Rep::kImm;
      o.kind_ = Kind::kNull;
    }
    return *this;
  }

  static Val Null() { return Val(); }
  static Val Bool(bool b) {
    Val v;
    v.kind_ = b ? Kind::kTrue : Kind::kFalse;
    return v;
  }
  static Val Number(double d) {
    Val v;
    v.kind_ = Kind::kNumber;
    v.u_.num = d;
    return v;
  }
  // A zero whose sign is unknown: the payload parsers read "-0" as the integer 0 (simdjson,
  // RapidJSON), where jq keeps -0. Printing one (tostring, interpolation) is left to libjq.
  static Val UncertainZero() {
    Val v = Number(0);
    v.small_ = 1;
    return v;
  }
  // The result of arithmetic on a and b: a zero computed from an uncertain zero is uncertain.
  static Val NumberFrom(double d, const Val& a, const Val& b) {
    Val v = Number(d);
    if (d == 0 && (a.uncertain_zero() || b.uncertain_zero())) v.small_ = 1;
    return v;
  }
  bool uncertain_zero() const { return kind_ == Kind::kNumber && small_ != 0; }
  // A string that outlives the evaluation (payload, program text).
  static Val View(std::string_view s) {
    Val v;
    v.kind_ = Kind::kString;
    v.rep_ = Rep::kView;
    v.u_.view.p = s.data();
    v.u_.view.n = s.size();
    return v;
  }
  static Val String(std::string_view s) {
    if (s.size() <= kSmallMax) return Small(s);
    auto* h = new HStr();
    h->s.assign(s);
    return FromHeap(h);
  }
  static Val String(std::string&& s) {
    if (s.size() <= kSmallMax) return Small(s);
    auto* h = new HStr();
    h->s = std::move(s);
    return FromHeap(h);
  }
  // Takes the reference.
  static Val FromHeap(Heap* h) {
    Val v;
    v.kind_ = h->kind;
    v.rep_ = Rep::kHeap;
    v.u_.heap = h;
    return v;
  }
  static Val Dom(simdjson::dom::element e);  // scalars become plain values
  static Val Json(const json::Value& j);     // likewise

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }
  bool truthy() const { return kind_ != Kind::kNull && kind_ != Kind::kFalse; }

  double num() const { return u_.num; }
  // Valid while this Val lives and is not moved (inline strings live inside it).
  std::string_view str() const {
    switch (rep_) {
      case Rep::kView: return {u_.view.p, u_.view.n};
      case Rep::kSmall: return {u_.small, small_};
      case Rep::kHeap: return static_cast<const HStr*>(u_.heap)->s;
      default: return {};
    }
  }

  // Containers: exactly one of these describes where the elements are.
  bool is_dom() const { return rep_ == Rep::kDom; }
  bool is_json() const { return rep_ == Rep::kJson; }
  bool is_heap() const { return rep_ == Rep::kHeap; }
  simdjson::dom::element dom() const {
    simdjson::dom::element e;
    std::memcpy(static_cast<void*>(&e), u_.dom, sizeof(e));
    return e;
  }
  const json::Value& json() const { return *u_.json; }
  const HArr& harr() const { return *static_cast<const HArr*>(u_.heap); }
  const HObj& hobj() const { return *static_cast<const HObj*>(u_.heap); }
  // A heap node only this Val refers to, which may therefore be changed in place.
  bool unique_heap() const { return rep_ == Rep::kHeap && u_.heap->rc == 1; }
  HStr& mutable_hstr() { return *static_cast<HStr*>(u_.heap); }
  HArr& mutable_harr() { return *static_cast<HArr*>(u_.heap); }
  HObj& mutable_hobj() { return *static_cast<HObj*>(u_.heap); }

  static constexpr size_t kSmallMax = 16;

 private:
  enum class Rep : uint8_t { kImm, kView, kSmall, kHeap, kDom, kJson };
  static Val Small(std::string_view s) {
    Val v;
    v.kind_ = Kind::kString;
    v.rep_ = Rep::kSmall;
    v.small_ = static_cast<uint8_t>(s.size());
    if (!s.empty()) std::memcpy(v.u_.small, s.data(), s.size());
    return v;
  }
  void Release();

  Kind kind_;
  Rep rep_;
  uint8_t small_;  // length of an inline string
  union U {
    double num;
    struct {
      const char* p;
      size_t n;
    } view;
    char small[kSmallMax];
    Heap* heap;
    alignas(8) unsigned char dom[16];
    const json::Value* json;
  } u_;
};

static_assert(sizeof(simdjson::dom::element) == 16);
static_assert(std::is_trivially_copyable_v<simdjson::dom::element>);
static_assert(sizeof(Val) == 24);

// ---- Containers ------------------------------------------------------------------------------

// Elements of an array, in order; `f(Val&&)` returns false to stop. False when stopped.
template <typename F>
bool ForEachElement(const Val& a, F&& f);
size_t ArrayLength(const Val& a);
// `.[i]` for 0 <= i < length; null otherwise.
Val ArrayAt(const Val& a, long i);

// Members of an object in jq order (one per key: first position, last value); `f(const Val& key,
// Val&& value)` returns false to stop. False when stopped.
template <typename F>
bool ForEachMember(const Val& o, F&& f);
size_t ObjectLength(const Val& o);
// `.[key]`: false when absent (then *out is untouched).
bool ObjectGet(const Val& o, std::string_view key, Val* out);
// The keys of an object sorted as jq sorts strings (bytewise), unique.
std::vector<Val> SortedKeys(const Val& o);

// ---- Operations ------------------------------------------------------------------------------

// jq's total order (jv_cmp): kinds first, then numbers (NaN below every number), strings
// bytewise, arrays elementwise, objects by sorted keys then values. `==` is Compare() == 0.
int Compare(const Val& a, const Val& b);
bool Equal(const Val& a, const Val& b);

// Code points of a valid UTF-8 string.
size_t CodePoints(std::string_view s);

// jq 1.6's number printing (jvp_dtoa_fmt: shortest round trip, exponent past 17 digits, "1e-05"),
// NaN as null and infinities as ±DBL_MAX, as jv_dump does. Appends.
void AppendNumber(double d, std::string* out);
// jv_dump_string(v, 0): compact JSON, keys in jq order, jq's escapes. False when nested
// deeper than the evaluator supports.
bool AppendJson(const Val& v, std::string* out, int depth = 0);

// The result as jq.cc's FromJv converts libjq values (NaN -> null, ±inf -> ±DBL_MAX, -0 -> 0).
// False when nested deeper than jq::Program accepts (kMaxOutputDepth there).
bool ToJson(const Val& v, json::Value* out, int depth = 0);
// Moves out of a value no one else holds.
bool ToJson(Val&& v, json::Value* out);

// ---- Inline and template definitions ---------------------------------------------------------

inline Val Val::Dom(simdjson::dom::element e) {
  using simdjson::dom::element_type;
  Val v;
  switch (e.type()) {
    case element_type::NULL_VALUE:
      return v;
    case element_type::BOOL:
      v.kind_ = e.get_bool().value_unsafe() ? Kind::kTrue : Kind::kFalse;
      return v;
    case element_type::INT64:
      v.kind_ = Kind::kNumber;
      v.u_.num = static_cast<double>(e.get_int64().value_unsafe());
      v.small_ = v.u_.num == 0;  // "0" or "-0"
      return v;
    case element_type::UINT64:
      v.kind_ = Kind::kNumber;
      v.u_.num = static_cast<double>(e.get_uint64().value_unsafe());
      v.small_ = v.u_.num == 0;
      return v;
    case element_type::DOUBLE:
      v.kind_ = Kind::kNumber;
      v.u_.num = e.get_double().value_unsafe();
      return v;
    case element_type::STRING:
      return View(e.get_string().value_unsafe());
    case element_type::ARRAY:
      v.kind_ = Kind::kArray;
      break;
    case element_type::OBJECT:
      v.kind_ = Kind::kObject;
      break;
  }
  v.rep_ = Rep::kDom;
  std::memcpy(v.u_.dom, static_cast<const void*>(&e), sizeof(e));
  return v;
}

inline Val Val::Json(const json::Value& j) {
  Val v;
  switch (j.type()) {
    case json::Type::kNull:
      return v;
    case json::Type::kBool:
      return Bool(j.as_bool());
    case json::Type::kNumber:
      // +0 may have been "-0" in the text (json::Parse reads it as an integer).
      if (j.as_number() == 0 && !std::signbit(j.as_number())) return UncertainZero();
      return Number(j.as_number());
    case json::Type::kString:
      return View(j.as_string());
    case json::Type::kArray:
      v.kind_ = Kind::kArray;
      break;
    case json::Type::kObject:
      v.kind_ = Kind::kObject;
      break;
  }
  v.rep_ = Rep::kJson;
  v.u_.json = &j;
  return v;
}

namespace detail {
bool DomObjectHasDuplicates(simdjson::dom::object o);
bool JsonObjectHasDuplicates(const json::Object& o);
// Members of an object with duplicate keys, merged by jq's rule.
std::vector<std::pair<Val, Val>> MergedMembers(const Val& o);
}  // namespace detail

template <typename F>
bool ForEachElement(const Val& a, F&& f) {
  if (a.is_dom()) {
    simdjson::dom::array arr;
    if (a.dom().get_array().get(arr) != simdjson::SUCCESS) return true;
    for (simdjson::dom::element e : arr) {
      if (!f(Val::Dom(e))) return false;
    }
  } else if (a.is_json()) {
    for (const json::Value& e : a.json().as_array()) {
      if (!f(Val::Json(e))) return false;
    }
  } else if (a.is_heap()) {
    for (const Val& e : a.harr().items) {
      if (!f(Val(e))) return false;
    }
  }
  return true;
}

template <typename F>
bool ForEachMember(const Val& o, F&& f) {
  if (o.is_dom()) {
    simdjson::dom::object obj;
    if (o.dom().get_object().get(obj) != simdjson::SUCCESS) return true;
    if (!detail::DomObjectHasDuplicates(obj)) {
      for (auto field : obj) {
        if (!f(Val::View(field.key), Val::Dom(field.value))) return false;
      }
      return true;
    }
  } else if (o.is_json()) {
    const json::Object& obj = o.json().as_object();
    if (!detail::JsonObjectHasDuplicates(obj)) {
      for (const auto& [k, v] : obj) {
        if (!f(Val::View(k), Val::Json(v))) return false;
      }
      return true;
    }
  } else if (o.is_heap()) {
    for (const auto& [k, v] : o.hobj().members) {
      if (!f(k, Val(v))) return false;
    }
    return true;
  } else {
    return true;
  }
  for (auto& [k, v] : detail::MergedMembers(o)) {
    if (!f(k, std::move(v))) return false;
  }
  return true;
}

}  // namespace portolan::jq::native::internal

#endif  // PORTOLAN_ENGINE_JQ_INTERNAL_NATIVE_VALUE_H_
