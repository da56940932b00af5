#include "engine/base/json.h"

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace portolan::json {

const char* TypeName(Type t) {
  switch (t) {
    case Type::kNull: return "null";
    case Type::kBool: return "boolean";
    case Type::kNumber: return "number";
    case Type::kString: return "string";
    case Type::kArray: return "array";
    case Type::kObject: return "object";
  }
  return "?";
}

const Value* Value::Find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (const auto& m : as_object()) {
    if (m.first == key) return &m.second;
  }
  return nullptr;
}

Value* Value::Find(std::string_view key) {
  if (!is_object()) return nullptr;
  for (auto& m : as_object()) {
    if (m.first == key) return &m.second;
  }
  return nullptr;
}

const Value& Value::Get(std::string_view key) const {
  static const Value kNull;
  const Value* v = Find(key);
  return v ? *v : kNull;
}

Value& Value::Set(std::string_view key, Value v) {
  if (is_null()) v_ = Object{};
  if (Value* existing = Find(key)) {
    *existing = std::move(v);
    return *existing;
  }
  auto& obj = as_object();
  obj.emplace_back(std::string(key), std::move(v));
  return obj.back().second;
}

bool Value::Erase(std::string_view key) {
  if (!is_object()) return false;
  auto& obj = as_object();
  auto it = std::find_if(obj.begin(), obj.end(), [&](const Member& m) { return m.first == key; });
  if (it == obj.end()) return false;
  obj.erase(it);
  return true;
}

void Value::Push(Value v) {
  if (is_null()) v_ = Array{};
  as_array().push_back(std::move(v));
}

size_t Value::size() const {
  if (is_array()) return as_array().size();
  if (is_object()) return as_object().size();
  return 0;
}

bool Value::Truthy() const {
  switch (type()) {
    case Type::kNull: return false;
    case Type::kBool: return as_bool();
    case Type::kNumber: return as_number() != 0;
    case Type::kString: return !as_string().empty();
    case Type::kArray: return !as_array().empty();
    case Type::kObject: return !as_object().empty();
  }
  return false;
}

bool Value::operator==(const Value& o) const {
  if (type() != o.type()) return false;
  switch (type()) {
    case Type::kNull: return true;
    case Type::kBool: return as_bool() == o.as_bool();
    case Type::kNumber: return as_number() == o.as_number();
    case Type::kString: return as_string() == o.as_string();
    case Type::kArray: return as_array() == o.as_array();
    case Type::kObject: {
      // Key order does not matter for equality.
      const auto& a = as_object();
      const auto& b = o.as_object();
      if (a.size() != b.size()) return false;
      for (const auto& m : a) {
        const Value* other = o.Find(m.first);
        if (!other || !(*other == m.second)) return false;
      }
      return true;
    }
  }
  return false;
}

namespace {
int TypeRank(const Value& v) {
  switch (v.type()) {
    case Type::kNull: return 0;
    case Type::kBool: return v.as_bool() ? 2 : 1;
    case Type::kNumber: return 3;
    case Type::kString: return 4;
    case Type::kArray: return 5;
    case Type::kObject: return 6;
  }
  return 0;
}
}  // namespace

