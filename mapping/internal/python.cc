#include "mapping/internal/python.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace portolan::mapping::internal {

namespace {

// Integral doubles as Python ints: every digit of the double, not the shortest form.
std::string IntegralDigits(double d) {
  char buf[400];
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed, 0);
  return std::string(buf, r.ptr);
}

bool IsIntegral(double d) { return std::isfinite(d) && d == std::trunc(d); }

}  // namespace

std::string PythonFloatRepr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  // Shortest round-trip digits in scientific form: "-1.2345e+06".
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(r.ptr - buf));
  std::string sign;
  if (!sci.empty() && sci[0] == '-') {
    sign = "-";
    sci.remove_prefix(1);
  }
  size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits.push_back(c);
  }
  int exponent = std::atoi(std::string(sci.substr(e + 1)).c_str());
  // Python's float_repr_style 'short': value = 0.<digits> * 10^decpt.
  int decpt = exponent + 1;
  int ndigits = static_cast<int>(digits.size());
  std::string out = sign;
  if (decpt <= -4 || decpt > 16) {
    out += digits[0];
    if (ndigits > 1) out += "." + digits.substr(1);
    int x = decpt - 1;
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", x < 0 ? '-' : '+', std::abs(x));
    out += eb;
  } else if (decpt <= 0) {
    out += "0." + std::string(static_cast<size_t>(-decpt), '0') + digits;
  } else if (decpt >= ndigits) {
    out += digits + std::string(static_cast<size_t>(decpt - ndigits), '0') + ".0";
  } else {
    out += digits.substr(0, static_cast<size_t>(decpt)) + "." +
           digits.substr(static_cast<size_t>(decpt));
  }
  return out;
}

std::string PythonReprString(std::string_view s) {
  bool has_single = s.find('\'') != std::string_view::npos;
  bool has_double = s.find('"') != std::string_view::npos;
  char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  for (unsigned char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == static_cast<unsigned char>(quote)) {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += quote;
  return out;
}

std::string PythonRepr(const json::Value& v) {
  switch (v.type()) {
    case json::Type::kString:
      return PythonReprString(v.as_string());
    case json::Type::kArray: {
      std::string out = "[";
      bool first = true;
      for (const auto& e : v.as_array()) {
        if (!first) out += ", ";
        first = false;
        out += PythonRepr(e);
      }
      return out + "]";
    }
    case json::Type::kObject: {
      std::string out = "{";
      bool first = true;
      for (const auto& [key, value] : v.as_object()) {
        if (!first) out += ", ";
        first = false;
        out += PythonReprString(key) + ": " + PythonRepr(value);
      }
      return out + "}";
    }
    default:
      return PythonStr(v);
  }
}

std::string PythonStr(const json::Value& v) {
  switch (v.type()) {
    case json::Type::kNull:
      return "None";
    case json::Type::kBool:
      return v.as_bool() ? "True" : "False";
    case json::Type::kNumber: {
      double d = v.as_number();
      return IsIntegral(d) ? IntegralDigits(d) : PythonFloatRepr(d);
    }
    case json::Type::kString:
      return v.as_string();
    case json::Type::kArray:
    case json::Type::kObject:
      return PythonRepr(v);
  }
  return "";
}

std::string PythonTypeName(const json::Value& v) {
  switch (v.type()) {
    case json::Type::kNull:
      return "NoneType";
    case json::Type::kBool:
      return "bool";
    case json::Type::kNumber:
      return IsIntegral(v.as_number()) ? "int" : "float";
    case json::Type::kString:
      return "str";
    case json::Type::kArray:
      return "list";
    case json::Type::kObject:
      return "dict";
  }
  return "object";
}

char32_t NextCodePoint(std::string_view s, size_t* pos) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = byte(*pos);
  int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (len <= 1 || *pos + static_cast<size_t>(len) > s.size()) {
    ++*pos;
    return c;
  }
  char32_t cp = c & (0x7f >> len);
  for (int i = 1; i < len; ++i) {
    unsigned char cc = byte(*pos + static_cast<size_t>(i));
    if ((cc & 0xc0) != 0x80) {
      ++*pos;
      return c;
    }
    cp = (cp << 6) | (cc & 0x3f);
  }
  *pos += static_cast<size_t>(len);
  return cp;
}

bool IsPythonSpace(char32_t c) {
  if (c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f)) return true;
  if (c < 0x80) return false;
  return c == 0x85 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 ||
         c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

bool IsPythonWordChar(char32_t c) {
  if (c < 0x80) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  }
  if (IsPythonSpace(c)) return false;
  if (c < 0xc0) {
    // Latin-1: only ª ² ³ µ ¹ º ¼ ½ ¾ are alphanumeric.
    return c == 0xaa || c == 0xb2 || c == 0xb3 || c == 0xb5 || c == 0xb9 || c == 0xba ||
           (c >= 0xbc && c <= 0xbe);
  }
  if (c == 0xd7 || c == 0xf7) return false;
  if (c >= 0x2000 && c <= 0x2bff) return false;    // punctuation, arrows, math, shapes
  if (c >= 0x3000 && c <= 0x303f) return false;    // CJK punctuation
  if (c >= 0xfe30 && c <= 0xfe4f) return false;    // CJK compatibility forms
  if (c >= 0xff00 && c <= 0xff0f) return false;    // fullwidth punctuation
  if (c >= 0x1f000 && c <= 0x1faff) return false;  // emoji and pictographs
  return true;
}

std::string_view PythonStrip(std::string_view s) {
  size_t begin = 0;
  while (begin < s.size()) {
    size_t next = begin;
    if (!IsPythonSpace(NextCodePoint(s, &next))) break;
    begin = next;
  }
  size_t end = begin;
  size_t pos = begin;
  while (pos < s.size()) {
    char32_t c = NextCodePoint(s, &pos);
    if (!IsPythonSpace(c)) end = pos;
  }
  return s.substr(begin, end - begin);
}

}  // namespace portolan::mapping::internal
