// Rendering of command results: JSON, YAML, or aligned tables for a terminal.
#ifndef PORTOLAN_TOOLS_CLI_OUTPUT_H_
#define PORTOLAN_TOOLS_CLI_OUTPUT_H_

#include <string>
#include <vector>

#include "engine/base/json.h"

namespace portolan::cli {

enum class Format { kTable, kJson, kYaml };

// "table" | "json" | "yaml"; "" picks table on a terminal, JSON otherwise.
bool ParseFormat(const std::string& text, Format* out);
Format DefaultFormat();

std::string ToYaml(const json::Value& v);

// A table: header row plus rows of cells (already formatted).
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::string title;  // optional caption printed above
};
std::string RenderTable(const Table& t);

// Cell text for a JSON value: strings bare, numbers rounded to 2 decimals, null as "-",
// arrays joined by ", ", objects as compact JSON.
std::string Cell(const json::Value& v);

// Prints a value in the chosen format (tables only for entity lists; other values fall back to
// YAML-ish JSON).
void Print(const json::Value& v, Format f);

}  // namespace portolan::cli

#endif  // PORTOLAN_TOOLS_CLI_OUTPUT_H_