int Compare(const Value& a, const Value& b) {
  int ra = TypeRank(a), rb = TypeRank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  switch (a.type()) {
    case Type::kNull:
    case Type::kBool: return 0;
    case Type::kNumber: {
      double x = a.as_number(), y = b.as_number();
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    case Type::kString: {
      int c = a.as_string().compare(b.as_string());
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case Type::kArray: {
      const auto& x = a.as_array();
      const auto& y = b.as_array();
      for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
        int c = Compare(x[i], y[i]);
        if (c) return c;
      }
      return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
    }
    case Type::kObject: {
      // jq: compare sorted key sets first, then values key by key.
      auto keys = [](const Value& v) {
        std::vector<std::string> k;
        for (const auto& m : v.as_object()) k.push_back(m.first);
        std::sort(k.begin(), k.end());
        return k;
      };
      auto ka = keys(a), kb = keys(b);
      if (ka != kb) return ka < kb ? -1 : 1;
      for (const auto& k : ka) {
        int c = Compare(a.Get(k), b.Get(k));
        if (c) return c;
      }
      return 0;
    }
  }
  return 0;
}

std::string FormatNumber(double d) {
  if (std::isnan(d)) return "null";
  if (std::isinf(d)) d = d > 0 ? 1.7976931348623157e308 : -1.7976931348623157e308;
  if (d == std::trunc(d) && std::fabs(d) < 1e17) {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(d));
    return std::string(buf, r.ptr);
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

namespace {

void WriteString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

void Newline(std::string* out, const WriteOptions& o, int depth) {
  if (!o.pretty) return;
  out->push_back('\n');
  out->append(static_cast<size_t>(depth * o.indent), ' ');
}

void WriteImpl(const Value& v, std::string* out, const WriteOptions& o, int depth) {
  switch (v.type()) {
    case Type::kNull: out->append("null"); break;
    case Type::kBool: out->append(v.as_bool() ? "true" : "false"); break;
    case Type::kNumber: out->append(FormatNumber(v.as_number())); break;
    case Type::kString: WriteString(v.as_string(), out); break;
    case Type::kArray: {
      const auto& a = v.as_array();
      if (a.empty()) {
        out->append("[]");
        break;
      }
      out->push_back('[');
      for (size_t i = 0; i < a.size(); ++i) {
        if (i) out->push_back(',');
        Newline(out, o, depth + 1);
        WriteImpl(a[i], out, o, depth + 1);
      }
      Newline(out, o, depth);
      out->push_back(']');
      break;
    }
    case Type::kObject: {
      const auto& obj = v.as_object();
      if (obj.empty()) {
        out->append("{}");
        break;
      }
      std::vector<const Member*> members;
      members.reserve(obj.size());
      for (const auto& m : obj) members.push_back(&m);
      if (o.sort_keys) {
        std::sort(members.begin(), members.end(),
                  [](const Member* a, const Member* b) { return a->first < b->first; });
      }
      out->push_back('{');
      for (size_t i = 0; i < members.size(); ++i) {
        if (i) out->push_back(',');
        Newline(out, o, depth + 1);
        WriteString(members[i]->first, out);
        out->append(o.pretty ? ": " : ":");
        WriteImpl(members[i]->second, out, o, depth + 1);
      }
      Newline(out, o, depth);
      out->push_back('}');
      break;
    }
  }
}

// SAX handler that builds a Value tree.
class Builder : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, Builder> {
 public:
  bool Null() { return Add(Value()); }
  bool Bool(bool b) { return Add(Value(b)); }
  bool Int(int i) { return Add(Value(i)); }
  bool Uint(unsigned u) { return Add(Value(static_cast<double>(u))); }
  bool Int64(int64_t i) { return Add(Value(static_cast<double>(i))); }
  bool Uint64(uint64_t u) { return Add(Value(static_cast<double>(u))); }
  bool Double(double d) { return Add(Value(d)); }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    return Add(Value(std::string(s, n)));
  }
  bool StartObject() {
    if (stack_.size() >= kMaxDepth) return TooDeep();
    stack_.push_back(Value::MakeObject());
    return true;
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    keys_.emplace_back(s, n);
    return true;
  }
  bool EndObject(rapidjson::SizeType) { return Close(); }
  bool StartArray() {
    if (stack_.size() >= kMaxDepth) return TooDeep();
    stack_.push_back(Value::MakeArray());
    return true;
  }
  bool EndArray(rapidjson::SizeType) { return Close(); }

  Value Take() { return std::move(root_); }
  // The parse stopped at an array or object nested deeper than kMaxDepth.
  bool too_deep() const { return too_deep_; }

 private:
  bool Add(Value v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return true;
    }
    Value& top = stack_.back();
    if (top.is_array()) {
      top.as_array().push_back(std::move(v));
    } else {
      // Duplicate keys: the last one wins, as in jq.
      std::string key = std::move(keys_.back());
      keys_.pop_back();
      if (Value* existing = top.Find(key)) {
        *existing = std::move(v);
      } else {
        top.as_object().emplace_back(std::move(key), std::move(v));
      }
    }
    return true;
  }
  bool Close() {
    Value v = std::move(stack_.back());
    stack_.pop_back();
    return Add(std::move(v));
  }

  bool TooDeep() {
    too_deep_ = true;
    return false;  // stops RapidJSON's (recursive) reader here
  }

  std::vector<Value> stack_;
  std::vector<std::string> keys_;
  Value root_;
  bool too_deep_ = false;
};

constexpr unsigned kParseFlags = rapidjson::kParseValidateEncodingFlag |
                                 rapidjson::kParseFullPrecisionFlag |
                                 rapidjson::kParseNanAndInfFlag;

// True if text[offset...] starts with a well-formed UTF-8 sequence (or is ASCII).
bool ValidUtf8At(std::string_view text, size_t offset) {
  unsigned char c = static_cast<unsigned char>(text[offset]);
  if (c < 0x80) return true;
  size_t len = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (len == 0 || offset + len > text.size()) return false;
  for (size_t i = 1; i < len; ++i) {
    if ((static_cast<unsigned char>(text[offset + i]) & 0xc0) != 0x80) return false;
  }
  return true;
}

Status ParseError(std::string_view text, size_t offset, rapidjson::ParseErrorCode code,
                  bool too_deep = false) {
  // Too deep: the reader stopped just after the bracket that went one level too far.
  auto [line, col] = LineColumn(text, too_deep && offset > 0 ? offset - 1 : offset);
  if (too_deep) {
    return InvalidArgument("line " + std::to_string(line) + ", column " + std::to_string(col) +
                           ": arrays and objects nested deeper than " +
                           std::to_string(kMaxDepth) + " levels");
  }
  std::string msg = "line " + std::to_string(line) + ", column " + std::to_string(col) + ": " +
                    rapidjson::GetParseError_En(code);
  if (code == rapidjson::kParseErrorStringInvalidEncoding ||
      (offset < text.size() && !ValidUtf8At(text, offset))) {
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02x",
                  offset < text.size() ? static_cast<unsigned char>(text[offset]) : 0);
    msg += std::string(" (byte ") + byte + ": the input is not UTF-8)";
  }
  return InvalidArgument(msg);
}

}  // namespace

