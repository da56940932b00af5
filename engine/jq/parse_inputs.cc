// JSON text -> libjq values through RapidJSON's SAX reader: no json::Value in between. This is
// the payload fast path (`portolan map` / `ingest`): RapidJSON's reader is several times faster
// than libjq's own parser, and building jv directly saves the intermediate tree.
#include <rapidjson/reader.h>

#include <vector>

#include "engine/jq/internal/input_impl.h"

namespace portolan::jq {

namespace {

constexpr unsigned kFlags = rapidjson::kParseValidateEncodingFlag |
                            rapidjson::kParseFullPrecisionFlag | rapidjson::kParseNanAndInfFlag |
                            rapidjson::kParseStopWhenDoneFlag;

// Builds jv values; hands each completed top-level value (or element of a top-level array) to
// the callback.
class JvHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, JvHandler> {
 public:
  using Emit = std::function<Status(jv, long)>;
  explicit JvHandler(const Emit& emit) : emit_(emit) {}
  ~JvHandler() {
    for (jv& v : stack_) jv_free(v);
    for (jv& k : keys_) jv_free(k);
  }

  bool Null() { return Add(jv_null()); }
  bool Bool(bool b) { return Add(jv_bool(b)); }
  bool Int(int i) { return Add(jv_number(i)); }
  bool Uint(unsigned u) { return Add(jv_number(u)); }
  bool Int64(int64_t i) { return Add(jv_number(static_cast<double>(i))); }
  bool Uint64(uint64_t u) { return Add(jv_number(static_cast<double>(u))); }
  bool Double(double d) { return Add(jv_number(d)); }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    return Add(jv_string_sized(s, static_cast<int>(n)));
  }
  bool StartObject() {
    stack_.push_back(jv_object());
    return true;
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    keys_.push_back(jv_string_sized(s, static_cast<int>(n)));
    return true;
  }
  bool EndObject(rapidjson::SizeType) { return Close(); }
  bool StartArray() {
    if (stack_.empty()) {
      top_array_ = true;  // split: its elements are the values handed over
      element_ = 0;
      return true;
    }
    stack_.push_back(jv_array());
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    if (stack_.empty()) {
      top_array_ = false;
      return true;
    }
    return Close();
  }

  const Status& status() const { return status_; }

 private:
  bool Add(jv v) {
    if (stack_.empty()) {
      status_ = emit_(v, top_array_ ? element_++ : -1);
      return status_.ok();
    }
    jv& top = stack_.back();
    if (jv_get_kind(top) == JV_KIND_ARRAY) {
      top = jv_array_append(top, v);
    } else {
      top = jv_object_set(top, keys_.back(), v);
      keys_.pop_back();
    }
    return true;
  }
  bool Close() {
    jv v = stack_.back();
    stack_.pop_back();
    return Add(v);
  }

  const Emit& emit_;
  std::vector<jv> stack_;
  std::vector<jv> keys_;
  bool top_array_ = false;
  long element_ = 0;
  Status status_;
};

}  // namespace

Status ParseInputs(std::string_view text,
                   const std::function<Status(Input input, int line, long element)>& on_input) {
  size_t pos = 0;
  int line = 1;
  size_t line_pos = 0;  // text offset up to which `line` is counted
  auto line_at = [&](size_t offset) {
    for (; line_pos < offset && line_pos < text.size(); ++line_pos) {
      if (text[line_pos] == '\n') ++line;
    }
    return line;
  };
  while (true) {
    while (pos < text.size() &&
           (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n' || text[pos] == '\r')) {
      ++pos;
    }
    if (pos >= text.size()) return Status::Ok();
    std::string_view rest = text.substr(pos);
    rapidjson::MemoryStream ms(rest.data(), rest.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> is(ms);
    rapidjson::Reader reader;
    const size_t base = pos;
    JvHandler::Emit emit = [&](jv v, long element) -> Status {
      // The line of a value is where it ends (cheap to know here); for one value per line
      // (JSON Lines) that is its line.
      int at = line_at(base + is.Tell());
      return on_input(InputBuilder::Wrap(v), at, element);
    };
    JvHandler handler(emit);
    rapidjson::ParseResult r = reader.Parse<kFlags>(is, handler);
    if (!handler.status().ok()) return handler.status();
    if (r.IsError()) return json::ParseErrorStatus(text, pos + r.Offset(), r.Code());
    pos += is.Tell();
  }
}

json::Type Input::type() const {
  switch (jv_get_kind(impl_->value)) {
    case JV_KIND_NULL: return json::Type::kNull;
    case JV_KIND_TRUE:
    case JV_KIND_FALSE: return json::Type::kBool;
    case JV_KIND_NUMBER: return json::Type::kNumber;
    case JV_KIND_STRING: return json::Type::kString;
    case JV_KIND_ARRAY: return json::Type::kArray;
    case JV_KIND_OBJECT: return json::Type::kObject;
    default: return json::Type::kNull;
  }
}

}  // namespace portolan::jq
