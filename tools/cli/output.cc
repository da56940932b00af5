#include "tools/cli/output.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdio>
#include <iostream>

namespace portolan::cli {

bool ParseFormat(const std::string& text, Format* out) {
  if (text.empty()) {
    *out = DefaultFormat();
    return true;
  }
  if (text == "table") {
    *out = Format::kTable;
  } else if (text == "json") {
    *out = Format::kJson;
  } else if (text == "yaml") {
    *out = Format::kYaml;
  } else {
    return false;
  }
  return true;
}

Format DefaultFormat() { return isatty(STDOUT_FILENO) ? Format::kTable : Format::kJson; }

namespace {
void EmitYaml(const json::Value& v, YAML::Emitter& out) {
  switch (v.type()) {
    case json::Type::kNull: out << YAML::Null; break;
    case json::Type::kBool: out << v.as_bool(); break;
    case json::Type::kNumber: out << json::FormatNumber(v.as_number()); break;
    case json::Type::kString: out << YAML::DoubleQuoted << v.as_string(); break;
    case json::Type::kArray:
      out << YAML::BeginSeq;
      for (const auto& e : v.as_array()) EmitYaml(e, out);
      out << YAML::EndSeq;
      break;
    case json::Type::kObject:
      out << YAML::BeginMap;
      for (const auto& [k, e] : v.as_object()) {
        out << YAML::Key << k << YAML::Value;
        EmitYaml(e, out);
      }
      out << YAML::EndMap;
      break;
  }
}

// Display width of a UTF-8 string (code points; good enough for the tables we print).
size_t Width(const std::string& s) {
  size_t w = 0;
  for (unsigned char c : s) {
    if ((c & 0xc0) != 0x80) ++w;
  }
  return w;
}
}  // namespace

std::string ToYaml(const json::Value& v) {
  YAML::Emitter out;
  EmitYaml(v, out);
  return std::string(out.c_str()) + "\n";
}

std::string Cell(const json::Value& v) {
  switch (v.type()) {
    case json::Type::kNull: return "-";
    case json::Type::kBool: return v.as_bool() ? "true" : "false";
    case json::Type::kNumber: {
      double d = v.as_number();
      if (d == std::trunc(d)) return json::FormatNumber(d);
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.2f", d);
      return buf;
    }
    case json::Type::kString: return v.as_string();
    case json::Type::kArray: {
      std::string out;
      for (const auto& e : v.as_array()) {
        if (!out.empty()) out += ", ";
        out += Cell(e);
      }
      return out.empty() ? "-" : out;
    }
    case json::Type::kObject: return json::Write(v);
  }
  return "";
}

std::string RenderTable(const Table& t) {
  std::vector<size_t> widths(t.header.size(), 0);
  for (size_t i = 0; i < t.header.size(); ++i) widths[i] = Width(t.header[i]);
  for (const auto& row : t.rows) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], Width(row[i]));
    }
  }
  std::string out;
  if (!t.title.empty()) out += t.title + "\n";
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < widths.size(); ++i) {
      std::string c = i < cells.size() ? cells[i] : "";
      out += c;
      if (i + 1 < widths.size()) out += std::string(widths[i] - Width(c) + 2, ' ');
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += "\n";
  };
  line(t.header);
  std::vector<std::string> rule;
  for (size_t w : widths) rule.push_back(std::string(w, '-'));
  line(rule);
  for (const auto& row : t.rows) line(row);
  return out;
}

void Print(const json::Value& v, Format f) {
  if (f == Format::kYaml) {
    std::cout << ToYaml(v);
  } else {
    json::WriteOptions o;
    o.pretty = true;
    std::cout << json::Write(v, o) << "\n";
  }
}

}  // namespace portolan::cli
