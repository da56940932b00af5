// Payload files -> raw items for the Mapper.
//
// A payload file holds a sequence of JSON values: one document, JSON Lines, or concatenated JSON
// (json::ParseSequence). Each top-level value gives items:
//   - an object is one item;
//   - an array gives its elements, in order (so a file holding one array is a list of items,
//     and JSON Lines of arrays is the concatenation of their elements);
//   - with `items_path` ("items", "data.items", a leading "." is allowed), each top-level value
//     must be an object, and the array (or single object) found at that path gives the items.
// Items must be JSON objects, as Ocean's raw items are; anything else is an error naming the
// file, line and position. "-" reads standard input. Errors never leave partial state: the
// callback has seen every item before the error, none after.
#ifndef PORTOLAN_MAPPING_PAYLOAD_H_
#define PORTOLAN_MAPPING_PAYLOAD_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/json.h"
#include "engine/jq/jq.h"
#include "engine/base/status.h"

namespace portolan::mapping {

struct PayloadOptions {
  std::string items_path;  // dotted key path to the items array; "" = top-level values
};

// Where an item came from, for messages.
struct ItemSource {
  std::string file;     // the path as given ("-" for stdin)
  int line = 0;         // 1-based line where the top-level value starts
  size_t position = 0;  // 0-based item position within the file
};

// The error for an item that is not a JSON object: "<file>:<line>: items must be JSON objects,
// element 3 of the array is a string" (element >= 0, a top-level array's element) or "...,
// the value is a string".
Status NotAnObjectError(std::string_view file, int line, long element, json::Type type);

using ItemCallback = std::function<Status(json::Value item, const ItemSource& source)>;

// Parses `text` (named `name` in errors) and hands each item to `on_item`, in order. Errors
// (kInvalidArgument): "<name>: line 3, column 7: <parser message>" for bad JSON or UTF-8,
// "<name>:3: items must be JSON objects, got a string" for a bad item, and
// "<name>:1: items path 'data.items' not found" for a missing path.
Status ParsePayload(std::string_view text, std::string_view name, const PayloadOptions& options,
                    const ItemCallback& on_item);

// Reads each file in turn ("-" = stdin); `position` restarts at 0 per file. A missing file is
// kNotFound.
Status ReadPayloads(const std::vector<std::string>& paths, const PayloadOptions& options,
                    const ItemCallback& on_item);

// The same, handing each item over as a jq::Input built straight from the text (no json::Value):
// the fast path for mapping. Same errors as ReadPayloads. With `items_path` set, items are
// located through json::Value first and then converted.
using InputCallback = std::function<Status(jq::Input item, const ItemSource& source)>;
Status ReadPayloadInputs(const std::vector<std::string>& paths, const PayloadOptions& options,
                         const InputCallback& on_item);

// All items of the given files, in order.
Result<std::vector<json::Value>> ReadPayloadItems(const std::vector<std::string>& paths,
                                                  const PayloadOptions& options = {});

}  // namespace portolan::mapping

#endif  // PORTOLAN_MAPPING_PAYLOAD_H_
