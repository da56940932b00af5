#include "engine/jq/document.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "engine/jq/internal/document_impl.h"
#include "engine/jq/internal/input_impl.h"
#include "engine/jq/internal/native_value.h"

namespace portolan::jq {

namespace {

json::Value ToJsonValue(simdjson::dom::element e) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::NULL_VALUE:
      return json::Value();
    case element_type::BOOL:
      return json::Value(bool(e.get_bool().value_unsafe()));
    case element_type::INT64:
      return json::Value(static_cast<double>(e.get_int64().value_unsafe()));
    case element_type::UINT64:
      return json::Value(static_cast<double>(e.get_uint64().value_unsafe()));
    case element_type::DOUBLE:
      return json::Value(e.get_double().value_unsafe());
    case element_type::STRING:
      return json::Value(e.get_string().value_unsafe());
    case element_type::ARRAY: {
      json::Array a;
      simdjson::dom::array arr;
      if (e.get_array().get(arr) != simdjson::SUCCESS) return json::Value();
      a.reserve(arr.size());
      for (auto v : arr) a.push_back(ToJsonValue(v));
      return json::Value(std::move(a));
    }
    case element_type::OBJECT: {
      simdjson::dom::object obj;
      if (e.get_object().get(obj) != simdjson::SUCCESS) return json::Value();
      // jq objects keep one value per key: the first key's position with the last key's
      // value. simdjson keeps every member, so duplicates are merged (rare: checked first).
      if (native::internal::detail::DomObjectHasDuplicates(obj)) {
        json::Value out = json::Value::MakeObject();
        for (auto field : obj) out.Set(field.key, ToJsonValue(field.value));
        return out;
      }
      json::Object o;
      o.reserve(obj.size());
      for (auto field : obj) o.emplace_back(std::string(field.key), ToJsonValue(field.value));
      return json::Value(std::move(o));
    }
  }
  return json::Value();
}

// jv_object_set applies jq's duplicate-key rule by itself.
jv ToJv(simdjson::dom::element e) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::NULL_VALUE:
      return jv_null();
    case element_type::BOOL:
      return jv_bool(e.get_bool().value_unsafe());
    case element_type::INT64:
      return jv_number(static_cast<double>(e.get_int64().value_unsafe()));
    case element_type::UINT64:
      return jv_number(static_cast<double>(e.get_uint64().value_unsafe()));
    case element_type::DOUBLE:
      return jv_number(e.get_double().value_unsafe());
    case element_type::STRING: {
      std::string_view s = e.get_string().value_unsafe();
      return jv_string_sized(s.data(), static_cast<int>(s.size()));
    }
    case element_type::ARRAY: {
      simdjson::dom::array arr;
      if (e.get_array().get(arr) != simdjson::SUCCESS) return jv_null();
      jv out = jv_array_sized(static_cast<int>(arr.size()));
      for (auto v : arr) out = jv_array_append(out, ToJv(v));
      return out;
    }
    case element_type::OBJECT: {
      jv out = jv_object();
      simdjson::dom::object obj;
      if (e.get_object().get(obj) != simdjson::SUCCESS) return jv_null();
      for (auto field : obj) {
        out = jv_object_set(out, jv_string_sized(field.key.data(), static_cast<int>(field.key.size())),
                            ToJv(field.value));
      }
      return out;
    }
  }
  return jv_null();
}

}  // namespace

Document::Document() : impl_(std::make_unique<Impl>()) {}
Document::~Document() = default;

json::Type Document::type() const {
  using simdjson::dom::element_type;
  switch (impl_->root.type()) {
    case element_type::NULL_VALUE: return json::Type::kNull;
    case element_type::BOOL: return json::Type::kBool;
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: return json::Type::kNumber;
    case element_type::STRING: return json::Type::kString;
    case element_type::ARRAY: return json::Type::kArray;
    case element_type::OBJECT: return json::Type::kObject;
  }
  return json::Type::kNull;
}

json::Value Document::ToJson() const { return ToJsonValue(impl_->root); }

const Input& Document::input() const {
  if (!impl_->input) impl_->input.emplace(InputBuilder::Wrap(ToJv(impl_->root)));
  return *impl_->input;
}

struct DocParser::Impl {
  simdjson::dom::parser parser;
  std::unique_ptr<char[]> buffer;  // the text plus simdjson's padding
  size_t capacity = 0;
};

DocParser::DocParser() : impl_(std::make_unique<Impl>()), doc_(new Document()) {}
DocParser::~DocParser() = default;

static_assert(DocParser::kPadding >= simdjson::SIMDJSON_PADDING);

Result<const Document*> DocParser::Parse(std::string_view text) {
  const size_t need = text.size() + simdjson::SIMDJSON_PADDING;
  if (need > impl_->capacity) {
    impl_->capacity = std::max(need, impl_->capacity * 2);
    impl_->buffer = std::make_unique<char[]>(impl_->capacity);
  }
  std::memcpy(impl_->buffer.get(), text.data(), text.size());
  std::memset(impl_->buffer.get() + text.size(), 0, simdjson::SIMDJSON_PADDING);
  return ParsePadded(std::string_view(impl_->buffer.get(), text.size()));
}

Result<const Document*> DocParser::ParsePadded(std::string_view text) {
  doc_->impl_->input.reset();
  // simdjson: the padding must be allocated; its contents do not matter.
  auto parsed = impl_->parser.parse(text.data(), text.size(), /*realloc_if_needed=*/false);
  if (parsed.error() != simdjson::SUCCESS) {
    // RapidJSON names the line and column; simdjson only the kind of error.
    Result<json::Value> check = json::Parse(text);
    if (!check.ok()) return check.status();
    return InvalidArgument(std::string("line 1, column 1: ") +
                           simdjson::error_message(parsed.error()));
  }
  doc_->impl_->root = parsed.value_unsafe();
  return static_cast<const Document*>(doc_.get());
}

Result<const Document*> DocParser::Parse(const json::Value& value) {
  const std::string text = json::Write(value);
  return Parse(std::string_view(text));
}

}  // namespace portolan::jq
