// Streaming payload splitter: payload files -> the JSON text of each item, in batches, without
// parsing values.
//
// Same item semantics as mapping/payload.h (ReadPayloads / ReadPayloadInputs): a file holds a
// sequence of JSON values (one document, JSON Lines, or concatenated JSON); an object is one
// item; a top-level array gives its elements one by one; items must be JSON objects; a UTF-8 byte
// order mark at the start of a file is skipped (line/column coordinates count from after it, as
// payload.cc does); "-" is standard input. `items_path` is not supported (see CanStream).
//
// Files are read in chunks (StreamOptions::chunk_bytes); a buffer grows only while one item is
// larger than a chunk, so memory stays at a few chunks whatever the file size. The splitter finds
// where each item begins and ends by tracking strings, escapes and bracket nesting (64 bytes at
// a time with SIMD where available); it does not validate tokens, so errors inside an object item
// (a bad number, a missing comma, invalid UTF-8, ...) are found later by whoever parses the item
// text; ItemParseError turns that parser's "line L, column C: ..." into file coordinates.
//
// Errors the splitter finds itself read as payload.cc's: the parser's first error in the
// offending value, "<file>: line L, column C: <RapidJSON message>" (mismatched or unclosed
// brackets, a raw newline inside a string, a missing comma between array elements, a truncated
// file, a bad token at the top level), or "<file>:<line>: items must be JSON objects, the value
// is a string" / "..., element 3 of the array is a number" for a non-object item (once the value
// itself parses). Items are checked one at a time, as ReadPayloadInputs does (ReadPayloads parses
// a whole top-level value before handing out any of its elements, so for a broken array it may
// report a later parse error first). Differences from payload.cc:
//   - For an element of a top-level array, line is the line where the element starts
//     (ReadPayloads reports the array's first line, ReadPayloadInputs the element's last line;
//     all agree for JSON Lines and one-line arrays).
//   - An array nested in a top-level array is an error ("element 1 of the array is an array"),
//     as in ReadPayloads; ReadPayloadInputs (jq::ParseInputs) flattens it into items.
//
// Order: items are delivered in file order; the caller parses them (possibly in parallel, see
// engine/base/pipeline.h) and must report the first error in item order, and prefer an error in
// an item it already received over the error StreamPayloads returns (that one comes later in the
// input).
#ifndef PORTOLAN_MAPPING_PAYLOAD_STREAM_H_
#define PORTOLAN_MAPPING_PAYLOAD_STREAM_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"
#include "mapping/payload.h"

namespace portolan::mapping {

struct StreamOptions {
  size_t batch_size = 200;         // items per batch (the last batch may be shorter); >= 1
  // Buffer size (at least 64); a buffer grows past it only to hold an item larger than a chunk.
  // Memory: about 4 chunks (plus what batches still held by the caller refer to).
  size_t chunk_bytes = 8u << 20;
};

// Every item's text is followed, inside its buffer, by at least this many readable bytes (of
// any value): what a parser that reads past the end in SIMD blocks needs (simdjson; see
// jq::DocParser::ParsePadded) to parse the text in place.
inline constexpr size_t kItemPadding = 64;

// One item: the text of a JSON object (from its '{' to its matching '}', nothing around it).
struct ItemText {
  std::string_view text;  // points into one of the batch's buffers; kItemPadding bytes follow
  // file as given ("-" for stdin); line where the item's first byte is (1-based); position =
  // index of the item within its file (0-based), as ReadPayloads counts.
  ItemSource source;
  int column = 1;          // 1-based byte column of text[0] on source.line
  long element = -1;       // index within its top-level array; -1 for a top-level value
  uint64_t offset = 0;     // byte offset of text[0] in the file (after a byte order mark)
};

struct ItemBatch {
  // Keep the items' text alive (usually one buffer; two or more when a batch spans chunks).
  // The splitter reuses a buffer only once no batch refers to it: drop batches when done.
  std::vector<std::shared_ptr<const std::string>> buffers;
  std::vector<ItemText> items;
  size_t first_index = 0;  // run-wide index (across all files) of items[0]
};

// True when StreamPayloads can read payloads with these options (no items_path); otherwise use
// ReadPayloadInputs / ReadPayloads.
bool CanStream(const PayloadOptions& options);

// Reads the files in order and hands their items to `on_batch` in batches of
// options.batch_size items; batch boundaries depend only on the item count (a batch may hold
// items of two files), so runs are deterministic. Blocks until `on_batch` returns.
//   - A non-OK status from `on_batch` stops the stream and is returned as is.
//   - On an error in the input, every item before the error is delivered first (the items of
//     the current batch in a final, shorter batch), then the error is returned; no item after
//     it is delivered. kInvalidArgument for bad input, kNotFound for a file that cannot be
//     opened ("<path>: cannot open file", as ReadPayloads), kInternal for a read error.
// Empty files (or only whitespace) give no items.
Status StreamPayloads(const std::vector<std::string>& paths, const StreamOptions& options,
                      const std::function<Status(ItemBatch)>& on_batch);

// "<file>: line L, column C" for a position inside `item`'s text given as 1-based line and
// column relative to the text (as parsers report them when parsing item.text alone).
std::string ItemErrorLocation(const ItemText& item, int line_in_item, int column_in_item);

// Rewrites a parse error for `item.text` alone ("line L, column C: <message>", the format of
// json::Parse / jq::ParseInputs) into the error payload.cc gives for the same input:
// "<file>: line L', column C': <message>", same code. Any other message gets "<file>:<line>: "
// prefixed. An OK status is returned unchanged.
Status ItemParseError(const ItemText& item, const Status& parse_error);

namespace internal {
// Which block scanner to use (tests cross-check them). kAuto picks the fastest the CPU has.
enum class ScanKernel { kAuto, kScalar, kSse2, kAvx2 };
void SetScanKernelForTesting(ScanKernel kernel);
bool ScanKernelAvailable(ScanKernel kernel);
}  // namespace internal

}  // namespace portolan::mapping

#endif  // PORTOLAN_MAPPING_PAYLOAD_STREAM_H_