Status ParseErrorStatus(std::string_view text, size_t offset, int code) {
  return ParseError(text, offset, static_cast<rapidjson::ParseErrorCode>(code));
}

void WriteTo(const Value& v, std::string* out, const WriteOptions& options) {
  WriteImpl(v, out, options, 0);
}

std::string Write(const Value& v, const WriteOptions& options) {
  std::string out;
  WriteImpl(v, &out, options, 0);
  return out;
}

std::pair<int, int> LineColumn(std::string_view text, size_t offset) {
  int line = 1, col = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}

Result<Value> Parse(std::string_view text) {
  rapidjson::MemoryStream ms(text.data(), text.size());
  rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> is(ms);
  rapidjson::Reader reader;
  Builder builder;
  rapidjson::ParseResult r = reader.Parse<kParseFlags>(is, builder);
  if (r.IsError()) return ParseError(text, r.Offset(), r.Code(), builder.too_deep());
  return builder.Take();
}

Status ParseSequence(std::string_view text, const std::function<Status(Value, int)>& on_value) {
  size_t pos = 0;
  int line = 1;
  while (true) {
    // Skip whitespace, counting lines.
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n' ||
                                 text[pos] == '\r')) {
      if (text[pos] == '\n') ++line;
      ++pos;
    }
    if (pos >= text.size()) return Status::Ok();
    std::string_view rest = text.substr(pos);
    rapidjson::MemoryStream ms(rest.data(), rest.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> is(ms);
    rapidjson::Reader reader;
    Builder builder;
    rapidjson::ParseResult r =
        reader.Parse<kParseFlags | rapidjson::kParseStopWhenDoneFlag>(is, builder);
    if (r.IsError()) return ParseError(text, pos + r.Offset(), r.Code(), builder.too_deep());
    size_t consumed = is.Tell();
    int start_line = line;
    for (size_t i = pos; i < pos + consumed; ++i) {
      if (text[i] == '\n') ++line;
    }
    pos += consumed;
    PORTOLAN_RETURN_IF_ERROR(on_value(builder.Take(), start_line));
  }
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument(path + ": cannot open file");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return InvalidArgument(path + ": read error");
  return ss.str();
}

Result<Value> ParseFile(const std::string& path) {
  PORTOLAN_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto v = Parse(text);
  if (!v.ok()) return v.status().WithContext(path + ": ");
  return v;
}

std::string PointerEscape(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace portolan::json
