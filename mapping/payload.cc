#include "mapping/payload.h"

#include <iostream>
#include <iterator>
#include <sstream>

namespace portolan::mapping {

namespace {

std::vector<std::string> SplitPath(std::string_view path) {
  if (!path.empty() && path[0] == '.') path.remove_prefix(1);
  std::vector<std::string> keys;
  if (path.empty()) return keys;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    keys.emplace_back(path.substr(start, dot == std::string_view::npos ? path.npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return keys;
}

std::string Article(json::Type t) {
  return t == json::Type::kArray || t == json::Type::kObject
             ? std::string("an ") + json::TypeName(t)
             : std::string("a ") + json::TypeName(t);
}

}  // namespace

Status NotAnObjectError(std::string_view file, int line, long element, json::Type type) {
  const std::string what = element >= 0 ? "element " + std::to_string(element) + " of the array"
                                        : std::string("the value");
  return InvalidArgument(std::string(file) + ":" + std::to_string(line) +
                         ": items must be JSON objects, " + what + " is " + Article(type));
}

Status ParsePayload(std::string_view text, std::string_view name, const PayloadOptions& options,
                    const ItemCallback& on_item) {
  // A UTF-8 byte order mark is not JSON; editors on some systems write one.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  const std::vector<std::string> keys = SplitPath(options.items_path);
  const std::string file(name);
  size_t position = 0;
  Status callback_status;  // the caller's own error passes through unprefixed

  auto emit = [&](json::Value item, int line, long element) -> Status {
    if (!item.is_object()) return NotAnObjectError(file, line, element, item.type());
    ItemSource source{file, line, position++};
    callback_status = on_item(std::move(item), source);
    return callback_status;
  };
  auto emit_all = [&](json::Value value, int line) -> Status {
    if (value.is_array()) {
      json::Array& elements = value.as_array();
      for (size_t i = 0; i < elements.size(); ++i) {
        PORTOLAN_RETURN_IF_ERROR(
            emit(std::move(elements[i]), line, static_cast<long>(i)));
      }
      return Status::Ok();
    }
    return emit(std::move(value), line, -1);
  };

  Status parsed = json::ParseSequence(text, [&](json::Value value, int line) -> Status {
    if (keys.empty()) return emit_all(std::move(value), line);
    json::Value* at = &value;
    for (const auto& key : keys) {
      json::Value* next = at->Find(key);
      if (!next) {
        return InvalidArgument(file + ":" + std::to_string(line) + ": items path '" +
                               options.items_path + "' not found (no key '" + key + "' in " +
                               Article(at->type()) + ")");
      }
      at = next;
    }
    if (!at->is_array() && !at->is_object()) {
      return InvalidArgument(file + ":" + std::to_string(line) + ": items path '" +
                             options.items_path + "' holds " + Article(at->type()) +
                             ", not an array of objects");
    }
    json::Value items = std::move(*at);
    return emit_all(std::move(items), line);
  });
  if (parsed.ok() || !callback_status.ok()) return parsed;
  // Parser messages read "line 3, column 7: ..."; ours already start with the file name.
  if (parsed.message().rfind(file + ":", 0) == 0) return parsed;
  return parsed.WithContext(file + ": ");
}

namespace {

// Reads one payload file ("-" = stdin).
Result<std::string> ReadText(const std::string& path) {
  if (path == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    return ss.str();
  }
  auto read = json::ReadFile(path);
  if (!read.ok()) return NotFound(read.status().message());
  return read;
}

}  // namespace

Status ReadPayloads(const std::vector<std::string>& paths, const PayloadOptions& options,
                    const ItemCallback& on_item) {
  for (const auto& path : paths) {
    PORTOLAN_ASSIGN_OR_RETURN(std::string text, ReadText(path));
    PORTOLAN_RETURN_IF_ERROR(ParsePayload(text, path, options, on_item));
  }
  return Status::Ok();
}

Status ReadPayloadInputs(const std::vector<std::string>& paths, const PayloadOptions& options,
                         const InputCallback& on_item) {
  if (!options.items_path.empty()) {
    return ReadPayloads(paths, options, [&](json::Value item, const ItemSource& source) {
      return on_item(jq::Input(item), source);
    });
  }
  for (const auto& path : paths) {
    PORTOLAN_ASSIGN_OR_RETURN(std::string text, ReadText(path));
    std::string_view view = text;
    if (view.substr(0, 3) == "\xEF\xBB\xBF") view.remove_prefix(3);
    size_t position = 0;
    Status callback_status;
    Status parsed = jq::ParseInputs(view, [&](jq::Input input, int line, long element) -> Status {
      if (input.type() != json::Type::kObject) {
        return NotAnObjectError(path, line, element, input.type());
      }
      callback_status = on_item(std::move(input), ItemSource{path, line, position++});
      return callback_status;
    });
    if (!parsed.ok() && callback_status.ok() && parsed.message().rfind(path + ":", 0) != 0) {
      return parsed.WithContext(path + ": ");
    }
    PORTOLAN_RETURN_IF_ERROR(parsed);
  }
  return Status::Ok();
}

Result<std::vector<json::Value>> ReadPayloadItems(const std::vector<std::string>& paths,
                                                  const PayloadOptions& options) {
  std::vector<json::Value> items;
  PORTOLAN_RETURN_IF_ERROR(ReadPayloads(paths, options, [&](json::Value item, const ItemSource&) {
    items.push_back(std::move(item));
    return Status::Ok();
  }));
  return items;
}

}  // namespace portolan::mapping
