// Payloads parsed once, with simdjson, for the native evaluator (engine/jq/native.h). A
// Document is read in place by native programs and converted to a libjq value only when a
// program outside the native subset needs it (then once, and shared by every such program).
//
// Thread-safety: a DocParser and the Documents it returns belong to one thread. A Document is
// valid until the next Parse() on the same parser.
#ifndef PORTOLAN_ENGINE_JQ_DOCUMENT_H_
#define PORTOLAN_ENGINE_JQ_DOCUMENT_H_

#include <memory>
#include <string>
#include <string_view>

#include "engine/base/json.h"
#include "engine/base/status.h"
#include "engine/jq/jq.h"

namespace portolan::jq {

class Document {
 public:
  ~Document();
  Document(const Document&) = delete;
  Document& operator=(const Document&) = delete;

  json::Type type() const;
  // The whole value as json::Value (object member order kept; for a duplicate key, jq's rule:
  // the first position, the last value).
  json::Value ToJson() const;
  // The same value as a libjq input, built on first use and kept until the next Parse().
  const Input& input() const;

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  friend class DocParser;
  Document();
  std::unique_ptr<Impl> impl_;
};

class DocParser {
 public:
  DocParser();
  ~DocParser();
  DocParser(const DocParser&) = delete;
  DocParser& operator=(const DocParser&) = delete;

  // Parses exactly one JSON value (whitespace around it allowed); the text is copied into the
  // parser's padded buffer, so it need not outlive the call. Numbers become doubles, as in jq.
  // Errors (kInvalidArgument) read like json::Parse: "line 3, column 7: <message>".
  Result<const Document*> Parse(std::string_view text);
  // The same without the copy: `text` must be followed by at least kPadding readable bytes
  // (any values), which the parser may read; it is read in place and must outlive the
  // Document.
  static constexpr size_t kPadding = 64;
  Result<const Document*> ParsePadded(std::string_view text);
  // A json::Value as a Document (written, then parsed).
  Result<const Document*> Parse(const json::Value& value);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<Document> doc_;
};

}  // namespace portolan::jq

#endif  // PORTOLAN_ENGINE_JQ_DOCUMENT_H_
